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
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// fleetCoalesce is how long, at least, a member's change waits before its fleets are
// reconciled, so that the changes of the members rotating at once (each writes its status
// about eight times a rotation) make one fleet reconcile, which reads every member, instead
// of one each. At 1,000 members the fleet's reconciles were about a quarter of the operator's
// CPU in a wave (make bench, issue 23). A fleet with a pause between turns waits up to that
// pause (at most fleetCoalesceMost): the grant after a completion waits for the pause anyway,
// counted from the member's completion time, so noticing the completion later delays no turn.
// The fleet's own changes (its spec, a person's edit) are reconciled at once.
const (
	fleetCoalesce     = 250 * time.Millisecond
	fleetCoalesceMost = time.Second
)

// coalesceFor is how long a member's change waits before fleet f looks at it.
func coalesceFor(f *v1.TableauFleet) time.Duration {
	if p := f.Spec.Rollout.PauseBetween; p != nil {
		return min(max(p.Duration, fleetCoalesce), fleetCoalesceMost)
	}
	return fleetCoalesce
}

// memberChanges enqueues the fleets that select a connection, before and after its change
// (a label edit moves it from one fleet to another), each after coalesceFor: the delaying
// queue keeps one request per fleet, at the earliest time asked, however many members change
// meanwhile.
type memberChanges struct{ r *TableauFleetReconciler }

func (h memberChanges) Create(ctx context.Context, e crevent.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.Object, q)
}

func (h memberChanges) Update(ctx context.Context, e crevent.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.ObjectOld, q)
	h.add(ctx, e.ObjectNew, q)
}

func (h memberChanges) Delete(ctx context.Context, e crevent.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.Object, q)
}

func (h memberChanges) Generic(ctx context.Context, e crevent.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.Object, q)
}

func (h memberChanges) add(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	fleets, err := fleetsSelecting(ctx, h.r.Client, o)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the fleets that select a connection", "connection", o.GetName())
		return
	}
	for i := range fleets {
		f := &fleets[i]
		q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: f.Namespace, Name: f.Name}}, coalesceFor(f))
	}
}
