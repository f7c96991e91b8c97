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
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/kubectlplugin"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// Values shaped as Tableau issues them: a PAT secret ("<base64 of 16 bytes>:<base64 of 24>"),
// a connected app's secret value (base64 of 32 bytes) and a LUID.
func tableauPATSecret() string { return pvBase64(16) + ":" + pvBase64(24) }
func tableauAppSecret() string { return pvBase64(32) }
func tableauLUID() string {
	h := pvHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func pvBase64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func pvHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// swapCase is one credential Secret with two of its keys crossed.
type swapCase struct {
	name string
	// data is the Secret's content (keys crossed); values are every value in it.
	data   map[string][]byte
	values []string
	// lookLikeSecret is the key the operator must name (SecretKeyLooksLikeSecret) without a
	// sign-in; "" when the crossed values have no secret's shape there and only a sign-in,
	// which Tableau rejects, can tell.
	lookLikeSecret string
	// mayShow are values of Tableau's identifier shape (UUIDs) that may be shown though
	// crossed: a client id and a secret id swapped are both LUIDs, and neither is secret.
	mayShow []string
	app     bool
}

// swapped returns data with the values of keys a and b exchanged.
func swapped(data map[string]string, a, b string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = []byte(v)
	}
	out[a], out[b] = []byte(data[b]), []byte(data[a])
	return out
}

// Issue 24: nothing from a Secret reaches status, events, logs, metrics or `kubectl tableau
// status` before Tableau accepted it as what it claims to be. Every key of both credential
// kinds is swapped with every other, once with values of Tableau's shapes (the operator names
// the key without signing in) and once with values of no known shape (only Tableau's
// rejection tells; nothing is shown before it accepts, which it never does).
func TestSwappedSecretKeysPublishNothing(t *testing.T) {
	w := NewWorld(t)
	var cases []swapCase

	// PATs: the one swap, name <-> secret.
	for i, secret := range []string{tableauPATSecret(), RandomSecret()} {
		site := fmt.Sprintf("pvpat%d", i)
		name := "nm-" + pvHex(8)
		w.Sim.AddSite(site, site)
		if err := w.Sim.AddPAT(site, tableausim.PAT{Name: name, Secret: secret, Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		Current().Secrets.Add(secret)
		c := swapCase{name: site, values: []string{name, secret},
			data: swapped(map[string]string{"tokenName": name, "tokenSecret": secret}, "tokenName", "tokenSecret")}
		if i == 0 {
			c.lookLikeSecret = "tokenName"
		}
		cases = append(cases, c)
	}

	// Connected apps: client id, secret id and secret value, each pair crossed.
	pairs := [][2]string{{"clientId", "secretId"}, {"clientId", "secretValue"}, {"secretId", "secretValue"}}
	for shaped := range 2 {
		for j, pair := range pairs {
			site := fmt.Sprintf("pvapp%d%d", shaped, j)
			clientID, secretID, value := tableauLUID(), tableauLUID(), tableauAppSecret()
			if shaped == 1 {
				clientID, secretID, value = "client-"+pvHex(6), "sid-"+pvHex(6), RandomSecret()
			}
			w.Sim.AddSite(site, site)
			if err := w.Sim.AddUser(site, AppUser, "Viewer"); err != nil {
				t.Fatal(err)
			}
			if err := w.Sim.AddConnectedApp(site, tableausim.ConnectedApp{ClientID: clientID, Name: site}); err != nil {
				t.Fatal(err)
			}
			if err := w.Sim.AddConnectedAppSecret(site, clientID, secretID, value); err != nil {
				t.Fatal(err)
			}
			Current().Secrets.Add(value)
			c := swapCase{name: site, app: true, values: []string{clientID, secretID, value},
				data: swapped(map[string]string{"clientId": clientID, "secretId": secretID, "secretValue": value}, pair[0], pair[1])}
			switch {
			case shaped == 1:
			case pair[1] == "secretValue":
				c.lookLikeSecret = pair[0]
			default:
				c.mayShow = []string{clientID, secretID}
			}
			cases = append(cases, c)
		}
	}

	for _, c := range cases {
		Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: c.name + "-source", Namespace: w.NS, Labels: Consent}, Data: c.data})
		Create(t, w.TenantConnection(c.name, validationOnly, func(conn *v1.TableauConnection) {
			if c.app {
				conn.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{
					SecretRef: v1.ConnectedAppSecretReference{Name: c.name + "-source", ClientIDKey: "clientId", SecretIDKey: "secretId", SecretValueKey: "secretValue"},
					Username:  AppUser, Scopes: AppScopes}}
			}
		}))
	}
	for _, c := range cases {
		conn := WaitFor(t, w.NS, c.name, c.name+" failed", func(conn *v1.TableauConnection) bool {
			f := conn.Status.LastFailure
			if c.lookLikeSecret != "" {
				return f != nil && f.Reason == "SecretKeyLooksLikeSecret"
			}
			return f != nil && f.Stage == v1.StageSignIn
		})
		f, cr := conn.Status.LastFailure, conn.Status.Credentials
		if c.lookLikeSecret != "" {
			if !strings.Contains(f.Message, fmt.Sprintf("key %q", c.lookLikeSecret)) || f.Bucket != "AuthConfigDrift" || f.NextStep == "" ||
				Condition(conn, v1.ConditionStalled).Status != metav1.ConditionTrue {
				t.Errorf("%s: the failure does not name key %q as a terminal AuthConfigDrift with a next step: %+v", c.name, c.lookLikeSecret, f)
			}
			if f.Stage != v1.StageCredentials || (cr != nil && cr.LastAttemptRevision != "") {
				t.Errorf("%s: a sign-in was attempted with a secret under an identifier's key: %+v %+v", c.name, f, cr)
			}
		}
		if cr != nil && (cr.TokenName != "" || (len(c.mayShow) == 0 && (cr.ClientID != "" || cr.SecretID != ""))) {
			t.Errorf("%s: status names a credential Tableau never accepted: %+v", c.name, cr)
		}
	}
	// A reconcile more for each (the hourly recheck is far): what a repeated pass writes is
	// scanned too.
	for _, c := range cases {
		ReconciledAgain(t, w.NS, c.name, func() { Annotate(t, Get(t, w.NS, c.name), "example.com/touched", "1") })
	}

	haystacks := publishedText(t, w.NS, cases)
	for _, c := range cases {
		for _, v := range c.values {
			if contains(c.mayShow, v) {
				continue
			}
			for what, text := range haystacks {
				if strings.Contains(text, v) {
					t.Errorf("%s: a value of the swapped Secret appears in %s", c.name, what)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// publishedText is everything people and pipelines read about the connections: their status,
// the namespace's events (both APIs), the operator's log, the metrics output, and what
// `kubectl tableau status` prints for each connection.
func publishedText(t *testing.T, ns string, cases []swapCase) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{"logs": Current().Logs.String()}
	var conns v1.TableauConnectionList
	if err := K8s().List(ctx, &conns, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(conns)
	out["status"] = string(b)
	var evs eventsv1.EventList
	if err := K8s().List(ctx, &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var core corev1.EventList
	if err := K8s().List(ctx, &core, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(evs.Items)+len(core.Items) == 0 {
		t.Fatal("no events to scan: the failures were told nowhere")
	}
	b, _ = json.Marshal(evs)
	out["events"] = string(b)
	b, _ = json.Marshal(core)
	out["core events"] = string(b)
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range families {
		_, _ = expfmt.MetricFamilyToText(&buf, f)
	}
	out["metrics"] = buf.String()
	var plugin bytes.Buffer
	for _, c := range cases {
		var one bytes.Buffer
		kubectlplugin.Main(ctx, []string{"--kubeconfig", Current().Env.KubeconfigPath, "status", "-n", ns, c.name}, kubectlplugin.Streams{Out: &one, Err: &one})
		if !strings.Contains(one.String(), "TableauConnection "+ns+"/"+c.name) {
			t.Fatalf("kubectl tableau status %s printed no status: %s", c.name, one.String())
		}
		plugin.Write(one.Bytes())
	}
	out["kubectl tableau status"] = plugin.String()
	return out
}

// pvWarnings returns the notes of the Warning events with reason for ns/name.
func pvWarnings(t *testing.T, ns, name, reason string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := K8s().List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Type == corev1.EventTypeWarning && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

// waitWarning waits for a Warning event with reason whose note names revision.
func waitWarning(t *testing.T, ns, name, reason, revision string) {
	t.Helper()
	Eventually(t, 20*time.Second, "a Warning "+reason+" naming revision "+revision, func() (bool, string) {
		notes := pvWarnings(t, ns, name, reason)
		for _, n := range notes {
			if strings.Contains(n, revision) {
				return true, ""
			}
		}
		return false, strings.Join(notes, " | ")
	})
}

// Issue 24: a person's new PAT is rejected; they fix it and get it wrong again. The second
// rejection is told like the first: a Warning event naming it, rotations_total{result=
// "rejected"} and the connection's rotation_failures_total (the alert's input), an audit line;
// and, for a connection without consumers, the sign-in failure's Warning event.
func TestSecondRejectionIsToldLikeTheFirst(t *testing.T) {
	w := NewWorld(t)
	w.Deployment(t, "twice-app", false)
	w.SetSource(t, "twice", "twice-v1", w.Pat(t, "twice", "twice-v1", false))
	Create(t, w.TenantConnection("twice"))
	w.SetSource(t, "plain", "plain-v1", w.Pat(t, "plain", "plain-v1", false))
	Create(t, w.TenantConnection("plain", validationOnly))
	w.Settled(t, "twice", "twice-v1")
	WaitFor(t, w.NS, "plain", "plain Ready", IsReady)

	rejectedTotal := func() float64 {
		return CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rejected"})
	}
	alertInput := func() float64 {
		v, _ := SeriesValue(t, "tableau_operator_connection_rotation_failures_total", w.NS, "twice", map[string]string{"reason": v1.ReasonCandidateRejected})
		return v
	}
	base := rejectedTotal()
	var revisions []string
	for i, token := range []string{"twice-v2", "twice-v3"} {
		offset := len(Current().Logs.String())
		w.SetSource(t, "twice", token, w.Pat(t, "twice", token, true)) // revoked: Tableau rejects it
		c := WaitFor(t, w.NS, "twice", token+" rejected", func(c *v1.TableauConnection) bool {
			rs := c.Status.Rotation
			return rs != nil && rs.Reason == v1.ReasonCandidateRejected && rs.FailedRevision != "" && rs.FailedRevision == c.Status.Credentials.Revision &&
				!contains(revisions, rs.FailedRevision)
		})
		rev := c.Status.Rotation.FailedRevision
		revisions = append(revisions, rev)
		waitWarning(t, w.NS, "twice", v1.ReasonCandidateRejected, rev)
		lines := WaitAudit(t, offset, w.NS, "twice", audit.CandidateRejected)
		if got := lines[len(lines)-1][audit.KeyRevision]; got != rev {
			t.Errorf("rejection %d: the audit line names revision %v, want %s", i+1, got, rev)
		}
		Eventually(t, 10*time.Second, fmt.Sprintf("rejection %d counted", i+1), func() (bool, string) {
			return rejectedTotal()-base == float64(i+1) && alertInput() == float64(i+1),
				fmt.Sprintf("rotations_total{result=rejected} +%v, rotation_failures_total{name=twice,reason=CandidateRejected} %v", rejectedTotal()-base, alertInput())
		})
	}
	if got := len(pvWarnings(t, w.NS, "twice", v1.ReasonCandidateRejected)); got != 2 {
		t.Errorf("%d Warning CandidateRejected events, want one per rejected revision (2)", got)
	}

	// Without consumers: each rejected revision's sign-in failure is a Warning of its own.
	var plain []string
	for _, token := range []string{"plain-v2", "plain-v3"} {
		w.SetSource(t, "plain", token, w.Pat(t, "plain", token, true))
		c := WaitFor(t, w.NS, "plain", token+" rejected", func(c *v1.TableauConnection) bool {
			f := c.Status.LastFailure
			return f != nil && f.Stage == v1.StageSignIn && f.Revision == c.Status.Credentials.Revision && !contains(plain, f.Revision)
		})
		f := c.Status.LastFailure
		plain = append(plain, f.Revision)
		waitWarning(t, w.NS, "plain", f.Reason, f.Revision)
	}
}

// validationOnly is a tenant connection without consumers: validation alone.
func validationOnly(c *v1.TableauConnection) { c.Labels, c.Spec.Consumers = nil, nil }
