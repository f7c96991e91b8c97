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

package optest

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tableau-operator/tableau-operator/internal/allowlist"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
)

// AllowedServers is the operator's --allowed-servers in these tests: the simulators listen on
// 127.0.0.1, and any other host is refused.
var AllowedServers = mustAllow("127.0.0.1")

func mustAllow(patterns string) allowlist.List {
	l, err := allowlist.Parse(patterns)
	if err != nil {
		panic(err)
	}
	return l
}

// ReadLedger counts the operator's direct (API reader) reads, by what was read: content (a typed
// Secret or ConfigMap) or metadata only.
type ReadLedger struct {
	mu sync.Mutex
	n  map[string]int
}

func readKey(what, kind, ns, name string) string { return what + " " + kind + " " + ns + "/" + name }

func (l *ReadLedger) add(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[key]++
}

func (l *ReadLedger) Count(what, kind, ns, name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[readKey(what, kind, ns, name)]
}

// countingReader is the operator's API reader, counting every Get.
type countingReader struct {
	client.Reader
	ledger *ReadLedger
}

// Get reads a TableauConnection.
func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	switch o := obj.(type) {
	case *corev1.Secret:
		r.ledger.add(readKey("content", "Secret", key.Namespace, key.Name))
	case *corev1.ConfigMap:
		r.ledger.add(readKey("content", "ConfigMap", key.Namespace, key.Name))
	case *metav1.PartialObjectMetadata:
		r.ledger.add(readKey("metadata", o.Kind, key.Namespace, key.Name))
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

// ReconciledAgain waits until the operator has finished another reconcile of the connection:
// it drops the connection's metric series, which every completed reconcile sets again.
func ReconciledAgain(t *testing.T, ns, name string, trigger func()) {
	t.Helper()
	metrics.DeleteConnection(ns, name)
	trigger()
	Eventually(t, 20*time.Second, "another reconcile of "+name, func() (bool, string) {
		return SeriesExists(t, "tableau_operator_connection_ready", ns, name), ""
	})
}
