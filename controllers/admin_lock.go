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
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// adminLocks serializes the sessions of one administrator PAT. A PAT holds one session:
// signing in with it ends its other sessions (401002), so connections that share an admin
// Secret and are reconciled concurrently would end each other's sessions mid-operation.
// A session is held from sign-in to sign-out by one reconcile at a time.
type adminLocks struct {
	mu    sync.Mutex
	locks map[string]*adminLock
}

type adminLock struct {
	ch   chan struct{}
	refs int
}

// adminLockKey names the PAT (its revision: name and secret, hashed), the server and the site.
func adminLockKey(server, site string, pat tableau.PersonalAccessToken) string {
	h := sha256.New()
	for _, s := range []string{server, site, pat.Name, pat.Secret.Reveal()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// acquire waits until no other reconcile holds key, or ctx ends. The returned release must be
// called once, after the session was signed out.
func (l *adminLocks) acquire(ctx context.Context, key string) (release func(), err error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*adminLock{}
	}
	k := l.locks[key]
	if k == nil {
		k = &adminLock{ch: make(chan struct{}, 1)}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
	select {
	case k.ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-k.ch; done() }) }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
