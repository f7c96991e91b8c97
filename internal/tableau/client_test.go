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

package tableau_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const (
	site       = "finance"
	tokenName  = "finance-operator"
	secretText = "pat-secret-Zm9vYmFyYmF6"
)

var start = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	sim   *tableausim.Simulator
	clock *tableausim.ManualClock
	srv   *tableausim.Server
}

func newFixture(t *testing.T, cfg tableausim.Config, tls bool) *fixture {
	t.Helper()
	clock := tableausim.NewManualClock(start)
	cfg.Clock = clock
	sim := tableausim.New(cfg)
	sim.AddSite(site, "Finance")
	sim.AddSite("", "Default")
	if err := sim.AddPAT(site, tableausim.PAT{Name: tokenName, Secret: secretText, Created: start, Expires: start.Add(180 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var srv *tableausim.Server
	var err error
	if tls {
		srv, err = sim.ServeTLS("127.0.0.1:0")
	} else {
		srv, err = sim.Serve("127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &fixture{sim: sim, clock: clock, srv: srv}
}

func (f *fixture) client(t *testing.T, format tableau.Format, opts ...func(*tableau.Options)) *tableau.Client {
	t.Helper()
	o := tableau.Options{Server: f.srv.URL, APIVersion: "3.24", Format: format, CACertPEM: f.srv.CAPEM, Timeout: 5 * time.Second}
	for _, fn := range opts {
		fn(&o)
	}
	c, err := tableau.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var pat = tableau.PersonalAccessToken{Name: tokenName, Secret: tableau.NewSecret(secretText)}

func mustTableauError(t *testing.T, err error) *tableau.Error {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	te, ok := tableau.AsError(err)
	if !ok {
		t.Fatalf("want *tableau.Error, got %T: %v", err, err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, te, te), secretText) {
		t.Fatalf("the PAT secret leaked into the error: %v", err)
	}
	return te
}

func TestServerInfoInBothFormatsAndNamespaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    tableausim.Config
		format tableau.Format
	}{
		{"XML", tableausim.Config{}, tableau.FormatXML},
		{"XML legacy namespace without declaration", tableausim.Config{LegacyNamespace: true, OmitXMLDeclaration: true}, tableau.FormatXML},
		{"JSON", tableausim.Config{}, tableau.FormatJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.RESTAPIVersion, tc.cfg.ProductVersion, tc.cfg.Build = "3.27", "2025.3.0", "20253.25.0903.0012"
			f := newFixture(t, tc.cfg, true)
			info, err := f.client(t, tc.format).ServerInfo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if info.RESTAPIVersion != "3.27" || info.ProductVersion != "2025.3.0" || info.Build != "20253.25.0903.0012" {
				t.Errorf("serverinfo = %+v", info)
			}
		})
	}
}

func TestSignInSessionSignOut(t *testing.T) {
	for _, format := range []tableau.Format{tableau.FormatXML, tableau.FormatJSON} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			f := newFixture(t, tableausim.Config{}, true)
			c := f.client(t, format)
			ctx := context.Background()
			s, err := c.SignInWithPAT(ctx, site, pat)
			if err != nil {
				t.Fatal(err)
			}
			if s.SiteContentURL != site || s.SiteID == "" || s.UserID == "" || s.Token.Empty() {
				t.Errorf("session = %+v", s)
			}
			if !s.PATExpiryKnown || s.PATExpiresIn != 180*24*time.Hour {
				t.Errorf("PAT expiry = %v (known %v), want 180 days", s.PATExpiresIn, s.PATExpiryKnown)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v %s", s, s, s, s.Token), s.Token.Reveal()) {
				t.Error("printing a session shows its token")
			}
			info, err := c.CurrentSession(ctx, s)
			if err != nil || info.SiteContentURL != site || info.UserName != tokenName {
				t.Fatalf("current session = %+v, %v", info, err)
			}
			if err := c.SignOut(ctx, s); err != nil {
				t.Fatal(err)
			}
			_, err = c.CurrentSession(ctx, s)
			if te := mustTableauError(t, err); te.HTTPStatus != 401 || te.Code != "401002" {
				t.Errorf("after sign-out: %v, want 401 401002", te)
			}
		})
	}
}

func TestASecondSignInWithTheSamePATEndsTheFirstSession(t *testing.T) {
	f := newFixture(t, tableausim.Config{}, true)
	c := f.client(t, tableau.FormatXML)
	ctx := context.Background()
	workload, err := c.SignInWithPAT(ctx, site, pat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CurrentSession(ctx, workload); err != nil {
		t.Fatalf("the workload's session should work: %v", err)
	}
	if _, err := c.SignInWithPAT(ctx, site, pat); err != nil {
		t.Fatal(err)
	}
	_, err = c.CurrentSession(ctx, workload)
	te := mustTableauError(t, err)
	if te.Code != "401002" || te.Detail != "Invalid authentication credentials were provided." {
		t.Errorf("the first session got %v, want 401002", te)
	}
}

func TestPATExpiry(t *testing.T) {
	ctx := context.Background()
	t.Run("idle for 15 days", func(t *testing.T) {
		f := newFixture(t, tableausim.Config{}, true)
		c := f.client(t, tableau.FormatXML)
		f.clock.Advance(14 * 24 * time.Hour)
		if _, err := c.SignInWithPAT(ctx, site, pat); err != nil {
			t.Fatalf("a PAT used within 15 days must work: %v", err)
		}
		f.clock.Advance(14 * 24 * time.Hour)
		if _, err := c.SignInWithPAT(ctx, site, pat); err != nil {
			t.Fatalf("use resets the idle clock: %v", err)
		}
		f.clock.Advance(15 * 24 * time.Hour)
		_, err := c.SignInWithPAT(ctx, site, pat)
		if te := mustTableauError(t, err); te.HTTPStatus != 401 || te.Code != "401001" {
			t.Errorf("idle PAT: %v, want 401001", te)
		}
	})
	t.Run("absolute expiry", func(t *testing.T) {
		f := newFixture(t, tableausim.Config{}, false)
		if err := f.sim.AddPAT(site, tableausim.PAT{Name: "short", Secret: "short-secret", Created: start, Expires: start.Add(10 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		c := f.client(t, tableau.FormatJSON, func(o *tableau.Options) { o.CACertPEM = nil })
		short := tableau.PersonalAccessToken{Name: "short", Secret: tableau.NewSecret("short-secret")}
		f.clock.Advance(9*24*time.Hour + 90*time.Minute)
		s, err := c.SignInWithPAT(ctx, site, short)
		if err != nil {
			t.Fatal(err)
		}
		if want := 22*time.Hour + 30*time.Minute; s.PATExpiresIn != want {
			t.Errorf("estimatedTimeToExpiration = %v, want %v", s.PATExpiresIn, want)
		}
		f.clock.Advance(23 * time.Hour)
		_, err = c.SignInWithPAT(ctx, site, short)
		if te := mustTableauError(t, err); te.Code != "401001" {
			t.Errorf("expired PAT: %v, want 401001", te)
		}
	})
}

func TestSignInRejections(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, tableausim.Config{RESTAPIVersion: "3.24"}, true)
	if err := f.sim.AddPAT(site, tableausim.PAT{Name: "revoked", Secret: "revoked-secret"}); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.RevokePAT(site, "revoked"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                string
		site                string
		pat                 tableau.PersonalAccessToken
		apiVersion          string
		wantStatus          int
		wantCode, wantInDet string
	}{
		{"wrong secret", site, tableau.PersonalAccessToken{Name: tokenName, Secret: tableau.NewSecret("wrong")}, "3.24", 401, "401001", "Error signing in"},
		{"revoked", site, tableau.PersonalAccessToken{Name: "revoked", Secret: tableau.NewSecret("revoked-secret")}, "3.24", 401, "401001", "Error signing in"},
		{"site that does not exist", "nosuchsite", pat, "3.24", 401, "401001", "Error signing in"},
		{"version above the server", site, pat, "3.30", 404, "404001", "Version '3.30' is not a valid version of the API."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client(t, tableau.FormatXML, func(o *tableau.Options) { o.APIVersion = tc.apiVersion })
			_, err := c.SignInWithPAT(ctx, tc.site, tc.pat)
			te := mustTableauError(t, err)
			if te.HTTPStatus != tc.wantStatus || te.Code != tc.wantCode || !strings.Contains(te.Detail, tc.wantInDet) || te.Body != tableau.BodyTableauXML {
				t.Errorf("got %+v, want %d %s %q", te, tc.wantStatus, tc.wantCode, tc.wantInDet)
			}
			if !strings.Contains(te.Endpoint, "POST /api/"+tc.apiVersion+"/auth/signin") {
				t.Errorf("endpoint = %q", te.Endpoint)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		fault tableausim.Fault
		check func(t *testing.T, te *tableau.Error)
	}{
		{"429 with HTML and Retry-After", tableausim.Fault{Kind: tableausim.FaultRateLimitHTML, RetryAfter: "7"}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 429 || te.Body != tableau.BodyHTML || te.RetryAfter != 7*time.Second || te.Summary != "429 Too Many Requests" {
				t.Errorf("got %+v", te)
			}
		}},
		{"429 with tsResponse", tableausim.Fault{Kind: tableausim.FaultRateLimitXML}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 429 || te.Code != "429000" || te.RetryAfter != 0 {
				t.Errorf("got %+v", te)
			}
		}},
		{"502 page", tableausim.Fault{Kind: tableausim.FaultServerError, Status: 502}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 502 || te.Body != tableau.BodyHTML {
				t.Errorf("got %+v", te)
			}
		}},
		{"dropped connection", tableausim.Fault{Kind: tableausim.FaultDrop}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 0 || te.Transport != tableau.TransportReset {
				t.Errorf("got %+v", te)
			}
		}},
		{"latency past the timeout", tableausim.Fault{Kind: tableausim.FaultLatency, Delay: 2 * time.Second}, func(t *testing.T, te *tableau.Error) {
			if te.Transport != tableau.TransportTimeout {
				t.Errorf("got %+v", te)
			}
		}},
		{"truncated body", tableausim.Fault{Kind: tableausim.FaultMalformed}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 200 || te.Body != tableau.BodyMalformed || te.Cause == nil {
				t.Errorf("got %+v", te)
			}
		}},
		{"redirect to another host", tableausim.Fault{Kind: tableausim.FaultRedirect, RedirectTo: "https://10ay.online.tableau.com"}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 301 || te.RedirectHost != "10ay.online.tableau.com" {
				t.Errorf("got %+v", te)
			}
		}},
		{"TSM port", tableausim.Fault{Kind: tableausim.FaultTSM}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 401 || te.Body != tableau.BodyTSMJSON || te.Code != "" {
				t.Errorf("got %+v", te)
			}
		}},
		{"WAF page", tableausim.Fault{Kind: tableausim.FaultWAF}, func(t *testing.T, te *tableau.Error) {
			if te.HTTPStatus != 403 || te.Body != tableau.BodyHTML || te.Code != "" {
				t.Errorf("got %+v", te)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tableausim.Config{}, true)
			tc.fault.Endpoint, tc.fault.Times = tableau.EndpointSignIn, 1
			f.sim.Inject(tc.fault)
			c := f.client(t, tableau.FormatXML, func(o *tableau.Options) { o.Timeout = 500 * time.Millisecond })
			_, err := c.SignInWithPAT(ctx, site, pat)
			tc.check(t, mustTableauError(t, err))
			if n := f.sim.Calls(tableau.EndpointSignIn); n != 1 {
				t.Errorf("sign-in calls = %d, want exactly 1 (no hidden retries, no redirect followed)", n)
			}
			if _, err := c.SignInWithPAT(ctx, site, pat); err != nil {
				t.Errorf("after the fault is spent, sign-in should work: %v", err)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, tableausim.Config{}, true)
	_, err := f.client(t, tableau.FormatXML, func(o *tableau.Options) { o.CACertPEM = nil }).ServerInfo(ctx)
	if te := mustTableauError(t, err); te.Transport != tableau.TransportTLS {
		t.Errorf("without the CA: %+v, want a TLS verification failure", te)
	}
	if _, err := tableau.New(tableau.Options{Server: f.srv.URL, APIVersion: "3.24", CACertPEM: []byte("not PEM")}); err == nil {
		t.Error("a CA bundle without certificates must be rejected")
	}
	plain := newFixture(t, tableausim.Config{}, false)
	httpsToHTTP := strings.Replace(plain.srv.URL, "http://", "https://", 1)
	c, err := tableau.New(tableau.Options{Server: httpsToHTTP, APIVersion: "3.24", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServerInfo(ctx)
	if te := mustTableauError(t, err); te.Transport != tableau.TransportTLS {
		t.Errorf("https to an http port: %+v, want TLS", te)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c, err := tableau.New(tableau.Options{Server: "http://" + addr, APIVersion: "3.24", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServerInfo(context.Background())
	if te := mustTableauError(t, err); te.Transport != tableau.TransportRefused || te.HTTPStatus != 0 {
		t.Errorf("got %+v, want ConnectionRefused", te)
	}
}

func TestLargeBodyIsNotBuffered(t *testing.T) {
	var written atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Type", "application/xml")
		chunk := []byte(strings.Repeat("<a>", 1<<14))
		for written.Load() < 64<<20 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := tableau.New(tableau.Options{Server: srv.URL, APIVersion: "3.24"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ServerInfo(context.Background())
	te := mustTableauError(t, err)
	if te.Body != tableau.BodyTooLarge {
		t.Errorf("got %+v, want a TooLarge body", te)
	}
	<-done
	if w := written.Load(); w >= 64<<20 {
		t.Errorf("the server could write all %d bytes: the client read the whole body", w)
	}
}

// echoingProxyClient is a client of a proxy that answers 403 with a page quoting the request body.
func echoingProxyClient(t *testing.T) *tableau.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, "<html><title>Blocked: %s</title></html>", body)
	}))
	t.Cleanup(srv.Close)
	c, err := tableau.New(tableau.Options{Server: srv.URL, APIVersion: "3.24", Format: tableau.FormatJSON})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSecretEchoedByAProxyIsScrubbed(t *testing.T) {
	_, err := echoingProxyClient(t).SignInWithPAT(context.Background(), site, pat)
	te := mustTableauError(t, err)
	if !strings.Contains(te.Summary, "[redacted]") {
		t.Errorf("summary = %q, want the echoed secret replaced", te.Summary)
	}
}

func TestObserverSeesEveryCall(t *testing.T) {
	f := newFixture(t, tableausim.Config{}, true)
	var mu sync.Mutex
	var calls []tableau.Call
	c := f.client(t, tableau.FormatJSON, func(o *tableau.Options) {
		o.Observe = func(call tableau.Call) { mu.Lock(); calls = append(calls, call); mu.Unlock() }
	})
	ctx := context.Background()
	_, _ = c.ServerInfo(ctx)
	_, _ = c.SignInWithPAT(ctx, site, tableau.PersonalAccessToken{Name: tokenName, Secret: tableau.NewSecret("wrong")})
	var got []string
	for _, call := range calls {
		got = append(got, fmt.Sprintf("%s %d %s", call.Endpoint, call.HTTPStatus, call.Code))
	}
	want := []string{"serverinfo 200 ", "auth/signin 401 401001"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

func TestOptionsAreValidated(t *testing.T) {
	for _, o := range []tableau.Options{
		{Server: "tableau.example.com", APIVersion: "3.24"},
		{Server: "https://u:p@tableau.example.com", APIVersion: "3.24"},
		{Server: "https://tableau.example.com/api", APIVersion: "3.24"},
		{Server: "https://tableau.example.com?x=1", APIVersion: "3.24"},
		{Server: "https://tableau.example.com", APIVersion: "latest"},
	} {
		if _, err := tableau.New(o); err == nil {
			t.Errorf("New(%+v) accepted bad options", o)
		}
	}
	if _, err := tableau.New(tableau.Options{Server: "https://tableau.example.com/", APIVersion: "3.24"}); err != nil {
		t.Errorf("a trailing slash is fine: %v", err)
	}
}

func TestParseEstimatedTimeToExpiration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"177:05:38": 177*24*time.Hour + 5*time.Hour + 38*time.Minute,
		" 0:00:01 ": time.Minute,
		"05:30":     5*time.Hour + 30*time.Minute,
		"3600":      time.Hour,
	} {
		if got, ok := tableau.ParseEstimatedTimeToExpiration(in); !ok || got != want {
			t.Errorf("%q = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "x:1:2", "1:2:3:4", "-1:00:00"} {
		if _, ok := tableau.ParseEstimatedTimeToExpiration(bad); ok {
			t.Errorf("%q parsed, want rejected", bad)
		}
	}
}

func TestErrorsAreComparable(t *testing.T) {
	var te *tableau.Error
	err := fmt.Errorf("wrapped: %w", &tableau.Error{Endpoint: "GET /api/2.4/serverinfo", HTTPStatus: 503})
	if !errors.As(err, &te) || te.HTTPStatus != 503 {
		t.Error("AsError must find a wrapped *Error")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := tableau.NewSecret(secretText)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %#v %+v", s, s, s, s, s, s), fmt.Sprintf("%v", pat), fmt.Sprintf("%+v", pat)} {
		if strings.Contains(out, secretText) {
			t.Errorf("printed: %s", out)
		}
	}
	b, err := json.Marshal(struct{ S tableau.Secret }{s})
	if err != nil || strings.Contains(string(b), secretText) {
		t.Errorf("JSON: %s %v", b, err)
	}
	if s.Reveal() != secretText || s.Empty() || !tableau.NewSecret("").Empty() {
		t.Error("Reveal/Empty")
	}
}
