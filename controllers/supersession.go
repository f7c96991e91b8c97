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
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/credential"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// The supersession (the issued secret replaced the one in the person's Secret, which the
// operator then deleted on Tableau) must outlive the TableauConnection: an Argo CD prune and
// re-sync deletes the object, its status and the issued Secret it owns, and the new object
// would sign in with the person's retired secret (ConnectedAppSecretNotFound, and automatic
// rotation never runs again). The consumer Secret survives under deletionPolicy Retain, and
// the operator created it: it carries the record as an annotation (ids only), written before
// the issued secret is promoted or the person's retired, and a connection without a record of
// its own adopts it in the credentials phase, before any sign-in (see rotation.Adopts).

// adoptSupersession gives a connection whose status records no supersession the one kept on
// the retained consumer Secret, when that Secret carries the operator's mark for a connection
// of this name. The person's Secret is read only then, and once per pair of versions.
func (r *credentialsPhase) adoptSupersession(ctx context.Context, s *scope, person *metav1.PartialObjectMetadata) error {
	conn := s.conn
	if conn.Spec.Consumers == nil || conn.Spec.Auth.ConnectedApp == nil || person == nil || person.Labels[v1.LabelCredential] != v1.CredentialConsent {
		return nil
	}
	if rs := conn.Status.Rotation; rs != nil && rs.IssuedSupersedes != "" {
		return nil
	}
	consumer, err := r.cachedMeta(ctx, "Secret", conn.Namespace, conn.Spec.Consumers.SecretName)
	if err != nil || consumer == nil {
		return err
	}
	recorded := consumer.Annotations[v1.AnnotationSupersedes]
	if recorded == "" {
		return nil
	}
	// Not gated on the Secret's connection-uid: a reconcile that adopted and then failed to
	// write status may have re-marked the consumer Secret with this object's UID (the
	// rollout converges its ownership), and the record must still be adopted next time.
	// rotation.Adopts requires the person's Secret to name the recorded secret id, so a
	// record this connection's own status dropped (the person named another secret) is not
	// taken back; the memory keeps that answer for the two versions it was read at.
	versions := person.ResourceVersion + "/" + consumer.ResourceVersion
	if r.mem.adoptionDeclined(conn, versions) {
		return nil
	}
	clientID, secretID, err := r.personAppIDs(ctx, conn)
	if err != nil {
		return err
	}
	if !rotation.Adopts(ours(consumer, conn), recorded, clientID, secretID) {
		r.mem.declineAdoption(conn, versions)
		return nil
	}
	if conn.Status.Rotation == nil {
		// As the rollout phase starts it: Idle, since now.
		conn.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, PhaseSince: metav1.NewTime(s.now)}
	}
	conn.Status.Rotation.IssuedSupersedes = supersedes(person.ResourceVersion+"/"+string(person.UID), secretID)
	r.event(conn, false, "SupersessionAdopted", fmt.Sprintf(
		"Secret %q names a connected-app secret the operator retired (recorded on the retained Secret %q by an earlier connection of this name): the credential in %q is used instead.",
		person.Name, consumer.Name, consumer.Name))
	return nil
}

// personAppIDs reads the client id and secret id of the person's Secret (ids, never the
// value); "" for one that is missing or has the shape of a secret (keys swapped).
func (r *credentialsPhase) personAppIDs(ctx context.Context, conn *v1.TableauConnection) (string, string, error) {
	ref := conn.Spec.Auth.ConnectedApp.SecretRef
	var sec corev1.Secret
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: ref.Name}, &sec); err != nil {
		return "", "", client.IgnoreNotFound(err)
	}
	if sec.Labels[v1.LabelCredential] != v1.CredentialConsent {
		return "", "", nil
	}
	id := func(key, def string) string {
		if key == "" {
			key = def
		}
		if v := string(sec.Data[key]); !credential.LooksLikeSecret(v) {
			return v
		}
		return ""
	}
	return id(ref.ClientIDKey, credential.DefaultClientIDKey), id(ref.SecretIDKey, credential.DefaultSecretIDKey), nil
}

// keepSupersession writes status's supersession onto the consumer Secret under deletionPolicy
// Retain, when the Secret carries the operator's mark and does not record it yet. The patch
// carries the resourceVersion the cache saw: a Secret changed meanwhile (its mark removed, a
// person's own Secret put in its place) is not written, and the reconcile tries again.
// A refused write fails the reconcile before anything else of it runs: the record is on the
// Secret before the issued secret is promoted and before the person's is retired.
func (r *credentialsPhase) keepSupersession(ctx context.Context, s *scope) error {
	conn := s.conn
	rs := conn.Status.Rotation
	if rs == nil || rs.IssuedSupersedes == "" || conn.Spec.Consumers == nil || conn.Spec.Auth.ConnectedApp == nil ||
		conn.Spec.Consumers.DeletionPolicy == v1.DeletionDelete {
		return nil
	}
	_, secretID := splitSupersedes(rs.IssuedSupersedes)
	if secretID == "" {
		return nil
	}
	consumer, err := r.cachedMeta(ctx, "Secret", conn.Namespace, conn.Spec.Consumers.SecretName)
	if err != nil || consumer == nil || !ours(consumer, conn) {
		return err
	}
	if got, ok := rotation.ParseSupersession(consumer.Annotations[v1.AnnotationSupersedes]); ok && got.SecretID == secretID {
		return nil
	}
	// The issued credential is of the same app: its client id, once status shows it, saves
	// reading the person's Secret.
	clientID := ""
	if c := conn.Status.Credentials; c != nil {
		clientID = c.ClientID
	}
	if clientID == "" {
		if clientID, _, err = r.personAppIDs(ctx, conn); err != nil || clientID == "" {
			return err
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": consumer.ResourceVersion,
		"annotations":     map[string]string{v1.AnnotationSupersedes: rotation.Supersession{ClientID: clientID, SecretID: secretID}.String()},
	}})
	if err != nil {
		return err
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: conn.Namespace, Name: consumer.Name}}
	return wroteOrFailed(r.Patch(ctx, sec, client.RawPatch(types.MergePatchType, patch)), "annotate", "Secret", consumer.Name)
}

// splitSupersedes splits status.rotation.issuedSupersedes into the person's Secret version
// and the secret id it named.
func splitSupersedes(v string) (version, secretID string) {
	version, secretID, _ = strings.Cut(v, "#")
	return version, secretID
}

// adoptionDeclined reports whether adoption was declined at these versions of the person's
// and the consumer Secret (see adoptSupersession).
func (m *memory) adoptionDeclined(conn *v1.TableauConnection, versions string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entry(conn).adoptionDeclined == versions
}

func (m *memory) declineAdoption(conn *v1.TableauConnection, versions string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).adoptionDeclined = versions
}
