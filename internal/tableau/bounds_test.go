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

package tableau

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// huge is a 1 MB field, with multi-byte runes so a cut can split one.
var huge = strings.Repeat("é", 1<<19)

// TestEveryDecodedStringIsBounded feeds each string Tableau or the network sends (codes,
// summaries, details, HTML titles, request ids, redirect hosts, versions, ids) at 1 MB and
// asserts what the client returns, and the error text built from it, stays small and valid.
func TestEveryDecodedStringIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(w http.ResponseWriter)
	}{
		{"XML error code", func(w http.ResponseWriter) {
			xmlError(w, 401, huge, "Signin Error", "Error signing in")
		}},
		{"XML summary and detail", func(w http.ResponseWriter) { xmlError(w, 401, "401001", huge, huge) }},
		{"JSON error code, summary and detail", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"code":%q,"summary":%q,"detail":%q}}`, huge, huge, huge)
		}},
		{"HTML title", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(429)
			fmt.Fprintf(w, "<html><head><title>%s</title></head></html>", huge)
		}},
		{"HTML heading", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			fmt.Fprintf(w, "<html><body><h1>%s</h1></body></html>", huge)
		}},
		{"request id header", func(w http.ResponseWriter) {
			w.Header().Set("X-Request-Id", huge)
			xmlError(w, 503, "500000", "Internal", "x")
		}},
		{"redirect location", func(w http.ResponseWriter) {
			w.Header().Set("Location", "https://"+strings.Repeat("a", 1<<20)+".example/api")
			w.WriteHeader(301)
		}},
		{"plain text body", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(502)
			fmt.Fprint(w, huge)
		}},
		{"malformed XML element name", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(500)
			fmt.Fprintf(w, "<tsResponse><%s></tsResponse>", strings.Repeat("x", 1<<20))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tc.serve(w) }))
			defer srv.Close()
			c, err := New(Options{Server: srv.URL, APIVersion: "3.24", MaxBodyBytes: 8 << 20})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SignInWithPAT(context.Background(), "", PersonalAccessToken{Name: "n", Secret: NewSecret("fake-secret-value")})
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("want *Error, got %v", err)
			}
			for field, v := range map[string]string{"code": e.Code, "summary": e.Summary, "detail": e.Detail, "request id": e.RequestID,
				"redirect host": e.RedirectHost, "error text": e.Error()} {
				if len(v) > 2000 || !utf8.ValidString(v) {
					t.Errorf("%s: %d bytes (valid UTF-8: %v)", field, len(v), utf8.ValidString(v))
				}
			}
		})
	}
}

func TestServerInfoFieldsAreBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<tsResponse xmlns="http://tableau.com/api"><serverInfo><productVersion build=%q>%s</productVersion><restApiVersion>3.24%s</restApiVersion></serverInfo></tsResponse>`,
			huge, huge, strings.Repeat("9", 1<<20))
	}))
	defer srv.Close()
	c, err := New(Options{Server: srv.URL, APIVersion: "3.24", MaxBodyBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.ServerInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for field, v := range map[string]string{"product version": info.ProductVersion, "build": info.Build, "REST API version": info.RESTAPIVersion} {
		if len(v) > maxNameLen || !utf8.ValidString(v) {
			t.Errorf("%s: %d bytes", field, len(v))
		}
	}
}

func xmlError(w http.ResponseWriter, status int, code, summary, detail string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<tsResponse xmlns="http://tableau.com/api"><error code=%q><summary>%s</summary><detail>%s</detail></error></tsResponse>`, code, summary, detail)
}
