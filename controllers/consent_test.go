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
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/allowlist"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
)

// allowedServers is the operator's --allowed-servers in these tests: the simulators listen on
// 127.0.0.1, and any other host is refused.
var allowedServers = mustAllow("127.0.0.1")

func mustAllow(patterns string) allowlist.List {
	l, err := allowlist.Parse(patterns)
	if err != nil {
		panic(err)
	}
	return l
}

// reads counts the operator's direct (API reader) reads, by what was read: content (a typed
// Secret or ConfigMap) or metadata only.
var reads = &readLedger{n: map[string]int{}}

type readLedger struct {
	mu sync.Mutex
	n  map[string]int
}

func readKey(what, kind, ns, name string) string { return what + " " + kind + " " + ns + "/" + name }

func (l *readLedger) add(key string) { l.mu.Lock(); l.n[key]++; l.mu.Unlock() }
func (l *readLedger) count(what, kind, ns, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[readKey(what, kind, ns, name)]
}

// countingReader is the operator's API reader, counting every Get.
type countingReader struct{ client.Reader }

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.Secret:
		reads.add(readKey("content", "Secret", key.Namespace, key.Name))
	case *corev1.ConfigMap:
		reads.add(readKey("content", "ConfigMap", key.Namespace, key.Name))
	case *metav1.PartialObjectMetadata:
		reads.add(readKey("metadata", o.Kind, key.Namespace, key.Name))
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

// reconciledAgain waits until the operator has finished another reconcile of the connection:
// it drops the connection's metric series, which every completed reconcile sets again.
func reconciledAgain(t *testing.T, ns, name string, trigger func()) {
	t.Helper()
	metrics.DeleteConnection(ns, name)
	trigger()
	eventually(t, 20*time.Second, "another reconcile of "+name, func() (bool, string) {
		return seriesExists(t, "tableau_operator_connection_ready", ns, name), ""
	})
}

func TestUnlabelledSecretIsRefusedUntilLabelled(t *testing.T) {
	tn := newTenant(t, "3.24")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shy-pat", Namespace: tn.ns},
		Data: map[string][]byte{"tokenName": []byte(tokenName), "tokenSecret": []byte(tn.secret)}}
	create(t, secret)
	create(t, tn.connection("shy", "3.24"))

	c := waitFor(t, tn.ns, "shy", "SecretNotLabelled", readyReason("SecretNotLabelled"))
	f := c.Status.LastFailure
	want := fmt.Sprintf("kubectl label secret -n %s shy-pat tableau-operator.dev/credential=true", tn.ns)
	if f.Bucket != "AuthConfigDrift" || f.Stage != v1.StageCredentials || f.NextStep != want {
		t.Errorf("lastFailure = %+v; want bucket AuthConfigDrift, stage Credentials, next step %q", f, want)
	}
	if st := condition(c, v1.ConditionStalled); st.Status != metav1.ConditionTrue || st.Reason != "SecretNotLabelled" {
		t.Errorf("Stalled = %+v", st)
	}
	// More reconciles within the backoff: a changed annotation, and a change of the Secret
	// itself, which the operator does not watch while it is unlabelled.
	reconciledAgain(t, tn.ns, "shy", func() { annotate(t, c, "example.com/touched", "1") })
	secret.Data["tokenSecret"] = []byte(tn.secret)
	secret.Data["unrelated"] = []byte("x")
	if err := k8s.Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	reconciledAgain(t, tn.ns, "shy", func() { annotate(t, c, "example.com/touched", "2") })
	if calls := tn.sim.AllCalls(); len(calls) != 0 {
		t.Errorf("Tableau calls for an unlabelled Secret: %v", calls)
	}
	if n := reads.count("content", "Secret", tn.ns, "shy-pat"); n != 0 {
		t.Errorf("the content of the unlabelled Secret was read %d times", n)
	}
	if n := reads.count("metadata", "Secret", tn.ns, "shy-pat"); n != 1 {
		t.Errorf("%d direct metadata reads of the unlabelled Secret within one backoff interval, want 1", n)
	}
	if got := get(t, tn.ns, "shy").Status.LastFailure; got.ConsecutiveFailures != 1 {
		t.Errorf("the refusal was recorded %d times", got.ConsecutiveFailures)
	}

	// The owner consents: that alone makes the connection Ready.
	patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, v1.LabelCredential, v1.CredentialConsent))
	if err := k8s.Patch(context.Background(), secret, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	c = waitFor(t, tn.ns, "shy", "Ready once the Secret is labelled", isReady)
	if n := tn.sim.Calls("auth/signin"); n != 1 {
		t.Errorf("%d sign-ins after labelling, want 1", n)
	}
	if reads.count("content", "Secret", tn.ns, "shy-pat") == 0 {
		t.Error("Ready without reading the labelled Secret")
	}
	if c.Status.Credentials.SourceResourceVersion == "" || c.Status.Credentials.SourceUID != string(secret.UID) {
		t.Errorf("status does not remember the Secret version it read: %+v", c.Status.Credentials)
	}
}

func TestServerOutsideAllowedServersFailsBeforeTheSecretIsRead(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.createSecret(t, "far-pat", tn.secret)
	create(t, tn.connection("far", "3.24", func(c *v1.TableauConnection) { c.Spec.Server = "https://tableau.elsewhere.example" }))

	c := waitFor(t, tn.ns, "far", "ServerNotAllowed", readyReason("ServerNotAllowed"))
	f := c.Status.LastFailure
	if f.Bucket != "EndpointMisconfigured" || f.Stage != v1.StageServer || !strings.Contains(f.Message, `"tableau.elsewhere.example"`) ||
		!strings.Contains(f.Message, "--allowed-servers=127.0.0.1") || !strings.Contains(f.NextStep, "--allowed-servers") {
		t.Errorf("lastFailure = %+v", f)
	}
	for _, kind := range []string{"Secret", "ConfigMap"} {
		name := map[string]string{"Secret": "far-pat", "ConfigMap": "tableau-ca"}[kind]
		for _, what := range []string{"content", "metadata"} {
			if n := reads.count(what, kind, tn.ns, name); n != 0 {
				t.Errorf("%s of %s %q read %d times for a server that is not allowed", what, kind, name, n)
			}
		}
	}
	if c.Status.Credentials != nil && c.Status.Credentials.Revision != "" {
		t.Errorf("status holds a revision of a credential it must not have read: %+v", c.Status.Credentials)
	}

	// Pointing the connection at an allowed server makes it Ready.
	c.Spec.Server = tn.srv.URL
	if err := k8s.Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tn.ns, "far", "Ready on an allowed server", isReady)
}

func TestRestartedOperatorReadsNoContentOfUnchangedSecrets(t *testing.T) {
	tn := newTenant(t, "3.24")
	tn.createSecret(t, "kept-pat", tn.secret)
	create(t, tn.connection("kept", "3.24"))
	waitFor(t, tn.ns, "kept", "Ready", isReady)
	contentReads, signIns := reads.count("content", "Secret", tn.ns, "kept-pat"), tn.sim.Calls("auth/signin")

	stopManager()
	reconciledAgain(t, tn.ns, "kept", func() {
		if err := startManager(nil); err != nil {
			t.Fatal(err)
		}
	})
	c := get(t, tn.ns, "kept")
	if !isReady(c) {
		t.Errorf("not Ready after the restart: %s", describe(c))
	}
	if n := reads.count("content", "Secret", tn.ns, "kept-pat") - contentReads; n != 0 {
		t.Errorf("the restarted operator read the unchanged Secret %d times", n)
	}
	if n := tn.sim.Calls("auth/signin") - signIns; n != 0 {
		t.Errorf("the restarted operator signed in %d times", n)
	}
}
