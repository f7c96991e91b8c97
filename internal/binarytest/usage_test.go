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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/kubectlplugin"
)

// TestHelpListsEverySubcommand: --help names check, version and every ctl subcommand with one
// line each, then the manager's flags, and exits 0.
func TestHelpListsEverySubcommand(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	want := []string{"check", "version"}
	for _, s := range kubectlplugin.Subcommands {
		want = append(want, "ctl "+s.Name)
	}
	for _, name := range want {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), name+" ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("--help has %d lines for %q, want 1:\n%s", n, name, out)
		}
	}
	if !strings.Contains(string(out), "-metrics-bind-address") {
		t.Errorf("--help lacks the manager's flags:\n%s", out)
	}
}

// TestManagerWithoutKubeconfigSaysWhatToDo: one line on stderr, exit 1, no stack trace.
// Both with KUBECONFIG naming a missing file and with KUBECONFIG unset outside a pod, where
// controller-runtime tries the in-cluster configuration first and logs its failure.
func TestManagerWithoutKubeconfigSaysWhatToDo(t *testing.T) {
	t.Parallel()
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "KUBERNETES_SERVICE_") && !strings.HasPrefix(kv, "HOME=") {
			base = append(base, kv)
		}
	}
	for name, env := range map[string][]string{
		"missing file": {"KUBECONFIG=" + filepath.Join(t.TempDir(), "absent")},
		"unset":        nil,
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(binary, "--metrics-bind-address=0", "--health-probe-bind-address=0")
			cmd.Env = append(append(slices.Clone(base), "HOME="+t.TempDir()), env...)
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1\n%s", err, out)
			}
			if strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "KUBECONFIG") || strings.Contains(string(out), "stacktrace") {
				t.Errorf("want one line naming KUBECONFIG, got:\n%s", out)
			}
		})
	}
}

// TestManagerRejectsAnUnknownSubcommand: a typo is not taken for the manager, and a bad flag
// says so without the whole usage.
func TestManagerRejectsAnUnknownSubcommand(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{"stauts": `unknown subcommand "stauts"`, "--bogus": "flag provided but not defined: -bogus"} {
		out, err := exec.Command(binary, args).CombinedOutput()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 || !strings.Contains(string(out), want) || strings.Count(string(out), "\n") > 2 {
			t.Errorf("%s: exit %v, want 2 and %q in at most two lines:\n%s", args, err, want, out)
		}
	}
}
