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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// The one record of credential actions (issue 25): every sign-in Tableau saw is one history
// attempt and one SignIn line; every change of the restart targets' templates one Restart
// line; a serverinfo failure is no sign-in; a first delivery is not a rotation.

// signInRows counts the history attempts that are sign-ins Tableau saw.
func signInRows(c *v1.TableauConnection) int {
	n := 0
	for _, a := range c.Status.History {
		if a.Kind == "" || a.Kind == v1.AttemptSignIn || a.Kind == v1.AttemptCandidateCheck {
			n++
		}
	}
	return n
}

func countAction(lines []map[string]any, a audit.Action) int {
	n := 0
	for _, m := range lines {
		if m[audit.KeyAction] == string(a) {
			n++
		}
	}
	return n
}

// TestFirstDeliveryIsNotARotation: a new tenant signs in once, and its consumers' first
// credential is recorded as FirstDelivery: no Promotion, no RotationCompleted, no
// lastCompletionTime.
func TestFirstDeliveryIsNotARotation(t *testing.T) {
	w := NewWorld(t)
	offset := len(Current().Logs.String())
	w.Deployment(t, "fresh-app", false)
	w.SetSource(t, "fresh", "fresh-v1", w.Pat(t, "fresh", "fresh-v1", false))
	Create(t, w.TenantConnection("fresh"))
	c := w.Settled(t, "fresh", "fresh-v1")
	c = WaitFor(t, w.NS, "fresh", "first delivery recorded", func(c *v1.TableauConnection) bool {
		return c.Status.Rotation.Reason == v1.ReasonFirstDeliveryCompleted
	})
	lines := WaitAudit(t, offset, w.NS, "fresh", audit.Gate)
	want := []string{"SignIn/Succeeded", "CandidateStaged/Succeeded", "FirstDelivery/Succeeded", "Restart/Succeeded", "Gate/Passed"}
	if got := Sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit trail of a first delivery:\n got %v\nwant %v", got, want)
	}
	if r := lines[3][audit.KeyReason]; r != v1.ReasonFirstDelivery {
		t.Errorf("the first delivery's restart has reason %v, want %s", r, v1.ReasonFirstDelivery)
	}
	if rs := c.Status.Rotation; rs.LastCompletionTime != nil || rs.ActiveSince == nil {
		t.Errorf("after a first delivery: lastCompletionTime %v (want none), activeSince %v", rs.LastCompletionTime, rs.ActiveSince)
	}
	if n := w.Sim.Calls("auth/signin"); n != 1 || signInRows(c) != 1 {
		t.Errorf("Tableau saw %d sign-ins and history holds %d, want 1 and 1: %+v", n, signInRows(c), c.Status.History)
	}
	time.Sleep(time.Second) // a late line would be a second record of the same delivery
	if all := AuditLines(t, offset, w.NS, "fresh"); countAction(all, audit.Promotion)+countAction(all, audit.RotationCompleted) != 0 {
		t.Errorf("a first delivery recorded as a rotation: %v", Sequence(all))
	}
}

// TestEverySignInIsOneAttemptAndOneLine: with recheckAfter 0s the candidate signs in again
// right before promotion; that sign-in is a history attempt (kind CandidateCheck) and a line.
func TestEverySignInIsOneAttemptAndOneLine(t *testing.T) {
	w := NewWorld(t)
	w.Deployment(t, "ledger2-app", false)
	w.SetSource(t, "ledger2", "ledger2-v1", w.Pat(t, "ledger2", "ledger2-v1", false))
	offset := len(Current().Logs.String())
	Create(t, w.TenantConnection("ledger2", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.RecheckAfter = &metav1.Duration{}
	}))
	w.Settled(t, "ledger2", "ledger2-v1")
	w.SetSource(t, "ledger2", "ledger2-v2", w.Pat(t, "ledger2", "ledger2-v2", false))
	w.Settled(t, "ledger2", "ledger2-v2")
	WaitAudit(t, offset, w.NS, "ledger2", audit.RotationCompleted)
	c := Get(t, w.NS, "ledger2")
	lines := AuditLines(t, offset, w.NS, "ledger2")
	checks := 0
	for _, a := range c.Status.History {
		if a.Kind == v1.AttemptCandidateCheck {
			checks++
		}
	}
	// v1 and v2 validated, each checked once more before promotion.
	if n := w.Sim.Calls("auth/signin"); n != 4 || signInRows(c) != 4 || countAction(lines, audit.SignIn) != 4 || checks != 2 {
		t.Errorf("Tableau saw %d sign-ins; history holds %d (%d candidate checks); the trail %d SignIn lines; want 4, 4 (2), 4\n%v\n%+v",
			n, signInRows(c), checks, countAction(lines, audit.SignIn), Sequence(lines), c.Status.History)
	}
	if c.Status.Rotation.LastCompletionTime == nil {
		t.Error("a completed rotation without lastCompletionTime")
	}
}

// TestRollbackRestartIsAudited: the rollback's restart changes the targets' templates again,
// and has its own Restart line.
func TestRollbackRestartIsAudited(t *testing.T) {
	w := NewWorld(t)
	w.Deployment(t, "sole-app", false)
	w.SetSource(t, "sole", "sole-v1", w.Pat(t, "sole", "sole-v1", false))
	Create(t, w.TenantConnection("sole", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	w.Settled(t, "sole", "sole-v1")
	stamps := map[string]bool{w.RestartedAt(t, "sole"): true}
	offset := len(Current().Logs.String())
	w.SetBroken(t, "sole-app", true)
	w.SetSource(t, "sole", "sole-v2", w.Pat(t, "sole", "sole-v2", false))
	WaitFor(t, w.NS, "sole", "restarted with v2", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationGating })
	stamps[w.RestartedAt(t, "sole")] = true
	lines := WaitAudit(t, offset, w.NS, "sole", audit.Rollback)
	stamps[w.RestartedAt(t, "sole")] = true
	want := []string{"SignIn/Succeeded", "CandidateStaged/Succeeded", "Promotion/Succeeded", "Restart/Succeeded", "Gate/TimedOut", "Restart/Succeeded", "Rollback/Succeeded"}
	if got := Sequence(lines); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit trail of a rollback:\n got %v\nwant %v", got, want)
	}
	if len(stamps) != 3 {
		t.Errorf("the templates carried %d restart stamps, want 3 (delivery, rotation, rollback): %v", len(stamps), stamps)
	}
	if r := lines[5][audit.KeyReason]; r != v1.ReasonRollbackRestart {
		t.Errorf("the rollback's restart has reason %v", r)
	}
	rs := Get(t, w.NS, "sole").Status.Rotation
	if rs.LastCompletionTime != nil {
		t.Errorf("lastCompletionTime %v: neither the first delivery nor the rolled-back rotation completed a rotation", rs.LastCompletionTime)
	}
}

// TestServerInfoFailureIsNoSignIn: a pin above the server stops before any sign-in; its
// attempt is a ServerInfo row, and no SignIn line is written.
func TestServerInfoFailureIsNoSignIn(t *testing.T) {
	w := NewWorld(t)
	w.SetSource(t, "above", "above-v1", w.Pat(t, "above", "above-v1", false))
	offset := len(Current().Logs.String())
	Create(t, w.TenantConnection("above", func(c *v1.TableauConnection) { c.Spec.APIVersion = "3.26" }))
	c := WaitFor(t, w.NS, "above", "version mismatch recorded", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.Stage == v1.StageServer && len(c.Status.History) > 0
	})
	for _, a := range c.Status.History {
		if a.Kind != v1.AttemptServerInfo {
			t.Errorf("attempt of kind %q for a tenant that never signed in: %+v", a.Kind, a)
		}
	}
	if n := w.Sim.Calls("auth/signin"); n != 0 {
		t.Errorf("Tableau saw %d sign-ins", n)
	}
	if n := countAction(AuditLines(t, offset, w.NS, "above"), audit.SignIn); n != 0 {
		t.Errorf("%d SignIn lines for a tenant that never signed in", n)
	}
}

// TestActiveExpiryKeptWhileTheCandidateFails: the active PAT's expiry stays in status while a
// new credential in the source is rejected.
func TestActiveExpiryKeptWhileTheCandidateFails(t *testing.T) {
	w := NewWorld(t)
	w.Deployment(t, "keep-app", false)
	w.SetSource(t, "keep", "keep-v1", w.Pat(t, "keep", "keep-v1", false))
	Create(t, w.TenantConnection("keep"))
	first := w.Settled(t, "keep", "keep-v1")
	want := first.Status.Credentials.ExpiresAt
	if want == nil {
		t.Fatal("the simulator sent no expiry for keep-v1")
	}
	w.SetSource(t, "keep", "keep-v2", w.Pat(t, "keep", "keep-v2", true))
	c := WaitFor(t, w.NS, "keep", "keep-v2 rejected", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationFailed })
	if got := c.Status.Rotation.ActiveExpiresAt; got == nil || !got.Equal(want) {
		t.Errorf("activeExpiresAt %v while keep-v2 fails, want keep-v1's %v", got, want)
	}
}
