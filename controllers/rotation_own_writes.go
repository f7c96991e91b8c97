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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

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

// ownWrites remembers the rotation phase this process last persisted for each connection,
// for ownWriteWindow. A reconcile right after one that persisted a phase often starts from
// a cached copy without it (woken by the event of its own Secret or restart write, which
// overtook the status event): it would plan the step already taken again, and its locked
// status write would fail with a conflict, a write, a read and an error per rotation step.
type ownWrites struct {
	mu sync.Mutex
	m  map[types.UID]ownWrite
}

type ownWrite struct {
	phase string
	since time.Time
	at    time.Time
}

// wrote records the rotation phase just persisted.
func (w *ownWrites) wrote(conn *v1.TableauConnection, now time.Time) {
	rs := conn.Status.Rotation
	if rs == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[types.UID]ownWrite{}
	}
	for uid, e := range w.m {
		if now.Sub(e.at) > ownWriteWindow {
			delete(w.m, uid) // bounded by the connections written in the last window
		}
	}
	w.m[conn.UID] = ownWrite{phase: rs.Phase, since: rs.PhaseSince.Time, at: now}
}

// behind reports whether conn, as cached, lacks the rotation phase this process persisted
// less than ownWriteWindow ago.
func (w *ownWrites) behind(conn *v1.TableauConnection, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	e, ok := w.m[conn.UID]
	if !ok {
		return false
	}
	rs := conn.Status.Rotation
	if now.Sub(e.at) > ownWriteWindow || (rs != nil && rs.Phase == e.phase && rs.PhaseSince.Time.Equal(e.since)) {
		delete(w.m, conn.UID)
		return false
	}
	return true
}
