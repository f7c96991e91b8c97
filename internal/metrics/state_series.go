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

package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// A scrape reports about 7 series per TableauConnection, so at 10,000 connections it builds
// 70,000, and the registry holds all of them until the scrape is written. With
// prometheus.MustNewConstMetric each had its own copy of every label pair (about 880 bytes a
// series with what the registry adds), and a restart, which Prometheus scrapes like any
// other moment, peaked far above the chart's memory limit. The series below share what
// repeats instead: one connection's namespace and name pairs across
// its series, and one pair per value of a bounded enum (type, status, bucket, phase) across
// all of them. The registry treats a metric's labels as immutable, so sharing is safe, and
// what a scrape serves is unchanged.

// gaugeSeries is one gauge sample whose label pairs are sorted by name, as a dto.Metric's are.
type gaugeSeries struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
}

func (g *gaugeSeries) Desc() *prometheus.Desc { return g.desc }

// Write shares the label pairs but not the value, so the series themselves can be collected
// while the registry still holds what they wrote.
func (g *gaugeSeries) Write(out *dto.Metric) error {
	out.Label = g.labels
	out.Gauge = &dto.Gauge{Value: proto.Float64(g.value)}
	return nil
}

// objectSeries builds the series of one object in two allocations. Its series must not
// outgrow the capacity it was made with: the pointers sent on the channel point into it.
type objectSeries struct {
	ch        chan<- prometheus.Metric
	namespace *dto.LabelPair
	name      *dto.LabelPair
	series    []gaugeSeries
	pairs     []*dto.LabelPair
}

// newObjectSeries makes room for the series of an object with conds, of which collectConditions
// reports at most one per known type, plus other series.
func newObjectSeries(ch chan<- prometheus.Metric, namespace, name string, conds, types, other int) *objectSeries {
	n := min(conds, types) + other
	return &objectSeries{
		ch:        ch,
		namespace: &dto.LabelPair{Name: proto.String("namespace"), Value: proto.String(namespace)},
		name:      &dto.LabelPair{Name: proto.String("name"), Value: proto.String(name)},
		series:    make([]gaugeSeries, 0, n),
		pairs:     make([]*dto.LabelPair, 0, 4*n),
	}
}

// send reports a series labelled namespace and name plus enum labels, given as name/value
// pairs in the order that sorts the whole set by label name: those before "name" first
// (bucket), then those after "namespace" (phase, status, type).
func (o *objectSeries) send(desc *prometheus.Desc, value float64, before []string, after ...string) {
	if len(o.series) == cap(o.series) {
		panic("metrics: more series for one object than it made room for") // a programming error
	}
	start := len(o.pairs)
	for i := 0; i+1 < len(before); i += 2 {
		o.pairs = append(o.pairs, enumPair(before[i], before[i+1]))
	}
	o.pairs = append(o.pairs, o.name, o.namespace)
	for i := 0; i+1 < len(after); i += 2 {
		o.pairs = append(o.pairs, enumPair(after[i], after[i+1]))
	}
	o.series = append(o.series, gaugeSeries{desc: desc, labels: o.pairs[start:len(o.pairs):len(o.pairs)], value: value})
	o.ch <- &o.series[len(o.series)-1]
}

// enumPairs holds one label pair per label name and value of a bounded enum; the callers
// map anything outside an enum to Other, so it stays small.
var enumPairs = struct {
	sync.RWMutex
	m map[[2]string]*dto.LabelPair
}{m: map[[2]string]*dto.LabelPair{}}

func enumPair(name, value string) *dto.LabelPair {
	key := [2]string{name, value}
	enumPairs.RLock()
	p, ok := enumPairs.m[key]
	enumPairs.RUnlock()
	if ok {
		return p
	}
	enumPairs.Lock()
	defer enumPairs.Unlock()
	if p, ok := enumPairs.m[key]; ok {
		return p
	}
	p = &dto.LabelPair{Name: proto.String(name), Value: proto.String(value)}
	enumPairs.m[key] = p
	return p
}
