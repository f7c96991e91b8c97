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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func memoConn(uid types.UID) *v1.TableauConnection {
	return &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c", UID: uid}}
}

// holdSignIn closes conn's call gate in m for sign-ins, as a Tableau answer would.
func holdSignIn(t *testing.T, m *memory, conn *v1.TableauConnection, now time.Time) {
	t.Helper()
	raw, err := tableau.New(tableau.Options{Server: "https://tableau.example.com", APIVersion: "3.24"})
	if err != nil {
		t.Fatal(err)
	}
	c := gatedclient.New(raw, gatedclient.Options{Keeper: &m.gates, Connection: m.gateOf(conn), Now: func() time.Time { return now }})
	c.Hold(callgate.SignIn, now.Add(time.Hour))
	if c.Until(callgate.SignIn).IsZero() {
		t.Fatal("the gate does not hold after Hold")
	}
}

func TestMemoryIsPerObject(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var m memory
	old := memoConn("uid-1")
	m.setSecret(old, &secretMemo{resourceVersion: "7", err: &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Key: "token"}})
	m.setVerdict(old, &verdictMemo{inputs: "x"})
	holdSignIn(t, &m, old, now)

	if got, ok := m.secret(old); !ok || got.err == nil || got.err.Key != "token" {
		t.Fatalf("secret memo = %+v, %v; want the missing key remembered", got, ok)
	}
	// The same name, another object: nothing of the old one's memory is inherited. This is
	// also a delete and re-create merged in the work queue (issue 24): the reconcile never
	// sees the deletion, so Forget never runs, and the UID alone tells the objects apart.
	// The conflict mark stays by name, harmlessly: it only makes the next read of that name
	// come from the API server instead of the cache.
	recreated := memoConn("uid-2")
	if _, ok := m.secret(recreated); ok {
		t.Error("a re-created connection inherited the secret memo of the deleted one")
	}
	if _, ok := m.verdict(recreated); ok {
		t.Error("a re-created connection inherited the verdict memo of the deleted one")
	}
	fresh := gatedclient.New(nil, gatedclient.Options{Keeper: &m.gates, Connection: m.gateOf(recreated), Now: func() time.Time { return now }})
	if until := fresh.Until(callgate.SignIn); !until.IsZero() {
		t.Errorf("a re-created connection's gate holds sign-ins until %v: it inherited the old object's gate", until)
	}
}

func TestMemoryForgetDropsEverythingOfTheConnection(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var m memory
	conn := memoConn("uid-1")
	m.setSecret(conn, &secretMemo{resourceVersion: "7", err: &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Key: "token"}})
	m.setVerdict(conn, &verdictMemo{inputs: "x"})
	m.noteConflicted(nameOf(conn))
	m.setCABundle("ConfigMap/ns/ca/ca.crt", &caMemo{resourceVersion: "3", pem: []byte("pem")})
	holdSignIn(t, &m, conn, now)

	m.Forget(nameOf(conn))

	if _, ok := m.secret(conn); ok {
		t.Error("secret memo survived Forget")
	}
	if _, ok := m.verdict(conn); ok {
		t.Error("verdict memo survived Forget")
	}
	if m.takeConflicted(nameOf(conn)) {
		t.Error("the conflict mark survived Forget")
	}
	g := gatedclient.New(nil, gatedclient.Options{Keeper: &m.gates, Connection: m.gateOf(conn), Now: func() time.Time { return now }})
	if until := g.Until(callgate.SignIn); !until.IsZero() {
		t.Errorf("the call gate survived Forget: sign-ins held until %v", until)
	}
	// CA bundles belong to the referenced object, not to the connection.
	if _, ok := m.caBundle("ConfigMap/ns/ca/ca.crt"); !ok {
		t.Error("Forget of a connection dropped a CA bundle other connections share")
	}
}

func TestMemoryConflictIsTakenOnce(t *testing.T) {
	var m memory
	name := types.NamespacedName{Namespace: "ns", Name: "c"}
	if m.takeConflicted(name) {
		t.Fatal("a name never in conflict reads as conflicted")
	}
	m.noteConflicted(name)
	if !m.takeConflicted(name) || m.takeConflicted(name) {
		t.Error("a conflict must be reported exactly once")
	}
}
