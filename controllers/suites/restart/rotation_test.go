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

package restart

import (
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// TestCrashAtEachStep kills the operator right after each rotation phase is persisted and
// before its action, starts a new one, and checks that the consumer Secret signs in at every
// point and that the rotation ends where it should.
func TestCrashAtEachStep(t *testing.T) {
	for _, tc := range []struct {
		phase      string
		broken     bool
		wantPhase  string
		wantActive string
	}{
		{v1.RotationStaged, false, v1.RotationIdle, "v2"},
		{v1.RotationPromoting, false, v1.RotationIdle, "v2"},
		{v1.RotationRestarting, false, v1.RotationIdle, "v2"},
		{v1.RotationGating, false, v1.RotationIdle, "v2"},
		{v1.RotationCompleting, false, v1.RotationIdle, "v2"},
		{v1.RotationRollingBack, true, v1.RotationFailed, "v1"},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			w := NewWorld(t)
			name := "crash-" + strings.ToLower(tc.phase)
			w.Deployment(t, name+"-app", false)
			w.SetSource(t, name, name+"-v1", w.Pat(t, name, name+"-v1", false))
			Create(t, w.TenantConnection(name, func(c *v1.TableauConnection) {
				c.Labels = nil
				c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
			}))
			w.Settled(t, name, name+"-v1")

			var mu sync.Mutex
			crashed := false
			hook := func(phase string) error {
				mu.Lock()
				defer mu.Unlock()
				if phase == tc.phase || crashed {
					crashed = true // dead: every later reconcile of this operator stops at once
					return controllers.ErrCrash
				}
				return nil
			}
			Current().StopManager()
			if err := Current().StartManager(hook); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				// Whatever happened, later tests get a healthy operator.
				Current().StopManager()
				if err := Current().StartManager(nil); err != nil {
					t.Fatal(err)
				}
			})
			if tc.broken {
				w.SetBroken(t, name+"-app", true)
			}
			w.SetSource(t, name, name+"-v2", w.Pat(t, name, name+"-v2", false))
			WaitFor(t, w.NS, name, "the crash at "+tc.phase, func(c *v1.TableauConnection) bool { return RotationPhase(c) == tc.phase })
			if err := w.ConsumerSignsIn(t, name); err != nil {
				t.Errorf("after the crash at %s the consumer credential does not sign in: %v", tc.phase, err)
			}
			Current().StopManager()
			if err := Current().StartManager(nil); err != nil {
				t.Fatal(err)
			}
			c := WaitFor(t, w.NS, name, "the new operator to finish", func(c *v1.TableauConnection) bool {
				rs := c.Status.Rotation
				if RotationPhase(c) != tc.wantPhase || rs.CandidateRevision != "" {
					return false
				}
				if tc.wantActive == "v2" {
					return rs.ActiveRevision == c.Status.Credentials.Revision
				}
				return rs.FailedRevision == c.Status.Credentials.Revision
			})
			if got := string(w.Consumer(t, name).Data["tokenName"]); got != name+"-"+tc.wantActive {
				t.Errorf("consumer holds %s, want %s-%s", got, name, tc.wantActive)
			}
			if err := w.ConsumerSignsIn(t, name); err != nil {
				t.Errorf("the consumer credential does not sign in at the end: %v", err)
			}
			if c.Status.Rotation.ActiveRevision == "" {
				t.Errorf("no active revision: %+v", c.Status.Rotation)
			}
		})
	}
}
