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

package kubectlplugin

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// TestSettled: rotate waits until the operator handled this request, saw the generation,
// answered with an attempt or failure since the request, and no rotation is under way.
func TestSettled(t *testing.T) {
	start := time.Date(2026, 12, 6, 12, 0, 0, 700_000_000, time.UTC)
	after := metav1.NewTime(start.Add(300 * time.Millisecond).Truncate(time.Second)) // as status records it
	before := metav1.NewTime(start.Add(-time.Minute))
	const value = "2026-12-06T12:00:00Z"
	conn := func(handled string, attempt metav1.Time, phase string) *v1.TableauConnection {
		c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
		c.Status.ObservedGeneration = 2
		c.Status.LastHandledRequest = handled
		c.Status.History = []v1.ValidationAttempt{{Time: attempt}}
		if phase != "" {
			c.Status.Rotation = &v1.RotationStatus{Phase: phase}
		}
		return c
	}
	for _, tc := range []struct {
		name      string
		c         *v1.TableauConnection
		handledAt time.Time
		now       time.Time
		waiting   bool
		want      bool
	}{
		{"not handled yet", conn("older", after, v1.RotationIdle), time.Time{}, start, false, false},
		{"handled, attempt in the request's second", conn(value, after, v1.RotationIdle), start, start, false, true},
		{"handled, only an older attempt", conn(value, before, v1.RotationIdle), start, start.Add(time.Second), false, false},
		{"handled, no call for ten seconds", conn(value, before, ""), start, start.Add(11 * time.Second), false, true},
		{"rotation gating", conn(value, after, v1.RotationGating), start, start, false, false},
		{"rotation failed", conn(value, after, v1.RotationFailed), start, start, false, true},
		{"staged, promoting next", conn(value, after, v1.RotationStaged), start, start, false, false},
		{"staged, waiting for the fleet", conn(value, after, v1.RotationStaged), start, start, true, true},
	} {
		if got := settled(tc.c, value, start, tc.handledAt, tc.now, tc.waiting); got != tc.want {
			t.Errorf("%s: settled = %t, want %t", tc.name, got, tc.want)
		}
	}
	stale := conn(value, after, v1.RotationIdle)
	stale.Generation = 3
	if settled(stale, value, start, start, start, false) {
		t.Error("settled before the operator saw the current generation")
	}
}

// TestRotateResult: rotate's exit code is the result a person asked for. A connection whose
// consumers still sign in but whose new credential was rejected again is Ready, yet the retry
// failed: exit 1 with the candidate's reason, not 0.
func TestRotateResult(t *testing.T) {
	cond := func(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg}
	}
	for _, tc := range []struct {
		name     string
		conds    []metav1.Condition
		rotation *v1.RotationStatus
		failure  *v1.FailureStatus
		wantCode int
		wantOut  string
	}{
		{name: "ready", conds: []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonSignedIn, "Sign-in works.")},
			wantCode: ExitOK, wantOut: "Ready SignedIn"},
		{name: "not ready", conds: []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionFalse, "SignInRejected", "no")},
			failure: &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected"}, wantCode: ExitFailed, wantOut: "Not ready SignInRejected"},
		{name: "candidate rejected again", conds: []metav1.Condition{
			cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConsumersReady, "Consumers hold revision aaaa, which signed in."),
			cond(v1.ConditionCandidateValid, metav1.ConditionFalse, v1.ReasonCandidateRejected, "AuthConfigDrift: the PAT was refused.")},
			rotation: &v1.RotationStatus{Phase: v1.RotationFailed, FailedRevision: "bbbb", ActiveRevision: "aaaa"},
			failure:  &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected", Revision: "bbbb"},
			wantCode: ExitFailed, wantOut: v1.ReasonCandidateRejected},
		{name: "candidate failing at the backoff's pace", conds: []metav1.Condition{
			cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConsumersReady, "Consumers hold revision aaaa, which signed in."),
			cond(v1.ConditionCandidateValid, metav1.ConditionUnknown, v1.ReasonCandidatePending, "Revision bbbb: Throttled (RateLimited); retrying.")},
			rotation: &v1.RotationStatus{Phase: v1.RotationIdle, ActiveRevision: "aaaa"},
			failure:  &v1.FailureStatus{Bucket: "RateLimited", Reason: "Throttled", Revision: "bbbb"},
			wantCode: ExitFailed, wantOut: "Throttled"},
		{name: "staged, waiting for its turn", conds: []metav1.Condition{
			cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConsumersReady, "Consumers hold revision aaaa."),
			cond(v1.ConditionCandidateValid, metav1.ConditionTrue, v1.ReasonCandidateValid, "Revision bbbb is validated.")},
			rotation: &v1.RotationStatus{Phase: v1.RotationStaged, ActiveRevision: "aaaa", CandidateRevision: "bbbb"},
			wantCode: ExitOK, wantOut: "waits for its turn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenants", Name: "finance"}}
			c.Status.Conditions, c.Status.Rotation, c.Status.LastFailure = tc.conds, tc.rotation, tc.failure
			var out bytes.Buffer
			err := result(&env{streams: Streams{Out: &out, Err: &out}}, c)
			code := ExitOK
			var f *failure
			if errors.As(err, &f) {
				code = f.code
			} else if err != nil {
				t.Fatalf("result returned %v, not a failure", err)
			}
			if code != tc.wantCode || !strings.Contains(out.String()+fmt.Sprint(err), tc.wantOut) {
				t.Errorf("exit %d (%v), output %q; want exit %d and %q", code, err, out.String(), tc.wantCode, tc.wantOut)
			}
		})
	}
}
