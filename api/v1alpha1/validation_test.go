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

package v1alpha1_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

var (
	env *testenv.Env
	k8s client.Client
)

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s, err = client.New(env.Config, client.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// validSpec is a complete, valid spec; each invalid case changes one thing in it.
const validSpec = `
server: https://10ay.online.tableau.com
site: finance
apiVersion: "3.24"
auth:
  personalAccessToken:
    secretRef:
      name: finance-pat
`

func connection(t *testing.T, name, spec string) *unstructured.Unstructured {
	t.Helper()
	obj := map[string]any{}
	if err := yaml.Unmarshal([]byte(spec), &obj); err != nil {
		t.Fatalf("bad test spec: %v", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "tableau-operator.dev/v1alpha1",
		"kind":       "TableauConnection",
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       obj,
	}}
	return u
}

// withSpec returns validSpec with the top-level keys of patch replaced (a null value removes a key).
func withSpec(t *testing.T, patch string) string {
	t.Helper()
	base := map[string]any{}
	if err := yaml.Unmarshal([]byte(validSpec), &base); err != nil {
		t.Fatal(err)
	}
	over := map[string]any{}
	if err := yaml.Unmarshal([]byte(patch), &over); err != nil {
		t.Fatalf("bad patch: %v", err)
	}
	for k, v := range over {
		if v == nil {
			delete(base, k)
			continue
		}
		base[k] = v
	}
	out, err := yaml.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestValidSpecIsAcceptedAndDefaulted(t *testing.T) {
	u := connection(t, "valid-defaults", validSpec)
	if err := k8s.Create(context.Background(), u, client.DryRunAll); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
	for path, want := range map[string]any{
		"spec.auth.personalAccessToken.secretRef.tokenNameKey":   "tokenName",
		"spec.auth.personalAccessToken.secretRef.tokenSecretKey": "tokenSecret",
		"spec.allowInsecureHTTP":                                 false,
	} {
		got, found, _ := unstructured.NestedFieldNoCopy(u.Object, strings.Split(path, ".")...)
		if !found || got != want {
			t.Errorf("%s = %v (found %v), want default %v", path, got, found, want)
		}
	}
}

func TestInvalidManifestsAreRejectedWithAClearMessage(t *testing.T) {
	cases := []struct {
		name, spec, want string
	}{
		{"missing server", withSpec(t, "server: null"), `spec.server: Required value`},
		{"missing apiVersion", withSpec(t, "apiVersion: null"), `spec.apiVersion: Required value`},
		{"missing auth", withSpec(t, "auth: null"), `spec.auth: Required value`},
		{"auth without a method", withSpec(t, "auth: {}"), "auth needs a credential: set auth.personalAccessToken"},
		{"both auth methods", withSpec(t, "auth: {personalAccessToken: {secretRef: {name: pat}}, connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}"), "set exactly one of auth.personalAccessToken and auth.connectedApp"},
		{"connected app without username", withSpec(t, "auth: {connectedApp: {secretRef: {name: app}, scopes: [tableau:content:read]}}"), "spec.auth.connectedApp.username: Required value"},
		{"connected app without scopes", withSpec(t, "auth: {connectedApp: {secretRef: {name: app}, username: a@example.com}}"), "spec.auth.connectedApp.scopes: Required value"},
		{"connected app with empty scopes", withSpec(t, "auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: []}}"), "spec.auth.connectedApp.scopes: Invalid value"},
		{"scope of the wrong shape", withSpec(t, "auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [content:read]}}"), "scopes must each look like tableau:<resource>:<action>"},
		{"scope in upper case", withSpec(t, "auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: ['tableau:Content:read']}}"), "scopes must each look like tableau:<resource>:<action>"},
		{"scope repeated", withSpec(t, "auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read, tableau:content:read]}}"), "Duplicate value"},
		{"connected app keys repeated", withSpec(t, "auth: {connectedApp: {secretRef: {name: app, clientIdKey: id, secretIdKey: id}, username: a@example.com, scopes: [tableau:content:read]}}"), "clientIdKey, secretIdKey and secretValueKey must name three different keys"},
		{"connected app below 3.17", withSpec(t, `{apiVersion: "3.16", auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}}`), "apiVersion must be 3.17 or later with auth.connectedApp"},
		{"connected app consumer Secret is the source", withSpec(t, "{consumers: {secretName: app}, auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}}"), "consumers.secretName must differ from the source Secret (auth.connectedApp.secretRef.name)"},
		{"automatic rotation of a PAT", withSpec(t, "{consumers: {secretName: out}, rotation: {automatic: {every: 720h, adminSecretRef: {name: admin}}}}"), "rotation.automatic needs auth.connectedApp and consumers"},
		{"automatic rotation without consumers", withSpec(t, "{auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}, rotation: {automatic: {every: 720h, adminSecretRef: {name: admin}}}}"), "rotation.automatic needs auth.connectedApp and consumers"},
		{"automatic rotation too often", withSpec(t, "{consumers: {secretName: out}, auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}, rotation: {automatic: {every: 10s, adminSecretRef: {name: admin}}}}"), "rotation.automatic.every must be at least 1m"},
		{"automatic rotation without admin", withSpec(t, "{consumers: {secretName: out}, auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}, rotation: {automatic: {every: 1h}}}"), "spec.rotation.automatic.adminSecretRef: Required value"},
		{"admin Secret is the app's", withSpec(t, "{consumers: {secretName: out}, auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}, rotation: {automatic: {every: 1h, adminSecretRef: {name: app}}}}"), "rotation.automatic.adminSecretRef must name a Secret other than auth.connectedApp.secretRef"},
		{"expiry admin with a connected app", withSpec(t, "{validation: {adminSecretRef: {name: admin}}, auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}}"), "validation.adminSecretRef reads a PAT's expiry through List Personal Access Tokens: it needs auth.personalAccessToken and apiVersion 3.21 or later"},
		{"expiry admin below 3.21", withSpec(t, `{apiVersion: "3.20", validation: {adminSecretRef: {name: admin}}}`), "validation.adminSecretRef reads a PAT's expiry through List Personal Access Tokens"},
		{"expiry admin with Periodic", withSpec(t, "validation: {signIn: Periodic, adminSecretRef: {name: admin}}"), "validation.adminSecretRef reads the PAT's expiry without signing in, for signIn: OnChange"},
		{"expiry admin Secret is the source", withSpec(t, "validation: {adminSecretRef: {name: finance-pat}}"), "validation.adminSecretRef must name a Secret other than auth.personalAccessToken.secretRef"},
		{"expiry admin Secret is the consumer Secret", withSpec(t, "{consumers: {secretName: out}, validation: {adminSecretRef: {name: out}}}"), "validation.adminSecretRef must not be the consumer Secret"},
		{"admin Secret is the consumer Secret", withSpec(t, "{consumers: {secretName: out}, auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:content:read]}}, rotation: {automatic: {every: 1h, adminSecretRef: {name: out}}}}"), "rotation.automatic.adminSecretRef must not be the consumer Secret"},
		{"missing secret name", withSpec(t, "auth: {personalAccessToken: {secretRef: {}}}"), `spec.auth.personalAccessToken.secretRef.name: Required value`},
		{"server without scheme", withSpec(t, "server: 10ay.online.tableau.com"), "server must start with https://"},
		{"server with ftp scheme", withSpec(t, "server: ftp://tableau.example.com"), "server must start with https://"},
		{"server without host", withSpec(t, "server: https://"), "server must be an absolute URL with a host name"},
		{"server with credentials", withSpec(t, "server: https://admin:hunter2@tableau.example.com"), "server must not contain user credentials"},
		{"server with query", withSpec(t, "server: https://tableau.example.com?site=finance"), "server must not contain a query string"},
		{"server with fragment", withSpec(t, "server: https://10ay.online.tableau.com/#/site/finance/home"), "server must not contain a fragment"},
		{"server with API path", withSpec(t, "server: https://tableau.example.com/api/3.24"), "server must not contain a path"},
		{"plain http without opt-in", withSpec(t, "server: http://tableau.example.com"), "server uses http://, which would send the personal access token unencrypted"},
		{"plain http with opt-out", withSpec(t, "{server: http://tableau.example.com, allowInsecureHTTP: false}"), "server uses http://"},
		{"server too long", withSpec(t, "server: https://"+strings.Repeat("a", 2050)+".com"), "spec.server: Too long"},
		{"apiVersion not a version", withSpec(t, `apiVersion: "latest"`), "apiVersion must be a Tableau REST API version written major.minor"},
		{"apiVersion with v prefix", withSpec(t, `apiVersion: "v3.24"`), "apiVersion must be a Tableau REST API version written major.minor"},
		{"apiVersion three parts", withSpec(t, `apiVersion: "3.24.1"`), "apiVersion must be a Tableau REST API version written major.minor"},
		{"apiVersion as a number", withSpec(t, `apiVersion: 3.24`), `spec.apiVersion: Invalid value: "number": spec.apiVersion in body must be of type string`},
		{"apiVersion before PATs", withSpec(t, `apiVersion: "3.5"`), "apiVersion must be 3.6 or later"},
		{"apiVersion 2.x", withSpec(t, `apiVersion: "2.8"`), "apiVersion must be 3.6 or later"},
		{"site with slash", withSpec(t, "site: finance/reports"), "site must be the site's contentUrl"},
		{"site with space", withSpec(t, "site: my site"), "site must be the site's contentUrl"},
		{"Tableau Cloud without site", withSpec(t, `site: ""`), "site is required for Tableau Cloud"},
		{"secret name uppercase", withSpec(t, "auth: {personalAccessToken: {secretRef: {name: Finance_PAT}}}"), "secretRef.name must be a Secret name"},
		{"token name key with slash", withSpec(t, "auth: {personalAccessToken: {secretRef: {name: pat, tokenNameKey: a/b}}}"), "tokenNameKey must be a Secret data key"},
		{"token secret key empty", withSpec(t, `auth: {personalAccessToken: {secretRef: {name: pat, tokenSecretKey: ""}}}`), "tokenSecretKey must be a Secret data key"},
		{"same key twice", withSpec(t, "auth: {personalAccessToken: {secretRef: {name: pat, tokenNameKey: pat, tokenSecretKey: pat}}}"), "tokenNameKey and tokenSecretKey must name two different keys"},
		{"CA bundle of unknown kind", withSpec(t, "tls: {caBundle: {kind: Pod, name: ca}}"), `spec.tls.caBundle.kind: Unsupported value: "Pod": supported values: "ConfigMap", "Secret"`},
		{"CA bundle without name", withSpec(t, "tls: {caBundle: {kind: ConfigMap}}"), `spec.tls.caBundle.name: Required value`},
		{"CA bundle bad key", withSpec(t, "tls: {caBundle: {kind: Secret, name: ca, key: 'ca crt'}}"), "caBundle.key must be a data key"},
		{"unknown sign-in policy", withSpec(t, "validation: {signIn: Always}"), `spec.validation.signIn: Unsupported value: "Always": supported values: "OnChange", "Periodic"`},
		{"periodic too often", withSpec(t, "validation: {signIn: Periodic, interval: 30m}"), "validation.interval must be at least 1h"},
		{"periodic too rarely", withSpec(t, "validation: {signIn: Periodic, interval: 400h}"), "validation.interval must be at most 336h"},
		{"interval without Periodic", withSpec(t, "validation: {interval: 2h}"), "validation.interval applies only with signIn: Periodic"},
		{"server check too often", withSpec(t, "validation: {serverCheckInterval: 10s}"), "validation.serverCheckInterval must be at least 1m"},
		{"consumer secret name uppercase", withSpec(t, "consumers: {secretName: App_Secret}"), "consumers.secretName must be a Secret name"},
		{"consumers without secret name", withSpec(t, "consumers: {restartTargets: []}"), "spec.consumers.secretName: Required value"},
		{"restart target of unknown kind", withSpec(t, "consumers: {secretName: app, restartTargets: [{kind: Pod, name: x}]}"), `Unsupported value: "Pod": supported values: "Deployment", "StatefulSet", "DaemonSet"`},
		{"consumer Secret is the source Secret", withSpec(t, "consumers: {secretName: finance-pat}"), "consumers.secretName must differ from the source Secret"},
		{"periodic sign-in with consumers", withSpec(t, "{consumers: {secretName: app}, validation: {signIn: Periodic}}"), "validation.signIn: Periodic cannot be used with consumers of a personal access token: a PAT holds one session"},
		{"unknown deletion policy", withSpec(t, "consumers: {secretName: app, deletionPolicy: Orphan}"), `Unsupported value: "Orphan": supported values: "Retain", "Delete"`},
		{"gate timeout too short", withSpec(t, "rotation: {healthCheck: {timeout: 1s}}"), "rotation.healthCheck.timeout must be between 10s and 24h"},
		{"maxAge too short", withSpec(t, "rotation: {maxAge: 10m}"), "rotation.maxAge must be at least 1h"},
		{"suspend not a bool", withSpec(t, `suspend: "yes"`), `spec.suspend: Invalid value: "string": spec.suspend in body must be of type boolean`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := connection(t, fmt.Sprintf("invalid-%d", i), tc.spec)
			err := k8s.Create(context.Background(), u, client.DryRunAll)
			if err == nil {
				t.Fatalf("accepted, want a rejection containing %q\nspec:\n%s", tc.want, tc.spec)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("rejection does not say %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestAcceptedEdgeCases(t *testing.T) {
	cases := map[string]string{
		"default site of Tableau Server": "{server: https://tableau.example.com, site: ''}",
		"trailing slash and port":        "server: https://tableau.example.com:8443/",
		"http with opt-in":               "{server: http://127.0.0.1:8080, site: '', allowInsecureHTTP: true}",
		"newest API version":             `apiVersion: "3.30"`,
		"future major version":           `apiVersion: "4.0"`,
		"CA bundle from a Secret":        "tls: {caBundle: {kind: Secret, name: corp-ca}}",
		"periodic sign-in daily":         "validation: {signIn: Periodic, interval: 24h, serverCheckInterval: 5m}",
		"consumers with OnChange":        "{consumers: {secretName: app, deletionPolicy: Delete}, validation: {signIn: OnChange}}",
		"connected app, periodic, automatic rotation": "{consumers: {secretName: out}, validation: {signIn: Periodic, interval: 1h}, " +
			"auth: {connectedApp: {secretRef: {name: app, clientIdKey: cid}, username: a@example.com, scopes: ['tableau:content:read', 'tableau:tasks:*']}}, " +
			"rotation: {automatic: {every: 720h, adminSecretRef: {name: site-admin}}}}",
		"PAT expiry read by an admin": "validation: {adminSecretRef: {name: site-admin}}",
		"connected app at 3.17":       `{apiVersion: "3.17", auth: {connectedApp: {secretRef: {name: app}, username: a@example.com, scopes: [tableau:views:download]}}}`,
	}
	i := 0
	for name, patch := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			u := connection(t, fmt.Sprintf("edge-%d", i), withSpec(t, patch))
			if err := k8s.Create(context.Background(), u, client.DryRunAll); err != nil {
				t.Fatalf("rejected: %v", err)
			}
		})
	}
}

func sampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			samples = append(samples, f)
		}
	}
	if len(samples) == 0 {
		t.Fatal("no samples found in config/samples")
	}
	return samples
}

func TestSamplesAreAccepted(t *testing.T) {
	for _, f := range sampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(data, &u.Object); err != nil {
				t.Fatalf("sample is not YAML: %v", err)
			}
			u.SetNamespace("default")
			if err := k8s.Create(context.Background(), u, client.DryRunAll); err != nil {
				t.Fatalf("sample rejected: %v", err)
			}
		})
	}
}

func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(env.Kubectl, append([]string{"--kubeconfig", env.KubeconfigPath}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestKubectlServerDryRunOfSamples(t *testing.T) {
	out, err := kubectl(t, "apply", "--dry-run=server", "-n", "default", "-k", filepath.Join(testenv.RepoRoot(), "config", "samples"))
	if err != nil {
		t.Fatalf("kubectl apply --dry-run=server -k config/samples failed: %v\n%s", err, out)
	}
	for _, name := range []string{"tableauconnection.tableau-operator.dev/finance", "tableauconnection.tableau-operator.dev/analytics-default-site",
		"tableauconnection.tableau-operator.dev/sales", "tableaufleet.tableau-operator.dev/emea",
		"tableauconnection.tableau-operator.dev/hr", "tableauconnection.tableau-operator.dev/payroll"} {
		if !strings.Contains(out, name+" created (server dry run)") {
			t.Errorf("kubectl output does not mention %s:\n%s", name, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	manifest := "apiVersion: tableau-operator.dev/v1alpha1\nkind: TableauConnection\nmetadata: {name: bad}\nspec:\n" +
		"  server: http://tableau.example.com\n  apiVersion: \"3.24\"\n  auth: {personalAccessToken: {secretRef: {name: pat}}}\n"
	if err := os.WriteFile(bad, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = kubectl(t, "apply", "--dry-run=server", "-n", "default", "-f", bad)
	if err == nil || !strings.Contains(out, "use https://, or set allowInsecureHTTP: true") {
		t.Errorf("kubectl did not reject the http:// manifest with the CRD's message: %v\n%s", err, out)
	}
}

func TestInstallManifestsServerDryRun(t *testing.T) {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "tableau-operator-system"}}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	out, err := kubectl(t, "apply", "--dry-run=server", "-k", filepath.Join(testenv.RepoRoot(), "config", "default"))
	if err != nil {
		t.Fatalf("kubectl apply -k config/default --dry-run=server failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		"customresourcedefinition.apiextensions.k8s.io/tableauconnections.tableau-operator.dev",
		"clusterrole.rbac.authorization.k8s.io/tableau-operator-manager-role",
		"deployment.apps/tableau-operator-controller-manager",
		"clusterrole.rbac.authorization.k8s.io/tableau-operator-metrics-reader",
		"clusterrolebinding.rbac.authorization.k8s.io/tableau-operator-metrics-auth-rolebinding",
		"service/tableau-operator-controller-manager-metrics-service",
		"networkpolicy.networking.k8s.io/tableau-operator-allow-metrics-traffic",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not mention %s:\n%s", want, out)
		}
	}
	rendered, err := kubectl(t, "kustomize", filepath.Join(testenv.RepoRoot(), "config", "default"))
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, rendered)
	}
	var deployment map[string]any
	for _, doc := range strings.Split(rendered, "\n---\n") {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err == nil && obj["kind"] == "Deployment" {
			deployment = obj
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment in config/default")
	}
	pod, _, _ := unstructured.NestedMap(deployment, "spec", "template", "spec")
	containers, _, _ := unstructured.NestedSlice(pod, "containers")
	c := containers[0].(map[string]any)
	for path, want := range map[string]any{
		"securityContext.runAsNonRoot":             true,
		"securityContext.readOnlyRootFilesystem":   true,
		"securityContext.allowPrivilegeEscalation": false,
		"resources.limits.memory":                  "256Mi",
		"resources.requests.cpu":                   "50m",
		"livenessProbe.httpGet.path":               "/healthz",
		"readinessProbe.httpGet.path":              "/readyz",
	} {
		got, _, _ := unstructured.NestedFieldNoCopy(c, strings.Split(path, ".")...)
		if got != want {
			t.Errorf("manager container %s = %v, want %v", path, got, want)
		}
	}
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	if !strings.Contains(strings.Join(args, " "), "--leader-elect") {
		t.Errorf("manager args %v lack --leader-elect", args)
	}
}
