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
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/memlimit"
)

// The memory budget the bench enforces is memlimit's sizing (base plus per connection, plus
// per connection with consumers): the peak RSS of a start or restart, and the heap in use
// after the steady state.
func peakBudget(n, consumers int) float64 {
	return float64(memlimit.PeakRSSWithConsumers(n, consumers))
}
func heapBudget(n int) float64 { return float64(memlimit.SteadyHeap(n)) }

// mib formats bytes as MiB.
func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// perConn formats bytes per connection as KiB.
func perConn(b float64, n int) string {
	return fmt.Sprintf("%.1f KiB per connection", b/float64(n)/(1<<10))
}

// chartMemoryLimit reads resources.limits.memory from the chart's values: the container's
// limit the operator runs under with the chart's defaults.
func chartMemoryLimit(valuesFile string) (int64, error) {
	b, err := os.ReadFile(valuesFile)
	if err != nil {
		return 0, err
	}
	var values struct {
		Resources struct {
			Limits map[string]string `json:"limits"`
		} `json:"resources"`
	}
	if err := yaml.Unmarshal(b, &values); err != nil {
		return 0, fmt.Errorf("%s: %w", valuesFile, err)
	}
	s, ok := values.Resources.Limits["memory"]
	if !ok {
		return 0, fmt.Errorf("%s sets no resources.limits.memory", valuesFile)
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("%s: resources.limits.memory: %w", valuesFile, err)
	}
	return q.Value(), nil
}

// containerCgroup writes a cgroup v2 file system as a container limited to limit bytes sees
// it (memory.max at the root of its cgroup namespace) and returns its root: the operator
// reads it with --cgroup-root as it reads /sys/fs/cgroup in a pod.
func containerCgroup(dir string, limit int64) (string, error) {
	root := filepath.Join(dir, "cgroup")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	return root, os.WriteFile(filepath.Join(root, "memory.max"), []byte(strconv.FormatInt(limit, 10)+"\n"), 0o644)
}

// containerEnv is the bench's environment less GOMEMLIMIT and GOGC, which the chart does not
// set: the operator must find its limit and pace its collector as it does in a pod.
func containerEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") && !strings.HasPrefix(kv, "GOGC=") {
			env = append(env, kv)
		}
	}
	return env
}

// procStatus reads a field of /proc/<pid>/status in kB, as bytes.
func procStatus(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// saveHeapProfile writes the operator's heap profile (from its --pprof-bind-address) to file.
func saveHeapProfile(pprofAddr, file string) error {
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// printTop prints the top allocators of a heap profile by sample index (inuse_space: what
// is held; alloc_space: what was allocated since the process started).
func printTop(file, index string) {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", "-sample_index="+index, file).CombinedOutput()
	if err != nil {
		fmt.Printf("go tool pprof %s: %v\n%s", file, err, out)
		return
	}
	fmt.Printf("top allocators (%s) of %s:\n%s", index, file, out)
}
