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

// Package fleet holds the envtests of a fleet's wave: one member at a time in name order, a
// rejected candidate halting the members after it, slots and places in the wave. Their
// members' sources change at once, and the order the fleet keeps holds only once each
// member's reconcile has claimed its validation: with the reconciles of other tests queued in
// the operator's shared workers, a later member's could come first (seen on 2 loaded cores).
// So these tests run one after another, as the suite's only reconciles.
package fleet

import (
	"os"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// TestMain runs the suite on its own control plane and operator (optest.Main).
func TestMain(m *testing.M) { os.Exit(optest.Main(m)) }
