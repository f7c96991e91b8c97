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
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const RotateEvery = time.Hour

// AutomaticTenants makes connected-app tenants that rotate their secret every hour, each
// with a site administrator's PAT for the operator, published to their consumers.
func AutomaticTenants(t *testing.T, mutate func(*v1.TableauConnection), names ...string) *World {
	t.Helper()
	w := NewWorld(t)
	NewFleet(t, w.NS)
	for _, n := range names {
		w.Deployment(t, n+"-app", false)
		value := w.App(t, n, "client-"+n, n+"-s1")
		w.SetAppSource(t, n, "client-"+n, n+"-s1", value)
		adminSecret := RandomSecret()
		Current().Secrets.Add(adminSecret)
		if err := w.Sim.AddPAT(n, tableausim.PAT{Name: n + "-admin", Secret: adminSecret, SiteRole: "SiteAdministratorCreator",
			Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n + "-admin", Namespace: w.NS, Labels: Consent},
			Data: map[string][]byte{"tokenName": []byte(n + "-admin"), "tokenSecret": []byte(adminSecret)}})
		Create(t, w.TenantConnection(n, AppConnection, func(c *v1.TableauConnection) {
			c.Spec.Rotation.Automatic = &v1.AutomaticRotation{Every: metav1.Duration{Duration: RotateEvery},
				AdminSecretRef: v1.PATSecretReference{Name: n + "-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}
			if mutate != nil {
				mutate(c)
			}
		}))
	}
	for _, n := range names {
		w.AppSettled(t, n, n+"-s1")
	}
	return w
}

// Poke makes the operator look at a connection now (the clock moved).
func Poke(t *testing.T, ns, name string) {
	t.Helper()
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"test/poke":"%d"}}}`, time.Now().UnixNano())
	if err := K8s().Patch(context.Background(), c, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// AppSecretIDs lists the secret ids of the tenant's connected app on the simulator.
func (w *World) AppSecretIDs(t *testing.T, name string) []string {
	t.Helper()
	ids, err := w.Sim.ConnectedAppSecretIDs(name, "client-"+name)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// AutomaticSettled waits until a tenant's automatic rotation is idle with a secret other than
// old active, and returns that secret's id.
func (w *World) AutomaticSettled(t *testing.T, name, old string) string {
	t.Helper()
	c := WaitFor(t, w.NS, name, name+" rotated away from "+old, func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs != nil && rs.Phase == v1.RotationIdle && rs.Automatic != nil && rs.Automatic.Phase == "Idle" &&
			c.Status.Credentials.SecretID != old && c.Status.Credentials.SecretID != "" && rs.ActiveRevision == c.Status.Credentials.Revision
	})
	// The value the simulator created is a secret the scan must not find anywhere.
	Current().Secrets.Add(string(w.Consumer(t, name).Data["secretValue"]))
	return c.Status.Credentials.SecretID
}
