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

package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// listReader serves a fixed list of connections, as the cache does, without copying.
type listReader struct{ conns []v1.TableauConnection }

func (r listReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return nil
}

func (r listReader) List(_ context.Context, l client.ObjectList, _ ...client.ListOption) error {
	if cl, ok := l.(*v1.TableauConnectionList); ok {
		cl.Items = r.conns
	}
	return nil
}

// fullConnection has every series a connection can have, and conditions the collector must
// skip: a type it does not know and a second copy of a known one.
func fullConnection(name string) v1.TableauConnection {
	c := v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: name}}
	for _, t := range connectionConditionTypes {
		c.Status.Conditions = append(c.Status.Conditions, cond(t, metav1.ConditionTrue))
	}
	c.Status.Conditions = append(c.Status.Conditions, cond("SomethingNew", metav1.ConditionTrue), cond(v1.ConditionReady, metav1.ConditionFalse))
	c.Status.LastFailure = &v1.FailureStatus{Bucket: "AuthConfigDrift"}
	c.Status.Credentials = &v1.CredentialStatus{ExpiresAt: &metav1.Time{Time: expires}}
	c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationGating, DueTime: &metav1.Time{Time: due}}
	return c
}

func TestStateSeriesOfAFullConnection(t *testing.T) {
	c := NewStateCollector(listReader{conns: []v1.TableauConnection{fullConnection("a"), fullConnection("b")}})
	// The status of each known condition type once, ready, bucket, expiry, due and phase.
	want := 2 * (len(connectionConditionTypes) + 5)
	if n := testutil.CollectAndCount(c); n != want {
		t.Fatalf("%d series, want %d", n, want)
	}
	// The first Ready condition counts, as before series shared their labels.
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP tableau_operator_connection_ready 1 when the TableauConnection's Ready condition is True, else 0.
# TYPE tableau_operator_connection_ready gauge
tableau_operator_connection_ready{name="a",namespace="t"} 1
tableau_operator_connection_ready{name="b",namespace="t"} 1
# HELP tableau_operator_connection_rotation_phase 1 for the current rotation phase of a TableauConnection with consumers (status.rotation.phase).
# TYPE tableau_operator_connection_rotation_phase gauge
tableau_operator_connection_rotation_phase{name="a",namespace="t",phase="Gating"} 1
tableau_operator_connection_rotation_phase{name="b",namespace="t",phase="Gating"} 1
`), "tableau_operator_connection_ready", "tableau_operator_connection_rotation_phase"); err != nil {
		t.Fatal(err)
	}
}

func TestEnumPairIsSharedPerNameAndValue(t *testing.T) {
	a, b := enumPair("status", "True"), enumPair("status", "True")
	if a != b {
		t.Fatal("two pairs for status=True")
	}
	if c := enumPair("type", "True"); c == a || c.GetName() != "type" || c.GetValue() != "True" {
		t.Fatalf("type=True is %v", c)
	}
}

// BenchmarkStateScrape is one scrape of the state of 10,000 connections through the
// registry's HTTP handler, as Prometheus (and `make bench`) scrape the operator.
func BenchmarkStateScrape(b *testing.B) {
	conns := make([]v1.TableauConnection, 0, 10000)
	for i := range 10000 {
		c := v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("tenant-%05d", i)}}
		for _, t := range []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled, v1.ConditionSignedIn, v1.ConditionAPIVersionSupported} {
			c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: t, Status: metav1.ConditionTrue})
		}
		c.Status.Credentials = &v1.CredentialStatus{ExpiresAt: &metav1.Time{Time: expires}}
		conns = append(conns, c)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewStateCollector(listReader{conns: conns}))
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(rec, req)
		_, _ = io.Copy(io.Discard, rec.Body)
	}
}
