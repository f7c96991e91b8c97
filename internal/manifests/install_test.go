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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/manifests"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// The install tests render the Helm chart and the kustomize overlays and hand them to an
// envtest API server (kubectl apply --dry-run=server), with helm built by hack/helm.sh.

const (
	release   = "tableau-operator"
	namespace = "tableau-operator-system"
)

var (
	root     = testenv.RepoRoot()
	chartDir = filepath.Join(root, "config", "helm", "tableau-operator")

	envOnce sync.Once
	env     *testenv.Env
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		_ = env.Stop()
	}
	os.Exit(code)
}

// controlPlane starts one envtest control plane for the package, with the namespaces the
// renderings use and the Prometheus Operator CRDs (ServiceMonitor, PrometheusRule).
func controlPlane(t *testing.T) *testenv.Env {
	t.Helper()
	envOnce.Do(func() {
		if env, envErr = testenv.Start(); envErr != nil {
			return
		}
		k8s, err := client.New(env.Config, client.Options{Scheme: testenv.Scheme()})
		if err != nil {
			envErr = err
			return
		}
		for _, ns := range []string{namespace, "team-a", "team-b", "tenant-a"} {
			if err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
				envErr = err
				return
			}
		}
		if out, err := run(exec.Command(env.Kubectl, "--kubeconfig", env.KubeconfigPath, "apply", "--server-side",
			"-f", "testdata/servicemonitor-crd.yaml", "-f", "testdata/prometheusrule-crd.yaml")); err != nil {
			envErr = fmt.Errorf("installing the Prometheus Operator CRDs: %w\n%s", err, out)
			return
		}
		_, envErr = run(exec.Command(env.Kubectl, "--kubeconfig", env.KubeconfigPath, "wait", "--for=condition=Established",
			"crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com"))
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return env
}

func run(cmd *exec.Cmd) (string, error) {
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// kubectl runs kubectl against the control plane, with stdin when it is not empty.
func kubectl(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	e := controlPlane(t)
	cmd := exec.Command(e.Kubectl, append([]string{"--kubeconfig", e.KubeconfigPath}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return run(cmd)
}

// helm runs the helm binary that `make test` passes in HELM.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		t.Fatal("HELM is not set: run `make test`, or export HELM=$(hack/helm.sh)/helm")
	}
	cmd := exec.Command(bin, args...)
	// Keep helm's caches and config out of the developer's home.
	dir := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+dir, "HELM_CONFIG_HOME="+dir, "HELM_DATA_HOME="+dir)
	return run(cmd)
}

// render runs helm template with the named value files of testdata/values ("" for the defaults).
func render(t *testing.T, valueSet string) string {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace}
	if valueSet != "" {
		args = append(args, "--values", filepath.Join("testdata", "values", valueSet+".yaml"))
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func index(t *testing.T, rendered string) map[string]*unstructured.Unstructured {
	t.Helper()
	objs, err := manifests.Parse([]byte(rendered))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := manifests.Index(objs)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// kustomize renders a kustomization of config/.
func kustomize(t *testing.T, dir string) string {
	t.Helper()
	out, err := kubectl(t, "", "kustomize", filepath.Join(root, "config", dir))
	if err != nil {
		t.Fatalf("kubectl kustomize config/%s: %v\n%s", dir, err, out)
	}
	return out
}

func managerContainer(t *testing.T, deployment *unstructured.Unstructured) map[string]any {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("Deployment %s has %d containers, want the manager alone", deployment.GetName(), len(containers))
	}
	return containers[0].(map[string]any)
}

func managerArgs(t *testing.T, deployment *unstructured.Unstructured) []string {
	t.Helper()
	args, _, _ := unstructured.NestedStringSlice(managerContainer(t, deployment), "args")
	return args
}

// rules reads the rules of an RBAC role object or of a file holding `rules:`.
func rules(t *testing.T, path string) []any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r, ok := obj["rules"].([]any)
	if !ok || len(r) == 0 {
		t.Fatalf("%s has no rules", path)
	}
	return r
}
