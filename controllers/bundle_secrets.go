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
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;update;patch;delete

// Keys of the consumer bundle: everything a workload needs to sign in at the pinned version.
const (
	BundleTokenName   = "tokenName"
	BundleTokenSecret = "tokenSecret"
	BundleServer      = "server"
	BundleSite        = "site"
	BundleAPIVersion  = "apiVersion"
)

// errNameTaken is returned when a Secret the operator would write or delete is not its own.
var errNameTaken = errors.New("the Secret was not created by tableau-operator for this connection")

func candidateName(conn *v1.TableauConnection) string {
	return conn.Spec.Consumers.SecretName + "-candidate"
}
func previousName(conn *v1.TableauConnection) string {
	return conn.Spec.Consumers.SecretName + "-previous"
}

// slotName is the Secret name of a planner slot.
func slotName(conn *v1.TableauConnection, slot rotation.Slot) string {
	switch slot {
	case rotation.SlotCandidate:
		return candidateName(conn)
	case rotation.SlotPrevious:
		return previousName(conn)
	}
	return conn.Spec.Consumers.SecretName
}

// endpointDigest is a short digest of what a bundle holds besides the credential.
func endpointDigest(conn *v1.TableauConnection) string {
	sum := sha256.Sum256([]byte(conn.Spec.Server + "\x00" + conn.Spec.Site + "\x00" + conn.Spec.APIVersion))
	return hex.EncodeToString(sum[:6])
}

// ours reports whether a Secret carries the operator's mark for this connection. The mark
// names the connection; its UID is recorded too, and a Secret retained from an earlier
// connection of the same name is taken over (its UID is rewritten on the next write).
func ours(obj metav1.Object, conn *v1.TableauConnection) bool {
	l, a := obj.GetLabels(), obj.GetAnnotations()
	return l[v1.LabelCredential] == v1.CredentialManaged && l[v1.LabelManagedBy] == v1.ManagedByValue &&
		a[v1.AnnotationConnection] == conn.Name
}

func bundleOf(obj metav1.Object) rotation.Bundle {
	a := obj.GetAnnotations()
	return rotation.Bundle{Revision: a[v1.AnnotationRevision], Endpoint: a[v1.AnnotationEndpoint]}
}

// observeCopy says what a Secret is, from the metadata cache, or through the API reader
// when fresh (a name the cache cannot see may be someone else's Secret).
func (r *bundleSecrets) observeCopy(ctx context.Context, conn *v1.TableauConnection, name string, fresh bool) (rotation.Copy, *metav1.PartialObjectMetadata, error) {
	meta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	var reader client.Reader = r.Client
	if fresh {
		reader = r.APIReader
	}
	err := reader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, meta)
	if apierrors.IsNotFound(err) {
		return rotation.Copy{}, nil, nil
	}
	if err != nil {
		return rotation.Copy{}, nil, fmt.Errorf("reading Secret %q metadata: %w", name, err)
	}
	return copyOf(meta, conn), meta, nil
}

// readOwn reads a Secret the operator created for conn; nil when it does not exist.
func (r *bundleSecrets) readOwn(ctx context.Context, conn *v1.TableauConnection, name string) (*corev1.Secret, error) {
	var sec corev1.Secret
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: conn.Namespace, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Secret %q: %w", name, err)
	}
	if !ours(&sec, conn) {
		return nil, fmt.Errorf("secret %q: %w", name, errNameTaken)
	}
	return &sec, nil
}

// writeBundle writes a credential's bundle for the connection's current endpoint.
func (r *bundleSecrets) writeBundle(ctx context.Context, conn *v1.TableauConnection, name string, cred signInCredential, revision string) error {
	return r.putSecret(ctx, conn, name, endpointBundle(conn, cred), rotation.Bundle{Revision: revision, Endpoint: endpointDigest(conn)})
}

// copyBundle copies one of the operator's Secrets into another; a missing source is a no-op
// (the next observation sees it gone).
func (r *bundleSecrets) copyBundle(ctx context.Context, conn *v1.TableauConnection, from, to string) error {
	src, err := r.readOwn(ctx, conn, from)
	if err != nil || src == nil {
		return err
	}
	return r.putSecret(ctx, conn, to, src.Data, bundleOf(src))
}

// putSecret creates or replaces a Secret the operator owns, with its mark. An existing Secret
// without the mark is never touched; an update carries the resourceVersion read, so a change
// made meanwhile fails it. Content is read through the API reader: the cache holds none.
func (r *bundleSecrets) putSecret(ctx context.Context, conn *v1.TableauConnection, name string, data map[string][]byte, b rotation.Bundle) error {
	existing, err := r.readOwn(ctx, conn, name)
	if err != nil {
		return err
	}
	return r.putSecretOver(ctx, conn, existing, name, data, b)
}

// putSecretOver is putSecret over a copy of the Secret readOwn returned earlier in this
// reconcile (nil: it did not exist), without reading it again: the update carries that
// copy's resourceVersion and the create asserts the name is free, so a Secret changed or
// created since is refused (Conflict, AlreadyExists), never overwritten.
func (r *bundleSecrets) putSecretOver(ctx context.Context, conn *v1.TableauConnection, existing *corev1.Secret, name string, data map[string][]byte, b rotation.Bundle) error {
	if existing != nil && !ours(existing, conn) {
		return fmt.Errorf("secret %q: %w", name, errNameTaken)
	}
	sec, err := r.asOwned(conn, existing, name, data, b)
	if err != nil {
		return err
	}
	if existing == nil {
		return wroteOrFailed(r.Create(ctx, sec), "create", "Secret", name)
	}
	return wroteOrFailed(r.Update(ctx, sec), "update", "Secret", name)
}

// asOwned is the Secret name as the operator writes it for conn: existing (nil for a new one;
// the caller checked it is the operator's) with the mark, the bundle's revision and endpoint,
// data, and the owner references the deletion policy wants. existing is not modified.
func (r *bundleSecrets) asOwned(conn *v1.TableauConnection, existing *corev1.Secret, name string, data map[string][]byte, b rotation.Bundle) (*corev1.Secret, error) {
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace}}
	if existing != nil {
		sec = existing.DeepCopy()
	}
	mark(sec, conn)
	sec.Annotations[v1.AnnotationRevision], sec.Annotations[v1.AnnotationEndpoint] = b.Revision, b.Endpoint
	sec.Type = corev1.SecretTypeOpaque
	sec.Data = data
	if err := r.setOwnership(conn, sec); err != nil {
		return nil, err
	}
	return sec, nil
}

// mark sets the operator's mark for conn on a Secret.
func mark(sec *corev1.Secret, conn *v1.TableauConnection) {
	if sec.Labels == nil {
		sec.Labels = map[string]string{}
	}
	if sec.Annotations == nil {
		sec.Annotations = map[string]string{}
	}
	sec.Labels[v1.LabelCredential], sec.Labels[v1.LabelManagedBy] = v1.CredentialManaged, v1.ManagedByValue
	sec.Annotations[v1.AnnotationConnection], sec.Annotations[v1.AnnotationConnectionUID] = conn.Name, string(conn.UID)
}

// setOwnership gives the staged and previous copies, and the consumer Secret under
// deletionPolicy Delete, a controller owner reference; under Retain the consumer Secret has
// none, so deleting the connection leaves workloads their live credential.
func (r *bundleSecrets) setOwnership(conn *v1.TableauConnection, sec *corev1.Secret) error {
	if sec.Name == conn.Spec.Consumers.SecretName && conn.Spec.Consumers.DeletionPolicy != v1.DeletionDelete {
		refs := sec.OwnerReferences[:0]
		for _, ref := range sec.OwnerReferences {
			if ref.UID != conn.UID {
				refs = append(refs, ref)
			}
		}
		sec.OwnerReferences = refs
		return nil
	}
	return controllerutil.SetControllerReference(conn, sec, r.Scheme())
}

// ownedAsWanted reports whether a Secret's owner references match the policy.
func ownedAsWanted(conn *v1.TableauConnection, meta *metav1.PartialObjectMetadata) bool {
	owned := false
	for _, ref := range meta.OwnerReferences {
		if ref.UID == conn.UID {
			owned = true
		}
	}
	return owned == (conn.Spec.Consumers.DeletionPolicy == v1.DeletionDelete)
}

// convergeConsumerOwnership brings the consumer Secret's owner reference and mark to the
// deletionPolicy and this connection's UID, without touching its content.
func (r *bundleSecrets) convergeConsumerOwnership(ctx context.Context, conn *v1.TableauConnection, meta *metav1.PartialObjectMetadata) error {
	if meta == nil || !ours(meta, conn) || (ownedAsWanted(conn, meta) && meta.Annotations[v1.AnnotationConnectionUID] == string(conn.UID)) {
		return nil
	}
	sec, err := r.readOwn(ctx, conn, conn.Spec.Consumers.SecretName)
	if err != nil || sec == nil {
		return err
	}
	mark(sec, conn)
	if err := r.setOwnership(conn, sec); err != nil {
		return err
	}
	return wroteOrFailed(r.Update(ctx, sec), "update", "Secret", sec.Name)
}

// deleteOwn deletes a Secret the operator created for conn, with UID and resourceVersion
// preconditions: a Secret replaced or changed since it was read is not deleted.
func (r *bundleSecrets) deleteOwn(ctx context.Context, conn *v1.TableauConnection, name string) error {
	sec, err := r.readOwn(ctx, conn, name)
	if err != nil || sec == nil {
		return err
	}
	uid, rv := sec.UID, sec.ResourceVersion
	err = r.Delete(ctx, sec, client.Preconditions{UID: &uid, ResourceVersion: &rv})
	if err != nil && !apierrors.IsNotFound(err) {
		return wroteOrFailed(err, "delete", "Secret", name)
	}
	return nil
}
