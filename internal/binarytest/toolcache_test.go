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
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Black-box tests of hack/tool-cache.sh, the cache that hack/envtest.sh, helm.sh, promtool.sh,
// controller-gen.sh and image.sh build their tools into: a script like theirs sources it with a fake build that
// takes no time, in a fresh cache directory.

// toolCacheCaller is a tool script like hack/helm.sh. MODE=capture calls tool_cache inside
// $(...), where bash turns errexit off, as hack/image.sh and hack/promtool.sh do; otherwise it
// calls it directly, as hack/envtest.sh does. The build prints to stdout (tool_cache must send
// that to stderr), fails when FAIL is set, makes no binary when NOBIN is set, sleeps SLEEP
// seconds (after creating $COUNT.started), and appends a line to $COUNT each time it ran.
const toolCacheCaller = `#!/usr/bin/env bash
set -euo pipefail
source "$REPO/hack/tool-cache.sh"
build_fake() {
  echo "the build's own output"
  [[ -z "${FAIL:-}" ]] || return 1
  touch "$COUNT.started"
  sleep "${SLEEP:-0}"
  echo run >>"$COUNT"
  [[ -n "${NOBIN:-}" ]] || { echo fake >"$1/fake" && chmod +x "$1/fake"; }
}
if [[ "${MODE:-}" == capture ]]; then
  dir=$(tool_cache fake build_fake fake "$INPUT" ${EXTRA_INPUT:-})
  echo "$dir"
else
  tool_cache fake build_fake fake "$INPUT" ${EXTRA_INPUT:-}
fi
`

type toolCacheEnv struct {
	dir, cache, input, count string
}

func newToolCacheEnv(t *testing.T) toolCacheEnv {
	t.Helper()
	dir := t.TempDir()
	e := toolCacheEnv{dir: dir, cache: filepath.Join(dir, "fresh", "cache"), input: filepath.Join(dir, "go.mod"), count: filepath.Join(dir, "count")}
	if err := os.WriteFile(filepath.Join(dir, "caller.sh"), []byte(toolCacheCaller), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.input, []byte("module example.test/tools\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// command runs the caller with the cache at e.cache (unless env sets the cache variables
// itself) and the Go environment of the test, minus what env overrides.
func (e toolCacheEnv) command(t *testing.T, env ...string) *exec.Cmd {
	t.Helper()
	repo := repoRoot
	cmd := exec.Command("bash", filepath.Join(e.dir, "caller.sh"))
	overridden := func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		for _, o := range append([]string{"TABLEAU_OPERATOR_CACHE=", "XDG_CACHE_HOME=", "GOFLAGS=", "GOARCH=", "MODE=", "FAIL=", "NOBIN=", "SLEEP=", "EXTRA_INPUT="}, env...) {
			if ok, _, _ := strings.Cut(o, "="); ok == k {
				return true
			}
		}
		return false
	}
	for _, kv := range os.Environ() {
		if !overridden(kv) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "REPO="+repo, "INPUT="+e.input, "COUNT="+e.count)
	if !strings.Contains(strings.Join(env, "\n"), "_CACHE") {
		cmd.Env = append(cmd.Env, "TABLEAU_OPERATOR_CACHE="+e.cache)
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// run runs the caller and returns its stdout, failing the test if it fails.
func (e toolCacheEnv) run(t *testing.T, env ...string) string {
	t.Helper()
	cmd := e.command(t, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tool_cache failed: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// builds is how often the build ran.
func (e toolCacheEnv) builds(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile(e.count)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(raw), "\n")
}

// entries lists what the cache holds for the fake tool, temporary build directories included.
func (e toolCacheEnv) entries(t *testing.T) []string {
	t.Helper()
	list, err := os.ReadDir(filepath.Join(e.cache, "fake"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name())
	}
	return names
}

func TestToolCacheBuildsOnceAndPrintsOnlyThePath(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"direct", "capture"} {
		t.Run(mode, func(t *testing.T) {
			e := newToolCacheEnv(t)
			first := e.run(t, "MODE="+mode)
			dir := strings.TrimSuffix(first, "\n")
			if strings.Contains(dir, "\n") || filepath.Dir(dir) != filepath.Join(e.cache, "fake") {
				t.Fatalf("stdout is %q, want only a directory under %s", first, filepath.Join(e.cache, "fake"))
			}
			if _, err := os.Stat(filepath.Join(dir, "fake")); err != nil {
				t.Fatalf("the printed directory has no binary: %v", err)
			}
			if again := e.run(t, "MODE="+mode); again != first || e.builds(t) != 1 {
				t.Fatalf("the second run printed %q and the build ran %d times, want %q and once", again, e.builds(t), first)
			}
		})
	}
	t.Run("XDG_CACHE_HOME without TABLEAU_OPERATOR_CACHE", func(t *testing.T) {
		e := newToolCacheEnv(t)
		xdg := filepath.Join(e.dir, "xdg")
		got := e.run(t, "XDG_CACHE_HOME="+xdg)
		if want := filepath.Join(xdg, "tableau-operator", "fake") + "/"; !strings.HasPrefix(got, want) {
			t.Fatalf("printed %q, want a directory under %s", got, want)
		}
	})
}

// TestToolCacheKey: whatever changes the build gives another entry: the inputs, and the Go
// toolchain and environment that go build reads (a tool built for GOARCH=arm64, or with other
// GOFLAGS, must not be what a later plain run gets).
func TestToolCacheKey(t *testing.T) {
	t.Parallel()
	e := newToolCacheEnv(t)
	base := e.run(t)
	seen := map[string]string{base: "the first run"}
	for _, c := range []struct {
		what string
		env  []string
	}{
		{"GOARCH=arm64", []string{"GOARCH=arm64"}},
		{"GOFLAGS=-tags=other", []string{"GOFLAGS=-tags=other"}},
	} {
		got := e.run(t, c.env...)
		if prev, ok := seen[got]; ok {
			t.Errorf("%s gets the entry of %s: %s", c.what, prev, got)
		}
		seen[got] = c.what
	}
	if err := os.WriteFile(e.input, []byte("module example.test/tools\n\ngo 1.99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := e.run(t); seen[got] != "" {
		t.Errorf("a changed input gets the entry of %s: %s", seen[got], got)
	}
}

// TestToolCacheKeyLeavesOutTrimpath: -trimpath in GOFLAGS, which the Makefile adds to GOFLAGS and
// every recipe passes itself, changes nothing the build makes, so a tool built under make is the
// one a plain run of its script finds, and the other way round; the rest of GOFLAGS still counts.
// (GOFLAGS is set in every run: unset, go env takes it from the go env file.)
func TestToolCacheKeyLeavesOutTrimpath(t *testing.T) {
	t.Parallel()
	e := newToolCacheEnv(t)
	plain := e.run(t, "GOFLAGS=-tags=one")
	for _, flags := range []string{"-tags=one -trimpath", "-trimpath -tags=one", "  -tags=one   -trimpath=true "} {
		if got := e.run(t, "GOFLAGS="+flags); got != plain {
			t.Errorf("GOFLAGS=%q gets %s, want the entry of -tags=one, %s", flags, got, plain)
		}
	}
	if n := e.builds(t); n != 1 {
		t.Errorf("the build ran %d times, want once", n)
	}
	other := e.run(t, "GOFLAGS=-tags=other")
	if other == plain {
		t.Fatalf("GOFLAGS=-tags=other gets the entry of -tags=one, %s", plain)
	}
	if got := e.run(t, "GOFLAGS=-trimpath -tags=other"); got != other {
		t.Errorf("GOFLAGS=\"-trimpath -tags=other\" gets %s, want the entry of -tags=other, %s", got, other)
	}
}

// TestToolCacheFailures: a failed build, a build without its binary, or a missing input fail
// the caller and leave nothing in the cache, not even a temporary directory.
func TestToolCacheFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		what string
		env  []string
	}{
		{"the build fails", []string{"FAIL=1"}},
		{"the build fails (captured)", []string{"FAIL=1", "MODE=capture"}},
		{"the build makes no binary", []string{"NOBIN=1"}},
		{"the build makes no binary (captured)", []string{"NOBIN=1", "MODE=capture"}},
		{"an input is missing", []string{"EXTRA_INPUT=/nonexistent/tool.go"}},
		{"an input is missing (captured)", []string{"EXTRA_INPUT=/nonexistent/tool.go", "MODE=capture"}},
	} {
		t.Run(c.what, func(t *testing.T) {
			e := newToolCacheEnv(t)
			cmd := e.command(t, c.env...)
			out, err := cmd.Output()
			if err == nil {
				t.Fatalf("the caller succeeded and printed %q", out)
			}
			if got := e.entries(t); len(got) != 0 {
				t.Fatalf("the cache holds %v after a failure", got)
			}
		})
	}
}

// TestToolCacheInterrupted: a build stopped by a signal (Ctrl-C, a CI timeout) leaves no
// temporary directory, which would read as a build under way.
func TestToolCacheInterrupted(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"direct", "capture"} {
		t.Run(mode, func(t *testing.T) {
			e := newToolCacheEnv(t)
			cmd := e.command(t, "SLEEP=30", "MODE="+mode)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(e.count + ".started"); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the build did not start")
				}
			}
			if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil {
				t.Fatal("the interrupted caller succeeded")
			}
			// The caller's subshell may still be cleaning up when the caller is gone; on a
			// machine loaded by the rest of make test that took over 10 s twice.
			for deadline := time.Now().Add(60 * time.Second); len(e.entries(t)) != 0; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the cache holds %v after an interrupted build", e.entries(t))
				}
			}
		})
	}
}

// TestToolCacheConcurrent: runs of one key at once build it once (the others wait for that
// build: a second cold envtest build would take minutes of a shared machine's cores), all print
// its entry, and leave no temporary directory.
func TestToolCacheConcurrent(t *testing.T) {
	t.Parallel()
	e := newToolCacheEnv(t)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 3 {
		cmd := e.command(t, "SLEEP=1")
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
	}
	if got := e.entries(t); len(got) != 1 {
		t.Fatalf("the cache holds %v, want one entry", got)
	}
	if _, err := exec.LookPath("flock"); err != nil {
		t.Logf("no flock here: each run built the tool (%d builds)", e.builds(t))
	} else if n := e.builds(t); n != 1 {
		t.Errorf("three runs at once built the tool %d times, want once", n)
	}
	want := filepath.Join(e.cache, "fake", e.entries(t)[0]) + "\n"
	for i, out := range outs {
		if out.String() != want {
			t.Errorf("build %d printed %q, want %q", i, out.String(), want)
		}
	}
}
