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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// TestCredentialRecordMatchesTableau runs the binary as the operator and as kubectl-tableau
// against a scenario and matches, call for call, what the simulator saw with what the
// operator recorded (issue 25):
//
//	healthy   first delivery to its consumers, then nothing
//	revoked   its PAT is revoked: every sign-in fails
//	mismatch  pinned above the server: serverinfo stops it before any sign-in
//	renewed   a rotation that completes
//	rollback  a rotation whose workload never becomes available: rolled back
//
// Each sign-in Tableau saw is one signin row of `report -o json` and one SignIn audit line
// (by request id); each change of a Deployment's template is one Restart line; no tenant that
// never rotated has a rotation row or a last rotation.
func TestCredentialRecordMatchesTableau(t *testing.T) {
	t.Parallel()
	const ns = "record"
	cp := startControlPlane(t)
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24", RequestIDHeader: "X-Request-Id"})
	expires := time.Now().Add(90 * 24 * time.Hour)
	secrets := map[string]string{}
	for _, p := range []struct{ site, name string }{
		{"healthy", "healthy-one"}, {"revoked", "revoked-one"}, {"mismatch", "mismatch-one"},
		{"renewed", "renewed-one"}, {"renewed", "renewed-two"}, {"rollback", "rollback-one"}, {"rollback", "rollback-two"},
	} {
		sim.AddSite(p.site, p.site)
		secrets[p.name] = "record-" + p.name + "-value"
		if err := sim.AddPAT(p.site, tableausim.PAT{Name: p.name, Secret: secrets[p.name], Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.RevokePAT("revoked", "revoked-one"); err != nil {
		t.Fatal(err)
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cp.createNamespace(t, ns)

	secret := func(name, token string) string {
		return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s, labels: {%s: \"%s\"}}\nstringData: {tokenName: %s, tokenSecret: %s}\n",
			name+"-pat", ns, v1.LabelCredential, v1.CredentialConsent, token, secrets[token])
	}
	tenants := []string{"healthy", "revoked", "mismatch", "renewed", "rollback"}
	var m strings.Builder
	fmt.Fprintf(&m, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tableau-ca, namespace: %s, labels: {%s: \"true\"}}\ndata:\n  ca.crt: |\n", ns, v1.LabelCredential)
	for _, line := range strings.Split(strings.TrimSpace(string(srv.CAPEM)), "\n") {
		fmt.Fprintf(&m, "    %s\n", line)
	}
	for _, n := range tenants {
		m.WriteString(secret(n, n+"-one"))
		pin := "3.24"
		if n == "mismatch" {
			pin = "3.26"
		}
		fmt.Fprintf(&m, `---
apiVersion: tableau-operator.dev/v1alpha1
kind: TableauConnection
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  server: %[3]s
  site: %[1]s
  apiVersion: "%[4]s"
  auth: {personalAccessToken: {secretRef: {name: %[1]s-pat}}}
  tls: {caBundle: {kind: ConfigMap, name: tableau-ca}}
  consumers: {secretName: %[1]s-tableau, restartTargets: [{kind: Deployment, name: %[1]s-app}]}
  rotation: {healthCheck: {timeout: 10s}}
`, n, ns, srv.URL, pin)
	}
	for _, n := range tenants {
		one := int32(1)
		labels := map[string]string{"app": n}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: n + "-app", Namespace: ns},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.invalid/app"}}}}}}
		if err := cp.k8s.Create(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	cp.kubectl(t, m.String(), "apply", "-f", "-")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// rollback-app never becomes available once labelled broken: its rotation's gate times out.
	go testenv.PlayDeploymentController(ctx, cp.k8s, ns, 0, func(d *appsv1.Deployment) bool { return d.Labels["test/broken"] == "true" })
	log := startOperator(t, cp.env.KubeconfigPath, "--metrics-bind-address=0")
	plugin := &pluginEnv{cp: cp, sim: sim, plugin: filepath.Join(t.TempDir(), "kubectl-tableau")}
	if err := os.Symlink(binary, plugin.plugin); err != nil {
		t.Fatal(err)
	}
	get := func(name string) v1.TableauConnection {
		var c v1.TableauConnection
		if err := cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	idleWith := func(name, token string) {
		eventually(t, 90*time.Second, name+" idle with "+token, func() (bool, string) {
			c := get(name)
			rs := c.Status.Rotation
			return rs != nil && rs.Phase == v1.RotationIdle && rs.ActiveRevision != "" && c.Status.Credentials != nil &&
				c.Status.Credentials.TokenName == token && rs.ActiveRevision == c.Status.Credentials.Revision, fmt.Sprintf("%+v", rs)
		})
	}
	for _, n := range []string{"healthy", "renewed", "rollback"} {
		idleWith(n, n+"-one")
	}
	eventually(t, 60*time.Second, "revoked and mismatch failing", func() (bool, string) {
		r, v := get("revoked").Status.LastFailure, get("mismatch").Status.LastFailure
		return r != nil && r.Stage == v1.StageSignIn && v != nil && v.Stage == v1.StageServer, fmt.Sprintf("%+v %+v", r, v)
	})

	d := &appsv1.Deployment{}
	if err := cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "rollback-app"}, d); err != nil {
		t.Fatal(err)
	}
	d.Labels = map[string]string{"test/broken": "true"}
	if err := cp.k8s.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	cp.kubectl(t, secret("renewed", "renewed-two")+secret("rollback", "rollback-two"), "apply", "-f", "-")
	idleWith("renewed", "renewed-two")
	eventually(t, 90*time.Second, "rollback rolled back", func() (bool, string) {
		rs := get("rollback").Status.Rotation
		return rs != nil && rs.Phase == v1.RotationFailed && rs.Reason == v1.ReasonRotationRolledBack, fmt.Sprintf("%+v", rs)
	})

	// What the operator's log says, per tenant.
	lines := func() map[string][]map[string]any {
		out := map[string][]map[string]any{}
		for _, line := range strings.Split(log.String(), "\n") {
			if !strings.Contains(line, `"audit":true`) {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("an audit line is not JSON: %v\n%s", err, line)
			}
			if m[audit.KeyNamespace] == ns {
				out[m[audit.KeyName].(string)] = append(out[m[audit.KeyName].(string)], m)
			}
		}
		return out
	}
	type reportJSON struct {
		Connections []struct {
			Name         string     `json:"name"`
			LastRotation *time.Time `json:"lastRotation"`
		} `json:"connections"`
		Events []struct {
			Name, Record, RequestID, Result string
		} `json:"events"`
	}
	report := func() reportJSON {
		r := plugin.run(t, "report", "-n", ns, "--since", "1h", "-o", "json")
		if r.code != 0 {
			t.Fatalf("report exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, s := range secrets {
			if strings.Contains(r.stdout+log.String(), s) {
				t.Fatal("a credential reached the report or the operator's log")
			}
		}
		var rep reportJSON
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("report -o json: %v\n%s", err, r.stdout)
		}
		return rep
	}
	sorted := func(s []string) []string { sort.Strings(s); return s }

	// The revoked tenant retries on its backoff, so the three records are compared until a
	// moment when no sign-in is in flight between them.
	eventually(t, 60*time.Second, "each sign-in Tableau saw to be one signin row and one SignIn line", func() (bool, string) {
		seen := map[string][]string{}
		for _, c := range sim.SignIns() {
			seen[c.Site] = append(seen[c.Site], c.RequestID)
		}
		rows := map[string][]string{}
		for _, ev := range report().Events {
			if ev.Record == "signin" {
				rows[ev.Name] = append(rows[ev.Name], ev.RequestID)
			}
		}
		trail := map[string][]string{}
		for n, ls := range lines() {
			for _, l := range ls {
				if l[audit.KeyAction] == string(audit.SignIn) {
					trail[n] = append(trail[n], l[audit.KeyRequestID].(string))
				}
			}
		}
		for _, n := range tenants {
			s, r, a := sorted(seen[n]), sorted(rows[n]), sorted(trail[n])
			if !slices.Equal(s, r) || !slices.Equal(s, a) || slices.Contains(s, "") {
				return false, fmt.Sprintf("%s: Tableau saw %v; report rows %v; audit lines %v", n, s, r, a)
			}
		}
		return true, ""
	})
	if n := len(sim.SignIns()); n == 0 {
		t.Fatal("the simulator logged no sign-in")
	}

	all := lines()
	rep := report()
	for _, n := range tenants {
		dep := &appsv1.Deployment{}
		if err := cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: n + "-app"}, dep); err != nil {
			t.Fatal(err)
		}
		// generation counts spec changes: 1 at creation, then one per template change.
		restarts := 0
		var actions []string
		for _, l := range all[n] {
			actions = append(actions, l[audit.KeyAction].(string))
			if l[audit.KeyAction] == string(audit.Restart) {
				restarts++
			}
		}
		if int64(restarts) != dep.Generation-1 {
			t.Errorf("%s: the Deployment's template changed %d times; the trail has %d Restart lines: %v", n, dep.Generation-1, restarts, actions)
		}
		rotated := n == "renewed" || n == "rollback"
		rotationRows := 0
		for _, ev := range rep.Events {
			if ev.Name == n && ev.Record == "rotation" {
				rotationRows++
			}
		}
		if !rotated && rotationRows != 0 {
			t.Errorf("%s never rotated and has %d rotation rows", n, rotationRows)
		}
		if rotated && rotationRows != 1 {
			t.Errorf("%s rotated once and has %d rotation rows", n, rotationRows)
		}
		for _, c := range rep.Connections {
			if c.Name == n && (c.LastRotation != nil) != (n == "renewed") {
				t.Errorf("%s: last rotation %v", n, c.LastRotation)
			}
		}
		if !rotated && (slices.Contains(actions, string(audit.Promotion)) || slices.Contains(actions, string(audit.RotationCompleted))) {
			t.Errorf("%s never rotated and its trail says it did: %v", n, actions)
		}
		if n == "healthy" && !slices.Contains(actions, string(audit.FirstDelivery)) {
			t.Errorf("healthy: no FirstDelivery line: %v", actions)
		}
	}
	var mismatchRows []string
	for _, ev := range rep.Events {
		if ev.Name == "mismatch" {
			mismatchRows = append(mismatchRows, ev.Record)
		}
	}
	if !slices.Contains(mismatchRows, "serverinfo") || slices.Contains(mismatchRows, "signin") {
		t.Errorf("mismatch rows %v: want serverinfo rows and no signin row", mismatchRows)
	}
}
