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

// Package rotation decides how a new credential bundle reaches the workloads that consume it.
// It is pure: Plan maps an Observation of what is really there to the next Step, one phase
// and one action. The controller observes, persists the step's phase and records, then
// applies its action. The package knows no Kubernetes client and no credential kind: a
// bundle is a credential revision plus the endpoint (server, site, API version) it is for.
package rotation

// Phase is where one connection's rotation stands. It is persisted before the action it
// names, so a restarted operator resumes from it.
type Phase string

// The phases. Their values are those of status.rotation.phase.
const (
	// Idle: consumers hold the active bundle; nothing to roll out.
	Idle Phase = "Idle"
	// Staged: a validated bundle waits in the candidate copy for its turn.
	Staged Phase = "Staged"
	// Promoting: the candidate is checked once more, the consumer's bundle saved in the
	// previous copy, and the candidate copied into the consumer Secret.
	Promoting Phase = "Promoting"
	// Restarting: the restart targets are rolled.
	Restarting Phase = "Restarting"
	// Gating: the health gate waits for the restarted targets to become available.
	Gating Phase = "Gating"
	// Completing: the gate passed; the copies are removed and the candidate becomes active.
	Completing Phase = "Completing"
	// RollingBack: the gate failed; the previous bundle is restored and targets rolled again.
	RollingBack Phase = "RollingBack"
	// Failed: a candidate was rejected (by validation, by the check right before promotion,
	// or by the health gate). It is not tried again until the source changes or a person asks.
	Failed Phase = "Failed"
)

// Phases lists every phase, in the order of a rotation.
var Phases = []Phase{Idle, Staged, Promoting, Restarting, Gating, Completing, RollingBack, Failed}

// Transitions is the one table of allowed phase changes; staying in a phase is always
// allowed. Plan never returns a step outside it (the exhaustive test checks every step),
// and the controller refuses to persist one.
//
//	from         to
//	Idle         Staged, Failed
//	Staged       Idle, Promoting, Failed
//	Promoting    Idle, Restarting, Failed
//	Restarting   Gating
//	Gating       Completing, RollingBack
//	Completing   Idle
//	RollingBack  Failed
//	Failed       Idle, Staged
var Transitions = map[Phase][]Phase{
	Idle:        {Staged, Failed},
	Staged:      {Idle, Promoting, Failed},
	Promoting:   {Idle, Restarting, Failed},
	Restarting:  {Gating},
	Gating:      {Completing, RollingBack},
	Completing:  {Idle},
	RollingBack: {Failed},
	Failed:      {Idle, Staged},
}

// Allowed reports whether the table allows moving from one phase to another.
func Allowed(from, to Phase) bool { return allowedIn(Transitions, from, to) }

// allowedIn reports whether a transition table allows moving from one phase to another;
// staying is always allowed.
func allowedIn[P comparable](table map[P][]P, from, to P) bool {
	if from == to {
		return true
	}
	for _, p := range table[from] {
		if p == to {
			return true
		}
	}
	return false
}

// Rotating reports whether a phase lies between promotion and the end of a rotation: a
// member in it keeps its place in a fleet's wave.
func (p Phase) Rotating() bool {
	switch p {
	case Promoting, Restarting, Gating, Completing, RollingBack:
		return true
	}
	return false
}
