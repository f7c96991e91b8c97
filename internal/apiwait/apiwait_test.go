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

package apiwait

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func status(addr, path string) int {
	res, err := (&http.Client{Timeout: time.Second}).Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// TestWaitRetriesWithOneLinePerAttemptAndServesProbes: while the API server does not answer,
// liveness answers, readiness fails, each attempt logs one line; the probe listener is freed
// when the wait ends.
func TestWaitRetriesWithOneLinePerAttemptAndServesProbes(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	log := funcr.New(func(prefix, args string) { mu.Lock(); lines = append(lines, args); mu.Unlock() }, funcr.Options{})
	addr := freeAddr(t)
	var calls int
	probeSeen := make(chan [2]int, 1)
	probe := func(context.Context) error {
		calls++
		if calls == 3 {
			probeSeen <- [2]int{status(addr, "/healthz"), status(addr, "/readyz")}
		}
		if calls < 4 {
			return errors.New("connection refused")
		}
		return nil
	}
	p := backoff.Policy{Base: 20 * time.Millisecond, Cap: 100 * time.Millisecond}
	if err := Wait(context.Background(), probe, addr, p, log); err != nil {
		t.Fatal(err)
	}
	if got := <-probeSeen; got != [2]int{200, 503} {
		t.Errorf("during the wait /healthz, /readyz = %v, want 200, 503", got)
	}
	mu.Lock()
	defer mu.Unlock()
	waiting := 0
	for _, l := range lines {
		if strings.Contains(l, "does not answer") {
			waiting++
		}
	}
	if waiting != 3 || calls != 4 {
		t.Errorf("%d waiting lines for %d attempts, want 3 for 4:\n%s", waiting, calls, strings.Join(lines, "\n"))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the probe address is still held after the wait: %v", err)
	}
	_ = ln.Close()
}

func TestWaitStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := Wait(ctx, func(context.Context) error { return errors.New("down") }, "", backoff.Policy{Base: time.Hour, Cap: time.Hour}, funcr.New(func(string, string) {}, funcr.Options{}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
}

func TestAnswerAtOnceServesNothing(t *testing.T) {
	addr := freeAddr(t)
	if err := Wait(context.Background(), func(context.Context) error { return nil }, addr, Policy, funcr.New(func(string, string) {}, funcr.Options{})); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the probe address was taken: %v", err)
	}
	_ = ln.Close()
}

// A refused credential (401) or an untrusted certificate (x509) is no outage: each attempt's
// line says what it is, and after RefusedAttempts in a row Wait gives up with that sentence,
// so the process exits saying it instead of waiting forever under "does not answer".
func TestWaitSaysWhatARefusalIsAndGivesUp(t *testing.T) {
	cases := map[string]struct {
		err  error
		says string
	}{
		"401": {apierrors.NewUnauthorized("Unauthorized"), "refuses the operator's credentials"},
		"x509": {&url.Error{Op: "Get", URL: "https://10.0.0.1/version", Err: x509.UnknownAuthorityError{}},
			"certificate is not trusted"},
		"hostname": {&url.Error{Op: "Get", URL: "https://10.0.0.1/version", Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "10.0.0.1"}},
			"certificate is not trusted"},
	}
	for name, tc := range cases {
		var lines []string
		log := funcr.New(func(_, args string) { lines = append(lines, args) }, funcr.Options{})
		calls := 0
		err := Wait(context.Background(), func(context.Context) error { calls++; return tc.err }, "",
			backoff.Policy{Base: time.Millisecond, Cap: 2 * time.Millisecond}, log)
		if err == nil || !strings.Contains(err.Error(), tc.says) || !errors.Is(err, tc.err) {
			t.Errorf("%s: Wait = %v, want an error saying %q that wraps the answer", name, err, tc.says)
		}
		if calls != RefusedAttempts {
			t.Errorf("%s: %d attempts, want %d", name, calls, RefusedAttempts)
		}
		for _, l := range lines {
			if strings.Contains(l, "does not answer") || !strings.Contains(l, tc.says) {
				t.Errorf("%s: a line calls it an outage or does not say what it is: %s", name, l)
			}
		}
	}
}

// An outage in between resets the count: only refusals in a row end the wait.
func TestWaitCountsRefusalsInARow(t *testing.T) {
	calls := 0
	unauthorized := apierrors.NewUnauthorized("Unauthorized")
	down := apierrors.NewServiceUnavailable("down")
	probe := func(context.Context) error {
		calls++
		switch {
		case calls > 2*RefusedAttempts:
			return nil
		case calls%2 == 0:
			return down
		}
		return unauthorized
	}
	if err := Wait(context.Background(), probe, "", backoff.Policy{Base: time.Millisecond, Cap: 2 * time.Millisecond},
		funcr.New(func(string, string) {}, funcr.Options{})); err != nil {
		t.Fatalf("Wait = %v after refusals that were not in a row", err)
	}
}
