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

package automatic

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/audit"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestAuditTrailOfAnAutomaticRotation(t *testing.T) {
	w := AutomaticTenants(t, nil, "vault")
	old := Get(t, w.NS, "vault").Status.Credentials.SecretID
	offset := len(Current().Logs.String())
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "vault")
	id := w.AutomaticSettled(t, "vault", old)
	lines := WaitAudit(t, offset, w.NS, "vault", audit.SecretDeleted)
	got := Sequence(lines)
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
		"ConnectedAppSecretDeleted/Succeeded"}
	// One administrator session for the whole rotation: the delete after the gate uses the
	// session the create signed in with (kept in the operator's memory between the steps).
	// A reconcile whose locked status write meets a conflict (the test's own poke lands at any
	// moment) ends, and the next one signs in as the administrator again before it creates:
	// that sign-in happened and has its line. The order of what the rotation did is what this
	// checks, so a run of administrator sessions counts as one here.
	got = slices.CompactFunc(got, func(a, b string) bool { return a == b && a == "AdminSession/Succeeded" })
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail of an automatic rotation:\n got %v\nwant %v", got, want)
	}
}
