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
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The bundle is made from `kubectl kustomize config/manifests`: the hand-written CSV base,
// everything config/default installs, and the samples. What OLM creates itself from the CSV
// (the Deployment, the ServiceAccount, the RBAC bound to it) goes into the CSV; CRDs, the
// metrics Service and the unbound metrics-reader ClusterRole become bundle objects; the
// Namespace and the NetworkPolicy stay out (OLM installs into a namespace the user chose, and
// not every OLM in the field accepts NetworkPolicy bundle objects).

const (
	packageName = "tableau-operator"
	// channel follows OLM's channel naming (candidate, fast, stable): the API is v1alpha1.
	channel = "candidate"
	// watchNamespacesEnv carries OLM's olm.targetNamespaces annotation into --watch-namespaces:
	// empty for AllNamespaces, the OperatorGroup's namespaces comma-separated otherwise, which
	// is the flag's own format.
	watchNamespacesEnv = "WATCH_NAMESPACES"
	targetNamespaces   = "metadata.annotations['olm.targetNamespaces']"
	managerContainer   = "manager"
	// managerRole is the suffix of the ClusterRole of config/rbac/role.yaml. Its rules are on
	// namespaced resources only (the chart's namespaced mode grants them as a Role in each
	// watched namespace), so the CSV lists them as permissions: OLM grants those in the
	// OperatorGroup's target namespaces, and cluster-wide for AllNamespaces. The other bound
	// ClusterRoles (token and access reviews for secured metrics) are clusterPermissions.
	managerRole = "manager-role"
)

// options are what differs between builds of the bundle.
type options struct {
	// version is the operator's version, v1.2.3 or 1.2.3 (the CSV takes semver without v).
	version string
	// image is the operator image the Deployment runs.
	image string
}

// bundle is the bundle's files by path under the bundle directory.
type bundle map[string][]byte

// parse reads kustomize output into objects.
func parse(r io.Reader) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		obj := map[string]any{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("document %d is not a Kubernetes object", i)
		}
		objs = append(objs, u)
	}
}

// convert turns an object into a typed one through JSON.
func convert(u *unstructured.Unstructured, into any) error {
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// generate makes the bundle from the kustomized objects.
func generate(objs []*unstructured.Unstructured, opts options) (bundle, error) {
	v, err := semver.ParseTolerant(opts.version)
	if err != nil {
		return nil, fmt.Errorf("version %q is not semver: %w", opts.version, err)
	}
	if opts.image == "" {
		return nil, errors.New("no image given")
	}
	byKind := map[string][]*unstructured.Unstructured{}
	for _, o := range objs {
		byKind[o.GetKind()] = append(byKind[o.GetKind()], o)
	}
	one := func(kind string) (*unstructured.Unstructured, error) {
		if n := len(byKind[kind]); n != 1 {
			return nil, fmt.Errorf("want one %s in the kustomization, got %d", kind, n)
		}
		return byKind[kind][0], nil
	}

	base, err := one("ClusterServiceVersion")
	if err != nil {
		return nil, err
	}
	var csv operatorsv1alpha1.ClusterServiceVersion
	if err := convert(base, &csv); err != nil {
		return nil, err
	}
	d, err := one("Deployment")
	if err != nil {
		return nil, err
	}
	var deployment appsv1.Deployment
	if err := convert(d, &deployment); err != nil {
		return nil, err
	}
	sa, err := one("ServiceAccount")
	if err != nil {
		return nil, err
	}
	if deployment.Spec.Template.Spec.ServiceAccountName != sa.GetName() {
		return nil, fmt.Errorf("the Deployment runs as %q, the kustomization's ServiceAccount is %q", deployment.Spec.Template.Spec.ServiceAccountName, sa.GetName())
	}
	spec, err := olmDeploymentSpec(deployment.Spec, opts.image)
	if err != nil {
		return nil, err
	}

	files := bundle{}
	var manager, others []*unstructured.Unstructured
	for _, cr := range byKind["ClusterRole"] {
		if strings.HasSuffix(cr.GetName(), managerRole) {
			manager = append(manager, cr)
		} else {
			others = append(others, cr)
		}
	}
	if len(manager) != 1 {
		return nil, fmt.Errorf("want one ClusterRole *%s in the kustomization, got %d", managerRole, len(manager))
	}
	clusterRules, unbound, err := boundRules(byKind["ClusterRoleBinding"], others, manager, "ClusterRole", sa.GetName())
	if err != nil {
		return nil, err
	}
	managerRules, _, err := boundRules(byKind["ClusterRoleBinding"], manager, others, "ClusterRole", sa.GetName())
	if err != nil {
		return nil, err
	}
	if len(managerRules) == 0 {
		return nil, fmt.Errorf("the ClusterRole %s is not bound to the operator's ServiceAccount", manager[0].GetName())
	}
	rules, unboundRoles, err := boundRules(byKind["RoleBinding"], byKind["Role"], nil, "Role", sa.GetName())
	if err != nil {
		return nil, err
	}
	rules = append(managerRules, rules...)
	if len(unboundRoles) > 0 {
		return nil, fmt.Errorf("Role %s is bound to nothing the operator runs as", unboundRoles[0].GetName())
	}
	for _, cr := range unbound {
		if err := files.add(cr); err != nil {
			return nil, err
		}
	}

	owned, err := ownedCRDs(csv.Spec.CustomResourceDefinitions.Owned, byKind["CustomResourceDefinition"])
	if err != nil {
		return nil, err
	}
	for _, crd := range byKind["CustomResourceDefinition"] {
		if err := files.add(crd); err != nil {
			return nil, err
		}
	}
	for _, svc := range byKind["Service"] {
		svc = svc.DeepCopy()
		svc.SetNamespace("")
		if err := files.add(svc); err != nil {
			return nil, err
		}
	}
	for kind := range byKind {
		switch kind {
		case "ClusterServiceVersion", "Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
			"CustomResourceDefinition", "Service", "Namespace", "NetworkPolicy":
		default:
			if !slices.ContainsFunc(owned, func(c operatorsv1alpha1.CRDDescription) bool { return c.Kind == kind }) {
				return nil, fmt.Errorf("the kustomization has a %s, which the bundle has no place for", kind)
			}
		}
	}
	examples, err := almExamples(objs, owned)
	if err != nil {
		return nil, err
	}

	csv.Name = packageName + ".v" + v.String()
	csv.Namespace = ""
	csv.Spec.Version.Version = v
	csv.Spec.CustomResourceDefinitions.Owned = owned
	csv.Spec.InstallStrategy = operatorsv1alpha1.NamedInstallStrategy{
		StrategyName: operatorsv1alpha1.InstallStrategyNameDeployment,
		StrategySpec: operatorsv1alpha1.StrategyDetailsDeployment{
			DeploymentSpecs:    []operatorsv1alpha1.StrategyDeploymentSpec{{Name: deployment.Name, Spec: spec, Label: deployment.Labels}},
			ClusterPermissions: permissions(sa.GetName(), clusterRules),
			Permissions:        permissions(sa.GetName(), rules),
		},
	}
	if csv.Annotations == nil {
		csv.Annotations = map[string]string{}
	}
	csv.Annotations["containerImage"] = opts.image
	csv.Annotations["alm-examples"] = examples
	csv.Annotations["operators.operatorframework.io/builder"] = "tableau-operator hack/tools/bundle"
	raw, err := yaml.Marshal(&csv)
	if err != nil {
		return nil, err
	}
	files["manifests/"+packageName+".clusterserviceversion.yaml"] = raw
	files["metadata/annotations.yaml"] = annotationsYAML()
	return files, nil
}

// olmDeploymentSpec is config/default's Deployment spec with the image, and with
// --watch-namespaces following the OperatorGroup's target namespaces.
func olmDeploymentSpec(spec appsv1.DeploymentSpec, image string) (appsv1.DeploymentSpec, error) {
	spec = *spec.DeepCopy()
	containers := spec.Template.Spec.Containers
	i := slices.IndexFunc(containers, func(c corev1.Container) bool { return c.Name == managerContainer })
	if i < 0 {
		return spec, fmt.Errorf("the Deployment has no %s container", managerContainer)
	}
	c := &containers[i]
	for _, a := range c.Args {
		if strings.HasPrefix(a, "--watch-namespaces") {
			return spec, fmt.Errorf("the Deployment already sets %s; under OLM the OperatorGroup sets it", a)
		}
	}
	c.Image = image
	c.Args = append(c.Args, "--watch-namespaces=$("+watchNamespacesEnv+")")
	c.Env = append(c.Env, corev1.EnvVar{Name: watchNamespacesEnv, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: targetNamespaces},
	}})
	return spec, nil
}

// boundRules collects the rules of the roles bound to the ServiceAccount, and returns the roles
// bound to nothing it runs as. Bindings of elsewhere (roles collected by another call) are
// skipped.
func boundRules(bindings, roles, elsewhere []*unstructured.Unstructured, roleKind, serviceAccount string) ([]rbacv1.PolicyRule, []*unstructured.Unstructured, error) {
	bound := map[string]bool{}
	for _, b := range bindings {
		var binding rbacv1.RoleBinding
		if err := convert(b, &binding); err != nil {
			return nil, nil, err
		}
		if binding.RoleRef.Kind != roleKind {
			return nil, nil, fmt.Errorf("%s %s binds a %s", b.GetKind(), b.GetName(), binding.RoleRef.Kind)
		}
		if len(binding.Subjects) != 1 || binding.Subjects[0].Kind != "ServiceAccount" || binding.Subjects[0].Name != serviceAccount {
			return nil, nil, fmt.Errorf("%s %s binds %v, not the operator's ServiceAccount %s alone", b.GetKind(), b.GetName(), binding.Subjects, serviceAccount)
		}
		if !slices.ContainsFunc(elsewhere, func(r *unstructured.Unstructured) bool { return r.GetName() == binding.RoleRef.Name }) {
			bound[binding.RoleRef.Name] = true
		}
	}
	var rules []rbacv1.PolicyRule
	var unbound []*unstructured.Unstructured
	for _, r := range roles {
		if !bound[r.GetName()] {
			unbound = append(unbound, r)
			continue
		}
		delete(bound, r.GetName())
		var role rbacv1.ClusterRole
		if err := convert(r, &role); err != nil {
			return nil, nil, err
		}
		rules = append(rules, role.Rules...)
	}
	for name := range bound {
		return nil, nil, fmt.Errorf("a binding names the %s %s, which the kustomization lacks", roleKind, name)
	}
	return rules, unbound, nil
}

func permissions(serviceAccount string, rules []rbacv1.PolicyRule) []operatorsv1alpha1.StrategyDeploymentPermissions {
	if len(rules) == 0 {
		return nil
	}
	return []operatorsv1alpha1.StrategyDeploymentPermissions{{ServiceAccountName: serviceAccount, Rules: rules}}
}

// ownedCRDs are the base's owned entries (with their descriptors), one per CRD of the
// kustomization and for its storage version: a CRD without an entry, or an entry without a
// CRD, is an error, so a new API cannot ship without its descriptors.
func ownedCRDs(base []operatorsv1alpha1.CRDDescription, crds []*unstructured.Unstructured) ([]operatorsv1alpha1.CRDDescription, error) {
	var owned []operatorsv1alpha1.CRDDescription
	for _, u := range crds {
		i := slices.IndexFunc(base, func(c operatorsv1alpha1.CRDDescription) bool { return c.Name == u.GetName() })
		if i < 0 {
			return nil, fmt.Errorf("the CSV base has no owned entry for the CRD %s: add one with its descriptors", u.GetName())
		}
		desc := base[i]
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
		storage := ""
		for _, v := range versions {
			if m, ok := v.(map[string]any); ok && m["storage"] == true {
				storage, _ = m["name"].(string)
			}
		}
		if desc.Kind != kind || desc.Version != storage {
			return nil, fmt.Errorf("the CSV base names %s %s/%s, the CRD serves %s/%s", desc.Name, desc.Kind, desc.Version, kind, storage)
		}
		owned = append(owned, desc)
	}
	if len(owned) != len(base) {
		return nil, fmt.Errorf("the CSV base owns %d CRDs, the kustomization has %d", len(base), len(owned))
	}
	sort.Slice(owned, func(i, j int) bool { return owned[i].Name < owned[j].Name })
	return owned, nil
}

// almExamples is the samples of the owned kinds as a JSON array, OperatorHub's "create" forms.
func almExamples(objs []*unstructured.Unstructured, owned []operatorsv1alpha1.CRDDescription) (string, error) {
	var examples []map[string]any
	for _, o := range objs {
		if slices.ContainsFunc(owned, func(c operatorsv1alpha1.CRDDescription) bool { return c.Kind == o.GetKind() }) {
			examples = append(examples, o.Object)
		}
	}
	for _, c := range owned {
		if !slices.ContainsFunc(examples, func(e map[string]any) bool { return e["kind"] == c.Kind }) {
			return "", fmt.Errorf("config/samples has no %s: OperatorHub needs an example of each owned kind", c.Kind)
		}
	}
	raw, err := json.MarshalIndent(examples, "", "  ")
	return string(raw), err
}

// add writes an object to manifests/, named as operator-sdk names bundle objects.
func (b bundle) add(u *unstructured.Unstructured) error {
	gv := strings.ReplaceAll(u.GetAPIVersion(), "/", "_")
	name := fmt.Sprintf("manifests/%s_%s_%s.yaml", u.GetName(), gv, strings.ToLower(u.GetKind()))
	if u.GetKind() == "CustomResourceDefinition" {
		name = "manifests/" + u.GetName() + ".yaml"
	}
	if _, dup := b[name]; dup {
		return fmt.Errorf("two objects would be %s", name)
	}
	raw, err := yaml.Marshal(u.Object)
	if err != nil {
		return err
	}
	b[name] = raw
	return nil
}

// annotationsYAML is metadata/annotations.yaml: the registry+v1 format, the package and its
// channel.
func annotationsYAML() []byte {
	var buf bytes.Buffer
	buf.WriteString("annotations:\n")
	for _, kv := range [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", packageName},
		{"operators.operatorframework.io.bundle.channels.v1", channel},
		{"operators.operatorframework.io.bundle.channel.default.v1", channel},
	} {
		fmt.Fprintf(&buf, "  %s: %s\n", kv[0], kv[1])
	}
	return buf.Bytes()
}
