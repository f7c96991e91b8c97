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
	"time"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
)

// The components below are what several phases share. Each is a small type whose fields are
// exactly what its methods use; a phase embeds the components it calls, so a phase's struct
// (see phases.go) lists every dependency it has. Their methods live beside the code they
// always lived with (bundle_secrets.go, workloads.go, failures.go, ...); only the types are
// declared here. None holds state of its own: what outlives a reconcile is in memory (shared
// by pointer) or in status.

// wallClock is the reconciler's clock: Now when set (tests move it), else time.Now.
type wallClock struct {
	Now func() time.Time
}

func (r wallClock) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// recorder tells what the operator did in Events (rotation steps, claims taken over, refused
// writes, an administrator PAT in use). finish's transition events are the reconciler's own.
type recorder struct {
	Events events.EventRecorder
}

// statusWriter patches the connection's status: the reconcile's one deferred patch (finish),
// and the writes a phase makes before its action (a claim, a rotation step, the revision a
// sign-in validates).
type statusWriter struct {
	client.Client
}

// bundleSecrets reads and writes the operator's own Secrets (consumer, candidate, previous,
// issued): metadata from the cache (Client), content and fresh metadata through the API
// reader, writes with the operator's mark and preconditions.
type bundleSecrets struct {
	client.Client
	APIReader client.Reader
}

// sourceSecrets reads the credential a connection signs in with: the person's source Secret
// through the API reader, or the operator's issued Secret (bundleSecrets). A Secret version
// that lacks a key is remembered (mem), so it is not read on every reconcile.
type sourceSecrets struct {
	bundleSecrets
	mem *memory
}

// tableauClients builds a connection's Tableau client: one shared client per server, version
// and CA bundle (kept in mem), bound to the connection's call gate (mem's gates, the clock and
// the backoff policy).
type tableauClients struct {
	wallClock
	Backoff backoff.Policy
	mem     *memory
}

// verdicts records what validation found in status: failures with their backoff, successes,
// and the failure memory that outlives a status write that failed (mem). gateClosed reads the
// connection's metadata through the API reader to tell a stale cached copy.
type verdicts struct {
	APIReader client.Reader
	Backoff   backoff.Policy
	mem       *memory
}

// adminSessions signs in with a site administrator's PAT that only the operator uses: its
// Secret through the API reader, the connection's client (tableauClients), one session at a
// time per PAT (adminLocks, shared by every connection).
type adminSessions struct {
	APIReader client.Reader
	tableauClients
	adminLocks *adminLocks
}

// refusedWrites records in status a write of the rotation the API server refused, tells it
// in one event, and backs off.
type refusedWrites struct {
	wallClock
	recorder
	Backoff backoff.Policy
}

// workloads reads the restart targets from the cache and stamps their pod templates.
type workloads struct {
	client.Client
}
