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

// Package optest is the envtest harness of the operator's suites (controllers/suites/...): per
// test binary one control plane, one operator manager with both reconcilers, the operator's
// clock, the capture of its log and the end-of-suite scan for secrets, and the fixtures
// (tenants, worlds, fleets, metrics scrapes) the suites share. It is for tests only: nothing
// outside *_test.go files imports it.
//
// Each suite package calls Main from its TestMain. A package's tests that only need their own
// namespace call t.Parallel(); tests that move the clock, restart the manager, move it to
// another control plane or cut the API server do not, and go test runs every such serial test
// of a package before it releases the parallel ones, so those never see the clock moved or the
// manager gone.
package optest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/serverinfo"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
	"github.com/tableau-operator/tableau-operator/internal/testenv/poll"
)

// Suite is one test binary's control plane and operator.
type Suite struct {
	Env    *testenv.Env
	Scheme *runtime.Scheme
	// Clock is the operator's clock, which tests of schedules longer than a test move forward.
	Clock *Clock
	// Logs holds everything the operator logged, for the audit tests and the secret scan.
	Logs *SyncBuffer
	// Secrets remembers every secret the tests hand the operator, for the secret scan.
	Secrets *SecretLedger
	// Reads counts the operator's direct (API reader) reads.
	Reads *ReadLedger
	// StatusFaults makes the operator's status writes fail in chosen namespaces.
	StatusFaults *StatusFaultSet

	mu     sync.Mutex
	client client.Client // the tests' client; another while the operator runs on another plane
	plane  *rest.Config  // how the next manager reaches an API server; nil: Env.Config
	stop   func()
}

// current is the suite of this test binary: Main sets it once, before any test runs, and the
// fixtures reach the control plane through it.
var current *Suite

// Current is the suite of this test binary.
func Current() *Suite { return current }

// K8s is the tests' client of the control plane the operator runs on.
func K8s() client.Client { return current.Client() }

// Main starts the suite, runs the package's tests and scans for leaked secrets; a suite
// package's TestMain is `os.Exit(optest.Main(m))`.
func Main(m *testing.M) int {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" && os.Getenv("CI") == "" {
		// `go test ./controllers/...` by hand runs the pure tests and says which suites need
		// the control plane; make test always sets the assets, and CI (CI set) fails instead
		// of skipping, so no envtest is ever skipped silently there.
		fmt.Fprintln(os.Stderr, "skipped: this envtest suite needs KUBEBUILDER_ASSETS (make test sets it; or export KUBEBUILDER_ASSETS=$(make -s envtest))")
		return 0
	}
	s, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = s.Env.Stop() }()
	defer s.StopManager()
	current = s
	code := m.Run()
	if code == 0 {
		if leak := s.ScanForSecrets(); leak != "" {
			fmt.Fprintln(os.Stderr, "SECRET LEAK:", leak)
			code = 1
		}
	}
	return code
}

func start() (*Suite, error) {
	s := &Suite{Scheme: testenv.Scheme(), Clock: &Clock{}, Logs: &SyncBuffer{}, Secrets: &SecretLedger{},
		Reads: &ReadLedger{}, StatusFaults: &StatusFaultSet{}}
	var logOut io.Writer = s.Logs
	if os.Getenv("TEST_OPERATOR_LOG") != "" {
		logOut = io.MultiWriter(s.Logs, os.Stderr) // TEST_OPERATOR_LOG=1 shows the operator's log
	}
	// Before the control plane starts: controller-runtime drops every line for good when no
	// logger is set within 30 s of its first use, which a slow start on a busy machine passes,
	// and the audit tests and the secret scan read this log.
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut), zap.UseDevMode(false)))
	env, err := testenv.Start()
	if err != nil {
		return nil, err
	}
	s.Env = env
	if s.client, err = client.New(env.Config, client.Options{Scheme: s.Scheme}); err != nil {
		_ = env.Stop()
		return nil, err
	}
	if err := s.StartManager(nil); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return s, nil
}

// Client is the tests' client of the control plane the operator runs on.
func (s *Suite) Client() client.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client
}

// UsePlane makes the next manager reach an API server through cfg (another control plane, an
// impersonated ServiceAccount, a proxy a test can cut); nil goes back to Env.Config.
func (s *Suite) UsePlane(cfg *rest.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plane = cfg
}

// MoveOperator moves the operator to another control plane (or identity), reached through
// operator, and the tests' client to admin, until the test ends. The test must not be parallel.
func (s *Suite) MoveOperator(t *testing.T, admin client.Client, operator *rest.Config) {
	t.Helper()
	s.StopManager()
	s.mu.Lock()
	main := s.client
	s.client, s.plane = admin, operator
	s.mu.Unlock()
	t.Cleanup(func() {
		s.StopManager()
		s.mu.Lock()
		s.client, s.plane = main, nil
		s.mu.Unlock()
		if err := s.StartManager(nil); err != nil {
			t.Fatal(err)
		}
	})
	if err := s.StartManager(nil); err != nil {
		t.Fatal(err)
	}
}

// StartManager starts an operator manager (both reconcilers) with a crash hook; tests that
// kill the operator stop it and start a fresh one, which shares no memory with the old. Only
// tests that are not parallel call it, and only after StopManager.
func (s *Suite) StartManager(hook func(phase string) error) error {
	s.mu.Lock()
	cfg := s.plane
	s.mu.Unlock()
	if cfg == nil {
		cfg = s.Env.Config
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     s.Scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      controllers.CacheOptions(),
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return err
	}
	r := &controllers.TableauConnectionReconciler{
		Client:         s.StatusFaults.wrap(mgr.GetClient()),
		APIReader:      &countingReader{Reader: mgr.GetAPIReader(), ledger: s.Reads},
		Events:         mgr.GetEventRecorder("tableau-operator"),
		ServerInfo:     serverinfo.NewCache(nil),
		Backoff:        backoff.Default,
		CrashHook:      hook,
		Now:            s.Clock.Now,
		AllowedServers: AllowedServers,
	}
	if err := r.SetupWithManager(mgr, 4); err != nil {
		return err
	}
	fleet := &controllers.TableauFleetReconciler{Client: mgr.GetClient(), Events: mgr.GetEventRecorder("tableau-operator")}
	if err := fleet.SetupWithManager(mgr); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	s.mu.Lock()
	s.stop = func() { cancel(); <-done }
	s.mu.Unlock()
	return nil
}

// StopManager stops the running manager, if any.
func (s *Suite) StopManager() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Clock is the operator's clock: the real time moved forward by an offset, for tests of
// schedules longer than a test. It is a field of the suite, so only the tests of one package
// (run serially) share it.
type Clock struct{ offset atomic.Int64 }

// Now is the operator's time.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Set puts the clock d ahead of the real time.
func (c *Clock) Set(d time.Duration) { c.offset.Store(int64(d)) }

// Reset puts the clock back to the real time; tests that move it reset it in t.Cleanup.
func (c *Clock) Reset() { c.offset.Store(0) }

// SyncBuffer collects the operator's log output for the secret scan.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// SecretLedger remembers every secret the tests hand the operator: PATs, admin PATs and
// connected-app secret values (the simulator's own creations included).
type SecretLedger struct {
	mu sync.Mutex
	v  []string
}

// Add remembers a secret the scan must not find anywhere.
func (l *SecretLedger) Add(s string) { l.mu.Lock(); l.v = append(l.v, s); l.mu.Unlock() }

// All is every secret remembered.
func (l *SecretLedger) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.v...)
}

// ScanForSecrets looks for every PAT secret the tests used in the operator's logs, in every
// event, in every TableauConnection (status included) and in the metrics output.
func (s *Suite) ScanForSecrets() string {
	if len(s.Secrets.All()) == 0 {
		return "" // no test that hands the operator a secret ran (go test -run)
	}
	ctx := context.Background()
	k8s := s.Client()
	var haystacks []struct{ what, text string }
	haystacks = append(haystacks, struct{ what, text string }{"logs", s.Logs.String()})
	var evs eventsv1.EventList
	if err := k8s.List(ctx, &evs); err == nil {
		b, _ := json.Marshal(evs)
		haystacks = append(haystacks, struct{ what, text string }{"events", string(b)})
	}
	var core corev1.EventList
	if err := k8s.List(ctx, &core); err == nil {
		b, _ := json.Marshal(core)
		haystacks = append(haystacks, struct{ what, text string }{"core events", string(b)})
	}
	var conns v1.TableauConnectionList
	if err := k8s.List(ctx, &conns); err == nil {
		b, _ := json.Marshal(conns)
		haystacks = append(haystacks, struct{ what, text string }{"TableauConnections", string(b)})
	}
	families, err := ctrlmetrics.Registry.Gather()
	if err == nil {
		var buf bytes.Buffer
		for _, f := range families {
			_, _ = expfmt.MetricFamilyToText(&buf, f)
		}
		haystacks = append(haystacks, struct{ what, text string }{"metrics", buf.String()})
	}
	if len(haystacks) != 5 {
		return "the scan could not read everything it must scan"
	}
	for _, secret := range s.Secrets.All() {
		for _, h := range haystacks {
			if strings.Contains(h.text, secret) {
				return fmt.Sprintf("a secret (PAT, admin PAT or connected-app secret value) appears in the %s", h.what)
			}
		}
	}
	// The operator mints a JWT for every connected-app sign-in; none is known to the tests,
	// so look for the shape: base64url header and claims of a JSON object, and a signature.
	for _, h := range haystacks {
		if jwtShape.MatchString(h.text) {
			return fmt.Sprintf("a JWT appears in the %s", h.what)
		}
	}
	return ""
}

var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`)

// Eventually polls cond until it holds or the timeout passes (see poll.Eventually).
var Eventually = poll.Eventually

// NewNamespace creates a namespace of its own for a test.
func NewNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := current.Client().Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}
