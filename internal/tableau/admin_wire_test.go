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
	"testing"
)

// The JSON shapes the simulator does not write: one secret as an object instead of an array,
// and personalAccessTokens wrapping personalAccessToken.
func TestAdminWireShapes(t *testing.T) {
	secrets := []struct{ name, body, want string }{
		{"XML, two secrets", `<tsResponse xmlns="http://tableau.com/api"><connectedApplication clientId="c"><secret id="a" createdAt="2026-01-01T00:00:00Z"/><secret id="b"/></connectedApplication></tsResponse>`, "[a b]"},
		{"JSON array", `{"connectedApplication":{"clientId":"c","secret":[{"id":"a"},{"id":"b"}]}}`, "[a b]"},
		{"JSON one object", `{"connectedApplication":{"clientId":"c","secret":{"id":"a"}}}`, "[a]"},
		{"JSON no secret", `{"connectedApplication":{"clientId":"c"}}`, "[]"},
	}
	for _, tc := range secrets {
		d := decodeBody("", []byte(tc.body), false)
		ws, err := d.connectedAppSecrets()
		ids := []string{}
		for _, w := range ws {
			ids = append(ids, w.ID)
		}
		if err != nil || fmt.Sprint(ids) != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.name, ids, err, tc.want)
		}
	}
	pats := []struct{ name, body, want string }{
		{"JSON array", `{"personalAccessTokens":[{"tokenName":"a","expiresAt":"2026-05-01T00:00:00Z"}]}`, "[a]"},
		{"JSON wrapped array", `{"personalAccessTokens":{"personalAccessToken":[{"tokenName":"a"},{"tokenName":"b"}]}}`, "[a b]"},
		{"JSON wrapped object", `{"personalAccessTokens":{"personalAccessToken":{"tokenName":"a"}}}`, "[a]"},
		{"XML", `<tsResponse><personalAccessTokens><personalAccessToken tokenName="a" tokenGuid="g"/></personalAccessTokens></tsResponse>`, "[a]"},
	}
	for _, tc := range pats {
		d := decodeBody("", []byte(tc.body), false)
		ws, err := d.personalAccessTokens()
		names := []string{}
		for _, w := range ws {
			names = append(names, w.Name)
		}
		if err != nil || fmt.Sprint(names) != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.name, names, err, tc.want)
		}
	}
	if _, err := decodeBody("", []byte(`{"credentials":{"token":"t"}}`), false).connectedAppSecret(); err == nil {
		t.Error("a body without connectedApplicationSecret must not decode as one")
	}
	if got := parseTime("2026-05-01T10:00:00+02:00"); got.Hour() != 8 {
		t.Errorf("parseTime = %v, want UTC", got)
	}
	if !parseTime("yesterday").IsZero() {
		t.Error("an unreadable time must be zero")
	}
}
