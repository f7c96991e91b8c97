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
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// These tests run `tableau-operator check`, the binary TestMain built, against the simulator.

const (
	checkSite   = "finance"
	checkToken  = "finance-operator"
	checkSecret = "cGF0LXNlY3JldC1uZXZlci1wcmludA=="
)

type checkEnv struct {
	sim    *tableausim.Simulator
	srv    *tableausim.Server
	caFile string
	dir    string
}

func newCheckEnv(t *testing.T) *checkEnv {
	t.Helper()
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24", ProductVersion: "2024.2.0", Build: "20242.24.0711.1636", RequestIDHeader: "X-Request-Id"})
	sim.AddSite(checkSite, "Finance")
	if err := sim.AddPAT(checkSite, tableausim.PAT{Name: checkToken, Secret: checkSecret, Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &checkEnv{sim: sim, srv: srv, caFile: caFile, dir: dir}
}

type runResult struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"check"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	r := runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if strings.Contains(r.stdout+r.stderr, checkSecret) {
		t.Fatalf("the PAT secret appears in the output:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	return r
}

func (e *checkEnv) args(extra ...string) []string {
	return append([]string{"--server", e.srv.URL, "--site", checkSite, "--api-version", "3.24", "--token-name", checkToken,
		"--ca-file", e.caFile, "--timeout", "2s", "--output", "json"}, extra...)
}

var secretEnv = []string{"TABLEAU_PAT_SECRET=" + checkSecret}

func decode(t *testing.T, r runResult) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	for _, key := range []string{"ok", "bucket", "reason", "httpStatus", "tableauCode", "summary", "detail", "requestID",
		"serverAPIVersion", "productVersion", "remediation", "latencyMs"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON lacks key %q", key)
		}
	}
	return m
}

// checkCase is one run of the binary and what its verdict and the simulator's counts must say.
type checkCase struct {
	name     string
	setup    func(e *checkEnv)
	args     func(e *checkEnv) []string
	wantCode int
	want     map[string]any
	calls    map[string]int
}

// runCheckCases runs each case against a fresh environment from newEnv; stderrOK says whether
// stderr carries the right note about sessions, given whether check reached the simulator's sign-in.
func runCheckCases(t *testing.T, cases []checkCase, newEnv func(*testing.T) *checkEnv,
	runner func(*testing.T, []string, ...string) runResult, env []string, stderrOK func(stderr string, signedIn bool) bool) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			r := runner(t, env, tc.args(e)...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.wantCode, r.stdout, r.stderr)
			}
			m := decode(t, r)
			for k, v := range tc.want {
				if m[k] != v {
					t.Errorf("%s = %#v, want %#v", k, m[k], v)
				}
			}
			if m["remediation"] == "" {
				t.Error("no remediation")
			}
			if !stderrOK(r.stderr, e.sim.Calls("auth/signin") > 0) {
				t.Errorf("stderr lacks the note about sessions, or has the wrong one:\n%s", r.stderr)
			}
			for endpoint, n := range tc.calls {
				if got := e.sim.Calls(endpoint); got != n {
					t.Errorf("%s calls = %d, want %d", endpoint, got, n)
				}
			}
		})
	}
}

func TestCheckBuckets(t *testing.T) {
	t.Parallel()
	cases := []checkCase{
		{"healthy", nil, func(e *checkEnv) []string { return e.args() }, 0,
			map[string]any{"ok": true, "bucket": "", "reason": "SignedIn", "httpStatus": 0.0, "tableauCode": "",
				"serverAPIVersion": "3.24", "productVersion": "2024.2.0"},
			map[string]int{"serverinfo": 1, "auth/signin": 1, "auth/signout": 1}},
		{"revoked PAT", func(e *checkEnv) { _ = e.sim.RevokePAT(checkSite, checkToken) }, func(e *checkEnv) []string { return e.args() }, 1,
			map[string]any{"ok": false, "bucket": "AuthConfigDrift", "reason": "SignInRejected", "httpStatus": 401.0, "tableauCode": "401001",
				"summary": "Signin Error", "detail": "Error signing in to Tableau Server", "serverAPIVersion": "3.24"},
			map[string]int{"auth/signin": 1}},
		{"pin above the server", nil, func(e *checkEnv) []string {
			a := e.args()
			a[5] = "3.27"
			return a
		}, 1,
			map[string]any{"ok": false, "bucket": "APIVersionMismatch", "reason": "APIVersionAboveServer", "serverAPIVersion": "3.24"},
			map[string]int{"serverinfo": 1, "auth/signin": 0}},
		{"throttled until attempts run out", func(e *checkEnv) {
			e.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, Endpoint: "auth/signin"})
		}, func(e *checkEnv) []string { return e.args() }, 1,
			map[string]any{"ok": false, "bucket": "RateOrQuotaLimit", "reason": "RateLimited", "httpStatus": 429.0, "tableauCode": "", "summary": "429 Too Many Requests"},
			map[string]int{"auth/signin": 4}},
		{"WAF page", func(e *checkEnv) { e.sim.Inject(tableausim.Fault{Kind: tableausim.FaultWAF}) }, func(e *checkEnv) []string { return e.args() }, 1,
			map[string]any{"ok": false, "bucket": "EndpointMisconfigured", "reason": "NonTableauResponse", "httpStatus": 403.0, "tableauCode": ""},
			map[string]int{"serverinfo": 1, "auth/signin": 0}},
		{"unknown CA", nil, func(e *checkEnv) []string {
			a := e.args()
			return append(a[:8], a[10:]...) // drop --ca-file
		}, 1,
			map[string]any{"ok": false, "bucket": "EndpointMisconfigured", "reason": "TLSVerificationFailed", "httpStatus": 0.0},
			map[string]int{"serverinfo": 0}},
		{"server errors", func(e *checkEnv) {
			e.sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: "serverinfo"})
		},
			func(e *checkEnv) []string { return e.args() }, 1,
			map[string]any{"ok": false, "bucket": "ServerUnavailable", "reason": "ServerError", "httpStatus": 503.0},
			map[string]int{"serverinfo": 4, "auth/signin": 0}},
		{"recovers after one 503", func(e *checkEnv) {
			e.sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: "auth/signin", Times: 1})
		}, func(e *checkEnv) []string { return e.args() }, 0,
			map[string]any{"ok": true, "reason": "SignedIn"},
			map[string]int{"auth/signin": 2}},
	}
	// The warning comes right before the sign-in, so a check that never gets that far (the
	// server down, on an older version, behind a WAF) warns of nothing it did not do.
	runCheckCases(t, cases, newCheckEnv, run, secretEnv, func(stderr string, signedIn bool) bool {
		return strings.Contains(stderr, "ends every other session") == signedIn
	})
}

// TestCheckAgainstARefusingServer: with nothing listening, check retries serverinfo, never
// signs in, prints no warning about sessions, and its next step names the --server flag.
func TestCheckAgainstARefusingServer(t *testing.T) {
	t.Parallel()
	e := newCheckEnv(t)
	_ = e.srv.Close()
	r := run(t, secretEnv, e.args()...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "ends every other session") {
		t.Errorf("check warned about a sign-in it never made:\n%s", r.stderr)
	}
	m := decode(t, r)
	rem, _ := m["remediation"].(string)
	if m["bucket"] != "ServerUnavailable" || strings.Contains(rem, "spec.") || !strings.Contains(rem, "--server") {
		t.Errorf("bucket %v, next step %q: want ServerUnavailable and the --server flag, no spec field", m["bucket"], rem)
	}
}

func TestCheckRequestIDAndSecretFile(t *testing.T) {
	t.Parallel()
	e := newCheckEnv(t)
	secretFile := filepath.Join(e.dir, "secret")
	if err := os.WriteFile(secretFile, []byte(checkSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, e.args("--token-secret-file", secretFile)...)
	m := decode(t, r)
	if r.code != 0 || m["ok"] != true {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if id, _ := m["requestID"].(string); !strings.HasPrefix(id, "sim-") {
		t.Errorf("requestID = %q, want the simulator's", id)
	}
	if m["patExpiresAt"] == nil {
		t.Error("patExpiresAt missing though Tableau sent estimatedTimeToExpiration")
	}
}

func TestCheckTextOutputPutsTheVerdictFirst(t *testing.T) {
	t.Parallel()
	e := newCheckEnv(t)
	_ = e.sim.RevokePAT(checkSite, checkToken)
	a := e.args()
	r := run(t, secretEnv, append(a[:len(a)-2], "--output", "text")...)
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "FAILED: AuthConfigDrift (SignInRejected)") {
		t.Errorf("first line = %q", lines[0])
	}
	for _, want := range []string{"Next step:", "Evidence:", "HTTP status   401", "Tableau code  401001", "request id    sim-"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
	e2 := newCheckEnv(t)
	a2 := e2.args()
	r2 := run(t, secretEnv, append(a2[:len(a2)-2], "--output", "text")...)
	if r2.code != 0 || !strings.HasPrefix(r2.stdout, "OK: sign-in works.") {
		t.Errorf("healthy text output:\n%s", r2.stdout)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	t.Parallel()
	e := newCheckEnv(t)
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"missing flags", secretEnv, []string{"--server", e.srv.URL}, "missing --api-version, --token-name"},
		{"secret as a flag", secretEnv, append(e.args(), "--token-secret="+checkSecret), "never a flag value"},
		{"no secret", []string{"TABLEAU_PAT_SECRET="}, e.args(), "no PAT secret"},
		{"bad output", secretEnv, append(e.args(), "--output", "yaml"), "--output must be text or json"},
		{"bad server", secretEnv, append(e.args(), "--server", "tableau.example.com"), "must start with https://"},
		{"missing CA file", secretEnv, append(e.args(), "--ca-file", "/nonexistent/ca.crt"), "reading --ca-file"},
		{"unknown flag", secretEnv, append(e.args(), "--bogus"), "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.env, tc.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
		})
	}
	if e.sim.Calls("serverinfo")+e.sim.Calls("auth/signin") != 0 {
		t.Error("a usage error must make no call")
	}
}

func TestOperatorRejectsABadAllowedServersPattern(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binary, "--allowed-servers=*.online.tableau.com,https://tableau.example.com", "--metrics-bind-address=0", "--health-probe-bind-address=0")
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent/kubeconfig")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2\n%s", err, out)
	}
	if !strings.Contains(string(out), `"https://tableau.example.com" is not a host pattern`) {
		t.Errorf("output does not name the bad pattern:\n%s", out)
	}
}
