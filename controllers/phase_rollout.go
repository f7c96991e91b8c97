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
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableaufleets,verbs=get;list;watch

// Defaults of rotation.
const (
	DefaultHealthCheckTimeout = 10 * time.Minute
	// healthCheckPoll is the health gate's look at its targets when no watch event woke it
	// (targetsOf wakes it on every change of a target): a safety net, and the deadline.
	healthCheckPoll = 30 * time.Second
	targetRecheck   = 5 * time.Second
	// nameTakenRecheck paces the look at a Secret name someone else holds: such a Secret
	// lacks the operator's label, so no watch event says when it goes.
	nameTakenRecheck = 10 * time.Second
	// maxRotationSteps bounds the steps one reconcile takes; a rotation never needs more.
	maxRotationSteps = 24
)

// ErrCrash is returned by a CrashHook to stop a reconcile between a persisted phase and its
// action, the way a killed operator would stop. Tests use it.
var ErrCrash = errors.New("simulated crash")

func healthCheckTimeout(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Rotation.HealthCheck.Timeout; d != nil {
		return d.Duration
	}
	return DefaultHealthCheckTimeout
}

func signInBeforePromotion(conn *v1.TableauConnection) bool {
	b := conn.Spec.Rotation.HealthCheck.SignInBeforePromotion
	return b == nil || *b
}

// DefaultRecheckAfter is how recent the candidate's own sign-in must be to count as the
// sign-in before promotion. Validation and promotion follow each other within a reconcile
// or two when nothing waits (a first delivery, a turn given at once), and a second sign-in
// then proves nothing the first did not; a candidate that waited for its turn longer (and
// could have been revoked meanwhile) signs in again.
const DefaultRecheckAfter = 5 * time.Second

func recheckAfter(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Rotation.HealthCheck.RecheckAfter; d != nil {
		return d.Duration
	}
	return DefaultRecheckAfter
}

// candidateJustSignedIn reports whether the candidate's revision signed in successfully at
// this server and site less than recheckAfter ago: that sign-in is the check before
// promotion, and no second one is made.
func candidateJustSignedIn(conn *v1.TableauConnection, candidate rotation.Bundle, now time.Time) bool {
	c := conn.Status.Credentials
	return !candidate.IsZero() && candidate.Endpoint == endpointDigest(conn) && sameSignInInputs(conn, candidate.Revision) &&
		c.LastAttemptResult == v1.ResultSucceeded && c.LastSignInTime != nil && now.Sub(c.LastSignInTime.Time) < recheckAfter(conn)
}

// rotationScope is what one reconcile learned about the rotation beyond the Observation.
type rotationScope struct {
	check       rotation.Validation // the sign-in right before promotion, in this reconcile
	checkDetail string
	turnWhy     string
	targets     rollout
	consumer    *metav1.PartialObjectMetadata
	// seen is what this reconcile knows of the three Secrets beyond the cache.
	seen secretsSeen
	// restamped is the restart stamp this reconcile put on every existing target.
	restamped string
	// calledOut: a call to Tableau (the check) ran since this reconcile's last status write,
	// seconds in which a person may have changed the connection (see persistStep).
	calledOut bool
}

// reconcileRotation observes, plans with the pure planner, persists the step, and applies its
// one action, until the planner has nothing more to do now. Every phase is persisted (with
// optimistic locking, so a reconcile working from a stale copy stops) before its action, and
// every action is idempotent: an operator killed between any two writes resumes or rolls back.
func (r *rolloutPhase) reconcileRotation(ctx context.Context, s *scope) error {
	conn := s.conn
	if conn.Spec.Consumers == nil {
		conn.Status.Rotation = nil
		conn.Status.RefusedWrite = nil // no rotation, nothing of it to write
		return nil
	}
	if conn.Status.Rotation == nil {
		conn.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, PhaseSince: metav1.NewTime(r.now())}
	}
	defer setRotationDue(conn, s)
	rsc := &rotationScope{seen: newSecretsSeen()}
	// A name taken by a Secret the cache cannot see is observed through the API reader.
	// Otherwise the Secrets are observed from the cache: each write carries what it was
	// decided on, and one refused as stale has that Secret observed afresh (worldMoved).
	fresh := s.nameTaken
	for i := 0; i < maxRotationSteps; i++ {
		o, err := r.observeRotation(ctx, s, rsc, fresh)
		if err != nil {
			return err
		}
		s.consumers = &consumersSeen{state: rotation.Consumers(o), holds: o.Consumer.Holds.Revision, recoverable: rotation.Recoverable(o)}
		step := rotation.Plan(o)
		if step.Settled(o) {
			r.noteWaiting(s, rsc, step)
			return r.noteSettledWrite(ctx, s, r.convergeConsumerOwnership(ctx, conn, rsc.consumer))
		}
		if !rotation.Allowed(o.Phase, step.Phase) {
			return fmt.Errorf("the planner moved %s to %s, which the transition table does not allow", o.Phase, step.Phase)
		}
		if err := r.persistStep(ctx, s, rsc, o, step); err != nil {
			return err
		}
		err = r.applyAction(ctx, s, rsc, step.Action)
		if worldMoved(rsc, &err) {
			continue
		}
		if r.noteRefusedWrite(ctx, s, err) {
			// Recorded for the deferred status patch; retried with backoff.
			return nil
		}
		if err != nil && !errors.Is(err, errNameTaken) {
			return err
		}
		if err == nil && step.Action != rotation.None && step.Action != rotation.CheckCandidate {
			noteWritesAccepted(s)
		}
	}
	s.requeueIn(time.Second) // more steps than one reconcile takes: go on shortly
	return nil
}

func recordsOf(rs *v1.RotationStatus) rotation.Records {
	return rotation.Records{
		Active:    rotation.Bundle{Revision: rs.ActiveRevision, Endpoint: rs.ActiveEndpoint},
		Candidate: rotation.Bundle{Revision: rs.CandidateRevision, Endpoint: rs.CandidateEndpoint},
		Previous:  rotation.Bundle{Revision: rs.PreviousRevision, Endpoint: rs.PreviousEndpoint},
		Rejected:  rotation.Bundle{Revision: rs.FailedRevision, Endpoint: rs.FailedEndpoint},
	}
}

func setRecords(rs *v1.RotationStatus, r rotation.Records) {
	rs.ActiveRevision, rs.ActiveEndpoint = r.Active.Revision, r.Active.Endpoint
	rs.CandidateRevision, rs.CandidateEndpoint = r.Candidate.Revision, r.Candidate.Endpoint
	rs.PreviousRevision, rs.PreviousEndpoint = r.Previous.Revision, r.Previous.Endpoint
	rs.FailedRevision, rs.FailedEndpoint = r.Rejected.Revision, r.Rejected.Endpoint
}

// sourceVerdict says what validation found about the source's revision at the current server
// and site. A Secret that cannot be read is the connection's failure, never a rejection.
func sourceVerdict(s *scope) rotation.Validation {
	var ce *classify.CredentialError
	if s.revision == "" || errors.As(s.credErr, &ce) {
		return rotation.Unreadable
	}
	c := s.conn.Status.Credentials
	if s.credErr != nil || c == nil || !sameSignInInputs(s.conn, s.revision) {
		return rotation.Pending
	}
	switch c.LastAttemptResult {
	case v1.ResultSucceeded:
		return rotation.Valid
	case v1.ResultFailed:
		if f := s.conn.Status.LastFailure; f != nil && f.Stage == v1.StageSignIn && f.Revision == s.revision {
			if transientFailure(f) {
				return rotation.Transient
			}
			return rotation.Rejected
		}
	}
	return rotation.Pending
}

// endpointRefused reports whether this reconcile may not send a credential to the connection's
// server: outside --allowed-servers, or its CA bundle was not loaded (refused, missing or
// broken). The source Secret's state does not matter here: the candidate is a copy.
func endpointRefused(s *scope) bool {
	var notAllowed *classify.ServerNotAllowedError
	tls := s.conn.Spec.TLS
	return errors.As(s.refusal, &notAllowed) || (tls != nil && tls.CABundle != nil && s.caPEM == nil)
}

func (r *rolloutPhase) observeRotation(ctx context.Context, s *scope, rsc *rotationScope, fresh bool) (rotation.Observation, error) {
	conn, rs := s.conn, s.conn.Status.Rotation
	now := r.now()
	f := conn.Status.LastFailure
	var caErr *classify.CABundleError
	o := rotation.Observation{
		Phase: rotation.Phase(rs.Phase), InPhase: now.Sub(rs.PhaseSince.Time), HealthCheckTimeout: healthCheckTimeout(conn),
		Records:              recordsOf(rs),
		Source:               rotation.Bundle{Revision: s.revision, Endpoint: endpointDigest(conn)},
		SourceValidation:     sourceVerdict(s),
		ServerOK:             conn.Status.Server != nil && (f == nil || f.Stage != v1.StageServer) && !errors.As(s.credErr, &caErr),
		CheckBeforePromotion: signInBeforePromotion(conn) && !candidateJustSignedIn(conn, recordsOf(rs).Candidate, now),
		Check:                rsc.check,
	}
	if o.SourceValidation == rotation.Unreadable {
		o.Source = rotation.Bundle{}
	}
	var err error
	if o.Consumer, rsc.consumer, err = r.observeSecret(ctx, conn, rsc, conn.Spec.Consumers.SecretName, fresh); err != nil {
		return o, err
	}
	if o.Candidate, _, err = r.observeSecret(ctx, conn, rsc, candidateName(conn), fresh); err != nil {
		return o, err
	}
	if o.Previous, _, err = r.observeSecret(ctx, conn, rsc, previousName(conn), fresh); err != nil {
		return o, err
	}
	switch o.Phase {
	case rotation.Staged:
		if o.Turn, rsc.turnWhy, err = r.turn(ctx, conn); err != nil {
			return o, err
		}
		fallthrough
	case rotation.Restarting, rotation.Gating, rotation.RollingBack:
		if rsc.targets, err = r.observeTargets(ctx, conn, rs.RestartedAt); err != nil {
			return o, err
		}
		o.TargetsMissing, o.Restarted, o.RolledOut = len(rsc.targets.missing) > 0, rsc.targets.stamped, rsc.targets.rolledOut
		if rsc.restamped != "" && rsc.restamped == rs.RestartedAt {
			o.Restarted = true
		}
	case rotation.Promoting:
		if c := o.Records.Candidate; o.Candidate.Exists && o.Candidate.Ours && o.Candidate.Holds == c && !(o.Consumer.Exists && o.Consumer.Holds == c) {
			if o.CandidateUnusable, err = r.candidateUnusable(ctx, s, rsc); err != nil {
				return o, err
			}
		}
		if o.Check == rotation.Pending && rs.NextCheckTime != nil && now.Before(rs.NextCheckTime.Time) {
			o.Check = rotation.Transient
			s.requeueIn(rs.NextCheckTime.Sub(now))
		}
		if o.Check == rotation.Pending && endpointRefused(s) {
			// A server outside --allowed-servers, or a CA bundle refused, missing or broken:
			// no credential goes out, and what fails is the connection's input, not the
			// candidate. The candidate waits; the input's fix (a watched change) resumes it.
			o.Check = rotation.Unreadable
		}
	}
	return o, nil
}

// persistStep records the step's phase and records in status, with optimistic locking, so
// the action that follows starts from a recorded state. Phase times are taken now, when the
// phase is persisted: no work done before counts against the health gate.
func (r *rolloutPhase) persistStep(ctx context.Context, s *scope, rsc *rotationScope, o rotation.Observation, step rotation.Step) error {
	rs := s.conn.Status.Rotation
	now := r.now()
	entered := step.Phase != o.Phase
	if entered {
		rs.PhaseSince = metav1.NewTime(now)
		rs.NextCheckTime, rs.CheckFailures = nil, 0
		rs.Phase = string(step.Phase)
	}
	// A new candidate staged over the waiting one, or a second bad credential rejected while
	// the first rejection stands, keeps the phase but is news of its own.
	renewed := step.Records.Candidate != o.Records.Candidate || step.Records.Rejected != o.Records.Rejected
	rec := recordOfStep(s.conn, o.Records, step)
	if step.Phase == rotation.Staged && o.Phase != rotation.Staged {
		// Said when the candidate is staged, so the wait for the turn that follows does not
		// rewrite the message (a status write per rotation).
		var err error
		if _, rsc.turnWhy, err = r.turn(ctx, s.conn); err != nil {
			return err
		}
	}
	if entered || renewed {
		rs.Reason, rs.Message = rec.reason, r.describe(s, rsc, o, step, rec)
	}
	if step.Restamp {
		rs.RestartedAt = now.UTC().Format(time.RFC3339Nano)
	}
	setRecords(rs, step.Records)
	if step.Records.Active != o.Records.Active {
		// The active credential's expiry goes with it: another revision's is not its own.
		rs.ActiveExpiresAt = signedInExpiry(s.conn, step.Records.Active.Revision)
	}
	if o.Phase == rotation.Completing && step.Phase == rotation.Idle {
		t := metav1.NewTime(now)
		rs.ActiveSince = &t
		if !rec.firstDelivery {
			rs.LastCompletionTime = &t
		}
	}
	// A step that keeps the phase and the records, after this reconcile's locked write proved
	// its copy fresh, acts on what status already holds: recovery needs nothing it would add.
	// What it changed (the check's result, a message) rides on the next step's write or the
	// reconcile's last one, as the planners' exploration models it (nothing to persist). The
	// check right before promotion cost a write of its own per rotation (issue 23).
	// After a call to Tableau, which takes seconds, the copy must still be the connection's:
	// one a person changed meanwhile (suspended, deleted, its auth or Secret names edited, or
	// another install's claim) is written under the lock, which refuses it, so no promotion
	// follows from the old copy. The cache tells without a request.
	kept := s.wrote && !entered && !renewed && !step.Restamp && step.Records == o.Records &&
		!(rsc.calledOut && r.movedSince(ctx, s.conn))
	if !kept {
		if err := r.persistLocked(ctx, s); err != nil {
			return err
		}
		rsc.calledOut = false
	}
	if entered {
		r.mem.wroteOwnPhase(s.conn, time.Now())
	}
	// Another credential rejected while the first rejection stands keeps the phase, but is
	// told like the first: Warning event, rotations_total{result="rejected"}, audit line
	// (issue 24): step.Records.Rejected moved, to another bundle, or to the same one again
	// after requested-at cleared the record (a retry the person asked for is news too).
	rejectedAgain := !entered && step.Reason == rotation.ReasonCandidateRejected && step.Records.Rejected != o.Records.Rejected
	if !entered && !rejectedAgain {
		if renewed {
			auditStep(ctx, s.conn, rec)
		}
		return nil
	}
	switch step.Reason {
	case rotation.ReasonCompleted:
		if !rec.firstDelivery {
			metrics.Rotations.WithLabelValues("completed").Inc()
		}
	case rotation.ReasonRolledBack:
		metrics.Rotations.WithLabelValues("rolled_back").Inc()
	case rotation.ReasonCandidateRejected:
		metrics.Rotations.WithLabelValues("rejected").Inc()
	}
	if rec.event {
		warning := step.Phase == rotation.Failed || step.Phase == rotation.RollingBack
		r.event(s.conn, warning, rs.Reason, rs.Message)
	}
	ctrl.LoggerFrom(ctx).Info("rotation", "phase", rs.Phase, "reason", rs.Reason)
	auditStep(ctx, s.conn, rec)
	if r.CrashHook != nil && entered {
		return r.CrashHook(rs.Phase)
	}
	return nil
}

// describe says in a sentence why the rotation entered a phase.
func (r *rolloutPhase) describe(s *scope, rsc *rotationScope, o rotation.Observation, step rotation.Step, sr stepRecord) string {
	conn, rec := s.conn, step.Records
	switch {
	case sr.firstDelivery && step.Reason == rotation.ReasonPromoted:
		return fmt.Sprintf("Consumers got their first credential, revision %s; restarting them.", rec.Candidate.Revision)
	case sr.firstDelivery && step.Reason == rotation.ReasonCompleted:
		return fmt.Sprintf("Revision %s is active: the consumers' first credential, not a rotation.", rec.Active.Revision)
	}
	switch step.Reason {
	case rotation.ReasonStaged:
		return stagedMessage(rec.Candidate.Revision, rsc.turnWhy)
	case rotation.ReasonPromotionStarted:
		return fmt.Sprintf("Promoting revision %s.", rec.Candidate.Revision)
	case rotation.ReasonPromoted:
		return fmt.Sprintf("Consumers got revision %s (the previous one is kept for rollback); restarting them.", rec.Candidate.Revision)
	case rotation.ReasonRestarted:
		return fmt.Sprintf("Waiting up to %s for %d restarted consumers to become available.", healthCheckTimeout(conn), len(conn.Spec.Consumers.RestartTargets))
	case rotation.ReasonHealthCheckPassed:
		return "Consumers are available with the new credential."
	case rotation.ReasonCompleted:
		return fmt.Sprintf("Revision %s is active; the previous credential was dropped.", rec.Active.Revision)
	case rotation.ReasonHealthCheckTimedOut:
		return fmt.Sprintf("%s not available %s after the restart; restoring revision %s.", strings.Join(rsc.targets.waiting, ", "), healthCheckTimeout(conn), o.Records.Previous.Revision)
	case rotation.ReasonRolledBack:
		msg := s.conn.Status.Rotation.Message
		if rec.Active == o.Records.Candidate {
			msg += " There was no previous credential to restore; consumers keep the validated candidate."
		}
		return msg
	case rotation.ReasonCandidateRejected:
		if o.Phase == rotation.Promoting {
			return fmt.Sprintf("The candidate failed its sign-in right before promotion (%s); consumers keep revision %s.", rsc.checkDetail, rec.Active.Revision)
		}
		detail := "rejected"
		if f := conn.Status.LastFailure; f != nil {
			detail = f.Bucket + ": " + f.Reason
		}
		return fmt.Sprintf("The new credential (revision %s) was rejected (%s); consumers keep revision %s.", rec.Rejected.Revision, detail, rec.Active.Revision)
	case rotation.ReasonSourceRestored:
		return "No rejected candidate is pending: the source holds the active credential again, or a retry was requested."
	case rotation.ReasonCandidateLost:
		if o.CandidateUnusable {
			return "The staged candidate is of the auth method spec.auth no longer uses; it is dropped unpromoted, and the source's credential is validated and staged instead."
		}
		return "The staged candidate disappeared before promotion; waiting for the source again."
	}
	return string(step.Reason)
}

// stagedMessage says that a validated candidate waits, and for what: its fleet's turn
// (turnWhy) or, with no fleet, its first look at the restart targets.
func stagedMessage(revision, turnWhy string) string {
	if turnWhy == "" {
		return fmt.Sprintf("Revision %s is validated and waits for its turn.", revision)
	}
	return fmt.Sprintf("Revision %s: %s", revision, turnWhy)
}

// noteWaiting explains in status why the rotation waits, and when to look again.
func (r *rolloutPhase) noteWaiting(s *scope, rsc *rotationScope, step rotation.Step) {
	rs := s.conn.Status.Rotation
	switch step.Reason {
	case rotation.ReasonNameTaken:
		name := slotName(s.conn, step.Conflict)
		rs.Reason = v1.ReasonSecretNameTaken
		rs.Message = fmt.Sprintf("Secret %q exists and was not created by tableau-operator for this connection, so the operator neither writes nor deletes it and makes no Tableau call: "+
			"choose another spec.consumers.secretName, or delete or rename that Secret.", name)
		s.requeueIn(nameTakenRecheck)
	case rotation.ReasonWaitingForTurn:
		rs.Message = stagedMessage(rs.CandidateRevision, rsc.turnWhy)
	case rotation.ReasonTargetMissing:
		rs.Reason = string(step.Reason)
		rs.Message = fmt.Sprintf("Restart target %s does not exist: create it or remove it from spec.consumers.restartTargets; the candidate waits.", strings.Join(rsc.targets.missing, ", "))
		s.requeueIn(targetRecheck) // the workload watch wakes only connections past their restart
	case rotation.ReasonCheckRetry:
		rs.Reason = string(step.Reason)
		if rs.NextCheckTime == nil {
			rs.Message = "The sign-in right before promotion waits until the connection's inputs may be used (see status.lastFailure); the candidate is kept."
			break
		}
		rs.Message = fmt.Sprintf("The sign-in right before promotion failed transiently (%s); the candidate is kept and the sign-in is retried at %s.",
			rsc.checkDetail, rs.NextCheckTime.UTC().Format(time.RFC3339))
	case rotation.ReasonWaitingForRollout:
		// Until a first target is available the message the gate was entered with says it
		// all; rewriting it would cost a status write per rotation.
		if rs.Reason != string(rotation.ReasonRestarted) || len(rsc.targets.waiting) < len(s.conn.Spec.Consumers.RestartTargets) {
			rs.Message = "Waiting for " + strings.Join(rsc.targets.waiting, ", ") + " to become available."
		}
		// Back at the gate's deadline at the latest, to roll back on time.
		s.requeueIn(min(healthCheckPoll, rs.PhaseSince.Add(healthCheckTimeout(s.conn)).Sub(r.now())+10*time.Millisecond))
	default:
		if rs.Reason == v1.ReasonSecretNameTaken {
			rs.Reason, rs.Message = string(step.Reason), "The Secret names are free again."
		}
	}
}

// applyAction performs the step's one action.
func (r *rolloutPhase) applyAction(ctx context.Context, s *scope, rsc *rotationScope, a rotation.Action) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	switch a {
	case rotation.StageCandidate:
		cred, err := r.sourceCredential(ctx, s)
		if err != nil || cred == nil || s.revision != rs.CandidateRevision {
			return err // the source moved on: the next observation sees it
		}
		return r.putSeen(ctx, conn, rsc, candidateName(conn), endpointBundle(conn, *cred), rotation.Bundle{Revision: s.revision, Endpoint: endpointDigest(conn)})
	case rotation.CheckCandidate:
		rsc.calledOut = true
		return r.checkCandidate(ctx, s, rsc)
	case rotation.SavePrevious:
		return r.copySeen(ctx, s, rsc, conn.Spec.Consumers.SecretName, previousName(conn),
			rotation.Bundle{Revision: rs.PreviousRevision, Endpoint: rs.PreviousEndpoint})
	case rotation.PromoteCandidate:
		return r.copySeen(ctx, s, rsc, candidateName(conn), conn.Spec.Consumers.SecretName,
			rotation.Bundle{Revision: rs.CandidateRevision, Endpoint: rs.CandidateEndpoint})
	case rotation.RestorePrevious:
		src, err := r.readSeen(ctx, conn, rsc, previousName(conn))
		if err != nil || src == nil {
			return err // a missing source is a no-op: the next observation sees it gone
		}
		return r.putSeen(ctx, conn, rsc, conn.Spec.Consumers.SecretName, src.Data, bundleOf(src))
	case rotation.RestartTargets:
		if err := r.restartTargets(ctx, conn, rs.RestartedAt); err != nil {
			return err
		}
		// Every existing target carries the stamp now, whether or not the cache shows it
		// yet: not stamped again in this reconcile.
		rsc.restamped = rs.RestartedAt
		// The restart of a promotion is recorded when Gating is entered; these two change
		// the targets' templates while the phase stays, so they are recorded here.
		switch rotation.Phase(rs.Phase) {
		case rotation.RollingBack:
			auditRestart(ctx, conn, rs.PreviousRevision, v1.ReasonRollbackRestart)
		case rotation.Gating:
			auditRestart(ctx, conn, rs.CandidateRevision, v1.ReasonTargetAdded)
		}
		return nil
	case rotation.DeleteCandidate:
		return r.deleteSeen(ctx, conn, rsc, candidateName(conn))
	case rotation.DeletePrevious:
		return r.deleteSeen(ctx, conn, rsc, previousName(conn))
	}
	return nil
}

// candidateUnusable reports whether the candidate copy holds a bundle the connection's auth
// method cannot read: spec.auth switched between a PAT and a connected app since it was
// staged. Such a candidate is never checked nor promoted.
func (r *rolloutPhase) candidateUnusable(ctx context.Context, s *scope, rsc *rotationScope) (bool, error) {
	if sourceIs(s, recordsOf(s.conn.Status.Rotation).Candidate) {
		return false, nil // the source's credential, read with the auth method the spec uses
	}
	cand, err := r.readSeen(ctx, s.conn, rsc, candidateName(s.conn))
	if err != nil || cand == nil {
		return false, err
	}
	_, err = credentialFromData(s.conn, cand.Name, cand.Data, true)
	var ce *classify.CredentialError
	return errors.As(err, &ce), nil
}

// copySeen copies one of the operator's bundles into another Secret only while it is the
// bundle the persisted step planned: one edited or restored from a backup since the plan is
// not copied, and the next observation plans again.
func (r *rolloutPhase) copySeen(ctx context.Context, s *scope, rsc *rotationScope, from, to string, want rotation.Bundle) error {
	data, err := r.plannedData(ctx, s, rsc, from, want)
	if err != nil || data == nil {
		return err
	}
	return r.putSeen(ctx, s.conn, rsc, to, data, want)
}

// candidateCredential is the staged candidate's credential: the source's when this
// reconcile read it and it is the candidate's revision, else read from the candidate copy.
func (r *rolloutPhase) candidateCredential(ctx context.Context, s *scope, rsc *rotationScope) (*signInCredential, error) {
	if sourceIs(s, recordsOf(s.conn.Status.Rotation).Candidate) {
		return s.cred, nil
	}
	cand, err := r.readSeen(ctx, s.conn, rsc, candidateName(s.conn))
	if err != nil || cand == nil {
		return nil, err
	}
	cred, err := credentialFromData(s.conn, cand.Name, cand.Data, true)
	if err != nil {
		return nil, err
	}
	return &cred, nil
}

// checkCandidate signs in with the staged candidate right before promotion. Nobody uses it
// yet (the planner asks only then), so no one's session ends. A transient failure keeps the
// candidate and retries after the backoff; only a terminal one rejects it.
func (r *rolloutPhase) checkCandidate(ctx context.Context, s *scope, rsc *rotationScope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	cred, err := r.candidateCredential(ctx, s, rsc)
	if err != nil || cred == nil {
		return err
	}
	if s.client == nil {
		if s.client, _, err = r.clientFor(conn, s.caPEM); err != nil {
			return err
		}
	}
	started := time.Now()
	sess, err := signInOut(ctx, s.client, callgate.Check, conn.Spec.Site, *cred)
	auditCandidateCheck(ctx, conn, cred.revision(), sess, err)
	recordCandidateCheck(s, cred.revision(), sess, err, time.Since(started))
	if err == nil {
		rsc.check = rotation.Valid
		return nil
	}
	if held, ok := gatedclient.AsHeld(err); ok {
		// Nothing went out: the candidate waits for the gate, and no failure is counted.
		rsc.check, rsc.checkDetail = rotation.Transient, heldDetail(held)
		next := metav1.NewTime(held.Until)
		rs.NextCheckTime = &next
		s.requeueIn(held.Until.Sub(r.now()))
		return nil
	}
	v, _ := classify.Failure(err, classify.Evidence{Now: s.now, Site: conn.Spec.Site, ConnectedApp: usesConnectedApp(conn)})
	rsc.checkDetail = string(v.Bucket) + ": " + v.Reason
	if !transient(v.Bucket) {
		rsc.check = rotation.Rejected
		return nil
	}
	rsc.check = rotation.Transient
	var retryAfter time.Duration
	if te, ok := tableauError(err); ok {
		retryAfter = te.RetryAfter
	}
	wait := r.Backoff.Delay(int(rs.CheckFailures), retryAfter)
	next := gateNext(s, callgate.Check, err, metav1.NewTime(r.now().Add(wait)))
	wait = next.Sub(r.now())
	rs.NextCheckTime, rs.CheckFailures = &next, rs.CheckFailures+1
	s.requeueIn(wait)
	return nil
}

// movedSince reports whether the cached connection is another version than conn, which this
// reconcile's last status write returned (or the cache cannot tell).
func (r *rolloutPhase) movedSince(ctx context.Context, conn *v1.TableauConnection) bool {
	var cached v1.TableauConnection
	if err := r.Get(ctx, client.ObjectKeyFromObject(conn), &cached); err != nil {
		return true
	}
	return cached.ResourceVersion != conn.ResourceVersion
}
