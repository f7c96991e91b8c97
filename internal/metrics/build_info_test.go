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
	"testing"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tableau-operator/tableau-operator/internal/version"
)

func TestBuildInfoOnTheManagerRegistry(t *testing.T) {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := version.Get()
	for _, f := range families {
		if f.GetName() != "tableau_operator_build_info" {
			continue
		}
		if len(f.GetMetric()) != 1 {
			t.Fatalf("want one series, got %d", len(f.GetMetric()))
		}
		m := f.GetMetric()[0]
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		wantLabels := map[string]string{"version": want.Version, "revision": want.Revision, "build_date": want.BuildDate, "go_version": want.GoVersion}
		if len(labels) != len(wantLabels) {
			t.Errorf("labels %v, want %v", labels, wantLabels)
		}
		for k, v := range wantLabels {
			if labels[k] != v {
				t.Errorf("label %s = %q, want %q", k, labels[k], v)
			}
		}
		if got := m.GetGauge().GetValue(); got != 1 {
			t.Errorf("value %v, want 1", got)
		}
		return
	}
	t.Fatal("tableau_operator_build_info is not on controller-runtime's registry")
}
