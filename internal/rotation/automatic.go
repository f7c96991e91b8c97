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

import (
	"sort"
	"strings"
)

// Automatic rotation issues connected-app secrets on Tableau's side. PlanAutomatic decides, from
// what is really on the app and in the operator's Secrets, the next step of one issue: record
// the intent, clean up orphans, create a secret, hand it to the bundle planner (Plan) as the
// source, and afterwards delete the old secret (gate passed) or the new one (rejected or
// rolled back). A secret's value is returned only when it is created, so a crash between the
// create call and the write of the issued Secret leaves an orphan: a secret on the app that
// is neither the active one, nor the source's, nor recorded. It was never given to anyone,
// and is deleted before the next create. Only a secret that appeared after the intent was
// recorded, while a create call that may have taken effect was outstanding (CreateSent), can
// be such an orphan: the intent records the secrets the app held then (Held), and a secret
// among them that no one the operator knows holds belongs to someone else. So does one that
// appeared after a create Tableau refused, throttled or the call gate held back: it is
// recorded as held. Neither is ever deleted; when one leaves no room for a new secret, the
// rotation stalls naming it.

// AutomaticPhase is where one automatic rotation stands; persisted before its action.
type AutomaticPhase string

// The issue phases. Their values are those of status.rotation.automatic.phase.
const (
	// AutomaticIdle: no automatic rotation under way.
	AutomaticIdle AutomaticPhase = "Idle"
	// AutomaticCreating: the intent is recorded (with the secret that will retire); orphans are
	// deleted and a secret is created and kept in the issued Secret.
	AutomaticCreating AutomaticPhase = "Creating"
	// AutomaticRollingOut: the issued Secret is the source of the bundle planner, which
	// validates, stages, promotes, restarts and gates it like any new credential.
	AutomaticRollingOut AutomaticPhase = "RollingOut"
	// AutomaticRetiring: the new secret passed the gate; the old one is deleted on Tableau.
	AutomaticRetiring AutomaticPhase = "Retiring"
	// AutomaticDiscarding: the new secret was rejected or rolled back; it is deleted on Tableau
	// and the issued Secret gets the active credential back.
	AutomaticDiscarding AutomaticPhase = "Discarding"
	// AutomaticStalled: the app already holds two secrets and neither is the operator's to drop
	// (Tableau's error 128 on a third): the other one is in the person's source Secret, or
	// was on the app before the intent (made in Tableau's UI, or by another tool). A person
	// deletes one; the operator never deletes a secret it cannot prove it created.
	AutomaticStalled AutomaticPhase = "Stalled"
)

// AutomaticPhases lists every issue phase.
var AutomaticPhases = []AutomaticPhase{AutomaticIdle, AutomaticCreating, AutomaticRollingOut, AutomaticRetiring, AutomaticDiscarding, AutomaticStalled}

// AutomaticTransitions is the one table of allowed issue phase changes; staying is allowed.
//
//	from         to
//	Idle         Creating
//	Creating     RollingOut, Stalled
//	RollingOut   Retiring, Discarding
//	Retiring     Idle
//	Discarding   Idle
//	Stalled      Creating
var AutomaticTransitions = map[AutomaticPhase][]AutomaticPhase{
	AutomaticIdle:       {AutomaticCreating},
	AutomaticCreating:   {AutomaticRollingOut, AutomaticStalled},
	AutomaticRollingOut: {AutomaticRetiring, AutomaticDiscarding},
	AutomaticRetiring:   {AutomaticIdle},
	AutomaticDiscarding: {AutomaticIdle},
	AutomaticStalled:    {AutomaticCreating},
}

// AutomaticAllowed reports whether the table allows moving from one issue phase to another.
func AutomaticAllowed(from, to AutomaticPhase) bool { return allowedIn(AutomaticTransitions, from, to) }

// AutomaticAction is the one thing the controller does after persisting an issue step.
type AutomaticAction string

// The issue actions. Each is idempotent.
const (
	AutomaticNone AutomaticAction = ""
	// ListSecrets reads the app's secret ids (not persisted: the controller lists and plans
	// again with Listed set).
	ListSecrets AutomaticAction = "ListSecrets"
	// DeleteSecret deletes Step.Secret on the app.
	DeleteSecret AutomaticAction = "DeleteSecret"
	// CreateSecret creates a secret on the app and writes it into the issued Secret.
	CreateSecret AutomaticAction = "CreateSecret"
	// RestoreIssued copies the consumer bundle (the active credential) into the issued
	// Secret, so the bundle planner's source is the active credential again.
	RestoreIssued AutomaticAction = "RestoreIssued"
)

// AutomaticReason says why a step was taken.
type AutomaticReason string

// Issue reasons.
const (
	AutomaticReasonDue          AutomaticReason = "RotationDue"
	AutomaticReasonOrphan       AutomaticReason = "OrphanSecret"
	AutomaticReasonCreate       AutomaticReason = "CreatingSecret"
	AutomaticReasonCreated      AutomaticReason = "SecretCreated"
	AutomaticReasonWaiting      AutomaticReason = "RollingOut"
	AutomaticReasonPassed       AutomaticReason = "NewSecretActive"
	AutomaticReasonRetired      AutomaticReason = "OldSecretDeleted"
	AutomaticReasonRejected     AutomaticReason = "NewSecretRejected"
	AutomaticReasonDiscarded    AutomaticReason = "NewSecretDeleted"
	AutomaticReasonSecretLimit  AutomaticReason = "ConnectedAppSecretLimit"
	AutomaticReasonForeign      AutomaticReason = "ForeignSecret"
	AutomaticReasonRoomAgain    AutomaticReason = "SecretSlotFree"
	AutomaticReasonNothingToDo  AutomaticReason = ""
	AutomaticReasonNeedsListing AutomaticReason = "ListingSecrets"
)

// MaxAppSecrets is Tableau's limit of secrets per connected app.
const MaxAppSecrets = 2

// AutomaticRecords are what status remembers of an automatic rotation.
type AutomaticRecords struct {
	// New is the secret the operator created for the rotation under way.
	New string
	// Retiring is the secret that was active when the rotation began.
	Retiring string
	// Held are the secret ids the app held when the intent was recorded, sorted and
	// comma-separated: none of them can be the orphan of a create call.
	Held string
	// CreateSent: a create call went out since Held was recorded, or may have (it is
	// persisted right before the call, and cleared only when the answer proves Tableau
	// created nothing: a refusal, a throttle, the call gate holding it back). Only then is a
	// secret that appeared after Held an orphan; otherwise it was made by someone else
	// meanwhile (in Tableau's UI while the create was held) and is recorded as held.
	CreateSent bool
}

// HeldList joins secret ids into AutomaticRecords.Held.
func HeldList(ids []string) string {
	s := append([]string(nil), ids...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

func (r AutomaticRecords) held(id string) bool {
	for _, h := range strings.Split(r.Held, ",") {
		if h != "" && h == id {
			return true
		}
	}
	return false
}

// AutomaticObservation is what is really there. Secret ids only; values never.
type AutomaticObservation struct {
	Phase   AutomaticPhase
	Records AutomaticRecords
	// Due: the schedule says a new secret is due.
	Due bool
	// BundleIdle: the bundle planner is Idle with the source's credential active (no other
	// rotation under way, no rejected candidate pending).
	BundleIdle bool
	// Active is the secret id of the active bundle: the one consumers hold once a rotation
	// is complete (during one, the previous copy's, kept for rollback).
	Active string
	// Consumer is the secret id the consumer Secret holds now (during a rotation, the new
	// one once it is promoted). It is never deleted.
	Consumer string
	// Source is the secret id in the person's source Secret.
	Source string
	// Issued is the secret id the operator's issued Secret holds ("" when it does not exist).
	Issued string
	// IssuedRejected: the bundle planner rejected (or rolled back) the issued Secret's credential.
	IssuedRejected bool
	// Listed says OnApp is known; OnApp are the app's secret ids.
	Listed bool
	OnApp  []string
}

// AutomaticStep is the next phase, the records to persist with it, and one action.
type AutomaticStep struct {
	Phase   AutomaticPhase
	Records AutomaticRecords
	Action  AutomaticAction
	// Secret is the secret id DeleteSecret deletes, or (with AutomaticReasonForeign) the secret
	// that is not the operator's and leaves no room.
	Secret string
	Reason AutomaticReason
}

func (o AutomaticObservation) onApp(id string) bool {
	for _, s := range o.OnApp {
		if s == id {
			return true
		}
	}
	return false
}

// known are the secrets on the app that someone holds or that status records.
func (o AutomaticObservation) known(id string) bool {
	for _, k := range []string{o.Active, o.Consumer, o.Source, o.Issued, o.Records.New, o.Records.Retiring} {
		if k != "" && k == id {
			return true
		}
	}
	return false
}

// orphan is a secret on the app that no one the operator knows holds and that appeared after
// the intent while a create call of this rotation may have taken effect: only that call can
// have made it. Without a create sent there is no orphan.
func (o AutomaticObservation) orphan() string {
	if !o.Records.CreateSent {
		return ""
	}
	for _, s := range o.OnApp {
		if !o.known(s) && !o.Records.held(s) {
			return s
		}
	}
	return ""
}

// unknown is a secret on the app that no one the operator knows holds.
func (o AutomaticObservation) unknown() string {
	for _, s := range o.OnApp {
		if !o.known(s) {
			return s
		}
	}
	return ""
}

// foreign is a secret on the app that was there before the intent and that neither
// consumers, nor the source, nor the operator's records hold: someone else's.
func (o AutomaticObservation) foreign() string {
	for _, s := range o.OnApp {
		if !o.known(s) && o.Records.held(s) {
			return s
		}
	}
	return ""
}

// PlanAutomatic returns the next step of an automatic rotation.
func PlanAutomatic(o AutomaticObservation) AutomaticStep {
	stay := AutomaticStep{Phase: o.Phase, Records: o.Records}
	to := func(p AutomaticPhase, rec AutomaticRecords, r AutomaticReason) AutomaticStep {
		return AutomaticStep{Phase: p, Records: rec, Reason: r}
	}
	act := func(a AutomaticAction, secret string, r AutomaticReason) AutomaticStep {
		s := stay
		s.Action, s.Secret, s.Reason = a, secret, r
		return s
	}
	switch o.Phase {
	case AutomaticIdle, "":
		if o.Due && o.BundleIdle && o.Active != "" {
			if !o.Listed {
				return act(ListSecrets, "", AutomaticReasonNeedsListing)
			}
			return to(AutomaticCreating, AutomaticRecords{Retiring: o.Active, Held: HeldList(o.OnApp)}, AutomaticReasonDue)
		}
		return AutomaticStep{Phase: AutomaticIdle}
	case AutomaticCreating:
		if o.Issued != "" && o.Issued != o.Records.Retiring {
			// Created and stored (perhaps just before a crash): hand it to the bundle planner.
			return to(AutomaticRollingOut, AutomaticRecords{New: o.Issued, Retiring: o.Records.Retiring, Held: o.Records.Held}, AutomaticReasonCreated)
		}
		if c := o.Consumer; o.Issued == "" && c != "" && c != o.Records.Retiring && c != o.Source && !o.Records.held(c) {
			// Created, stored and promoted before this phase moved on, then the issued Secret
			// was pruned: the rotation under way is this one's.
			return to(AutomaticRollingOut, AutomaticRecords{New: c, Retiring: o.Records.Retiring, Held: o.Records.Held}, AutomaticReasonCreated)
		}
		if !o.Listed {
			return act(ListSecrets, "", AutomaticReasonNeedsListing)
		}
		if id := o.orphan(); id != "" {
			return act(DeleteSecret, id, AutomaticReasonOrphan)
		}
		if held := HeldList(o.OnApp); o.Records.CreateSent || held != o.Records.Held {
			// Record again, right before the create call, what the app holds: a secret made
			// meanwhile in Tableau's UI (while a create was held back or throttled) is then
			// never taken for an orphan of the next call. A create that may have taken effect
			// left no orphan (deleted above, or none appeared): the next one starts afresh.
			rec := o.Records
			rec.Held, rec.CreateSent = held, false
			return AutomaticStep{Phase: o.Phase, Records: rec, Reason: AutomaticReasonCreate}
		}
		if len(o.OnApp) >= MaxAppSecrets {
			if id := o.foreign(); id != "" {
				s := to(AutomaticStalled, o.Records, AutomaticReasonForeign)
				s.Secret = id
				return s
			}
			return to(AutomaticStalled, o.Records, AutomaticReasonSecretLimit)
		}
		// Persisted with the step, before the call: a crash in the call leaves it set.
		s := act(CreateSecret, "", AutomaticReasonCreate)
		s.Records.CreateSent = true
		return s
	case AutomaticStalled:
		if !o.Listed {
			return act(ListSecrets, "", AutomaticReasonNeedsListing)
		}
		if len(o.OnApp) < MaxAppSecrets {
			// Nothing was created while stalled: what the app holds now is the new intent's.
			rec := o.Records
			rec.Held, rec.CreateSent = HeldList(o.OnApp), false
			return to(AutomaticCreating, rec, AutomaticReasonRoomAgain)
		}
		if id := o.unknown(); id != "" {
			s := stay
			s.Secret, s.Reason = id, AutomaticReasonForeign
			return s
		}
		return stay
	case AutomaticRollingOut:
		switch {
		case o.Records.New != "" && o.Active == o.Records.New && o.BundleIdle:
			return to(AutomaticRetiring, o.Records, AutomaticReasonPassed)
		case o.IssuedRejected || (o.Issued != "" && o.Issued != o.Records.New):
			return to(AutomaticDiscarding, o.Records, AutomaticReasonRejected)
		case o.Issued == "" && o.BundleIdle && o.Active != o.Records.New:
			// The issued Secret was pruned and the bundle planner ended without the new
			// secret: discard it. While it may be promoted, it is left alone.
			return to(AutomaticDiscarding, o.Records, AutomaticReasonRejected)
		}
		return stay
	case AutomaticRetiring:
		// The old secret may still be in the person's source Secret (the first one it gave):
		// the issued Secret supersedes it, and consumers hold the new one.
		old := o.Records.Retiring
		if old != "" && old != o.Active && old != o.Issued && old != o.Consumer {
			if !o.Listed {
				return act(ListSecrets, "", AutomaticReasonNeedsListing)
			}
			if o.onApp(old) {
				return act(DeleteSecret, old, AutomaticReasonRetired)
			}
		}
		return to(AutomaticIdle, AutomaticRecords{}, AutomaticReasonRetired)
	case AutomaticDiscarding:
		n := o.Records.New
		if n != "" && n != o.Active && n != o.Source && n != o.Consumer {
			if o.Issued == n {
				// The issued Secret must not hold a secret that is about to be deleted.
				return act(RestoreIssued, "", AutomaticReasonRejected)
			}
			if !o.Listed {
				return act(ListSecrets, "", AutomaticReasonNeedsListing)
			}
			if o.onApp(n) {
				return act(DeleteSecret, n, AutomaticReasonDiscarded)
			}
		}
		if o.Issued != "" && o.Issued != o.Active {
			return act(RestoreIssued, "", AutomaticReasonRejected)
		}
		return to(AutomaticIdle, AutomaticRecords{}, AutomaticReasonDiscarded)
	}
	return stay
}
