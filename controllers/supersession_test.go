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
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// keepSupersession writes the record only onto the consumer Secret the operator made for this
// connection, under deletionPolicy Retain, and leaves every other Secret as it is.
func TestSupersessionIsKeptOnlyOnTheOperatorsRetainedConsumerSecret(t *testing.T) {
	managed := map[string]string{v1.LabelCredential: v1.CredentialManaged, v1.LabelManagedBy: v1.ManagedByValue}
	cases := map[string]struct {
		labels map[string]string
		policy v1.DeletionPolicy
		want   string
	}{
		"the operator's, retained":              {managed, v1.DeletionRetain, "client-1#sec-a"},
		"the operator's, deleted with the conn": {managed, v1.DeletionDelete, ""},
		"without app.kubernetes.io/managed-by":  {map[string]string{v1.LabelCredential: v1.CredentialManaged}, v1.DeletionRetain, ""},
	}
	for name, tc := range cases {
		conn := baseConn()
		conn.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "src"}}}
		conn.Spec.Consumers = &v1.ConsumersSpec{SecretName: "app", DeletionPolicy: tc.policy}
		conn.Status.Rotation = &v1.RotationStatus{IssuedSupersedes: "12/uid-src#sec-a"}
		conn.Status.Credentials = &v1.CredentialStatus{ClientID: "client-1"}
		consumer := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: conn.Namespace, Labels: tc.labels,
			Annotations: map[string]string{v1.AnnotationConnection: conn.Name}}}
		c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(consumer).Build()
		r := (&TableauConnectionReconciler{Client: c, APIReader: c}).built().credentials
		if err := r.keepSupersession(context.Background(), &scope{conn: conn}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got corev1.Secret
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(consumer), &got); err != nil {
			t.Fatal(err)
		}
		if a := got.Annotations[v1.AnnotationSupersedes]; a != tc.want {
			t.Errorf("%s: the consumer Secret records %q, want %q", name, a, tc.want)
		}
		if tc.want == "" && got.ResourceVersion != consumer.ResourceVersion {
			t.Errorf("%s: the Secret was written (resourceVersion %s -> %s)", name, consumer.ResourceVersion, got.ResourceVersion)
		}
	}
}

// TestAdoptionSurvivesAFailedStatusWrite: a re-created connection adopts the kept
// supersession, the rollout re-marks the consumer Secret with the new UID, and the status
// write is lost (a conflict, a crash): the next reconcile adopts it again instead of signing
// in with the person's retired secret.
func TestAdoptionSurvivesAFailedStatusWrite(t *testing.T) {
	ctx := context.Background()
	conn := baseConn()
	conn.UID = "new-uid"
	conn.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "src"}}}
	conn.Spec.Consumers = &v1.ConsumersSpec{SecretName: "app", DeletionPolicy: v1.DeletionRetain}
	secID := "7d3f2a10-1111-2222-3333-444455556666"
	person := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: conn.Namespace, UID: "p-uid",
		Labels: map[string]string{v1.LabelCredential: v1.CredentialConsent}},
		Data: map[string][]byte{"clientId": []byte("client-1"), "secretId": []byte(secID), "secretValue": []byte("x")}}
	consumer := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: conn.Namespace,
		Labels: map[string]string{v1.LabelCredential: v1.CredentialManaged, v1.LabelManagedBy: v1.ManagedByValue},
		Annotations: map[string]string{v1.AnnotationConnection: conn.Name, v1.AnnotationConnectionUID: "old-uid",
			v1.AnnotationSupersedes: "client-1#" + secID}}}
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(person, consumer).Build()
	ph := (&TableauConnectionReconciler{Client: c, APIReader: c}).built()
	meta := func(name string) *metav1.PartialObjectMetadata {
		m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
		if err := c.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	s := &scope{conn: conn}
	if err := ph.credentials.adoptSupersession(ctx, s, meta("src")); err != nil {
		t.Fatal(err)
	}
	if conn.Status.Rotation == nil || conn.Status.Rotation.IssuedSupersedes == "" {
		t.Fatalf("reconcile 1 did not adopt")
	}
	// The rollout is settled (validation waited), so it converges the consumer's ownership.
	if err := ph.rollout.convergeConsumerOwnership(ctx, conn, meta("app")); err != nil {
		t.Fatal(err)
	}
	// finish's status write fails (conflict / crash): the adoption is not persisted.
	conn.Status = v1.TableauConnectionStatus{}
	s = &scope{conn: conn}
	if err := ph.credentials.adoptSupersession(ctx, s, meta("src")); err != nil {
		t.Fatal(err)
	}
	var got corev1.Secret
	_ = c.Get(ctx, client.ObjectKeyFromObject(consumer), &got)
	if conn.Status.Rotation == nil || conn.Status.Rotation.IssuedSupersedes == "" {
		t.Fatalf("reconcile 2 did not adopt: consumer connection-uid is now %q, annotation %q", got.Annotations[v1.AnnotationConnectionUID], got.Annotations[v1.AnnotationSupersedes])
	}
}

// TestDeclinedAdoptionIsNotReadAgain: a kept record the person's Secret no longer matches
// (they put another secret in it) is not adopted, and the person's Secret is read once for
// those versions, not on every reconcile.
func TestDeclinedAdoptionIsNotReadAgain(t *testing.T) {
	ctx := context.Background()
	conn := baseConn()
	conn.UID = "new-uid"
	conn.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "src"}}}
	conn.Spec.Consumers = &v1.ConsumersSpec{SecretName: "app", DeletionPolicy: v1.DeletionRetain}
	person := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "src", Namespace: conn.Namespace, UID: "p-uid",
		Labels: map[string]string{v1.LabelCredential: v1.CredentialConsent}},
		Data: map[string][]byte{"clientId": []byte("client-1"), "secretId": []byte("9a8b7c6d-1111-2222-3333-444455556666"), "secretValue": []byte("x")}}
	consumer := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: conn.Namespace,
		Labels: map[string]string{v1.LabelCredential: v1.CredentialManaged, v1.LabelManagedBy: v1.ManagedByValue},
		Annotations: map[string]string{v1.AnnotationConnection: conn.Name, v1.AnnotationConnectionUID: "old-uid",
			v1.AnnotationSupersedes: "client-1#7d3f2a10-1111-2222-3333-444455556666"}}}
	reads := 0
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).WithObjects(person, consumer).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, full := obj.(*corev1.Secret); full && key.Name == "src" {
				reads++
			}
			return c.Get(ctx, key, obj, opts...)
		}}).Build()
	ph := (&TableauConnectionReconciler{Client: c, APIReader: c}).built()
	personMeta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	if err := c.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: "src"}, personMeta); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := ph.credentials.adoptSupersession(ctx, &scope{conn: conn}, personMeta); err != nil {
			t.Fatal(err)
		}
	}
	if conn.Status.Rotation != nil && conn.Status.Rotation.IssuedSupersedes != "" {
		t.Fatalf("adopted a record the person's Secret does not match: %q", conn.Status.Rotation.IssuedSupersedes)
	}
	if reads != 1 {
		t.Errorf("the person's Secret was read %d times for one pair of versions, want 1", reads)
	}
}
