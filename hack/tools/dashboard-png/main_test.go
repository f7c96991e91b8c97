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
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func hist(counts map[string]float64) sample {
	s := sample{Series: map[string]float64{}}
	for le, c := range counts {
		s.Series["tableau_operator_signin_duration_seconds_bucket{le="+le+",result=succeeded}"] = c
	}
	return s
}

func TestQuantile(t *testing.T) {
	from := hist(map[string]float64{"0.1": 10, "0.5": 10, "+Inf": 10})
	to := hist(map[string]float64{"0.1": 14, "0.5": 18, "+Inf": 20})
	// Between the samples: 4 under 0.1 s, 4 in (0.1, 0.5], 2 above 0.5.
	for _, tc := range []struct{ q, want float64 }{
		{0.2, 0.05}, // rank 2 of the 4 in [0, 0.1]
		{0.6, 0.3},  // rank 6: 2 of the 4 in (0.1, 0.5]
		{0.99, 0.5}, // in +Inf: the last finite bound
	} {
		got, ok := quantile(tc.q, from, to)
		if !ok || got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("quantile(%v) = %v, %v; want %v", tc.q, got, ok, tc.want)
		}
	}
	if _, ok := quantile(0.5, to, to); ok {
		t.Error("a quantile of no observations")
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "m.jsonl")
	lines := []string{
		`{"t":0.25,"series":{"tableau_operator_connection_ready{name=a,namespace=t}":0,"tableau_operator_tableau_requests_total{code=200,endpoint=serverinfo}":1}}`,
		`{"t":0.3,"mark":"fixed"}`,
		`{"t":0.5,"series":{"tableau_operator_connection_ready{name=a,namespace=t}":1,"tableau_operator_tableau_requests_total{code=200,endpoint=serverinfo}":2}}`,
	}
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.png")
	if err := run(in, out); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("not a PNG: %v", err)
	}
	if err := os.WriteFile(in, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(in, out); err == nil || !strings.Contains(err.Error(), "m.jsonl:1") {
		t.Errorf("bad input: %v, want an error naming the line", err)
	}
}
