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
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestUnlabelledSecretIsRefusedUntilLabelled(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shy-pat", Namespace: tn.NS},
		Data: map[string][]byte{"tokenName": []byte(TokenName), "tokenSecret": []byte(tn.Secret)}}
	Create(t, secret)
	Create(t, tn.Connection("shy", "3.24"))

	c := WaitFor(t, tn.NS, "shy", "SecretNotLabelled", ReadyReason("SecretNotLabelled"))
	f := c.Status.LastFailure
	want := fmt.Sprintf("kubectl label secret -n %s shy-pat tableau-operator.dev/credential=true", tn.NS)
	if f.Bucket != "AuthConfigDrift" || f.Stage != v1.StageCredentials || f.NextStep != want {
		t.Errorf("lastFailure = %+v; want bucket AuthConfigDrift, stage Credentials, next step %q", f, want)
	}
	if st := Condition(c, v1.ConditionStalled); st.Status != metav1.ConditionTrue || st.Reason != "SecretNotLabelled" {
		t.Errorf("Stalled = %+v", st)
	}
	// More reconciles within the backoff: a changed annotation, and a change of the Secret
	// itself, which the operator does not watch while it is unlabelled.
	ReconciledAgain(t, tn.NS, "shy", func() { Annotate(t, c, "example.com/touched", "1") })
	secret.Data["tokenSecret"] = []byte(tn.Secret)
	secret.Data["unrelated"] = []byte("x")
	if err := K8s().Update(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	ReconciledAgain(t, tn.NS, "shy", func() { Annotate(t, c, "example.com/touched", "2") })
	if calls := tn.Sim.AllCalls(); len(calls) != 0 {
		t.Errorf("Tableau calls for an unlabelled Secret: %v", calls)
	}
	if n := Current().Reads.Count("content", "Secret", tn.NS, "shy-pat"); n != 0 {
		t.Errorf("the content of the unlabelled Secret was read %d times", n)
	}
	if n := Current().Reads.Count("metadata", "Secret", tn.NS, "shy-pat"); n != 1 {
		t.Errorf("%d direct metadata reads of the unlabelled Secret within one backoff interval, want 1", n)
	}
	if got := Get(t, tn.NS, "shy").Status.LastFailure; got.ConsecutiveFailures != 1 {
		t.Errorf("the refusal was recorded %d times", got.ConsecutiveFailures)
	}

	// The owner consents: that alone makes the connection Ready.
	patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, v1.LabelCredential, v1.CredentialConsent))
	if err := K8s().Patch(context.Background(), secret, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	c = WaitFor(t, tn.NS, "shy", "Ready once the Secret is labelled", IsReady)
	if n := tn.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("%d sign-ins after labelling, want 1", n)
	}
	if Current().Reads.Count("content", "Secret", tn.NS, "shy-pat") == 0 {
		t.Error("Ready without reading the labelled Secret")
	}
	if c.Status.Credentials.SourceResourceVersion == "" || c.Status.Credentials.SourceUID != string(secret.UID) {
		t.Errorf("status does not remember the Secret version it read: %+v", c.Status.Credentials)
	}
}

func TestServerOutsideAllowedServersFailsBeforeTheSecretIsRead(t *testing.T) {
	t.Parallel()
	tn := NewTenant(t, "3.24")
	tn.CreateSecret(t, "far-pat", tn.Secret)
	Create(t, tn.Connection("far", "3.24", func(c *v1.TableauConnection) { c.Spec.Server = "https://tableau.elsewhere.example" }))

	c := WaitFor(t, tn.NS, "far", "ServerNotAllowed", ReadyReason("ServerNotAllowed"))
	f := c.Status.LastFailure
	if f.Bucket != "EndpointMisconfigured" || f.Stage != v1.StageServer || !strings.Contains(f.Message, `"tableau.elsewhere.example"`) ||
		!strings.Contains(f.Message, "--allowed-servers=127.0.0.1") || !strings.Contains(f.NextStep, "--allowed-servers") {
		t.Errorf("lastFailure = %+v", f)
	}
	for _, kind := range []string{"Secret", "ConfigMap"} {
		name := map[string]string{"Secret": "far-pat", "ConfigMap": "tableau-ca"}[kind]
		for _, what := range []string{"content", "metadata"} {
			if n := Current().Reads.Count(what, kind, tn.NS, name); n != 0 {
				t.Errorf("%s of %s %q read %d times for a server that is not allowed", what, kind, name, n)
			}
		}
	}
	if c.Status.Credentials != nil && c.Status.Credentials.Revision != "" {
		t.Errorf("status holds a revision of a credential it must not have read: %+v", c.Status.Credentials)
	}

	// Pointing the connection at an allowed server makes it Ready.
	c.Spec.Server = tn.Srv.URL
	if err := K8s().Update(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, tn.NS, "far", "Ready on an allowed server", IsReady)
}
