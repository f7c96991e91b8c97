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

// Package restart holds the envtests that stop the operator: crashes at each step of a
// rotation, restarts that must not read unchanged Secrets again, and the operator moved to
// another control plane as its installed ServiceAccount. Each test replaces the suite's one
// manager, so the tests run one after another.
package restart

import (
	"os"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// TestMain runs the suite on its own control plane and operator (optest.Main).
func TestMain(m *testing.M) { os.Exit(optest.Main(m)) }
