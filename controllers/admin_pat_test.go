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

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// An administrator's PAT is refused before any sign-in when it is a PAT consumers hold: the
// source's, the active one, and during a rotation the promoted candidate and the copy kept
// for rollback (a source edited again mid-gate leaves the candidate in the consumer Secret).
func TestAdminPATInUse(t *testing.T) {
	pat := v1.TableauConnectionSpec{Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{}}}
	app := v1.TableauConnectionSpec{Auth: v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{}}}
	gating := &v1.RotationStatus{Phase: v1.RotationGating, ActiveRevision: "r1", PreviousRevision: "r1", CandidateRevision: "r2"}
	for _, c := range []struct {
		name        string
		spec        v1.TableauConnectionSpec
		rs          *v1.RotationStatus
		source, rev string
		want        bool
	}{
		{"the source's PAT", pat, nil, "r1", "r1", true},
		{"the active PAT", pat, &v1.RotationStatus{ActiveRevision: "r1"}, "r2", "r1", true},
		{"the promoted candidate, source edited again mid-gate", pat, gating, "r3", "r2", true},
		{"the copy kept for rollback", pat, &v1.RotationStatus{Phase: v1.RotationRestarting, ActiveRevision: "r0", PreviousRevision: "r1", CandidateRevision: "r2"}, "r2", "r1", true},
		{"a PAT of its own", pat, gating, "r3", "admin", false},
		{"a rejected revision nobody holds", pat, &v1.RotationStatus{Phase: v1.RotationFailed, ActiveRevision: "r1", FailedRevision: "r2"}, "r3", "r2", false},
		{"a connected app's connection", app, gating, "r3", "r2", false},
	} {
		conn := &v1.TableauConnection{Spec: c.spec}
		conn.Status.Rotation = c.rs
		if got := patInUse(conn, c.source, c.rev); got != c.want {
			t.Errorf("%s: patInUse = %v, want %v", c.name, got, c.want)
		}
	}
}
