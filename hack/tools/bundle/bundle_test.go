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

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// repo is the repository's root, from this module's directory.
const repo = "../../.."

const testImage = "registry.example.com/platform/tableau-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// kustomize renders a kustomization of config/ with the kubectl that hack/envtest.sh builds.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(hack/envtest.sh)")
	}
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(repo, "config", dir)).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/%s: %v", dir, err)
	}
	objs, err := parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// writtenBundle generates the bundle from config/manifests into a temporary directory, as
// `make bundle` does.
func writtenBundle(t *testing.T) string {
	t.Helper()
	files, err := generate(kustomize(t, "manifests"), options{version: "v1.2.3", image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := files.write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// operatorFrameworkSuite runs what `operator-sdk bundle validate --select-optional
// suite=operatorframework --optional-values=k8s-version=<v>` runs: the default bundle validators
// (CSV, CRDs, bundle, objects) and the operatorframework suite (OperatorHub v2 with its standard
// capabilities and categories, good practices, deprecated APIs), given the bundle's objects and
// the optional values as operator-sdk passes them. Both tests below use it, so the one that
// breaks the bundle proves that these very validators can fail.
func operatorFrameworkSuite(b *manifests.Bundle, k8sVersion string) (errs, warnings []string) {
	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.GoodPracticesValidator,
		validation.AlphaDeprecatedAPIsValidator,
	)
	objs := b.ObjectsToValidate()
	for _, o := range b.Objects {
		objs = append(objs, o)
	}
	objs = append(objs, map[string]string{"k8s-version": k8sVersion})
	for _, r := range validators.Validate(objs...) {
		for _, e := range r.Errors {
			errs = append(errs, e.Error())
		}
		for _, w := range r.Warnings {
			warnings = append(warnings, w.Error())
		}
	}
	return errs, warnings
}

// envtestKubernetes is the Kubernetes version of the envtest binaries (hack/envtest.sh), which
// the deprecated-API check is run against.
const envtestKubernetes = "1.37"

// TestBundleValidates: the bundle passes the operatorframework suite with neither errors nor
// warnings: OperatorHub's reviewers read the warnings too.
func TestBundleValidates(t *testing.T) {
	b, err := manifests.GetBundleFromDir(writtenBundle(t))
	if err != nil {
		t.Fatalf("the operator-framework cannot load the bundle: %v", err)
	}
	if b.CSV == nil || len(b.V1CRDs) != 2 {
		t.Fatalf("the loaded bundle has CSV %v and %d v1 CRDs, want a CSV and 2 CRDs", b.CSV != nil, len(b.V1CRDs))
	}
	errs, warnings := operatorFrameworkSuite(b, envtestKubernetes)
	for _, e := range errs {
		t.Errorf("error: %s", e)
	}
	for _, w := range warnings {
		t.Errorf("warning: %s", w)
	}
}

// TestValidatorsCatchABrokenBundle: the suite of TestBundleValidates refuses a bundle broken
// for each of its validators, so TestBundleValidates cannot pass by validating nothing, or by
// losing a validator: the CSV without its icon (OperatorHub v2), with an unknown capability
// level and category, without one owned CRD (CSV), the manager without resource requests
// (good practices), and a bundle object of an API that Kubernetes removed (deprecated APIs).
func TestValidatorsCatchABrokenBundle(t *testing.T) {
	dir := writtenBundle(t)
	path := filepath.Join(dir, "manifests", packageName+".clusterserviceversion.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var csv operatorsv1alpha1.ClusterServiceVersion
	if err := yaml.Unmarshal(raw, &csv); err != nil {
		t.Fatal(err)
	}
	csv.Spec.Icon = nil
	csv.Annotations["capabilities"] = "Telepathy"
	csv.Annotations["categories"] = "Astrology"
	csv.Spec.CustomResourceDefinitions.Owned = csv.Spec.CustomResourceDefinitions.Owned[:1]
	for i := range csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs {
		for j := range csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs[i].Spec.Template.Spec.Containers {
			csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs[i].Spec.Template.Spec.Containers[j].Resources.Requests = nil
		}
	}
	if raw, err = yaml.Marshal(&csv); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	removed := "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: tableau-operator\nspec:\n  minAvailable: 1\n"
	if err := os.WriteFile(filepath.Join(dir, "manifests", "tableau-operator_policy_v1beta1_poddisruptionbudget.yaml"), []byte(removed), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := manifests.GetBundleFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	errs, warnings := operatorFrameworkSuite(b, envtestKubernetes)
	all := strings.ToLower(strings.Join(append(errs, warnings...), "\n"))
	for _, want := range []string{"csv.spec.icon not specified", "telepathy", "astrology", "kind=tableaufleet: crd", "resource requests"} {
		if !strings.Contains(all, want) {
			t.Errorf("the validators did not name %q in:\n%s", want, all)
		}
	}
	// OperatorHub v2 and the deprecated-APIs validator each report the removed API.
	if n := strings.Count(all, "migrate the api(s) for poddisruptionbudget"); n != 2 {
		t.Errorf("the removed policy/v1beta1 API is reported %d times, want once by OperatorHub v2 and once by the deprecated-APIs validator:\n%s", n, all)
	}
}

// csvOf reads the bundle's CSV.
func csvOf(t *testing.T, dir string) operatorsv1alpha1.ClusterServiceVersion {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifests", packageName+".clusterserviceversion.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var csv operatorsv1alpha1.ClusterServiceVersion
	if err := yaml.UnmarshalStrict(raw, &csv); err != nil {
		t.Fatal(err)
	}
	return csv
}

// TestBundleIsConfigDefault: the CSV's Deployment is config/default's, but for the image and
// --watch-namespaces from OLM's target namespaces; its RBAC is config/rbac's; the CRDs and the
// metrics Service are config/default's; so the bundle cannot drift from the other installs.
func TestBundleIsConfigDefault(t *testing.T) {
	dir := writtenBundle(t)
	csv := csvOf(t, dir)
	if csv.Name != "tableau-operator.v1.2.3" || csv.Spec.Version.String() != "1.2.3" || csv.Annotations["containerImage"] != testImage {
		t.Errorf("CSV %s version %s containerImage %s", csv.Name, csv.Spec.Version.String(), csv.Annotations["containerImage"])
	}
	def := map[string]*unstructured.Unstructured{}
	for _, o := range kustomize(t, "default") {
		def[o.GetKind()+"/"+o.GetName()] = o
	}

	deps := csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs
	if len(deps) != 1 {
		t.Fatalf("the CSV installs %d Deployments, want 1", len(deps))
	}
	want := def["Deployment/"+deps[0].Name]
	if want == nil {
		t.Fatalf("config/default has no Deployment %s", deps[0].Name)
	}
	got := deps[0].Spec.DeepCopy()
	c := &got.Template.Spec.Containers[0]
	if c.Image != testImage {
		t.Errorf("the manager runs %s, want %s", c.Image, testImage)
	}
	if !slices.Contains(c.Args, "--watch-namespaces=$(WATCH_NAMESPACES)") || len(c.Env) != 1 || c.Env[0].Name != "WATCH_NAMESPACES" ||
		c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.FieldRef == nil || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['olm.targetNamespaces']" {
		t.Errorf("the manager's args %v and env %+v do not take --watch-namespaces from olm.targetNamespaces", c.Args, c.Env)
	}
	c.Args = slices.DeleteFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--watch-namespaces=") })
	c.Env, c.Image = nil, ""
	var wantSpec map[string]any
	_ = json.Unmarshal(mustJSON(t, want.Object["spec"]), &wantSpec)
	var gotSpec map[string]any
	_ = json.Unmarshal(mustJSON(t, got), &gotSpec)
	delete(gotSpec, "strategy")
	for _, m := range []map[string]any{wantSpec, gotSpec} {
		containers := m["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		delete(containers[0].(map[string]any), "image")
	}
	if !reflect.DeepEqual(wantSpec, gotSpec) {
		t.Errorf("the CSV's Deployment spec differs from config/default's:\nCSV: %s\nconfig/default: %s", mustJSON(t, gotSpec), mustJSON(t, wantSpec))
	}

	strategy := csv.Spec.InstallStrategy.StrategySpec
	var rules []any
	for _, p := range strategy.Permissions {
		var r []any
		_ = json.Unmarshal(mustJSON(t, p.Rules), &r)
		rules = append(rules, r...)
	}
	role := def["ClusterRole/tableau-operator-manager-role"]
	if role == nil || len(rules) == 0 || !reflect.DeepEqual(rules[:len(role.Object["rules"].([]any))], role.Object["rules"]) {
		t.Errorf("the CSV's permissions do not start with config/rbac/role.yaml's rules:\n%s", mustJSON(t, rules))
	}
	for _, p := range append(strategy.Permissions, strategy.ClusterPermissions...) {
		if p.ServiceAccountName != deps[0].Spec.Template.Spec.ServiceAccountName {
			t.Errorf("permissions for %s, the Deployment runs as %s", p.ServiceAccountName, deps[0].Spec.Template.Spec.ServiceAccountName)
		}
	}

	for _, name := range []string{"tableauconnections.tableau-operator.dev", "tableaufleets.tableau-operator.dev"} {
		sameObject(t, filepath.Join(dir, "manifests", name+".yaml"), def["CustomResourceDefinition/"+name])
	}
	svc := def["Service/tableau-operator-controller-manager-metrics-service"].DeepCopy()
	svc.SetNamespace("")
	sameObject(t, filepath.Join(dir, "manifests", "tableau-operator-controller-manager-metrics-service_v1_service.yaml"), svc)
	sameObject(t, filepath.Join(dir, "manifests", "tableau-operator-metrics-reader_rbac.authorization.k8s.io_v1_clusterrole.yaml"),
		def["ClusterRole/tableau-operator-metrics-reader"])

	modes := map[operatorsv1alpha1.InstallModeType]bool{}
	for _, m := range csv.Spec.InstallModes {
		modes[m.Type] = m.Supported
	}
	for _, m := range []operatorsv1alpha1.InstallModeType{operatorsv1alpha1.InstallModeTypeAllNamespaces, operatorsv1alpha1.InstallModeTypeOwnNamespace,
		operatorsv1alpha1.InstallModeTypeSingleNamespace, operatorsv1alpha1.InstallModeTypeMultiNamespace} {
		if !modes[m] {
			t.Errorf("install mode %s is not supported, though --watch-namespaces takes any set of namespaces", m)
		}
	}

	icon, err := os.ReadFile(filepath.Join(repo, "config", "manifests", "icon.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(csv.Spec.Icon) != 1 || csv.Spec.Icon[0].MediaType != "image/svg+xml" || csv.Spec.Icon[0].Data != base64.StdEncoding.EncodeToString(icon) {
		t.Error("the CSV's icon is not config/manifests/icon.svg, base64-encoded")
	}

	var examples []map[string]any
	if err := json.Unmarshal([]byte(csv.Annotations["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples: %v", err)
	}
	var samples []string
	for _, o := range kustomize(t, "samples") {
		samples = append(samples, o.GetKind()+"/"+o.GetName())
	}
	var listed []string
	for _, e := range examples {
		u := unstructured.Unstructured{Object: e}
		listed = append(listed, u.GetKind()+"/"+u.GetName())
	}
	slices.Sort(samples)
	slices.Sort(listed)
	if !slices.Equal(samples, listed) {
		t.Errorf("alm-examples lists %v, config/samples has %v", listed, samples)
	}

	annotations, err := os.ReadFile(filepath.Join(dir, "metadata", "annotations.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.UnmarshalStrict(annotations, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Annotations["operators.operatorframework.io.bundle.package.v1"] != packageName ||
		meta.Annotations["operators.operatorframework.io.bundle.mediatype.v1"] != "registry+v1" ||
		meta.Annotations["operators.operatorframework.io.bundle.channel.default.v1"] != channel {
		t.Errorf("metadata/annotations.yaml: %v", meta.Annotations)
	}
}

// TestDescriptorsNameSchemaFields: every spec and status descriptor's path is a field of its
// CRD's schema, so OperatorHub's forms and views cannot point at a renamed field.
func TestDescriptorsNameSchemaFields(t *testing.T) {
	dir := writtenBundle(t)
	csv := csvOf(t, dir)
	for _, owned := range csv.Spec.CustomResourceDefinitions.Owned {
		raw, err := os.ReadFile(filepath.Join(dir, "manifests", owned.Name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(raw, &crd); err != nil {
			t.Fatal(err)
		}
		schema := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
		if len(owned.SpecDescriptors) == 0 || len(owned.StatusDescriptors) == 0 {
			t.Errorf("%s has no spec or no status descriptors", owned.Kind)
		}
		check := func(root string, path string) {
			s := schema.Properties[root]
			for _, part := range strings.Split(path, ".") {
				next, ok := s.Properties[part]
				if !ok {
					t.Errorf("%s: descriptor %s.%s names no field of the CRD", owned.Kind, root, path)
					return
				}
				s = next
			}
		}
		for _, d := range owned.SpecDescriptors {
			check("spec", d.Path)
		}
		for _, d := range owned.StatusDescriptors {
			check("status", d.Path)
		}
	}
}

// TestGenerateRefuses: a kustomization the bundle cannot carry faithfully is an error that
// names what is wrong, not a bundle that silently lacks it.
func TestGenerateRefuses(t *testing.T) {
	base := kustomize(t, "manifests")
	edit := func(f func(objs []*unstructured.Unstructured) []*unstructured.Unstructured) []*unstructured.Unstructured {
		var objs []*unstructured.Unstructured
		for _, o := range base {
			objs = append(objs, o.DeepCopy())
		}
		return f(objs)
	}
	for _, tc := range []struct {
		name string
		objs []*unstructured.Unstructured
		opts options
		want string
	}{
		{"a version that is not semver", base, options{version: "main", image: testImage}, "not semver"},
		{"no image", base, options{version: "1.0.0"}, "no image"},
		{"a CRD without descriptors", edit(func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			extra := objs[slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == "CustomResourceDefinition" })].DeepCopy()
			extra.SetName("tableauthings.tableau-operator.dev")
			return append(objs, extra)
		}), options{version: "1.0.0", image: testImage}, "no owned entry for the CRD tableauthings.tableau-operator.dev"},
		{"a kind the bundle has no place for", edit(func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}}
			return append(objs, cm)
		}), options{version: "1.0.0", image: testImage}, "has a ConfigMap"},
		{"a Deployment that sets --watch-namespaces", edit(func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			d := objs[slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == "Deployment" })]
			containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			c := containers[0].(map[string]any)
			c["args"] = append(c["args"].([]any), "--watch-namespaces=team-a")
			_ = unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers")
			return objs
		}), options{version: "1.0.0", image: testImage}, "already sets --watch-namespaces=team-a"},
		{"a binding of another subject", edit(func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			b := objs[slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() == "ClusterRoleBinding" })]
			b.Object["subjects"] = []any{map[string]any{"kind": "ServiceAccount", "name": "someone-else", "namespace": "x"}}
			return objs
		}), options{version: "1.0.0", image: testImage}, "not the operator's ServiceAccount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := generate(tc.objs, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("generate: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// sameObject: the bundle's file holds the object, field for field.
func sameObject(t *testing.T, path string, want *unstructured.Unstructured) {
	t.Helper()
	if want == nil {
		t.Errorf("config/default lacks the object of %s", filepath.Base(path))
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	var got map[string]any
	if err := yaml.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	var w map[string]any
	_ = json.Unmarshal(mustJSON(t, want.Object), &w)
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s differs from config/default's %s", filepath.Base(path), want.GetName())
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
