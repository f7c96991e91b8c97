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

package controllers

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/serverinfo"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// These tests build a phase by hand with only the dependencies its type declares (a fake
// API reader, a memory, a clock, a serverinfo cache) and run it on a scope: no reconciler, no
// manager, no envtest.

func phaseScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func labelled(kind, name, label string) client.Object {
	om := metav1.ObjectMeta{Namespace: "ns", Name: name}
	if label != "" {
		om.Labels = map[string]string{v1.LabelCredential: label}
	}
	if kind == "ConfigMap" {
		return &corev1.ConfigMap{ObjectMeta: om}
	}
	return &corev1.Secret{ObjectMeta: om}
}

// TestRefusePhase: what the cache does not hold is read once, as metadata, through the API
// reader the phase holds; a missing or unlabelled input is recorded as the credentials stage's
// failure and stops validation, one labelled a moment ago waits for its watch event, and a
// server outside --allowed-servers is recorded without any read.
func TestRefusePhase(t *testing.T) {
	source := unseenRef{kind: "Secret", name: "src", role: classify.RoleSource}
	ca := unseenRef{kind: "ConfigMap", name: "ca", role: classify.RoleCABundle}
	readFails := errors.New("the API server is unreachable")
	tests := map[string]struct {
		objects []client.Object
		unseen  []unseenRef
		refusal error
		getErr  error
		kind    outcomeKind
		after   time.Duration
		reads   int
		stage   string // of the failure recorded; "" when none is
		reason  string
	}{
		"nothing unseen, nothing refused": {kind: proceed},
		"a source Secret that does not exist": {unseen: []unseenRef{source},
			kind: stop, reads: 1, stage: v1.StageCredentials, reason: classify.ReasonSecretNotFound},
		"a source Secret without its owner's consent": {objects: []client.Object{labelled("Secret", "src", "")}, unseen: []unseenRef{source},
			kind: stop, reads: 1, stage: v1.StageCredentials, reason: classify.ReasonSecretNotLabelled},
		"a source Secret labelled since the cache looked": {objects: []client.Object{labelled("Secret", "src", v1.CredentialConsent)}, unseen: []unseenRef{source},
			kind: wait, after: time.Second, reads: 1},
		"a CA bundle ConfigMap that does not exist": {objects: []client.Object{labelled("Secret", "src", v1.CredentialConsent)}, unseen: []unseenRef{ca},
			kind: stop, reads: 1, stage: v1.StageCredentials, reason: classify.ReasonCABundleInvalid},
		"the first refusal stops the reads": {unseen: []unseenRef{source, ca},
			kind: stop, reads: 1, stage: v1.StageCredentials, reason: classify.ReasonSecretNotFound},
		"a server outside --allowed-servers reads nothing": {unseen: []unseenRef{source},
			refusal: &classify.ServerNotAllowedError{Host: "t.example.com", Allowed: "other.example.com"},
			kind:    stop, reads: 0, stage: v1.StageServer, reason: classify.ReasonServerNotAllowed},
		"a read that fails fails the reconcile": {unseen: []unseenRef{source}, getErr: readFails,
			kind: fail, reads: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			reads := 0
			api := interceptor.NewClient(fake.NewClientBuilder().WithScheme(phaseScheme(t)).WithObjects(tc.objects...).Build(),
				interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
					reads++
					if _, meta := obj.(*metav1.PartialObjectMetadata); !meta {
						t.Errorf("read %T %s: the refuse phase reads metadata only", obj, key)
					}
					if tc.getErr != nil {
						return tc.getErr
					}
					return c.Get(ctx, key, obj, opts...)
				}})
			p := &refusePhase{APIReader: api, verdicts: verdicts{APIReader: api, Backoff: backoff.Default, mem: &memory{}}}
			conn := baseConn()
			conn.Namespace = "ns"
			conn.Spec.TLS = &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "ca", Key: "ca.crt"}}
			s := &scope{conn: conn, now: condNow, revision: "r1", unseen: tc.unseen, refusal: tc.refusal}

			o := p.run(context.Background(), s)
			if o.kind != tc.kind || o.after != tc.after {
				t.Errorf("outcome = %+v, want kind %d after %v", o, tc.kind, tc.after)
			}
			if tc.kind == fail && !errors.Is(o.err, readFails) {
				t.Errorf("outcome error = %v, want the read's", o.err)
			}
			if reads != tc.reads {
				t.Errorf("%d reads through the API reader, want %d", reads, tc.reads)
			}
			f := conn.Status.LastFailure
			switch {
			case tc.stage == "" && f != nil:
				t.Errorf("lastFailure = %+v, want none", f)
			case tc.stage != "" && (f == nil || f.Stage != tc.stage || f.Reason != tc.reason || f.NextAttemptTime == nil):
				t.Errorf("lastFailure = %+v, want stage %s reason %s with a next attempt", f, tc.stage, tc.reason)
			case tc.stage != "" && s.requeueAfter <= 0:
				t.Errorf("a recorded failure asks to come back, requeueAfter = %v", s.requeueAfter)
			}
		})
	}
}

// TestServerInfoPhase runs the serverinfo phase against a simulated Tableau server with its
// own dependencies only: the client factory (memory, clock, backoff), the failure recorder and
// the serverinfo cache, which two connections to one server share.
func TestServerInfoPhase(t *testing.T) {
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	mem := &memory{}
	p := &serverInfoPhase{
		tableauClients: tableauClients{wallClock: wallClock{Now: func() time.Time { return condNow }}, Backoff: backoff.Default, mem: mem},
		verdicts:       verdicts{Backoff: backoff.Default, mem: mem},
		ServerInfo:     serverinfo.NewCache(nil),
	}
	connTo := func(name, apiVersion string) *v1.TableauConnection {
		c := baseConn()
		c.Name, c.Namespace, c.UID = name, "ns", types.UID("uid-"+name)
		c.Spec.Server, c.Spec.APIVersion = srv.URL, apiVersion
		return c
	}

	pinned := &scope{conn: connTo("a", "3.24"), now: condNow}
	if o := p.run(context.Background(), pinned); o.kind != proceed {
		t.Fatalf("a supported pin: outcome %+v, want proceed", o)
	}
	if st := pinned.conn.Status.Server; st == nil || st.RESTAPIVersion != "3.24" {
		t.Errorf("status.server = %+v, want the server's REST API version", st)
	}
	if pinned.client == nil {
		t.Error("the phase leaves no client for the phases after it")
	}
	if d := serverCheckInterval(pinned.conn); pinned.requeueAfter < d*9/10 || pinned.requeueAfter > d*11/10 {
		t.Errorf("requeueAfter = %v, want the server check interval %v give or take 10%%", pinned.requeueAfter, d)
	}

	above := &scope{conn: connTo("b", "3.99"), now: condNow}
	if o := p.run(context.Background(), above); o.kind != stop {
		t.Fatalf("a pin above the server: outcome %+v, want stop", o)
	}
	f := above.conn.Status.LastFailure
	if f == nil || f.Stage != v1.StageServer || f.Reason != classify.ReasonAPIVersionAboveServer {
		t.Errorf("lastFailure = %+v, want %s at stage %s", f, classify.ReasonAPIVersionAboveServer, v1.StageServer)
	}
	if n := sim.Calls(tableau.EndpointServerInfo); n != 1 {
		t.Errorf("%d serverinfo calls for two connections to one server, want 1 (the shared cache)", n)
	}

	broken := &scope{conn: connTo("c", "3.24"), now: condNow,
		credErr: &classify.CABundleError{Kind: "ConfigMap", Name: "ca", Key: "ca.crt", Problem: "holds no PEM certificate"}}
	if o := p.run(context.Background(), broken); o.kind != stop || broken.client != nil {
		t.Fatalf("a broken CA bundle: outcome %+v, client %v; want stop before any client is built", o, broken.client)
	}
	if f := broken.conn.Status.LastFailure; f == nil || f.Stage != v1.StageCredentials || f.Reason != classify.ReasonCABundleInvalid {
		t.Errorf("lastFailure = %+v, want %s at stage %s", f, classify.ReasonCABundleInvalid, v1.StageCredentials)
	}
	if n := sim.Calls(tableau.EndpointServerInfo); n != 1 {
		t.Errorf("%d serverinfo calls, want none for a connection whose CA bundle is broken", n)
	}
}
