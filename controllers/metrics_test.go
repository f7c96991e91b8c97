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

package controllers_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// series scrapes the registry and returns the value of every series of the operator's
// metrics whose namespace label is ns, keyed metric{label=value,...} without the namespace.
func series(t *testing.T, ns string) map[string]float64 {
	t.Helper()
	out, err := scrape(ns, false)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func counterValue(t *testing.T, metric string, labels map[string]string) float64 {
	t.Helper()
	v, _ := registryValue(t, metric, labels)
	return v
}

// expectSeries checks each wanted series' value, and that the series in absent do not exist.
func expectSeries(t *testing.T, stage string, got map[string]float64, want map[string]float64, absent ...string) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: no series %s", stage, k)
		} else if g != v {
			t.Errorf("%s: %s = %v, want %v", stage, k, g, v)
		}
	}
	for _, a := range absent {
		if v, ok := got[a]; ok {
			t.Errorf("%s: unexpected series %s = %v", stage, a, v)
		}
	}
}

// TestMetricsFollowAConnection drives a connection through a failure, a completed rotation, a
// rotation that rolls back and its deletion, and checks the series of each stage as a scrape
// of the manager's registry sees them; then that the README's metrics table describes exactly
// the registry, and that nothing of the connection and its fleet is left after deletion.
func TestMetricsFollowAConnection(t *testing.T) {
	w := newWorld(t)
	rec := startRecording(t, w.ns)
	newFleet(t, w.ns)
	// Two more tenants in the fleet make the rotation a wave.
	others := []string{"alpha", "charlie"}
	for _, n := range others {
		w.deployment(t, n+"-app", false)
		w.setSource(t, n, n+"-v1", w.pat(t, n, n+"-v1", false))
		create(t, w.tenantConnection(n))
	}
	for _, n := range others {
		w.settled(t, n, n+"-v1")
	}
	w.deployment(t, "life-app", false)
	// A connection that never works, outside the fleet, keeps a failure bucket series.
	w.setSource(t, "broken", "broken-v1", w.pat(t, "broken", "broken-v1", true))
	create(t, w.tenantConnection("broken", func(c *v1.TableauConnection) {
		c.Labels, c.Spec.Consumers = nil, nil
	}))

	// 1. Failure: the first PAT is revoked.
	rec.mark("failure")
	w.setSource(t, "life", "life-v1", w.pat(t, "life", "life-v1", true))
	create(t, w.tenantConnection("life", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	waitFor(t, w.ns, "life", "life fails", readyReason("SignInRejected"))
	eventually(t, 10*time.Second, "failure series", func() (bool, string) {
		got := series(t, w.ns)
		return got["tableau_operator_connection_failure_bucket{bucket=AuthConfigDrift,name=life}"] == 1, fmt.Sprint(got)
	})
	expectSeries(t, "failing", series(t, w.ns), map[string]float64{
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

	rec.hold(2 * time.Second)

	// 2. A working PAT: published to the consumers, then rotated to another.
	rec.mark("fixed")
	w.setSource(t, "life", "life-v2", w.pat(t, "life", "life-v2", false))
	w.settled(t, "life", "life-v2")
	restarts := series(t, w.ns)["tableau_operator_consumer_restarts_total{name=life}"]
	completed := counterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "completed"})
	rec.mark("wave")
	for _, n := range others {
		w.setSource(t, n, n+"-v2", w.pat(t, n, n+"-v2", false))
	}
	w.setSource(t, "life", "life-v3", w.pat(t, "life", "life-v3", false))
	for _, n := range others {
		w.settled(t, n, n+"-v2")
	}
	w.settled(t, "life", "life-v3")
	c := waitFor(t, w.ns, "life", "life's due time", func(c *v1.TableauConnection) bool {
		return c.Status.Rotation.DueTime != nil && c.Status.Credentials.ExpiresAt != nil
	})
	if v := counterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "completed"}); v < completed+3 {
		t.Errorf("completed rotations %v, want at least %v", v, completed+3)
	}
	eventually(t, 10*time.Second, "the working connection's series", func() (bool, string) {
		got := series(t, w.ns)
		return got["tableau_operator_connection_ready{name=life}"] == 1 &&
			got["tableau_operator_fleet_condition{name=wave,status=True,type=Ready}"] == 1, fmt.Sprint(got)
	})
	expectSeries(t, "rotated", series(t, w.ns), map[string]float64{
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
	rec.mark("rollback")
	w.setBroken(t, "life-app", true)
	w.setSource(t, "life", "life-v4", w.pat(t, "life", "life-v4", false))
	waitFor(t, w.ns, "life", "rolled back", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationFailed })
	eventually(t, 20*time.Second, "rollback series", func() (bool, string) {
		got := series(t, w.ns)
		return got["tableau_operator_fleet_condition{name=wave,status=True,type=Halted}"] == 1 &&
			got["tableau_operator_connection_rotation_failures_total{name=life,reason=RotationRolledBack}"] == 1, fmt.Sprint(got)
	})
	expectSeries(t, "rolled back", series(t, w.ns), map[string]float64{
		"tableau_operator_connection_rotation_failures_total{name=life,reason=RotationRolledBack}": 1,
		"tableau_operator_connection_rotation_failures_total{name=life,reason=CandidateRejected}":  0,
		"tableau_operator_connection_rotation_phase{name=life,phase=Failed}":                       1,
		// The promotion restarted the consumers, and the rollback restarted them again.
		"tableau_operator_consumer_restarts_total{name=life}":                            restarts + 3,
		"tableau_operator_fleet_condition{name=wave,status=True,type=Halted}":            1,
		"tableau_operator_connection_failure_bucket{bucket=AuthConfigDrift,name=broken}": 1,
	}, "tableau_operator_fleet_condition{name=wave,status=False,type=Halted}")
	compareREADMEWithRegistry(t)
	// No label carries a token name (nor, by the suite's scan, a secret).
	all, err := scrape(w.ns, true)
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

	rec.hold(2 * time.Second)

	// 4. Deletion: every series of the connections and the fleet goes.
	rec.mark("deleted")
	for _, name := range []string{"life", "broken", "alpha", "charlie"} {
		if err := k8s.Delete(context.Background(), get(t, w.ns, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := k8s.Delete(context.Background(), getFleet(t, w.ns)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "every series of the namespace to go", func() (bool, string) {
		got := series(t, w.ns)
		return len(got) == 0, fmt.Sprint(got)
	})
	rec.stop()
}

var readmeMetricRow = regexp.MustCompile("^\\| `(tableau_operator_[a-z_]+)` \\| (gauge|counter|histogram) \\| ([^|]*)\\|")

// compareREADMEWithRegistry checks that the README's metrics table lists exactly the
// operator's metric families on the registry, with their types and labels.
func compareREADMEWithRegistry(t *testing.T) {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if m := readmeMetricRow.FindStringSubmatch(line); m != nil {
			var labels []string
			for _, l := range strings.Split(m[3], ",") {
				if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
					labels = append(labels, l)
				}
			}
			sort.Strings(labels)
			documented[m[1]] = m[2] + " " + strings.Join(labels, ",")
		}
	}
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]string{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "tableau_operator_") || len(f.GetMetric()) == 0 {
			continue
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		sort.Strings(labels)
		registered[f.GetName()] = strings.ToLower(f.GetType().String()) + " " + strings.Join(labels, ",")
	}
	for name, d := range registered {
		if documented[name] != d {
			t.Errorf("registry has %s (%s); README.md's metrics table says %q", name, d, documented[name])
		}
	}
	for name := range documented {
		if _, ok := registered[name]; !ok {
			t.Errorf("README.md's metrics table lists %s, which the registry does not serve", name)
		}
	}
	if len(registered) == 0 || !slices.Equal(sortedKeys(registered), sortedKeys(documented)) {
		t.Errorf("registry %v, README %v", sortedKeys(registered), sortedKeys(documented))
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
