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

// Package callgate is the one clock of a connection's Tableau calls: a pure value that says
// "call now, or wait until T", fed by every answer. A throttled, unavailable or timed-out
// answer (429 with or without Retry-After, 5xx, a reset, a timeout) closes the gate for every
// class of calls, for a capped, jittered backoff that is never shorter than Retry-After. An
// answer that concerns one class only (a rejected sign-in, a delete Tableau acknowledged but
// still lists) holds that class. The gate remembers the inputs it was closed under; only a
// change of them (the spec, the Secret, a requested re-validation) opens it early.
package callgate

import (
	"slices"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
)

// Class is a class of Tableau calls. Every call of a connection belongs to one.
type Class string

// Classes of calls.
const (
	// ServerInfo is the unauthenticated serverinfo call.
	ServerInfo Class = "serverinfo"
	// SignIn is the validation sign-in with the connection's credential.
	SignIn Class = "signin"
	// Check is the sign-in with a staged candidate right before promotion.
	Check Class = "check"
	// Admin is every call with the site administrator's PAT: its sign-in, the connected-app
	// secret create, list and delete, and List Personal Access Tokens.
	Admin Class = "admin"
	// SignOut ends a session this process opened. Only the shared clock holds it: a class
	// hold never keeps a session open.
	SignOut Class = "signout"
)

// Classes lists every class, for metrics and tests.
var Classes = []Class{ServerInfo, SignIn, Check, Admin, SignOut}

// Reasons the gate records besides the classifier's.
const (
	// ReasonDeletePending: Tableau acknowledged deleting a secret and still lists it.
	ReasonDeletePending = "DeletePending"
)

// Answer is what one call learned about the server.
type Answer struct {
	Class Class
	// Endpoint names the call (e.g. "secrets/create"); a success of the endpoint that
	// failed last ends the failure streak.
	Endpoint string
	// Transient: throttled, unavailable, timed out or reset; the server asks for less.
	Transient bool
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Reason of a transient answer (the classifier's reason).
	Reason string
}

// State is one gate. The zero value is open.
type State struct {
	// NotBefore closes every class until then.
	NotBefore time.Time
	// Failures counts transient answers in a row: the backoff's exponent.
	Failures int
	// Reason and Endpoint of the last transient answer.
	Reason, Endpoint string
	// Holds close one class each.
	Holds map[Class]time.Time
	// PendingDelete is a secret whose delete Tableau acknowledged; PendingChecks counts
	// the listings that still showed it.
	PendingDelete string
	PendingChecks int
	// Inputs is the digest of the inputs the gate was closed under.
	Inputs string
}

// Zero reports whether the gate holds nothing and remembers nothing.
func (s State) Zero() bool {
	return s.NotBefore.IsZero() && s.Failures == 0 && s.Reason == "" && s.Endpoint == "" && len(s.Holds) == 0 &&
		s.PendingDelete == "" && s.PendingChecks == 0
}

// Equal compares two states.
func (s State) Equal(o State) bool {
	if !s.NotBefore.Equal(o.NotBefore) || s.Failures != o.Failures || s.Reason != o.Reason || s.Endpoint != o.Endpoint ||
		s.PendingDelete != o.PendingDelete || s.PendingChecks != o.PendingChecks || s.Inputs != o.Inputs || len(s.Holds) != len(o.Holds) {
		return false
	}
	for c, t := range s.Holds {
		if u, ok := o.Holds[c]; !ok || !u.Equal(t) {
			return false
		}
	}
	return true
}

func (s State) clone() State {
	if s.Holds != nil {
		h := make(map[Class]time.Time, len(s.Holds))
		for c, t := range s.Holds {
			h[c] = t
		}
		s.Holds = h
	}
	return s
}

// For returns the state as it applies under inputs: a gate closed under other inputs (a
// changed spec or Secret, a new request) is open.
func (s State) For(inputs string) State {
	if s.Inputs != inputs {
		return State{Inputs: inputs}
	}
	return s
}

// Until is when class c may call next; the zero time when it may call at once.
func (s State) Until(c Class, now time.Time) time.Time {
	until := s.NotBefore
	if c != SignOut {
		if h := s.Holds[c]; h.After(until) {
			until = h
		}
	}
	if !until.After(now) {
		return time.Time{}
	}
	return until
}

// Allows reports whether class c may call now, and otherwise until when it waits.
func (s State) Allows(c Class, now time.Time) (bool, time.Time) {
	until := s.Until(c, now)
	return until.IsZero(), until
}

// delay is the wait after failure n: the policy's jittered delay, but never less than half its
// ceiling, so the number of calls a storm lets out is bounded whatever the jitter draws
// (full jitter alone may draw 0 again and again).
func delay(p backoff.Policy, n int, retryAfter time.Duration) time.Duration {
	return max(p.Delay(n, retryAfter), p.Ceiling(n)/2)
}

// streakOver: an answer this long after the gate opened no longer belongs to the storm that
// closed it, so a success of any endpoint ends the failure streak.
func streakOver(s State, now time.Time, p backoff.Policy) bool {
	return !s.NotBefore.IsZero() && now.Sub(s.NotBefore) > p.Cap
}

// Observe feeds one answer to the gate.
func (s State) Observe(a Answer, now time.Time, p backoff.Policy) State {
	s = s.clone()
	if a.Transient {
		s.Failures++
		s.NotBefore = now.Add(delay(p, s.Failures-1, a.RetryAfter))
		s.Reason, s.Endpoint = a.Reason, a.Endpoint
		return s.prune(now)
	}
	// The server answered. A success of another endpoint in the middle of a storm (an admin
	// sign-in before a throttled create) does not end the streak: the next throttled answer
	// still waits longer than the last.
	if s.Failures > 0 && (a.Endpoint == s.Endpoint || streakOver(s, now, p)) {
		s.Failures, s.NotBefore, s.Reason, s.Endpoint = 0, time.Time{}, "", ""
	}
	if s.Holds != nil {
		delete(s.Holds, a.Class)
	}
	return s.prune(now)
}

// Hold closes class c until t (never earlier than an existing hold).
func (s State) Hold(c Class, until time.Time, now time.Time) State {
	s = s.clone()
	if !until.After(now) {
		return s.prune(now)
	}
	if s.Holds == nil {
		s.Holds = map[Class]time.Time{}
	}
	if until.After(s.Holds[c]) {
		s.Holds[c] = until
	}
	return s.prune(now)
}

// Deleted records that Tableau acknowledged deleting secret id: it is pending until a listing
// no longer shows it, and the listing that checks waits for the gate's backoff.
func (s State) Deleted(id string, now time.Time, p backoff.Policy) State {
	if s.PendingDelete != id {
		s.PendingDelete, s.PendingChecks = id, 0
	}
	return s.Hold(Admin, now.Add(delay(p, s.PendingChecks, 0)), now)
}

// Listed feeds a listing of the app's secrets: a pending secret still listed is a delete
// that did not take, counted and held back for a longer backoff; one no longer listed is done.
func (s State) Listed(ids []string, now time.Time, p backoff.Policy) State {
	if s.PendingDelete == "" {
		return s
	}
	if !slices.Contains(ids, s.PendingDelete) {
		s = s.clone()
		s.PendingDelete, s.PendingChecks = "", 0
		if s.Reason == ReasonDeletePending {
			s.Reason = ""
		}
		return s.prune(now)
	}
	s.PendingChecks++
	s = s.Hold(Admin, now.Add(delay(p, s.PendingChecks, 0)), now)
	return s
}

// prune drops holds that ended. The failure streak and a pending delete stay until an answer
// ends them.
func (s State) prune(now time.Time) State {
	for c, t := range s.Holds {
		if !t.After(now) {
			delete(s.Holds, c)
		}
	}
	if len(s.Holds) == 0 {
		s.Holds = nil
	}
	if s.Failures == 0 && !s.NotBefore.After(now) {
		s.NotBefore = time.Time{}
	}
	if s.Zero() {
		return State{}
	}
	return s
}
