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

package kubectlplugin

import "fmt"

// progress shows one line that changes while a command waits: rewritten in place on a
// terminal, printed once per change elsewhere (a log keeps every step, no carriage returns).
type progress struct {
	streams Streams
	last    string
	drawn   bool
}

func newProgress(s Streams) *progress { return &progress{streams: s} }

func (p *progress) show(line string) {
	if p.streams.ErrTTY {
		fmt.Fprintf(p.streams.Err, "\r\x1b[K%s", line)
		p.drawn = true
		return
	}
	// Off a terminal the seconds counter would make every poll a new line: compare without it.
	key := trimCounter(line)
	if key == p.last {
		return
	}
	p.last = key
	fmt.Fprintln(p.streams.Err, line)
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.streams.Err)
		p.drawn = false
	}
}

// trimCounter drops the trailing " <n>s" of a progress line.
func trimCounter(line string) string {
	for i := len(line) - 1; i >= 0; i-- {
		if line[i] == ' ' {
			return line[:i]
		}
	}
	return line
}
