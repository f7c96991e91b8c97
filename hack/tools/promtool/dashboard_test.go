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

package monitoring_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// documentedMetric is one row of the README's metrics table. That table is the operator's
// registry as a running operator serves it: controllers/suites/connection/metrics_test.go compares the two.
type documentedMetric struct {
	kind   string
	labels map[string]bool
}

var metricRow = regexp.MustCompile("^\\| `(tableau_operator_[a-z_]+)` \\| (gauge|counter|histogram) \\| ([^|]*)\\|")

func documentedMetrics(t *testing.T) map[string]documentedMetric {
	t.Helper()
	out := map[string]documentedMetric{}
	for _, line := range strings.Split(string(read(t, "README.md")), "\n") {
		m := metricRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		d := documentedMetric{kind: m[2], labels: map[string]bool{}}
		for _, l := range strings.Split(m[3], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				d.labels[l] = true
			}
		}
		out[m[1]] = d
	}
	if len(out) == 0 {
		t.Fatal("README.md has no metrics table")
	}
	return out
}

// lookup finds the documented metric a series name belongs to: a histogram's series end in
// _bucket (with the le label), _sum or _count.
func lookup(metrics map[string]documentedMetric, series string) (documentedMetric, map[string]bool, bool) {
	if d, ok := metrics[series]; ok {
		return d, d.labels, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if d, ok := metrics[strings.TrimSuffix(series, suffix)]; ok && d.kind == "histogram" && strings.HasSuffix(series, suffix) {
			extra := map[string]bool{}
			for l := range d.labels {
				extra[l] = true
			}
			if suffix == "_bucket" {
				extra["le"] = true
			}
			return d, extra, true
		}
	}
	return documentedMetric{}, nil, false
}

// grafanaVariables stand in for the dashboard's variables so that an expression parses as
// Prometheus would receive it.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$namespace", ".*")

// exprs walks the dashboard and returns every "expr" with where it was found.
func exprs(v any, where string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		title, _ := x["title"].(string)
		if title != "" {
			where = title
		}
		for k, child := range x {
			if s, ok := child.(string); ok && k == "expr" {
				out[where+": "+s] = s
				continue
			}
			exprs(child, where, out)
		}
	case []any:
		for _, child := range x {
			exprs(child, where, out)
		}
	}
}

var labelValues = regexp.MustCompile(`^label_values\((\w+), *(\w+)\)$`)

func TestDashboard(t *testing.T) {
	var dash map[string]any
	if err := json.Unmarshal(read(t, "config/grafana/tableau-operator.json"), &dash); err != nil {
		t.Fatalf("tableau-operator.json is not JSON: %v", err)
	}
	if dash["uid"] != "tableau-operator" || dash["title"] == "" {
		t.Errorf("uid %v, title %v", dash["uid"], dash["title"])
	}
	metrics := documentedMetrics(t)
	found := map[string]string{}
	exprs(dash["panels"], "", found)
	if len(found) < 10 {
		t.Fatalf("only %d expressions in the dashboard", len(found))
	}
	used := map[string]bool{}
	p := parser.NewParser(parser.Options{})
	for where, expr := range found {
		e, err := p.ParseExpr(grafanaVariables.Replace(expr))
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		selectors := 0
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			selectors++
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName {
					name = m.Value
				}
			}
			d, allowed, ok := lookup(metrics, name)
			if !ok {
				t.Errorf("%s: metric %q is not in the operator's registry (README.md's metrics table)", where, name)
				return nil
			}
			used[name] = true
			for _, m := range vs.LabelMatchers {
				if m.Name != labels.MetricName && !allowed[m.Name] {
					t.Errorf("%s: %s (a %s) has no label %q", where, name, d.kind, m.Name)
				}
			}
			return nil
		})
		if selectors == 0 {
			t.Errorf("%s: selects no metric", where)
		}
	}
	// The namespace variable's query.
	vars, _ := dash["templating"].(map[string]any)["list"].([]any)
	for _, v := range vars {
		v := v.(map[string]any)
		q, ok := v["query"].(map[string]any)
		if !ok {
			continue
		}
		m := labelValues.FindStringSubmatch(q["query"].(string))
		if m == nil {
			t.Errorf("variable %v: query %q is not label_values(metric, label)", v["name"], q["query"])
			continue
		}
		if d, ok := metrics[m[1]]; !ok || !d.labels[m[2]] {
			t.Errorf("variable %v: %s has no label %s in the registry", v["name"], m[1], m[2])
		}
	}
	// The panels the dashboard promises.
	for _, want := range []string{"tableau_operator_connection_ready", "tableau_operator_connection_failure_bucket",
		"tableau_operator_connection_rotation_phase", "tableau_operator_fleet_condition", "tableau_operator_pat_expiration_timestamp_seconds",
		"tableau_operator_signin_duration_seconds_bucket", "tableau_operator_tableau_requests_total", "tableau_operator_rotations_total",
		"tableau_operator_consumer_restarts_total"} {
		if !used[want] {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// TestKustomizeRendersMonitoring renders config/grafana and config/prometheus with kubectl
// kustomize (kubectl from the envtest binaries, KUBEBUILDER_ASSETS) and checks that Grafana's
// sidecar gets the dashboard, unchanged, in a ConfigMap labelled grafana_dashboard: "1", and
// that the PrometheusRule comes out whole.
func TestKustomizeRendersMonitoring(t *testing.T) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run make test-monitoring, or set it to $(hack/envtest.sh)")
	}
	// render returns the one object of kind that dir renders.
	render := func(dir, kind string) map[string]any {
		t.Helper()
		out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(repo, dir)).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
		}
		var found map[string]any
		for _, doc := range strings.Split(string(out), "\n---\n") {
			obj := map[string]any{}
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatalf("%s renders a document that is not YAML: %v", dir, err)
			}
			if obj["kind"] == kind {
				if found != nil {
					t.Fatalf("%s renders more than one %s", dir, kind)
				}
				found = obj
			}
		}
		if found == nil {
			t.Fatalf("%s renders no %s:\n%s", dir, kind, out)
		}
		return found
	}
	cm := render("config/grafana", "ConfigMap")
	meta, _ := cm["metadata"].(map[string]any)
	labels, _ := meta["labels"].(map[string]any)
	data, _ := cm["data"].(map[string]any)
	if cm["kind"] != "ConfigMap" || meta["name"] != "tableau-operator-dashboard" || labels["grafana_dashboard"] != "1" {
		t.Errorf("config/grafana renders a %v named %v labelled %v, want a ConfigMap tableau-operator-dashboard with grafana_dashboard: \"1\"", cm["kind"], meta["name"], labels)
	}
	if data["tableau-operator.json"] != string(read(t, "config/grafana/tableau-operator.json")) {
		t.Error("the ConfigMap's tableau-operator.json differs from config/grafana/tableau-operator.json")
	}
	pr := render("config/prometheus", "PrometheusRule")
	spec, _ := pr["spec"].(map[string]any)
	groups, _ := spec["groups"].([]any)
	if pr["kind"] != "PrometheusRule" || len(groups) != 1 {
		t.Errorf("config/prometheus renders a %v with %d groups, want the PrometheusRule", pr["kind"], len(groups))
	}
}
