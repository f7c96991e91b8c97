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
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/bound"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/credential"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// CrashAfterSecretCreated is the CrashHook phase right after a secret was created on Tableau
// and before its value is stored: the moment that leaves an orphan.
const CrashAfterSecretCreated = "SecretCreated"

// maxAutomaticSteps bounds the issue steps one reconcile takes.
const maxAutomaticSteps = 8

// issuedName is the operator's Secret that holds the connected-app secret it created last.
// With rotation.automatic it supersedes the person's source Secret as the bundle planner's
// source: the person's Secret gave the first secret, the operator issues the next ones.
func issuedName(conn *v1.TableauConnection) string {
	return conn.Spec.Consumers.SecretName + "-issued"
}

func automatic(conn *v1.TableauConnection) *v1.AutomaticRotation {
	if conn.Spec.Consumers == nil || conn.Spec.Auth.ConnectedApp == nil {
		return nil
	}
	return conn.Spec.Rotation.Automatic
}

// adminNote is said in status whenever automatic rotation is on: the one-session rule.
func adminNote(a *v1.AutomaticRotation) string {
	return fmt.Sprintf("The site administrator's PAT in Secret %q is used only by the operator: each of its sign-ins ends every other session of that PAT, so no workload or person may use it.", a.AdminSecretRef.Name)
}

// automaticScope is what one reconcile learned for the issue planner, and the admin session.
type automaticScope struct {
	admin *tableau.Session
	// release lets the next reconcile use the admin PAT; see endAdminSession.
	release func()
	// kept: admin is the session an earlier step of this rotation signed in with (memory),
	// memo what is remembered of it.
	kept   bool
	memo   adminMemo
	listed []string
	ok     bool
	// seen are the secret ids this reconcile read from the Secrets (see seeAutomatic).
	seen *automaticSeen
	// pending are the transitions recorded in status and not written yet: a step without an
	// action is written with the next step's record, or at the end of the reconcile.
	pending []automaticTransition
}

// automaticTransition is a phase change told in an Event once status records it.
type automaticTransition struct {
	warning                bool
	phase, reason, message string
}

// adminMemo is an administrator session kept in process memory (memory.admin, per connection
// object) from one step of an automatic rotation to the next: the listing and create of
// Creating and, once the new secret passed its gate, the listing and delete of Retiring share
// one sign-in. It is signed out when the rotation ends, stalls or fails; a connection deleted
// meanwhile drops it with the rest of its memory, and Tableau ends the session at the PAT's
// next sign-in or when it expires.
type adminMemo struct {
	sess *tableau.Session
	// adminKey names the PAT's call gate (gatedclient.Client.AdminKey), lockKey its turn
	// among connections that share it (adminLocks).
	adminKey, lockKey string
	// secretVersion is the admin Secret's resourceVersion and UID the session signed in with:
	// a Secret changed since (another PAT, the consent label gone) is signed in with again.
	secretVersion string
	// endpoint is the server and site it belongs to: its token is never sent anywhere else
	// (spec.server or spec.site edited mid-rotation).
	endpoint string
}

func adminEndpoint(conn *v1.TableauConnection) string {
	return conn.Spec.Server + "|" + conn.Spec.Site
}

// reconcileAutomatic observes, plans with rotation.PlanAutomatic, persists, and applies one action at
// a time. Every phase is persisted before its action; the intent is persisted before the
// create call, so a secret created just before a crash is found and deleted as an orphan.
// A phase change that no action follows in this reconcile is written with the next step's
// record or at its end, once (issue 23: status once per reconcile, not once per step).
func (r *automaticPhase) reconcileAutomatic(ctx context.Context, s *scope) error {
	conn := s.conn
	a := automatic(conn)
	rs := conn.Status.Rotation
	// Ended on every path: a rotation whose spec.rotation.automatic (or rotation status) went
	// away mid-rotation signs out the session an earlier step kept.
	isc := &automaticScope{}
	defer r.endAdminSession(ctx, s, isc)
	if a == nil || rs == nil {
		if rs != nil {
			rs.Automatic = nil
		}
		noteAutomaticWritesAccepted(s)
		return nil
	}
	if rs.Automatic == nil {
		rs.Automatic = &v1.AutomaticRotationStatus{Phase: string(rotation.AutomaticIdle)}
	}
	err := r.automaticSteps(ctx, s, isc, a)
	if len(isc.pending) > 0 {
		// The transitions no action followed, with whatever this reconcile recorded after
		// them (a failure, the schedule), in one locked write.
		if ferr := r.flushAutomatic(ctx, s, isc); err == nil {
			err = ferr
		}
	}
	return err
}

// automaticSteps takes the issue steps of one reconcile.
func (r *automaticPhase) automaticSteps(ctx context.Context, s *scope, isc *automaticScope, a *v1.AutomaticRotation) error {
	conn := s.conn
	for i := 0; i < maxAutomaticSteps; i++ {
		// A status write decodes the API server's answer into s.conn, which may replace the
		// struct st pointed to: what is recorded next goes to the one that is written.
		st := conn.Status.Rotation.Automatic
		o, due, err := r.observeAutomatic(ctx, s, isc)
		if err != nil {
			return r.automaticFailed(ctx, s, err)
		}
		if o.Phase != rotation.AutomaticIdle || (o.Due && o.BundleIdle) {
			if other, err := r.appSharedWith(ctx, conn); err != nil || other != "" {
				return r.automaticRefused(s, other, err)
			}
		}
		step := rotation.PlanAutomatic(o)
		if step.Action == rotation.ListSecrets {
			if err := r.listAppSecrets(ctx, s, isc); err != nil {
				return r.automaticFailed(ctx, s, err)
			}
			continue // a failure is cleared by the step's action, which the listing only prepares
		}
		if !rotation.AutomaticAllowed(o.Phase, step.Phase) {
			return fmt.Errorf("the automatic rotation planner moved %s to %s, which the transition table does not allow", o.Phase, step.Phase)
		}
		if step.Phase == o.Phase && step.Records == o.Records && step.Action == rotation.AutomaticNone {
			automaticSucceeded(st)
			noteAutomaticWritesAccepted(s) // nothing is left to write
			if step.Phase == rotation.AutomaticIdle {
				st.Reason, st.Message = "Scheduled", fmt.Sprintf("The next secret is created at %s. %s", due.UTC().Format(time.RFC3339), adminNote(a))
				if wait := due.Sub(r.now()); wait > 0 {
					s.requeueIn(wait)
				}
			}
			if step.Phase == rotation.AutomaticStalled {
				if step.Reason == rotation.AutomaticReasonForeign {
					st.Reason, st.Message = string(step.Reason), automaticMessage(conn, step)
				}
				s.requeueIn(jitter(SlowRecheck))
			}
			return nil
		}
		if step.Phase != o.Phase {
			st.Phase = string(step.Phase)
			st.Reason = string(step.Reason)
			st.Message = automaticMessage(conn, step)
			if step.Phase == rotation.AutomaticIdle {
				st.Message = automaticDoneMessage(o)
			}
			if step.Phase == rotation.AutomaticCreating {
				t := metav1.NewTime(r.now())
				st.CreatingSince = &t
			}
			if toldInEvent(step.Phase) {
				isc.pending = append(isc.pending, automaticTransition{warning: step.Phase != rotation.AutomaticIdle,
					phase: st.Phase, reason: st.Reason, message: st.Message})
			} else {
				isc.pending = append(isc.pending, automaticTransition{phase: st.Phase, reason: st.Reason})
			}
		}
		st.NewSecretID, st.RetiringSecretID, st.HeldSecretIDs = step.Records.New, step.Records.Retiring, heldIDs(step.Records.Held)
		st.CreateSent = step.Records.CreateSent
		if step.Phase == rotation.AutomaticIdle {
			st.CreatingSince = nil
		}
		if step.Action == rotation.AutomaticNone {
			// Recorded; written before the next action or at the end of the reconcile.
			continue
		}
		if err := r.flushAutomatic(ctx, s, isc); err != nil {
			return err
		}
		st = conn.Status.Rotation.Automatic // see the top of the loop
		if err := r.applyAutomatic(ctx, s, isc, step); err != nil {
			if errors.Is(err, ErrCrash) {
				return err
			}
			if step.Action == rotation.CreateSecret && createdNothing(err) {
				// A secret that appears on the app from now on is someone's, not this
				// call's orphan. Written at once, locked: left to the reconcile's last
				// patch, a failed write would keep CreateSent and a secret a person adds
				// later would be deleted as the operator's.
				st.CreateSent = false
				if perr := r.persistLocked(ctx, s); perr != nil {
					return perr
				}
			}
			if r.noteRefusedWrite(ctx, s, err) {
				// The -issued Secret's write refused: on WritesAccepted, retried with backoff.
				return nil
			}
			return r.automaticFailed(ctx, s, err)
		}
		if step.Action == rotation.CreateSecret || step.Action == rotation.RestoreIssued {
			noteAutomaticWritesAccepted(s)
		}
		automaticSucceeded(st)
		isc.ok = false // what is on the app changed: list again when needed
	}
	s.requeueIn(time.Second)
	return nil
}

// flushAutomatic writes status under the resourceVersion precondition when a recorded
// transition awaits its write, or always right before an action (persistLocked sends it only
// when this reconcile has not written yet or status changed), then tells the transitions.
// A failed write drops them: persistLocked put back the rotation status the server has.
func (r *automaticPhase) flushAutomatic(ctx context.Context, s *scope, isc *automaticScope) error {
	pending := isc.pending
	isc.pending = nil
	if err := r.persistLocked(ctx, s); err != nil {
		return err
	}
	if len(pending) > 0 {
		r.mem.wroteOwnPhase(s.conn, time.Now())
	}
	for _, t := range pending {
		if t.message != "" {
			r.event(s.conn, t.warning, t.reason, t.message)
		}
		ctrl.LoggerFrom(ctx).Info("automatic rotation", "phase", t.phase, "reason", t.reason)
	}
	return nil
}

// toldInEvent says which issue phases an Event tells: the outcomes a person reads (the
// rotation finished, the new secret rejected, the app full). The steps in between (the intent,
// the create, the retirement) are in status and in the audit trail, and the bundle planner's
// Events tell the rollout; one Event per step cost four per rotation (issue 23).
func toldInEvent(p rotation.AutomaticPhase) bool {
	return p == rotation.AutomaticIdle || p == rotation.AutomaticDiscarding || p == rotation.AutomaticStalled
}

// automaticDoneMessage tells how the rotation of o's records ended.
func automaticDoneMessage(o rotation.AutomaticObservation) string {
	switch {
	case o.Phase == rotation.AutomaticRetiring && o.Records.New != "":
		return fmt.Sprintf("The automatic rotation finished: secret %q is active, secret %q is deleted on Tableau.", o.Records.New, o.Records.Retiring)
	case o.Phase == rotation.AutomaticDiscarding && o.Records.New != "":
		return fmt.Sprintf("The automatic rotation finished without a new secret: secret %q is deleted on Tableau, consumers keep %q.", o.Records.New, o.Records.Retiring)
	}
	return "The automatic rotation finished."
}

func automaticMessage(conn *v1.TableauConnection, step rotation.AutomaticStep) string {
	switch step.Phase {
	case rotation.AutomaticCreating:
		return fmt.Sprintf("A new secret is due; creating it on connected app %q (secret %q retires after the gate).", conn.Status.Credentials.ClientID, step.Records.Retiring)
	case rotation.AutomaticRollingOut:
		return fmt.Sprintf("Secret %q was created and is rolled out to the consumers.", step.Records.New)
	case rotation.AutomaticRetiring:
		return fmt.Sprintf("Secret %q passed the gate; deleting secret %q on Tableau.", step.Records.New, step.Records.Retiring)
	case rotation.AutomaticDiscarding:
		return fmt.Sprintf("Secret %q was rejected or rolled back; deleting it on Tableau, consumers keep %q.", step.Records.New, step.Records.Retiring)
	case rotation.AutomaticStalled:
		if step.Reason == rotation.AutomaticReasonForeign {
			return bound.Text(fmt.Sprintf("The connected app already holds two secrets (Tableau's limit) and secret %q is not the operator's: it was on the app before the operator decided to create one, and neither the consumers nor the source Secret hold it (made in Tableau's UI or by another tool?). The operator deletes on Tableau only what it can prove it created. Next step: delete secret %q on the connected app if no one uses it; automatic rotation goes on by itself.",
				step.Secret, step.Secret), 1024)
		}
		return "The connected app already holds two secrets (Tableau's limit, error 128) and neither is the operator's to delete: one is the active secret, the other is in the source Secret. Delete the one no one uses on Tableau; the operator never deletes the active one."
	case rotation.AutomaticIdle:
		return "The automatic rotation finished."
	}
	return string(step.Reason)
}

// automaticDue says whether a new secret is due, and otherwise how long until it is: every after
// the active secret became active, or after the last create (a rejected secret is not
// retried at once).
func automaticDue(conn *v1.TableauConnection, now time.Time) (bool, time.Time) {
	a, rs := automatic(conn), conn.Status.Rotation
	since := conn.CreationTimestamp.Time
	if rs.ActiveSince != nil {
		since = rs.ActiveSince.Time
	}
	if st := rs.Automatic; st != nil && st.LastCreateTime != nil && st.LastCreateTime.After(since) {
		since = st.LastCreateTime.Time
	}
	due := since.Add(a.Every.Duration).Truncate(time.Second)
	return !now.Before(due), due
}

// observeAutomatic reads what the issue planner needs. In the steady state (Idle, not due) it
// reads nothing but status.
func (r *automaticPhase) observeAutomatic(ctx context.Context, s *scope, isc *automaticScope) (rotation.AutomaticObservation, time.Time, error) {
	conn, rs := s.conn, s.conn.Status.Rotation
	st := rs.Automatic
	o := rotation.AutomaticObservation{Phase: rotation.AutomaticPhase(st.Phase),
		Records: rotation.AutomaticRecords{New: st.NewSecretID, Retiring: st.RetiringSecretID, Held: rotation.HeldList(st.HeldSecretIDs),
			CreateSent: st.CreateSent}}
	if o.Phase == "" {
		o.Phase = rotation.AutomaticIdle
	}
	var due time.Time
	o.Due, due = automaticDue(conn, r.now())
	o.BundleIdle = rs.Phase == v1.RotationIdle && rs.ActiveRevision != "" && rs.ActiveRevision == s.revision && rs.FailedRevision == ""
	if o.Phase == rotation.AutomaticIdle && !(o.Due && o.BundleIdle) {
		return o, due, nil
	}
	seen, err := r.seeAutomatic(ctx, s, isc, o)
	if err != nil {
		return o, due, err
	}
	o.Active, o.Consumer, o.Issued = seen.active, seen.consumer, seen.issued
	o.Source = r.sourceSecretID(ctx, s, isc, o.Phase)
	o.IssuedRejected = o.Issued != "" && rs.Phase == v1.RotationFailed && rs.FailedRevision != "" && rs.FailedRevision == s.revision && s.fromIssued
	if isc.ok {
		o.Listed, o.OnApp = true, isc.listed
	}
	return o, due, nil
}

// automaticSeen are the secret ids in the consumer Secret, the copy kept for rollback, the
// issued Secret and the person's source Secret, as one reconcile read them. full: all were
// read; otherwise only issued is known (see seeAutomatic).
type automaticSeen struct {
	active, consumer, issued, source string
	full, sourceRead                 bool
	// issuedCopy is the issued Secret as read (nil: it did not exist) while issuedRead: the
	// new secret's write goes over it instead of reading it again (putSecretOver).
	issuedCopy *corev1.Secret
	issuedRead bool
}

// seeAutomatic reads the secret ids the plan of this step decides on. Secret content is read
// once per reconcile: the steps after the first in the same reconcile change only the issued
// Secret, and they note what they wrote there (applyAutomatic). While the bundle planner rolls
// the issued secret out (RollingOut, the bundle not idle, nothing rejected) the plan only
// checks that the issued Secret still holds the new secret: validation read that Secret this
// reconcile (or recalled its unchanged version from status), and when it names the new secret
// nothing is read; anything else is read through the API reader before the plan acts on it.
// The person's Secret and the consumer's are read only for a step that may create or delete.
func (r *automaticPhase) seeAutomatic(ctx context.Context, s *scope, isc *automaticScope, o rotation.AutomaticObservation) (automaticSeen, error) {
	if isc.seen != nil && isc.seen.full {
		return *isc.seen, nil
	}
	if o.Phase == rotation.AutomaticRetiring && (!isc.ok || !slices.Contains(isc.listed, o.Records.Retiring)) {
		// What the Secrets hold matters to Retiring only for a delete, and a delete only
		// of a secret the app still holds: the plan lists the app first, and the Secrets are
		// read once the listing shows the retiring secret there. After the delete (whose
		// confirmation the call gate holds back to a later reconcile) they are not read
		// again to learn that it is gone (issue 23).
		return automaticSeen{}, nil
	}
	conn, rs := s.conn, s.conn.Status.Rotation
	if o.Phase == rotation.AutomaticRollingOut && !o.BundleIdle && rs.Phase != v1.RotationFailed {
		if s.fromIssued && s.secretName == issuedName(conn) && s.credErr == nil && s.ident.secretID != "" && s.ident.secretID == o.Records.New {
			return automaticSeen{issued: s.ident.secretID}, nil
		}
		issued, err := r.secretIDIn(ctx, conn, issuedName(conn), BundleSecretID)
		return automaticSeen{issued: issued}, err
	}
	var seen automaticSeen
	var err error
	if seen.active, err = r.secretIDIn(ctx, conn, conn.Spec.Consumers.SecretName, BundleSecretID); err != nil {
		return seen, err
	}
	seen.consumer = seen.active
	if rs.Phase != v1.RotationIdle {
		// Until the gate passes, the active secret is the one kept for rollback.
		prev, err := r.secretIDIn(ctx, conn, previousName(conn), BundleSecretID)
		if err != nil {
			return seen, err
		}
		if prev != "" {
			seen.active = prev
		}
	}
	if seen.issuedCopy, err = r.readOwn(ctx, conn, issuedName(conn)); err != nil {
		return seen, err
	}
	if seen.issuedCopy != nil {
		seen.issued = string(seen.issuedCopy.Data[BundleSecretID])
	}
	seen.full, seen.issuedRead = true, true
	isc.seen = &seen
	return seen, nil
}

// sourceSecretID is the secret id in the person's source Secret, read once per reconcile and
// only for the plans that ask whose a secret on the app is (Creating, Stalled, Discarding):
// retiring the old secret or watching the rollout never looks at it.
func (r *automaticPhase) sourceSecretID(ctx context.Context, s *scope, isc *automaticScope, p rotation.AutomaticPhase) string {
	if p != rotation.AutomaticCreating && p != rotation.AutomaticStalled && p != rotation.AutomaticDiscarding {
		return ""
	}
	if isc.seen == nil || !isc.seen.full {
		return r.personSecretID(ctx, s.conn)
	}
	if !isc.seen.sourceRead {
		isc.seen.source, isc.seen.sourceRead = r.personSecretID(ctx, s.conn), true
	}
	return isc.seen.source
}

// secretIDIn reads the secret id one of the operator's Secrets holds ("" when it does not exist).
func (r *automaticPhase) secretIDIn(ctx context.Context, conn *v1.TableauConnection, name, key string) (string, error) {
	sec, err := r.readOwn(ctx, conn, name)
	if err != nil || sec == nil {
		return "", err
	}
	return string(sec.Data[key]), nil
}

// personSecretID is the secret id in the person's source Secret, when its owner consented and
// it is readable; "" otherwise.
func (r *sourceSecrets) personSecretID(ctx context.Context, conn *v1.TableauConnection) string {
	ref := conn.Spec.Auth.ConnectedApp.SecretRef
	var sec corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: ref.Name}, &sec); err != nil {
		return ""
	}
	if sec.Labels[v1.LabelCredential] != v1.CredentialConsent {
		return ""
	}
	key := ref.SecretIDKey
	if key == "" {
		key = credential.DefaultSecretIDKey
	}
	if id := string(sec.Data[key]); !credential.LooksLikeSecret(id) {
		return id
	}
	// The keys are swapped: what the key holds is a secret value, and the id ends up in
	// status.rotation.issuedSupersedes. It names no secret the issued one superseded.
	return ""
}

func (r *automaticPhase) listAppSecrets(ctx context.Context, s *scope, isc *automaticScope) error {
	var infos []tableau.ConnectedAppSecretInfo
	err := r.adminCall(ctx, s, isc, func(admin *tableau.Session) (err error) {
		infos, err = s.client.ListConnectedAppSecrets(ctx, admin, s.conn.Status.Credentials.ClientID)
		return err
	})
	if err != nil {
		return err
	}
	isc.listed = isc.listed[:0]
	for _, in := range infos {
		isc.listed = append(isc.listed, in.ID)
	}
	isc.ok = true
	return nil
}

// applyAutomatic performs the issue step's one action.
func (r *automaticPhase) applyAutomatic(ctx context.Context, s *scope, isc *automaticScope, step rotation.AutomaticStep) error {
	conn := s.conn
	clientID := conn.Status.Credentials.ClientID
	switch step.Action {
	case rotation.DeleteSecret:
		err := r.adminCall(ctx, s, isc, func(admin *tableau.Session) error {
			return s.client.DeleteConnectedAppSecret(ctx, admin, clientID, step.Secret)
		})
		if te, ok := tableau.AsError(err); ok && te.HTTPStatus == 404 {
			err = nil // already gone
		}
		auditAppSecret(ctx, conn, audit.SecretDeleted, step.Secret, "", string(step.Reason), err)
		return err
	case rotation.CreateSecret:
		if _, err := r.adminSession(ctx, s, isc); err != nil {
			return fmt.Errorf("%w: %w", errCreateNotSent, err)
		}
		var created *tableau.NewConnectedAppSecret
		err := r.adminCall(ctx, s, isc, func(admin *tableau.Session) (err error) {
			created, err = s.client.CreateConnectedAppSecret(ctx, admin, clientID)
			return err
		})
		auditCreated(ctx, conn, created, string(step.Reason), err)
		if err != nil {
			return err
		}
		if len(created.ID) > v1.MaxSecretIDLength {
			// Status could not record it; left on the app, it is an orphan the next attempt deletes.
			return fmt.Errorf("tableau answered with a secret id of %d characters, more than %d", len(created.ID), v1.MaxSecretIDLength)
		}
		if r.CrashHook != nil {
			if err := r.CrashHook(CrashAfterSecretCreated); err != nil {
				return err
			}
		}
		a := conn.Spec.Auth.ConnectedApp
		cred := signInCredential{app: &tableau.ConnectedApp{ClientID: clientID, SecretID: created.ID, SecretValue: created.Value,
			Username: a.Username, Scopes: a.Scopes}}
		var werr error
		if isc.seen != nil && isc.seen.issuedRead {
			// Read by this reconcile's observation: written over that copy, not read again.
			isc.seen.issuedRead = false
			werr = r.putSecretOver(ctx, conn, isc.seen.issuedCopy, issuedName(conn), endpointBundle(conn, cred),
				rotation.Bundle{Revision: cred.revision(), Endpoint: endpointDigest(conn)})
			if apierrors.IsConflict(werr) || apierrors.IsAlreadyExists(werr) {
				// Changed since the observation (a label, an annotation): the value exists
				// only in this call's answer, so it is written over a fresh read, not lost.
				werr = r.writeBundle(ctx, conn, issuedName(conn), cred, cred.revision())
			}
		} else {
			werr = r.writeBundle(ctx, conn, issuedName(conn), cred, cred.revision())
		}
		if werr != nil {
			return werr
		}
		t := metav1.NewTime(r.now())
		conn.Status.Rotation.Automatic.LastCreateTime = &t
		if isc.seen != nil {
			isc.seen.issued = created.ID // what this reconcile wrote; nothing else changed
		}
		return nil
	case rotation.RestoreIssued:
		isc.seen = nil // read again: the copy holds whatever the consumer Secret held
		return r.copyBundle(ctx, conn, conn.Spec.Consumers.SecretName, issuedName(conn))
	}
	return nil
}

// errCreateNotSent is a create that never left the operator: the admin session failed first.
var errCreateNotSent = errors.New("the create call was not sent")

// createdNothing says whether a failed create call certainly created no secret on Tableau:
// it never went out (the admin sign-in failed, the call gate held it back), or Tableau
// answered it with a refusal or a throttle (4xx, 429 included). A 5xx, a timeout or a reset
// may have taken effect: then a secret that appears is this call's orphan.
func createdNothing(err error) bool {
	if errors.Is(err, errCreateNotSent) {
		return true
	}
	if _, ok := gatedclient.AsHeld(err); ok {
		return true
	}
	te, ok := tableau.AsError(err)
	return ok && te.HTTPStatus >= 400 && te.HTTPStatus < 500
}

// patInUse reports whether an administrator's PAT of revision rev is the connection's own PAT:
// the source's (revision source) or one the consumers hold: the active one, and during a
// rotation the candidate (promoted, it stays in the consumer Secret when the source is edited
// again mid-gate) and the copy kept for rollback.
func patInUse(conn *v1.TableauConnection, source, rev string) bool {
	if conn.Spec.Auth.PersonalAccessToken == nil || rev == "" {
		return false
	}
	if rev == source {
		return true
	}
	rs := conn.Status.Rotation
	return rs != nil && (rev == rs.ActiveRevision || rev == rs.CandidateRevision || rev == rs.PreviousRevision)
}

// heldIDs splits IssueRecords.Held into status.rotation.automatic.heldSecretIDs.
func heldIDs(held string) []string {
	if held == "" {
		return nil
	}
	return strings.Split(held, ",")
}

// ReasonConnectedAppShared: another TableauConnection signs in with the same connected app.
const ReasonConnectedAppShared = "ConnectedAppShared"

// appSharedWith names another TableauConnection that signs in with this connection's
// connected app (same server, site and client id), or "". Automatic rotation of a shared app
// would delete a secret the other's consumers hold: as an orphan (neither active nor recorded
// here) or as the retiring one.
func (r *automaticPhase) appSharedWith(ctx context.Context, conn *v1.TableauConnection) (string, error) {
	if conn.Status.Credentials == nil || conn.Status.Credentials.ClientID == "" {
		return "", nil
	}
	clientID := conn.Status.Credentials.ClientID
	var list v1.TableauConnectionList
	if err := r.List(ctx, &list); err != nil {
		return "", err
	}
	for _, c := range list.Items {
		if c.UID == conn.UID || c.Spec.Auth.ConnectedApp == nil || c.Status.Credentials == nil {
			continue
		}
		if c.Status.Credentials.ClientID == clientID && c.Spec.Server == conn.Spec.Server && c.Spec.Site == conn.Spec.Site {
			return c.Namespace + "/" + c.Name, nil
		}
	}
	return "", nil
}

// automaticRefused stops automatic rotation of a shared connected app before any Tableau call.
func (r *automaticPhase) automaticRefused(s *scope, other string, err error) error {
	if err != nil {
		return err // a Kubernetes error: controller-runtime retries
	}
	st := s.conn.Status.Rotation.Automatic
	st.Reason = ReasonConnectedAppShared
	st.Message = bound.Text(fmt.Sprintf("TableauConnection %s also signs in with connected app %q: rotating its secrets here would delete a secret that connection's consumers hold, so the operator creates and deletes none. Next step: give each TableauConnection its own connected app.",
		other, s.conn.Status.Credentials.ClientID), 1024)
	st.ConsecutiveFailures++
	wait := jitter(SlowRecheck)
	next := metav1.NewTime(s.now.Add(wait))
	st.NextAttemptTime = &next
	s.requeueIn(wait)
	return nil
}

// automaticFailed records a failed Tableau or Kubernetes call of the automatic rotation on its
// status and retries later: transient failures after the backoff, others after an hour.
func (r *automaticPhase) automaticFailed(ctx context.Context, s *scope, err error) error {
	st := s.conn.Status.Rotation.Automatic
	if held, ok := gatedclient.AsHeld(err); ok {
		return automaticHeld(s, st, held)
	}
	v, _ := classify.Failure(err, classify.Evidence{Now: s.now, Site: s.conn.Spec.Site})
	var status apierrors.APIStatus
	if errors.As(err, &status) || errors.Is(err, errNameTaken) {
		return err // a Kubernetes error: controller-runtime retries
	}
	st.Reason = v.Reason
	st.Message = bound.Text(fmt.Sprintf("%s: %s Next step: %s", v.Bucket, v.Message, v.NextStep), 1024)
	st.ConsecutiveFailures++
	if te, ok := tableau.AsError(err); ok && te.HTTPStatus == 404 && appMayBeGone(s) {
		// The next reconcile, a second from now, must see the cleared attempt: the cache may
		// still hold the status before this write, which would skip the sign-in and leave
		// Ready on the old record until the hourly recheck. It reads the connection from the
		// API server, as after a write conflict.
		r.mem.noteConflicted(nameOf(s.conn))
	}
	wait := jitter(SlowRecheck)
	if transient(v.Bucket) {
		// Capped exponential backoff, never shorter than Tableau's Retry-After.
		var retryAfter time.Duration
		if te, ok := tableau.AsError(err); ok {
			retryAfter = te.RetryAfter
		}
		wait = r.Backoff.Delay(int(st.ConsecutiveFailures)-1, retryAfter)
	}
	next := metav1.NewTime(s.now.Add(wait))
	next = gateNext(s, callgate.Admin, err, next)
	wait = next.Sub(s.now)
	st.NextAttemptTime = &next
	s.requeueIn(wait)
	ctrl.LoggerFrom(ctx).Info("automatic rotation failed", "bucket", v.Bucket, "reason", v.Reason, "consecutiveFailures", st.ConsecutiveFailures)
	return nil
}

// appMayBeGone acts on a 404 from the connected app's REST resources: the app may have been
// deleted on Tableau, and then no consumer can sign in. Ready must not say otherwise from an
// old record, so the credential is validated again now: a JWT sign-in is a session of its
// own and ends no one's, and its answer, not the 404, decides Ready.
// It reports whether it asked for that validation.
func appMayBeGone(s *scope) bool {
	if c := s.conn.Status.Credentials; c != nil && c.LastAttemptResult == v1.ResultSucceeded && usesConnectedApp(s.conn) {
		c.LastAttemptRevision = ""
		s.requeueIn(time.Second)
		return true
	}
	return false
}

// ReasonRecovered is status.rotation.automatic.reason after a failed step worked again.
const ReasonRecovered = "Recovered"

// automaticSucceeded clears the failure record once a step of the automatic rotation worked.
func automaticSucceeded(st *v1.AutomaticRotationStatus) {
	if st.ConsecutiveFailures == 0 {
		return
	}
	st.Reason, st.Message = ReasonRecovered, fmt.Sprintf("A step of phase %s worked again after %d failures (%s).", st.Phase, st.ConsecutiveFailures, st.Reason)
	st.ConsecutiveFailures, st.NextAttemptTime = 0, nil
}
