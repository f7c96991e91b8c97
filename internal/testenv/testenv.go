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

// Package testenv starts a local control plane (etcd and kube-apiserver from envtest) with the
// project's CRDs installed, for tests and the demo. The binaries are built from Go modules by
// hack/envtest.sh and found through KUBEBUILDER_ASSETS.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Env is a running control plane.
type Env struct {
	env *envtest.Environment
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the API server, for kubectl.
	KubeconfigPath string
	// Kubectl is the kubectl binary built beside the API server.
	Kubectl string
	dir     string
}

// RepoRoot is the repository's root directory, found from this source file. In a build with
// -trimpath (`make` builds so, see the Makefile) the file's recorded path is its import path, not
// a directory: then the root is the nearest directory at or above the working directory whose
// go.mod declares this module (go test runs a test in its package's directory, `make demo` and
// `make bench` run at the root).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	if filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "..", "..")
	}
	module := strings.TrimSuffix(path.Dir(filepath.ToSlash(file)), "/internal/testenv")
	wd, err := os.Getwd()
	if err != nil {
		panic(fmt.Sprintf("testenv.RepoRoot: %v", err))
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if declaresModule(filepath.Join(dir, "go.mod"), module) {
			return dir
		}
		if filepath.Dir(dir) == dir {
			panic(fmt.Sprintf("testenv.RepoRoot: no go.mod of %s at or above %s", module, wd))
		}
	}
}

// declaresModule reports whether the go.mod file at name declares the module path.
func declaresModule(name, module string) bool {
	raw, err := os.ReadFile(name)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if fields := strings.Fields(line); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == module
		}
	}
	return false
}

// Start starts etcd and kube-apiserver and installs the CRDs of config/crd/bases.
func Start() (*Env, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(make -s envtest)")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the envtest control plane from %s: %w", assets, err)
	}
	dir, err := os.MkdirTemp("", "tableau-operator-envtest-")
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{env: env, Config: cfg, KubeconfigPath: kubeconfig, Kubectl: filepath.Join(assets, "kubectl"), dir: dir}, nil
}

// Stop stops the control plane and removes its files.
func (e *Env) Stop() error {
	err := e.env.Stop()
	_ = os.RemoveAll(e.dir)
	return err
}
