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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

// refuse records, before any Tableau call, what forbids using the connection's inputs: a
// server outside --allowed-servers, or a Secret or ConfigMap that is missing or lacks its
// owner's consent. An object the cache does not hold is absent or unlabelled; one direct
// metadata read (never of its content) tells which, and the gate before this step keeps that
// to one read per backoff interval. Labelling the object brings it into the cache, whose
// event retries at once.
func (r *refusePhase) refuse(ctx context.Context, s *scope) outcome {
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
