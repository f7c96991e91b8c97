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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

func seenScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func seenConn() *v1.TableauConnection {
	return &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "uid-c"},
		Spec: v1.TableauConnectionSpec{Server: "https://t.example.com", Site: "s", APIVersion: "3.24",
			Consumers: &v1.ConsumersSpec{SecretName: "c-tableau"}}}
}

// TestStaleCreateObservesThatSecretAfresh: a create decided on an observation that found the
// name free is refused when the name was taken meanwhile; the first refusal has that one
// Secret read fresh and the rotation plan again, a second is the refused write it is.
func TestStaleCreateObservesThatSecretAfresh(t *testing.T) {
	conn := seenConn()
	taken := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c-tableau-candidate", Namespace: "ns"}}
	c := fake.NewClientBuilder().WithScheme(seenScheme(t)).WithObjects(taken).Build()
	r := (&TableauConnectionReconciler{Client: c, APIReader: c}).built().rollout
	rsc := &rotationScope{seen: newSecretsSeen()}
	rsc.seen.meta["c-tableau-candidate"] = nil // the cache did not show it (someone else's, unlabelled)
	b := rotation.Bundle{Revision: "r2", Endpoint: endpointDigest(conn)}
	err := r.putSeen(context.Background(), conn, rsc, "c-tableau-candidate", map[string][]byte{"tokenName": []byte("t")}, b)
	if !worldMoved(rsc, &err) {
		t.Fatalf("first refused create: worldMoved = false (err %v)", err)
	}
	got, _, err := r.observeSecret(context.Background(), conn, rsc, "c-tableau-candidate", false)
	if err != nil || !got.Exists || got.Ours {
		t.Fatalf("observed afresh: %+v, %v; want someone else's Secret", got, err)
	}
	err = r.putSeen(context.Background(), conn, rsc, "c-tableau-candidate", map[string][]byte{"tokenName": []byte("t")}, b)
	if !errors.Is(err, errNameTaken) {
		t.Fatalf("a write over someone else's Secret: %v, want errNameTaken", err)
	}
	rsc.seen.meta["c-tableau-candidate"] = nil
	err = r.putSeen(context.Background(), conn, rsc, "c-tableau-candidate", nil, b)
	if worldMoved(rsc, &err) {
		t.Fatal("second refused create of one Secret in a reconcile: worldMoved = true, want the refusal recorded")
	}
	var we *writeError
	if !errors.As(err, &we) || we.verb != "create" {
		t.Fatalf("second refusal: %v, want the create's writeError", err)
	}
}

// TestOwnWriteOverlaysTheCache: after a write the rotation observes the server's answer, not
// the cache; a delete preconditioned on a stale resourceVersion is refused as stale.
func TestOwnWriteOverlaysTheCache(t *testing.T) {
	conn := seenConn()
	c := fake.NewClientBuilder().WithScheme(seenScheme(t)).Build()
	r := (&TableauConnectionReconciler{Client: c, APIReader: c}).built().rollout
	rsc := &rotationScope{seen: newSecretsSeen()}
	rsc.seen.meta["c-tableau-previous"] = nil
	b := rotation.Bundle{Revision: "r1", Endpoint: endpointDigest(conn)}
	if err := r.putSeen(context.Background(), conn, rsc, "c-tableau-previous", map[string][]byte{"tokenName": []byte("t")}, b); err != nil {
		t.Fatal(err)
	}
	got, meta, err := r.observeSecret(context.Background(), conn, rsc, "c-tableau-previous", false)
	if err != nil || !got.Exists || !got.Ours || got.Holds != b {
		t.Fatalf("observed after the write: %+v, %v", got, err)
	}
	// Someone changes it: the delete carries the resourceVersion the rotation saw.
	var sec corev1.Secret
	if err := c.Get(context.Background(), clientKey(meta), &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"tokenName": []byte("edited")}
	if err := c.Update(context.Background(), &sec); err != nil {
		t.Fatal(err)
	}
	err = r.deleteSeen(context.Background(), conn, rsc, "c-tableau-previous")
	var stale *staleWriteError
	if !errors.As(err, &stale) {
		t.Fatalf("delete with a stale resourceVersion: %v, want a stale write", err)
	}
	if err := c.Get(context.Background(), clientKey(meta), &sec); err != nil {
		t.Fatalf("the changed Secret was deleted: %v", err)
	}
}

// TestOwnWritesTellACacheBehind: a cached connection without the phase this process just
// persisted is behind, for ownWriteWindow at most; once it shows the phase, it is not.
func TestOwnWritesTellACacheBehind(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	written := seenConn()
	written.Status.Rotation = &v1.RotationStatus{Phase: "Gating", PhaseSince: metav1.NewTime(now)}
	cached := written.DeepCopy()
	cached.Status.Rotation.Phase, cached.Status.Rotation.PhaseSince = "Restarting", metav1.NewTime(now.Add(-time.Second))
	var w memory
	if w.behindOwnPhase(cached, now) {
		t.Fatal("behind with nothing written")
	}
	w.wroteOwnPhase(written, now)
	if !w.behindOwnPhase(cached, now.Add(100*time.Millisecond)) {
		t.Error("a copy without the written phase is not behind")
	}
	if w.behindOwnPhase(written, now.Add(200*time.Millisecond)) {
		t.Error("a copy with the written phase is behind")
	}
	if w.behindOwnPhase(cached, now.Add(300*time.Millisecond)) {
		t.Error("behind after the cache caught up once")
	}
	w.wroteOwnPhase(written, now)
	if w.behindOwnPhase(cached, now.Add(ownWriteWindow+time.Millisecond)) {
		t.Error("behind after the window")
	}
	// The automatic rotation's step counts too: same rotation phase, older automatic phase.
	written.Status.Rotation.Automatic = &v1.AutomaticRotationStatus{Phase: "Idle"}
	olderAutomatic := written.DeepCopy()
	olderAutomatic.Status.Rotation.Automatic.Phase = "Retiring"
	w.wroteOwnPhase(written, now)
	if !w.behindOwnPhase(olderAutomatic, now.Add(100*time.Millisecond)) {
		t.Error("a copy without the written automatic phase is not behind")
	}
	if w.behindOwnPhase(written, now.Add(200*time.Millisecond)) {
		t.Error("a copy with the written automatic phase is behind")
	}
	w.wroteOwnPhase(written, now)
	w.Forget(nameOf(written))
	if w.behindOwnPhase(cached, now.Add(100*time.Millisecond)) {
		t.Error("behind after the connection was forgotten")
	}
}

// TestEventsOnlyForOutcomesAPersonReads: the steps between the outcomes have their status
// reason and audit line but no Event.
func TestEventsOnlyForOutcomesAPersonReads(t *testing.T) {
	conn := seenConn()
	active := rotation.Records{Active: rotation.Bundle{Revision: "r1", Endpoint: "e"}, Candidate: rotation.Bundle{Revision: "r2", Endpoint: "e"}}
	for _, tc := range []struct {
		reason rotation.Reason
		event  bool
		audit  bool
	}{
		{rotation.ReasonStaged, true, true},
		{rotation.ReasonPromotionStarted, false, false},
		{rotation.ReasonPromoted, true, true},
		{rotation.ReasonRestarted, false, true},
		{rotation.ReasonHealthCheckPassed, false, true},
		{rotation.ReasonCompleted, true, true},
		{rotation.ReasonHealthCheckTimedOut, true, true},
		{rotation.ReasonRolledBack, true, true},
		{rotation.ReasonCandidateRejected, true, true},
	} {
		rec := recordOfStep(conn, active, rotation.Step{Reason: tc.reason, Records: active})
		if rec.event != tc.event || (rec.action != "") != tc.audit {
			t.Errorf("%s: event %v, audit line %q; want event %v, audit line %v", tc.reason, rec.event, rec.action, tc.event, tc.audit)
		}
	}
}

func clientKey(m *metav1.PartialObjectMetadata) client.ObjectKey {
	return client.ObjectKey{Namespace: m.Namespace, Name: m.Name}
}
