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

import "context"

// persistValidating records "validating revision X" (status.credentials.revision and
// revisionChangedAt) before a sign-in with a revision status does not hold yet. A sign-in can
// take many seconds; the fleet reads the recorded revision and keeps the member's place in
// the wave from this moment on, so a later member does not promote before this one is staged
// or rejected.
func (r *TableauConnectionReconciler) persistValidating(ctx context.Context, s *scope) error {
	before, now := s.before.Status.Credentials, s.conn.Status.Credentials
	if now == nil || now.Revision == "" || (before != nil && before.Revision == now.Revision) {
		return nil
	}
	return r.persist(ctx, s)
}
