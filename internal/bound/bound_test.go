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

package bound

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"empty", "", 5, ""},
		{"ASCII that fits", "abcde", 5, "abcde"},
		{"ASCII cut", "abcdefgh", 6, "abc…"},
		{"ASCII cut to the marker alone", "abcdefgh", 3, "…"},
		{"ASCII cut one byte over", "abcdef", 5, "ab…"},
		{"multi-byte that fits exactly", "héllo", 6, "héllo"},
		// "é" is 2 bytes at [1,3): a keep of 2 would cut it in half, so it goes whole.
		{"two-byte rune at the cut", "héllo wörld", 5, "h…"},
		{"two-byte rune just before the cut", "héllo wörld", 6, "hé…"},
		// "€" is 3 bytes and "😀" 4: every cut inside one steps back to its start.
		{"three-byte rune at the cut", "ab€cd€ef", 6, "ab…"},
		{"four-byte rune at the cut", "a😀b😀c", 7, "a…"},
		{"four-byte rune kept whole", "a😀b😀c", 8, "a😀…"},
		{"invalid UTF-8 that fits", "a\xffb", 5, "a?b"},
		{"run of invalid bytes is one ?", "a\xff\xfe\xfdb", 5, "a?b"},
		{"invalid UTF-8 cut", "\xff\xffabcdefgh", 6, "?ab…"},
		{"half a rune at the end", "abc\xe2\x82", 10, "abc?"},
		{"limit below the marker cuts without it", "abcdef", 2, "ab"},
		{"limit below the marker on a rune", "é€", 2, "é"},
		{"limit below the marker inside a rune", "€€", 2, ""},
		{"limit one", "abc", 1, "a"},
		{"zero limit", "abc", 0, ""},
		{"negative limit", "abc", -1, ""},
		{"zero limit on empty", "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Text(tc.in, tc.limit)
			if got != tc.want {
				t.Errorf("Text(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
			}
		})
	}
}

// TestTextInvariants cuts strings of mixed widths at every limit: the result never exceeds
// the limit in bytes (so neither in characters), is valid UTF-8, and is s itself or a prefix
// of s followed by Marker.
func TestTextInvariants(t *testing.T) {
	inputs := []string{
		"plain ASCII text",
		"héllo wörld, ça va? €100 😀😀 ok",
		"😀😀😀😀",
		"a\xffb\xc3(c\xe2\x82d",
		strings.Repeat("€", 50),
	}
	for _, s := range inputs {
		valid := strings.ToValidUTF8(s, "?")
		for limit := -2; limit <= len(s)+2; limit++ {
			got := Text(s, limit)
			if len(got) > max(limit, 0) {
				t.Errorf("Text(%q, %d) = %q: %d bytes", s, limit, got, len(got))
			}
			if !utf8.ValidString(got) {
				t.Errorf("Text(%q, %d) = %q is not valid UTF-8", s, limit, got)
			}
			if got == valid {
				continue
			}
			if !strings.HasPrefix(valid, strings.TrimSuffix(got, Marker)) {
				t.Errorf("Text(%q, %d) = %q is not a prefix of %q", s, limit, got, valid)
			}
			if limit >= len(Marker) && !strings.HasSuffix(got, Marker) {
				t.Errorf("Text(%q, %d) = %q was cut without %q", s, limit, got, Marker)
			}
		}
	}
}
