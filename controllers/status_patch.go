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

package controllers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// statusPatch is the JSON merge patch of a connection's status alone: what changed between
// the status this reconcile started from and the one it writes, with a resourceVersion
// precondition when locked. client.MergeFrom diffs whole objects, so every status write
// marshalled and decoded the connection's metadata (a copy read back from a write carries
// its managed fields) and spec only to find them unchanged, and the status subresource
// ignores all but status anyway: that diff was most of what a rotated tenant allocated. Its
// status part is the one client.MergeFrom computed (TestStatusPatchMatchesAWholeObjectMergePatch).
type statusPatch struct {
	before *v1.TableauConnectionStatus
	// locked: the write carries resourceVersion, the version before was read at, as its
	// precondition.
	locked          bool
	resourceVersion string
}

func (p statusPatch) Type() types.PatchType { return types.MergePatchType }

func (p statusPatch) Data(obj client.Object) ([]byte, error) {
	conn, ok := obj.(*v1.TableauConnection)
	if !ok {
		return nil, fmt.Errorf("status patch of a %T, not a TableauConnection", obj)
	}
	diff, err := statusDiff(p.before, &conn.Status)
	if err != nil {
		return nil, err
	}
	patch := struct {
		Metadata *lockedMeta     `json:"metadata,omitempty"`
		Status   json.RawMessage `json:"status"`
	}{Status: diff}
	if p.locked {
		if p.resourceVersion == "" {
			return nil, fmt.Errorf("a locked status write of %s/%s without a resourceVersion", conn.Namespace, conn.Name)
		}
		patch.Metadata = &lockedMeta{ResourceVersion: p.resourceVersion}
	}
	return json.Marshal(patch)
}

type lockedMeta struct {
	ResourceVersion string `json:"resourceVersion"`
}

// statusDiff is the JSON merge patch (RFC 7386) that turns before into after, computed field
// by field so that only the fields that changed are marshalled: a field left out or emptied
// is null, a record (a JSON object) present on both sides is the merge patch between its two
// versions, anything else (a list, a string, a number, a time) is its new value. Most writes
// change two or three of the status's fields, and the rest (history, credentials, the call
// gate) cost nothing.
func statusDiff(before, after *v1.TableauConnectionStatus) ([]byte, error) {
	b, a := reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem()
	out := []byte{'{'}
	for i, f := range statusFields() {
		bv, av := b.Field(i), a.Field(i)
		// reflect.DeepEqual, unlike equality.Semantic, calls no comparison function through
		// reflection (which boxed every value it compared); a nil list and an empty one are
		// both left out of the JSON, so they are the same here.
		if f.name == "" || f.omitEmpty && omitted(bv) && omitted(av) || reflect.DeepEqual(bv.Interface(), av.Interface()) {
			continue
		}
		if f.omitEmpty && omitted(av) {
			out = appendField(out, f, []byte("null"))
			continue
		}
		bj, err := json.Marshal(bv.Interface())
		if err != nil {
			return nil, fmt.Errorf("status.%s: %w", f.name, err)
		}
		aj, err := json.Marshal(av.Interface())
		if err != nil {
			return nil, fmt.Errorf("status.%s: %w", f.name, err)
		}
		if bytes.Equal(bj, aj) {
			// Different in memory, the same on the wire: a time in another location or
			// with a monotonic reading. Sent, a list (conditions, history) would go whole
			// and replace what another writer added on the server since before was read.
			continue
		}
		value := aj
		if f.record && !(f.omitEmpty && omitted(bv)) {
			if value, err = jsonpatch.CreateMergePatch(bj, aj); err != nil {
				return nil, fmt.Errorf("status.%s: %w", f.name, err)
			}
		}
		out = appendField(out, f, value)
	}
	return append(out, '}'), nil
}

func appendField(out []byte, f statusField, value []byte) []byte {
	if len(out) > 1 {
		out = append(out, ',')
	}
	return append(append(append(out, f.key...), ':'), value...)
}

// omitted tells whether encoding/json leaves v out under omitempty.
func omitted(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Struct:
		return false
	default:
		return v.IsZero()
	}
}

// statusField is how encoding/json writes one field of TableauConnectionStatus.
type statusField struct {
	name      string // "" when json skips it
	key       []byte // name as a JSON string
	omitEmpty bool
	// options is the tag's options beyond the name: statusDiff knows "omitempty" only, and a
	// test keeps every field at exactly that.
	options string
	// record: it is written as a JSON object that a merge patch merges into (a struct or a
	// pointer to one, without a marshaller of its own), not replaced whole.
	record bool
}

var statusFields = sync.OnceValue(func() []statusField {
	t := reflect.TypeFor[v1.TableauConnectionStatus]()
	marshaler := reflect.TypeFor[json.Marshaler]()
	out := make([]statusField, t.NumField())
	for i := range out {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() || f.Anonymous {
			continue // the status type has no such fields; a test keeps it so
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		key, err := json.Marshal(name)
		if err != nil {
			panic(err) // a string always marshals
		}
		out[i] = statusField{
			name:      name,
			key:       key,
			omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty"),
			options:   opts,
			record: ft.Kind() == reflect.Struct && !f.Type.Implements(marshaler) &&
				!reflect.PointerTo(ft).Implements(marshaler),
		}
	}
	return out
})
