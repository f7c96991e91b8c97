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

package rotation

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A consumer Secret deleted after a new PAT was rejected held the only copy of the working
// credential: status must say so, with what to do, instead of Ready=True "holds revision X".
func TestDeletedConsumerSecretAfterARejectionIsNotReady(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "lost-app", false)
	w.SetSource(t, "lost", "lost-v1", w.Pat(t, "lost", "lost-v1", false))
	Create(t, w.TenantConnection("lost"))
	w.Settled(t, "lost", "lost-v1")
	w.SetSource(t, "lost", "lost-v2", w.Pat(t, "lost", "lost-v2", true)) // revoked
	WaitFor(t, w.NS, "lost", "the new PAT rejected", func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationFailed && IsReady(c)
	})
	DeleteSecret(t, w.NS, "lost-tableau")
	c := WaitFor(t, w.NS, "lost", "Ready=False because the consumer Secret is gone", ReadyReason(v1.ReasonConsumerSecretMissing))
	cr := Condition(c, v1.ConditionConsumersReady)
	if cr.Status != metav1.ConditionFalse || cr.Reason != v1.ReasonConsumerSecretMissing ||
		!strings.Contains(cr.Message, "only copy") || !strings.Contains(cr.Message, "Next step") {
		t.Errorf("ConsumersReady = %+v", cr)
	}
	if s := Condition(c, v1.ConditionStalled); s.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %+v, want True: only a person can give a working credential", s)
	}
	// The person follows the next step: a working PAT in the source brings consumers back.
	w.SetSource(t, "lost", "lost-v3", w.Pat(t, "lost", "lost-v3", false))
	w.Settled(t, "lost", "lost-v3")
	if err := w.ConsumerSignsIn(t, "lost"); err != nil {
		t.Errorf("consumers cannot sign in after the repair: %v", err)
	}
}

// Renaming spec.consumers.secretName while the rotation is Failed leaves the new name empty:
// the same loss, said the same way.
func TestRenamedConsumerSecretWhileFailedIsNotReady(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "moved-app", false)
	w.SetSource(t, "moved", "moved-v1", w.Pat(t, "moved", "moved-v1", false))
	Create(t, w.TenantConnection("moved"))
	w.Settled(t, "moved", "moved-v1")
	w.SetSource(t, "moved", "moved-v2", w.Pat(t, "moved", "moved-v2", true)) // revoked
	WaitFor(t, w.NS, "moved", "the new PAT rejected", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationFailed })
	UpdateConnection(t, w.NS, "moved", func(c *v1.TableauConnection) { c.Spec.Consumers.SecretName = "moved-renamed" })
	c := WaitFor(t, w.NS, "moved", "Ready=False because the renamed consumer Secret does not exist", ReadyReason(v1.ReasonConsumerSecretMissing))
	if cr := Condition(c, v1.ConditionConsumersReady); !strings.Contains(cr.Message, `"moved-renamed"`) {
		t.Errorf("ConsumersReady does not name the new Secret: %q", cr.Message)
	}
}

// A deleted consumer Secret whose credential the source still holds is written again, and
// Ready is True only once it exists.
func TestDeletedConsumerSecretIsWrittenAgain(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "again-app", false)
	w.SetSource(t, "again", "again-v1", w.Pat(t, "again", "again-v1", false))
	Create(t, w.TenantConnection("again"))
	w.Settled(t, "again", "again-v1")
	DeleteSecret(t, w.NS, "again-tableau")
	Eventually(t, 30*time.Second, "the consumer Secret written again", func() (bool, string) {
		return SecretExists(t, w.NS, "again-tableau"), ""
	})
	c := w.Settled(t, "again", "again-v1")
	if cr := Condition(c, v1.ConditionConsumersReady); cr.Status != metav1.ConditionTrue {
		t.Errorf("ConsumersReady = %+v", cr)
	}
	if err := w.ConsumerSignsIn(t, "again"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// A restart target added while the health gate waits is restarted with the rotation's stamp
// and gated; the gate's clock is not reset, and the rotation completes instead of rolling
// back a healthy workload.
func TestRestartTargetAddedDuringTheGateIsRestarted(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "gated-app", false)
	w.Deployment(t, "gated-extra", false)
	w.SetSource(t, "gated", "gated-v1", w.Pat(t, "gated", "gated-v1", false))
	Create(t, w.TenantConnection("gated"))
	w.Settled(t, "gated", "gated-v1")
	w.SetBroken(t, "gated-app", true) // holds the gate open until the target is added
	w.SetSource(t, "gated", "gated-v2", w.Pat(t, "gated", "gated-v2", false))
	c := WaitFor(t, w.NS, "gated", "the gate waiting", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationGating })
	since := c.Status.Rotation.PhaseSince
	UpdateConnection(t, w.NS, "gated", func(c *v1.TableauConnection) {
		c.Spec.Consumers.RestartTargets = append(c.Spec.Consumers.RestartTargets, v1.RestartTarget{Kind: "Deployment", Name: "gated-extra"})
	})
	Eventually(t, 20*time.Second, "the added target restarted", func() (bool, string) {
		d := &appsv1.Deployment{}
		if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: w.NS, Name: "gated-extra"}, d); err != nil {
			return false, err.Error()
		}
		got := d.Spec.Template.Annotations[v1.AnnotationRestartedAt]
		return got != "" && got == Get(t, w.NS, "gated").Status.Rotation.RestartedAt, got
	})
	if c := Get(t, w.NS, "gated"); RotationPhase(c) == v1.RotationGating && !c.Status.Rotation.PhaseSince.Equal(&since) {
		t.Errorf("the edit reset the gate's clock: %s, was %s", c.Status.Rotation.PhaseSince, since)
	}
	w.SetBroken(t, "gated-app", false)
	w.Settled(t, "gated", "gated-v2")
	if c := Get(t, w.NS, "gated"); c.Status.Rotation.FailedRevision != "" {
		t.Errorf("the rotation rolled back: %s", Describe(c))
	}
}

// validation.adminSecretRef naming a Secret that holds the connection's own PAT (a copy under
// another name, which CEL cannot see) is refused in status before any sign-in with it: the
// expiry check would end every workload's session.
func TestAdminSecretHoldingTheConnectionsPATIsRefused(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "same-app", false)
	secret := w.Pat(t, "same", "same-v1", false)
	w.SetSource(t, "same", "same-v1", secret)
	Create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "same-admin", Namespace: w.NS, Labels: Consent},
		Data: map[string][]byte{"tokenName": []byte("same-v1"), "tokenSecret": []byte(secret)}})
	Create(t, w.TenantConnection("same", func(c *v1.TableauConnection) {
		c.Spec.Validation.AdminSecretRef = &v1.PATSecretReference{Name: "same-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}
	}))
	w.Settled(t, "same", "same-v1")
	c := WaitFor(t, w.NS, "same", "the expiry check refused", func(c *v1.TableauConnection) bool {
		return strings.HasPrefix(c.Status.Credentials.ExpiryCheckFailure, "AdminPATInUse")
	})
	if msg := c.Status.Credentials.ExpiryCheckFailure; !strings.Contains(msg, `"same-admin"`) || !strings.Contains(msg, "Next step") {
		t.Errorf("expiryCheckFailure = %q", msg)
	}
	WaitForEvent(t, w.NS, "same", "Warning/AdminPATInUse")
	if err := w.ConsumerSignsIn(t, "same"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// A connection re-created over its retained consumer Secret (an Argo CD prune and sync, a
// restore) finds the source's PAT already validated there and does not sign in with it: that
// sign-in would end the session of every workload using it.
func TestRecreatedConnectionDoesNotSignInWithTheRetainedConsumersPAT(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "again2-app", false)
	w.SetSource(t, "again2", "again2-v1", w.Pat(t, "again2", "again2-v1", false))
	Create(t, w.TenantConnection("again2"))
	w.Settled(t, "again2", "again2-v1")
	if err := K8s().Delete(context.Background(), Get(t, w.NS, "again2")); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "the connection gone", func() (bool, string) {
		err := K8s().Get(context.Background(), client.ObjectKey{Namespace: w.NS, Name: "again2"}, &v1.TableauConnection{})
		return err != nil, ""
	})
	before, err := w.Sim.PATState("again2", "again2-v1")
	if err != nil {
		t.Fatal(err)
	}
	Create(t, w.TenantConnection("again2"))
	c := WaitFor(t, w.NS, "again2", "Ready again", IsReady)
	if s := Condition(c, v1.ConditionSignedIn); s.Reason != v1.ReasonValidatedBefore {
		t.Errorf("SignedIn = %+v", s)
	}
	time.Sleep(time.Second)
	after, err := w.Sim.PATState("again2", "again2-v1")
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastUsed.Equal(before.LastUsed) {
		t.Errorf("the re-created connection signed in with the PAT consumers hold: %+v -> %+v", before, after)
	}
	if err := w.ConsumerSignsIn(t, "again2"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// A new connection whose first rollout waits (its restart target does not exist yet, as when
// Argo CD creates the Deployment after the connection) has not written the consumer Secret:
// sign-in works, but Ready must not say True while workloads that start now get nothing.
func TestFirstRolloutWaitingForATargetIsNotReady(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SetSource(t, "early", "early-v1", w.Pat(t, "early", "early-v1", false))
	Create(t, w.TenantConnection("early"))
	c := WaitFor(t, w.NS, "early", "the first rollout waits for its restart target", func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs != nil && rs.Reason == "RestartTargetMissing" && meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionSignedIn)
	})
	time.Sleep(time.Second)
	c = Get(t, w.NS, "early")
	if SecretExists(t, w.NS, "early-tableau") {
		t.Fatalf("the consumer Secret was written before its restart target exists: %s", Describe(c))
	}
	if IsReady(c) {
		t.Errorf("Ready=True while the consumer Secret does not exist: %s", Describe(c))
	}
	if cr := Condition(c, v1.ConditionConsumersReady); cr.Status != metav1.ConditionFalse {
		t.Errorf("ConsumersReady = %+v", cr)
	}
	// The Deployment arrives: the rollout completes and Ready turns True.
	w.Deployment(t, "early-app", false)
	w.Settled(t, "early", "early-v1")
	if c := Get(t, w.NS, "early"); !IsReady(c) {
		t.Errorf("Ready is not True after the first rollout: %s", Describe(c))
	}
}

// A consumer Secret restored from an old backup (its content and the operator's annotations
// of then) holds a credential this connection never validated. The operator writes the active
// credential again; it never saves the restored one for rollback, so a rotation whose gate
// fails never rolls consumers back to it, nor records it as active, nor calls it Ready.
func TestConsumerSecretRestoredFromAnOldBackupIsNeverRolledBackTo(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "backup-app", false)
	w.SetSource(t, "backup", "backup-v1", w.Pat(t, "backup", "backup-v1", false))
	Create(t, w.TenantConnection("backup", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	w.Settled(t, "backup", "backup-v1")
	w.SetBroken(t, "backup-app", true) // the next health gate fails
	old := w.Consumer(t, "backup")
	old.Data = map[string][]byte{"tokenName": []byte("backup-v0"), "tokenSecret": []byte(w.Pat(t, "backup", "backup-v0", true))}
	old.Annotations[v1.AnnotationRevision] = "0123456789ab" // what the backup's annotations said
	if err := K8s().Update(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c := Get(t, w.NS, "backup")
		held := string(w.Consumer(t, "backup").Data["tokenName"])
		if IsReady(c) && strings.Contains(Condition(c, v1.ConditionConsumersReady).Message, "0123456789ab") {
			t.Fatalf("Ready=True while the consumer Secret observed holds the restored, never validated revision: %s", Describe(c))
		}
		if c.Status.Rotation.ActiveRevision == "0123456789ab" {
			t.Fatalf("the restored backup became the active revision: %s", Describe(c))
		}
		if p := RotationPhase(c); (p == v1.RotationIdle || p == v1.RotationFailed) && held == "backup-v1" && c.Status.Rotation.ActiveRevision == c.Status.Credentials.Revision {
			if err := w.ConsumerSignsIn(t, "backup"); err != nil {
				t.Errorf("consumers cannot sign in: %v", err)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := Get(t, w.NS, "backup")
	t.Fatalf("the consumer Secret holds %s after the rotation: %s", w.Consumer(t, "backup").Data["tokenName"], Describe(c))
}
