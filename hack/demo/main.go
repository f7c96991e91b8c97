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

// Command demo is `make demo`: it starts a local control plane (the envtest binaries), the
// Tableau simulator over HTTPS and the operator binary, applies three tenants (one healthy,
// one whose PAT was revoked, one pinned above the server's API version), waits until each has
// settled, shows `kubectl get`, `kubectl describe` and `kubectl tableau status` (the operator
// binary installed as the kubectl-tableau plugin), shows a Secret refused until its owner
// labels it and a server outside --allowed-servers, runs a rotation wave, automatic rotation,
// ends with `kubectl tableau report`, and cleans up. DEMO_KEEP=1 keeps it all running and
// prints the kubeconfig path.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

func main() {
	operator := flag.String("operator", "bin/tableau-operator", "the operator binary")
	flag.Parse()
	// The demo's own clients log nothing worth showing; without a logger controller-runtime
	// prints a warning with a stack trace into the demo's output after 30 s.
	ctrllog.SetLogger(logr.Discard())
	if err := run(*operator); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

type demo struct {
	env *testenv.Env
	dir string
	// pluginPath is PATH with a directory holding kubectl-tableau (a symlink to the operator
	// binary) first, so that `kubectl tableau` finds the plugin as krew would install it.
	pluginPath string
}

// tableau runs `kubectl tableau args...` and prints it like a shell transcript. Plugins take
// no kubectl flags before their name, so the kubeconfig goes in KUBECONFIG.
func (d *demo) tableau(args ...string) error {
	fmt.Printf("\n$ kubectl tableau %s\n", strings.Join(args, " "))
	cmd := exec.Command(d.env.Kubectl, append([]string{"tableau"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.env.KubeconfigPath, "PATH="+d.pluginPath)
	out, err := cmd.CombinedOutput()
	fmt.Print(string(out))
	if err != nil {
		return fmt.Errorf("kubectl tableau %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func (d *demo) kubectl(args ...string) (string, error) {
	cmd := exec.Command(d.env.Kubectl, append([]string{"--kubeconfig", d.env.KubeconfigPath}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (d *demo) show(title string, args ...string) error {
	fmt.Printf("\n$ kubectl %s\n", strings.Join(args, " "))
	out, err := d.kubectl(args...)
	fmt.Print(out)
	if err != nil {
		return fmt.Errorf("%s: %w", title, err)
	}
	return nil
}

func step(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}

func secret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func run(operatorBin string) error {
	operatorBin, err := filepath.Abs(operatorBin)
	if err != nil {
		return err
	}
	started := time.Now()
	step("starting a local control plane (etcd, kube-apiserver) with the CRDs")
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	dir, err := os.MkdirTemp("", "tableau-operator-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	pluginDir := filepath.Join(dir, "plugins")
	if err := os.Mkdir(pluginDir, 0o700); err != nil {
		return err
	}
	if err := os.Symlink(operatorBin, filepath.Join(pluginDir, "kubectl-tableau")); err != nil {
		return err
	}
	d := &demo{env: env, dir: dir, pluginPath: pluginDir + string(os.PathListSeparator) + os.Getenv("PATH")}

	step("starting the Tableau simulator over HTTPS (REST API 3.24, one PAT per tenant)")
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24", ProductVersion: "2024.2.0", Build: "20242.24.0711.1636", RequestIDHeader: "X-Request-Id"})
	tenants := []struct{ site, token, secret, apiVersion string }{
		{"finance", "finance-operator", secret(), "3.24"},
		{"marketing", "marketing-operator", secret(), "3.24"},
		{"ops", "ops-operator", secret(), "3.27"},
	}
	for _, t := range tenants {
		sim.AddSite(t.site, strings.ToUpper(t.site[:1])+t.site[1:])
		if err := sim.AddPAT(t.site, tableausim.PAT{Name: t.token, Secret: t.secret, Expires: time.Now().Add(180 * 24 * time.Hour)}); err != nil {
			return err
		}
	}
	if err := sim.RevokePAT("marketing", "marketing-operator"); err != nil {
		return err
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	fmt.Printf("    simulator at %s; marketing's PAT is revoked; ops pins 3.27 above the server's 3.24\n", srv.URL)

	step("starting the operator (%s)", operatorBin)
	logPath := filepath.Join(dir, "operator.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	op := &operator{bin: operatorBin, kubeconfig: env.KubeconfigPath, log: logFile}
	if err := op.start(); err != nil {
		return err
	}
	defer func() {
		op.stop(syscall.SIGTERM)
		_ = logFile.Close()
	}()

	step("applying three tenants: Secrets, a CA bundle ConfigMap and TableauConnections")
	var m strings.Builder
	m.WriteString("apiVersion: v1\nkind: Namespace\nmetadata: {name: tenants}\n")
	fmt.Fprintf(&m, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tableau-ca, namespace: tenants, labels: {tableau-operator.dev/credential: \"true\"}}\ndata:\n  ca.crt: |\n")
	for _, line := range strings.Split(strings.TrimSpace(string(srv.CAPEM)), "\n") {
		fmt.Fprintf(&m, "    %s\n", line)
	}
	for _, t := range tenants {
		fmt.Fprintf(&m, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s-pat, namespace: tenants, labels: {tableau-operator.dev/credential: \"true\"}}\nstringData: {tokenName: %s, tokenSecret: %s}\n", t.site, t.token, t.secret)
		fmt.Fprintf(&m, `---
apiVersion: tableau-operator.dev/v1alpha1
kind: TableauConnection
metadata: {name: %s, namespace: tenants}
spec:
  server: %s
  site: %s
  apiVersion: "%s"
  auth: {personalAccessToken: {secretRef: {name: %s-pat}}}
  tls: {caBundle: {kind: ConfigMap, name: tableau-ca}}
`, t.site, srv.URL, t.site, t.apiVersion, t.site)
	}
	manifest := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(manifest, []byte(m.String()), 0o600); err != nil {
		return err
	}
	if out, err := d.kubectl("apply", "-f", manifest); err != nil {
		return fmt.Errorf("kubectl apply: %w\n%s", err, out)
	} else {
		fmt.Print(out)
	}

	step("waiting for each tenant to settle (kubectl wait)")
	waits := [][]string{
		{"-n", "tenants", "wait", "--for=condition=Ready", "tabconn/finance", "--timeout=90s"},
		{"-n", "tenants", "wait", "--for=condition=Stalled", "tabconn/marketing", "tabconn/ops", "--timeout=90s"},
	}
	for _, w := range waits {
		if err := d.show("waiting", w...); err != nil {
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("%w\noperator log:\n%s", err, out)
		}
	}
	if err := d.show("get", "-n", "tenants", "get", "tabconn", "-o", "wide"); err != nil {
		return err
	}
	if err := d.show("describe", "-n", "tenants", "describe", "tabconn", "marketing"); err != nil {
		return err
	}
	// The same answer on one screen: what failed, Tableau's code and request id, what to do.
	if err := d.tableau("status", "-n", "tenants", "marketing"); err != nil {
		return err
	}
	fmt.Printf("\nTableau calls the simulator saw: %v (serverinfo is shared by the three tenants of one server)\n", sim.AllCalls())

	if err := consentAct(d, sim, srv); err != nil {
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\noperator log:\n%s", err, out)
	}
	if err := rotationAct(d, sim, srv); err != nil {
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\noperator log:\n%s", err, out)
	}
	if err := automaticAct(d, sim, srv, op); err != nil {
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\noperator log:\n%s", err, out)
	}
	step("every tenant of every namespace in one table, and what the last hour recorded, as the weekly CronJob exports it")
	if err := d.tableau("report", "-A"); err != nil {
		return err
	}
	if err := d.tableau("report", "-n", "wave", "--since", "1h", "-o", "csv"); err != nil {
		return err
	}
	if err := onlyRotatedShowARotation(d); err != nil {
		return err
	}

	if os.Getenv("DEMO_KEEP") == "1" {
		fmt.Printf("\nDEMO_KEEP=1: everything keeps running. In another shell:\n  export KUBECONFIG=%s\n  %s -n tenants get tabconn -o wide\nThe operator's log: %s\nPress Ctrl-C to stop and clean up.\n", env.KubeconfigPath, env.Kubectl, logPath)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		<-ctx.Done()
	}
	step("demo done in %s; cleaning up", time.Since(started).Round(time.Second))
	return nil
}

// consent is the label with which an owner lets the operator read a Secret or CA ConfigMap.
var consent = map[string]string{v1.LabelCredential: v1.CredentialConsent}

// consentAct shows the trust model: a Secret its owner has not labelled is not read (the
// connection says which kubectl label command consents), and a server outside
// --allowed-servers gets no credential.
func consentAct(d *demo, sim *tableausim.Simulator, srv *tableausim.Server) error {
	fmt.Println()
	step("act 1b, consent: legal's Secret lacks the consent label; offsite points at a server outside --allowed-servers")
	sec := secret()
	sim.AddSite("legal", "Legal")
	if err := sim.AddPAT("legal", tableausim.PAT{Name: "legal-operator", Secret: sec, Expires: time.Now().Add(180 * 24 * time.Hour)}); err != nil {
		return err
	}
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: legal-pat, namespace: tenants}
stringData: {tokenName: legal-operator, tokenSecret: %s}
---
apiVersion: tableau-operator.dev/v1alpha1
kind: TableauConnection
metadata: {name: legal, namespace: tenants}
spec:
  server: %s
  site: legal
  apiVersion: "3.24"
  auth: {personalAccessToken: {secretRef: {name: legal-pat}}}
  tls: {caBundle: {kind: ConfigMap, name: tableau-ca}}
---
apiVersion: tableau-operator.dev/v1alpha1
kind: TableauConnection
metadata: {name: offsite, namespace: tenants}
spec:
  server: https://tableau.elsewhere.example
  site: legal
  apiVersion: "3.24"
  auth: {personalAccessToken: {secretRef: {name: finance-pat}}}
`, sec, srv.URL)
	path := filepath.Join(d.dir, "consent.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		return err
	}
	if err := d.show("apply", "apply", "-f", path); err != nil {
		return err
	}
	if err := d.show("waiting", "-n", "tenants", "wait", "--for=condition=Stalled", "tabconn/legal", "tabconn/offsite", "--timeout=60s"); err != nil {
		return err
	}
	if err := d.show("get", "-n", "tenants", "get", "tabconn", "legal", "offsite", "-o", "wide"); err != nil {
		return err
	}
	if err := d.show("next step", "-n", "tenants", "get", "tabconn", "legal", "-o", "jsonpath={.status.lastFailure.nextStep}{\"\\n\"}"); err != nil {
		return err
	}
	step("legal's owner consents; nothing else changes")
	if err := d.show("label", "label", "secret", "-n", "tenants", "legal-pat", v1.LabelCredential+"="+v1.CredentialConsent); err != nil {
		return err
	}
	return d.show("waiting", "-n", "tenants", "wait", "--for=condition=Ready", "tabconn/legal", "--timeout=60s")
}

// rotationAct stages new PATs for a fleet of three tenants and shows the wave: alpha rotates,
// bravo's new PAT was revoked before use, so the wave halts and charlie keeps its credential.
func rotationAct(d *demo, sim *tableausim.Simulator, srv *tableausim.Server) error {
	ctx := context.Background()
	k8s, err := client.New(d.env.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}
	fmt.Println()
	step("act 2, rotation: a TableauFleet of three tenants whose workloads mount operator-owned Secrets")
	fmt.Println("    (envtest runs no Deployment controller, so the demo marks restarted Deployments available a second later)")
	standIn, stop := context.WithCancel(ctx)
	defer stop()
	go testenv.PlayDeploymentController(standIn, k8s, "wave", time.Second, nil)

	ns := "wave"
	if err := fleetNamespace(ctx, k8s, ns, srv); err != nil {
		return err
	}
	tenants := []string{"alpha", "bravo", "charlie"}
	putPAT := func(tenant, token string, revoked bool) error {
		sec := secret()
		sim.AddSite(tenant, tenant)
		if err := sim.AddPAT(tenant, tableausim.PAT{Name: token, Secret: sec, Expires: time.Now().Add(180 * 24 * time.Hour)}); err != nil {
			return err
		}
		if revoked {
			if err := sim.RevokePAT(tenant, token); err != nil {
				return err
			}
		}
		src := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tenant + "-source", Namespace: ns, Labels: consent}}
		return putSecretData(ctx, k8s, src, map[string][]byte{"tokenName": []byte(token), "tokenSecret": []byte(sec)})
	}
	for _, t := range tenants {
		labels := map[string]string{"app": t}
		one := int32(1)
		if err := k8s.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: t + "-app", Namespace: ns}, Spec: appsv1.DeploymentSpec{
			Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/dashboards:1"}}}},
		}}); err != nil {
			return err
		}
		if err := putPAT(t, t+"-v1", false); err != nil {
			return err
		}
		c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: t, Namespace: ns, Labels: map[string]string{"fleet": "wave"}}, Spec: v1.TableauConnectionSpec{
			Server: srv.URL, Site: t, APIVersion: "3.24",
			Auth:      v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: t + "-source", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}},
			TLS:       &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
			Consumers: &v1.ConsumersSpec{SecretName: t + "-tableau", RestartTargets: []v1.RestartTarget{{Kind: "Deployment", Name: t + "-app"}}},
		}}
		if err := k8s.Create(ctx, c); err != nil {
			return err
		}
	}
	if err := d.show("wait", "-n", ns, "wait", "--for=jsonpath={.status.rotation.phase}=Idle", "tabconn/alpha", "tabconn/bravo", "tabconn/charlie", "--timeout=90s"); err != nil {
		return err
	}
	if err := d.show("get", "-n", ns, "get", "tabconn"); err != nil {
		return err
	}

	step("staging new PATs for all three; bravo's new PAT was revoked before anyone used it")
	for _, t := range tenants {
		if err := putPAT(t, t+"-v2", t == "bravo"); err != nil {
			return err
		}
	}
	step("the wave, as the fleet sees it:")
	last := ""
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		var list v1.TableauConnectionList
		if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		var parts []string
		for _, c := range list.Items {
			phase := "-"
			if c.Status.Rotation != nil {
				phase = c.Status.Rotation.Phase
				if c.Status.Rotation.Reason == v1.ReasonCandidateRejected {
					phase += "(candidate rejected)"
				}
			}
			parts = append(parts, fmt.Sprintf("%s=%s", c.Name, phase))
		}
		var f v1.TableauFleet
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "wave"}, &f); err != nil {
			return err
		}
		line := fmt.Sprintf("%s  fleet current=%v halted=%v", strings.Join(parts, " "), f.Status.Current, f.Status.Halted)
		if line != last {
			fmt.Printf("    %s %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
		alphaDone := false
		for _, c := range list.Items {
			if c.Name == "alpha" && c.Status.Rotation != nil && c.Status.Rotation.Phase == v1.RotationIdle && c.Status.Credentials != nil && c.Status.Credentials.TokenName == "alpha-v2" {
				alphaDone = true
			}
		}
		if f.Status.Halted && alphaDone {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := d.show("get", "-n", ns, "get", "tabfleet", "-o", "wide"); err != nil {
		return err
	}
	if err := d.show("get", "-n", ns, "get", "tabconn"); err != nil {
		return err
	}
	fmt.Println()
	for _, t := range tenants {
		var s corev1.Secret
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: t + "-tableau"}, &s); err != nil {
			return err
		}
		fmt.Printf("    consumer Secret %s-tableau holds PAT %q (revision %s)\n", t, s.Data["tokenName"], s.Annotations[v1.AnnotationRevision])
	}
	// bravo's consumers still sign in: Ready stays True, the rejected PAT is on CandidateValid.
	if err := d.show("conditions", "-n", ns, "get", "tabconn", "bravo", "-o",
		`jsonpath={range .status.conditions[?(@.type=="Ready")]}Ready={.status} ({.reason}){"\n"}{end}{range .status.conditions[?(@.type=="CandidateValid")]}CandidateValid={.status} ({.reason}): {.message}{"\n"}{end}`); err != nil {
		return err
	}
	if err := d.tableau("status", "-n", ns, "fleet/wave"); err != nil {
		return err
	}
	return d.tableau("status", "-n", ns, "bravo")
}

// putSecretData writes a Secret's data, creating the Secret if it does not exist.
func putSecretData(ctx context.Context, k8s client.Client, s *corev1.Secret, data map[string][]byte) error {
	err := k8s.Get(ctx, client.ObjectKeyFromObject(s), s)
	s.Data = data
	if err != nil {
		return k8s.Create(ctx, s)
	}
	return k8s.Update(ctx, s)
}

// onlyRotatedShowARotation checks what the report just printed from: in the wave, only alpha
// completed a rotation. bravo's new PAT was rejected and charlie's waits; their first credential
// was a first delivery, which is no rotation, so they have no LAST ROTATION and no rotation row.
func onlyRotatedShowARotation(d *demo) error {
	k8s, err := client.New(d.env.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}
	var list v1.TableauConnectionList
	if err := k8s.List(context.Background(), &list, client.InNamespace("wave")); err != nil {
		return err
	}
	for _, c := range list.Items {
		rotated := c.Status.Rotation != nil && c.Status.Rotation.LastCompletionTime != nil
		if rotated != (c.Name == "alpha") {
			return fmt.Errorf("wave/%s: lastCompletionTime %v, but only alpha completed a rotation", c.Name, c.Status.Rotation)
		}
	}
	return nil
}
