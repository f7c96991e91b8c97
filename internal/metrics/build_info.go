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

	"github.com/tableau-operator/tableau-operator/internal/version"
)

// BuildInfo is 1 with the build's version labels, so dashboards and alerts can join on the
// running version (the usual <name>_build_info pattern). The values come from the build, not
// from Tableau or the cluster.
var BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "tableau_operator_build_info",
	Help: "Always 1; the labels say which build of the operator is running.",
}, []string{"version", "revision", "build_date", "go_version"})

func init() {
	i := version.Get()
	BuildInfo.WithLabelValues(i.Version, i.Revision, i.BuildDate, i.GoVersion).Set(1)
	ctrlmetrics.Registry.MustRegister(BuildInfo)
}
