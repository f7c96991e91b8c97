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
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// valueSets are the files of testdata/values; "" is the chart's defaults.
var valueSets = []string{"", "namespaced", "production", "plain", "metrics-off", "report"}

const crdWrapperOpen, crdWrapperClose, keepLine = "{{- if .Values.crds.install }}\n", "{{- end }}\n", "    helm.sh/resource-policy: keep\n"

// TestChartCRDsAreTheGeneratedCRDs: each CRD template is config/crd/bases' file, byte for
// byte, inside the crds.install wrapper with helm.sh/resource-policy: keep added; and the
// chart has no CRD that config/crd/bases lacks.
func TestChartCRDsAreTheGeneratedCRDs(t *testing.T) {
	bases, _ := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	templates, _ := filepath.Glob(filepath.Join(chartDir, "templates", "crds", "*.yaml"))
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if len(bases) == 0 || !slices.Equal(names(bases), names(templates)) {
		t.Fatalf("chart CRD templates %v differ from config/crd/bases %v: run `make manifests`", names(templates), names(bases))
	}
	for _, base := range bases {
		want, err := os.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(chartDir, "templates", "crds", filepath.Base(base)))
		if err != nil {
			t.Fatal(err)
		}
		body, ok := bytes.CutPrefix(got, []byte(crdWrapperOpen))
		if ok {
			body, ok = bytes.CutSuffix(body, []byte(crdWrapperClose))
		}
		if !ok || bytes.Count(body, []byte(keepLine)) != 1 {
			t.Errorf("%s: not the wrapper %q ... %q around a body with one %q", filepath.Base(base), crdWrapperOpen, crdWrapperClose, keepLine)
			continue
		}
		if body = bytes.Replace(body, []byte(keepLine), nil, 1); !bytes.Equal(body, want) {
			t.Errorf("chart's %s differs from config/crd/bases: run `make manifests`", filepath.Base(base))
		}
	}
}

// TestCopiedRulesAreTheGeneratedRules: the chart's manager rules and config/namespaced's Role
// are config/rbac/role.yaml's rules.
func TestCopiedRulesAreTheGeneratedRules(t *testing.T) {
	want := rules(t, filepath.Join(root, "config", "rbac", "role.yaml"))
	for _, copied := range []string{
		filepath.Join(chartDir, "files", "manager-rules.yaml"),
		filepath.Join(root, "config", "namespaced", "role", "manager_role.yaml"),
	} {
		if got := rules(t, copied); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rules differ from config/rbac/role.yaml: run `make manifests`", copied)
		}
	}
}

// TestCopiedMonitoringIsTheSource: the chart's alert rules and dashboard are config/prometheus'
// and config/grafana's files, byte for byte.
func TestCopiedMonitoringIsTheSource(t *testing.T) {
	for copied, source := range map[string]string{
		filepath.Join(chartDir, "files", "alert-rules.yaml"): filepath.Join(root, "config", "prometheus", "tableau-operator.rules.yaml"),
		filepath.Join(chartDir, "files", "dashboard.json"):   filepath.Join(root, "config", "grafana", "tableau-operator.json"),
	} {
		got, err := os.ReadFile(copied)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: run `make manifests`", copied, source)
		}
	}
}

func TestChartLint(t *testing.T) {
	for _, set := range valueSets {
		args := []string{"lint", "--strict", chartDir}
		if set != "" {
			args = append(args, "--values", filepath.Join("testdata", "values", set+".yaml"))
		}
		if out, err := helm(t, args...); err != nil || !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm lint with values %q: %v\n%s", set, err, out)
		}
	}
}

// helmOnlyLabels are Helm's bookkeeping labels, which kustomize has no counterpart for.
var helmOnlyLabels = []string{"app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart"}

// comparable drops what may differ between the two renderings: object labels and
// annotations, Helm's bookkeeping labels in selectors, and the image (kustomize's images:
// and the chart's image values name it each their own way).
func comparable(u *unstructured.Unstructured) map[string]any {
	obj := u.DeepCopy().Object
	unstructured.RemoveNestedField(obj, "metadata", "labels")
	unstructured.RemoveNestedField(obj, "metadata", "annotations")
	if containers, ok, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", "containers"); ok {
		for _, c := range containers {
			delete(c.(map[string]any), "image")
		}
		_ = unstructured.SetNestedSlice(obj, containers, "spec", "template", "spec", "containers")
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, l := range helmOnlyLabels {
				delete(v, l)
			}
			for _, child := range v {
				strip(child)
			}
		case []any:
			for _, child := range v {
				strip(child)
			}
		}
	}
	strip(obj)
	return obj
}

// TestChartDefaultsRenderConfigDefault: with its default values the chart renders the objects
// of config/default (but the Namespace, which Helm leaves to --create-namespace), field for
// field; and it keeps the CRDs on uninstall.
func TestChartDefaultsRenderConfigDefault(t *testing.T) {
	chart := index(t, render(t, ""))
	kust := index(t, kustomize(t, "default"))
	var keys []string
	for k := range kust {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "Namespace/") {
			continue
		}
		c, ok := chart[k]
		if !ok {
			t.Errorf("the chart does not render %s, which config/default installs", k)
			continue
		}
		if want, got := comparable(kust[k]), comparable(c); !reflect.DeepEqual(want, got) {
			w, _ := yaml.Marshal(want)
			g, _ := yaml.Marshal(got)
			t.Errorf("%s differs between config/default and the chart.\nkustomize:\n%s\nchart:\n%s", k, w, g)
		}
	}
	for k, c := range chart {
		if _, ok := kust[k]; !ok {
			t.Errorf("the chart renders %s, which config/default lacks", k)
		}
		if c.GetKind() == "CustomResourceDefinition" && c.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("%s lacks helm.sh/resource-policy: keep", k)
		}
	}
}

// TestChartValueSetsServerDryRun renders every value set, checks what each must and must not
// render, and has the API server accept the result.
func TestChartValueSetsServerDryRun(t *testing.T) {
	deployment := "Deployment/" + namespace + "/" + release + "-controller-manager"
	checks := map[string]func(t *testing.T, idx map[string]*unstructured.Unstructured){
		"": func(t *testing.T, idx map[string]*unstructured.Unstructured) {
			mustHave(t, idx, "ClusterRole/tableau-operator-manager-role", "ClusterRole/tableau-operator-metrics-reader",
				"ClusterRoleBinding/tableau-operator-metrics-auth-rolebinding", "NetworkPolicy/"+namespace+"/tableau-operator-allow-metrics-traffic",
				"Service/"+namespace+"/tableau-operator-controller-manager-metrics-service")
			mustLack(t, idx, "PodDisruptionBudget/"+namespace+"/tableau-operator-controller-manager",
				"ServiceMonitor/"+namespace+"/tableau-operator-controller-manager-metrics-monitor",
				"PrometheusRule/"+namespace+"/tableau-operator-alerts", "ConfigMap/"+namespace+"/tableau-operator-dashboard",
				"CronJob/"+namespace+"/tableau-operator-report", "ClusterRole/tableau-operator-report")
		},
		"report": checkReportCronJob,
		"namespaced": func(t *testing.T, idx map[string]*unstructured.Unstructured) {
			mustHave(t, idx, "Role/team-a/tableau-operator-manager-role", "RoleBinding/team-a/tableau-operator-manager-rolebinding",
				"Role/team-b/tableau-operator-manager-role", "RoleBinding/team-b/tableau-operator-manager-rolebinding")
			mustLack(t, idx, "ClusterRole/tableau-operator-manager-role", "ClusterRoleBinding/tableau-operator-manager-rolebinding")
			args := managerArgs(t, idx[deployment])
			for _, want := range []string{"--watch-namespaces=team-a,team-b", "--install-id=team-ab"} {
				if !slices.Contains(args, want) {
					t.Errorf("manager args %v lack %s", args, want)
				}
			}
			want := rules(t, filepath.Join(root, "config", "rbac", "role.yaml"))
			if got, _, _ := unstructured.NestedSlice(idx["Role/team-b/tableau-operator-manager-role"].Object, "rules"); !reflect.DeepEqual(got, want) {
				t.Errorf("the Role's rules differ from config/rbac/role.yaml:\n%v", got)
			}
		},
		"production": func(t *testing.T, idx map[string]*unstructured.Unstructured) {
			mustHave(t, idx, "PodDisruptionBudget/"+namespace+"/tableau-operator-controller-manager",
				"ServiceMonitor/"+namespace+"/tableau-operator-controller-manager-metrics-monitor")
			d := idx[deployment]
			if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 2 {
				t.Errorf("replicas = %d, want 2", r)
			}
			c := managerContainer(t, d)
			if c["image"] != "registry.example.com/platform/tableau-operator:v1.2.3" {
				t.Errorf("image = %v", c["image"])
			}
			args := managerArgs(t, d)
			for _, want := range []string{"--leader-elect", "--max-concurrent-reconciles=8", "--zap-log-level=debug"} {
				if !slices.Contains(args, want) {
					t.Errorf("manager args %v lack %s", args, want)
				}
			}
			for _, field := range [][]string{{"nodeSelector"}, {"tolerations"}, {"affinity"}, {"topologySpreadConstraints"}, {"priorityClassName"}, {"imagePullSecrets"}} {
				if _, ok, _ := unstructured.NestedFieldNoCopy(d.Object, append([]string{"spec", "template", "spec"}, field...)...); !ok {
					t.Errorf("the pod spec lacks %s", field[0])
				}
			}
			sm := idx["ServiceMonitor/"+namespace+"/tableau-operator-controller-manager-metrics-monitor"]
			if s, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints"); len(s) != 1 || s[0].(map[string]any)["scheme"] != "https" {
				t.Errorf("ServiceMonitor endpoints %v, want one https endpoint", s)
			} else if s[0].(map[string]any)["honorLabels"] != true {
				t.Errorf("ServiceMonitor endpoint %v: want honorLabels: true, so the tenants' namespace labels survive the scrape", s[0])
			}
			mustHave(t, idx, "PrometheusRule/"+namespace+"/tableau-operator-alerts", "ConfigMap/"+namespace+"/tableau-operator-dashboard")
			checkMonitoring(t, idx["PrometheusRule/"+namespace+"/tableau-operator-alerts"], idx["ConfigMap/"+namespace+"/tableau-operator-dashboard"])
		},
		"plain": func(t *testing.T, idx map[string]*unstructured.Unstructured) {
			mustLack(t, idx, "ServiceAccount/"+namespace+"/tableau-operator-controller-manager", "ClusterRole/tableau-operator-metrics-reader",
				"ClusterRole/tableau-operator-metrics-auth-role", "NetworkPolicy/"+namespace+"/tableau-operator-allow-metrics-traffic",
				"Role/"+namespace+"/tableau-operator-leader-election-role", "CustomResourceDefinition/tableauconnections.tableau-operator.dev")
			d := idx[deployment]
			args := managerArgs(t, d)
			if !slices.Contains(args, "--metrics-secure=false") || !slices.Contains(args, "--metrics-bind-address=:8080") || slices.Contains(args, "--leader-elect") {
				t.Errorf("manager args %v: want plain metrics on :8080 and no leader election", args)
			}
			if sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName"); sa != "existing-operator" {
				t.Errorf("serviceAccountName = %q, want existing-operator", sa)
			}
			if b := idx["ClusterRoleBinding/tableau-operator-manager-rolebinding"]; b == nil || !strings.Contains(b.Object["subjects"].([]any)[0].(map[string]any)["name"].(string), "existing-operator") {
				t.Error("the manager ClusterRoleBinding does not name the existing ServiceAccount")
			}
			sm := idx["ServiceMonitor/"+namespace+"/tableau-operator-controller-manager-metrics-monitor"]
			if s, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints"); len(s) != 1 || s[0].(map[string]any)["scheme"] != "http" || s[0].(map[string]any)["bearerTokenFile"] != nil {
				t.Errorf("ServiceMonitor endpoints %v, want one plain http endpoint without a token", s)
			}
		},
		"metrics-off": func(t *testing.T, idx map[string]*unstructured.Unstructured) {
			mustLack(t, idx, "Service/"+namespace+"/tableau-controller-manager-metrics-service",
				"NetworkPolicy/"+namespace+"/tableau-allow-metrics-traffic", "ClusterRole/tableau-metrics-reader")
			mustHave(t, idx, "ClusterRole/tableau-manager-role")
			if args := managerArgs(t, idx["Deployment/"+namespace+"/tableau-controller-manager"]); !slices.Contains(args, "--metrics-bind-address=0") {
				t.Errorf("manager args %v lack --metrics-bind-address=0", args)
			}
		},
	}
	for _, set := range valueSets {
		name := set
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			rendered := render(t, set)
			idx := index(t, rendered)
			if set != "metrics-off" {
				mustHave(t, idx, deployment)
			}
			checks[set](t, idx)
			out, err := kubectl(t, rendered, "apply", "--dry-run=server", "-f", "-")
			if err != nil {
				t.Fatalf("kubectl apply --dry-run=server of the chart with values %q: %v\n%s", name, err, out)
			}
			if n := strings.Count(out, "(server dry run)"); n != len(idx) {
				t.Errorf("the dry run applied %d objects, the rendering has %d:\n%s", n, len(idx), out)
			}
		})
	}
}

// TestChartRejectsBadValues: bad values fail the rendering with a message that names them.
func TestChartRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"replicaCount=2", "leaderElection.enabled=false"}, "replicaCount above 1 needs leaderElection.enabled"},
		{[]string{"serviceAccount.create=false"}, "serviceAccount.name is required"},
		{[]string{"rbac.watchNamespaces[0]=Team_A"}, "'Team_A' does not match pattern"},
		{[]string{"rbac.watchNamespace[0]=team-a"}, "additional properties 'watchNamespace' not allowed"},
		{[]string{"installID=team a"}, "/installID"},
		{[]string{"metrics.port=0"}, "/metrics/port"},
		{[]string{"image.digest=v1.2.3"}, "/image/digest"},
		{[]string{"auditReport.since=weekly"}, "/auditReport/since"},
		{[]string{"resources.limits.memory=256MB"}, "/resources/limits/memory"},
		{[]string{"resources.limit.memory=1Gi"}, "additional properties 'limit' not allowed"},
	} {
		args := []string{"template", release, chartDir, "--namespace", namespace}
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("helm template --set %v: %v, want an error containing %q:\n%s", tc.set, err, tc.want, out)
		}
	}
}

func mustHave(t *testing.T, idx map[string]*unstructured.Unstructured, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if idx[k] == nil {
			t.Errorf("the rendering lacks %s", k)
		}
	}
}

func mustLack(t *testing.T, idx map[string]*unstructured.Unstructured, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if idx[k] != nil {
			t.Errorf("the rendering has %s", k)
		}
	}
}

// checkMonitoring: the chart's PrometheusRule carries exactly the groups of the plain rules
// file and the release label asked for; the dashboard ConfigMap carries the dashboard JSON
// unchanged, the sidecar's label and the folder annotation.
func checkMonitoring(t *testing.T, rule, dashboard *unstructured.Unstructured) {
	t.Helper()
	if rule == nil || dashboard == nil {
		return
	}
	raw, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "tableau-operator.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var plain map[string]any
	if err := yaml.Unmarshal(raw, &plain); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups"); !reflect.DeepEqual(got, plain["groups"]) {
		t.Error("the chart's PrometheusRule groups differ from config/prometheus/tableau-operator.rules.yaml")
	}
	if rule.GetLabels()["release"] != "prometheus" {
		t.Errorf("PrometheusRule labels %v lack release: prometheus", rule.GetLabels())
	}
	want, err := os.ReadFile(filepath.Join(root, "config", "grafana", "tableau-operator.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(dashboard.Object, "data", "tableau-operator.json"); got != strings.TrimRight(string(want), "\n") {
		t.Error("the chart's dashboard ConfigMap differs from config/grafana/tableau-operator.json")
	}
	if dashboard.GetLabels()["grafana_dashboard"] != "1" || dashboard.GetAnnotations()["grafana_folder"] != "Tableau" {
		t.Errorf("dashboard ConfigMap labels %v, annotations %v: want grafana_dashboard: \"1\" and grafana_folder: Tableau", dashboard.GetLabels(), dashboard.GetAnnotations())
	}
}

// TestChartNotesNameTheMetricsService: the metrics URL the install notes print names the
// metrics Service the chart renders, also when a long name makes the chart shorten it.
func TestChartNotesNameTheMetricsService(t *testing.T) {
	e := controlPlane(t)
	for _, fullname := range []string{"", "a-fullname-override-long-enough-to-be-shortened"} {
		// The control plane already has the CRDs, which Helm would refuse to adopt.
		args := []string{"install", release, chartDir, "--namespace", namespace, "--dry-run=client", "--kubeconfig", e.KubeconfigPath, "--set", "crds.install=false"}
		if fullname != "" {
			args = append(args, "--set", "fullnameOverride="+fullname)
		}
		out, err := helm(t, args...)
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		manifest, notes, ok := strings.Cut(out, "\nNOTES:\n")
		_, manifest, ok2 := strings.Cut(manifest, "\nMANIFEST:\n")
		if !ok || !ok2 {
			t.Fatalf("helm install --dry-run printed no MANIFEST and NOTES:\n%s", out)
		}
		var services []string
		for k := range index(t, manifest) {
			if strings.HasPrefix(k, "Service/") {
				services = append(services, strings.TrimPrefix(k, "Service/"+namespace+"/"))
			}
		}
		if len(services) != 1 {
			t.Fatalf("fullnameOverride %q: want one Service, got %v", fullname, services)
		}
		if want := "https://" + services[0] + "." + namespace + ".svc:8443/metrics"; !strings.Contains(notes, want) {
			t.Errorf("fullnameOverride %q: the notes do not name the metrics Service %s:\n%s", fullname, want, notes)
		}
	}
}

// TestChartImageReference: the image is repository:tag, v<the chart's appVersion> without a tag
// (hack/version.sh names a release's image by its git tag, v1.2.3),
// and repository@digest when a digest pins it (as `make image` prints it).
func TestChartImageReference(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	raw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(raw, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("Chart.yaml has no appVersion: %v", err)
	}
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{nil, "tableau-operator:v" + strings.TrimPrefix(chart.AppVersion, "v")},
		{[]string{"image.repository=registry.example.com/tableau-operator", "image.tag=v1.2.3"}, "registry.example.com/tableau-operator:v1.2.3"},
		{[]string{"image.repository=registry.example.com/tableau-operator", "image.tag=v1.2.3", "image.digest=" + digest}, "registry.example.com/tableau-operator@" + digest},
	} {
		args := []string{"template", release, chartDir, "--namespace", namespace}
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		out, err := helm(t, args...)
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		d := index(t, out)["Deployment/"+namespace+"/"+release+"-controller-manager"]
		if d == nil {
			t.Fatalf("--set %v renders no Deployment", tc.set)
		}
		if got := managerContainer(t, d)["image"]; got != tc.want {
			t.Errorf("--set %v: image %v, want %s", tc.set, got, tc.want)
		}
	}
}
