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
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tableau-operator/tableau-operator/internal/callgate"
)

// Gate decisions, the values of GateCalls' decision label.
const (
	GateAdmitted = "admitted"
	GateHeld     = "held"
)

// GateCalls counts the call gate's decisions per class of Tableau calls: calls it let out and
// calls it held back, so a dashboard shows the gate at work during an incident.
var GateCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "tableau_operator_gate_calls_total",
	Help: "Tableau calls the call gate admitted or held back, by class (serverinfo, signin, check, admin, signout) and decision (admitted, held).",
}, []string{"class", "decision"})

func init() {
	// Every series is served from the start at 0, so increase() sees the first held call.
	for _, c := range callgate.Classes {
		GateCalls.WithLabelValues(string(c), GateAdmitted)
		GateCalls.WithLabelValues(string(c), GateHeld)
	}
	ctrlmetrics.Registry.MustRegister(GateCalls)
}

// ObserveGate is a gatedclient.Options.Observe function.
func ObserveGate(class callgate.Class, held bool) {
	decision := GateAdmitted
	if held {
		decision = GateHeld
	}
	GateCalls.WithLabelValues(string(class), decision).Inc()
}
