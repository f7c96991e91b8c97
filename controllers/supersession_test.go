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
