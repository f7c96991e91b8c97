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

// setConditions derives every condition from the spec, the status facts the phases recorded
// and what this reconcile observed of the consumer Secret (nil when it did not look). It is
// the only place conditions are computed: one setter per condition, each a function of the
// object and those facts. The domain conditions come first; Ready, Stalled and Reconciling
// summarize them (and the facts behind them), in that order.
func setConditions(conn *v1.TableauConnection, now time.Time, seen *consumersSeen) {
	set := conditionSetter(&conn.Status.Conditions, conn.Generation)
	if conn.Spec.Suspend {
		setSuspended(conn, set)
		setWritesAccepted(conn, set)
		return
	}
	setClaimed(conn, now, set)
	setRotationDueCondition(conn, now, set)
	setAutomaticRotation(conn, set)
	setAPIVersionSupported(conn, set)
	setSignedIn(conn, set)
	setConsumersReady(conn, seen, set)
	setCandidateValid(conn, set)
	setWritesAccepted(conn, set)
	setReady(conn, seen, set)
	setReadyContested(conn, now, set)
	setStalled(conn, seen, set)
	setReconciling(conn, seen, set)
}

// setCondition sets one condition of an object at its current generation.
type setCondition func(t string, status metav1.ConditionStatus, reason, msg string)

// conditionSetter is the one way conditions are set, for connections and fleets alike.
func conditionSetter(conds *[]metav1.Condition, gen int64) setCondition {
	return func(t string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(conds, metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
}

// removeCondition drops a condition. meta.RemoveStatusCondition copies the list even when
// the condition is absent, and every status computation removes the conditions that do not
// apply: that copy was one of the larger allocations of a rotated tenant.
func removeCondition(conds *[]metav1.Condition, conditionType string) {
	if meta.FindStatusCondition(*conds, conditionType) != nil {
		meta.RemoveStatusCondition(conds, conditionType)
	}
}

// transient is the one place the controllers decide whether a failure's bucket is retried
// with backoff (throttling, outages) or waits for a change of the spec or the Secret.
func transient(bucket classify.Bucket) bool { return bucket.Transient() }

// transientFailure says whether status's last failure is retried with backoff.
func transientFailure(f *v1.FailureStatus) bool {
	return f != nil && transient(classify.Bucket(f.Bucket))
}

// setSuspended is what a suspended connection reports: nothing is checked, so the summary
// says so and the domain conditions keep what they last said (Unknown before any check).
func setSuspended(conn *v1.TableauConnection, set setCondition) {
	set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonSuspended, "spec.suspend is true: the operator makes no Tableau call for this connection.")
	set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonSuspended, "Suspended.")
	set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonSuspended, "Suspended.")
	for _, t := range []string{v1.ConditionSignedIn, v1.ConditionAPIVersionSupported} {
		if meta.FindStatusCondition(conn.Status.Conditions, t) == nil {
			set(t, metav1.ConditionUnknown, v1.ReasonSuspended, "Suspended before the first check.")
		}
	}
}

// setRotationDueCondition tells a person when to rotate: True once status.rotation.dueTime
// passed, without automatic rotation (which rotates by itself).
func setRotationDueCondition(conn *v1.TableauConnection, now time.Time, set setCondition) {
	rs := conn.Status.Rotation
	switch {
	case rs == nil || rs.DueTime == nil:
		removeCondition(&conn.Status.Conditions, v1.ConditionRotationDue)
	case automatic(conn) != nil:
		// Nothing for a person to do: the AutomaticRotation condition tells how it goes.
		set(v1.ConditionRotationDue, metav1.ConditionFalse, v1.ReasonRotationNotDue,
			"rotation.automatic creates the next secret at "+rs.DueTime.UTC().Format(time.RFC3339)+" (see AutomaticRotation).")
	case !now.Before(rs.DueTime.Time):
		set(v1.ConditionRotationDue, metav1.ConditionTrue, v1.ReasonRotationDue,
			fmt.Sprintf("Revision %s is due for rotation since %s: create the next PAT and put it in Secret %q.", rs.ActiveRevision, rs.DueTime.UTC().Format(time.RFC3339), sourceSecretName(conn)))
	default:
		set(v1.ConditionRotationDue, metav1.ConditionFalse, v1.ReasonRotationNotDue, "Rotation is due at "+rs.DueTime.UTC().Format(time.RFC3339)+".")
	}
}

// setAutomaticRotation reports spec.rotation.automatic on its own condition, so a failing
// admin sign-in, a full app or throttling is seen without reading the status fields; Ready
// and Stalled stay about the consumers' credential.
func setAutomaticRotation(conn *v1.TableauConnection, set setCondition) {
	rs := conn.Status.Rotation
	if automatic(conn) == nil || rs == nil || rs.Automatic == nil {
		removeCondition(&conn.Status.Conditions, v1.ConditionAutomaticRotation)
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
	case st.ConsecutiveFailures > 0 && transient(classify.ReasonBucket[st.Reason]):
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

// versionFailure says whether the last failure is the pinned API version's.
func versionFailure(conn *v1.TableauConnection) bool {
	f := conn.Status.LastFailure
	return f != nil && f.Bucket == string(classify.APIVersionMismatch)
}

// setAPIVersionSupported compares the pin with the server's REST API version.
func setAPIVersionSupported(conn *v1.TableauConnection, set setCondition) {
	st := &conn.Status
	switch {
	case versionFailure(conn):
		set(v1.ConditionAPIVersionSupported, metav1.ConditionFalse, st.LastFailure.Reason, st.LastFailure.Message)
	case st.Server != nil && st.Server.RESTAPIVersion != "":
		set(v1.ConditionAPIVersionSupported, metav1.ConditionTrue, v1.ReasonAPIVersionSupported,
			fmt.Sprintf("spec.apiVersion %s is at most the server's REST API version %s.", conn.Spec.APIVersion, st.Server.RESTAPIVersion))
	default:
		set(v1.ConditionAPIVersionSupported, metav1.ConditionUnknown, v1.ReasonServerUnknown, "serverinfo has not answered yet.")
	}
}

// setSignedIn reports the last sign-in: failed, not tried, succeeded, or validated before
// this connection existed (a consumer Secret the operator wrote holds it).
func setSignedIn(conn *v1.TableauConnection, set setCondition) {
	st := &conn.Status
	f, c := st.LastFailure, st.Credentials
	switch {
	case versionFailure(conn):
		set(v1.ConditionSignedIn, metav1.ConditionUnknown, v1.ReasonAwaitingSignIn, "No sign-in while spec.apiVersion is above the server's version.")
	case f != nil:
		set(v1.ConditionSignedIn, metav1.ConditionFalse, f.Reason, f.Message)
	case c != nil && c.LastSignInTime != nil:
		set(v1.ConditionSignedIn, metav1.ConditionTrue, v1.ReasonSignedIn,
			fmt.Sprintf("%s signed in to site %q at %s.", capitalized(identOf(c).describe()), conn.Spec.Site, c.LastSignInTime.UTC().Format(time.RFC3339)))
	case c != nil && c.ValidatedBefore != "" && c.LastAttemptResult == v1.ResultSucceeded:
		set(v1.ConditionSignedIn, metav1.ConditionTrue, v1.ReasonValidatedBefore,
			fmt.Sprintf("%s was validated before this connection was created: Secret %q, written by the operator, holds it for this server, site and apiVersion. The operator does not sign in with the PAT consumers hold, which would end their sessions.",
				capitalized(identOf(c).describe()), c.ValidatedBefore))
	default:
		set(v1.ConditionSignedIn, metav1.ConditionUnknown, v1.ReasonAwaitingSignIn, "The operator has not signed in yet.")
	}
}

// setConsumersReady reports, from what this reconcile observed of the consumer Secret, whether
// it holds the active credential; without a look, the last observation stands. A connection
// without consumers has no such condition.
func setConsumersReady(conn *v1.TableauConnection, seen *consumersSeen, set setCondition) {
	st := &conn.Status
	rs := st.Rotation
	if conn.Spec.Consumers == nil || rs == nil {
		removeCondition(&st.Conditions, v1.ConditionConsumersReady)
		return
	}
	name := conn.Spec.Consumers.SecretName
	switch {
	case rs.Reason == v1.ReasonSecretNameTaken || (seen != nil && seen.state == rotation.ConsumersTaken):
		set(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonSecretNameTaken, rs.Message)
	case seen == nil:
		if meta.FindStatusCondition(st.Conditions, v1.ConditionConsumersReady) == nil {
			set(v1.ConditionConsumersReady, metav1.ConditionUnknown, v1.ReasonConsumersNotObserved, fmt.Sprintf("Secret %q was not looked at yet.", name))
		}
	case seen.state == rotation.ConsumersHold:
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
}

// candidateFailed says whether the only failure is a new revision in the source that
// consumers do not hold: consumers hold a validated credential (ConsumersReady) and still
// sign in, so Ready stays True and CandidateValid tells.
func candidateFailed(conn *v1.TableauConnection) bool {
	st := &conn.Status
	rs := st.Rotation
	if conn.Spec.Consumers == nil || rs == nil {
		return false
	}
	f := st.LastFailure
	hold := meta.IsStatusConditionTrue(st.Conditions, v1.ConditionConsumersReady)
	signInFailed := hold && f != nil && f.Stage == v1.StageSignIn && rs.ActiveRevision != "" && f.Revision != rs.ActiveRevision
	if rs.Phase == v1.RotationFailed && rs.FailedRevision != "" {
		return hold && (signInFailed || f == nil)
	}
	return signInFailed
}

// setCandidateValid reports on the source's credential while consumers hold another: rejected,
// still retried, validated, or the active one. It reads ConsumersReady.
func setCandidateValid(conn *v1.TableauConnection, set setCondition) {
	st := &conn.Status
	rs := st.Rotation
	if conn.Spec.Consumers == nil || rs == nil {
		removeCondition(&st.Conditions, v1.ConditionCandidateValid)
		return
	}
	f, c := st.LastFailure, st.Credentials
	hold := meta.IsStatusConditionTrue(st.Conditions, v1.ConditionConsumersReady)
	signInFailed := hold && f != nil && f.Stage == v1.StageSignIn && rs.ActiveRevision != "" && f.Revision != rs.ActiveRevision
	switch {
	case rs.Phase == v1.RotationFailed && rs.FailedRevision != "":
		msg := rs.Message
		if signInFailed && f.Revision == rs.FailedRevision {
			msg = fmt.Sprintf("%s: %s Next step: %s", f.Bucket, f.Message, f.NextStep)
		} else {
			msg += fmt.Sprintf(" Next step: put a new credential in Secret %q, or annotate %s=<any new value> to retry this one.",
				sourceSecretName(conn), v1.AnnotationRequestedAt)
		}
		set(v1.ConditionCandidateValid, metav1.ConditionFalse, rs.Reason, msg)
	case signInFailed:
		set(v1.ConditionCandidateValid, metav1.ConditionUnknown, v1.ReasonCandidatePending,
			fmt.Sprintf("Revision %s: %s (%s); retrying at the backoff's pace.", f.Revision, f.Reason, f.Bucket))
	case c != nil && c.Revision != "" && c.Revision == rs.ActiveRevision:
		set(v1.ConditionCandidateValid, metav1.ConditionTrue, v1.ReasonNoCandidate, "The source holds the active credential.")
	case rs.CandidateRevision != "":
		set(v1.ConditionCandidateValid, metav1.ConditionTrue, v1.ReasonCandidateValid, fmt.Sprintf("Revision %s is validated.", rs.CandidateRevision))
	default:
		set(v1.ConditionCandidateValid, metav1.ConditionUnknown, v1.ReasonCandidatePending, "The source's credential is not validated yet.")
	}
}

// refusedWrite is the rotation's refused write that the conditions report, nil when none.
func refusedWrite(conn *v1.TableauConnection) *v1.RefusedWriteStatus {
	if rw := conn.Status.RefusedWrite; rw != nil && !conn.Spec.Suspend && reported(rw) {
		return rw
	}
	return nil
}

// setWritesAccepted reports a refused write of the rotation. A connection that never had a
// write refused has no WritesAccepted condition; one whose writes go through again has it
// True; suspended, the operator writes nothing, so a refusal recorded before is not current.
func setWritesAccepted(conn *v1.TableauConnection, set setCondition) {
	had := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionWritesAccepted) != nil
	switch rw := refusedWrite(conn); {
	case conn.Spec.Suspend && had:
		set(v1.ConditionWritesAccepted, metav1.ConditionUnknown, v1.ReasonSuspended, "Suspended: the operator writes nothing.")
	case rw != nil:
		set(v1.ConditionWritesAccepted, metav1.ConditionFalse, rw.Reason, rw.Message)
	case had && !conn.Spec.Suspend:
		set(v1.ConditionWritesAccepted, metav1.ConditionTrue, v1.ReasonWritesAccepted, "The API server accepts the operator's writes of the rotation.")
	}
}

// consumersFacts are what ConsumersReady (set before) says for the summary conditions.
type consumersFacts struct {
	cond *metav1.Condition
	// nameTaken: a consumer Secret name is held by someone else's Secret.
	nameTaken bool
	// lost: the consumer Secret is gone or holds another revision.
	lost bool
	// needsPerson: lost, and the operator cannot write it again by itself.
	needsPerson bool
	// pending: no credential delivered yet (a first rollout that waits for its restart
	// target or its check): sign-in working says nothing about what workloads get.
	pending bool
}

func consumersOf(conn *v1.TableauConnection, seen *consumersSeen) consumersFacts {
	cr := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionConsumersReady)
	false_ := cr != nil && cr.Status == metav1.ConditionFalse
	cf := consumersFacts{cond: cr,
		nameTaken: false_ && cr.Reason == v1.ReasonSecretNameTaken,
		lost:      false_ && (cr.Reason == v1.ReasonConsumerSecretMissing || cr.Reason == v1.ReasonConsumerSecretChanged),
		pending:   false_ && cr.Reason == v1.ReasonConsumersPending}
	cf.needsPerson = cf.lost && seen != nil && !seen.recoverable
	return cf
}

// signedIn says whether the credential signs in now, by SignedIn's facts.
func signedIn(conn *v1.TableauConnection) bool {
	c := conn.Status.Credentials
	return conn.Status.LastFailure == nil && c != nil &&
		(c.LastSignInTime != nil || (c.ValidatedBefore != "" && c.LastAttemptResult == v1.ResultSucceeded))
}

// setReady summarizes, first match wins: a refused write (WritesAccepted), consumers without
// a working credential (ConsumersReady), a rejected new revision consumers do not hold
// (CandidateValid: still Ready), the last failure (SignedIn, APIVersionSupported), a first
// rollout under way (ConsumersReady), and then True once sign-in works and the pin is
// supported (SignedIn, APIVersionSupported).
func setReady(conn *v1.TableauConnection, seen *consumersSeen, set setCondition) {
	st := &conn.Status
	f, cr := st.LastFailure, consumersOf(conn, seen)
	switch rw := refusedWrite(conn); {
	case rw != nil:
		set(v1.ConditionReady, metav1.ConditionFalse, rw.Reason, rw.Message)
	case cr.nameTaken, cr.lost:
		// Workloads that start now get no working credential, whatever sign-in says.
		set(v1.ConditionReady, metav1.ConditionFalse, cr.cond.Reason, cr.cond.Message)
	case candidateFailed(conn):
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConsumersReady,
			fmt.Sprintf("Consumers hold revision %s, which signed in; the new credential in the source is not used (see CandidateValid).", st.Rotation.ActiveRevision))
	case f != nil:
		set(v1.ConditionReady, metav1.ConditionFalse, f.Reason, fmt.Sprintf("%s: %s Next step: %s", f.Bucket, f.Message, f.NextStep))
	case cr.pending:
		set(v1.ConditionReady, metav1.ConditionFalse, cr.cond.Reason, cr.cond.Message)
	case signedIn(conn) && meta.IsStatusConditionTrue(st.Conditions, v1.ConditionAPIVersionSupported):
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonSignedIn, "Sign-in works and the pinned API version is supported.")
	default:
		set(v1.ConditionReady, metav1.ConditionUnknown, v1.ReasonProgressing, "Validating.")
	}
}

// setStalled is True when only a person can help: a refused write other than a conflict, a
// consumer Secret name taken, the only copy of the credential lost, or a terminal failure
// (not a rejected candidate, which consumers do not hold).
func setStalled(conn *v1.TableauConnection, seen *consumersSeen, set setCondition) {
	f, cr := conn.Status.LastFailure, consumersOf(conn, seen)
	switch rw := refusedWrite(conn); {
	case rw != nil && rw.Reason != v1.ReasonWriteConflict:
		set(v1.ConditionStalled, metav1.ConditionTrue, rw.Reason, "A write of the rotation is refused; it waits for a person (see WritesAccepted). The operator retries with backoff.")
	case cr.nameTaken:
		set(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonSecretNameTaken, "A consumer Secret name is taken by a Secret the operator did not create; it waits for a person.")
	case cr.needsPerson:
		set(v1.ConditionStalled, metav1.ConditionTrue, cr.cond.Reason, "The consumer Secret held the only copy of the active credential; it waits for a person (see ConsumersReady).")
	case f != nil && !transientFailure(f) && !candidateFailed(conn):
		set(v1.ConditionStalled, metav1.ConditionTrue, f.Reason,
			fmt.Sprintf("%s needs a change of the spec or the Secret; the operator rechecks slowly meanwhile.", f.Bucket))
	default:
		set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonNotStalled, "")
	}
}

// setReconciling is True while the operator works on its own: retrying a transient failure or
// a write conflict, writing the consumer Secret again, rolling out, or validating. It reads
// Ready and Stalled, set before.
func setReconciling(conn *v1.TableauConnection, seen *consumersSeen, set setCondition) {
	f, cr := conn.Status.LastFailure, consumersOf(conn, seen)
	rw := refusedWrite(conn)
	conflict := rw != nil && rw.Reason == v1.ReasonWriteConflict
	switch {
	case rw != nil && !conflict:
		set(v1.ConditionReconciling, metav1.ConditionFalse, rw.Reason, "")
	case conflict && !meta.IsStatusConditionTrue(conn.Status.Conditions, v1.ConditionStalled):
		// A conflict is retried; it does not hide a stall found on its own.
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressingRetry,
			fmt.Sprintf("%s %s %q conflicted %d times in a row; retrying with backoff.", rw.Verb, rw.Kind, rw.Name, rw.Consecutive))
	case transientFailure(f) && !candidateFailed(conn):
		next := "soon"
		if f.NextAttemptTime != nil {
			next = f.NextAttemptTime.UTC().Format(time.RFC3339)
		}
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressingRetry,
			fmt.Sprintf("%s after %d consecutive failures; next attempt at %s.", f.Reason, f.ConsecutiveFailures, next))
	case cr.lost && !cr.needsPerson:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Writing the consumer Secret again.")
	case f == nil && cr.pending:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Rolling the credential out to the consumer Secret (see status.rotation).")
	case f == nil && !meta.IsStatusConditionTrue(conn.Status.Conditions, v1.ConditionReady) && !cr.needsPerson:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Validating.")
	default:
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonSucceeded, "")
	}
}
