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
	"crypto/x509"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// loadCredentials learns the credential's revision and loads the CA bundle without calling
// Tableau. A spec.server outside --allowed-servers is refused before anything is read. Secret
// and ConfigMap metadata come from the cache, which holds only labelled objects; a Secret's
// content is read (API reader) only when its resourceVersion differs from the one
// status.credentials records, so an unchanged Secret costs no read, even after a restart.
// What forbids or lacks an input is a fact for the refuse step, not an error.
func (r *TableauConnectionReconciler) loadCredentials(ctx context.Context, s *scope) outcome {
	conn := s.conn
	s.secretName = sourceSecretName(conn)
	if host, ok := r.AllowedServers.Allows(conn.Spec.Server); !ok {
		s.refusal = &classify.ServerNotAllowedError{Host: host, Allowed: r.AllowedServers.String()}
		return proceeded()
	}
	meta, err := r.cachedMeta(ctx, "Secret", conn.Namespace, s.secretName)
	if err != nil {
		return failed(err)
	}
	if issued, err := r.issuedSource(ctx, conn, meta); err != nil {
		return failed(err)
	} else if issued != nil {
		meta, s.secretName, s.fromIssued = issued, issued.Name, true
	}
	switch {
	case s.fromIssued:
		s.sourceReadable = true
		if !r.recall(s, meta) {
			if err := r.readSecret(ctx, s); err != nil {
				return failed(err)
			}
		}
	case meta == nil:
		r.mem.setSecret(conn, nil)
		s.unseen = append(s.unseen, unseenRef{kind: "Secret", name: s.secretName, role: classify.RoleSource})
	case meta.Labels[v1.LabelCredential] != v1.CredentialConsent:
		// In the cache, so labelled: "managed", a Secret the operator wrote. Never a source.
		s.refusal = &classify.NotLabelledError{Kind: "Secret", Namespace: conn.Namespace, Name: s.secretName, Role: classify.RoleSource, Managed: true}
	default:
		s.sourceReadable = true
		if !r.recall(s, meta) {
			if err := r.readSecret(ctx, s); err != nil {
				return failed(err)
			}
		}
	}
	if c := conn.Status.Credentials; s.revision != "" && (c == nil || c.Revision != s.revision) {
		// A new credential. When it replaces an earlier one, remember when: a rejected
		// sign-in minutes later points at the new values (the classifier's evidence).
		changed := c != nil && c.Revision != ""
		c = credentialStatus(c)
		c.Revision, c.ExpiresAt = s.revision, nil
		s.ident.set(c)
		if changed {
			at := metav1.NewTime(s.now)
			c.RevisionChangedAt = &at
		}
		conn.Status.Credentials = c
	}
	if s.revision != "" && s.sourceResourceVersion != "" {
		// Remember which version of the Secret the revision came from: the next reconcile,
		// in this process or a restarted one, reads no content while it is unchanged.
		c := conn.Status.Credentials
		c.SourceResourceVersion, c.SourceUID = s.sourceResourceVersion, s.sourceUID
	}
	return fromErr(r.loadCABundle(ctx, s))
}

// issuedSource returns the operator's issued Secret when it is the source instead of the
// person's (whose cached metadata is person, nil when absent or unlabelled): with
// rotation.automatic, once it exists; without, as long as the person's Secret is the version
// the issued Secret superseded, or names the same secret id as that version did. The person's
// Secret then names a secret the operator retired on Tableau: switching automatic rotation off
// keeps consumers on the issued secret, and only a new secret in the person's Secret makes it
// the source again. An annotation, a label or the Secret re-created with the same content (an
// Argo CD sync, a restore) changes its version, not the secret it names.
func (r *TableauConnectionReconciler) issuedSource(ctx context.Context, conn *v1.TableauConnection, person *metav1.PartialObjectMetadata) (*metav1.PartialObjectMetadata, error) {
	rs := conn.Status.Rotation
	if conn.Spec.Consumers == nil || conn.Spec.Auth.ConnectedApp == nil || rs == nil {
		return nil, nil
	}
	version := "absent"
	if person != nil {
		version = person.ResourceVersion + "/" + string(person.UID)
	}
	on := automatic(conn) != nil
	superseded := r.stillSuperseded(ctx, conn, rs, person, version)
	if !on && !superseded {
		rs.IssuedSupersedes = "" // the person's Secret names another secret: it is the source again
		return nil, nil
	}
	issued, err := r.cachedMeta(ctx, "Secret", conn.Namespace, issuedName(conn))
	if err != nil {
		return nil, err
	}
	if issued == nil || !ours(issued, conn) {
		if !superseded {
			return nil, nil
		}
		// The issued Secret is gone (pruned, or spec.consumers.secretName renamed) while the
		// person's Secret still names a retired secret: the consumer Secret holds the issued
		// credential too (during a rotation, the promoted one), and stays the source until
		// the next secret is issued.
		consumer, err := r.cachedMeta(ctx, "Secret", conn.Namespace, conn.Spec.Consumers.SecretName)
		if err != nil || consumer == nil || !ours(consumer, conn) {
			return nil, err
		}
		return consumer, nil
	}
	if on && !superseded {
		rs.IssuedSupersedes = supersedes(version, r.personSecretID(ctx, conn))
	}
	return issued, nil
}

// supersedes is status.rotation.issuedSupersedes: the version of the person's Secret and the
// secret id it names (an id, never a value).
func supersedes(version, secretID string) string {
	return version + "#" + secretID
}

// stillSuperseded reports whether the person's Secret is the one the issued Secret superseded:
// the same version, or (read only when the version moved) the same secret id. The record is
// moved to the new version, so an unchanged Secret costs no read.
func (r *TableauConnectionReconciler) stillSuperseded(ctx context.Context, conn *v1.TableauConnection, rs *v1.RotationStatus, person *metav1.PartialObjectMetadata, version string) bool {
	recorded, id, _ := strings.Cut(rs.IssuedSupersedes, "#")
	switch {
	case rs.IssuedSupersedes == "":
		return false
	case recorded == version:
		return true
	case person == nil || id == "":
		return false
	}
	if r.personSecretID(ctx, conn) != id {
		return false
	}
	rs.IssuedSupersedes = supersedes(version, id)
	return true
}

// cachedMeta returns the cached metadata of a Secret or ConfigMap, or nil when the cache does
// not hold it: it does not exist, or it lacks the credential label.
func (r *TableauConnectionReconciler) cachedMeta(ctx context.Context, kind, namespace, name string) (*metav1.PartialObjectMetadata, error) {
	meta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: kind}}
	err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, meta)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q metadata: %w", kind, name, err)
	}
	return meta, nil
}

// recall takes the revision from status when the Secret's resourceVersion and UID are the
// ones it was computed from, or the missing key this process saw in that version. It reports
// whether the Secret's content need not be read.
func (r *TableauConnectionReconciler) recall(s *scope, meta *metav1.PartialObjectMetadata) bool {
	if c := s.conn.Status.Credentials; c != nil && c.Revision != "" && c.SourceResourceVersion == sourceVersion(s.conn, meta.ResourceVersion) && c.SourceUID == string(meta.UID) {
		s.revision, s.ident = c.Revision, identOf(c)
		return true
	}
	if m, ok := r.mem.secret(s.conn); ok && m.resourceVersion == meta.ResourceVersion {
		s.credErr = &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Secret: s.secretName, Key: m.missingKey}
		return true
	}
	return false
}

// readSecret reads the source Secret's content through the API reader, only when the cache
// showed its owner's consent, and keeps the PAT for this reconcile only.
func (r *TableauConnectionReconciler) readSecret(ctx context.Context, s *scope) error {
	if !s.sourceReadable {
		return nil
	}
	conn := s.conn
	name := s.secretName
	if s.fromIssued {
		sec, err := r.readOwn(ctx, conn, name)
		if err != nil || sec == nil {
			return err
		}
		return r.useSecret(s, sec, true)
	}
	var secret corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, &secret)
	if apierrors.IsNotFound(err) {
		s.credErr = &classify.CredentialError{Reason: classify.ReasonSecretNotFound, Secret: name}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading Secret %q: %w", name, err)
	}
	if secret.Labels[v1.LabelCredential] != v1.CredentialConsent {
		// The label went away after the cache saw it: the content is dropped unused.
		s.credErr = &classify.NotLabelledError{Kind: "Secret", Namespace: conn.Namespace, Name: name, Role: classify.RoleSource,
			Managed: secret.Labels[v1.LabelCredential] == v1.CredentialManaged}
		return nil
	}
	return r.useSecret(s, &secret, false)
}

// useSecret takes the credential from a source Secret's data.
func (r *TableauConnectionReconciler) useSecret(s *scope, secret *corev1.Secret, bundle bool) error {
	conn := s.conn
	cred, err := credentialFromData(conn, secret.Name, secret.Data, bundle)
	if err != nil {
		s.credErr = err
		if ce, ok := err.(*classify.CredentialError); ok && ce.Reason == classify.ReasonSecretKeyMissing {
			r.mem.setSecret(conn, &secretMemo{resourceVersion: secret.ResourceVersion, missingKey: ce.Key})
		}
		return nil
	}
	r.mem.setSecret(conn, nil)
	s.cred = &cred
	s.revision, s.ident = cred.revision(), cred.ident()
	s.sourceResourceVersion, s.sourceUID = sourceVersion(conn, secret.ResourceVersion), string(secret.UID)
	return nil
}

// loadCABundle reads the CA bundle, through the API reader only when the object's
// resourceVersion (from the metadata cache) changed: CA certificates are public, so the
// PEM is remembered. ConfigMaps need the credential label too (see CacheOptions).
func (r *TableauConnectionReconciler) loadCABundle(ctx context.Context, s *scope) error {
	tls := s.conn.Spec.TLS
	if tls == nil || tls.CABundle == nil {
		return nil
	}
	ref := tls.CABundle
	key := types.NamespacedName{Namespace: s.conn.Namespace, Name: ref.Name}
	caKey := ref.Kind + "/" + key.String() + "/" + ref.Key
	meta, err := r.cachedMeta(ctx, ref.Kind, key.Namespace, key.Name)
	switch {
	case err != nil:
		return err
	case meta == nil:
		r.mem.setCABundle(caKey, nil)
		s.unseen = append(s.unseen, unseenRef{kind: ref.Kind, name: ref.Name, role: classify.RoleCABundle})
		return nil
	case meta.Labels[v1.LabelCredential] != v1.CredentialConsent:
		if s.refusal == nil {
			s.refusal = &classify.NotLabelledError{Kind: ref.Kind, Namespace: key.Namespace, Name: ref.Name, Role: classify.RoleCABundle, Managed: true}
		}
		return nil
	}
	if m, ok := r.mem.caBundle(caKey); ok && m.resourceVersion == meta.ResourceVersion {
		s.caPEM = m.pem
		return nil
	}
	var pem []byte
	var labels map[string]string
	if ref.Kind == "Secret" {
		var sec corev1.Secret
		if err = r.APIReader.Get(ctx, key, &sec); err == nil {
			pem, labels = sec.Data[ref.Key], sec.Labels
		}
	} else {
		var cm corev1.ConfigMap
		if err = r.APIReader.Get(ctx, key, &cm); err == nil {
			pem, labels = []byte(cm.Data[ref.Key]), cm.Labels
			if len(pem) == 0 {
				pem = cm.BinaryData[ref.Key]
			}
		}
	}
	problem := ""
	switch {
	case apierrors.IsNotFound(err):
		problem = "not found"
	case err != nil:
		return fmt.Errorf("reading CA bundle %s %q: %w", ref.Kind, ref.Name, err)
	case labels[v1.LabelCredential] != v1.CredentialConsent:
		// The label went away after the cache saw it: the content is dropped unused.
		if s.refusal == nil {
			s.refusal = &classify.NotLabelledError{Kind: ref.Kind, Namespace: key.Namespace, Name: ref.Name, Role: classify.RoleCABundle,
				Managed: labels[v1.LabelCredential] == v1.CredentialManaged}
		}
		return nil
	case len(pem) == 0:
		problem = "the key is missing or empty"
	case !x509.NewCertPool().AppendCertsFromPEM(pem):
		problem = "holds no PEM certificate"
	}
	if problem != "" {
		r.mem.setCABundle(caKey, nil)
		if s.credErr == nil {
			s.credErr = &classify.CABundleError{Kind: ref.Kind, Name: ref.Name, Key: ref.Key, Problem: problem}
		}
		return nil
	}
	r.mem.setCABundle(caKey, &caMemo{resourceVersion: meta.ResourceVersion, pem: pem})
	s.caPEM = pem
	return nil
}

// refuse records, before any Tableau call, what forbids using the connection's inputs: a
// server outside --allowed-servers, or a Secret or ConfigMap that is missing or lacks its
// owner's consent. An object the cache does not hold is absent or unlabelled; one direct
// metadata read (never of its content) tells which, and the gate before this step keeps that
// to one read per backoff interval. Labelling the object brings it into the cache, whose
// event retries at once.
func (r *TableauConnectionReconciler) refuse(ctx context.Context, s *scope) outcome {
	for _, u := range s.unseen {
		if s.refusal != nil {
			break
		}
		meta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: u.kind}}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: s.conn.Namespace, Name: u.name}, meta)
		switch {
		case apierrors.IsNotFound(err) && u.role == classify.RoleSource:
			s.refusal = &classify.CredentialError{Reason: classify.ReasonSecretNotFound, Secret: u.name}
		case apierrors.IsNotFound(err):
			s.refusal = &classify.CABundleError{Kind: u.kind, Name: u.name, Key: s.conn.Spec.TLS.CABundle.Key, Problem: "not found"}
		case err != nil:
			return failed(fmt.Errorf("reading %s %q metadata: %w", u.kind, u.name, err))
		case meta.Labels[v1.LabelCredential] == v1.CredentialConsent:
			// Labelled, and the cache has not seen it yet: its watch event comes soon.
			return waitFor(time.Second)
		default:
			s.refusal = &classify.NotLabelledError{Kind: u.kind, Namespace: s.conn.Namespace, Name: u.name, Role: u.role,
				Managed: meta.Labels[v1.LabelCredential] == v1.CredentialManaged}
		}
	}
	if s.refusal == nil {
		return proceeded()
	}
	stage := v1.StageCredentials
	if _, ok := s.refusal.(*classify.ServerNotAllowedError); ok {
		stage = v1.StageServer
	}
	r.recordFailure(ctx, s, stage, s.refusal)
	return stopped()
}

// failureInputsChanged reports whether the spec or the credential changed since the last failure.
func failureInputsChanged(s *scope) bool {
	f := s.conn.Status.LastFailure
	return f == nil || f.Generation != s.conn.Generation || f.Revision != s.revision
}

// inputsNowUsable reports whether a failure that no Tableau call made (a refused, missing or
// broken Secret, ConfigMap or server) is gone by what this reconcile saw in the cache: a CA
// bundle labelled again, or a server allowed after a restart, changes neither the spec nor the
// revision, yet must not wait for the hourly recheck.
func inputsNowUsable(s *scope, f *v1.FailureStatus) bool {
	refusedOnly := f.Stage == v1.StageCredentials || f.Reason == classify.ReasonServerNotAllowed
	return refusedOnly && s.refusal == nil && len(s.unseen) == 0 && s.credErr == nil
}

// awaitBackoff enforces the backoff: after a failure, nothing calls Tableau before
// nextAttemptTime unless the spec or the Secret changed, whatever triggered this reconcile.
func (r *TableauConnectionReconciler) awaitBackoff(_ context.Context, s *scope) outcome {
	f := s.conn.Status.LastFailure
	if f == nil || f.NextAttemptTime == nil || failureInputsChanged(s) || inputsNowUsable(s, f) {
		return proceeded()
	}
	if wait := f.NextAttemptTime.Sub(s.now); wait > 0 {
		return waitFor(wait)
	}
	return proceeded()
}

// probeServer asks serverinfo, shared by every connection to the server, and compares the
// server's REST API version with the pin. It needs no credential.
func (r *TableauConnectionReconciler) probeServer(ctx context.Context, s *scope) outcome {
	conn := s.conn
	if _, ok := s.credErr.(*classify.CABundleError); ok {
		r.recordFailure(ctx, s, v1.StageCredentials, s.credErr)
		return stopped()
	}
	c, serverKey, err := r.clientFor(conn, s.caPEM)
	if err != nil {
		// The CRD's validation admits only servers and versions the client accepts.
		return failed(fmt.Errorf("building the Tableau client: %w", err))
	}
	s.client = c
	if until := c.HoldsBack(callgate.ServerInfo); !until.IsZero() {
		// The call gate is closed (throttling, an outage, or a recorded failure whose status
		// write may have failed): no call of this connection goes out before until.
		return r.gateClosed(ctx, s, until)
	}
	interval := serverCheckInterval(conn)
	res := r.ServerInfo.Get(ctx, serverKey, interval, c.ServerInfo)
	if held, ok := gatedclient.AsHeld(res.Err); ok {
		return r.gateClosed(ctx, s, held.Until)
	}
	if res.Err != nil {
		r.recordFailure(ctx, s, v1.StageServer, res.Err)
		return stopped()
	}
	s.requeueIn(jitter(interval))
	info := res.Info
	st := conn.Status.Server
	if st == nil || st.RESTAPIVersion != info.RESTAPIVersion || st.ProductVersion != info.ProductVersion || st.Build != info.Build ||
		s.now.Sub(st.CheckedAt.Time) >= time.Hour {
		conn.Status.Server = &v1.ServerStatus{ProductVersion: info.ProductVersion, Build: info.Build, RESTAPIVersion: info.RESTAPIVersion,
			CheckedAt: metav1.NewTime(res.FetchedAt)}
	}
	if v, drift := classify.Versions(conn.Spec.APIVersion, info.RESTAPIVersion); drift {
		if f := conn.Status.LastFailure; f != nil && f.Reason == v.Reason && !failureInputsChanged(s) {
			// The same drift as before: nothing new to record until the server or pin changes.
			return stopped()
		}
		r.recordVerdict(ctx, s, v1.StageServer, v, &tableau.Error{Endpoint: "GET /api/" + tableau.ServerInfoAPIVersion + "/serverinfo",
			HTTPStatus: 200, RequestID: info.RequestID, Latency: info.Latency, Body: tableau.BodyTableauXML})
		return stopped()
	}
	if f := conn.Status.LastFailure; f != nil && f.Stage == v1.StageServer {
		// serverinfo answers and the pin is supported again. The credential was not the
		// problem, so OnChange does not sign in again for it: no workload session is ended.
		conn.Status.LastFailure = nil
	}
	return proceeded()
}

// validateSignIn signs in and out when the policy says so: OnChange only for a changed
// credential or spec or to retry a failure, Periodic also every interval.
func (r *TableauConnectionReconciler) validateSignIn(ctx context.Context, s *scope) outcome {
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
	sess, err := r.signInOut(ctx, s.client, callgate.SignIn, conn.Spec.Site, *cred)
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
func (r *TableauConnectionReconciler) validatedBefore(ctx context.Context, s *scope) (bool, error) {
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
func (r *TableauConnectionReconciler) staleCopy(ctx context.Context, conn *v1.TableauConnection) (bool, error) {
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

func serverCheckInterval(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Validation.ServerCheckInterval; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return DefaultServerCheckInterval
}

func periodicInterval(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Validation.Interval; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return DefaultPeriodicInterval
}

func credentialStatus(c *v1.CredentialStatus) *v1.CredentialStatus {
	if c == nil {
		return &v1.CredentialStatus{}
	}
	return c
}

// recordFailure classifies err with the evidence status holds and records it.
func (r *TableauConnectionReconciler) recordFailure(ctx context.Context, s *scope, stage string, err error) classify.Verdict {
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
func (r *TableauConnectionReconciler) recordVerdict(ctx context.Context, s *scope, stage string, v classify.Verdict, te *tableau.Error) {
	conn := s.conn
	now := metav1.NewTime(s.now)
	prev := conn.Status.LastFailure
	f := &v1.FailureStatus{Bucket: string(v.Bucket), Reason: v.Reason, Stage: stage, Message: v.Message, NextStep: v.NextStep,
		Time: now, Since: now, ConsecutiveFailures: 1, Generation: conn.Generation, Revision: s.revision}
	if prev != nil {
		f.Since, f.ConsecutiveFailures = prev.Since, prev.ConsecutiveFailures+1
	}
	var retryAfter time.Duration
	attempt := v1.ValidationAttempt{Time: now, Result: v1.ResultFailed, Bucket: f.Bucket, Reason: f.Reason, Revision: s.revision}
	if te != nil {
		// Everything from Tableau or the network is bounded before it reaches status.
		f.HTTPStatus, f.TableauCode, f.Summary, f.Detail = int32(te.HTTPStatus), bounded(te.Code, 32), bounded(te.Summary, 300), bounded(te.Detail, 300)
		f.RequestID, f.Endpoint = bounded(te.RequestID, 128), bounded(te.Endpoint, 128)
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
		s.ident.set(c)
		conn.Status.Credentials = c
	}
	pushHistory(conn, attempt)
	s.requeueIn(wait)
	ctrl.LoggerFrom(ctx).Info("validation failed", "bucket", v.Bucket, "reason", v.Reason, "httpStatus", f.HTTPStatus,
		"tableauCode", f.TableauCode, "requestID", f.RequestID, "consecutiveFailures", f.ConsecutiveFailures, "nextAttempt", next.UTC())
}

func (r *TableauConnectionReconciler) recordSuccess(s *scope, sess *tableau.Session, latency time.Duration) {
	conn := s.conn
	now := metav1.NewTime(s.now)
	c := recordAttempt(s, v1.ResultSucceeded)
	c.LastSignInTime, c.ValidatedBefore = &now, ""
	c.UserID = bounded(sess.UserID, 60)
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
	r.mem.setVerdict(conn, nil)
	pushHistory(conn, v1.ValidationAttempt{Time: now, Result: v1.ResultSucceeded, RequestID: sess.RequestID,
		LatencyMs: latency.Milliseconds(), Revision: s.revision})
}

// recordAttempt records the inputs and result of a sign-in: the one-session rule compares
// the next reconcile's inputs with them.
func recordAttempt(s *scope, result string) *v1.CredentialStatus {
	conn := s.conn
	c := credentialStatus(conn.Status.Credentials)
	c.Revision = s.revision
	s.ident.set(c)
	site := conn.Spec.Site
	c.LastAttemptRevision, c.LastAttemptServer, c.LastAttemptSite, c.LastAttemptResult = s.revision, conn.Spec.Server, &site, result
	conn.Status.Credentials = c
	return c
}

// sourceCredential returns the source Secret's credential, reading the Secret when this
// reconcile has not yet; nil (with s.credErr set) when it cannot be read.
func (r *TableauConnectionReconciler) sourceCredential(ctx context.Context, s *scope) (*signInCredential, error) {
	if s.cred == nil && s.credErr == nil {
		if err := r.readSecret(ctx, s); err != nil {
			return nil, err
		}
	}
	return s.cred, nil
}

// bounded cuts s to at most n bytes, on a rune boundary.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func tableauError(err error) (*tableau.Error, bool) { return tableau.AsError(err) }

func pushHistory(conn *v1.TableauConnection, a v1.ValidationAttempt) {
	h := append([]v1.ValidationAttempt{a}, conn.Status.History...)
	if len(h) > historyLength {
		h = h[:historyLength]
	}
	conn.Status.History = h
}
