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

// Package backoff is the one retry policy for transient Tableau failures, shared by the CLI
// and the operator: full jitter (a uniform delay between 0 and min(cap, base·2^n)), base 200 ms,
// cap 30 s, Retry-After honoured when the server sends it, and a bounded number of attempts.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is a capped exponential backoff with full jitter.
type Policy struct {
	Base time.Duration
	Cap  time.Duration
	// MaxAttempts bounds Do: the first try plus retries.
	MaxAttempts int
	// Rand returns a float in [0,1); tests fix it. Nil uses math/rand/v2.
	Rand func() float64
}

// Default is the project's policy.
var Default = Policy{Base: 200 * time.Millisecond, Cap: 30 * time.Second, MaxAttempts: 4}

// Ceiling is the largest delay before retry number n (0-based): min(Cap, Base·2^n).
func (p Policy) Ceiling(n int) time.Duration {
	if n < 0 {
		n = 0
	}
	d := p.Base
	for i := 0; i < n && d < p.Cap; i++ {
		d *= 2
	}
	return min(d, p.Cap)
}

// Delay is the wait before retry number n (0-based). A Retry-After from the server is a floor:
// the wait is never shorter than what the server asked for.
func (p Policy) Delay(n int, retryAfter time.Duration) time.Duration {
	r := p.Rand
	if r == nil {
		r = rand.Float64
	}
	d := time.Duration(r() * float64(p.Ceiling(n)))
	return max(d, retryAfter)
}

// Do calls fn until it succeeds, fails with an error that retry says is not transient, the
// attempts run out or ctx ends. retry returns whether err is transient and any Retry-After.
func (p Policy) Do(ctx context.Context, fn func(context.Context) error, retry func(error) (bool, time.Duration)) error {
	attempts := max(p.MaxAttempts, 1)
	var err error
	for n := 0; n < attempts; n++ {
		if err = fn(ctx); err == nil {
			return nil
		}
		transient, after := retry(err)
		if !transient || n == attempts-1 {
			return err
		}
		t := time.NewTimer(p.Delay(n, after))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}
