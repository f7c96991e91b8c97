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
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// TestAConflictMakesTheNextReadFresh: after a reconcile that ended on a write conflict (wrapped
// or joined, as the deferred status patch returns it), the next reconcile reads the connection
// from the API server, once; otherwise from the cache.
func TestAConflictMakesTheNextReadFresh(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	key := types.NamespacedName{Namespace: "ns", Name: "c"}
	obj := func(rv string) *v1.TableauConnection {
		return &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Labels: map[string]string{"copy": rv}}}
	}
	cache := fake.NewClientBuilder().WithScheme(scheme).WithObjects(obj("cache")).Build()
	api := fake.NewClientBuilder().WithScheme(scheme).WithObjects(obj("api")).Build()
	r := &TableauConnectionReconciler{Client: cache, APIReader: api}
	read := func() string {
		var c v1.TableauConnection
		if err := r.readConnection(context.Background(), key, &c); err != nil {
			t.Fatal(err)
		}
		return c.Labels["copy"]
	}
	conflict := apierrors.NewConflict(schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "tableauconnections"}, key.Name, errors.New("the object has been modified"))
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"no error", nil, "cache"},
		{"another error", errors.New("boom"), "cache"},
		{"a conflict", conflict, "api"},
		{"a wrapped conflict", fmt.Errorf("patching status: %w", conflict), "api"},
		{"a joined conflict", errors.Join(errors.New("reconcile failed"), fmt.Errorf("patching status: %w", conflict)), "api"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err
			r.noteConflict(key, &err)
			if got := read(); got != tc.want {
				t.Errorf("first read after %s came from the %s, want the %s", tc.name, got, tc.want)
			}
			if got := read(); got != "cache" {
				t.Errorf("second read came from the %s, want the cache", got)
			}
		})
	}
}
