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
	"context"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// persistValidating records "validating revision X" (status.credentials.revision and
// revisionChangedAt) before a sign-in with a revision status does not hold yet. A sign-in can
// take many seconds; the fleet reads the recorded revision and keeps the member's place in
// the wave from this moment on, so a later member does not promote before this one is staged
// or rejected.
//
// Only for a connection a fleet selects: the fleet is its one reader. Only the revision and
// since when are written: what else this reconcile learned of the new
// credential (its token name, its expiry) waits for the sign-in's answer, or status would say
// the new PAT signed in at the old one's time. The reconcile's status write adds the rest.
func (r *signInPhase) persistValidating(ctx context.Context, s *scope) error {
	before, now := s.before.Status.Credentials, s.conn.Status.Credentials
	if now == nil || now.Revision == "" || before == nil || before.Revision == "" || before.Revision == now.Revision {
		// A first credential is no rotation: there is no place in a wave to keep, and the
		// sign-in's own status write is the connection's one write (make bench counts 1.00).
		return nil
	}
	if rs := s.before.Status.Rotation; s.conn.Spec.Consumers == nil || rs == nil || rs.ActiveRevision == "" {
		// The fleet reads it only of a member with an active revision (memberOf): without
		// one there is no wave place to hold, and no extra status write is worth making
		// before the sign-in (a refused one would stop every sign-in of the connection).
		return nil
	}
	if fleets, err := fleetsSelecting(ctx, r.statusWriter.Client, s.conn); err != nil || len(fleets) == 0 {
		// No fleet selects it, so no wave place to hold and nobody reads the mark before the
		// sign-in's own write (an automatic rotation's every secret paid one more write).
		return err
	}
	marked := s.before.DeepCopy()
	c := marked.Status.Credentials
	if c == nil {
		c = &v1.CredentialStatus{}
		marked.Status.Credentials = c
	}
	c.Revision, c.RevisionChangedAt = now.Revision, now.RevisionChangedAt.DeepCopy()
	if err := r.patchStatus(ctx, s.before, marked, false); err != nil {
		return err
	}
	s.before = marked
	s.conn.ResourceVersion = marked.ResourceVersion
	return nil
}
