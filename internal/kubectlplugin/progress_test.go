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

package kubectlplugin

import (
	"bytes"
	"strings"
	"testing"
)

// The progress line goes to stderr: whether it is rewritten in place depends on stderr being
// a terminal, not stdout. `kubectl tableau rotate x 2>rotate.log` on a terminal keeps a log
// of plain lines; `rotate x | tee` on a terminal still rewrites the line.
func TestProgressFollowsStderr(t *testing.T) {
	for _, tc := range []struct {
		name        string
		out, errTTY bool
		wantInPlace bool
	}{
		{"stdout a terminal, stderr a file", true, false, false},
		{"stdout a pipe, stderr a terminal", false, true, true},
		{"both terminals", true, true, true},
		{"neither", false, false, false},
	} {
		var errOut bytes.Buffer
		p := newProgress(Streams{Out: &bytes.Buffer{}, Err: &errOut, TTY: tc.out, ErrTTY: tc.errTTY})
		p.show("tenants/finance: validating (Ready=Unknown ) 1s")
		p.show("tenants/finance: validating (Ready=Unknown ) 2s")
		p.done()
		s := errOut.String()
		inPlace := strings.Contains(s, "\r")
		if inPlace != tc.wantInPlace {
			t.Errorf("%s: rewritten in place = %t, want %t: %q", tc.name, inPlace, tc.wantInPlace, s)
		}
		if !tc.wantInPlace && (strings.Contains(s, "\x1b") || strings.Count(s, "\n") != 1) {
			t.Errorf("%s: want one plain line per change, got %q", tc.name, s)
		}
	}
}
