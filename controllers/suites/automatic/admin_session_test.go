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

package automatic

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A fleet of three tenants on one site shares one administrator PAT. The operator reconciles
// them concurrently; a sign-in with the PAT ends its other sessions (401002), so their admin
// calls must never overlap: no tenant may see its admin session ended mid-operation.
func TestAutomaticRotationOfAFleetSharingOneAdminPATNeverEndsItsOwnSessions(t *testing.T) {
	const site = "shared"
	names := []string{"share-a", "share-b", "share-c"}
	w := NewWorld(t)
	NewFleet(t, w.NS)
	w.Sim.AddSite(site, site)
	adminSecret := RandomSecret()
	Current().Secrets.Add(adminSecret)
	if err := w.Sim.AddPAT(site, tableausim.PAT{Name: "fleet-admin", Secret: adminSecret, SiteRole: "SiteAdministratorCreator",
		Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "fleet-admin", Namespace: w.NS, Labels: Consent},
		Data: map[string][]byte{"tokenName": []byte("fleet-admin"), "tokenSecret": []byte(adminSecret)}})
	for _, n := range names {
		w.Deployment(t, n+"-app", false)
		value := w.App(t, site, "client-"+n, n+"-s1")
		w.SetAppSource(t, n, "client-"+n, n+"-s1", value)
		Create(t, w.TenantConnection(n, AppConnection, func(c *v1.TableauConnection) {
			c.Spec.Site = site
			c.Spec.Rotation.Automatic = &v1.AutomaticRotation{Every: metav1.Duration{Duration: RotateEvery},
				AdminSecretRef: v1.PATSecretReference{Name: "fleet-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}
		}))
	}
	for _, n := range names {
		w.AppSettled(t, n, n+"-s1")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ended := map[string]string{}
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for _, n := range names {
				var c v1.TableauConnection
				if err := K8s().Get(ctx, client.ObjectKey{Namespace: w.NS, Name: n}, &c); err == nil && c.Status.Rotation != nil &&
					c.Status.Rotation.Automatic != nil && c.Status.Rotation.Automatic.Reason == "SessionInvalidated" {
					mu.Lock()
					ended[n] = c.Status.Rotation.Automatic.Message
					mu.Unlock()
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	for _, n := range names {
		Poke(t, w.NS, n)
	}
	for _, n := range names {
		old := n + "-s1"
		c := WaitFor(t, w.NS, n, n+" rotated away from "+old, func(c *v1.TableauConnection) bool {
			rs := c.Status.Rotation
			return rs != nil && rs.Phase == v1.RotationIdle && rs.Automatic != nil && rs.Automatic.Phase == "Idle" &&
				c.Status.Credentials.SecretID != old && c.Status.Credentials.SecretID != "" && rs.ActiveRevision == c.Status.Credentials.Revision
		})
		Current().Secrets.Add(string(w.Consumer(t, n).Data["secretValue"]))
		ids, err := w.Sim.ConnectedAppSecretIDs(site, "client-"+n)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 || ids[0] != c.Status.Credentials.SecretID {
			t.Errorf("%s: the app holds %v, want only the new secret %s", n, ids, c.Status.Credentials.SecretID)
		}
	}
	cancel()
	wg.Wait()
	for n, msg := range ended {
		t.Errorf("%s: an admin session was ended by another tenant's sign-in with the shared PAT: %s", n, msg)
	}
}

// Two connections on one connected app: each would see the other's active secret as an orphan
// (neither active nor recorded for it) or retire a secret the other's consumers hold. Automatic
// rotation must refuse to touch a shared app, and both tenants' consumers keep signing in.
func TestAutomaticRotationRefusesAConnectedAppSharedByTwoConnections(t *testing.T) {
	const site = "one-app"
	names := []string{"twin-a", "twin-b"}
	w := NewWorld(t)
	NewFleet(t, w.NS)
	adminSecret := RandomSecret()
	Current().Secrets.Add(adminSecret)
	value := w.App(t, site, "client-shared", "shared-s1")
	if err := w.Sim.AddPAT(site, tableausim.PAT{Name: "twin-admin", Secret: adminSecret, SiteRole: "SiteAdministratorCreator",
		Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "twin-admin", Namespace: w.NS, Labels: Consent},
		Data: map[string][]byte{"tokenName": []byte("twin-admin"), "tokenSecret": []byte(adminSecret)}})
	for _, n := range names {
		w.Deployment(t, n+"-app", false)
		w.SetAppSource(t, n, "client-shared", "shared-s1", value)
		Create(t, w.TenantConnection(n, AppConnection, func(c *v1.TableauConnection) {
			c.Spec.Site = site
			c.Spec.Rotation.Automatic = &v1.AutomaticRotation{Every: metav1.Duration{Duration: RotateEvery},
				AdminSecretRef: v1.PATSecretReference{Name: "twin-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}
		}))
	}
	for _, n := range names {
		w.AppSettled(t, n, "shared-s1")
	}
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	for _, n := range names {
		Poke(t, w.NS, n)
	}
	for _, n := range names {
		WaitFor(t, w.NS, n, n+" refusing the shared app", func(c *v1.TableauConnection) bool {
			a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation)
			return a != nil && a.Status == metav1.ConditionFalse && a.Reason == "ConnectedAppShared"
		})
	}
	ids, err := w.Sim.ConnectedAppSecretIDs(site, "client-shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != "shared-s1" {
		t.Errorf("the shared app holds %v, want only shared-s1", ids)
	}
	for _, n := range names {
		if err := w.ConsumerAppSignsIn(t, n); err != nil {
			t.Errorf("%s: consumers cannot sign in: %v", n, err)
		}
	}
}
