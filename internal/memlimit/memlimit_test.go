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

package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// Fixtures under testdata are cgroup file systems as a container sees them:
//   - v2-namespaced: cgroup v2 with a cgroup namespace, the limit at the root (256 MiB).
//   - v2-nested: cgroup v2 without one, the limit at the process's path (512 MiB).
//   - v2-unlimited: memory.max is "max".
//   - v1: cgroup v1, the limit at the memory hierarchy's path (200 MiB).
//   - v1-unlimited: v1's "no limit", the page counter's maximum.
//   - v1-root-only: v1 with a cgroup namespace, the limit at the root (128 MiB).
//   - garbage: memory.max holds "256Mi", which is not what the kernel writes.
//   - empty: no cgroup files at all.
const (
	procV2Namespaced = "0::/\n"
	procV2Nested     = "0::/kubepods/pod1/c1\n"
	procV1           = "12:pids:/kubepods/pod1/c1\n4:memory:/kubepods/pod1/c1\n1:name=systemd:/kubepods/pod1/c1\n0::/\n"
	procV1Namespaced = "4:memory:/\n0::/\n"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, root, proc string
		want             int64
		wantFile         string
	}{
		{"v2 with a cgroup namespace", "v2-namespaced", procV2Namespaced, 256 << 20, "v2-namespaced/memory.max"},
		{"v2 nested path", "v2-nested", procV2Nested, 512 << 20, "v2-nested/kubepods/pod1/c1/memory.max"},
		{"v2 max is no limit", "v2-unlimited", procV2Namespaced, 0, "v2-unlimited/memory.max"},
		{"v1 nested path", "v1", procV1, 200 << 20, "v1/memory/kubepods/pod1/c1/memory.limit_in_bytes"},
		{"v1 page counter maximum is no limit", "v1-unlimited", procV1Namespaced, 0, "v1-unlimited/memory/memory.limit_in_bytes"},
		{"v1 path missing falls back to the root", "v1-root-only", procV1, 128 << 20, "v1-root-only/memory/memory.limit_in_bytes"},
		{"no cgroup files", "empty", procV1, 0, ""},
		{"/proc/self/cgroup without paths reads the root", "v2-namespaced", "garbage", 256 << 20, "v2-namespaced/memory.max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(filepath.Join("testdata", tc.root), tc.proc)
			if err != nil {
				t.Fatal(err)
			}
			wantFile := ""
			if tc.wantFile != "" {
				wantFile = filepath.Join("testdata", tc.wantFile)
			}
			if got.Bytes != tc.want || got.File != wantFile {
				t.Fatalf("Read = %+v, want %d from %q", got, tc.want, wantFile)
			}
		})
	}
}

func TestReadRejectsAFileThatIsNotALimit(t *testing.T) {
	_, err := Read(filepath.Join("testdata", "garbage"), procV2Namespaced)
	if err == nil || !strings.Contains(err.Error(), `"256Mi"`) || !strings.Contains(err.Error(), "memory.max") {
		t.Fatalf("err = %v, want one naming the file and its content", err)
	}
}

func TestParseLimit(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"268435456\n", 268435456, false},
		{"max\n", 0, false},
		{"9223372036854771712", 0, false},
		{"99999999999999999999", 0, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"-99999999999999999999", 0, true},
		{"", 0, true},
		{"256Mi", 0, true},
		{strings.Repeat("x", 500), 0, true},
		{"x" + strings.Repeat("é", 100), 0, true},
	} {
		got, err := ParseLimit(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseLimit(%.20q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && len(err.Error()) > 120 {
			t.Errorf("ParseLimit(%.20q): error of %d bytes is not bounded", tc.in, len(err.Error()))
		}
		// %q shows half a character as \x..: the cut must keep characters whole.
		if err != nil && strings.Contains(err.Error(), `\x`) {
			t.Errorf("ParseLimit(%.20q): error cuts a character in half: %s", tc.in, err)
		}
	}
}

func TestSoftLimit(t *testing.T) {
	for _, tc := range []struct{ limit, want int64 }{
		{256 << 20, 144 << 20}, // less 48 MiB and a quarter
		{1 << 30, 720 << 20},
		{100 << 20, 50 << 20}, // never below half the limit
		{48 << 20, 24 << 20},
	} {
		if got := SoftLimit(tc.limit); got != tc.want {
			t.Errorf("SoftLimit(%d MiB) = %.1f MiB, want %d MiB", tc.limit>>20, float64(got)/(1<<20), tc.want>>20)
		}
	}
}

// restoreLimit puts the process's Go memory limit and GC percent back after a test that
// sets them.
func restoreLimit(t *testing.T) {
	before, gc := debug.SetMemoryLimit(-1), debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	t.Cleanup(func() { debug.SetMemoryLimit(before); debug.SetGCPercent(gc) })
}

func noEnv(string) string { return "" }

func writeProcCgroup(t *testing.T, content string) string {
	f := filepath.Join(t.TempDir(), "cgroup")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestApplySetsTheSoftLimit(t *testing.T) {
	restoreLimit(t)
	debug.SetMemoryLimit(math.MaxInt64)
	out, err := Apply(func(string) string { return "" }, filepath.Join("testdata", "v2-namespaced"), writeProcCgroup(t, procV2Namespaced))
	if err != nil {
		t.Fatal(err)
	}
	if out.Container != 256<<20 || out.GoLimit != 144<<20 || out.FromEnv || out.GCPercent != GCPercent {
		t.Fatalf("Apply = %+v", out)
	}
	if got := debug.SetMemoryLimit(-1); got != 144<<20 {
		t.Fatalf("runtime memory limit = %d, want %d", got, 144<<20)
	}
	if got := debug.SetGCPercent(GCPercent); got != GCPercent {
		t.Fatalf("GC percent = %d, want %d", got, GCPercent)
	}
}

func TestApplyLeavesGOMEMLIMITAlone(t *testing.T) {
	restoreLimit(t)
	debug.SetMemoryLimit(100 << 20) // as the runtime would have from GOMEMLIMIT=100MiB
	getenv := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "100MiB"
		}
		return ""
	}
	out, err := Apply(getenv, filepath.Join("testdata", "v2-namespaced"), writeProcCgroup(t, procV2Namespaced))
	if err != nil {
		t.Fatal(err)
	}
	if !out.FromEnv || out.Container != 0 || out.GoLimit != 100<<20 {
		t.Fatalf("Apply = %+v", out)
	}
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Fatalf("runtime memory limit = %d, want GOMEMLIMIT's %d", got, 100<<20)
	}
}

func TestApplyLeavesGOGCAlone(t *testing.T) {
	restoreLimit(t)
	debug.SetGCPercent(80) // as the runtime would have from GOGC=80
	getenv := func(k string) string {
		if k == "GOGC" {
			return "80"
		}
		return ""
	}
	out, err := Apply(getenv, filepath.Join("testdata", "empty"), writeProcCgroup(t, procV2Namespaced))
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(80); got != 80 || out.GCPercent != 80 {
		t.Fatalf("GC percent = %d (outcome %+v), want GOGC's 80", got, out)
	}
}

func TestApplyWithoutALimitChangesNothing(t *testing.T) {
	restoreLimit(t)
	debug.SetMemoryLimit(math.MaxInt64)
	for _, root := range []string{"v2-unlimited", "empty"} {
		out, err := Apply(func(string) string { return "" }, filepath.Join("testdata", root), writeProcCgroup(t, procV2Namespaced))
		if err != nil {
			t.Fatal(err)
		}
		if out.Container != 0 || out.GoLimit != math.MaxInt64 {
			t.Fatalf("%s: Apply = %+v", root, out)
		}
	}
}

func TestApplyReportsABadFileAndKeepsTheLimit(t *testing.T) {
	restoreLimit(t)
	debug.SetMemoryLimit(math.MaxInt64)
	_, err := Apply(func(string) string { return "" }, filepath.Join("testdata", "garbage"), writeProcCgroup(t, procV2Namespaced))
	if err == nil {
		t.Fatal("a memory.max of 256Mi was accepted")
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("runtime memory limit = %d after a bad file, want it unchanged", got)
	}
}

func TestApplyWithoutProcCgroupReadsTheRoot(t *testing.T) {
	restoreLimit(t)
	out, err := Apply(func(string) string { return "" }, filepath.Join("testdata", "v2-namespaced"), filepath.Join(t.TempDir(), "missing"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Container != 256<<20 {
		t.Fatalf("Apply = %+v", out)
	}
}
