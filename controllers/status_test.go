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
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func ts(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }

func conn(mutate func(c *v1.TableauConnection)) *v1.TableauConnection {
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: "c", Generation: 3},
		Spec: v1.TableauConnectionSpec{Site: "finance", APIVersion: "3.24"}}
	if mutate != nil {
		mutate(c)
	}
	return c
}

func healthy(c *v1.TableauConnection) {
	c.Status.Server = &v1.ServerStatus{RESTAPIVersion: "3.27", CheckedAt: *ts(0)}
	c.Status.Credentials = &v1.CredentialStatus{TokenName: "op", Revision: "abc", LastSignInTime: ts(-time.Hour),
		LastAttemptRevision: "abc", LastAttemptResult: v1.ResultSucceeded}
}

func withConsumers(c *v1.TableauConnection) {
	healthy(c)
	c.Spec.Auth.PersonalAccessToken = &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: "src"}}
	c.Spec.Consumers = &v1.ConsumersSpec{SecretName: "app"}
	c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, ActiveRevision: "abc"}
}

func failure(bucket, reason, stage string) func(c *v1.TableauConnection) {
	return func(c *v1.TableauConnection) {
		c.Status.LastFailure = &v1.FailureStatus{Bucket: bucket, Reason: reason, Stage: stage, Message: "m.", NextStep: "do x.",
			ConsecutiveFailures: 2, NextAttemptTime: ts(time.Minute), Generation: 3}
	}
}

func TestSetConditions(t *testing.T) {
	type want map[string]string // type -> "Status/Reason"
	rejected := func(c *v1.TableauConnection) {
		withConsumers(c)
		failure("AuthConfigDrift", "SignInRejected", "SignIn")(c)
		c.Status.LastFailure.Revision = "new"
		c.Status.Rotation.Phase, c.Status.Rotation.Reason, c.Status.Rotation.FailedRevision = v1.RotationFailed, v1.ReasonCandidateRejected, "new"
	}
	cases := []struct {
		name string
		c    *v1.TableauConnection
		want want
	}{
		{"first reconcile, nothing known", conn(nil), want{
			"Ready": "Unknown/Progressing", "Reconciling": "True/Progressing", "Stalled": "False/NotStalled",
			"SignedIn": "Unknown/AwaitingSignIn", "APIVersionSupported": "Unknown/ServerUnknown"}},
		{"healthy", conn(healthy), want{
			"Ready": "True/SignedIn", "Reconciling": "False/Succeeded", "Stalled": "False/NotStalled",
			"SignedIn": "True/SignedIn", "APIVersionSupported": "True/APIVersionSupported"}},
		{"terminal sign-in failure", conn(func(c *v1.TableauConnection) { healthy(c); failure("AuthConfigDrift", "SignInRejected", "SignIn")(c) }), want{
			"Ready": "False/SignInRejected", "Reconciling": "False/Succeeded", "Stalled": "True/SignInRejected",
			"SignedIn": "False/SignInRejected", "APIVersionSupported": "True/APIVersionSupported"}},
		{"transient failure", conn(func(c *v1.TableauConnection) { healthy(c); failure("RateOrQuotaLimit", "RateLimited", "SignIn")(c) }), want{
			"Ready": "False/RateLimited", "Reconciling": "True/ProgressingWithRetry", "Stalled": "False/NotStalled",
			"SignedIn": "False/RateLimited"}},
		{"version drift", conn(func(c *v1.TableauConnection) {
			healthy(c)
			failure("APIVersionMismatch", "APIVersionAboveServer", "Server")(c)
		}), want{
			"Ready": "False/APIVersionAboveServer", "Stalled": "True/APIVersionAboveServer",
			"SignedIn": "Unknown/AwaitingSignIn", "APIVersionSupported": "False/APIVersionAboveServer"}},
		{"consumers hold the active credential, the new one was rejected", conn(func(c *v1.TableauConnection) {
			withConsumers(c)
			failure("AuthConfigDrift", "SignInRejected", "SignIn")(c)
			c.Status.LastFailure.Revision = "new"
			c.Status.Rotation.Phase, c.Status.Rotation.Reason, c.Status.Rotation.FailedRevision = v1.RotationFailed, v1.ReasonCandidateRejected, "new"
		}), want{
			"Ready": "True/ConsumersHoldActiveCredential", "Stalled": "False/NotStalled", "Reconciling": "False/Succeeded",
			"CandidateValid": "False/CandidateRejected", "ConsumersReady": "True/ConsumersHoldActiveCredential", "SignedIn": "False/SignInRejected"}},
		{"the consumer Secret deleted after the new credential was rejected: the only copy is gone", conn(rejected), want{
			"Ready": "False/ConsumerSecretMissing", "Stalled": "True/ConsumerSecretMissing", "ConsumersReady": "False/ConsumerSecretMissing",
			"CandidateValid": "False/CandidateRejected"}},
		{"the consumer Secret deleted while the source holds the active credential", conn(withConsumers), want{
			"Ready": "False/ConsumerSecretMissing", "Stalled": "False/NotStalled", "Reconciling": "True/Progressing",
			"ConsumersReady": "False/ConsumerSecretMissing"}},
		{"the consumer Secret edited by hand", conn(rejected), want{
			"Ready": "False/ConsumerSecretChanged", "ConsumersReady": "False/ConsumerSecretChanged"}},
		{"the PAT consumers hold was rejected", conn(func(c *v1.TableauConnection) {
			withConsumers(c)
			failure("AuthConfigDrift", "SignInRejected", "SignIn")(c)
			c.Status.LastFailure.Revision = "abc"
		}), want{"Ready": "False/SignInRejected", "Stalled": "True/SignInRejected"}},
		{"a missing source is the connection's failure", conn(func(c *v1.TableauConnection) {
			withConsumers(c)
			failure("AuthConfigDrift", "SecretNotFound", "Credentials")(c)
		}), want{"Ready": "False/SecretNotFound", "CandidateValid": "True/NoCandidate"}},
		{"a consumer Secret name taken", conn(func(c *v1.TableauConnection) {
			withConsumers(c)
			c.Status.Rotation.Reason, c.Status.Rotation.Message = v1.ReasonSecretNameTaken, "Secret \"x\" exists."
		}), want{"Ready": "False/SecretNameTaken", "Stalled": "True/SecretNameTaken", "ConsumersReady": "False/SecretNameTaken"}},
		{"suspended", conn(func(c *v1.TableauConnection) { healthy(c); c.Spec.Suspend = true }), want{
			"Ready": "False/Suspended", "Reconciling": "False/Suspended", "Stalled": "False/Suspended"}},
	}
	// What the reconcile observed of the consumer Secret; with consumers, by default it holds "abc".
	observed := map[string]*consumersSeen{
		"the consumer Secret deleted after the new credential was rejected: the only copy is gone": {state: rotation.ConsumersMissing},
		"the consumer Secret deleted while the source holds the active credential":                 {state: rotation.ConsumersMissing, recoverable: true},
		"the consumer Secret edited by hand":                                                       {state: rotation.ConsumersStale, holds: "zzz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen := observed[tc.name]
			if seen == nil && tc.c.Spec.Consumers != nil {
				seen = &consumersSeen{state: rotation.ConsumersHold, holds: "abc"}
			}
			setConditions(tc.c, now, seen)
			for typ, w := range tc.want {
				cond := meta.FindStatusCondition(tc.c.Status.Conditions, typ)
				if cond == nil {
					t.Fatalf("no %s condition", typ)
				}
				if got := string(cond.Status) + "/" + cond.Reason; got != w {
					t.Errorf("%s = %s, want %s (%s)", typ, got, w, cond.Message)
				}
				if cond.ObservedGeneration != 3 {
					t.Errorf("%s observedGeneration = %d", typ, cond.ObservedGeneration)
				}
			}
		})
	}
}

func TestReadyMessageCarriesEvidenceAndNextStep(t *testing.T) {
	c := conn(func(c *v1.TableauConnection) { healthy(c); failure("AuthConfigDrift", "SignInRejected", "SignIn")(c) })
	setConditions(c, now, nil)
	msg := meta.FindStatusCondition(c.Status.Conditions, "Ready").Message
	if msg != "AuthConfigDrift: m. Next step: do x." {
		t.Errorf("Ready message = %q", msg)
	}
}

func TestTransitions(t *testing.T) {
	ready := func(c *v1.TableauConnection) { healthy(c) }
	failing := func(reason string) func(c *v1.TableauConnection) {
		return func(c *v1.TableauConnection) { healthy(c); failure("AuthConfigDrift", reason, "SignIn")(c) }
	}
	expiring := func(c *v1.TableauConnection) { healthy(c); c.Status.Credentials.ExpiresAt = ts(5 * 24 * time.Hour) }
	cases := []struct {
		name          string
		before, after func(c *v1.TableauConnection)
		want          []string
	}{
		{"first success", nil, ready, []string{"Normal/SignedIn"}},
		{"steady", ready, ready, nil},
		{"fails", ready, failing("SignInRejected"), []string{"Warning/SignInRejected"}},
		{"keeps failing the same way", failing("SignInRejected"), failing("SignInRejected"), nil},
		{"fails another way", failing("SignInRejected"), failing("SecretNotFound"), []string{"Warning/SecretNotFound"}},
		{"another credential rejected the same way", failing("SignInRejected"), func(c *v1.TableauConnection) {
			failing("SignInRejected")(c)
			c.Status.LastFailure.Revision = "def"
		}, []string{"Warning/SignInRejected"}},
		{"restored", failing("SignInRejected"), ready, []string{"Normal/SignInRestored"}},
		{"expiry approaching", ready, expiring, []string{"Warning/PATExpiryApproaching"}},
		{"expiry still approaching", expiring, expiring, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, a := conn(tc.before), conn(tc.after)
			setConditions(b, now, nil)
			setConditions(a, now, nil)
			var got []string
			for _, e := range transitions(b, a, now) {
				kind := "Normal"
				if e.warning {
					kind = "Warning"
				}
				got = append(got, kind+"/"+e.reason)
				if e.note == "" {
					t.Errorf("event %s has no note", e.reason)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("events = %v, want %v", got, tc.want)
			}
		})
	}
}

func failedSignIn(c *v1.TableauConnection) {
	failure("RateOrQuotaLimit", "RateLimited", "SignIn")(c)
	c.Status.Credentials.LastAttemptResult = v1.ResultFailed
}

func TestSignInDue(t *testing.T) {
	periodic := func(c *v1.TableauConnection) {
		healthy(c)
		c.Spec.Validation.SignIn = v1.SignInPeriodic
		c.Spec.Validation.Interval = &metav1.Duration{Duration: 2 * time.Hour}
	}
	cases := []struct {
		name     string
		c        *v1.TableauConnection
		revision string
		due      bool
		wait     time.Duration
	}{
		{"never attempted", conn(nil), "abc", true, 0},
		{"unchanged under OnChange", conn(healthy), "abc", false, 0},
		{"credential changed", conn(healthy), "def", true, 0},
		{"another spec edit keeps the session", conn(func(c *v1.TableauConnection) { healthy(c); c.Generation = 4; c.Spec.Suspend = true }), "abc", false, 0},
		{"server changed", conn(func(c *v1.TableauConnection) {
			healthy(c)
			c.Status.Credentials.LastAttemptServer = "https://old.example.com"
			c.Spec.Server = "https://new.example.com"
		}), "abc", true, 0},
		{"site changed", conn(func(c *v1.TableauConnection) { healthy(c); c.Status.Credentials.LastAttemptSite = ptr.To("sales") }), "abc", true, 0},
		{"a Secret restored with the same revision keeps the session", conn(func(c *v1.TableauConnection) {
			healthy(c)
			failure("AuthConfigDrift", "SecretNotFound", "Credentials")(c)
			c.Status.LastFailure.NextAttemptTime = ts(-time.Second)
		}), "abc", false, 0},
		{"failure waiting for backoff", conn(func(c *v1.TableauConnection) { healthy(c); failedSignIn(c) }), "abc", false, time.Minute},
		{"failure past backoff", conn(func(c *v1.TableauConnection) {
			healthy(c)
			failedSignIn(c)
			c.Status.LastFailure.NextAttemptTime = ts(-time.Second)
		}), "abc", true, 0},
		{"periodic not yet due", conn(periodic), "abc", false, time.Hour},
		{"periodic due", conn(func(c *v1.TableauConnection) { periodic(c); c.Status.Credentials.LastSignInTime = ts(-3 * time.Hour) }), "abc", true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			due, wait := signInDue(tc.c, tc.revision, now)
			if due != tc.due || wait != tc.wait {
				t.Errorf("signInDue = %v, %v; want %v, %v", due, wait, tc.due, tc.wait)
			}
		})
	}
}

func TestAutomaticRotationCondition(t *testing.T) {
	auto := func(st v1.AutomaticRotationStatus) func(c *v1.TableauConnection) {
		return func(c *v1.TableauConnection) {
			withConsumers(c)
			c.Spec.Auth = v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "src"}}}
			c.Spec.Rotation.Automatic = &v1.AutomaticRotation{Every: metav1.Duration{Duration: time.Hour}, AdminSecretRef: v1.PATSecretReference{Name: "admin"}}
			c.Status.Rotation.Automatic = &st
		}
	}
	cases := []struct {
		name   string
		c      *v1.TableauConnection
		want   metav1.ConditionStatus // "" means absent
		reason string
		msgHas []string
	}{
		{"no automatic rotation", conn(withConsumers), "", "", nil},
		{"scheduled", conn(auto(v1.AutomaticRotationStatus{Phase: "Idle", Reason: "Scheduled", Message: "The next secret is created at X."})),
			metav1.ConditionTrue, "Scheduled", []string{"next secret"}},
		{"throttled create retries with backoff", conn(auto(v1.AutomaticRotationStatus{Phase: "Creating", Reason: "RateLimited",
			Message: "RateOrQuotaLimit: throttled. Next step: wait.", ConsecutiveFailures: 3, NextAttemptTime: ts(time.Minute)})),
			metav1.ConditionFalse, "RateLimited", []string{"Next step: wait.", "Retrying with backoff after 3 consecutive failures", now.Add(time.Minute).Format(time.RFC3339)}},
		{"admin sign-in rejected", conn(auto(v1.AutomaticRotationStatus{Phase: "Creating", Reason: "SignInRejected",
			Message: "AuthConfigDrift: rejected. Next step: replace the admin PAT.", ConsecutiveFailures: 1})),
			metav1.ConditionFalse, "SignInRejected", []string{"Next step: replace the admin PAT.", "rechecks hourly"}},
		{"app full", conn(auto(v1.AutomaticRotationStatus{Phase: "Stalled", Reason: "ConnectedAppSecretLimit", Message: "error 128: delete the unused one."})),
			metav1.ConditionFalse, "ConnectedAppSecretLimit", []string{"error 128"}},
		{"empty reason", conn(auto(v1.AutomaticRotationStatus{Phase: "RollingOut"})), metav1.ConditionTrue, v1.ReasonProgressing, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			setConditions(tc.c, now, nil)
			got := meta.FindStatusCondition(tc.c.Status.Conditions, v1.ConditionAutomaticRotation)
			if tc.want == "" {
				if got != nil {
					t.Fatalf("AutomaticRotation is set: %+v", got)
				}
				return
			}
			if got == nil || got.Status != tc.want || got.Reason != tc.reason {
				t.Fatalf("AutomaticRotation = %+v, want %s/%s", got, tc.want, tc.reason)
			}
			for _, m := range tc.msgHas {
				if !strings.Contains(got.Message, m) {
					t.Errorf("message %q lacks %q", got.Message, m)
				}
			}
			// Ready and Stalled stay about the consumers' credential.
			if !meta.IsStatusConditionTrue(tc.c.Status.Conditions, v1.ConditionReady) || meta.IsStatusConditionTrue(tc.c.Status.Conditions, v1.ConditionStalled) {
				t.Errorf("Ready/Stalled changed: %+v", tc.c.Status.Conditions)
			}
		})
	}
}
