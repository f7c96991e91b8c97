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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// recordingQueue records what a handler enqueues, and when.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	now   []reconcile.Request
	after map[reconcile.Request]time.Duration
}

func (q *recordingQueue) Add(r reconcile.Request) { q.now = append(q.now, r) }
func (q *recordingQueue) AddAfter(r reconcile.Request, d time.Duration) {
	if q.after == nil {
		q.after = map[reconcile.Request]time.Duration{}
	}
	q.after[r] = d
}

// TestMemberChangesReachTheirFleetsCoalesced: a member's change enqueues every fleet that
// selects it before or after the change, each once and after fleetCoalesce, never at once;
// a connection no fleet selects enqueues nothing.
func TestMemberChangesReachTheirFleetsCoalesced(t *testing.T) {
	fleetOf := func(name string) *v1.TableauFleet {
		return &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
			Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": name}}}}
	}
	c := fake.NewClientBuilder().WithScheme(seenScheme(t)).WithObjects(fleetOf("wave"), fleetOf("other")).Build()
	h := memberChanges{&TableauFleetReconciler{Client: c}}
	member := func(fleet string) *v1.TableauConnection {
		return &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", Labels: map[string]string{"fleet": fleet}}}
	}
	req := func(name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}
	}
	ctx := context.Background()

	q := &recordingQueue{}
	h.Update(ctx, crevent.UpdateEvent{ObjectOld: member("wave"), ObjectNew: member("other")}, q)
	if len(q.now) != 0 || len(q.after) != 2 || q.after[req("wave")] != fleetCoalesce || q.after[req("other")] != fleetCoalesce {
		t.Errorf("a member moving from wave to other: at once %v, after %v; want both fleets after %s only", q.now, q.after, fleetCoalesce)
	}

	q = &recordingQueue{}
	for range 5 { // a status write of the member, five times over
		h.Update(ctx, crevent.UpdateEvent{ObjectOld: member("wave"), ObjectNew: member("wave")}, q)
	}
	h.Create(ctx, crevent.CreateEvent{Object: member("wave")}, q)
	h.Delete(ctx, crevent.DeleteEvent{Object: member("wave")}, q)
	if len(q.now) != 0 || len(q.after) != 1 || q.after[req("wave")] != fleetCoalesce {
		t.Errorf("changes of a member of wave: at once %v, after %v; want wave after %s only", q.now, q.after, fleetCoalesce)
	}

	q = &recordingQueue{}
	h.Generic(ctx, crevent.GenericEvent{Object: member("none")}, q)
	if len(q.now) != 0 || len(q.after) != 0 {
		t.Errorf("a connection no fleet selects: at once %v, after %v; want nothing", q.now, q.after)
	}
}

// TestFleetCoalescingFollowsItsPause: a fleet hears of its members after its pause between
// turns (the next grant waits for it anyway), within [fleetCoalesce, fleetCoalesceMost].
func TestFleetCoalescingFollowsItsPause(t *testing.T) {
	for _, tc := range []struct {
		pause *metav1.Duration
		want  time.Duration
	}{
		{nil, fleetCoalesce},
		{&metav1.Duration{}, fleetCoalesce},
		{&metav1.Duration{Duration: 100 * time.Millisecond}, fleetCoalesce},
		{&metav1.Duration{Duration: 600 * time.Millisecond}, 600 * time.Millisecond},
		{&metav1.Duration{Duration: time.Minute}, fleetCoalesceMost},
	} {
		f := &v1.TableauFleet{Spec: v1.TableauFleetSpec{Rollout: v1.FleetRollout{PauseBetween: tc.pause}}}
		if got := coalesceFor(f); got != tc.want {
			t.Errorf("pause %v: coalesce %s, want %s", tc.pause, got, tc.want)
		}
	}
}
