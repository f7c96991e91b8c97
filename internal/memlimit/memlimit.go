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

// Package memlimit sets the Go runtime's soft memory limit from the memory limit of the
// container the operator runs in, read from its cgroup (v2 memory.max, v1
// memory.limit_in_bytes). Without it the garbage collector lets the heap grow to twice
// what is live before it collects, whatever the container allows, so a start or a restart
// that lists thousands of objects is OOM-killed although what it keeps would fit. With it
// the collector works harder as the heap nears the limit instead. A GOMEMLIMIT set in the
// environment wins: the runtime has applied it already.
//
// It also collects at GCPercent rather than Go's default of 100 unless GOGC is set: the
// operator's heap is mostly its cache, which lives as long as the process, so a collection
// at 1.3 times what is live instead of twice keeps the heap near what the operator holds,
// and costs little CPU because the steady state allocates almost nothing.
package memlimit

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/tableau-operator/tableau-operator/internal/bound"
)

// DefaultCgroupRoot is where cgroup file systems are mounted in a container.
const DefaultCgroupRoot = "/sys/fs/cgroup"

// The soft limit leaves headroom below the container's limit: NonHeapAllowance for what the
// Go runtime does not count (the executable's pages, about 35 MiB of the operator's RSS on
// top of its Go memory in `make bench`), and HeadroomFraction of the limit for the
// collector's lag behind a burst of allocation.
const (
	NonHeapAllowance = 48 << 20
	HeadroomFraction = 0.25
)

// maxQuoted bounds the bytes of a cgroup file that an error quotes: a broken file can be huge
// and the error reaches the log on every start.
const maxQuoted = 64

// GCPercent is the garbage collector's target (GOGC) unless the environment sets GOGC.
const GCPercent = 30

// unlimitedAbove: cgroup v1 reports "no limit" as the page counter's maximum rounded to
// pages (9223372036854771712 with 4 KiB pages); anything at or above 2^62 is no limit.
const unlimitedAbove = int64(1) << 62

// Limit is a container memory limit found in a cgroup file.
type Limit struct {
	// Bytes is the container's limit; 0 when the cgroup sets none.
	Bytes int64
	// File is the file it was read from.
	File string
}

// Read finds the memory limit of the cgroup the process is in under root (normally
// DefaultCgroupRoot). procCgroup is the content of /proc/self/cgroup, which names the
// process's cgroup path per hierarchy; inside a container with its own cgroup namespace
// that path is "/" and root itself holds the limit. cgroup v2 is tried before v1. A
// missing file is no limit (Bytes 0, File ""); a file that exists but does not parse is
// an error.
func Read(root, procCgroup string) (Limit, error) {
	v2, v1 := cgroupPaths(procCgroup)
	var candidates []string
	for _, p := range uniq(v2, "/") {
		candidates = append(candidates, filepath.Join(root, p, "memory.max"))
	}
	for _, p := range uniq(v1, "/") {
		candidates = append(candidates, filepath.Join(root, "memory", p, "memory.limit_in_bytes"))
	}
	for _, file := range candidates {
		b, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Limit{}, fmt.Errorf("reading the container memory limit: %w", err)
		}
		n, err := ParseLimit(string(b))
		if err != nil {
			return Limit{}, fmt.Errorf("%s: %w", file, err)
		}
		return Limit{Bytes: n, File: file}, nil
	}
	return Limit{}, nil
}

// ParseLimit parses the content of memory.max or memory.limit_in_bytes: a number of bytes,
// or "max" (v2) or a value of 2^62 or more (v1) for no limit, returned as 0.
func ParseLimit(content string) (int64, error) {
	s := strings.TrimSpace(content)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne := (*strconv.NumError)(nil); errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && !strings.HasPrefix(s, "-") {
			return 0, nil // beyond int64: no limit
		}
		return 0, fmt.Errorf("a memory limit is a number of bytes or \"max\", got %q", bound.Text(s, maxQuoted))
	}
	if n <= 0 {
		return 0, fmt.Errorf("a memory limit is positive, got %d", n)
	}
	if n >= unlimitedAbove {
		return 0, nil
	}
	return n, nil
}

// cgroupPaths returns the process's cgroup path in the v2 hierarchy (the "0::" line) and
// in the v1 memory hierarchy, "" where /proc/self/cgroup names none.
func cgroupPaths(procCgroup string) (v2, v1 string) {
	sc := bufio.NewScanner(strings.NewReader(procCgroup))
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path; the path may itself hold colons.
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
			continue
		}
		p := path.Clean(parts[2])
		if parts[0] == "0" && parts[1] == "" {
			v2 = p
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1 = p
			}
		}
	}
	return v2, v1
}

// uniq returns the non-empty paths in order, without repeats.
func uniq(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// SoftLimit is the Go memory limit for a container limit of limit bytes: the limit less
// NonHeapAllowance and HeadroomFraction of it, and never below half the limit.
func SoftLimit(limit int64) int64 {
	headroom := NonHeapAllowance + int64(math.Round(float64(limit)*HeadroomFraction))
	return max(limit-headroom, limit/2)
}

// Outcome says what Apply did.
type Outcome struct {
	// Container is the container's limit in bytes, 0 when none was found or looked for.
	Container int64
	// File is where Container was read.
	File string
	// GoLimit is the Go memory limit in force afterwards, math.MaxInt64 for none.
	GoLimit int64
	// FromEnv: GOMEMLIMIT was set, so the cgroup was not read and nothing was changed.
	FromEnv bool
	// GCPercent is the collector's target in force afterwards (GOGC's, or GCPercent).
	GCPercent int
}

// Apply sets the collector's target to GCPercent unless GOGC is set, and the Go memory limit
// to SoftLimit of the container's limit read under root, unless GOMEMLIMIT is set (getenv)
// or no limit is found. procCgroupFile is normally
// /proc/self/cgroup; when it cannot be read, root itself is taken as the process's cgroup.
func Apply(getenv func(string) string, root, procCgroupFile string) (Outcome, error) {
	gcPercent := GCPercent
	if getenv("GOGC") != "" {
		gcPercent = debug.SetGCPercent(-1) // what the runtime parsed from GOGC
	}
	debug.SetGCPercent(gcPercent)
	out, err := applyLimit(getenv, root, procCgroupFile)
	out.GCPercent = gcPercent
	return out, err
}

func applyLimit(getenv func(string) string, root, procCgroupFile string) (Outcome, error) {
	if getenv("GOMEMLIMIT") != "" {
		return Outcome{FromEnv: true, GoLimit: debug.SetMemoryLimit(-1)}, nil
	}
	procCgroup, err := os.ReadFile(procCgroupFile)
	if err != nil {
		procCgroup = []byte("0::/\n")
	}
	lim, err := Read(root, string(procCgroup))
	if err != nil {
		return Outcome{GoLimit: debug.SetMemoryLimit(-1)}, err
	}
	out := Outcome{Container: lim.Bytes, File: lim.File}
	if lim.Bytes == 0 {
		out.GoLimit = debug.SetMemoryLimit(-1)
		return out, nil
	}
	out.GoLimit = SoftLimit(lim.Bytes)
	debug.SetMemoryLimit(out.GoLimit)
	return out, nil
}
