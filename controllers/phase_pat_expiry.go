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
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/bound"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
)

// ExpiryCheckInterval is how often validation.adminSecretRef reads the PAT's expiry.
const ExpiryCheckInterval = 6 * time.Hour

// expiryCheckDue says whether the PAT's expiry should be read now: never read, read before
// the last sign-in (a new revision), or read longer ago than ExpiryCheckInterval.
func expiryCheckDue(conn *v1.TableauConnection, now time.Time) bool {
	c := conn.Status.Credentials
	if conn.Spec.Validation.AdminSecretRef == nil || conn.Spec.Auth.PersonalAccessToken == nil || c == nil ||
		c.UserID == "" || c.TokenName == "" || c.LastAttemptResult != v1.ResultSucceeded {
		return false
	}
	switch {
	case c.ExpiryCheckedAt == nil:
		return true
	case c.LastSignInTime != nil && c.ExpiryCheckedAt.Before(c.LastSignInTime):
		return true
	}
	return now.Sub(c.ExpiryCheckedAt.Time) >= ExpiryCheckInterval
}

// readPATExpiry reads the connection PAT's expiresAt through List Personal Access Tokens with
// the administrator's session: the PAT that consumers hold is never signed in with for it.
// A failure is logged and tried again after ExpiryCheckInterval; it never fails validation.
func (r *patExpiryPhase) readPATExpiry(ctx context.Context, s *scope) {
	conn := s.conn
	if s.client == nil || !expiryCheckDue(conn, s.now) {
		return
	}
	if err := claimedBeforeAdmin(ctx, &r.statusWriter, s); err != nil {
		// Another install may hold the connection now: no administrator sign-in; the
		// reconcile's own status write meets the same conflict and is retried.
		ctrl.LoggerFrom(ctx).Info("not reading the PAT's expiry before the claim is written", "error", err.Error())
		return
	}
	c := conn.Status.Credentials
	checked := metav1.NewTime(s.now)
	prevChecked := c.ExpiryCheckedAt
	c.ExpiryCheckedAt = &checked
	s.requeueIn(ExpiryCheckInterval)
	log := ctrl.LoggerFrom(ctx)
	admin, release, err := r.adminSignIn(ctx, s, *conn.Spec.Validation.AdminSecretRef, "spec.validation.adminSecretRef")
	if held, ok := gatedclient.AsHeld(err); ok {
		// Nothing went out: read the expiry once the gate opens.
		c.ExpiryCheckedAt = prevChecked
		s.requeueIn(held.Until.Sub(s.now))
		return
	}
	if err != nil {
		v, _ := classify.Failure(err, classify.Evidence{Now: s.now, Site: conn.Spec.Site})
		log.Info("reading the PAT's expiry failed", "bucket", v.Bucket, "reason", v.Reason)
		msg := bound.Text(fmt.Sprintf("%s: %s Next step: %s", v.Reason, v.Message, v.NextStep), v1.MaxExpiryCheckFailureLength)
		if v.Reason == classify.ReasonAdminPATInUse && c.ExpiryCheckFailure != msg {
			r.event(conn, true, v.Reason, msg)
		}
		c.ExpiryCheckFailure = msg
		return
	}
	defer func() {
		defer release()
		if err := s.client.SignOut(ctx, admin); err != nil {
			log.Info("admin sign-out failed; Tableau expires the session on its own", "error", err.Error())
		}
	}()
	pats, err := s.client.ListPersonalAccessTokens(ctx, admin, c.UserID)
	if held, ok := gatedclient.AsHeld(err); ok {
		c.ExpiryCheckedAt = prevChecked
		s.requeueIn(held.Until.Sub(s.now))
		return
	}
	if err != nil {
		v, _ := classify.Failure(err, classify.Evidence{Now: s.now, Site: conn.Spec.Site})
		log.Info("reading the PAT's expiry failed", "bucket", v.Bucket, "reason", v.Reason)
		c.ExpiryCheckFailure = bound.Text(fmt.Sprintf("%s: %s Next step: %s", v.Reason, v.Message, v.NextStep), v1.MaxExpiryCheckFailureLength)
		return
	}
	c.ExpiryCheckFailure = ""
	for _, p := range pats {
		if p.Name == c.TokenName && !p.ExpiresAt.IsZero() {
			exp := metav1.NewTime(p.ExpiresAt.Truncate(time.Minute))
			c.ExpiresAt = &exp
			if untilWarning := exp.Sub(s.now) - ExpiryWarning; untilWarning > 0 {
				s.requeueIn(untilWarning)
			}
			return
		}
	}
	log.Info("the PAT is not among its owner's tokens; no expiry recorded", "tokenName", c.TokenName)
}
