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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// TestExpiryCheckWritesAPendingClaimBeforeTheAdministratorSignsIn: a connection whose first
// claim would ride on the reconcile's status write (an upgrade, a lapsed claim) and whose PAT
// expiry check is due writes the claim, locked, before the administrator's Secret is even
// read: an administrator sign-in ends every other session of that PAT, so two installs must
// never both make one.
func TestExpiryCheckWritesAPendingClaimBeforeTheAdministratorSignsIn(t *testing.T) {
	ctx := context.Background()
	conn := baseConn()
	conn.Spec.Validation.AdminSecretRef = &v1.PATSecretReference{Name: "admin", TokenNameKey: "n", TokenSecretKey: "s"}
	signedInAt(conn)
	conn.Status.Credentials.UserID, conn.Status.Credentials.TokenName = "user-1", "pat-1"
	var calls []string
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(conn).WithStatusSubresource(&v1.TableauConnection{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
				if _, ok := obj.(*corev1.Secret); ok && key.Name == "admin" {
					calls = append(calls, "read the administrator's Secret")
				}
				return cl.Get(ctx, key, obj, opts...)
			},
			SubResourcePatch: func(ctx context.Context, cl client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				calls = append(calls, "write status")
				return cl.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		}).Build()
	var fresh v1.TableauConnection
	if err := c.Get(ctx, client.ObjectKeyFromObject(conn), &fresh); err != nil {
		t.Fatal(err)
	}
	ph := (&TableauConnectionReconciler{Client: c, APIReader: c, InstallID: "install-a"}).built()
	s := &scope{conn: fresh.DeepCopy(), before: fresh.DeepCopy(), now: condNow,
		claim: pendingClaim{next: &v1.ClaimStatus{Holder: "install-a", RenewTime: metav1.NewTime(condNow), DurationSeconds: 1800}, always: true}}
	var err error
	if s.client, _, err = ph.patExpiry.clientFor(s.conn, nil); err != nil {
		t.Fatal(err)
	}
	ph.patExpiry.readPATExpiry(ctx, s)
	if len(calls) == 0 || calls[0] != "write status" {
		t.Fatalf("calls %q: want the claim written before the administrator's Secret is read", calls)
	}
	var got v1.TableauConnection
	if err := c.Get(ctx, client.ObjectKeyFromObject(conn), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Claim == nil || got.Status.Claim.Holder != "install-a" {
		t.Errorf("claim after the expiry check = %+v, want install-a's", got.Status.Claim)
	}
}
