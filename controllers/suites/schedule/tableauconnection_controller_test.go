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

package schedule

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestPeriodicSignsInOnScheduleAndOnChangeDoesNot(t *testing.T) {
	periodic := NewTenant(t, "3.24")
	periodic.CreateSecret(t, "periodic-pat", periodic.Secret)
	Create(t, periodic.Connection("periodic", "3.24", func(c *v1.TableauConnection) {
		c.Spec.Validation = v1.ValidationSpec{SignIn: v1.SignInPeriodic, Interval: &metav1.Duration{Duration: time.Hour}}
	}))
	onChange := NewTenant(t, "3.24")
	onChange.CreateSecret(t, "onchange-pat", onChange.Secret)
	Create(t, onChange.Connection("onchange", "3.24"))
	first := WaitFor(t, periodic.NS, "periodic", "Ready", IsReady).Status.Credentials.LastSignInTime.Time
	WaitFor(t, onChange.NS, "onchange", "Ready", IsReady)

	// Ninety minutes later, by the operator's clock.
	Current().Clock.Set(90 * time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Annotate(t, Get(t, periodic.NS, "periodic"), "example.com/nudge", "1")
	Annotate(t, Get(t, onChange.NS, "onchange"), "example.com/nudge", "1")
	c := WaitFor(t, periodic.NS, "periodic", "a scheduled sign-in", func(c *v1.TableauConnection) bool {
		return c.Status.Credentials.LastSignInTime.Time.After(first.Add(time.Hour))
	})
	if n := periodic.Sim.Calls("auth/signin"); n != 2 {
		t.Errorf("Periodic sign-ins = %d, want 2", n)
	}
	if len(c.Status.History) != 2 {
		t.Errorf("history = %+v", c.Status.History)
	}
	time.Sleep(time.Second)
	if n := onChange.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("OnChange signed in on a schedule: %d sign-ins", n)
	}
}
