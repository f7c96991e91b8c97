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

package serverinfo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func TestCacheSharesOneCallPerKeyAndInterval(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := NewCache(clock)
	var calls atomic.Int32
	release := make(chan struct{})
	fetch := func(context.Context) (*tableau.ServerInfo, error) {
		calls.Add(1)
		<-release
		return &tableau.ServerInfo{RESTAPIVersion: "3.24"}, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := c.Get(context.Background(), "https://a", 10*time.Minute, fetch); r.Info == nil || r.Info.RESTAPIVersion != "3.24" {
				t.Errorf("result = %+v", r)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("50 concurrent callers made %d calls, want 1", n)
	}
	c.Get(context.Background(), "https://a", 10*time.Minute, fetch)
	if n := calls.Load(); n != 1 {
		t.Fatalf("a fresh entry was fetched again: %d calls", n)
	}
	c.Get(context.Background(), "https://b", 10*time.Minute, fetch)
	if n := calls.Load(); n != 2 {
		t.Fatalf("another server must be fetched: %d calls", n)
	}
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	c.Get(context.Background(), "https://a", 10*time.Minute, fetch)
	if n := calls.Load(); n != 3 {
		t.Fatalf("an entry as old as the interval must be refreshed: %d calls", n)
	}
}

func TestCacheSharesFailuresOnlyBriefly(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCache(func() time.Time { return now })
	calls := 0
	boom := errors.New("down")
	fetch := func(context.Context) (*tableau.ServerInfo, error) { calls++; return nil, boom }
	for i := 0; i < 3; i++ {
		if r := c.Get(context.Background(), "k", time.Hour, fetch); !errors.Is(r.Err, boom) {
			t.Fatalf("err = %v", r.Err)
		}
	}
	if calls != 1 {
		t.Fatalf("calls = %d, want 1", calls)
	}
	now = now.Add(DefaultFailureTTL)
	c.Get(context.Background(), "k", time.Hour, fetch)
	if calls != 2 {
		t.Fatalf("a failure older than the failure TTL must be fetched again: calls = %d", calls)
	}
	c.Forget("k")
	c.Get(context.Background(), "k", time.Hour, fetch)
	if calls != 3 {
		t.Fatalf("after Forget calls = %d, want 3", calls)
	}
}
