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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The SBOM is an OCI 1.1 artifact that refers to the image index: an image manifest with
// artifactType application/vnd.cyclonedx+json, the empty config, the SBOM as its one layer,
// and the index as its subject. It is listed in the layout's index.json beside the image, as
// oras and cosign look for referrers there; pushing the layout (oras cp -r, crane push of the
// layout's index) takes it along. The image index is untouched, so its digest stays the same.

const (
	sbomArtifactType  = "application/vnd.cyclonedx+json"
	sbomTitle         = "tableau-operator.cdx.json"
	titleAnnotation   = "org.opencontainers.image.title"
	createdAnnotation = "org.opencontainers.image.created"
)

// emptyConfig is the OCI 1.1 empty descriptor's content.
var emptyConfig = []byte("{}")

// attached is what attachSBOM wrote: the artifact manifest's descriptor and the SBOM's.
type attached struct {
	manifest, sbom v1.Descriptor
}

// attachSBOM replaces the layout's SBOM referrers of its image index with one for sbom, and
// removes the blobs that nothing in index.json reaches any more.
func attachSBOM(dir string, sbom []byte, created time.Time) (attached, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return attached{}, err
	}
	subject, err := imageIndexOf(p)
	if err != nil {
		return attached{}, err
	}
	// An earlier SBOM of this index goes; nothing else in the layout is touched.
	if err := p.RemoveDescriptors(func(d v1.Descriptor) bool { return d.ArtifactType == sbomArtifactType }); err != nil {
		return attached{}, err
	}
	cfg, err := writeBlob(p, types.OCIEmptyJSON, emptyConfig)
	if err != nil {
		return attached{}, err
	}
	cfg.Data = emptyConfig
	layer, err := writeBlob(p, sbomArtifactType, sbom)
	if err != nil {
		return attached{}, err
	}
	layer.Annotations = map[string]string{titleAnnotation: sbomTitle}
	annotations := map[string]string{createdAnnotation: created.UTC().Format(time.RFC3339)}
	raw, err := json.Marshal(v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  sbomArtifactType,
		Config:        cfg,
		Layers:        []v1.Descriptor{layer},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations:   annotations,
	})
	if err != nil {
		return attached{}, err
	}
	m, err := writeBlob(p, types.OCIManifestSchema1, raw)
	if err != nil {
		return attached{}, err
	}
	m.ArtifactType, m.Annotations = sbomArtifactType, annotations
	if err := p.AppendDescriptor(m); err != nil {
		return attached{}, err
	}
	if err := removeUnreachableBlobs(p, dir); err != nil {
		return attached{}, err
	}
	return attached{manifest: m, sbom: layer}, nil
}

// imageIndexOf is the descriptor of the layout's one image index.
func imageIndexOf(p layout.Path) (v1.Descriptor, error) {
	top, err := p.ImageIndex()
	if err != nil {
		return v1.Descriptor{}, err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		if d.MediaType == types.OCIImageIndex {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		return v1.Descriptor{}, fmt.Errorf("the layout lists %d image indexes, want one", len(found))
	}
	return found[0], nil
}

func writeBlob(p layout.Path, mediaType types.MediaType, content []byte) (v1.Descriptor, error) {
	h, size, err := v1.SHA256(bytes.NewReader(content))
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(content))); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mediaType, Digest: h, Size: size}, nil
}

// removeUnreachableBlobs deletes the blobs that no manifest or index reachable from index.json
// names (a replaced SBOM's).
func removeUnreachableBlobs(p layout.Path, dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	if err := reach(p, raw, keep); err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs")
	var stale []v1.Hash
	err = filepath.WalkDir(blobs, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(blobs, path)
		if err != nil {
			return err
		}
		h, err := v1.NewHash(strings.Replace(filepath.ToSlash(rel), "/", ":", 1))
		if err != nil {
			return err
		}
		if !keep[h.String()] {
			stale = append(stale, h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, h := range stale {
		if err := p.RemoveBlob(h); err != nil {
			return err
		}
	}
	return nil
}

// reach marks every blob that the manifest or index raw names, recursively.
func reach(p layout.Path, raw []byte, keep map[string]bool) error {
	var doc struct {
		Manifests []v1.Descriptor `json:"manifests"`
		Config    *v1.Descriptor  `json:"config"`
		Layers    []v1.Descriptor `json:"layers"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	for _, d := range doc.Manifests {
		if keep[d.Digest.String()] {
			continue
		}
		keep[d.Digest.String()] = true
		child, err := p.Bytes(d.Digest)
		if err != nil {
			return fmt.Errorf("%s: %w", d.Digest, err)
		}
		if err := reach(p, child, keep); err != nil {
			return err
		}
	}
	if doc.Config != nil && doc.Config.Digest.Hex != "" {
		keep[doc.Config.Digest.String()] = true
	}
	for _, l := range doc.Layers {
		keep[l.Digest.String()] = true
	}
	if len(doc.Manifests) == 0 && doc.Config == nil && len(doc.Layers) == 0 {
		return errors.New("a blob that index.json reaches is neither an index nor a manifest")
	}
	return nil
}
