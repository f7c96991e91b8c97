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
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// These tests run the binary as kubectl-tableau (a symlink, as krew installs plugins) against
// one envtest control plane, the simulator and the operator, shared by every subtest:
//
//	finance    healthy, with a consumer Secret
//	marketing  failing: its PAT is not on the server (401001)
//	sales      rotating: its consumers are restarted and never become available, so the
//	           rotation waits in the health gate
//	alpha      member of fleet emea, healthy
//	bravo      member of fleet emea whose new PAT is rejected: the wave halts at it

const pluginNS = "tenants"

// pluginSecrets are every credential value of the scenario: none may reach any output.
var pluginSecrets = []string{"plugin-finance-pat-value", "plugin-marketing-wrong-value", "plugin-sales-pat-one", "plugin-sales-pat-two",
	"plugin-alpha-pat-value", "plugin-bravo-pat-one", "plugin-bravo-pat-revoked"}

type pluginEnv struct {
	cp     *controlPlane
	sim    *tableausim.Simulator
	plugin string
}

type pluginResult struct {
	code           int
	stdout, stderr string
}

// run runs kubectl-tableau with the administrator's kubeconfig and -n tenants, unless args
// say otherwise.
func (e *pluginEnv) run(t *testing.T, args ...string) pluginResult {
	t.Helper()
	cmd := exec.Command(e.plugin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.cp.env.KubeconfigPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := pluginResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	for _, s := range pluginSecrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("kubectl-tableau %v printed a credential:\n%s\n%s", args, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "\x1b[") {
		t.Errorf("kubectl-tableau %v printed colour off a terminal:\n%q", args, r.stdout)
	}
	return r
}

func (e *pluginEnv) get(t *testing.T, name string) v1.TableauConnection {
	t.Helper()
	var c v1.TableauConnection
	if err := e.cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: pluginNS, Name: name}, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *pluginEnv) fleet(t *testing.T) v1.TableauFleet {
	t.Helper()
	var f v1.TableauFleet
	if err := e.cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: pluginNS, Name: "emea"}, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func patSecret(name, token, value string) string {
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s, labels: {%s: \"%s\"}}\nstringData: {tokenName: %s, tokenSecret: %s}\n",
		name, pluginNS, v1.LabelCredential, v1.CredentialConsent, token, value)
}

func connection(name, site, secret, consumers, labels, extra string, srvURL string) string {
	return fmt.Sprintf(`---
apiVersion: tableau-operator.dev/v1alpha1
kind: TableauConnection
metadata: {name: %s, namespace: %s, labels: {%s}}
spec:
  server: %s
  site: %s
  apiVersion: "3.24"
  auth: {personalAccessToken: {secretRef: {name: %s}}}
  tls: {caBundle: {kind: ConfigMap, name: tableau-ca}}
  consumers: {secretName: %s%s}
`, name, pluginNS, labels, srvURL, site, secret, consumers, extra)
}

func startPluginEnv(t *testing.T) *pluginEnv {
	t.Helper()
	cp := startControlPlane(t)
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24", ProductVersion: "2024.2.0", Build: "20242.24.0711.1636", RequestIDHeader: "X-Request-Id"})
	expires := time.Now().Add(90 * 24 * time.Hour)
	for _, p := range []struct{ site, name, secret string }{
		{"finance", "finance-op", "plugin-finance-pat-value"}, {"marketing", "marketing-op", "plugin-marketing-right-value"},
		{"sales", "sales-one", "plugin-sales-pat-one"}, {"sales", "sales-two", "plugin-sales-pat-two"},
		{"alpha", "alpha-op", "plugin-alpha-pat-value"}, {"bravo", "bravo-one", "plugin-bravo-pat-one"},
	} {
		sim.AddSite(p.site, p.site)
		if err := sim.AddPAT(p.site, tableausim.PAT{Name: p.name, Secret: p.secret, Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cp.createNamespace(t, pluginNS)

	var m strings.Builder
	fmt.Fprintf(&m, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tableau-ca, namespace: %s, labels: {%s: \"true\"}}\ndata:\n  ca.crt: |\n", pluginNS, v1.LabelCredential)
	for _, line := range strings.Split(strings.TrimSpace(string(srv.CAPEM)), "\n") {
		fmt.Fprintf(&m, "    %s\n", line)
	}
	m.WriteString(patSecret("finance-pat", "finance-op", "plugin-finance-pat-value"))
	m.WriteString(patSecret("marketing-pat", "marketing-op", "plugin-marketing-wrong-value"))
	m.WriteString(patSecret("sales-pat", "sales-one", "plugin-sales-pat-one"))
	m.WriteString(patSecret("alpha-pat", "alpha-op", "plugin-alpha-pat-value"))
	m.WriteString(patSecret("bravo-pat", "bravo-one", "plugin-bravo-pat-one"))
	m.WriteString(connection("finance", "finance", "finance-pat", "finance-tableau", "", "", srv.URL))
	m.WriteString(connection("marketing", "marketing", "marketing-pat", "marketing-tableau", "", "", srv.URL))
	m.WriteString(connection("sales", "sales", "sales-pat", "sales-tableau", "", ", restartTargets: [{kind: Deployment, name: sales-app}]", srv.URL))
	m.WriteString(connection("alpha", "alpha", "alpha-pat", "alpha-tableau", "fleet: emea", "", srv.URL))
	m.WriteString(connection("bravo", "bravo", "bravo-pat", "bravo-tableau", "fleet: emea", "", srv.URL))
	fmt.Fprintf(&m, "---\napiVersion: tableau-operator.dev/v1alpha1\nkind: TableauFleet\nmetadata: {name: emea, namespace: %s}\nspec: {selector: {matchLabels: {fleet: emea}}}\n", pluginNS)
	cp.kubectl(t, m.String(), "apply", "-f", "-")
	// sales-app: no controller runs in envtest, so after its restart it never becomes available.
	one := int32(1)
	app := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "sales-app", Namespace: pluginNS},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "sales"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "sales"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app"}}}}},
	}
	if err := cp.k8s.Create(context.Background(), app); err != nil {
		t.Fatal(err)
	}

	// The stand-in Deployment controller lets sales-app's first rollout pass the gate, and
	// stops before the rotation so that the second one waits in it.
	var gateStuck atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go testenv.PlayDeploymentController(ctx, cp.k8s, pluginNS, 0, func(*appsv1.Deployment) bool { return gateStuck.Load() })

	startOperator(t, cp.env.KubeconfigPath, "--metrics-bind-address=0")
	e := &pluginEnv{cp: cp, sim: sim, plugin: filepath.Join(t.TempDir(), "kubectl-tableau")}
	if err := os.Symlink(binary, e.plugin); err != nil {
		t.Fatal(err)
	}

	readyOrFailed := func(name string, wantReady bool) {
		eventually(t, 60*time.Second, name+" settling", func() (bool, string) {
			c := e.get(t, name)
			cond := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionReady)
			ok := cond != nil && (cond.Status == metav1.ConditionTrue) == wantReady && cond.Status != metav1.ConditionUnknown &&
				c.Status.ObservedGeneration == c.Generation
			if wantReady {
				ok = ok && c.Status.Rotation != nil && c.Status.Rotation.ActiveRevision != ""
			}
			return ok, fmt.Sprintf("%+v", c.Status.Conditions)
		})
	}
	for _, n := range []string{"finance", "sales", "alpha", "bravo"} {
		readyOrFailed(n, true)
	}
	readyOrFailed("marketing", false)

	gateStuck.Store(true)
	// sales gets a new PAT: it is promoted, sales-app restarted, and the gate waits for it.
	cp.kubectl(t, patSecret("sales-pat", "sales-two", "plugin-sales-pat-two"), "apply", "-f", "-")
	// bravo gets a PAT the server does not know: its candidate is rejected and the wave halts.
	cp.kubectl(t, patSecret("bravo-pat", "bravo-revoked", "plugin-bravo-pat-revoked"), "apply", "-f", "-")
	eventually(t, 60*time.Second, "sales reaching the health gate", func() (bool, string) {
		rs := e.get(t, "sales").Status.Rotation
		return rs != nil && rs.Phase == v1.RotationGating, fmt.Sprintf("%+v", rs)
	})
	eventually(t, 60*time.Second, "fleet emea halting at bravo", func() (bool, string) {
		f := e.fleet(t)
		return f.Status.Halted && slices.Equal(f.Status.Failed, []string{"bravo"}), fmt.Sprintf("%+v", f.Status)
	})
	return e
}

func TestKubectlTableau(t *testing.T) {
	t.Parallel()
	e := startPluginEnv(t)

	t.Run("status of a healthy tenant", func(t *testing.T) {
		c := e.get(t, "finance")
		r := e.run(t, "status", "finance", "-n", pluginNS)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"TableauConnection tenants/finance", "Ready", "SignedIn", "Next step: nothing: sign-in works.",
			"finance-tableau: exists, ours, revision " + c.Status.Rotation.ActiveRevision, "Phase:       Idle", "PAT expires ", "Last attempts",
			c.Status.History[0].RequestID} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("status lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("status of a failing tenant", func(t *testing.T) {
		c := e.get(t, "marketing")
		f := c.Status.LastFailure
		r := e.run(t, "status", "marketing", "-n", pluginNS)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"AuthConfigDrift", "Tableau code 401001", "request id " + f.RequestID, "Next step: " + f.NextStep,
			"marketing-tableau: does not exist"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("status lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("status of a rotating tenant", func(t *testing.T) {
		r := e.run(t, "status", "tabconn/sales", "--namespace", pluginNS)
		c := e.get(t, "sales")
		for _, want := range []string{"Phase:       Gating for ", "Candidate:   revision " + c.Status.Rotation.CandidateRevision} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("status lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("status of a halted fleet and its failed member", func(t *testing.T) {
		r := e.run(t, "status", "fleet/emea", "-n", pluginNS)
		for _, want := range []string{"TableauFleet tenants/emea", "Halted at bravo", "bravo", "failed: halts the wave", "kubectl tableau resume fleet/emea"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("fleet status lacks %q:\n%s", want, r.stdout)
			}
		}
		order := r.stdout[strings.Index(r.stdout, "Order"):]
		if !strings.Contains(order, "1  alpha ") || !strings.Contains(order, "2  bravo ") {
			t.Errorf("members are not in rollout order:\n%s", r.stdout)
		}
		r = e.run(t, "status", "bravo", "-n", pluginNS)
		for _, want := range []string{"emea: 2 members", "halted at bravo", "Rejected:    revision"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("member status lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	var beforeRotate, firstSignIn time.Time
	t.Run("rotate waits for the result and exits 0 when Ready", func(t *testing.T) {
		// The window of --since below must tell the first sign-in from this one: status
		// records times to the second.
		eventually(t, 10*time.Second, "five seconds since finance's first sign-in", func() (bool, string) {
			h := e.get(t, "finance").Status.History
			return time.Since(h[0].Time.Time) > 5*time.Second, h[0].Time.String()
		})
		beforeRotate = time.Now()
		firstSignIn = e.get(t, "finance").Status.History[0].Time.Time
		signIns := e.sim.Calls("auth/signin")
		r := e.run(t, "rotate", "finance", "-n", pluginNS)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		c := e.get(t, "finance")
		if c.Status.LastHandledRequest == "" || c.Annotations[v1.AnnotationRequestedAt] != c.Status.LastHandledRequest {
			t.Errorf("the operator did not handle the request: annotation %q, handled %q", c.Annotations[v1.AnnotationRequestedAt], c.Status.LastHandledRequest)
		}
		if _, err := time.Parse(time.RFC3339, c.Annotations[v1.AnnotationRequestedAt]); err != nil {
			t.Errorf("requested-at is not an RFC 3339 time: %v", err)
		}
		if e.sim.Calls("auth/signin") <= signIns {
			t.Error("rotate returned before the operator signed in again")
		}
		if !strings.Contains(r.stdout, "Ready SignedIn") || !strings.Contains(r.stderr, "tenants/finance:") {
			t.Errorf("no result or no progress line:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	})

	t.Run("rotate of a failing tenant exits 1 with the reason", func(t *testing.T) {
		r := e.run(t, "rotate", "marketing", "-n", pluginNS)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "Not ready SignInRejected") || !strings.Contains(r.stdout, "Bucket AuthConfigDrift") {
			t.Errorf("the result lacks the reason and bucket:\n%s", r.stdout)
		}
	})

	t.Run("rotate --no-wait returns at once", func(t *testing.T) {
		r := e.run(t, "rotate", "alpha", "-n", pluginNS, "--no-wait")
		if r.code != 0 || !strings.Contains(r.stdout, "Requested: "+v1.AnnotationRequestedAt) {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if got := e.get(t, "alpha").Annotations[v1.AnnotationRequestedAt]; got == "" {
			t.Error("the annotation was not set")
		}
	})

	t.Run("report -o csv parses back", func(t *testing.T) {
		r := e.run(t, "report", "-o", "csv", "-n", pluginNS)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		rows := connectionRows(parseCSV(t, r.stdout))
		if len(rows) != 5 {
			t.Fatalf("want 5 connection rows, got %d:\n%s", len(rows), r.stdout)
		}
		byName := map[string]map[string]string{}
		for _, row := range rows {
			if row["record"] != "connection" || row["namespace"] != pluginNS {
				t.Errorf("unexpected row %v", row)
			}
			byName[row["name"]] = row
		}
		want := map[string]map[string]string{
			"finance":   {"ready": "True", "bucket": "", "rotation_phase": "Idle", "fleet": "", "site": "finance", "api_version": "3.24"},
			"marketing": {"ready": "False", "bucket": "AuthConfigDrift", "reason": "SignInRejected"},
			"sales":     {"rotation_phase": "Gating"},
			"alpha":     {"fleet": "emea", "ready": "True"},
			"bravo":     {"fleet": "emea", "rotation_phase": "Failed"},
		}
		for name, cols := range want {
			for col, v := range cols {
				if byName[name][col] != v {
					t.Errorf("%s: %s = %q, want %q", name, col, byName[name][col], v)
				}
			}
		}
		if m := e.get(t, "marketing").Status.LastFailure; byName["marketing"]["request_id"] != m.RequestID || byName["marketing"]["consecutive_failures"] == "0" {
			t.Errorf("marketing's request id or failure count is wrong: %v", byName["marketing"])
		}
		if byName["finance"]["last_sign_in"] == "" || byName["finance"]["expiry"] == "" {
			t.Errorf("finance lacks last sign-in or expiry: %v", byName["finance"])
		}
	})

	t.Run("report --since lists what the window recorded", func(t *testing.T) {
		// A margin for the plugin's own start on a busy machine; the first sign-in is older.
		window := (time.Since(beforeRotate) + 2500*time.Millisecond).Round(time.Second)
		asked := time.Now()
		recent := signInRows(parseCSV(t, e.run(t, "report", "-o", "csv", "-n", pluginNS, "--since", window.String()).stdout))
		all := signInRows(parseCSV(t, e.run(t, "report", "-o", "csv", "-n", pluginNS, "--since", "1h").stdout))
		if len(recent["finance"]) == 0 || len(recent["marketing"]) == 0 {
			t.Fatalf("the window since rotate lacks the attempts rotate caused: %v", recent)
		}
		if !slices.Contains(all["finance"], firstSignIn.UTC().Format(time.RFC3339)) || slices.Contains(recent["finance"], firstSignIn.UTC().Format(time.RFC3339)) {
			t.Errorf("finance's first sign-in at %s: in 1h %v, in --since %s %v; want only the former", firstSignIn, all["finance"], window, recent["finance"])
		}
		from := asked.Add(-window).Truncate(time.Second)
		for name, times := range recent {
			for _, ts := range times {
				if tm, err := time.Parse(time.RFC3339, ts); err != nil || tm.Before(from) {
					t.Errorf("%s: attempt at %s is before the window's start %s", name, ts, from)
				}
			}
		}
		r := e.run(t, "report", "--since", "1h", "-n", pluginNS)
		if !strings.Contains(r.stdout, "Recorded since ") || !strings.Contains(r.stdout, "LAST REQUEST ID") {
			t.Errorf("the table lacks its sections:\n%s", r.stdout)
		}
	})

	t.Run("resume clears a halt", func(t *testing.T) {
		r := e.run(t, "resume", "fleet/emea", "-n", pluginNS)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		f := e.fleet(t)
		if f.Status.Halted || !slices.Equal(f.Status.Acknowledged, []string{"bravo"}) {
			t.Errorf("the fleet is still halted: %+v", f.Status)
		}
		if !strings.Contains(r.stdout, "Resumed past bravo:") {
			t.Errorf("resume did not say what it did:\n%s", r.stdout)
		}
	})

	t.Run("suspend and unsuspend", func(t *testing.T) {
		if r := e.run(t, "suspend", "alpha", "-n", pluginNS); r.code != 0 || !e.get(t, "alpha").Spec.Suspend {
			t.Fatalf("suspend: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := e.run(t, "rotate", "alpha", "-n", pluginNS); r.code != 1 || !strings.Contains(r.stderr, "is suspended") {
			t.Errorf("rotate of a suspended connection: exit %d\n%s", r.code, r.stderr)
		}
		if r := e.run(t, "unsuspend", "alpha", "-n", pluginNS); r.code != 0 || e.get(t, "alpha").Spec.Suspend {
			t.Fatalf("unsuspend: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("bad arguments exit 2 with one line", func(t *testing.T) {
		for _, args := range [][]string{
			{}, {"bogus"}, {"status"}, {"status", "a", "b"}, {"status", "pod/x"}, {"rotate", "fleet/emea"}, {"resume", "finance"},
			{"report", "-o", "xml"}, {"report", "--since", "soon"}, {"report", "extra"}, {"rotate", "finance", "--timeout", "0s"},
			{"status", "finance", "--no-such-flag"},
		} {
			r := e.run(t, args...)
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if r.code != 2 || len(lines) != 1 || lines[0] == "" || r.stdout != "" {
				t.Errorf("kubectl-tableau %v: exit %d, stderr %q, stdout %q; want exit 2 and one line", args, r.code, r.stderr, r.stdout)
			}
		}
	})

	t.Run("a missing object or configuration is one line and exit 1", func(t *testing.T) {
		r := e.run(t, "status", "nobody", "-n", pluginNS)
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		cmd := exec.Command(e.plugin, "status", "finance")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "absent"), "HOME="+t.TempDir(), "KUBERNETES_SERVICE_HOST=")
		out, err := cmd.CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "KUBECONFIG") {
			t.Errorf("without a kubeconfig: %v\n%s", err, out)
		}
	})

	t.Run("a read-only identity reports, but may not rotate", func(t *testing.T) {
		// The rules of the chart's auditReport ClusterRole: list of the two kinds, nothing more.
		e.cp.createServiceAccount(t, pluginNS, "reader")
		e.cp.kubectl(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: tableau-report-test}
rules:
- apiGroups: ["tableau-operator.dev"]
  resources: ["tableauconnections", "tableaufleets"]
  verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tableau-report-test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tableau-report-test}
subjects: [{kind: ServiceAccount, name: reader, namespace: `+pluginNS+`}]
`, "apply", "-f", "-")
		kubeconfig := e.cp.serviceAccountKubeconfig(t, pluginNS, "reader")
		r := e.run(t, "--kubeconfig", kubeconfig, "report", "-A", "--since", "1h", "-o", "csv")
		if r.code != 0 || len(connectionRows(parseCSV(t, r.stdout))) != 5 {
			t.Errorf("report as the reader: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// status gets the connection: a reader who may also get the two kinds (but no Secret)
		// sees everything except the consumer Secret.
		e.cp.kubectl(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: tableau-status-test}
rules:
- apiGroups: ["tableau-operator.dev"]
  resources: ["tableauconnections", "tableaufleets"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tableau-status-test}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tableau-status-test}
subjects: [{kind: ServiceAccount, name: reader, namespace: `+pluginNS+`}]
`, "apply", "-f", "-")
		eventually(t, 10*time.Second, "status as a reader who may get the two kinds", func() (bool, string) {
			r := e.run(t, "--kubeconfig", kubeconfig, "status", "-n", pluginNS, "finance")
			return r.code == 0 && strings.Contains(r.stdout, "finance-tableau: not shown: you may not get Secrets"), fmt.Sprintf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		})
		r = e.run(t, "--kubeconfig", kubeconfig, "rotate", "-n", pluginNS, "finance", "--no-wait")
		if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "forbidden") {
			t.Errorf("rotate as the reader: exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("tableau-operator ctl is the same plugin", func(t *testing.T) {
		cmd := exec.Command(binary, "ctl", "report", "-A", "-o", "json")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+e.cp.env.KubeconfigPath)
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), `"name": "marketing"`) {
			t.Errorf("ctl report: %v\n%s", err, out)
		}
	})
}

// parseCSV reads the report's CSV into one map per row, keyed by the header.
func parseCSV(t *testing.T, s string) []map[string]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, s)
	}
	if len(records) == 0 || records[0][0] != "record" {
		t.Fatalf("no header:\n%s", s)
	}
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, h := range records[0] {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// connectionRows keeps the rows of record connection.
func connectionRows(rows []map[string]string) []map[string]string {
	var out []map[string]string
	for _, r := range rows {
		if r["record"] == "connection" {
			out = append(out, r)
		}
	}
	return out
}

// signInRows groups the signin rows' times by connection.
func signInRows(rows []map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, r := range rows {
		if r["record"] == "signin" {
			out[r["name"]] = append(out[r["name"]], r["time"])
		}
	}
	return out
}
