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

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// fleetCoalesce is how long a member's change waits before its fleets are reconciled, so
// that the changes of the members rotating at once (each writes its status about eight times
// a rotation) make one fleet reconcile, which lists every member, instead of one each. At
// 1,000 members the fleet's reconciles and the garbage of their lists were about a third of
// the operator's CPU in a wave (make bench, issue 23). A grant follows a member's completion
// at most this much later; the fleet's own pause between turns is usually a second or more.
// The fleet's own changes (its spec, a person's edit) are reconciled at once.
const fleetCoalesce = 250 * time.Millisecond

// memberChanges enqueues the fleets that select a connection, before and after its change
// (a label edit moves it from one fleet to another), each after fleetCoalesce: the delaying
// queue keeps one request per fleet however many members change meanwhile.
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
	for _, req := range h.r.fleetsOf(ctx, o) {
		q.AddAfter(req, fleetCoalesce)
	}
}
