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
	"fmt"
	"log/slog"
)

// redacted is what every textual form of a secret prints.
const redacted = "[redacted]"

// Secret holds a credential (a PAT secret, a session token). Every way of printing it,
// formatting it, marshalling it or logging it yields "[redacted]"; only Reveal gives the
// value, and only code that puts it on the wire, writes it into a consumer Secret or
// digests it into a revision calls Reveal.
type Secret struct{ value string }

// NewSecret wraps a credential value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the credential itself.
func (s Secret) Reveal() string { return s.value }

// Empty reports whether no value is held.
func (s Secret) Empty() bool { return s.value == "" }

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) MarshalYAML() (any, error)    { return redacted, nil }
func (s Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }

// PersonalAccessToken is a Tableau PAT: its name (not secret) and its secret.
type PersonalAccessToken struct {
	Name   string
	Secret Secret
}
