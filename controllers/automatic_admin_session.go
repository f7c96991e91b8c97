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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/credential"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// The administrator's session of an automatic rotation: one per rotation, kept in memory
// between its steps (adminMemo), bound to its server, site and admin Secret version, and
// signed out on every ending.

// adminSession returns this reconcile's administrator session: the one an earlier step of the
// rotation under way signed in with (memory), while the admin Secret is the version it signed
// in with, or else a new sign-in. Its Secret needs its owner's consent, like every source
// Secret. Either way the reconcile holds the PAT's turn (adminLocks) until it ends.
func (r *automaticPhase) adminSession(ctx context.Context, s *scope, isc *automaticScope) (*tableau.Session, error) {
	if isc.admin != nil {
		return isc.admin, nil
	}
	conn := s.conn
	ref := automatic(conn).AdminSecretRef
	if m, ok := r.mem.adminSession(conn); ok {
		meta, err := r.cachedMeta(ctx, "Secret", conn.Namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		if meta != nil && meta.Labels[v1.LabelCredential] == v1.CredentialConsent && secretVersionOf(meta.ResourceVersion, meta.UID) == m.secretVersion &&
			m.endpoint == adminEndpoint(conn) {
			release, err := r.adoptKept(ctx, s, m)
			if err != nil {
				return nil, err
			}
			isc.admin, isc.release, isc.kept, isc.memo = m.sess, release, true, m
			return m.sess, nil
		}
		// The admin Secret, the server or the site changed: the session is not used again.
		// On the same server it is signed out (its token goes nowhere else); otherwise
		// Tableau ends it at the PAT's next sign-in, or when it expires.
		r.mem.setAdminSession(conn, nil)
		if m.endpoint == adminEndpoint(conn) {
			r.signOutKept(ctx, s, m)
		}
	}
	sess, release, memo, err := r.adminSignInKept(ctx, s, ref, "spec.rotation.automatic.adminSecretRef")
	if err != nil {
		return nil, err
	}
	isc.admin, isc.release, isc.kept, isc.memo = sess, release, false, memo
	return sess, nil
}

func secretVersionOf(resourceVersion string, uid types.UID) string {
	return resourceVersion + "/" + string(uid)
}

// adminCall runs one call with the administrator session. A kept session Tableau no longer
// knows (401002: another connection's sign-in with a shared PAT ended it between two steps,
// or it expired) is no failure of the step: it signs in again, once, and calls again. Both
// happen under the PAT's turn, so no other reconcile's session ends mid-operation.
func (r *automaticPhase) adminCall(ctx context.Context, s *scope, isc *automaticScope, call func(*tableau.Session) error) error {
	admin, err := r.adminSession(ctx, s, isc)
	if err != nil {
		return err
	}
	err = call(admin)
	if te, ok := tableau.AsError(err); !isc.kept || !ok || te.HTTPStatus != 401 || te.Code != "401002" {
		return err
	}
	r.mem.setAdminSession(s.conn, nil)
	isc.release()
	isc.admin, isc.release, isc.kept = nil, nil, false
	if admin, err = r.adminSession(ctx, s, isc); err != nil {
		return err
	}
	return call(admin)
}

// adminSignIn signs in with a site administrator's PAT that only the operator uses. Its
// Secret needs its owner's consent, like every source Secret. Connections that share the PAT
// take turns (adminLocks): the caller signs the session out, then calls release.
func (r *adminSessions) adminSignIn(ctx context.Context, s *scope, ref v1.PATSecretReference, field string) (*tableau.Session, func(), error) {
	sess, release, _, err := r.adminSignInKept(ctx, s, ref, field)
	return sess, release, err
}

// adminSignInKept is adminSignIn, and what the automatic rotation remembers of the session to
// use it in its next steps (adminMemo).
func (r *adminSessions) adminSignInKept(ctx context.Context, s *scope, ref v1.PATSecretReference, field string) (*tableau.Session, func(), adminMemo, error) {
	conn := s.conn
	var sec corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: ref.Name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, nil, adminMemo{}, &classify.CredentialError{Reason: classify.ReasonSecretNotFound, Secret: ref.Name, Ref: field}
	}
	if err != nil {
		return nil, nil, adminMemo{}, fmt.Errorf("reading Secret %q: %w", ref.Name, err)
	}
	if sec.Labels[v1.LabelCredential] != v1.CredentialConsent {
		return nil, nil, adminMemo{}, &classify.NotLabelledError{Kind: "Secret", Namespace: conn.Namespace, Name: ref.Name, Role: classify.RoleSource,
			Managed: sec.Labels[v1.LabelCredential] == v1.CredentialManaged}
	}
	pat, err := credential.FromSecretData(ref.Name, sec.Data, ref.TokenNameKey, ref.TokenSecretKey)
	if err != nil {
		return nil, nil, adminMemo{}, err
	}
	if patInUse(conn, s.revision, credential.Revision(pat)) {
		// The connection's own PAT: a sign-in would end every workload's session.
		return nil, nil, adminMemo{}, &classify.AdminPATInUseError{Secret: ref.Name, Field: field}
	}
	if s.client == nil {
		if s.client, _, err = r.clientFor(conn, s.caPEM); err != nil {
			return nil, nil, adminMemo{}, err
		}
	}
	lockKey := adminLockKey(conn.Spec.Server, conn.Spec.Site, pat)
	release, err := r.adminLocks.acquire(ctx, lockKey)
	if err != nil {
		return nil, nil, adminMemo{}, err
	}
	sess, err := s.client.SignInWithPAT(ctx, callgate.Admin, conn.Spec.Site, pat)
	auditAdminSession(ctx, conn, field, sess, err)
	if err != nil {
		release()
		return nil, nil, adminMemo{}, err
	}
	return sess, release, adminMemo{sess: sess, adminKey: s.client.AdminKey(pat), lockKey: lockKey,
		secretVersion: secretVersionOf(sec.ResourceVersion, sec.UID), endpoint: adminEndpoint(conn)}, nil
}

// endAdminSession ends the reconcile's turn with the administrator PAT. While the rotation is
// under way and its last step worked, the session is kept for the next step (adminMemo);
// otherwise it is signed out, also one an earlier reconcile kept.
func (r *automaticPhase) endAdminSession(ctx context.Context, s *scope, isc *automaticScope) {
	keep := false
	if rs := s.conn.Status.Rotation; rs != nil && rs.Automatic != nil && automatic(s.conn) != nil {
		switch rotation.AutomaticPhase(rs.Automatic.Phase) {
		case rotation.AutomaticCreating, rotation.AutomaticRollingOut, rotation.AutomaticRetiring, rotation.AutomaticDiscarding:
			keep = rs.Automatic.ConsecutiveFailures == 0
		}
	}
	if isc.admin == nil {
		m, ok := r.mem.adminSession(s.conn)
		if keep || !ok {
			return
		}
		// Kept by an earlier step; this reconcile ended the rotation without an admin call.
		r.mem.setAdminSession(s.conn, nil)
		if m.endpoint == adminEndpoint(s.conn) {
			r.signOutKept(ctx, s, m)
		} // else its server is no longer this connection's: Tableau expires it
		return
	}
	defer isc.release()
	if keep {
		m := isc.memo
		r.mem.setAdminSession(s.conn, &m)
		return
	}
	r.mem.setAdminSession(s.conn, nil)
	if err := s.client.SignOut(ctx, isc.admin); err != nil {
		ctrl.LoggerFrom(ctx).Info("admin sign-out failed; Tableau expires the session on its own", "error", err.Error())
	}
}

// cachedMeta is the admin Secret's metadata from the cache, as the credentials phase reads
// its inputs (nil when the cache does not hold it).
func (r *automaticPhase) cachedMeta(ctx context.Context, kind, namespace, name string) (*metav1.PartialObjectMetadata, error) {
	return cachedMeta(ctx, r.Client, kind, namespace, name)
}

// signOutKept signs out a session an earlier step kept, under the PAT's turn, with the
// connection's client (whose server is the session's: the caller checked the endpoint).
func (r *automaticPhase) signOutKept(ctx context.Context, s *scope, m adminMemo) {
	release, err := r.adoptKept(ctx, s, m)
	if err != nil {
		return
	}
	defer release()
	if err := s.client.SignOut(ctx, m.sess); err != nil {
		ctrl.LoggerFrom(ctx).Info("admin sign-out failed; Tableau expires the session on its own", "error", err.Error())
	}
}

// adoptKept makes a kept session this reconcile's, under the PAT's turn: the connection's
// client (built if this reconcile has none yet) carries its token. The caller checked that
// the session's server is the connection's, and releases the turn.
func (r *automaticPhase) adoptKept(ctx context.Context, s *scope, m adminMemo) (func(), error) {
	if s.client == nil {
		var err error
		if s.client, _, err = r.clientFor(s.conn, s.caPEM); err != nil {
			return nil, err
		}
	}
	release, err := r.adminLocks.acquire(ctx, m.lockKey)
	if err != nil {
		return nil, err
	}
	s.client.AdoptAdmin(m.sess, m.adminKey)
	return release, nil
}
