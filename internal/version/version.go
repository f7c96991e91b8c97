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

// Package version is what this build of the operator is: set by `make build` and `make image`
// through -ldflags -X, and otherwise read from the Go build information (module version and
// VCS stamp), so a plain `go build` or `go install` still says which commit it is.
package version

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set by the linker: -X github.com/tableau-operator/tableau-operator/internal/version.version=v1.2.3
// (and .revision, .buildDate). hack/version.sh writes these flags.
var (
	version   string
	revision  string
	buildDate string
)

// Info describes one build.
type Info struct {
	Version   string // a semantic version or git describe output
	Revision  string // the git commit
	BuildDate string // RFC 3339, UTC: the commit time for reproducible builds
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// Get returns this binary's build information.
func Get() Info {
	return resolve(version, revision, buildDate, readBuildInfo)
}

func readBuildInfo() (*debug.BuildInfo, bool) { return debug.ReadBuildInfo() }

// resolve prefers the linker-set values and fills the rest from the build information.
func resolve(v, rev, date string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: v, Revision: rev, BuildDate: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := read(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Revision == "":
				info.Revision = s.Value
			case s.Key == "vcs.time" && info.BuildDate == "":
				info.BuildDate = s.Value
			}
		}
	}
	for _, f := range []*string{&info.Version, &info.Revision, &info.BuildDate} {
		if *f == "" {
			*f = "unknown"
		}
	}
	return info
}

// Print writes the build information, one field per line.
func (i Info) Print(w io.Writer) error {
	_, err := fmt.Fprintf(w, "tableau-operator %s\nrevision:   %s\nbuild date: %s\ngo version: %s\nplatform:   %s\n",
		i.Version, i.Revision, i.BuildDate, i.GoVersion, i.Platform)
	return err
}
