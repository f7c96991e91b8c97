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

package connection

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// TestCacheLeavesOutNothingOnTheServer: the cache holds connections without kubectl's
// last-applied annotation, and the operator writes status computed from those copies; the
// server keeps the annotation, and each attempt is added to the history it already had.
func TestCacheLeavesOutNothingOnTheServer(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "applied-pat", tn.Secret)
	c := tn.Connection("applied", "3.24")
	applied, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: string(applied), "example.com/keep": "1"}
	Create(t, c)
	first := WaitFor(t, tn.NS, "applied", "Ready", IsReady)
	if len(first.Status.History) != 1 {
		t.Fatalf("history = %+v", first.Status.History)
	}

	// A person asks for a validation: a second attempt, written from the cached copy.
	Annotate(t, first, v1.AnnotationRequestedAt, "2026-01-01T00:00:00Z")
	second := WaitFor(t, tn.NS, "applied", "a second attempt", func(c *v1.TableauConnection) bool {
		return c.Status.LastHandledRequest == "2026-01-01T00:00:00Z" && len(c.Status.History) == 2 && IsReady(c)
	})
	if !equality.Semantic.DeepEqual(second.Status.History[1], first.Status.History[0]) {
		t.Errorf("the first attempt changed: %+v, was %+v", second.Status.History[1], first.Status.History[0])
	}
	if got := second.Annotations[corev1.LastAppliedConfigAnnotation]; got != string(applied) {
		t.Errorf("last-applied annotation on the server = %q, want it unchanged", got)
	}
	if second.Annotations["example.com/keep"] != "1" || second.Spec.Server != c.Spec.Server {
		t.Errorf("the server's object lost an annotation or its spec: %+v", second.ObjectMeta)
	}
}
