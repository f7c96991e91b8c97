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
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// memory is everything the connection reconciler remembers between reconciles, in this
// process only; status is what outlives it. Per-connection memory belongs to one object
// (its UID): a connection deleted and created again under the same name starts with none,
// and Forget drops it all when the connection is gone. Shared memory (clients per server,
// CA bundles per referenced object and resourceVersion) belongs to no connection.
type memory struct {
	mu sync.Mutex
	// conns is the per-connection memory, by name, each record owned by one UID.
	conns map[types.NamespacedName]*connMemory
	// conflicted are the names whose last reconcile met a write conflict: the next one reads
	// the connection from the API server, not from a cache that may lag behind. It is by
	// name because it is read before the object (and so its UID) is known.
	conflicted map[types.NamespacedName]struct{}
	// caBundles maps kind/namespace/name/key to the PEM read at a resourceVersion.
	caBundles map[string]caMemo
	// clients maps server|CA|apiVersion to the shared Tableau client.
	clients map[string]*tableau.Client
	// gates are the call gates of every connection and administrator credential; each
	// connection's is persisted in status.callGate too. A connection's gate is kept under
	// gateKey, so it is per object like the rest of its memory.
	gates gatedclient.Keeper
}

// connMemory is one connection object's memory.
type connMemory struct {
	uid types.UID
	// secret remembers that a Secret version lacks a key (see secretMemo).
	secret *secretMemo
	// verdict is a failure recorded from a Tableau answer that status may lack yet.
	verdict *verdictMemo
	// admin is the administrator session an automatic rotation keeps from one step to the
	// next (see adminMemo).
	admin *adminMemo
	// ownWrite is the rotation phase this process persisted last, for a moment (see ownWrite).
	ownWrite *ownWrite
	// candidate is the candidate Secret as this process wrote it (see rememberCandidate).
	candidate *corev1.Secret
	// adoptionDeclined is the person's and the consumer Secret's versions at which a kept
	// supersession was not adopted (see adoptSupersession).
	adoptionDeclined string
}

// caMemo remembers a CA bundle's PEM (public certificates) by resourceVersion.
type caMemo struct {
	resourceVersion string
	pem             []byte
}

// secretMemo remembers that a Secret's resourceVersion lacks a key or holds a secret under an
// identifier's key, so such a Secret is not read again on every reconcile. A usable
// credential's revision is remembered in status instead
// (status.credentials.sourceResourceVersion), where it outlives the process.
type secretMemo struct {
	resourceVersion string
	// err names the Secret and key, never a value.
	err *classify.CredentialError
}

func nameOf(conn *v1.TableauConnection) types.NamespacedName {
	return types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
}

// gateKey names a connection object's call gate in the gate keeper.
func gateKey(name types.NamespacedName, uid types.UID) string {
	return name.String() + "#" + string(uid)
}

// entry returns conn's record, replacing (and forgetting) one that belonged to an earlier
// object of the same name. m.mu must be held.
func (m *memory) entry(conn *v1.TableauConnection) *connMemory {
	name := nameOf(conn)
	if m.conns == nil {
		m.conns = map[types.NamespacedName]*connMemory{}
	}
	e := m.conns[name]
	if e != nil && e.uid == conn.UID {
		return e
	}
	if e != nil {
		m.gates.Forget(gateKey(name, e.uid))
	}
	e = &connMemory{uid: conn.UID}
	m.conns[name] = e
	return e
}

// Forget drops everything remembered of the connection of this name: it was not found, or
// is being deleted.
func (m *memory) Forget(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.conns[name]; e != nil {
		m.gates.Forget(gateKey(name, e.uid))
		delete(m.conns, name)
	}
	delete(m.conflicted, name)
}

func (m *memory) secret(conn *v1.TableauConnection) (secretMemo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(conn)
	if e.secret == nil {
		return secretMemo{}, false
	}
	return *e.secret, true
}

// setSecret remembers a Secret version's missing key; nil forgets it.
func (m *memory) setSecret(conn *v1.TableauConnection, sm *secretMemo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).secret = sm
}

func (m *memory) verdict(conn *v1.TableauConnection) (verdictMemo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(conn)
	if e.verdict == nil {
		return verdictMemo{}, false
	}
	return *e.verdict, true
}

// setVerdict remembers a failure recorded from a Tableau answer; nil forgets it.
func (m *memory) setVerdict(conn *v1.TableauConnection, vm *verdictMemo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).verdict = vm
}

// gateOf returns the key of conn's call gate, claiming the name's memory for this object.
func (m *memory) gateOf(conn *v1.TableauConnection) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(conn)
	return gateKey(nameOf(conn), e.uid)
}

func (m *memory) caBundle(key string) (caMemo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.caBundles[key]
	return c, ok
}

// setCABundle remembers a CA bundle's PEM; nil forgets it.
func (m *memory) setCABundle(key string, c *caMemo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c == nil {
		delete(m.caBundles, key)
		return
	}
	if m.caBundles == nil {
		m.caBundles = map[string]caMemo{}
	}
	m.caBundles[key] = *c
}

// client returns the shared client of key, built once.
func (m *memory) client(key string, build func() (*tableau.Client, error)) (*tableau.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.clients[key]; ok {
		return c, nil
	}
	c, err := build()
	if err != nil {
		return nil, err
	}
	if m.clients == nil {
		m.clients = map[string]*tableau.Client{}
	}
	m.clients[key] = c
	return c, nil
}

// noteConflicted remembers that the reconcile of name ended on a write conflict.
func (m *memory) noteConflicted(name types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conflicted == nil {
		m.conflicted = map[types.NamespacedName]struct{}{}
	}
	m.conflicted[name] = struct{}{}
}

// takeConflicted reports, once, whether the last reconcile of name met a write conflict.
func (m *memory) takeConflicted(name types.NamespacedName) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.conflicted[name]
	delete(m.conflicted, name)
	return ok
}

// adminSession returns the administrator session kept for conn's automatic rotation, if any.
func (m *memory) adminSession(conn *v1.TableauConnection) (adminMemo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(conn)
	if e.admin == nil {
		return adminMemo{}, false
	}
	return *e.admin, true
}

// setAdminSession keeps an administrator session for conn's automatic rotation; nil forgets it.
func (m *memory) setAdminSession(conn *v1.TableauConnection, am *adminMemo) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).admin = am
}
