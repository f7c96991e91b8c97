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
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const appUser = "svc-reports@example.com"

var appScopes = []string{"tableau:content:read", "tableau:tasks:*"}

// app puts a connected app with one secret on the tenant's site and returns the secret's value.
func (w *world) app(t *testing.T, site, clientID, secretID string) string {
	t.Helper()
	w.sim.AddSite(site, site)
	if err := w.sim.AddUser(site, appUser, "Viewer"); err != nil {
		t.Fatal(err)
	}
	if ids, err := w.sim.ConnectedAppSecretIDs(site, clientID); err != nil || ids == nil {
		if err := w.sim.AddConnectedApp(site, tableausim.ConnectedApp{ClientID: clientID, Name: site + " reports"}); err != nil {
			t.Fatal(err)
		}
	}
	value := randomSecret()
	secrets.add(value)
	if err := w.sim.AddConnectedAppSecret(site, clientID, secretID, value); err != nil {
		t.Fatal(err)
	}
	return value
}

func (w *world) setAppSource(t *testing.T, tenant, clientID, secretID, value string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tenant + "-source", Namespace: w.ns, Labels: consent}}
	err := k8s.Get(context.Background(), client.ObjectKeyFromObject(s), s)
	s.Data = map[string][]byte{"client": []byte(clientID), "secretId": []byte(secretID), "secretValue": []byte(value)}
	if err != nil {
		create(t, s)
		return
	}
	if err := k8s.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// appConnection is a tenant connection that signs in with a connected app.
func appConnection(c *v1.TableauConnection) {
	c.Spec.APIVersion = "3.24"
	c.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{
		SecretRef: v1.ConnectedAppSecretReference{Name: c.Name + "-source", ClientIDKey: "client", SecretIDKey: "secretId", SecretValueKey: "secretValue"},
		Username:  appUser, Scopes: appScopes}}
}

// consumerAppSignsIn signs in with the JWT the consumer bundle lets a workload mint.
func (w *world) consumerAppSignsIn(t *testing.T, name string) error {
	t.Helper()
	s := w.consumer(t, name)
	c, err := tableau.New(tableau.Options{Server: string(s.Data["server"]), APIVersion: string(s.Data["apiVersion"]), CACertPEM: w.srv.CAPEM})
	if err != nil {
		return err
	}
	app := tableau.ConnectedApp{ClientID: string(s.Data["clientId"]), SecretID: string(s.Data["secretId"]),
		SecretValue: tableau.NewSecret(string(s.Data["secretValue"])), Username: string(s.Data["username"]),
		Scopes: strings.Fields(string(s.Data["scopes"]))}
	sess, err := c.SignInWithConnectedApp(context.Background(), string(s.Data["site"]), app)
	if err != nil {
		return err
	}
	return c.SignOut(context.Background(), sess)
}

// appSettled waits until the tenant's rotation is idle with the given app secret active.
func (w *world) appSettled(t *testing.T, name, secretID string) *v1.TableauConnection {
	t.Helper()
	c := waitFor(t, w.ns, name, name+" idle with secret "+secretID, func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationIdle && c.Status.Rotation.ActiveRevision != "" && isReady(c) &&
			c.Status.Credentials.SecretID == secretID && c.Status.Rotation.ActiveRevision == c.Status.Credentials.Revision
	})
	if got := string(w.consumer(t, name).Data["secretId"]); got != secretID {
		t.Fatalf("%s consumer holds secret %s, want %s", name, got, secretID)
	}
	return c
}

func TestConnectedAppSignsInWithAJWTAndPublishesItsBundle(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "delta-app", false)
	value := w.app(t, "delta", "client-delta", "s1")
	w.setAppSource(t, "delta", "client-delta", "s1", value)
	// Periodic sign-in with consumers is allowed for a connected app: each JWT sign-in is
	// its own session and ends no workload's.
	create(t, w.tenantConnection("delta", appConnection, func(c *v1.TableauConnection) {
		c.Spec.Validation = v1.ValidationSpec{SignIn: v1.SignInPeriodic, Interval: &metav1.Duration{Duration: 3600e9}}
	}))
	c := w.appSettled(t, "delta", "s1")
	if c.Status.Credentials.ClientID != "client-delta" || c.Status.Credentials.TokenName != "" {
		t.Errorf("credentials status names %q/%q, want the client id and no token name", c.Status.Credentials.ClientID, c.Status.Credentials.TokenName)
	}
	if msg := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionSignedIn).Message; !strings.Contains(msg, `Connected app "client-delta" (secret "s1") signed in`) {
		t.Errorf("SignedIn says %q", msg)
	}
	if w.sim.Calls("auth/signin") == 0 {
		t.Error("no sign-in reached the simulator")
	}
	bundle := w.consumer(t, "delta").Data
	want := map[string]string{"clientId": "client-delta", "secretId": "s1", "secretValue": value, "username": appUser,
		"scopes": "tableau:content:read tableau:tasks:*", "server": w.srv.URL, "site": "delta", "apiVersion": "3.24"}
	if len(bundle) != len(want) {
		t.Errorf("bundle has %d keys, want %d", len(bundle), len(want))
	}
	for k, v := range want {
		if string(bundle[k]) != v {
			t.Errorf("bundle[%s] = %q, want %q", k, bundle[k], v)
		}
	}
	if err := w.consumerAppSignsIn(t, "delta"); err != nil {
		t.Fatalf("a consumer cannot sign in with the bundle: %v", err)
	}

	// A second secret, put in the source by a person, rotates through the planner.
	value2 := w.app(t, "delta", "client-delta", "s2")
	before := w.restartedAt(t, "delta")
	w.setAppSource(t, "delta", "client-delta", "s2", value2)
	w.appSettled(t, "delta", "s2")
	if w.restartedAt(t, "delta") == before {
		t.Error("the consumers were not restarted for the new secret")
	}
	if err := w.consumerAppSignsIn(t, "delta"); err != nil {
		t.Fatalf("a consumer cannot sign in after the rotation: %v", err)
	}
}

func TestConnectedAppWithAnUnknownSecretIsRejectedWithANextStep(t *testing.T) {
	w := newWorld(t)
	w.app(t, "echo", "client-echo", "s1")
	wrong := randomSecret()
	secrets.add(wrong)
	w.setAppSource(t, "echo", "client-echo", "s-unknown", wrong)
	create(t, w.tenantConnection("echo", appConnection, func(c *v1.TableauConnection) { c.Spec.Consumers = nil }))
	c := waitFor(t, w.ns, "echo", "a classified failure", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.Stage == v1.StageSignIn
	})
	f := c.Status.LastFailure
	if f.Reason != "ConnectedAppSecretNotFound" || f.NextStep == "" {
		t.Fatalf("failure %s/%s, next step %q; want ConnectedAppSecretNotFound with a next step", f.Bucket, f.Reason, f.NextStep)
	}
}
