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

package rotation

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The exploration models one connection's rotation as a state: what status holds, what the
// three Secrets hold, the world around them (source, server, fleet turn, workload health,
// time) and the controller's memory within one reconcile. From every reachable state it
// tries every change of the world and every single write the controller makes next, and a
// crash (the memory is lost) between any two writes, and checks the invariants in each.

// Bundles: 0 is none; 1 is revision 1 at endpoint 1 (the first active one), 2 revision 1 at
// endpoint 2 (a changed apiVersion: no new sign-in), 3 revision 2 (a good new PAT that may
// also be throttled, or revoked while it waits), 4 revision 3 (a PAT that never signs in).
type bid uint8

var bundles = []Bundle{{}, {"r1", "e1"}, {"r1", "e2"}, {"r2", "e1"}, {"r3", "e1"}}

func (b bid) bundle() Bundle { return bundles[b] }
func (b bid) rev() string    { return bundles[b].Revision }
func idOf(b Bundle) bid {
	for i, x := range bundles {
		if x == b {
			return bid(i)
		}
	}
	panic(fmt.Sprint("unknown bundle ", b))
}

type secret struct {
	exists, foreign bool
	holds           bid
	// stale: a bundle of the auth method the spec no longer uses (auth switched).
	stale bool
}

func (s secret) copy() Copy {
	return Copy{Exists: s.exists, Ours: s.exists && !s.foreign, Holds: s.holds.bundle()}
}

type state struct {
	// persisted
	phase                                 Phase
	active, candidate, previous, rejected bid
	expired                               bool // time in phase exceeds the gate timeout
	consumer, cand, prev                  secret
	restarted                             bool
	// world
	src                            bid // 0: the source Secret is missing
	verdict                        Validation
	serverOK, turn, healthy, tmiss bool
	// controller memory within one reconcile
	check   Validation
	pending Action
	// bookkeeping of the model
	passed uint8 // bit set of the bundle ids that passed the health gate
}

func (s state) source() Bundle { return s.src.bundle() }

func (s state) observe() Observation {
	return Observation{
		Phase: s.phase, HealthCheckTimeout: time.Minute, InPhase: map[bool]time.Duration{true: time.Hour}[s.expired],
		Records: Records{Active: s.active.bundle(), Candidate: s.candidate.bundle(), Previous: s.previous.bundle(), Rejected: s.rejected.bundle()},
		Source:  s.source(), SourceValidation: s.verdict, ServerOK: s.serverOK,
		Consumer: s.consumer.copy(), Candidate: s.cand.copy(), Previous: s.prev.copy(),
		Turn: s.turn, TargetsMissing: s.tmiss, Restarted: s.restarted, RolledOut: s.restarted && s.healthy && !s.tmiss,
		CheckBeforePromotion: true, Check: s.check,
		CandidateUnusable: s.phase == Promoting && s.cand.exists && !s.cand.foreign && s.cand.stale,
	}
}

func verdictsFor(b bid) []Validation {
	switch b {
	case 0:
		return []Validation{Unreadable}
	case 1, 2:
		return []Validation{Valid}
	case 3:
		return []Validation{Pending, Valid, Transient, Rejected}
	default: // revision 3 never signs in
		return []Validation{Pending, Transient, Rejected}
	}
}

// worldMove is one change of the world, named for the count the exploration prints.
type worldMove struct {
	name string
	next state
}

// world lists the changes of the world possible in s.
func world(s state) []worldMove {
	var out []worldMove
	name := ""
	add := func(f func(*state)) { n := s; f(&n); out = append(out, worldMove{name, n}) }
	for b := range bid(len(bundles)) {
		for _, v := range verdictsFor(b) {
			if b != s.src || v != s.verdict {
				name = "source edited (new PAT, apiVersion, auth switch) or validated"
				add(func(n *state) { n.src, n.verdict = b, v })
			}
		}
	}
	name = "server up or down"
	add(func(n *state) { n.serverOK = !n.serverOK })
	name = "fleet turn given or taken"
	add(func(n *state) { n.turn = !n.turn })
	name = "workload healthy or not"
	add(func(n *state) { n.healthy = !n.healthy })
	name = "restart target created or deleted"
	add(func(n *state) { n.tmiss = !n.tmiss })
	if s.phase == Gating && !s.expired {
		name = "gate timeout reached"
		add(func(n *state) { n.expired = true })
	}
	// A person (a clean-up job, an Argo CD prune) deletes one of the operator's Secrets, or
	// takes a free name with a Secret of their own.
	if s.consumer.exists && !s.consumer.foreign {
		name = "consumer Secret deleted"
		add(func(n *state) { n.consumer = secret{} })
	}
	if s.consumer.exists && !s.consumer.foreign && s.consumer.holds != 4 {
		// Restored from an old backup, or edited by hand: the operator's mark stays, the
		// bundle is one that never signed in.
		name = "consumer Secret restored from an old backup"
		add(func(n *state) { n.consumer.holds = 4 })
	}
	if s.cand.exists && !s.cand.foreign {
		name = "candidate Secret deleted"
		add(func(n *state) { n.cand = secret{} })
	}
	if s.prev.exists && !s.prev.foreign {
		name = "previous Secret deleted"
		add(func(n *state) { n.prev = secret{} })
	}
	// spec.consumers.secretName renamed: the three names are new, and free.
	if s.consumer.exists || s.cand.exists || s.prev.exists {
		name = "consumers.secretName renamed"
		add(func(n *state) { n.consumer, n.cand, n.prev = secret{}, secret{}, secret{} })
	}
	// spec.auth switched between a PAT and a connected app while a candidate waits: the
	// candidate copy holds a bundle of the old method, and the source a new revision.
	if s.phase == Promoting && s.cand.exists && !s.cand.foreign && !s.cand.stale {
		name = "auth switched while a candidate waits"
		add(func(n *state) { n.cand.stale, n.src, n.verdict = true, 3, Pending })
	}
	// A target added to spec.consumers.restartTargets does not carry the rotation's stamp.
	// (A removed one is no longer observed: the other moves of healthy cover it.) Suspend
	// stops the controller's steps while the world goes on: a crash and no steps.
	if s.restarted {
		name = "restart target added"
		add(func(n *state) { n.restarted = false })
	}
	foreign := s.consumer.foreign || s.cand.foreign || s.prev.foreign
	for i, p := range []*secret{&s.consumer, &s.cand, &s.prev} {
		if p.foreign {
			name = "foreign Secret removed"
			add(func(n *state) { *[]*secret{&n.consumer, &n.cand, &n.prev}[i] = secret{} })
		}
		if !p.exists && !foreign {
			name = "foreign Secret takes a name"
			add(func(n *state) { *[]*secret{&n.consumer, &n.cand, &n.prev}[i] = secret{exists: true, foreign: true} })
		}
	}
	return out
}

type explorer struct {
	t      *testing.T
	seen   map[state]bool
	queue  []state
	checks int
	moves  map[string]int // moves tried, by kind
}

func (e *explorer) fail(s state, format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("%s\nstate: %+v", fmt.Sprintf(format, args...), s)
}

// canonical sets the facts the planner ignores in a phase to one value: the world may
// change them at any moment, so every value stays reachable where it matters, and the
// exploration does not count one state many times over.
func canonical(s state) state {
	if s.phase != Staged {
		s.turn, s.tmiss = true, false
	}
	if s.phase != Gating {
		s.healthy, s.expired = true, false
	}
	if s.phase != Restarting && s.phase != Gating && s.phase != RollingBack {
		s.restarted = false
	}
	if s.phase != Promoting {
		s.check = Pending
	}
	if s.phase != Promoting && s.phase != Staged && s.pending == None {
		// A stale candidate copy is only deleted or overwritten from here on.
		s.cand.stale = false
	}
	if s.pending == None && (s.phase == Restarting || s.phase == Gating || s.phase == Completing || s.phase == RollingBack) {
		s.src, s.verdict, s.serverOK = 1, Valid, true
	}
	return s
}

func (e *explorer) visit(s state) {
	s = canonical(s)
	if !e.seen[s] {
		e.seen[s] = true
		e.queue = append(e.queue, s)
	}
}

// controller returns the states after the controller's next single write (or Tableau call).
func (e *explorer) controller(s state) []state {
	if s.pending != None {
		return e.apply(s, s.pending)
	}
	o := s.observe()
	st := Plan(o)
	e.checks++
	if !Allowed(o.Phase, st.Phase) {
		e.fail(s, "Plan moved %s -> %s, which the table does not allow", o.Phase, st.Phase)
	}
	if st.Settled(o) {
		return nil
	}
	if p := target(&s, st.Action); p != nil && p.exists && p.foreign {
		e.fail(s, "Plan chose %s on a Secret that is not the operator's", st.Action)
	}
	if st.Action == StageCandidate {
		if o.SourceValidation != Valid || o.Source != st.Records.Candidate {
			e.fail(s, "stages a bundle validation did not pass")
		}
	}
	if st.Phase == o.Phase && st.Records == o.Records && !st.Restamp {
		return e.apply(s, st.Action) // nothing to persist
	}
	n := s
	if st.Phase != s.phase || st.Restamp {
		n.expired = false // the phase time is taken when it is persisted
	}
	if st.Restamp {
		n.restarted = false
	}
	if st.Phase == Completing && !(s.phase == Gating && o.RolledOut) {
		e.fail(s, "Completing entered without the gate passing")
	}
	if st.Phase == Completing {
		n.passed |= 1 << s.candidate
	}
	if s.phase == Gating && st.Phase == RollingBack && !s.restarted {
		e.fail(s, "the gate timed out on a restart target the rotation never restarted")
	}
	n.phase = st.Phase
	n.active, n.candidate, n.previous, n.rejected = idOf(st.Records.Active), idOf(st.Records.Candidate), idOf(st.Records.Previous), idOf(st.Records.Rejected)
	n.pending = st.Action
	if st.Phase != s.phase {
		n.check = Pending
	}
	return []state{n}
}

// target is the Secret an action writes or deletes.
func target(s *state, a Action) *secret {
	switch a {
	case StageCandidate, DeleteCandidate:
		return &s.cand
	case SavePrevious, DeletePrevious:
		return &s.prev
	case PromoteCandidate, RestorePrevious:
		return &s.consumer
	}
	return nil
}

// apply performs one action and checks the invariants about writes.
func (e *explorer) apply(s state, a Action) []state {
	n := s
	n.pending = None
	if p := target(&n, a); p != nil && p.exists && p.foreign {
		// Taken since the plan: the controller's guard (the mark, checked under a
		// resourceVersion precondition) refuses the write.
		return []state{n}
	}
	switch a {
	case StageCandidate:
		if s.src != s.candidate {
			// The source changed between plan and action: the controller writes only the
			// revision it planned, so nothing is written.
			return []state{n}
		}
		n.cand = secret{exists: true, holds: s.src}
	case CheckCandidate:
		if s.cand.stale {
			e.fail(s, "signs in with a candidate of the auth method the spec no longer uses")
		}
		c := s.candidate
		if c == 0 || c.rev() == s.active.rev() || (s.consumer.exists && s.consumer.holds.rev() == c.rev()) {
			e.fail(s, "signs in with revision %s, which consumers hold", c.rev())
		}
		var out []state
		for _, v := range []Validation{Valid, Transient, Rejected} {
			m := n
			m.check = v
			out = append(out, m)
		}
		return out
	case SavePrevious:
		if !s.consumer.exists || s.consumer.foreign || s.consumer.holds != s.previous {
			// The controller copies only from a Secret that is its own and holds the
			// bundle the persisted step planned.
			return []state{n}
		}
		n.prev = secret{exists: true, holds: s.consumer.holds}
	case PromoteCandidate:
		if !s.cand.exists || s.cand.foreign || s.cand.holds != s.candidate {
			return []state{n}
		}
		if s.cand.stale {
			e.fail(s, "promoted a candidate of the auth method the spec no longer uses")
		}
		if s.check != Valid && s.candidate.rev() != s.active.rev() && !(s.consumer.exists && s.consumer.holds.rev() == s.candidate.rev()) {
			e.fail(s, "promoted a candidate the check right before promotion did not pass")
		}
		n.consumer = secret{exists: true, holds: s.cand.holds}
		if n.consumer.holds == 4 {
			e.fail(s, "promoted bundle 4, which was never validated, into the consumer Secret")
		}
	case RestorePrevious:
		if !s.prev.exists || s.prev.foreign {
			return []state{n}
		}
		n.consumer = secret{exists: true, holds: s.prev.holds}
		if n.consumer.holds == 4 {
			e.fail(s, "rolled the consumer Secret back to bundle 4, which was never validated")
		}
	case RestartTargets:
		n.restarted = true
	case DeleteCandidate:
		n.cand = secret{}
	case DeletePrevious:
		p := s.prev.holds
		kept := s.consumer.exists && s.consumer.holds == p
		successorPassed := s.phase == Completing || (s.consumer.exists && s.passed&(1<<s.consumer.holds) != 0)
		if s.prev.exists && !kept && !successorPassed {
			e.fail(s, "drops the previous bundle %d before its successor passed the gate", p)
		}
		n.prev = secret{}
	default:
		e.fail(s, "unknown action %q", a)
	}
	return []state{n}
}

func (e *explorer) invariants(s state) {
	// Only validated bundles are staged (checked where Plan stages one), and bundle 4
	// never passes validation: the operator never writes it into the consumer Secret
	// (checked where it writes); a person may.
	// ConsumersReady (and so Ready) is True only when the consumer Secret observed now is
	// the operator's and holds a validated bundle.
	if Consumers(s.observe()) == ConsumersHold {
		if c := s.consumer; !c.exists || c.foreign || c.holds == 0 || c.holds == 4 {
			e.fail(s, "consumers are reported ready while the consumer Secret is %+v", c)
		}
	}
	if !s.consumer.exists && s.active != 0 && Consumers(s.observe()) == ConsumersHold {
		e.fail(s, "a deleted consumer Secret is reported ready")
	}
}

// settles checks that without a change of the world the controller stops writing.
func (e *explorer) settles(s state) {
	for i := 0; i < 40; i++ {
		next := e.controller(s)
		if next == nil {
			return
		}
		s = next[0] // the check passes
	}
	e.fail(s, "the controller does not settle without a change of the world")
}

func TestExploreEveryReachableState(t *testing.T) {
	e := &explorer{t: t, seen: map[state]bool{}, moves: map[string]int{}}
	// Start: revision 1 at endpoint 1 is active and in the consumer Secret, validated and
	// past its gate; a first rollout (no consumer yet) is explored from the second start.
	v1 := bid(1)
	base := state{phase: Idle, active: v1, consumer: secret{exists: true, holds: v1}, src: v1, verdict: Valid,
		serverOK: true, turn: true, healthy: true, passed: 1 << v1}
	first := state{phase: Idle, src: v1, verdict: Valid, serverOK: true, turn: true, healthy: true}
	e.visit(base)
	e.visit(first)
	for len(e.queue) > 0 {
		if len(e.seen) > 20000000 {
			t.Fatalf("more than 20M states: the model grew too large")
		}
		s := e.queue[0]
		e.queue = e.queue[1:]
		e.invariants(s)
		e.settles(s)
		for _, n := range e.controller(s) {
			e.moves["operator step"]++
			e.visit(n)
		}
		if s.pending != None || s.check != Pending {
			crashed := s
			crashed.pending, crashed.check = None, Pending
			e.moves["crash"]++
			e.visit(crashed)
		}
		for _, m := range world(s) {
			e.moves[m.name]++
			e.visit(m.next)
		}
	}
	phases := map[Phase]int{}
	for s := range e.seen {
		phases[s.phase]++
	}
	for _, p := range Phases {
		if phases[p] == 0 {
			t.Errorf("phase %s was never reached", p)
		}
	}
	t.Logf("explored %d states (%d plans); by phase: %v", len(e.seen), e.checks, phases)
	fmt.Printf("rotation: explored %d reachable states\n", len(e.seen))
	names := make([]string, 0, len(e.moves))
	for n := range e.moves {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if e.moves[n] == 0 {
			t.Errorf("move %q was never tried", n)
		}
		fmt.Printf("rotation: move %-62s tried %d times\n", n, e.moves[n])
	}
}

// TestTransitionTableIsDocumented checks that the table in Transitions' doc comment is the
// table the code uses.
func TestTransitionTableIsDocumented(t *testing.T) {
	src, err := os.ReadFile("phase.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^//\t(\w+)\s+([\w, ]+)$`)
	documented := map[Phase][]Phase{}
	for _, m := range row.FindAllStringSubmatch(string(src), -1) {
		if m[1] == "from" {
			continue
		}
		for _, to := range strings.Split(m[2], ",") {
			documented[Phase(m[1])] = append(documented[Phase(m[1])], Phase(strings.TrimSpace(to)))
		}
	}
	if fmt.Sprint(documented) != fmt.Sprint(Transitions) {
		t.Errorf("the documented table\n%v\ndiffers from Transitions\n%v", documented, Transitions)
	}
	// The README shows the same table to users.
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mdRow := regexp.MustCompile(`(?m)^\| (\w+) \| ([\w, ]+) \|$`)
	inReadme := map[Phase][]Phase{}
	for _, m := range mdRow.FindAllStringSubmatch(string(readme), -1) {
		if _, known := Transitions[Phase(m[1])]; !known {
			continue
		}
		for _, to := range strings.Split(m[2], ",") {
			inReadme[Phase(m[1])] = append(inReadme[Phase(m[1])], Phase(strings.TrimSpace(to)))
		}
	}
	if fmt.Sprint(inReadme) != fmt.Sprint(Transitions) {
		t.Errorf("the README's table\n%v\ndiffers from Transitions\n%v", inReadme, Transitions)
	}
}
