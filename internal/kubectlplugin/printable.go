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
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// printable makes text from status safe to print on a terminal. Status carries what Tableau
// and the network sent (bounded by the operator, not filtered): an escape sequence in it
// would retitle the window, move the cursor or hide lines. Control characters other than
// newline and tab are shown in caret notation (ESC is ^[), C1 controls and invalid UTF-8
// as U+FFFD; only the palette's own colours are escapes.
func printable(s string) string {
	clean := utf8.ValidString(s)
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + '@')
		case r == 0x7f:
			b.WriteString("^?")
		case unicode.IsControl(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r) // invalid bytes arrive here as utf8.RuneError already
		}
	}
	return b.String()
}

// scrub makes every settable string reachable from v printable, in place: a status, a fleet,
// a list of them. Render paths scrub a copy, never an object they write back.
func scrub(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scrub(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				scrub(f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			scrub(v.Index(i))
		}
	case reflect.Map:
		if v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			s := v.MapIndex(k).String()
			if p := printable(s); p != s {
				v.SetMapIndex(k, reflect.ValueOf(p).Convert(v.Type().Elem()))
			}
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(printable(v.String()))
		}
	}
}

// printable is a copy of the view whose every string is printable.
func (v connectionView) printable() connectionView {
	v.conn = v.conn.DeepCopy()
	scrub(reflect.ValueOf(v.conn))
	if v.consumer != nil {
		v.consumer = v.consumer.DeepCopy()
		scrub(reflect.ValueOf(v.consumer))
	}
	v.fleets = scrubbedFleets(v.fleets)
	return v
}

// printable is a copy of the view whose every string is printable.
func (v fleetView) printable() fleetView {
	v.fleet = v.fleet.DeepCopy()
	scrub(reflect.ValueOf(v.fleet))
	members := make([]v1.TableauConnection, len(v.members))
	for i := range v.members {
		v.members[i].DeepCopyInto(&members[i])
	}
	scrub(reflect.ValueOf(members))
	v.members = members
	return v
}

func scrubbedFleets(fleets []v1.TableauFleet) []v1.TableauFleet {
	if fleets == nil {
		return nil
	}
	out := make([]v1.TableauFleet, len(fleets))
	for i := range fleets {
		fleets[i].DeepCopyInto(&out[i])
	}
	scrub(reflect.ValueOf(out))
	return out
}

func scrubbedConnections(conns []v1.TableauConnection) []v1.TableauConnection {
	out := make([]v1.TableauConnection, len(conns))
	for i := range conns {
		conns[i].DeepCopyInto(&out[i])
	}
	scrub(reflect.ValueOf(out))
	return out
}
