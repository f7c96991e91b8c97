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

package main

import (
	"debug/buildinfo"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// binary is the build information of an operator binary for arch with the given modules.
func binary(arch string, deps ...*debug.Module) linkedBinary {
	return linkedBinary{platform: "linux/" + arch, info: &buildinfo.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "example.test/operator",
		Main:      debug.Module{Path: "example.test/operator", Version: "(devel)"},
		Deps:      deps,
		Settings:  []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: arch}, {Key: "CGO_ENABLED", Value: "0"}},
	}}
}

func property(c cdx.Component, name string) []string {
	var out []string
	if c.Properties != nil {
		for _, p := range *c.Properties {
			if p.Name == name {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

// TestBOMOfReplacementsAndPlatforms: a module replaced by another version is listed as the
// replacement, naming what it replaces; a module replaced by a local directory is listed under
// its module path (never a path of the build machine, which is no package URL), as (devel), the
// version Go gives code built from a directory; a module in one platform's binary only names
// that platform.
func TestBOMOfReplacementsAndPlatforms(t *testing.T) {
	x := &debug.Module{Path: "example.test/x", Version: "v1.0.0"}
	forked := &debug.Module{Path: "example.test/y", Version: "v1.1.0", Replace: &debug.Module{Path: "example.test/fork-of-y", Version: "v1.1.1"}}
	local := &debug.Module{Path: "example.test/z", Version: "v0.3.0", Replace: &debug.Module{Path: "../z", Version: "(devel)"}}
	sys := &debug.Module{Path: "golang.org/x/sys", Version: "v0.30.0"}
	bom, err := bomOf([]linkedBinary{binary("amd64", x, forked, local, sys), binary("arm64", x, forked, local)}, "v1.2.3", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, time.Unix(1767225600, 0))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		if strings.HasPrefix(c.Name, ".") || strings.HasPrefix(c.Name, "/") || strings.Contains(c.PackageURL, "/../") {
			t.Errorf("component %s (%s) is named by a directory, not a module path", c.Name, c.PackageURL)
		}
		byName[c.Name] = c
	}
	for _, want := range []struct {
		name, version, purl string
		replaces, platforms []string
	}{
		{"std", "go1.26.8", "pkg:golang/std@go1.26.8", nil, nil},
		{"example.test/x", "v1.0.0", "pkg:golang/example.test/x@v1.0.0", nil, nil},
		{"example.test/fork-of-y", "v1.1.1", "pkg:golang/example.test/fork-of-y@v1.1.1", []string{"example.test/y@v1.1.0"}, nil},
		{"example.test/z", "(devel)", "pkg:golang/example.test/z@%28devel%29", []string{"example.test/z@v0.3.0"}, nil},
		{"golang.org/x/sys", "v0.30.0", "pkg:golang/golang.org/x/sys@v0.30.0", nil, []string{"linux/amd64"}},
	} {
		c, ok := byName[want.name]
		if !ok {
			t.Errorf("the SBOM lists no %s; it lists %v", want.name, byName)
			continue
		}
		if c.Version != want.version || c.PackageURL != want.purl || c.BOMRef != c.PackageURL {
			t.Errorf("%s: version %q purl %q bom-ref %q, want %q and %q", want.name, c.Version, c.PackageURL, c.BOMRef, want.version, want.purl)
		}
		if got := property(c, replacesProperty); !slices.Equal(got, want.replaces) {
			t.Errorf("%s replaces %v, want %v", want.name, got, want.replaces)
		}
		if got := property(c, platformProperty); !slices.Equal(got, want.platforms) {
			t.Errorf("%s is only in %v, want %v", want.name, got, want.platforms)
		}
	}
	if got := property(byName["example.test/z"], replacedByDirectoryProperty); !slices.Equal(got, []string{"../z"}) {
		t.Errorf("example.test/z names the directory %v, want ../z", got)
	}
	if len(byName) != 5 {
		t.Errorf("the SBOM lists %d components, want 5: %v", len(byName), byName)
	}
}

// TestSBOMIsReproducible: the same binaries, index and time give the same bytes (the serial
// number and timestamp come from them, not from a clock or a random source); another time
// gives another serial number and timestamp, and so does another content.
func TestSBOMIsReproducible(t *testing.T) {
	bins := []linkedBinary{binary("amd64", &debug.Module{Path: "example.test/x", Version: "v1.0.0"})}
	index := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("cd", 32)}
	at := time.Unix(1767225600, 0)
	a, err := bomOf(bins, "v1.2.3", index, at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bomOf(bins, "v1.2.3", index, at)
	if err != nil {
		t.Fatal(err)
	}
	later, err := bomOf(bins, "v1.2.3", index, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a.SerialNumber != b.SerialNumber || a.Metadata.Timestamp != b.Metadata.Timestamp || a.Metadata.Timestamp != "2026-01-01T00:00:00Z" {
		t.Errorf("two BOMs of one build: serial %s and %s, timestamps %s and %s", a.SerialNumber, b.SerialNumber, a.Metadata.Timestamp, b.Metadata.Timestamp)
	}
	if later.SerialNumber == a.SerialNumber || later.Metadata.Timestamp == a.Metadata.Timestamp {
		t.Errorf("a BOM an hour later has serial %s and timestamp %s, like the first", later.SerialNumber, later.Metadata.Timestamp)
	}
	// Another content for the same image and time (the image tool changed, and `image.sh sbom`
	// ran again): CycloneDX wants another serial number for another BOM.
	other, err := bomOf([]linkedBinary{binary("amd64", &debug.Module{Path: "example.test/x", Version: "v1.0.1"})}, "v1.2.3", index, at)
	if err != nil {
		t.Fatal(err)
	}
	if other.SerialNumber == a.SerialNumber {
		t.Errorf("two BOMs of different content have the serial number %s", a.SerialNumber)
	}
	if !strings.HasPrefix(a.SerialNumber, "urn:uuid:") || len(a.SerialNumber) != len("urn:uuid:")+36 || a.SerialNumber[len("urn:uuid:")+14] != '8' {
		t.Errorf("serial %s is not a version-8 UUID URN", a.SerialNumber)
	}
}

// TestToolComponentNamesItsBuild: metadata.tools names this tool by the module path and
// version its build information records, with the purl of that version, so an SBOM says which
// build of the tool wrote it; without build information it falls back to go.mod's module path
// at (devel) and says why, and never leaves the version or purl empty.
func TestToolComponentNamesItsBuild(t *testing.T) {
	const pseudo = "v0.0.0-20261207173000-0123456789ab+dirty"
	cyclonedx := &debug.Module{Path: cyclonedxModule, Version: "v0.12.0"}
	for _, tc := range []struct {
		name                  string
		info                  *debug.BuildInfo
		wantVersion, wantPURL string
		fallback              bool
	}{
		{"built from version control", &debug.BuildInfo{Main: debug.Module{Path: toolModule, Version: pseudo}, Deps: []*debug.Module{cyclonedx}},
			pseudo, "pkg:golang/github.com/tableau-operator/tableau-operator/hack/tools/image@v0.0.0-20261207173000-0123456789ab+dirty", false},
		{"built from a source tree", &debug.BuildInfo{Main: debug.Module{Path: toolModule, Version: "(devel)"}, Deps: []*debug.Module{cyclonedx}},
			"(devel)", "pkg:golang/github.com/tableau-operator/tableau-operator/hack/tools/image@%28devel%29", false},
		{"no build information", nil,
			"(devel)", "pkg:golang/github.com/tableau-operator/tableau-operator/hack/tools/image@%28devel%29", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := toolComponent(tc.info)
			if c.Name != toolName || c.Version != tc.wantVersion || c.PackageURL != tc.wantPURL {
				t.Errorf("tool %q version %q purl %q, want %q %q", c.Name, c.Version, c.PackageURL, tc.wantVersion, tc.wantPURL)
			}
			if got := property(c, toolVersionProperty); (len(got) == 1) != tc.fallback {
				t.Errorf("fallback property %v, want it only without build information", got)
			}
			if tc.info != nil && (c.Components == nil || len(*c.Components) != 1 || (*c.Components)[0].PackageURL != "pkg:golang/github.com/CycloneDX/cyclonedx-go@v0.12.0") {
				t.Errorf("the CycloneDX library is not listed under the tool: %+v", c.Components)
			}
		})
	}
	// What this test binary (built from this module) records ends up in a BOM's metadata.
	bom, err := bomOf([]linkedBinary{binary("amd64")}, "v1.2.3", v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}, time.Unix(1767225600, 0))
	if err != nil {
		t.Fatal(err)
	}
	tools := *bom.Metadata.Tools.Components
	if len(tools) != 1 || tools[0].Version == "" || !strings.HasPrefix(tools[0].PackageURL, "pkg:golang/"+toolModule+"@") {
		t.Errorf("metadata.tools is %+v, want this tool with a version and a purl of %s", tools, toolModule)
	}
}
