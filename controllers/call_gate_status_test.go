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
	"unicode/utf8"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
)

// The gate persisted in status fits the CRD's bounds whatever Tableau sent: a secret id of
// any length that Tableau listed (and the operator deleted as an orphan) is pending, and a
// status.callGate.pendingDeleteSecretID over its 128 characters would make the API server
// refuse every status write of the connection while the delete is pending.
func TestCallGateStatusFitsTheCRDBounds(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := callgate.State{NotBefore: now.Add(time.Minute), Failures: 3, Reason: strings.Repeat("R", 1000),
		Endpoint: strings.Repeat("e", 1000), PendingDelete: strings.Repeat("a", 1000), PendingChecks: 2,
		Holds: map[callgate.Class]time.Time{callgate.Admin: now.Add(time.Hour)}, Inputs: gateInputs(&v1.TableauConnection{})}
	g := gateToStatus(st)
	for name, v := range map[string]struct {
		s   string
		max int
	}{
		"reason": {g.Reason, 64}, "endpoint": {g.Endpoint, 32}, "pendingDeleteSecretID": {g.PendingDeleteSecretID, 128}, "inputs": {g.Inputs, 64},
	} {
		if n := utf8.RuneCountInString(v.s); n > v.max || n == 0 {
			t.Errorf("callGate.%s holds %d characters, the CRD allows %d", name, n, v.max)
		}
	}
	// An id within the bound is kept as it is: a restarted process matches it in a listing.
	id := strings.Repeat("b", 36)
	if g := gateToStatus(callgate.State{PendingDelete: id}); g.PendingDeleteSecretID != id {
		t.Errorf("pendingDeleteSecretID = %q, want %q", g.PendingDeleteSecretID, id)
	}
}
