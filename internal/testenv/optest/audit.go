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
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/audit"
)

// AuditLines returns the audit lines the operator logged for ns/name since offset in the log.
func AuditLines(t *testing.T, offset int, ns, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(Current().Logs.String()[offset:], "\n") {
		if !strings.Contains(line, `"audit":true`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("an audit line is not JSON: %v\n%s", err, line)
		}
		if m[audit.KeyNamespace] != ns || m[audit.KeyName] != name {
			continue
		}
		for _, k := range audit.Keys {
			if _, ok := m[k]; !ok {
				t.Errorf("audit line lacks %q: %s", k, line)
			}
		}
		if id, _ := m[audit.KeyReconcileID].(string); id == "" {
			t.Errorf("audit line without a reconcile id: %s", line)
		}
		for _, s := range Current().Secrets.All() {
			if strings.Contains(line, s) {
				t.Fatalf("an audit line carries a secret: %s", line)
			}
		}
		out = append(out, m)
	}
	return out
}

// Sequence is the lines as action/result, and with the key named by which, its value.
func Sequence(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		out = append(out, m[audit.KeyAction].(string)+"/"+m[audit.KeyResult].(string))
	}
	return out
}

// WaitAudit waits until the lines for ns/name since offset hold the action last, and returns
// them up to it.
func WaitAudit(t *testing.T, offset int, ns, name string, last audit.Action) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		lines := AuditLines(t, offset, ns, name)
		for i, m := range lines {
			if m[audit.KeyAction] == string(last) {
				return lines[:i+1]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s audit line within 60s; lines: %v", last, Sequence(lines))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
