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
)

func member(name, phase string, mutate ...func(*v1.TableauConnection)) v1.TableauConnection {
	c := v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.TableauConnectionSpec{Server: "https://t.example.com"}}
	c.Status.Rotation = &v1.RotationStatus{Phase: phase}
	for _, m := range mutate {
		m(&c)
	}
	return c
}

func rejected(c *v1.TableauConnection) {
	c.Status.Rotation.Phase, c.Status.Rotation.Reason, c.Status.Rotation.FailedRevision = v1.RotationFailed, v1.ReasonCandidateRejected, "r2"
	c.Status.LastFailure = &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected", Stage: v1.StageSignIn, Revision: "r2", Time: metav1.NewTime(now.Add(-time.Minute))}
}

// validating is a member whose new revision r2 is not validated yet.
func validating(since time.Duration) func(*v1.TableauConnection) {
	return func(c *v1.TableauConnection) {
		c.Status.Rotation.ActiveRevision = "r1"
		c.Status.Credentials = &v1.CredentialStatus{Revision: "r2", RevisionChangedAt: ptr.To(metav1.NewTime(now.Add(-since)))}
	}
}

// missingSource is a member whose source Secret is gone: a failure of the connection.
func missingSource(c *v1.TableauConnection) {
	c.Status.Rotation.ActiveRevision = "r1"
	c.Status.LastFailure = &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SecretNotFound", Stage: v1.StageCredentials, Time: metav1.NewTime(now)}
}

func failingWith(reason string, ago time.Duration, server string) func(*v1.TableauConnection) {
	return func(c *v1.TableauConnection) {
		c.Spec.Server = server
		c.Status.LastFailure = &v1.FailureStatus{Bucket: "ServerUnavailable", Reason: reason, Time: metav1.NewTime(now.Add(-ago))}
	}
}

func TestDecideFleet(t *testing.T) {
	cases := []struct {
		name        string
		fleet       func(f *v1.TableauFleet)
		members     []v1.TableauConnection
		wantCurrent string
		wantHalted  bool
		wantReady   metav1.ConditionStatus
	}{
		{"all idle", nil, []v1.TableauConnection{member("a", v1.RotationIdle), member("b", v1.RotationIdle)}, "", false, metav1.ConditionTrue},
		{"first pending in name order", nil, []v1.TableauConnection{member("c", v1.RotationStaged), member("b", v1.RotationStaged), member("a", v1.RotationIdle)}, "b", false, metav1.ConditionFalse},
		{"one rotating blocks the next", nil, []v1.TableauConnection{member("a", v1.RotationGating), member("b", v1.RotationStaged)}, "", false, metav1.ConditionFalse},
		{"maxConcurrent 2", func(f *v1.TableauFleet) { f.Spec.Rollout.MaxConcurrent = 2 },
			[]v1.TableauConnection{member("a", v1.RotationGating), member("b", v1.RotationStaged), member("c", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
		{"a suspended staged member holds no slot", nil,
			[]v1.TableauConnection{member("a", v1.RotationStaged, func(c *v1.TableauConnection) { c.Spec.Suspend = true }), member("b", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
		{"a rejected candidate halts the members after it", nil, []v1.TableauConnection{member("a", v1.RotationIdle, rejected), member("b", v1.RotationStaged)}, "", true, metav1.ConditionFalse},
		{"members before the failed one go on", nil, []v1.TableauConnection{member("a", v1.RotationStaged), member("b", v1.RotationIdle, rejected), member("c", v1.RotationStaged)}, "a", true, metav1.ConditionFalse},
		{"a failed rotation halts", nil, []v1.TableauConnection{member("a", v1.RotationFailed), member("b", v1.RotationStaged)}, "", true, metav1.ConditionFalse},
		{"halting off", func(f *v1.TableauFleet) { f.Spec.Rollout.HaltOnFailure = ptr.To(false) },
			[]v1.TableauConnection{member("a", v1.RotationFailed), member("b", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
		{"resume passes the failed member", func(f *v1.TableauFleet) { f.Annotations = map[string]string{v1.AnnotationResume: "r1"} },
			[]v1.TableauConnection{member("a", v1.RotationFailed), member("b", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
		{"a member still validating holds its place", nil,
			[]v1.TableauConnection{member("a", v1.RotationIdle, validating(time.Minute)), member("b", v1.RotationStaged)}, "a", false, metav1.ConditionFalse},
		{"a member validating too long loses its place", nil,
			[]v1.TableauConnection{member("a", v1.RotationIdle, validating(time.Hour)), member("b", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
		{"a missing source Secret never halts", nil,
			[]v1.TableauConnection{member("a", v1.RotationIdle, missingSource), member("b", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
		{"a failed member staged again clears the halt", nil,
			[]v1.TableauConnection{member("a", v1.RotationStaged, func(c *v1.TableauConnection) { c.Status.Rotation.ActiveRevision = "r1" }), member("b", v1.RotationStaged)}, "a", false, metav1.ConditionFalse},
		{"pause after a completion", func(f *v1.TableauFleet) {
			f.Spec.Rollout.PauseBetween = &metav1.Duration{Duration: time.Hour}
		}, []v1.TableauConnection{member("a", v1.RotationIdle, func(c *v1.TableauConnection) {
			c.Status.Rotation.LastCompletionTime = ptr.To(metav1.NewTime(now.Add(-time.Minute)))
		}), member("b", v1.RotationStaged)}, "", false, metav1.ConditionFalse},
		{"pause over", func(f *v1.TableauFleet) {
			f.Spec.Rollout.PauseBetween = &metav1.Duration{Duration: time.Minute}
		}, []v1.TableauConnection{member("a", v1.RotationIdle, func(c *v1.TableauConnection) {
			c.Status.Rotation.LastCompletionTime = ptr.To(metav1.NewTime(now.Add(-time.Hour)))
		}), member("b", v1.RotationStaged)}, "b", false, metav1.ConditionFalse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "wave", Generation: 2}}
			if tc.fleet != nil {
				tc.fleet(f)
			}
			decideFleet(f, viewOf(refs(tc.members...), nil, now), now)
			if got := strings.Join(f.Status.Current, ","); got != tc.wantCurrent {
				t.Errorf("current = %q, want %q", got, tc.wantCurrent)
			}
			if f.Status.Halted != tc.wantHalted || meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionHalted) != tc.wantHalted {
				t.Errorf("halted = %v, want %v", f.Status.Halted, tc.wantHalted)
			}
			if r := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionReady); r.Status != tc.wantReady {
				t.Errorf("Ready = %s (%s), want %s", r.Status, r.Message, tc.wantReady)
			}
			if f.Status.Members != int32(len(tc.members)) || f.Status.ObservedGeneration != 2 {
				t.Errorf("status = %+v", f.Status)
			}
		})
	}
}

func TestVendorIncident(t *testing.T) {
	cases := []struct {
		name    string
		members []v1.TableauConnection
		want    string
	}{
		{"one failing member", []v1.TableauConnection{member("a", v1.RotationIdle, failingWith("ServerError", time.Minute, "https://x"))}, ""},
		{"two on one server, same reason", []v1.TableauConnection{
			member("a", v1.RotationIdle, failingWith("ServerError", time.Minute, "https://x")),
			member("b", v1.RotationIdle, failingWith("ServerError", 5*time.Minute, "https://x"))}, "a, b"},
		{"two on different servers", []v1.TableauConnection{
			member("a", v1.RotationIdle, failingWith("ServerError", time.Minute, "https://x")),
			member("b", v1.RotationIdle, failingWith("ServerError", time.Minute, "https://y"))}, ""},
		{"different reasons", []v1.TableauConnection{
			member("a", v1.RotationIdle, failingWith("ServerError", time.Minute, "https://x")),
			member("b", v1.RotationIdle, failingWith("Timeout", time.Minute, "https://x"))}, ""},
		{"one of them long ago", []v1.TableauConnection{
			member("a", v1.RotationIdle, failingWith("ServerError", time.Minute, "https://x")),
			member("b", v1.RotationIdle, failingWith("ServerError", time.Hour, "https://x"))}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &v1.TableauFleet{}
			decideFleet(f, viewOf(refs(tc.members...), nil, now), now)
			c := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionSuspectedVendorIncident)
			if tc.want == "" {
				if c.Status != metav1.ConditionFalse {
					t.Errorf("incident raised: %s", c.Message)
				}
				return
			}
			if c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, tc.want) || !strings.Contains(c.Message, "ServerError") {
				t.Errorf("condition = %+v", c)
			}
		})
	}
}
