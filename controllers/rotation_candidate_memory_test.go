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
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// TestStagedCandidateIsNotReadBack: the turn after staging (a later reconcile) takes the
// candidate's content from what this process wrote while the Secret observed is that
// version; after someone edits it, or once it was deleted, the content is read again and is
// the edited one.
func TestStagedCandidateIsNotReadBack(t *testing.T) {
	ctx := context.Background()
	conn := seenConn()
	name := candidateName(conn)
	reads := 0
	c := fake.NewClientBuilder().WithScheme(seenScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*corev1.Secret); ok && key.Name == name {
				reads++
			}
			return cl.Get(ctx, key, obj, opts...)
		}}).Build()
	r := (&TableauConnectionReconciler{Client: c, APIReader: c}).built().rollout
	b := rotation.Bundle{Revision: "r2", Endpoint: endpointDigest(conn)}
	staged := map[string][]byte{"tokenName": []byte("t2"), "tokenSecret": []byte("s2")}

	// A reconcile stages the candidate: the name was free.
	rsc := &rotationScope{seen: newSecretsSeen()}
	rsc.seen.meta[name] = nil
	if err := r.putSeen(ctx, conn, rsc, name, staged, b); err != nil {
		t.Fatal(err)
	}
	// observed returns what the metadata cache would show a later reconcile.
	observed := func() *rotationScope {
		var sec corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: conn.Namespace, Name: name}, &sec); err != nil {
			t.Fatal(err)
		}
		reads--
		s := &rotationScope{seen: newSecretsSeen()}
		s.seen.meta[name] = &metav1.PartialObjectMetadata{ObjectMeta: sec.ObjectMeta}
		return s
	}
	got, err := r.readSeen(ctx, conn, observed(), name)
	if err != nil || got == nil || string(got.Data["tokenSecret"]) != "s2" || bundleOf(got) != b {
		t.Fatalf("the turn's candidate: %v, %v; want the staged bundle", got, err)
	}
	if reads != 0 {
		t.Errorf("the staged candidate was read back %d times, want 0", reads)
	}

	// Someone replaces it under the same name: another UID (at the same resourceVersion
	// here, as the fake client numbers each object's versions from 1), so it is read.
	if err := c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace, UID: "someone"},
		Data: map[string][]byte{"tokenSecret": []byte("theirs")}}); err != nil {
		t.Fatal(err)
	}
	rsc = observed()
	if rv := rsc.seen.meta[name].ResourceVersion; rv != got.ResourceVersion {
		t.Logf("the replacement's resourceVersion %s differs from the written %s: the UID alone is not what is tested", rv, got.ResourceVersion)
	}
	reads = 0
	if got, err := r.readSeen(ctx, conn, rsc, name); !errors.Is(err, errNameTaken) || got != nil || reads != 1 {
		t.Fatalf("after a replacement: %v, %v, %d reads; want someone else's Secret refused, read once", got, err, reads)
	}

	// The rotation stages it again (the name free again), then someone edits it: the
	// observed version is not the one written, so it is read, and is the edited one.
	if err := c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: conn.Namespace}}); err != nil {
		t.Fatal(err)
	}
	rsc = &rotationScope{seen: newSecretsSeen()}
	rsc.seen.meta[name] = nil
	if err := r.putSeen(ctx, conn, rsc, name, staged, b); err != nil {
		t.Fatal(err)
	}
	var sec corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: conn.Namespace, Name: name}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data["tokenSecret"] = []byte("edited")
	if err := c.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	reads = 0
	got, err = r.readSeen(ctx, conn, observed(), name)
	if err != nil || got == nil || string(got.Data["tokenSecret"]) != "edited" || reads != 1 {
		t.Fatalf("after an edit: %v, %v, %d reads; want the edited content, read once", got, err, reads)
	}
}
