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

package fleet

import "testing"

func TestOnlyStartedLeft(t *testing.T) {
	cases := []struct {
		name      string
		persisted []string
		d         Decision
		want      bool
	}{
		{"nothing changed", []string{"a", "b"}, Decision{Current: []string{"a", "b"}}, true},
		{"a member granted", []string{"a"}, Decision{Current: []string{"a", "b"}, Queued: []string{"a", "b"}}, false},
		{"the granted started, the rest waits after them", []string{"a", "b"},
			Decision{Rotating: []string{"a", "b"}, Queued: []string{"c", "d"}}, true},
		{"a grant ended that did not start (suspended, left, rejected)", []string{"a", "b"},
			Decision{Current: []string{"a"}, Queued: []string{"a"}}, false},
		{"a started member after one waiting ungranted", []string{"c"},
			Decision{Rotating: []string{"c"}, Queued: []string{"b"}}, false},
		{"a started member before one waiting ungranted", []string{"b"},
			Decision{Rotating: []string{"b"}, Queued: []string{"c"}}, true},
		{"a started member after a failure that blocks", []string{"c"},
			Decision{Rotating: []string{"c"}, Blocking: []string{"b"}, Halted: true}, false},
		{"a started member before a failure that blocks", []string{"a"},
			Decision{Rotating: []string{"a"}, Blocking: []string{"b"}, Halted: true}, true},
		{"queued members granted do not count as waiting", []string{"a", "b"},
			Decision{Current: []string{"b"}, Rotating: []string{"a"}, Queued: []string{"b", "c"}}, true},
	}
	for _, tc := range cases {
		if got := OnlyStartedLeft(tc.persisted, tc.d); got != tc.want {
			t.Errorf("%s: OnlyStartedLeft = %v, want %v", tc.name, got, tc.want)
		}
	}
}
