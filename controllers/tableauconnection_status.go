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
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// ExpiryWarning is how long before a PAT's expiry the operator warns.
const ExpiryWarning = 14 * 24 * time.Hour

// consumersSeen is what this reconcile observed of the consumer Secret: ConsumersReady and
// Ready are computed from it, never from what status remembers.
type consumersSeen struct {
	state rotation.ConsumerState
	// holds is the revision the consumer Secret holds (when it is the operator's).
	holds string
	// recoverable: the planner can write the active bundle again by itself.
	recoverable bool
}

// consumersLostMessage says what happened to the consumer Secret and what to do: the
// operator writes it again by itself when it can, else a person must give a credential.
func consumersLostMessage(conn *v1.TableauConnection, seen *consumersSeen, what string) string {
	name, rs := conn.Spec.Consumers.SecretName, conn.Status.Rotation
	if seen.recoverable {
		return fmt.Sprintf("Secret %q %s; the operator writes revision %s into it again.", name, what, rs.ActiveRevision)
	}
	return fmt.Sprintf("Secret %q %s. It held the only copy of the active credential (revision %s): the source Secret %q holds no validated credential that could replace it, so workloads that start now get none. "+
		"Next step: put a working credential in Secret %q (the operator validates it and writes Secret %q), or restore Secret %q from a backup.",
		name, what, rs.ActiveRevision, sourceSecretName(conn), sourceSecretName(conn), name, name)
}

// event is a transition worth telling a person about.
type event struct {
	warning bool
	reason  string
	note    string
}

// transitions compares the status before and after a reconcile and returns the events to
// emit: only on transitions, with the conditions' reasons.
func transitions(before, after *v1.TableauConnection, now time.Time) []event {
	var out []event
	wasReady := meta.IsStatusConditionTrue(before.Status.Conditions, v1.ConditionReady)
	isReady := meta.IsStatusConditionTrue(after.Status.Conditions, v1.ConditionReady)
	bf, af := before.Status.LastFailure, after.Status.LastFailure
	switch {
	case isReady && !wasReady && bf != nil:
		out = append(out, event{reason: v1.ReasonSignInRestored, note: fmt.Sprintf("Sign-in works again after %d failures (%s).", bf.ConsecutiveFailures, bf.Reason)})
	case isReady && !wasReady:
		out = append(out, event{reason: v1.ReasonSignedIn, note: "Sign-in works and the pinned API version is supported."})
	}
	// A failure is news when its reason changed, or when it is another credential's: a person
	// who fixes a rejected PAT and gets it wrong again is told again (issue 24). The same
	// revision failing again after its backoff is not.
	if af != nil && (bf == nil || bf.Reason != af.Reason || bf.Revision != af.Revision) {
		note := fmt.Sprintf("%s: %s Next step: %s", af.Bucket, af.Message, af.NextStep)
		if af.Revision != "" {
			// Names the credential, so the recorder keeps each rejection an event of its own
			// instead of folding it into the first one's series.
			note += fmt.Sprintf(" (credential revision %s)", af.Revision)
		}
		out = append(out, event{warning: true, reason: af.Reason, note: note})
	}
	if meta.IsStatusConditionTrue(after.Status.Conditions, v1.ConditionRotationDue) && !meta.IsStatusConditionTrue(before.Status.Conditions, v1.ConditionRotationDue) {
		out = append(out, event{warning: true, reason: v1.ReasonRotationDue, note: meta.FindStatusCondition(after.Status.Conditions, v1.ConditionRotationDue).Message})
	}
	if expiringSoon(after, now) && !expiringSoon(before, now) {
		exp := after.Status.Credentials.ExpiresAt.Time
		out = append(out, event{warning: true, reason: v1.ReasonPATExpiryApproaching,
			note: fmt.Sprintf("PAT %q expires at %s (in %.0f days): create its successor and put it in the Secret.", after.Status.Credentials.TokenName, exp.UTC().Format(time.RFC3339), exp.Sub(now).Hours()/24)})
	}
	return out
}

func expiringSoon(conn *v1.TableauConnection, now time.Time) bool {
	c := conn.Status.Credentials
	return c != nil && c.ExpiresAt != nil && c.ExpiresAt.Sub(now) < ExpiryWarning
}
