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

package callgate

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// The counts of calls per 10 s window that the README's storms claim are derived on a fake
// clock in internal/gatedclient (storms_test.go: the simulator, the gate and a reconcile loop
// on one clock). The tests here are one end-to-end smoke test per fault: short storms on the
// real clock that assert what the operator ends with (it holds back, status records the gate,
// the rotation completes), never how many calls fell in a window of real time.

// validationOnly is a tenant connection without consumers: validation alone.
func validationOnly(c *v1.TableauConnection) { c.Labels, c.Spec.Consumers = nil, nil }

// A status write that fails (a webhook, a conflict storm, the API server down) never turns
// into a sign-in loop: the gate holds the failed sign-in's next attempt in memory. Before
// the gate, controller-runtime's error retries signed in again and again (12 sign-ins in
// 20 s with a PAT, each ending its consumers' sessions). The writes fail from the first
// sign-in on: the claim written before it goes through (no claim, no sign-in), the verdict's
// write after it does not. Once status can be written it shows the gate memory kept. The
// counts over time are TestFailedStatusWritesStormOnAFakeClock's (internal/gatedclient).
func TestFailedStatusWritesNeverLoopSignIns(t *testing.T) {
	t.Parallel() // touches no shared clock, manager or fault: runs beside the other parallel tests
	w := NewWorld(t)
	w.SetSource(t, "nowrite", "nowrite-v1", w.Pat(t, "nowrite", "nowrite-v1", true))
	Current().StatusFaults.FailAfter(w.NS, func() bool { return w.Sim.Calls("auth/signin") >= 1 })
	t.Cleanup(func() { Current().StatusFaults.Set(w.NS, false) })
	refusedBefore := Current().StatusFaults.Count()
	heldSignIns := map[string]string{"class": "signin", "decision": "held"}
	heldBefore := CounterValue(t, "tableau_operator_gate_calls_total", heldSignIns)
	Create(t, w.TenantConnection("nowrite", validationOnly))
	Eventually(t, 30*time.Second, "the first sign-in", func() (bool, string) { return w.Sim.Calls("auth/signin") >= 1, "" })
	// The operator retries the refused writes; the metric shows the gate at work: the
	// retries' sign-ins were held back.
	Eventually(t, 30*time.Second, "three refused status writes and two sign-ins held back", func() (bool, string) {
		refused := Current().StatusFaults.Count() - refusedBefore
		held := CounterValue(t, "tableau_operator_gate_calls_total", heldSignIns) - heldBefore
		return refused >= 3 && held >= 2, fmt.Sprintf("%d refused, %v held", refused, held)
	})
	if n := w.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("%d sign-ins through the retries of refused status writes, want 1", n)
	}
	Current().StatusFaults.Set(w.NS, false)
	Poke(t, w.NS, "nowrite")
	c := WaitFor(t, w.NS, "nowrite", "the failure recorded once status can be written", ReadyReason("SignInRejected"))
	if n := w.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("%d sign-ins after status could be written again, want still 1", n)
	}
	// Status shows the hold memory kept, so a process that starts now keeps it too.
	c = WaitFor(t, w.NS, "nowrite", "status.callGate holding sign-ins", func(c *v1.TableauConnection) bool {
		g := c.Status.CallGate
		return g != nil && slices.ContainsFunc(g.Holds, func(h v1.CallGateHold) bool { return h.Class == "signin" })
	})
	i := slices.IndexFunc(c.Status.CallGate.Holds, func(h v1.CallGateHold) bool { return h.Class == "signin" })
	if f := c.Status.LastFailure; f == nil || f.NextAttemptTime == nil || c.Status.CallGate.Holds[i].Until.Before(f.NextAttemptTime) {
		t.Errorf("status.callGate %+v does not hold sign-ins until lastFailure.nextAttemptTime (%+v)", c.Status.CallGate, f)
	}
}

// Every string from Tableau or the network is bounded where it is decoded: an answer with a
// 900 KB code, summary, detail, request id or HTML title is recorded in status, and the one
// sign-in is not repeated by the next reconcile.
func TestOversizedAnswersAreRecordedOnce(t *testing.T) {
	t.Parallel() // touches no shared clock, manager or fault: runs beside the other parallel tests
	for _, field := range []string{"code", "summary", "detail", "requestId", "title"} {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			w := NewWorld(t)
			w.SetSource(t, "big", "big-v1", w.Pat(t, "big", "big-v1", false))
			w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultOversized, Endpoint: "auth/signin", Field: field, Size: 900_000})
			Create(t, w.TenantConnection("big", validationOnly))
			c := WaitFor(t, w.NS, "big", "the failure recorded", func(c *v1.TableauConnection) bool {
				return c.Status.LastFailure != nil && c.Status.ObservedGeneration == c.Generation
			})
			f := c.Status.LastFailure
			for name, v := range map[string]string{"tableauCode": f.TableauCode, "summary": f.Summary, "detail": f.Detail, "requestID": f.RequestID, "message": f.Message} {
				if len(v) > 2048 {
					t.Errorf("lastFailure.%s holds %d bytes", name, len(v))
				}
			}
			for _, cond := range c.Status.Conditions {
				if len(cond.Message) > 4096 {
					t.Errorf("condition %s message holds %d bytes", cond.Type, len(cond.Message))
				}
			}
			ReconciledAgain(t, w.NS, "big", func() { Poke(t, w.NS, "big") })
			if n := w.Sim.Calls("auth/signin"); n != 1 {
				t.Errorf("%d sign-ins, want 1", n)
			}
		})
	}
}

// Automatic rotation honours Retry-After whatever triggers a reconcile: with the secrets
// endpoint answering 429 with Retry-After: 300, reconciles that annotations trigger (as fleet
// status changes or Secret events would) make no admin sign-in and no call, status records
// the gate, and the rotation completes once Retry-After has passed. Before the gate: 6 calls
// and 11 admin sign-ins in about 10 s. TestRetryAfterOnAFakeClock (internal/gatedclient)
// pins the 300 s.
func TestAutomaticRotationHonoursRetryAfterWhateverTriggersAReconcile(t *testing.T) {
	w := AutomaticTenants(t, nil, "ra")
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: "connected-apps/secrets", RetryAfter: "300"})
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "ra")
	c := WaitFor(t, w.NS, "ra", "the gate closed by the 429", func(c *v1.TableauConnection) bool {
		g := c.Status.CallGate
		return g != nil && g.NotBefore != nil && g.NotBefore.Sub(Current().Clock.Now()) > 250*time.Second
	})
	if g := c.Status.CallGate; g.Endpoint != "secrets/create" || g.ConsecutiveFailures != 1 {
		t.Errorf("callGate = %+v", g)
	}
	signIns, secretCalls := w.Sim.Calls("auth/signin"), w.Sim.Calls("connected-apps/secrets")
	for i := 0; i < 3; i++ {
		ReconciledAgain(t, w.NS, "ra", func() { Poke(t, w.NS, "ra") })
	}
	if n := w.Sim.Calls("auth/signin") - signIns; n != 0 {
		t.Errorf("%d sign-ins during Retry-After", n)
	}
	if n := w.Sim.Calls("connected-apps/secrets") - secretCalls; n != 0 {
		t.Errorf("%d calls of the throttled endpoint during Retry-After", n)
	}
	c = Get(t, w.NS, "ra")
	if st := c.Status.Rotation.Automatic; st.ConsecutiveFailures != 1 || st.NextAttemptTime == nil || st.NextAttemptTime.Sub(Current().Clock.Now()) < 250*time.Second {
		t.Errorf("automatic rotation status = %+v", st)
	}
	if !IsReady(c) {
		t.Errorf("throttling of the automatic rotation changed Ready: %s", Describe(c))
	}
	// Once Retry-After has passed the rotation goes on and completes.
	w.Sim.ClearFaults()
	Current().Clock.Advance(301 * time.Second)
	Poke(t, w.NS, "ra")
	w.AutomaticSettled(t, "ra", "ra-s1")
	if g := Get(t, w.NS, "ra").Status.CallGate; g != nil {
		t.Errorf("the gate stayed closed after the rotation: %+v", g)
	}
}

// A delete Tableau acknowledges (204) and keeps listing is pending: listed again only after
// the gate's backoff, counted, reported on AutomaticRotation after a few checks, and the
// rotation ends once the secret is gone. Before the gate: 1,922 deletes and 497 admin
// sign-ins in 3.5 minutes for four tenants. The listings' times and counts are
// TestDeleteThatDoesNotTakeOnAFakeClock's (internal/gatedclient); the lag here is 6 s, enough
// for the three checks after which AutomaticRotation says DeletePending (at most 1.4 s of
// backoff, whatever the jitter draws).
func TestDeleteThatDoesNotTakeIsPendingNotAStorm(t *testing.T) {
	w := AutomaticTenants(t, nil, "lag")
	w.Sim.SetDeleteLag(6 * time.Second)
	secretCalls := w.Sim.Calls("connected-apps/secrets")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "lag")
	WaitFor(t, w.NS, "lag", "AutomaticRotation reporting the pending delete", func(c *v1.TableauConnection) bool {
		a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation)
		return a != nil && a.Status == metav1.ConditionFalse && a.Reason == "DeletePending"
	})
	id := w.AutomaticSettled(t, "lag", "lag-s1")
	if got := w.AppSecretIDs(t, "lag"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want only %s", got, id)
	}
	// One create and one delete: the acknowledged delete is pending and listed again, never
	// deleted in a loop.
	if secretN := w.Sim.Calls("connected-apps/secrets") - secretCalls; secretN > 3 {
		t.Errorf("%d create and delete calls during a delete lag, want one create and one delete (one retry allowed)", secretN)
	}
	c := Get(t, w.NS, "lag")
	if a := meta.FindStatusCondition(c.Status.Conditions, v1.ConditionAutomaticRotation); a == nil || a.Status != metav1.ConditionTrue {
		t.Errorf("after the delete took, AutomaticRotation = %+v; automatic %+v", a, c.Status.Rotation.Automatic)
	}
}

// Tableau storms during validation, one smoke test per fault: each fault answers every
// sign-in while a new PAT waits to be validated, until status records the transient failure
// and the gate it closed; then Tableau answers again and the new PAT is validated, the gate
// open again. No failure is a verdict. How many sign-ins each storm lets out per 10 s window
// is TestValidationStormsOnAFakeClock's (internal/gatedclient), on a fake clock. The seven
// storms blow at once, one tenant on its own simulator each.
func TestValidationStormsHoldBackAndRecover(t *testing.T) {
	t.Parallel() // touches no shared clock, manager or fault: runs beside the other parallel tests
	type storm struct {
		name  string
		fault tableausim.Fault
		w     *World
	}
	storms := []*storm{
		{name: "503", fault: tableausim.Fault{Kind: tableausim.FaultServerError, Status: 503}},
		{name: "502", fault: tableausim.Fault{Kind: tableausim.FaultServerError, Status: 502}},
		{name: "504", fault: tableausim.Fault{Kind: tableausim.FaultServerError, Status: 504}},
		{name: "429 HTML without Retry-After", fault: tableausim.Fault{Kind: tableausim.FaultRateLimitHTML}},
		{name: "429 XML with Retry-After", fault: tableausim.Fault{Kind: tableausim.FaultRateLimitXML, RetryAfter: "4"}},
		{name: "connection reset", fault: tableausim.Fault{Kind: tableausim.FaultDrop}},
		{name: "slow answers", fault: tableausim.Fault{Kind: tableausim.FaultLatency, Delay: 2 * time.Second}},
	}
	for _, st := range storms {
		st.w = NewWorld(t)
		st.w.SetSource(t, "storm", "storm-v1", st.w.Pat(t, "storm", "storm-v1", false))
		Create(t, st.w.TenantConnection("storm", validationOnly))
	}
	for _, st := range storms {
		WaitFor(t, st.w.NS, "storm", st.name+": storm-v1 signed in", IsReady)
	}
	for _, st := range storms {
		fault := st.fault
		fault.Endpoint = "auth/signin"
		st.w.Sim.Inject(fault)
		st.w.SetSource(t, "storm", "storm-v2", st.w.Pat(t, "storm", "storm-v2", false))
	}
	for _, st := range storms {
		w := st.w
		if st.fault.Kind == tableausim.FaultLatency {
			// A slow answer within the client's timeout is an answer: no failure, no gate.
			c := WaitFor(t, w.NS, "storm", st.name+": storm-v2 validated through slow answers", func(c *v1.TableauConnection) bool {
				return c.Status.Credentials != nil && c.Status.Credentials.TokenName == "storm-v2"
			})
			if c.Status.LastFailure != nil || c.Status.CallGate != nil {
				t.Errorf("%s: a slow answer was taken for a failure: %s; callGate %+v", st.name, Describe(c), c.Status.CallGate)
			}
			continue
		}
		c := WaitFor(t, w.NS, "storm", st.name+": the failure and the closed gate in status", func(c *v1.TableauConnection) bool {
			g := c.Status.CallGate
			return c.Status.LastFailure != nil && g != nil && g.ConsecutiveFailures >= 1 && g.NotBefore != nil
		})
		if f := c.Status.LastFailure; f.Bucket != "ServerUnavailable" && f.Bucket != "RateOrQuotaLimit" {
			t.Errorf("%s: during the storm: %s", st.name, Describe(c))
		}
		if g := c.Status.CallGate; g.Endpoint != "signin" {
			t.Errorf("%s: status.callGate = %+v, want closed by the sign-in", st.name, g)
		}
		w.Sim.ClearFaults()
	}
	for _, st := range storms {
		c := WaitFor(t, st.w.NS, "storm", st.name+": storm-v2 validated after the storm", func(c *v1.TableauConnection) bool {
			return IsReady(c) && c.Status.Credentials.TokenName == "storm-v2" && c.Status.LastFailure == nil
		})
		if g := c.Status.CallGate; g != nil && g.ConsecutiveFailures != 0 {
			t.Errorf("%s: the sign-in that worked did not end the failure streak: %+v", st.name, g)
		}
	}
}

// Storms during the pre-promotion check and the slow answers of a slow Tableau: a fleet of
// two tenants rotates through a burst of 503s, 429s, 2 s answers and resets on sign-in; no
// candidate is rejected, nothing rolls back, the fleet is not left halted, and both end with
// their new PAT.
func TestFleetRotationThroughAStormEndsWhereItWould(t *testing.T) {
	t.Parallel() // touches no shared clock, manager or fault: runs beside the other parallel tests
	names := []string{"st-a", "st-b"}
	w := SetupFleet(t, names...)
	rejected := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rejected"})
	rolledBack := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rolled_back"})
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Status: 503, Endpoint: "auth/signin", Times: 3})
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: "auth/signin", Times: 3})
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultLatency, Delay: 2 * time.Second, Endpoint: "auth/signin", Times: 2})
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultDrop, Endpoint: "auth/signin", Times: 2})
	for _, n := range names {
		w.SetSource(t, n, n+"-v2", w.Pat(t, n, n+"-v2", false))
	}
	for _, n := range names {
		w.Settled(t, n, n+"-v2")
	}
	// The storm is over: a fault the operator's sign-ins did not use up (a candidate that
	// signed in a moment before its promotion signs in once) is not the consumers'.
	w.Sim.ClearFaults()
	for _, n := range names {
		if err := w.ConsumerSignsIn(t, n); err != nil {
			t.Errorf("%s consumers cannot sign in: %v", n, err)
		}
	}
	if got := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rejected"}); got != rejected {
		t.Errorf("%v candidates rejected during the storm", got-rejected)
	}
	if got := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rolled_back"}); got != rolledBack {
		t.Errorf("%v rotations rolled back during the storm", got-rolledBack)
	}
	Eventually(t, 20*time.Second, "the fleet not halted", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return !f.Status.Halted && !meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionHalted), fmt.Sprintf("%+v", f.Status)
	})
}

// The API server stopped for 3 s in the middle of a fleet rotation: every watch and request
// fails meanwhile; the rotation ends as it would have, and the fleet is not left halted.
func TestFleetRotationSurvivesAnAPIServerOutage(t *testing.T) {
	names := []string{"ao-a", "ao-b"}
	w := SetupFleet(t, names...)
	o := withOutageProxy(t)
	rejected := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rejected"})
	rolledBack := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rolled_back"})
	for _, n := range names {
		w.SetSource(t, n, n+"-v2", w.Pat(t, n, n+"-v2", false))
	}
	Eventually(t, 30*time.Second, "a tenant rotating", func() (bool, string) {
		for _, n := range names {
			if p := RotationPhase(Get(t, w.NS, n)); p != v1.RotationIdle {
				return true, p
			}
		}
		return false, "all idle"
	})
	o.lasting(t, 3*time.Second)
	back := time.Now()
	for _, n := range names {
		w.Settled(t, n, n+"-v2")
		if err := w.ConsumerSignsIn(t, n); err != nil {
			t.Errorf("%s consumers cannot sign in: %v", n, err)
		}
	}
	t.Logf("both tenants settled %s after the API server came back", time.Since(back).Round(100*time.Millisecond))
	if got := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rejected"}); got != rejected {
		t.Errorf("%v candidates rejected", got-rejected)
	}
	if got := CounterValue(t, "tableau_operator_rotations_total", map[string]string{"result": "rolled_back"}); got != rolledBack {
		t.Errorf("%v rotations rolled back", got-rolledBack)
	}
	Eventually(t, 20*time.Second, "the fleet not halted", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return !f.Status.Halted && !meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionHalted), fmt.Sprintf("%+v", f.Status)
	})
}

// The API server stopped for 3 s during an automatic rotation: it ends with one new secret on
// the app, in the consumers' hands.
func TestAutomaticRotationSurvivesAnAPIServerOutage(t *testing.T) {
	w := AutomaticTenants(t, nil, "ao-auto")
	o := withOutageProxy(t)
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "ao-auto")
	WaitFor(t, w.NS, "ao-auto", "the automatic rotation under way", func(c *v1.TableauConnection) bool {
		a := c.Status.Rotation.Automatic
		return a != nil && a.Phase != "Idle"
	})
	o.lasting(t, 3*time.Second)
	back := time.Now()
	id := w.AutomaticSettled(t, "ao-auto", "ao-auto-s1")
	t.Logf("settled %s after the API server came back", time.Since(back).Round(100*time.Millisecond))
	if got := w.AppSecretIDs(t, "ao-auto"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want only %s", got, id)
	}
	if err := w.ConsumerAppSignsIn(t, "ao-auto"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}

// Storms on the administrator's calls: 503s, a 429 page, a reset, a 504 and a 2 s answer on
// the connected-app secrets endpoint during an automatic rotation. The rotation completes with
// one new secret in the consumers' hands, and status no longer holds the gate. When each call
// goes out is TestAdminStormOnAFakeClock's (internal/gatedclient).
func TestAutomaticRotationThroughAnAdminStorm(t *testing.T) {
	w := AutomaticTenants(t, nil, "as")
	for _, f := range []tableausim.Fault{
		{Kind: tableausim.FaultServerError, Status: 503, Times: 2},
		{Kind: tableausim.FaultRateLimitHTML, Times: 1},
		{Kind: tableausim.FaultDrop, Times: 1},
		{Kind: tableausim.FaultServerError, Status: 504, Times: 1},
		{Kind: tableausim.FaultLatency, Delay: 2 * time.Second, Times: 1},
	} {
		f.Endpoint = "connected-apps/secrets"
		w.Sim.Inject(f)
	}
	secretCalls := w.Sim.Calls("connected-apps/secrets")
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "as")
	id := w.AutomaticSettled(t, "as", "as-s1")
	if n := w.Sim.Calls("connected-apps/secrets") - secretCalls; n < 6 {
		t.Errorf("%d secret calls: the rotation did not meet the storm's six faults", n)
	}
	if g := Get(t, w.NS, "as").Status.CallGate; g != nil && g.ConsecutiveFailures != 0 {
		t.Errorf("the gate still counts the storm after the rotation: %+v", g)
	}
	if got := w.AppSecretIDs(t, "as"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want only %s", got, id)
	}
	if err := w.ConsumerAppSignsIn(t, "as"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}
