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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/rotation"
)

// TestCandidateJustSignedIn: the validation sign-in counts as the check before promotion only
// when it was this revision's, at this endpoint, successful and within recheckAfter; a staged
// candidate that waited longer signs in again.
func TestCandidateJustSignedIn(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	conn := func(signedAgo time.Duration, result string, window *time.Duration) *v1.TableauConnection {
		c := &v1.TableauConnection{Spec: v1.TableauConnectionSpec{Server: "https://t.example.com", Site: "s", APIVersion: "3.24"}}
		if window != nil {
			c.Spec.Rotation.HealthCheck.RecheckAfter = &metav1.Duration{Duration: *window}
		}
		at := metav1.NewTime(now.Add(-signedAgo))
		site := "s"
		c.Status.Credentials = &v1.CredentialStatus{Revision: "cand", LastAttemptRevision: "cand", LastAttemptServer: c.Spec.Server,
			LastAttemptSite: &site, LastAttemptResult: result, LastSignInTime: &at}
		return c
	}
	zero, minute := time.Duration(0), time.Minute
	base := conn(0, v1.ResultSucceeded, nil)
	cand := rotation.Bundle{Revision: "cand", Endpoint: endpointDigest(base)}
	for _, tc := range []struct {
		name string
		conn *v1.TableauConnection
		cand rotation.Bundle
		want bool
	}{
		{"signed in a moment ago", conn(time.Second, v1.ResultSucceeded, nil), cand, true},
		{"waited longer than the default", conn(DefaultRecheckAfter+time.Second, v1.ResultSucceeded, nil), cand, false},
		{"within a longer window", conn(30*time.Second, v1.ResultSucceeded, &minute), cand, true},
		{"0s always signs in again", conn(0, v1.ResultSucceeded, &zero), cand, false},
		{"the last attempt failed", conn(time.Second, v1.ResultFailed, nil), cand, false},
		{"another revision signed in", conn(time.Second, v1.ResultSucceeded, nil), rotation.Bundle{Revision: "other", Endpoint: cand.Endpoint}, false},
		{"staged for another endpoint", conn(time.Second, v1.ResultSucceeded, nil), rotation.Bundle{Revision: "cand", Endpoint: "elsewhere"}, false},
	} {
		if got := candidateJustSignedIn(tc.conn, tc.cand, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
