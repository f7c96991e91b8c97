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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func TestStripForCacheKeepsOnlyTheCredentialLabel(t *testing.T) {
	for _, labels := range []map[string]string{
		{v1.LabelCredential: v1.CredentialConsent, "team": "finance"},
		{"a": "b"},
	} {
		m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "s", ResourceVersion: "7", Labels: labels,
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"tokenSecret":"c2VjcmV0"}}`},
			Finalizers:    []string{"x"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
		value, labelled := labels[v1.LabelCredential]
		out, err := stripForCache(m)
		if err != nil {
			t.Fatal(err)
		}
		got := out.(*metav1.PartialObjectMetadata)
		if got.Annotations != nil || got.Finalizers != nil || got.ManagedFields != nil || got.Name != "s" || got.ResourceVersion != "7" ||
			len(got.Labels) != map[bool]int{true: 1}[labelled] || got.Labels[v1.LabelCredential] != value {
			t.Errorf("stripped = %+v", got.ObjectMeta)
		}
	}
	// The operator's own Secrets keep their mark and bundle annotations (compared from the
	// cache in steady state), never a last-applied annotation.
	own := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "consumer",
		Labels:      map[string]string{v1.LabelCredential: v1.CredentialManaged},
		Annotations: map[string]string{v1.AnnotationEndpoint: "e", "kubectl.kubernetes.io/last-applied-configuration": "{}"}}}
	out, _ := stripForCache(own)
	if got := out.(*metav1.PartialObjectMetadata); got.Annotations[v1.AnnotationEndpoint] != "e" || got.Labels[v1.LabelCredential] != v1.CredentialManaged ||
		got.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
		t.Errorf("the operator's own Secret lost its mark or kept last-applied: %+v", got.ObjectMeta)
	}
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"keep": "me"}, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "x"}}}}
	out, _ = stripForCache(c)
	if got := out.(*v1.TableauConnection); got.Annotations["keep"] != "me" || got.ManagedFields != nil {
		t.Errorf("a full object lost its annotations or kept managed fields: %+v", got.ObjectMeta)
	}
}

func TestCacheWatchesOnlyLabelledSecretsAndConfigMaps(t *testing.T) {
	cases := []struct {
		value             string
		secret, configMap bool
	}{
		{v1.CredentialConsent, true, true},
		{v1.CredentialManaged, true, false},
		{"", false, false},
		{"yes", false, false},
	}
	opts := CacheOptions()
	if len(opts.ByObject) != 2 {
		t.Fatalf("ByObject has %d entries, want Secret and ConfigMap", len(opts.ByObject))
	}
	for obj, by := range opts.ByObject {
		for _, tc := range cases {
			set := labels.Set{}
			if tc.value != "" {
				set[v1.LabelCredential] = tc.value
			}
			var want bool
			switch obj.(type) {
			case *corev1.Secret:
				want = tc.secret
			case *corev1.ConfigMap:
				want = tc.configMap
			default:
				t.Fatalf("unexpected ByObject entry %T", obj)
			}
			if got := by.Label.Matches(set); got != want {
				t.Errorf("%T selector matches %q = %v, want %v", obj, tc.value, got, want)
			}
		}
	}
}
