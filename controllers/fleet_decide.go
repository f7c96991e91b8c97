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
	"slices"
	"time"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/fleet"
)

// decideFleet sets the fleet's status from its members: counts, the failed and acknowledged
// members, whether the wave is halted, who may promote now (fleet.Admit), and the conditions.
func decideFleet(tf *v1.TableauFleet, v fleetView, now time.Time) time.Duration {
	requeue, _ := decideWave(tf, v, now)
	return requeue
}

// decideWave is decideFleet that also returns the wave's decision, which tells the write
// whether the grants it ends are only those of members that started (fleetWriteNeeded).
func decideWave(tf *v1.TableauFleet, v fleetView, now time.Time) (time.Duration, fleet.Decision) {
	st := &tf.Status
	st.ObservedGeneration = tf.Generation

	var failed []string
	for _, m := range v.admission.Members {
		if m.State == fleet.Failed {
			failed = append(failed, m.Name)
		}
	}
	if resume := tf.Annotations[v1.AnnotationResume]; resume != "" && resume != st.LastHandledResume {
		st.LastHandledResume = resume
		st.Acknowledged = append([]string(nil), failed...)
	}
	var ack []string
	for _, name := range st.Acknowledged {
		if slices.Contains(failed, name) {
			ack = append(ack, name)
		}
	}
	st.Acknowledged = ack
	if st.LastCompletionTime == nil || (v.lastCompletion != nil && st.LastCompletionTime.Before(v.lastCompletion)) {
		st.LastCompletionTime = v.lastCompletion
	}
	pauseLeft := time.Duration(0)
	if p := tf.Spec.Rollout.PauseBetween; p != nil && st.LastCompletionTime != nil {
		pauseLeft = st.LastCompletionTime.Add(p.Duration).Sub(now)
	}

	o := v.admission
	o.MaxConcurrent = int(tf.Spec.Rollout.MaxConcurrent)
	o.HaltOnFailure = tf.Spec.Rollout.HaltOnFailure == nil || *tf.Spec.Rollout.HaltOnFailure
	o.Acknowledged = ack
	o.Paused = pauseLeft > 0
	o.Granted = st.Current
	d := fleet.Admit(o)

	st.Members, st.Ready, st.Rotating, st.Pending = int32(len(v.members)), int32(len(v.ready)), int32(len(d.Rotating)), int32(len(d.Queued))
	st.Failed = d.Failed
	st.Halted = d.Halted
	st.Current = d.Current
	st.Suspended = d.Suspended
	var requeue time.Duration
	if len(d.Rotating) > 0 || len(d.Queued) > 0 {
		requeue = 10 * time.Second
		if o.Paused {
			requeue = pauseLeft
		}
	}

	setFleetConditions(tf, fleetFacts{view: v, decision: d, acknowledged: ack})
	return requeue, d
}
