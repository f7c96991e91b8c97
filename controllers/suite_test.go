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

package controllers_test

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
)

var (
	env     *testenv.Env
	k8s     client.Client
	logs    = &syncBuffer{}
	secrets = &secretLedger{}
)

// syncBuffer collects the operator's log output for the secret scan.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// secretLedger remembers every secret the tests hand the operator: PATs, admin PATs and
// connected-app secret values (the simulator's own creations included).
type secretLedger struct {
	mu sync.Mutex
	v  []string
}

func (l *secretLedger) add(s string) { l.mu.Lock(); l.v = append(l.v, s); l.mu.Unlock() }
func (l *secretLedger) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.v...)
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	scheme = testenv.Scheme()
	var logOut io.Writer = logs
	if os.Getenv("TEST_OPERATOR_LOG") != "" {
		logOut = io.MultiWriter(logs, os.Stderr) // TEST_OPERATOR_LOG=1 shows the operator's log
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut), zap.UseDevMode(false)))
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := startManager(nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stopManager()
	code := m.Run()
	if code == 0 {
		if leak := scanForSecrets(); leak != "" {
			fmt.Fprintln(os.Stderr, "SECRET LEAK:", leak)
			code = 1
		}
	}
	return code
}

var (
	scheme      *runtime.Scheme
	stopCurrent func()
	// clockOffset moves the operator's clock forward, for tests of schedules longer than a test.
	clockOffset atomic.Int64
	// otherPlane, when set, is how the next manager reaches an API server (another
	// control plane, or an impersonated ServiceAccount) instead of env.Config.
	otherPlane *rest.Config
)

func operatorNow() time.Time { return time.Now().Add(time.Duration(clockOffset.Load())) }

// startManager starts an operator manager (both reconcilers) with a crash hook; tests that
// kill the operator stop it and start a fresh one, which shares no memory with the old.
func startManager(hook func(phase string) error) error {
	mgr, err := ctrl.NewManager(operatorConfig(), ctrl.Options{
		Scheme:     scheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      controllers.CacheOptions(),
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return err
	}
	r := &controllers.TableauConnectionReconciler{
		Client:         statusFaults.wrap(mgr.GetClient()),
		APIReader:      &countingReader{Reader: mgr.GetAPIReader()},
		Events:         mgr.GetEventRecorder("tableau-operator"),
		ServerInfo:     serverinfo.NewCache(nil),
		Backoff:        backoff.Default,
		CrashHook:      hook,
		Now:            operatorNow,
		AllowedServers: allowedServers,
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
	stopCurrent = func() { cancel(); <-done }
	return nil
}

func stopManager() {
	if stopCurrent != nil {
		stopCurrent()
		stopCurrent = nil
	}
}

// scanForSecrets looks for every PAT secret the tests used in the operator's logs, in every
// event, in every TableauConnection (status included) and in the metrics output.
func scanForSecrets() string {
	if len(secrets.all()) == 0 {
		return "" // no test that hands the operator a secret ran (go test -run)
	}
	ctx := context.Background()
	var haystacks []struct{ what, text string }
	haystacks = append(haystacks, struct{ what, text string }{"logs", logs.String()})
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
	for _, s := range secrets.all() {
		for _, h := range haystacks {
			if strings.Contains(h.text, s) {
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

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "t-"}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}
