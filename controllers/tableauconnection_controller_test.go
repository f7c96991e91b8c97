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

package controllers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const (
	site      = "finance"
	tokenName = "finance-operator"
)

// consent is the label with which a Secret's or ConfigMap's owner lets the operator read it.
var consent = map[string]string{v1.LabelCredential: v1.CredentialConsent}

// tenant is one test's world: a simulator, a namespace with the CA bundle, and a PAT.
type tenant struct {
	sim    *tableausim.Simulator
	srv    *tableausim.Server
	ns     string
	secret string
}

func newTenant(t *testing.T, restAPIVersion string) *tenant {
	t.Helper()
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: restAPIVersion, ProductVersion: "2024.2.0", Build: "20242.24.0711.1636", RequestIDHeader: "X-Request-Id"})
	sim.AddSite(site, "Finance")
	secret := randomSecret()
	secrets.add(secret)
	if err := sim.AddPAT(site, tableausim.PAT{Name: tokenName, Secret: secret, Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tn := &tenant{sim: sim, srv: srv, ns: newNamespace(t), secret: secret}
	ca := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: tn.ns, Labels: consent}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}}
	if err := k8s.Create(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	return tn
}

func randomSecret() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "pat-" + hex.EncodeToString(b)
}

func (tn *tenant) createSecret(t *testing.T, name, secret string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: tn.ns, Labels: consent},
		Data: map[string][]byte{"tokenName": []byte(tokenName), "tokenSecret": []byte(secret)}}
	if err := k8s.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func (tn *tenant) connection(name, apiVersion string, mutate ...func(*v1.TableauConnection)) *v1.TableauConnection {
	c := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: tn.ns},
		Spec: v1.TableauConnectionSpec{
			Server:     tn.srv.URL,
			Site:       site,
			APIVersion: apiVersion,
			Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{
				SecretRef: v1.PATSecretReference{Name: name + "-pat", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}},
			TLS: &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// annotate sets one annotation with a merge patch, as kubectl annotate does.
func annotate(t *testing.T, obj client.Object, key, value string) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value))
	if err := k8s.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, ns, name string) *v1.TableauConnection {
	t.Helper()
	c := &v1.TableauConnection{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func describe(c *v1.TableauConnection) string {
	var parts []string
	for _, cond := range c.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s/%s", cond.Type, cond.Status, cond.Reason))
	}
	if f := c.Status.LastFailure; f != nil {
		parts = append(parts, fmt.Sprintf("lastFailure=%s/%s x%d", f.Bucket, f.Reason, f.ConsecutiveFailures))
	}
	if cr := c.Status.Credentials; cr != nil {
		parts = append(parts, fmt.Sprintf("source=%s lastAttempt=%s/%s", cr.Revision, cr.LastAttemptRevision, cr.LastAttemptResult))
	}
	if rs := c.Status.Rotation; rs != nil {
		parts = append(parts, fmt.Sprintf("rotation=%s/%s active=%s candidate=%s failed=%s (%s)", rs.Phase, rs.Reason, rs.ActiveRevision, rs.CandidateRevision, rs.FailedRevision, rs.Message))
	}
	return fmt.Sprintf("gen=%d observed=%d %s", c.Generation, c.Status.ObservedGeneration, strings.Join(parts, " "))
}

// waitFor waits until the connection's observed generation is current and cond holds. The
// bound only catches a hang: `make test` runs this package beside the others' (the image
// test cross-compiles the operator) on two cores, where 30 s was seen to run out.
func waitFor(t *testing.T, ns, name, what string, cond func(c *v1.TableauConnection) bool) *v1.TableauConnection {
	t.Helper()
	var last *v1.TableauConnection
	eventually(t, 60*time.Second, what, func() (bool, string) {
		last = get(t, ns, name)
		if last.Status.ObservedGeneration != last.Generation {
			return false, describe(last)
		}
		return cond(last), describe(last)
	})
	return last
}

func condition(c *v1.TableauConnection, t string) metav1.Condition {
	if cond := meta.FindStatusCondition(c.Status.Conditions, t); cond != nil {
		return *cond
	}
	return metav1.Condition{}
}

func isReady(c *v1.TableauConnection) bool {
	return meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady)
}

func readyReason(reason string) func(c *v1.TableauConnection) bool {
	return func(c *v1.TableauConnection) bool {
		r := condition(c, v1.ConditionReady)
		return r.Status == metav1.ConditionFalse && r.Reason == reason
	}
}

func kstatusOf(t *testing.T, c *v1.TableauConnection) status.Status {
	t.Helper()
	c.SetGroupVersionKind(v1.GroupVersion.WithKind("TableauConnection"))
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: m})
	if err != nil {
		t.Fatal(err)
	}
	return res.Status
}

func eventReasons(t *testing.T, ns, name string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := k8s.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Type+"/"+e.Reason)
		}
	}
	return out
}

func waitForEvent(t *testing.T, ns, name, want string) {
	t.Helper()
	eventually(t, 15*time.Second, "event "+want, func() (bool, string) {
		got := eventReasons(t, ns, name)
		for _, g := range got {
			if g == want {
				return true, ""
			}
		}
		return false, strings.Join(got, ",")
	})
}

func conditionsAreCurrent(t *testing.T, c *v1.TableauConnection) {
	t.Helper()
	for _, cond := range c.Status.Conditions {
		if cond.ObservedGeneration != c.Generation {
			t.Errorf("condition %s has observedGeneration %d, want %d", cond.Type, cond.ObservedGeneration, c.Generation)
		}
	}
	for _, typ := range []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled, v1.ConditionSignedIn, v1.ConditionAPIVersionSupported} {
		if meta.FindStatusCondition(c.Status.Conditions, typ) == nil {
			t.Errorf("condition %s missing", typ)
		}
	}
}

func TestHealthyConnection(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.createSecret(t, "healthy-pat", tn.secret)
	create(t, tn.connection("healthy", "3.24"))
	c := waitFor(t, tn.ns, "healthy", "Ready", isReady)
	conditionsAreCurrent(t, c)
	for typ, want := range map[string]string{v1.ConditionSignedIn: "True", v1.ConditionAPIVersionSupported: "True", v1.ConditionStalled: "False", v1.ConditionReconciling: "False"} {
		if got := string(condition(c, typ).Status); got != want {
			t.Errorf("%s = %s, want %s", typ, got, want)
		}
	}
	st := c.Status
	if st.Server == nil || st.Server.RESTAPIVersion != "3.24" || st.Server.ProductVersion != "2024.2.0" || st.Server.Build == "" {
		t.Errorf("status.server = %+v", st.Server)
	}
	cr := st.Credentials
	if cr == nil || cr.TokenName != tokenName || len(cr.Revision) != 12 || cr.LastSignInTime == nil || cr.ExpiresAt == nil {
		t.Fatalf("status.credentials = %+v", cr)
	}
	if d := time.Until(cr.ExpiresAt.Time); d < 89*24*time.Hour || d > 90*24*time.Hour {
		t.Errorf("expiresAt is %v away, want about 90 days", d)
	}
	if st.LastFailure != nil {
		t.Errorf("lastFailure = %+v", st.LastFailure)
	}
	if len(st.History) != 1 || st.History[0].Result != v1.ResultSucceeded || !strings.HasPrefix(st.History[0].RequestID, "sim-") {
		t.Errorf("history = %+v", st.History)
	}
	if got := kstatusOf(t, c); got != status.CurrentStatus {
		t.Errorf("kstatus = %s, want Current", got)
	}
	if n, out := tn.sim.Calls("auth/signin"), tn.sim.Calls("auth/signout"); n != 1 || out != 1 {
		t.Errorf("sign-in/sign-out calls = %d/%d, want 1/1", n, out)
	}
	if st, _ := tn.sim.PATState(site, tokenName); st.HasSession {
		t.Error("the operator left its session open")
	}
	waitForEvent(t, tn.ns, "healthy", "Normal/SignedIn")
	if v, _ := seriesValue(t, "tableau_operator_connection_ready", tn.ns, "healthy", nil); v != 1 {
		t.Errorf("ready gauge = %v, want 1", v)
	}
	if v, _ := seriesValue(t, "tableau_operator_pat_expiration_timestamp_seconds", tn.ns, "healthy", nil); int64(v) != cr.ExpiresAt.Unix() {
		t.Errorf("expiry gauge = %v, want %d", v, cr.ExpiresAt.Unix())
	}
	if v := testutil.ToFloat64(metrics.SignInAttempts.WithLabelValues("succeeded", "")); v < 1 {
		t.Errorf("succeeded sign-ins counter = %v", v)
	}
	if v := testutil.ToFloat64(metrics.TableauRequests.WithLabelValues(tableau.EndpointServerInfo, "200")); v < 1 {
		t.Errorf("serverinfo requests counter = %v", v)
	}

	out, err := exec.Command(env.Kubectl, "--kubeconfig", env.KubeconfigPath, "-n", tn.ns, "wait", "--for=condition=Ready", "tabconn/healthy", "--timeout=20s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "condition met") {
		t.Errorf("kubectl wait: %v\n%s", err, out)
	}
	out, err = exec.Command(env.Kubectl, "--kubeconfig", env.KubeconfigPath, "-n", tn.ns, "get", "tableau", "-o", "wide").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SignedIn") || !strings.Contains(string(out), tn.srv.URL) {
		t.Errorf("kubectl get tableau -o wide: %v\n%s", err, out)
	}
}

func TestRevokedPAT(t *testing.T) {
	tn := newTenant(t, "3.24")
	if err := tn.sim.RevokePAT(site, tokenName); err != nil {
		t.Fatal(err)
	}
	tn.createSecret(t, "revoked-pat", tn.secret)
	create(t, tn.connection("revoked", "3.24"))
	c := waitFor(t, tn.ns, "revoked", "SignInRejected", readyReason("SignInRejected"))
	conditionsAreCurrent(t, c)
	f := c.Status.LastFailure
	if f == nil || f.Bucket != "AuthConfigDrift" || f.Stage != v1.StageSignIn || f.HTTPStatus != 401 || f.TableauCode != "401001" ||
		f.Summary != "Signin Error" || f.Endpoint != "POST /api/3.24/auth/signin" || !strings.HasPrefix(f.RequestID, "sim-") || f.NextStep == "" || f.NextAttemptTime == nil {
		t.Fatalf("lastFailure = %+v", f)
	}
	if s := condition(c, v1.ConditionStalled); s.Status != metav1.ConditionTrue || s.Reason != "SignInRejected" {
		t.Errorf("Stalled = %+v", s)
	}
	if !strings.Contains(condition(c, v1.ConditionReady).Message, "Next step:") {
		t.Errorf("Ready message lacks the next step: %s", condition(c, v1.ConditionReady).Message)
	}
	if got := kstatusOf(t, c); got != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", got)
	}
	waitForEvent(t, tn.ns, "revoked", "Warning/SignInRejected")
	if len(c.Status.History) == 0 || c.Status.History[0].TableauCode != "401001" {
		t.Errorf("history = %+v", c.Status.History)
	}
	if n := tn.sim.Calls("auth/signin"); n != 1 {
		t.Errorf("a terminal failure was retried at once: %d sign-ins", n)
	}
	if v := testutil.ToFloat64(metrics.SignInAttempts.WithLabelValues("failed", "AuthConfigDrift")); v < 1 {
		t.Errorf("failed sign-ins counter = %v", v)
	}
	if v := testutil.ToFloat64(metrics.TableauRequests.WithLabelValues(tableau.EndpointSignIn, "401001")); v < 1 {
		t.Errorf("401001 requests counter = %v", v)
	}
	if v, ok := seriesValue(t, "tableau_operator_connection_ready", tn.ns, "revoked", nil); !ok || v != 0 {
		t.Errorf("ready gauge = %v, want 0", v)
	}
	// Deleting the connection removes its series.
	if err := k8s.Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the ready series to go", func() (bool, string) {
		return !seriesExists(t, "tableau_operator_connection_ready", tn.ns, "revoked"), ""
	})
}

// seriesExists reports whether the registry holds a series of metric for the connection.
func seriesExists(t *testing.T, metric, ns, name string) bool {
	t.Helper()
	_, ok := seriesValue(t, metric, ns, name, nil)
	return ok
}

// seriesValue returns the value of the gauge or counter series of metric with the
// connection's namespace and name and the other labels given.
func seriesValue(t *testing.T, metric, ns, name string, other map[string]string) (float64, bool) {
	t.Helper()
	labels := map[string]string{"namespace": ns, "name": name}
	for k, v := range other {
		labels[k] = v
	}
	return registryValue(t, metric, labels)
}

// registryValue scrapes the registry for the first gauge or counter series of metric that
// carries every label given, and returns its value.
func registryValue(t *testing.T, metric string, want map[string]string) (float64, bool) {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != metric {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func TestSecretMissingThenCreated(t *testing.T) {
	tn := newTenant(t, "3.24")
	create(t, tn.connection("late", "3.24"))
	c := waitFor(t, tn.ns, "late", "SecretNotFound", readyReason("SecretNotFound"))
	if f := c.Status.LastFailure; f.Bucket != "AuthConfigDrift" || f.Stage != v1.StageCredentials || !strings.Contains(f.NextStep, `Create Secret "late-pat"`) {
		t.Errorf("lastFailure = %+v", f)
	}
	if got := kstatusOf(t, c); got != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", got)
	}
	if n := tn.sim.Calls("auth/signin"); n != 0 {
		t.Errorf("sign-in without a credential: %d calls", n)
	}
	tn.createSecret(t, "late-pat", tn.secret)
	c = waitFor(t, tn.ns, "late", "Ready after the Secret appears", isReady)
	if c.Status.LastFailure != nil {
		t.Errorf("lastFailure not cleared: %+v", c.Status.LastFailure)
	}
	waitForEvent(t, tn.ns, "late", "Normal/SignInRestored")
}

func TestSecretKeyMissing(t *testing.T) {
	tn := newTenant(t, "3.24")
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nokey-pat", Namespace: tn.ns, Labels: consent}, Data: map[string][]byte{"tokenName": []byte(tokenName)}}
	create(t, s)
	create(t, tn.connection("nokey", "3.24"))
	c := waitFor(t, tn.ns, "nokey", "SecretKeyMissing", readyReason("SecretKeyMissing"))
	if !strings.Contains(c.Status.LastFailure.Message, `"tokenSecret"`) {
		t.Errorf("message does not name the key: %s", c.Status.LastFailure.Message)
	}
	s.Data["tokenSecret"] = []byte(tn.secret)
	if err := k8s.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tn.ns, "nokey", "Ready after the key is added", isReady)
}

func TestVersionPinAboveServer(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.createSecret(t, "pinned-pat", tn.secret)
	create(t, tn.connection("pinned", "3.27"))
	c := waitFor(t, tn.ns, "pinned", "APIVersionAboveServer", readyReason("APIVersionAboveServer"))
	if a := condition(c, v1.ConditionAPIVersionSupported); a.Status != metav1.ConditionFalse || a.Reason != "APIVersionAboveServer" {
		t.Errorf("APIVersionSupported = %+v", a)
	}
	if f := c.Status.LastFailure; f.Bucket != "APIVersionMismatch" || !strings.Contains(f.NextStep, "3.24") {
		t.Errorf("lastFailure = %+v", f)
	}
	if got := kstatusOf(t, c); got != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", got)
	}
	waitForEvent(t, tn.ns, "pinned", "Warning/APIVersionAboveServer")
	if n := tn.sim.Calls("auth/signin"); n != 0 {
		t.Errorf("signed in at a version the server does not offer: %d calls", n)
	}
	// Lowering the pin fixes it at once.
	c.Spec.APIVersion = "3.24"
	if err := k8s.Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tn.ns, "pinned", "Ready after lowering the pin", isReady)
}

func TestRateLimitStormStaysWithinBackoff(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: tableau.EndpointSignIn, RetryAfter: "1"})
	tn.createSecret(t, "storm-pat", tn.secret)
	create(t, tn.connection("storm", "3.24"))
	start := time.Now()
	c := waitFor(t, tn.ns, "storm", "three rate-limited attempts", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.ConsecutiveFailures >= 3
	})
	if r := condition(c, v1.ConditionReconciling); r.Status != metav1.ConditionTrue || r.Reason != v1.ReasonProgressingRetry {
		t.Errorf("Reconciling = %+v", r)
	}
	if s := condition(c, v1.ConditionStalled); s.Status != metav1.ConditionFalse {
		t.Errorf("a transient failure stalled: %+v", s)
	}
	if got := kstatusOf(t, c); got != status.InProgressStatus {
		t.Errorf("kstatus = %s, want InProgress", got)
	}
	time.Sleep(2 * time.Second)
	elapsed := time.Since(start)
	calls := tn.sim.Calls("auth/signin")
	// Retry-After: 1 is a floor under every delay, so in elapsed seconds at most elapsed+1 attempts fit.
	if bound := int(elapsed/time.Second) + 1; calls > bound {
		t.Errorf("%d sign-ins in %v: more than the backoff allows (%d)", calls, elapsed, bound)
	}
	c = get(t, tn.ns, "storm")
	if f := c.Status.LastFailure; f.Bucket != "RateOrQuotaLimit" || f.HTTPStatus != 429 || f.Summary != "429 Too Many Requests" {
		t.Errorf("lastFailure = %+v", f)
	}
	if int(c.Status.LastFailure.ConsecutiveFailures) > calls {
		t.Errorf("%d failures recorded for %d calls", c.Status.LastFailure.ConsecutiveFailures, calls)
	}
	tn.sim.ClearFaults()
	waitFor(t, tn.ns, "storm", "Ready after the storm", isReady)
}

func TestServerDownThenUp(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: tableau.EndpointServerInfo})
	tn.createSecret(t, "down-pat", tn.secret)
	create(t, tn.connection("down", "3.24"))
	c := waitFor(t, tn.ns, "down", "ServerError", readyReason("ServerError"))
	if f := c.Status.LastFailure; f.Bucket != "ServerUnavailable" || f.Stage != v1.StageServer || f.HTTPStatus != 503 {
		t.Errorf("lastFailure = %+v", f)
	}
	if r := condition(c, v1.ConditionReconciling); r.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling = %+v", r)
	}
	if n := tn.sim.Calls("auth/signin"); n != 0 {
		t.Errorf("signed in while serverinfo fails: %d", n)
	}
	tn.sim.ClearFaults()
	waitFor(t, tn.ns, "down", "Ready after the server is back", isReady)
	if n := tn.sim.Calls("auth/signin"); n != 1 {
		t.Errorf("sign-ins = %d, want 1", n)
	}
}

func TestSuspendMakesNoTableauCall(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.createSecret(t, "paused-pat", tn.secret)
	create(t, tn.connection("paused", "3.24", func(c *v1.TableauConnection) { c.Spec.Suspend = true }))
	c := waitFor(t, tn.ns, "paused", "Suspended", readyReason(v1.ReasonSuspended))
	if calls := tn.sim.AllCalls(); len(calls) != 0 {
		t.Errorf("a suspended connection called Tableau: %v", calls)
	}
	c.Spec.Suspend = false
	if err := k8s.Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tn.ns, "paused", "Ready after resuming", isReady)
}

func TestOnChangeDoesNotEndAWorkloadSession(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.createSecret(t, "shared-pat", tn.secret)
	create(t, tn.connection("shared", "3.24"))
	waitFor(t, tn.ns, "shared", "Ready", isReady)

	// A workload signs in with the same PAT after the operator validated it.
	wc, err := tableau.New(tableau.Options{Server: tn.srv.URL, APIVersion: "3.24", CACertPEM: tn.srv.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	workload, err := wc.SignInWithPAT(ctx, site, tableau.PersonalAccessToken{Name: tokenName, Secret: tableau.NewSecret(tn.secret)})
	if err != nil {
		t.Fatal(err)
	}
	// Reconciles that change neither the credential nor the spec: an annotation, and an edit
	// of the Secret that leaves the token alone.
	c := get(t, tn.ns, "shared")
	c.Annotations = map[string]string{"example.com/touched": "1"}
	if err := k8s.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: tn.ns, Name: "shared-pat"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Labels["team"] = "finance" // keeps the consent label
	if err := k8s.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the reconciles to read the edited Secret", func() (bool, string) {
		return tn.sim.Calls("serverinfo") >= 1, ""
	})
	time.Sleep(2 * time.Second)
	if n := tn.sim.Calls("auth/signin"); n != 2 {
		t.Errorf("sign-ins = %d, want 2 (the operator's first and the workload's)", n)
	}
	if _, err := wc.CurrentSession(ctx, workload); err != nil {
		t.Errorf("the workload's session was ended: %v", err)
	}
	// A new credential is validated, which is the moment a sign-in is expected.
	newSecret := randomSecret()
	secrets.add(newSecret)
	if err := tn.sim.AddPAT(site, tableausim.PAT{Name: "finance-operator-2", Secret: newSecret}); err != nil {
		t.Fatal(err)
	}
	s.Data = map[string][]byte{"tokenName": []byte("finance-operator-2"), "tokenSecret": []byte(newSecret)}
	if err := k8s.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	c = waitFor(t, tn.ns, "shared", "the new credential validated", func(c *v1.TableauConnection) bool {
		return isReady(c) && c.Status.Credentials.TokenName == "finance-operator-2" && len(c.Status.History) == 2
	})
	if c.Status.History[0].Revision == c.Status.History[1].Revision {
		t.Error("history does not show the new revision")
	}
}

func TestPeriodicSignsInOnScheduleAndOnChangeDoesNot(t *testing.T) {
	periodic := newTenant(t, "3.24")
	periodic.createSecret(t, "periodic-pat", periodic.secret)
	create(t, periodic.connection("periodic", "3.24", func(c *v1.TableauConnection) {
		c.Spec.Validation = v1.ValidationSpec{SignIn: v1.SignInPeriodic, Interval: &metav1.Duration{Duration: time.Hour}}
	}))
	onChange := newTenant(t, "3.24")
	onChange.createSecret(t, "onchange-pat", onChange.secret)
	create(t, onChange.connection("onchange", "3.24"))
	first := waitFor(t, periodic.ns, "periodic", "Ready", isReady).Status.Credentials.LastSignInTime.Time
	waitFor(t, onChange.ns, "onchange", "Ready", isReady)

	// Ninety minutes later, by the operator's clock.
	clockOffset.Store(int64(90 * time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	annotate(t, get(t, periodic.ns, "periodic"), "example.com/nudge", "1")
	annotate(t, get(t, onChange.ns, "onchange"), "example.com/nudge", "1")
	c := waitFor(t, periodic.ns, "periodic", "a scheduled sign-in", func(c *v1.TableauConnection) bool {
		return c.Status.Credentials.LastSignInTime.Time.After(first.Add(time.Hour))
	})
	if n := periodic.sim.Calls("auth/signin"); n != 2 {
		t.Errorf("Periodic sign-ins = %d, want 2", n)
	}
	if len(c.Status.History) != 2 {
		t.Errorf("history = %+v", c.Status.History)
	}
	time.Sleep(time.Second)
	if n := onChange.sim.Calls("auth/signin"); n != 1 {
		t.Errorf("OnChange signed in on a schedule: %d sign-ins", n)
	}
}
