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
	"strings"
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

func TestAutomaticRotationOfAFleetDeletesEachOldSecretAfterItsGate(t *testing.T) {
	names := []string{"auto-a", "auto-b", "auto-c"}
	w := AutomaticTenants(t, nil, names...)
	for _, n := range names {
		c := Get(t, w.NS, n)
		if msg := c.Status.Rotation.Automatic.Message; !strings.Contains(msg, "used only by the operator") {
			t.Errorf("%s: status does not say the admin PAT is the operator's alone: %q", n, msg)
		}
	}
	// Watch: an old secret disappears from the simulator only once its tenant's consumers
	// hold the new one, and never two tenants rotate at once.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var violations []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			rotating := 0
			for _, n := range names {
				ids, _ := w.Sim.ConnectedAppSecretIDs(n, "client-"+n)
				var cons corev1.Secret
				if err := K8s().Get(ctx, client.ObjectKey{Namespace: w.NS, Name: n + "-tableau"}, &cons); err == nil &&
					!slices.Contains(ids, n+"-s1") && string(cons.Data["secretId"]) == n+"-s1" {
					mu.Lock()
					violations = append(violations, n+": the old secret was deleted while consumers still held it")
					mu.Unlock()
				}
				var c v1.TableauConnection
				if err := K8s().Get(ctx, client.ObjectKey{Namespace: w.NS, Name: n}, &c); err == nil && c.Status.Rotation != nil {
					switch c.Status.Rotation.Phase {
					case v1.RotationPromoting, v1.RotationRestarting, v1.RotationGating, v1.RotationRollingBack:
						rotating++
						if !slices.Contains(ids, n+"-s1") {
							mu.Lock()
							violations = append(violations, n+": the old secret was deleted before the gate passed ("+c.Status.Rotation.Phase+")")
							mu.Unlock()
						}
					}
				}
			}
			if rotating > 1 {
				mu.Lock()
				violations = append(violations, "two tenants rotated at once")
				mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	for _, n := range names {
		Poke(t, w.NS, n)
	}
	for _, n := range names {
		id := w.AutomaticSettled(t, n, n+"-s1")
		if got := w.AppSecretIDs(t, n); len(got) != 1 || got[0] != id {
			t.Errorf("%s: the app holds %v, want only the new secret %s", n, got, id)
		}
		if err := w.ConsumerAppSignsIn(t, n); err != nil {
			t.Errorf("%s: consumers cannot sign in with the new secret: %v", n, err)
		}
	}
	cancel()
	wg.Wait()
	for _, v := range violations {
		t.Error(v)
	}
}

func TestAutomaticRotationGateFailureDeletesTheNewSecretAndKeepsTheOld(t *testing.T) {
	w := AutomaticTenants(t, func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}, "gate")
	w.SetBroken(t, "gate-app", true)
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "gate")
	WaitFor(t, w.NS, "gate", "a rollback that discards the new secret", func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs.Automatic != nil && rs.Automatic.Phase == "Idle" && rs.Automatic.LastCreateTime != nil && rs.Phase == v1.RotationIdle
	})
	if got := w.AppSecretIDs(t, "gate"); len(got) != 1 || got[0] != "gate-s1" {
		t.Errorf("the app holds %v, want only the old secret gate-s1", got)
	}
	if got := string(w.Consumer(t, "gate").Data["secretId"]); got != "gate-s1" {
		t.Errorf("consumers hold %s, want the old secret gate-s1", got)
	}
	if err := w.ConsumerAppSignsIn(t, "gate"); err != nil {
		t.Errorf("consumers cannot sign in after the rollback: %v", err)
	}
}

func TestAutomaticRotationStopsAtTheSecretLimitAndNeverDeletesTheActiveSecret(t *testing.T) {
	w := AutomaticTenants(t, nil, "full")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "full")
	active := w.AutomaticSettled(t, "full", "full-s1")
	// A person creates a second secret on the app and puts it in the source Secret: it is
	// theirs, not an orphan, and the app is full.
	value := w.App(t, "full", "client-full", "full-person")
	w.SetAppSource(t, "full", "client-full", "full-person", value)
	Current().Clock.Advance(RotateEvery + time.Minute)
	Poke(t, w.NS, "full")
	c := WaitFor(t, w.NS, "full", "Stalled at the secret limit", func(c *v1.TableauConnection) bool {
		a := c.Status.Rotation.Automatic
		return a != nil && a.Phase == "Stalled"
	})
	if msg := c.Status.Rotation.Automatic.Message; !strings.Contains(msg, "error 128") || !strings.Contains(msg, "never deletes the active one") {
		t.Errorf("Stalled says %q", msg)
	}
	if got := w.AppSecretIDs(t, "full"); !slices.Equal(got, []string{active, "full-person"}) && !slices.Equal(got, []string{"full-person", active}) {
		t.Errorf("the app holds %v, want the active %s and the person's secret", got, active)
	}
	if err := w.ConsumerAppSignsIn(t, "full"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// Throttling of the create call is reported on the AutomaticRotation condition, retried with
// backoff that honours Retry-After, never stalls the connection, and the rotation completes
// once Tableau answers again.
func TestAutomaticRotationThrottledCreateRetriesOnItsConditionAndCompletes(t *testing.T) {
	w := AutomaticTenants(t, nil, "throttled")
	if c := meta.FindStatusCondition(Get(t, w.NS, "throttled").Status.Conditions, v1.ConditionAutomaticRotation); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("AutomaticRotation before the rotation = %+v, want True", c)
	}
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitXML, Endpoint: "connected-apps/secrets", RetryAfter: "1"})
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "throttled")
	c := WaitFor(t, w.NS, "throttled", "AutomaticRotation False after repeated throttling", func(c *v1.TableauConnection) bool {
		a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation)
		return a != nil && a.Status == metav1.ConditionFalse && c.Status.Rotation.Automatic.ConsecutiveFailures >= 2
	})
	a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation)
	if a.Reason != "RateLimited" || !strings.Contains(a.Message, "Retrying with backoff") || !strings.Contains(a.Message, "Next step") {
		t.Errorf("AutomaticRotation = %s: %s", a.Reason, a.Message)
	}
	if st := c.Status.Rotation.Automatic; st.NextAttemptTime == nil {
		t.Error("status.rotation.automatic.nextAttemptTime is not set")
	}
	if !meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady) || meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionStalled) {
		t.Errorf("throttling of the automatic rotation changed Ready/Stalled: %s", Describe(c))
	}
	w.Sim.ClearFaults()
	id := w.AutomaticSettled(t, "throttled", "throttled-s1")
	c = Get(t, w.NS, "throttled")
	if a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation); a == nil || a.Status != metav1.ConditionTrue ||
		c.Status.Rotation.Automatic.ConsecutiveFailures != 0 {
		t.Errorf("after recovery AutomaticRotation = %+v, failures %d", a, c.Status.Rotation.Automatic.ConsecutiveFailures)
	}
	if got := w.AppSecretIDs(t, "throttled"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want only the new secret %s", got, id)
	}
}

// The automatic rotation's write of the -issued Secret, refused because the namespace's Secret
// quota is used up, reaches WritesAccepted and counts on from one reconcile to the next (the
// settled bundle rotation, which runs first, does not clear it); once the quota allows the
// write the rotation completes.
func TestAutomaticRotationRefusedIssuedWriteReachesStatus(t *testing.T) {
	w := AutomaticTenants(t, nil, "capped")
	q := SecretQuotaUsedUp(t, w.NS)
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "capped")
	c := WaitFor(t, w.NS, "capped", "the refused -issued write on WritesAccepted, twice in a row", func(c *v1.TableauConnection) bool {
		wa := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionWritesAccepted)
		rw := c.Status.RefusedWrite
		return wa != nil && wa.Status == metav1.ConditionFalse && wa.Reason == v1.ReasonWriteQuotaExceeded && rw != nil && rw.Consecutive >= 2
	})
	if rw := c.Status.RefusedWrite; rw.Verb != "create" || rw.Name != "capped-tableau-issued" {
		t.Errorf("refusedWrite = %+v, want the create of capped-tableau-issued", rw)
	}
	if err := K8s().Delete(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	w.AutomaticSettled(t, "capped", "capped-s1")
	c = Get(t, w.NS, "capped")
	if wa := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionWritesAccepted); wa == nil || wa.Status != metav1.ConditionTrue || c.Status.RefusedWrite != nil {
		t.Errorf("after the quota went: WritesAccepted = %+v, refusedWrite = %+v", wa, c.Status.RefusedWrite)
	}
}
