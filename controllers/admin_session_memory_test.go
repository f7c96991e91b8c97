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

	"github.com/tableau-operator/tableau-operator/internal/rotation"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// The administrator session an automatic rotation keeps between its steps belongs to one
// connection object: a connection re-created under the same name does not use it, and a
// deleted one leaves nothing behind in memory.
func TestKeptAdminSessionIsPerObjectAndForgotten(t *testing.T) {
	var m memory
	old := memoConn("uid-1")
	m.setAdminSession(old, &adminMemo{sess: &tableau.Session{}, adminKey: "a", lockKey: "l", secretVersion: "7/s"})
	if got, ok := m.adminSession(old); !ok || got.adminKey != "a" || got.secretVersion != "7/s" {
		t.Fatalf("kept session = %+v, %v", got, ok)
	}
	if _, ok := m.adminSession(memoConn("uid-2")); ok {
		t.Error("a re-created connection uses the session the deleted one kept")
	}
	m.setAdminSession(old, &adminMemo{sess: &tableau.Session{}, adminKey: "a"})
	m.Forget(nameOf(old))
	if _, ok := m.adminSession(old); ok {
		t.Error("Forget left the kept administrator session in memory")
	}
	m.setAdminSession(old, &adminMemo{sess: &tableau.Session{}})
	m.setAdminSession(old, nil)
	if _, ok := m.adminSession(old); ok {
		t.Error("a session set to nil is still kept")
	}
}

// An Event tells how an automatic rotation ended, not each of its steps.
func TestAutomaticEventsTellOutcomes(t *testing.T) {
	for _, p := range rotation.AutomaticPhases {
		want := p == rotation.AutomaticIdle || p == rotation.AutomaticDiscarding || p == rotation.AutomaticStalled
		if got := toldInEvent(p); got != want {
			t.Errorf("toldInEvent(%s) = %v, want %v", p, got, want)
		}
	}
	done := automaticDoneMessage(rotation.AutomaticObservation{Phase: rotation.AutomaticRetiring,
		Records: rotation.AutomaticRecords{New: "s2", Retiring: "s1"}})
	if !strings.Contains(done, `"s2" is active`) || !strings.Contains(done, `"s1" is deleted`) {
		t.Errorf("the finished rotation's message does not name the new and the deleted secret: %q", done)
	}
	rejected := automaticDoneMessage(rotation.AutomaticObservation{Phase: rotation.AutomaticDiscarding,
		Records: rotation.AutomaticRecords{New: "s2", Retiring: "s1"}})
	if !strings.Contains(rejected, `"s2" is deleted`) || !strings.Contains(rejected, `keep "s1"`) {
		t.Errorf("the discarded rotation's message does not name what was deleted and what consumers keep: %q", rejected)
	}
}
