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

package rotation

import "time"

// Bundle identifies what a consumer Secret holds: a credential revision (a digest, never the
// credential) and the endpoint (a digest of server, site and API version) it is for.
type Bundle struct {
	Revision string
	Endpoint string
}

// IsZero reports whether the bundle names nothing.
func (b Bundle) IsZero() bool { return b.Revision == "" }

// Validation is what a sign-in said about a credential revision at the current server and site.
type Validation int

const (
	// Pending: not checked yet with these inputs (or not in this reconcile).
	Pending Validation = iota
	// Valid: the sign-in worked.
	Valid
	// Transient: throttled or the server was unavailable; retried after the backoff.
	Transient
	// Rejected: a terminal failure of the credential.
	Rejected
	// Unreadable: the source Secret is missing or lacks a key. A failure of the
	// connection, never a rejection of a candidate.
	Unreadable
)

// Copy is what one of the three Secrets (consumer, candidate copy, previous copy) really is.
type Copy struct {
	// Exists: a Secret of that name exists.
	Exists bool
	// Ours: it carries the operator's mark for this connection. A Secret that exists and is
	// not ours is never written or deleted.
	Ours bool
	// Holds is the bundle its annotations name (zero when it names none).
	Holds Bundle
}

// holds reports whether the copy is ours and holds b.
func (c Copy) holds(b Bundle) bool { return c.Exists && c.Ours && !b.IsZero() && c.Holds == b }

// Records are the bundles status remembers across reconciles.
type Records struct {
	// Active is the bundle consumers hold since the last completed rotation.
	Active Bundle
	// Candidate is the bundle being rolled out.
	Candidate Bundle
	// Previous is the bundle saved for rollback during a rotation.
	Previous Bundle
	// Rejected is the one representation of a rejected bundle: not tried again until the
	// source changes or a person asks.
	Rejected Bundle
}

// Slot names one of the three Secrets.
type Slot string

// The three Secrets of a connection with consumers.
const (
	SlotConsumer  Slot = "consumer"
	SlotCandidate Slot = "candidate"
	SlotPrevious  Slot = "previous"
)

// Observation is what is really there when the planner decides.
type Observation struct {
	Phase Phase
	// InPhase is the time since the phase was persisted.
	InPhase time.Duration
	// HealthCheckTimeout is how long the health gate waits.
	HealthCheckTimeout time.Duration
	Records            Records
	// Source is the bundle the source Secret would give at the current endpoint (Revision
	// empty when the Secret is unreadable), and SourceValidation what validation said of it.
	Source           Bundle
	SourceValidation Validation
	// ServerOK: serverinfo answered and the pinned API version is supported.
	ServerOK bool
	// Consumer, Candidate and Previous are the three Secrets.
	Consumer, Candidate, Previous Copy
	// Turn: every fleet that selects the connection lets it promote now.
	Turn bool
	// TargetsMissing: a restart target does not exist.
	TargetsMissing bool
	// Restarted: every restart target's pod template carries the current restart stamp.
	Restarted bool
	// RolledOut: every restart target runs the restarted template, updated and available.
	RolledOut bool
	// CheckBeforePromotion: sign in with a candidate nobody uses yet right before promotion.
	CheckBeforePromotion bool
	// Check is what that sign-in said (Pending when not run, or when its backoff is over).
	Check Validation
	// CandidateUnusable: the candidate copy holds a bundle the connection's auth method can no
	// longer read (spec.auth switched between a PAT and a connected app since it was staged).
	CandidateUnusable bool
}

// Action is the one thing the controller does after persisting a step.
type Action string

// The actions. Each is idempotent and writes at most one Secret (or patches the targets).
const (
	None             Action = ""
	StageCandidate   Action = "StageCandidate"   // write the source's bundle into the candidate copy
	CheckCandidate   Action = "CheckCandidate"   // sign in with the candidate (not in use by anyone)
	SavePrevious     Action = "SavePrevious"     // copy the consumer Secret into the previous copy
	PromoteCandidate Action = "PromoteCandidate" // copy the candidate copy into the consumer Secret
	RestartTargets   Action = "RestartTargets"   // stamp the restart annotation on every target
	RestorePrevious  Action = "RestorePrevious"  // copy the previous copy into the consumer Secret
	DeleteCandidate  Action = "DeleteCandidate"
	DeletePrevious   Action = "DeletePrevious"
)

// Reason explains a step; the values are the reasons of status and events.
type Reason string

// The reasons.
const (
	ReasonSteady              Reason = "Steady"
	ReasonStaged              Reason = "RotationStaged"
	ReasonWaitingForSource    Reason = "WaitingForSource"
	ReasonWaitingForTurn      Reason = "WaitingForTurn"
	ReasonTargetMissing       Reason = "RestartTargetMissing"
	ReasonPromotionStarted    Reason = "PromotionStarted"
	ReasonCheckRetry          Reason = "CandidateCheckRetry"
	ReasonPromoted            Reason = "CredentialPromoted"
	ReasonRestarted           Reason = "ConsumersRestarted"
	ReasonWaitingForRollout   Reason = "WaitingForRollout"
	ReasonHealthCheckPassed   Reason = "HealthGatePassed"
	ReasonHealthCheckTimedOut Reason = "GateTimedOut"
	ReasonCompleted           Reason = "RotationCompleted"
	ReasonRolledBack          Reason = "RotationRolledBack"
	ReasonCandidateRejected   Reason = "CandidateRejected"
	ReasonCandidateLost       Reason = "CandidateLost"
	ReasonSourceRestored      Reason = "SourceRestored"
	ReasonNameTaken           Reason = "SecretNameTaken"
	ReasonCleaningUp          Reason = "CleaningUp"
)

// Step is the planner's decision: the phase and records to persist, then one action.
type Step struct {
	Phase   Phase
	Records Records
	Action  Action
	Reason  Reason
	// Restamp: take a new restart stamp when the phase is persisted.
	Restamp bool
	// Conflict names the Secret that is taken by someone else (with ReasonNameTaken).
	Conflict Slot
}

// Settled reports whether the step changes nothing: the reconcile's rotation work is done.
func (s Step) Settled(o Observation) bool {
	return s.Action == None && s.Phase == o.Phase && s.Records == o.Records && !s.Restamp
}

// Plan decides the next step of one connection's rotation from what is really there.
func Plan(o Observation) Step {
	if o.Phase == "" {
		o.Phase = Idle
	}
	for _, c := range []struct {
		slot Slot
		copy Copy
	}{{SlotConsumer, o.Consumer}, {SlotCandidate, o.Candidate}, {SlotPrevious, o.Previous}} {
		if c.copy.Exists && !c.copy.Ours {
			return Step{Phase: o.Phase, Records: o.Records, Reason: ReasonNameTaken, Conflict: c.slot}
		}
	}
	switch o.Phase {
	case Staged:
		return planStaged(o)
	case Promoting:
		return planPromoting(o)
	case Restarting:
		return planRestarting(o)
	case Gating:
		return planGating(o)
	case Completing:
		return planCompleting(o)
	case RollingBack:
		return planRollingBack(o)
	default:
		return planWaiting(o)
	}
}

func stay(o Observation, r Records, a Action, why Reason) Step {
	return Step{Phase: o.Phase, Records: r, Action: a, Reason: why}
}

func move(p Phase, r Records, a Action, why Reason) Step {
	return Step{Phase: p, Records: r, Action: a, Reason: why}
}

// desired is the bundle to roll out, when the source holds a validated credential and the
// server supports the pin.
func desired(o Observation) (Bundle, bool) {
	return o.Source, !o.Source.IsZero() && o.SourceValidation == Valid && o.ServerOK
}

// sourceRejected reports whether validation rejected a new revision in the source. Without
// an active bundle there is no candidate to reject: the connection itself fails.
func sourceRejected(o Observation) bool {
	r := o.Records
	return o.SourceValidation == Rejected && !o.Source.IsZero() && !r.Active.IsZero() && o.Source.Revision != r.Active.Revision
}

func planWaiting(o Observation) Step {
	r := o.Records
	if sourceRejected(o) && (o.Phase != Failed || r.Rejected != o.Source) {
		r.Rejected, r.Candidate = o.Source, Bundle{}
		return move(Failed, r, None, ReasonCandidateRejected)
	}
	d, ok := desired(o)
	steady := ok && d == r.Active && o.Consumer.holds(d)
	if ok && !steady && d != r.Rejected {
		r.Candidate = d
		return move(Staged, r, StageCandidate, ReasonStaged)
	}
	if o.Phase == Failed && (r.Rejected.IsZero() || (steady && r.Active != r.Rejected)) {
		// A person asked for a retry, or the source went back to the active bundle.
		r.Rejected, r.Candidate = Bundle{}, Bundle{}
		return move(Idle, r, None, ReasonSourceRestored)
	}
	if o.Candidate.Exists {
		return stay(o, r, DeleteCandidate, ReasonCleaningUp)
	}
	if o.Previous.Exists && o.Consumer.holds(r.Active) {
		return stay(o, r, DeletePrevious, ReasonCleaningUp)
	}
	if o.Phase == Failed {
		return stay(o, r, None, ReasonCandidateRejected)
	}
	return stay(o, r, None, ReasonSteady)
}

func planStaged(o Observation) Step {
	r := o.Records
	c := r.Candidate
	if sourceRejected(o) {
		r.Rejected, r.Candidate = o.Source, Bundle{}
		return move(Failed, r, None, ReasonCandidateRejected)
	}
	d, ok := desired(o)
	if ok && d != c {
		if d == r.Active && o.Consumer.holds(d) {
			r.Candidate = Bundle{}
			return move(Idle, r, None, ReasonSourceRestored)
		}
		if d != r.Rejected {
			r.Candidate = d
			return stay(o, r, StageCandidate, ReasonStaged)
		}
	}
	if !o.Source.IsZero() && o.Source != c || c.IsZero() {
		// The source moved on and its new content is not validated yet.
		return stay(o, r, None, ReasonWaitingForSource)
	}
	if !o.Candidate.holds(c) {
		if ok && d == c {
			return stay(o, r, StageCandidate, ReasonStaged)
		}
		return stay(o, r, None, ReasonWaitingForSource)
	}
	if o.Consumer.Exists && !o.Turn {
		return stay(o, r, None, ReasonWaitingForTurn)
	}
	if o.TargetsMissing {
		return stay(o, r, None, ReasonTargetMissing)
	}
	return startPromoting(o, r)
}

// startPromoting enters Promoting together with saving what consumers hold, the
// promotion's first action in a rotation, so that one status write records the phase and the
// copy's record, instead of one write for the phase and one more before the copy (issue 23).
// Any other first step (the check, the promotion itself, a candidate lost or unusable) is
// planned from Promoting after the phase alone is recorded, as before: those act on the
// candidate, which Promoting observes afresh. The controller observes whether the candidate
// is unusable only in Promoting: a copy saved for a candidate found unusable there is
// deleted from Idle like any copy of the active bundle.
func startPromoting(o Observation, r Records) Step {
	in := o
	in.Phase, in.Records = Promoting, r
	s := planPromoting(in)
	if s.Phase != Promoting || s.Action != SavePrevious {
		return move(Promoting, r, None, ReasonPromotionStarted)
	}
	s.Reason = ReasonPromotionStarted
	return s
}

func planPromoting(o Observation) Step {
	r := o.Records
	c := r.Candidate
	if o.Consumer.holds(c) {
		s := move(Restarting, r, RestartTargets, ReasonPromoted)
		s.Restamp = true
		return s
	}
	if !o.Candidate.holds(c) || o.CandidateUnusable {
		if d, ok := desired(o); ok && d == c && !o.CandidateUnusable {
			return stay(o, r, StageCandidate, ReasonPromotionStarted)
		}
		// Lost, or of the auth method the spec no longer uses: never promoted. The source's
		// new credential is validated and staged from Idle.
		r.Candidate = Bundle{}
		return move(Idle, r, None, ReasonCandidateLost)
	}
	if held := o.Consumer.Holds; o.Consumer.Exists && !held.IsZero() && held == r.Active {
		// Keep what consumers hold for rollback, then give them the candidate. Only the
		// active bundle, which these records validated: a consumer Secret restored from an
		// old backup, edited by hand, or retained from an earlier connection of this name
		// holds nothing this connection validated to roll back to. It is overwritten, and a
		// rollback keeps the validated candidate. Saved before the check, so entering
		// Promoting and saving are one status write (startPromoting); a rejected candidate
		// leaves a copy of the active bundle, which Failed deletes.
		r.Previous = held
		if !o.Previous.holds(held) {
			return stay(o, r, SavePrevious, ReasonPromotionStarted)
		}
	}
	inUse := c.Revision == r.Active.Revision || (o.Consumer.Exists && o.Consumer.Holds.Revision == c.Revision)
	if o.CheckBeforePromotion && !inUse {
		switch o.Check {
		case Pending:
			return stay(o, r, CheckCandidate, ReasonPromotionStarted)
		case Transient, Unreadable:
			return stay(o, r, None, ReasonCheckRetry)
		case Rejected:
			r.Rejected, r.Candidate = c, Bundle{}
			return move(Failed, r, None, ReasonCandidateRejected)
		}
	}
	return stay(o, r, PromoteCandidate, ReasonPromotionStarted)
}

func planRestarting(o Observation) Step {
	if !o.Restarted {
		return stay(o, o.Records, RestartTargets, ReasonPromoted)
	}
	return move(Gating, o.Records, None, ReasonRestarted)
}

func planGating(o Observation) Step {
	r := o.Records
	switch {
	case !o.Restarted && !o.RolledOut:
		// A target added to spec.consumers.restartTargets during the gate: it gets the
		// rotation's stamp too. The phase and its clock stay; a removed target is simply no
		// longer observed.
		return stay(o, r, RestartTargets, ReasonRestarted)
	case o.RolledOut:
		return move(Completing, r, None, ReasonHealthCheckPassed)
	case o.InPhase < o.HealthCheckTimeout:
		return stay(o, r, None, ReasonWaitingForRollout)
	}
	s := move(RollingBack, r, None, ReasonHealthCheckTimedOut)
	s.Restamp = true
	return s
}

func planCompleting(o Observation) Step {
	r := o.Records
	if o.Previous.Exists {
		return stay(o, r, DeletePrevious, ReasonHealthCheckPassed)
	}
	if o.Candidate.Exists {
		return stay(o, r, DeleteCandidate, ReasonHealthCheckPassed)
	}
	r.Active, r.Candidate, r.Previous, r.Rejected = r.Candidate, Bundle{}, Bundle{}, Bundle{}
	return move(Idle, r, None, ReasonCompleted)
}

func planRollingBack(o Observation) Step {
	r := o.Records
	// The fallback is what the previous copy holds; status only remembers it.
	p := r.Previous
	if o.Previous.Exists && !o.Previous.Holds.IsZero() {
		p = o.Previous.Holds
	}
	restored := o.Consumer.holds(p)
	if !p.IsZero() && !restored && o.Previous.holds(p) {
		return stay(o, r, RestorePrevious, ReasonHealthCheckTimedOut)
	}
	if restored && !o.Restarted {
		return stay(o, r, RestartTargets, ReasonHealthCheckTimedOut)
	}
	if o.Previous.Exists {
		return stay(o, r, DeletePrevious, ReasonHealthCheckTimedOut)
	}
	if o.Candidate.Exists {
		return stay(o, r, DeleteCandidate, ReasonHealthCheckTimedOut)
	}
	active := r.Active
	switch {
	case restored:
		active = p
	case o.Consumer.holds(r.Candidate):
		// Nothing to restore (a first rollout, or the saved copy was lost): consumers keep
		// the validated candidate. Anything else in the consumer Secret (edited by hand,
		// restored from an old backup) was never validated and never becomes active.
		active = r.Candidate
	}
	r.Rejected, r.Active, r.Candidate, r.Previous = r.Candidate, active, Bundle{}, Bundle{}
	return move(Failed, r, None, ReasonRolledBack)
}

// ConsumerState is what the consumer Secret gives workloads, from this observation alone:
// never from what the records remember.
type ConsumerState int

// The consumer states.
const (
	// ConsumersPending: no credential was delivered yet (a first rollout).
	ConsumersPending ConsumerState = iota
	// ConsumersHold: the consumer Secret exists, is the operator's, and holds the active
	// bundle (or, during a rotation, the candidate or the bundle saved for rollback).
	ConsumersHold
	// ConsumersMissing: a credential was delivered and the consumer Secret is gone (deleted,
	// or spec.consumers.secretName renamed).
	ConsumersMissing
	// ConsumersStale: the consumer Secret is the operator's but holds no bundle the records
	// name (edited by hand, or restored from an old backup).
	ConsumersStale
	// ConsumersTaken: a Secret by that name exists that the operator did not create.
	ConsumersTaken
)

// Consumers says what the consumer Secret observed in o gives workloads.
func Consumers(o Observation) ConsumerState {
	c, r := o.Consumer, o.Records
	switch {
	case c.Exists && !c.Ours:
		return ConsumersTaken
	case !c.Exists && r.Active.IsZero():
		return ConsumersPending
	case !c.Exists:
		return ConsumersMissing
	case c.holds(r.Active):
		return ConsumersHold
	case o.Phase.Rotating() && (c.holds(r.Candidate) || c.holds(r.Previous)):
		return ConsumersHold
	case r.Active.IsZero():
		// Nothing delivered by these records yet (a first rollout, or a connection re-created
		// over a retained consumer Secret): the rollout under way writes it.
		return ConsumersPending
	}
	return ConsumersStale
}

// Recoverable reports whether the planner can give a missing or stale consumer Secret the
// active bundle again: the source holds it, validated, or a copy of the operator's does.
// Otherwise the consumer Secret held the only copy, and a person must act.
func Recoverable(o Observation) bool {
	a := o.Records.Active
	if d, ok := desired(o); ok && d == a {
		return true
	}
	return o.Candidate.holds(a) || o.Previous.holds(a)
}
