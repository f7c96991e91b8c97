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

package manifests_test

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/memlimit"
)

// sizedConnections is how many TableauConnections the chart's defaults are sized for.
const sizedConnections = 10000

// TestChartDefaultsFitTenThousandConnections: the default memory limit holds the peak RSS
// `make bench` measures at 10,000 connections (memlimit's sizing), the Go memory limit the
// operator derives from it holds their steady heap, and the request is no more than the
// limit. (config/default carries the same resources: TestChartDefaultsRenderConfigDefault.)
func TestChartDefaultsFitTenThousandConnections(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Resources struct {
			Requests map[string]resource.Quantity `json:"requests"`
			Limits   map[string]resource.Quantity `json:"limits"`
		} `json:"resources"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	limit, ok := values.Resources.Limits["memory"]
	if !ok {
		t.Fatal("the chart's defaults set no memory limit")
	}
	request := values.Resources.Requests["memory"]
	mib := func(b int64) float64 { return float64(b) / (1 << 20) }
	if peak := memlimit.PeakRSS(sizedConnections); limit.Value() < peak {
		t.Errorf("memory limit %s is below the peak RSS of %d connections, %.0f MiB", limit.String(), sizedConnections, mib(peak))
	}
	if soft, heap := memlimit.SoftLimit(limit.Value()), memlimit.SteadyHeap(sizedConnections); soft < heap {
		t.Errorf("the Go memory limit from %s, %.0f MiB, is below the steady heap of %d connections, %.0f MiB", limit.String(), mib(soft), sizedConnections, mib(heap))
	}
	if request.Cmp(limit) > 0 {
		t.Errorf("memory request %s is above the limit %s", request.String(), limit.String())
	}
}
