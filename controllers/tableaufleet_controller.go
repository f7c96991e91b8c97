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
	"cmp"
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/fleet"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
)

// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableaufleets,verbs=get;list;watch
// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableaufleets/status,verbs=get;update;patch

// VendorIncidentWindow is how close together failures of one reason on one server must be to
// suggest a vendor-side incident rather than per-tenant problems.
const VendorIncidentWindow = 10 * time.Minute

// TableauFleetReconciler paces rotations across the TableauConnections a fleet selects.
type TableauFleetReconciler struct {
	client.Client
	Events events.EventRecorder
	Now    func() time.Time
	// InstallID is this install's identity in claims (see TableauConnectionReconciler).
	InstallID string
	// overwritten holds, per fleet, the resourceVersion of the copy this process's last
	// status write replaced. A reconcile that starts from that copy (the cache has not seen
	// the write yet; a member's change woke the fleet first) would decide on it and have its
	// locked write refused: about one fleet status write in six at 100 tenants was a 409.
	// It waits instead for the write's own watch event, which wakes the fleet again.
	overwritten sync.Map
	// memberIndex is the connection informer's index the members are read from (see
	// useMemberIndex); nil: they are listed through the client.
	memberIndex toolscache.Indexer
}

// Reconcile observes the fleet's members, decides the wave (decideFleet, pure) and hands the
// result to finishFleet, the one place it becomes the status patch, events and a result.
func (r *TableauFleetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tf := &v1.TableauFleet{}
	if err := r.Get(ctx, req.NamespacedName, tf); err != nil {
		if apierrors.IsNotFound(err) {
			r.overwritten.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if rv, ok := r.overwritten.Load(req.NamespacedName); ok && rv == tf.ResourceVersion {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	before := tf.DeepCopy()
	v, err := r.observeFleet(ctx, tf, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	if holder := fleetClaimedElsewhere(v.members, cmp.Or(r.InstallID, DefaultInstallID), now); holder != "" {
		// Another install acts on the members, so it paces them: deciding here too would
		// write the fleet's status from a second view.
		metrics.StoodAside.WithLabelValues("TableauFleet").Inc()
		return ctrl.Result{RequeueAfter: DefaultClaimDuration / 2}, nil
	}
	requeue, d := decideWave(tf, v, now)
	return r.finishFleet(ctx, before, tf, d, requeue)
}

// observeFleet lists the members the selector picks and those also selected by another fleet.
// The fleets are listed and their selectors parsed once per reconcile (conflictedMembers), not
// once per member: per member it was O(N) per fleet reconcile and O(N²) in a wave. The members
// are the cache's own objects (membersOf): the view only reads them.
func (r *TableauFleetReconciler) observeFleet(ctx context.Context, tf *v1.TableauFleet, now time.Time) (fleetView, error) {
	sel, err := metav1.LabelSelectorAsSelector(&tf.Spec.Selector)
	if err != nil {
		return fleetView{}, err
	}
	members, err := r.membersOf(ctx, tf.Namespace, sel)
	if err != nil {
		return fleetView{}, err
	}
	var fleets v1.TableauFleetList
	// Only their selectors are read (conflictedMembers): the cache's objects, not copies.
	if err := r.List(ctx, &fleets, client.InNamespace(tf.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return fleetView{}, err
	}
	return viewOf(members, conflictedMembers(members, fleets.Items), now), nil
}

// finishFleet writes the fleet's status when it changed, with optimistic locking: a reconcile
// from a stale cached copy gets a conflict, emits nothing and comes back in a second, so each
// transition is told once. Then it emits the transitions and asks to come back after requeue.
func (r *TableauFleetReconciler) finishFleet(ctx context.Context, before, tf *v1.TableauFleet, d fleet.Decision, requeue time.Duration) (ctrl.Result, error) {
	if fleetWriteNeeded(&before.Status, &tf.Status, d) {
		err := r.Status().Patch(ctx, tf, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		if apierrors.IsConflict(err) {
			return computeResult(waitFor(time.Second), time.Second)
		}
		if err != nil {
			return computeResult(failed(err), 0)
		}
		r.overwritten.Store(client.ObjectKeyFromObject(tf), before.ResourceVersion)
	}
	r.emitFleet(before, tf)
	return computeResult(proceeded(), requeue)
}

// fleetWriteNeeded reports whether the fleet's status must be written: it moved
// (fleetStatusMoved) in more than the grants of members that started to rotate since, which
// ride with the next write (fleet.OnlyStartedLeft says when that is safe).
func fleetWriteNeeded(before, after *v1.TableauFleetStatus, d fleet.Decision) bool {
	if fleet.OnlyStartedLeft(before.Current, d) {
		a := *after
		a.Current = before.Current
		return fleetStatusMoved(before, &a)
	}
	return fleetStatusMoved(before, after)
}

// fleetStatusMoved reports whether a fleet's status changed in what a member or a person acts
// on: the grants, the halt, the members named, the conditions' states and reasons. While a
// wave runs, counts and condition messages alone follow every member's phase change; written
// each time they cost about three fleet status writes per rotated tenant, so they are brought
// up to date with the next write that matters, and at the latest when the wave settles. So is
// the last completion time: every member's completion moves it, and the pause it starts is
// computed from the members' own completion times (fleetView), which the fleet reads on every
// reconcile; written on its own it cost one more write per rotated tenant. With no wave
// running every change is written: a settled fleet's counts are not left stale.
func fleetStatusMoved(before, after *v1.TableauFleetStatus) bool {
	if after.Rotating == 0 && after.Pending == 0 {
		return !equality.Semantic.DeepEqual(before, after)
	}
	b, a := before.DeepCopy(), after.DeepCopy()
	for _, st := range []*v1.TableauFleetStatus{b, a} {
		st.Ready, st.Rotating, st.Pending = 0, 0, 0
		st.LastCompletionTime = nil
		for i := range st.Conditions {
			st.Conditions[i].Message, st.Conditions[i].LastTransitionTime = "", metav1.Time{}
		}
	}
	return !equality.Semantic.DeepEqual(b, a)
}

// emitFleet tells what a person reads of the wave as a whole: it halted, it goes on, a vendor
// incident is suspected. A grant has no Event of its own (it was one per rotated tenant, most
// of the Events above the member's own three): it is in status.current while it stands, and
// the member's CredentialPromoted Event tells the promotion it allowed.
func (r *TableauFleetReconciler) emitFleet(before, after *v1.TableauFleet) {
	if r.Events == nil {
		return
	}
	was, is := before.Status.Halted, after.Status.Halted
	switch {
	case is && !was:
		r.Events.Eventf(after, nil, corev1.EventTypeWarning, v1.ReasonFleetHalted, "Rollout", "%s", meta.FindStatusCondition(after.Status.Conditions, v1.ConditionHalted).Message)
	case was && !is:
		r.Events.Eventf(after, nil, corev1.EventTypeNormal, v1.ReasonFleetResumed, "Rollout", "The wave goes on.")
	}
	if meta.IsStatusConditionTrue(after.Status.Conditions, v1.ConditionSuspectedVendorIncident) &&
		!meta.IsStatusConditionTrue(before.Status.Conditions, v1.ConditionSuspectedVendorIncident) {
		r.Events.Eventf(after, nil, corev1.EventTypeWarning, v1.ConditionSuspectedVendorIncident, "Rollout", "%s",
			meta.FindStatusCondition(after.Status.Conditions, v1.ConditionSuspectedVendorIncident).Message)
	}
}

// SetupWithManager watches fleets and the connections they select (coalesced: memberChanges).
func (r *TableauFleetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := r.useMemberIndex(context.Background(), mgr); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.TableauFleet{}).
		Watches(&v1.TableauConnection{}, memberChanges{r}).
		Complete(r)
}
