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

package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/bound"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// gateInputs is the digest of what lets a call through the gate early: the spec (its
// generation), the credential's revision and the last handled requested-at annotation.
func gateInputs(conn *v1.TableauConnection) string {
	rev := ""
	if c := conn.Status.Credentials; c != nil {
		rev = c.Revision
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s", conn.Generation, rev, conn.Status.LastHandledRequest))
	return hex.EncodeToString(sum[:12])
}

// gated binds a shared client to the connection's call gate: memory first, status second.
func (r *tableauClients) gated(conn *v1.TableauConnection, raw *tableau.Client) *gatedclient.Client {
	return gatedclient.New(raw, gatedclient.Options{
		Keeper:     &r.mem.gates,
		Connection: r.mem.gateOf(conn),
		Server:     conn.Spec.Server,
		Site:       conn.Spec.Site,
		Inputs:     func() string { return gateInputs(conn) },
		Persisted:  func() callgate.State { return gateFromStatus(conn.Status.CallGate) },
		Persist:    func(st callgate.State) { conn.Status.CallGate = gateToStatus(st) },
		Now:        r.now,
		Policy:     r.Backoff,
		Observe:    metrics.ObserveGate,
	})
}

func gateFromStatus(g *v1.CallGateStatus) callgate.State {
	if g == nil {
		return callgate.State{}
	}
	st := callgate.State{Failures: int(g.ConsecutiveFailures), Reason: g.Reason, Endpoint: g.Endpoint,
		PendingDelete: g.PendingDeleteSecretID, PendingChecks: int(g.PendingChecks), Inputs: g.Inputs}
	if g.NotBefore != nil {
		st.NotBefore = g.NotBefore.Time
	}
	for _, h := range g.Holds {
		if st.Holds == nil {
			st.Holds = map[callgate.Class]time.Time{}
		}
		st.Holds[callgate.Class(h.Class)] = h.Until.Time
	}
	return st
}

// gateToStatus fits the gate into the CRD's bounds. A pending secret id longer than status
// allows (Tableau listed it; Tableau's are 36-character LUIDs) is recorded cut, since the API
// server would refuse every status write otherwise: memory keeps the whole id, and a process
// that restarts from the cut one settles the pending delete at the next listing, which still
// waits for the administrator hold that status keeps.
func gateToStatus(st callgate.State) *v1.CallGateStatus {
	if st.Zero() {
		return nil
	}
	g := &v1.CallGateStatus{ConsecutiveFailures: int32(min(st.Failures, 1<<20)), Reason: bound.Text(st.Reason, v1.MaxCallGateReasonLength),
		Endpoint: bound.Text(st.Endpoint, v1.MaxCallGateEndpointLength), PendingDeleteSecretID: bound.Text(st.PendingDelete, v1.MaxSecretIDLength),
		PendingChecks: int32(min(st.PendingChecks, 1<<20)), Inputs: st.Inputs}
	if !st.NotBefore.IsZero() {
		t := ceilSecond(st.NotBefore)
		g.NotBefore = &t
	}
	for c, t := range st.Holds {
		g.Holds = append(g.Holds, v1.CallGateHold{Class: string(c), Until: ceilSecond(t)})
	}
	sort.Slice(g.Holds, func(i, j int) bool { return g.Holds[i].Class < g.Holds[j].Class })
	return g
}

// ceilSecond rounds up to the second status keeps: a restarted process never calls earlier
// than the gate allowed.
func ceilSecond(t time.Time) metav1.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		t = r.Add(time.Second)
	}
	return metav1.NewTime(t)
}

// syncGateStatus writes the gate this process holds into status. Memory wins: a status
// write that failed left status.callGate behind (or without the hold at all), and the
// reconciles the gate then stops make no call that would persist it again, so a process that
// started from that status would call earlier than the gate allowed.
func (r *TableauConnectionReconciler) syncGateStatus(s *scope) {
	if s.client == nil {
		return
	}
	s.conn.Status.CallGate = gateToStatus(s.client.State())
}

// gateNext is the next attempt a caller records after a failed call of class: the gate's time
// when the answer closed it (throttled, unavailable, timed out: one clock for every path), and
// otherwise next, which the gate then holds in memory, so a status write that fails never
// lets the call out earlier. Only an answer from Tableau holds the gate: a missing Secret
// is fixed by a watched change.
func gateNext(s *scope, class callgate.Class, err error, next metav1.Time) metav1.Time {
	if s.client == nil {
		return next
	}
	if until := s.client.Until(class); !until.IsZero() {
		return metav1.NewTime(until)
	}
	if _, ok := tableau.AsError(err); !ok {
		return next
	}
	if class == callgate.Admin {
		s.client.HoldAdmin(next.Time)
	} else {
		s.client.Hold(class, next.Time)
	}
	return next
}

// heldDetail says in status that a call waits for the gate.
func heldDetail(h *gatedclient.HeldError) string {
	why := ""
	if h.Reason != "" {
		why = " after " + h.Reason
	}
	return fmt.Sprintf("held by the call gate%s until %s", why, h.Until.UTC().Format(time.RFC3339))
}

// pendingReportAfter is how many listings may still show a deleted secret before
// AutomaticRotation says so.
const pendingReportAfter = 3

// automaticHeld records that the automatic rotation's next Tableau call waits for the gate: no
// failure is counted, nothing went out, and the reconcile comes back when the gate opens. A
// delete Tableau acknowledged and still lists is reported after a few checks.
func automaticHeld(s *scope, st *v1.AutomaticRotationStatus, held *gatedclient.HeldError) error {
	s.requeueIn(held.Until.Sub(s.now))
	if g := s.client.State(); g.PendingDelete != "" && g.PendingChecks >= pendingReportAfter {
		// Not a failure: Tableau acknowledged the delete. The next phase's reason replaces
		// this one once the listing no longer shows the secret.
		st.Reason = callgate.ReasonDeletePending
		st.Message = bound.Text(fmt.Sprintf("Tableau acknowledged deleting secret %q and still lists it after %d checks; the operator lists the app's secrets again at %s, never faster than its backoff.",
			g.PendingDelete, g.PendingChecks, held.Until.UTC().Format(time.RFC3339)), 1024)
	}
	return nil
}

// gateClosed ends validation for this reconcile when the gate holds its calls. The gate was
// closed by a recent answer, so the cached copy may be one write behind the status that
// recorded it: then the reconcile comes back in a second from a fresh copy, instead of
// writing conditions computed on the stale one; otherwise when the gate opens.
func (r *verdicts) gateClosed(ctx context.Context, s *scope, until time.Time) outcome {
	if stale, err := r.staleCopy(ctx, s.conn); err != nil || stale {
		return failedOr(err, waitFor(time.Second))
	}
	r.restoreVerdict(s)
	return waitFor(until.Sub(s.now))
}

// verdictMemo is a failure this process recorded from a Tableau answer: when its status
// write failed, the gate holds the next call in memory, and the next reconcile that the gate
// stops writes the failure again, so status says what happened instead of awaiting a sign-in.
type verdictMemo struct {
	inputs      string
	failure     *v1.FailureStatus
	credentials *v1.CredentialStatus
	history     []v1.ValidationAttempt
}

func (r *verdicts) rememberVerdict(s *scope, fromTableau bool) {
	if !fromTableau {
		return
	}
	st := s.conn.Status
	r.mem.setVerdict(s.conn, &verdictMemo{inputs: gateInputs(s.conn), failure: st.LastFailure.DeepCopy(),
		credentials: st.Credentials.DeepCopy(), history: append([]v1.ValidationAttempt(nil), st.History...)})
}

// restoreVerdict puts back a failure recorded in memory that status lacks.
func (r *verdicts) restoreVerdict(s *scope) {
	memo, ok := r.mem.verdict(s.conn)
	if !ok {
		return
	}
	if memo.inputs != gateInputs(s.conn) {
		r.mem.setVerdict(s.conn, nil)
		return
	}
	if f := s.conn.Status.LastFailure; f != nil && f.Time.Unix() >= memo.failure.Time.Unix() {
		r.mem.setVerdict(s.conn, nil) // status holds it (or something newer)
		return
	}
	s.conn.Status.LastFailure = memo.failure.DeepCopy()
	s.conn.Status.Credentials = memo.credentials.DeepCopy()
	s.conn.Status.History = append([]v1.ValidationAttempt(nil), memo.history...)
}
