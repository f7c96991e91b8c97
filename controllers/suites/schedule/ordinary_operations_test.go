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
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A secret a person made on the connected app in Tableau's UI, before the operator decided
// to create one, is never deleted as an orphan: automatic rotation stalls naming it.
func TestAutomaticRotationNeverDeletesASecretMadeInTableau(t *testing.T) {
	w := AutomaticTenants(t, nil, "ui")
	w.App(t, "ui", "client-ui", "ui-person") // made in Tableau's UI, given to no Secret
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "ui")
	c := WaitFor(t, w.NS, "ui", "automatic rotation stalled on the person's secret", func(c *v1.TableauConnection) bool {
		a := c.Status.Rotation.Automatic
		return a != nil && a.Phase == "Stalled" && a.Reason == "ForeignSecret"
	})
	if msg := c.Status.Rotation.Automatic.Message; !strings.Contains(msg, `"ui-person"`) || !strings.Contains(msg, "Next step") {
		t.Errorf("Stalled says %q", msg)
	}
	if a := Condition(c, v1.ConditionAutomaticRotation); a.Status != metav1.ConditionFalse || a.Reason != "ForeignSecret" {
		t.Errorf("AutomaticRotation = %+v", a)
	}
	time.Sleep(time.Second)
	if got := w.AppSecretIDs(t, "ui"); !slices.Contains(got, "ui-person") || !slices.Contains(got, "ui-s1") {
		t.Errorf("the app holds %v, want the person's secret and the active one", got)
	}
	if !IsReady(c) {
		t.Errorf("consumers hold a working secret, yet Ready is not True: %s", Describe(c))
	}
	if err := w.ConsumerAppSignsIn(t, "ui"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// Switching rotation.automatic off keeps consumers on the secret the operator issued (the
// person's Secret still names the first one, which the operator retired on Tableau): no
// rejection, no halt. A new secret in the person's Secret is then rolled out as usual.
func TestTurningAutomaticRotationOffKeepsTheIssuedSecret(t *testing.T) {
	w := AutomaticTenants(t, nil, "off")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "off")
	issued := w.AutomaticSettled(t, "off", "off-s1")
	UpdateConnection(t, w.NS, "off", func(c *v1.TableauConnection) { c.Spec.Rotation.Automatic = nil })
	c := WaitFor(t, w.NS, "off", "automatic rotation off", func(c *v1.TableauConnection) bool { return c.Status.Rotation.Automatic == nil })
	time.Sleep(2 * time.Second)
	c = Get(t, w.NS, "off")
	if RotationPhase(c) != v1.RotationIdle || c.Status.Rotation.FailedRevision != "" || !IsReady(c) {
		t.Errorf("switching automatic rotation off disturbed the rotation: %s", Describe(c))
	}
	if got := c.Status.Credentials.SecretID; got != issued {
		t.Errorf("the source is secret %s, want the issued %s", got, issued)
	}
	if got := string(w.Consumer(t, "off").Data["secretId"]); got != issued {
		t.Errorf("consumers hold %s, want the issued %s", got, issued)
	}
	if err := w.ConsumerAppSignsIn(t, "off"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
	// The person gives a new secret: their Secret is the source again.
	value := w.App(t, "off", "client-off", "off-person")
	w.SetAppSource(t, "off", "client-off", "off-person", value)
	w.AppSettled(t, "off", "off-person")
}

// The issued Secret pruned (Argo CD, a clean-up job) while the person's Secret still names
// the retired first secret: consumers keep the issued secret, nothing is rejected, and the
// next scheduled rotation issues a new one.
func TestPrunedIssuedSecretDoesNotBringBackTheRetiredSecret(t *testing.T) {
	w := AutomaticTenants(t, nil, "pruned")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "pruned")
	issued := w.AutomaticSettled(t, "pruned", "pruned-s1")
	DeleteSecret(t, w.NS, "pruned-tableau-issued")
	Poke(t, w.NS, "pruned")
	time.Sleep(2 * time.Second)
	c := Get(t, w.NS, "pruned")
	if RotationPhase(c) != v1.RotationIdle || c.Status.Rotation.FailedRevision != "" || !IsReady(c) {
		t.Errorf("the pruned issued Secret disturbed the rotation: %s", Describe(c))
	}
	if got := c.Status.Credentials.SecretID; got != issued {
		t.Errorf("the source is secret %s, want the issued %s", got, issued)
	}
	Current().Clock.Advance(RotateEvery + time.Minute)
	Poke(t, w.NS, "pruned")
	next := w.AutomaticSettled(t, "pruned", issued)
	if got := w.AppSecretIDs(t, "pruned"); len(got) != 1 || got[0] != next {
		t.Errorf("the app holds %v, want only the new secret %s", got, next)
	}
}

// A connected app deleted in Tableau's UI: automatic rotation's call answers 404, and the
// operator validates the consumers' credential again (a JWT sign-in ends no one's session)
// instead of leaving Ready=True from an old record.
func TestConnectedAppDeletedOnTableauIsNotReady(t *testing.T) {
	w := AutomaticTenants(t, nil, "gone")
	if err := w.Sim.DeleteConnectedApp("gone", "client-gone"); err != nil {
		t.Fatal(err)
	}
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "gone")
	c := WaitFor(t, w.NS, "gone", "Ready=False after the app was deleted", func(c *v1.TableauConnection) bool {
		return Condition(c, v1.ConditionReady).Status == metav1.ConditionFalse
	})
	if s := Condition(c, v1.ConditionSignedIn); s.Status != metav1.ConditionFalse {
		t.Errorf("SignedIn = %+v, want False from the sign-in that failed", s)
	}
	if a := Condition(c, v1.ConditionAutomaticRotation); a.Status != metav1.ConditionFalse {
		t.Errorf("AutomaticRotation = %+v", a)
	}
}

// The issued Secret pruned while its new secret is promoted and gated: the new secret, which
// the consumer Secret holds, is not discarded on Tableau; the rotation completes with it.
func TestIssuedSecretPrunedDuringTheGateKeepsThePromotedSecret(t *testing.T) {
	w := AutomaticTenants(t, func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: time.Minute}
	}, "midway")
	w.SetBroken(t, "midway-app", true) // holds the gate open
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "midway")
	WaitFor(t, w.NS, "midway", "the new secret gated", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationGating })
	promoted := string(w.Consumer(t, "midway").Data["secretId"])
	DeleteSecret(t, w.NS, "midway-tableau-issued")
	Poke(t, w.NS, "midway")
	time.Sleep(2 * time.Second)
	if got := w.AppSecretIDs(t, "midway"); !slices.Contains(got, promoted) {
		t.Fatalf("the app holds %v: the promoted secret %s the consumers hold was deleted", got, promoted)
	}
	w.SetBroken(t, "midway-app", false)
	id := w.AutomaticSettled(t, "midway", "midway-s1")
	if id != promoted {
		t.Errorf("settled on secret %s, want the promoted %s", id, promoted)
	}
	if err := w.ConsumerAppSignsIn(t, "midway"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// With rotation.automatic off, a change of the person's source Secret that leaves its secret
// id alone (an annotation or label added by a person or Argo CD, the Secret re-created with
// the same content by a sync or a restore) is no new credential: the person's Secret still
// names the secret the operator retired on Tableau, and the issued secret stays the source.
func TestMetadataChangeOfThePersonsSecretKeepsTheIssuedSecret(t *testing.T) {
	w := AutomaticTenants(t, nil, "meta")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "meta")
	issued := w.AutomaticSettled(t, "meta", "meta-s1")
	UpdateConnection(t, w.NS, "meta", func(c *v1.TableauConnection) { c.Spec.Rotation.Automatic = nil })
	WaitFor(t, w.NS, "meta", "automatic rotation off", func(c *v1.TableauConnection) bool { return c.Status.Rotation.Automatic == nil })
	person := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.NS, Name: "meta-source"}}
	patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/tracking-id":"tenants:/Secret:meta-source"}}}`)
	if err := K8s().Patch(context.Background(), person, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	Poke(t, w.NS, "meta")
	time.Sleep(3 * time.Second)
	c := Get(t, w.NS, "meta")
	if RotationPhase(c) != v1.RotationIdle || c.Status.Rotation.FailedRevision != "" || !IsReady(c) {
		t.Errorf("an annotation on the person's Secret disturbed the rotation: %s", Describe(c))
	}
	if got := c.Status.Credentials.SecretID; got != issued {
		t.Errorf("the source is secret %s, want the issued %s (the person's Secret names the retired meta-s1)", got, issued)
	}
	if got := string(w.Consumer(t, "meta").Data["secretId"]); got != issued {
		t.Errorf("consumers hold %s, want the issued %s", got, issued)
	}
	// The person gives a new secret: their Secret is the source again.
	value := w.App(t, "meta", "client-meta", "meta-person")
	w.SetAppSource(t, "meta", "client-meta", "meta-person", value)
	w.AppSettled(t, "meta", "meta-person")
}

// A secret id on the app longer than status can hold (a broken server or proxy; Tableau's are
// 36-character LUIDs) must not reach status, where the CRD's bounds would refuse every status
// write of the connection: automatic rotation reports it and deletes nothing; Ready stays
// about the consumers.
func TestOverlongSecretIDOnTheAppDoesNotWedgeStatus(t *testing.T) {
	w := AutomaticTenants(t, nil, "long")
	long := "long-" + strings.Repeat("x", 200)
	w.App(t, "long", "client-long", long)
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "long")
	c := WaitFor(t, w.NS, "long", "automatic rotation reports the overlong id", func(c *v1.TableauConnection) bool {
		a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation)
		return a != nil && a.Status == metav1.ConditionFalse && c.Status.Rotation.Automatic.ConsecutiveFailures > 0
	})
	if a := c.Status.Rotation.Automatic; strings.Contains(a.Message, long) || len(a.HeldSecretIDs) != 0 {
		t.Errorf("the overlong id reached status: %+v", a)
	}
	if !IsReady(c) {
		t.Errorf("consumers hold a working secret, yet Ready is not True: %s", Describe(c))
	}
	if got := w.AppSecretIDs(t, "long"); !slices.Contains(got, long) || !slices.Contains(got, "long-s1") {
		t.Errorf("the app holds %v", got)
	}
}
