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

package binarytest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/tableau-operator/tableau-operator/internal/audit"
)

// tcpForwarder forwards connections from a loopback port to target once it is opened: before
// that nothing listens on the port, as when the API server is down.
type tcpForwarder struct {
	addr, target string
	ln           net.Listener
	wg           sync.WaitGroup
}

func (f *tcpForwarder) open(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", f.target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); f.wg.Wait() })
}

func probeStatus(addr, path string) int {
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// TestOperatorStartedDuringAnAPIServerOutageWaits: started while the API server is
// unreachable, the operator does not exit: it answers liveness, fails readiness, logs one
// line per attempt, and starts once the API server answers.
func TestOperatorStartedDuringAnAPIServerOutageWaits(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	host, err := url.Parse(cp.env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	fwd := &tcpForwarder{addr: freeAddr(t), target: host.Host}
	cfg, err := clientcmd.LoadFromFile(cp.env.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + fwd.addr
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	probes := freeAddr(t)
	log := startOperator(t, kubeconfig, "--health-probe-bind-address="+probes, "--metrics-bind-address=0")
	eventually(t, 20*time.Second, "liveness answering and readiness failing during the outage", func() (bool, string) {
		return probeStatus(probes, "/healthz") == 200 && probeStatus(probes, "/readyz") == 503, log.String()
	})
	eventually(t, 20*time.Second, "a second attempt", func() (bool, string) {
		return strings.Count(log.String(), "the Kubernetes API server does not answer") >= 2, log.String()
	})
	if strings.Contains(log.String(), "unable to create the manager") {
		t.Fatalf("the operator tried to start without the API server:\n%s", log.String())
	}
	// The wait backs off: each attempt line says how long the next one waits, and that grows
	// (1 s doubling to 30 s). Read from the lines, not timed: tests never time things.
	var waits []time.Duration
	for _, line := range strings.Split(log.String(), "\n") {
		var m struct {
			Msg     string `json:"msg"`
			RetryIn string `json:"retryIn"`
		}
		if json.Unmarshal([]byte(line), &m) != nil || !strings.HasPrefix(m.Msg, "the Kubernetes API server does not answer") {
			continue
		}
		d, err := time.ParseDuration(m.RetryIn)
		if err != nil {
			t.Fatalf("attempt line without a retryIn duration: %s", line)
		}
		waits = append(waits, d)
	}
	if len(waits) < 2 {
		t.Fatalf("%d attempt lines with a retryIn", len(waits))
	}
	for i, d := range waits {
		// Never under half of the attempt's ceiling (1 s doubling, capped at 30 s).
		if floor := min(500*time.Millisecond<<i, 15*time.Second); d < floor {
			t.Errorf("attempt %d waits %s, under its floor %s: the wait does not back off (%v)", i+1, d, floor, waits)
		}
	}
	fwd.open(t)
	eventually(t, 60*time.Second, "ready once the API server answers", func() (bool, string) {
		return probeStatus(probes, "/readyz") == 200, log.String()
	})
	if !strings.Contains(log.String(), "the Kubernetes API server answers") || !strings.Contains(log.String(), "starting the manager") {
		t.Errorf("the log does not say the wait ended and the manager started:\n%s", log.String())
	}
	// Audit lines share this logger: every ts is RFC 3339 with nanoseconds, so a trail whose
	// lines share a second can still be ordered.
	lines := 0
	for _, line := range strings.Split(log.String(), "\n") {
		var m struct {
			TS string `json:"ts"`
		}
		if json.Unmarshal([]byte(line), &m) != nil || m.TS == "" {
			continue
		}
		lines++
		if _, err := time.Parse(audit.TimeLayout, m.TS); err != nil {
			t.Errorf("ts %q is not %s: %v", m.TS, audit.TimeLayout, err)
		}
	}
	if lines == 0 {
		t.Errorf("no JSON log line with ts:\n%s", log.String())
	}
}
