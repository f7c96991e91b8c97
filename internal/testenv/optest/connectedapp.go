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
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const AppUser = "svc-reports@example.com"

// AppScopes are the scopes of every test connected app.
var AppScopes = []string{"tableau:content:read", "tableau:tasks:*"}

// App puts a connected app with one secret on the tenant's site and returns the secret's value.
func (w *World) App(t *testing.T, site, clientID, secretID string) string {
	t.Helper()
	w.Sim.AddSite(site, site)
	if err := w.Sim.AddUser(site, AppUser, "Viewer"); err != nil {
		t.Fatal(err)
	}
	if ids, err := w.Sim.ConnectedAppSecretIDs(site, clientID); err != nil || ids == nil {
		if err := w.Sim.AddConnectedApp(site, tableausim.ConnectedApp{ClientID: clientID, Name: site + " reports"}); err != nil {
			t.Fatal(err)
		}
	}
	value := RandomSecret()
	Current().Secrets.Add(value)
	if err := w.Sim.AddConnectedAppSecret(site, clientID, secretID, value); err != nil {
		t.Fatal(err)
	}
	return value
}

// SetAppSource writes (or rewrites) the tenant's source Secret with a connected app's client, secret id and value.
func (w *World) SetAppSource(t *testing.T, tenant, clientID, secretID, value string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tenant + "-source", Namespace: w.NS, Labels: Consent}}
	err := K8s().Get(context.Background(), client.ObjectKeyFromObject(s), s)
	s.Data = map[string][]byte{"client": []byte(clientID), "secretId": []byte(secretID), "secretValue": []byte(value)}
	if err != nil {
		Create(t, s)
		return
	}
	if err := K8s().Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// AppConnection is a tenant connection that signs in with a connected app.
func AppConnection(c *v1.TableauConnection) {
	c.Spec.APIVersion = "3.24"
	c.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{
		SecretRef: v1.ConnectedAppSecretReference{Name: c.Name + "-source", ClientIDKey: "client", SecretIDKey: "secretId", SecretValueKey: "secretValue"},
		Username:  AppUser, Scopes: AppScopes}}
}

// ConsumerAppSignsIn signs in with the JWT the consumer bundle lets a workload mint.
func (w *World) ConsumerAppSignsIn(t *testing.T, name string) error {
	t.Helper()
	s := w.Consumer(t, name)
	c, err := tableau.New(tableau.Options{Server: string(s.Data["server"]), APIVersion: string(s.Data["apiVersion"]), CACertPEM: w.Srv.CAPEM})
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

// AppSettled waits until the tenant's rotation is idle with the given app secret active.
func (w *World) AppSettled(t *testing.T, name, secretID string) *v1.TableauConnection {
	t.Helper()
	c := WaitFor(t, w.NS, name, name+" idle with secret "+secretID, func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationIdle && c.Status.Rotation.ActiveRevision != "" && IsReady(c) &&
			c.Status.Credentials.SecretID == secretID && c.Status.Rotation.ActiveRevision == c.Status.Credentials.Revision
	})
	if got := string(w.Consumer(t, name).Data["secretId"]); got != secretID {
		t.Fatalf("%s consumer holds secret %s, want %s", name, got, secretID)
	}
	return c
}
