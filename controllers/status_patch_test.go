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
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// A status patch applied to the server's copy leaves it with the status written, as the
// whole-object merge patch it replaced did, and never touches metadata or spec.
func TestStatusPatchWritesWhatChanged(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC))
	base := func() *v1.TableauConnection {
		return &v1.TableauConnection{
			ObjectMeta: metav1.ObjectMeta{Name: "alpha", Namespace: "team", ResourceVersion: "41", Generation: 3,
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}},
			Spec: v1.TableauConnectionSpec{Server: "https://tableau.example.com", Site: "finance", APIVersion: "3.24"},
			Status: v1.TableauConnectionStatus{
				ObservedGeneration: 2,
				Conditions:         []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "SignedIn", LastTransitionTime: at}},
				Rotation:           &v1.RotationStatus{Phase: "Staged", PhaseSince: at, CandidateRevision: "7", PreviousRevision: "5"},
				LastHandledRequest: "r1",
			},
		}
	}
	cases := []struct {
		name string
		edit func(*v1.TableauConnection)
		want string // the status part of the patch
	}{
		{"nothing", func(*v1.TableauConnection) {}, `{}`},
		{"a field", func(c *v1.TableauConnection) { c.Status.ObservedGeneration = 3 }, `{"observedGeneration":3}`},
		{"a nested field, and one dropped", func(c *v1.TableauConnection) {
			c.Status.Rotation.Phase, c.Status.Rotation.PreviousRevision = "Promoting", ""
		}, `{"rotation":{"phase":"Promoting","previousRevision":null}}`},
		{"a record dropped", func(c *v1.TableauConnection) { c.Status.Rotation = nil }, `{"rotation":null}`},
		{"a list replaced", func(c *v1.TableauConnection) {
			c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: "Stalled", Status: metav1.ConditionFalse, Reason: "SignedIn", LastTransitionTime: at})
		}, `{"conditions":[{"lastTransitionTime":"2026-12-08T01:02:03Z","message":"","reason":"SignedIn","status":"True","type":"Ready"},{"lastTransitionTime":"2026-12-08T01:02:03Z","message":"","reason":"SignedIn","status":"False","type":"Stalled"}]}`},
		{"spec and metadata of the copy moved too", func(c *v1.TableauConnection) {
			c.Spec.Site, c.Labels, c.ManagedFields = "sales", map[string]string{"a": "b"}, nil
			c.Status.LastHandledRequest = "r2"
		}, `{"lastHandledRequest":"r2"}`},
	}
	for _, tc := range cases {
		for _, locked := range []bool{false, true} {
			before, after := base(), base()
			tc.edit(after)
			p := statusPatch{before: &before.Status, locked: locked, resourceVersion: before.ResourceVersion}
			data, err := p.Data(after)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got struct {
				Metadata map[string]any  `json:"metadata"`
				Status   json.RawMessage `json:"status"`
			}
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("%s: %s: %v", tc.name, data, err)
			}
			if !sameJSON(t, got.Status, []byte(tc.want)) {
				t.Errorf("%s: status patch %s, want %s", tc.name, got.Status, tc.want)
			}
			wantMeta := map[string]any(nil)
			if locked {
				wantMeta = map[string]any{"resourceVersion": "41"}
			}
			if !equality.Semantic.DeepEqual(got.Metadata, wantMeta) {
				t.Errorf("%s, locked %v: metadata %v, want %v", tc.name, locked, got.Metadata, wantMeta)
			}

			// On the server's copy the patch leaves exactly the status written.
			result := patchedOnServer(t, before, data)
			if !equality.Semantic.DeepEqual(result.Status, after.Status) {
				t.Errorf("%s: patched status %+v, want %+v", tc.name, result.Status, after.Status)
			}
			if !equality.Semantic.DeepEqual(result.Spec, before.Spec) || !equality.Semantic.DeepEqual(result.Labels, before.Labels) || len(result.ManagedFields) != 1 {
				t.Errorf("%s: the patch reached beyond status: %s", tc.name, data)
			}
		}
	}
}

// A locked write that lost its resourceVersion would be written without a precondition:
// refused instead. So is a patch of anything but a connection.
func TestStatusPatchRefusesWhatItCannotLock(t *testing.T) {
	conn := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "alpha", Namespace: "team"}}
	for _, tc := range []struct {
		name  string
		patch statusPatch
		obj   client.Object
		want  string
	}{
		{"locked without a version", statusPatch{before: &conn.Status, locked: true}, conn, "without a resourceVersion"},
		{"a Secret", statusPatch{before: &conn.Status}, &corev1.Secret{}, "not a TableauConnection"},
	} {
		if _, err := tc.patch.Data(tc.obj); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	if data, err := (statusPatch{before: &conn.Status}).Data(conn); err != nil || string(data) != `{"status":{}}` {
		t.Errorf("unlocked, nothing changed: %s, %v", data, err)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// Whatever fields a write changes, adds or drops, the patch applied to the server's copy of
// before gives after, and it is the one client.MergeFrom computes over the whole objects.
func TestStatusPatchMatchesAWholeObjectMergePatch(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC))
	later := metav1.NewTime(at.Add(time.Minute))
	edits := []func(*v1.TableauConnectionStatus){
		func(s *v1.TableauConnectionStatus) { s.ObservedGeneration++ },
		func(s *v1.TableauConnectionStatus) { s.ObservedGeneration = 0 },
		func(s *v1.TableauConnectionStatus) {
			s.Conditions = append(s.Conditions, metav1.Condition{Type: "Stalled", Status: metav1.ConditionFalse, Reason: "SignedIn", LastTransitionTime: later})
		},
		func(s *v1.TableauConnectionStatus) { s.Conditions = nil },
		func(s *v1.TableauConnectionStatus) { s.Conditions = []metav1.Condition{} },
		func(s *v1.TableauConnectionStatus) { s.Rotation = nil },
		func(s *v1.TableauConnectionStatus) { s.Rotation = &v1.RotationStatus{Phase: "Idle", PhaseSince: later} },
		func(s *v1.TableauConnectionStatus) {
			if s.Rotation != nil {
				s.Rotation.Phase, s.Rotation.ActiveSince, s.Rotation.CandidateRevision = "Promoting", &later, ""
			}
		},
		func(s *v1.TableauConnectionStatus) {
			s.Server = &v1.ServerStatus{ProductVersion: "2025.1", RESTAPIVersion: "3.25"}
		},
		func(s *v1.TableauConnectionStatus) { s.Server = nil },
		func(s *v1.TableauConnectionStatus) { s.LastHandledRequest = "" },
		func(s *v1.TableauConnectionStatus) { s.LastHandledRequest = "r9" },
		func(s *v1.TableauConnectionStatus) {
			s.History = append(s.History, v1.ValidationAttempt{Result: "Failed", Bucket: "auth"})
		},
		func(s *v1.TableauConnectionStatus) { s.History = nil },
		func(s *v1.TableauConnectionStatus) {
			s.LastFailure = &v1.FailureStatus{Bucket: "auth", Reason: "SignInRefused"}
		},
		func(s *v1.TableauConnectionStatus) { s.LastFailure = nil },
		func(s *v1.TableauConnectionStatus) {
			s.Credentials = &v1.CredentialStatus{Revision: "8", RevisionChangedAt: &later, LastAttemptResult: "Succeeded"}
		},
		func(s *v1.TableauConnectionStatus) {
			if s.Credentials != nil {
				s.Credentials.Revision = "9"
			}
		},
		func(s *v1.TableauConnectionStatus) { s.Credentials = nil },
		func(s *v1.TableauConnectionStatus) { s.RefusedWrite = &v1.RefusedWriteStatus{Reason: "Conflict"} },
		func(s *v1.TableauConnectionStatus) { s.RefusedWrite = nil },
		func(s *v1.TableauConnectionStatus) { s.CallGate = &v1.CallGateStatus{Reason: "Throttled"} },
		func(s *v1.TableauConnectionStatus) { s.CallGate = nil },
		// The same instants in another representation: what a decoded copy and one set in
		// memory differ by. Not a change, so nothing of it is sent.
		func(s *v1.TableauConnectionStatus) {
			for i := range s.Conditions {
				s.Conditions[i].LastTransitionTime = metav1.NewTime(s.Conditions[i].LastTransitionTime.Local().Add(time.Nanosecond))
			}
			if s.Rotation != nil {
				s.Rotation.PhaseSince = metav1.NewTime(s.Rotation.PhaseSince.In(time.FixedZone("elsewhere", 3600)))
			}
		},
	}
	start := func() *v1.TableauConnection {
		return &v1.TableauConnection{
			ObjectMeta: metav1.ObjectMeta{Name: "alpha", Namespace: "team", ResourceVersion: "41"},
			Spec:       v1.TableauConnectionSpec{Server: "https://tableau.example.com", Site: "finance"},
			Status: v1.TableauConnectionStatus{
				ObservedGeneration: 2,
				Conditions:         []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "SignedIn", LastTransitionTime: at}},
				Rotation:           &v1.RotationStatus{Phase: "Staged", PhaseSince: at, CandidateRevision: "7"},
				History:            []v1.ValidationAttempt{{Result: "Succeeded"}},
				LastHandledRequest: "r1",
			},
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		before, after := start(), start()
		// before is itself reached by some edits, so every field is seen present and absent.
		for range rng.IntN(3) {
			edits[rng.IntN(len(edits))](&before.Status)
		}
		after.Status = *before.Status.DeepCopy()
		for range 1 + rng.IntN(4) {
			edits[rng.IntN(len(edits))](&after.Status)
		}
		locked := rng.IntN(2) == 0
		data, err := statusPatch{before: &before.Status, locked: locked, resourceVersion: before.ResourceVersion}.Data(after)
		if err != nil {
			t.Fatal(err)
		}
		result := patchedOnServer(t, before, data)
		if !sameJSON(t, mustJSON(t, result.Status), mustJSON(t, after.Status)) { // as the server stores it
			t.Fatalf("round %d: patch %s turned %+v into %+v, want %+v", round, data, before.Status, result.Status, after.Status)
		}
		wholePatch := client.MergeFrom(before)
		if locked {
			wholePatch = client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
		}
		whole, err := wholePatch.Data(after)
		if err != nil {
			t.Fatal(err)
		}
		var w struct {
			Status json.RawMessage `json:"status"`
		}
		if err := json.Unmarshal(whole, &w); err != nil {
			t.Fatal(err)
		}
		var ours struct {
			Status json.RawMessage `json:"status"`
		}
		_ = json.Unmarshal(data, &ours)
		if len(w.Status) == 0 {
			w.Status = []byte("{}")
		}
		if !sameJSON(t, ours.Status, w.Status) {
			t.Fatalf("round %d: status patch %s, client.MergeFrom's %s", round, ours.Status, w.Status)
		}

		// An unlocked write from a stale copy: since before was read, another writer added a
		// condition on the server. What this write did not change stays as the other left it.
		if locked {
			continue
		}
		theirs := before.DeepCopy()
		theirs.Status.Conditions = append(theirs.Status.Conditions, metav1.Condition{Type: "Claimed", Status: metav1.ConditionTrue, Reason: "Held", LastTransitionTime: at})
		onServer := patchedOnServer(t, theirs, data)
		conditionsWritten := !sameJSON(t, mustJSON(t, before.Status.Conditions), mustJSON(t, after.Status.Conditions))
		if !conditionsWritten && meta.FindStatusCondition(onServer.Status.Conditions, "Claimed") == nil {
			t.Fatalf("round %d: patch %s dropped a condition another writer added, though this write changed no condition", round, data)
		}
	}
}

// patchedOnServer is the server's copy of a connection after a merge patch.
func patchedOnServer(t *testing.T, server *v1.TableauConnection, patch []byte) v1.TableauConnection {
	t.Helper()
	patched, err := jsonpatch.MergePatch(mustJSON(t, server), patch)
	if err != nil {
		t.Fatal(err)
	}
	var out v1.TableauConnection
	if err := json.Unmarshal(patched, &out); err != nil {
		t.Fatalf("%s: %v", patched, err)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every field of the status is written by the patch: a field json skips, or one embedded,
// would be left out of it.
func TestEveryStatusFieldIsPatched(t *testing.T) {
	for i, f := range statusFields() {
		name := reflect.TypeFor[v1.TableauConnectionStatus]().Field(i).Name
		if f.name == "" {
			t.Errorf("status field %s is not written by statusDiff", name)
		}
		// statusDiff writes null for an emptied field only under omitempty, and knows no
		// other option (omitzero, string): a field without it, or with more, needs its rules.
		if f.options != "omitempty" {
			t.Errorf("status field %s has json options %q; statusDiff handles exactly \"omitempty\"", name, f.options)
		}
	}
}
