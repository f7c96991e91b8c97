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

package binarytest

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOperatorThatCannotServeItsProbesWhileWaitingFails: started during an API server outage
// with its health probe address taken, the operator cannot answer the kubelet while it waits.
// That is an error (exit 1, saying which address), not a stop that was asked for (exit 0,
// "stopped while waiting"), which would hide the cause behind a clean exit.
func TestOperatorThatCannotServeItsProbesWhileWaitingFails(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	// Nothing listens on the API server's address: the outage.
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: down
  cluster:
    server: https://`+freeAddr(t)+`
    insecure-skip-tls-verify: true
users:
- name: fake
  user:
    token: fake-token-for-a-test
contexts:
- name: down
  context: {cluster: down, user: fake}
current-context: down
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "--metrics-bind-address=0", "--health-probe-bind-address="+taken.Addr().String())
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "KUBERNETES_SERVICE_HOST=")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, out)
	}
	if strings.Contains(string(out), "stopped while waiting") || !strings.Contains(string(out), taken.Addr().String()) {
		t.Errorf("the log does not say the probe address could not be served:\n%s", out)
	}
}
