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

package fleet

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A suspended member makes no move, so it must take no slot: a staged member suspended while
// the wave pauses must not be granted the next turn and hold everyone after it.
func TestSuspendedMemberHoldsNoSlotInTheWave(t *testing.T) {
	w := NewWorld(t)
	f := NewFleet(t, w.NS, func(f *v1.TableauFleet) {
		f.Spec.Rollout.PauseBetween = &metav1.Duration{Duration: time.Hour}
	})
	names := []string{"alpha", "bravo"}
	for _, n := range names {
		w.Deployment(t, n+"-app", false)
		w.SetSource(t, n, n+"-v1", w.Pat(t, n, n+"-v1", false))
		Create(t, w.TenantConnection(n))
	}
	for _, n := range names {
		w.Settled(t, n, n+"-v1")
	}
	// A first delivery is no rotation and starts no pause: alpha's first rotation does.
	w.SetSource(t, "alpha", "alpha-v2", w.Pat(t, "alpha", "alpha-v2", false))
	w.Settled(t, "alpha", "alpha-v2")
	Eventually(t, 20*time.Second, "the fleet to record the first completion", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return f.Status.LastCompletionTime != nil, fmt.Sprintf("%+v", f.Status)
	})
	// Both get a new PAT and wait for the pause to end.
	w.SetSource(t, "alpha", "alpha-v3", w.Pat(t, "alpha", "alpha-v3", false))
	w.SetSource(t, "bravo", "bravo-v2", w.Pat(t, "bravo", "bravo-v2", false))
	for _, n := range names {
		WaitFor(t, w.NS, n, n+" staged", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationStaged })
	}
	alpha := Get(t, w.NS, "alpha")
	patched := alpha.DeepCopy()
	patched.Spec.Suspend = true
	if err := K8s().Patch(context.Background(), patched, client.MergeFrom(alpha)); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, w.NS, "alpha", "alpha suspended", func(c *v1.TableauConnection) bool {
		r := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionReady)
		return r != nil && r.Reason == v1.ReasonSuspended
	})
	// The pause ends: bravo, not the suspended alpha, gets the turn and completes.
	f = GetFleet(t, w.NS)
	unpaused := f.DeepCopy()
	unpaused.Spec.Rollout.PauseBetween = nil
	if err := K8s().Patch(context.Background(), unpaused, client.MergeFrom(f)); err != nil {
		t.Fatal(err)
	}
	w.Settled(t, "bravo", "bravo-v2")
	Eventually(t, 20*time.Second, "the fleet to name its suspended member", func() (bool, string) {
		f := GetFleet(t, w.NS)
		ready := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionReady)
		return strings.Join(f.Status.Suspended, ",") == "alpha" && len(f.Status.Current) == 0 && ready != nil && strings.Contains(ready.Message, "alpha"),
			fmt.Sprintf("%+v", f.Status)
	})
	if got := string(w.Consumer(t, "alpha").Data["tokenName"]); got != "alpha-v2" {
		t.Errorf("the suspended alpha's consumer holds %s, want alpha-v2", got)
	}
	// Resumed, alpha takes its turn.
	alpha = Get(t, w.NS, "alpha")
	patched = alpha.DeepCopy()
	patched.Spec.Suspend = false
	if err := K8s().Patch(context.Background(), patched, client.MergeFrom(alpha)); err != nil {
		t.Fatal(err)
	}
	w.Settled(t, "alpha", "alpha-v3")
	if f := GetFleet(t, w.NS); len(f.Status.Suspended) != 0 {
		t.Errorf("fleet still names suspended members: %v", f.Status.Suspended)
	}
}

// A member whose new PAT is slow to validate holds its place from the moment its change is
// seen: the member after it does not promote before the slow one is staged or rejected, so
// when the slow one is rejected the halt comes first.
func TestSlowValidationKeepsItsPlaceInTheWave(t *testing.T) {
	w := SetupFleet(t, "alpha", "bravo")
	bravoRestart := w.RestartedAt(t, "bravo")
	before := w.Sim.Calls("auth/signin")
	// alpha's new PAT answers its sign-in in 8 s, then is refused.
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultLatency, Endpoint: "auth/signin", Times: 1, Delay: 8 * time.Second})
	t.Cleanup(w.Sim.ClearFaults)
	w.SetSource(t, "alpha", "alpha-v2", w.Pat(t, "alpha", "alpha-v2", true))
	Eventually(t, 20*time.Second, "alpha's sign-in to start", func() (bool, string) {
		n := w.Sim.Calls("auth/signin")
		return n > before, fmt.Sprint(n, " sign-ins")
	})
	// While alpha's sign-in hangs, bravo gets a good new PAT.
	w.SetSource(t, "bravo", "bravo-v2", w.Pat(t, "bravo", "bravo-v2", false))
	Eventually(t, 30*time.Second, "the fleet to halt at alpha", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return f.Status.Halted && strings.Join(f.Status.Failed, ",") == "alpha", fmt.Sprintf("%+v", f.Status)
	})
	time.Sleep(time.Second)
	bravo := Get(t, w.NS, "bravo")
	if RotationPhase(bravo) != v1.RotationStaged {
		t.Errorf("bravo is %s, want staged behind the halt: %s", RotationPhase(bravo), Describe(bravo))
	}
	if got := string(w.Consumer(t, "bravo").Data["tokenName"]); got != "bravo-v1" {
		t.Errorf("bravo's consumer holds %s: bravo overtook alpha while alpha validated", got)
	}
	if w.RestartedAt(t, "bravo") != bravoRestart {
		t.Error("bravo's consumers were restarted while alpha validated")
	}
}

// While a slow sign-in of a new PAT runs, status says which revision is being validated and
// nothing more: it does not say that the new PAT signed in (the old sign-in's time under the
// new token's name).
func TestValidatingRevisionClaimsNoSignInOfTheNewPAT(t *testing.T) {
	// A fleet's member: the mark holds its place in the wave, and only a fleet reads it (a
	// connection no fleet selects writes none: TestValidatingRevisionIsWrittenOnlyForAFleet).
	w := SetupFleet(t, "slowpat")
	old := Get(t, w.NS, "slowpat").Status.Credentials.Revision
	before := w.Sim.Calls("auth/signin")
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultLatency, Endpoint: "auth/signin", Times: 1, Delay: 8 * time.Second})
	t.Cleanup(w.Sim.ClearFaults)
	w.SetSource(t, "slowpat", "slowpat-v2", w.Pat(t, "slowpat", "slowpat-v2", false))
	Eventually(t, 20*time.Second, "the sign-in to start", func() (bool, string) {
		n := w.Sim.Calls("auth/signin")
		return n > before, fmt.Sprint(n, " sign-ins")
	})
	c := Get(t, w.NS, "slowpat")
	if c.Status.Credentials.Revision == old || c.Status.Credentials.RevisionChangedAt == nil {
		t.Fatalf("the revision being validated is not in status before the sign-in: %s", Describe(c))
	}
	if c.Status.Credentials.LastAttemptRevision != c.Status.Credentials.Revision {
		if s := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionSignedIn); s != nil && s.Status == metav1.ConditionTrue && strings.Contains(s.Message, "slowpat-v2") {
			t.Errorf("during the new PAT's first sign-in, SignedIn says: %s", s.Message)
		}
		if c.Status.Credentials.TokenName == "slowpat-v2" {
			t.Errorf("status names the new PAT as the one that signed in before it did: %+v", c.Status.Credentials)
		}
	}
	w.Settled(t, "slowpat", "slowpat-v2")
}
