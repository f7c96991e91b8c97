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

package memlimit

// The operator's memory by the number of TableauConnections it watches, from `make bench`
// on a 2-core machine at 1,000 and 10,000 connections under the chart's default limit, with
// a margin (README "Benchmark"). The bench fails above them; the chart's defaults are held
// to fit 10,000 connections by them; the README states them.
const (
	// PeakRSSBase and PeakRSSPerConnection bound the peak RSS of a start or a restart.
	PeakRSSBase          = 80 << 20
	PeakRSSPerConnection = 11 << 10
	// PeakRSSPerConsumer is what a connection with spec.consumers adds to a start's peak:
	// its consumer Secret's metadata and its restart target (stripped) in the cache, its
	// first delivery's writes and Events in flight, its rotation's metric series. The
	// rotation act of make bench, 1,000 fleet members with a consumer Secret and a Deployment
	// each, peaked at 88 to 94 MiB against 68 MiB for 1,000 connections without (heap in use
	// at Ready 34 to 40 MiB against 16 MiB).
	PeakRSSPerConsumer = 16 << 10
	// SteadyHeapBase and SteadyHeapPerConnection bound the heap in use in steady state.
	SteadyHeapBase          = 20 << 20
	SteadyHeapPerConnection = 8 << 10
)

// PeakRSS is the most a start or restart with connections TableauConnections may use.
func PeakRSS(connections int) int64 {
	return PeakRSSBase + int64(connections)*PeakRSSPerConnection
}

// PeakRSSWithConsumers is the most a start or restart may use with connections
// TableauConnections, consumers of which have spec.consumers.
func PeakRSSWithConsumers(connections, consumers int) int64 {
	return PeakRSS(connections) + int64(consumers)*PeakRSSPerConsumer
}

// SteadyHeap is the most heap in use in steady state with connections TableauConnections.
func SteadyHeap(connections int) int64 {
	return SteadyHeapBase + int64(connections)*SteadyHeapPerConnection
}
