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
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The restricted Pod Security Standard, proven by the API server's own PodSecurity admission
// (on by default in kube-apiserver). PodSecurity enforces on Pods only and merely warns about a
// Deployment's pod template, and envtest runs no controller that would make the Pods; so the
// tests create a Pod from the rendered Deployment's template themselves.

const (
	// podSecurityRefused is the start of the PodSecurity admission's refusal of a Pod.
	podSecurityRefused = `violates PodSecurity "restricted:latest"`
	// podSecurityWarned is the start of its warning about a workload's pod template.
	podSecurityWarned = `would violate PodSecurity "restricted:latest"`
)

// TestChartInstallsUnderRestrictedPodSecurity: with every value set, the chart installs into a
// namespace that enforces (and warns about) the restricted profile without a single PodSecurity
// warning, and a Pod of its Deployment's template is admitted there. config/default's
// Deployment too, whose Namespace asks for the same profile.
func TestChartInstallsUnderRestrictedPodSecurity(t *testing.T) {
	for _, set := range valueSets {
		name := set
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			ns := "restricted-" + name
			podSecurityNamespace(t, ns, true)
			rendered := renderIn(t, ns, set)
			out, err := install(t, ns, rendered)
			if err != nil {
				t.Fatalf("installing the chart with values %q into %s: %v\n%s", name, ns, err, out)
			}
			if strings.Contains(out, "PodSecurity") {
				t.Errorf("installing the chart with values %q drew a PodSecurity warning:\n%s", name, out)
			}
			d := theDeployment(t, index(t, rendered))
			if out, err := createPod(t, podFrom(t, d, ns), false); err != nil {
				t.Errorf("a Pod of the chart's Deployment (values %q) is refused in %s: %v\n%s", name, ns, err, out)
			}
		})
	}
	t.Run("config/default", func(t *testing.T) {
		idx := index(t, kustomize(t, "default"))
		nsObj := idx["Namespace/"+namespace]
		if nsObj == nil || nsObj.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Fatalf("config/default's Namespace %s does not enforce the restricted profile: %v", namespace, nsObj)
		}
		ns := "restricted-config-default"
		podSecurityNamespace(t, ns, true)
		d := theDeployment(t, idx)
		d.SetNamespace(ns)
		if out, err := kubectl(t, toJSON(t, d), "apply", "--dry-run=server", "-f", "-"); err != nil || strings.Contains(out, "PodSecurity") {
			t.Errorf("config/default's Deployment in %s: %v\n%s", ns, err, out)
		}
		if out, err := createPod(t, podFrom(t, d, ns), false); err != nil {
			t.Errorf("a Pod of config/default's Deployment is refused in %s: %v\n%s", ns, err, out)
		}
	})
}

// TestRestrictedPodSecurityRefusesNonCompliantPods: a value set or a pod spec that breaks the
// restricted profile gets the Deployment a warning that names the broken check and its Pod a
// refusal that names it; in a namespace without the label the same Pod is admitted, so the
// refusal is the profile's doing. This keeps the test above from passing with PodSecurity off.
func TestRestrictedPodSecurityRefusesNonCompliantPods(t *testing.T) {
	const restricted, unrestricted = "restricted-refusals", "unrestricted"
	podSecurityNamespace(t, restricted, true)
	podSecurityNamespace(t, unrestricted, false)
	for _, tc := range []struct {
		name string
		set  []string
		edit func(spec map[string]any)
		want string
	}{
		{name: "runAsNonRoot dropped", set: []string{"securityContext.runAsNonRoot=null", "podSecurityContext.runAsNonRoot=null"},
			want: "runAsNonRoot != true"},
		{name: "runAsNonRoot false", set: []string{"securityContext.runAsNonRoot=false"},
			want: "runAsNonRoot != true"},
		// The API server's validation refuses privileged with allowPrivilegeEscalation: false.
		{name: "privileged", set: []string{"securityContext.privileged=true", "securityContext.allowPrivilegeEscalation=null"},
			want: "privileged (container \"manager\" must not set securityContext.privileged=true)"},
		{name: "privilege escalation", set: []string{"securityContext.allowPrivilegeEscalation=true"},
			want: "allowPrivilegeEscalation != false"},
		{name: "capability added", set: []string{"securityContext.capabilities.add={NET_RAW}"},
			want: "unrestricted capabilities"},
		{name: "seccomp profile dropped", set: []string{"podSecurityContext.seccompProfile=null"},
			want: "seccompProfile"},
		{name: "hostPath volume", edit: func(spec map[string]any) {
			spec["volumes"] = []any{map[string]any{"name": "host", "hostPath": map[string]any{"path": "/var/run"}}}
		}, want: "restricted volume types (volume \"host\" uses restricted volume type \"hostPath\")"},
		{name: "host network", edit: func(spec map[string]any) { spec["hostNetwork"] = true },
			want: "host namespaces (hostNetwork=true)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := theDeployment(t, index(t, renderIn(t, restricted, "", tc.set...)))
			if tc.edit != nil {
				spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
				tc.edit(spec)
				if err := unstructured.SetNestedMap(d.Object, spec, "spec", "template", "spec"); err != nil {
					t.Fatal(err)
				}
			}
			out, err := kubectl(t, toJSON(t, d), "apply", "--dry-run=server", "-f", "-")
			if err != nil {
				t.Fatalf("the non-compliant Deployment is refused, where PodSecurity only warns: %v\n%s", err, out)
			}
			if !strings.Contains(out, podSecurityWarned) || !strings.Contains(out, tc.want) {
				t.Errorf("the non-compliant Deployment drew no warning %q ... %q:\n%s", podSecurityWarned, tc.want, out)
			}
			out, err = createPod(t, podFrom(t, d, restricted), false)
			if err == nil {
				t.Fatalf("the non-compliant Pod is admitted in %s:\n%s", restricted, out)
			}
			if !strings.Contains(out, "Forbidden") || !strings.Contains(out, podSecurityRefused) || !strings.Contains(out, tc.want) {
				t.Errorf("the non-compliant Pod is refused, but not as %q ... %q:\n%s", podSecurityRefused, tc.want, out)
			}
			if out, err := createPod(t, podFrom(t, d, unrestricted), true); err != nil {
				t.Errorf("the same Pod is refused in %s too, which enforces no profile: %v\n%s", unrestricted, err, out)
			}
		})
	}
}

// podSecurityNamespace creates a namespace; restricted labels it to enforce and warn about the
// restricted profile at its latest version.
func podSecurityNamespace(t *testing.T, name string, restricted bool) {
	t.Helper()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace"}}
	ns.SetName(name)
	if restricted {
		ns.SetLabels(map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/warn":            "restricted",
			"pod-security.kubernetes.io/warn-version":    "latest",
		})
	}
	if out, err := kubectl(t, toJSON(t, ns), "create", "-f", "-"); err != nil {
		t.Fatalf("creating namespace %s: %v\n%s", name, err, out)
	}
}

// renderIn runs helm template into namespace ns with the named value set of testdata/values
// ("" for the defaults) and --set overrides.
func renderIn(t *testing.T, ns, valueSet string, sets ...string) string {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", ns}
	if valueSet != "" {
		args = append(args, "--values", filepath.Join("testdata", "values", valueSet+".yaml"))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// install applies the objects of the rendering that live in ns, and has the API server accept
// the others (cluster-scoped objects, Roles of watched namespaces) in a dry run: those are
// shared by every value set, and TestChartNotesNameTheMetricsService's Helm would refuse to
// adopt them.
func install(t *testing.T, ns, rendered string) (string, error) {
	t.Helper()
	var here, elsewhere []string
	for _, o := range index(t, rendered) {
		if o.GetNamespace() == ns {
			here = append(here, toJSON(t, o))
		} else {
			elsewhere = append(elsewhere, toJSON(t, o))
		}
	}
	out, err := kubectl(t, strings.Join(here, "\n---\n"), "apply", "-f", "-")
	if err != nil || len(elsewhere) == 0 {
		return out, err
	}
	more, err := kubectl(t, strings.Join(elsewhere, "\n---\n"), "apply", "--dry-run=server", "-f", "-")
	return out + more, err
}

// theDeployment is the rendering's one Deployment.
func theDeployment(t *testing.T, idx map[string]*unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	var found *unstructured.Unstructured
	for _, o := range idx {
		if o.GetKind() == "Deployment" {
			if found != nil {
				t.Fatalf("the rendering has two Deployments, %s and %s", found.GetName(), o.GetName())
			}
			found = o
		}
	}
	if found == nil {
		t.Fatal("the rendering has no Deployment")
	}
	return found
}

// podFrom is a Pod of the Deployment's pod template in namespace ns, as its ReplicaSet would
// create it.
func podFrom(t *testing.T, d *unstructured.Unstructured, ns string) *unstructured.Unstructured {
	t.Helper()
	template, ok, _ := unstructured.NestedMap(d.Object, "spec", "template")
	if !ok {
		t.Fatalf("Deployment %s has no pod template", d.GetName())
	}
	pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "spec": template["spec"]}}
	if meta, ok := template["metadata"].(map[string]any); ok {
		pod.Object["metadata"] = meta
	}
	pod.SetName(d.GetName() + "-pod")
	pod.SetNamespace(ns)
	return pod
}

// createPod creates the Pod, or only has the API server admit it when dryRun.
func createPod(t *testing.T, pod *unstructured.Unstructured, dryRun bool) (string, error) {
	t.Helper()
	args := []string{"create", "-f", "-"}
	if dryRun {
		args = append(args, "--dry-run=server")
	}
	return kubectl(t, toJSON(t, pod), args...)
}

func toJSON(t *testing.T, o *unstructured.Unstructured) string {
	t.Helper()
	b, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
