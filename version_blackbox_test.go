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

package main_test

import (
	"bytes"
	"errors"
	"os/exec"
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

// The stamped values (-ldflags from hack/version.sh) are checked on the image's binary in
// TestImage; this binary is a plain `go build`.
func TestVersionCommand(t *testing.T) {
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
