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
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// validateSignIn signs in and out when the policy says so: OnChange only for a changed
// credential or spec or to retry a failure, Periodic also every interval.
func (r *signInPhase) validateSignIn(ctx context.Context, s *scope) outcome {
	conn := s.conn
	if s.credErr != nil {
		r.recordFailure(ctx, s, v1.StageCredentials, s.credErr)
		return stopped()
	}
	due, next := signInDue(conn, s.revision, s.now)
	if f := conn.Status.LastFailure; !due && f != nil && f.Stage == v1.StageCredentials && conn.Status.Credentials.LastAttemptResult == v1.ResultSucceeded {
		// The credential signed in with these inputs before and reads well again: the
		// failure was the Secret's or the CA bundle's, not the credential's. A PAT holds one
		// session, so no sign-in confirms it: that would end the sessions of its users.
		conn.Status.LastFailure = nil
		return stopped()
	}
	if !due {
		if next > 0 {
			s.requeueIn(next)
		}
		return stopped()
	}
	if before, err := r.validatedBefore(ctx, s); err != nil || before {
		return fromErr(err) // validated before: nothing more to do, and nothing stops
	}
	if until := s.client.HoldsBack(callgate.SignIn); !until.IsZero() {
		// The call gate holds sign-ins (throttling, or a failure recorded in memory whose
		// status write failed): a PAT sign-in ends its users' sessions, never in a loop.
		return r.gateClosed(ctx, s, until)
	}
	if stale, err := r.staleCopy(ctx, conn); err != nil || stale {
		// A sign-in ends the sessions of everyone using the PAT: decide it on the latest
		// status, never on a cached copy one write behind.
		return failedOr(err, waitFor(time.Second))
	}
	cred, err := r.sourceCredential(ctx, s)
	if err != nil {
		return failed(err)
	}
	if s.credErr != nil {
		r.recordFailure(ctx, s, v1.StageCredentials, s.credErr)
		return stopped()
	}
	if err := r.persistValidating(ctx, s); err != nil {
		return failed(err)
	}
	started := time.Now()
	sess, err := signInOut(ctx, s.client, callgate.SignIn, conn.Spec.Site, *cred)
	latency := time.Since(started)
	if held, ok := gatedclient.AsHeld(err); ok {
		return r.gateClosed(ctx, s, held.Until)
	}
	if err != nil {
		v := r.recordFailure(ctx, s, v1.StageSignIn, err)
		audit.Log(ctx, audit.SignIn, conn, audit.Entry{Revision: s.revision, RequestID: conn.Status.LastFailure.RequestID, Bucket: string(v.Bucket), Reason: v.Reason, Result: audit.Failed})
		metrics.ObserveSignIn(false, string(v.Bucket), latency)
		return stopped()
	}
	metrics.ObserveSignIn(true, "", latency)
	r.recordSuccess(s, sess, latency)
	audit.Log(ctx, audit.SignIn, conn, audit.Entry{Revision: s.revision, RequestID: sess.RequestID, Reason: v1.ReasonSignedIn, Result: audit.Succeeded})
	if conn.Spec.Validation.SignIn == v1.SignInPeriodic {
		s.requeueIn(periodicInterval(conn))
	}
	return proceeded()
}

// validatedBefore records, without a sign-in, a PAT that a retained consumer Secret shows
// validated: the connection was re-created (its status is new) over a consumer Secret the
// operator wrote for a connection of this name, holding this revision at this endpoint. The
// operator writes only validated credentials there, and a sign-in would end the sessions of
// every workload using it. A failed attempt, a request to re-validate or a new revision signs
// in as usual.
func (r *signInPhase) validatedBefore(ctx context.Context, s *scope) (bool, error) {
	conn := s.conn
	c := conn.Status.Credentials
	if conn.Spec.Consumers == nil || conn.Spec.Auth.PersonalAccessToken == nil || s.revision == "" ||
		(c != nil && (c.LastAttemptRevision != "" || c.LastSignInTime != nil || c.ValidatedBefore != "")) {
		return false, nil
	}
	name := conn.Spec.Consumers.SecretName
	held, _, err := r.observeCopy(ctx, conn, name, true)
	if err != nil || !held.Ours || held.Holds != (rotation.Bundle{Revision: s.revision, Endpoint: endpointDigest(conn)}) {
		return false, err
	}
	c = recordAttempt(s, v1.ResultSucceeded)
	c.ValidatedBefore = name
	conn.Status.LastFailure = nil
	return true, nil
}

// staleCopy reports whether the cached connection is behind the API server's.
func (r *verdicts) staleCopy(ctx context.Context, conn *v1.TableauConnection) (bool, error) {
	meta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "TableauConnection"}}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}, meta); err != nil {
		return false, fmt.Errorf("reading the connection: %w", err)
	}
	return meta.ResourceVersion != conn.ResourceVersion, nil
}

// sameSignInInputs reports whether the last sign-in attempt used this revision, server and
// site. Empty recorded inputs (from before they were recorded) count as the same.
func sameSignInInputs(conn *v1.TableauConnection, revision string) bool {
	c := conn.Status.Credentials
	return c != nil && c.LastAttemptRevision == revision &&
		(c.LastAttemptServer == "" || c.LastAttemptServer == conn.Spec.Server) &&
		(c.LastAttemptSite == nil || *c.LastAttemptSite == conn.Spec.Site)
}

// signInDue says whether a sign-in is due now, and otherwise how long until it is. The
// one-session rule: with the same revision, server and site as the last attempt, only a
// failed sign-in (after its backoff) or signIn: Periodic signs in again. No other spec edit,
// no Secret restored with the same revision, no retry after a failure that was not the
// sign-in's does. tableau-operator.dev/requested-at clears the recorded inputs.
func signInDue(conn *v1.TableauConnection, revision string, now time.Time) (bool, time.Duration) {
	c := conn.Status.Credentials
	if !sameSignInInputs(conn, revision) {
		return true, 0
	}
	if c.LastAttemptResult != v1.ResultSucceeded {
		f := conn.Status.LastFailure
		if f == nil || f.NextAttemptTime == nil || !now.Before(f.NextAttemptTime.Time) {
			return true, 0
		}
		return false, f.NextAttemptTime.Sub(now)
	}
	if conn.Spec.Validation.SignIn == v1.SignInPeriodic {
		if c.LastSignInTime == nil {
			return true, 0
		}
		dueAt := c.LastSignInTime.Add(periodicInterval(conn))
		if !now.Before(dueAt) {
			return true, 0
		}
		return false, dueAt.Sub(now)
	}
	return false, 0
}

func periodicInterval(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Validation.Interval; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return DefaultPeriodicInterval
}
