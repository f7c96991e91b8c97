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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
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

// setConditions derives every condition from the spec, the status facts the steps recorded
// and what this reconcile observed of the consumer Secret (nil when it did not look). It is
// the only place conditions are computed.
func setConditions(conn *v1.TableauConnection, now time.Time, seen *consumersSeen) {
	gen := conn.Generation
	set := conditionSetter(&conn.Status.Conditions, gen)
	st := &conn.Status
	if conn.Spec.Suspend {
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonSuspended, "spec.suspend is true: the operator makes no Tableau call for this connection.")
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonSuspended, "Suspended.")
		set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonSuspended, "Suspended.")
		for _, t := range []string{v1.ConditionSignedIn, v1.ConditionAPIVersionSupported} {
			if meta.FindStatusCondition(st.Conditions, t) == nil {
				set(t, metav1.ConditionUnknown, v1.ReasonSuspended, "Suspended before the first check.")
			}
		}
		setWriteConditions(conn, set)
		return
	}
	if rs := st.Rotation; rs != nil && rs.DueTime != nil {
		if automatic(conn) != nil {
			// Nothing for a person to do: the AutomaticRotation condition tells how it goes.
			set(v1.ConditionRotationDue, metav1.ConditionFalse, v1.ReasonRotationNotDue,
				"rotation.automatic creates the next secret at "+rs.DueTime.UTC().Format(time.RFC3339)+" (see AutomaticRotation).")
		} else if !now.Before(rs.DueTime.Time) {
			set(v1.ConditionRotationDue, metav1.ConditionTrue, v1.ReasonRotationDue,
				fmt.Sprintf("Revision %s is due for rotation since %s: create the next PAT and put it in Secret %q.", rs.ActiveRevision, rs.DueTime.UTC().Format(time.RFC3339), sourceSecretName(conn)))
		} else {
			set(v1.ConditionRotationDue, metav1.ConditionFalse, v1.ReasonRotationNotDue, "Rotation is due at "+rs.DueTime.UTC().Format(time.RFC3339)+".")
		}
	} else {
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionRotationDue)
	}
	setAutomaticRotationCondition(conn, set)
	f := st.LastFailure
	versionFailure := f != nil && f.Bucket == string(classify.APIVersionMismatch)

	switch {
	case versionFailure:
		set(v1.ConditionAPIVersionSupported, metav1.ConditionFalse, f.Reason, f.Message)
	case st.Server != nil && st.Server.RESTAPIVersion != "":
		set(v1.ConditionAPIVersionSupported, metav1.ConditionTrue, v1.ReasonAPIVersionSupported,
			fmt.Sprintf("spec.apiVersion %s is at most the server's REST API version %s.", conn.Spec.APIVersion, st.Server.RESTAPIVersion))
	default:
		set(v1.ConditionAPIVersionSupported, metav1.ConditionUnknown, v1.ReasonServerUnknown, "serverinfo has not answered yet.")
	}

	signedIn := false
	switch {
	case f != nil && !versionFailure:
		set(v1.ConditionSignedIn, metav1.ConditionFalse, f.Reason, f.Message)
	case versionFailure:
		set(v1.ConditionSignedIn, metav1.ConditionUnknown, v1.ReasonAwaitingSignIn, "No sign-in while spec.apiVersion is above the server's version.")
	case st.Credentials != nil && st.Credentials.LastSignInTime != nil:
		signedIn = true
		set(v1.ConditionSignedIn, metav1.ConditionTrue, v1.ReasonSignedIn,
			fmt.Sprintf("%s signed in to site %q at %s.", capitalized(identOf(st.Credentials).describe()), conn.Spec.Site, st.Credentials.LastSignInTime.UTC().Format(time.RFC3339)))
	case st.Credentials != nil && st.Credentials.ValidatedBefore != "" && st.Credentials.LastAttemptResult == v1.ResultSucceeded:
		signedIn = true
		set(v1.ConditionSignedIn, metav1.ConditionTrue, v1.ReasonValidatedBefore,
			fmt.Sprintf("%s was validated before this connection was created: Secret %q, written by the operator, holds it for this server, site and apiVersion. The operator does not sign in with the PAT consumers hold, which would end their sessions.",
				capitalized(identOf(st.Credentials).describe()), st.Credentials.ValidatedBefore))
	default:
		set(v1.ConditionSignedIn, metav1.ConditionUnknown, v1.ReasonAwaitingSignIn, "The operator has not signed in yet.")
	}

	transient := f != nil && classify.Bucket(f.Bucket).Transient()
	candidateFailed := setConsumerConditions(conn, set, seen)
	cr := meta.FindStatusCondition(st.Conditions, v1.ConditionConsumersReady)
	nameTaken := cr != nil && cr.Status == metav1.ConditionFalse && cr.Reason == v1.ReasonSecretNameTaken
	consumersLost := cr != nil && cr.Status == metav1.ConditionFalse &&
		(cr.Reason == v1.ReasonConsumerSecretMissing || cr.Reason == v1.ReasonConsumerSecretChanged)
	needsPerson := consumersLost && seen != nil && !seen.recoverable
	// No credential delivered yet (a first rollout that waits, for its restart target or its
	// check): sign-in working says nothing about what workloads that start now get.
	consumersPending := cr != nil && cr.Status == metav1.ConditionFalse && cr.Reason == v1.ReasonConsumersPending
	switch {
	case nameTaken, consumersLost:
		// Workloads that start now get no working credential, whatever sign-in says.
		set(v1.ConditionReady, metav1.ConditionFalse, cr.Reason, cr.Message)
	case candidateFailed:
		// Consumers hold a validated credential and still sign in: a rejected new revision
		// in the source is reported on CandidateValid, not as an outage.
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConsumersReady,
			fmt.Sprintf("Consumers hold revision %s, which signed in; the new credential in the source is not used (see CandidateValid).", st.Rotation.ActiveRevision))
	case f != nil:
		msg := fmt.Sprintf("%s: %s Next step: %s", f.Bucket, f.Message, f.NextStep)
		set(v1.ConditionReady, metav1.ConditionFalse, f.Reason, msg)
	case consumersPending:
		set(v1.ConditionReady, metav1.ConditionFalse, cr.Reason, cr.Message)
	case signedIn && meta.IsStatusConditionTrue(st.Conditions, v1.ConditionAPIVersionSupported):
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonSignedIn, "Sign-in works and the pinned API version is supported.")
	default:
		set(v1.ConditionReady, metav1.ConditionUnknown, v1.ReasonProgressing, "Validating.")
	}

	if nameTaken {
		set(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonSecretNameTaken, "A consumer Secret name is taken by a Secret the operator did not create; it waits for a person.")
	} else if needsPerson {
		set(v1.ConditionStalled, metav1.ConditionTrue, cr.Reason, "The consumer Secret held the only copy of the active credential; it waits for a person (see ConsumersReady).")
	} else if f != nil && !transient && !candidateFailed {
		set(v1.ConditionStalled, metav1.ConditionTrue, f.Reason,
			fmt.Sprintf("%s needs a change of the spec or the Secret; the operator rechecks slowly meanwhile.", f.Bucket))
	} else {
		set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonNotStalled, "")
	}
	switch {
	case transient && !candidateFailed:
		next := "soon"
		if f.NextAttemptTime != nil {
			next = f.NextAttemptTime.UTC().Format(time.RFC3339)
		}
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressingRetry,
			fmt.Sprintf("%s after %d consecutive failures; next attempt at %s.", f.Reason, f.ConsecutiveFailures, next))
	case consumersLost && !needsPerson:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Writing the consumer Secret again.")
	case f == nil && consumersPending:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Rolling the credential out to the consumer Secret (see status.rotation).")
	case f == nil && !meta.IsStatusConditionTrue(st.Conditions, v1.ConditionReady) && !needsPerson:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Validating.")
	default:
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonSucceeded, "")
	}
	setWriteConditions(conn, set)
}

// setAutomaticRotationCondition reports spec.rotation.automatic on its own condition, so a
// failing admin sign-in, a full app or throttling is seen without reading the status fields;
// Ready and Stalled stay about the consumers' credential.
func setAutomaticRotationCondition(conn *v1.TableauConnection, set setCondition) {
	rs := conn.Status.Rotation
	if automatic(conn) == nil || rs == nil || rs.Automatic == nil {
		meta.RemoveStatusCondition(&conn.Status.Conditions, v1.ConditionAutomaticRotation)
		return
	}
	st := rs.Automatic
	reason := st.Reason
	if reason == "" {
		reason = v1.ReasonProgressing
	}
	switch {
	case st.Reason == callgate.ReasonDeletePending:
		set(v1.ConditionAutomaticRotation, metav1.ConditionFalse, reason, st.Message)
	case st.ConsecutiveFailures > 0 && classify.ReasonBucket[st.Reason].Transient():
		next := "soon"
		if st.NextAttemptTime != nil {
			next = st.NextAttemptTime.UTC().Format(time.RFC3339)
		}
		set(v1.ConditionAutomaticRotation, metav1.ConditionFalse, reason,
			fmt.Sprintf("%s Retrying with backoff after %d consecutive failures; next attempt at %s.", st.Message, st.ConsecutiveFailures, next))
	case st.ConsecutiveFailures > 0:
		set(v1.ConditionAutomaticRotation, metav1.ConditionFalse, reason, st.Message+" The operator rechecks hourly.")
	case st.Phase == string(rotation.AutomaticStalled):
		set(v1.ConditionAutomaticRotation, metav1.ConditionFalse, reason, st.Message)
	default:
		set(v1.ConditionAutomaticRotation, metav1.ConditionTrue, reason, st.Message)
	}
}

// setCondition sets one condition of an object at its current generation.
type setCondition func(t string, status metav1.ConditionStatus, reason, msg string)

// conditionSetter is the one way conditions are set, for connections and fleets alike.
func conditionSetter(conds *[]metav1.Condition, gen int64) setCondition {
	return func(t string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
}

// setConsumerConditions sets ConsumersReady, from what this reconcile observed, and
// CandidateValid for a connection with consumers (and removes them without), and reports
// whether the only failure is a new revision in the source that consumers do not hold.
func setConsumerConditions(conn *v1.TableauConnection, set setCondition, seen *consumersSeen) bool {
	st := &conn.Status
	rs := st.Rotation
	if conn.Spec.Consumers == nil || rs == nil {
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionConsumersReady)
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionCandidateValid)
		return false
	}
	name := conn.Spec.Consumers.SecretName
	consumersHold := false
	switch {
	case rs.Reason == v1.ReasonSecretNameTaken || (seen != nil && seen.state == rotation.ConsumersTaken):
		set(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonSecretNameTaken, rs.Message)
	case seen == nil:
		// This reconcile did not look (it stopped earlier): the last observation stands.
		if meta.FindStatusCondition(st.Conditions, v1.ConditionConsumersReady) == nil {
			set(v1.ConditionConsumersReady, metav1.ConditionUnknown, v1.ReasonConsumersNotObserved, fmt.Sprintf("Secret %q was not looked at yet.", name))
		}
		consumersHold = meta.IsStatusConditionTrue(st.Conditions, v1.ConditionConsumersReady)
	case seen.state == rotation.ConsumersHold:
		consumersHold = true
		set(v1.ConditionConsumersReady, metav1.ConditionTrue, v1.ReasonConsumersReady, fmt.Sprintf("Secret %q holds revision %s.", name, seen.holds))
	case seen.state == rotation.ConsumersMissing:
		set(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumerSecretMissing, consumersLostMessage(conn, seen, "does not exist (deleted, or spec.consumers.secretName renamed)"))
	case seen.state == rotation.ConsumersStale:
		set(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumerSecretChanged,
			consumersLostMessage(conn, seen, fmt.Sprintf("holds revision %q, not the active revision %s", seen.holds, rs.ActiveRevision)))
	default:
		set(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumersPending,
			fmt.Sprintf("Secret %q gets the credential once it is validated.", name))
	}
	f, c := st.LastFailure, st.Credentials
	candidateFailed := consumersHold && f != nil && f.Stage == v1.StageSignIn && rs.ActiveRevision != "" && f.Revision != rs.ActiveRevision
	switch {
	case rs.Phase == v1.RotationFailed && rs.FailedRevision != "":
		msg := rs.Message
		if candidateFailed && f.Revision == rs.FailedRevision {
			msg = fmt.Sprintf("%s: %s Next step: %s", f.Bucket, f.Message, f.NextStep)
		} else {
			msg += fmt.Sprintf(" Next step: put a new credential in Secret %q, or annotate %s=<any new value> to retry this one.",
				sourceSecretName(conn), v1.AnnotationRequestedAt)
		}
		set(v1.ConditionCandidateValid, metav1.ConditionFalse, rs.Reason, msg)
		return consumersHold && (candidateFailed || f == nil)
	case candidateFailed:
		set(v1.ConditionCandidateValid, metav1.ConditionUnknown, v1.ReasonCandidatePending,
			fmt.Sprintf("Revision %s: %s (%s); retrying at the backoff's pace.", f.Revision, f.Reason, f.Bucket))
		return true
	case c != nil && c.Revision != "" && c.Revision == rs.ActiveRevision:
		set(v1.ConditionCandidateValid, metav1.ConditionTrue, v1.ReasonNoCandidate, "The source holds the active credential.")
	case rs.CandidateRevision != "":
		set(v1.ConditionCandidateValid, metav1.ConditionTrue, v1.ReasonCandidateValid, fmt.Sprintf("Revision %s is validated.", rs.CandidateRevision))
	default:
		set(v1.ConditionCandidateValid, metav1.ConditionUnknown, v1.ReasonCandidatePending, "The source's credential is not validated yet.")
	}
	return false
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
	if af != nil && (bf == nil || bf.Reason != af.Reason) {
		out = append(out, event{warning: true, reason: af.Reason, note: fmt.Sprintf("%s: %s Next step: %s", af.Bucket, af.Message, af.NextStep)})
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
