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

package callgate

import (
	"testing"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A Secret change opens the gate: the rejected PAT's next attempt (an hour away) is held in
// memory, and a fixed Secret is validated at once, not when that hold ends. The gate's inputs
// are the Secret read now, not the revision status recorded for the rejected sign-in.
func TestFixedSecretAfterARejectionPassesTheGateAtOnce(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SetSource(t, "fix", "fix-v1", w.Pat(t, "fix", "fix-v1", true))
	Create(t, w.TenantConnection("fix", validationOnly))
	c := WaitFor(t, w.NS, "fix", "the revoked PAT rejected", ReadyReason("SignInRejected"))
	if g := c.Status.CallGate; g == nil || len(g.Holds) == 0 {
		t.Fatalf("the rejection held no class of calls: callGate = %+v", g)
	}
	w.SetSource(t, "fix", "fix-v2", w.Pat(t, "fix", "fix-v2", false))
	WaitFor(t, w.NS, "fix", "the fixed Secret validated", func(c *v1.TableauConnection) bool {
		return IsReady(c) && c.Status.Credentials != nil && c.Status.Credentials.TokenName == "fix-v2"
	})
	if n := w.Sim.Calls("auth/signin"); n != 2 {
		t.Errorf("%d sign-ins, want 2 (the rejected PAT once, the fixed one once)", n)
	}
}
