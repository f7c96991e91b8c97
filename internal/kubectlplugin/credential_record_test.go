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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// TestReportRowKindsAreWhatTableauSaw: a serverinfo failure and an unreadable credential are
// rows of their own, never signin rows; the check right before a promotion is a signin row.
func TestReportRowKindsAreWhatTableauSaw(t *testing.T) {
	c := tenant("mismatch")
	c.Status.History = []v1.ValidationAttempt{
		{Time: *ago2(time.Minute), Kind: v1.AttemptServerInfo, Result: v1.ResultFailed, Bucket: "APIVersionMismatch", HTTPStatus: 200},
		{Time: *ago2(2 * time.Minute), Kind: v1.AttemptCredentials, Result: v1.ResultFailed, Bucket: "SecretMissing"},
		{Time: *ago2(3 * time.Minute), Kind: v1.AttemptCandidateCheck, Result: v1.ResultSucceeded, RequestID: "req-check"},
		{Time: *ago2(4 * time.Minute), Kind: v1.AttemptSignIn, Result: v1.ResultSucceeded, RequestID: "req-signin"},
		{Time: *ago2(5 * time.Minute), Result: v1.ResultSucceeded, RequestID: "req-old"},
	}
	rep := buildReport([]v1.TableauConnection{*c}, nil, observedNow, time.Hour)
	got := map[string]string{}
	for _, ev := range rep.Events {
		if ev.Record != recordConnection && ev.Record != recordRotation && ev.Record != recordFailure {
			got[ev.Kind+"/"+ev.RequestID] = ev.Record
		}
	}
	want := map[string]string{"ServerInfo/": recordServerInfo, "Credentials/": recordCredentials, "CandidateCheck/req-check": recordSignIn,
		"SignIn/req-signin": recordSignIn, "/req-old": recordSignIn}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("attempt %s is a %q row, want %q (rows %v)", k, got[k], w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	var out bytes.Buffer
	renderAttempts(&out, c.Status.History, observedNow, 5)
	for _, w := range []string{"ServerInfo", "Credentials", "CandidateCheck", "SignIn"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("Last attempts lacks the kind %s:\n%s", w, out.String())
		}
	}
}

// TestActiveExpiryWhileTheCandidateFails: status and the report's EXPIRY give the active PAT's
// expiry from status.rotation.activeExpiresAt while the source holds a failing credential.
func TestActiveExpiryWhileTheCandidateFails(t *testing.T) {
	c := tenant("bravo")
	cr := c.Status.Credentials
	cr.Revision, cr.ExpiresAt, cr.LastAttemptRevision, cr.LastAttemptResult = "bbbb", nil, "bbbb", v1.ResultFailed
	exp := metav1.NewTime(observedNow.Add(80 * 24 * time.Hour))
	c.Status.Rotation.ActiveExpiresAt = &exp
	var out bytes.Buffer
	renderConnection(&out, connectionView{conn: c, fleets: []v1.TableauFleet{emea()}}, observedNow, palette{})
	want := "Expiry: PAT expires 2027-02-25T12:00:00Z (in 80d) (the active revision aaaa; the source holds revision bbbb; revision bbbb has not signed in)."
	if !strings.Contains(out.String(), want) {
		t.Errorf("status lacks %q:\n%s", want, out.String())
	}
	if strings.Contains(out.String(), "not recorded") {
		t.Errorf("status says the active expiry is not recorded:\n%s", out.String())
	}
	rep := buildReport([]v1.TableauConnection{*c}, []v1.TableauFleet{emea()}, observedNow, 0)
	if got := rfc(rep.Connections[0].Expiry); got != "2027-02-25T12:00:00Z" {
		t.Errorf("report EXPIRY %q, want the active PAT's 2027-02-25T12:00:00Z", got)
	}
}

// TestNoRotationRowForAFirstDelivery: a tenant whose consumers got their first credential and
// never rotated has no rotation row and no LAST ROTATION.
func TestNoRotationRowForAFirstDelivery(t *testing.T) {
	c := tenant("fresh")
	since := metav1.NewTime(observedNow.Add(-time.Minute))
	c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, PhaseSince: since, ActiveRevision: "aaaa", ActiveSince: &since,
		Reason: v1.ReasonFirstDeliveryCompleted}
	rep := buildReport([]v1.TableauConnection{*c}, nil, observedNow, time.Hour)
	if rep.Connections[0].LastRotation != nil {
		t.Errorf("LAST ROTATION %v for a tenant that never rotated", rep.Connections[0].LastRotation)
	}
	for _, ev := range rep.Events {
		if ev.Record == recordRotation {
			t.Errorf("rotation row for a tenant that never rotated: %+v", ev)
		}
	}
}
