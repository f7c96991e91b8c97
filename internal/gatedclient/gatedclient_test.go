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

package gatedclient_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const (
	site     = "acme"
	clientID = "app-client-id"
)

var (
	adminPAT = tableau.PersonalAccessToken{Name: "admin-pat", Secret: tableau.NewSecret("fake-admin-secret")}
	userPAT  = tableau.PersonalAccessToken{Name: "user-pat", Secret: tableau.NewSecret("fake-user-secret")}
)

type fixture struct {
	sim    *tableausim.Simulator
	raw    *tableau.Client
	keeper *gatedclient.Keeper
	now    time.Time
	// status is what a status write would have persisted; failWrites drops the writes.
	status     callgate.State
	failWrites bool
	inputs     string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{sim: tableausim.New(tableausim.Config{RESTAPIVersion: "3.24"}), keeper: &gatedclient.Keeper{},
		now: time.Now(), inputs: "generation-1"}
	f.sim.AddSite(site, "Acme")
	for _, p := range []tableau.PersonalAccessToken{adminPAT, userPAT} {
		if err := f.sim.AddPAT(site, tableausim.PAT{Name: p.Name, Secret: p.Secret.Reveal()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.sim.AddConnectedApp(site, tableausim.ConnectedApp{ClientID: clientID, Name: "operator"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.sim.Handler())
	t.Cleanup(srv.Close)
	raw, err := tableau.New(tableau.Options{Server: srv.URL, APIVersion: "3.24"})
	if err != nil {
		t.Fatal(err)
	}
	f.raw = raw
	return f
}

// client is one reconcile's gated client of connection name.
func (f *fixture) client(name string) *gatedclient.Client {
	return gatedclient.New(f.raw, gatedclient.Options{
		Keeper: f.keeper, Connection: name, Server: "https://tableau.example", Site: site,
		Inputs:    func() string { return f.inputs },
		Persisted: func() callgate.State { return f.status },
		Persist: func(st callgate.State) {
			if !f.failWrites {
				f.status = st
			}
		},
		Now:    func() time.Time { return f.now },
		Policy: backoff.Default,
	})
}

func held(t *testing.T, err error) *gatedclient.HeldError {
	t.Helper()
	h, ok := gatedclient.AsHeld(err)
	if !ok {
		t.Fatalf("want a held call, got %v", err)
	}
	return h
}

// TestRetryAfterHoldsEveryPath: a 429 with Retry-After: 300 on the connected-app endpoint holds
// the administrator's calls (List PATs included), the validation sign-in, the pre-promotion
// check and serverinfo for 300 s, without a call going out; then they go out again.
func TestRetryAfterHoldsEveryPath(t *testing.T) {
	f := newFixture(t)
	first := f.client("ns/a")
	ctx := context.Background()
	admin, err := first.SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: "connected-apps/secrets", RetryAfter: "300"})
	if _, err := first.CreateConnectedAppSecret(ctx, admin, clientID); err == nil {
		t.Fatal("the throttled create worked")
	}
	throttledAt := f.now
	before := f.sim.AllCalls()
	for i := 0; i < 5; i++ {
		c := f.client("ns/a") // every reconcile, for any reason
		if _, err := c.SignInWithPAT(ctx, callgate.Admin, site, adminPAT); held(t, err).Until.Sub(throttledAt) < 300*time.Second {
			t.Fatalf("held only until %s", held(t, err).Until)
		}
		_, err := c.SignInWithPAT(ctx, callgate.SignIn, site, userPAT)
		held(t, err)
		_, err = c.SignInWithPAT(ctx, callgate.Check, site, userPAT)
		held(t, err)
		_, err = c.ServerInfo(ctx)
		held(t, err)
		// The expiry read through List PATs waits on the same clock.
		_, err = first.ListPersonalAccessTokens(ctx, admin, "any-user-id")
		held(t, err)
		f.now = f.now.Add(50 * time.Second)
	}
	if after := f.sim.AllCalls(); !equalCounts(before, after) {
		t.Fatalf("calls went out while the gate was closed: %v -> %v", before, after)
	}
	f.sim.ClearFaults()
	f.now = f.now.Add(60 * time.Second)
	if _, err := f.client("ns/a").SignInWithPAT(ctx, callgate.SignIn, site, userPAT); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

// TestFailedStatusWriteNeverAllowsEarlier: status writes fail, memory keeps the gate.
func TestFailedStatusWriteNeverAllowsEarlier(t *testing.T) {
	f := newFixture(t)
	f.failWrites = true
	ctx := context.Background()
	f.sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: "auth/signin", Status: 503, Times: 1})
	if _, err := f.client("ns/a").SignInWithPAT(ctx, callgate.SignIn, site, userPAT); err == nil {
		t.Fatal("the 503 worked")
	}
	if !f.status.Zero() {
		t.Fatal("the fixture wrote status")
	}
	// A terminal failure the caller recorded (its next attempt in an hour) holds too.
	c := f.client("ns/a")
	c.Hold(callgate.SignIn, f.now.Add(time.Hour))
	calls := f.sim.Calls("auth/signin")
	for i := 0; i < 20; i++ {
		f.now = f.now.Add(time.Second)
		_, err := f.client("ns/a").SignInWithPAT(ctx, callgate.SignIn, site, userPAT)
		held(t, err)
	}
	if n := f.sim.Calls("auth/signin"); n != calls {
		t.Fatalf("%d sign-ins in 20 s while status could not be written", n-calls)
	}
	// A new process has only status: what was persisted is kept.
	f.failWrites = false
	f.status = callgate.State{}
	f.client("ns/a").Hold(callgate.SignIn, f.now.Add(time.Hour))
	restarted := &gatedclient.Keeper{}
	f.keeper = restarted
	_, err := f.client("ns/a").SignInWithPAT(ctx, callgate.SignIn, site, userPAT)
	held(t, err)
	// A changed Secret or spec (the inputs) opens the gate at once.
	f.inputs = "generation-2"
	if _, err := f.client("ns/a").SignInWithPAT(ctx, callgate.SignIn, site, userPAT); err != nil {
		t.Fatalf("changed inputs: %v", err)
	}
}

// TestAdminCredentialGateIsShared: two connections that use one administrator PAT share its
// gate; a connection with another credential is not held by it.
func TestAdminCredentialGateIsShared(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitXML, Endpoint: "auth/signin", RetryAfter: "120", Times: 1})
	if _, err := f.client("ns/a").SignInWithPAT(ctx, callgate.Admin, site, adminPAT); err == nil {
		t.Fatal("the throttled sign-in worked")
	}
	f.status = callgate.State{} // b has its own status
	_, err := f.client("ns/b").SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
	if held(t, err).Until.Sub(f.now) < 120*time.Second {
		t.Fatal("the administrator credential's gate did not honour Retry-After")
	}
	if _, err := f.client("ns/b").SignInWithPAT(ctx, callgate.SignIn, site, userPAT); err != nil {
		t.Fatalf("b's own sign-in was held by a's: %v", err)
	}
}

// TestDeletePendingRecheckedAfterBackoff: a delete answered 204 whose secret is still listed
// is not repeated at once.
func TestDeletePendingRecheckedAfterBackoff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.sim.AddConnectedAppSecret(site, clientID, "old-secret", "fake-old-value"); err != nil {
		t.Fatal(err)
	}
	c := f.client("ns/a")
	admin, err := c.SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteConnectedAppSecret(ctx, admin, clientID, "old-secret"); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListConnectedAppSecrets(ctx, admin, clientID)
	if h := held(t, err); h.Reason != callgate.ReasonDeletePending {
		t.Fatalf("held for %q", h.Reason)
	}
	if st := c.State(); st.PendingDelete != "old-secret" {
		t.Fatalf("pending %+v", st)
	}
	f.now = c.Until(callgate.Admin)
	infos, err := c.ListConnectedAppSecrets(ctx, admin, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 0 || !c.State().Zero() {
		t.Fatalf("listed %v, gate %+v", infos, c.State())
	}
}

// TestNotAnAnswerFeedsNothing: a call that never reached Tableau (no session) is not a
// throttled answer.
func TestNotAnAnswerFeedsNothing(t *testing.T) {
	f := newFixture(t)
	c := f.client("ns/a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.SignInWithPAT(ctx, callgate.SignIn, site, userPAT)
	if err == nil || !c.State().Zero() {
		t.Fatalf("err %v, gate %+v", err, c.State())
	}
	if err := c.SignOut(context.Background(), &tableau.Session{}); err == nil {
		t.Fatal("signing out no session worked")
	}
	if _, err := c.ListConnectedAppSecrets(context.Background(), &tableau.Session{}, clientID); err == nil {
		t.Fatal("a session the client did not open was used as an administrator's")
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAdminVerdictHoldOpensOnChangedInputs: a verdict on the administrator's calls that the
// automatic rotation recorded (a rejected administrator PAT, its next attempt in an hour)
// holds them in memory, but a change of the connection's spec, Secret or requested-at opens
// the gate, as it does for every other hold: a person who fixed the administrator's rights
// and asked for a retry is not kept waiting an hour.
func TestAdminVerdictHoldOpensOnChangedInputs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client("ns/a")
	admin, err := c.SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignOut(ctx, admin); err != nil {
		t.Fatal(err)
	}
	f.failWrites = true
	c.HoldAdmin(f.now.Add(time.Hour))
	f.now = f.now.Add(time.Minute)
	if _, err := f.client("ns/a").SignInWithPAT(ctx, callgate.Admin, site, adminPAT); held(t, err).Until.Sub(f.now) < 58*time.Minute {
		t.Fatalf("the verdict's hold ends at %v", held(t, err).Until)
	}
	f.inputs = "requested-at-2"
	admin, err = f.client("ns/a").SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
	if err != nil {
		t.Fatalf("after the inputs changed the administrator's sign-in is still held: %v", err)
	}
	if err := f.client("ns/a").SignOut(ctx, admin); err != nil {
		t.Logf("sign-out: %v", err)
	}
}

// TestHoldsBackCountsTheSkippedCall: a caller that asks the gate before calling and skips the
// call is counted as held back, like a call the gate refused; an open gate counts nothing.
func TestHoldsBackCountsTheSkippedCall(t *testing.T) {
	f := newFixture(t)
	held := map[callgate.Class]int{}
	c := gatedclient.New(f.raw, gatedclient.Options{Keeper: f.keeper, Connection: "ns/a", Now: func() time.Time { return f.now },
		Policy: backoff.Default, Observe: func(class callgate.Class, h bool) {
			if h {
				held[class]++
			}
		}})
	if until := c.HoldsBack(callgate.SignIn); !until.IsZero() || held[callgate.SignIn] != 0 {
		t.Fatalf("an open gate: until %v, held %v", until, held)
	}
	c.Hold(callgate.SignIn, f.now.Add(time.Minute))
	if until := c.HoldsBack(callgate.SignIn); until.IsZero() || held[callgate.SignIn] != 1 {
		t.Fatalf("a closed gate: until %v, held %v", until, held)
	}
	if c.HoldsBack(callgate.ServerInfo); held[callgate.ServerInfo] != 0 {
		t.Fatalf("serverinfo is not held by a sign-in hold: held %v", held)
	}
}
