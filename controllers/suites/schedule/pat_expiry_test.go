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

package schedule

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestPATExpiryIsReadWithTheAdminPATWithoutSigningInWithTheConnectionsPAT(t *testing.T) {
	w := NewWorld(t)
	w.Deployment(t, "expiry-app", false)
	secret := w.Pat(t, "expiry", "expiry-v1", false)
	w.SetSource(t, "expiry", "expiry-v1", secret)
	adminSecret := RandomSecret()
	Current().Secrets.Add(adminSecret)
	if err := w.Sim.AddPAT("expiry", tableausim.PAT{Name: "expiry-admin", Secret: adminSecret, SiteRole: "SiteAdministratorCreator",
		Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "expiry-admin", Namespace: w.NS, Labels: Consent},
		Data: map[string][]byte{"tokenName": []byte("expiry-admin"), "tokenSecret": []byte(adminSecret)}})
	Create(t, w.TenantConnection("expiry", func(c *v1.TableauConnection) {
		c.Spec.Validation.AdminSecretRef = &v1.PATSecretReference{Name: "expiry-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}
	}))
	c := w.Settled(t, "expiry", "expiry-v1")
	if c.Status.Credentials.UserID == "" {
		t.Fatal("the sign-in recorded no user id")
	}
	// Tableau's policy shortens the PAT's life; the PAT is not used meanwhile.
	newExpiry := time.Now().Add(3 * 24 * time.Hour).Truncate(time.Minute)
	if err := w.Sim.AddPAT("expiry", tableausim.PAT{Name: "expiry-v1", Secret: secret, Expires: newExpiry}); err != nil {
		t.Fatal(err)
	}
	before, err := w.Sim.PATState("expiry", "expiry-v1")
	if err != nil {
		t.Fatal(err)
	}
	Current().Clock.Advance(6*time.Hour + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "expiry")
	WaitFor(t, w.NS, "expiry", "the expiry Tableau lists", func(c *v1.TableauConnection) bool {
		e := c.Status.Credentials.ExpiresAt
		return e != nil && e.Time.Equal(newExpiry)
	})
	after, err := w.Sim.PATState("expiry", "expiry-v1")
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastUsed.Equal(before.LastUsed) || after.HasSession {
		t.Errorf("the operator signed in with the connection's PAT to learn its expiry: %+v -> %+v", before, after)
	}
}
