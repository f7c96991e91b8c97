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

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// palette colours words on a terminal and leaves them plain everywhere else, so that piped
// output, logs and tests never carry escape sequences.
type palette struct{ on bool }

func (p palette) wrap(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) good(s string) string { return p.wrap("32", s) }
func (p palette) bad(s string) string  { return p.wrap("31", s) }
func (p palette) warn(s string) string { return p.wrap("33", s) }
func (p palette) bold(s string) string { return p.wrap("1", s) }

// status colours a condition status: for most conditions True is good, for the ones whose
// True means trouble (Stalled, Halted, RotationDue...) it is the other way round.
func (p palette) status(condType string, s metav1.ConditionStatus) string {
	troubleWhenTrue := map[string]bool{"Stalled": true, "Halted": true, "RotationDue": true, "SuspectedVendorIncident": true, "Reconciling": true}
	switch {
	case s == metav1.ConditionUnknown:
		return p.warn(string(s))
	case (s == metav1.ConditionTrue) != troubleWhenTrue[condType]:
		return p.good(string(s))
	case condType == "Reconciling":
		return p.warn(string(s))
	default:
		return p.bad(string(s))
	}
}
