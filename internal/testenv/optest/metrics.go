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

package optest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// Series scrapes the registry and returns the value of every series of the operator's
// metrics whose namespace label is ns, keyed metric{label=value,...} without the namespace.
func Series(t *testing.T, ns string) map[string]float64 {
	t.Helper()
	out, err := Scrape(ns, false)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// CounterValue is the value of the first series of metric carrying labels (0 if none).
func CounterValue(t *testing.T, metric string, labels map[string]string) float64 {
	t.Helper()
	v, _ := registryValue(t, metric, labels)
	return v
}

// ExpectSeries checks each wanted series' value, and that the series in absent do not exist.
func ExpectSeries(t *testing.T, stage string, got map[string]float64, want map[string]float64, absent ...string) {
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

var readmeMetricRow = regexp.MustCompile("^\\| `(tableau_operator_[a-z_]+)` \\| (gauge|counter|histogram) \\| ([^|]*)\\|")

// CompareREADMEWithRegistry checks that the README's metrics table lists exactly the
// operator's metric families on the registry, with their types and labels.
func CompareREADMEWithRegistry(t *testing.T) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
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
