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

package manager

import (
	"flag"
	"os"

	"github.com/tableau-operator/tableau-operator/internal/memlimit"
)

// runtimeFlags are the flags about the operator process itself: where its container's memory
// limit is read, and an opt-in profiling endpoint.
type runtimeFlags struct {
	cgroupRoot string
	pprofAddr  string
}

func bindRuntimeFlags(fs *flag.FlagSet) *runtimeFlags {
	f := &runtimeFlags{}
	fs.StringVar(&f.cgroupRoot, "cgroup-root", memlimit.DefaultCgroupRoot,
		"Where the container's cgroup is mounted: the Go memory limit is set below its memory limit (memory.max), unless GOMEMLIMIT is set.")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "",
		"The address a Go pprof endpoint (/debug/pprof/) binds to, for profiling; empty (the default) serves none.")
	return f
}

// setupLogger is what applyMemoryLimit logs with (a logr.Logger).
type setupLogger interface {
	Info(msg string, keysAndValues ...any)
	Error(err error, msg string, keysAndValues ...any)
}

// applyMemoryLimit sets the Go memory limit from the container's, so the garbage collector
// works harder near the limit instead of the process being OOM-killed. A limit that cannot
// be read is logged and the runtime's default kept: it is no reason not to start.
func (f *runtimeFlags) applyMemoryLimit(log setupLogger) {
	out, err := memlimit.Apply(os.Getenv, f.cgroupRoot, "/proc/self/cgroup")
	switch {
	case err != nil:
		log.Error(err, "the container's memory limit is unknown; the Go memory limit is left unset")
	case out.FromEnv:
		log.Info("Go memory limit from GOMEMLIMIT", "goMemoryLimit", out.GoLimit, "gcPercent", out.GCPercent)
	case out.Container > 0:
		log.Info("Go memory limit set below the container's", "containerLimit", out.Container, "from", out.File,
			"goMemoryLimit", out.GoLimit, "gcPercent", out.GCPercent)
	default:
		log.Info("no container memory limit found; the Go memory limit is left unset", "gcPercent", out.GCPercent)
	}
}
