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
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// The SBOM is CycloneDX JSON, spec 1.6 (what today's scanners read), written from the Go
// build information of the binaries inside the image, so it describes what ships and nothing
// the build merely had at hand. Build information lists every module linked into a binary, and
// the toolchain; it has no dependency graph, so every module is a direct dependency of the
// operator in the BOM.

const (
	sbomSpec = cdx.SpecVersion1_6
	// platformProperty names, on a module linked into only some platforms' binaries, each
	// platform whose binary has it. A module without it is in every binary.
	platformProperty = "tableau-operator:platform"
	// replacesProperty names, on a module that a replace directive put in place of another,
	// the module it replaces (path@version).
	replacesProperty = "tableau-operator:replaces"
	// replacedByDirectoryProperty names, on a module that a replace directive took from a local
	// directory, that directory (as go.mod wrote it). Such a module is listed under the module
	// path it replaces, at (devel): a directory is no package URL, and its code is no release.
	replacedByDirectoryProperty = "tableau-operator:replaced-by-directory"
	cyclonedxModule             = "github.com/CycloneDX/cyclonedx-go"
	// toolName, toolModule and develVersion name this tool in metadata.tools: toolModule is
	// go.mod's module path, the fallback when the binary carries no build information, and
	// develVersion the version Go records for code built from a source tree.
	toolName     = "tableau-operator hack/tools/image"
	toolModule   = "github.com/tableau-operator/tableau-operator/hack/tools/image"
	develVersion = "(devel)"
	// toolVersionProperty says, on the tool's component, why its version is the fallback.
	toolVersionProperty = "tableau-operator:tool-version"
)

// linkedBinary is the build information of one platform's operator binary.
type linkedBinary struct {
	platform string
	info     *buildinfo.BuildInfo
}

// sbomFor writes the SBOM of the image index's operator binaries. Its serial number is made
// from its content (which holds indexDigest) and its timestamp is created, so the same image
// and time give the same bytes.
func sbomFor(idx v1.ImageIndex, version string, indexDigest v1.Hash, created time.Time) ([]byte, error) {
	bins, err := binariesOf(idx)
	if err != nil {
		return nil, err
	}
	bom, err := bomOf(bins, version, indexDigest, created)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).EncodeVersion(bom, sbomSpec); err != nil {
		return nil, fmt.Errorf("encoding the SBOM: %w", err)
	}
	return buf.Bytes(), nil
}

// binariesOf reads the build information of the entrypoint binary of each platform's image.
func binariesOf(idx v1.ImageIndex) ([]linkedBinary, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []linkedBinary
	for _, d := range im.Manifests {
		if d.Platform == nil {
			return nil, fmt.Errorf("the index's manifest %s names no platform", d.Digest)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		bin, err := fileOf(img, strings.TrimPrefix(entrypoint, "/"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Platform, err)
		}
		info, err := buildinfo.Read(bytes.NewReader(bin))
		if err != nil {
			return nil, fmt.Errorf("%s: %s has no Go build information: %w", d.Platform, entrypoint, err)
		}
		out = append(out, linkedBinary{platform: d.Platform.String(), info: info})
	}
	if len(out) == 0 {
		return nil, errors.New("the index holds no image")
	}
	return out, nil
}

// fileOf reads one regular file of the image's flattened root filesystem.
func fileOf(img v1.Image, name string) ([]byte, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the image has no /%s", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name && h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}

// bomOf builds the BOM: the operator's main module as the described component, the Go
// standard library of the toolchain, and one library per module linked into any binary.
func bomOf(bins []linkedBinary, version string, indexDigest v1.Hash, created time.Time) (*cdx.BOM, error) {
	first := bins[0].info
	var platforms []string
	type linked struct {
		module    *debug.Module
		replaces  string
		directory string
		platforms []string
	}
	modules := map[string]*linked{}
	for _, b := range bins {
		if b.info.Main.Path != first.Main.Path || b.info.GoVersion != first.GoVersion {
			return nil, fmt.Errorf("the binaries differ in main module or toolchain: %s %s (%s) and %s %s (%s)",
				first.Main.Path, first.GoVersion, bins[0].platform, b.info.Main.Path, b.info.GoVersion, b.platform)
		}
		platforms = append(platforms, b.platform)
		for _, dep := range b.info.Deps {
			m, replaces, directory := dep, "", ""
			if dep.Replace != nil {
				m, replaces = dep.Replace, dep.Path+"@"+dep.Version
				if isDirectory(dep.Replace.Path) {
					m, directory = &debug.Module{Path: dep.Path, Version: "(devel)"}, dep.Replace.Path
				}
			}
			key := m.Path + "@" + m.Version
			if modules[key] == nil {
				modules[key] = &linked{module: m, replaces: replaces, directory: directory}
			}
			modules[key].platforms = append(modules[key].platforms, b.platform)
		}
	}

	main := &cdx.Component{
		Type:       cdx.ComponentTypeApplication,
		Name:       first.Main.Path,
		Version:    version,
		PackageURL: goPURL(first.Main.Path, version),
		Properties: buildProperties(bins),
	}
	main.BOMRef = main.PackageURL
	std := cdx.Component{
		Type:        cdx.ComponentTypeLibrary,
		Name:        "std",
		Version:     first.GoVersion,
		Description: "the Go standard library and runtime of the toolchain that built the binaries",
		PackageURL:  goPURL("std", first.GoVersion),
	}
	std.BOMRef = std.PackageURL
	components := []cdx.Component{std}
	keys := make([]string, 0, len(modules))
	for k := range modules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		l := modules[k]
		c := cdx.Component{
			Type:       cdx.ComponentTypeLibrary,
			Name:       l.module.Path,
			Version:    l.module.Version,
			PackageURL: goPURL(l.module.Path, l.module.Version),
		}
		c.BOMRef = c.PackageURL
		var props []cdx.Property
		if l.replaces != "" {
			props = append(props, cdx.Property{Name: replacesProperty, Value: l.replaces})
		}
		if l.directory != "" {
			props = append(props, cdx.Property{Name: replacedByDirectoryProperty, Value: l.directory})
		}
		if len(l.platforms) < len(bins) {
			for _, p := range l.platforms {
				props = append(props, cdx.Property{Name: platformProperty, Value: p})
			}
		}
		if len(props) > 0 {
			c.Properties = &props
		}
		components = append(components, c)
	}
	dependsOn := make([]string, 0, len(components))
	for _, c := range components {
		dependsOn = append(dependsOn, c.BOMRef)
	}

	bom := cdx.NewBOM()
	bom.SpecVersion = sbomSpec
	bom.Metadata = &cdx.Metadata{
		Timestamp: created.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{thisTool()}},
		Component: main,
		Properties: &[]cdx.Property{
			{Name: "org.opencontainers.image.version", Value: version},
			{Name: "tableau-operator:image-index", Value: indexDigest.String()},
		},
	}
	bom.Components = &components
	bom.Dependencies = &[]cdx.Dependency{{Ref: main.BOMRef, Dependencies: &dependsOn}}
	serial, err := serialNumber(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serial
	return bom, nil
}

// buildProperties are the build settings, in cyclonedx-gomod's property names: GOOS, CGO_ENABLED
// and -trimpath once when every binary shares them, the architecture settings once per binary.
func buildProperties(bins []linkedBinary) *[]cdx.Property {
	shared := map[string]string{}
	for _, s := range bins[0].info.Settings {
		shared[s.Key] = s.Value
	}
	for _, b := range bins[1:] {
		mine := map[string]string{}
		for _, s := range b.info.Settings {
			mine[s.Key] = s.Value
		}
		for k, v := range shared {
			if mine[k] != v {
				delete(shared, k)
			}
		}
	}
	var props []cdx.Property
	for _, k := range []string{"GOOS", "CGO_ENABLED"} {
		if v, ok := shared[k]; ok {
			props = append(props, cdx.Property{Name: "cdx:gomod:build:env:" + k, Value: v})
		}
	}
	for _, b := range bins {
		for _, s := range b.info.Settings {
			switch s.Key {
			case "GOARCH", "GOAMD64", "GOARM64":
				props = append(props, cdx.Property{Name: "cdx:gomod:build:env:" + s.Key, Value: s.Value})
			}
		}
	}
	if v, ok := shared["-trimpath"]; ok {
		props = append(props, cdx.Property{Name: "cdx:gomod:build:trimpath", Value: v})
	}
	return &props
}

// isDirectory tells a replace directive's directory (./x, ../x, /x, C:\x) from a module path,
// as the go command does: a module path never starts with a dot or a slash.
func isDirectory(path string) bool {
	return strings.HasPrefix(path, ".") || strings.HasPrefix(path, "/") || strings.HasPrefix(path, `\`) ||
		filepath.VolumeName(path) != "" || (len(path) > 1 && path[1] == ':')
}

// goPURL is the package URL of a Go module version (pkg:golang/<path>@<version>), each path
// segment escaped.
func goPURL(path, version string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "pkg:golang/" + strings.Join(segs, "/") + "@" + url.PathEscape(version)
}

// serialNumber is a name-based UUID (RFC 9562 version 8, from SHA-256) of the BOM's content
// without its serial number, which holds the image index's digest and the timestamp: the same
// build repeated gets the same serial number, and any other BOM another one, as CycloneDX asks,
// even one of the same image and time written by a changed tool (`image.sh sbom`).
func serialNumber(bom *cdx.BOM) (string, error) {
	unnumbered := *bom
	unnumbered.SerialNumber = ""
	raw, err := json.Marshal(&unnumbered)
	if err != nil {
		return "", fmt.Errorf("the SBOM's serial number: %w", err)
	}
	sum := sha256.Sum256(raw)
	u := sum[:16]
	u[6] = (u[6] & 0x0f) | 0x80
	u[8] = (u[8] & 0x3f) | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// thisTool names this image tool and the CycloneDX library it writes with, at the versions
// its own build information records.
func thisTool() cdx.Component {
	info, _ := debug.ReadBuildInfo()
	return toolComponent(info)
}

// toolComponent is the tool's component from its build information (nil when the binary
// has none): its module path and version as Go recorded them, with the purl of that version,
// so a reader of the SBOM can tell which build of the tool wrote it. Go records (devel) for a
// build from a source tree without version control information; without build information
// the component falls back to the module path of go.mod at (devel) and says so in a property,
// rather than leave the version empty.
func toolComponent(info *debug.BuildInfo) cdx.Component {
	path, version := toolModule, develVersion
	var props *[]cdx.Property
	if info != nil && info.Main.Path != "" {
		path = info.Main.Path
		if info.Main.Version != "" {
			version = info.Main.Version
		}
	} else {
		props = &[]cdx.Property{{Name: toolVersionProperty, Value: "unknown: the tool was built without Go build information"}}
	}
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, Name: toolName, Version: version, PackageURL: goPURL(path, version), Properties: props}
	if info != nil {
		for _, dep := range info.Deps {
			if dep.Path == cyclonedxModule {
				tool.Components = &[]cdx.Component{{Type: cdx.ComponentTypeLibrary, Name: dep.Path, Version: dep.Version, PackageURL: goPURL(dep.Path, dep.Version)}}
			}
		}
	}
	return tool
}
