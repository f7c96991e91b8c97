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

package rotation

import "testing"

func TestAdoptsOnlyTheOperatorsRecordOfThisApp(t *testing.T) {
	mark := Supersession{ClientID: "client-1", SecretID: "secret-a"}.String()
	cases := []struct {
		name     string
		ours     bool
		recorded string
		client   string
		source   string
		want     bool
	}{
		{"the operator's record, the person's Secret unchanged", true, mark, "client-1", "secret-a", true},
		{"a Secret without the operator's mark", false, mark, "client-1", "secret-a", false},
		{"another connected app", true, mark, "client-2", "secret-a", false},
		{"a new secret in the person's Secret", true, mark, "client-1", "secret-b", false},
		{"no record", true, "", "client-1", "secret-a", false},
		{"a malformed record", true, "client-1#secret-a#x", "client-1", "secret-a#x", false},
		{"no client id in the spec or the Secret", true, "#secret-a", "", "secret-a", false},
	}
	for _, tc := range cases {
		if got := Adopts(tc.ours, tc.recorded, tc.client, tc.source); got != tc.want {
			t.Errorf("%s: Adopts = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got, ok := ParseSupersession(mark); !ok || got.ClientID != "client-1" || got.SecretID != "secret-a" {
		t.Errorf("ParseSupersession(%q) = %+v, %v", mark, got, ok)
	}
}
