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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

// TestReconcileWritesStatusOnlyWhenItChanged runs a suspended connection (no Tableau call)
// through Reconcile on controller-runtime's fake client: the deferred patch stamps
// observedGeneration and the conditions, and a second reconcile with nothing new writes
// nothing.
func TestReconcileWritesStatusOnlyWhenItChanged(t *testing.T) {
	conn := baseConn()
	conn.Spec.Suspend = true
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(conn).
		WithStatusSubresource(&v1.TableauConnection{}).Build()
	r := &TableauConnectionReconciler{Client: c, APIReader: c, Now: func() time.Time { return condNow }}
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}}
	res, err := r.Reconcile(context.Background(), req)
	if err != nil || res != (ctrl.Result{}) {
		t.Fatalf("Reconcile = %+v, %v; want no requeue and no error", res, err)
	}
	var got v1.TableauConnection
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	ready := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
	if got.Status.ObservedGeneration != conn.Generation || ready == nil || ready.Reason != v1.ReasonSuspended || ready.ObservedGeneration != conn.Generation {
		t.Fatalf("status = observedGeneration %d, Ready %+v; want generation %d and Suspended", got.Status.ObservedGeneration, ready, conn.Generation)
	}
	rv := got.ResourceVersion
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != rv {
		t.Errorf("an unchanged status was written again (resourceVersion %s -> %s)", rv, got.ResourceVersion)
	}
}

// TestReconcileForgetsWhatItRemembersOfAGoneConnection: a connection not found, or being
// deleted, leaves nothing in the reconciler's memory.
func TestReconcileForgetsWhatItRemembersOfAGoneConnection(t *testing.T) {
	deleting := baseConn()
	deleting.Name, deleting.UID = "deleting", "uid-d"
	deleting.Finalizers = []string{"example.com/hold"}
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(deleting).
		WithStatusSubresource(&v1.TableauConnection{}).Build()
	if err := c.Delete(context.Background(), deleting); err != nil {
		t.Fatal(err)
	}
	r := &TableauConnectionReconciler{Client: c, APIReader: c, Now: func() time.Time { return condNow }}
	gone := baseConn()
	gone.Name, gone.UID = "gone", "uid-g"
	for _, conn := range []*v1.TableauConnection{deleting, gone} {
		r.mem.setSecret(conn, &secretMemo{resourceVersion: "1", err: &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Key: "token"}})
		r.mem.setVerdict(conn, &verdictMemo{inputs: "x"})
		r.mem.noteConflicted(nameOf(conn))
		if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: nameOf(conn)}); err != nil {
			t.Fatalf("%s: %v", conn.Name, err)
		}
		if _, ok := r.mem.conns[nameOf(conn)]; ok {
			t.Errorf("%s: its memory survived the reconcile", conn.Name)
		}
		if _, ok := r.mem.conflicted[nameOf(conn)]; ok {
			t.Errorf("%s: its conflict mark survived the reconcile", conn.Name)
		}
	}
}

// TestCrashWritesNothing: a crash hook that fires at the start of a reconcile stops it before
// anything is read or written, as a killed operator would.
func TestCrashWritesNothing(t *testing.T) {
	conn := baseConn()
	conn.Spec.Suspend = true
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(conn).
		WithStatusSubresource(&v1.TableauConnection{}).Build()
	r := &TableauConnectionReconciler{Client: c, APIReader: c, CrashHook: func(string) error { return ErrCrash }}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: nameOf(conn)}); err != ErrCrash {
		t.Fatalf("Reconcile error = %v, want ErrCrash", err)
	}
	var got v1.TableauConnection
	if err := c.Get(context.Background(), nameOf(conn), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ObservedGeneration != 0 || len(got.Status.Conditions) != 0 {
		t.Errorf("a crashed reconcile wrote status: %+v", got.Status)
	}
}
