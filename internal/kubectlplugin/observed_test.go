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

// Issue 25: status and report say only what status records, in sentences. Each case is an
// object as the operator leaves it in one state, with what its status must and must not say.

var observedNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func ago2(d time.Duration) *metav1.Time { t := metav1.NewTime(observedNow.Add(-d)); return &t }

// tenant is a PAT connection with consumers whose active revision aaaa signed in.
func tenant(name string) *v1.TableauConnection {
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenants", Name: name, Generation: 1, Labels: map[string]string{"wave": "emea"}}}
	c.Spec.Server, c.Spec.Site, c.Spec.APIVersion = "https://tableau.example.invalid", name, "3.24"
	c.Spec.Auth.PersonalAccessToken = &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: name + "-pat"}}
	c.Spec.Consumers = &v1.ConsumersSpec{SecretName: name + "-tableau", RestartTargets: []v1.RestartTarget{{Kind: "Deployment", Name: name + "-dash"}}}
	expires := metav1.NewTime(observedNow.Add(80 * 24 * time.Hour))
	c.Status.ObservedGeneration = 1
	c.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1.ReasonSignedIn, Message: "Sign-in works."}}
	c.Status.Credentials = &v1.CredentialStatus{TokenName: name + "-operator", Revision: "aaaa", LastSignInTime: ago2(time.Hour), ExpiresAt: &expires,
		LastAttemptRevision: "aaaa", LastAttemptResult: v1.ResultSucceeded}
	c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationIdle, PhaseSince: *ago2(48 * time.Hour), ActiveRevision: "aaaa", ActiveSince: ago2(48 * time.Hour)}
	return c
}

func emea() v1.TableauFleet {
	return v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "tenants", Name: "emea", Generation: 1},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"wave": "emea"}}}}
}

func TestStatusSaysWhatWasObserved(t *testing.T) {
	for _, tc := range []struct {
		name          string
		conn          func() *v1.TableauConnection
		fleets        []v1.TableauFleet
		want, notWant []string
	}{
		{name: "connected app: no PAT expiry",
			conn: func() *v1.TableauConnection {
				c := tenant("sales")
				c.Spec.Auth.PersonalAccessToken = nil
				c.Spec.Auth.ConnectedApp = &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "sales-app"}, Username: "ana@example.com"}
				c.Status.Credentials.TokenName, c.Status.Credentials.ClientID, c.Status.Credentials.SecretID = "", "client-1", "kid-1"
				return c
			},
			want:    []string{"Expiry: none: connected-app secrets do not expire."},
			notWant: []string{"PAT expires", "Tableau sent none"}},
		{name: "connected app rotated automatically: when the operator replaces the secret",
			conn: func() *v1.TableauConnection {
				c := tenant("sales")
				c.Spec.Auth.PersonalAccessToken = nil
				c.Spec.Auth.ConnectedApp = &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "sales-app"}, Username: "ana@example.com"}
				c.Spec.Rotation.Automatic = &v1.AutomaticRotation{}
				c.Status.Credentials.ExpiresAt = nil
				c.Status.Rotation.DueTime = &metav1.Time{Time: observedNow.Add(72 * time.Hour)}
				return c
			},
			want:    []string{"connected-app secrets do not expire; the operator replaces this one 2026-12-10T12:00:00Z (in 3d)."},
			notWant: []string{"PAT expires"}},
		{name: "the active PAT's expiry",
			conn:    func() *v1.TableauConnection { return tenant("finance") },
			want:    []string{"Expiry: PAT expires 2027-02-25T12:00:00Z (in 80d)."},
			notWant: []string{"unknown"}},
		{name: "fleet member whose new PAT fails: the new one's failure is not the active one's expiry",
			conn: func() *v1.TableauConnection {
				c := tenant("bravo")
				cr := c.Status.Credentials
				cr.Revision, cr.ExpiresAt, cr.RevisionChangedAt, cr.LastAttemptRevision, cr.LastAttemptResult = "bbbb", nil, ago2(time.Minute), "bbbb", v1.ResultFailed
				return c
			},
			fleets:  []v1.TableauFleet{emea()},
			want:    []string{"Expiry: not recorded for the active PAT (revision aaaa) while the source holds revision bbbb; revision bbbb has not signed in."},
			notWant: []string{"Tableau sent none", "PAT expires"}},
		{name: "fleet member staged: the validated new PAT's expiry is not the active one's",
			conn: func() *v1.TableauConnection {
				c := tenant("charlie")
				exp := metav1.NewTime(observedNow.Add(200 * 24 * time.Hour))
				c.Status.Credentials.Revision, c.Status.Credentials.ExpiresAt, c.Status.Credentials.LastAttemptRevision = "cccc", &exp, "cccc"
				c.Status.Rotation.Phase, c.Status.Rotation.CandidateRevision = v1.RotationStaged, "cccc"
				return c
			},
			fleets:  []v1.TableauFleet{emea()},
			want:    []string{"not recorded for the active PAT (revision aaaa) while the source holds revision cccc; revision cccc expires 2027-06-25T12:00:00Z"},
			notWant: []string{"Expiry: PAT expires"}},
		{name: "rollback for the workload's health names the workload, not the credential",
			conn: func() *v1.TableauConnection {
				c := tenant("delta")
				rs := c.Status.Rotation
				rs.Phase, rs.Reason, rs.FailedRevision = v1.RotationFailed, v1.ReasonRotationRolledBack, "dddd"
				rs.Message = "Deployment delta-dash not available 5m0s after the restart; restoring revision aaaa."
				c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1.ConditionCandidateValid, Status: metav1.ConditionFalse,
					Reason: v1.ReasonRotationRolledBack, Message: rs.Message + ` Next step: put a new credential in Secret "delta-pat", or annotate tableau-operator.dev/requested-at=<any new value> to retry this one.`})
				return c
			},
			want: []string{"Rolled back: revision dddd signed in, but Deployment delta-dash did not become available with it before the health check timed out; consumers are back on revision aaaa.",
				"Next step: find why Deployment delta-dash did not become available with revision dddd"},
			notWant: []string{"Rejected:", "put a new credential"}},
		{name: "rejected credential: Rejected, and Next step once",
			conn: func() *v1.TableauConnection {
				c := tenant("echo")
				rs := c.Status.Rotation
				rs.Phase, rs.Reason, rs.FailedRevision = v1.RotationFailed, v1.ReasonCandidateRejected, "eeee"
				c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: v1.ConditionCandidateValid, Status: metav1.ConditionFalse,
					Reason: v1.ReasonCandidateRejected, Message: "The new credential (revision eeee) was rejected (AuthConfigDrift: SignInRejected); consumers keep revision aaaa. Next step: put a new credential in Secret \"echo-pat\"."})
				return c
			},
			want:    []string{"Rejected:    revision eeee: Tableau refused its sign-in; consumers keep revision aaaa.", "Next step: put a new credential in Secret \"echo-pat\"."},
			notWant: []string{"Rolled back", "Next step: The new credential"}},
		{name: "suspended connection says so",
			conn: func() *v1.TableauConnection {
				c := tenant("alpha")
				c.Spec.Suspend = true
				c.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1.ReasonSuspended, Message: "spec.suspend is true."}}
				return c
			},
			fleets: func() []v1.TableauFleet {
				f := emea()
				f.Status.Suspended = []string{"alpha"}
				return []v1.TableauFleet{f}
			}(),
			want: []string{"Suspended: the operator makes no Tableau call", "alpha is suspended and holds no place in the wave", "Next step: none while suspended"}},
		{name: "unsuspended, status not caught up yet",
			conn: func() *v1.TableauConnection {
				c := tenant("alpha")
				c.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: v1.ReasonSuspended, Message: "spec.suspend is true."}}
				return c
			},
			want: []string{"Unsuspended: spec.suspend is false, but the status below is still the suspended one"}},
		{name: "member of a fleet resumed past bravo: not halted",
			conn: func() *v1.TableauConnection { return tenant("charlie") },
			fleets: func() []v1.TableauFleet {
				f := emea()
				// As left after the resume and charlie's completed rotation: bravo failed,
				// passed by the resume; halted written before (a stale true).
				f.Status = v1.TableauFleetStatus{Members: 3, Ready: 3, Halted: true, Failed: []string{"bravo"}, Acknowledged: []string{"bravo"},
					Conditions: []metav1.Condition{{Type: v1.ConditionHalted, Status: metav1.ConditionFalse, Reason: v1.ReasonFleetResumed, Message: "Resumed past bravo."}}}
				return []v1.TableauFleet{f}
			}(),
			want:    []string{"emea: 3 members, 3 ready"},
			notWant: []string{"halted at", "fleet emea is halted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			renderConnection(&out, connectionView{conn: tc.conn(), fleets: tc.fleets}, observedNow, palette{})
			s := out.String()
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("status lacks %q:\n%s", w, s)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(s, w) {
					t.Errorf("status says %q:\n%s", w, s)
				}
			}
			if n := strings.Count(s, "Next step:"); n != 1 {
				t.Errorf("status says Next step: %d times:\n%s", n, s)
			}
		})
	}
}

// TestReportExpiryIsTheActiveCredentials: the report's EXPIRY is what status says: the
// active PAT's expiry, none for a connected app, none recorded for a member trying another one.
func TestReportExpiryIsTheActiveCredentials(t *testing.T) {
	active := tenant("finance")
	app := tenant("sales")
	app.Spec.Auth.PersonalAccessToken = nil
	app.Spec.Auth.ConnectedApp = &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: "sales-app"}}
	staged := tenant("charlie")
	exp := metav1.NewTime(observedNow.Add(200 * 24 * time.Hour))
	staged.Status.Credentials.Revision, staged.Status.Credentials.ExpiresAt = "cccc", &exp
	rep := buildReport([]v1.TableauConnection{*active, *app, *staged}, []v1.TableauFleet{emea()}, observedNow, 0)
	want := map[string]string{"finance": "2027-02-25T12:00:00Z", "sales": "", "charlie": ""}
	for _, r := range rep.Connections {
		if got := rfc(r.Expiry); got != want[r.Name] {
			t.Errorf("%s: EXPIRY %q, want %q", r.Name, got, want[r.Name])
		}
	}
}

func TestFleetStatusFromItsCurrentState(t *testing.T) {
	members := []v1.TableauConnection{*tenant("alpha"), *tenant("bravo"), *tenant("charlie")}
	for _, tc := range []struct {
		name          string
		status        v1.TableauFleetStatus
		want, notWant []string
	}{
		{name: "halted at bravo",
			status: v1.TableauFleetStatus{Members: 3, Ready: 3, Halted: true, Failed: []string{"bravo"},
				Conditions: []metav1.Condition{{Type: v1.ConditionHalted, Status: metav1.ConditionTrue, Reason: v1.ReasonFleetHalted, Message: "Halted at bravo."}}},
			want: []string{"Halted at bravo: members after it keep their active credentials.", "failed: halts the wave", "kubectl tableau status bravo"}},
		{name: "resumed past bravo, charlie completed",
			status: v1.TableauFleetStatus{Members: 3, Ready: 3, Halted: true, Failed: []string{"bravo"}, Acknowledged: []string{"bravo"},
				Conditions: []metav1.Condition{{Type: v1.ConditionHalted, Status: metav1.ConditionFalse, Reason: v1.ReasonFleetResumed, Message: "Resumed past bravo."}}},
			want:    []string{"Halted:      no (resumed past bravo, which keeps its active credential)", "failed, passed by resume", "Next step: nothing: the wave is settled."},
			notWant: []string{"Halted at", "halts the wave"}},
		{name: "resumed past bravo, then charlie failed: halted at charlie only",
			status:  v1.TableauFleetStatus{Members: 3, Ready: 2, Halted: true, Failed: []string{"bravo", "charlie"}, Acknowledged: []string{"bravo"}},
			want:    []string{"Halted at charlie:", "kubectl tableau status charlie"},
			notWant: []string{"Halted at bravo", "status bravo"}},
		{name: "a suspended member",
			status: v1.TableauFleetStatus{Members: 3, Ready: 3, Suspended: []string{"alpha"}},
			want:   []string{"Suspended:   alpha", "suspended"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := emea()
			f.Status = tc.status
			f.Status.ObservedGeneration = 1
			var out bytes.Buffer
			renderFleet(&out, fleetView{fleet: &f, members: members}, observedNow, palette{})
			s := out.String()
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("status lacks %q:\n%s", w, s)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(s, w) {
					t.Errorf("status says %q:\n%s", w, s)
				}
			}
		})
	}
}

func TestResumeSaysWhatHappenedInSentences(t *testing.T) {
	for _, tc := range []struct {
		status v1.TableauFleetStatus
		want   string
	}{
		{v1.TableauFleetStatus{Failed: []string{"bravo"}, Acknowledged: []string{"bravo"}},
			"Resumed past bravo: the wave goes on without it, and it keeps its active credential. No member has a rotation pending."},
		{v1.TableauFleetStatus{Failed: []string{"bravo"}, Acknowledged: []string{"bravo"}, Current: []string{"charlie"}},
			"Resumed past bravo: the wave goes on without it, and it keeps its active credential. Promoting now: charlie."},
		{v1.TableauFleetStatus{Failed: []string{"bravo", "delta"}, Acknowledged: []string{"bravo", "delta"}, Pending: 2},
			"Resumed past bravo, delta: the wave goes on without them, and they keep their active credentials. 0 rotating, 2 pending."},
	} {
		f := emea()
		f.Status = tc.status
		if got := resumedLine(&f); got != tc.want {
			t.Errorf("resume says %q, want %q", got, tc.want)
		}
		if strings.ContainsAny(resumedLine(&f), "[]") {
			t.Errorf("resume prints a Go value: %q", resumedLine(&f))
		}
	}
	many := make([]string, 30)
	for i := range many {
		many[i] = strings.Repeat("m", 60)
	}
	if got := names(many); len(got) > 700 || !strings.HasSuffix(got, "and 20 more") {
		t.Errorf("a long list is not bounded: %d bytes, %q", len(got), got[len(got)-20:])
	}
}
