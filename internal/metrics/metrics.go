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
// user id; connection series are deleted with their connection.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

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

	// ConnectionReady is 1 while a connection is Ready, else 0.
	ConnectionReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tableau_operator_connection_ready",
		Help: "1 when the TableauConnection is Ready, else 0.",
	}, []string{"namespace", "name"})

	// PATExpiration is the PAT's expiry as Tableau reported it at sign-in.
	PATExpiration = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tableau_operator_pat_expiration_timestamp_seconds",
		Help: "Unix time at which the connection's PAT expires, from estimatedTimeToExpiration at the last sign-in.",
	}, []string{"namespace", "name"})

	// Rotations counts rotations by result: completed, rolled_back, rejected.
	Rotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tableau_operator_rotations_total",
		Help: "Credential rotations by result: completed, rolled_back (gate failed), rejected (the candidate failed validation).",
	}, []string{"result"})

	// RotationDue is when the connection's active credential is due for rotation.
	RotationDue = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tableau_operator_rotation_due_timestamp_seconds",
		Help: "Unix time at which the active credential is due for rotation (maxAge or expiry, less renewBefore).",
	}, []string{"namespace", "name"})

	// StatusWrites counts status patches, so steady-state write load is visible.
	StatusWrites = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tableau_operator_status_writes_total",
		Help: "Status patches of TableauConnections written by the operator.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(SignInAttempts, SignInDuration, TableauRequests, ConnectionReady, PATExpiration, Rotations, RotationDue, StatusWrites)
}

// ObserveCall is a tableau.Options.Observe function that counts requests.
func ObserveCall(c tableau.Call) {
	TableauRequests.WithLabelValues(c.Endpoint, callCode(c)).Inc()
}

func callCode(c tableau.Call) string {
	switch {
	case c.Code != "":
		return c.Code
	case c.HTTPStatus != 0:
		return strconv.Itoa(c.HTTPStatus)
	case c.Err != nil && c.Err.Transport != tableau.TransportNone:
		return string(c.Err.Transport)
	default:
		return "unknown"
	}
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

// SetConnection sets a connection's gauges; a zero time removes that series.
func SetConnection(namespace, name string, ready bool, expiresAt, rotationDue time.Time) {
	v := 0.0
	if ready {
		v = 1
	}
	ConnectionReady.WithLabelValues(namespace, name).Set(v)
	if expiresAt.IsZero() {
		PATExpiration.DeleteLabelValues(namespace, name)
	} else {
		PATExpiration.WithLabelValues(namespace, name).Set(float64(expiresAt.Unix()))
	}
	if rotationDue.IsZero() {
		RotationDue.DeleteLabelValues(namespace, name)
	} else {
		RotationDue.WithLabelValues(namespace, name).Set(float64(rotationDue.Unix()))
	}
}

// DeleteConnection removes a deleted connection's series.
func DeleteConnection(namespace, name string) {
	ConnectionReady.DeleteLabelValues(namespace, name)
	PATExpiration.DeleteLabelValues(namespace, name)
	RotationDue.DeleteLabelValues(namespace, name)
}
