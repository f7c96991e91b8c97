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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
)

// finish is the one place a connection reconcile's outcome becomes its status patch, its
// events and its result (Flux's SummarizeAndPatch and ComputeReconcileResult). Status is
// written on failures too: every attempt is recorded, and its nextAttemptTime holds the next
// reconcile back from Tableau however soon controller-runtime retries the Kubernetes error.
// It is stamped with observedGeneration and written only when it changed. Events tell the
// transitions of a reconcile that succeeded. A simulated crash writes nothing more, as a
// killed operator would not; what was persisted before counts in the metrics all the same.
func (r *TableauConnectionReconciler) finish(ctx context.Context, s *scope, original *v1.TableauConnection, o outcome) (ctrl.Result, error) {
	defer func() { metrics.ObserveStatus(original, s.before) }()
	if o.kind == fail && errors.Is(o.err, ErrCrash) {
		return ctrl.Result{}, o.err
	}
	r.syncGateStatus(s)
	if err := r.persist(ctx, s); err != nil {
		return ctrl.Result{}, errors.Join(o.err, err)
	}
	result, err := computeResult(o, s.requeueAfter)
	if err == nil {
		r.emit(original, s.conn, s.now)
	}
	return result, err
}

// computeResult maps the phases' outcome and the earliest requeue any phase asked for to
// what controller-runtime gets: a failure is its error (retried with controller-runtime's
// backoff), anything else comes back at the earliest time asked for, or on the next event.
func computeResult(o outcome, requeueAfter time.Duration) (ctrl.Result, error) {
	if o.kind == fail {
		return ctrl.Result{}, o.err
	}
	return ctrl.Result{RequeueAfter: requeueAfter}, nil
}

// persist computes the conditions and writes status now, so the next action starts from a
// recorded state.
func (r *statusWriter) persist(ctx context.Context, s *scope) error {
	return r.persistWith(ctx, s, false)
}

// persistLocked writes status with a resourceVersion precondition, even when nothing
// changed: a reconcile that acted on a stale copy of the connection gets a conflict and is
// retried from a fresh read instead of acting on a phase that has moved on. Once this
// reconcile has written status its copy is the server's as of that write (the patch's
// response), so a step that changes nothing after it is not sent: proving freshness again
// between two actions of one reconcile cost a status write per action.
func (r *statusWriter) persistLocked(ctx context.Context, s *scope) error {
	return r.persistWith(ctx, s, true)
}

func (r *statusWriter) persistWith(ctx context.Context, s *scope, locked bool) error {
	if s.standingAside {
		// The holder computes the rest of status; this install would only contradict it.
		set := conditionSetter(&s.conn.Status.Conditions, s.conn.Generation)
		setClaimed(s.conn, s.now, set)
		setReadyContested(s.conn, s.now, set)
		if equality.Semantic.DeepEqual(s.before.Status, s.conn.Status) {
			return nil
		}
		// Locked: a merge patch replaces the whole conditions list, and from a stale copy it
		// would overwrite the holder's newer conditions.
		return r.patchStatus(ctx, s.before, s.conn, true)
	}
	// A first claim rides on this write, and a renewal on any write that happens anyway:
	// either makes it locked (see claim).
	locked = s.claim.applyFirst(s.conn) || locked
	// The due time follows the active revision: computed with every write, a completion's
	// new due time rides on the completion's own write instead of one more at the end.
	setRotationDue(s.conn, s)
	setConditions(s.conn, s.now, s.consumers)
	s.conn.Status.ObservedGeneration = s.conn.Generation
	unchanged := equality.Semantic.DeepEqual(s.before.Status, s.conn.Status)
	locked = s.claim.applyRide(s.conn, !unchanged) || locked
	if locked && s.wrote && unchanged {
		return nil
	}
	if err := r.patchStatus(ctx, s.before, s.conn, locked); err != nil {
		if locked {
			// The rotation step was decided on a stale copy: drop it. The deferred patch
			// still records what validation found.
			s.conn.Status.Rotation = s.before.Status.Rotation.DeepCopy()
		}
		return err
	}
	if locked || !unchanged {
		s.wrote = true
	}
	s.claim = pendingClaim{}
	s.before = s.conn.DeepCopy()
	return nil
}

func (r *statusWriter) patchStatus(ctx context.Context, before, after *v1.TableauConnection, locked bool) error {
	if !locked && equality.Semantic.DeepEqual(before.Status, after.Status) {
		return nil
	}
	patch := statusPatch{before: &before.Status, locked: locked, resourceVersion: before.ResourceVersion}
	if err := r.Status().Patch(ctx, after, patch); err != nil {
		return fmt.Errorf("patching status: %w", err)
	}
	metrics.StatusWrites.Inc()
	// The answer is the server's copy, managed fields included: the cache drops them
	// (stripForCache) and so does this copy, which is copied again and diffed by the
	// next write of this reconcile.
	after.ManagedFields = nil
	return nil
}

func (r *TableauConnectionReconciler) emit(before, after *v1.TableauConnection, now time.Time) {
	if r.Events == nil {
		return
	}
	for _, e := range transitions(before, after, now) {
		kind := corev1.EventTypeNormal
		if e.warning {
			kind = corev1.EventTypeWarning
		}
		r.Events.Eventf(after, nil, kind, e.reason, "Validate", "%s", e.note)
	}
}

func (r *recorder) event(conn *v1.TableauConnection, warning bool, reason, note string) {
	if r.Events == nil {
		return
	}
	kind := corev1.EventTypeNormal
	if warning {
		kind = corev1.EventTypeWarning
	}
	r.Events.Eventf(conn, nil, kind, reason, "Rotate", "%s", note)
}
