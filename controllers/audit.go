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

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// stepRecord is the one record of a persisted rotation step: status.rotation's reason, the
// Event and the audit line are all taken from it, so they cannot disagree. A first delivery
// (consumers had no active revision) is recorded as such, never as a rotation.
type stepRecord struct {
	// reason is status.rotation.reason and the Event's reason.
	reason string
	// action is the audit line's action; empty for a step that records no credential action
	// (such as waiting for a turn).
	action audit.Action
	entry  audit.Entry
	// firstDelivery: no revision was active before this rollout.
	firstDelivery bool
	// event: the step is an outcome a person reads, told in an Event. The steps between
	// them (the promotion started, the targets restarted, the gate passed) keep their
	// status reason and audit line; their Events repeated what the next one says (a
	// promotion restarts the consumers, a completion follows the passed gate).
	event bool
}

// recordOfStep derives the record of a step from what status held before it (from) and the
// step. The phase a step enters is persisted after the previous phase's action, so the
// record says what was done: promoted, restarted, gate passed, rolled back.
func recordOfStep(conn *v1.TableauConnection, from rotation.Records, step rotation.Step) stepRecord {
	cand, active := step.Records.Candidate.Revision, step.Records.Active.Revision
	rec := stepRecord{reason: string(step.Reason), firstDelivery: from.Active.IsZero(), event: true}
	e := audit.Entry{Reason: string(step.Reason), Result: audit.Succeeded}
	switch step.Reason {
	case rotation.ReasonStaged:
		rec.action, e.Revision = audit.CandidateStaged, cand
	case rotation.ReasonCandidateRejected:
		rec.action, e.Revision, e.Result = audit.CandidateRejected, step.Records.Rejected.Revision, audit.Failed
		if f := conn.Status.LastFailure; f != nil {
			e.Bucket, e.RequestID = f.Bucket, f.RequestID
		}
	case rotation.ReasonPromoted:
		rec.action, e.Revision = audit.Promotion, cand
		if rec.firstDelivery {
			rec.action, rec.reason = audit.FirstDelivery, v1.ReasonFirstDelivery
			e.Reason = rec.reason
		}
	case rotation.ReasonPromotionStarted:
		rec.event = false
	case rotation.ReasonRestarted:
		rec.action, e.Revision, rec.event = audit.Restart, cand, false
		if rec.firstDelivery {
			e.Reason = v1.ReasonFirstDelivery
		}
	case rotation.ReasonHealthCheckPassed:
		rec.action, e.Revision, e.Result, rec.event = audit.Gate, cand, audit.Passed, false
	case rotation.ReasonHealthCheckTimedOut:
		rec.action, e.Revision, e.Result = audit.Gate, cand, audit.TimedOut
	case rotation.ReasonRolledBack:
		rec.action, e.Revision = audit.Rollback, active
	case rotation.ReasonCompleted:
		rec.action, e.Revision = audit.RotationCompleted, active
		if rec.firstDelivery {
			// The first credential passed the gate: its FirstDelivery and Gate lines told
			// it; a rotation completed is what a pipeline counts, and none happened.
			rec.action, rec.reason = "", v1.ReasonFirstDeliveryCompleted
		}
	}
	if e.Revision == "" {
		e.Revision = from.Candidate.Revision
	}
	rec.entry = e
	return rec
}

// auditStep writes the audit line of a step's record, if it has one.
func auditStep(ctx context.Context, conn *v1.TableauConnection, rec stepRecord) {
	if rec.action == "" {
		return
	}
	audit.Log(ctx, rec.action, conn, rec.entry)
}

// auditRestart writes the Restart line of a restart that no phase change records: a
// rollback's, or a target's added during the health gate. reason says which.
func auditRestart(ctx context.Context, conn *v1.TableauConnection, revision, reason string) {
	audit.Log(ctx, audit.Restart, conn, audit.Entry{Revision: revision, Result: audit.Succeeded, Reason: reason})
}

// auditCandidateCheck writes the line of the sign-in with a staged candidate right before
// its promotion.
func auditCandidateCheck(ctx context.Context, conn *v1.TableauConnection, revision string, sess *tableau.Session, err error) {
	if heldByGate(err) {
		return
	}
	e := audit.Entry{Revision: revision, Result: audit.Result(err), Reason: "CandidateCheck"}
	fillFailure(&e, sess, err)
	audit.Log(ctx, audit.SignIn, conn, e)
}

// auditAdminSession writes the line of a sign-in with a site administrator's PAT; the
// revision is not known there, so the line names the spec field whose Secret holds it.
func auditAdminSession(ctx context.Context, conn *v1.TableauConnection, field string, sess *tableau.Session, err error) {
	if heldByGate(err) {
		return
	}
	e := audit.Entry{Result: audit.Result(err), Reason: field}
	fillFailure(&e, sess, err)
	audit.Log(ctx, audit.AdminSession, conn, e)
}

// auditCreated writes the line of a connected-app secret the operator created (its id only).
func auditCreated(ctx context.Context, conn *v1.TableauConnection, created *tableau.NewConnectedAppSecret, reason string, err error) {
	id, requestID := "", ""
	if created != nil {
		id, requestID = created.ID, created.RequestID
	}
	auditAppSecret(ctx, conn, audit.SecretCreated, id, requestID, reason, err)
}

func auditAppSecret(ctx context.Context, conn *v1.TableauConnection, action audit.Action, secretID, requestID, reason string, err error) {
	if heldByGate(err) {
		return
	}
	e := audit.Entry{SecretID: secretID, RequestID: requestID, Result: audit.Result(err), Reason: reason}
	fillFailure(&e, nil, err)
	audit.Log(ctx, action, conn, e)
}

// heldByGate reports a call the call gate held back: nothing reached Tableau, so there is no
// credential action to record.
func heldByGate(err error) bool {
	_, held := gatedclient.AsHeld(err)
	return held
}

// fillFailure adds the request id of a session, or the bucket and request id of a failure.
func fillFailure(e *audit.Entry, sess *tableau.Session, err error) {
	if sess != nil {
		e.RequestID = sess.RequestID
	}
	if err == nil {
		return
	}
	v, _ := classify.Failure(err, classify.Evidence{})
	e.Bucket = string(v.Bucket)
	if te, ok := tableau.AsError(err); ok {
		e.RequestID = te.RequestID
	}
}
