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

// Package apiwait holds the operator's start until the Kubernetes API server answers. A pod
// that starts during an API server outage (an upgrade, a restarted control plane) waits and
// retries with capped, jittered backoff, one log line per attempt, with its liveness probe
// answering and its readiness probe failing, instead of exiting into the kubelet's
// crash-loop backoff (up to five minutes with no validation at all).
package apiwait

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
)

// Policy paces the attempts: 1 s doubling to 30 s, never less than half the ceiling.
var Policy = backoff.Policy{Base: time.Second, Cap: 30 * time.Second}

// attemptTimeout bounds one attempt.
const attemptTimeout = 5 * time.Second

// RefusedAttempts is how many attempts in a row may meet an answer that waiting rarely fixes
// (the API server refuses the operator's credentials, or its certificate is not trusted)
// before Wait gives up and the process exits with that one line: a crash loop that says
// what is wrong, not an endless wait that calls it an outage. A few attempts ride out an
// authenticator that is itself restarting in a control plane upgrade.
const RefusedAttempts = 5

// refusal says what an answer is when it is not an outage: a refused credential or an
// untrusted certificate; "" otherwise.
func refusal(err error) string {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	switch {
	case apierrors.IsUnauthorized(err):
		return "the Kubernetes API server refuses the operator's credentials (401 Unauthorized): its ServiceAccount token, or the kubeconfig's user, is not accepted"
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verification):
		return "the Kubernetes API server's certificate is not trusted (x509): the CA of the kubeconfig or of the pod's ServiceAccount does not sign it for this address"
	}
	return ""
}

// Probe asks the API server once whether it answers.
type Probe func(ctx context.Context) error

// ServerVersion is a Probe that asks the API server's /version, which every identity may read.
func ServerVersion(cfg *rest.Config) (Probe, error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = attemptTimeout
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		_, err := dc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
		return err
	}, nil
}

// Wait returns once probe succeeds, or ctx's error when ctx ends first. While it waits, the
// health probe address (when not empty) answers /healthz with 200 and /readyz with 503; the
// listener is closed before Wait returns, so the manager can bind it.
func Wait(ctx context.Context, probe Probe, probeAddr string, p backoff.Policy, log logr.Logger) error {
	attempt := func() error {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		defer cancel()
		return probe(actx)
	}
	err := attempt()
	if err == nil {
		return nil
	}
	stop, serr := serveProbes(probeAddr)
	if serr != nil {
		return fmt.Errorf("serving the health probes while the API server does not answer: %w", serr)
	}
	defer stop()
	refused := 0
	for n := 0; ; n++ {
		what := refusal(err)
		if what == "" {
			refused = 0
		} else if refused++; refused >= RefusedAttempts {
			return fmt.Errorf("%s; giving up after %d attempts: %w", what, refused, err)
		}
		wait := max(p.Delay(n, 0), p.Ceiling(n)/2)
		if what != "" {
			log.Info(what+"; waiting before the next attempt", "attempt", n+1, "retryIn", wait.Round(time.Millisecond).String(), "error", err.Error())
		} else {
			log.Info("the Kubernetes API server does not answer; waiting before the next attempt", "attempt", n+1, "retryIn", wait.Round(time.Millisecond).String(), "error", err.Error())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err = attempt(); err == nil {
			log.Info("the Kubernetes API server answers", "attempts", n+2)
			return nil
		}
	}
}

// serveProbes answers the kubelet's probes while the manager is not running yet.
func serveProbes(addr string) (stop func(), err error) {
	if addr == "" || addr == "0" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "waiting for the Kubernetes API server", http.StatusServiceUnavailable)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
