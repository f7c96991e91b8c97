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

package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func TestCallCodeIsBounded(t *testing.T) {
	for _, tc := range []struct {
		call tableau.Call
		want string
	}{
		{tableau.Call{HTTPStatus: 401, Code: "401001"}, "401001"},
		{tableau.Call{HTTPStatus: 429, Code: "429000"}, "429000"},
		{tableau.Call{HTTPStatus: 429}, "429"},
		{tableau.Call{HTTPStatus: 200}, "200"},
		{tableau.Call{HTTPStatus: 401, Code: strings.Repeat("A", 300)}, otherCode},
		{tableau.Call{HTTPStatus: 401, Code: "40100x"}, otherCode},
		{tableau.Call{HTTPStatus: 401, Code: "123456"}, otherCode},
		{tableau.Call{HTTPStatus: 999}, otherCode},
		{tableau.Call{Err: &tableau.Error{Transport: tableau.TransportTimeout}}, string(tableau.TransportTimeout)},
		{tableau.Call{}, "unknown"},
	} {
		if got := callCode(tc.call); got != tc.want {
			t.Errorf("callCode(%+v) = %q, want %q", tc.call, got, tc.want)
		}
	}
}

func TestRotationFailure(t *testing.T) {
	rolledBack := &v1.RotationStatus{Phase: v1.RotationFailed, Reason: v1.ReasonRotationRolledBack, FailedRevision: "b"}
	rejected := &v1.RotationStatus{Phase: v1.RotationIdle, Reason: v1.ReasonCandidateRejected, FailedRevision: "c"}
	gating := &v1.RotationStatus{Phase: v1.RotationGating, Reason: v1.ReasonConsumersRestarted}
	for _, tc := range []struct {
		name          string
		before, after *v1.RotationStatus
		want          string
	}{
		{"no rotation", nil, nil, ""},
		{"first status, rolled back", nil, rolledBack, v1.ReasonRotationRolledBack},
		{"gate to rollback", gating, rolledBack, v1.ReasonRotationRolledBack},
		{"rollback already recorded", rolledBack, rolledBack, ""},
		{"rejected", &v1.RotationStatus{Phase: v1.RotationIdle}, rejected, v1.ReasonCandidateRejected},
		{"rejected again, same revision", rejected, rejected, ""},
		{"another revision rejected", rejected, &v1.RotationStatus{Reason: v1.ReasonCandidateRejected, FailedRevision: "d"}, v1.ReasonCandidateRejected},
		{"rolled back after a rejection", rejected, rolledBack, v1.ReasonRotationRolledBack},
		{"completed", gating, &v1.RotationStatus{Phase: v1.RotationIdle, Reason: v1.ReasonRotationCompleted}, ""},
		{"retry requested clears it", rolledBack, &v1.RotationStatus{Phase: v1.RotationIdle, Message: "Retry requested."}, ""},
	} {
		if got := RotationFailure(tc.before, tc.after); got != tc.want {
			t.Errorf("%s: RotationFailure = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestObserveStatusAndDelete(t *testing.T) {
	conn := func(rs *v1.RotationStatus, consumers bool) *v1.TableauConnection {
		c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "obs", Name: "sales"}}
		if consumers {
			c.Spec.Consumers = &v1.ConsumersSpec{SecretName: "sales-tableau"}
		}
		c.Status.Rotation = rs
		return c
	}
	ObserveStatus(conn(nil, false), conn(nil, false))
	if n := testutil.CollectAndCount(RotationFailures); n != 0 {
		t.Fatalf("a connection without consumers got %d rotation series", n)
	}
	idle := &v1.RotationStatus{Phase: v1.RotationIdle}
	ObserveStatus(conn(nil, true), conn(idle, true))
	// Zero-valued series exist from the start, so increase() sees the first failure.
	for _, r := range []string{v1.ReasonRotationRolledBack, v1.ReasonCandidateRejected} {
		if v := testutil.ToFloat64(RotationFailures.WithLabelValues("obs", "sales", r)); v != 0 {
			t.Errorf("%s = %v before any failure", r, v)
		}
	}
	if v := testutil.ToFloat64(ConsumerRestarts.WithLabelValues("obs", "sales")); v != 0 {
		t.Errorf("restarts = %v before any restart", v)
	}
	failed := &v1.RotationStatus{Phase: v1.RotationFailed, Reason: v1.ReasonRotationRolledBack, FailedRevision: "x"}
	ObserveStatus(conn(idle, true), conn(failed, true))
	ObserveStatus(conn(failed, true), conn(failed, true))
	if v := testutil.ToFloat64(RotationFailures.WithLabelValues("obs", "sales", v1.ReasonRotationRolledBack)); v != 1 {
		t.Errorf("rolled back = %v, want 1", v)
	}
	ConsumerRestarted("obs", "sales")
	ConsumerRestarted("obs", "sales")
	if v := testutil.ToFloat64(ConsumerRestarts.WithLabelValues("obs", "sales")); v != 2 {
		t.Errorf("restarts = %v, want 2", v)
	}
	DeleteConnection("obs", "sales")
	if n := testutil.CollectAndCount(RotationFailures) + testutil.CollectAndCount(ConsumerRestarts); n != 0 {
		t.Errorf("%d series remain after the connection was deleted", n)
	}
}

// TestRotationsServedFromTheStart: the rotations counter has its three results at 0 before any
// rotation, so the dashboard's increase() counts the first one.
func TestRotationsServedFromTheStart(t *testing.T) {
	const want = `
# HELP tableau_operator_rotations_total Credential rotations by result: completed, rolled_back (gate failed), rejected (the candidate failed validation).
# TYPE tableau_operator_rotations_total counter
tableau_operator_rotations_total{result="completed"} 0
tableau_operator_rotations_total{result="rejected"} 0
tableau_operator_rotations_total{result="rolled_back"} 0
`
	if err := testutil.GatherAndCompare(ctrlmetrics.Registry, strings.NewReader(want), "tableau_operator_rotations_total"); err != nil {
		t.Error(err)
	}
}
