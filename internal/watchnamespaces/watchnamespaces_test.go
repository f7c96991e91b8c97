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

package watchnamespaces

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/cache"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		flag    string
		want    []string
		wantErr string
	}{
		{flag: "", want: nil},
		{flag: "  ", want: nil},
		{flag: "a", want: []string{"a"}},
		{flag: "team-a, team-b", want: []string{"team-a", "team-b"}},
		{flag: "a,,b", wantErr: "empty entry"},
		{flag: "a,", wantErr: "empty entry"},
		{flag: "Team_A", wantErr: `"Team_A" is not a namespace name`},
		{flag: "a,b,a", wantErr: `"a" is listed twice`},
	} {
		got, err := Parse(tc.flag)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tc.flag, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.flag, got, err, tc.want)
		}
	}
}

func TestScope(t *testing.T) {
	base := cache.Options{DefaultTransform: func(o any) (any, error) { return o, nil }}
	if got := Scope(base, nil); got.DefaultNamespaces != nil || got.DefaultTransform == nil {
		t.Errorf("Scope(nil) = %+v, want the options unchanged (cluster-wide)", got)
	}
	got := Scope(base, []string{"a", "b"})
	if keys := slices.Sorted(maps.Keys(got.DefaultNamespaces)); !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("DefaultNamespaces = %v, want a and b", keys)
	}
	if got.DefaultTransform == nil {
		t.Error("Scope dropped the cache's transform")
	}
}
