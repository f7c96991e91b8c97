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
	"testing"
	"time"
)

func TestPlan(t *testing.T) {
	v1, v1api, v2 := Bundle{"r1", "e1"}, Bundle{"r1", "e2"}, Bundle{"r2", "e1"}
	ours := func(b Bundle) Copy { return Copy{Exists: true, Ours: true, Holds: b} }
	idle := Observation{Phase: Idle, HealthCheckTimeout: time.Minute, Records: Records{Active: v1}, Source: v1, SourceValidation: Valid,
		ServerOK: true, Consumer: ours(v1), Turn: true, CheckBeforePromotion: true}
	with := func(f func(*Observation)) Observation { o := idle; f(&o); return o }
	for _, tc := range []struct {
		name   string
		o      Observation
		phase  Phase
		action Action
		reason Reason
	}{
		{"steady state does nothing", idle, Idle, None, ReasonSteady},
		{"a validated new revision is staged", with(func(o *Observation) { o.Source = v2 }), Staged, StageCandidate, ReasonStaged},
		{"a revision still validating waits", with(func(o *Observation) { o.Source, o.SourceValidation = v2, Pending }), Idle, None, ReasonSteady},
		{"a throttled validation is not a rejection", with(func(o *Observation) { o.Source, o.SourceValidation = v2, Transient }), Idle, None, ReasonSteady},
		{"a missing source is not a rejection", with(func(o *Observation) { o.Source, o.SourceValidation = Bundle{}, Unreadable }), Idle, None, ReasonSteady},
		{"a rejected new revision fails the rotation", with(func(o *Observation) { o.Source, o.SourceValidation = v2, Rejected }), Failed, None, ReasonCandidateRejected},
		{"an apiVersion change is rolled out", with(func(o *Observation) { o.Source = v1api }), Staged, StageCandidate, ReasonStaged},
		{"a deleted consumer Secret is recreated", with(func(o *Observation) { o.Consumer = Copy{} }), Staged, StageCandidate, ReasonStaged},
		{"a foreign consumer Secret blocks everything", with(func(o *Observation) { o.Source, o.Consumer = v2, Copy{Exists: true} }), Idle, None, ReasonNameTaken},
		{"a staged candidate waits for its turn", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.Turn = Staged, v2, v2, ours(v2), false
		}), Staged, None, ReasonWaitingForTurn},
		{"a missing restart target stops before promotion", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.TargetsMissing = Staged, v2, v2, ours(v2), true
		}), Staged, None, ReasonTargetMissing},
		{"a turn enters Promoting with the copy of what consumers hold", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate = Staged, v2, v2, ours(v2)
		}), Promoting, SavePrevious, ReasonPromotionStarted},
		{"a first delivery enters Promoting alone: its check is planned in Promoting", with(func(o *Observation) {
			o.Phase, o.Records.Active, o.Records.Candidate, o.Source, o.Candidate, o.Consumer = Staged, Bundle{}, v2, v2, ours(v2), Copy{}
		}), Promoting, None, ReasonPromotionStarted},
		{"a turn with the copy saved enters Promoting alone", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.Previous = Staged, v2, v2, ours(v2), ours(v1)
		}), Promoting, None, ReasonPromotionStarted},
		{"an unusable candidate is never saved for", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.CandidateUnusable = Staged, v2, v2, ours(v2), true
		}), Promoting, None, ReasonPromotionStarted},
		{"what consumers hold is saved before the check", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate = Promoting, v2, v2, ours(v2)
		}), Promoting, SavePrevious, ReasonPromotionStarted},
		{"the candidate is checked before promotion", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.Previous = Promoting, v2, v2, ours(v2), ours(v1)
		}), Promoting, CheckCandidate, ReasonPromotionStarted},
		{"a candidate that signed in within recheckAfter is promoted without a second sign-in", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.CheckBeforePromotion = Promoting, v2, v2, ours(v2), false
		}), Promoting, SavePrevious, ReasonPromotionStarted},
		{"a throttled check keeps the candidate", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.Previous, o.Check = Promoting, v2, v2, ours(v2), ours(v1), Transient
		}), Promoting, None, ReasonCheckRetry},
		{"a rejected check fails the rotation", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate, o.Previous, o.Check = Promoting, v2, v2, ours(v2), ours(v1), Rejected
		}), Failed, None, ReasonCandidateRejected},
		{"an endpoint change is not checked with the PAT in use", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Source, o.Candidate = Promoting, v1api, v1api, ours(v1api)
		}), Promoting, SavePrevious, ReasonPromotionStarted},
		{"the gate waits its time", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Consumer, o.Restarted, o.InPhase = Gating, v2, ours(v2), true, 59*time.Second
		}), Gating, None, ReasonWaitingForRollout},
		{"a target added during the gate is restarted, in the same phase", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Consumer, o.Restarted, o.InPhase = Gating, v2, ours(v2), false, 30*time.Second
		}), Gating, RestartTargets, ReasonRestarted},
		{"the gate times out into a rollback", with(func(o *Observation) {
			o.Phase, o.Records.Candidate, o.Consumer, o.Restarted, o.InPhase = Gating, v2, ours(v2), true, time.Minute
		}), RollingBack, None, ReasonHealthCheckTimedOut},
		{"a failed member recovers when the source goes back", with(func(o *Observation) {
			o.Phase, o.Records.Rejected = Failed, v2
		}), Idle, None, ReasonSourceRestored},
		{"a failed member recovers with a new validated revision", with(func(o *Observation) {
			o.Phase, o.Records.Rejected, o.Source = Failed, Bundle{"r3", "e1"}, v2
		}), Staged, StageCandidate, ReasonStaged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Plan(tc.o)
			if s.Phase != tc.phase || s.Action != tc.action || s.Reason != tc.reason {
				t.Errorf("Plan = %s/%s/%s, want %s/%s/%s", s.Phase, s.Action, s.Reason, tc.phase, tc.action, tc.reason)
			}
		})
	}
}

func TestConsumers(t *testing.T) {
	v1, v2 := Bundle{"r1", "e1"}, Bundle{"r2", "e1"}
	ours := func(b Bundle) Copy { return Copy{Exists: true, Ours: true, Holds: b} }
	for _, tc := range []struct {
		name string
		o    Observation
		want ConsumerState
	}{
		{"holds the active bundle", Observation{Phase: Idle, Records: Records{Active: v1}, Consumer: ours(v1)}, ConsumersHold},
		{"deleted after a delivery", Observation{Phase: Failed, Records: Records{Active: v1, Rejected: v2}}, ConsumersMissing},
		{"not delivered yet", Observation{Phase: Idle}, ConsumersPending},
		{"someone else's Secret", Observation{Phase: Idle, Records: Records{Active: v1}, Consumer: Copy{Exists: true}}, ConsumersTaken},
		{"retained from an earlier connection of the same name", Observation{Phase: Staged, Records: Records{Candidate: v2}, Consumer: ours(v1)}, ConsumersPending},
		{"holds a bundle no record names", Observation{Phase: Idle, Records: Records{Active: v1}, Consumer: ours(v2)}, ConsumersStale},
		{"holds the candidate during a rotation", Observation{Phase: Gating, Records: Records{Active: v1, Candidate: v2}, Consumer: ours(v2)}, ConsumersHold},
		{"holds the candidate outside a rotation", Observation{Phase: Staged, Records: Records{Active: v1, Candidate: v2}, Consumer: ours(v2)}, ConsumersStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Consumers(tc.o); got != tc.want {
				t.Errorf("Consumers = %d, want %d", got, tc.want)
			}
		})
	}
	lost := Observation{Phase: Failed, Records: Records{Active: v1, Rejected: v2}, Source: v2, SourceValidation: Rejected, ServerOK: true}
	if Recoverable(lost) {
		t.Error("the only copy of the active bundle was deleted, yet Recoverable says the planner can restore it")
	}
	lost.Source, lost.SourceValidation = v1, Valid
	if !Recoverable(lost) {
		t.Error("the source holds the active bundle, validated, yet Recoverable says it cannot be restored")
	}
}
