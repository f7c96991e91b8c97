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

// Command image is `make image`: it assembles the operator's multi-platform OCI image from
// prebuilt static binaries with go-containerregistry, without a container engine, and writes
// it as an OCI layout, an OCI archive and one `docker save` tarball per platform, with a
// CycloneDX SBOM of the binaries attached to the layout as a referrer of the image index.
// The same binaries and flags give the same bytes and digests. `image sbom` writes the SBOM
// of an existing output anew without touching the image.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// platformBinary is the operator binary built for one platform.
type platformBinary struct {
	platform v1.Platform
	path     string
}

type binaryFlags []platformBinary

func (b *binaryFlags) String() string { return fmt.Sprint(*b) }

// Set parses os/arch[/variant]=path.
func (b *binaryFlags) Set(s string) error {
	plat, path, ok := strings.Cut(s, "=")
	if !ok || path == "" {
		return fmt.Errorf("want os/arch=path, got %q", s)
	}
	p, err := v1.ParsePlatform(plat)
	if err != nil {
		return err
	}
	if p.OS == "" || p.Architecture == "" {
		return fmt.Errorf("want os/arch=path, got %q", s)
	}
	if p.Architecture == "arm64" && p.Variant == "" {
		p.Variant = "v8"
	}
	*b = append(*b, platformBinary{platform: *p, path: path})
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "sbom" {
		return runSBOM(args[1:])
	}
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var binaries binaryFlags
	var m metadata
	var out, ref, created string
	fs.Var(&binaries, "binary", "os/arch=path of a static operator binary; repeat once per platform")
	fs.StringVar(&out, "out", "", "directory to write: oci/ (layout), tableau-operator.oci.tar, tableau-operator-<os>-<arch>.docker.tar")
	fs.StringVar(&ref, "name", "tableau-operator:latest", "image name and tag recorded in the layout and the docker tarballs")
	fs.StringVar(&m.version, "version", "", "org.opencontainers.image.version")
	fs.StringVar(&m.revision, "revision", "", "org.opencontainers.image.revision (git commit)")
	fs.StringVar(&m.source, "source", "https://github.com/tableau-operator/tableau-operator", "org.opencontainers.image.source")
	fs.StringVar(&created, "created", "", "build time as Unix seconds (SOURCE_DATE_EPOCH): the image's created time and every file's mtime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case len(binaries) == 0:
		return errors.New("no --binary given")
	case out == "":
		return errors.New("no --out directory given")
	case m.version == "" || m.revision == "":
		return errors.New("--version and --revision are required")
	}
	secs, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return fmt.Errorf("--created must be Unix seconds: %w", err)
	}
	m.created = time.Unix(secs, 0).UTC()

	idx, err := multiPlatformIndex(binaries, m)
	if err != nil {
		return err
	}
	if err := clearOutputs(out); err != nil {
		return err
	}
	layoutDir := filepath.Join(out, "oci")
	if err := writeLayout(layoutDir, idx, ref); err != nil {
		return err
	}
	sbom, err := writeSBOM(out, idx, m.version, m.created)
	if err != nil {
		return err
	}
	if err := writeArchive(layoutDir, filepath.Join(out, "tableau-operator.oci.tar"), m.created); err != nil {
		return fmt.Errorf("writing the OCI archive: %w", err)
	}
	for _, b := range binaries {
		img, err := imageFor(idx, b.platform)
		if err != nil {
			return err
		}
		path := filepath.Join(out, fmt.Sprintf("tableau-operator-%s-%s.docker.tar", b.platform.OS, b.platform.Architecture))
		if err := writeDockerArchive(path, img, ref); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	printDigests(ref, digest, sbom)
	return nil
}

// runSBOM is `image sbom`: it writes the SBOM of the image in an existing output directory
// anew, from the binaries inside the image, and replaces the one attached to the layout and
// the OCI archive. The image, and so its digest, stays as it is.
func runSBOM(args []string) error {
	fs := flag.NewFlagSet("image sbom", flag.ContinueOnError)
	var out, created string
	fs.StringVar(&out, "out", "", "directory an earlier `image` run wrote")
	fs.StringVar(&created, "created", "", "the SBOM's timestamp as Unix seconds (SOURCE_DATE_EPOCH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if out == "" {
		return errors.New("no --out directory given")
	}
	secs, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return fmt.Errorf("--created must be Unix seconds: %w", err)
	}
	when := time.Unix(secs, 0).UTC()
	layoutDir := filepath.Join(out, "oci")
	p, err := layout.FromPath(layoutDir)
	if err != nil {
		return fmt.Errorf("reading the OCI layout: %w", err)
	}
	desc, err := imageIndexOf(p)
	if err != nil {
		return err
	}
	top, err := p.ImageIndex()
	if err != nil {
		return err
	}
	idx, err := top.ImageIndex(desc.Digest)
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	version := im.Annotations["org.opencontainers.image.version"]
	if version == "" {
		return errors.New("the image index has no org.opencontainers.image.version annotation")
	}
	sbom, err := writeSBOM(out, idx, version, when)
	if err != nil {
		return err
	}
	if err := writeArchive(layoutDir, filepath.Join(out, "tableau-operator.oci.tar"), when); err != nil {
		return fmt.Errorf("writing the OCI archive: %w", err)
	}
	printDigests(desc.Annotations[refNameAnnotation], desc.Digest, sbom)
	return nil
}

// writeSBOM writes the SBOM of the index's binaries to <out>/tableau-operator.cdx.json and
// attaches it to the layout in <out>/oci as a referrer of the index.
func writeSBOM(out string, idx v1.ImageIndex, version string, created time.Time) (attached, error) {
	digest, err := idx.Digest()
	if err != nil {
		return attached{}, err
	}
	sbom, err := sbomFor(idx, version, digest, created)
	if err != nil {
		return attached{}, fmt.Errorf("the SBOM: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, sbomTitle), sbom, 0o644); err != nil {
		return attached{}, err
	}
	a, err := attachSBOM(filepath.Join(out, "oci"), sbom, created)
	if err != nil {
		return attached{}, fmt.Errorf("attaching the SBOM to the layout: %w", err)
	}
	return a, nil
}

// printDigests prints the image's name and index digest, then the SBOM referrer's manifest
// digest (what `oras discover` lists) and the SBOM's own digest.
func printDigests(ref string, index v1.Hash, a attached) {
	fmt.Printf("%s %s\n", ref, index)
	fmt.Printf("sbom %s %s %s\n", a.manifest.Digest, sbomArtifactType, a.sbom.Digest)
}

// clearOutputs removes what an earlier run wrote to out, and nothing else: out may be a
// directory that holds other files (IMAGE_OUT=. or a shared build directory).
func clearOutputs(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	stale, err := filepath.Glob(filepath.Join(out, "tableau-operator-*.docker.tar"))
	if err != nil {
		return err
	}
	for _, p := range append(stale, filepath.Join(out, "oci"), filepath.Join(out, "tableau-operator.oci.tar"), filepath.Join(out, sbomTitle)) {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// imageFor finds the platform's image in the index.
func imageFor(idx v1.ImageIndex, p v1.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Equals(p) {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("no image for %s in the index", p)
}
