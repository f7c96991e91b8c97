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

package fleet

import (
	"strings"
	"testing"
	"time"
)

func m(name string, st State, mutate ...func(*Member)) Member {
	x := Member{Name: name, State: st}
	for _, f := range mutate {
		f(&x)
	}
	return x
}

func suspended(x *Member)  { x.Suspended = true }
func deleting(x *Member)   { x.Deleting = true }
func conflicted(x *Member) { x.Conflicted = true }
func validatingFor(d time.Duration) func(*Member) {
	return func(x *Member) { x.ValidatingFor = d }
}

func TestAdmit(t *testing.T) {
	cases := []struct {
		name          string
		o             Observation
		wantCurrent   string
		wantHalted    bool
		wantSuspended string
	}{
		{"nothing to roll out", Observation{Members: []Member{m("a", Settled), m("b", Settled)}}, "", false, ""},
		{"first queued in name order", Observation{Members: []Member{m("c", Staged), m("b", Staged), m("a", Settled)}}, "b", false, ""},
		{"one rotating blocks the next", Observation{Members: []Member{m("a", Rotating), m("b", Staged)}}, "", false, ""},
		{"maxConcurrent 2", Observation{MaxConcurrent: 2, Members: []Member{m("a", Rotating), m("b", Staged), m("c", Staged)}}, "b", false, ""},
		{"a failure halts the members after it", Observation{HaltOnFailure: true, Members: []Member{m("a", Failed), m("b", Staged)}}, "", true, ""},
		{"members before the failed one go on", Observation{HaltOnFailure: true, Members: []Member{m("a", Staged), m("b", Failed), m("c", Staged)}}, "a", true, ""},
		{"halting off", Observation{Members: []Member{m("a", Failed), m("b", Staged)}}, "b", false, ""},
		{"an acknowledged failure is passed", Observation{HaltOnFailure: true, Acknowledged: []string{"a"}, Members: []Member{m("a", Failed), m("b", Staged)}}, "b", false, ""},
		{"a validating member holds its place", Observation{Members: []Member{m("a", Validating, validatingFor(time.Minute)), m("b", Staged)}}, "a", false, ""},
		{"a member validating longer than the hold loses its place", Observation{Members: []Member{m("a", Validating, validatingFor(ValidationHold+time.Second)), m("b", Staged)}}, "b", false, ""},
		{"a validating member waits behind a rotating one and keeps its place", Observation{Members: []Member{m("a", Validating), m("b", Staged), m("c", Rotating)}}, "", false, ""},
		{"a suspended staged member takes no slot and is named", Observation{Members: []Member{m("a", Staged, suspended), m("b", Staged)}}, "b", false, "a"},
		{"a suspended rotating member holds no slot", Observation{Members: []Member{m("a", Rotating, suspended), m("b", Staged)}}, "b", false, "a"},
		{"a suspended validating member holds no place", Observation{Members: []Member{m("a", Validating, suspended), m("b", Staged)}}, "b", false, "a"},
		{"a suspended failed member still halts", Observation{HaltOnFailure: true, Members: []Member{m("a", Failed, suspended), m("b", Staged)}}, "", true, "a"},
		{"a member being deleted takes no slot", Observation{Members: []Member{m("a", Staged, deleting), m("b", Staged)}}, "b", false, ""},
		{"a member of two fleets takes no slot", Observation{Members: []Member{m("a", Staged, conflicted), m("b", Staged)}}, "b", false, ""},
		{"pause: granted members keep their grant", Observation{Paused: true, MaxConcurrent: 2, Granted: []string{"a", "b"}, Members: []Member{m("a", Staged), m("b", Staged)}}, "a,b", false, ""},
		{"pause: a member queued since, earlier in line, ends later grants", Observation{Paused: true, Granted: []string{"b"}, Members: []Member{m("a", Staged), m("b", Staged)}}, "", false, ""},
		{"pause: no new grant", Observation{Paused: true, Members: []Member{m("a", Staged)}}, "", false, ""},
		{"more rotating than allowed grants nobody", Observation{Members: []Member{m("a", Rotating), m("b", Rotating), m("c", Staged)}}, "", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Admit(tc.o)
			if got := strings.Join(d.Current, ","); got != tc.wantCurrent {
				t.Errorf("current = %q, want %q", got, tc.wantCurrent)
			}
			if d.Halted != tc.wantHalted {
				t.Errorf("halted = %v, want %v", d.Halted, tc.wantHalted)
			}
			if got := strings.Join(d.Suspended, ","); got != tc.wantSuspended {
				t.Errorf("suspended = %q, want %q", got, tc.wantSuspended)
			}
		})
	}
}

func TestRulesCoverEveryStanding(t *testing.T) {
	for _, st := range []State{Settled, Validating, Staged, Rotating, Failed, Apart} {
		r, ok := Rules[st]
		if !ok {
			t.Errorf("no rule for %s", st)
		}
		if r.HoldsSlot && r.Queues {
			t.Errorf("%s both holds a slot and queues", st)
		}
	}
	if len(Rules) != 6 {
		t.Errorf("the table has %d rules, want one per standing", len(Rules))
	}
}
