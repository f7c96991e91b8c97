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

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// apiProxy stands between the operator and the API server and counts the operator's
// requests by verb and resource, so the bench measures what the API server was asked, not
// what the operator says it asked. It forwards with the administrator's credentials of cfg.
type apiProxy struct {
	srv *http.Server
	url string
	mu  sync.Mutex
	n   map[string]int
	// log, when BENCH_API_LOG names a file, gets one line per request: time, method, path,
	// the response's status code, and an Event's reason and object. It tells which step of
	// which tenant made a request; the counts do not need it.
	log io.Writer
}

func startAPIProxy(cfg *rest.Config) (*apiProxy, error) {
	target, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, err
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &apiProxy{url: "http://" + ln.Addr().String(), n: map[string]int{}}
	if path := os.Getenv("BENCH_API_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		p.log = f
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport:     rt,
		FlushInterval: -1, // watches stream
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count(r)
		if p.log == nil {
			rp.ServeHTTP(w, r)
			return
		}
		what := eventOf(r)
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		rp.ServeHTTP(sw, r)
		p.mu.Lock()
		fmt.Fprintf(p.log, "%s %s %s %d %s%s\n", start.Format("15:04:05.000"), r.Method, r.URL.Path, sw.code, requestKind(r), what)
		p.mu.Unlock()
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *apiProxy) close() { _ = p.srv.Close() }

// statusWriter keeps the status code of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets a watch stream through the log's writer.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// eventOf names an Event's reason and object for the request log (the body is put back).
func eventOf(r *http.Request) string {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/events") || r.Body == nil {
		return ""
	}
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return ""
	}
	var ev struct {
		Reason    string `json:"reason"`
		Regarding struct {
			Name string `json:"name"`
		} `json:"regarding"`
	}
	if json.Unmarshal(b, &ev) == nil {
		return " " + ev.Reason + " " + ev.Regarding.Name
	}
	// Protobuf: the reason and the object's name are among the body's printable runs.
	var runs []string
	run := []byte{}
	for _, c := range append(b, 0) {
		if c >= 0x20 && c < 0x7f {
			run = append(run, c)
			continue
		}
		if len(run) >= 4 {
			runs = append(runs, string(run))
		}
		run = run[:0]
	}
	return " " + strings.Join(runs, "|")
}

// kubeconfig writes a kubeconfig that reaches the API server through the proxy.
func (p *apiProxy) kubeconfig(path string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: proxy
  cluster: {server: %q}
contexts:
- name: proxy
  context: {cluster: proxy, user: proxy}
users:
- name: proxy
  user: {}
current-context: proxy
`, p.url)), 0o600)
}

func (p *apiProxy) count(r *http.Request) {
	key := requestKind(r)
	p.mu.Lock()
	p.n[key]++
	p.mu.Unlock()
}

// reset returns the counts so far and starts again from zero.
func (p *apiProxy) reset() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.n
	p.n = map[string]int{}
	return out
}

// requestKind names a request "<verb> <resource>[/<subresource>]": verb is get (content),
// get-metadata (PartialObjectMetadata), list, watch-list (a watch that streams the initial
// list), watch or write (any other method); requests
// outside /api and /apis resources are "discovery".
func requestKind(r *http.Request) string {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) > 2 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) > 3 && segs[0] == "apis":
		segs = segs[3:]
	default:
		return "discovery"
	}
	if len(segs) > 2 && segs[0] == "namespaces" {
		segs = segs[2:]
	}
	resource, named := segs[0], len(segs) > 1
	if len(segs) > 2 {
		resource += "/" + segs[2]
	}
	verb := "write"
	switch {
	case r.Method != http.MethodGet:
	case !named && r.URL.Query().Get("watch") == "true" && r.URL.Query().Get("sendInitialEvents") == "true":
		verb = "watch-list" // the initial list streamed as events (client-go's WatchListClient)
	case !named && r.URL.Query().Get("watch") == "true":
		verb = "watch"
	case !named:
		verb = "list"
	case strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadata"):
		verb = "get-metadata"
	default:
		verb = "get"
	}
	return verb + " " + resource
}

// writes sums the write requests of counts.
func writes(counts map[string]int) int {
	n := 0
	for k, v := range counts {
		if strings.HasPrefix(k, "write ") {
			n += v
		}
	}
	return n
}

// format lists counts sorted by key.
func format(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
