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

package optest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

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
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const (
	Site      = "finance"
	TokenName = "finance-operator"
)

// Consent is the label with which a Secret's or ConfigMap's owner lets the operator read it.
var Consent = map[string]string{v1.LabelCredential: v1.CredentialConsent}

// Tenant is one test's world: a simulator, a namespace with the CA bundle, and a PAT.
type Tenant struct {
	Sim    *tableausim.Simulator
	Srv    *tableausim.Server
	NS     string
	Secret string
}

// NewTenant makes a tenant: a simulator serving TLS with a site and a PAT, and a namespace with its CA bundle.
func NewTenant(t *testing.T, restAPIVersion string) *Tenant {
	t.Helper()
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: restAPIVersion, ProductVersion: "2024.2.0", Build: "20242.24.0711.1636", RequestIDHeader: "X-Request-Id"})
	sim.AddSite(Site, "Finance")
	secret := RandomSecret()
	Current().Secrets.Add(secret)
	if err := sim.AddPAT(Site, tableausim.PAT{Name: TokenName, Secret: secret, Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	tn := &Tenant{Sim: sim, Srv: srv, NS: NewNamespace(t), Secret: secret}
	ca := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: tn.NS, Labels: Consent}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}}
	if err := K8s().Create(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	return tn
}

// RandomSecret is a fresh PAT secret; callers add it to the suite's secret ledger.
func RandomSecret() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "pat-" + hex.EncodeToString(b)
}

// CreateSecret creates the consenting PAT Secret name with the tenant's token name and secret.
func (tn *Tenant) CreateSecret(t *testing.T, name, secret string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: tn.NS, Labels: Consent},
		Data: map[string][]byte{"tokenName": []byte(TokenName), "tokenSecret": []byte(secret)}}
	if err := K8s().Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// Connection is a connection to the tenant's simulator with the PAT Secret name-pat, changed by mutate.
func (tn *Tenant) Connection(name, apiVersion string, mutate ...func(*v1.TableauConnection)) *v1.TableauConnection {
	c := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: tn.NS},
		Spec: v1.TableauConnectionSpec{
			Server:     tn.Srv.URL,
			Site:       Site,
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

// Annotate sets one annotation with a merge patch, as kubectl annotate does.
func Annotate(t *testing.T, obj client.Object, key, value string) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value))
	if err := K8s().Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// Create creates obj with the tests' client.
func Create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := K8s().Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// Get reads a TableauConnection.
func Get(t *testing.T, ns, name string) *v1.TableauConnection {
	t.Helper()
	c := &v1.TableauConnection{}
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// Describe sums up a connection's status for a failure message.
func Describe(c *v1.TableauConnection) string {
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

// WaitFor waits until the connection's observed generation is current and cond holds. The
// bound only catches a hang: `make test` runs this package beside the others' (the image
// test cross-compiles the operator) on two cores, where 30 s was seen to run out.
func WaitFor(t *testing.T, ns, name, what string, cond func(c *v1.TableauConnection) bool) *v1.TableauConnection {
	t.Helper()
	var last *v1.TableauConnection
	Eventually(t, 60*time.Second, what, func() (bool, string) {
		last = Get(t, ns, name)
		if last.Status.ObservedGeneration != last.Generation {
			return false, Describe(last)
		}
		return cond(last), Describe(last)
	})
	return last
}

// Condition is the connection's condition t, or the zero condition.
func Condition(c *v1.TableauConnection, t string) metav1.Condition {
	if cond := meta.FindStatusCondition(c.Status.Conditions, t); cond != nil {
		return *cond
	}
	return metav1.Condition{}
}

// IsReady reports whether the connection's Ready condition is True.
func IsReady(c *v1.TableauConnection) bool {
	return meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady)
}

// ReadyReason holds when Ready is False with reason.
func ReadyReason(reason string) func(c *v1.TableauConnection) bool {
	return func(c *v1.TableauConnection) bool {
		r := Condition(c, v1.ConditionReady)
		return r.Status == metav1.ConditionFalse && r.Reason == reason
	}
}

// KstatusOf is the connection's status as kstatus (Argo CD, Flux, kubectl wait) computes it.
func KstatusOf(t *testing.T, c *v1.TableauConnection) status.Status {
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

// EventReasons lists type/reason of every event about name in ns.
func EventReasons(t *testing.T, ns, name string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := K8s().List(context.Background(), &list, client.InNamespace(ns)); err != nil {
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

// WaitForEvent waits until an event with type/reason want is about name in ns.
func WaitForEvent(t *testing.T, ns, name, want string) {
	t.Helper()
	Eventually(t, 15*time.Second, "event "+want, func() (bool, string) {
		got := EventReasons(t, ns, name)
		for _, g := range got {
			if g == want {
				return true, ""
			}
		}
		return false, strings.Join(got, ",")
	})
}

// ConditionsAreCurrent checks that every condition is of the current generation and none is missing.
func ConditionsAreCurrent(t *testing.T, c *v1.TableauConnection) {
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

// SeriesExists reports whether the registry holds a series of metric for the connection.
func SeriesExists(t *testing.T, metric, ns, name string) bool {
	t.Helper()
	_, ok := SeriesValue(t, metric, ns, name, nil)
	return ok
}

// SeriesValue returns the value of the gauge or counter series of metric with the
// Connection's namespace and name and the other labels given.
func SeriesValue(t *testing.T, metric, ns, name string, other map[string]string) (float64, bool) {
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
