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
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// `tableau-operator check --connected-app` against the simulator, through the real binary.

const (
	appClientID = "3f2e1d0c-aaaa-4bbb-8ccc-000000000001"
	appSecretID = "3f2e1d0c-aaaa-4bbb-8ccc-000000000002"
	appSecret   = "Y29ubmVjdGVkLWFwcC12YWx1ZS1uZXZlci1wcmludA=="
	appUser     = "ana@example.com"
)

// jwtShape finds anything that looks like a JWT (base64url JSON header and payload).
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+`)

func newAppCheckEnv(t *testing.T) *checkEnv {
	t.Helper()
	e := newCheckEnv(t)
	if err := e.sim.AddConnectedApp(checkSite, tableausim.ConnectedApp{ClientID: appClientID, Name: "operator"}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddConnectedAppSecret(checkSite, appClientID, appSecretID, appSecret); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AddUser(checkSite, appUser, "Explorer"); err != nil {
		t.Fatal(err)
	}
	return e
}

// must stops a case's setup, which runs without its subtest's *testing.T.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

func (e *checkEnv) appArgs(extra ...string) []string {
	return append([]string{"--connected-app", "--server", e.srv.URL, "--site", checkSite, "--api-version", "3.24",
		"--client-id", appClientID, "--secret-id", appSecretID, "--username", appUser, "--scopes", "tableau:content:read, tableau:users:read",
		"--ca-file", e.caFile, "--timeout", "2s", "--output", "json"}, extra...)
}

var appSecretEnv = []string{"TABLEAU_CONNECTED_APP_SECRET=" + appSecret}

// runApp is run plus the connected-app leak check: no secret value and no JWT in any output.
func runApp(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	r := run(t, env, args...)
	out := r.stdout + r.stderr
	if strings.Contains(out, appSecret) {
		t.Fatalf("the connected app's secret value appears in the output:\n%s", out)
	}
	if jwt := jwtShape.FindString(out); jwt != "" {
		t.Fatalf("a JWT appears in the output: %s\n%s", jwt, out)
	}
	return r
}

func TestCheckConnectedApp(t *testing.T) {
	t.Parallel()
	cases := []checkCase{
		{"healthy", nil, func(e *checkEnv) []string { return e.appArgs() }, 0,
			map[string]any{"ok": true, "reason": "SignedIn", "auth": "ConnectedApp", "clientId": appClientID, "secretId": appSecretID,
				"username": appUser, "tokenName": "", "serverAPIVersion": "3.24"},
			map[string]int{"serverinfo": 1, "auth/signin": 1, "auth/signout": 1}},
		{"secret id of no secret", nil, func(e *checkEnv) []string {
			return e.appArgs("--secret-id", "3f2e1d0c-aaaa-4bbb-8ccc-0000000000ff")
		}, 1,
			map[string]any{"ok": false, "bucket": "AuthConfigDrift", "reason": "ConnectedAppSecretNotFound", "httpStatus": 401.0, "tableauCode": "401001",
				"detail": "Error signing in to Tableau Server (127)"},
			map[string]int{"auth/signin": 1}},
		{"secret deleted on Tableau", func(e *checkEnv) {
			must(e.sim.AddConnectedApp(checkSite, tableausim.ConnectedApp{ClientID: appClientID})) // replaced: no secrets
		}, func(e *checkEnv) []string { return e.appArgs() }, 1,
			map[string]any{"ok": false, "reason": "ConnectedAppSecretNotFound"}, nil},
		{"user not on the site", nil, func(e *checkEnv) []string { return e.appArgs("--username", "Ana@example.com") }, 1,
			map[string]any{"ok": false, "bucket": "AuthConfigDrift", "reason": "ConnectedAppUserNotFound"}, nil},
		{"disabled app", func(e *checkEnv) {
			must(e.sim.AddConnectedApp(checkSite, tableausim.ConnectedApp{ClientID: appClientID, Disabled: true}))
			must(e.sim.AddConnectedAppSecret(checkSite, appClientID, appSecretID, appSecret))
		}, func(e *checkEnv) []string { return e.appArgs() }, 1,
			map[string]any{"ok": false, "reason": "ConnectedAppNotFound"}, nil},
		{"pin below JWT sign-in", nil, func(e *checkEnv) []string { return e.appArgs("--api-version", "3.16") }, 1,
			map[string]any{"ok": false, "bucket": "APIVersionMismatch", "reason": "APIVersionTooLowForMethod"},
			map[string]int{"serverinfo": 1, "auth/signin": 0}},
		{"pin above the server", nil, func(e *checkEnv) []string { return e.appArgs("--api-version", "3.27") }, 1,
			map[string]any{"ok": false, "bucket": "APIVersionMismatch", "reason": "APIVersionAboveServer"},
			map[string]int{"auth/signin": 0}},
		{"throttled sign-in recovers", func(e *checkEnv) {
			e.sim.Inject(tableausim.Fault{Kind: tableausim.FaultRateLimitXML, Endpoint: "auth/signin", Times: 1})
		}, func(e *checkEnv) []string { return e.appArgs() }, 0,
			map[string]any{"ok": true, "reason": "SignedIn"},
			map[string]int{"auth/signin": 2}},
	}
	runCheckCases(t, cases, newAppCheckEnv, runApp, appSecretEnv, func(stderr string, signedIn bool) bool {
		return (strings.Contains(stderr, "ends no other session") || !signedIn) && !strings.Contains(stderr, "ends every other session")
	})
}

// TestCheckConnectedAppEndsNoSession: a workload's live PAT session survives connected-app checks.
func TestCheckConnectedAppEndsNoSession(t *testing.T) {
	t.Parallel()
	e := newAppCheckEnv(t)
	if err := e.sim.AddPAT(checkSite, tableausim.PAT{Name: "workload", Secret: "workload-secret"}); err != nil {
		t.Fatal(err)
	}
	// The workload signs in straight through the simulator's handler and keeps its session.
	req := httptest.NewRequest("POST", "/api/3.24/auth/signin", strings.NewReader(
		`<tsRequest><credentials personalAccessTokenName="workload" personalAccessTokenSecret="workload-secret"><site contentUrl="`+checkSite+`"/></credentials></tsRequest>`))
	req.Header.Set("Content-Type", "application/xml")
	rec := httptest.NewRecorder()
	e.sim.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("workload sign-in: %d %s", rec.Code, rec.Body)
	}
	for i := 0; i < 2; i++ {
		if r := runApp(t, appSecretEnv, e.appArgs()...); r.code != 0 {
			t.Fatalf("check %d: %s %s", i, r.stdout, r.stderr)
		}
	}
	if state, _ := e.sim.PATState(checkSite, "workload"); !state.HasSession {
		t.Error("the workload's PAT session ended")
	}
}

func TestCheckConnectedAppTextAndSecretFile(t *testing.T) {
	t.Parallel()
	e := newAppCheckEnv(t)
	file := filepath.Join(e.dir, "app-secret")
	if err := os.WriteFile(file, []byte(appSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := e.appArgs()
	r := runApp(t, nil, append(a[:len(a)-2], "--output", "text", "--secret-value-file", file)...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "OK: sign-in works.") {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"through connected app " + appClientID, "client id     " + appClientID, "secret id     " + appSecretID, "username      " + appUser} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCheckConnectedAppUsageErrors(t *testing.T) {
	t.Parallel()
	e := newAppCheckEnv(t)
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"missing app flags", appSecretEnv, []string{"--connected-app", "--server", e.srv.URL, "--api-version", "3.24"},
			"missing --client-id, --secret-id, --username, --scopes"},
		{"secret value as a flag", appSecretEnv, append(e.appArgs(), "--secret-value="+appSecret), "never a flag value"},
		{"no secret value", []string{"TABLEAU_CONNECTED_APP_SECRET="}, e.appArgs(), "no connected-app secret value"},
		{"bad scope", appSecretEnv, e.appArgs("--scopes", "tableau:content:read,content:write"), "tableau:<resource>:<action>"},
		{"no scope", appSecretEnv, e.appArgs("--scopes", " , "), "no JWT scopes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runApp(t, tc.env, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, tc.want, r.stderr)
			}
		})
	}
	if n := len(e.sim.AllCalls()); n != 0 {
		t.Errorf("a usage error must make no call: %v", e.sim.AllCalls())
	}
}
