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

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/tableau-operator/tableau-operator/internal/bound"
)

// stamp is an absolute UTC time with how long ago (or how far ahead) it is.
func stamp(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	rel := duration.HumanDuration(nonNegative(d)) + " ago"
	if d < 0 {
		rel = "in " + duration.HumanDuration(-d)
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(nonNegative(now.Sub(t)))
}

func nonNegative(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// truncate is s on one printable line of at most n bytes, cut at a rune boundary with
// bound.Marker inside the n. It stays a helper of its own because every line that prints a
// message calls it, and oneLine must come before the cut so the cut counts what is printed.
func truncate(s string, n int) string {
	return bound.Text(oneLine(s), n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

func httpStatus(code int32) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprint(code)
}
