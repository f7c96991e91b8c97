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

package testenv

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// Scheme knows the built-in kinds and the operator's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

// PlayDeploymentController stands in for kube-controller-manager, which envtest does not run:
// delay after a Deployment in ns gets a new generation, it reports the rollout complete and
// available, unless skip says to leave it (a workload that never becomes ready). It returns
// when ctx ends.
func PlayDeploymentController(ctx context.Context, k8s client.Client, ns string, delay time.Duration, skip func(*appsv1.Deployment) bool) {
	seen := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		var list appsv1.DeploymentList
		if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
			continue
		}
		for i := range list.Items {
			d := &list.Items[i]
			if d.Status.ObservedGeneration == d.Generation || (skip != nil && skip(d)) {
				continue
			}
			key := fmt.Sprintf("%s/%d", d.Name, d.Generation)
			if _, ok := seen[key]; !ok {
				seen[key] = time.Now()
			}
			if time.Since(seen[key]) < delay {
				continue
			}
			replicas := int32(1)
			if d.Spec.Replicas != nil {
				replicas = *d.Spec.Replicas
			}
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: replicas,
				ReadyReplicas: replicas, AvailableReplicas: replicas}
			_ = k8s.Status().Update(ctx, d)
		}
	}
}
