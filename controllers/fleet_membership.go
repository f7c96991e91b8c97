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
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// selects reports whether a fleet's selector matches a connection's labels. An invalid
// selector selects nothing.
func selects(f *v1.TableauFleet, conn metav1.Object) bool {
	sel, err := metav1.LabelSelectorAsSelector(&f.Spec.Selector)
	return err == nil && sel.Matches(labels.Set(conn.GetLabels()))
}

// fleetsSelecting lists the fleets in the connection's namespace that select it. They are the
// cache's own objects, not copies (it runs on every member's change): read them, never
// change them.
func fleetsSelecting(ctx context.Context, c client.Reader, conn metav1.Object) ([]v1.TableauFleet, error) {
	var fleets v1.TableauFleetList
	if err := c.List(ctx, &fleets, client.InNamespace(conn.GetNamespace()), client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var out []v1.TableauFleet
	for _, f := range fleets.Items {
		if selects(&f, conn) {
			out = append(out, f)
		}
	}
	return out, nil
}

// turn asks the fleet that selects the connection whether it may promote now. A connection
// selected by two fleets rotates under neither until a person fixes the selectors.
func (r *rolloutPhase) turn(ctx context.Context, conn *v1.TableauConnection) (bool, string, error) {
	fleets, err := fleetsSelecting(ctx, r.Client, conn)
	if err != nil {
		return false, "", err
	}
	switch len(fleets) {
	case 0:
		return true, "", nil
	case 1:
		if slices.Contains(fleets[0].Status.Current, conn.Name) {
			return true, "", nil
		}
		return false, fmt.Sprintf("Validated; waiting for its turn in TableauFleet %q.", fleets[0].Name), nil
	}
	names := make([]string, 0, len(fleets))
	for _, f := range fleets {
		names = append(names, f.Name)
	}
	return false, fleetConflictMessage(names), nil
}

func fleetConflictMessage(fleets []string) string {
	return fmt.Sprintf("Selected by %d TableauFleets (%s): it rotates under neither until their selectors select it once.", len(fleets), strings.Join(fleets, ", "))
}

// fleetGrants tells connections about their fleet. A fleet created or deleted, or one whose
// selector changed, may change every member's turn (or which fleets select it); any other
// update only the turn of the members whose grant came or went. Waking every member on every
// fleet status write made each write a reconcile of every member: O(N^2) in a wave.
type fleetGrants struct{ r *TableauConnectionReconciler }

func (h fleetGrants) Create(ctx context.Context, e crevent.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.all(ctx, e.Object, q)
}

func (h fleetGrants) Delete(ctx context.Context, e crevent.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.all(ctx, e.Object, q)
}

func (h fleetGrants) Generic(ctx context.Context, e crevent.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.all(ctx, e.Object, q)
}

func (h fleetGrants) Update(ctx context.Context, e crevent.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	was, is := e.ObjectOld.(*v1.TableauFleet), e.ObjectNew.(*v1.TableauFleet)
	if !equality.Semantic.DeepEqual(was.Spec.Selector, is.Spec.Selector) {
		h.all(ctx, was, q)
		h.all(ctx, is, q)
		return
	}
	for _, name := range was.Status.Current {
		if !slices.Contains(is.Status.Current, name) {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: is.Namespace, Name: name}})
		}
	}
	for _, name := range is.Status.Current {
		if !slices.Contains(was.Status.Current, name) {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: is.Namespace, Name: name}})
		}
	}
}

func (h fleetGrants) all(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	for _, req := range h.r.fleetMembers(ctx, o) {
		q.Add(req)
	}
}
