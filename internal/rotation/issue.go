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

// Automatic rotation issues connected-app secrets on Tableau's side. PlanIssue decides, from
// what is really on the app and in the operator's Secrets, the next step of one issue: record
// the intent, clean up orphans, create a secret, hand it to the bundle planner (Plan) as the
// source, and afterwards delete the old secret (gate passed) or the new one (rejected or
// rolled back). A secret's value is returned only when it is created, so a crash between the
// create call and the write of the issued Secret leaves an orphan: a secret on the app that
// is neither the active one, nor the source's, nor recorded. It was never given to anyone,
// and is deleted before the next create. Only a secret that appeared after the intent was
// recorded can be such an orphan: the intent records the secrets the app held then (Held),
// and a secret among them that no one the operator knows holds belongs to someone else. It
// is never deleted; when it leaves no room for a new secret, the rotation stalls naming it.

// IssuePhase is where one automatic rotation stands; persisted before its action.
type IssuePhase string

// The issue phases. Their values are those of status.rotation.automatic.phase.
const (
	// IssueIdle: no automatic rotation under way.
	IssueIdle IssuePhase = "Idle"
	// IssueCreating: the intent is recorded (with the secret that will retire); orphans are
	// deleted and a secret is created and kept in the issued Secret.
	IssueCreating IssuePhase = "Creating"
	// IssueRollingOut: the issued Secret is the source of the bundle planner, which
	// validates, stages, promotes, restarts and gates it like any new credential.
	IssueRollingOut IssuePhase = "RollingOut"
	// IssueRetiring: the new secret passed the gate; the old one is deleted on Tableau.
	IssueRetiring IssuePhase = "Retiring"
	// IssueDiscarding: the new secret was rejected or rolled back; it is deleted on Tableau
	// and the issued Secret gets the active credential back.
	IssueDiscarding IssuePhase = "Discarding"
	// IssueStalled: the app already holds two secrets and neither is the operator's to drop
	// (Tableau's error 128 on a third): the other one is in the person's source Secret, or
	// was on the app before the intent (made in Tableau's UI, or by another tool). A person
	// deletes one; the operator never deletes a secret it cannot prove it created.
	IssueStalled IssuePhase = "Stalled"
)

// IssuePhases lists every issue phase.
var IssuePhases = []IssuePhase{IssueIdle, IssueCreating, IssueRollingOut, IssueRetiring, IssueDiscarding, IssueStalled}

// IssueTransitions is the one table of allowed issue phase changes; staying is allowed.
//
//	from         to
//	Idle         Creating
//	Creating     RollingOut, Stalled
//	RollingOut   Retiring, Discarding
//	Retiring     Idle
//	Discarding   Idle
//	Stalled      Creating
var IssueTransitions = map[IssuePhase][]IssuePhase{
	IssueIdle:       {IssueCreating},
	IssueCreating:   {IssueRollingOut, IssueStalled},
	IssueRollingOut: {IssueRetiring, IssueDiscarding},
	IssueRetiring:   {IssueIdle},
	IssueDiscarding: {IssueIdle},
	IssueStalled:    {IssueCreating},
}

// IssueAllowed reports whether the table allows moving from one issue phase to another.
func IssueAllowed(from, to IssuePhase) bool { return allowedIn(IssueTransitions, from, to) }

// IssueAction is the one thing the controller does after persisting an issue step.
type IssueAction string

// The issue actions. Each is idempotent.
const (
	IssueNone IssueAction = ""
	// ListSecrets reads the app's secret ids (not persisted: the controller lists and plans
	// again with Listed set).
	ListSecrets IssueAction = "ListSecrets"
	// DeleteSecret deletes Step.Secret on the app.
	DeleteSecret IssueAction = "DeleteSecret"
	// CreateSecret creates a secret on the app and writes it into the issued Secret.
	CreateSecret IssueAction = "CreateSecret"
	// RestoreIssued copies the consumer bundle (the active credential) into the issued
	// Secret, so the bundle planner's source is the active credential again.
	RestoreIssued IssueAction = "RestoreIssued"
)

// IssueReason says why a step was taken.
type IssueReason string

// Issue reasons.
const (
	IssueReasonDue          IssueReason = "RotationDue"
	IssueReasonOrphan       IssueReason = "OrphanSecret"
	IssueReasonCreate       IssueReason = "CreatingSecret"
	IssueReasonCreated      IssueReason = "SecretCreated"
	IssueReasonWaiting      IssueReason = "RollingOut"
	IssueReasonPassed       IssueReason = "NewSecretActive"
	IssueReasonRetired      IssueReason = "OldSecretDeleted"
	IssueReasonRejected     IssueReason = "NewSecretRejected"
	IssueReasonDiscarded    IssueReason = "NewSecretDeleted"
	IssueReasonSecretLimit  IssueReason = "ConnectedAppSecretLimit"
	IssueReasonForeign      IssueReason = "ForeignSecret"
	IssueReasonRoomAgain    IssueReason = "SecretSlotFree"
	IssueReasonNothingToDo  IssueReason = ""
	IssueReasonNeedsListing IssueReason = "ListingSecrets"
)

// MaxAppSecrets is Tableau's limit of secrets per connected app.
const MaxAppSecrets = 2

// IssueRecords are what status remembers of an automatic rotation.
type IssueRecords struct {
	// New is the secret the operator created for the rotation under way.
	New string
	// Retiring is the secret that was active when the rotation began.
	Retiring string
	// Held are the secret ids the app held when the intent was recorded, sorted and
	// comma-separated: none of them can be the orphan of a create call.
	Held string
}

// HeldList joins secret ids into IssueRecords.Held.
func HeldList(ids []string) string {
	s := append([]string(nil), ids...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

func (r IssueRecords) held(id string) bool {
	for _, h := range strings.Split(r.Held, ",") {
		if h != "" && h == id {
			return true
		}
	}
	return false
}

// IssueObservation is what is really there. Secret ids only; values never.
type IssueObservation struct {
	Phase   IssuePhase
	Records IssueRecords
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

// IssueStep is the next phase, the records to persist with it, and one action.
type IssueStep struct {
	Phase   IssuePhase
	Records IssueRecords
	Action  IssueAction
	// Secret is the secret id DeleteSecret deletes, or (with IssueReasonForeign) the secret
	// that is not the operator's and leaves no room.
	Secret string
	Reason IssueReason
}

func (o IssueObservation) onApp(id string) bool {
	for _, s := range o.OnApp {
		if s == id {
			return true
		}
	}
	return false
}

// known are the secrets on the app that someone holds or that status records.
func (o IssueObservation) known(id string) bool {
	for _, k := range []string{o.Active, o.Consumer, o.Source, o.Issued, o.Records.New, o.Records.Retiring} {
		if k != "" && k == id {
			return true
		}
	}
	return false
}

// orphan is a secret on the app that no one the operator knows holds and that appeared after
// the intent: only a create call of this rotation can have made it.
func (o IssueObservation) orphan() string {
	for _, s := range o.OnApp {
		if !o.known(s) && !o.Records.held(s) {
			return s
		}
	}
	return ""
}

// unknown is a secret on the app that no one the operator knows holds.
func (o IssueObservation) unknown() string {
	for _, s := range o.OnApp {
		if !o.known(s) {
			return s
		}
	}
	return ""
}

// foreign is a secret on the app that was there before the intent and that neither
// consumers, nor the source, nor the operator's records hold: someone else's.
func (o IssueObservation) foreign() string {
	for _, s := range o.OnApp {
		if !o.known(s) && o.Records.held(s) {
			return s
		}
	}
	return ""
}

// PlanIssue returns the next step of an automatic rotation.
func PlanIssue(o IssueObservation) IssueStep {
	stay := IssueStep{Phase: o.Phase, Records: o.Records}
	to := func(p IssuePhase, rec IssueRecords, r IssueReason) IssueStep {
		return IssueStep{Phase: p, Records: rec, Reason: r}
	}
	act := func(a IssueAction, secret string, r IssueReason) IssueStep {
		s := stay
		s.Action, s.Secret, s.Reason = a, secret, r
		return s
	}
	switch o.Phase {
	case IssueIdle, "":
		if o.Due && o.BundleIdle && o.Active != "" {
			if !o.Listed {
				return act(ListSecrets, "", IssueReasonNeedsListing)
			}
			return to(IssueCreating, IssueRecords{Retiring: o.Active, Held: HeldList(o.OnApp)}, IssueReasonDue)
		}
		return IssueStep{Phase: IssueIdle}
	case IssueCreating:
		if o.Issued != "" && o.Issued != o.Records.Retiring {
			// Created and stored (perhaps just before a crash): hand it to the bundle planner.
			return to(IssueRollingOut, IssueRecords{New: o.Issued, Retiring: o.Records.Retiring, Held: o.Records.Held}, IssueReasonCreated)
		}
		if c := o.Consumer; o.Issued == "" && c != "" && c != o.Records.Retiring && c != o.Source && !o.Records.held(c) {
			// Created, stored and promoted before this phase moved on, then the issued Secret
			// was pruned: the rotation under way is this one's.
			return to(IssueRollingOut, IssueRecords{New: c, Retiring: o.Records.Retiring, Held: o.Records.Held}, IssueReasonCreated)
		}
		if !o.Listed {
			return act(ListSecrets, "", IssueReasonNeedsListing)
		}
		if id := o.orphan(); id != "" {
			return act(DeleteSecret, id, IssueReasonOrphan)
		}
		if len(o.OnApp) >= MaxAppSecrets {
			if id := o.foreign(); id != "" {
				s := to(IssueStalled, o.Records, IssueReasonForeign)
				s.Secret = id
				return s
			}
			return to(IssueStalled, o.Records, IssueReasonSecretLimit)
		}
		if held := HeldList(o.OnApp); held != o.Records.Held {
			// Record again, right before the create call, what the app holds: a secret made
			// meanwhile in Tableau's UI is then never taken for an orphan of this call.
			rec := o.Records
			rec.Held = held
			return IssueStep{Phase: o.Phase, Records: rec, Reason: IssueReasonCreate}
		}
		return act(CreateSecret, "", IssueReasonCreate)
	case IssueStalled:
		if !o.Listed {
			return act(ListSecrets, "", IssueReasonNeedsListing)
		}
		if len(o.OnApp) < MaxAppSecrets {
			// Nothing was created while stalled: what the app holds now is the new intent's.
			rec := o.Records
			rec.Held = HeldList(o.OnApp)
			return to(IssueCreating, rec, IssueReasonRoomAgain)
		}
		if id := o.unknown(); id != "" {
			s := stay
			s.Secret, s.Reason = id, IssueReasonForeign
			return s
		}
		return stay
	case IssueRollingOut:
		switch {
		case o.Records.New != "" && o.Active == o.Records.New && o.BundleIdle:
			return to(IssueRetiring, o.Records, IssueReasonPassed)
		case o.IssuedRejected || (o.Issued != "" && o.Issued != o.Records.New):
			return to(IssueDiscarding, o.Records, IssueReasonRejected)
		case o.Issued == "" && o.BundleIdle && o.Active != o.Records.New:
			// The issued Secret was pruned and the bundle planner ended without the new
			// secret: discard it. While it may be promoted, it is left alone.
			return to(IssueDiscarding, o.Records, IssueReasonRejected)
		}
		return stay
	case IssueRetiring:
		// The old secret may still be in the person's source Secret (the first one it gave):
		// the issued Secret supersedes it, and consumers hold the new one.
		old := o.Records.Retiring
		if old != "" && old != o.Active && old != o.Issued && old != o.Consumer {
			if !o.Listed {
				return act(ListSecrets, "", IssueReasonNeedsListing)
			}
			if o.onApp(old) {
				return act(DeleteSecret, old, IssueReasonRetired)
			}
		}
		return to(IssueIdle, IssueRecords{}, IssueReasonRetired)
	case IssueDiscarding:
		n := o.Records.New
		if n != "" && n != o.Active && n != o.Source && n != o.Consumer {
			if o.Issued == n {
				// The issued Secret must not hold a secret that is about to be deleted.
				return act(RestoreIssued, "", IssueReasonRejected)
			}
			if !o.Listed {
				return act(ListSecrets, "", IssueReasonNeedsListing)
			}
			if o.onApp(n) {
				return act(DeleteSecret, n, IssueReasonDiscarded)
			}
		}
		if o.Issued != "" && o.Issued != o.Active {
			return act(RestoreIssued, "", IssueReasonRejected)
		}
		return to(IssueIdle, IssueRecords{}, IssueReasonDiscarded)
	}
	return stay
}
