/*
Copyright 2026 The tableau-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tableau-operator/tableau-operator/internal/allowlist"
	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/serverinfo"
)

// outcomeKind is what a phase tells the reconcile to do next.
type outcomeKind int

const (
	// proceed: the next phase runs.
	proceed outcomeKind = iota
	// stop: the rest of the phase's stage has nothing to do in this reconcile; later stages
	// still run (a rotation under way must finish or roll back whatever validation found).
	stop
	// wait: stop, and come back after the outcome's delay at the latest.
	wait
	// halt: no later phase runs, whatever its stage (another install holds the connection);
	// come back after the outcome's delay at the latest. Status is still written.
	halt
	// fail: the reconcile ends here with the outcome's error; the status found so far is
	// still written, and controller-runtime retries the error.
	fail
)

// outcome is a phase's typed result. Phases may also ask to come back later while going on
// (scope.requeueIn); finish takes the earliest of every such request and every wait.
type outcome struct {
	kind  outcomeKind
	after time.Duration
	err   error
}

func proceeded() outcome { return outcome{kind: proceed} }

func stopped() outcome { return outcome{kind: stop} }

func waitFor(d time.Duration) outcome { return outcome{kind: wait, after: d} }

func halted(d time.Duration) outcome { return outcome{kind: halt, after: d} }

func failed(err error) outcome { return outcome{kind: fail, err: err} }

// failedOr is failed(err) when err is set, else o.
func failedOr(err error, o outcome) outcome {
	if err != nil {
		return failed(err)
	}
	return o
}

// fromErr is the outcome of a phase that has no reason to stop its stage: it fails on err.
func fromErr(err error) outcome { return failedOr(err, proceeded()) }

// stage groups phases: a stop ends the rest of its own stage only.
type stage string

const (
	stageClaim      stage = "claim"
	stageValidation stage = "validation"
	stageExpiry     stage = "expiry"
	stageRollout    stage = "rollout"
	stageAutomatic  stage = "automatic"
)

// phase is one entry of the connection reconcile's declared list: its name, its stage, the
// earlier phases whose facts (in scope) it reads (TestPhaseOrder checks that each runs after
// what it needs), and the phase itself, a type whose fields are its dependencies.
type phase struct {
	name   string
	stage  stage
	needs  []string
	runner runner
}

// runner is a phase's work: it reads and records facts in scope and returns a typed outcome.
type runner interface {
	run(ctx context.Context, s *scope) outcome
}

// The phases' types. Each struct holds exactly what its phase uses: the clients it reads and
// writes with, the components it shares with other phases (components.go), the memory and the
// configuration it needs. Method bodies reach them by promotion, so a body reads r.Get,
// r.observeCopy or r.recordFailure whatever component provides it; a field the phase's own
// methods use (its Client, APIReader, mem, Backoff, clock) is declared on the phase itself,
// which also keeps the selector unambiguous where two components carry one. Every copy is
// built from the same reconciler field (newConnectionPhases), so which one a body reaches
// changes nothing.

// claimPhase takes, renews or stands aside from the connection's claim (claim).
type claimPhase struct {
	statusWriter // the claim's own locked write
	recorder     // a claim taken over
	// InstallID names this install in claims; ClaimDuration is how long a claim lasts (see
	// TableauConnectionReconciler).
	InstallID     string
	ClaimDuration time.Duration
}

// requestPhase acts on a new tableau-operator.dev/requested-at annotation (see handleRequest);
// it never stops validation. It needs nothing but the connection.
type requestPhase struct{}

// credentialsPhase learns the credential's revision and loads the CA bundle (loadCredentials).
type credentialsPhase struct {
	client.Client                // cached metadata of Secrets and ConfigMaps
	APIReader      client.Reader // the CA bundle's content
	AllowedServers allowlist.List
	mem            *memory // refused Secret versions, CA bundles
	sourceSecrets          // the source's content, the person's secret id
	recorder               // a supersession adopted by a re-created connection
}

// consumerNamesPhase stops validation when a consumer Secret name is someone else's.
type consumerNamesPhase struct {
	bundleSecrets
}

// backoffPhase holds Tableau calls back until the last failure's next attempt. It reads status
// only.
type backoffPhase struct{}

// refusePhase records what forbids using the inputs, before any Tableau call.
type refusePhase struct {
	APIReader client.Reader // metadata of what the cache does not hold
	verdicts
}

// serverInfoPhase builds the connection's client and compares the server's version with the pin.
type serverInfoPhase struct {
	tableauClients
	verdicts
	// ServerInfo shares serverinfo answers between connections to one server.
	ServerInfo *serverinfo.Cache
}

// signInPhase signs in and out when the policy says so (validateSignIn).
type signInPhase struct {
	statusWriter  // the revision being validated, before the sign-in
	bundleSecrets // a retained consumer Secret (validatedBefore)
	sourceSecrets // the credential's content
	verdicts
}

// patExpiryPhase reads the connection PAT's expiry with an administrator's session.
type patExpiryPhase struct {
	adminSessions
	recorder
	statusWriter // a first claim, written before the administrator signs in
}

// rolloutPhase drives the consumer bundle's rotation with the pure planner (reconcileRotation).
type rolloutPhase struct {
	client.Client // fleets that select the connection (turn), from the cache
	wallClock
	Backoff backoff.Policy // the sign-in right before promotion
	// CrashHook stops the reconcile right after a step is persisted (see
	// TableauConnectionReconciler).
	CrashHook func(phase string) error
	// mem: the rotation phase this process persisted last (ownWrite).
	mem            *memory
	statusWriter   // each step, under optimistic lock, before its action
	recorder       // each step's event
	bundleSecrets  // the consumer, candidate and previous Secrets
	sourceSecrets  // the credential staged as candidate
	workloads      // the restart targets
	tableauClients // the client of the sign-in before promotion
	refusedWrites  // a write the API server refused
}

// automaticPhase issues the next connected-app secret once rollout is idle (reconcileAutomatic).
type automaticPhase struct {
	client.Client // other connections of the same connected app, from the cache
	wallClock
	Backoff   backoff.Policy
	CrashHook func(phase string) error
	// mem: after a 404, the next reconcile reads the connection from the API server.
	mem           *memory
	statusWriter  // each step, under optimistic lock, before its action
	recorder      // each phase's event
	bundleSecrets // the -issued Secret, the secret ids the consumer Secrets hold
	sourceSecrets // the secret id in the person's source Secret
	adminSessions // the administrator's session that creates and deletes secrets
	refusedWrites // a write of the -issued Secret the API server refused
}

func (r *claimPhase) run(ctx context.Context, s *scope) outcome { return r.claim(ctx, s) }

func (r *requestPhase) run(_ context.Context, s *scope) outcome {
	handleRequest(s.conn)
	return proceeded()
}

func (r *credentialsPhase) run(ctx context.Context, s *scope) outcome {
	return r.loadCredentials(ctx, s)
}

func (r *consumerNamesPhase) run(ctx context.Context, s *scope) outcome {
	return r.checkConsumerNames(ctx, s)
}

func (r *backoffPhase) run(ctx context.Context, s *scope) outcome { return r.awaitBackoff(ctx, s) }

func (r *refusePhase) run(ctx context.Context, s *scope) outcome { return r.refuse(ctx, s) }

func (r *serverInfoPhase) run(ctx context.Context, s *scope) outcome { return r.probeServer(ctx, s) }

func (r *signInPhase) run(ctx context.Context, s *scope) outcome { return r.validateSignIn(ctx, s) }

// patExpiry's own failures are facts in status, never the reconcile's.
func (r *patExpiryPhase) run(ctx context.Context, s *scope) outcome {
	r.readPATExpiry(ctx, s)
	return proceeded()
}

// rollout is a stage of its own: it stops nothing, and fails on an error.
func (r *rolloutPhase) run(ctx context.Context, s *scope) outcome {
	return fromErr(r.reconcileRotation(ctx, s))
}

// automatic is a stage of its own: it stops nothing, and fails on an error.
func (r *automaticPhase) run(ctx context.Context, s *scope) outcome {
	if automatic(s.conn) != nil {
		if err := claimedBeforeAdmin(ctx, &r.statusWriter, s); err != nil {
			return failed(err)
		}
	}
	return fromErr(r.reconcileAutomatic(ctx, s))
}

// connectionPhases are the phases of a connection's reconcile, built once from the
// reconciler's fields (newConnectionPhases).
type connectionPhases struct {
	claim         *claimPhase
	request       *requestPhase
	credentials   *credentialsPhase
	consumerNames *consumerNamesPhase
	backoff       *backoffPhase
	refuse        *refusePhase
	serverInfo    *serverInfoPhase
	signIn        *signInPhase
	patExpiry     *patExpiryPhase
	rollout       *rolloutPhase
	automatic     *automaticPhase
}

// newConnectionPhases builds every phase with its dependencies, taken from the reconciler's
// fields. The memory and the administrator locks are shared by pointer: they are the
// process's, not a phase's.
func newConnectionPhases(r *TableauConnectionReconciler) *connectionPhases {
	clk := wallClock{Now: r.Now}
	status := statusWriter{Client: r.Client}
	events := recorder{Events: r.Events}
	bundles := bundleSecrets{Client: r.Client, APIReader: r.APIReader}
	sources := sourceSecrets{bundleSecrets: bundles, mem: &r.mem}
	clients := tableauClients{wallClock: clk, Backoff: r.Backoff, mem: &r.mem}
	record := verdicts{APIReader: r.APIReader, Backoff: r.Backoff, mem: &r.mem}
	admins := adminSessions{APIReader: r.APIReader, tableauClients: clients, adminLocks: &r.adminLocks}
	refused := refusedWrites{wallClock: clk, recorder: events, Backoff: r.Backoff}
	return &connectionPhases{
		claim:   &claimPhase{statusWriter: status, recorder: events, InstallID: r.InstallID, ClaimDuration: r.ClaimDuration},
		request: &requestPhase{},
		credentials: &credentialsPhase{Client: r.Client, APIReader: r.APIReader, AllowedServers: r.AllowedServers, mem: &r.mem,
			sourceSecrets: sources, recorder: events},
		consumerNames: &consumerNamesPhase{bundleSecrets: bundles},
		backoff:       &backoffPhase{},
		refuse:        &refusePhase{APIReader: r.APIReader, verdicts: record},
		serverInfo:    &serverInfoPhase{tableauClients: clients, verdicts: record, ServerInfo: r.ServerInfo},
		signIn:        &signInPhase{statusWriter: status, bundleSecrets: bundles, sourceSecrets: sources, verdicts: record},
		patExpiry:     &patExpiryPhase{adminSessions: admins, recorder: events, statusWriter: status},
		rollout: &rolloutPhase{Client: r.Client, wallClock: clk, Backoff: r.Backoff, CrashHook: r.CrashHook, mem: &r.mem,
			statusWriter: status, recorder: events, bundleSecrets: bundles, sourceSecrets: sources,
			workloads: workloads{Client: r.Client}, tableauClients: clients, refusedWrites: refused},
		automatic: &automaticPhase{Client: r.Client, wallClock: clk, Backoff: r.Backoff, CrashHook: r.CrashHook, mem: &r.mem,
			statusWriter: status, recorder: events, bundleSecrets: bundles, sourceSecrets: sources,
			adminSessions: admins, refusedWrites: refused},
	}
}

// list is the connection reconcile, in order. The claim comes first: an install acts only
// on a connection it claims (see claim), and halts everything else otherwise. Validation learns
// and checks the inputs and signs in (each phase may stop the rest of validation); the PAT's
// expiry is read with the client validation built; rollout runs whatever validation found (a
// rotation under way must finish or roll back even while the source holds a bad credential or
// the server is down); automatic rotation issues the next secret once rollout is idle.
func (p *connectionPhases) list() []phase {
	return []phase{
		{name: "claim", stage: stageClaim, runner: p.claim},
		{name: "request", stage: stageValidation, needs: []string{"claim"}, runner: p.request},
		{name: "credentials", stage: stageValidation, needs: []string{"request"}, runner: p.credentials},
		{name: "consumerNames", stage: stageValidation, runner: p.consumerNames},
		{name: "backoff", stage: stageValidation, needs: []string{"credentials"}, runner: p.backoff},
		{name: "refuse", stage: stageValidation, needs: []string{"credentials"}, runner: p.refuse},
		{name: "serverinfo", stage: stageValidation, needs: []string{"credentials", "refuse", "backoff"}, runner: p.serverInfo},
		{name: "signIn", stage: stageValidation, needs: []string{"credentials", "serverinfo"}, runner: p.signIn},
		{name: "patExpiry", stage: stageExpiry, needs: []string{"serverinfo", "signIn"}, runner: p.patExpiry},
		{name: "rollout", stage: stageRollout, needs: []string{"credentials", "consumerNames", "signIn"}, runner: p.rollout},
		{name: "automatic", stage: stageAutomatic, needs: []string{"rollout"}, runner: p.automatic},
	}
}

// phases returns the connection reconcile's declared list, built once (see built).
func (r *TableauConnectionReconciler) phases() []phase {
	r.built()
	return r.phaseList
}

// built returns the reconciler's phases, building them and finish's status writer on first
// use: SetupWithManager, or the first Reconcile of a reconciler a test built by hand. The
// reconciler's fields are read then; setting them later changes nothing.
func (r *TableauConnectionReconciler) built() *connectionPhases {
	r.buildOnce.Do(func() {
		r.phaseSet = newConnectionPhases(r)
		r.phaseList = r.phaseSet.list()
		r.statusWriter = statusWriter{Client: r.Client}
	})
	return r.phaseSet
}

// runPhases runs phases in order and returns the first failure, or proceeded. A wait's delay
// is recorded in scope for finish; a stop or a wait skips the rest of its stage.
func runPhases(ctx context.Context, s *scope, phases []phase) outcome {
	var stoppedStage stage
	for _, p := range phases {
		if p.stage == stoppedStage {
			continue
		}
		o := p.runner.run(ctx, s)
		switch o.kind {
		case fail:
			return o
		case halt:
			s.requeueIn(o.after)
			return proceeded()
		case wait:
			s.requeueIn(o.after)
			stoppedStage = p.stage
		case stop:
			stoppedStage = p.stage
		}
	}
	return proceeded()
}
