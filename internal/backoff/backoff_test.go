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

package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCeilingDoublesFromBaseToCap(t *testing.T) {
	p := Policy{Base: 200 * time.Millisecond, Cap: 30 * time.Second}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond,
		3200 * time.Millisecond, 6400 * time.Millisecond, 12800 * time.Millisecond, 25600 * time.Millisecond, 30 * time.Second, 30 * time.Second}
	for n, w := range want {
		if got := p.Ceiling(n); got != w {
			t.Errorf("Ceiling(%d) = %v, want %v", n, got, w)
		}
	}
	if got := p.Ceiling(1000); got != 30*time.Second {
		t.Errorf("Ceiling(1000) = %v, want the cap", got)
	}
}

func TestDelayIsFullJitterWithRetryAfterAsFloor(t *testing.T) {
	cases := []struct {
		name       string
		rand       float64
		n          int
		retryAfter time.Duration
		want       time.Duration
	}{
		{"lowest jitter", 0, 3, 0, 0},
		{"half of ceiling", 0.5, 2, 0, 400 * time.Millisecond},
		{"near the cap", 0.999999, 20, 0, time.Duration(0.999999 * float64(30*time.Second))},
		{"retry-after above jitter wins", 0.1, 0, 5 * time.Second, 5 * time.Second},
		{"jitter above retry-after wins", 0.9, 10, time.Second, time.Duration(0.9 * float64(30*time.Second))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Default
			p.Rand = func() float64 { return tc.rand }
			if got := p.Delay(tc.n, tc.retryAfter); got != tc.want {
				t.Errorf("Delay = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDelayStaysWithinCeilingWithRealRandomness(t *testing.T) {
	for n := 0; n < 12; n++ {
		for i := 0; i < 200; i++ {
			if d := Default.Delay(n, 0); d < 0 || d > Default.Ceiling(n) {
				t.Fatalf("Delay(%d) = %v, outside [0, %v]", n, d, Default.Ceiling(n))
			}
		}
	}
}

var errTransient = errors.New("transient")
var errTerminal = errors.New("terminal")

func classify(err error) (bool, time.Duration) { return errors.Is(err, errTransient), 0 }

func TestDoStopsOnSuccessTerminalErrorOrAttempts(t *testing.T) {
	p := Policy{Base: time.Microsecond, Cap: time.Microsecond, MaxAttempts: 4}
	cases := []struct {
		name      string
		results   []error
		wantCalls int
		wantErr   error
	}{
		{"first try succeeds", []error{nil}, 1, nil},
		{"succeeds after two transient failures", []error{errTransient, errTransient, nil}, 3, nil},
		{"terminal error is not retried", []error{errTerminal}, 1, errTerminal},
		{"transient then terminal", []error{errTransient, errTerminal}, 2, errTerminal},
		{"attempts run out", []error{errTransient, errTransient, errTransient, errTransient, nil}, 4, errTransient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := p.Do(context.Background(), func(context.Context) error {
				calls++
				return tc.results[calls-1]
			}, classify)
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) {
				t.Errorf("calls=%d err=%v, want calls=%d err=%v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
}

func TestDoGivesUpWhenContextEnds(t *testing.T) {
	p := Policy{Base: time.Hour, Cap: time.Hour, MaxAttempts: 5, Rand: func() float64 { return 0.5 }}
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := p.Do(ctx, func(context.Context) error {
		calls++
		cancel()
		return errTransient
	}, classify)
	if calls != 1 || !errors.Is(err, errTransient) {
		t.Errorf("calls=%d err=%v, want one call and the last error", calls, err)
	}
}
