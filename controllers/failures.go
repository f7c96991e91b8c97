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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/bound"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// recordFailure classifies err with the evidence status holds and records it.
func (r *verdicts) recordFailure(ctx context.Context, s *scope, stage string, err error) classify.Verdict {
	conn := s.conn
	ev := classify.Evidence{Now: s.now, Site: conn.Spec.Site, ConnectedApp: usesConnectedApp(conn)}
	if c := conn.Status.Credentials; c != nil {
		if c.RevisionChangedAt != nil {
			ev.SecretChangedAt = c.RevisionChangedAt.Time
		}
		if c.LastSignInTime != nil {
			ev.LastSignIn = c.LastSignInTime.Time
		}
		if c.LastAttemptSite != nil && *c.LastAttemptSite != conn.Spec.Site {
			ev.SiteChangedAt = s.now
		}
	}
	v, _ := classify.Failure(err, ev)
	te, _ := tableau.AsError(err)
	r.recordVerdict(ctx, s, stage, v, te)
	return v
}

// recordVerdict writes a failure into status: lastFailure with its evidence and next attempt,
// the attempt's inputs (for credential and sign-in failures), and the history.
func (r *verdicts) recordVerdict(ctx context.Context, s *scope, stage string, v classify.Verdict, te *tableau.Error) {
	conn := s.conn
	now := metav1.NewTime(s.now)
	prev := conn.Status.LastFailure
	f := &v1.FailureStatus{Bucket: string(v.Bucket), Reason: v.Reason, Stage: stage, Message: v.Message, NextStep: v.NextStep,
		Time: now, Since: now, ConsecutiveFailures: 1, Generation: conn.Generation, Revision: s.revision}
	if prev != nil {
		f.Since, f.ConsecutiveFailures = prev.Since, prev.ConsecutiveFailures+1
	}
	var retryAfter time.Duration
	attempt := v1.ValidationAttempt{Time: now, Kind: attemptKind(stage), Result: v1.ResultFailed, Bucket: f.Bucket, Reason: f.Reason, Revision: s.revision}
	if te != nil {
		// Everything from Tableau or the network is bounded before it reaches status.
		f.HTTPStatus, f.TableauCode, f.Summary, f.Detail = int32(te.HTTPStatus), bound.Text(te.Code, 32), bound.Text(te.Summary, 300), bound.Text(te.Detail, 300)
		f.RequestID, f.Endpoint = bound.Text(te.RequestID, 128), bound.Text(te.Endpoint, 128)
		attempt.HTTPStatus, attempt.TableauCode, attempt.RequestID, attempt.LatencyMs = f.HTTPStatus, f.TableauCode, f.RequestID, te.Latency.Milliseconds()
		retryAfter = te.RetryAfter
	}
	var wait time.Duration
	switch {
	case transient(v.Bucket):
		wait = r.Backoff.Delay(int(f.ConsecutiveFailures)-1, retryAfter)
	case v.Bucket == classify.APIVersionMismatch:
		// serverinfo is cheap and shared: recheck the version at the usual pace.
		wait = jitter(serverCheckInterval(conn))
	default:
		wait = jitter(SlowRecheck)
	}
	next := metav1.NewTime(s.now.Add(wait))
	if te != nil {
		// One clock: the gate's time when this answer closed it; otherwise the gate holds
		// the stage's calls until next in memory, whatever becomes of the status write.
		class := callgate.SignIn
		if stage == v1.StageServer {
			class = callgate.ServerInfo
		}
		next = gateNext(s, class, te, next)
		wait = next.Sub(s.now)
	}
	f.NextAttemptTime = &next
	conn.Status.LastFailure = f
	defer r.rememberVerdict(s, te != nil)
	if stage == v1.StageSignIn {
		recordAttempt(s, v1.ResultFailed)
	} else if stage == v1.StageCredentials && s.revision != "" {
		c := credentialStatus(conn.Status.Credentials)
		c.Revision = s.revision
		s.ident.set(c, s.fromIssued)
		conn.Status.Credentials = c
	}
	pushHistory(conn, attempt)
	s.requeueIn(wait)
	ctrl.LoggerFrom(ctx).Info("validation failed", "bucket", v.Bucket, "reason", v.Reason, "httpStatus", f.HTTPStatus,
		"tableauCode", f.TableauCode, "requestID", f.RequestID, "consecutiveFailures", f.ConsecutiveFailures, "nextAttempt", next.UTC())
}

func (r *verdicts) recordSuccess(s *scope, sess *tableau.Session, latency time.Duration) {
	conn := s.conn
	now := metav1.NewTime(s.now)
	c := recordAttempt(s, v1.ResultSucceeded)
	c.LastSignInTime, c.ValidatedBefore = &now, ""
	c.UserID = bound.Text(sess.UserID, v1.MaxUserIDLength)
	c.ExpiresAt = nil
	if sess.PATExpiryKnown {
		exp := metav1.NewTime(s.now.Add(sess.PATExpiresIn).Truncate(time.Minute))
		c.ExpiresAt = &exp
		if untilWarning := exp.Sub(s.now) - ExpiryWarning; untilWarning > 0 {
			s.requeueIn(untilWarning)
		}
	}
	conn.Status.Credentials = c
	conn.Status.LastFailure = nil
	if rs := conn.Status.Rotation; rs != nil && rs.ActiveRevision == s.revision {
		// The active credential signed in: its expiry is the one consumers live with.
		rs.ActiveExpiresAt = c.ExpiresAt
	}
	r.mem.setVerdict(conn, nil)
	pushHistory(conn, v1.ValidationAttempt{Time: now, Kind: v1.AttemptSignIn, Result: v1.ResultSucceeded, RequestID: sess.RequestID,
		LatencyMs: latency.Milliseconds(), Revision: s.revision})
}

// attemptKind is the kind of history row a failure at a stage is: only the sign-in stage's
// is a sign-in Tableau saw.
func attemptKind(stage string) string {
	switch stage {
	case v1.StageServer:
		return v1.AttemptServerInfo
	case v1.StageCredentials:
		return v1.AttemptCredentials
	}
	return v1.AttemptSignIn
}

// recordCandidateCheck records the sign-in right before promotion in the history, like every
// other sign-in Tableau saw; a call the gate held back never went out and is not recorded.
// The failure itself is the candidate's (rotation status), not the connection's: lastFailure
// and the one-session inputs stay those of the source's validation.
func recordCandidateCheck(s *scope, revision string, sess *tableau.Session, err error, latency time.Duration) {
	if heldByGate(err) {
		return
	}
	a := v1.ValidationAttempt{Time: metav1.NewTime(s.now), Kind: v1.AttemptCandidateCheck, Result: v1.ResultSucceeded, Revision: revision,
		LatencyMs: latency.Milliseconds()}
	if sess != nil {
		a.RequestID = bound.Text(sess.RequestID, 128)
	}
	if err != nil {
		v, _ := classify.Failure(err, classify.Evidence{Now: s.now, Site: s.conn.Spec.Site, ConnectedApp: usesConnectedApp(s.conn)})
		a.Result, a.Bucket, a.Reason = v1.ResultFailed, string(v.Bucket), v.Reason
		if te, ok := tableau.AsError(err); ok {
			a.HTTPStatus, a.TableauCode, a.RequestID = int32(te.HTTPStatus), bound.Text(te.Code, 32), bound.Text(te.RequestID, 128)
			a.LatencyMs = te.Latency.Milliseconds()
		}
	}
	pushHistory(s.conn, a)
}

// signedInExpiry is the expiry Tableau reported at the last successful sign-in of revision,
// when status still holds it (nil otherwise, and for a connected app).
func signedInExpiry(conn *v1.TableauConnection, revision string) *metav1.Time {
	c := conn.Status.Credentials
	if c == nil || revision == "" || c.Revision != revision || c.ExpiresAt == nil || c.LastSignInTime == nil {
		return nil
	}
	exp := *c.ExpiresAt
	return &exp
}

// recordAttempt records the inputs and result of a sign-in: the one-session rule compares
// the next reconcile's inputs with them.
func recordAttempt(s *scope, result string) *v1.CredentialStatus {
	conn := s.conn
	c := credentialStatus(conn.Status.Credentials)
	c.Revision = s.revision
	s.ident.set(c, result == v1.ResultSucceeded || s.fromIssued)
	site := conn.Spec.Site
	c.LastAttemptRevision, c.LastAttemptServer, c.LastAttemptSite, c.LastAttemptResult = s.revision, conn.Spec.Server, &site, result
	conn.Status.Credentials = c
	return c
}

func tableauError(err error) (*tableau.Error, bool) { return tableau.AsError(err) }

func pushHistory(conn *v1.TableauConnection, a v1.ValidationAttempt) {
	h := append([]v1.ValidationAttempt{a}, conn.Status.History...)
	if len(h) > historyLength {
		h = h[:historyLength]
	}
	conn.Status.History = h
}
