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

package tableausim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// These tests read the simulator's raw answers, without the client, to pin the wire shapes
// to the reference (shared/reference/tableau-rest.md).

func do(t *testing.T, s *Simulator, method, path, accept, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func newSim(t *testing.T) (*Simulator, *ManualClock) {
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := New(Config{RESTAPIVersion: "3.24", Clock: clock})
	s.AddSite("acme", "Acme")
	if err := s.AddPAT("acme", PAT{Name: "tok", Secret: "sec", Expires: clock.Now().Add(48*time.Hour + 90*time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func TestWireShapes(t *testing.T) {
	s, _ := newSim(t)
	cases := []struct {
		name, method, path, accept, ctype, body string
		wantStatus                              int
		wantType                                string
		wantBody                                []string
	}{
		{"serverinfo XML by default", "GET", "/api/2.4/serverinfo", "", "", "", 200, "text/xml;charset=UTF-8",
			[]string{"<?xml version='1.0' encoding='UTF-8'?>", `<tsResponse xmlns="http://tableau.com/api"`, `<restApiVersion>3.24</restApiVersion>`}},
		{"serverinfo JSON", "GET", "/api/3.0/serverinfo", "application/json", "", "", 200, "application/json;charset=UTF-8",
			[]string{`"restApiVersion":"3.24"`, `"productVersion":{"value":"2024.2.0"`}},
		{"serverinfo before 2.4", "GET", "/api/2.3/serverinfo", "application/xml", "", "", 404, "application/xml;charset=UTF-8",
			[]string{`<error code="404003">`, "Unknown resource '/2.3/serverInfo' specified in URI."}},
		{"version above the server", "POST", "/api/3.25/auth/signin", "application/json", "application/json", `{}`, 404, "application/json;charset=UTF-8",
			[]string{`"code":"404001"`, `Version '3.25' is not a valid version of the API.`}},
		{"JSON sign-in rejected, code as a string", "POST", "/api/3.24/auth/signin", "application/json", "application/json",
			`{"credentials":{"personalAccessTokenName":"tok","personalAccessTokenSecret":"nope","site":{"contentUrl":"acme"}}}`, 401, "application/json;charset=UTF-8",
			[]string{`{"error":{"summary":"Signin Error","detail":"Error signing in to Tableau Server","code":"401001"}}`}},
		{"XML sign-in", "POST", "/api/3.24/auth/signin", "", "application/xml",
			`<tsRequest><credentials personalAccessTokenName="tok" personalAccessTokenSecret="sec"><site contentUrl="acme"/></credentials></tsRequest>`, 200, "text/xml;charset=UTF-8",
			[]string{`<credentials token="`, `estimatedTimeToExpiration="2:01:30"`, `contentUrl="acme"/><user id="`}},
		{"malformed sign-in", "POST", "/api/3.24/auth/signin", "", "application/xml", `<tsRequest>`, 400, "text/xml;charset=UTF-8",
			[]string{`<error code="400000">`}},
		{"sign-in by GET", "GET", "/api/3.24/auth/signin", "", "", "", 405, "text/xml;charset=UTF-8",
			[]string{`<error code="405000">`, "The HTTP method 'GET' is not supported for the given resource"}},
		{"no token", "GET", "/api/3.24/sessions/current", "", "", "", 401, "text/xml;charset=UTF-8",
			[]string{`<error code="401000">`, "No authentication credentials were provided"}},
		{"unknown path", "GET", "/foo", "", "", "", 404, "text/xml;charset=UTF-8", []string{`<error code="404003">`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, s, tc.method, tc.path, tc.accept, tc.ctype, tc.body)
			if res.StatusCode != tc.wantStatus || res.Header.Get("Content-Type") != tc.wantType {
				t.Fatalf("%d %s, want %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), tc.wantStatus, tc.wantType, body)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestOneSessionPerPATAndSignOut(t *testing.T) {
	s, clock := newSim(t)
	signIn := func() string {
		_, body := do(t, s, "POST", "/api/3.24/auth/signin", "application/json", "application/json",
			`{"credentials":{"personalAccessTokenName":"tok","personalAccessTokenSecret":"sec","site":{"contentUrl":"acme"}}}`)
		i := strings.Index(body, `"token":"`)
		if i < 0 {
			t.Fatalf("no token: %s", body)
		}
		rest := body[i+len(`"token":"`):]
		return rest[:strings.Index(rest, `"`)]
	}
	first := signIn()
	if res, _ := do(t, s, "GET", "/api/3.24/sessions/current", "", "", "", "X-Tableau-Auth", first); res.StatusCode != 200 {
		t.Fatalf("first session: %d", res.StatusCode)
	}
	second := signIn()
	res, body := do(t, s, "GET", "/api/3.24/sessions/current", "", "", "", "X-Tableau-Auth", first)
	if res.StatusCode != 401 || !strings.Contains(body, `code="401002"`) {
		t.Fatalf("first session after a second sign-in: %d %s", res.StatusCode, body)
	}
	if st, _ := s.PATState("acme", "tok"); !st.HasSession {
		t.Error("the second session should be live")
	}
	if res, _ := do(t, s, "POST", "/api/3.24/auth/signout", "", "", "", "X-Tableau-Auth", second); res.StatusCode != 204 {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if st, _ := s.PATState("acme", "tok"); st.HasSession {
		t.Error("sign-out must end the session")
	}
	third := signIn()
	clock.Advance(DefaultSessionIdle)
	if res, _ := do(t, s, "GET", "/api/3.24/sessions/current", "", "", "", "X-Tableau-Auth", third); res.StatusCode != 401 {
		t.Errorf("an idle session must end: %d", res.StatusCode)
	}
	if got := s.Calls("auth/signin"); got != 3 {
		t.Errorf("sign-in calls = %d, want 3", got)
	}
}

func TestEstimatedTimeToExpirationFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		177*24*time.Hour + 5*time.Hour + 38*time.Minute: "177:05:38",
		59 * time.Second: "0:00:00",
		-time.Hour:       "0:00:00",
	} {
		if got := estimatedTimeToExpiration(d); got != want {
			t.Errorf("%v = %q, want %q", d, got, want)
		}
	}
}

func TestFaultsAreCountedAndSpent(t *testing.T) {
	s, _ := newSim(t)
	s.Inject(Fault{Kind: FaultRateLimitXML, Endpoint: "serverinfo", Times: 2, RetryAfter: "3"})
	for i, want := range []int{429, 429, 200} {
		res, body := do(t, s, "GET", "/api/2.4/serverinfo", "", "", "")
		if res.StatusCode != want {
			t.Fatalf("call %d: %d, want %d", i, res.StatusCode, want)
		}
		if want == 429 && (res.Header.Get("Retry-After") != "3" || !strings.Contains(body, `code="429000"`)) {
			t.Errorf("429 answer: %v %s", res.Header, body)
		}
	}
	if s.Calls("serverinfo") != 3 {
		t.Errorf("calls = %d", s.Calls("serverinfo"))
	}
}

// TestSignInLog: every sign-in request is logged with its site and the request id it got.
func TestSignInLog(t *testing.T) {
	sim := New(Config{RequestIDHeader: "X-Request-Id"})
	sim.AddSite("alpha", "alpha")
	if err := sim.AddPAT("alpha", PAT{Name: "op", Secret: "right"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	var ids []string
	for _, secret := range []string{"right", "wrong"} {
		body := `<tsRequest><credentials personalAccessTokenName="op" personalAccessTokenSecret="` + secret + `"><site contentUrl="alpha"/></credentials></tsRequest>`
		resp, err := http.Post(srv.URL+"/api/3.24/auth/signin", "application/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		ids = append(ids, resp.Header.Get("X-Request-Id"))
	}
	got := sim.SignIns()
	if len(got) != 2 || got[0] != (SignInCall{Site: "alpha", RequestID: ids[0]}) || got[1] != (SignInCall{Site: "alpha", RequestID: ids[1]}) {
		t.Errorf("sign-in log %+v, want alpha with %v", got, ids)
	}
}
