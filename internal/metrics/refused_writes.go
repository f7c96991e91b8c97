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
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// RefusedWrites counts the operator's writes of a rotation that the API server refused, by
// the API's reason. Which connection is refused is the WritesAccepted condition's series
// (tableau_operator_connection_condition), which the alert reads.
var RefusedWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "tableau_operator_refused_writes_total",
	Help: "Writes of a rotation (Secrets, restart annotation) the Kubernetes API server refused, by reason: Forbidden, QuotaExceeded, Conflict, Invalid, WriteRefused.",
}, []string{"reason"})

// refusedWriteReasons are the values of RefusedWrites' reason label.
var refusedWriteReasons = []string{v1.ReasonWriteForbidden, v1.ReasonWriteQuotaExceeded, v1.ReasonWriteConflict, v1.ReasonWriteInvalid, v1.ReasonWriteRefused}

func init() {
	// Every reason is served from the start at 0, so that increase() sees the first refusal.
	for _, r := range refusedWriteReasons {
		RefusedWrites.WithLabelValues(r)
	}
	ctrlmetrics.Registry.MustRegister(RefusedWrites)
}

// WriteRefused counts one refused write; a reason outside the enum counts as WriteRefused.
func WriteRefused(reason string) {
	if !slices.Contains(refusedWriteReasons, reason) {
		reason = v1.ReasonWriteRefused
	}
	RefusedWrites.WithLabelValues(reason).Inc()
}
