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

package optest

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// recordEnv names a file to which TestMetricsFollowAConnection writes what the operator's
// registry showed every 250 ms, one JSON object a line, with marks where the test moved on.
// hack/tools/dashboard-png draws config/grafana/rotation-wave.png from it.
const recordEnv = "TABLEAU_OPERATOR_RECORD_METRICS"

// sample is one scrape (see scrape) with its time in seconds since the start, or a mark.
type sample struct {
	T      float64            `json:"t"`
	Mark   string             `json:"mark,omitempty"`
	Series map[string]float64 `json:"series,omitempty"`
}

type Recorder struct {
	mu    sync.Mutex
	enc   *json.Encoder
	f     *os.File
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

// StartRecording records the registry while the test runs when recordEnv is set; otherwise it
// records nothing.
func StartRecording(t *testing.T, ns string) *Recorder {
	t.Helper()
	path := os.Getenv(recordEnv)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &Recorder{enc: json.NewEncoder(f), f: f, start: time.Now(), done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-tick.C:
				if got, err := Scrape(ns, true); err == nil {
					r.write(sample{T: time.Since(r.start).Seconds(), Series: got})
				}
			}
		}
	}()
	t.Cleanup(r.Stop)
	return r
}

func (r *Recorder) write(s sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.enc.Encode(s)
}

// Mark notes on the recording that the test moved on to what.
func (r *Recorder) Mark(what string) {
	if r != nil {
		r.write(sample{T: time.Since(r.start).Seconds(), Mark: what})
	}
}

// Hold keeps a stage on the recording for a while, so that the picture shows it; it waits only
// while recording.
func (r *Recorder) Hold(d time.Duration) {
	if r != nil {
		time.Sleep(d)
	}
}

// Stop ends the recording; the test's cleanup also calls it.
func (r *Recorder) Stop() {
	if r == nil {
		return
	}
	select {
	case <-r.done:
		return
	default:
	}
	close(r.done)
	r.wg.Wait()
	_ = r.f.Close()
}

// Scrape returns the series of the operator's metrics whose namespace label is ns (and with
// global, those without one), keyed metric{label=value,...} without the namespace label; a
// histogram as its _bucket, _sum and _count series.
func Scrape(ns string, global bool) (map[string]float64, error) {
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "tableau_operator_") {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			var labels []string
			inNS := false
			for _, l := range m.GetLabel() {
				if l.GetName() == "namespace" {
					if l.GetValue() != ns {
						continue series
					}
					inNS = true
					continue
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if !inNS && !global {
				continue
			}
			key := func(name string, extra ...string) string {
				return name + "{" + strings.Join(append(append([]string(nil), labels...), extra...), ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key(f.GetName())] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key(f.GetName())] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					out[key(f.GetName()+"_bucket", "le="+strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))] = float64(b.GetCumulativeCount())
				}
				out[key(f.GetName()+"_bucket", "le=+Inf")] = float64(h.GetSampleCount())
				out[key(f.GetName()+"_count")] = float64(h.GetSampleCount())
				out[key(f.GetName()+"_sum")] = h.GetSampleSum()
			}
		}
	}
	return out, nil
}
