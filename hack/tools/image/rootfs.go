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
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image user: the uid and gid distroless calls nonroot, which config/manager runs as.
const (
	uid      = 65532
	gid      = 65532
	userName = "nonroot"
	// entrypoint is where the operator binary lives in the image.
	entrypoint = "/tableau-operator"
)

// entry is one file or directory of a layer.
type entry struct {
	name     string // relative path, no leading slash; directories end in "/"
	mode     int64
	uid, gid int
	body     []byte // nil for a directory
}

// baseEntries are the files every platform shares, so the layer holding them has one digest
// for both: /etc/passwd and /etc/group name the user (some libraries and `id`-style tools
// look the uid up), its home and a world-writable /tmp for a run without a read-only root.
func baseEntries() []entry {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", userName, uid, gid, userName, userName)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", userName, gid)
	return []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "home/", mode: 0o755},
		{name: "home/" + userName + "/", mode: 0o700, uid: uid, gid: gid},
		{name: "tmp/", mode: 0o1777},
	}
}

// binaryEntries is the platform's operator binary, owned by root and not writable by the user.
func binaryEntries(path string) ([]entry, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the operator binary: %w", err)
	}
	return []entry{{name: entrypoint[1:], mode: 0o555, body: body}}, nil
}

// layerTar writes entries as an uncompressed tar in name order with one fixed modification
// time and no user or group names, so the same entries always give the same bytes.
func layerTar(entries []entry, mtime time.Time) ([]byte, error) {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range sorted {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: mtime, Format: tar.FormatPAX}
		if e.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("writing the tar header of %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("writing %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ociLayer makes a gzip-compressed OCI layer of entries. go-containerregistry compresses
// with a zero gzip header time, so the digest depends only on the entries and mtime.
func ociLayer(entries []entry, mtime time.Time) (v1.Layer, error) {
	raw, err := layerTar(entries, mtime)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
		tarball.WithMediaType(types.OCILayer))
}
