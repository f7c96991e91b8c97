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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// readConnection reads the connection from the cache, or, right after a write conflict, from
// the API server: after an API server restart the cache's watch may take a minute to catch
// up, and every write decided on its copy would conflict again meanwhile.
func (r *TableauConnectionReconciler) readConnection(ctx context.Context, key types.NamespacedName, conn *v1.TableauConnection) error {
	if r.mem.takeConflicted(key) && r.APIReader != nil {
		return r.APIReader.Get(ctx, key, conn)
	}
	return r.Get(ctx, key, conn)
}

// noteConflict remembers that this reconcile ended on a write conflict.
func (r *TableauConnectionReconciler) noteConflict(key types.NamespacedName, err *error) {
	if *err != nil && apierrors.IsConflict(*err) {
		r.mem.noteConflicted(key)
	}
}
