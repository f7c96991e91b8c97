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
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// The administrator session an automatic rotation keeps between its steps is ended while the
// new secret is in its health gate (another sign-in with the PAT, as a second connection
// sharing it would make). The delete after the gate signs in again and goes on: no failure is
// recorded, and the old secret is deleted.
func TestAutomaticRotationSignsInAgainWhenItsKeptSessionWasEnded(t *testing.T) {
	w := AutomaticTenants(t, nil, "revive")
	old := Get(t, w.NS, "revive").Status.Credentials.SecretID
	w.SetBroken(t, "revive-app", true) // the gate waits until the test has ended the session
	offset := len(Current().Logs.String())
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "revive")
	WaitFor(t, w.NS, "revive", "the new secret in its health gate", func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs != nil && rs.Automatic != nil && rs.Automatic.Phase == "RollingOut" && rs.Phase == v1.RotationGating
	})
	// A sign-in with the administrator's PAT ends every other session of it.
	var admin corev1.Secret
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: w.NS, Name: "revive-admin"}, &admin); err != nil {
		t.Fatal(err)
	}
	c, err := tableau.New(tableau.Options{Server: w.Srv.URL, APIVersion: "3.24", CACertPEM: w.Srv.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.SignInWithPAT(context.Background(), "revive", tableau.PersonalAccessToken{Name: string(admin.Data["tokenName"]),
		Secret: tableau.NewSecret(string(admin.Data["tokenSecret"]))})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	w.SetBroken(t, "revive-app", false)
	id := w.AutomaticSettled(t, "revive", old)
	if got := w.AppSecretIDs(t, "revive"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want only the new secret %s", got, id)
	}
	got := Sequence(WaitAudit(t, offset, w.NS, "revive", audit.SecretDeleted))
	if i := slices.Index(got, "ConnectedAppSecretDeleted/Succeeded"); i < 1 || got[i-1] != "AdminSession/Succeeded" {
		t.Errorf("audit trail %v: the delete after the ended session was not made in a new administrator session", got)
	}
	if n := len(slices.DeleteFunc(slices.Clone(got), func(s string) bool { return s != "AdminSession/Succeeded" })); n != 2 {
		t.Errorf("%d administrator sessions, want 2 (the create's, and one after the first was ended): %v", n, got)
	}
	cr := Get(t, w.NS, "revive")
	if a := meta.FindStatusCondition(cr.Status.Conditions, v1.ConditionAutomaticRotation); a == nil || a.Status != "True" || cr.Status.Rotation.Automatic.ConsecutiveFailures != 0 {
		t.Errorf("after an ended session AutomaticRotation = %+v, failures %d", a, cr.Status.Rotation.Automatic.ConsecutiveFailures)
	}
}
