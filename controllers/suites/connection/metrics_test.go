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

package connection

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// TestMetricsFollowAConnection drives a connection through a failure, a completed rotation, a
// rotation that rolls back and its deletion, and checks the series of each stage as a scrape
// of the manager's registry sees them; then that the README's metrics table describes exactly
// the registry, and that nothing of the connection and its fleet is left after deletion.
func TestMetricsFollowAConnection(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	rec := StartRecording(t, w.NS)
	NewFleet(t, w.NS)
	// Two more tenants in the fleet make the rotation a wave.
	others := []string{"alpha", "charlie"}
	for _, n := range others {
		w.Deployment(t, n+"-app", false)
		w.SetSource(t, n, n+"-v1", w.Pat(t, n, n+"-v1", false))
		Create(t, w.TenantConnection(n))
	}
	for _, n := range others {
		w.Settled(t, n, n+"-v1")
	}
	w.Deployment(t, "life-app", false)
	// A connection that never works, outside the fleet, keeps a failure bucket series.
	w.SetSource(t, "broken", "broken-v1", w.Pat(t, "broken", "broken-v1", true))
	Create(t, w.TenantConnection("broken", func(c *v1.TableauConnection) {
		c.Labels, c.Spec.Consumers = nil, nil
	}))

	// 1. Failure: the first PAT is revoked.
	rec.Mark("failure")
	w.SetSource(t, "life", "life-v1", w.Pat(t, "life", "life-v1", true))
	Create(t, w.TenantConnection("life", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	WaitFor(t, w.NS, "life", "life fails", ReadyReason("SignInRejected"))
	Eventually(t, 10*time.Second, "failure series", func() (bool, string) {
		got := Series(t, w.NS)
		return got["tableau_operator_connection_failure_bucket{bucket=AuthConfigDrift,name=life}"] == 1, fmt.Sprint(got)
	})
	ExpectSeries(t, "failing", Series(t, w.NS), map[string]float64{
		"tableau_operator_connection_failure_bucket{bucket=AuthConfigDrift,name=life}":             1,
		"tableau_operator_connection_condition{name=life,status=False,type=Ready}":                 1,
		"tableau_operator_connection_condition{name=life,status=True,type=Stalled}":                1,
		"tableau_operator_connection_ready{name=life}":                                             0,
		"tableau_operator_connection_rotation_phase{name=life,phase=Idle}":                         1,
		"tableau_operator_consumer_restarts_total{name=life}":                                      0,
		"tableau_operator_connection_rotation_failures_total{name=life,reason=CandidateRejected}":  0,
		"tableau_operator_connection_rotation_failures_total{name=life,reason=RotationRolledBack}": 0,
	}, "tableau_operator_pat_expiration_timestamp_seconds{name=life}", "tableau_operator_rotation_due_timestamp_seconds{name=life}",
		// A condition has one series, for its current status.
		"tableau_operator_connection_condition{name=life,status=True,type=Ready}", "tableau_operator_fleet_condition{name=wave,status=True,type=Halted}")

	rec.Hold(2 * time.Second)

	// 2. A working PAT: published to the consumers, then rotated to another.
	rec.Mark("fixed")
	w.SetSource(t, "life", "life-v2", w.Pat(t, "life", "life-v2", false))
	w.Settled(t, "life", "life-v2")
	restarts := Series(t, w.NS)["tableau_operator_consumer_restarts_total{name=life}"]
	completed := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "completed"})
	rec.Mark("wave")
	for _, n := range others {
		w.SetSource(t, n, n+"-v2", w.Pat(t, n, n+"-v2", false))
	}
	w.SetSource(t, "life", "life-v3", w.Pat(t, "life", "life-v3", false))
	for _, n := range others {
		w.Settled(t, n, n+"-v2")
	}
	w.Settled(t, "life", "life-v3")
	c := WaitFor(t, w.NS, "life", "life's due time", func(c *v1.TableauConnection) bool {
		return c.Status.Rotation.DueTime != nil && c.Status.Credentials.ExpiresAt != nil
	})
	if v := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "completed"}); v < completed+3 {
		t.Errorf("completed rotations %v, want at least %v", v, completed+3)
	}
	Eventually(t, 10*time.Second, "the working connection's series", func() (bool, string) {
		got := Series(t, w.NS)
		return got["tableau_operator_connection_ready{name=life}"] == 1 &&
			got["tableau_operator_fleet_condition{name=wave,status=True,type=Ready}"] == 1, fmt.Sprint(got)
	})
	ExpectSeries(t, "rotated", Series(t, w.NS), map[string]float64{
		"tableau_operator_connection_condition{name=life,status=True,type=Ready}":                  1,
		"tableau_operator_connection_condition{name=life,status=False,type=RotationDue}":           1,
		"tableau_operator_connection_ready{name=life}":                                             1,
		"tableau_operator_pat_expiration_timestamp_seconds{name=life}":                             float64(c.Status.Credentials.ExpiresAt.Unix()),
		"tableau_operator_rotation_due_timestamp_seconds{name=life}":                               float64(c.Status.Rotation.DueTime.Unix()),
		"tableau_operator_connection_rotation_phase{name=life,phase=Idle}":                         1,
		"tableau_operator_consumer_restarts_total{name=life}":                                      restarts + 1,
		"tableau_operator_connection_rotation_failures_total{name=life,reason=RotationRolledBack}": 0,
		"tableau_operator_fleet_condition{name=wave,status=True,type=Ready}":                       1,
	}, "tableau_operator_connection_failure_bucket{bucket=AuthConfigDrift,name=life}", "tableau_operator_connection_condition{name=life,status=False,type=Ready}")

	// 3. A rotation whose consumers never become available rolls back and halts the fleet.
	rec.Mark("rollback")
	w.SetBroken(t, "life-app", true)
	w.SetSource(t, "life", "life-v4", w.Pat(t, "life", "life-v4", false))
	WaitFor(t, w.NS, "life", "rolled back", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationFailed })
	Eventually(t, 20*time.Second, "rollback series", func() (bool, string) {
		got := Series(t, w.NS)
		return got["tableau_operator_fleet_condition{name=wave,status=True,type=Halted}"] == 1 &&
			got["tableau_operator_connection_rotation_failures_total{name=life,reason=RotationRolledBack}"] == 1, fmt.Sprint(got)
	})
	ExpectSeries(t, "rolled back", Series(t, w.NS), map[string]float64{
		"tableau_operator_connection_rotation_failures_total{name=life,reason=RotationRolledBack}": 1,
		"tableau_operator_connection_rotation_failures_total{name=life,reason=CandidateRejected}":  0,
		"tableau_operator_connection_rotation_phase{name=life,phase=Failed}":                       1,
		// The promotion restarted the consumers, and the rollback restarted them again.
		"tableau_operator_consumer_restarts_total{name=life}":                            restarts + 3,
		"tableau_operator_fleet_condition{name=wave,status=True,type=Halted}":            1,
		"tableau_operator_connection_failure_bucket{bucket=AuthConfigDrift,name=broken}": 1,
	}, "tableau_operator_fleet_condition{name=wave,status=False,type=Halted}")
	CompareREADMEWithRegistry(t)
	// No label carries a token name (nor, by the suite's scan, a secret).
	all, err := Scrape(w.NS, true)
	if err != nil {
		t.Fatal(err)
	}
	for k := range all {
		for _, token := range []string{"life-v1", "life-v2", "life-v3", "life-v4", "alpha-v", "charlie-v", "broken-v1"} {
			if strings.Contains(k, token) {
				t.Errorf("series %s names token %s", k, token)
			}
		}
	}

	rec.Hold(2 * time.Second)

	// 4. Deletion: every series of the connections and the fleet goes.
	rec.Mark("deleted")
	for _, name := range []string{"life", "broken", "alpha", "charlie"} {
		if err := K8s().Delete(context.Background(), Get(t, w.NS, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := K8s().Delete(context.Background(), GetFleet(t, w.NS)); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 15*time.Second, "every series of the namespace to go", func() (bool, string) {
		got := Series(t, w.NS)
		return len(got) == 0, fmt.Sprint(got)
	})
	rec.Stop()
}
