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

// Package bound cuts text to a length limit without splitting a character, so that what the
// operator copies from Tableau, the API server or a person's input into status, events, logs
// and terminal lines fits the field it goes to and stays valid UTF-8.
package bound

import (
	"strings"
	"unicode/utf8"
)

// Marker ends a string that was cut, so a reader knows there was more. It is one character
// (three bytes) and counts inside the limit: a CRD field's maxLength, checked by the API server
// in characters, is met whenever the bytes are.
const Marker = "…"

// Text is s in at most limit bytes, never splitting a rune. Invalid UTF-8 becomes "?" (one
// byte for each run of invalid bytes, so the replacement never lengthens s): the API server
// and JSON encoders reject or mangle it anyway. A cut string ends in Marker, within the limit;
// a limit too small to hold Marker cuts without one. A limit of zero or less gives "".
func Text(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if len(s) <= limit {
		return s
	}
	keep, marker := limit-len(Marker), Marker
	if keep < 0 {
		keep, marker = limit, ""
	}
	// s is valid UTF-8 and longer than keep, so s[keep] exists; step back to the start of
	// the rune it is part of.
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker
}
