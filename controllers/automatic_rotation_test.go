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
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const rotateEvery = time.Hour

// automaticTenants makes connected-app tenants that rotate their secret every hour, each
// with a site administrator's PAT for the operator, published to their consumers.
func automaticTenants(t *testing.T, mutate func(*v1.TableauConnection), names ...string) *world {
	t.Helper()
	w := newWorld(t)
	newFleet(t, w.ns)
	for _, n := range names {
		w.deployment(t, n+"-app", false)
		value := w.app(t, n, "client-"+n, n+"-s1")
		w.setAppSource(t, n, "client-"+n, n+"-s1", value)
		adminSecret := randomSecret()
		secrets.add(adminSecret)
		if err := w.sim.AddPAT(n, tableausim.PAT{Name: n + "-admin", Secret: adminSecret, SiteRole: "SiteAdministratorCreator",
			Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n + "-admin", Namespace: w.ns, Labels: consent},
			Data: map[string][]byte{"tokenName": []byte(n + "-admin"), "tokenSecret": []byte(adminSecret)}})
		create(t, w.tenantConnection(n, appConnection, func(c *v1.TableauConnection) {
			c.Spec.Rotation.Automatic = &v1.AutomaticRotation{Every: metav1.Duration{Duration: rotateEvery},
				AdminSecretRef: v1.PATSecretReference{Name: n + "-admin", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}
			if mutate != nil {
				mutate(c)
			}
		}))
	}
	for _, n := range names {
		w.appSettled(t, n, n+"-s1")
	}
	return w
}

// poke makes the operator look at a connection now (the clock moved).
func poke(t *testing.T, ns, name string) {
	t.Helper()
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"test/poke":"%d"}}}`, time.Now().UnixNano())
	if err := k8s.Patch(context.Background(), c, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

func (w *world) appSecretIDs(t *testing.T, name string) []string {
	t.Helper()
	ids, err := w.sim.ConnectedAppSecretIDs(name, "client-"+name)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// automaticSettled waits until a tenant's automatic rotation is idle with a secret other than
// old active, and returns that secret's id.
func (w *world) automaticSettled(t *testing.T, name, old string) string {
	t.Helper()
	c := waitFor(t, w.ns, name, name+" rotated away from "+old, func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs != nil && rs.Phase == v1.RotationIdle && rs.Automatic != nil && rs.Automatic.Phase == "Idle" &&
			c.Status.Credentials.SecretID != old && c.Status.Credentials.SecretID != "" && rs.ActiveRevision == c.Status.Credentials.Revision
	})
	// The value the simulator created is a secret the scan must not find anywhere.
	secrets.add(string(w.consumer(t, name).Data["secretValue"]))
	return c.Status.Credentials.SecretID
}

func TestAutomaticRotationOfAFleetDeletesEachOldSecretAfterItsGate(t *testing.T) {
	names := []string{"auto-a", "auto-b", "auto-c"}
	w := automaticTenants(t, nil, names...)
	for _, n := range names {
		c := get(t, w.ns, n)
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
				ids, _ := w.sim.ConnectedAppSecretIDs(n, "client-"+n)
				var cons corev1.Secret
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: n + "-tableau"}, &cons); err == nil &&
					!slices.Contains(ids, n+"-s1") && string(cons.Data["secretId"]) == n+"-s1" {
					mu.Lock()
					violations = append(violations, n+": the old secret was deleted while consumers still held it")
					mu.Unlock()
				}
				var c v1.TableauConnection
				if err := k8s.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: n}, &c); err == nil && c.Status.Rotation != nil {
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
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	for _, n := range names {
		poke(t, w.ns, n)
	}
	for _, n := range names {
		id := w.automaticSettled(t, n, n+"-s1")
		if got := w.appSecretIDs(t, n); len(got) != 1 || got[0] != id {
			t.Errorf("%s: the app holds %v, want only the new secret %s", n, got, id)
		}
		if err := w.consumerAppSignsIn(t, n); err != nil {
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
	w := automaticTenants(t, func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}, "gate")
	w.setBroken(t, "gate-app", true)
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "gate")
	waitFor(t, w.ns, "gate", "a rollback that discards the new secret", func(c *v1.TableauConnection) bool {
		rs := c.Status.Rotation
		return rs.Automatic != nil && rs.Automatic.Phase == "Idle" && rs.Automatic.LastCreateTime != nil && rs.Phase == v1.RotationIdle
	})
	if got := w.appSecretIDs(t, "gate"); len(got) != 1 || got[0] != "gate-s1" {
		t.Errorf("the app holds %v, want only the old secret gate-s1", got)
	}
	if got := string(w.consumer(t, "gate").Data["secretId"]); got != "gate-s1" {
		t.Errorf("consumers hold %s, want the old secret gate-s1", got)
	}
	if err := w.consumerAppSignsIn(t, "gate"); err != nil {
		t.Errorf("consumers cannot sign in after the rollback: %v", err)
	}
}

func TestAutomaticRotationSurvivesACrashRightAfterTheCreate(t *testing.T) {
	w := automaticTenants(t, nil, "crash")
	stopManager()
	var once sync.Once
	crashed := make(chan struct{})
	if err := startManager(func(phase string) error {
		if phase != controllers.CrashAfterSecretCreated {
			return nil
		}
		err := error(nil)
		once.Do(func() { err = controllers.ErrCrash; close(crashed) })
		return err
	}); err != nil {
		t.Fatal(err)
	}
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "crash")
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("the operator never created a secret")
	}
	// Killed right after the create: the app holds an orphan no one was given.
	stopManager()
	if got := w.appSecretIDs(t, "crash"); len(got) != 2 {
		t.Fatalf("after the crash the app holds %v, want the old secret and the orphan", got)
	}
	if err := startManager(nil); err != nil {
		t.Fatal(err)
	}
	poke(t, w.ns, "crash")
	id := w.automaticSettled(t, "crash", "crash-s1")
	if got := w.appSecretIDs(t, "crash"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want exactly one secret, %s", got, id)
	}
	if err := w.consumerAppSignsIn(t, "crash"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

func TestAutomaticRotationStopsAtTheSecretLimitAndNeverDeletesTheActiveSecret(t *testing.T) {
	w := automaticTenants(t, nil, "full")
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "full")
	active := w.automaticSettled(t, "full", "full-s1")
	// A person creates a second secret on the app and puts it in the source Secret: it is
	// theirs, not an orphan, and the app is full.
	value := w.app(t, "full", "client-full", "full-person")
	w.setAppSource(t, "full", "client-full", "full-person", value)
	clockOffset.Add(int64(rotateEvery + time.Minute))
	poke(t, w.ns, "full")
	c := waitFor(t, w.ns, "full", "Stalled at the secret limit", func(c *v1.TableauConnection) bool {
		a := c.Status.Rotation.Automatic
		return a != nil && a.Phase == "Stalled"
	})
	if msg := c.Status.Rotation.Automatic.Message; !strings.Contains(msg, "error 128") || !strings.Contains(msg, "never deletes the active one") {
		t.Errorf("Stalled says %q", msg)
	}
	if got := w.appSecretIDs(t, "full"); !slices.Equal(got, []string{active, "full-person"}) && !slices.Equal(got, []string{"full-person", active}) {
		t.Errorf("the app holds %v, want the active %s and the person's secret", got, active)
	}
	if err := w.consumerAppSignsIn(t, "full"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// Throttling of the create call is reported on the AutomaticRotation condition, retried with
// backoff that honours Retry-After, never stalls the connection, and the rotation completes
// once Tableau answers again.
func TestAutomaticRotationThrottledCreateRetriesOnItsConditionAndCompletes(t *testing.T) {
	w := automaticTenants(t, nil, "throttled")
	if c := meta.FindStatusCondition(get(t, w.ns, "throttled").Status.Conditions, v1.ConditionAutomaticRotation); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("AutomaticRotation before the rotation = %+v, want True", c)
	}
	w.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitXML, Endpoint: "connected-apps/secrets", RetryAfter: "1"})
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "throttled")
	c := waitFor(t, w.ns, "throttled", "AutomaticRotation False after repeated throttling", func(c *v1.TableauConnection) bool {
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
		t.Errorf("throttling of the automatic rotation changed Ready/Stalled: %s", describe(c))
	}
	w.sim.ClearFaults()
	id := w.automaticSettled(t, "throttled", "throttled-s1")
	c = get(t, w.ns, "throttled")
	if a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation); a == nil || a.Status != metav1.ConditionTrue ||
		c.Status.Rotation.Automatic.ConsecutiveFailures != 0 {
		t.Errorf("after recovery AutomaticRotation = %+v, failures %d", a, c.Status.Rotation.Automatic.ConsecutiveFailures)
	}
	if got := w.appSecretIDs(t, "throttled"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want only the new secret %s", got, id)
	}
}

// The automatic rotation's write of the -issued Secret, refused because the namespace's Secret
// quota is used up, reaches WritesAccepted and counts on from one reconcile to the next (the
// settled bundle rotation, which runs first, does not clear it); once the quota allows the
// write the rotation completes.
func TestAutomaticRotationRefusedIssuedWriteReachesStatus(t *testing.T) {
	w := automaticTenants(t, nil, "capped")
	q := secretQuotaUsedUp(t, w.ns)
	clockOffset.Add(int64(rotateEvery + time.Minute))
	t.Cleanup(func() { clockOffset.Store(0) })
	poke(t, w.ns, "capped")
	c := waitFor(t, w.ns, "capped", "the refused -issued write on WritesAccepted, twice in a row", func(c *v1.TableauConnection) bool {
		wa := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionWritesAccepted)
		rw := c.Status.RefusedWrite
		return wa != nil && wa.Status == metav1.ConditionFalse && wa.Reason == v1.ReasonWriteQuotaExceeded && rw != nil && rw.Consecutive >= 2
	})
	if rw := c.Status.RefusedWrite; rw.Verb != "create" || rw.Name != "capped-tableau-issued" {
		t.Errorf("refusedWrite = %+v, want the create of capped-tableau-issued", rw)
	}
	if err := k8s.Delete(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	w.automaticSettled(t, "capped", "capped-s1")
	c = get(t, w.ns, "capped")
	if wa := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionWritesAccepted); wa == nil || wa.Status != metav1.ConditionTrue || c.Status.RefusedWrite != nil {
		t.Errorf("after the quota went: WritesAccepted = %+v, refusedWrite = %+v", wa, c.Status.RefusedWrite)
	}
}
