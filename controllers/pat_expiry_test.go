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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

func TestPATExpiryIsReadWithTheAdminPATWithoutSigningInWithTheConnectionsPAT(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "expiry-app", false)
	secret := w.pat(t, "expiry", "expiry-v1", false)
	w.setSource(t, "expiry", "expiry-v1", secret)
	adminSecret := randomSecret()
	secrets.add(adminSecret)
	if err := w.sim.AddPAT("expiry", tableausim.PAT{Name: "expiry-admin", Secret: adminSecret, SiteRole: "SiteAdministratorCreator",
		Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "expiry-admin", Namespace: w.ns, Labels: consent},
		Data: map[string][]byte{"tokenName": []byte("expiry-admin"), "tokenSecret": []byte(adminSecret)}})
	create(t, w.tenantConnection("expiry", func(c *v1.TableauConnection) {
		c.Spec.Validation.AdminSecretRef = &v1.PATSecretReference{Name: "expiry-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}
	}))
	c := w.settled(t, "expiry", "expiry-v1")
	if c.Status.Credentials.UserID == "" {
		t.Fatal("the sign-in recorded no user id")
	}
	// Tableau's policy shortens the PAT's life; the PAT is not used meanwhile.
	newExpiry := time.Now().Add(3 * 24 * time.Hour).Truncate(time.Minute)
	if err := w.sim.AddPAT("expiry", tableausim.PAT{Name: "expiry-v1", Secret: secret, Expires: newExpiry}); err != nil {
		t.Fatal(err)
	}
	before, err := w.sim.PATState("expiry", "expiry-v1")
	if err != nil {
		t.Fatal(err)
	}
	clockOffset.Add(int64(6*time.Hour + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "expiry")
	waitFor(t, w.ns, "expiry", "the expiry Tableau lists", func(c *v1.TableauConnection) bool {
		e := c.Status.Credentials.ExpiresAt
		return e != nil && e.Time.Equal(newExpiry)
	})
	after, err := w.sim.PATState("expiry", "expiry-v1")
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastUsed.Equal(before.LastUsed) || after.HasSession {
		t.Errorf("the operator signed in with the connection's PAT to learn its expiry: %+v -> %+v", before, after)
	}
}
