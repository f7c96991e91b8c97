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
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/credential"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;patch
// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableaufleets,verbs=get;list;watch

// Keys of the consumer bundle: everything a workload needs to sign in at the pinned version.
const (
	BundleTokenName   = "tokenName"
	BundleTokenSecret = "tokenSecret"
	BundleServer      = "server"
	BundleSite        = "site"
	BundleAPIVersion  = "apiVersion"
)

// Defaults of rotation.
const (
	DefaultGateTimeout = 10 * time.Minute
	DefaultRenewBefore = 14 * 24 * time.Hour
	gatePoll           = 2 * time.Second
)

// ErrCrash is returned by a CrashHook to stop a reconcile between a persisted phase and its
// action, the way a killed operator would stop. Tests use it.
var ErrCrash = errors.New("simulated crash")

func candidateName(conn *v1.TableauConnection) string {
	return conn.Spec.Consumers.SecretName + "-candidate"
}
func previousName(conn *v1.TableauConnection) string {
	return conn.Spec.Consumers.SecretName + "-previous"
}

func gateTimeout(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Rotation.HealthCheck.Timeout; d != nil {
		return d.Duration
	}
	return DefaultGateTimeout
}

func signInBeforePromotion(conn *v1.TableauConnection) bool {
	b := conn.Spec.Rotation.HealthCheck.SignInBeforePromotion
	return b == nil || *b
}

// rotationActive reports whether a rotation is between promotion and its end.
func rotationActive(phase string) bool {
	switch phase {
	case v1.RotationPromoting, v1.RotationRestarting, v1.RotationGating, v1.RotationCompleting, v1.RotationRollingBack:
		return true
	}
	return false
}

// reconcileRotation moves the rotation state machine. Every phase is persisted in status
// before its action, and every action is idempotent, so an operator killed between any two
// steps resumes or rolls back; the consumer Secret always holds a validated credential.
func (r *TableauConnectionReconciler) reconcileRotation(ctx context.Context, s *scope) error {
	conn := s.conn
	if conn.Spec.Consumers == nil {
		conn.Status.Rotation = nil
		return nil
	}
	if conn.Status.Rotation == nil {
		conn.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, PhaseSince: metav1.NewTime(s.now)}
	}
	// Phases that complete at once flow into the next. Status is re-read every time: a
	// persisted patch replaces conn.Status with the server's copy.
	for i := 0; i < 8; i++ {
		phase := conn.Status.Rotation.Phase
		var err error
		switch phase {
		case v1.RotationIdle, v1.RotationFailed, v1.RotationStaged:
			err = r.rotationWaiting(ctx, s)
		case v1.RotationPromoting:
			err = r.rotationPromote(ctx, s)
		case v1.RotationRestarting:
			err = r.rotationRestart(ctx, s)
		case v1.RotationGating:
			err = r.rotationGate(ctx, s)
		case v1.RotationCompleting:
			err = r.rotationComplete(ctx, s)
		case v1.RotationRollingBack:
			err = r.rotationRollBack(ctx, s)
		}
		if err != nil || conn.Status.Rotation.Phase == phase {
			setRotationDue(conn, s)
			return err
		}
	}
	setRotationDue(conn, s)
	return nil
}

// enter moves to phase and persists status before the phase's action runs.
func (r *TableauConnectionReconciler) enter(ctx context.Context, s *scope, phase, reason, message string) error {
	rs := s.conn.Status.Rotation
	rs.Phase, rs.PhaseSince, rs.Reason, rs.Message = phase, metav1.NewTime(s.now), reason, message
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	warning := phase == v1.RotationFailed || phase == v1.RotationRollingBack
	r.event(s.conn, warning, reason, message)
	ctrl.LoggerFrom(ctx).Info("rotation", "phase", phase, "reason", reason)
	if r.CrashHook != nil {
		return r.CrashHook(phase)
	}
	return nil
}

// candidateReady reports whether the source holds a validated credential that is not active.
func candidateReady(s *scope) bool {
	c, rs := s.conn.Status.Credentials, s.conn.Status.Rotation
	return s.revision != "" && s.credErr == nil && s.conn.Status.LastFailure == nil && c != nil &&
		c.LastSignInTime != nil && c.LastAttemptRevision == s.revision &&
		s.revision != rs.ActiveRevision && s.revision != rs.FailedRevision
}

func (r *TableauConnectionReconciler) rotationWaiting(ctx context.Context, s *scope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	if f := conn.Status.LastFailure; f != nil && f.Stage != v1.StageServer && !classify.Bucket(f.Bucket).Transient() &&
		s.revision != rs.ActiveRevision && rs.ActiveRevision != "" {
		// A new credential failed validation: consumers keep the active one.
		if rs.Reason != v1.ReasonCandidateRejected || rs.FailedRevision != s.revision {
			rs.Reason, rs.Message = v1.ReasonCandidateRejected,
				fmt.Sprintf("The new credential (revision %s) was rejected (%s: %s); consumers keep revision %s.", s.revision, f.Bucket, f.Reason, rs.ActiveRevision)
			rs.FailedRevision = s.revision
			metrics.Rotations.WithLabelValues("rejected").Inc()
			r.event(conn, true, v1.ReasonCandidateRejected, rs.Message)
		}
		if rs.Phase == v1.RotationStaged {
			rs.Phase, rs.CandidateRevision, rs.PhaseSince = v1.RotationIdle, "", metav1.NewTime(s.now)
		}
		return nil
	}
	if !candidateReady(s) {
		return nil
	}
	if rs.Phase != v1.RotationStaged || rs.CandidateRevision != s.revision {
		if s.pat == nil {
			if err := r.readSecret(ctx, s); err != nil || s.pat == nil {
				return err
			}
		}
		rs.CandidateRevision = s.revision
		if err := r.enter(ctx, s, v1.RotationStaged, v1.ReasonRotationStaged,
			fmt.Sprintf("Revision %s is validated and waits for its turn.", s.revision)); err != nil {
			return err
		}
		if err := r.writeBundle(ctx, conn, candidateName(conn), *s.pat, s.revision); err != nil {
			return err
		}
	}
	allowed, why, err := r.promotionAllowed(ctx, conn)
	if err != nil {
		return err
	}
	rs = conn.Status.Rotation // enter persisted, which replaced the status with the server's copy
	if !allowed && rs.ActiveRevision != "" {
		rs.Message = why
		return nil
	}
	return r.enter(ctx, s, v1.RotationPromoting, v1.ReasonPromotionStarted, fmt.Sprintf("Promoting revision %s.", rs.CandidateRevision))
}

func (r *TableauConnectionReconciler) rotationPromote(ctx context.Context, s *scope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	cand, err := r.readBundle(ctx, conn, candidateName(conn))
	if err != nil {
		return err
	}
	consumer, err := r.readBundle(ctx, conn, conn.Spec.Consumers.SecretName)
	if err != nil {
		return err
	}
	if cand == nil && (consumer == nil || consumer.Annotations[v1.AnnotationRevision] != rs.CandidateRevision) && s.revision == rs.CandidateRevision {
		// The operator stopped between staging and writing the staged copy: stage it again
		// from the source, which still holds the same revision.
		if s.pat == nil {
			if err := r.readSecret(ctx, s); err != nil {
				return err
			}
		}
		if s.pat != nil {
			if err := r.writeBundle(ctx, conn, candidateName(conn), *s.pat, s.revision); err != nil {
				return err
			}
			if cand, err = r.readBundle(ctx, conn, candidateName(conn)); err != nil {
				return err
			}
		}
	}
	if cand == nil {
		// The staged copy is gone; the consumer Secret was not touched for it unless it
		// already holds the candidate.
		if consumer != nil && consumer.Annotations[v1.AnnotationRevision] == rs.CandidateRevision {
			return r.enter(ctx, s, v1.RotationRestarting, v1.ReasonCredentialPromoted, "Consumers hold the candidate; restarting them.")
		}
		rs.CandidateRevision = ""
		return r.enter(ctx, s, v1.RotationIdle, v1.ReasonRotationRejected, "The staged candidate disappeared before promotion; waiting for the source again.")
	}
	if consumer == nil || consumer.Annotations[v1.AnnotationRevision] != rs.CandidateRevision {
		pat, err := credential.FromSecretData(cand.Name, cand.Data, BundleTokenName, BundleTokenSecret)
		if err != nil {
			return err
		}
		if signInBeforePromotion(conn) {
			if s.client == nil {
				// Validation stopped before it built a client (a resumed promotion).
				if s.client, _, err = r.clientFor(conn, s.caPEM); err != nil {
					return err
				}
			}
			sess, err := s.client.SignInWithPAT(ctx, conn.Spec.Site, pat)
			if err != nil {
				v, _ := classify.Failure(err, classify.Evidence{Now: s.now, Site: conn.Spec.Site})
				rs.FailedRevision, rs.CandidateRevision = rs.CandidateRevision, ""
				metrics.Rotations.WithLabelValues("rejected").Inc()
				_ = r.deleteSecret(ctx, conn, candidateName(conn))
				return r.enter(ctx, s, v1.RotationFailed, v1.ReasonCandidateRejected,
					fmt.Sprintf("The candidate failed its sign-in right before promotion (%s: %s); consumers keep revision %s.", v.Bucket, v.Reason, rs.ActiveRevision))
			}
			_ = s.client.SignOut(ctx, sess)
		}
		if consumer != nil && consumer.Annotations[v1.AnnotationRevision] == rs.ActiveRevision && rs.ActiveRevision != "" {
			if err := r.copyBundle(ctx, conn, consumer, previousName(conn)); err != nil {
				return err
			}
			rs.PreviousRevision = rs.ActiveRevision
		}
		if err := r.copyBundle(ctx, conn, cand, conn.Spec.Consumers.SecretName); err != nil {
			return err
		}
	}
	rs.RestartedAt = s.now.UTC().Format(time.RFC3339Nano)
	return r.enter(ctx, s, v1.RotationRestarting, v1.ReasonCredentialPromoted, fmt.Sprintf("Consumers got revision %s (the previous one is kept for rollback); restarting them.", rs.CandidateRevision))
}

func (r *TableauConnectionReconciler) rotationRestart(ctx context.Context, s *scope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	if err := r.restartTargets(ctx, conn, rs.RestartedAt); err != nil {
		return err
	}
	return r.enter(ctx, s, v1.RotationGating, v1.ReasonConsumersRestarted,
		fmt.Sprintf("Waiting up to %s for %d restarted consumers to become available.", gateTimeout(conn), len(conn.Spec.Consumers.RestartTargets)))
}

func (r *TableauConnectionReconciler) rotationGate(ctx context.Context, s *scope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	waiting, err := r.unavailableTargets(ctx, conn, rs.RestartedAt)
	if err != nil {
		return err
	}
	if len(waiting) == 0 {
		return r.enter(ctx, s, v1.RotationCompleting, v1.ReasonHealthGatePassed, "Consumers are available with the new credential.")
	}
	if s.now.Sub(rs.PhaseSince.Time) < gateTimeout(conn) {
		rs.Message = "Waiting for " + strings.Join(waiting, ", ") + " to become available."
		s.requeueIn(gatePoll)
		return nil
	}
	reason := fmt.Sprintf("%s not available %s after the restart", strings.Join(waiting, ", "), gateTimeout(conn))
	rs.RestartedAt = s.now.UTC().Format(time.RFC3339Nano)
	return r.enter(ctx, s, v1.RotationRollingBack, v1.ReasonGateTimedOut, reason+"; restoring revision "+rs.PreviousRevision+".")
}

func (r *TableauConnectionReconciler) rotationComplete(ctx context.Context, s *scope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	if err := r.deleteSecret(ctx, conn, previousName(conn)); err != nil {
		return err
	}
	if err := r.deleteSecret(ctx, conn, candidateName(conn)); err != nil {
		return err
	}
	now := metav1.NewTime(s.now)
	rs.ActiveRevision, rs.ActiveSince, rs.LastCompletionTime = rs.CandidateRevision, &now, &now
	rs.CandidateRevision, rs.PreviousRevision, rs.FailedRevision = "", "", ""
	metrics.Rotations.WithLabelValues("completed").Inc()
	return r.enter(ctx, s, v1.RotationIdle, v1.ReasonRotationCompleted, fmt.Sprintf("Revision %s is active; the previous credential was dropped.", rs.ActiveRevision))
}

func (r *TableauConnectionReconciler) rotationRollBack(ctx context.Context, s *scope) error {
	conn, rs := s.conn, s.conn.Status.Rotation
	prev, err := r.readBundle(ctx, conn, previousName(conn))
	if err != nil {
		return err
	}
	msg := rs.Message
	if prev != nil {
		if err := r.copyBundle(ctx, conn, prev, conn.Spec.Consumers.SecretName); err != nil {
			return err
		}
		if err := r.restartTargets(ctx, conn, rs.RestartedAt); err != nil {
			return err
		}
		if err := r.deleteSecret(ctx, conn, previousName(conn)); err != nil {
			return err
		}
	} else if rs.PreviousRevision == "" {
		msg += " There was no previous credential to restore; consumers keep the validated candidate."
		rs.ActiveRevision = rs.CandidateRevision
	}
	rs.FailedRevision, rs.CandidateRevision = rs.CandidateRevision, ""
	if rs.PreviousRevision != "" {
		rs.ActiveRevision = rs.PreviousRevision
	}
	rs.PreviousRevision = ""
	metrics.Rotations.WithLabelValues("rolled_back").Inc()
	return r.enter(ctx, s, v1.RotationFailed, v1.ReasonRotationRolledBack, msg)
}

// promotionAllowed asks the fleets that select the connection whether it is its turn.
func (r *TableauConnectionReconciler) promotionAllowed(ctx context.Context, conn *v1.TableauConnection) (bool, string, error) {
	var fleets v1.TableauFleetList
	if err := r.List(ctx, &fleets, client.InNamespace(conn.Namespace)); err != nil {
		return false, "", err
	}
	for _, f := range fleets.Items {
		sel, err := metav1.LabelSelectorAsSelector(&f.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(conn.Labels)) {
			continue
		}
		if !slices.Contains(f.Status.Current, conn.Name) {
			return false, fmt.Sprintf("Validated; waiting for its turn in TableauFleet %q.", f.Name), nil
		}
	}
	return true, "", nil
}

// bundle Secrets.

func (r *TableauConnectionReconciler) readBundle(ctx context.Context, conn *v1.TableauConnection, name string) (*corev1.Secret, error) {
	var sec corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %q: %w", name, err)
	}
	return &sec, nil
}

func (r *TableauConnectionReconciler) writeBundle(ctx context.Context, conn *v1.TableauConnection, name string, pat tableau.PersonalAccessToken, revision string) error {
	data := map[string][]byte{
		BundleTokenName:   []byte(pat.Name),
		BundleTokenSecret: []byte(pat.Secret.Reveal()),
		BundleServer:      []byte(conn.Spec.Server),
		BundleSite:        []byte(conn.Spec.Site),
		BundleAPIVersion:  []byte(conn.Spec.APIVersion),
	}
	return r.putSecret(ctx, conn, name, data, revision)
}

func (r *TableauConnectionReconciler) copyBundle(ctx context.Context, conn *v1.TableauConnection, from *corev1.Secret, to string) error {
	return r.putSecret(ctx, conn, to, from.Data, from.Annotations[v1.AnnotationRevision])
}

// putSecret creates or replaces an operator-owned Secret. It reads through the API reader:
// the cache holds no Secret content, and must not start holding it.
func (r *TableauConnectionReconciler) putSecret(ctx context.Context, conn *v1.TableauConnection, name string, data map[string][]byte, revision string) error {
	existing, err := r.readBundle(ctx, conn, name)
	if err != nil {
		return err
	}
	sec := existing
	if sec == nil {
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace}}
	}
	if sec.Annotations == nil {
		sec.Annotations = map[string]string{}
	}
	sec.Annotations[v1.AnnotationRevision] = revision
	if sec.Labels == nil {
		sec.Labels = map[string]string{}
	}
	sec.Labels["app.kubernetes.io/managed-by"] = "tableau-operator"
	sec.Labels[v1.LabelCredential] = v1.CredentialManaged // keeps it in the operator's Secret watch
	sec.Type = corev1.SecretTypeOpaque
	sec.Data = data
	if err := controllerutil.SetControllerReference(conn, sec, r.Scheme()); err != nil {
		return err
	}
	if existing == nil {
		err = r.Create(ctx, sec)
	} else {
		err = r.Update(ctx, sec)
	}
	if err != nil {
		return fmt.Errorf("writing Secret %q: %w", name, err)
	}
	return nil
}

func (r *TableauConnectionReconciler) deleteSecret(ctx context.Context, conn *v1.TableauConnection, name string) error {
	err := r.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting Secret %q: %w", name, err)
	}
	return nil
}

// restart targets.

func workload(kind string) client.Object {
	switch kind {
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "DaemonSet":
		return &appsv1.DaemonSet{}
	default:
		return &appsv1.Deployment{}
	}
}

// restartTargets sets the restart annotation on every target's pod template (idempotent:
// the same value twice restarts once). A missing target is skipped with a log line.
func (r *TableauConnectionReconciler) restartTargets(ctx context.Context, conn *v1.TableauConnection, at string) error {
	for _, t := range conn.Spec.Consumers.RestartTargets {
		patch := []byte(fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, v1.AnnotationRestartedAt, at))
		obj := workload(t.Kind)
		obj.SetNamespace(conn.Namespace)
		obj.SetName(t.Name)
		err := r.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
		if apierrors.IsNotFound(err) {
			ctrl.LoggerFrom(ctx).Info("restart target not found", "kind", t.Kind, "name", t.Name)
			continue
		}
		if err != nil {
			return fmt.Errorf("restarting %s %q: %w", t.Kind, t.Name, err)
		}
		metrics.ConsumerRestarted(conn.Namespace, conn.Name)
	}
	return nil
}

// unavailableTargets lists the targets whose rollout with the restart annotation at is not
// complete and available.
func (r *TableauConnectionReconciler) unavailableTargets(ctx context.Context, conn *v1.TableauConnection, at string) ([]string, error) {
	var waiting []string
	for _, t := range conn.Spec.Consumers.RestartTargets {
		obj := workload(t.Kind)
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: t.Name}, obj)
		if apierrors.IsNotFound(err) {
			waiting = append(waiting, t.Kind+"/"+t.Name+" (not found)")
			continue
		}
		if err != nil {
			return nil, err
		}
		if !rolledOut(obj, at) {
			waiting = append(waiting, t.Kind+"/"+t.Name)
		}
	}
	return waiting, nil
}

// rolledOut reports whether a workload runs the pod template restarted at `at`, fully
// updated and available.
func rolledOut(obj client.Object, at string) bool {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		want := int32(1)
		if w.Spec.Replicas != nil {
			want = *w.Spec.Replicas
		}
		return w.Spec.Template.Annotations[v1.AnnotationRestartedAt] == at && w.Status.ObservedGeneration >= w.Generation &&
			w.Status.UpdatedReplicas == want && w.Status.AvailableReplicas == want && w.Status.Replicas == want
	case *appsv1.StatefulSet:
		want := int32(1)
		if w.Spec.Replicas != nil {
			want = *w.Spec.Replicas
		}
		return w.Spec.Template.Annotations[v1.AnnotationRestartedAt] == at && w.Status.ObservedGeneration >= w.Generation &&
			w.Status.UpdatedReplicas == want && w.Status.ReadyReplicas == want && w.Status.CurrentRevision == w.Status.UpdateRevision
	case *appsv1.DaemonSet:
		return w.Spec.Template.Annotations[v1.AnnotationRestartedAt] == at && w.Status.ObservedGeneration >= w.Generation &&
			w.Status.UpdatedNumberScheduled == w.Status.DesiredNumberScheduled && w.Status.NumberAvailable == w.Status.DesiredNumberScheduled
	}
	return false
}

// setRotationDue computes when the active credential is due for rotation: maxAge after it
// became active, or the expiry Tableau reported, whichever is first, less renewBefore.
func setRotationDue(conn *v1.TableauConnection, s *scope) {
	rs := conn.Status.Rotation
	if rs == nil || rs.ActiveRevision == "" {
		return
	}
	var due time.Time
	if ma := conn.Spec.Rotation.MaxAge; ma != nil && rs.ActiveSince != nil {
		due = rs.ActiveSince.Add(ma.Duration)
	}
	if c := conn.Status.Credentials; c != nil && c.ExpiresAt != nil && c.Revision == rs.ActiveRevision && (due.IsZero() || c.ExpiresAt.Before(&metav1.Time{Time: due})) {
		due = c.ExpiresAt.Time
	}
	if due.IsZero() {
		rs.DueTime = nil
		return
	}
	renew := DefaultRenewBefore
	if rb := conn.Spec.Rotation.RenewBefore; rb != nil {
		renew = rb.Duration
	}
	d := metav1.NewTime(due.Add(-renew).Truncate(time.Second))
	rs.DueTime = &d
	if wait := d.Sub(s.now); wait > 0 {
		s.requeueIn(wait)
	}
}
