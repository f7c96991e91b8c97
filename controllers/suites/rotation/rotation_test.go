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
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestGateFailureRollsBack(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "solo-app", false)
	w.SetSource(t, "solo", "solo-v1", w.Pat(t, "solo", "solo-v1", false))
	Create(t, w.TenantConnection("solo", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	w.Settled(t, "solo", "solo-v1")
	firstRestart := w.RestartedAt(t, "solo")
	w.SetBroken(t, "solo-app", true)
	w.SetSource(t, "solo", "solo-v2", w.Pat(t, "solo", "solo-v2", false))
	c := WaitFor(t, w.NS, "solo", "rolled back", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationFailed })
	rs := c.Status.Rotation
	if rs.Reason != v1.ReasonRotationRolledBack || !strings.Contains(rs.Message, "Deployment/solo-app not available") || rs.FailedRevision == "" {
		t.Errorf("rotation = %+v", rs)
	}
	if got := string(w.Consumer(t, "solo").Data["tokenName"]); got != "solo-v1" {
		t.Errorf("consumer holds %s after rollback, want solo-v1", got)
	}
	if err := w.ConsumerSignsIn(t, "solo"); err != nil {
		t.Errorf("restored credential does not sign in: %v", err)
	}
	if w.RestartedAt(t, "solo") == firstRestart {
		t.Error("the rollback did not restart the consumers again")
	}
	if SecretExists(t, w.NS, "solo-tableau-previous") {
		t.Error("the previous Secret outlived the rollback")
	}
	WaitForEvent(t, w.NS, "solo", "Warning/RotationRolledBack")
	if v := testutil.ToFloat64(metrics.Rotations.WithLabelValues("rolled_back")); v < 1 {
		t.Errorf("rolled_back counter = %v", v)
	}
	// Fix the workload and ask for a retry.
	w.SetBroken(t, "solo-app", false)
	Annotate(t, c, v1.AnnotationRequestedAt, "retry-1")
	c = w.Settled(t, "solo", "solo-v2")
	if c.Status.LastHandledRequest != "retry-1" {
		t.Errorf("lastHandledRequest = %q", c.Status.LastHandledRequest)
	}
}

func TestRotationDue(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "due-app", false)
	w.SetSource(t, "due", "due-v1", w.Pat(t, "due", "due-v1", false))
	Create(t, w.TenantConnection("due", func(c *v1.TableauConnection) {
		c.Spec.Rotation.MaxAge = &metav1.Duration{Duration: 2 * time.Hour}
		c.Spec.Rotation.RenewBefore = &metav1.Duration{Duration: 3 * time.Hour}
	}))
	c := WaitFor(t, w.NS, "due", "RotationDue", func(c *v1.TableauConnection) bool {
		return meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionRotationDue)
	})
	WaitForEvent(t, w.NS, "due", "Warning/RotationDue")
	due := c.Status.Rotation.DueTime
	if v, ok := SeriesValue(t, "tableau_operator_rotation_due_timestamp_seconds", w.NS, "due", nil); due == nil || !ok || v != float64(due.Unix()) {
		t.Errorf("due time %v not exported", due)
	}
}

func TestCorrelatedFailuresSuggestAVendorIncident(t *testing.T) {
	t.Parallel()
	names := []string{"alpha", "bravo", "charlie"}
	w := SetupFleet(t, names...)
	w.SetSource(t, "alpha", "alpha-v2", w.Pat(t, "alpha", "alpha-v2", true))
	WaitFor(t, w.NS, "alpha", "alpha rejected", func(c *v1.TableauConnection) bool { return c.Status.LastFailure != nil })
	time.Sleep(time.Second)
	if f := GetFleet(t, w.NS); meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionSuspectedVendorIncident) {
		t.Error("one failing member raised SuspectedVendorIncident")
	}
	w.SetSource(t, "bravo", "bravo-v2", w.Pat(t, "bravo", "bravo-v2", true))
	Eventually(t, 20*time.Second, "SuspectedVendorIncident", func() (bool, string) {
		f := GetFleet(t, w.NS)
		c := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionSuspectedVendorIncident)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", c)
	})
	c := meta.FindStatusCondition(GetFleet(t, w.NS).Status.Conditions, v1.ConditionSuspectedVendorIncident)
	if !strings.Contains(c.Message, "alpha, bravo") || !strings.Contains(c.Message, "SignInRejected") || !strings.Contains(c.Message, w.Srv.URL) {
		t.Errorf("message = %q", c.Message)
	}
}

func TestCandidateRevokedWhileWaitingNeverReachesConsumers(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	NewFleet(t, w.NS, func(f *v1.TableauFleet) { f.Spec.Rollout.HaltOnFailure = ptr.To(false) })
	for _, n := range []string{"alpha", "bravo"} {
		w.Deployment(t, n+"-app", false)
		w.SetSource(t, n, n+"-v1", w.Pat(t, n, n+"-v1", false))
		Create(t, w.TenantConnection(n, func(c *v1.TableauConnection) {
			c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
			// However briefly bravo waits on a loaded machine, its candidate signs in again.
			c.Spec.Rotation.HealthCheck.RecheckAfter = &metav1.Duration{}
		}))
	}
	w.Settled(t, "alpha", "alpha-v1")
	w.Settled(t, "bravo", "bravo-v1")
	// alpha's workload will not come up, so its gate holds the wave for 10 seconds.
	w.SetBroken(t, "alpha-app", true)
	w.SetSource(t, "alpha", "alpha-v2", w.Pat(t, "alpha", "alpha-v2", false))
	WaitFor(t, w.NS, "alpha", "alpha gating", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationGating })
	w.SetSource(t, "bravo", "bravo-v2", w.Pat(t, "bravo", "bravo-v2", false))
	WaitFor(t, w.NS, "bravo", "bravo staged behind alpha", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationStaged })
	// Someone revokes bravo's new PAT while it waits.
	if err := w.Sim.RevokePAT("bravo", "bravo-v2"); err != nil {
		t.Fatal(err)
	}
	c := WaitFor(t, w.NS, "bravo", "bravo's candidate rejected at promotion", func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationFailed
	})
	if rs := c.Status.Rotation; rs.Reason != v1.ReasonCandidateRejected || !strings.Contains(rs.Message, "right before promotion") {
		t.Errorf("rotation = %+v", rs)
	}
	if got := string(w.Consumer(t, "bravo").Data["tokenName"]); got != "bravo-v1" {
		t.Errorf("bravo consumer holds %s, want bravo-v1", got)
	}
	if err := w.ConsumerSignsIn(t, "bravo"); err != nil {
		t.Errorf("bravo consumer does not sign in: %v", err)
	}
	// Failed is persisted before its clean-up, which follows at once.
	Eventually(t, 10*time.Second, "the rejected candidate Secret to be deleted", func() (bool, string) {
		return !SecretExists(t, w.NS, "bravo-tableau-candidate"), "bravo-tableau-candidate exists"
	})
}
