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

package version

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"}}}
	devel := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
	tests := []struct {
		name         string
		v, rev, date string
		bi           *debug.BuildInfo
		want         Info
	}{
		{name: "linker flags win over the build information", v: "v1.0.0", rev: "feed", date: "2026-11-01T00:00:00Z", bi: stamped,
			want: Info{Version: "v1.0.0", Revision: "feed", BuildDate: "2026-11-01T00:00:00Z"}},
		{name: "go install: module version and VCS stamp", bi: stamped,
			want: Info{Version: "v0.3.1", Revision: "0123abcd", BuildDate: "2026-01-02T03:04:05Z"}},
		{name: "only the version from the linker", v: "v2.0.0", bi: stamped,
			want: Info{Version: "v2.0.0", Revision: "0123abcd", BuildDate: "2026-01-02T03:04:05Z"}},
		{name: "go build outside git: (devel) is not a version", bi: devel,
			want: Info{Version: "unknown", Revision: "unknown", BuildDate: "unknown"}},
		{name: "no build information at all",
			want: Info{Version: "unknown", Revision: "unknown", BuildDate: "unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.v, tc.rev, tc.date, func() (*debug.BuildInfo, bool) { return tc.bi, tc.bi != nil })
			tc.want.GoVersion, tc.want.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	var b bytes.Buffer
	if err := (Info{Version: "v1.2.3", Revision: "abc", BuildDate: "2026-11-27T00:00:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64"}).Print(&b); err != nil {
		t.Fatal(err)
	}
	want := "tableau-operator v1.2.3\nrevision:   abc\nbuild date: 2026-11-27T00:00:00Z\ngo version: go1.26.8\nplatform:   linux/arm64\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
