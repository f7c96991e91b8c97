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

package binarytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// The stamp TestMain gives the binary through hack/version.sh, fixed so that the tests can
// read it back and so that the build does not depend on the checkout's git state.
const (
	stampVersion  = "v0.0.0-binarytest"
	stampRevision = "0123456789abcdef0123456789abcdef01234567"
	stampEpoch    = "1767225600" // 2026-01-01T00:00:00Z
)

var (
	// binary is the operator built by TestMain, shared by every test of the package.
	binary string
	// repoRoot is the repository's root: go test runs a package's tests in its directory.
	repoRoot string
)

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime's logger; the tests read the operator's own log.
	ctrllog.SetLogger(logr.Discard())
	if os.Getenv(rootsChildEnv) != "" { // roots_test.go's child runs one test and needs no binary
		os.Exit(m.Run())
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "tableau-operator-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tableau-operator")
	if err := build(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// build builds the program at the root into out with the -ldflags hack/version.sh prints, as
// `make build` does.
func build(out string) error {
	stamp := exec.Command("bash", filepath.Join(repoRoot, "hack", "version.sh"))
	stamp.Env = append(os.Environ(), "VERSION="+stampVersion, "REVISION="+stampRevision, "SOURCE_DATE_EPOCH="+stampEpoch)
	ldflags, err := stamp.Output()
	if err != nil {
		return fmt.Errorf("hack/version.sh: %w", err)
	}
	cmd := exec.Command("go", "build", "-ldflags", strings.TrimSpace(string(ldflags)), "-o", out, ".")
	cmd.Dir = repoRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the binary: %v\n%s", err, msg)
	}
	return nil
}
