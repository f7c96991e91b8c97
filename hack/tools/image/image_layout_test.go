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
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A reader of OCI image layouts written with the standard library only, so the image test
// does not trust the library that wrote the image (go-containerregistry) to read it back.

const (
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	// ArtifactType is only for artifacts; skopeo 1.9 rewrites an image index that sets it.
	ArtifactType string `json:"artifactType"`
	Platform     *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	} `json:"platform"`
}

type ociIndex struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Manifests     []ociDescriptor   `json:"manifests"`
	Annotations   map[string]string `json:"annotations"`
}

type ociManifest struct {
	MediaType string          `json:"mediaType"`
	Config    ociDescriptor   `json:"config"`
	Layers    []ociDescriptor `json:"layers"`
}

type ociConfig struct {
	Created      time.Time `json:"created"`
	OS           string    `json:"os"`
	Architecture string    `json:"architecture"`
	Variant      string    `json:"variant"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

// layoutBlob reads a blob of the layout at dir and checks it against its descriptor.
func layoutBlob(t *testing.T, dir string, d ociDescriptor) []byte {
	t.Helper()
	hexDigest, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok {
		t.Fatalf("digest %q is not sha256", d.Digest)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hexDigest))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != hexDigest {
		t.Fatalf("blob %s does not hash to its name", d.Digest)
	}
	if int64(len(b)) != d.Size {
		t.Fatalf("blob %s is %d bytes, its descriptor says %d", d.Digest, len(b), d.Size)
	}
	return b
}

func layoutJSON(t *testing.T, dir string, d ociDescriptor, wantMediaType string, v any) {
	t.Helper()
	if d.MediaType != wantMediaType {
		t.Fatalf("descriptor %s has media type %q, want %q", d.Digest, d.MediaType, wantMediaType)
	}
	if err := json.Unmarshal(layoutBlob(t, dir, d), v); err != nil {
		t.Fatalf("%s: %v", d.Digest, err)
	}
}

// layerFile is one regular file or directory of a layer.
type layerFile struct {
	header *tar.Header
	body   []byte
}

// readLayer decompresses a layer, checks its diff ID, and returns its entries in tar order.
func readLayer(t *testing.T, dir string, d ociDescriptor, diffID string) []layerFile {
	t.Helper()
	if d.MediaType != mediaTypeLayer {
		t.Fatalf("layer %s has media type %q", d.Digest, d.MediaType)
	}
	zr, err := gzip.NewReader(bytes.NewReader(layoutBlob(t, dir, d)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); "sha256:"+hex.EncodeToString(sum[:]) != diffID {
		t.Fatalf("layer %s: uncompressed digest differs from the config's diff_id %s", d.Digest, diffID)
	}
	var files []layerFile
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeDir {
			t.Fatalf("layer %s holds %s of type %q; the image has only files and directories", d.Digest, h.Name, h.Typeflag)
		}
		if clean := path.Clean(h.Name); strings.HasPrefix(clean, "..") || path.IsAbs(clean) {
			t.Fatalf("layer %s holds an unsafe path %q", d.Digest, h.Name)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, layerFile{header: h, body: body})
	}
}

// unpack writes a platform's files under root: directories, then files, in layer order.
func unpack(root string, files []layerFile) error {
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(path.Clean(f.header.Name)))
		mode := os.FileMode(f.header.Mode).Perm()
		if f.header.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			// os.Chmod cannot set the sticky bit from FileMode.Perm; /tmp needs it.
			if f.header.Mode&0o1000 != 0 {
				mode |= os.ModeSticky
			}
			if err := os.Chmod(p, mode); err != nil {
				return err
			}
		} else if err := os.WriteFile(p, f.body, mode); err != nil {
			return fmt.Errorf("unpacking %s: %w", f.header.Name, err)
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, f.header.Uid, f.header.Gid); err != nil {
				return err
			}
		}
	}
	return nil
}
