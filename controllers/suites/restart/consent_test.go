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

package restart

import (
	"testing"

	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestRestartedOperatorReadsNoContentOfUnchangedSecrets(t *testing.T) {
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "kept-pat", tn.Secret)
	Create(t, tn.Connection("kept", "3.24"))
	WaitFor(t, tn.NS, "kept", "Ready", IsReady)
	contentReads, signIns := Current().Reads.Count("content", "Secret", tn.NS, "kept-pat"), tn.Sim.Calls("auth/signin")

	Current().StopManager()
	ReconciledAgain(t, tn.NS, "kept", func() {
		if err := Current().StartManager(nil); err != nil {
			t.Fatal(err)
		}
	})
	c := Get(t, tn.NS, "kept")
	if !IsReady(c) {
		t.Errorf("not Ready after the restart: %s", Describe(c))
	}
	if n := Current().Reads.Count("content", "Secret", tn.NS, "kept-pat") - contentReads; n != 0 {
		t.Errorf("the restarted operator read the unchanged Secret %d times", n)
	}
	if n := tn.Sim.Calls("auth/signin") - signIns; n != 0 {
		t.Errorf("the restarted operator signed in %d times", n)
	}
}
