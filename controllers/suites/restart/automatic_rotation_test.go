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

	"github.com/tableau-operator/tableau-operator/controllers"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestAutomaticRotationSurvivesACrashRightAfterTheCreate(t *testing.T) {
	w := AutomaticTenants(t, nil, "crash")
	Current().StopManager()
	var once sync.Once
	crashed := make(chan struct{})
	if err := Current().StartManager(func(phase string) error {
		if phase != controllers.CrashAfterSecretCreated {
			return nil
		}
		err := error(nil)
		once.Do(func() { err = controllers.ErrCrash; close(crashed) })
		return err
	}); err != nil {
		t.Fatal(err)
	}
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, "crash")
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("the operator never created a secret")
	}
	// Killed right after the create: the app holds an orphan no one was given.
	Current().StopManager()
	if got := w.AppSecretIDs(t, "crash"); len(got) != 2 {
		t.Fatalf("after the crash the app holds %v, want the old secret and the orphan", got)
	}
	if err := Current().StartManager(nil); err != nil {
		t.Fatal(err)
	}
	Poke(t, w.NS, "crash")
	id := w.AutomaticSettled(t, "crash", "crash-s1")
	if got := w.AppSecretIDs(t, "crash"); len(got) != 1 || got[0] != id {
		t.Errorf("the app holds %v, want exactly one secret, %s", got, id)
	}
	if err := w.ConsumerAppSignsIn(t, "crash"); err != nil {
		t.Errorf("consumers cannot sign in: %v", err)
	}
}
