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

// The storms of the README's "During a Tableau incident" table, on a fake clock: the gated
// client calls the simulator over HTTP, and the simulator, the gate and the reconcile loop
// below all read one tableausim.ManualClock, so a 21 s storm takes no real time and every
// call's time is exact. The loop reconciles the way the operator does: at once, again at the
// time it asked to be requeued (the gate's), and on an event every few hundred milliseconds
// (Secret events, status updates, annotations), so what bounds the calls is the gate, not the
// loop. The counts are derived from the backoff policy (internal/backoff.Default: a ceiling
// of 200 ms doubling to 30 s, full jitter, which the gate floors at half the ceiling,
// Retry-After a floor) with the jitter drawn at both ends, and bounded for random draws.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// stormStart is the fake clock's start.
var stormStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// jitter draws: floor draws 0 (the gate then waits half the ceiling: the most calls a storm
// can let out), ceiling draws just under 1 (the fewest).
var (
	floorDraw   = func() float64 { return 0 }
	ceilingDraw = func() float64 { return math.Nextafter(1, 0) }
)

func policy(draw func() float64) backoff.Policy {
	p := backoff.Default
	p.Rand = draw
	return p
}

// hit is one request that reached the simulator, at the fake clock's time.
type hit struct {
	method, path string
	at           time.Duration // from stormStart
}

// rig is a simulator behind an HTTP server, a gated client of one connection and a fake clock.
type rig struct {
	t      *testing.T
	clock  *tableausim.ManualClock
	sim    *tableausim.Simulator
	raw    *tableau.Client
	keeper *gatedclient.Keeper
	policy backoff.Policy
	// status is what status writes persisted; failWrites refuses them.
	status     callgate.State
	failWrites bool
	// slow, when set, says which requests Tableau answers only slowBy later (fake time).
	slow   func(*http.Request) bool
	slowBy time.Duration

	mu   sync.Mutex
	hits []hit
	// held counts the calls the gate held back (made or skipped), per class.
	held map[callgate.Class]int
	// terminal counts failed calls that left the gate open: the caller had to record a
	// verdict (a rejected sign-in), which no storm may produce.
	terminal int
	lastErr  error
}

func newRig(t *testing.T, p backoff.Policy) *rig {
	t.Helper()
	r := &rig{t: t, clock: tableausim.NewManualClock(stormStart), keeper: &gatedclient.Keeper{}, policy: p,
		held: map[callgate.Class]int{}}
	r.sim = tableausim.New(tableausim.Config{RESTAPIVersion: "3.24", Clock: r.clock})
	r.sim.AddSite(site, "Acme")
	for _, pat := range []tableau.PersonalAccessToken{adminPAT, userPAT} {
		if err := r.sim.AddPAT(site, tableausim.PAT{Name: pat.Name, Secret: pat.Secret.Reveal()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.sim.AddConnectedApp(site, tableausim.ConnectedApp{ClientID: clientID, Name: "operator"}); err != nil {
		t.Fatal(err)
	}
	inner := r.sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits = append(r.hits, hit{method: req.Method, path: req.URL.Path, at: r.clock.Now().Sub(stormStart)})
		slow := r.slow != nil && r.slow(req)
		r.mu.Unlock()
		if slow {
			r.clock.Advance(r.slowBy) // the answer comes slowBy later
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	raw, err := tableau.New(tableau.Options{Server: srv.URL, APIVersion: "3.24"})
	if err != nil {
		t.Fatal(err)
	}
	r.raw = raw
	return r
}

// client is one reconcile's gated client, bound as the operator binds it (controllers'
// gated): memory first, status second.
func (r *rig) client() *gatedclient.Client {
	return gatedclient.New(r.raw, gatedclient.Options{
		Keeper: r.keeper, Connection: "tenants/storm", Server: "https://tableau.example", Site: site,
		Inputs:    func() string { return "generation-1" },
		Persisted: func() callgate.State { return r.status },
		Persist: func(st callgate.State) {
			if !r.failWrites {
				r.status = st
			}
		},
		Now:    r.clock.Now,
		Policy: r.policy,
		Observe: func(class callgate.Class, held bool) {
			if held {
				r.mu.Lock()
				r.held[class]++
				r.mu.Unlock()
			}
		},
	})
}

// reconcile is one reconcile: when it asks to be requeued (zero: not), and whether its work
// is done.
type reconcile func(ctx context.Context, c *gatedclient.Client) (requeue time.Time, done bool)

// run reconciles now, at every requeue the reconcile asks for and on an event every poke,
// until a reconcile is done (true, and the time it finished) or the clock reaches end.
func (r *rig) run(end time.Time, poke time.Duration, rec reconcile) (bool, time.Duration) {
	ctx := context.Background()
	nextPoke := r.clock.Now()
	for r.clock.Now().Before(end) {
		c := r.client()
		requeue, done := rec(ctx, c)
		if !r.failWrites {
			r.status = c.State() // the operator's syncGateStatus: status records what memory holds
		}
		now := r.clock.Now()
		if done {
			return true, now.Sub(stormStart)
		}
		for !nextPoke.After(now) {
			nextPoke = nextPoke.Add(poke)
		}
		next := nextPoke
		if requeue.After(now) && requeue.Before(next) {
			next = requeue
		}
		r.clock.Advance(next.Sub(now))
	}
	return false, r.clock.Now().Sub(stormStart)
}

// retryAt is when the caller comes back after a failed call of class: the gate's time when
// the answer closed it; otherwise the failure was a verdict (a rejected credential), which
// the caller holds until its next attempt, as controllers' gateNext does.
func (r *rig) retryAt(c *gatedclient.Client, class callgate.Class, err error) time.Time {
	if h, ok := gatedclient.AsHeld(err); ok {
		return h.Until
	}
	r.mu.Lock()
	r.lastErr = err
	r.mu.Unlock()
	if until := c.Until(class); !until.IsZero() {
		return until
	}
	r.mu.Lock()
	r.terminal++
	r.mu.Unlock()
	next := r.clock.Now().Add(verdictRetry)
	if class == callgate.Admin {
		c.HoldAdmin(next)
	} else {
		c.Hold(class, next)
	}
	return next
}

// verdictRetry is the next attempt a caller records after a rejected call.
const verdictRetry = 5 * time.Minute

// validate is the operator's validation (probeServer, then validateSignIn): serverinfo and a
// sign-in and out with the connection's PAT, each only when the gate lets it.
func (r *rig) validate(class callgate.Class, pat tableau.PersonalAccessToken) reconcile {
	return func(ctx context.Context, c *gatedclient.Client) (time.Time, bool) {
		if until := c.HoldsBack(callgate.ServerInfo); !until.IsZero() {
			return until, false
		}
		if _, err := c.ServerInfo(ctx); err != nil {
			return r.retryAt(c, callgate.ServerInfo, err), false
		}
		if until := c.HoldsBack(class); !until.IsZero() {
			return until, false
		}
		s, err := c.SignInWithPAT(ctx, class, site, pat)
		if err != nil {
			return r.retryAt(c, class, err), false
		}
		if err := c.SignOut(ctx, s); err != nil {
			r.t.Errorf("sign-out: %v", err)
		}
		return time.Time{}, true
	}
}

// createSecret is the automatic rotation's create step: an administrator session and one
// create of a connected-app secret.
func (r *rig) createSecret(ctx context.Context, c *gatedclient.Client) (time.Time, bool) {
	admin, err := c.SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
	if err != nil {
		return r.retryAt(c, callgate.Admin, err), false
	}
	defer func() { _ = c.SignOut(ctx, admin) }()
	if _, err := c.CreateConnectedAppSecret(ctx, admin, clientID); err != nil {
		return r.retryAt(c, callgate.Admin, err), false
	}
	return time.Time{}, true
}

// calls is the times of the requests to Tableau that match.
func (r *rig) calls(method, pathSuffix string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var at []time.Duration
	for _, h := range r.hits {
		if h.method == method && strings.HasSuffix(h.path, pathSuffix) {
			at = append(at, h.at)
		}
	}
	return at
}

// perWindow counts calls per 10 s window from the storm's start, over the first d.
func perWindow(at []time.Duration, d time.Duration) []int {
	n := make([]int, int((d+10*time.Second-1)/(10*time.Second)))
	for _, a := range at {
		if a < d {
			n[a/(10*time.Second)]++
		}
	}
	return n
}

func seconds(at []time.Duration) string {
	s := make([]string, len(at))
	for i, a := range at {
		s[i] = fmt.Sprintf("%.1f", a.Seconds())
	}
	return "[" + strings.Join(s, " ") + "]"
}

func near(a, b time.Duration) bool { return (a - b).Abs() < time.Millisecond }

const (
	signInPath  = "/auth/signin"
	appPath     = "/connected-apps/direct-trust/" + clientID // Get Connected App lists its secrets
	secretsPath = appPath + "/secrets"
	stormLength = 21 * time.Second
	// poke is how often an event makes the operator reconcile during a storm.
	poke = 250 * time.Millisecond
)

// TestValidationStormsOnAFakeClock: every sign-in answers 503, 502, 504, a 429 page without
// Retry-After, or a reset for 21 s while a new PAT waits to be validated. The first call fails
// at 0 and each failure n (0-based) closes the gate for max(draw·c(n), c(n)/2), c(n) =
// min(200 ms·2ⁿ, 30 s):
//
//	jitter at the floor:   0, 0.1, 0.3, 0.7, 1.5, 3.1, 6.3 | 12.7 | (25.5) → 7, 1, 0 per window
//	jitter at the ceiling: 0, 0.2, 0.6, 1.4, 3.0, 6.2      | 12.6 | (25.4) → 6, 1, 0
//
// and any draw at most 7, 2, 1 (the k-th call cannot come before the floor schedule's, nor
// the gaps after it be shorter). With 429 and Retry-After: 4 every gap is 4 s until c(n)/2
// passes 4 s (n = 6): 0, 4, 8 | 12, 16 | 20 → 3, 2, 1 whatever the draw. No failure is a
// verdict, and the new PAT is validated at the first call after the storm.
func TestValidationStormsOnAFakeClock(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault tableausim.Fault
		// per 10 s window of the 21 s storm: exact at both ends of the jitter, a bound for random
		// draws; validated: when the new PAT signs in at each end.
		floor, ceiling, bound            []int
		validatedFloor, validatedCeiling time.Duration
	}{
		{name: "503", fault: tableausim.Fault{Kind: tableausim.FaultServerError, Status: 503},
			floor: []int{7, 1, 0}, ceiling: []int{6, 1, 0}, bound: []int{7, 2, 1}, validatedFloor: 25500 * time.Millisecond, validatedCeiling: 25400 * time.Millisecond},
		{name: "502", fault: tableausim.Fault{Kind: tableausim.FaultServerError, Status: 502},
			floor: []int{7, 1, 0}, ceiling: []int{6, 1, 0}, bound: []int{7, 2, 1}, validatedFloor: 25500 * time.Millisecond, validatedCeiling: 25400 * time.Millisecond},
		{name: "504", fault: tableausim.Fault{Kind: tableausim.FaultServerError, Status: 504},
			floor: []int{7, 1, 0}, ceiling: []int{6, 1, 0}, bound: []int{7, 2, 1}, validatedFloor: 25500 * time.Millisecond, validatedCeiling: 25400 * time.Millisecond},
		{name: "429 HTML without Retry-After", fault: tableausim.Fault{Kind: tableausim.FaultRateLimitHTML},
			floor: []int{7, 1, 0}, ceiling: []int{6, 1, 0}, bound: []int{7, 2, 1}, validatedFloor: 25500 * time.Millisecond, validatedCeiling: 25400 * time.Millisecond},
		{name: "connection reset", fault: tableausim.Fault{Kind: tableausim.FaultDrop},
			floor: []int{7, 1, 0}, ceiling: []int{6, 1, 0}, bound: []int{7, 2, 1}, validatedFloor: 25500 * time.Millisecond, validatedCeiling: 25400 * time.Millisecond},
		// After 20 s the sixth gap is max(4 s, draw·6.4 s): 24 s at the floor, 26.4 s at the ceiling.
		{name: "429 XML with Retry-After: 4", fault: tableausim.Fault{Kind: tableausim.FaultRateLimitXML, RetryAfter: "4"},
			floor: []int{3, 2, 1}, ceiling: []int{3, 2, 1}, bound: []int{3, 2, 1}, validatedFloor: 24 * time.Second, validatedCeiling: 26400 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storm := func(t *testing.T, draw func() float64) ([]int, bool, time.Duration) {
				r := newRig(t, policy(draw))
				f := tc.fault
				f.Endpoint = "auth/signin"
				r.sim.Inject(f)
				if done, _ := r.run(stormStart.Add(stormLength), poke, r.validate(callgate.SignIn, userPAT)); done {
					t.Fatal("a sign-in worked during the storm")
				}
				if r.terminal != 0 {
					t.Errorf("%d failures of the storm were taken for a verdict (last: %v)", r.terminal, r.lastErr)
				}
				if r.held[callgate.ServerInfo] == 0 {
					t.Error("no reconcile was held back: the loop did not poke")
				}
				signIns := r.calls(http.MethodPost, signInPath)
				windows := perWindow(signIns, stormLength)
				t.Logf("sign-ins at %s s: %v per 10 s window", seconds(signIns), windows)
				r.sim.ClearFaults()
				done, at := r.run(stormStart.Add(5*time.Minute), poke, r.validate(callgate.SignIn, userPAT))
				if st := r.client().State(); done && !st.Zero() {
					t.Errorf("the gate stayed closed after the new PAT signed in: %+v", st)
				}
				return windows, done, at
			}
			for _, end := range []struct {
				name      string
				draw      func() float64
				want      []int
				validated time.Duration
			}{{"floor", floorDraw, tc.floor, tc.validatedFloor}, {"ceiling", ceilingDraw, tc.ceiling, tc.validatedCeiling}} {
				windows, done, at := storm(t, end.draw)
				if !slices.Equal(windows, end.want) {
					t.Errorf("jitter at the %s: sign-ins per 10 s window %v, want %v", end.name, windows, end.want)
				}
				if !done || !near(at, end.validated) {
					t.Errorf("jitter at the %s: the new PAT validated=%v at %s, want at %s", end.name, done, at, end.validated)
				}
			}
			for seed := uint64(1); seed <= 20; seed++ {
				windows, done, at := storm(t, rand.New(rand.NewPCG(seed, 22)).Float64)
				for i, n := range windows {
					if n > tc.bound[i] {
						t.Errorf("seed %d: sign-ins per 10 s window %v, more than %v", seed, windows, tc.bound)
						break
					}
				}
				if !done || at > stormLength+30*time.Second {
					t.Errorf("seed %d: the new PAT validated=%v at %s, later than one capped backoff after the storm", seed, done, at)
				}
			}
		})
	}
}

// TestSlowAnswersAreAnswers: every sign-in answers after 10 s (within the client's 30 s
// timeout): the first sign-in is an answer, the new PAT is validated with one sign-in and the
// gate never closes.
func TestSlowAnswersAreAnswers(t *testing.T) {
	r := newRig(t, policy(floorDraw))
	r.slow = func(req *http.Request) bool { return strings.HasSuffix(req.URL.Path, signInPath) }
	r.slowBy = 10 * time.Second
	done, at := r.run(stormStart.Add(stormLength), poke, r.validate(callgate.SignIn, userPAT))
	if !done || at != 10*time.Second {
		t.Fatalf("validated=%v at %s, want at 10 s", done, at)
	}
	if n := len(r.calls(http.MethodPost, signInPath)); n != 1 {
		t.Errorf("%d sign-ins, want 1", n)
	}
	if !r.status.Zero() || r.terminal != 0 {
		t.Errorf("a slow answer closed the gate (%+v) or was a verdict (%d)", r.status, r.terminal)
	}
}

// TestAdminStormOnAFakeClock: 503, 503, a 429 page, a reset, a 504 and a 10 s answer on the
// connected-app secrets endpoint during an automatic rotation's create. Each failure closes
// the gate for its backoff; the administrator's sign-in that works between them does not end
// the streak, so the creates go out at the floor schedule's 0, 0.1, 0.3, 0.7, 1.5, 3.1 s
// (ceiling: 0, 0.2, 0.6, 1.4, 3.0, 6.2 s), the last answered 10 s later: one new secret.
func TestAdminStormOnAFakeClock(t *testing.T) {
	for _, end := range []struct {
		name string
		draw func() float64
		want []time.Duration
	}{
		{"floor", floorDraw, []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond, 3100 * time.Millisecond}},
		{"ceiling", ceilingDraw, []time.Duration{0, 200 * time.Millisecond, 600 * time.Millisecond, 1400 * time.Millisecond, 3 * time.Second, 6200 * time.Millisecond}},
	} {
		t.Run(end.name, func(t *testing.T) {
			r := newRig(t, policy(end.draw))
			for _, f := range []tableausim.Fault{
				{Kind: tableausim.FaultServerError, Status: 503, Times: 2},
				{Kind: tableausim.FaultRateLimitHTML, Times: 1},
				{Kind: tableausim.FaultDrop, Times: 1},
				{Kind: tableausim.FaultServerError, Status: 504, Times: 1},
			} {
				f.Endpoint = "connected-apps/secrets"
				r.sim.Inject(f)
			}
			creates := 0
			r.slow = func(req *http.Request) bool {
				if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, secretsPath) {
					return false
				}
				creates++
				return creates == 6
			}
			r.slowBy = 10 * time.Second
			done, at := r.run(stormStart.Add(time.Minute), poke, r.createSecret)
			got := r.calls(http.MethodPost, secretsPath)
			t.Logf("creates at %s s, done at %s", seconds(got), at)
			if !done || len(got) != len(end.want) {
				t.Fatalf("done=%v after creates at %s s, want %d creates", done, seconds(got), len(end.want))
			}
			for i := range got {
				if !near(got[i], end.want[i]) {
					t.Fatalf("creates at %s s, want %s s", seconds(got), seconds(end.want))
				}
			}
			if w := perWindow(got, 30*time.Second); !slices.Equal(w, []int{6, 0, 0}) {
				t.Errorf("creates per 10 s window %v", w)
			}
			if ids, err := r.sim.ConnectedAppSecretIDs(site, clientID); err != nil || len(ids) != 1 {
				t.Errorf("the app holds %v (%v), want one new secret", ids, err)
			}
			if r.terminal != 0 {
				t.Errorf("%d failures were taken for a verdict (last: %v)", r.terminal, r.lastErr)
			}
		})
	}
}

// TestRetryAfterOnAFakeClock: the secrets endpoint answers 429 with Retry-After: 300 and the
// operator reconciles every second (fleet status, Secret events): no administrator sign-in and
// no call of any class for 300 s, then the create goes out at exactly 300 s and works.
func TestRetryAfterOnAFakeClock(t *testing.T) {
	for _, draw := range []func() float64{floorDraw, ceilingDraw} {
		r := newRig(t, policy(draw))
		r.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: "connected-apps/secrets", RetryAfter: "300", Times: 1})
		done, at := r.run(stormStart.Add(10*time.Minute), time.Second, r.createSecret)
		if !done || at != 300*time.Second {
			t.Fatalf("done=%v at %s, want at 300 s", done, at)
		}
		r.mu.Lock()
		var between []hit
		for _, h := range r.hits {
			if h.at > 0 && h.at < 300*time.Second {
				between = append(between, h)
			}
		}
		heldAdmin := r.held[callgate.Admin]
		r.mu.Unlock()
		if len(between) != 0 {
			t.Errorf("%d calls during Retry-After: %+v", len(between), between)
		}
		if creates := r.calls(http.MethodPost, secretsPath); len(creates) != 2 || creates[1] != 300*time.Second {
			t.Errorf("creates at %s s, want 0 and 300", seconds(creates))
		}
		if signIns := r.calls(http.MethodPost, signInPath); len(signIns) != 2 {
			t.Errorf("administrator sign-ins at %s s, want 0 and 300", seconds(signIns))
		}
		if heldAdmin < 299 {
			t.Errorf("the gate held %d administrator sign-ins of the reconciles of 300 s", heldAdmin)
		}
	}
}

// TestDeleteThatDoesNotTakeOnAFakeClock: Tableau acknowledges a secret delete (204) and lists
// the secret for 12 s (or 20 s) more. One delete; the secret is listed again (each listing
// after an administrator sign-in) after each backoff, c(n)/2 from 0.1 s at the floor:
// 0.1, 0.3, 0.7, 1.5, 3.1, 6.3, 12.7, 25.5 s; the deletes the loop tries meanwhile are held
// as DeletePending, the count passes the 3 checks after which AutomaticRotation says so, and
// the first listing without the secret ends it.
func TestDeleteThatDoesNotTakeOnAFakeClock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		draw      func() float64
		lag       time.Duration
		listings  int // the first one included, which finds the secret to delete
		maxChecks int
		done      time.Duration
	}{
		{"12 s, jitter at the floor", floorDraw, 12 * time.Second, 8, 6, 12700 * time.Millisecond},
		{"12 s, jitter at the ceiling", ceilingDraw, 12 * time.Second, 7, 5, 12600 * time.Millisecond},
		{"20 s, jitter at the floor", floorDraw, 20 * time.Second, 9, 7, 25500 * time.Millisecond},
		{"20 s, jitter at the ceiling", ceilingDraw, 20 * time.Second, 8, 6, 25400 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, policy(tc.draw))
			for _, id := range []string{"old-secret", "new-secret"} {
				if err := r.sim.AddConnectedAppSecret(site, clientID, id, "fake-"+id); err != nil {
					t.Fatal(err)
				}
			}
			r.sim.SetDeleteLag(tc.lag)
			maxChecks, heldPending := 0, 0
			done, at := r.run(stormStart.Add(time.Minute), poke, func(ctx context.Context, c *gatedclient.Client) (time.Time, bool) {
				admin, err := c.SignInWithPAT(ctx, callgate.Admin, site, adminPAT)
				if err != nil {
					return r.retryAt(c, callgate.Admin, err), false
				}
				defer func() { _ = c.SignOut(ctx, admin) }()
				infos, err := c.ListConnectedAppSecrets(ctx, admin, clientID)
				if err != nil {
					return r.retryAt(c, callgate.Admin, err), false
				}
				maxChecks = max(maxChecks, c.State().PendingChecks)
				if !slices.ContainsFunc(infos, func(i tableau.ConnectedAppSecretInfo) bool { return i.ID == "old-secret" }) {
					return time.Time{}, true
				}
				// The planner sees the old secret and deletes it: the gate decides.
				err = c.DeleteConnectedAppSecret(ctx, admin, clientID, "old-secret")
				if h, ok := gatedclient.AsHeld(err); ok && h.Reason == callgate.ReasonDeletePending {
					heldPending++
				}
				if err != nil {
					return r.retryAt(c, callgate.Admin, err), false
				}
				return c.Until(callgate.Admin), false
			})
			deletes := r.calls(http.MethodDelete, "/secrets/old-secret")
			listings := r.calls(http.MethodGet, appPath)
			signIns := r.calls(http.MethodPost, signInPath)
			t.Logf("listings at %s s; done at %s", seconds(listings), at)
			if !done || !near(at, tc.done) {
				t.Errorf("done=%v at %s, want at %s", done, at, tc.done)
			}
			if len(deletes) != 1 {
				t.Errorf("%d deletes at %s s, want 1", len(deletes), seconds(deletes))
			}
			if len(listings) != tc.listings || len(signIns) != tc.listings {
				t.Errorf("%d listings and %d administrator sign-ins, want %d each", len(listings), len(signIns), tc.listings)
			}
			if maxChecks != tc.maxChecks || heldPending != tc.maxChecks {
				t.Errorf("%d checks counted and %d deletes held as DeletePending, want %d", maxChecks, heldPending, tc.maxChecks)
			}
			if ids, _ := r.sim.ConnectedAppSecretIDs(site, clientID); !slices.Equal(ids, []string{"new-secret"}) {
				t.Errorf("the app holds %v", ids)
			}
			if st := r.client().State(); !st.Zero() {
				t.Errorf("the gate after the delete took: %+v", st)
			}
		})
	}
}

// TestFailedStatusWritesStormOnAFakeClock: status writes fail from a rejected sign-in on and
// the operator reconciles every 100 ms for 8 s (controller-runtime's retries of the failed
// write): one sign-in, every retry held back and counted; once status can be written it
// records the hold memory kept, and a restarted process (an empty memory) keeps it.
func TestFailedStatusWritesStormOnAFakeClock(t *testing.T) {
	r := newRig(t, policy(floorDraw))
	r.failWrites = true
	rejected := tableau.PersonalAccessToken{Name: "user-pat", Secret: tableau.NewSecret("fake-wrong-secret")}
	if done, _ := r.run(stormStart.Add(8*time.Second), 100*time.Millisecond, r.validate(callgate.SignIn, rejected)); done {
		t.Fatal("the rejected PAT signed in")
	}
	if n := len(r.calls(http.MethodPost, signInPath)); n != 1 {
		t.Errorf("%d sign-ins in 8 s while status could not be written, want 1", n)
	}
	if r.terminal != 1 || !r.status.Zero() {
		t.Fatalf("verdicts %d, status %+v", r.terminal, r.status)
	}
	if n := r.held[callgate.SignIn]; n != 79 {
		t.Errorf("%d sign-ins counted held back of 79 retries", n)
	}
	r.failWrites = false
	r.run(r.clock.Now().Add(time.Millisecond), time.Second, r.validate(callgate.SignIn, rejected))
	if until := r.status.Holds[callgate.SignIn]; !until.Equal(stormStart.Add(verdictRetry)) {
		t.Errorf("status holds sign-ins until %s, want the next attempt %s", until, stormStart.Add(verdictRetry))
	}
	r.keeper = &gatedclient.Keeper{}
	r.run(stormStart.Add(verdictRetry-time.Second), time.Second, r.validate(callgate.SignIn, rejected))
	if n := len(r.calls(http.MethodPost, signInPath)); n != 1 {
		t.Errorf("%d sign-ins after a restart within the hold, want 1", n)
	}
}

// TestOversizedAnswersOnAFakeClock: a 401 whose code, summary, detail, request id or HTML
// title is 900 KB is recorded bounded, and the one sign-in is not repeated through a minute
// of reconciles.
func TestOversizedAnswersOnAFakeClock(t *testing.T) {
	for _, field := range []string{"code", "summary", "detail", "requestId", "title"} {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, policy(floorDraw))
			r.sim.Inject(tableausim.Fault{Kind: tableausim.FaultOversized, Endpoint: "auth/signin", Field: field, Size: 900_000})
			r.run(stormStart.Add(time.Minute), poke, r.validate(callgate.SignIn, userPAT))
			if n := len(r.calls(http.MethodPost, signInPath)); n != 1 || r.terminal != 1 {
				t.Fatalf("%d sign-ins and %d verdicts, want 1 each", n, r.terminal)
			}
			te, ok := tableau.AsError(r.lastErr)
			if !ok {
				t.Fatalf("not Tableau's answer: %v", r.lastErr)
			}
			for name, v := range map[string]string{"code": te.Code, "summary": te.Summary, "detail": te.Detail, "requestID": te.RequestID, "error": te.Error()} {
				if len(v) > 2048 {
					t.Errorf("%s holds %d bytes", name, len(v))
				}
			}
			if len(r.status.Reason) > 64 || len(r.status.Endpoint) > 32 {
				t.Errorf("the gate records %+v", r.status)
			}
		})
	}
}

// TestPrePromotionCheckStormOnAFakeClock: the pre-promotion check signs in with the candidate
// through three 503s, three 429 pages and two resets, then a 10 s answer: no failure is taken
// for a rejection of the candidate, the checks go out at the floor schedule (0, 0.1, 0.3, 0.7,
// 1.5, 3.1, 6.3, 12.7 s, then 25.5 s) and the slow answer passes the check.
func TestPrePromotionCheckStormOnAFakeClock(t *testing.T) {
	r := newRig(t, policy(floorDraw))
	for _, f := range []tableausim.Fault{
		{Kind: tableausim.FaultServerError, Status: 503, Times: 3},
		{Kind: tableausim.FaultRateLimitHTML, Times: 3},
		{Kind: tableausim.FaultDrop, Times: 2},
	} {
		f.Endpoint = "auth/signin"
		r.sim.Inject(f)
	}
	checks := 0
	r.slow = func(req *http.Request) bool {
		if !strings.HasSuffix(req.URL.Path, signInPath) {
			return false
		}
		checks++
		return checks == 9
	}
	r.slowBy = 10 * time.Second
	done, at := r.run(stormStart.Add(time.Minute), poke, r.validate(callgate.Check, userPAT))
	got := r.calls(http.MethodPost, signInPath)
	want := []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond,
		3100 * time.Millisecond, 6300 * time.Millisecond, 12700 * time.Millisecond, 25500 * time.Millisecond}
	if !done || !near(at, 35500*time.Millisecond) || r.terminal != 0 {
		t.Fatalf("passed=%v at %s with %d verdicts (last: %v), want passed at 35.5 s with none", done, at, r.terminal, r.lastErr)
	}
	if len(got) != len(want) {
		t.Fatalf("checks at %s s, want %s s", seconds(got), seconds(want))
	}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Fatalf("checks at %s s, want %s s", seconds(got), seconds(want))
		}
	}
}
