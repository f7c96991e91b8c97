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
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeBody checks that no body, however broken, panics the decoder or yields a verdict
// outside the known kinds, and that evidence text stays bounded. CI runs the seeds here and
// under testdata/fuzz; `go test -fuzz FuzzDecodeBody ./internal/tableau` explores further.
func FuzzDecodeBody(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/xml", `<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns="http://tableau.com/api"><error code="401001"><summary>Signin Error</summary><detail>Error signing in to Tableau Server</detail></error></tsResponse>`},
		{"text/xml", `<tsResponse xmlns="http://tableausoftware.com/api"><credentials token="a|b"><site id="1" contentUrl=""/><user id="2"/></credentials></tsResponse>`},
		{"application/json", `{"error":{"summary":"Signin Error","detail":"Error signing in to Tableau Server","code":"401001"}}`},
		{"application/json", `{"status":401,"error":"Unauthorized","message":"Please log in at /login"}`},
		{"text/html", `<html><head><title>429 Too Many Requests</title></head></html>`},
		{"", `<tsResponse><serverInfo><productVersion build="x">2024.2</productVersion><restApiVersion>3.23</restApiVersion></serverInfo>`},
		{"application/xml", `<!DOCTYPE tsResponse [<!ENTITY a "aaaaaaaaaa">]><tsResponse>&a;&a;</tsResponse>`},
		{"application/json", `{"error":"x"}`},
		{"text/plain", "\xff\xfe\x00"},
		{"application/xml", `<tsResponse><connectedApplicationSecret id="s" value="v" createdAt="2026-01-01T00:00:00Z"/></tsResponse>`},
		{"application/json", `{"connectedApplication":{"clientId":"c","secret":[{"id":"a"},{"id":"b"}]}}`},
		{"application/json", `{"personalAccessTokens":{"personalAccessToken":{"tokenName":"a"}}}`},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body))
	}
	known := map[BodyKind]bool{BodyEmpty: true, BodyTableauXML: true, BodyTableauJSON: true, BodyHTML: true, BodyTSMJSON: true,
		BodyOtherJSON: true, BodyOtherXML: true, BodyMalformed: true, BodyTooLarge: true, BodyUnknown: true}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		d := decodeBody(contentType, body, false)
		if !known[d.kind] {
			t.Fatalf("unknown kind %q", d.kind)
		}
		for _, s := range []string{d.errSummary, d.errDetail} {
			if len(s) > 310 {
				t.Fatalf("evidence text of %d bytes is not bounded", len(s))
			}
		}
		if d.kind == BodyMalformed && d.cause == nil {
			t.Fatal("a malformed body must say why")
		}
		if d.kind.FromTableau() && !utf8.ValidString(d.errCode+d.errSummary+d.errDetail) {
			t.Fatal("Tableau evidence must be valid UTF-8")
		}
		// The admin decoders read any Tableau body without panicking, and their errors never
		// quote it (it may hold a secret value).
		_, err1 := d.connectedAppSecret()
		_, err2 := d.connectedAppSecrets()
		_, err3 := d.personalAccessTokens()
		_, err4 := d.user()
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil && len(body) > 8 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("a decoding error quotes the body: %v", err)
			}
		}
		again := decodeBody(contentType, body, false)
		if describeDecoded(again) != describeDecoded(d) {
			t.Fatal("decoding is not deterministic")
		}
	})
}
