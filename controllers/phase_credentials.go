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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

// loadCredentials learns the credential's revision and loads the CA bundle without calling
// Tableau. A spec.server outside --allowed-servers is refused before anything is read. Secret
// and ConfigMap metadata come from the cache, which holds only labelled objects; a Secret's
// content is read (API reader) only when its resourceVersion differs from the one
// status.credentials records, so an unchanged Secret costs no read, even after a restart.
// What forbids or lacks an input is a fact for the refuse step, not an error.
func (r *credentialsPhase) loadCredentials(ctx context.Context, s *scope) outcome {
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
	if err := r.adoptSupersession(ctx, s, meta); err != nil {
		return failed(err)
	}
	if issued, err := r.issuedSource(ctx, conn, meta); err != nil {
		return failed(err)
	} else if issued != nil {
		meta, s.secretName, s.fromIssued = issued, issued.Name, true
	}
	if err := r.keepSupersession(ctx, s); err != nil {
		return failed(err)
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
		s.ident.set(c, s.fromIssued)
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
func (r *credentialsPhase) issuedSource(ctx context.Context, conn *v1.TableauConnection, person *metav1.PartialObjectMetadata) (*metav1.PartialObjectMetadata, error) {
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
func (r *credentialsPhase) stillSuperseded(ctx context.Context, conn *v1.TableauConnection, rs *v1.RotationStatus, person *metav1.PartialObjectMetadata, version string) bool {
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
func (r *credentialsPhase) cachedMeta(ctx context.Context, kind, namespace, name string) (*metav1.PartialObjectMetadata, error) {
	return cachedMeta(ctx, r.Client, kind, namespace, name)
}

// cachedMeta reads a Secret's or ConfigMap's metadata through the cache c (see
// credentialsPhase.cachedMeta).
func cachedMeta(ctx context.Context, c client.Reader, kind, namespace, name string) (*metav1.PartialObjectMetadata, error) {
	meta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: kind}}
	err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, meta)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q metadata: %w", kind, name, err)
	}
	return meta, nil
}

// recall takes the revision from status when the Secret's resourceVersion and UID are the
// ones it was computed from, or the refused key this process saw in that version. It reports
// whether the Secret's content need not be read.
func (r *credentialsPhase) recall(s *scope, meta *metav1.PartialObjectMetadata) bool {
	if c := s.conn.Status.Credentials; c != nil && c.Revision != "" && c.SourceResourceVersion == sourceVersion(s.conn, meta.ResourceVersion) && c.SourceUID == string(meta.UID) {
		s.revision, s.ident = c.Revision, identOf(c)
		return true
	}
	if m, ok := r.mem.secret(s.conn); ok && m.resourceVersion == sourceVersion(s.conn, meta.ResourceVersion) {
		s.credErr = m.err
		return true
	}
	return false
}

// readSecret reads the source Secret's content through the API reader, only when the cache
// showed its owner's consent, and keeps the PAT for this reconcile only.
func (r *sourceSecrets) readSecret(ctx context.Context, s *scope) error {
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
func (r *sourceSecrets) useSecret(s *scope, secret *corev1.Secret, bundle bool) error {
	conn := s.conn
	cred, err := credentialFromData(conn, secret.Name, secret.Data, bundle)
	if err != nil {
		s.credErr = err
		if ce, ok := err.(*classify.CredentialError); ok && (ce.Reason == classify.ReasonSecretKeyMissing || ce.Reason == classify.ReasonSecretKeyLooksLikeSecret) {
			r.mem.setSecret(conn, &secretMemo{resourceVersion: sourceVersion(conn, secret.ResourceVersion), err: ce})
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
func (r *credentialsPhase) loadCABundle(ctx context.Context, s *scope) error {
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

func credentialStatus(c *v1.CredentialStatus) *v1.CredentialStatus {
	if c == nil {
		return &v1.CredentialStatus{}
	}
	return c
}

// sourceCredential returns the source Secret's credential, reading the Secret when this
// reconcile has not yet; nil (with s.credErr set) when it cannot be read.
func (r *sourceSecrets) sourceCredential(ctx context.Context, s *scope) (*signInCredential, error) {
	if s.cred == nil && s.credErr == nil {
		if err := r.readSecret(ctx, s); err != nil {
			return nil, err
		}
	}
	return s.cred, nil
}
