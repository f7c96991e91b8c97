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
	"sync"
	"testing"
	"time"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// spec.auth switched from a PAT to a connected app while a PAT candidate waits in Promoting:
// the PAT candidate is never checked nor promoted, and the app's credential is rolled out.
func TestAuthSwitchedWhileACandidateWaitsInPromoting(t *testing.T) {
	w := NewWorld(t)
	w.Deployment(t, "switch-app", false)
	w.SetSource(t, "switch", "switch-v1", w.Pat(t, "switch", "switch-v1", false))
	Create(t, w.TenantConnection("switch"))
	w.Settled(t, "switch", "switch-v1")
	Current().StopManager()
	var once sync.Once
	crashed := make(chan struct{})
	if err := Current().StartManager(func(phase string) error {
		if phase != v1.RotationPromoting {
			return nil
		}
		err := error(nil)
		once.Do(func() { err = controllers.ErrCrash; close(crashed) })
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w.SetSource(t, "switch", "switch-v2", w.Pat(t, "switch", "switch-v2", false))
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("the rotation never reached Promoting")
	}
	Current().StopManager()
	value := w.App(t, "switch", "client-switch", "switch-s1")
	w.SetAppSource(t, "switch", "client-switch", "switch-s1", value)
	UpdateConnection(t, w.NS, "switch", AppConnection)
	if err := Current().StartManager(nil); err != nil {
		t.Fatal(err)
	}
	w.AppSettled(t, "switch", "switch-s1")
	if err := w.ConsumerAppSignsIn(t, "switch"); err != nil {
		t.Errorf("consumers cannot sign in with the connected app: %v", err)
	}
}
