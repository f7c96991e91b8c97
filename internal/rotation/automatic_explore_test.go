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
	"sort"
	"strings"
	"testing"
)

// The issue exploration models one connected app and the operator's records: the app's
// secrets on Tableau, the issued Secret, what consumers hold, the person's source Secret and
// status. The bundle planner is abstracted to its two outcomes (the new secret passes the
// gate and becomes active, or it is rejected). From every reachable state it tries every
// step with a crash after any single write: after the phase is persisted, and between the
// create call on Tableau and the write of the issued Secret; and a create call that Tableau
// refuses, throttles (429) or the call gate holds back, which creates nothing. Between any
// two steps a person may add a secret in Tableau's UI (also while a create is held back).
//
// The invariant "nothing deleted that the operator did not create": a secret a person made
// is deleted only as the retiring one (superseded by the operator's), or when it appeared
// while a create call that may have taken effect was outstanding (status's createSent): a
// crash in that call leaves a secret that is the operator's or the person's, and nothing
// tells them apart. Those deletions are counted and reported; after a held, refused or
// throttled create there are none.

type automaticWorld struct {
	phase    AutomaticPhase
	rec      AutomaticRecords
	app      string // sorted secret ids on the app, comma-separated
	issued   string
	active   string // what consumers hold once no rotation is under way (the previous copy's during one)
	consumer string // what the consumer Secret holds now
	source   string
	rejected bool // the bundle planner rejected the issued credential
	rotated  int  // completed or discarded rotations; Due only before the first
	nextID   int
	crashes  int // crashes between a create and its store, at most 2 (bounds the ids)
	// superseded: the issued Secret took over from the person's Secret; while the person's
	// Secret is unchanged, a missing issued Secret leaves the consumer's copy as the source.
	superseded bool
	retired    string // the secret the operator deleted as the retiring one
	pruned     bool   // the issued Secret was deleted once (bounds the ids)
	// heldBack: a create call was refused, throttled or held back once (bounds the states).
	heldBack bool
	// mark is the supersession annotation on the consumer Secret (Supersession.String), which
	// outlives the connection under deletionPolicy Retain.
	mark string
	// recreated: the connection was deleted and re-created once (an Argo CD prune and sync):
	// status and the issued Secret went with it, the consumer Secret and its mark stayed.
	recreated bool
	// lost are secrets the operator created that only the deleted connection's status knew
	// (created or issued, not yet promoted): the new connection cannot prove them its own.
	lost string
}

// exploredApp is the connected app's client id in the exploration.
const exploredApp = "app"

// wantMark is the mark the consumer Secret must carry while the issued credential supersedes
// the person's Secret.
func (w automaticWorld) wantMark() string {
	return Supersession{ClientID: exploredApp, SecretID: w.source}.String()
}

func (w automaticWorld) isLost(id string) bool {
	for _, l := range strings.Split(w.lost, ",") {
		if l != "" && l == id {
			return true
		}
	}
	return false
}

// recreate is the re-creation move: the new connection starts Idle with an empty status, its
// bundle planner finds the retained consumer Secret holding what consumers use, and it
// adopts the consumer Secret's mark (Adopts) before any sign-in.
func (c *automaticCheck) recreate(w automaticWorld) automaticWorld {
	n := w
	n.recreated, n.phase, n.rec, n.issued, n.rejected, n.rotated = true, AutomaticIdle, AutomaticRecords{}, "", false, 0
	n.active = w.consumer
	n.superseded = Adopts(true, w.mark, exploredApp, w.source)
	c.recreations++
	if n.superseded {
		c.adopted++
	}
	var lost []string
	for _, id := range w.appIDs() {
		if id != n.consumer && id != n.source && !personal(id) {
			lost = append(lost, id)
		}
	}
	n.lost = strings.Join(lost, ",")
	// A re-created connection signs in with the issued secret: what consumers hold, never the
	// person's Secret that the issued one superseded.
	if src := n.effectiveSource(); src != w.consumer {
		c.fail(w, "re-created, the connection's source is %s, not the consumer Secret's %s", src, w.consumer)
	}
	return n
}

// personal reports whether a secret id is one a person made (in the source Secret, or in
// Tableau's UI): "a" (the first secret the person gave), "p" and "q".
func personal(id string) bool { return id == "a" || id == "p" || id == "q" }

func (w automaticWorld) appIDs() []string {
	if w.app == "" {
		return nil
	}
	return strings.Split(w.app, ",")
}

func (w *automaticWorld) setApp(ids []string) {
	sort.Strings(ids)
	w.app = strings.Join(ids, ",")
}

func (w automaticWorld) onApp(id string) bool {
	for _, s := range w.appIDs() {
		if s == id {
			return true
		}
	}
	return false
}

// effectiveSource is what the bundle planner rolls out: the issued Secret when it exists.
func (w automaticWorld) effectiveSource() string {
	switch {
	case w.issued != "":
		return w.issued
	case w.superseded:
		return w.consumer
	}
	return w.source
}

func (w automaticWorld) observe(listed bool) AutomaticObservation {
	o := AutomaticObservation{Phase: w.phase, Records: w.rec, Due: w.rotated == 0,
		BundleIdle: w.effectiveSource() == w.active && !w.rejected && w.consumer == w.active,
		Active:     w.active, Consumer: w.consumer, Source: w.source, Issued: w.issued, IssuedRejected: w.rejected}
	if listed {
		o.Listed, o.OnApp = true, w.appIDs()
	}
	return o
}

type automaticCheck struct {
	t    *testing.T
	seen map[automaticWorld]bool
	// ambiguous counts deletions of a person's secret that appeared while a create call that
	// may have taken effect was outstanding.
	ambiguous int
	// recreations counts re-creation moves, adopted those that took over the consumer
	// Secret's supersession.
	recreations, adopted int
}

func (c *automaticCheck) fail(w automaticWorld, format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("state %+v: %s", w, fmt.Sprintf(format, args...))
}

// invariants that hold in every state.
func (c *automaticCheck) state(w automaticWorld) {
	if !w.onApp(w.consumer) {
		c.fail(w, "the secret in the consumer Secret (%s) is not on the app", w.consumer)
	}
	if !w.onApp(w.active) {
		c.fail(w, "the secret consumers hold (%s) is not on the app", w.active)
	}
	if len(w.appIDs()) > MaxAppSecrets {
		c.fail(w, "the app holds more than %d secrets", MaxAppSecrets)
	}
	if w.issued != "" && !w.onApp(w.issued) {
		c.fail(w, "the issued Secret holds %s, which is not on the app", w.issued)
	}
	if src := w.effectiveSource(); src != "" && src == w.retired {
		c.fail(w, "the retired secret %s is the bundle planner's source again", src)
	}
}

// person lists what a person (or Tableau's UI) does between any two operator steps: make a
// second secret on the app, delete it, delete the issued Secret (a prune, a rename), or
// delete and re-create the connection with the retained consumer Secret.
func (c *automaticCheck) person(w automaticWorld) []automaticWorld {
	var out []automaticWorld
	if !w.recreated {
		out = append(out, c.recreate(w))
	}
	if !w.onApp("q") && len(w.appIDs()) < MaxAppSecrets {
		n := w
		n.setApp(append(w.appIDs(), "q"))
		out = append(out, n)
	}
	if w.onApp("q") && w.active != "q" && w.consumer != "q" {
		n := w
		var rest []string
		for _, s := range w.appIDs() {
			if s != "q" {
				rest = append(rest, s)
			}
		}
		n.setApp(rest)
		out = append(out, n)
	}
	if w.issued != "" && !w.pruned {
		n := w
		n.issued, n.pruned = "", true
		out = append(out, n)
	}
	return out
}

// successors applies the next step (planning again after a listing), with every crash.
func (c *automaticCheck) successors(w automaticWorld) []automaticWorld {
	var out []automaticWorld
	if w.superseded && w.mark != w.wantMark() {
		// The credentials phase annotates the consumer Secret before anything else of the
		// reconcile runs (a refused write fails the reconcile): the mark is there before the
		// issued secret is promoted, and before the person's secret is retired.
		n := w
		n.mark = w.wantMark()
		return []automaticWorld{n}
	}
	// The bundle planner's outcomes: a rotation under way (the consumer Secret holds the
	// promoted secret) passes its gate or rolls back, whatever happens to the issued Secret;
	// the issued credential is promoted or rejected.
	switch {
	case w.consumer != w.active:
		pass := w
		pass.active = w.consumer
		back := w
		back.consumer, back.rejected = w.active, true
		out = append(out, pass, back)
	case w.issued != "" && w.issued != w.active && !w.rejected:
		promote := w
		promote.consumer = w.issued
		reject := w
		reject.rejected = true
		out = append(out, promote, reject)
	}
	if w.rejected && w.effectiveSource() == w.active && w.consumer == w.active {
		// Source restored: the bundle planner leaves Failed.
		r := w
		r.rejected = false
		out = append(out, r)
	}
	listed := false
	for range 3 {
		o := w.observe(listed)
		step := PlanAutomatic(o)
		if !AutomaticAllowed(o.Phase, step.Phase) {
			c.fail(w, "moved %s to %s, which AutomaticTransitions does not allow", o.Phase, step.Phase)
		}
		if step.Action == ListSecrets {
			if listed {
				c.fail(w, "asked to list twice")
			}
			listed = true
			continue
		}
		persisted := w
		persisted.phase, persisted.rec = step.Phase, step.Records
		if persisted.phase == AutomaticIdle && w.phase != AutomaticIdle && w.phase != "" {
			persisted.rotated++
		}
		changed := persisted != w
		switch step.Action {
		case AutomaticNone:
			if changed {
				out = append(out, persisted)
			}
			return out
		case DeleteSecret:
			if step.Secret == w.active || step.Secret == w.issued || step.Secret == w.consumer {
				c.fail(w, "deletes %s, which consumers or the issued Secret hold", step.Secret)
			}
			if step.Secret == w.source && step.Secret != w.rec.Retiring {
				c.fail(w, "deletes the source's secret %s, which is not the one retiring", step.Secret)
			}
			if step.Secret == w.rec.Retiring && w.active != w.rec.New {
				c.fail(w, "deletes the old secret %s before its successor passed the gate", step.Secret)
			}
			if personal(step.Secret) && step.Secret != w.rec.Retiring {
				// Nothing deleted that the operator did not create, but for a secret that
				// appeared while a create that may have taken effect was outstanding: that is
				// indistinguishable from the orphan of a crash in the call. Anything on the app
				// before the call, or after a call that created nothing, is never deleted.
				if w.rec.held(step.Secret) || w.phase != AutomaticCreating || !w.rec.CreateSent {
					c.fail(w, "deletes %s, a person's secret the operator did not create", step.Secret)
				}
				c.ambiguous++
			}
			done := persisted
			if step.Secret == w.rec.Retiring {
				done.retired = step.Secret
			}
			var rest []string
			for _, s := range w.appIDs() {
				if s != step.Secret {
					rest = append(rest, s)
				}
			}
			done.setApp(rest)
			out = append(out, done)
		case CreateSecret:
			if len(w.appIDs()) >= MaxAppSecrets {
				c.fail(w, "creates a third secret")
			}
			if !step.Records.CreateSent {
				c.fail(w, "creates a secret without persisting createSent first")
			}
			if !w.heldBack {
				// Refused, throttled or held back by the gate: Tableau created nothing, and the
				// controller records that (createSent cleared). A crash before that record is
				// "persisted" below.
				nothing := persisted
				nothing.rec.CreateSent, nothing.heldBack = false, true
				out = append(out, nothing)
			}
			created := persisted
			created.nextID++
			id := fmt.Sprintf("n%d", created.nextID)
			created.setApp(append(w.appIDs(), id))
			stored := created
			stored.issued, stored.superseded = id, true
			out = append(out, stored)
			if w.crashes < 2 {
				created.crashes++
				out = append(out, created) // a crash between the create call and the store
			}
		case RestoreIssued:
			r := persisted
			r.issued = w.consumer
			out = append(out, r)
		}
		if changed {
			out = append(out, persisted) // a crash right after the phase was persisted
		}
		return out
	}
	c.fail(w, "no step after listing")
	return nil
}

func TestIssueExploration(t *testing.T) {
	c := &automaticCheck{t: t, seen: map[automaticWorld]bool{}}
	starts := []automaticWorld{
		{phase: AutomaticIdle, app: "a", active: "a", consumer: "a", source: "a"},                                                            // the first rotation
		{phase: AutomaticIdle, app: "a", active: "a", consumer: "a", source: "s0", issued: "a", superseded: true, mark: exploredApp + "#s0"}, // a later one
		{phase: AutomaticIdle, app: "a,p", active: "a", consumer: "a", source: "a"},                                                          // a secret no one holds
		{phase: AutomaticIdle, app: "a,p", active: "a", consumer: "a", source: "p", issued: "a", superseded: true, mark: exploredApp + "#p"}, // a person's secret in the source
	}
	queue := append([]automaticWorld(nil), starts...)
	terminal := map[automaticWorld]bool{}
	edges := map[automaticWorld][]automaticWorld{}
	personMoves := 0
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		if c.seen[w] {
			continue
		}
		c.seen[w] = true
		c.state(w)
		next := c.successors(w)
		edges[w] = next
		if len(next) == 0 {
			terminal[w] = true
		}
		queue = append(queue, next...)
		moved := c.person(w)
		personMoves += len(moved)
		queue = append(queue, moved...)
	}
	for w := range terminal {
		switch {
		case w.phase == AutomaticStalled:
			// Stalled only on a full app whose other secret a person made.
			if len(w.appIDs()) < MaxAppSecrets || !w.onApp(w.active) {
				c.fail(w, "stalled with app %s", w.app)
			}
			for _, id := range w.appIDs() {
				if id != w.active && !personal(id) && !w.isLost(id) {
					c.fail(w, "stalled though the app holds %s, which the operator created", id)
				}
			}
		case w.phase == AutomaticIdle && w.rotated > 0:
			// Only the active secret and what persons made remain: no orphan of a create.
			for _, id := range w.appIDs() {
				if id != w.active && !personal(id) && !w.isLost(id) {
					c.fail(w, "ends with secret %s on the app, which no one holds", id)
				}
			}
			if w.issued != w.active && w.issued != "" {
				c.fail(w, "ends with the issued Secret holding %s, consumers %s", w.issued, w.active)
			}
		default:
			c.fail(w, "stuck in %s", w.phase)
		}
	}
	// Every state reaches an end: no livelock.
	reaches := map[automaticWorld]bool{}
	for w := range terminal {
		reaches[w] = true
	}
	for changed := true; changed; {
		changed = false
		for w, next := range edges {
			if reaches[w] {
				continue
			}
			for _, n := range next {
				if reaches[n] {
					reaches[w], changed = true, true
					break
				}
			}
		}
	}
	for w := range c.seen {
		if !reaches[w] {
			c.fail(w, "cannot reach an end")
		}
	}
	t.Logf("explored %d automatic-rotation states, %d ends", len(c.seen), len(terminal))
	fmt.Printf("issue exploration: %d states, %d ends, %d moves of a person (a secret made or deleted in Tableau's UI, the issued Secret deleted), %d deletions of a person's secret made while a create that may have taken effect was outstanding (a crash in the call), %d re-creations with retained Secrets (%d adopting the consumer Secret's supersession)\n",
		len(c.seen), len(terminal), personMoves, c.ambiguous, c.recreations, c.adopted)
}

// TestIssueTransitionsDocumented checks the table in AutomaticTransitions' comment against the map.
func TestIssueTransitionsDocumented(t *testing.T) {
	for _, p := range AutomaticPhases {
		if _, ok := AutomaticTransitions[p]; !ok {
			t.Errorf("phase %s has no row in AutomaticTransitions", p)
		}
	}
	if len(AutomaticTransitions) != len(AutomaticPhases) {
		t.Errorf("AutomaticTransitions has %d rows, AutomaticPhases %d", len(AutomaticTransitions), len(AutomaticPhases))
	}
}

// The case of issue 24, step by step: the create call is throttled (Tableau created nothing,
// createSent cleared), a person adds a secret in Tableau's UI, the backoff ends. The person's
// secret is recorded as held, never deleted, and fills the app: the rotation stalls naming it.
func TestSecretAddedWhileACreateIsHeldIsKept(t *testing.T) {
	o := AutomaticObservation{Phase: AutomaticCreating, Records: AutomaticRecords{Retiring: "a", Held: "a"},
		Due: true, BundleIdle: true, Active: "a", Consumer: "a", Source: "a", Listed: true, OnApp: []string{"a"}}
	step := PlanAutomatic(o)
	if step.Action != CreateSecret || !step.Records.CreateSent {
		t.Fatalf("before the create: %+v, want CreateSecret with createSent persisted", step)
	}
	// Throttled: the controller clears createSent. The person adds q.
	o.Records = step.Records
	o.Records.CreateSent = false
	o.OnApp = []string{"a", "q"}
	step = PlanAutomatic(o)
	if step.Action == DeleteSecret {
		t.Fatalf("deletes %s, the person's secret", step.Secret)
	}
	if step.Records.Held != "a,q" || step.Records.CreateSent {
		t.Fatalf("records %+v, want q recorded as held", step.Records)
	}
	o.Records = step.Records
	step = PlanAutomatic(o)
	if step.Phase != AutomaticStalled || step.Reason != AutomaticReasonForeign || step.Secret != "q" {
		t.Fatalf("with the app full: %+v, want Stalled naming q", step)
	}
	// The same, but the create may have taken effect (a timeout): the secret that appeared is
	// the call's orphan, as after a crash.
	o.Records = AutomaticRecords{Retiring: "a", Held: "a", CreateSent: true}
	o.OnApp = []string{"a", "n1"}
	if step = PlanAutomatic(o); step.Action != DeleteSecret || step.Secret != "n1" {
		t.Fatalf("after a create that may have taken effect: %+v, want n1 deleted as the orphan", step)
	}
}
