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
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// metadata describes the build; it is the same for every platform.
type metadata struct {
	version, revision, source string
	created                   time.Time
}

// labels are the OCI annotation keys, set as image labels and on the index.
func (m metadata) labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":    "tableau-operator",
		"org.opencontainers.image.source":   m.source,
		"org.opencontainers.image.version":  m.version,
		"org.opencontainers.image.revision": m.revision,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.created":  m.created.UTC().Format(time.RFC3339),
	}
}

// platformImage is one platform's image: the shared base layer, the binary layer, and a
// config that runs the binary as the nonroot user.
func platformImage(p v1.Platform, base v1.Layer, binaryPath string, m metadata) (v1.Image, error) {
	files, err := binaryEntries(binaryPath)
	if err != nil {
		return nil, err
	}
	bin, err := ociLayer(files, m.created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: m.created}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "hack/tools/image: /etc/passwd, /etc/group, /home/nonroot, /tmp"}},
		mutate.Addendum{Layer: bin, MediaType: types.OCILayer, History: v1.History{Created: created, CreatedBy: "hack/tools/image: " + entrypoint}},
	)
	if err != nil {
		return nil, fmt.Errorf("adding the layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.Created = p.OS, p.Architecture, p.Variant, created
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", uid, gid),
		Entrypoint: []string{entrypoint},
		WorkingDir: "/",
		Env:        []string{"HOME=/home/" + userName},
		Labels:     m.labels(),
	}
	return mutate.ConfigFile(img, cf)
}

// multiPlatformIndex is the image index over one image per platform, annotated like the labels.
func multiPlatformIndex(binaries []platformBinary, m metadata) (v1.ImageIndex, error) {
	base, err := ociLayer(baseEntries(), m.created)
	if err != nil {
		return nil, err
	}
	adds := make([]mutate.IndexAddendum, 0, len(binaries))
	for _, b := range binaries {
		img, err := platformImage(b.platform, base, b.path, m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.platform, err)
		}
		p := b.platform
		adds = append(adds, mutate.IndexAddendum{Add: notAnArtifact{img}, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, m.labels()).(v1.ImageIndex), nil
}

// notAnArtifact keeps artifactType out of the index's descriptors: go-containerregistry fills
// it with the config media type, but OCI 1.1 sets it only for artifacts, and tools that predate
// the field (skopeo 1.9) rewrite an index that has it, changing the digest on push.
type notAnArtifact struct{ v1.Image }

func (notAnArtifact) ArtifactType() (string, error) { return "", nil }
