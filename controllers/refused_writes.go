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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/bound"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
)

// An owner reference with blockOwnerDeletion (every controller reference on the candidate
// and previous copies) needs update on the owner's finalizers where the
// OwnerReferencesPermissionEnforcement admission plugin runs (OpenShift runs it by default).
// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableauconnections/finalizers,verbs=update

// writeError is a write of the rotation to the API server that failed: which write, and the
// API's error.
type writeError struct {
	verb, kind, name string
	err              error
}

func (e *writeError) Error() string {
	return fmt.Sprintf("%s %s %q: %v", e.verb, e.kind, e.name, e.err)
}

func (e *writeError) Unwrap() error { return e.err }

// wroteOrFailed wraps a failed write with what it was; nil stays nil.
func wroteOrFailed(err error, verb, kind, name string) error {
	if err == nil {
		return nil
	}
	return &writeError{verb: verb, kind: kind, name: name, err: err}
}

// noteRefusedWrite records in status a write the API server refused, so the reconcile's
// deferred status patch reports it on WritesAccepted (and Ready, Stalled) at once, counts it,
// tells it once in an event, and retries with backoff. It reports false for any other error,
// which the usual error path retries.
func (r *refusedWrites) noteRefusedWrite(ctx context.Context, s *scope, err error) bool {
	var we *writeError
	if !errors.As(err, &we) {
		return false
	}
	w, ok := classify.KubernetesWrite(we.err, we.verb, we.kind, we.name)
	if !ok {
		return false
	}
	w.Detail = bound.Text(w.Detail, 300)
	conn := s.conn
	now := metav1.NewTime(r.now())
	prev := conn.Status.RefusedWrite
	rw := &v1.RefusedWriteStatus{Reason: w.Reason, Verb: w.Verb, Kind: w.Kind, Name: w.Name, Message: bound.Text(w.Message(), v1.MaxRefusedWriteMessageLength),
		Time: now, Since: now, Consecutive: 1}
	if prev != nil && prev.Reason == rw.Reason && prev.Verb == rw.Verb && prev.Kind == rw.Kind && prev.Name == rw.Name {
		// The same write refused again; another write or reason starts its own count.
		rw.Since, rw.Consecutive = prev.Since, prev.Consecutive+1
	}
	conn.Status.RefusedWrite = rw
	metrics.WriteRefused(w.Reason)
	wasReported := prev != nil && reported(prev)
	if reported(rw) && (!wasReported || prev.Reason != rw.Reason || prev.Name != rw.Name) {
		r.event(conn, true, rw.Reason, rw.Message)
	}
	s.requeueIn(r.Backoff.Delay(int(rw.Consecutive)-1, 0))
	ctrl.LoggerFrom(ctx).Info("a write of the rotation was refused", "reason", rw.Reason, "verb", rw.Verb, "kind", rw.Kind, "name", rw.Name, "consecutive", rw.Consecutive)
	return true
}

// noteSettledWrite records the outcome of the one write a settled rotation makes (the consumer
// Secret's owner and mark). A refusal counts on from the refusals before it, so a repeated one
// backs off, keeps its since, is told in one event and a conflict shows after
// classify.ConflictsBeforeReport; only a write that went through (or none needed) clears it.
func (r *refusedWrites) noteSettledWrite(ctx context.Context, s *scope, err error) error {
	if r.noteRefusedWrite(ctx, s, err) {
		return nil
	}
	if err == nil {
		noteWritesAccepted(s) // nothing is left to write
	}
	return err
}

// noteWritesAccepted clears a recorded refusal once a write of the rotation went through, or
// the rotation needs no write any more. A refused write of the automatic rotation's -issued
// Secret stays: that rotation runs after this one in each reconcile and clears it itself
// (noteAutomaticWritesAccepted), so its refusals count on from one reconcile to the next.
func noteWritesAccepted(s *scope) {
	if rw := s.conn.Status.RefusedWrite; rw != nil && !automaticWrite(s.conn, rw) {
		s.conn.Status.RefusedWrite = nil
	}
}

// noteAutomaticWritesAccepted clears a recorded refusal of the automatic rotation's write once it
// went through, or the automatic rotation is off.
func noteAutomaticWritesAccepted(s *scope) {
	if rw := s.conn.Status.RefusedWrite; rw != nil && automaticWrite(s.conn, rw) {
		s.conn.Status.RefusedWrite = nil
	}
}

// automaticWrite says whether a refused write is the automatic rotation's (its -issued Secret).
func automaticWrite(conn *v1.TableauConnection, rw *v1.RefusedWriteStatus) bool {
	return conn.Spec.Consumers != nil && rw.Kind == "Secret" && rw.Name == issuedName(conn)
}

// reported says whether a refusal shows on the conditions: a conflict only after
// classify.ConflictsBeforeReport in a row (one usually races another writer and succeeds).
func reported(rw *v1.RefusedWriteStatus) bool {
	return rw.Reason != v1.ReasonWriteConflict || rw.Consecutive >= classify.ConflictsBeforeReport
}
