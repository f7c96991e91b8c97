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

// Package serverinfo shares serverinfo answers between connections: many tenants live on one
// Tableau server, and its version needs asking once per interval, not once per tenant.
package serverinfo

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Result is one serverinfo answer or failure, with when it was fetched.
type Result struct {
	Info      *tableau.ServerInfo
	Err       error
	FetchedAt time.Time
}

// DefaultFailureTTL is how long a failed fetch is shared: long enough that tenants of a server
// that is down do not each ask it, short enough that each tenant's own backoff decides retries.
const DefaultFailureTTL = 5 * time.Second

// Cache holds the latest Result per server key. It is safe for concurrent use; concurrent
// misses for one key make a single call.
type Cache struct {
	mu         sync.Mutex
	entries    map[string]Result
	group      singleflight.Group
	now        func() time.Time
	failureTTL time.Duration
}

// NewCache makes an empty cache; now may be nil for the wall clock.
func NewCache(now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{entries: map[string]Result{}, now: now, failureTTL: DefaultFailureTTL}
}

// fresh reports whether r may be served to a caller that accepts maxAge.
func (c *Cache) fresh(r Result, maxAge time.Duration) bool {
	if r.Err != nil {
		maxAge = min(maxAge, c.failureTTL)
	}
	return c.now().Sub(r.FetchedAt) < maxAge
}

// Get returns the cached Result for key when it is younger than maxAge, and otherwise calls
// fetch once (shared by every concurrent caller) and caches what it returns. A failure is
// shared for at most the failure TTL, so a server that is down is not asked by every tenant.
func (c *Cache) Get(ctx context.Context, key string, maxAge time.Duration, fetch func(context.Context) (*tableau.ServerInfo, error)) Result {
	c.mu.Lock()
	r, ok := c.entries[key]
	c.mu.Unlock()
	if ok && c.fresh(r, maxAge) {
		return r
	}
	v, _, _ := c.group.Do(key, func() (any, error) {
		// Another caller may have refreshed the entry while this one waited for the group.
		c.mu.Lock()
		r, ok := c.entries[key]
		c.mu.Unlock()
		if ok && c.fresh(r, maxAge) {
			return r, nil
		}
		info, err := fetch(ctx)
		r = Result{Info: info, Err: err, FetchedAt: c.now()}
		c.mu.Lock()
		c.entries[key] = r
		c.mu.Unlock()
		return r, nil
	})
	return v.(Result)
}

// Forget drops a key, so the next Get fetches.
func (c *Cache) Forget(key string) {
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}
