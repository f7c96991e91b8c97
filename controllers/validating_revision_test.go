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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// TestValidatingRevisionIsWrittenOnlyForAFleet: a new revision of a rotating connection is
// marked in status before its sign-in only when a fleet selects the connection (the mark
// holds its place in the wave); without a fleet nothing reads it, and nothing is written.
func TestValidatingRevisionIsWrittenOnlyForAFleet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fleet  map[string]string // the fleet's selector; nil: no fleet
		writes int
	}{
		{"no fleet", nil, 0},
		{"a fleet selects it", map[string]string{"fleet": "wave"}, 1},
		{"a fleet selects others", map[string]string{"fleet": "other"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := baseConn()
			conn.Labels = map[string]string{"fleet": "wave"}
			conn.Spec.Consumers = &v1.ConsumersSpec{SecretName: "c-tableau"}
			conn.Status.Credentials = &v1.CredentialStatus{Revision: "r1"}
			conn.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, ActiveRevision: "r1"}
			objs := []client.Object{conn}
			if tc.fleet != nil {
				objs = append(objs, &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "wave", Namespace: conn.Namespace},
					Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: tc.fleet}}})
			}
			writes := 0
			c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(objs...).WithStatusSubresource(&v1.TableauConnection{}).
				WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, cl client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
					writes++
					return cl.SubResource(sub).Patch(ctx, obj, patch, opts...)
				}}).Build()
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(conn), conn); err != nil {
				t.Fatal(err)
			}
			before := conn.DeepCopy()
			conn.Status.Credentials.Revision = "r2" // the source's new revision, to sign in with
			s := &scope{conn: conn, before: before}
			r := (&TableauConnectionReconciler{Client: c, APIReader: c}).built().signIn
			if err := r.persistValidating(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if writes != tc.writes {
				t.Errorf("status writes before the sign-in = %d, want %d", writes, tc.writes)
			}
		})
	}
}

// TestAStepAfterATableauCallIsWrittenWhenTheConnectionMoved: a step that keeps the phase and
// the records rides on the next write, except after a call to Tableau when the cached
// connection is another version than the one this reconcile wrote: then it is written under
// the lock, which refuses it, so nothing is promoted from the old copy.
func TestAStepAfterATableauCallIsWrittenWhenTheConnectionMoved(t *testing.T) {
	for _, moved := range []bool{false, true} {
		conn := baseConn()
		conn.Spec.Consumers = &v1.ConsumersSpec{SecretName: "c-tableau"}
		conn.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationPromoting, CandidateRevision: "r2", ActiveRevision: "r1"}
		writes := 0
		c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(conn).WithStatusSubresource(&v1.TableauConnection{}).
			WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, cl client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				writes++
				return cl.SubResource(sub).Patch(ctx, obj, patch, opts...)
			}}).Build()
		ctx := context.Background()
		if err := c.Get(ctx, client.ObjectKeyFromObject(conn), conn); err != nil {
			t.Fatal(err)
		}
		if moved { // a person suspends it while the check's sign-in runs
			other := conn.DeepCopy()
			other.Spec.Suspend = true
			if err := c.Update(ctx, other); err != nil {
				t.Fatal(err)
			}
		}
		r := (&TableauConnectionReconciler{Client: c, APIReader: c}).built().rollout
		s := &scope{conn: conn, before: conn.DeepCopy(), wrote: true}
		o := rotation.Observation{Phase: rotation.Promoting, Records: recordsOf(conn.Status.Rotation)}
		step := rotation.Step{Phase: rotation.Promoting, Records: o.Records, Action: rotation.PromoteCandidate, Reason: rotation.ReasonPromotionStarted}
		err := r.persistStep(ctx, s, &rotationScope{calledOut: true}, o, step)
		switch {
		case !moved && (err != nil || writes != 0):
			t.Errorf("unchanged connection: %d writes, %v; want the step to ride on the next write", writes, err)
		case moved && (!apierrors.IsConflict(err) || writes != 1):
			t.Errorf("connection changed during the call: %d writes, %v; want one locked write, refused", writes, err)
		}
	}
}
