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

package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tableau-operator/tableau-operator/internal/audit"
)

// capture sends audit lines, as JSON, to a slice.
func capture(t *testing.T) *[]string {
	t.Helper()
	var lines []string
	audit.SetLogger(funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{}))
	return &lines
}

func TestEveryActionEmitsExactlyOneLineWithEveryKey(t *testing.T) {
	lines := capture(t)
	obj := &metav1.ObjectMeta{Namespace: "tenants", Name: "finance"}
	for _, a := range audit.Actions {
		before := len(*lines)
		audit.Log(context.Background(), a, obj, audit.Entry{Revision: "0123456789ab", RequestID: "req-1", Result: audit.Succeeded})
		if got := len(*lines) - before; got != 1 {
			t.Fatalf("%s emitted %d lines, want 1", a, got)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte((*lines)[before]), &m); err != nil {
			t.Fatalf("%s: not JSON: %v", a, err)
		}
		for _, k := range audit.Keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: line lacks key %q: %s", a, k, (*lines)[before])
			}
		}
		if m[audit.KeyAudit] != true || m[audit.KeyAction] != string(a) || m[audit.KeyNamespace] != "tenants" || m[audit.KeyName] != "finance" ||
			m[audit.KeyRevision] != "0123456789ab" || m[audit.KeyRequestID] != "req-1" || m["msg"] != audit.Message {
			t.Errorf("%s: wrong values: %s", a, (*lines)[before])
		}
	}
	seen := map[audit.Action]bool{}
	for _, a := range audit.Actions {
		if seen[a] {
			t.Errorf("action %s listed twice", a)
		}
		seen[a] = true
	}
}

// TestLinesAreBounded: a value from Tableau cannot make a line unbounded.
func TestLinesAreBounded(t *testing.T) {
	lines := capture(t)
	audit.Log(context.Background(), audit.SignIn, &metav1.ObjectMeta{Namespace: "n", Name: "x"},
		audit.Entry{RequestID: strings.Repeat("r", 10000), Bucket: strings.Repeat("é", 5000)})
	if len((*lines)[0]) > 2000 {
		t.Errorf("line of %d bytes", len((*lines)[0]))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte((*lines)[0]), &m); err != nil {
		t.Fatalf("a cut line is no longer JSON: %v", err)
	}
}
