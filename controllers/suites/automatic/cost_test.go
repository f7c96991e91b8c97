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
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/audit"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// An automatic rotation signs in as the administrator once for all its steps, lists the app's
// secrets once per step that needs them (before the create, before the delete, and once more
// to see the delete took), and leaves no session open on Tableau when it ends. What it costs
// in all is the bench's automatic act (BENCH_AUTOMATIC=1).
func TestAutomaticRotationListsPerStepUnderOneAdminSession(t *testing.T) {
	w := AutomaticTenants(t, nil, "thrift")
	old := Get(t, w.NS, "thrift").Status.Credentials.SecretID
	offset := len(Current().Logs.String())
	listings := w.Sim.Calls("connected-apps")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "thrift")
	w.AutomaticSettled(t, "thrift", old)
	sessions := 0
	for _, m := range WaitAudit(t, offset, w.NS, "thrift", audit.SecretDeleted) {
		if m[audit.KeyAction] == "AdminSession" {
			sessions++
		}
	}
	if sessions != 1 {
		t.Errorf("%d administrator sessions for one rotation, want 1", sessions)
	}
	if n := w.Sim.Calls("connected-apps") - listings; n < 2 || n > 3 {
		t.Errorf("%d listings of the app's secrets, want one before the create, one before the delete and at most one to see it took", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for w.Sim.Calls("auth/signout") != w.Sim.Calls("auth/signin") {
		if time.Now().After(deadline) {
			t.Fatalf("%d sign-ins and %d sign-outs: a session stays open after the rotation", w.Sim.Calls("auth/signin"), w.Sim.Calls("auth/signout"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
