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
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// A server's error text reaches status bounded but otherwise as sent. On a terminal, escape
// sequences in it would retitle the window, move the cursor or hide lines: status prints
// them inert, and only its own colours are escapes.
func TestStatusPrintsNoEscapeFromTableau(t *testing.T) {
	const evil = "\x1b]0;owned\x07\x1b[2J\x9b1m"
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenants", Name: "finance", Generation: 1}}
	c.Spec.Server, c.Spec.Site, c.Spec.APIVersion = "https://tableau.example.invalid", "finance", "3.24"
	c.Status.ObservedGeneration = 1
	c.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: "SignInRejected", Message: "refused " + evil}}
	c.Status.LastFailure = &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected", Stage: v1.StageSignIn, Message: "m" + evil,
		NextStep: "n" + evil, TableauCode: "401001" + evil, RequestID: "req" + evil, Endpoint: "/auth" + evil, Summary: "s" + evil, Detail: "d" + evil,
		Time: metav1.NewTime(now), Since: metav1.NewTime(now)}
	c.Status.History = []v1.ValidationAttempt{{Time: metav1.NewTime(now), Result: v1.ResultFailed, Bucket: "AuthConfigDrift", Reason: "SignInRejected",
		TableauCode: "401001" + evil, RequestID: "req" + evil}}
	c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationFailed, Reason: "CandidateRejected", Message: "r" + evil, PhaseSince: metav1.NewTime(now)}
	for _, tty := range []bool{false, true} {
		var out bytes.Buffer
		renderConnection(&out, connectionView{conn: c}, now, palette{on: tty})
		s := out.String()
		if strings.Contains(s, "\x1b]") || strings.Contains(s, "\x07") || strings.Contains(s, "\x1b[2J") || strings.Contains(s, "\x9b") {
			t.Errorf("tty=%t: status printed an escape sequence from status text:\n%q", tty, s)
		}
		if !tty && strings.Contains(s, "\x1b") {
			t.Errorf("status printed ESC off a terminal:\n%q", s)
		}
		if !strings.Contains(s, "req") || !strings.Contains(s, "401001") {
			t.Errorf("tty=%t: the request id or code is gone altogether:\n%s", tty, s)
		}
	}
}

func TestTruncateKeepsRunesWhole(t *testing.T) {
	s := strings.Repeat("é", 10) // two bytes each
	for n := 1; n < len(s); n++ {
		if got := truncate(s, n); !utf8.ValidString(got) || len(got) > n {
			t.Fatalf("truncate(%d) = %q is not valid UTF-8 within %d bytes", n, got, n)
		}
	}
	if got := truncate("a\x1b[31mb", 40); strings.Contains(got, "\x1b") {
		t.Errorf("truncate kept an escape: %q", got)
	}
}

func TestReportPrintsNoEscapeFromTableau(t *testing.T) {
	const evil = "\x1b]0;owned\x07"
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	c := v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenants", Name: "finance"}}
	c.Status.LastFailure = &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected", RequestID: "req" + evil, TableauCode: "401001" + evil,
		Time: metav1.NewTime(now), Since: metav1.NewTime(now)}
	c.Status.History = []v1.ValidationAttempt{{Time: metav1.NewTime(now), Result: v1.ResultFailed, RequestID: "req" + evil}}
	conns := []v1.TableauConnection{c}
	rep := buildReport(conns, nil, now, time.Hour)
	var out bytes.Buffer
	writeTable(&out, rep, true)
	if err := writeCSV(&out, rep); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.ContainsAny(s, "\x1b\x07") || !strings.Contains(s, "req^[]0;owned^G") {
		t.Errorf("the report carries an escape, or lost the request id:\n%q", s)
	}
	if conns[0].Status.LastFailure.RequestID != "req"+evil {
		t.Error("the report changed the objects it was given")
	}
}
