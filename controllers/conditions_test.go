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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// Each condition's setter has its own table here. A case builds the object, runs the one
// setter (after the setters it reads, as setConditions orders them), and names the
// condition's status and reason, or "" for a condition that must be absent.

var condNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type condCase struct {
	conn   *v1.TableauConnection
	seen   *consumersSeen
	status metav1.ConditionStatus // "" when the condition must be absent
	reason string
}

func baseConn() *v1.TableauConnection {
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", Generation: 3}}
	c.Spec.Server, c.Spec.Site, c.Spec.APIVersion = "https://t.example.com", "site", "3.24"
	c.Spec.Auth.PersonalAccessToken = &v1.PersonalAccessTokenAuth{}
	return c
}

func with(c *v1.TableauConnection, fs ...func(*v1.TableauConnection)) *v1.TableauConnection {
	for _, f := range fs {
		f(c)
	}
	return c
}

func lastFailure(bucket, reason, stage string) func(*v1.TableauConnection) {
	return func(c *v1.TableauConnection) {
		c.Status.LastFailure = &v1.FailureStatus{Bucket: bucket, Reason: reason, Stage: stage, Message: "m", NextStep: "n", Revision: "r2"}
	}
}

func signedInAt(c *v1.TableauConnection) {
	t := metav1.NewTime(condNow.Add(-time.Minute))
	c.Status.Credentials = &v1.CredentialStatus{Revision: "r1", LastSignInTime: &t, LastAttemptResult: v1.ResultSucceeded}
}

func serverKnown(c *v1.TableauConnection) {
	c.Status.Server = &v1.ServerStatus{RESTAPIVersion: "3.25"}
}

func consumersOn(c *v1.TableauConnection) {
	c.Spec.Consumers = &v1.ConsumersSpec{SecretName: "out"}
	c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, ActiveRevision: "r1"}
}

// cond is a condition a setter found (at the object's generation).
func cond(t string, status metav1.ConditionStatus, reason string) func(*v1.TableauConnection) {
	return func(c *v1.TableauConnection) {
		meta.SetStatusCondition(&c.Status.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, ObservedGeneration: c.Generation})
	}
}

func refused(reason string, consecutive int32) func(*v1.TableauConnection) {
	return func(c *v1.TableauConnection) {
		c.Status.RefusedWrite = &v1.RefusedWriteStatus{Reason: reason, Verb: "update", Kind: "Secret", Name: "out", Consecutive: consecutive, Message: "refused"}
	}
}

func runCondCases(t *testing.T, condType string, cases map[string]condCase, setter func(*v1.TableauConnection, *consumersSeen, setCondition)) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setter(tc.conn, tc.seen, conditionSetter(&tc.conn.Status.Conditions, tc.conn.Generation))
			c := meta.FindStatusCondition(tc.conn.Status.Conditions, condType)
			switch {
			case tc.status == "" && c != nil:
				t.Fatalf("%s = %s/%s, want it absent", condType, c.Status, c.Reason)
			case tc.status == "":
			case c == nil:
				t.Fatalf("%s absent, want %s/%s", condType, tc.status, tc.reason)
			case c.Status != tc.status || c.Reason != tc.reason:
				t.Fatalf("%s = %s/%s (%s), want %s/%s", condType, c.Status, c.Reason, c.Message, tc.status, tc.reason)
			case c.ObservedGeneration != tc.conn.Generation:
				t.Fatalf("%s observedGeneration = %d, want %d", condType, c.ObservedGeneration, tc.conn.Generation)
			}
		})
	}
}

func TestSetAPIVersionSupported(t *testing.T) {
	runCondCases(t, v1.ConditionAPIVersionSupported, map[string]condCase{
		"serverinfo not answered": {conn: baseConn(), status: metav1.ConditionUnknown, reason: v1.ReasonServerUnknown},
		"server known":            {conn: with(baseConn(), serverKnown), status: metav1.ConditionTrue, reason: v1.ReasonAPIVersionSupported},
		"pin above the server": {conn: with(baseConn(), serverKnown, lastFailure("APIVersionMismatch", "APIVersionUnsupported", v1.StageServer)),
			status: metav1.ConditionFalse, reason: "APIVersionUnsupported"},
		"another failure says nothing of the version": {conn: with(baseConn(), serverKnown, lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionTrue, reason: v1.ReasonAPIVersionSupported},
	}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) { setAPIVersionSupported(c, set) })
}

func TestSetSignedIn(t *testing.T) {
	runCondCases(t, v1.ConditionSignedIn, map[string]condCase{
		"never signed in": {conn: baseConn(), status: metav1.ConditionUnknown, reason: v1.ReasonAwaitingSignIn},
		"signed in":       {conn: with(baseConn(), signedInAt), status: metav1.ConditionTrue, reason: v1.ReasonSignedIn},
		"sign-in failed": {conn: with(baseConn(), signedInAt, lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionFalse, reason: "SignInRejected"},
		"no sign-in while the pin is above the server": {conn: with(baseConn(), lastFailure("APIVersionMismatch", "APIVersionUnsupported", v1.StageServer)),
			status: metav1.ConditionUnknown, reason: v1.ReasonAwaitingSignIn},
		"validated before this connection existed": {conn: with(baseConn(), func(c *v1.TableauConnection) {
			c.Status.Credentials = &v1.CredentialStatus{Revision: "r1", ValidatedBefore: "out", LastAttemptResult: v1.ResultSucceeded}
		}), status: metav1.ConditionTrue, reason: v1.ReasonValidatedBefore},
	}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) { setSignedIn(c, set) })
}

func TestSetConsumersReady(t *testing.T) {
	runCondCases(t, v1.ConditionConsumersReady, map[string]condCase{
		"no consumers": {conn: with(baseConn(), cond(v1.ConditionConsumersReady, metav1.ConditionTrue, "x"))},
		"not looked at yet": {conn: with(baseConn(), consumersOn),
			status: metav1.ConditionUnknown, reason: v1.ReasonConsumersNotObserved},
		"not looked at: the last observation stands": {conn: with(baseConn(), consumersOn, cond(v1.ConditionConsumersReady, metav1.ConditionTrue, v1.ReasonConsumersReady)),
			status: metav1.ConditionTrue, reason: v1.ReasonConsumersReady},
		"holds the active revision": {conn: with(baseConn(), consumersOn), seen: &consumersSeen{state: rotation.ConsumersHold, holds: "r1"},
			status: metav1.ConditionTrue, reason: v1.ReasonConsumersReady},
		"deleted": {conn: with(baseConn(), consumersOn), seen: &consumersSeen{state: rotation.ConsumersMissing, recoverable: true},
			status: metav1.ConditionFalse, reason: v1.ReasonConsumerSecretMissing},
		"changed": {conn: with(baseConn(), consumersOn), seen: &consumersSeen{state: rotation.ConsumersStale, holds: "r0"},
			status: metav1.ConditionFalse, reason: v1.ReasonConsumerSecretChanged},
		"name taken": {conn: with(baseConn(), consumersOn), seen: &consumersSeen{state: rotation.ConsumersTaken},
			status: metav1.ConditionFalse, reason: v1.ReasonSecretNameTaken},
		"first rollout": {conn: with(baseConn(), consumersOn), seen: &consumersSeen{state: rotation.ConsumersPending},
			status: metav1.ConditionFalse, reason: v1.ReasonConsumersPending},
	}, setConsumersReady)
}

func TestSetCandidateValid(t *testing.T) {
	hold := cond(v1.ConditionConsumersReady, metav1.ConditionTrue, v1.ReasonConsumersReady)
	runCondCases(t, v1.ConditionCandidateValid, map[string]condCase{
		"no consumers": {conn: with(baseConn(), cond(v1.ConditionCandidateValid, metav1.ConditionTrue, "x"))},
		"the source holds the active credential": {conn: with(baseConn(), consumersOn, signedInAt),
			status: metav1.ConditionTrue, reason: v1.ReasonNoCandidate},
		"a candidate validated": {conn: with(baseConn(), consumersOn, func(c *v1.TableauConnection) { c.Status.Rotation.CandidateRevision = "r2" }),
			status: metav1.ConditionTrue, reason: v1.ReasonCandidateValid},
		"nothing validated yet": {conn: with(baseConn(), consumersOn),
			status: metav1.ConditionUnknown, reason: v1.ReasonCandidatePending},
		"a new revision fails to sign in while consumers hold the active one": {conn: with(baseConn(), consumersOn, hold, lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionUnknown, reason: v1.ReasonCandidatePending},
		"a rejected candidate": {conn: with(baseConn(), consumersOn, hold, func(c *v1.TableauConnection) {
			c.Status.Rotation.Phase, c.Status.Rotation.FailedRevision, c.Status.Rotation.Reason = v1.RotationFailed, "r2", v1.ReasonCandidateRejected
		}), status: metav1.ConditionFalse, reason: v1.ReasonCandidateRejected},
	}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) { setCandidateValid(c, set) })
}

func TestSetWritesAccepted(t *testing.T) {
	had := cond(v1.ConditionWritesAccepted, metav1.ConditionFalse, v1.ReasonWriteForbidden)
	runCondCases(t, v1.ConditionWritesAccepted, map[string]condCase{
		"never refused":                  {conn: baseConn()},
		"refused":                        {conn: with(baseConn(), refused(v1.ReasonWriteForbidden, 1)), status: metav1.ConditionFalse, reason: v1.ReasonWriteForbidden},
		"accepted again":                 {conn: with(baseConn(), had), status: metav1.ConditionTrue, reason: v1.ReasonWritesAccepted},
		"one conflict is no refusal yet": {conn: with(baseConn(), refused(v1.ReasonWriteConflict, 1))},
		"suspended after a refusal": {conn: with(baseConn(), had, refused(v1.ReasonWriteForbidden, 1), func(c *v1.TableauConnection) { c.Spec.Suspend = true }),
			status: metav1.ConditionUnknown, reason: v1.ReasonSuspended},
	}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) { setWritesAccepted(c, set) })
}

func TestSetReady(t *testing.T) {
	apiOK := cond(v1.ConditionAPIVersionSupported, metav1.ConditionTrue, v1.ReasonAPIVersionSupported)
	runCondCases(t, v1.ConditionReady, map[string]condCase{
		"validating":                   {conn: baseConn(), status: metav1.ConditionUnknown, reason: v1.ReasonProgressing},
		"signed in, pin supported":     {conn: with(baseConn(), signedInAt, apiOK), status: metav1.ConditionTrue, reason: v1.ReasonSignedIn},
		"signed in, pin not confirmed": {conn: with(baseConn(), signedInAt), status: metav1.ConditionUnknown, reason: v1.ReasonProgressing},
		"a failure": {conn: with(baseConn(), signedInAt, apiOK, lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionFalse, reason: "SignInRejected"},
		"a refused write wins": {conn: with(baseConn(), signedInAt, apiOK, refused(v1.ReasonWriteForbidden, 1)),
			status: metav1.ConditionFalse, reason: v1.ReasonWriteForbidden},
		"consumer Secret lost": {conn: with(baseConn(), consumersOn, signedInAt, apiOK, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumerSecretMissing)),
			status: metav1.ConditionFalse, reason: v1.ReasonConsumerSecretMissing},
		"first rollout pending": {conn: with(baseConn(), consumersOn, signedInAt, apiOK, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumersPending)),
			status: metav1.ConditionFalse, reason: v1.ReasonConsumersPending},
		"a rejected new revision consumers do not hold": {conn: with(baseConn(), consumersOn, apiOK, cond(v1.ConditionConsumersReady, metav1.ConditionTrue, v1.ReasonConsumersReady),
			lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionTrue, reason: v1.ReasonConsumersReady},
	}, setReady)
}

func TestSetStalled(t *testing.T) {
	runCondCases(t, v1.ConditionStalled, map[string]condCase{
		"healthy":   {conn: with(baseConn(), signedInAt), status: metav1.ConditionFalse, reason: v1.ReasonNotStalled},
		"transient": {conn: with(baseConn(), lastFailure("ServerUnavailable", "ServerError", v1.StageServer)), status: metav1.ConditionFalse, reason: v1.ReasonNotStalled},
		"terminal": {conn: with(baseConn(), lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionTrue, reason: "SignInRejected"},
		"a refused write": {conn: with(baseConn(), refused(v1.ReasonWriteForbidden, 1)), status: metav1.ConditionTrue, reason: v1.ReasonWriteForbidden},
		"a conflict storm is no stall": {conn: with(baseConn(), refused(v1.ReasonWriteConflict, 10)),
			status: metav1.ConditionFalse, reason: v1.ReasonNotStalled},
		"name taken": {conn: with(baseConn(), consumersOn, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonSecretNameTaken)),
			status: metav1.ConditionTrue, reason: v1.ReasonSecretNameTaken},
		"the only copy lost": {conn: with(baseConn(), consumersOn, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumerSecretMissing)),
			seen: &consumersSeen{state: rotation.ConsumersMissing}, status: metav1.ConditionTrue, reason: v1.ReasonConsumerSecretMissing},
		"lost, and written again by the operator": {conn: with(baseConn(), consumersOn, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumerSecretMissing)),
			seen: &consumersSeen{state: rotation.ConsumersMissing, recoverable: true}, status: metav1.ConditionFalse, reason: v1.ReasonNotStalled},
	}, setStalled)
}

func TestSetReconciling(t *testing.T) {
	ready := cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonSignedIn)
	runCondCases(t, v1.ConditionReconciling, map[string]condCase{
		"ready":      {conn: with(baseConn(), ready), status: metav1.ConditionFalse, reason: v1.ReasonSucceeded},
		"validating": {conn: baseConn(), status: metav1.ConditionTrue, reason: v1.ReasonProgressing},
		"retrying a transient failure": {conn: with(baseConn(), lastFailure("ServerUnavailable", "ServerError", v1.StageServer)),
			status: metav1.ConditionTrue, reason: v1.ReasonProgressingRetry},
		"a terminal failure waits": {conn: with(baseConn(), lastFailure("AuthConfigDrift", "SignInRejected", v1.StageSignIn)),
			status: metav1.ConditionFalse, reason: v1.ReasonSucceeded},
		"a refused write waits": {conn: with(baseConn(), ready, refused(v1.ReasonWriteForbidden, 1)),
			status: metav1.ConditionFalse, reason: v1.ReasonWriteForbidden},
		"conflicts are retried": {conn: with(baseConn(), ready, refused(v1.ReasonWriteConflict, 10)),
			status: metav1.ConditionTrue, reason: v1.ReasonProgressingRetry},
		"writing the consumer Secret again": {conn: with(baseConn(), consumersOn, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumerSecretChanged)),
			seen: &consumersSeen{state: rotation.ConsumersStale, recoverable: true}, status: metav1.ConditionTrue, reason: v1.ReasonProgressing},
		"rolling out": {conn: with(baseConn(), consumersOn, cond(v1.ConditionConsumersReady, metav1.ConditionFalse, v1.ReasonConsumersPending)),
			status: metav1.ConditionTrue, reason: v1.ReasonProgressing},
	}, setReconciling)
}

func TestSetRotationDueCondition(t *testing.T) {
	due := func(at time.Time) func(*v1.TableauConnection) {
		return func(c *v1.TableauConnection) { d := metav1.NewTime(at); c.Status.Rotation.DueTime = &d }
	}
	runCondCases(t, v1.ConditionRotationDue, map[string]condCase{
		"no due time": {conn: with(baseConn(), consumersOn, cond(v1.ConditionRotationDue, metav1.ConditionTrue, v1.ReasonRotationDue))},
		"not due yet": {conn: with(baseConn(), consumersOn, due(condNow.Add(time.Hour))), status: metav1.ConditionFalse, reason: v1.ReasonRotationNotDue},
		"due":         {conn: with(baseConn(), consumersOn, due(condNow.Add(-time.Hour))), status: metav1.ConditionTrue, reason: v1.ReasonRotationDue},
		"due, and the operator rotates by itself": {conn: with(baseConn(), consumersOn, due(condNow.Add(-time.Hour)), func(c *v1.TableauConnection) {
			c.Spec.Auth.PersonalAccessToken, c.Spec.Auth.ConnectedApp = nil, &v1.ConnectedAppAuth{}
			c.Spec.Rotation.Automatic = &v1.AutomaticRotation{}
		}), status: metav1.ConditionFalse, reason: v1.ReasonRotationNotDue},
	}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) {
		setRotationDueCondition(c, condNow, set)
	})
}

func TestSetSuspended(t *testing.T) {
	for _, tc := range []struct{ t, reason string }{
		{v1.ConditionReady, v1.ReasonSuspended}, {v1.ConditionStalled, v1.ReasonSuspended},
		{v1.ConditionReconciling, v1.ReasonSuspended}, {v1.ConditionSignedIn, v1.ReasonSuspended},
	} {
		runCondCases(t, tc.t, map[string]condCase{
			"suspended": {conn: baseConn(), status: map[string]metav1.ConditionStatus{
				v1.ConditionReady: metav1.ConditionFalse, v1.ConditionStalled: metav1.ConditionFalse,
				v1.ConditionReconciling: metav1.ConditionFalse, v1.ConditionSignedIn: metav1.ConditionUnknown}[tc.t], reason: tc.reason},
		}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) { setSuspended(c, set) })
	}
	// A domain condition keeps what it last said.
	runCondCases(t, v1.ConditionSignedIn, map[string]condCase{
		"suspended after a sign-in": {conn: with(baseConn(), cond(v1.ConditionSignedIn, metav1.ConditionTrue, v1.ReasonSignedIn)),
			status: metav1.ConditionTrue, reason: v1.ReasonSignedIn},
	}, func(c *v1.TableauConnection, _ *consumersSeen, set setCondition) { setSuspended(c, set) })
}
