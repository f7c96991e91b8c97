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
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/testenv"
	"github.com/tableau-operator/tableau-operator/internal/testenv/poll"
)

// These helpers run the real binary against an envtest control plane under the identity that
// the install manifests give it: a ServiceAccount token, not the administrator's certificate.

type controlPlane struct {
	env       *testenv.Env
	k8s       client.Client
	clientset *kubernetes.Clientset
}

func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	k8s, err := client.New(env.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &controlPlane{env: env, k8s: k8s, clientset: cs}
}

// kubectl runs the envtest kubectl as the administrator, with stdin when it is not empty.
func (cp *controlPlane) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(cp.env.Kubectl, append([]string{"--kubeconfig", cp.env.KubeconfigPath}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (cp *controlPlane) createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := cp.k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
}

func (cp *controlPlane) createServiceAccount(t *testing.T, ns, name string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := cp.k8s.Create(context.Background(), sa); err != nil {
		t.Fatal(err)
	}
}

// token asks the TokenRequest API for a token of the ServiceAccount ns/name.
func (cp *controlPlane) token(t *testing.T, ns, name string) string {
	t.Helper()
	expiry := int64(3600)
	tr, err := cp.clientset.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// serviceAccountKubeconfig writes a kubeconfig that reaches the API server as ns/name.
func (cp *controlPlane) serviceAccountKubeconfig(t *testing.T, ns, name string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cp.env.Config.Host, CertificateAuthorityData: cp.env.Config.CAData}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: cp.token(t, ns, name)}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: name}
	cfg.CurrentContext = "sa"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer is the operator's log, written by the process and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startOperator runs the binary with kubeconfig and args until the test ends, and returns its log.
func startOperator(t *testing.T, kubeconfig string, args ...string) *syncBuffer {
	t.Helper()
	log := &syncBuffer{}
	cmd := exec.Command(binary, append([]string{"--health-probe-bind-address=127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("operator log:\n%s", log.String())
		}
	})
	return log
}

// deploymentArgs returns the manager's args from the Deployment in rendered install manifests,
// so a test runs the operator with the flags a cluster would: a flag the binary lacks fails the
// test. Only what cannot hold outside a pod changes: the listen addresses move to free
// loopback ports, and the leader election Lease goes to namespace, which in a pod is the pod's own.
func deploymentArgs(t *testing.T, rendered, namespace string) []string {
	t.Helper()
	var args []string
	found := 0
	for _, doc := range strings.Split(rendered, "\n---\n") {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil || obj["kind"] != "Deployment" {
			continue
		}
		found++
		containers, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", "containers")
		if len(containers) != 1 {
			t.Fatalf("the Deployment has %d containers, want the manager alone", len(containers))
		}
		args, _, _ = unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	}
	if found != 1 {
		t.Fatalf("want one Deployment in the rendered manifests, found %d", found)
	}
	moved := map[string]bool{}
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--health-probe-bind-address="):
			// Nothing probes it here: any free port, picked by the operator, without a race.
			args[i], moved["--health-probe-bind-address"] = "--health-probe-bind-address=127.0.0.1:0", true
		case strings.HasPrefix(a, "--metrics-bind-address="):
			args[i], moved["--metrics-bind-address"] = "--metrics-bind-address="+freeAddr(t), true
		}
	}
	if !moved["--health-probe-bind-address"] || !moved["--metrics-bind-address"] {
		t.Fatalf("the Deployment's args %v do not set both listen addresses", args)
	}
	if slices.Contains(args, "--leader-elect") {
		args = append(args, "--leader-election-namespace="+namespace)
	}
	return args
}

// requireLeaderLease: the operator, running as its ServiceAccount, holds the leader election
// Lease in namespace (its Role there allows it).
func (cp *controlPlane) requireLeaderLease(t *testing.T, namespace string) {
	t.Helper()
	var lease coordinationv1.Lease
	key := types.NamespacedName{Namespace: namespace, Name: "tableau-operator.tableau-operator.dev"}
	if err := cp.k8s.Get(context.Background(), key, &lease); err != nil {
		t.Fatalf("the leader election Lease %s: %v", key, err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("nobody holds the leader election Lease %s", key)
	}
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// eventually is poll.Eventually, the one wait the tests share.
var eventually = poll.Eventually
