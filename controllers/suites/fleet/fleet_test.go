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
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestFleetRotatesOneTenantAtATime(t *testing.T) {
	names := []string{"alpha", "bravo", "charlie"}
	w := SetupFleet(t, names...)
	// A first rollout is no rotation: the fleet says nothing about it.
	if got := EventReasons(t, w.NS, "wave"); len(got) > 0 {
		t.Errorf("the fleet emitted %v before any rotation", got)
	}
	firstRestart := map[string]string{}
	for _, n := range names {
		firstRestart[n] = w.RestartedAt(t, n)
	}
	// Watch for two tenants rotating at once while the wave runs.
	ctx, cancel := context.WithCancel(context.Background())
	overlap := make(chan string, 1)
	go func() {
		for ctx.Err() == nil {
			var list v1.TableauConnectionList
			if err := K8s().List(ctx, &list, client.InNamespace(w.NS)); err == nil {
				var active []string
				for _, c := range list.Items {
					if rs := c.Status.Rotation; rs != nil && rs.Phase != v1.RotationIdle && rs.Phase != v1.RotationStaged && rs.Phase != v1.RotationFailed {
						active = append(active, c.Name+":"+rs.Phase)
					}
				}
				if len(active) > 1 {
					select {
					case overlap <- strings.Join(active, ", "):
					default:
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	// First deliveries are not rotations: only the three below count.
	completedBefore := testutil.ToFloat64(metrics.Rotations.WithLabelValues("completed"))
	for _, n := range names {
		w.SetSource(t, n, n+"-v2", w.Pat(t, n, n+"-v2", false))
	}
	var done []*v1.TableauConnection
	for _, n := range names {
		done = append(done, w.Settled(t, n, n+"-v2"))
	}
	cancel()
	select {
	case o := <-overlap:
		t.Errorf("two tenants rotated at once: %s", o)
	default:
	}
	// Promotion order follows the fleet's stable order, each after the previous gate.
	sort.Slice(done, func(i, j int) bool { return done[i].Name < done[j].Name })
	for i := 1; i < len(done); i++ {
		prevDone := done[i-1].Status.Rotation.LastCompletionTime.Time
		restarted, err := time.Parse(time.RFC3339Nano, w.RestartedAt(t, done[i].Name))
		if err != nil {
			t.Fatal(err)
		}
		if restarted.Before(prevDone) {
			t.Errorf("%s was promoted at %s, before %s completed at %s", done[i].Name, restarted, done[i-1].Name, prevDone)
		}
	}
	for _, n := range names {
		s := w.Consumer(t, n)
		want := map[string]string{"tokenName": n + "-v2", "server": w.Srv.URL, "site": n, "apiVersion": "3.24"}
		for k, v := range want {
			if string(s.Data[k]) != v {
				t.Errorf("%s consumer %s = %q, want %q", n, k, s.Data[k], v)
			}
		}
		if err := w.ConsumerSignsIn(t, n); err != nil {
			t.Errorf("%s consumer credential does not sign in: %v", n, err)
		}
		if w.RestartedAt(t, n) == firstRestart[n] {
			t.Errorf("%s was not restarted for the promotion", n)
		}
		if SecretExists(t, w.NS, n+"-tableau-previous") || SecretExists(t, w.NS, n+"-tableau-candidate") {
			t.Errorf("%s kept its previous or candidate Secret after completing", n)
		}
		WaitForEvent(t, w.NS, n, "Normal/RotationCompleted")
		// The member's own Event tells the promotion its grant allowed.
		WaitForEvent(t, w.NS, n, "Normal/"+v1.ReasonCredentialPromoted)
	}
	// A wave that neither halts nor meets a vendor incident is told by its members alone:
	// a grant is in status.current, not an Event (one per rotated tenant).
	if got := EventReasons(t, w.NS, "wave"); len(got) > 0 {
		t.Errorf("the fleet emitted %v during a wave without a halt", got)
	}
	// The fleet hears of its members' changes a moment later (fleetCoalesce): the last
	// completion reaches it shortly after the member settled.
	Eventually(t, 20*time.Second, "the fleet to settle with its members", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return f.Status.Members == 3 && !f.Status.Halted && len(f.Status.Current) == 0 && meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionReady),
			fmt.Sprintf("fleet status = %+v", f.Status)
	})
	if v := testutil.ToFloat64(metrics.Rotations.WithLabelValues("completed")) - completedBefore; v < 3 {
		t.Errorf("completed rotations counter grew by %v, want at least 3", v)
	}
}

func TestRejectedCandidateHaltsTheFleet(t *testing.T) {
	names := []string{"alpha", "bravo", "charlie"}
	w := SetupFleet(t, names...)
	w.SetSource(t, "alpha", "alpha-v2", w.Pat(t, "alpha", "alpha-v2", true)) // revoked
	for _, n := range names[1:] {
		w.SetSource(t, n, n+"-v2", w.Pat(t, n, n+"-v2", false))
	}
	WaitFor(t, w.NS, "alpha", "alpha's candidate rejected", func(c *v1.TableauConnection) bool {
		return c.Status.Rotation != nil && c.Status.Rotation.Reason == v1.ReasonCandidateRejected
	})
	Eventually(t, 20*time.Second, "the fleet to halt", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return f.Status.Halted && meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionHalted), fmt.Sprintf("%+v", f.Status)
	})
	f := GetFleet(t, w.NS)
	if h := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionHalted); !strings.Contains(h.Message, "alpha (AuthConfigDrift/SignInRejectedAfterSecretChange)") {
		t.Errorf("Halted message = %q", h.Message)
	}
	// bravo and charlie validated their new PATs but wait; every consumer keeps v1.
	for _, n := range names[1:] {
		WaitFor(t, w.NS, n, n+" staged", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationStaged })
	}
	time.Sleep(time.Second)
	for _, n := range names {
		if got := string(w.Consumer(t, n).Data["tokenName"]); got != n+"-v1" {
			t.Errorf("%s consumer holds %s while the fleet is halted", n, got)
		}
		if err := w.ConsumerSignsIn(t, n); err != nil {
			t.Errorf("%s consumer does not sign in: %v", n, err)
		}
	}
	WaitForEvent(t, w.NS, "alpha", "Warning/CandidateRejected")
	WaitForEvent(t, w.NS, "wave", "Warning/MemberFailed")
	time.Sleep(time.Second)
	halts := 0
	for _, r := range EventReasons(t, w.NS, "wave") {
		if r == "Warning/MemberFailed" {
			halts++
		}
	}
	if halts != 1 {
		t.Errorf("the fleet told its halt %d times", halts)
	}
	// alpha's consumers still sign in: Ready speaks for them, CandidateValid for the new PAT.
	alpha := Get(t, w.NS, "alpha")
	if !IsReady(alpha) {
		t.Errorf("alpha is not Ready while its consumers hold a working credential: %s", Describe(alpha))
	}
	if cv := Condition(alpha, v1.ConditionCandidateValid); cv.Status != metav1.ConditionFalse || !strings.Contains(cv.Message, "AuthConfigDrift") || !strings.Contains(cv.Message, "Next step") {
		t.Errorf("CandidateValid = %+v", cv)
	}
	// Resuming passes alpha; the others roll in order.
	Annotate(t, f, v1.AnnotationResume, "1")
	for _, n := range names[1:] {
		w.Settled(t, n, n+"-v2")
	}
	WaitForEvent(t, w.NS, "wave", "Normal/Resumed")
	f = GetFleet(t, w.NS)
	if f.Status.LastHandledResume != "1" || f.Status.Halted || strings.Join(f.Status.Acknowledged, ",") != "alpha" {
		t.Errorf("fleet after resume = %+v", f.Status)
	}
	if got := string(w.Consumer(t, "alpha").Data["tokenName"]); got != "alpha-v1" {
		t.Errorf("alpha consumer holds %s, want its working v1", got)
	}
}
