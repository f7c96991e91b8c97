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
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestConnectedAppSignsInWithAJWTAndPublishesItsBundle(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "delta-app", false)
	value := w.App(t, "delta", "client-delta", "s1")
	w.SetAppSource(t, "delta", "client-delta", "s1", value)
	// Periodic sign-in with consumers is allowed for a connected app: each JWT sign-in is
	// its own session and ends no workload's.
	Create(t, w.TenantConnection("delta", AppConnection, func(c *v1.TableauConnection) {
		c.Spec.Validation = v1.ValidationSpec{SignIn: v1.SignInPeriodic, Interval: &metav1.Duration{Duration: 3600e9}}
	}))
	c := w.AppSettled(t, "delta", "s1")
	if c.Status.Credentials.ClientID != "client-delta" || c.Status.Credentials.TokenName != "" {
		t.Errorf("credentials status names %q/%q, want the client id and no token name", c.Status.Credentials.ClientID, c.Status.Credentials.TokenName)
	}
	if msg := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionSignedIn).Message; !strings.Contains(msg, `Connected app "client-delta" (secret "s1") signed in`) {
		t.Errorf("SignedIn says %q", msg)
	}
	if w.Sim.Calls("auth/signin") == 0 {
		t.Error("no sign-in reached the simulator")
	}
	bundle := w.Consumer(t, "delta").Data
	want := map[string]string{"clientId": "client-delta", "secretId": "s1", "secretValue": value, "username": AppUser,
		"scopes": "tableau:content:read tableau:tasks:*", "server": w.Srv.URL, "site": "delta", "apiVersion": "3.24"}
	if len(bundle) != len(want) {
		t.Errorf("bundle has %d keys, want %d", len(bundle), len(want))
	}
	for k, v := range want {
		if string(bundle[k]) != v {
			t.Errorf("bundle[%s] = %q, want %q", k, bundle[k], v)
		}
	}
	if err := w.ConsumerAppSignsIn(t, "delta"); err != nil {
		t.Fatalf("a consumer cannot sign in with the bundle: %v", err)
	}

	// A second secret, put in the source by a person, rotates through the planner.
	value2 := w.App(t, "delta", "client-delta", "s2")
	before := w.RestartedAt(t, "delta")
	w.SetAppSource(t, "delta", "client-delta", "s2", value2)
	w.AppSettled(t, "delta", "s2")
	if w.RestartedAt(t, "delta") == before {
		t.Error("the consumers were not restarted for the new secret")
	}
	if err := w.ConsumerAppSignsIn(t, "delta"); err != nil {
		t.Fatalf("a consumer cannot sign in after the rotation: %v", err)
	}
}

func TestConnectedAppWithAnUnknownSecretIsRejectedWithANextStep(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.App(t, "echo", "client-echo", "s1")
	wrong := RandomSecret()
	Current().Secrets.Add(wrong)
	w.SetAppSource(t, "echo", "client-echo", "s-unknown", wrong)
	Create(t, w.TenantConnection("echo", AppConnection, func(c *v1.TableauConnection) { c.Spec.Consumers = nil }))
	c := WaitFor(t, w.NS, "echo", "a classified failure", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.Stage == v1.StageSignIn
	})
	f := c.Status.LastFailure
	if f.Reason != "ConnectedAppSecretNotFound" || f.NextStep == "" {
		t.Fatalf("failure %s/%s, next step %q; want ConnectedAppSecretNotFound with a next step", f.Bucket, f.Reason, f.NextStep)
	}
}
