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

package fleet

import "slices"

// OnlyStartedLeft reports whether the grants the fleet decided (d.Current) differ from those it
// persisted only by members that have since started to rotate, each of them before, in the
// wave's order, every member still queued without a grant and every failure that blocks. Such
// a grant ends with no effect on the wave: a rotating member holds its slot with or without
// it, and reads no grant until it is staged again, after it completed; the stale grant goes
// with the fleet's next write, at the latest when the member completes (its grant is then no
// longer one a rotating member holds). Written on its own, each member that started was one
// fleet status write, about one per rotated tenant. A member queued or failed before it makes
// the write needed: should the member complete and stage again before the fleet looks, the
// stale grant would let it overtake one the fleet saw waiting (found by the exploration).
func OnlyStartedLeft(persisted []string, d Decision) bool {
	for _, name := range d.Current {
		if !slices.Contains(persisted, name) {
			return false
		}
	}
	first := ""
	for _, name := range d.Queued {
		if !slices.Contains(d.Current, name) {
			first = name
			break
		}
	}
	for _, name := range d.Blocking {
		if first == "" || name < first {
			first = name
		}
	}
	for _, name := range persisted {
		if slices.Contains(d.Current, name) {
			continue
		}
		if !slices.Contains(d.Rotating, name) || (first != "" && name > first) {
			return false
		}
	}
	return true
}
