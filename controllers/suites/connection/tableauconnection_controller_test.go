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

package connection

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestHealthyConnection(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "healthy-pat", tn.Secret)
	Create(t, tn.Connection("healthy", "3.24"))
	c := WaitFor(t, tn.NS, "healthy", "Ready", IsReady)
	ConditionsAreCurrent(t, c)
	for typ, want := range map[string]string{v1.ConditionSignedIn: "True", v1.ConditionAPIVersionSupported: "True", v1.ConditionStalled: "False", v1.ConditionReconciling: "False"} {
		if got := string(Condition(c, typ).Status); got != want {
			t.Errorf("%s = %s, want %s", typ, got, want)
		}
	}
	st := c.Status
	if st.Server == nil || st.Server.RESTAPIVersion != "3.24" || st.Server.ProductVersion != "2024.2.0" || st.Server.Build == "" {
		t.Errorf("status.server = %+v", st.Server)
	}
	cr := st.Credentials
	if cr == nil || cr.TokenName != TokenName || len(cr.Revision) != 12 || cr.LastSignInTime == nil || cr.ExpiresAt == nil {
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
	if got := KstatusOf(t, c); got != status.CurrentStatus {
		t.Errorf("kstatus = %s, want Current", got)
	}
	if n, out := tn.Sim.Calls("auth/signin"), tn.Sim.Calls("auth/signout"); n != 1 || out != 1 {
		t.Errorf("sign-in/sign-out calls = %d/%d, want 1/1", n, out)
	}
	if st, _ := tn.Sim.PATState(Site, TokenName); st.HasSession {
		t.Error("the operator left its session open")
	}
	WaitForEvent(t, tn.NS, "healthy", "Normal/SignedIn")
	if v, _ := SeriesValue(t, "tableau_operator_connection_ready", tn.NS, "healthy", nil); v != 1 {
		t.Errorf("ready gauge = %v, want 1", v)
	}
	if v, _ := SeriesValue(t, "tableau_operator_pat_expiration_timestamp_seconds", tn.NS, "healthy", nil); int64(v) != cr.ExpiresAt.Unix() {
		t.Errorf("expiry gauge = %v, want %d", v, cr.ExpiresAt.Unix())
	}
	if v := testutil.ToFloat64(metrics.SignInAttempts.WithLabelValues("succeeded", "")); v < 1 {
		t.Errorf("succeeded sign-ins counter = %v", v)
	}
	if v := testutil.ToFloat64(metrics.TableauRequests.WithLabelValues(tableau.EndpointServerInfo, "200")); v < 1 {
		t.Errorf("serverinfo requests counter = %v", v)
	}

	out, err := exec.Command(Current().Env.Kubectl, "--kubeconfig", Current().Env.KubeconfigPath, "-n", tn.NS, "wait", "--for=condition=Ready", "tabconn/healthy", "--timeout=20s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "condition met") {
		t.Errorf("kubectl wait: %v\n%s", err, out)
	}
	out, err = exec.Command(Current().Env.Kubectl, "--kubeconfig", Current().Env.KubeconfigPath, "-n", tn.NS, "get", "tableau", "-o", "wide").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SignedIn") || !strings.Contains(string(out), tn.Srv.URL) {
		t.Errorf("kubectl get tableau -o wide: %v\n%s", err, out)
	}
}

func TestRevokedPAT(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	if err := tn.Sim.RevokePAT(Site, TokenName); err != nil {
		t.Fatal(err)
	}
	tn.CreateSecret(t, "revoked-pat", tn.Secret)
	Create(t, tn.Connection("revoked", "3.24"))
	c := WaitFor(t, tn.NS, "revoked", "SignInRejected", ReadyReason("SignInRejected"))
	ConditionsAreCurrent(t, c)
	f := c.Status.LastFailure
	if f == nil || f.Bucket != "AuthConfigDrift" || f.Stage != v1.StageSignIn || f.HTTPStatus != 401 || f.TableauCode != "401001" ||
		f.Summary != "Signin Error" || f.Endpoint != "POST /api/3.24/auth/signin" || !strings.HasPrefix(f.RequestID, "sim-") || f.NextStep == "" || f.NextAttemptTime == nil {
		t.Fatalf("lastFailure = %+v", f)
	}
	if s := Condition(c, v1.ConditionStalled); s.Status != metav1.ConditionTrue || s.Reason != "SignInRejected" {
		t.Errorf("Stalled = %+v", s)
	}
	if !strings.Contains(Condition(c, v1.ConditionReady).Message, "Next step:") {
		t.Errorf("Ready message lacks the next step: %s", Condition(c, v1.ConditionReady).Message)
	}
	if got := KstatusOf(t, c); got != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", got)
	}
	WaitForEvent(t, tn.NS, "revoked", "Warning/SignInRejected")
	if len(c.Status.History) == 0 || c.Status.History[0].TableauCode != "401001" {
		t.Errorf("history = %+v", c.Status.History)
	}
	if n := tn.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("a terminal failure was retried at once: %d sign-ins", n)
	}
	if v := testutil.ToFloat64(metrics.SignInAttempts.WithLabelValues("failed", "AuthConfigDrift")); v < 1 {
		t.Errorf("failed sign-ins counter = %v", v)
	}
	if v := testutil.ToFloat64(metrics.TableauRequests.WithLabelValues(tableau.EndpointSignIn, "401001")); v < 1 {
		t.Errorf("401001 requests counter = %v", v)
	}
	if v, ok := SeriesValue(t, "tableau_operator_connection_ready", tn.NS, "revoked", nil); !ok || v != 0 {
		t.Errorf("ready gauge = %v, want 0", v)
	}
	// Deleting the connection removes its series.
	if err := K8s().Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "the ready series to go", func() (bool, string) {
		return !SeriesExists(t, "tableau_operator_connection_ready", tn.NS, "revoked"), ""
	})
}

func TestSecretMissingThenCreated(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	Create(t, tn.Connection("late", "3.24"))
	c := WaitFor(t, tn.NS, "late", "SecretNotFound", ReadyReason("SecretNotFound"))
	if f := c.Status.LastFailure; f.Bucket != "AuthConfigDrift" || f.Stage != v1.StageCredentials || !strings.Contains(f.NextStep, `Create Secret "late-pat"`) {
		t.Errorf("lastFailure = %+v", f)
	}
	if got := KstatusOf(t, c); got != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", got)
	}
	if n := tn.Sim.Calls("auth/signin"); n != 0 {
		t.Errorf("sign-in without a credential: %d calls", n)
	}
	tn.CreateSecret(t, "late-pat", tn.Secret)
	c = WaitFor(t, tn.NS, "late", "Ready after the Secret appears", IsReady)
	if c.Status.LastFailure != nil {
		t.Errorf("lastFailure not cleared: %+v", c.Status.LastFailure)
	}
	WaitForEvent(t, tn.NS, "late", "Normal/SignInRestored")
}

func TestSecretKeyMissing(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "nokey-pat", Namespace: tn.NS, Labels: Consent}, Data: map[string][]byte{"tokenName": []byte(TokenName)}}
	Create(t, s)
	Create(t, tn.Connection("nokey", "3.24"))
	c := WaitFor(t, tn.NS, "nokey", "SecretKeyMissing", ReadyReason("SecretKeyMissing"))
	if !strings.Contains(c.Status.LastFailure.Message, `"tokenSecret"`) {
		t.Errorf("message does not name the key: %s", c.Status.LastFailure.Message)
	}
	s.Data["tokenSecret"] = []byte(tn.Secret)
	if err := K8s().Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, tn.NS, "nokey", "Ready after the key is added", IsReady)
}

func TestVersionPinAboveServer(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "pinned-pat", tn.Secret)
	Create(t, tn.Connection("pinned", "3.27"))
	c := WaitFor(t, tn.NS, "pinned", "APIVersionAboveServer", ReadyReason("APIVersionAboveServer"))
	if a := Condition(c, v1.ConditionAPIVersionSupported); a.Status != metav1.ConditionFalse || a.Reason != "APIVersionAboveServer" {
		t.Errorf("APIVersionSupported = %+v", a)
	}
	if f := c.Status.LastFailure; f.Bucket != "APIVersionMismatch" || !strings.Contains(f.NextStep, "3.24") {
		t.Errorf("lastFailure = %+v", f)
	}
	if got := KstatusOf(t, c); got != status.FailedStatus {
		t.Errorf("kstatus = %s, want Failed", got)
	}
	WaitForEvent(t, tn.NS, "pinned", "Warning/APIVersionAboveServer")
	if n := tn.Sim.Calls("auth/signin"); n != 0 {
		t.Errorf("signed in at a version the server does not offer: %d calls", n)
	}
	// Lowering the pin fixes it at once.
	c.Spec.APIVersion = "3.24"
	if err := K8s().Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, tn.NS, "pinned", "Ready after lowering the pin", IsReady)
}

func TestRateLimitStormStaysWithinBackoff(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: tableau.EndpointSignIn, RetryAfter: "1"})
	tn.CreateSecret(t, "storm-pat", tn.Secret)
	Create(t, tn.Connection("storm", "3.24"))
	c := WaitFor(t, tn.NS, "storm", "three rate-limited attempts", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.ConsecutiveFailures >= 3
	})
	if r := Condition(c, v1.ConditionReconciling); r.Status != metav1.ConditionTrue || r.Reason != v1.ReasonProgressingRetry {
		t.Errorf("Reconciling = %+v", r)
	}
	if s := Condition(c, v1.ConditionStalled); s.Status != metav1.ConditionFalse {
		t.Errorf("a transient failure stalled: %+v", s)
	}
	if got := KstatusOf(t, c); got != status.InProgressStatus {
		t.Errorf("kstatus = %s, want InProgress", got)
	}
	// Retry-After: 1 is a floor under every delay: the gate status records opens at least a
	// second after the attempt that closed it (both are whole seconds in status, and
	// floor(t+d) - floor(t) >= floor(d)). The counts per window are fake-clock tests
	// (internal/gatedclient/storms_test.go); this test measures no time.
	if g, h := c.Status.CallGate, c.Status.History; g == nil || g.NotBefore == nil || len(h) == 0 {
		t.Errorf("no call gate or attempt recorded: callGate %+v, %d attempts", g, len(h))
	} else if last := h[0].Time; g.NotBefore.Sub(last.Time) < time.Second { // newest first
		t.Errorf("callGate.notBefore %s is less than Retry-After after the last attempt at %s", g.NotBefore, last)
	}
	calls := tn.Sim.Calls("auth/signin")
	c = Get(t, tn.NS, "storm")
	if f := c.Status.LastFailure; f.Bucket != "RateOrQuotaLimit" || f.HTTPStatus != 429 || f.Summary != "429 Too Many Requests" {
		t.Errorf("lastFailure = %+v", f)
	}
	if int(c.Status.LastFailure.ConsecutiveFailures) > calls {
		t.Errorf("%d failures recorded for %d calls", c.Status.LastFailure.ConsecutiveFailures, calls)
	}
	tn.Sim.ClearFaults()
	WaitFor(t, tn.NS, "storm", "Ready after the storm", IsReady)
}

func TestServerDownThenUp(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: tableau.EndpointServerInfo})
	tn.CreateSecret(t, "down-pat", tn.Secret)
	Create(t, tn.Connection("down", "3.24"))
	c := WaitFor(t, tn.NS, "down", "ServerError", ReadyReason("ServerError"))
	if f := c.Status.LastFailure; f.Bucket != "ServerUnavailable" || f.Stage != v1.StageServer || f.HTTPStatus != 503 {
		t.Errorf("lastFailure = %+v", f)
	}
	if r := Condition(c, v1.ConditionReconciling); r.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling = %+v", r)
	}
	if n := tn.Sim.Calls("auth/signin"); n != 0 {
		t.Errorf("signed in while serverinfo fails: %d", n)
	}
	tn.Sim.ClearFaults()
	WaitFor(t, tn.NS, "down", "Ready after the server is back", IsReady)
	if n := tn.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("sign-ins = %d, want 1", n)
	}
}

func TestSuspendMakesNoTableauCall(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "paused-pat", tn.Secret)
	Create(t, tn.Connection("paused", "3.24", func(c *v1.TableauConnection) { c.Spec.Suspend = true }))
	c := WaitFor(t, tn.NS, "paused", "Suspended", ReadyReason(v1.ReasonSuspended))
	if calls := tn.Sim.AllCalls(); len(calls) != 0 {
		t.Errorf("a suspended connection called Tableau: %v", calls)
	}
	c.Spec.Suspend = false
	if err := K8s().Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, tn.NS, "paused", "Ready after resuming", IsReady)
}

func TestOnChangeDoesNotEndAWorkloadSession(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "shared-pat", tn.Secret)
	Create(t, tn.Connection("shared", "3.24"))
	WaitFor(t, tn.NS, "shared", "Ready", IsReady)

	// A workload signs in with the same PAT after the operator validated it.
	wc, err := tableau.New(tableau.Options{Server: tn.Srv.URL, APIVersion: "3.24", CACertPEM: tn.Srv.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	workload, err := wc.SignInWithPAT(ctx, Site, tableau.PersonalAccessToken{Name: TokenName, Secret: tableau.NewSecret(tn.Secret)})
	if err != nil {
		t.Fatal(err)
	}
	// Reconciles that change neither the credential nor the spec: an annotation, and an edit
	// of the Secret that leaves the token alone.
	// A merge patch, as kubectl annotate sends: an update from a copy read a moment ago would
	// conflict with the operator's own status writes.
	Annotate(t, Get(t, tn.NS, "shared"), "example.com/touched", "1")
	var s corev1.Secret
	if err := K8s().Get(ctx, client.ObjectKey{Namespace: tn.NS, Name: "shared-pat"}, &s); err != nil {
		t.Fatal(err)
	}
	s.Labels["team"] = "finance" // keeps the consent label
	if err := K8s().Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "the reconciles to read the edited Secret", func() (bool, string) {
		return tn.Sim.Calls("serverinfo") >= 1, ""
	})
	time.Sleep(2 * time.Second)
	if n := tn.Sim.Calls("auth/signin"); n != 2 {
		t.Errorf("sign-ins = %d, want 2 (the operator's first and the workload's)", n)
	}
	if _, err := wc.CurrentSession(ctx, workload); err != nil {
		t.Errorf("the workload's session was ended: %v", err)
	}
	// A new credential is validated, which is the moment a sign-in is expected.
	newSecret := RandomSecret()
	Current().Secrets.Add(newSecret)
	if err := tn.Sim.AddPAT(Site, tableausim.PAT{Name: "finance-operator-2", Secret: newSecret}); err != nil {
		t.Fatal(err)
	}
	s.Data = map[string][]byte{"tokenName": []byte("finance-operator-2"), "tokenSecret": []byte(newSecret)}
	if err := K8s().Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	c := WaitFor(t, tn.NS, "shared", "the new credential validated", func(c *v1.TableauConnection) bool {
		return IsReady(c) && c.Status.Credentials.TokenName == "finance-operator-2" && len(c.Status.History) == 2
	})
	if c.Status.History[0].Revision == c.Status.History[1].Revision {
		t.Error("history does not show the new revision")
	}
}
