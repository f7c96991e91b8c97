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

package main_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The SBOM checks of TestImage, on its builds: the CycloneDX SBOM is attached to the layout as
// an OCI 1.1 referrer of the image index, and lists exactly what `go version -m` reads from
// each platform's binary inside the image.

const (
	mediaTypeCycloneDX = "application/vnd.cyclonedx+json"
	mediaTypeEmpty     = "application/vnd.oci.empty.v1+json"
	sbomFile           = "tableau-operator.cdx.json"
)

// imagePlatforms names each architecture's platform as the index records it.
var imagePlatforms = map[string]string{"amd64": "linux/amd64", "arm64": "linux/arm64/v8"}

type referrerManifest struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       ociDescriptor     `json:"config"`
	Layers       []ociDescriptor   `json:"layers"`
	Subject      *ociDescriptor    `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxComponent struct {
	BOMRef     string        `json:"bom-ref"`
	Type       string        `json:"type"`
	Name       string        `json:"name"`
	Version    string        `json:"version"`
	PURL       string        `json:"purl"`
	Properties []cdxProperty `json:"properties"`
}

type cdxBOM struct {
	BOMFormat    string `json:"bomFormat"`
	SpecVersion  string `json:"specVersion"`
	SerialNumber string `json:"serialNumber"`
	Metadata     struct {
		Timestamp string       `json:"timestamp"`
		Component cdxComponent `json:"component"`
	} `json:"metadata"`
	Components   []cdxComponent `json:"components"`
	Dependencies []struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	} `json:"dependencies"`
}

// sbomOf reads the layout's one SBOM referrer, checks it refers to the image index, and returns
// its manifest's descriptor and the SBOM's bytes.
func sbomOf(t *testing.T, img builtImage) (ociDescriptor, []byte) {
	t.Helper()
	dir := filepath.Join(img.dir, "oci")
	var top ociIndex
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	var index, referrer []ociDescriptor
	for _, d := range top.Manifests {
		switch {
		case d.MediaType == mediaTypeIndex && d.ArtifactType == "":
			index = append(index, d)
		case d.MediaType == mediaTypeManifest && d.ArtifactType == mediaTypeCycloneDX:
			referrer = append(referrer, d)
		default:
			t.Errorf("index.json lists %s (%s, artifactType %q), neither the image nor its SBOM", d.Digest, d.MediaType, d.ArtifactType)
		}
	}
	if len(index) != 1 || len(referrer) != 1 {
		t.Fatalf("index.json lists %d image indexes and %d SBOMs, want one of each", len(index), len(referrer))
	}
	if referrer[0].Digest != img.sbomManifest {
		t.Errorf("index.json lists the SBOM %s, the build printed %s", referrer[0].Digest, img.sbomManifest)
	}
	var m referrerManifest
	layoutJSON(t, dir, referrer[0], mediaTypeManifest, &m)
	if m.ArtifactType != mediaTypeCycloneDX {
		t.Errorf("the SBOM manifest's artifactType is %q", m.ArtifactType)
	}
	if m.Subject == nil || m.Subject.Digest != index[0].Digest || m.Subject.MediaType != mediaTypeIndex || m.Subject.Size != index[0].Size {
		t.Errorf("the SBOM's subject is %+v, want the image index %s", m.Subject, index[0].Digest)
	}
	if m.Config.MediaType != mediaTypeEmpty || string(layoutBlob(t, dir, m.Config)) != "{}" {
		t.Errorf("the SBOM manifest's config is %+v, want OCI 1.1's empty descriptor", m.Config)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != mediaTypeCycloneDX || m.Layers[0].Digest != img.sbomBlob {
		t.Fatalf("the SBOM manifest's layers are %+v, want one %s, %s", m.Layers, mediaTypeCycloneDX, img.sbomBlob)
	}
	body := layoutBlob(t, dir, m.Layers[0])
	if onDisk, err := os.ReadFile(filepath.Join(img.dir, sbomFile)); err != nil || !bytes.Equal(onDisk, body) {
		t.Errorf("%s differs from the SBOM attached to the layout (%v)", sbomFile, err)
	}
	return referrer[0], body
}

// checkSBOM: the SBOM is CycloneDX JSON describing the operator at the build's version; for
// each platform, its modules (those it marks for that platform or for all) are exactly the
// module lines of `go version -m` on the binary inside that platform's image, and its std
// component is the binary's Go toolchain.
func checkSBOM(t *testing.T, img builtImage, b imageBuild, platforms map[string][]layerFile) {
	_, raw := sbomOf(t, img)
	var bom cdxBOM
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatalf("the SBOM is not JSON: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("bomFormat %q, specVersion %q, serialNumber %q: want CycloneDX 1.6 with a urn:uuid serial", bom.BOMFormat, bom.SpecVersion, bom.SerialNumber)
	}
	if want := time.Unix(b.epoch, 0).UTC().Format(time.RFC3339); bom.Metadata.Timestamp != want {
		t.Errorf("the SBOM's timestamp is %q, want SOURCE_DATE_EPOCH's %s", bom.Metadata.Timestamp, want)
	}
	refs := map[string]bool{}
	for _, c := range bom.Components {
		if c.BOMRef == "" || refs[c.BOMRef] || c.PURL != "pkg:golang/"+c.Name+"@"+url.PathEscape(c.Version) {
			t.Errorf("component %+v: want a unique bom-ref and the purl pkg:golang/<name>@<version>", c)
		}
		refs[c.BOMRef] = true
	}
	if len(bom.Dependencies) != 1 || bom.Dependencies[0].Ref != bom.Metadata.Component.BOMRef || len(bom.Dependencies[0].DependsOn) != len(bom.Components) {
		t.Errorf("the SBOM's dependencies %+v: want the operator depending on each of its %d components", bom.Dependencies, len(bom.Components))
	}
	for arch, files := range platforms {
		platform := imagePlatforms[arch]
		goVersion, mainModule, modules := goVersionM(t, files)
		if c := bom.Metadata.Component; c.Name != mainModule || c.Version != b.version || c.Type != "application" {
			t.Errorf("%s: the SBOM describes %s %s (%s), want the application %s %s", arch, c.Name, c.Version, c.Type, mainModule, b.version)
		}
		var listed []string
		std := 0
		for _, c := range bom.Components {
			if c.Name == "std" {
				std++
				if c.Version != goVersion {
					t.Errorf("%s: the SBOM's std is %s, the binary was built by %s", arch, c.Version, goVersion)
				}
				continue
			}
			var only []string
			for _, p := range c.Properties {
				if p.Name == "tableau-operator:platform" {
					only = append(only, p.Value)
				}
			}
			if len(only) == 0 || slices.Contains(only, platform) {
				listed = append(listed, c.Name+"@"+c.Version)
			}
		}
		if std != 1 {
			t.Errorf("the SBOM lists %d std components, want the toolchain once", std)
		}
		slices.Sort(listed)
		if !slices.Equal(listed, modules) {
			t.Errorf("%s: the SBOM's modules differ from go version -m's.\nSBOM:\n%s\ngo version -m:\n%s", arch, strings.Join(listed, "\n"), strings.Join(modules, "\n"))
		}
	}
}

// goVersionM runs `go version -m` on the platform's /tableau-operator and returns the Go
// version, the main module's path and the modules linked in (path@version, a replacement in
// place of what it replaces, a local directory as the module it replaces at (devel)), sorted.
func goVersionM(t *testing.T, files []layerFile) (goVersion, mainModule string, modules []string) {
	t.Helper()
	i := slices.IndexFunc(files, func(f layerFile) bool { return f.header.Name == "tableau-operator" })
	if i < 0 {
		t.Fatal("the image has no /tableau-operator")
	}
	bin := filepath.Join(t.TempDir(), "tableau-operator")
	if err := os.WriteFile(bin, files[i].body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var deps []string
	_, goVersion, _ = strings.Cut(lines[0], ": ")
	for _, line := range lines[1:] {
		f := strings.Split(strings.TrimPrefix(line, "\t"), "\t")
		switch {
		case f[0] == "mod" && len(f) >= 2:
			mainModule = f[1]
		case f[0] == "dep" && len(f) >= 3:
			modules = append(modules, f[1]+"@"+f[2])
			deps = append(deps, f[1]+"@"+f[2])
		case f[0] == "=>" && len(f) >= 3 && len(modules) > 0:
			modules[len(modules)-1] = f[1] + "@" + f[2]
			if strings.HasPrefix(f[1], ".") || strings.HasPrefix(f[1], "/") {
				// A local directory: the SBOM names the module it replaces, at (devel).
				replaced, _, _ := strings.Cut(deps[len(deps)-1], "@")
				modules[len(modules)-1] = replaced + "@(devel)"
			}
		}
	}
	if goVersion == "" || mainModule == "" || len(modules) == 0 {
		t.Fatalf("go version -m printed no Go version, main module or modules:\n%s", out)
	}
	slices.Sort(modules)
	return goVersion, mainModule, modules
}

// checkSBOMRebuild runs `hack/image.sh sbom` on a build with a later SOURCE_DATE_EPOCH: the SBOM
// is written anew (another timestamp, so other digests) and replaces the old one in the layout
// and the archive, while the image index and every blob of the image stay as they were.
func (b imageBuild) checkSBOMRebuild(t *testing.T, img builtImage) {
	imageBlobs := func() []string {
		var out []string
		entries, err := os.ReadDir(filepath.Join(img.dir, "oci", "blobs", "sha256"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			out = append(out, "sha256:"+e.Name())
		}
		return out
	}
	before := imageBlobs()
	old, _ := sbomOf(t, img)
	later := b
	later.epoch += 86400
	rebuilt := later.run(t, img.dir, "sbom")
	if rebuilt.index != img.index {
		t.Fatalf("rebuilding the SBOM changed the image digest from %s to %s", img.index, rebuilt.index)
	}
	if rebuilt.sbomManifest == img.sbomManifest || rebuilt.sbomBlob == img.sbomBlob {
		t.Errorf("the rebuilt SBOM has the old digests %s, %s, though its timestamp changed", img.sbomManifest, img.sbomBlob)
	}
	_, raw := sbomOf(t, rebuilt)
	var bom cdxBOM
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(later.epoch, 0).UTC().Format(time.RFC3339); bom.Metadata.Timestamp != want {
		t.Errorf("the rebuilt SBOM's timestamp is %q, want %s", bom.Metadata.Timestamp, want)
	}
	after := imageBlobs()
	for _, d := range before {
		gone := !slices.Contains(after, d)
		if ofOld := d == old.Digest || d == img.sbomBlob; gone != ofOld {
			t.Errorf("blob %s: removed %v; only the old SBOM's manifest and SBOM blobs may go, and they must", d, gone)
		}
	}
	t.Run("the OCI archive holds the new layout", func(t *testing.T) { checkArchive(t, rebuilt) })
	t.Logf("SBOM rebuilt: %s -> %s, image index %s", img.sbomManifest, rebuilt.sbomManifest, rebuilt.index)
}
