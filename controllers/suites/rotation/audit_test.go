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

package rotation

import (
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/audit"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestAuditTrailOfAPATRotation(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "ledger-app", false)
	w.SetSource(t, "ledger", "ledger-v1", w.Pat(t, "ledger", "ledger-v1", false))
	Create(t, w.TenantConnection("ledger"))
	w.Settled(t, "ledger", "ledger-v1")
	offset := len(Current().Logs.String())
	w.SetSource(t, "ledger", "ledger-v2", w.Pat(t, "ledger", "ledger-v2", false))
	c := w.Settled(t, "ledger", "ledger-v2")
	lines := WaitAudit(t, offset, w.NS, "ledger", audit.RotationCompleted)
	// v2 signed in a moment before its promotion: within recheckAfter, no second sign-in.
	want := []string{"SignIn/Succeeded", "CandidateStaged/Succeeded", "Promotion/Succeeded", "Restart/Succeeded",
		"Gate/Passed", "RotationCompleted/Succeeded"}
	if got := Sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
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
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "till-app", false)
	w.SetSource(t, "till", "till-v1", w.Pat(t, "till", "till-v1", false))
	Create(t, w.TenantConnection("till"))
	w.Settled(t, "till", "till-v1")
	offset := len(Current().Logs.String())
	w.SetSource(t, "till", "till-v2", w.Pat(t, "till", "till-v2", true))
	lines := WaitAudit(t, offset, w.NS, "till", audit.CandidateRejected)
	want := []string{"SignIn/Failed", "CandidateRejected/Failed"}
	if got := Sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of a rejected candidate:\n got %v\nwant %v", got, want)
	}
	for _, m := range lines {
		if m[audit.KeyBucket] != "AuthConfigDrift" {
			t.Errorf("a rejection line lacks the bucket: %v", m)
		}
	}
}

// A second bad credential while the first rejection stands is a rejection of its own: the
// phase stays Failed, but the trail must still say which revision was rejected.
func TestAuditTrailOfASecondRejectedCandidate(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "kiosk-app", false)
	w.SetSource(t, "kiosk", "kiosk-v1", w.Pat(t, "kiosk", "kiosk-v1", false))
	Create(t, w.TenantConnection("kiosk"))
	w.Settled(t, "kiosk", "kiosk-v1")
	offset := len(Current().Logs.String())
	w.SetSource(t, "kiosk", "kiosk-v2", w.Pat(t, "kiosk", "kiosk-v2", true))
	first := WaitAudit(t, offset, w.NS, "kiosk", audit.CandidateRejected)
	offset = len(Current().Logs.String())
	w.SetSource(t, "kiosk", "kiosk-v3", w.Pat(t, "kiosk", "kiosk-v3", true))
	lines := WaitAudit(t, offset, w.NS, "kiosk", audit.CandidateRejected)
	want := []string{"SignIn/Failed", "CandidateRejected/Failed"}
	if got := Sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of the second rejected candidate:\n got %v\nwant %v", got, want)
	}
	rejected := lines[len(lines)-1][audit.KeyRevision]
	if rejected == "" || rejected == first[len(first)-1][audit.KeyRevision] || rejected != lines[0][audit.KeyRevision] {
		t.Errorf("the second rejection names revision %v; want the new credential's %v, not the first rejected %v",
			rejected, lines[0][audit.KeyRevision], first[len(first)-1][audit.KeyRevision])
	}
	// Status says what this reconcile observed: the message names the revision now rejected.
	rs := Get(t, w.NS, "kiosk").Status.Rotation
	if rs.FailedRevision != rejected || !strings.Contains(rs.Message, rejected.(string)) {
		t.Errorf("rotation status after the second rejection: failedRevision %q, message %q; want both to name %v", rs.FailedRevision, rs.Message, rejected)
	}
}
