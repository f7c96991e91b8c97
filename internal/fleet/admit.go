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

// Package fleet decides a TableauFleet's wave: from what is observed of its members, which
// of them may rotate now. It is pure: the fleet controller observes the members, calls Admit,
// persists the decision in the fleet's status, and the members read it there.
package fleet

import (
	"slices"
	"strings"
	"time"
)

// ValidationHold bounds how long a member whose new revision is still validating holds its
// place in the wave, so one slow member cannot stop a fleet for good.
const ValidationHold = 10 * time.Minute

// State is where a member stands in its own rotation, as its status says.
type State string

// The states of a member.
const (
	// Settled: nothing to roll out.
	Settled State = "Settled"
	// Validating: the member's source changed and the new credential is being validated
	// (within the validation hold). It holds its place in order: a later member never
	// overtakes it before it is staged, rejected or the hold is over.
	Validating State = "Validating"
	// Staged: validated, waiting for its turn to promote.
	Staged State = "Staged"
	// Rotating: promoting, restarting, gating, completing or rolling back.
	Rotating State = "Rotating"
	// Failed: its candidate was rejected or its rotation rolled back.
	Failed State = "Failed"
	// Apart is no state of a member's rotation but its standing in the wave: a suspended
	// member, one being deleted, or one selected by another fleet too. It makes no move the
	// fleet paces, so it takes no slot and holds no place.
	Apart State = "Apart"
)

// Rule is what a member standing in a state does to the wave.
type Rule struct {
	// HoldsSlot: it counts against maxConcurrent, granted or not (it is already rotating).
	HoldsSlot bool
	// Queues: it waits in order for a slot, and holds its place against later members.
	Queues bool
}

// Rules is the one table of the wave: what each standing does. A Failed member halts the
// members after it (unless acknowledged); see Admit.
var Rules = map[State]Rule{
	Settled:    {},
	Validating: {Queues: true},
	Staged:     {Queues: true},
	Rotating:   {HoldsSlot: true},
	Failed:     {},
	Apart:      {},
}

// Member is what the fleet observed of one member.
type Member struct {
	Name  string
	State State
	// Suspended: spec.suspend is true. The member makes no move at all.
	Suspended bool
	// Deleting: the member is being deleted.
	Deleting bool
	// Conflicted: another fleet selects it too; it rotates under neither.
	Conflicted bool
	// ValidatingFor is how long a Validating member has been validating, from the moment
	// its change was seen (persisted) before the sign-in.
	ValidatingFor time.Duration
}

// Standing is the member's state as far as the wave is concerned.
func (m Member) Standing() State {
	if m.Suspended || m.Deleting || m.Conflicted {
		return Apart
	}
	if m.State == Validating && m.ValidatingFor > ValidationHold {
		// Validating too long: it gives up its place until it is staged.
		return Settled
	}
	return m.State
}

// Observation is what the fleet decides from.
type Observation struct {
	// Members in any order; the wave goes in name order.
	Members       []Member
	MaxConcurrent int
	HaltOnFailure bool
	// Acknowledged are failed members a resume let the wave pass.
	Acknowledged []string
	// Paused: the pause after the last completion is not over; only members granted
	// before it (Granted) keep their grant.
	Paused  bool
	Granted []string
}

// Decision is the wave's next state.
type Decision struct {
	// Current are the queued members granted a slot, in order: they may promote now.
	// Members already rotating hold their slots without a grant, so a member that completes
	// and stages again before the fleet looks has no grant left to promote with.
	Current []string
	// Halted: a failed member that is not acknowledged stops the members after it.
	Halted   bool
	Blocking []string
	// The members by standing, in order.
	Rotating, Queued, Validating, Failed, Suspended, Apart []string
}

// Admit decides which members may rotate now.
func Admit(o Observation) Decision {
	return admit(o, Member.Standing)
}

func admit(o Observation, standing func(Member) State) Decision {
	members := slices.Clone(o.Members)
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	maxConcurrent := max(o.MaxConcurrent, 1)
	var d Decision
	for _, m := range members {
		st := standing(m)
		rule := Rules[st]
		switch {
		case rule.HoldsSlot:
			d.Rotating = append(d.Rotating, m.Name)
		case rule.Queues:
			d.Queued = append(d.Queued, m.Name)
			if st == Validating {
				d.Validating = append(d.Validating, m.Name)
			}
		case st == Apart:
			d.Apart = append(d.Apart, m.Name)
		}
		if m.Suspended {
			d.Suspended = append(d.Suspended, m.Name)
		}
		// A failure halts whatever the member's standing: suspending a failed member is
		// not a decision to pass it (the resume annotation is).
		if m.State == Failed {
			d.Failed = append(d.Failed, m.Name)
			if !slices.Contains(o.Acknowledged, m.Name) {
				d.Blocking = append(d.Blocking, m.Name)
			}
		}
	}
	d.Halted = o.HaltOnFailure && len(d.Blocking) > 0
	slots := len(d.Rotating)
	for _, name := range d.Queued {
		if slots >= maxConcurrent {
			break
		}
		// A halted wave stops before its first failed member: members earlier in the order
		// go on, later ones keep their active credentials.
		if d.Halted && name > d.Blocking[0] {
			break
		}
		// During the pause only members granted before it keep their grant, in order: one
		// that queued since, earlier in line, ends the grants of those after it.
		if o.Paused && !slices.Contains(o.Granted, name) {
			break
		}
		// A queued member takes its slot even while it validates: if it then fails, the
		// halt comes before any later member promotes.
		d.Current = append(d.Current, name)
		slots++
	}
	return d
}
