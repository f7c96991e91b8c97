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

package optest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// ForeignSecret creates a Secret the operator did not make (no owner, no labels).
func ForeignSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{"mine": []byte("keep me")}}
	Create(t, s)
	return s
}

// GetSecret reads a Secret the test expects to exist.
func GetSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("Secret %s: %v", name, err)
	}
	return s
}

// AssertUntouched fails the test if the operator changed a Secret made by ForeignSecret.
func AssertUntouched(t *testing.T, ns, name string) {
	t.Helper()
	s := GetSecret(t, ns, name)
	if string(s.Data["mine"]) != "keep me" || len(s.Data) != 1 || len(s.OwnerReferences) != 0 || s.Labels[v1.LabelCredential] != "" {
		t.Errorf("the operator touched Secret %s, which is not its own: data keys %d, owners %v, labels %v", name, len(s.Data), s.OwnerReferences, s.Labels)
	}
}

// SoloTenant makes a tenant outside any fleet with its first PAT published to its consumers.
func (w *World) SoloTenant(t *testing.T, name string, mutate ...func(*v1.TableauConnection)) *v1.TableauConnection {
	t.Helper()
	w.Deployment(t, name+"-app", false)
	w.SetSource(t, name, name+"-v1", w.Pat(t, name, name+"-v1", false))
	Create(t, w.TenantConnection(name, append([]func(*v1.TableauConnection){func(c *v1.TableauConnection) { c.Labels = nil }}, mutate...)...))
	return w.Settled(t, name, name+"-v1")
}

// NameTaken holds when ConsumersReady is False because the consumer Secret's name is taken.
func NameTaken(c *v1.TableauConnection) bool {
	cr := Condition(c, v1.ConditionConsumersReady)
	return cr.Status == metav1.ConditionFalse && cr.Reason == v1.ReasonSecretNameTaken
}
