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
	"encoding/csv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

var reportNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) metav1.Time { return metav1.NewTime(reportNow.Add(-d)) }

func reportFixture() ([]v1.TableauConnection, []v1.TableauFleet) {
	completed := at(30 * time.Hour)
	failing := v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "bravo", Labels: map[string]string{"fleet": "emea"}},
		Spec:       v1.TableauConnectionSpec{Server: "https://t.example.com", Site: "bravo", APIVersion: "3.24"},
		Status: v1.TableauConnectionStatus{
			Conditions:  []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: "SignInRejected"}},
			LastFailure: &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected", RequestID: "req-9", ConsecutiveFailures: 3, Time: at(time.Hour), Since: at(3 * time.Hour)},
			History: []v1.ValidationAttempt{
				{Time: at(time.Hour), Result: v1.ResultFailed, Bucket: "AuthConfigDrift", RequestID: "req-9"},
				{Time: at(200 * time.Hour), Result: v1.ResultSucceeded, RequestID: "req-1"},
			},
			Rotation: &v1.RotationStatus{Phase: v1.RotationFailed, PhaseSince: at(2 * time.Hour), FailedRevision: "abc", LastCompletionTime: &completed},
		},
	}
	healthy := v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "alpha"},
		Spec:       v1.TableauConnectionSpec{Server: "https://t.example.com", Site: "alpha", APIVersion: "3.21"},
		Status: v1.TableauConnectionStatus{
			Conditions: []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: "SignedIn"}},
			History:    []v1.ValidationAttempt{{Time: at(170 * time.Hour), Result: v1.ResultSucceeded, RequestID: "req-2"}},
		},
	}
	fleet := v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "emea"},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "emea"}}}}
	return []v1.TableauConnection{failing, healthy}, []v1.TableauFleet{fleet}
}

func TestBuildReportRowsAndWindow(t *testing.T) {
	conns, fleets := reportFixture()
	rep := buildReport(conns, fleets, reportNow, 0)
	if len(rep.Connections) != 2 || rep.Connections[0].Name != "alpha" || rep.Connections[1].Name != "bravo" {
		t.Fatalf("rows not sorted by namespace and name: %+v", rep.Connections)
	}
	if len(rep.Events) != 0 {
		t.Errorf("without --since there are no events: %+v", rep.Events)
	}
	b := rep.Connections[1]
	if b.Fleet != "emea" || b.Bucket != "AuthConfigDrift" || b.ConsecutiveFailures != 3 || b.LastRequestID != "req-9" || b.RotationPhase != v1.RotationFailed || b.Ready != "False" {
		t.Errorf("bravo's row: %+v", b)
	}
	if a := rep.Connections[0]; a.LastRequestID != "req-2" || a.Fleet != "" {
		t.Errorf("alpha's row: %+v", a)
	}

	rep = buildReport(conns, fleets, reportNow, 168*time.Hour)
	var got []string
	for _, e := range rep.Events {
		got = append(got, e.Name+"/"+e.Record+"/"+e.Result)
	}
	// Oldest first; bravo's 200h-old success is outside, alpha's 170h-old one too.
	want := []string{"bravo/rotation/Completed", "bravo/rotation/Failed", "bravo/signin/Failed", "bravo/failure/Failing"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events in 168h:\n got %v\nwant %v", got, want)
	}
	rep = buildReport(conns, fleets, reportNow, 171*time.Hour)
	if len(rep.Events) != 5 || rep.Events[0].Name != "alpha" {
		t.Errorf("171h should add alpha's attempt first: %+v", rep.Events)
	}
}

func TestCSVParsesBackWithOneHeader(t *testing.T) {
	conns, fleets := reportFixture()
	var buf bytes.Buffer
	if err := writeCSV(&buf, buildReport(conns, fleets, reportNow, 168*time.Hour)); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1+2+4 {
		t.Fatalf("want header, 2 connections and 4 events, got %d records", len(records))
	}
	for _, r := range records {
		if len(r) != len(csvHeader) {
			t.Fatalf("record of %d fields, header has %d: %v", len(r), len(csvHeader), r)
		}
	}
	col := func(name string) int {
		for i, h := range csvHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	if r := records[2]; r[col("record")] != "connection" || r[col("name")] != "bravo" || r[col("request_id")] != "req-9" || r[col("consecutive_failures")] != "3" {
		t.Errorf("bravo's row: %v", r)
	}
	if r := records[5]; r[col("record")] != "signin" || r[col("time")] != "2026-12-06T11:00:00Z" || r[col("result")] != "Failed" {
		t.Errorf("the attempt row: %v", r)
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]target{"finance": {name: "finance"}, "tabconn/finance": {name: "finance"}, "fleet/emea": {fleet: true, name: "emea"},
		"TableauFleet/emea": {fleet: true, name: "emea"}} {
		if got, err := parseTarget(in); err != nil || got != want {
			t.Errorf("parseTarget(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "pod/x", "fleet/", "a/b/c"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) accepted", bad)
		}
	}
}

func TestColourOnlyOnATerminal(t *testing.T) {
	conns, _ := reportFixture()
	v := connectionView{conn: &conns[0]}
	var plain, tty bytes.Buffer
	renderConnection(&plain, v, reportNow, palette{on: false})
	renderConnection(&tty, v, reportNow, palette{on: true})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("colour without a terminal")
	}
	if !strings.Contains(tty.String(), "\x1b[31mFalse\x1b[0m") {
		t.Errorf("Ready=False is not red on a terminal:\n%q", tty.String())
	}
}

func TestRequestValueDiffersFromTheHandledOne(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 5, time.UTC)
	if v := requestValue(now, "", ""); v != "2026-12-06T12:00:00Z" {
		t.Errorf("got %q", v)
	}
	if v := requestValue(now, "", "2026-12-06T12:00:00Z"); v == "2026-12-06T12:00:00Z" {
		t.Error("a second request in the same second repeats the handled value, which the operator ignores")
	}
}
