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

// Package controllers holds the operator's reconcilers.
package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tableauv1alpha1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableauconnections,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableauconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableauconnections/finalizers,verbs=update

// TableauConnectionReconciler reconciles TableauConnections.
type TableauConnectionReconciler struct {
	client.Client
}

// Reconcile observes a TableauConnection.
func (r *TableauConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var conn tableauv1alpha1.TableauConnection
	if err := r.Get(ctx, req.NamespacedName, &conn); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctrl.LoggerFrom(ctx).V(1).Info("observed", "generation", conn.Generation)
	return ctrl.Result{}, nil
}

// SetupWithManager registers every reconciler of the operator with mgr.
func SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&tableauv1alpha1.TableauConnection{}).
		Complete(&TableauConnectionReconciler{Client: mgr.GetClient()})
}
