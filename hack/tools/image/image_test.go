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
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestImage builds the image twice with hack/image.sh (what `make image` runs), for the host
// platform only, reads it back with a standard-library reader, and runs the operator from the
// unpacked root filesystem: `version`, then the manager against the envtest control plane until
// ready. That the tool assembles one index of several platforms (per-platform manifests, docker
// tarballs and SBOM entries) is TestImageOfTwoPlatforms's, on a small program: cross-compiling
// the whole operator for a second architecture would cost a cold `make test` a quarter of an
// hour on two cores.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the operator")
	}
	b := imageBuild{version: "v1.2.3-imagetest", revision: "0123456789abcdef0123456789abcdef01234567",
		epoch: 1767225600, name: "example.test/tableau-operator:v1.2.3-imagetest",
		archs: []string{runtime.GOARCH}, operator: true}
	// The first build goes to a directory that already holds a file of the user's and a
	// docker tarball of a platform this build does not make.
	firstDir := t.TempDir()
	for _, name := range []string{"notes.txt", "tableau-operator-linux-s390x.docker.tar"} {
		if err := os.WriteFile(filepath.Join(firstDir, name), []byte("earlier"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first, second := b.run(t, firstDir), b.run(t, filepath.Join(t.TempDir(), "second"))

	t.Run("the build replaces its own outputs and nothing else", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(firstDir, "notes.txt")); err != nil {
			t.Errorf("the build removed a file it did not write: %v", err)
		}
		if _, err := os.Stat(filepath.Join(firstDir, "tableau-operator-linux-s390x.docker.tar")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a stale docker tarball of an earlier build survived: %v", err)
		}
	})

	t.Run("the same inputs give the same digest and bytes", func(t *testing.T) { b.checkSame(t, first, second) })
	platforms := b.checkBuilt(t, first)
	t.Run("rebuilding only the SBOM keeps the image and its digest", func(t *testing.T) { b.checkSBOMRebuild(t, second) })

	files, ok := platforms[runtime.GOARCH]
	if !ok {
		t.Fatalf("no image for the host architecture %s", runtime.GOARCH)
	}
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unpack(rootfs, files); err != nil {
		t.Fatal(err)
	}
	t.Run("version from the unpacked image", func(t *testing.T) {
		out, err := imageCommand(rootfs, "version").CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, want := range []string{"tableau-operator " + b.version + "\n", "revision:   " + b.revision + "\n",
			"build date: 2026-01-01T00:00:00Z\n", "platform:   linux/" + runtime.GOARCH + "\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("version output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("the manager from the unpacked image becomes ready", func(t *testing.T) { runManagerFromImage(t, rootfs) })
}

type imageBuild struct {
	version, revision, name string
	epoch                   int64
	// archs are the architectures of the image's platforms (all linux).
	archs []string
	// operator says the image holds the operator, not TestImageOfTwoPlatforms's program.
	operator bool
}

// checkSame: two builds of the same inputs printed the same digests and wrote the same bytes.
func (b imageBuild) checkSame(t *testing.T, first, second builtImage) {
	if first.printed != second.printed {
		t.Fatalf("two builds printed %q and %q", first.printed, second.printed)
	}
	names := []string{"oci/index.json", "tableau-operator.oci.tar", "tableau-operator.cdx.json"}
	for _, arch := range b.archs {
		names = append(names, "tableau-operator-linux-"+arch+".docker.tar")
	}
	for _, name := range names {
		if x, y := fileSum(t, filepath.Join(first.dir, name)), fileSum(t, filepath.Join(second.dir, name)); x != y {
			t.Errorf("%s differs between two builds: %s and %s", name, x, y)
		}
	}
}

// checkBuilt checks what one build wrote: the layout, the OCI archive, the docker tarballs and
// the SBOM; it returns each architecture's files.
func (b imageBuild) checkBuilt(t *testing.T, img builtImage) map[string][]layerFile {
	platforms := b.checkLayout(t, img)
	t.Run("the OCI archive holds the layout", func(t *testing.T) { checkArchive(t, img) })
	t.Run("the docker tarballs are tagged single-platform images", func(t *testing.T) { b.checkDockerArchives(t, img) })
	t.Run("the SBOM refers to the index and lists exactly the modules of go version -m", func(t *testing.T) {
		checkSBOM(t, img, b, platforms)
	})
	return platforms
}

type builtImage struct {
	// printed is what the build printed; index, sbomManifest and sbomBlob its digests.
	dir, printed                  string
	index, sbomManifest, sbomBlob string
}

// run runs hack/image.sh, as `make image` does, for b's platforms, writing to out.
func (b imageBuild) run(t *testing.T, out string, args ...string) builtImage {
	t.Helper()
	var platforms []string
	for _, arch := range b.archs {
		platforms = append(platforms, "linux/"+arch)
	}
	cmd := exec.Command(filepath.Join(repoRoot, "hack", "image.sh"), args...)
	cmd.Env = append(os.Environ(), "IMAGE_OUT="+out, "IMG="+b.name, "VERSION="+b.version, "REVISION="+b.revision,
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", b.epoch), "IMAGE_PLATFORMS="+strings.Join(platforms, " "))
	return b.printed(t, cmd, out)
}

// printed runs a build and reads what it printed: the image's name and index digest, then the
// SBOM referrer's manifest and blob digests.
func (b imageBuild) printed(t *testing.T, cmd *exec.Cmd, out string) builtImage {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd.Path, err, stderr.String())
	}
	printed := strings.TrimSpace(string(stdout))
	var img builtImage
	if _, err := fmt.Sscanf(printed, b.name+" %s\nsbom %s "+mediaTypeCycloneDX+" %s", &img.index, &img.sbomManifest, &img.sbomBlob); err != nil ||
		!strings.HasPrefix(img.index, "sha256:") || !strings.HasPrefix(img.sbomManifest, "sha256:") || !strings.HasPrefix(img.sbomBlob, "sha256:") {
		t.Fatalf("%s printed %q, want the name and the index digest, then the SBOM's manifest and blob digests (%v)", cmd.Path, printed, err)
	}
	img.dir, img.printed = out, printed
	return img
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// checkLayout checks the layout's index, each platform's manifest, config and files, and
// returns each architecture's files.
func (b imageBuild) checkLayout(t *testing.T, img builtImage) map[string][]layerFile {
	dir := filepath.Join(img.dir, "oci")
	var top ociIndex
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	// index.json lists the image and, after it, the SBOM that refers to it (checkSBOM).
	if len(top.Manifests) != 2 || top.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != b.name {
		t.Fatalf("index.json should name one image %s and its SBOM, got %+v", b.name, top.Manifests)
	}
	if top.Manifests[0].Digest != img.index {
		t.Fatalf("index.json points at %s, the build printed %s", top.Manifests[0].Digest, img.index)
	}
	var idx ociIndex
	layoutJSON(t, dir, top.Manifests[0], mediaTypeIndex, &idx)
	created := time.Unix(b.epoch, 0).UTC()
	wantLabels := map[string]string{
		"org.opencontainers.image.title":    "tableau-operator",
		"org.opencontainers.image.source":   "https://github.com/tableau-operator/tableau-operator",
		"org.opencontainers.image.version":  b.version,
		"org.opencontainers.image.revision": b.revision,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.created":  created.Format(time.RFC3339),
	}
	checkMap(t, "index annotations", idx.Annotations, wantLabels)

	wantMachine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	platforms := map[string][]layerFile{}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS != "linux" {
			t.Fatalf("manifest %s has platform %+v", d.Digest, d.Platform)
		}
		arch := d.Platform.Architecture
		if d.ArtifactType != "" {
			t.Errorf("%s: the index sets artifactType %q on an image", arch, d.ArtifactType)
		}
		if _, ok := wantMachine[arch]; !ok || !slices.Contains(b.archs, arch) || platforms[arch] != nil {
			t.Fatalf("unexpected or repeated architecture %q", arch)
		}
		var m ociManifest
		layoutJSON(t, dir, d, mediaTypeManifest, &m)
		var cfg ociConfig
		layoutJSON(t, dir, m.Config, mediaTypeConfig, &cfg)
		if cfg.OS != "linux" || cfg.Architecture != arch || !cfg.Created.Equal(created) {
			t.Errorf("%s config: os %q arch %q created %v", arch, cfg.OS, cfg.Architecture, cfg.Created)
		}
		if arch == "arm64" && (d.Platform.Variant != "v8" || cfg.Variant != "v8") {
			t.Errorf("arm64 variant: platform %q, config %q; want v8", d.Platform.Variant, cfg.Variant)
		}
		if cfg.Config.User != "65532:65532" || !slices.Equal(cfg.Config.Entrypoint, []string{"/tableau-operator"}) || len(cfg.Config.Cmd) != 0 {
			t.Errorf("%s runs %v %v as %q; want /tableau-operator as 65532:65532", arch, cfg.Config.Entrypoint, cfg.Config.Cmd, cfg.Config.User)
		}
		checkMap(t, arch+" labels", cfg.Config.Labels, wantLabels)
		if len(m.Layers) != len(cfg.RootFS.DiffIDs) {
			t.Fatalf("%s: %d layers, %d diff_ids", arch, len(m.Layers), len(cfg.RootFS.DiffIDs))
		}
		var files []layerFile
		for i, l := range m.Layers {
			files = append(files, readLayer(t, dir, l, cfg.RootFS.DiffIDs[i])...)
		}
		checkFiles(t, arch, files, created, wantMachine[arch], b.version, b.operator)
		platforms[arch] = files
	}
	if len(platforms) != len(b.archs) {
		t.Fatalf("want the platforms of %v, got %d platforms", b.archs, len(platforms))
	}
	return platforms
}

func checkMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got[k], v)
		}
	}
}

// checkFiles checks a platform's files: fixed times, the user in /etc/passwd and /etc/group,
// and a static, trimmed, stamped binary for the right machine; the operator's with the fallback
// CA roots.
func checkFiles(t *testing.T, arch string, files []layerFile, created time.Time, machine elf.Machine, version string, operator bool) {
	t.Helper()
	byName := map[string]layerFile{}
	for _, f := range files {
		if !f.header.ModTime.Equal(created) {
			t.Errorf("%s: %s has mtime %v, want %v", arch, f.header.Name, f.header.ModTime, created)
		}
		byName[strings.TrimSuffix(f.header.Name, "/")] = f
	}
	if p := string(byName["etc/passwd"].body); !strings.Contains(p, "\nnonroot:x:65532:65532:") {
		t.Errorf("%s: /etc/passwd has no nonroot user 65532:\n%s", arch, p)
	}
	if g := string(byName["etc/group"].body); !strings.Contains(g, "\nnonroot:x:65532:") {
		t.Errorf("%s: /etc/group has no nonroot group 65532:\n%s", arch, g)
	}
	bin, ok := byName["tableau-operator"]
	if !ok {
		t.Fatalf("%s: no /tableau-operator", arch)
	}
	if bin.header.Uid != 0 || bin.header.Mode&0o222 != 0 || bin.header.Mode&0o111 == 0 {
		t.Errorf("%s: /tableau-operator is owned by %d with mode %o; want root-owned, executable, not writable", arch, bin.header.Uid, bin.header.Mode)
	}
	f, err := elf.NewFile(bytes.NewReader(bin.body))
	if err != nil {
		t.Fatalf("%s: /tableau-operator is not ELF: %v", arch, err)
	}
	if f.Machine != machine {
		t.Errorf("%s: ELF machine %v, want %v", arch, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: the binary is dynamically linked (%v)", arch, p.Type)
		}
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin.body))
	if err != nil {
		t.Fatalf("%s: no Go build information: %v", arch, err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	checkMap(t, arch+" build settings", settings, map[string]string{"CGO_ENABLED": "0", "-trimpath": "true", "GOOS": "linux", "GOARCH": arch})
	// -trimpath keeps -ldflags out of the build settings; the stamped version is in the data.
	if !bytes.Contains(bin.body, []byte(version)) {
		t.Errorf("%s: the binary does not hold the stamped version %s", arch, version)
	}
	if operator && !slices.ContainsFunc(bi.Deps, func(m *debug.Module) bool { return m.Path == "golang.org/x/crypto/x509roots/fallback" }) {
		t.Errorf("%s: the binary lacks golang.org/x/crypto/x509roots/fallback, so TLS has no CA roots in the image", arch)
	}
}

// tarEntries reads a tar file's regular files in order.
func tarEntries(t *testing.T, p string) (names []string, bodies map[string][]byte) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bodies = map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, bodies
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		bodies[h.Name] = b
	}
}

// checkArchive: the OCI archive holds exactly the layout's files, byte for byte, in name order.
func checkArchive(t *testing.T, img builtImage) {
	names, bodies := tarEntries(t, filepath.Join(img.dir, "tableau-operator.oci.tar"))
	if !slices.IsSorted(names) {
		t.Errorf("the archive's entries are not in name order: %v", names)
	}
	dir := filepath.Join(img.dir, "oci")
	var onDisk []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		want, err := os.ReadFile(p)
		if err == nil && !bytes.Equal(bodies[filepath.ToSlash(rel)], want) {
			t.Errorf("the archive's %s differs from the layout's", rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(onDisk)
	if !slices.Equal(names, onDisk) {
		t.Errorf("the archive holds %v, the layout %v", names, onDisk)
	}
	if !slices.Contains(names, "oci-layout") || !slices.Contains(names, "index.json") {
		t.Errorf("the archive lacks oci-layout or index.json: %v", names)
	}
}

// checkDockerArchives: each platform's docker tarball has a manifest.json naming one image,
// tagged b.name, whose config is for its architecture and whose layers are in the tarball.
func (b imageBuild) checkDockerArchives(t *testing.T, img builtImage) {
	name := b.name
	for _, arch := range b.archs {
		_, bodies := tarEntries(t, filepath.Join(img.dir, "tableau-operator-linux-"+arch+".docker.tar"))
		var manifest []struct {
			Config   string
			RepoTags []string
			Layers   []string
		}
		if err := json.Unmarshal(bodies["manifest.json"], &manifest); err != nil {
			t.Fatalf("%s: manifest.json: %v", arch, err)
		}
		if len(manifest) != 1 || !slices.Equal(manifest[0].RepoTags, []string{name}) {
			t.Fatalf("%s: manifest.json %+v, want one image tagged %s", arch, manifest, name)
		}
		var cfg ociConfig
		if err := json.Unmarshal(bodies[manifest[0].Config], &cfg); err != nil || cfg.Architecture != arch {
			t.Errorf("%s: the config %s is for %q (%v)", arch, manifest[0].Config, cfg.Architecture, err)
		}
		if len(manifest[0].Layers) != len(cfg.RootFS.DiffIDs) {
			t.Errorf("%s: %d layers for %d diff_ids", arch, len(manifest[0].Layers), len(cfg.RootFS.DiffIDs))
		}
		for _, l := range manifest[0].Layers {
			if len(bodies[l]) == 0 {
				t.Errorf("%s: layer %s is not in the tarball", arch, l)
			}
		}
	}
}

// imageCommand runs the image's entrypoint. As root it runs it as the image does: chrooted
// into the unpacked root filesystem (so nothing of the host's, no libc and no CA roots, is
// there) as user 65532. Otherwise it runs the unpacked binary as the current user.
func imageCommand(rootfs string, args ...string) *exec.Cmd {
	if os.Geteuid() != 0 {
		cmd := exec.Command(filepath.Join(rootfs, "tableau-operator"), args...)
		cmd.Env = []string{"HOME=" + filepath.Join(rootfs, "home", "nonroot"), "KUBECONFIG=" + filepath.Join(rootfs, "tmp", "kubeconfig")}
		return cmd
	}
	cmd := exec.Command("/tableau-operator", args...)
	cmd.Dir = "/"
	cmd.Env = []string{"HOME=/home/nonroot", "KUBECONFIG=/tmp/kubeconfig"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	return cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runManagerFromImage starts the image's manager against the envtest control plane and waits
// until its readiness probe answers and its controllers have started, then stops it.
func runManagerFromImage(t *testing.T, rootfs string) {
	kubeconfig := startControlPlane(t)
	if err := os.WriteFile(filepath.Join(rootfs, "tmp", "kubeconfig"), kubeconfig, 0o644); err != nil {
		t.Fatal(err)
	}
	probe := freePort(t)
	cmd := imageCommand(rootfs, "--metrics-bind-address=0", fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe))
	// The manager writes to a file, which the test reads while it runs.
	logs, err := os.Create(filepath.Join(t.TempDir(), "manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	readyURL := fmt.Sprintf("http://127.0.0.1:%d/readyz", probe)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("the manager exited before it was ready: %v\n%s", err, readLog(t, logs))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the manager was not ready and running its controllers within 2 minutes:\n%s", readLog(t, logs))
		}
		resp, err := http.Get(readyURL)
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		// Ready, and the controllers' caches synced from the API server.
		if resp.StatusCode == http.StatusOK && strings.Contains(readLog(t, logs), "Starting workers") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) || err != nil {
			t.Fatalf("the manager did not stop cleanly on SIGTERM: %v\n%s", err, readLog(t, logs))
		}
	case <-time.After(time.Minute):
		t.Fatalf("the manager did not stop within a minute of SIGTERM:\n%s", readLog(t, logs))
	}
}

// repoRoot is the operator's repository, three levels up from this module: go test runs a
// package's tests in its directory.
const repoRoot = "../../.."

// startControlPlane starts etcd and kube-apiserver (KUBEBUILDER_ASSETS, built by
// hack/envtest.sh) with the operator's CRDs, whose informers the manager waits for, until the
// test ends, and returns an administrator's kubeconfig. It uses envtest directly: this module
// cannot import the operator's internal/testenv without requiring the operator's module.
func startControlPlane(t *testing.T) []byte {
	t.Helper()
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test-image-tool`, or export KUBEBUILDER_ASSETS=$(make -s envtest)")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(repoRoot, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	if _, err := env.Start(); err != nil {
		t.Fatalf("starting the envtest control plane from %s: %v", assets, err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	return env.KubeConfig
}

func readLog(t *testing.T, f *os.File) string {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
