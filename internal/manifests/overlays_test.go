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
	"slices"
	"strings"
	"testing"
)

// TestNamespacedOverlay: config/namespaced swaps the manager ClusterRole for a Role in the
// namespace its --watch-namespaces names, keeps everything else of config/default, and is
// accepted by the API server.
func TestNamespacedOverlay(t *testing.T) {
	rendered := kustomize(t, "namespaced")
	idx := index(t, rendered)
	base := index(t, kustomize(t, "default"))
	mustLack(t, idx, "ClusterRole/tableau-operator-manager-role", "ClusterRoleBinding/tableau-operator-manager-rolebinding")
	mustHave(t, idx, "Role/tenant-a/tableau-operator-manager-role", "RoleBinding/tenant-a/tableau-operator-manager-rolebinding")
	for k := range base {
		if !strings.HasPrefix(k, "ClusterRole/tableau-operator-manager-role") && !strings.HasPrefix(k, "ClusterRoleBinding/tableau-operator-manager-rolebinding") {
			mustHave(t, idx, k)
		}
	}
	if args := managerArgs(t, idx["Deployment/"+namespace+"/tableau-operator-controller-manager"]); !slices.Contains(args, "--watch-namespaces=tenant-a") {
		t.Errorf("manager args %v lack --watch-namespaces=tenant-a", args)
	}
	subjects := idx["RoleBinding/tenant-a/tableau-operator-manager-rolebinding"].Object["subjects"].([]any)
	if s := subjects[0].(map[string]any); s["name"] != "tableau-operator-controller-manager" || s["namespace"] != namespace {
		t.Errorf("the RoleBinding's subject is %v, not the operator's ServiceAccount", s)
	}
	if out, err := kubectl(t, rendered, "apply", "--dry-run=server", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply --dry-run=server -k config/namespaced: %v\n%s", err, out)
	}
}

// TestPrometheusOverlay: config/prometheus' ServiceMonitor selects the metrics Service of
// config/default by its labels and port; its PrometheusRule sits beside it in the operator's
// namespace; the API server accepts both.
func TestPrometheusOverlay(t *testing.T) {
	rendered := kustomize(t, "prometheus")
	idx := index(t, rendered)
	sm := idx["ServiceMonitor/"+namespace+"/tableau-operator-controller-manager-metrics-monitor"]
	svc := index(t, kustomize(t, "default"))["Service/"+namespace+"/tableau-operator-controller-manager-metrics-service"]
	if sm == nil || svc == nil {
		t.Fatalf("want the ServiceMonitor in config/prometheus and the metrics Service in config/default: %v, %v", sm, svc)
	}
	selector := sm.Object["spec"].(map[string]any)["selector"].(map[string]any)["matchLabels"].(map[string]any)
	for k, v := range selector {
		if svc.GetLabels()[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%v, which the metrics Service lacks (%v)", k, v, svc.GetLabels())
		}
	}
	pr := idx["PrometheusRule/"+namespace+"/tableau-operator-alerts"]
	if pr == nil {
		t.Fatalf("config/prometheus renders no PrometheusRule tableau-operator-alerts in %s", namespace)
	}
	// A Prometheus that loads the alerts must also scrape the metrics they read, or
	// TableauOperatorAbsent fires for ever: both carry the release label its selectors match.
	if r := pr.GetLabels()["release"]; r == "" || sm.GetLabels()["release"] != r {
		t.Errorf("the PrometheusRule has release=%q, the ServiceMonitor release=%q: a Prometheus selecting one by it ignores the other", r, sm.GetLabels()["release"])
	}
	endpoint := sm.Object["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)
	port := svc.Object["spec"].(map[string]any)["ports"].([]any)[0].(map[string]any)
	if endpoint["port"] != port["name"] || endpoint["scheme"] != "https" {
		t.Errorf("the ServiceMonitor scrapes port %v over %v; the Service's port is %v (HTTPS)", endpoint["port"], endpoint["scheme"], port["name"])
	}
	// The operator's series carry their tenant's namespace (and the endpoint of the Tableau call)
	// in labels the Prometheus Operator also sets on every target: without honorLabels they
	// would be renamed exported_namespace and exported_endpoint, and every alert and panel
	// would name the operator's namespace instead of the tenant's.
	if endpoint["honorLabels"] != true {
		t.Errorf("the ServiceMonitor's endpoint has honorLabels %v, want true", endpoint["honorLabels"])
	}
	if out, err := kubectl(t, rendered, "apply", "--dry-run=server", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply --dry-run=server -k config/prometheus: %v\n%s", err, out)
	}
}
