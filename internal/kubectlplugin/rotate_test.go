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

package kubectlplugin

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// TestSettled: rotate waits until the operator handled this request, saw the generation,
// answered with an attempt or failure since the request, and no rotation is under way.
func TestSettled(t *testing.T) {
	start := time.Date(2026, 12, 6, 12, 0, 0, 700_000_000, time.UTC)
	after := metav1.NewTime(start.Add(300 * time.Millisecond).Truncate(time.Second)) // as status records it
	before := metav1.NewTime(start.Add(-time.Minute))
	const value = "2026-12-06T12:00:00Z"
	conn := func(handled string, attempt metav1.Time, phase string) *v1.TableauConnection {
		c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
		c.Status.ObservedGeneration = 2
		c.Status.LastHandledRequest = handled
		c.Status.History = []v1.ValidationAttempt{{Time: attempt}}
		if phase != "" {
			c.Status.Rotation = &v1.RotationStatus{Phase: phase}
		}
		return c
	}
	for _, tc := range []struct {
		name      string
		c         *v1.TableauConnection
		handledAt time.Time
		now       time.Time
		waiting   bool
		want      bool
	}{
		{"not handled yet", conn("older", after, v1.RotationIdle), time.Time{}, start, false, false},
		{"handled, attempt in the request's second", conn(value, after, v1.RotationIdle), start, start, false, true},
		{"handled, only an older attempt", conn(value, before, v1.RotationIdle), start, start.Add(time.Second), false, false},
		{"handled, no call for ten seconds", conn(value, before, ""), start, start.Add(11 * time.Second), false, true},
		{"rotation gating", conn(value, after, v1.RotationGating), start, start, false, false},
		{"rotation failed", conn(value, after, v1.RotationFailed), start, start, false, true},
		{"staged, promoting next", conn(value, after, v1.RotationStaged), start, start, false, false},
		{"staged, waiting for the fleet", conn(value, after, v1.RotationStaged), start, start, true, true},
	} {
		if got := settled(tc.c, value, start, tc.handledAt, tc.now, tc.waiting); got != tc.want {
			t.Errorf("%s: settled = %t, want %t", tc.name, got, tc.want)
		}
	}
	stale := conn(value, after, v1.RotationIdle)
	stale.Generation = 3
	if settled(stale, value, start, start, start, false) {
		t.Error("settled before the operator saw the current generation")
	}
}
