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
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// claimWrites runs a connection whose source Secret does not exist (refused before any
// Tableau call) and records every status patch: whether it carried a resourceVersion
// precondition, and the claim it wrote.
type claimWrites struct {
	locked []bool
	claims []*v1.ClaimStatus
}

func claimCostReconciler(t *testing.T, now *time.Time) (*TableauConnectionReconciler, *claimWrites, ctrl.Request, client.Client) {
	t.Helper()
	conn := baseConn()
	conn.Spec.Auth.PersonalAccessToken.SecretRef = v1.PATSecretReference{Name: "absent", TokenNameKey: "n", TokenSecretKey: "s"}
	w := &claimWrites{}
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(conn).
		WithStatusSubresource(&v1.TableauConnection{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, cl client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			data, err := patch.Data(obj)
			if err != nil {
				return err
			}
			w.locked = append(w.locked, strings.Contains(string(data), `"resourceVersion"`))
			w.claims = append(w.claims, obj.(*v1.TableauConnection).Status.Claim.DeepCopy())
			return cl.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	r := &TableauConnectionReconciler{Client: c, APIReader: c, Now: func() time.Time { return *now },
		InstallID: "install-a", ClaimDuration: 40 * time.Minute}
	return r, w, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}}, c
}

// Issue 23's budget is one status write per new connection: the first claim rides on the
// write of the first reconcile's result, locked so that of two installs only one holds it.
// A renewal rides on a write that happens anyway once half the claim's duration has passed,
// and is written alone only once three quarters have passed without one.
func TestClaimRidesOnTheFirstWriteAndOnWritesThatHappenAnyway(t *testing.T) {
	now := condNow
	r, w, req, c := claimCostReconciler(t, &now)
	reconcile := func(what string) {
		t.Helper()
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	reconcile("the first reconcile")
	if len(w.locked) != 1 || !w.locked[0] {
		t.Fatalf("the first reconcile wrote status %d times (locked: %v), want once, locked", len(w.locked), w.locked)
	}
	if cl := w.claims[0]; cl == nil || cl.Holder != "install-a" || !cl.RenewTime.Time.Equal(now) {
		t.Fatalf("the first write carries claim %+v, want install-a's taken now", cl)
	}
	var got v1.TableauConnection
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	if cl := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionClaimed); cl == nil || cl.Status != "True" {
		t.Errorf("Claimed after the first write = %+v, want True", cl)
	}
	if got.Status.LastFailure == nil {
		t.Errorf("the first write carries no validation result: %+v", got.Status)
	}

	// 25 minutes on (past half of 40, before three quarters): nothing else changes, nothing
	// is written.
	taken := now
	now = taken.Add(25 * time.Minute)
	reconcile("a reconcile with nothing new")
	if len(w.locked) != 1 {
		t.Fatalf("a renewal with time to spare was written alone (%d writes)", len(w.locked))
	}
	// A request makes a write anyway: the renewal rides on it, locked.
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	got.Annotations = map[string]string{v1.AnnotationRequestedAt: "r1"}
	if err := c.Update(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	reconcile("a requested reconcile")
	if len(w.locked) != 2 || !w.locked[1] || !w.claims[1].RenewTime.Time.Equal(now) {
		t.Fatalf("the requested reconcile's write: %d writes, locked %v, claim %+v; want the renewal riding on it, locked", len(w.locked), w.locked, w.claims[len(w.claims)-1])
	}
	// 31 minutes after that renewal (past three quarters of 40): written alone.
	now = now.Add(31 * time.Minute)
	reconcile("a reconcile with the claim about to lapse")
	if len(w.locked) != 3 || !w.locked[2] || !w.claims[2].RenewTime.Time.Equal(now) {
		t.Fatalf("with the claim about to lapse: %d writes, locked %v; want the renewal written alone, locked", len(w.locked), w.locked)
	}
}
