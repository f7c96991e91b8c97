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

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// ownWriteWindow is how long after persisting a rotation phase this process takes a cached
// connection that does not show it yet for a cache that has not caught up (its watch event
// comes within milliseconds); a connection whose status someone else changed meanwhile waits
// at most this long. ownWriteRecheck is when such a connection is looked at again.
const (
	ownWriteWindow  = 2 * time.Second
	ownWriteRecheck = 100 * time.Millisecond
)

// ownWrite is the rotation phase this process last persisted for a connection object, kept
// in its memory (connMemory) for ownWriteWindow. A reconcile right after one that persisted a
// phase often starts from a cached copy without it (woken by the event of its own Secret or
// restart write, which overtook the status event): it would plan the step already taken
// again, and its locked status write would fail with a conflict, a write, a read and an
// error per rotation step.
// The automatic rotation's phase counts too: a reconcile from a copy without the automatic
// step just persisted would observe it again and be refused (issue 23's bench: a conflict,
// a read of the connection and four Secret reads after each automatic rotation's last step).
type ownWrite struct {
	phase     string
	since     time.Time
	automatic string
	at        time.Time
}

// automaticPhaseOf is the automatic rotation's phase in rs, "" without one.
func automaticPhaseOf(rs *v1.RotationStatus) string {
	if rs == nil || rs.Automatic == nil {
		return ""
	}
	return rs.Automatic.Phase
}

// wroteOwnPhase records the rotation phase (and automatic rotation phase) just persisted.
func (m *memory) wroteOwnPhase(conn *v1.TableauConnection, now time.Time) {
	rs := conn.Status.Rotation
	if rs == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).ownWrite = &ownWrite{phase: rs.Phase, since: rs.PhaseSince.Time, automatic: automaticPhaseOf(rs), at: now}
}

// behindOwnPhase reports whether conn, as cached, lacks the rotation phase (or automatic
// rotation phase) this process persisted less than ownWriteWindow ago.
func (m *memory) behindOwnPhase(conn *v1.TableauConnection, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(conn)
	w := e.ownWrite
	if w == nil {
		return false
	}
	rs := conn.Status.Rotation
	if now.Sub(w.at) > ownWriteWindow || (rs != nil && rs.Phase == w.phase && rs.PhaseSince.Time.Equal(w.since) && automaticPhaseOf(rs) == w.automatic) {
		e.ownWrite = nil
		return false
	}
	return true
}
