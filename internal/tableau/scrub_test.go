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
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const v = "credential-value-0123456789"
	cases := []struct{ name, text, want string }{
		{"whole", "Blocked: " + v + " here", "Blocked: [redacted] here"},
		{"twice", v + v, "[redacted][redacted]"},
		{"head cut at the bound", "Blocked: " + v[:12] + "…", "Blocked: [redacted]…"},
		{"head too short to matter", "Blocked: " + v[:5] + "…", "Blocked: " + v[:5] + "…"},
		{"head without a cut is other text", "Blocked: " + v[:12], "Blocked: " + v[:12]},
		{"absent", "nothing here…", "nothing here…"},
	}
	for _, tc := range cases {
		if got := redact(tc.text, v); got != tc.want {
			t.Errorf("%s: redact = %q, want %q", tc.name, got, tc.want)
		}
	}
	// End to end: a credential straddling cleanText's bound leaves no head behind.
	long := strings.Repeat("x", 280) + v
	if got := redact(cleanText(long), v); strings.Contains(got, v[:minRedactedHead]) {
		t.Errorf("a cut credential survives: %q", got[270:])
	}
}
