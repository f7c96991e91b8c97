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

package controllers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/audit"
)

// auditLines returns the audit lines the operator logged for ns/name since offset in the log.
func auditLines(t *testing.T, offset int, ns, name string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs.String()[offset:], "\n") {
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
		for _, s := range secrets.all() {
			if strings.Contains(line, s) {
				t.Fatalf("an audit line carries a secret: %s", line)
			}
		}
		out = append(out, m)
	}
	return out
}

// sequence is the lines as action/result, and with the key named by which, its value.
func sequence(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		out = append(out, m[audit.KeyAction].(string)+"/"+m[audit.KeyResult].(string))
	}
	return out
}

// waitAudit waits until the lines for ns/name since offset hold the action last, and returns
// them up to it.
func waitAudit(t *testing.T, offset int, ns, name string, last audit.Action) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		lines := auditLines(t, offset, ns, name)
		for i, m := range lines {
			if m[audit.KeyAction] == string(last) {
				return lines[:i+1]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s audit line within 60s; lines: %v", last, sequence(lines))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestAuditTrailOfAPATRotation(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "ledger-app", false)
	w.setSource(t, "ledger", "ledger-v1", w.pat(t, "ledger", "ledger-v1", false))
	create(t, w.tenantConnection("ledger"))
	w.settled(t, "ledger", "ledger-v1")
	offset := len(logs.String())
	w.setSource(t, "ledger", "ledger-v2", w.pat(t, "ledger", "ledger-v2", false))
	c := w.settled(t, "ledger", "ledger-v2")
	lines := waitAudit(t, offset, w.ns, "ledger", audit.RotationCompleted)
	// v2 signed in a moment before its promotion: within recheckAfter, no second sign-in.
	want := []string{"SignIn/Succeeded", "CandidateStaged/Succeeded", "Promotion/Succeeded", "Restart/Succeeded",
		"Gate/Passed", "RotationCompleted/Succeeded"}
	if got := sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of a rotation:\n got %v\nwant %v", got, want)
	}
	rev := c.Status.Rotation.ActiveRevision
	for _, m := range lines {
		if m[audit.KeyRevision] != rev {
			t.Errorf("line names revision %v, want the new credential's %s: %v", m[audit.KeyRevision], rev, m)
		}
	}
}

func TestAuditTrailOfARejectedCandidate(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "till-app", false)
	w.setSource(t, "till", "till-v1", w.pat(t, "till", "till-v1", false))
	create(t, w.tenantConnection("till"))
	w.settled(t, "till", "till-v1")
	offset := len(logs.String())
	w.setSource(t, "till", "till-v2", w.pat(t, "till", "till-v2", true))
	lines := waitAudit(t, offset, w.ns, "till", audit.CandidateRejected)
	want := []string{"SignIn/Failed", "CandidateRejected/Failed"}
	if got := sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of a rejected candidate:\n got %v\nwant %v", got, want)
	}
	for _, m := range lines {
		if m[audit.KeyBucket] != "AuthConfigDrift" {
			t.Errorf("a rejection line lacks the bucket: %v", m)
		}
	}
}

func TestAuditTrailOfAnAutomaticRotation(t *testing.T) {
	w := automaticTenants(t, nil, "vault")
	old := get(t, w.ns, "vault").Status.Credentials.SecretID
	offset := len(logs.String())
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "vault")
	id := w.automaticSettled(t, "vault", old)
	lines := waitAudit(t, offset, w.ns, "vault", audit.SecretDeleted)
	got := sequence(lines)
	var created, deleted map[string]any
	for _, m := range lines {
		switch m[audit.KeyAction] {
		case string(audit.SecretCreated):
			created = m
		case string(audit.SecretDeleted):
			deleted = m
		}
	}
	if created == nil || created[audit.KeySecretID] != id || deleted == nil || deleted[audit.KeySecretID] != old {
		t.Errorf("created %v, deleted %v: want %s created and %s deleted", created, deleted, id, old)
	}
	want := []string{"AdminSession/Succeeded", "ConnectedAppSecretCreated/Succeeded", "SignIn/Succeeded", "CandidateStaged/Succeeded",
		"Promotion/Succeeded", "Restart/Succeeded", "Gate/Passed", "RotationCompleted/Succeeded",
		"AdminSession/Succeeded", "ConnectedAppSecretDeleted/Succeeded"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of an automatic rotation:\n got %v\nwant %v", got, want)
	}
}

// A second bad credential while the first rejection stands is a rejection of its own: the
// phase stays Failed, but the trail must still say which revision was rejected.
func TestAuditTrailOfASecondRejectedCandidate(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "kiosk-app", false)
	w.setSource(t, "kiosk", "kiosk-v1", w.pat(t, "kiosk", "kiosk-v1", false))
	create(t, w.tenantConnection("kiosk"))
	w.settled(t, "kiosk", "kiosk-v1")
	offset := len(logs.String())
	w.setSource(t, "kiosk", "kiosk-v2", w.pat(t, "kiosk", "kiosk-v2", true))
	first := waitAudit(t, offset, w.ns, "kiosk", audit.CandidateRejected)
	offset = len(logs.String())
	w.setSource(t, "kiosk", "kiosk-v3", w.pat(t, "kiosk", "kiosk-v3", true))
	lines := waitAudit(t, offset, w.ns, "kiosk", audit.CandidateRejected)
	want := []string{"SignIn/Failed", "CandidateRejected/Failed"}
	if got := sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of the second rejected candidate:\n got %v\nwant %v", got, want)
	}
	rejected := lines[len(lines)-1][audit.KeyRevision]
	if rejected == "" || rejected == first[len(first)-1][audit.KeyRevision] || rejected != lines[0][audit.KeyRevision] {
		t.Errorf("the second rejection names revision %v; want the new credential's %v, not the first rejected %v",
			rejected, lines[0][audit.KeyRevision], first[len(first)-1][audit.KeyRevision])
	}
	// Status says what this reconcile observed: the message names the revision now rejected.
	rs := get(t, w.ns, "kiosk").Status.Rotation
	if rs.FailedRevision != rejected || !strings.Contains(rs.Message, rejected.(string)) {
		t.Errorf("rotation status after the second rejection: failedRevision %q, message %q; want both to name %v", rs.FailedRevision, rs.Message, rejected)
	}
}
