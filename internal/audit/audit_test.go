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

package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"go.uber.org/zap/zapcore"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tableau-operator/tableau-operator/internal/audit"
)

// capture sends audit lines, as JSON, to a slice.
func capture(t *testing.T) *[]string {
	t.Helper()
	var lines []string
	audit.SetLogger(funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{}))
	return &lines
}

func TestEveryActionEmitsExactlyOneLineWithEveryKey(t *testing.T) {
	lines := capture(t)
	obj := &metav1.ObjectMeta{Namespace: "tenants", Name: "finance"}
	for _, a := range audit.Actions {
		before := len(*lines)
		audit.Log(context.Background(), a, obj, audit.Entry{Revision: "0123456789ab", RequestID: "req-1", Result: audit.Succeeded})
		if got := len(*lines) - before; got != 1 {
			t.Fatalf("%s emitted %d lines, want 1", a, got)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte((*lines)[before]), &m); err != nil {
			t.Fatalf("%s: not JSON: %v", a, err)
		}
		for _, k := range audit.Keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: line lacks key %q: %s", a, k, (*lines)[before])
			}
		}
		if m[audit.KeyAudit] != true || m[audit.KeyAction] != string(a) || m[audit.KeyNamespace] != "tenants" || m[audit.KeyName] != "finance" ||
			m[audit.KeyRevision] != "0123456789ab" || m[audit.KeyRequestID] != "req-1" || m["msg"] != audit.Message {
			t.Errorf("%s: wrong values: %s", a, (*lines)[before])
		}
	}
	seen := map[audit.Action]bool{}
	for _, a := range audit.Actions {
		if seen[a] {
			t.Errorf("action %s listed twice", a)
		}
		seen[a] = true
	}
}

// TestLinesAreBounded: a value from Tableau cannot make a line unbounded.
func TestLinesAreBounded(t *testing.T) {
	lines := capture(t)
	audit.Log(context.Background(), audit.SignIn, &metav1.ObjectMeta{Namespace: "n", Name: "x"},
		audit.Entry{RequestID: strings.Repeat("r", 10000), Bucket: strings.Repeat("é", 5000)})
	if len((*lines)[0]) > 2000 {
		t.Errorf("line of %d bytes", len((*lines)[0]))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte((*lines)[0]), &m); err != nil {
		t.Fatalf("a cut line is no longer JSON: %v", err)
	}
}

// TestTimesOrderTheTrail: with the manager's zap options, every line's ts is RFC 3339 in UTC
// with nanoseconds (fixed width), so lines written within one second keep their order, both
// as times and as text.
func TestTimesOrderTheTrail(t *testing.T) {
	var buf strings.Builder
	opts := zap.Options{DestWriter: &buf}
	audit.UseTimeEncoder(&opts)
	audit.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	obj := &metav1.ObjectMeta{Namespace: "tenants", Name: "finance"}
	for range 5 {
		audit.Log(context.Background(), audit.Restart, obj, audit.Entry{Result: audit.Succeeded})
	}
	var prevText string
	var prev time.Time
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, line)
		}
		ts, _ := m["ts"].(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || !strings.HasSuffix(ts, "Z") || len(ts) != len("2006-01-02T15:04:05.000000000Z") {
			t.Fatalf("line %d: ts %q is not RFC 3339 in UTC with nanoseconds (%v)", i, ts, err)
		}
		if at.Before(prev) || ts < prevText {
			t.Errorf("line %d: ts %s is before the line before it (%s)", i, ts, prevText)
		}
		prev, prevText = at, ts
	}
	// The encoder itself: UTC whatever the time's zone, and nine digits even when they are 0.
	at := time.Date(2026, 12, 7, 18, 4, 5, 120000000, time.FixedZone("CET", 3600))
	if got, want := at.UTC().Format(audit.TimeLayout), "2026-12-07T17:04:05.120000000Z"; got != want {
		t.Errorf("TimeLayout gives %s, want %s", got, want)
	}
	var enc stringEncoder
	audit.TimeEncoder(at, &enc)
	if enc.s != "2026-12-07T17:04:05.120000000Z" {
		t.Errorf("TimeEncoder gives %q", enc.s)
	}
}

// stringEncoder keeps the string a TimeEncoder appends.
type stringEncoder struct {
	zapcore.PrimitiveArrayEncoder
	s string
}

func (e *stringEncoder) AppendString(s string) { e.s = s }
