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

// phase is one step of a connection's reconcile. needs names the earlier phases whose facts
// (in scope) it reads; TestPhaseOrder checks that each runs after what it needs.
type phase struct {
	name  string
	stage stage
	needs []string
	run   func(ctx context.Context, s *scope) outcome
}

// phases is the connection reconcile, in order. The claim comes first: an install acts only
// on a connection it claims (see claim), and halts everything else otherwise. Validation learns and checks the inputs and
// signs in (each phase may stop the rest of validation); the PAT's expiry is read with the
// client validation built; rollout runs whatever validation found (a rotation under way must
// finish or roll back even while the source holds a bad credential or the server is down);
// automatic rotation issues the next secret once rollout is idle.
func (r *TableauConnectionReconciler) phases() []phase {
	return []phase{
		{name: "claim", stage: stageClaim, run: r.claim},
		{name: "request", stage: stageValidation, needs: []string{"claim"}, run: handleRequestPhase},
		{name: "credentials", stage: stageValidation, needs: []string{"request"}, run: r.loadCredentials},
		{name: "consumerNames", stage: stageValidation, run: r.checkConsumerNames},
		{name: "backoff", stage: stageValidation, needs: []string{"credentials"}, run: r.awaitBackoff},
		{name: "refuse", stage: stageValidation, needs: []string{"credentials"}, run: r.refuse},
		{name: "serverinfo", stage: stageValidation, needs: []string{"credentials", "refuse", "backoff"}, run: r.probeServer},
		{name: "signIn", stage: stageValidation, needs: []string{"credentials", "serverinfo"}, run: r.validateSignIn},
		{name: "patExpiry", stage: stageExpiry, needs: []string{"serverinfo", "signIn"}, run: neverStops(r.readPATExpiry)},
		{name: "rollout", stage: stageRollout, needs: []string{"credentials", "consumerNames", "signIn"}, run: failsOnly(r.reconcileRotation)},
		{name: "automatic", stage: stageAutomatic, needs: []string{"rollout"}, run: failsOnly(r.claimedBeforeAdmin(r.reconcileAutomatic))},
	}
}

// runPhases runs phases in order and returns the first failure, or proceeded. A wait's delay
// is recorded in scope for finish; a stop or a wait skips the rest of its stage.
func runPhases(ctx context.Context, s *scope, phases []phase) outcome {
	var stoppedStage stage
	for _, p := range phases {
		if p.stage == stoppedStage {
			continue
		}
		o := p.run(ctx, s)
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

// handleRequestPhase acts on a new tableau-operator.dev/requested-at annotation (see
// handleRequest); it never stops validation.
func handleRequestPhase(_ context.Context, s *scope) outcome {
	handleRequest(s.conn)
	return proceeded()
}

// failsOnly is a phase that is a stage of its own: it stops nothing, and fails on an error.
func failsOnly(f func(ctx context.Context, s *scope) error) func(ctx context.Context, s *scope) outcome {
	return func(ctx context.Context, s *scope) outcome { return fromErr(f(ctx, s)) }
}

// neverStops is a phase whose own failures are facts in status, never the reconcile's.
func neverStops(f func(ctx context.Context, s *scope)) func(ctx context.Context, s *scope) outcome {
	return func(ctx context.Context, s *scope) outcome {
		f(ctx, s)
		return proceeded()
	}
}
