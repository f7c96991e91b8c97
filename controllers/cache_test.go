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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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

// TestStripForCacheKeepsWhatTheReconcilersRead: a cached TableauConnection or TableauFleet
// loses only managed fields and kubectl's last-applied annotation; spec, status (history,
// conditions, rotation), labels and every other annotation stay, so a status computed from
// the cached copy is computed from everything the object holds.
func TestStripForCacheKeepsWhatTheReconcilersRead(t *testing.T) {
	const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
	conn := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: "finance", Namespace: "t", Labels: map[string]string{"fleet": "emea"},
			Annotations:   map[string]string{lastApplied: `{"spec":{}}`, v1.AnnotationRequestedAt: "now", "example.com/keep": "1"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: v1.TableauConnectionSpec{Server: "https://tableau.example.com", Site: "finance", APIVersion: "3.24"},
		Status: v1.TableauConnectionStatus{
			Conditions: []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: "SignedIn", Message: "m"}},
			History:    []v1.ValidationAttempt{{Result: v1.ResultSucceeded, Revision: "r2"}, {Result: v1.ResultSucceeded, Revision: "r1"}},
			Rotation:   &v1.RotationStatus{Phase: v1.RotationIdle, ActiveRevision: "r2"},
		},
	}
	want := conn.DeepCopy()
	want.ManagedFields = nil
	delete(want.Annotations, lastApplied)
	out, err := stripForCache(conn)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(*v1.TableauConnection); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("cached connection:\n%+v\nwant:\n%+v", got, want)
	}

	fleet := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "emea", Annotations: map[string]string{lastApplied: "{}", v1.AnnotationResume: "x"}}}
	out, _ = stripForCache(fleet)
	if got := out.(*v1.TableauFleet); got.Annotations[v1.AnnotationResume] != "x" || len(got.Annotations) != 1 {
		t.Errorf("cached fleet annotations = %v, want only %s", got.Annotations, v1.AnnotationResume)
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
	if len(opts.ByObject) != 5 {
		t.Fatalf("ByObject has %d entries, want Secret, ConfigMap and the three workload kinds", len(opts.ByObject))
	}
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
			// Restart targets are named, not labelled: all are watched, stripped.
			if by.Label != nil || by.Transform == nil {
				t.Errorf("%T: label %v, transform set %v; want no label and stripWorkload", obj, by.Label, by.Transform != nil)
			}
			continue
		}
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
