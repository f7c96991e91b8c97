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
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestImageOfTwoPlatforms builds an image of linux/amd64 and linux/arm64 with the image tool,
// as hack/image.sh runs it, from a small program (testdata/program) compiled for each: one
// index with a manifest, config and files per platform, a docker tarball per platform, and one
// SBOM whose modules are, per platform, exactly those of that platform's binary. The program
// stands in for the operator so that a cold `make test` cross-compiles a few packages for the
// second architecture rather than the whole operator; TestImage builds the operator's image for
// the host and runs it.
func TestImageOfTwoPlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program for two platforms")
	}
	b := imageBuild{version: "v1.2.3-platformtest", revision: "89abcdef0123456789abcdef0123456789abcdef",
		epoch: 1767225600, name: "example.test/tableau-operator:v1.2.3-platformtest", archs: []string{"amd64", "arm64"}}
	bins := t.TempDir()
	// The tool with hack/image.sh's recipe, so the build cache shares its compile.
	tool := filepath.Join(bins, "image")
	goBuild(t, runtime.GOARCH, "-trimpath", "-o", tool, ".")
	args := []string{"--name", b.name, "--version", b.version, "--revision", b.revision, "--created", "1767225600"}
	for _, arch := range b.archs {
		bin := filepath.Join(bins, "linux-"+arch, "tableau-operator")
		goBuild(t, arch, "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X main.version="+b.version, "-o", bin, "./testdata/program")
		args = append(args, "--binary", "linux/"+arch+"="+bin)
	}
	build := func(out string) builtImage {
		return b.printed(t, exec.Command(tool, append(args, "--out", out)...), out)
	}
	first, second := build(t.TempDir()), build(t.TempDir())
	t.Run("the same inputs give the same digest and bytes", func(t *testing.T) { b.checkSame(t, first, second) })
	platforms := b.checkBuilt(t, first)
	for _, arch := range b.archs {
		if _, ok := platforms[arch]; !ok {
			t.Errorf("no image for linux/%s", arch)
		}
	}
}

// goBuild runs go build in this module for linux/arch, static.
func goBuild(t *testing.T, arch string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
}
