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

// Package metrics defines the operator's Prometheus metrics on controller-runtime's registry,
// served on the manager's metrics endpoint. Labels never carry a credential, a site id or a
// user id. Event counts are pushed where they happen (this file); the state of
// TableauConnections and TableauFleets is read from the cache at scrape time (state.go), so
// its series are deleted with their objects; per-connection counters are deleted on deletion.
package metrics

import (
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

var (
	// SignInAttempts counts the operator's sign-ins by result and failure bucket.
	SignInAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_signin_attempts_total",
		Help: "Sign-ins the operator made, by result (succeeded, failed) and failure bucket.",
	}, []string{"result", "bucket"})

	// SignInDuration is the latency of sign-in calls.
	SignInDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tableau_operator_signin_duration_seconds",
		Help:    "Latency of sign-in calls to Tableau, by result.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"result"})

	// TableauRequests counts every call to Tableau by endpoint and code.
	TableauRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_tableau_requests_total",
		Help: "Requests to the Tableau REST API by endpoint and code: Tableau's error code, else the HTTP status, else the transport failure.",
	}, []string{"endpoint", "code"})

	// Rotations counts rotations by result: completed, rolled_back, rejected.
	Rotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_rotations_total",
		Help: "Credential rotations by result: completed, rolled_back (gate failed), rejected (the candidate failed validation).",
	}, []string{"result"})

	// ConsumerRestarts counts the restart patches of a connection's consumer workloads.
	ConsumerRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_consumer_restarts_total",
		Help: "Restarts of a TableauConnection's consumer workloads (restart targets patched), by connection.",
	}, []string{"namespace", "name"})

	// RotationFailures counts, per connection, the rotations that rolled back and the
	// candidates that were rejected, so an alert can name the tenant.
	RotationFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_connection_rotation_failures_total",
		Help: "Rotations of a TableauConnection that ended RotationRolledBack or CandidateRejected, by connection and reason.",
	}, []string{"namespace", "name", "reason"})

	// StatusWrites counts status patches, so steady-state write load is visible.
	StatusWrites = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tableau_operator_status_writes_total",
		Help: "Status patches of TableauConnections written by the operator.",
	})

	// StoodAside counts reconciles that did nothing because another install of the operator
	// holds the object's claim (status.claim): two installs watch the same namespace.
	StoodAside = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_stood_aside_total",
		Help: "Reconciles that acted on nothing because another install of the operator holds the object (status.claim), by kind.",
	}, []string{"kind"})
)

// rotationResults are the values of Rotations' result label.
var rotationResults = []string{"completed", "rolled_back", "rejected"}

func init() {
	// Every result is served from the start at 0, so that increase() and rate() see the first
	// rotation of each result after the process started, not only the second.
	for _, r := range rotationResults {
		Rotations.WithLabelValues(r)
	}
	for _, k := range []string{"TableauConnection", "TableauFleet"} {
		StoodAside.WithLabelValues(k)
	}
	ctrlmetrics.Registry.MustRegister(SignInAttempts, SignInDuration, TableauRequests, Rotations, ConsumerRestarts, RotationFailures, StatusWrites, StoodAside)
}

// ObserveCall is a tableau.Options.Observe function that counts requests.
func ObserveCall(c tableau.Call) {
	TableauRequests.WithLabelValues(c.Endpoint, callCode(c)).Inc()
}

// otherCode is the code label of an answer whose code has not the form of one: the label's
// values stay bounded whatever a server (or something posing as one) sends.
const otherCode = "other"

func callCode(c tableau.Call) string {
	switch {
	case c.Code != "":
		if !tableauCode(c.Code) {
			return otherCode
		}
		return c.Code
	case c.HTTPStatus != 0:
		if c.HTTPStatus < 100 || c.HTTPStatus > 599 {
			return otherCode
		}
		return strconv.Itoa(c.HTTPStatus)
	case c.Err != nil && c.Err.Transport != tableau.TransportNone:
		return string(c.Err.Transport)
	default:
		return "unknown"
	}
}

// tableauCode reports whether code has the form of Tableau's error codes: six digits, the
// first three an HTTP error status (401001, 429000).
func tableauCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return code[0] == '4' || code[0] == '5'
}

// ObserveSignIn records one sign-in attempt.
func ObserveSignIn(succeeded bool, bucket string, latency time.Duration) {
	result := "failed"
	if succeeded {
		result = "succeeded"
	}
	SignInAttempts.WithLabelValues(result, bucket).Inc()
	SignInDuration.WithLabelValues(result).Observe(latency.Seconds())
}

// ConsumerRestarted counts one restart target patched for a connection's rotation.
func ConsumerRestarted(namespace, name string) {
	ConsumerRestarts.WithLabelValues(namespace, name).Inc()
}

// rotationFailureReasons are the values of RotationFailures' reason label.
var rotationFailureReasons = []string{v1.ReasonRotationRolledBack, v1.ReasonCandidateRejected}

// ObserveStatus records what a reconcile persisted, from the status it fetched (before) to
// the status last written (after): a rotation that rolled back or a candidate rejected is
// counted once, and a connection with consumers has its counters at zero from the start, so
// that increase() sees their first step.
func ObserveStatus(before, after *v1.TableauConnection) {
	if after.Spec.Consumers == nil {
		return
	}
	ConsumerRestarts.WithLabelValues(after.Namespace, after.Name)
	for _, r := range rotationFailureReasons {
		RotationFailures.WithLabelValues(after.Namespace, after.Name, r)
	}
	if reason := RotationFailure(before.Status.Rotation, after.Status.Rotation); reason != "" {
		RotationFailures.WithLabelValues(after.Namespace, after.Name, reason).Inc()
	}
}

// RotationFailure returns the reason when the rotation status moved into a rolled-back or
// rejected state between before and after, else "". A state that was already recorded
// (same reason and failed revision) is not a new failure.
func RotationFailure(before, after *v1.RotationStatus) string {
	if after == nil || !slices.Contains(rotationFailureReasons, after.Reason) {
		return ""
	}
	if before != nil && before.Reason == after.Reason && before.FailedRevision == after.FailedRevision {
		return ""
	}
	return after.Reason
}

// DeleteConnection removes a deleted connection's counters; its state series go with the
// object by construction (see StateCollector).
func DeleteConnection(namespace, name string) {
	ConsumerRestarts.DeleteLabelValues(namespace, name)
	RotationFailures.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "name": name})
}
