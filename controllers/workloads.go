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

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;list;watch;patch

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

// rollout is what the restart targets say about the restart stamped at.
type rollout struct {
	missing   []string // targets that do not exist
	stamped   bool     // every existing target's template carries the stamp
	waiting   []string // targets not yet rolled out and available with it
	rolledOut bool
}

// observeTargets reads every restart target from the cache (stripWorkload), which a watch
// keeps current: a rollout's progress wakes the connection (targetsOf). A copy that lags
// behind the restart's patch says "not stamped" or "not rolled out", never more than the
// server: the restart is stamped again with the same value (one restart) or the gate waits
// for the next event.
func (r *workloads) observeTargets(ctx context.Context, conn *v1.TableauConnection, at string) (rollout, error) {
	ro := rollout{stamped: true}
	for _, t := range conn.Spec.Consumers.RestartTargets {
		obj := workload(t.Kind)
		err := r.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: t.Name}, obj)
		if apierrors.IsNotFound(err) {
			ro.missing = append(ro.missing, t.Kind+"/"+t.Name)
			ro.waiting = append(ro.waiting, t.Kind+"/"+t.Name+" (not found)")
			continue
		}
		if err != nil {
			return ro, fmt.Errorf("reading %s %q: %w", t.Kind, t.Name, err)
		}
		if templateAnnotation(obj) != at {
			ro.stamped = false
		}
		if !rolledOut(obj, at) {
			ro.waiting = append(ro.waiting, t.Kind+"/"+t.Name)
		}
	}
	ro.rolledOut = len(ro.waiting) == 0
	return ro, nil
}

func templateAnnotation(obj client.Object) string {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return w.Spec.Template.Annotations[v1.AnnotationRestartedAt]
	case *appsv1.StatefulSet:
		return w.Spec.Template.Annotations[v1.AnnotationRestartedAt]
	case *appsv1.DaemonSet:
		return w.Spec.Template.Annotations[v1.AnnotationRestartedAt]
	}
	return ""
}

// restartTargets sets the restart annotation on every target's pod template (idempotent:
// the same value twice restarts once). A missing target is left to the observation, which
// stops a rotation before promotion and fails the health gate after it.
func (r *workloads) restartTargets(ctx context.Context, conn *v1.TableauConnection, at string) error {
	for _, t := range conn.Spec.Consumers.RestartTargets {
		patch := []byte(fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, v1.AnnotationRestartedAt, at))
		obj := workload(t.Kind)
		obj.SetNamespace(conn.Namespace)
		obj.SetName(t.Name)
		err := r.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return wroteOrFailed(err, "patch", t.Kind, t.Name)
		}
		metrics.ConsumerRestarted(conn.Namespace, conn.Name)
	}
	return nil
}

// rolledOut reports whether a workload runs the pod template restarted at `at`, fully
// updated and available.
func rolledOut(obj client.Object, at string) bool {
	if templateAnnotation(obj) != at {
		return false
	}
	switch w := obj.(type) {
	case *appsv1.Deployment:
		want := int32(1)
		if w.Spec.Replicas != nil {
			want = *w.Spec.Replicas
		}
		return w.Status.ObservedGeneration >= w.Generation &&
			w.Status.UpdatedReplicas == want && w.Status.AvailableReplicas == want && w.Status.Replicas == want
	case *appsv1.StatefulSet:
		want := int32(1)
		if w.Spec.Replicas != nil {
			want = *w.Spec.Replicas
		}
		return w.Status.ObservedGeneration >= w.Generation &&
			w.Status.UpdatedReplicas == want && w.Status.ReadyReplicas == want && w.Status.CurrentRevision == w.Status.UpdateRevision
	case *appsv1.DaemonSet:
		return w.Status.ObservedGeneration >= w.Generation &&
			w.Status.UpdatedNumberScheduled == w.Status.DesiredNumberScheduled && w.Status.NumberAvailable == w.Status.DesiredNumberScheduled
	}
	return false
}

// indexRestartTarget indexes connections by the restart targets they name, "Kind/name".
const indexRestartTarget = "tableau-operator.dev/restartTarget"

func restartTargetKeys(o client.Object) []string {
	c := o.(*v1.TableauConnection)
	if c.Spec.Consumers == nil {
		return nil
	}
	keys := make([]string, 0, len(c.Spec.Consumers.RestartTargets))
	for _, t := range c.Spec.Consumers.RestartTargets {
		kind := t.Kind
		if kind == "" {
			kind = "Deployment"
		}
		keys = append(keys, kind+"/"+t.Name)
	}
	return keys
}

// targetsOf maps a workload to the connections that name it as a restart target and are
// past their restart (Restarting, Gating, RollingBack): only their health gate reads it. A
// connection before its turn looks at its targets when it gets it.
func (r *TableauConnectionReconciler) targetsOf(kind string) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list v1.TableauConnectionList
		if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{indexRestartTarget: kind + "/" + o.GetName()}); err != nil {
			return nil
		}
		var reqs []reconcile.Request
		for _, c := range list.Items {
			switch rs := c.Status.Rotation; {
			case rs == nil:
			case rs.Phase == string(rotation.Restarting), rs.Phase == string(rotation.Gating), rs.Phase == string(rotation.RollingBack):
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
			}
		}
		return reqs
	}
}
