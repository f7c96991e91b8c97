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
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The exploration models a fleet of three members and the world around it. From every
// reachable state it tries every move: the fleet reconciling (it persists Admit's decision as
// the grant members read), each member's operator step, and what people and Tableau do
// between any two steps: a source changed (a new PAT, slow to validate or rejected), time
// passing beyond the validation hold, a member suspended or unsuspended, its labels changed
// so it leaves or joins the fleet, the fleet's selector edited, a member deleted, a resume.
// It checks the invariants of the wave in every state.

const nMembers = 3

var names = [nMembers]string{"a", "b", "c"}

type phase uint8

const (
	pSettled phase = iota
	pValidating
	pStaged
	pRotating
	pFailed
)

var phaseState = map[phase]State{pSettled: Settled, pValidating: Validating, pStaged: Staged, pRotating: Rotating, pFailed: Failed}

type member struct {
	phase     phase
	expired   bool // validating longer than the hold
	suspended bool
	out       bool // not selected by the fleet (labels or selector)
	deleted   bool
	acked     bool
	// resumed: it was rotating when it was suspended or left the fleet and came back
	// mid-rotation; its rotation must finish whatever the wave's count says.
	resumed bool
	// seen: the fleet reconciled since the member last changed.
	seen bool
}

type world struct {
	m       [nMembers]member
	granted uint8 // the grant the fleet persisted, a bit per member
	paused  bool
}

type params struct {
	maxConcurrent int
	pause         bool
	// members explored (2 or 3); the others are deleted from the start.
	members int
}

func (w world) observation(p params) Observation {
	o := Observation{MaxConcurrent: p.maxConcurrent, HaltOnFailure: true, Paused: w.paused}
	for i, x := range w.m {
		if w.granted&(1<<i) != 0 {
			o.Granted = append(o.Granted, names[i])
		}
		if x.out || x.deleted {
			continue
		}
		mem := Member{Name: names[i], State: phaseState[x.phase], Suspended: x.suspended}
		if x.phase == pValidating && x.expired {
			mem.ValidatingFor = ValidationHold + 1
		}
		o.Members = append(o.Members, mem)
		if x.acked {
			o.Acknowledged = append(o.Acknowledged, names[i])
		}
	}
	return o
}

// eligible: in the fleet and able to move on its own.
func (x member) eligible() bool { return !x.out && !x.deleted && !x.suspended }

// queued: it waits in order for a slot.
func (x member) queued() bool {
	return x.eligible() && (x.phase == pStaged || (x.phase == pValidating && !x.expired))
}

type move struct {
	name string
	next world
}

func (w world) moves(p params, admit func(Observation) Decision) []move {
	var out []move
	add := func(name string, n world) { out = append(out, move{name, n}) }

	// The fleet reconciles: it persists the decision; every member is seen.
	n := w
	n.granted = 0
	for _, name := range admit(w.observation(p)).Current {
		n.granted |= 1 << slices.Index(names[:], name)
	}
	for i := range n.m {
		n.m[i].seen = true
	}
	add("fleet reconciles", n)
	// The fleet reconciles and writes nothing when the grants it ends are only those of
	// members that started to rotate since (OnlyStartedLeft): they stay persisted.
	var persisted []string
	for i := range names {
		if w.granted&(1<<i) != 0 {
			persisted = append(persisted, names[i])
		}
	}
	if n.granted != w.granted && OnlyStartedLeft(persisted, admit(w.observation(p))) {
		n := n
		n.granted = w.granted
		add("fleet reconciles, the started members' grants ride", n)
	}
	if w.paused {
		n := w
		n.paused = false
		add("the pause is over", n)
	}
	// A resume acknowledges every failed member.
	n = w
	for i := range n.m {
		if n.m[i].phase == pFailed {
			n.m[i].acked = true
		}
	}
	add("resume annotation", n)

	for i, x := range w.m {
		set := func(name string, f func(*member)) {
			n := w
			y := n.m[i]
			f(&y)
			y.seen = false
			if y.deleted {
				y = member{deleted: true, seen: true}
			}
			if y.phase == pSettled || y.phase == pRotating {
				// Whether the fleet saw it matters only while it queues or failed.
				y.seen = true
			}
			if y.phase != pRotating {
				y.resumed = false
			}
			if y.phase != pFailed {
				y.acked = false
			}
			n.m[i] = y
			add(names[i]+": "+name, n)
		}
		if x.deleted {
			continue
		}
		// The operator's steps: a suspended member makes none.
		if !x.suspended {
			switch x.phase {
			case pValidating:
				set("validated, staged", func(y *member) { y.phase, y.expired = pStaged, false })
				set("rejected", func(y *member) { y.phase, y.expired = pFailed, false })
			case pStaged:
				// It promotes when the fleet's persisted grant names it, or when no fleet
				// selects it.
				if x.out || w.granted&(1<<i) != 0 {
					set("promotes", func(y *member) { y.phase = pRotating })
				}
			case pRotating:
				n := w
				n.paused = p.pause
				y := x
				y.phase, y.resumed, y.seen = pSettled, false, true
				n.m[i] = y
				add(names[i]+": completes", n)
				set("rolls back", func(y *member) { y.phase = pFailed })
			}
		}
		// What people and Tableau do.
		if x.phase != pRotating {
			set("source changed", func(y *member) { y.phase, y.expired = pValidating, false })
		}
		if x.phase == pValidating && !x.expired {
			set("validation outlasts the hold", func(y *member) { y.expired = true })
		}
		set("suspend toggled", func(y *member) {
			y.suspended = !y.suspended
			if !y.suspended && !y.out && y.phase == pRotating {
				y.resumed = true
			}
		})
		set("labels changed (leaves or joins)", func(y *member) {
			y.out = !y.out
			if !y.out && y.phase == pRotating {
				y.resumed = true
			}
		})
		set("deleted", func(y *member) { y.deleted = true })
	}
	// The selector edited: any other set of members selected at once.
	for sel := 0; sel < 1<<nMembers; sel++ {
		n := w
		changed := false
		for i := range n.m {
			out := sel&(1<<i) == 0
			if n.m[i].out != out && !n.m[i].deleted {
				changed = true
				n.m[i].out, n.m[i].seen = out, n.m[i].phase == pSettled || n.m[i].phase == pRotating
				if !out && n.m[i].phase == pRotating {
					n.m[i].resumed = true
				}
			}
		}
		if changed {
			add(fmt.Sprintf("selector edited to %03b", sel), n)
		}
	}
	return out
}

// check returns the invariant a state breaks, or "".
func (w world) check(p params, admit func(Observation) Decision) string {
	o := w.observation(p)
	d := admit(o)
	idx := func(name string) int { return slices.Index(names[:], name) }
	// held: the slots the world's members hold (rotating, in the fleet, not suspended),
	// counted from the world, never from the decision under test.
	rotating, held := 0, 0
	for _, x := range w.m {
		if x.eligible() && x.phase == pRotating {
			held++
			if !x.resumed {
				rotating++
			}
		}
	}
	if rotating > p.maxConcurrent {
		return fmt.Sprintf("%d members rotate at once, more than maxConcurrent %d", rotating, p.maxConcurrent)
	}
	for _, name := range d.Current {
		if !w.m[idx(name)].eligible() {
			return fmt.Sprintf("%s holds a slot while suspended, deleted or outside the fleet", name)
		}
	}
	newly := 0
	for _, name := range d.Current {
		i := idx(name)
		if !w.m[i].queued() {
			continue
		}
		newly++
		// A later member never overtakes one that holds its place.
		for j := 0; j < i; j++ {
			if w.m[j].queued() && !slices.Contains(d.Current, names[j]) {
				return fmt.Sprintf("%s is granted before %s, which holds its place", name, names[j])
			}
		}
		for j := 0; j < i; j++ {
			if y := w.m[j]; !y.out && !y.deleted && y.phase == pFailed && !y.acked {
				return fmt.Sprintf("%s is granted after %s failed", name, names[j])
			}
		}
	}
	if newly > 0 && held+newly > max(p.maxConcurrent, 1) {
		return fmt.Sprintf("%d rotating and %d granted, more than maxConcurrent %d", held, newly, p.maxConcurrent)
	}
	// Progress: a wave with room, not halted before it and not paused, grants its first
	// queued member; no immobile member holds it.
	if !w.paused && held < max(p.maxConcurrent, 1) {
		for i, x := range w.m {
			if !x.queued() {
				continue
			}
			blocked := false
			for j := 0; j < i; j++ {
				if y := w.m[j]; !y.out && !y.deleted && y.phase == pFailed && !y.acked {
					blocked = true
				}
			}
			if !blocked && !slices.Contains(d.Current, names[i]) {
				return fmt.Sprintf("the wave has room but %s, first in line, is not granted", names[i])
			}
			break
		}
	}
	// In the world: a member promotes only in order, never past a failure the fleet saw.
	for i, x := range w.m {
		if x.phase != pStaged || x.out || x.suspended || w.granted&(1<<i) == 0 {
			continue
		}
		for j := 0; j < i; j++ {
			y := w.m[j]
			if !y.seen || y.out || y.deleted {
				continue
			}
			if y.queued() && w.granted&(1<<j) == 0 {
				return fmt.Sprintf("%s may promote while %s, before it, holds its place ungranted", names[i], names[j])
			}
			if y.phase == pFailed && !y.acked {
				return fmt.Sprintf("%s may promote after %s failed", names[i], names[j])
			}
		}
	}
	return ""
}

type result struct {
	states, transitions int
	moves               map[string]bool
	violation           string
	trace               []string
}

func explore(p params, admit func(Observation) Decision) result {
	start := world{}
	for i := range start.m {
		start.m[i].seen = true
		start.m[i].deleted = i >= p.members
	}
	type edge struct {
		from world
		move string
	}
	parent := map[world]edge{start: {}}
	queue := []world{start}
	res := result{moves: map[string]bool{}}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		res.states++
		if v := cur.check(p, admit); v != "" {
			res.violation = v
			for w := cur; w != start; w = parent[w].from {
				res.trace = append([]string{parent[w].move}, res.trace...)
			}
			return res
		}
		for _, mv := range cur.moves(p, admit) {
			res.transitions++
			kind := mv.name
			if len(kind) > 3 && kind[1] == ':' {
				kind = kind[3:]
			}
			if strings.HasPrefix(kind, "selector edited") {
				kind = "selector edited"
			}
			res.moves[kind] = true
			if _, ok := parent[mv.next]; !ok {
				parent[mv.next] = edge{cur, mv.name}
				queue = append(queue, mv.next)
			}
		}
	}
	return res
}

func TestExploreTheWave(t *testing.T) {
	for _, p := range []params{{1, false, 2}, {1, true, 2}, {2, false, 3}} {
		t.Run(fmt.Sprintf("members=%d,maxConcurrent=%d,pause=%v", p.members, p.maxConcurrent, p.pause), func(t *testing.T) {
			if p.members == 3 && testing.Short() {
				t.Skip("three members take a minute")
			}
			res := explore(p, Admit)
			if res.violation != "" {
				t.Fatalf("%s after: %v", res.violation, res.trace)
			}
			var kinds []string
			for k := range res.moves {
				kinds = append(kinds, k)
			}
			slices.Sort(kinds)
			t.Logf("%d states, %d transitions, %d kinds of move: %v", res.states, res.transitions, len(kinds), kinds)
			if len(kinds) < 13+btoi(p.pause) {
				t.Errorf("only %d kinds of move explored", len(kinds))
			}
		})
	}
}

// The exploration finds the defects it guards against: admission that lets a suspended
// member hold a slot (the wave waits on it for good), and admission that lets a later member
// overtake one still validating.
func TestExplorationFindsTheDefects(t *testing.T) {
	suspendedHolds := func(o Observation) Decision {
		return admit(o, func(m Member) State {
			if m.Deleting || m.Conflicted {
				return Apart
			}
			return m.State
		})
	}
	validatingLoses := func(o Observation) Decision {
		return admit(o, func(m Member) State {
			if st := m.Standing(); st != Validating {
				return st
			}
			return Settled
		})
	}
	// A suspended member that was rotating keeps counting against maxConcurrent: the wave
	// has room it does not use.
	suspendedRotatingHolds := func(o Observation) Decision {
		return admit(o, func(m Member) State {
			if m.Suspended && m.State == Rotating {
				return Rotating
			}
			return m.Standing()
		})
	}
	for name, bad := range map[string]func(Observation) Decision{
		"suspended member holds a slot":          suspendedHolds,
		"suspended rotating member holds a slot": suspendedRotatingHolds,
		"validating member loses its place":      validatingLoses,
	} {
		t.Run(name, func(t *testing.T) {
			res := explore(params{1, false, 2}, bad)
			if res.violation == "" {
				t.Fatalf("the exploration of %d states found nothing", res.states)
			}
			t.Logf("found: %s after %v", res.violation, res.trace)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
