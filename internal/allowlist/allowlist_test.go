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

package allowlist

import (
	"strings"
	"testing"
)

func TestAllows(t *testing.T) {
	cases := []struct {
		patterns, server string
		want             bool
		host             string
	}{
		{"", "https://anything.example.org", true, "anything.example.org"},
		{"", "http://127.0.0.1:8080", true, "127.0.0.1"},
		{"tableau.example.com", "https://tableau.example.com", true, "tableau.example.com"},
		{"tableau.example.com", "https://TABLEAU.Example.com.:8443/", true, "tableau.example.com"},
		{"tableau.example.com", "https://tableau.example.com.evil.org", false, "tableau.example.com.evil.org"},
		{"tableau.example.com", "https://evil.org/tableau.example.com", false, "evil.org"},
		{"tableau.example.com", "https://tableau.example.com@evil.org", false, "evil.org"},
		{"tableau.example.com", "https://x.tableau.example.com", false, "x.tableau.example.com"},
		{"*.online.tableau.com", "https://10ay.online.tableau.com", true, "10ay.online.tableau.com"},
		{"*.online.tableau.com", "https://online.tableau.com", false, "online.tableau.com"},
		{"*.online.tableau.com", "https://a.b.online.tableau.com", false, "a.b.online.tableau.com"},
		{"*.online.tableau.com", "https://evilonline.tableau.com", false, "evilonline.tableau.com"},
		{"*.online.tableau.com, tableau.example.com", "https://tableau.example.com", true, "tableau.example.com"},
		{"127.0.0.1", "https://127.0.0.1:40123", true, "127.0.0.1"},
		{"[::1]", "https://[::1]:40123", true, "::1"},
		{"::1", "https://[0:0::1]:40123", true, "::1"},
		{"127.0.0.1", "https://127.0.0.2", false, "127.0.0.2"},
		{"tableau.example.com", "not a url", false, ""},
	}
	for _, tc := range cases {
		l, err := Parse(tc.patterns)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.patterns, err)
		}
		host, ok := l.Allows(tc.server)
		if ok != tc.want || host != tc.host {
			t.Errorf("%q.Allows(%q) = %q, %v; want %q, %v", tc.patterns, tc.server, host, ok, tc.host, tc.want)
		}
	}
}

func TestParseRejectsWhatIsNotAHostPattern(t *testing.T) {
	for _, p := range []string{"*", "https://tableau.example.com", "tableau.example.com:443", "tableau.example.com/api",
		"*.*.example.com", "tab*.example.com", "-bad.example.com", "two words", "a..b"} {
		if _, err := Parse("tableau.example.com," + p); err == nil || !strings.Contains(err.Error(), "--allowed-servers") {
			t.Errorf("Parse accepted %q (err %v)", p, err)
		}
	}
}

func TestStringListsNormalisedPatterns(t *testing.T) {
	l, err := Parse(" *.Online.Tableau.com , tableau.example.com. ,,")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.String(); got != "*.online.tableau.com,tableau.example.com" {
		t.Errorf("String() = %q", got)
	}
	if l.Any() {
		t.Error("a list with patterns allows any server")
	}
}
