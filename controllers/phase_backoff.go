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

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

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
func (r *backoffPhase) awaitBackoff(_ context.Context, s *scope) outcome {
	f := s.conn.Status.LastFailure
	if f == nil || f.NextAttemptTime == nil || failureInputsChanged(s) || inputsNowUsable(s, f) {
		return proceeded()
	}
	if wait := f.NextAttemptTime.Sub(s.now); wait > 0 {
		return waitFor(wait)
	}
	return proceeded()
}
