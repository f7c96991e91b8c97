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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// runBinary runs the operator binary built by TestMain with args and returns its exit code and output.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// TestMain stamps the binary through hack/version.sh with fixed values, as `make build` stamps
// it with the checkout's: `version` prints them. The image's binary is checked in TestImage.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	code, want, stderr := runBinary(t, "version")
	if code != 0 || stderr != "" {
		t.Fatalf("version: exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "tableau-operator ") ||
		!strings.HasPrefix(lines[1], "revision:   ") || !strings.HasPrefix(lines[2], "build date: ") ||
		lines[3] != "go version: "+runtime.Version() || lines[4] != "platform:   "+runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("version printed:\n%s", want)
	}
	if lines[0] != "tableau-operator "+stampVersion || lines[1] != "revision:   "+stampRevision || lines[2] != "build date: 2026-01-01T00:00:00Z" {
		t.Fatalf("version printed %q, want the stamp of hack/version.sh (%s, %s, 2026-01-01T00:00:00Z)", lines[:3], stampVersion, stampRevision)
	}
	for _, flag := range []string{"--version", "-version"} {
		code, got, stderr := runBinary(t, flag)
		if code != 0 || got != want || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the output of `version`", flag, code, got, stderr)
		}
	}
	code, stdout, stderr := runBinary(t, "version", "--short")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "version takes no arguments") {
		t.Errorf("version --short: exit %d, stdout %q, stderr %q; want exit 2 and a usage error", code, stdout, stderr)
	}
}

// TestVersionScript: hack/version.sh names the build by its tag, else v0.0.0-dev-<commit>, marks
// a modified checkout -dirty once, and outside git (a source tarball) is neither dirty nor broken.
func TestVersionScript(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile(filepath.Join(repoRoot, "hack", "version.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hack", "version.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		env := []string{"GIT_CEILING_DIRECTORIES=" + filepath.Dir(dir), "GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir,
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); k == "PATH" {
				env = append(env, kv)
			}
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	version := func() string {
		t.Helper()
		for _, f := range strings.Fields(run("bash", "hack/version.sh")) {
			if v, ok := strings.CutPrefix(f, "github.com/tableau-operator/tableau-operator/internal/version.version="); ok {
				return v
			}
		}
		t.Fatal("hack/version.sh printed no version flag")
		return ""
	}
	if got := version(); got != "v0.0.0-dev-unknown" {
		t.Errorf("outside git: version %q, want v0.0.0-dev-unknown", got)
	}
	run("git", "init", "-q")
	run("git", "add", ".")
	run("git", "commit", "-q", "-m", "first")
	commit := strings.TrimSpace(run("git", "rev-parse", "--short=12", "HEAD"))
	if got := version(); got != "v0.0.0-dev-"+commit {
		t.Errorf("untagged: version %q, want v0.0.0-dev-%s", got, commit)
	}
	if err := os.WriteFile(filepath.Join(dir, "hack", "version.sh"), append(script, '\n'), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := version(); got != "v0.0.0-dev-"+commit+"-dirty" {
		t.Errorf("untagged and modified: version %q, want v0.0.0-dev-%s-dirty", got, commit)
	}
	run("git", "tag", "v1.2.3")
	if got := version(); got != "v1.2.3-dirty" {
		t.Errorf("tagged and modified: version %q, want v1.2.3-dirty", got)
	}
	run("git", "checkout", "-q", ".")
	if got := version(); got != "v1.2.3" {
		t.Errorf("tagged: version %q, want v1.2.3", got)
	}
}
