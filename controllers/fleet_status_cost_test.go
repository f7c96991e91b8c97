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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// A member's completion moves the fleet's last completion time; while a wave runs that alone is
// no fleet status write (it rides on the next grant), and the pause it starts is still kept,
// since decideFleet reads it from the members on every reconcile.
func TestFleetLastCompletionRidesAlongDuringAWave(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(3 * time.Second))
	during := v1.TableauFleetStatus{Members: 3, Rotating: 1, Pending: 1, Current: []string{"b"}, LastCompletionTime: &t0}
	after := during.DeepCopy()
	after.LastCompletionTime = &t1
	if fleetStatusMoved(&during, after) {
		t.Error("a completion alone during a wave is written")
	}
	after.Current = nil
	if !fleetStatusMoved(&during, after) {
		t.Error("a grant that ends with the completion is not written")
	}
	settled := v1.TableauFleetStatus{Members: 3, LastCompletionTime: &t0}
	moved := settled.DeepCopy()
	moved.LastCompletionTime = &t1
	if !fleetStatusMoved(&settled, moved) {
		t.Error("with no wave running, the last completion is not written")
	}
}

// The pause after a completion holds new grants back though the fleet's stored last completion
// is older: the members' own completion times decide it.
func TestFleetPauseFollowsTheMembersNotTheStoredCompletion(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)
	old := metav1.NewTime(now.Add(-time.Minute))
	justNow := metav1.NewTime(now.Add(-200 * time.Millisecond))
	member := func(name, phase string, done *metav1.Time) v1.TableauConnection {
		c := v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name}}
		c.Status.Credentials = &v1.CredentialStatus{Revision: "r2"}
		c.Status.Rotation = &v1.RotationStatus{Phase: phase, ActiveRevision: "r1", LastCompletionTime: done}
		if phase == v1.RotationIdle {
			c.Status.Rotation.ActiveRevision = "r2"
		}
		return c
	}
	tf := &v1.TableauFleet{Spec: v1.TableauFleetSpec{Rollout: v1.FleetRollout{MaxConcurrent: 1, PauseBetween: &metav1.Duration{Duration: time.Second}}},
		Status: v1.TableauFleetStatus{LastCompletionTime: &old}}
	v := viewOf(refs(member("a", v1.RotationIdle, &justNow), member("b", v1.RotationStaged, nil)), nil, now)
	requeue := decideFleet(tf, v, now)
	if len(tf.Status.Current) != 0 {
		t.Errorf("granted %v during the pause after a's completion", tf.Status.Current)
	}
	if requeue <= 0 || requeue > time.Second {
		t.Errorf("requeue %s, want the rest of the pause", requeue)
	}
	later := justNow.Add(2 * time.Second)
	decideFleet(tf, v, later)
	if len(tf.Status.Current) != 1 || tf.Status.Current[0] != "b" {
		t.Errorf("after the pause current = %v, want [b]", tf.Status.Current)
	}
}

// A grant that ends because its member started to rotate is no write of its own while the
// wave runs; it rides with the next grant, which persists both.
func TestFleetStartedMembersGrantRidesWithTheNextGrant(t *testing.T) {
	staged := func(name string, phase string) v1.TableauConnection {
		c := v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name}}
		c.Status.Credentials = &v1.CredentialStatus{Revision: "r2"}
		c.Status.Rotation = &v1.RotationStatus{Phase: phase, ActiveRevision: "r1"}
		if phase == v1.RotationIdle {
			c.Status.Rotation.ActiveRevision = "r2" // completed
		}
		return c
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tf := &v1.TableauFleet{Spec: v1.TableauFleetSpec{Rollout: v1.FleetRollout{MaxConcurrent: 1}}}
	decideFleet(tf, viewOf(refs(staged("a", v1.RotationStaged), staged("b", v1.RotationStaged)), nil, now), now)
	persisted := tf.DeepCopy()
	if len(persisted.Status.Current) != 1 || persisted.Status.Current[0] != "a" {
		t.Fatalf("current %v, want [a]", persisted.Status.Current)
	}
	// a starts: its grant ends, nothing else changes.
	started := persisted.DeepCopy()
	_, d := decideWave(started, viewOf(refs(staged("a", v1.RotationPromoting), staged("b", v1.RotationStaged)), nil, now), now)
	if len(started.Status.Current) != 0 {
		t.Fatalf("a rotating still granted: %v", started.Status.Current)
	}
	if fleetWriteNeeded(&persisted.Status, &started.Status, d) {
		t.Error("the end of a started member's grant alone is written")
	}
	// a completes: its grant (still persisted) must go, and b gets the slot: written.
	done := persisted.DeepCopy()
	_, d = decideWave(done, viewOf(refs(staged("a", v1.RotationIdle), staged("b", v1.RotationStaged)), nil, now), now)
	if !fleetWriteNeeded(&persisted.Status, &done.Status, d) {
		t.Error("b's grant is not written")
	}
}
