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

// Command dashboard-png draws the key panels of the Grafana dashboard (config/grafana) from
// the operator's metrics as TestMetricsFollowAConnection recorded them (one JSON object a line,
// see internal/testenv/optest/metrics_recording.go), with the same queries the panels run:
//
//	go run . -in /tmp/metrics.jsonl -out ../../../config/grafana/rotation-wave.png
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type sample struct {
	T      float64            `json:"t"`
	Mark   string             `json:"mark,omitempty"`
	Series map[string]float64 `json:"series,omitempty"`
}

type mark struct {
	t    float64
	what string
}

func main() {
	in := flag.String("in", "", "the recorded metrics (JSON lines)")
	out := flag.String("out", "rotation-wave.png", "the PNG to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard-png:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return errors.New("-in is required")
	}
	samples, marks, err := read(in)
	if err != nil {
		return err
	}
	if len(samples) < 2 {
		return fmt.Errorf("%s holds %d samples; record a run first", in, len(samples))
	}
	panels := []*plot.Plot{overview(samples), rotations(samples), latency(samples), answers(samples)}
	for _, p := range panels {
		p.X.Label.Text = "seconds"
		p.X.Min = 0
		p.Legend.Top = true
		p.Legend.Left = true
		addMarks(p, marks)
	}
	const rows, cols = 2, 2
	img := vgimg.New(32*vg.Centimeter, 20*vg.Centimeter)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Millimeter * 4, PadBottom: vg.Millimeter * 4, PadLeft: vg.Millimeter * 4, PadRight: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{panels[0], panels[1]}, {panels[2], panels[3]}}, tiles, dc)
	for r := range rows {
		for c := range cols {
			panels[r*cols+c].Draw(canvases[r][c])
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func read(path string) ([]sample, []mark, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = f.Close() }()
	var samples []sample
	var marks []mark
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if s.Mark != "" {
			marks = append(marks, mark{s.T, s.Mark})
			continue
		}
		samples = append(samples, s)
	}
	return samples, marks, sc.Err()
}

// parseKey splits metric{a=b,c=d}.
func parseKey(k string) (string, map[string]string) {
	name, rest, _ := strings.Cut(k, "{")
	labels := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		if a, b, ok := strings.Cut(kv, "="); ok {
			labels[a] = b
		}
	}
	return name, labels
}

// sumWhere adds the values of a sample's series of metric whose labels match; count counts them.
func sumWhere(s sample, metric string, match map[string]string) (sum float64, count int) {
	for k, v := range s.Series {
		name, labels := parseKey(k)
		if name != metric {
			continue
		}
		ok := true
		for a, b := range match {
			if !slices.Contains(strings.Split(b, "|"), labels[a]) {
				ok = false
			}
		}
		if ok {
			sum += v
			count++
		}
	}
	return sum, count
}

var palette = []color.Color{
	color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}, color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff},
	color.RGBA{R: 0x15, G: 0x65, B: 0xc0, A: 0xff}, color.RGBA{R: 0xef, G: 0x6c, B: 0x00, A: 0xff},
	color.RGBA{R: 0x6a, G: 0x1b, B: 0x9a, A: 0xff}, color.RGBA{R: 0x00, G: 0x83, B: 0x8f, A: 0xff},
}

func addLine(p *plot.Plot, i int, name string, xys plotter.XYs) {
	if len(xys) == 0 {
		return
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return
	}
	l.Color = palette[i%len(palette)]
	// Earlier lines are wider, so that a line drawn over another of the same value leaves it seen.
	l.Width = vg.Points(max(3.5-float64(i), 1))
	p.Add(l)
	p.Legend.Add(name, l)
}

func series(samples []sample, f func(sample) (float64, bool)) plotter.XYs {
	var xys plotter.XYs
	for _, s := range samples {
		if v, ok := f(s); ok {
			xys = append(xys, plotter.XY{X: s.T, Y: v})
		}
	}
	return xys
}

// sinceStart is a counter's sum over the matching series, less its value at the first sample:
// what increase() over the recording shows.
func sinceStart(samples []sample, metric string, match map[string]string) plotter.XYs {
	base, _ := sumWhere(samples[0], metric, match)
	return series(samples, func(s sample) (float64, bool) {
		v, _ := sumWhere(s, metric, match)
		return v - base, true
	})
}

// total is the sum of the matching series at every sample: what sum() shows.
func total(samples []sample, metric string, match map[string]string) plotter.XYs {
	return series(samples, func(s sample) (float64, bool) {
		v, _ := sumWhere(s, metric, match)
		return v, true
	})
}

// number is how many series match at every sample: what count() shows.
func number(samples []sample, metric string, match map[string]string) plotter.XYs {
	return series(samples, func(s sample) (float64, bool) {
		_, n := sumWhere(s, metric, match)
		return float64(n), true
	})
}

// overview is the dashboard's fleet overview: ready, failing (any bucket), rotating, halted.
func overview(samples []sample) *plot.Plot {
	p := plot.New()
	p.Title.Text = "Fleet overview"
	p.Y.Label.Text = "objects"
	addLine(p, 0, "ready", total(samples, "tableau_operator_connection_ready", nil))
	addLine(p, 1, "failing", number(samples, "tableau_operator_connection_failure_bucket", nil))
	addLine(p, 2, "rotating", number(samples, "tableau_operator_connection_rotation_phase",
		map[string]string{"phase": "Promoting|Restarting|Gating|Completing|RollingBack"}))
	addLine(p, 3, "halted fleets", total(samples, "tableau_operator_fleet_condition", map[string]string{"type": "Halted", "status": "True"}))
	p.Y.Min = 0
	return p
}

// rotations shows rotations by result and consumer restarts, counted from the first sample.
func rotations(samples []sample) *plot.Plot {
	p := plot.New()
	p.Title.Text = "Rotations by result, consumer restarts"
	p.Y.Label.Text = "since the start"
	i := 0
	for _, result := range []string{"completed", "rolled_back", "rejected"} {
		addLine(p, i, result, sinceStart(samples, "tableau_operator_rotations_total", map[string]string{"result": result}))
		i++
	}
	addLine(p, 3, "restarts", total(samples, "tableau_operator_consumer_restarts_total", nil))
	p.Y.Min = 0
	return p
}

// latency is histogram_quantile over the sign-ins of the last 10 seconds, as the dashboard's
// panel draws it, and their mean (sum over count): against the simulator every sign-in falls in
// the first bucket (under 50 ms), where the quantiles can only interpolate.
func latency(samples []sample) *plot.Plot {
	p := plot.New()
	p.Title.Text = "Sign-in latency (10 s window)"
	p.Y.Label.Text = "milliseconds"
	const window = 10.0
	for i, q := range []float64{0.5, 0.95, 0.99} {
		var xys plotter.XYs
		j := 0
		for _, s := range samples {
			for j < len(samples) && samples[j].T < s.T-window {
				j++
			}
			if v, ok := quantile(q, samples[j], s); ok {
				xys = append(xys, plotter.XY{X: s.T, Y: v * 1000})
			}
		}
		addLine(p, i, fmt.Sprintf("p%d", int(q*100)), xys)
	}
	var mean plotter.XYs
	j := 0
	for _, s := range samples {
		for j < len(samples) && samples[j].T < s.T-window {
			j++
		}
		sum, _ := sumWhere(s, "tableau_operator_signin_duration_seconds_sum", nil)
		n, _ := sumWhere(s, "tableau_operator_signin_duration_seconds_count", nil)
		sum0, _ := sumWhere(samples[j], "tableau_operator_signin_duration_seconds_sum", nil)
		n0, _ := sumWhere(samples[j], "tableau_operator_signin_duration_seconds_count", nil)
		if n > n0 {
			mean = append(mean, plotter.XY{X: s.T, Y: (sum - sum0) / (n - n0) * 1000})
		}
	}
	addLine(p, 3, "mean", mean)
	p.Y.Min = 0
	return p
}

// quantile interpolates within the bucket that holds the q-quantile of the observations
// between two samples, as Prometheus's histogram_quantile does.
func quantile(q float64, from, to sample) (float64, bool) {
	type bucket struct{ le, count float64 }
	var buckets []bucket
	for k, v := range to.Series {
		name, labels := parseKey(k)
		if name != "tableau_operator_signin_duration_seconds_bucket" {
			continue
		}
		le, err := strconv.ParseFloat(labels["le"], 64)
		if err != nil {
			continue
		}
		buckets = append(buckets, bucket{le, v - from.Series[k]})
	}
	// Sum over results per le.
	sort.Slice(buckets, func(a, b int) bool { return buckets[a].le < buckets[b].le })
	var merged []bucket
	for _, b := range buckets {
		if n := len(merged); n > 0 && merged[n-1].le == b.le {
			merged[n-1].count += b.count
			continue
		}
		merged = append(merged, b)
	}
	if len(merged) == 0 || merged[len(merged)-1].count <= 0 {
		return 0, false
	}
	rank := q * merged[len(merged)-1].count
	lower, below := 0.0, 0.0
	for _, b := range merged {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return lower, true
			}
			if b.count == below {
				return b.le, true
			}
			return lower + (b.le-lower)*(rank-below)/(b.count-below), true
		}
		lower, below = b.le, b.count
	}
	return lower, true
}

// answers is Tableau's answers by code, counted from the first sample.
func answers(samples []sample) *plot.Plot {
	p := plot.New()
	p.Title.Text = "Tableau answers by code"
	p.Y.Label.Text = "calls since the start"
	codes := map[string]bool{}
	for _, s := range samples {
		for k := range s.Series {
			if name, labels := parseKey(k); name == "tableau_operator_tableau_requests_total" {
				codes[labels["code"]] = true
			}
		}
	}
	var sorted []string
	for c := range codes {
		sorted = append(sorted, c)
	}
	sort.Strings(sorted)
	for i, code := range sorted {
		addLine(p, i, code, sinceStart(samples, "tableau_operator_tableau_requests_total", map[string]string{"code": code}))
	}
	p.Y.Min = 0
	return p
}

// addMarks draws a dashed vertical line with a label where the test moved to a new stage.
func addMarks(p *plot.Plot, marks []mark) {
	p.Y.Max = math.Max(p.Y.Max, 1) * 1.15
	for _, m := range marks {
		l, err := plotter.NewLine(plotter.XYs{{X: m.t, Y: p.Y.Min}, {X: m.t, Y: p.Y.Max}})
		if err != nil {
			continue
		}
		l.Color = color.Gray{Y: 0x90}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(l)
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: m.t, Y: p.Y.Max * 0.93}}, Labels: []string{" " + m.what}})
		if err == nil {
			p.Add(labels)
		}
	}
}
