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
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// ceiling draws the largest delay, so expectations are exact.

var ceiling = backoff.Policy{Base: 200 * time.Millisecond, Cap: 30 * time.Second, Rand: func() float64 { return 0.999999999 }}

func near(a, b time.Time) bool { d := a.Sub(b); return d > -time.Millisecond && d < time.Millisecond }

func TestObserveTable(t *testing.T) {
	throttled := Answer{Class: Admin, Endpoint: "secrets/create", Transient: true, Reason: "RateLimited"}
	for _, tc := range []struct {
		name    string
		before  State
		answer  Answer
		class   Class
		wantAt  time.Duration // from t0; 0: open
		wantF   int
		comment string
	}{
		{name: "429 without Retry-After closes every class for the first backoff", answer: throttled, class: SignIn,
			wantAt: 200 * time.Millisecond, wantF: 1},
		{name: "429 with Retry-After waits at least Retry-After", answer: Answer{Class: Admin, Endpoint: "secrets/create", Transient: true, RetryAfter: 300 * time.Second},
			class: Check, wantAt: 300 * time.Second, wantF: 1},
		{name: "the backoff doubles with each failure", before: State{Failures: 3, Endpoint: "signin"}, answer: Answer{Class: SignIn, Endpoint: "signin", Transient: true},
			class: ServerInfo, wantAt: 1600 * time.Millisecond, wantF: 4},
		{name: "the backoff is capped", before: State{Failures: 40, Endpoint: "signin"}, answer: Answer{Class: SignIn, Endpoint: "signin", Transient: true},
			class: Admin, wantAt: 30 * time.Second, wantF: 41},
		{name: "a success of the failing endpoint ends the streak", before: State{Failures: 5, Endpoint: "secrets/create", NotBefore: t0.Add(-time.Second)},
			answer: Answer{Class: Admin, Endpoint: "secrets/create"}, class: Admin, wantF: 0},
		{name: "an admin sign-in that works mid-storm keeps the streak", before: State{Failures: 5, Endpoint: "secrets/create", NotBefore: t0.Add(-time.Second)},
			answer: Answer{Class: Admin, Endpoint: "signin"}, class: Admin, wantF: 5},
		{name: "a success long after the storm ends the streak", before: State{Failures: 5, Endpoint: "secrets/create", NotBefore: t0.Add(-time.Hour)},
			answer: Answer{Class: Admin, Endpoint: "signin"}, class: Admin, wantF: 0},
		{name: "a terminal answer neither closes nor counts", answer: Answer{Class: SignIn, Endpoint: "signin"}, class: SignIn, wantF: 0},
		{name: "a success clears its own class's hold", before: State{Holds: map[Class]time.Time{SignIn: t0.Add(-time.Second), Admin: t0.Add(time.Minute)}},
			answer: Answer{Class: SignIn, Endpoint: "signin"}, class: Admin, wantAt: time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.before.Observe(tc.answer, t0, ceiling)
			until := st.Until(tc.class, t0)
			if tc.wantAt == 0 && !until.IsZero() {
				t.Fatalf("closed until %s, want open", until)
			}
			if tc.wantAt != 0 && !near(until, t0.Add(tc.wantAt)) {
				t.Fatalf("until %s, want %s", until.Sub(t0), tc.wantAt)
			}
			if st.Failures != tc.wantF {
				t.Fatalf("failures %d, want %d", st.Failures, tc.wantF)
			}
		})
	}
}

func TestHoldsAreOneClassAndSignOutOnlyTheSharedClock(t *testing.T) {
	st := State{}.Hold(Admin, t0.Add(time.Minute), t0)
	if ok, _ := st.Allows(SignIn, t0); !ok {
		t.Fatal("an admin hold held the validation sign-in")
	}
	if ok, until := st.Allows(Admin, t0); ok || !until.Equal(t0.Add(time.Minute)) {
		t.Fatalf("admin allowed=%v until %s", ok, until)
	}
	if ok, _ := st.Allows(SignOut, t0); !ok {
		t.Fatal("a class hold kept a session open")
	}
	st = st.Observe(Answer{Class: SignIn, Endpoint: "signin", Transient: true}, t0, ceiling)
	if ok, _ := st.Allows(SignOut, t0); ok {
		t.Fatal("a throttled answer let a sign-out through at once")
	}
	if ok, _ := st.Allows(Admin, t0.Add(time.Minute)); !ok {
		t.Fatal("the hold outlived its time")
	}
	if st.Hold(Admin, t0.Add(time.Second), t0).Holds[Admin] != t0.Add(time.Minute) {
		t.Fatal("a shorter hold shortened a longer one")
	}
}

func TestInputsChangeOpensTheGate(t *testing.T) {
	st := State{Failures: 2, NotBefore: t0.Add(time.Hour), Holds: map[Class]time.Time{SignIn: t0.Add(time.Hour)}, Inputs: "a"}
	if ok, _ := st.For("a").Allows(SignIn, t0); ok {
		t.Fatal("same inputs: the gate must stay closed")
	}
	if ok, _ := st.For("b").Allows(SignIn, t0); !ok {
		t.Fatal("changed inputs: the gate must open")
	}
}

// TestDeleteThatDoesNotTake walks a delete Tableau acknowledges and keeps listing: each check
// waits longer, the count grows, and a listing without the secret ends it.
func TestDeleteThatDoesNotTake(t *testing.T) {
	now := t0
	st := State{}.Deleted("old", now, ceiling)
	if ok, _ := st.Allows(Admin, now); ok {
		t.Fatal("the re-check listing went out at once after the delete")
	}
	var last time.Duration
	for i := 1; i <= 6; i++ {
		now = st.Until(Admin, now)
		st = st.Listed([]string{"old", "new"}, now, ceiling)
		if st.PendingChecks != i {
			t.Fatalf("check %d counted %d", i, st.PendingChecks)
		}
		wait := st.Until(Admin, now).Sub(now)
		if wait <= last && wait < ceiling.Cap {
			t.Fatalf("check %d waits %s, not longer than %s", i, wait, last)
		}
		last = wait
		now = st.Until(Admin, now)
		st = st.Deleted("old", now, ceiling)
		if st.PendingChecks != i {
			t.Fatal("a repeated delete of the same secret reset the count")
		}
	}
	now = st.Until(Admin, now)
	st = st.Listed([]string{"new"}, now, ceiling)
	if st.PendingDelete != "" || st.PendingChecks != 0 || !st.Zero() {
		t.Fatalf("a listing without the secret did not end the pending delete: %+v", st)
	}
}

// TestStormCallsPerWindow drives the gate with an endpoint that always answers 429 without
// Retry-After, calling whenever the gate allows, with the jitter drawn at its worst (0), and
// counts calls per 10 s window: at most 8 in the first, at most one in each after the
// backoff reached its cap.
func TestStormCallsPerWindow(t *testing.T) {
	p := backoff.Policy{Base: 200 * time.Millisecond, Cap: 30 * time.Second, Rand: func() float64 { return 0 }}
	now, st := t0, State{}
	windows := map[int64]int{}
	calls := 0
	for now.Before(t0.Add(10 * time.Minute)) {
		if ok, until := st.Allows(Admin, now); !ok {
			now = until
			continue
		}
		windows[int64(now.Sub(t0)/(10*time.Second))]++
		calls++
		st = st.Observe(Answer{Class: Admin, Endpoint: "secrets/create", Transient: true}, now, p)
	}
	if windows[0] > 8 {
		t.Fatalf("%d calls in the first 10 s", windows[0])
	}
	for w, n := range windows {
		if w >= 3 && n > 1 {
			t.Fatalf("%d calls in window %d (from %d s)", n, w, w*10)
		}
	}
	if calls > 60 {
		t.Fatalf("%d calls in 10 minutes", calls)
	}
	t.Logf("%d calls in 10 minutes of 429s; first window %d", calls, windows[0])
}
