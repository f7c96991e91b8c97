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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
)

// What a person, Argo CD or Tableau's UI does between two operator steps (issue 15): each
// test reproduces one defect found on envtest against the simulator.

func deleteSecret(t *testing.T, ns, name string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := k8s.Delete(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func updateConnection(t *testing.T, ns, name string, mutate func(*v1.TableauConnection)) {
	t.Helper()
	eventually(t, 10*time.Second, "updating "+name, func() (bool, string) {
		c := get(t, ns, name)
		mutate(c)
		if err := k8s.Update(context.Background(), c); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// A consumer Secret deleted after a new PAT was rejected held the only copy of the working
// credential: status must say so, with what to do, instead of Ready=True "holds revision X".
func TestDeletedConsumerSecretAfterARejectionIsNotReady(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "lost-app", false)
	w.setSource(t, "lost", "lost-v1", w.pat(t, "lost", "lost-v1", false))
	create(t, w.tenantConnection("lost"))
	w.settled(t, "lost", "lost-v1")
	w.setSource(t, "lost", "lost-v2", w.pat(t, "lost", "lost-v2", true)) // revoked
	waitFor(t, w.ns, "lost", "the new PAT rejected", func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationFailed && isReady(c)
	})
	deleteSecret(t, w.ns, "lost-tableau")
	c := waitFor(t, w.ns, "lost", "Ready=False because the consumer Secret is gone", readyReason(v1.ReasonConsumerSecretMissing))
	cr := condition(c, v1.ConditionConsumersReady)
	if cr.Status != metav1.ConditionFalse || cr.Reason != v1.ReasonConsumerSecretMissing ||
		!strings.Contains(cr.Message, "only copy") || !strings.Contains(cr.Message, "Next step") {
		t.Errorf("ConsumersReady = %+v", cr)
	}
	if s := condition(c, v1.ConditionStalled); s.Status != metav1.ConditionTrue {
		t.Errorf("Stalled = %+v, want True: only a person can give a working credential", s)
	}
	// The person follows the next step: a working PAT in the source brings consumers back.
	w.setSource(t, "lost", "lost-v3", w.pat(t, "lost", "lost-v3", false))
	w.settled(t, "lost", "lost-v3")
	if err := w.consumerSignsIn(t, "lost"); err != nil {
		t.Errorf("consumers cannot sign in after the repair: %v", err)
	}
}

// Renaming spec.consumers.secretName while the rotation is Failed leaves the new name empty:
// the same loss, said the same way.
func TestRenamedConsumerSecretWhileFailedIsNotReady(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "moved-app", false)
	w.setSource(t, "moved", "moved-v1", w.pat(t, "moved", "moved-v1", false))
	create(t, w.tenantConnection("moved"))
	w.settled(t, "moved", "moved-v1")
	w.setSource(t, "moved", "moved-v2", w.pat(t, "moved", "moved-v2", true)) // revoked
	waitFor(t, w.ns, "moved", "the new PAT rejected", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationFailed })
	updateConnection(t, w.ns, "moved", func(c *v1.TableauConnection) { c.Spec.Consumers.SecretName = "moved-renamed" })
	c := waitFor(t, w.ns, "moved", "Ready=False because the renamed consumer Secret does not exist", readyReason(v1.ReasonConsumerSecretMissing))
	if cr := condition(c, v1.ConditionConsumersReady); !strings.Contains(cr.Message, `"moved-renamed"`) {
		t.Errorf("ConsumersReady does not name the new Secret: %q", cr.Message)
	}
}

// A deleted consumer Secret whose credential the source still holds is written again, and
// Ready is True only once it exists.
func TestDeletedConsumerSecretIsWrittenAgain(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "again-app", false)
	w.setSource(t, "again", "again-v1", w.pat(t, "again", "again-v1", false))
	create(t, w.tenantConnection("again"))
	w.settled(t, "again", "again-v1")
	deleteSecret(t, w.ns, "again-tableau")
	eventually(t, 30*time.Second, "the consumer Secret written again", func() (bool, string) {
		return secretExists(t, w.ns, "again-tableau"), ""
	})
	c := w.settled(t, "again", "again-v1")
	if cr := condition(c, v1.ConditionConsumersReady); cr.Status != metav1.ConditionTrue {
		t.Errorf("ConsumersReady = %+v", cr)
	}
	if err := w.consumerSignsIn(t, "again"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// A restart target added while the health gate waits is restarted with the rotation's stamp
// and gated; the gate's clock is not reset, and the rotation completes instead of rolling
// back a healthy workload.
func TestRestartTargetAddedDuringTheGateIsRestarted(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "gated-app", false)
	w.deployment(t, "gated-extra", false)
	w.setSource(t, "gated", "gated-v1", w.pat(t, "gated", "gated-v1", false))
	create(t, w.tenantConnection("gated"))
	w.settled(t, "gated", "gated-v1")
	w.setBroken(t, "gated-app", true) // holds the gate open until the target is added
	w.setSource(t, "gated", "gated-v2", w.pat(t, "gated", "gated-v2", false))
	c := waitFor(t, w.ns, "gated", "the gate waiting", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationGating })
	since := c.Status.Rotation.PhaseSince
	updateConnection(t, w.ns, "gated", func(c *v1.TableauConnection) {
		c.Spec.Consumers.RestartTargets = append(c.Spec.Consumers.RestartTargets, v1.RestartTarget{Kind: "Deployment", Name: "gated-extra"})
	})
	eventually(t, 20*time.Second, "the added target restarted", func() (bool, string) {
		d := &appsv1.Deployment{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: "gated-extra"}, d); err != nil {
			return false, err.Error()
		}
		got := d.Spec.Template.Annotations[v1.AnnotationRestartedAt]
		return got != "" && got == get(t, w.ns, "gated").Status.Rotation.RestartedAt, got
	})
	if c := get(t, w.ns, "gated"); rotationPhase(c) == v1.RotationGating && !c.Status.Rotation.PhaseSince.Equal(&since) {
		t.Errorf("the edit reset the gate's clock: %s, was %s", c.Status.Rotation.PhaseSince, since)
	}
	w.setBroken(t, "gated-app", false)
	w.settled(t, "gated", "gated-v2")
	if c := get(t, w.ns, "gated"); c.Status.Rotation.FailedRevision != "" {
		t.Errorf("the rotation rolled back: %s", describe(c))
	}
}

// A secret a person made on the connected app in Tableau's UI, before the operator decided
// to create one, is never deleted as an orphan: automatic rotation stalls naming it.
func TestAutomaticRotationNeverDeletesASecretMadeInTableau(t *testing.T) {
	w := automaticTenants(t, nil, "ui")
	w.app(t, "ui", "client-ui", "ui-person") // made in Tableau's UI, given to no Secret
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "ui")
	c := waitFor(t, w.ns, "ui", "automatic rotation stalled on the person's secret", func(c *v1.TableauConnection) bool {
		a := c.Status.Rotation.Automatic
		return a != nil && a.Phase == "Stalled" && a.Reason == "ForeignSecret"
	})
	if msg := c.Status.Rotation.Automatic.Message; !strings.Contains(msg, `"ui-person"`) || !strings.Contains(msg, "Next step") {
		t.Errorf("Stalled says %q", msg)
	}
	if a := condition(c, v1.ConditionAutomaticRotation); a.Status != metav1.ConditionFalse || a.Reason != "ForeignSecret" {
		t.Errorf("AutomaticRotation = %+v", a)
	}
	time.Sleep(time.Second)
	if got := w.appSecretIDs(t, "ui"); !slices.Contains(got, "ui-person") || !slices.Contains(got, "ui-s1") {
		t.Errorf("the app holds %v, want the person's secret and the active one", got)
	}
	if !isReady(c) {
		t.Errorf("consumers hold a working secret, yet Ready is not True: %s", describe(c))
	}
	if err := w.consumerAppSignsIn(t, "ui"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// Switching rotation.automatic off keeps consumers on the secret the operator issued (the
// person's Secret still names the first one, which the operator retired on Tableau): no
// rejection, no halt. A new secret in the person's Secret is then rolled out as usual.
func TestTurningAutomaticRotationOffKeepsTheIssuedSecret(t *testing.T) {
	w := automaticTenants(t, nil, "off")
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "off")
	issued := w.automaticSettled(t, "off", "off-s1")
	updateConnection(t, w.ns, "off", func(c *v1.TableauConnection) { c.Spec.Rotation.Automatic = nil })
	c := waitFor(t, w.ns, "off", "automatic rotation off", func(c *v1.TableauConnection) bool { return c.Status.Rotation.Automatic == nil })
	time.Sleep(2 * time.Second)
	c = get(t, w.ns, "off")
	if rotationPhase(c) != v1.RotationIdle || c.Status.Rotation.FailedRevision != "" || !isReady(c) {
		t.Errorf("switching automatic rotation off disturbed the rotation: %s", describe(c))
	}
	if got := c.Status.Credentials.SecretID; got != issued {
		t.Errorf("the source is secret %s, want the issued %s", got, issued)
	}
	if got := string(w.consumer(t, "off").Data["secretId"]); got != issued {
		t.Errorf("consumers hold %s, want the issued %s", got, issued)
	}
	if err := w.consumerAppSignsIn(t, "off"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
	// The person gives a new secret: their Secret is the source again.
	value := w.app(t, "off", "client-off", "off-person")
	w.setAppSource(t, "off", "client-off", "off-person", value)
	w.appSettled(t, "off", "off-person")
}

// validation.adminSecretRef naming a Secret that holds the connection's own PAT (a copy under
// another name, which CEL cannot see) is refused in status before any sign-in with it: the
// expiry check would end every workload's session.
func TestAdminSecretHoldingTheConnectionsPATIsRefused(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "same-app", false)
	secret := w.pat(t, "same", "same-v1", false)
	w.setSource(t, "same", "same-v1", secret)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "same-admin", Namespace: w.ns, Labels: consent},
		Data: map[string][]byte{"tokenName": []byte("same-v1"), "tokenSecret": []byte(secret)}})
	create(t, w.tenantConnection("same", func(c *v1.TableauConnection) {
		c.Spec.Validation.AdminSecretRef = &v1.PATSecretReference{Name: "same-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}
	}))
	w.settled(t, "same", "same-v1")
	c := waitFor(t, w.ns, "same", "the expiry check refused", func(c *v1.TableauConnection) bool {
		return strings.HasPrefix(c.Status.Credentials.ExpiryCheckFailure, "AdminPATInUse")
	})
	if msg := c.Status.Credentials.ExpiryCheckFailure; !strings.Contains(msg, `"same-admin"`) || !strings.Contains(msg, "Next step") {
		t.Errorf("expiryCheckFailure = %q", msg)
	}
	waitForEvent(t, w.ns, "same", "Warning/AdminPATInUse")
	if err := w.consumerSignsIn(t, "same"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// The issued Secret pruned (Argo CD, a clean-up job) while the person's Secret still names
// the retired first secret: consumers keep the issued secret, nothing is rejected, and the
// next scheduled rotation issues a new one.
func TestPrunedIssuedSecretDoesNotBringBackTheRetiredSecret(t *testing.T) {
	w := automaticTenants(t, nil, "pruned")
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "pruned")
	issued := w.automaticSettled(t, "pruned", "pruned-s1")
	deleteSecret(t, w.ns, "pruned-tableau-issued")
	poke(t, w.ns, "pruned")
	time.Sleep(2 * time.Second)
	c := get(t, w.ns, "pruned")
	if rotationPhase(c) != v1.RotationIdle || c.Status.Rotation.FailedRevision != "" || !isReady(c) {
		t.Errorf("the pruned issued Secret disturbed the rotation: %s", describe(c))
	}
	if got := c.Status.Credentials.SecretID; got != issued {
		t.Errorf("the source is secret %s, want the issued %s", got, issued)
	}
	clockOffset.Add(int64(rotateEvery + time.Minute))
	poke(t, w.ns, "pruned")
	next := w.automaticSettled(t, "pruned", issued)
	if got := w.appSecretIDs(t, "pruned"); len(got) != 1 || got[0] != next {
		t.Errorf("the app holds %v, want only the new secret %s", got, next)
	}
}

// spec.auth switched from a PAT to a connected app while a PAT candidate waits in Promoting:
// the PAT candidate is never checked nor promoted, and the app's credential is rolled out.
func TestAuthSwitchedWhileACandidateWaitsInPromoting(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "switch-app", false)
	w.setSource(t, "switch", "switch-v1", w.pat(t, "switch", "switch-v1", false))
	create(t, w.tenantConnection("switch"))
	w.settled(t, "switch", "switch-v1")
	stopManager()
	var once sync.Once
	crashed := make(chan struct{})
	if err := startManager(func(phase string) error {
		if phase != v1.RotationPromoting {
			return nil
		}
		err := error(nil)
		once.Do(func() { err = controllers.ErrCrash; close(crashed) })
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.setSource(t, "switch", "switch-v2", w.pat(t, "switch", "switch-v2", false))
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("the rotation never reached Promoting")
	}
	stopManager()
	value := w.app(t, "switch", "client-switch", "switch-s1")
	w.setAppSource(t, "switch", "client-switch", "switch-s1", value)
	updateConnection(t, w.ns, "switch", appConnection)
	if err := startManager(nil); err != nil {
		t.Fatal(err)
	}
	w.appSettled(t, "switch", "switch-s1")
	if err := w.consumerAppSignsIn(t, "switch"); err != nil {
		t.Errorf("consumers cannot sign in with the connected app: %v", err)
	}
}

// A connection re-created over its retained consumer Secret (an Argo CD prune and sync, a
// restore) finds the source's PAT already validated there and does not sign in with it: that
// sign-in would end the session of every workload using it.
func TestRecreatedConnectionDoesNotSignInWithTheRetainedConsumersPAT(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "again2-app", false)
	w.setSource(t, "again2", "again2-v1", w.pat(t, "again2", "again2-v1", false))
	create(t, w.tenantConnection("again2"))
	w.settled(t, "again2", "again2-v1")
	if err := k8s.Delete(context.Background(), get(t, w.ns, "again2")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the connection gone", func() (bool, string) {
		err := k8s.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: "again2"}, &v1.TableauConnection{})
		return err != nil, ""
	})
	before, err := w.sim.PATState("again2", "again2-v1")
	if err != nil {
		t.Fatal(err)
	}
	create(t, w.tenantConnection("again2"))
	c := waitFor(t, w.ns, "again2", "Ready again", isReady)
	if s := condition(c, v1.ConditionSignedIn); s.Reason != v1.ReasonValidatedBefore {
		t.Errorf("SignedIn = %+v", s)
	}
	time.Sleep(time.Second)
	after, err := w.sim.PATState("again2", "again2-v1")
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastUsed.Equal(before.LastUsed) {
		t.Errorf("the re-created connection signed in with the PAT consumers hold: %+v -> %+v", before, after)
	}
	if err := w.consumerSignsIn(t, "again2"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// A connected app deleted in Tableau's UI: automatic rotation's call answers 404, and the
// operator validates the consumers' credential again (a JWT sign-in ends no one's session)
// instead of leaving Ready=True from an old record.
func TestConnectedAppDeletedOnTableauIsNotReady(t *testing.T) {
	w := automaticTenants(t, nil, "gone")
	if err := w.sim.DeleteConnectedApp("gone", "client-gone"); err != nil {
		t.Fatal(err)
	}
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "gone")
	c := waitFor(t, w.ns, "gone", "Ready=False after the app was deleted", func(c *v1.TableauConnection) bool {
		return condition(c, v1.ConditionReady).Status == metav1.ConditionFalse
	})
	if s := condition(c, v1.ConditionSignedIn); s.Status != metav1.ConditionFalse {
		t.Errorf("SignedIn = %+v, want False from the sign-in that failed", s)
	}
	if a := condition(c, v1.ConditionAutomaticRotation); a.Status != metav1.ConditionFalse {
		t.Errorf("AutomaticRotation = %+v", a)
	}
}

// The issued Secret pruned while its new secret is promoted and gated: the new secret, which
// the consumer Secret holds, is not discarded on Tableau; the rotation completes with it.
func TestIssuedSecretPrunedDuringTheGateKeepsThePromotedSecret(t *testing.T) {
	w := automaticTenants(t, func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: time.Minute}
	}, "midway")
	w.setBroken(t, "midway-app", true) // holds the gate open
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "midway")
	waitFor(t, w.ns, "midway", "the new secret gated", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationGating })
	promoted := string(w.consumer(t, "midway").Data["secretId"])
	deleteSecret(t, w.ns, "midway-tableau-issued")
	poke(t, w.ns, "midway")
	time.Sleep(2 * time.Second)
	if got := w.appSecretIDs(t, "midway"); !slices.Contains(got, promoted) {
		t.Fatalf("the app holds %v: the promoted secret %s the consumers hold was deleted", got, promoted)
	}
	w.setBroken(t, "midway-app", false)
	id := w.automaticSettled(t, "midway", "midway-s1")
	if id != promoted {
		t.Errorf("settled on secret %s, want the promoted %s", id, promoted)
	}
	if err := w.consumerAppSignsIn(t, "midway"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// With rotation.automatic off, a change of the person's source Secret that leaves its secret
// id alone (an annotation or label added by a person or Argo CD, the Secret re-created with
// the same content by a sync or a restore) is no new credential: the person's Secret still
// names the secret the operator retired on Tableau, and the issued secret stays the source.
func TestMetadataChangeOfThePersonsSecretKeepsTheIssuedSecret(t *testing.T) {
	w := automaticTenants(t, nil, "meta")
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "meta")
	issued := w.automaticSettled(t, "meta", "meta-s1")
	updateConnection(t, w.ns, "meta", func(c *v1.TableauConnection) { c.Spec.Rotation.Automatic = nil })
	waitFor(t, w.ns, "meta", "automatic rotation off", func(c *v1.TableauConnection) bool { return c.Status.Rotation.Automatic == nil })
	person := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "meta-source"}}
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/tracking-id":"tenants:/Secret:meta-source"}}}`)
	if err := k8s.Patch(context.Background(), person, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	poke(t, w.ns, "meta")
	time.Sleep(3 * time.Second)
	c := get(t, w.ns, "meta")
	if rotationPhase(c) != v1.RotationIdle || c.Status.Rotation.FailedRevision != "" || !isReady(c) {
		t.Errorf("an annotation on the person's Secret disturbed the rotation: %s", describe(c))
	}
	if got := c.Status.Credentials.SecretID; got != issued {
		t.Errorf("the source is secret %s, want the issued %s (the person's Secret names the retired meta-s1)", got, issued)
	}
	if got := string(w.consumer(t, "meta").Data["secretId"]); got != issued {
		t.Errorf("consumers hold %s, want the issued %s", got, issued)
	}
	// The person gives a new secret: their Secret is the source again.
	value := w.app(t, "meta", "client-meta", "meta-person")
	w.setAppSource(t, "meta", "client-meta", "meta-person", value)
	w.appSettled(t, "meta", "meta-person")
}

// A new connection whose first rollout waits (its restart target does not exist yet, as when
// Argo CD creates the Deployment after the connection) has not written the consumer Secret:
// sign-in works, but Ready must not say True while workloads that start now get nothing.
func TestFirstRolloutWaitingForATargetIsNotReady(t *testing.T) {
	w := newWorld(t)
	w.setSource(t, "early", "early-v1", w.pat(t, "early", "early-v1", false))
	create(t, w.tenantConnection("early"))
	c := waitFor(t, w.ns, "early", "the first rollout waits for its restart target", func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs != nil && rs.Reason == "RestartTargetMissing" && meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionSignedIn)
	})
	time.Sleep(time.Second)
	c = get(t, w.ns, "early")
	if secretExists(t, w.ns, "early-tableau") {
		t.Fatalf("the consumer Secret was written before its restart target exists: %s", describe(c))
	}
	if isReady(c) {
		t.Errorf("Ready=True while the consumer Secret does not exist: %s", describe(c))
	}
	if cr := condition(c, v1.ConditionConsumersReady); cr.Status != metav1.ConditionFalse {
		t.Errorf("ConsumersReady = %+v", cr)
	}
	// The Deployment arrives: the rollout completes and Ready turns True.
	w.deployment(t, "early-app", false)
	w.settled(t, "early", "early-v1")
	if c := get(t, w.ns, "early"); !isReady(c) {
		t.Errorf("Ready is not True after the first rollout: %s", describe(c))
	}
}

// A consumer Secret restored from an old backup (its content and the operator's annotations
// of then) holds a credential this connection never validated. The operator writes the active
// credential again; it never saves the restored one for rollback, so a rotation whose gate
// fails never rolls consumers back to it, nor records it as active, nor calls it Ready.
func TestConsumerSecretRestoredFromAnOldBackupIsNeverRolledBackTo(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "backup-app", false)
	w.setSource(t, "backup", "backup-v1", w.pat(t, "backup", "backup-v1", false))
	create(t, w.tenantConnection("backup", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	w.settled(t, "backup", "backup-v1")
	w.setBroken(t, "backup-app", true) // the next health gate fails
	old := w.consumer(t, "backup")
	old.Data = map[string][]byte{"tokenName": []byte("backup-v0"), "tokenSecret": []byte(w.pat(t, "backup", "backup-v0", true))}
	old.Annotations[v1.AnnotationRevision] = "0123456789ab" // what the backup's annotations said
	if err := k8s.Update(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c := get(t, w.ns, "backup")
		held := string(w.consumer(t, "backup").Data["tokenName"])
		if isReady(c) && strings.Contains(condition(c, v1.ConditionConsumersReady).Message, "0123456789ab") {
			t.Fatalf("Ready=True while the consumer Secret observed holds the restored, never validated revision: %s", describe(c))
		}
		if c.Status.Rotation.ActiveRevision == "0123456789ab" {
			t.Fatalf("the restored backup became the active revision: %s", describe(c))
		}
		if p := rotationPhase(c); (p == v1.RotationIdle || p == v1.RotationFailed) && held == "backup-v1" && c.Status.Rotation.ActiveRevision == c.Status.Credentials.Revision {
			if err := w.consumerSignsIn(t, "backup"); err != nil {
				t.Errorf("consumers cannot sign in: %v", err)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	c := get(t, w.ns, "backup")
	t.Fatalf("the consumer Secret holds %s after the rotation: %s", w.consumer(t, "backup").Data["tokenName"], describe(c))
}

// A secret id on the app longer than status can hold (a broken server or proxy; Tableau's are
// 36-character LUIDs) must not reach status, where the CRD's bounds would refuse every status
// write of the connection: automatic rotation reports it and deletes nothing; Ready stays
// about the consumers.
func TestOverlongSecretIDOnTheAppDoesNotWedgeStatus(t *testing.T) {
	w := automaticTenants(t, nil, "long")
	long := "long-" + strings.Repeat("x", 200)
	w.app(t, "long", "client-long", long)
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "long")
	c := waitFor(t, w.ns, "long", "automatic rotation reports the overlong id", func(c *v1.TableauConnection) bool {
		a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation)
		return a != nil && a.Status == metav1.ConditionFalse && c.Status.Rotation.Automatic.ConsecutiveFailures > 0
	})
	if a := c.Status.Rotation.Automatic; strings.Contains(a.Message, long) || len(a.HeldSecretIDs) != 0 {
		t.Errorf("the overlong id reached status: %+v", a)
	}
	if !isReady(c) {
		t.Errorf("consumers hold a working secret, yet Ready is not True: %s", describe(c))
	}
	if got := w.appSecretIDs(t, "long"); !slices.Contains(got, long) || !slices.Contains(got, "long-s1") {
		t.Errorf("the app holds %v", got)
	}
}
