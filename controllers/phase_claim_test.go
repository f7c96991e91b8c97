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

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func claimAt(holder string, renewed time.Time, aside ...v1.InstallSeen) *v1.ClaimStatus {
	return &v1.ClaimStatus{Holder: holder, RenewTime: metav1.NewTime(renewed), DurationSeconds: 600, StandingAside: aside}
}

func TestDecideClaim(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		c     *v1.ClaimStatus
		want  claimVerdict
		after time.Duration
	}{
		"no claim yet":                  {nil, claimTake, 0},
		"an empty holder":               {claimAt("", now), claimTake, 0},
		"own, just renewed":             {claimAt("me", now.Add(-time.Minute)), claimHeld, 6*time.Minute + 30*time.Second},
		"own, half gone: ride":          {claimAt("me", now.Add(-5*time.Minute)), claimRide, 2*time.Minute + 30*time.Second},
		"own, 3/4 gone: write it alone": {claimAt("me", now.Add(-8*time.Minute)), claimRenew, 0},
		"own, lapsed: take it again":    {claimAt("me", now.Add(-11*time.Minute)), claimTake, 0},
		"another's, live: stand aside":  {claimAt("them", now.Add(-9*time.Minute)), claimStandAside, time.Minute + time.Second},
		"another's, lapsed: take over":  {claimAt("them", now.Add(-10*time.Minute)), claimTake, 0},
		"another's, from the future":    {claimAt("them", now.Add(time.Minute)), claimStandAside, 11*time.Minute + time.Second},
		"another's, long gone: take it": {claimAt("them", now.Add(-24*time.Hour)), claimTake, 0},
	}
	for name, tc := range cases {
		got, after := decideClaim(tc.c, "me", now)
		if got != tc.want || after != tc.after {
			t.Errorf("%s: %v after %s, want %v after %s", name, got, after, tc.want, tc.after)
		}
	}
}

// The Claimed condition is a function of status.claim and the clock alone, never of which
// install computes it: the holder and an install standing aside write the same one.
func TestSetClaimed(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	fresh := v1.InstallSeen{Install: "b", SeenTime: metav1.NewTime(now.Add(-time.Minute))}
	stale := v1.InstallSeen{Install: "b", SeenTime: metav1.NewTime(now.Add(-11 * time.Minute))}
	cases := map[string]struct {
		c      *v1.ClaimStatus
		status metav1.ConditionStatus
		reason string
	}{
		"alone":                   {claimAt("a", now), metav1.ConditionTrue, v1.ReasonClaimed},
		"another stands aside":    {claimAt("a", now, fresh), metav1.ConditionFalse, v1.ReasonClaimedByAnotherInstall},
		"the other stopped":       {claimAt("a", now, stale), metav1.ConditionTrue, v1.ReasonClaimed},
		"the holder's claim gone": {claimAt("a", now.Add(-time.Hour), fresh), metav1.ConditionUnknown, v1.ReasonClaimExpired},
		"no claim":                {nil, "", ""},
	}
	for name, tc := range cases {
		conn := &v1.TableauConnection{}
		conn.Status.Claim = tc.c
		conn.Status.Conditions = []metav1.Condition{{Type: v1.ConditionClaimed, Status: metav1.ConditionTrue, Reason: "Old"}}
		setClaimed(conn, now, conditionSetter(&conn.Status.Conditions, 1))
		got := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionClaimed)
		switch {
		case tc.status == "" && got != nil:
			t.Errorf("%s: Claimed = %+v, want none", name, got)
		case tc.status != "" && (got == nil || got.Status != tc.status || got.Reason != tc.reason):
			t.Errorf("%s: Claimed = %+v, want %s/%s", name, got, tc.status, tc.reason)
		}
	}
}

// A fleet is acted on by the install that holds its first claimed member: every install
// computes the same one, so exactly one writes the fleet's status.
func TestFleetFollowsItsMembersClaims(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	member := func(name string, c *v1.ClaimStatus) v1.TableauConnection {
		m := v1.TableauConnection{}
		m.Name, m.Status.Claim = name, c
		return m
	}
	members := []v1.TableauConnection{
		member("c", claimAt("a", now)),
		member("b", claimAt("b", now)),
		member("a", claimAt("b", now.Add(-time.Hour))), // lapsed: no one's
		member("d", nil),
	}
	if got := fleetClaimedElsewhere(refs(members...), "b", now); got != "" {
		t.Errorf("install b holds the first live member: stood aside for %q", got)
	}
	if got := fleetClaimedElsewhere(refs(members...), "a", now); got != "b" {
		t.Errorf("install a: %q, want b", got)
	}
	if got := fleetClaimedElsewhere(refs(member("x", nil)), "a", now); got != "" {
		t.Errorf("unclaimed members: stood aside for %q", got)
	}
}

// While another install stands aside, Ready is Unknown naming both installs, whichever
// install computes it: the holder's own verdict (here, a working sign-in) does not win over
// the install standing aside's, so the two never flip Ready back and forth.
func TestReadyUnknownWhileAnotherInstallStandsAside(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	fresh := v1.InstallSeen{Install: "b", SeenTime: metav1.NewTime(now.Add(-time.Minute))}
	stale := v1.InstallSeen{Install: "b", SeenTime: metav1.NewTime(now.Add(-11 * time.Minute))}
	cases := map[string]struct {
		c      *v1.ClaimStatus
		status metav1.ConditionStatus
		reason string
	}{
		"alone":                   {claimAt("a", now), metav1.ConditionTrue, v1.ReasonSignedIn},
		"another stands aside":    {claimAt("a", now, fresh), metav1.ConditionUnknown, v1.ReasonClaimedByAnotherInstall},
		"the other stopped":       {claimAt("a", now, stale), metav1.ConditionTrue, v1.ReasonSignedIn},
		"the holder's claim gone": {claimAt("a", now.Add(-time.Hour), fresh), metav1.ConditionTrue, v1.ReasonSignedIn},
		"no claim":                {nil, metav1.ConditionTrue, v1.ReasonSignedIn},
	}
	for name, tc := range cases {
		// As the holder computes it: after setReady found a working sign-in.
		conn := &v1.TableauConnection{}
		conn.Status.Claim = tc.c
		set := conditionSetter(&conn.Status.Conditions, 1)
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonSignedIn, "Sign-in works.")
		setReadyContested(conn, now, set)
		got := meta.FindStatusCondition(conn.Status.Conditions, v1.ConditionReady)
		if got.Status != tc.status || got.Reason != tc.reason {
			t.Errorf("%s: Ready = %s/%s, want %s/%s", name, got.Status, got.Reason, tc.status, tc.reason)
		}
		if tc.reason == v1.ReasonClaimedByAnotherInstall && (!strings.Contains(got.Message, `"a" acts`) || !strings.Contains(got.Message, `"b" stands aside`)) {
			t.Errorf("%s: Ready's message %q names neither the holder nor the install standing aside", name, got.Message)
		}
		// As the install standing aside computes it: from an object whose Ready the holder wrote.
		aside := conn.DeepCopy()
		aside.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1.ReasonSignedIn}}
		setReadyContested(aside, now, conditionSetter(&aside.Status.Conditions, 1))
		if a := meta.FindStatusCondition(aside.Status.Conditions, v1.ConditionReady); a.Status != got.Status || a.Reason != got.Reason {
			t.Errorf("%s: the install standing aside computes Ready %s/%s, the holder %s/%s", name, a.Status, a.Reason, got.Status, got.Reason)
		}
	}
}
