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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// DefaultRenewBefore is how long before maxAge or expiry RotationDue turns True.
const DefaultRenewBefore = 14 * 24 * time.Hour

// setRotationDue computes when the active credential is due for rotation: maxAge after it
// became active, or the expiry Tableau reported, whichever is first, less renewBefore.
func setRotationDue(conn *v1.TableauConnection, s *scope) {
	rs := conn.Status.Rotation
	if rs == nil || rs.ActiveRevision == "" {
		return
	}
	if automatic(conn) != nil {
		// The operator rotates by itself: the next secret is created every after the
		// active one became active (or after its last create, when that one was rejected).
		_, due := automaticDue(conn, s.now)
		d := metav1.NewTime(due)
		rs.DueTime = &d
		return
	}
	var due time.Time
	if ma := conn.Spec.Rotation.MaxAge; ma != nil && rs.ActiveSince != nil {
		due = rs.ActiveSince.Add(ma.Duration)
	}
	if c := conn.Status.Credentials; c != nil && c.ExpiresAt != nil && c.Revision == rs.ActiveRevision && (due.IsZero() || c.ExpiresAt.Before(&metav1.Time{Time: due})) {
		due = c.ExpiresAt.Time
	}
	if due.IsZero() {
		rs.DueTime = nil
		return
	}
	renew := DefaultRenewBefore
	if rb := conn.Spec.Rotation.RenewBefore; rb != nil {
		renew = rb.Duration
	}
	d := metav1.NewTime(due.Add(-renew).Truncate(time.Second))
	rs.DueTime = &d
	if wait := d.Sub(s.now); wait > 0 {
		s.requeueIn(wait)
	}
}
