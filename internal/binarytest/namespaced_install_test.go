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

package binarytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// TestNamespacedInstallStaysInItsNamespaces installs config/namespaced (Roles in the watched
// namespace, no manager ClusterRole), runs the operator as its ServiceAccount with the
// overlay's --watch-namespaces, and puts the same tenant in the watched namespace and in
// another one. The watched tenant becomes Ready; the other is never read nor written: no
// status, no events, no Secrets, and the operator is never refused anything.
func TestNamespacedInstallStaysInItsNamespaces(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	overlay := filepath.Join(testenv.RepoRoot(), "config", "namespaced")
	args := deploymentArgs(t, cp.kubectl(t, "", "kustomize", overlay), "tableau-operator-system")
	i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "--watch-namespaces=") })
	if i < 0 {
		t.Fatalf("config/namespaced's Deployment passes no --watch-namespaces: %v", args)
	}
	watched := strings.TrimPrefix(args[i], "--watch-namespaces=")
	if strings.Contains(watched, ",") || watched == "" {
		t.Fatalf("config/namespaced should watch one namespace, got %q", args[i])
	}
	const other = "elsewhere"
	cp.createNamespace(t, watched)
	cp.createNamespace(t, other)
	cp.kubectl(t, "", "apply", "--server-side", "--force-conflicts", "-k", overlay)
	var clusterRoles unstructured.UnstructuredList
	clusterRoles.SetAPIVersion("rbac.authorization.k8s.io/v1")
	clusterRoles.SetKind("ClusterRoleList")
	if err := cp.k8s.List(context.Background(), &clusterRoles); err != nil {
		t.Fatal(err)
	}
	for _, cr := range clusterRoles.Items {
		if cr.GetName() == "tableau-operator-manager-role" {
			t.Fatal("config/namespaced installed the manager ClusterRole")
		}
	}
	operator := cp.serviceAccountKubeconfig(t, "tableau-operator-system", "tableau-operator-controller-manager")

	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24", ProductVersion: "2024.2.0", Build: "20242.24.0711.1636"})
	sim.AddSite("finance", "Finance")
	if err := sim.AddPAT("finance", tableausim.PAT{Name: "finance-operator", Secret: "ns-test-pat-secret", Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	var tenants strings.Builder
	for _, ns := range []string{watched, other} {
		fmt.Fprintf(&tenants, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tableau-ca, namespace: %s, labels: {tableau-operator.dev/credential: \"true\"}}\ndata:\n  ca.crt: |\n", ns)
		for _, line := range strings.Split(strings.TrimSpace(string(srv.CAPEM)), "\n") {
			fmt.Fprintf(&tenants, "    %s\n", line)
		}
		fmt.Fprintf(&tenants, `---
apiVersion: v1
kind: Secret
metadata: {name: finance-pat, namespace: %[1]s, labels: {%[2]s: "%[3]s"}}
stringData: {tokenName: finance-operator, tokenSecret: ns-test-pat-secret}
---
apiVersion: tableau-operator.dev/v1alpha1
kind: TableauConnection
metadata: {name: finance, namespace: %[1]s}
spec:
  server: %[4]s
  site: finance
  apiVersion: "3.24"
  auth: {personalAccessToken: {secretRef: {name: finance-pat}}}
  tls: {caBundle: {kind: ConfigMap, name: tableau-ca}}
`, ns, v1.LabelCredential, v1.CredentialConsent, srv.URL)
	}
	cp.kubectl(t, tenants.String(), "apply", "-f", "-")

	log := startOperator(t, operator, args...)
	get := func(ns string) v1.TableauConnection {
		var c v1.TableauConnection
		if err := cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "finance"}, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	eventually(t, 60*time.Second, "the watched tenant becoming Ready", func() (bool, string) {
		c := get(watched)
		return meta.IsStatusConditionTrue(c.Status.Conditions, "Ready"), fmt.Sprintf("conditions %+v", c.Status.Conditions)
	})

	// Both tenants existed before the operator started: had it watched the other namespace,
	// the other tenant would have been reconciled alongside the watched one.
	if c := get(other); c.Status.ObservedGeneration != 0 || len(c.Status.Conditions) != 0 {
		t.Errorf("the operator wrote the status of %s/finance: %+v", other, c.Status)
	}
	var events eventsv1.EventList
	if err := cp.k8s.List(context.Background(), &events, client.InNamespace(other)); err != nil {
		t.Fatal(err)
	}
	var coreEvents corev1.EventList
	if err := cp.k8s.List(context.Background(), &coreEvents, client.InNamespace(other)); err != nil {
		t.Fatal(err)
	}
	if n := len(events.Items) + len(coreEvents.Items); n != 0 {
		t.Errorf("the operator recorded %d events in %s", n, other)
	}
	var secrets corev1.SecretList
	if err := cp.k8s.List(context.Background(), &secrets, client.InNamespace(other)); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 {
		t.Errorf("%s holds %d Secrets, want only the tenant's own", other, len(secrets.Items))
	}
	if strings.Contains(log.String(), "forbidden") {
		t.Errorf("the operator tried something its Roles do not allow:\n%s", log.String())
	}
	cp.requireLeaderLease(t, "tableau-operator-system")
}

// TestWatchNamespacesFlagRejectsBadNames: a bad --watch-namespaces stops the operator before it
// touches the cluster, with exit code 2 and the offending name.
func TestWatchNamespacesFlagRejectsBadNames(t *testing.T) {
	t.Parallel()
	for flag, want := range map[string]string{
		"--watch-namespaces=team-a,Team_B": `"Team_B" is not a namespace name`,
		"--watch-namespaces=team-a,,b":     "has an empty entry",
	} {
		cmd := exec.Command(binary, flag)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "absent"))
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 || !strings.Contains(string(out), want) {
			t.Errorf("%s: %v, want exit code 2 and %s in:\n%s", flag, err, want, out)
		}
	}
}
