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

package callgate

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// apiOutage sits between the operator and the API server: while it is down, nothing listens
// on its port and every open connection (watches included) is cut, as when the API server
// is stopped; up again, it forwards to the same API server and etcd.
type apiOutage struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

// withOutageProxy restarts the operator behind a proxy the test can take down.
func withOutageProxy(t *testing.T) *apiOutage {
	t.Helper()
	u, err := url.Parse(Current().Env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &apiOutage{addr: ln.Addr().String(), target: u.Host, conns: map[net.Conn]struct{}{}}
	o.serve(ln)
	Current().StopManager()
	proxied := rest.CopyConfig(Current().Env.Config)
	proxied.Host = "https://" + o.addr
	Current().UsePlane(proxied)
	if err := Current().StartManager(nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.up(t)
		Current().StopManager()
		Current().UsePlane(nil)
		o.down()
		if err := Current().StartManager(nil); err != nil {
			t.Fatal(err)
		}
	})
	return o
}

func (o *apiOutage) serve(ln net.Listener) {
	o.mu.Lock()
	o.ln = ln
	o.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", o.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			o.mu.Lock()
			o.conns[c], o.conns[up] = struct{}{}, struct{}{}
			o.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
}

// down stops listening and cuts every connection.
func (o *apiOutage) down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		_ = o.ln.Close()
		o.ln = nil
	}
	for c := range o.conns {
		_ = c.Close()
	}
	o.conns = map[net.Conn]struct{}{}
}

// up listens again on the same port.
func (o *apiOutage) up(t *testing.T) {
	t.Helper()
	o.mu.Lock()
	listening := o.ln != nil
	o.mu.Unlock()
	if listening {
		return
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port was just released
		if ln, err = net.Listen("tcp", o.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	o.serve(ln)
}

// lasting cuts the API server off for d, then lets the operator reach it again.
func (o *apiOutage) lasting(t *testing.T, d time.Duration) {
	t.Helper()
	o.down()
	time.Sleep(d)
	o.up(t)
}
