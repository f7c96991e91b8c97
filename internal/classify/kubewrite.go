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

package classify

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// ConflictsBeforeReport is how many consecutive conflicts of one write are retried silently:
// a conflict is usually a write that raced another and succeeds on the next read.
const ConflictsBeforeReport = 3

// WriteRefusal is a Kubernetes write the API server refused: the API's reason (typed), the
// object, and what a person should do.
type WriteRefusal struct {
	// Reason is one of v1.ReasonWrite*: the API's status reason, with an exceeded quota
	// (which the API reports as Forbidden) told apart.
	Reason string
	// Verb, Kind and Name say which write: create, update, patch or delete of a Secret or a
	// restart target.
	Verb, Kind, Name string
	// Detail is the API server's message (bounded by the caller before it reaches status).
	Detail string
}

// Transient reports whether retrying the same write can succeed without a person: only a
// conflict (someone else wrote the object between the read and the write) can.
func (w WriteRefusal) Transient() bool { return w.Reason == v1.ReasonWriteConflict }

// NextStep says what a person does about the refusal.
func (w WriteRefusal) NextStep() string {
	switch w.Reason {
	case v1.ReasonWriteForbidden:
		return "grant the operator's ServiceAccount this verb (the installed role is config/rbac/role.yaml; with the OwnerReferencesPermissionEnforcement admission plugin it also needs update on tableauconnections/finalizers), or lift the policy that forbids it; the operator retries with backoff."
	case v1.ReasonWriteQuotaExceeded:
		return "raise the namespace's ResourceQuota (secrets or count/secrets) or delete Secrets nobody uses; the rotation resumes at the next retry and consumers keep their credential meanwhile."
	case v1.ReasonWriteConflict:
		return "another writer keeps changing the object: find it (Argo CD, a script, another controller) and stop it from managing the object; the operator retries with backoff."
	case v1.ReasonWriteInvalid:
		return "an admission webhook or policy (Kyverno, Gatekeeper, OPA) rejects the object: allow the operator's Secrets and restart annotation in this namespace."
	}
	return "read the API server's message, fix what refuses the write; the operator retries with backoff."
}

// Message says in a sentence what was refused and what to do, for status and events.
func (w WriteRefusal) Message() string {
	detail := ""
	if w.Detail != "" {
		detail = " (" + w.Detail + ")"
	}
	return fmt.Sprintf("The API server refused to %s %s %q: %s%s. Next step: %s", w.Verb, w.Kind, w.Name, w.Reason, detail, w.NextStep())
}

// KubernetesWrite classifies the error of a write to the API server. It reports false for an
// error that is no refusal of the write by the API server (the object is gone, the network
// or the server failed): those are retried by the usual error path.
func KubernetesWrite(err error, verb, kind, name string) (WriteRefusal, bool) {
	var status apierrors.APIStatus
	if err == nil || !errors.As(err, &status) {
		return WriteRefusal{}, false
	}
	st := status.Status()
	w := WriteRefusal{Verb: verb, Kind: kind, Name: name, Detail: st.Message}
	if d := st.Details; d != nil && d.Name != "" && name == "" {
		w.Name = d.Name
	}
	switch st.Reason {
	case metav1.StatusReasonForbidden:
		if strings.Contains(st.Message, "status unknown for quota") {
			// A quota the quota controller has not counted yet (just created or changed):
			// the next retry is admitted or refused for good, no person needs to act.
			return WriteRefusal{}, false
		}
		w.Reason = v1.ReasonWriteForbidden
		// The quota admission plugin answers Forbidden with "exceeded quota: <name>, ...".
		if strings.Contains(st.Message, "exceeded quota") {
			w.Reason = v1.ReasonWriteQuotaExceeded
		}
	case metav1.StatusReasonConflict:
		w.Reason = v1.ReasonWriteConflict
	case metav1.StatusReasonInvalid, metav1.StatusReasonBadRequest, metav1.StatusReasonRequestEntityTooLarge:
		w.Reason = v1.ReasonWriteInvalid
	case metav1.StatusReasonUnauthorized:
		// 401 is about the operator's own credential (its ServiceAccount token expired,
		// rotated or deleted, or the authenticator down), not about this write: every
		// request fails alike, the status patch that would record a refusal too. Told as
		// Forbidden it sent a person to RBAC; it is retried and logged as an error like an
		// outage, and a lasting one makes the API server wait at the next start exit saying
		// what it is (internal/apiwait).
		return WriteRefusal{}, false
	case metav1.StatusReasonNotFound, metav1.StatusReasonAlreadyExists, metav1.StatusReasonTimeout, metav1.StatusReasonServerTimeout,
		metav1.StatusReasonServiceUnavailable, metav1.StatusReasonInternalError, metav1.StatusReasonTooManyRequests:
		// Gone, racing a create, or the API server unavailable or throttling: the usual
		// retry covers them.
		return WriteRefusal{}, false
	default:
		if st.Code < 400 || st.Code >= 500 {
			return WriteRefusal{}, false
		}
		w.Reason = v1.ReasonWriteRefused
	}
	return w, true
}
