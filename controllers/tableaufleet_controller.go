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
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/fleet"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
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
}

// fleetView is what the fleet observed of its members, in rollout order.
type fleetView struct {
	members                        []v1.TableauConnection
	admission                      fleet.Observation
	ready                          []string
	conflicted                     []string // also selected by another fleet: rotates under neither
	failedDetail                   map[string]string
	lastCompletion                 *metav1.Time
	incidentMembers                []string
	incidentReason, incidentServer string
}

// memberFailed reports whether a member's rotation failed: phase Failed is the one record of
// a rejected candidate. It clears by itself once the member is healthy again (a new revision
// validated, or the source back on the active one).
func memberFailed(c *v1.TableauConnection) (bool, string) {
	rs := c.Status.Rotation
	if rs == nil || rs.Phase != v1.RotationFailed {
		return false, ""
	}
	detail := rs.Reason
	if f := c.Status.LastFailure; f != nil && f.Stage == v1.StageSignIn && f.Revision == rs.FailedRevision && rs.Reason == v1.ReasonCandidateRejected {
		detail = f.Bucket + "/" + f.Reason
	}
	return true, detail
}

// memberOf is what the wave needs of a member: its rotation's state, as its status says, and
// whether it stands apart (suspended, being deleted, or selected by another fleet too). A
// member whose source holds a revision it has not validated yet is Validating from the moment
// the connection persisted that revision, before its sign-in (see persistValidating), so a
// slow sign-in does not let a later member overtake it.
func memberOf(c *v1.TableauConnection, conflicted bool, now time.Time) fleet.Member {
	m := fleet.Member{Name: c.Name, State: fleet.Settled, Suspended: c.Spec.Suspend, Deleting: !c.DeletionTimestamp.IsZero(), Conflicted: conflicted}
	rs, cr := c.Status.Rotation, c.Status.Credentials
	switch {
	case rs == nil:
	case rs.Phase == v1.RotationFailed:
		m.State = fleet.Failed
	case rotation.Phase(rs.Phase).Rotating():
		m.State = fleet.Rotating
	case rs.Phase == v1.RotationStaged:
		m.State = fleet.Staged
	case rs.Phase != v1.RotationIdle || rs.ActiveRevision == "" || cr == nil || cr.Revision == "" || cr.Revision == rs.ActiveRevision:
	case c.Status.LastFailure != nil && c.Status.LastFailure.Revision == cr.Revision && !transientFailure(c.Status.LastFailure):
		// Validation failed for good (not a rejected candidate: a Secret or server problem):
		// nothing will stage until a person acts.
	default:
		m.State = fleet.Validating
		if cr.RevisionChangedAt != nil {
			m.ValidatingFor = now.Sub(cr.RevisionChangedAt.Time)
		}
	}
	return m
}

func viewOf(members []v1.TableauConnection, conflicted []string, now time.Time) fleetView {
	sort.Slice(members, func(i, j int) bool { return members[i].Name < members[j].Name })
	v := fleetView{members: members, failedDetail: map[string]string{}, conflicted: conflicted}
	type key struct{ server, reason string }
	groups := map[key][]string{}
	for i := range members {
		c := &members[i]
		if meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady) {
			v.ready = append(v.ready, c.Name)
		}
		v.admission.Members = append(v.admission.Members, memberOf(c, slices.Contains(conflicted, c.Name), now))
		if rs := c.Status.Rotation; rs != nil && rs.LastCompletionTime != nil && (v.lastCompletion == nil || v.lastCompletion.Before(rs.LastCompletionTime)) {
			v.lastCompletion = rs.LastCompletionTime
		}
		if failed, detail := memberFailed(c); failed {
			v.failedDetail[c.Name] = detail
		}
		if f := c.Status.LastFailure; f != nil && now.Sub(f.Time.Time) <= VendorIncidentWindow {
			k := key{c.Spec.Server, f.Reason}
			groups[k] = append(groups[k], c.Name)
		}
	}
	for k, names := range groups {
		if len(names) >= 2 && len(names) > len(v.incidentMembers) {
			v.incidentMembers, v.incidentReason, v.incidentServer = names, k.reason, k.server
		}
	}
	sort.Strings(v.incidentMembers)
	return v
}

// Reconcile computes the fleet's status and which members may promote now.
func (r *TableauFleetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	fleet := &v1.TableauFleet{}
	if err := r.Get(ctx, req.NamespacedName, fleet); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	before := fleet.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(&fleet.Spec.Selector)
	if err != nil {
		return ctrl.Result{}, err
	}
	var list v1.TableauConnectionList
	if err := r.List(ctx, &list, client.InNamespace(fleet.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return ctrl.Result{}, err
	}
	var conflicted []string
	for i := range list.Items {
		fleets, err := fleetsSelecting(ctx, r.Client, &list.Items[i])
		if err != nil {
			return ctrl.Result{}, err
		}
		if len(fleets) > 1 {
			conflicted = append(conflicted, list.Items[i].Name)
		}
	}
	v := viewOf(list.Items, conflicted, now)
	requeue := decideFleet(fleet, v, now)
	if !equality.Semantic.DeepEqual(before.Status, fleet.Status) {
		// Optimistic locking: a reconcile from a stale cached copy gets a conflict and
		// emits nothing, so each transition is told once.
		err := r.Status().Patch(ctx, fleet, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		if err != nil {
			return ctrl.Result{}, err
		}
	}
	var rotatingMembers []string
	for _, c := range v.members {
		if rs := c.Status.Rotation; rs != nil && rs.ActiveRevision != "" {
			rotatingMembers = append(rotatingMembers, c.Name)
		}
	}
	r.emitFleet(before, fleet, rotatingMembers)
	return ctrl.Result{RequeueAfter: requeue}, nil
}

// decideFleet sets the fleet's status from its members: counts, the failed and acknowledged
// members, whether the wave is halted, who may promote now (fleet.Admit), and the conditions.
func decideFleet(tf *v1.TableauFleet, v fleetView, now time.Time) time.Duration {
	st := &tf.Status
	gen := tf.Generation
	set := conditionSetter(&st.Conditions, gen)
	st.ObservedGeneration = gen

	var failed []string
	for _, m := range v.admission.Members {
		if m.State == fleet.Failed {
			failed = append(failed, m.Name)
		}
	}
	if resume := tf.Annotations[v1.AnnotationResume]; resume != "" && resume != st.LastHandledResume {
		st.LastHandledResume = resume
		st.Acknowledged = append([]string(nil), failed...)
	}
	var ack []string
	for _, name := range st.Acknowledged {
		if slices.Contains(failed, name) {
			ack = append(ack, name)
		}
	}
	st.Acknowledged = ack
	if st.LastCompletionTime == nil || (v.lastCompletion != nil && st.LastCompletionTime.Before(v.lastCompletion)) {
		st.LastCompletionTime = v.lastCompletion
	}
	pauseLeft := time.Duration(0)
	if p := tf.Spec.Rollout.PauseBetween; p != nil && st.LastCompletionTime != nil {
		pauseLeft = st.LastCompletionTime.Add(p.Duration).Sub(now)
	}

	o := v.admission
	o.MaxConcurrent = int(tf.Spec.Rollout.MaxConcurrent)
	o.HaltOnFailure = tf.Spec.Rollout.HaltOnFailure == nil || *tf.Spec.Rollout.HaltOnFailure
	o.Acknowledged = ack
	o.Paused = pauseLeft > 0
	o.Granted = st.Current
	d := fleet.Admit(o)

	st.Members, st.Ready, st.Rotating, st.Pending = int32(len(v.members)), int32(len(v.ready)), int32(len(d.Rotating)), int32(len(d.Queued))
	st.Failed = d.Failed
	st.Halted = d.Halted
	st.Current = d.Current
	st.Suspended = d.Suspended
	blocking := d.Blocking
	var requeue time.Duration
	if len(d.Rotating) > 0 || len(d.Queued) > 0 {
		requeue = 10 * time.Second
		if o.Paused {
			requeue = pauseLeft
		}
	}

	if st.Halted {
		var parts []string
		for _, name := range blocking {
			parts = append(parts, name+" ("+v.failedDetail[name]+")")
		}
		set(v1.ConditionHalted, metav1.ConditionTrue, v1.ReasonFleetHalted,
			fmt.Sprintf("Halted at %s: members after it keep their active credentials. Fix it, or annotate %s=<any new value> to resume past it.", strings.Join(parts, ", "), v1.AnnotationResume))
	} else if len(ack) > 0 {
		set(v1.ConditionHalted, metav1.ConditionFalse, v1.ReasonFleetResumed, "Resumed past "+strings.Join(ack, ", ")+".")
	} else {
		set(v1.ConditionHalted, metav1.ConditionFalse, v1.ReasonFleetNotHalted, "")
	}
	if len(v.incidentMembers) >= 2 {
		set(v1.ConditionSuspectedVendorIncident, metav1.ConditionTrue, v1.ReasonVendorIncident,
			fmt.Sprintf("%d members on %s failed with %s within %s: %s. A batch failing together is rarely a per-tenant problem; check Tableau's status before changing credentials.",
				len(v.incidentMembers), v.incidentServer, v.incidentReason, VendorIncidentWindow, strings.Join(v.incidentMembers, ", ")))
	} else {
		set(v1.ConditionSuspectedVendorIncident, metav1.ConditionFalse, v1.ReasonNoVendorIncident, "")
	}
	switch {
	case st.Halted:
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFleetHalted, meta.FindStatusCondition(st.Conditions, v1.ConditionHalted).Message)
		set(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonFleetHalted, "The wave waits for a person.")
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonFleetHalted, "")
	case len(v.conflicted) > 0:
		msg := fmt.Sprintf("%s also selected by another TableauFleet: each connection must be selected by one fleet; it rotates under neither until the selectors are fixed.", strings.Join(v.conflicted, ", "))
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFleetConflict, msg)
		set(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonFleetConflict, msg)
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonFleetConflict, "")
	case len(d.Rotating) > 0 || len(d.Queued) > 0:
		msg := fmt.Sprintf("Rotating %s; %d pending.", strings.Join(append(slices.Clone(d.Rotating), d.Current...), ", "), len(d.Queued))
		if len(d.Validating) > 0 {
			msg += fmt.Sprintf(" %s still validating and holding its place (at most %s).", strings.Join(d.Validating, ", "), fleet.ValidationHold)
		}
		if len(d.Suspended) > 0 {
			msg += fmt.Sprintf(" Suspended, holding no slot: %s.", strings.Join(d.Suspended, ", "))
		}
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFleetRolling, msg)
		set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonNotStalled, "")
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonFleetRolling, "A wave is rolling.")
	default:
		msg := fmt.Sprintf("%d members, %d ready, no rotation pending.", st.Members, st.Ready)
		if len(d.Suspended) > 0 {
			msg += fmt.Sprintf(" Suspended: %s.", strings.Join(d.Suspended, ", "))
		}
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonFleetSettled, msg)
		set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonNotStalled, "")
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonFleetSettled, "")
	}
	return requeue
}

func (r *TableauFleetReconciler) emitFleet(before, after *v1.TableauFleet, rotatingMembers []string) {
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
	for _, name := range after.Status.Current {
		// A member's first rollout (no active credential yet) is no rotation: no event.
		if !slices.Contains(before.Status.Current, name) && slices.Contains(rotatingMembers, name) {
			r.Events.Eventf(after, nil, corev1.EventTypeNormal, v1.ReasonPromotionAllowed, "Rollout", "%s may promote its new credential.", name)
		}
	}
}

// SetupWithManager watches fleets and the connections they select.
func (r *TableauFleetReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.TableauFleet{}).
		Watches(&v1.TableauConnection{}, handler.EnqueueRequestsFromMapFunc(r.fleetsOf)).
		Complete(r)
}

// fleetsOf maps a connection to the fleets in its namespace whose selector matches it.
func (r *TableauFleetReconciler) fleetsOf(ctx context.Context, o client.Object) []ctrl.Request {
	var fleets v1.TableauFleetList
	if err := r.List(ctx, &fleets, client.InNamespace(o.GetNamespace())); err != nil {
		return nil
	}
	var reqs []ctrl.Request
	for _, f := range fleets.Items {
		if selects(&f, o) {
			reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: f.Namespace, Name: f.Name}})
		}
	}
	return reqs
}
