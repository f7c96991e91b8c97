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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

// A recorded refusal sets WritesAccepted, Ready and Stalled in the one place conditions are
// computed; a conflict shows only after three in a row, and as a retry, not a stall.
func TestRefusedWriteConditions(t *testing.T) {
	healthy := func() *v1.TableauConnection {
		signedIn := metav1.NewTime(now)
		return &v1.TableauConnection{
			ObjectMeta: metav1.ObjectMeta{Name: "c", Generation: 3},
			Spec:       v1.TableauConnectionSpec{APIVersion: "3.24", Consumers: &v1.ConsumersSpec{SecretName: "c-tableau"}},
			Status: v1.TableauConnectionStatus{
				Server:      &v1.ServerStatus{RESTAPIVersion: "3.24"},
				Credentials: &v1.CredentialStatus{Revision: "r2", LastSignInTime: &signedIn},
				Rotation:    &v1.RotationStatus{Phase: v1.RotationStaged, ActiveRevision: "r1", CandidateRevision: "r2"},
			},
		}
	}
	refused := func(reason string, n int32) *v1.RefusedWriteStatus {
		return &v1.RefusedWriteStatus{Reason: reason, Verb: "create", Kind: "Secret", Name: "c-tableau-candidate", Message: "refused. Next step: do it.", Consecutive: n}
	}
	cases := []struct {
		name                               string
		rw                                 *v1.RefusedWriteStatus
		hadCondition                       bool
		wantWrites, wantReady, wantStalled metav1.ConditionStatus // "" for no WritesAccepted condition
		wantReason                         string
		wantReconciling                    metav1.ConditionStatus
	}{
		{"never refused: no condition", nil, false, "", metav1.ConditionTrue, metav1.ConditionFalse, v1.ReasonSignedIn, metav1.ConditionFalse},
		{"over quota", refused(v1.ReasonWriteQuotaExceeded, 1), false, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue, v1.ReasonWriteQuotaExceeded, metav1.ConditionFalse},
		{"forbidden", refused(v1.ReasonWriteForbidden, 1), false, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionTrue, v1.ReasonWriteForbidden, metav1.ConditionFalse},
		{"two conflicts are retried silently", refused(v1.ReasonWriteConflict, 2), false, "", metav1.ConditionTrue, metav1.ConditionFalse, v1.ReasonSignedIn, metav1.ConditionFalse},
		{"three conflicts are told as a retry", refused(v1.ReasonWriteConflict, 3), false, metav1.ConditionFalse, metav1.ConditionFalse, metav1.ConditionFalse, v1.ReasonWriteConflict, metav1.ConditionTrue},
		{"accepted again", nil, true, metav1.ConditionTrue, metav1.ConditionTrue, metav1.ConditionFalse, v1.ReasonSignedIn, metav1.ConditionFalse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := healthy()
			c.Status.RefusedWrite = tc.rw
			if tc.hadCondition {
				c.Status.Conditions = []metav1.Condition{{Type: v1.ConditionWritesAccepted, Status: metav1.ConditionFalse, Reason: v1.ReasonWriteForbidden}}
			}
			setConditions(c, now, nil)
			wa := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionWritesAccepted)
			switch {
			case tc.wantWrites == "" && wa != nil:
				t.Errorf("WritesAccepted = %+v, want none", wa)
			case tc.wantWrites != "" && (wa == nil || wa.Status != tc.wantWrites || wa.ObservedGeneration != 3):
				t.Errorf("WritesAccepted = %+v, want %s", wa, tc.wantWrites)
			}
			ready := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionReady)
			if ready.Status != tc.wantReady || ready.Reason != tc.wantReason {
				t.Errorf("Ready = %s/%s (%s), want %s/%s", ready.Status, ready.Reason, ready.Message, tc.wantReady, tc.wantReason)
			}
			if s := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionStalled); s.Status != tc.wantStalled {
				t.Errorf("Stalled = %+v, want %s", s, tc.wantStalled)
			}
			if r := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionReconciling); r.Status != tc.wantReconciling {
				t.Errorf("Reconciling = %+v, want %s", r, tc.wantReconciling)
			}
		})
	}
}

// A write refused again and again while the rotation is settled (the consumer Secret's owner
// reference) counts on: the refusals keep their since, back off, are told in one event, and a
// conflict storm shows on WritesAccepted after classify.ConflictsBeforeReport. Only a write
// that goes through clears the record.
func TestSettledWriteRefusedAgainCountsOn(t *testing.T) {
	clock := now
	rec := events.NewFakeRecorder(10)
	r := (&TableauConnectionReconciler{Events: rec, Now: func() time.Time { return clock }}).built().rollout
	conn := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "t"}}
	s := &scope{conn: conn}
	refuse := func(reason metav1.StatusReason) error {
		var err error
		if reason == metav1.StatusReasonConflict {
			err = apierrors.NewConflict(schema.GroupResource{Resource: "secrets"}, "c-tableau", errors.New("the object has been modified"))
		} else {
			err = apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "c-tableau", errors.New("no"))
		}
		return wroteOrFailed(err, "update", "Secret", "c-tableau")
	}
	for i := 0; i < 3; i++ {
		if err := r.noteSettledWrite(context.Background(), s, refuse(metav1.StatusReasonForbidden)); err != nil {
			t.Fatalf("a refusal is handled, got %v", err)
		}
		clock = clock.Add(time.Minute)
	}
	rw := conn.Status.RefusedWrite
	if rw == nil || rw.Consecutive != 3 || !rw.Since.Time.Equal(now) || !rw.Time.Time.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("after three forbidden updates: refusedWrite = %+v, want 3 in a row since %s", rw, now)
	}
	if n := len(rec.Events); n != 1 {
		t.Errorf("%d events for one refusal repeated, want 1", n)
	}
	if err := r.noteSettledWrite(context.Background(), s, nil); err != nil || conn.Status.RefusedWrite != nil {
		t.Fatalf("the write went through: err %v, refusedWrite = %+v", err, conn.Status.RefusedWrite)
	}
	for i := 0; i < 3; i++ {
		_ = r.noteSettledWrite(context.Background(), s, refuse(metav1.StatusReasonConflict))
	}
	setConditions(conn, clock, nil)
	if wa := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionWritesAccepted); wa == nil || wa.Reason != v1.ReasonWriteConflict {
		t.Errorf("three conflicts in a row: WritesAccepted = %+v", wa)
	}
	if err := r.noteSettledWrite(context.Background(), s, errors.New("connection refused")); err == nil || conn.Status.RefusedWrite == nil {
		t.Errorf("an error that is no refusal is returned and clears nothing: err %v, refusedWrite %+v", err, conn.Status.RefusedWrite)
	}
}

// A refusal of another write, or for another reason, starts its own count: one conflict after
// two forbidden writes is a race retried silently, not a third refusal in a row.
func TestRefusalOfAnotherWriteStartsItsOwnCount(t *testing.T) {
	r := (&TableauConnectionReconciler{Now: func() time.Time { return now }}).built().rollout
	conn := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "t"}}
	s := &scope{conn: conn}
	forbidden := wroteOrFailed(apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "c-tableau-candidate", errors.New("no")), "create", "Secret", "c-tableau-candidate")
	conflict := wroteOrFailed(apierrors.NewConflict(schema.GroupResource{Resource: "secrets"}, "c-tableau", errors.New("modified")), "update", "Secret", "c-tableau")
	r.noteRefusedWrite(context.Background(), s, forbidden)
	r.noteRefusedWrite(context.Background(), s, forbidden)
	r.noteRefusedWrite(context.Background(), s, conflict)
	if rw := conn.Status.RefusedWrite; rw == nil || rw.Reason != v1.ReasonWriteConflict || rw.Consecutive != 1 {
		t.Fatalf("refusedWrite = %+v, want one conflict", rw)
	}
	setConditions(conn, now, nil)
	if wa := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionWritesAccepted); wa != nil && wa.Status == metav1.ConditionFalse {
		t.Errorf("one conflict shows on WritesAccepted: %+v", wa)
	}
}

// A refusal recorded while the connection rotated is no observation once spec.consumers is
// removed: nothing of the rotation is written any more, so Ready and Stalled do not keep
// saying that a write is refused.
func TestRefusalClearsWhenConsumersAreRemoved(t *testing.T) {
	r := (&TableauConnectionReconciler{Now: func() time.Time { return now }}).built().rollout
	signedIn := metav1.NewTime(now)
	conn := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "t", Generation: 2},
		Spec:       v1.TableauConnectionSpec{APIVersion: "3.24"},
		Status: v1.TableauConnectionStatus{
			Server:       &v1.ServerStatus{RESTAPIVersion: "3.24"},
			Credentials:  &v1.CredentialStatus{Revision: "r2", LastSignInTime: &signedIn},
			Rotation:     &v1.RotationStatus{Phase: v1.RotationStaged, ActiveRevision: "r1", CandidateRevision: "r2"},
			RefusedWrite: &v1.RefusedWriteStatus{Reason: v1.ReasonWriteQuotaExceeded, Verb: "create", Kind: "Secret", Name: "c-tableau-candidate", Message: "refused", Consecutive: 4},
		},
	}
	if err := r.reconcileRotation(context.Background(), &scope{conn: conn, now: now}); err != nil {
		t.Fatal(err)
	}
	setConditions(conn, now, nil)
	if rw := conn.Status.RefusedWrite; rw != nil {
		t.Errorf("refusedWrite = %+v after spec.consumers was removed", rw)
	}
	if s := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionStalled); s.Status != metav1.ConditionFalse {
		t.Errorf("Stalled = %+v", s)
	}
}

// A conflict storm is retried, but it does not hide a stall found on its own: a connection
// whose endpoint is misconfigured stays Stalled while a restart annotation keeps conflicting.
func TestConflictStormKeepsAStallOfItsOwn(t *testing.T) {
	signedIn := metav1.NewTime(now)
	conn := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "t", Generation: 2},
		Spec:       v1.TableauConnectionSpec{APIVersion: "3.24", Consumers: &v1.ConsumersSpec{SecretName: "c-tableau"}},
		Status: v1.TableauConnectionStatus{
			Server:      &v1.ServerStatus{RESTAPIVersion: "3.24"},
			Credentials: &v1.CredentialStatus{Revision: "r2", LastSignInTime: &signedIn},
			Rotation:    &v1.RotationStatus{Phase: v1.RotationRestarting, ActiveRevision: "r2", PreviousRevision: "r1"},
			LastFailure: &v1.FailureStatus{Stage: v1.StageServer, Bucket: string(classify.EndpointMisconfigured), Reason: "TLSHandshakeFailed", Message: "x"},
			RefusedWrite: &v1.RefusedWriteStatus{Reason: v1.ReasonWriteConflict, Verb: "patch", Kind: "Deployment", Name: "app",
				Message: "conflict", Consecutive: classify.ConflictsBeforeReport},
		},
	}
	setConditions(conn, now, nil)
	if wa := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionWritesAccepted); wa == nil || wa.Reason != v1.ReasonWriteConflict {
		t.Errorf("WritesAccepted = %+v", wa)
	}
	if s := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionStalled); s.Status != metav1.ConditionTrue || s.Reason != "TLSHandshakeFailed" {
		t.Errorf("Stalled = %+v, want the endpoint's stall", s)
	}
}

// A suspended connection writes nothing, so WritesAccepted does not keep saying False (and
// TableauKubernetesWriteRefused firing) from a refusal recorded before the suspension.
func TestSuspendedConnectionReportsNoRefusedWrite(t *testing.T) {
	conn := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "t", Generation: 3},
		Spec:       v1.TableauConnectionSpec{APIVersion: "3.24", Suspend: true, Consumers: &v1.ConsumersSpec{SecretName: "c-tableau"}},
		Status: v1.TableauConnectionStatus{
			Rotation:     &v1.RotationStatus{Phase: v1.RotationStaged, ActiveRevision: "r1", CandidateRevision: "r2"},
			RefusedWrite: &v1.RefusedWriteStatus{Reason: v1.ReasonWriteQuotaExceeded, Verb: "create", Kind: "Secret", Name: "c-tableau-candidate", Message: "refused", Consecutive: 2},
			Conditions:   []metav1.Condition{{Type: v1.ConditionWritesAccepted, Status: metav1.ConditionFalse, Reason: v1.ReasonWriteQuotaExceeded, ObservedGeneration: 2}},
		},
	}
	setConditions(conn, now, nil)
	wa := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionWritesAccepted)
	if wa.Status == metav1.ConditionFalse || wa.ObservedGeneration != 3 {
		t.Errorf("WritesAccepted = %+v while suspended", wa)
	}
	if r := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionReady); r.Reason != v1.ReasonSuspended {
		t.Errorf("Ready = %+v", r)
	}
}
