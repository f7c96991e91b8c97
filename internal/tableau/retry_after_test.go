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

package tableau

import (
	"testing"
	"time"
)

// Retry-After is honoured up to an hour whatever its size: a number of seconds too large for
// a time.Duration (a broken proxy, a hostile endpoint) is the longest wait, never no wait.
func TestRetryAfterIsCappedNeverLost(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"120":                           2 * time.Minute,
		" 300 ":                         5 * time.Minute,
		"-5":                            0,
		"3600":                          time.Hour,
		"86400":                         time.Hour,
		"10000000000":                   time.Hour, // 317 years: overflows time.Duration when multiplied
		"9223372036854775807":           time.Hour,
		"99999999999999999999":          time.Hour, // beyond int64
		"Fri, 02 Jan 2026 03:09:05 GMT": 5 * time.Minute,
		"Thu, 01 Jan 2026 03:09:05 GMT": 0,
		"soon":                          0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
