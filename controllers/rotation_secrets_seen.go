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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// secretsSeen is what one reconcile of the rotation knows of its three Secrets. The rotation
// observes them from the metadata cache; a write then carries what it was decided on (a
// create asserts the name is free, an update or a delete the resourceVersion and UID seen),
// so a write decided on a stale copy is refused (AlreadyExists, Conflict) instead of acting on
// it, and only then is that one Secret read through the API reader. What the reconcile wrote,
// or read fresh, overlays the cache for the rest of the reconcile: the step after a write
// sees it although the cache may not have it yet. Content is read once per reconcile, only
// for a copy or a sign-in that needs it.
type secretsSeen struct {
	// meta is the latest metadata of each Secret (nil: it does not exist), and sure the
	// names whose metadata came from the server in this reconcile (a write's answer, a
	// fresh read) rather than from the cache.
	meta map[string]*metav1.PartialObjectMetadata
	sure map[string]bool
	// content holds the Secrets this reconcile read or wrote whole.
	content map[string]*corev1.Secret
	// refresh names the Secrets to read fresh at the next observation, after a write of
	// them was refused as stale; stale counts those refusals.
	refresh map[string]bool
	stale   map[string]int
}

func newSecretsSeen() secretsSeen {
	return secretsSeen{meta: map[string]*metav1.PartialObjectMetadata{}, sure: map[string]bool{},
		content: map[string]*corev1.Secret{}, refresh: map[string]bool{}, stale: map[string]int{}}
}

// wrote records the server's copy of a Secret this reconcile wrote or read whole.
func (k *secretsSeen) wrote(sec *corev1.Secret) {
	k.meta[sec.Name] = &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: *sec.ObjectMeta.DeepCopy()}
	k.sure[sec.Name], k.content[sec.Name] = true, sec
}

// gone records a Secret the server said does not exist (deleted, or not found).
func (k *secretsSeen) gone(name string) {
	k.meta[name], k.sure[name] = nil, true
	delete(k.content, name)
}

// staleWriteError is a write of a Secret refused because it was decided on a copy the world
// has moved past: the name was taken meanwhile (AlreadyExists), or the resourceVersion or UID
// changed (Conflict). The rotation observes that Secret afresh and plans again.
type staleWriteError struct {
	name  string
	write error // the refused write, as a writeError
}

func (e *staleWriteError) Error() string { return e.write.Error() }
func (e *staleWriteError) Unwrap() error { return e.write }

// wroteOrStale wraps a failed write like wroteOrFailed, as a staleWriteError when the API
// refused it for a precondition.
func wroteOrStale(err error, verb, name string) error {
	if err == nil {
		return nil
	}
	we := wroteOrFailed(err, verb, "Secret", name)
	if apierrors.IsAlreadyExists(err) || apierrors.IsConflict(err) {
		return &staleWriteError{name: name, write: we}
	}
	return we
}

// copyOf says what a Secret's metadata makes of it for the planner; nil does not exist.
func copyOf(meta *metav1.PartialObjectMetadata, conn *v1.TableauConnection) rotation.Copy {
	if meta == nil {
		return rotation.Copy{}
	}
	c := rotation.Copy{Exists: true, Ours: ours(meta, conn)}
	if c.Ours {
		c.Holds = bundleOf(meta)
	}
	return c
}

// observeSecret says what one of the rotation's Secrets is: what this reconcile learned from
// the server when it did, else from the cache, or through the API reader when fresh (a name
// someone else holds, which the cache cannot see) or after a write of it was refused as stale.
func (r *rolloutPhase) observeSecret(ctx context.Context, conn *v1.TableauConnection, rsc *rotationScope, name string, fresh bool) (rotation.Copy, *metav1.PartialObjectMetadata, error) {
	k := &rsc.seen
	if k.sure[name] && !fresh {
		return copyOf(k.meta[name], conn), k.meta[name], nil
	}
	fresh = fresh || k.refresh[name]
	c, meta, err := r.observeCopy(ctx, conn, name, fresh)
	if err != nil {
		return c, nil, err
	}
	if old := k.content[name]; old != nil && (meta == nil || old.ResourceVersion != meta.ResourceVersion) {
		delete(k.content, name) // read before the Secret changed
	}
	k.meta[name], k.sure[name] = meta, fresh
	delete(k.refresh, name)
	return c, meta, nil
}

// readSeen reads a Secret the operator created for conn, once per reconcile; nil when it
// does not exist.
func (r *rolloutPhase) readSeen(ctx context.Context, conn *v1.TableauConnection, rsc *rotationScope, name string) (*corev1.Secret, error) {
	k := &rsc.seen
	if sec := k.content[name]; sec != nil {
		return sec, nil
	}
	if k.sure[name] && k.meta[name] == nil {
		return nil, nil
	}
	if name == candidateName(conn) && r.mem != nil {
		if sec := r.mem.candidateAt(conn, k.meta[name]); sec != nil {
			k.content[name] = sec
			return sec, nil
		}
	}
	sec, err := r.readOwn(ctx, conn, name)
	if err != nil {
		return nil, err
	}
	if sec == nil {
		k.gone(name)
		return nil, nil
	}
	k.wrote(sec)
	return sec, nil
}

// plannedData is the content of the bundle want for a copy out of Secret from: the source's
// credential when this reconcile read it and it is that revision at this endpoint (a
// revision is the credential's digest: the same credential, and no read), else what from
// holds, read once per reconcile; nil when from does not hold want.
func (r *rolloutPhase) plannedData(ctx context.Context, s *scope, rsc *rotationScope, from string, want rotation.Bundle) (map[string][]byte, error) {
	conn := s.conn
	if from == candidateName(conn) && sourceIs(s, want) {
		return endpointBundle(conn, *s.cred), nil
	}
	src, err := r.readSeen(ctx, conn, rsc, from)
	if err != nil || src == nil || bundleOf(src) != want {
		return nil, err
	}
	return src.Data, nil
}

// sourceIs reports whether this reconcile read the source's credential and it is bundle b.
func sourceIs(s *scope, b rotation.Bundle) bool {
	return s.cred != nil && !b.IsZero() && s.revision == b.Revision && endpointDigest(s.conn) == b.Endpoint
}

// endpointBundle is a credential's bundle for the connection's current endpoint.
func endpointBundle(conn *v1.TableauConnection, cred signInCredential) map[string][]byte {
	data := cred.bundleData()
	data[BundleServer], data[BundleSite], data[BundleAPIVersion] = []byte(conn.Spec.Server), []byte(conn.Spec.Site), []byte(conn.Spec.APIVersion)
	return data
}

// putSeen creates or replaces a Secret the operator owns, with its mark, from what this
// reconcile knows of it: a name the observation found free is created (refused if it was
// taken meanwhile); an existing one is replaced from its whole copy read or written in this
// reconcile, else read first, with that copy's resourceVersion. A Secret without the mark
// is never touched.
func (r *rolloutPhase) putSeen(ctx context.Context, conn *v1.TableauConnection, rsc *rotationScope, name string, data map[string][]byte, b rotation.Bundle) error {
	k := &rsc.seen
	var existing *corev1.Secret
	if meta, observed := k.meta[name]; !observed || meta != nil {
		var err error
		if existing, err = r.readSeen(ctx, conn, rsc, name); err != nil {
			return err
		}
	}
	if existing != nil && !ours(existing, conn) {
		return fmt.Errorf("secret %q: %w", name, errNameTaken)
	}
	sec, err := r.asOwned(conn, existing, name, data, b)
	if err != nil {
		return err
	}
	if existing == nil {
		if err := r.Create(ctx, sec); err != nil {
			return wroteOrStale(err, "create", name)
		}
	} else if err := r.Update(ctx, sec); err != nil {
		return wroteOrStale(err, "update", name)
	}
	k.wrote(sec)
	if name == candidateName(conn) && r.mem != nil {
		r.mem.rememberCandidate(conn, sec)
	}
	return nil
}

// deleteSeen deletes a Secret the operator created for conn, with the UID and
// resourceVersion it was observed with as preconditions: a Secret replaced or changed since
// is not deleted (the refusal is stale: it is observed afresh).
func (r *rolloutPhase) deleteSeen(ctx context.Context, conn *v1.TableauConnection, rsc *rotationScope, name string) error {
	k := &rsc.seen
	meta, observed := k.meta[name]
	if !observed {
		return r.deleteOwn(ctx, conn, name)
	}
	if meta == nil {
		return nil
	}
	if !ours(meta, conn) {
		return fmt.Errorf("secret %q: %w", name, errNameTaken)
	}
	uid, rv := meta.UID, meta.ResourceVersion
	err := r.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace}}, client.Preconditions{UID: &uid, ResourceVersion: &rv})
	if err != nil && !apierrors.IsNotFound(err) {
		return wroteOrStale(err, "delete", name)
	}
	k.gone(name)
	if name == candidateName(conn) && r.mem != nil {
		r.mem.forgetCandidate(conn)
	}
	return nil
}

// worldMoved handles a write refused as stale: the first time in a reconcile, that Secret is
// observed afresh and the rotation plans again (true); a second refusal of the same Secret is
// returned as the refused write it is, recorded and retried with backoff like any other.
func worldMoved(rsc *rotationScope, err *error) bool {
	var stale *staleWriteError
	if !errors.As(*err, &stale) {
		return false
	}
	rsc.seen.stale[stale.name]++
	if rsc.seen.stale[stale.name] > 1 {
		*err = stale.write
		return false
	}
	delete(rsc.seen.sure, stale.name)
	delete(rsc.seen.content, stale.name)
	rsc.seen.refresh[stale.name] = true
	return true
}
