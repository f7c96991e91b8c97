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

package tableausim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	testClient = "c0ffee00-0000-4000-8000-000000000001"
	testKid    = "5ec2e700-0000-4000-8000-000000000002"
	testValue  = "c2ltdWxhdG9yLXNlY3JldA=="
)

// signJWT builds an HS256 token by hand: the simulator's tests use neither the client nor a JWT
// library, so both sides of the wire are checked independently.
func signJWT(header, claims map[string]any, key string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func newAppSim(t *testing.T) (*Simulator, *ManualClock) {
	s, clock := newSim(t)
	if err := s.AddConnectedApp("acme", ConnectedApp{ClientID: testClient, Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddConnectedAppSecret("acme", testClient, testKid, testValue); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("acme", "ana", "Viewer"); err != nil {
		t.Fatal(err)
	}
	return s, clock
}

func TestVerifyJWT(t *testing.T) {
	good := func(now time.Time) (map[string]any, map[string]any) {
		return map[string]any{"alg": "HS256", "typ": "JWT", "kid": testKid, "iss": testClient},
			map[string]any{"iss": testClient, "sub": "ana", "aud": "tableau", "exp": now.Add(5 * time.Minute).Unix(), "jti": "j-1", "scp": []string{"tableau:content:read"}}
	}
	cases := []struct {
		name    string
		edit    func(h, c map[string]any)
		key     string
		raw     string
		wantSub int
	}{
		{"valid", nil, testValue, "", 0},
		{"aud as an array holding tableau", func(_, c map[string]any) { c["aud"] = []string{"other", "tableau"} }, testValue, "", 0},
		{"wildcard scope", func(_, c map[string]any) { c["scp"] = []string{"tableau:users:*"} }, testValue, "", 0},
		{"not a JWT", nil, "", "abc.def", SubCodeJWTParseError},
		{"payload not JSON", nil, "", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", SubCodeJWTParseError},
		{"alg none", func(h, _ map[string]any) { h["alg"] = "none" }, testValue, "", SubCodeBadJWT},
		{"no kid", func(h, _ map[string]any) { delete(h, "kid") }, testValue, "", SubCodeBadJWT},
		{"header iss differs", func(h, _ map[string]any) { h["iss"] = "someone-else" }, testValue, "", SubCodeAppNotFound},
		{"wrong kid", func(h, _ map[string]any) { h["kid"] = "nope" }, testValue, "", SubCodeSecretNotFound},
		{"wrong key", nil, "another-secret", "", SubCodeSecretNotFound},
		{"wrong aud", func(_, c map[string]any) { c["aud"] = "tableau-server" }, testValue, "", SubCodeLoginFailed},
		{"no exp", func(_, c map[string]any) { delete(c, "exp") }, testValue, "", SubCodeLoginFailed},
		{"no jti", func(_, c map[string]any) { delete(c, "jti") }, testValue, "", SubCodeLoginFailed},
		{"unknown user (case-sensitive)", func(_, c map[string]any) { c["sub"] = "Ana" }, testValue, "", SubCodeUserNotFound},
		{"scp not a list", func(_, c map[string]any) { c["scp"] = "tableau:content:read" }, testValue, "", SubCodeJWTParseError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newAppSim(t)
			h, c := good(clock.Now())
			if tc.edit != nil {
				tc.edit(h, c)
			}
			token := tc.raw
			if token == "" {
				token = signJWT(h, c, tc.key)
			}
			_, _, _, rej := verifyJWT(s.sites["acme"], token, clock.Now())
			switch {
			case tc.wantSub == 0 && rej != nil:
				t.Fatalf("refused: %+v", rej)
			case tc.wantSub != 0 && (rej == nil || rej.subCode != tc.wantSub):
				t.Fatalf("got %+v, want sub-code %d", rej, tc.wantSub)
			}
		})
	}

	t.Run("exp window and jti reuse", func(t *testing.T) {
		s, clock := newAppSim(t)
		st := s.sites["acme"]
		h, c := good(clock.Now())
		token := signJWT(h, c, testValue)
		if _, _, _, rej := verifyJWT(st, token, clock.Now()); rej != nil {
			t.Fatal(rej)
		}
		if _, _, _, rej := verifyJWT(st, token, clock.Now()); rej == nil || rej.subCode != SubCodeLoginFailed {
			t.Fatalf("a replayed jti: %+v", rej)
		}
		clock.Advance(5 * time.Minute)
		if _, _, _, rej := verifyJWT(st, token, clock.Now()); rej == nil || !strings.Contains(rej.why, "expired") {
			t.Fatalf("at exp: %+v, want expired", rej)
		}
		h, c = good(clock.Now())
		c["exp"], c["jti"] = clock.Now().Add(10*time.Minute).Unix(), "j-2"
		if _, _, _, rej := verifyJWT(st, signJWT(h, c, testValue), clock.Now()); rej != nil {
			t.Fatalf("exp exactly 10 minutes away is allowed: %+v", rej)
		}
		c["exp"], c["jti"] = clock.Now().Add(10*time.Minute+time.Second).Unix(), "j-3"
		if _, _, _, rej := verifyJWT(st, signJWT(h, c, testValue), clock.Now()); rej == nil || rej.subCode != SubCodeExpiryExceedsMax {
			t.Fatalf("exp beyond 10 minutes: %+v", rej)
		}
		if len(st.apps[testClient].seenJTIs) != 1 {
			t.Errorf("expired jtis are not forgotten: %v", st.apps[testClient].seenJTIs)
		}
	})

	t.Run("disabled app", func(t *testing.T) {
		s, clock := newAppSim(t)
		s.sites["acme"].apps[testClient].Disabled = true
		h, c := good(clock.Now())
		if _, _, _, rej := verifyJWT(s.sites["acme"], signJWT(h, c, testValue), clock.Now()); rej == nil || rej.subCode != SubCodeAppNotFound {
			t.Fatalf("got %+v", rej)
		}
	})
}

var tokenRE = regexp.MustCompile(`token="([^"]+)"`)

func signInRaw(t *testing.T, s *Simulator, body string) string {
	t.Helper()
	res, out := do(t, s, "POST", "/api/3.24/auth/signin", "", "application/xml", body)
	m := tokenRE.FindStringSubmatch(out)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("sign-in: %d %s", res.StatusCode, out)
	}
	return m[1]
}

func TestConnectedAppSecretWire(t *testing.T) {
	s, clock := newAppSim(t)
	siteID := s.sites["acme"].id
	admin := signInRaw(t, s, `<tsRequest><credentials personalAccessTokenName="tok" personalAccessTokenSecret="sec"><site contentUrl="acme"/></credentials></tsRequest>`)
	base := "/api/3.24/sites/" + siteID + "/connected-apps/direct-trust/" + testClient

	res, body := do(t, s, "POST", base+"/secrets", "", "", "", "X-Tableau-Auth", admin)
	created := regexp.MustCompile(`<connectedApplicationSecret id="([^"]+)" value="([^"]+)" createdAt="2026-01-01T00:00:00Z"/>`).FindStringSubmatch(body)
	if res.StatusCode != 201 || created == nil {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	res, body = do(t, s, "GET", base+"/secrets/"+created[1], "application/json", "", "", "X-Tableau-Auth", admin)
	if res.StatusCode != 200 || strings.Contains(body, created[2]) || !strings.Contains(body, `"id":"`+created[1]+`"`) {
		t.Errorf("get must not show the value: %d %s", res.StatusCode, body)
	}
	res, body = do(t, s, "GET", base, "", "", "", "X-Tableau-Auth", admin)
	if res.StatusCode != 200 || strings.Count(body, "<secret id=") != 2 || strings.Contains(body, "value=") {
		t.Errorf("get app: %d %s", res.StatusCode, body)
	}
	res, body = do(t, s, "POST", base+"/secrets", "application/json", "", "", "X-Tableau-Auth", admin)
	if res.StatusCode != 400 || !strings.Contains(body, "(128)") {
		t.Errorf("a third secret: %d %s, want 400 with (128)", res.StatusCode, body)
	}
	res, _ = do(t, s, "DELETE", base+"/secrets/"+testKid, "", "", "", "X-Tableau-Auth", admin)
	if ids, _ := s.ConnectedAppSecretIDs("acme", testClient); res.StatusCode != 204 || fmt.Sprint(ids) != "["+created[1]+"]" {
		t.Errorf("delete: %d, secrets left %v", res.StatusCode, ids)
	}
	res, body = do(t, s, "GET", "/api/3.16/sites/"+siteID+"/connected-apps/direct-trust/"+testClient, "", "", "", "X-Tableau-Auth", admin)
	if res.StatusCode != 404 || !strings.Contains(body, "404003") {
		t.Errorf("before 3.17: %d %s", res.StatusCode, body)
	}

	// A JWT session, signed with the new secret, may not manage secrets; it does not end the admin's session.
	claims := map[string]any{"iss": testClient, "sub": "ana", "aud": "tableau", "exp": clock.Now().Add(time.Minute).Unix(), "jti": "x", "scp": []string{"tableau:content:read"}}
	jwtTok := signInRaw(t, s, `<tsRequest><credentials jwt="`+signJWT(map[string]any{"alg": "HS256", "kid": created[1]}, claims, created[2])+`"><site contentUrl="acme"/></credentials></tsRequest>`)
	if res, body = do(t, s, "POST", base+"/secrets", "", "", "", "X-Tableau-Auth", jwtTok); res.StatusCode != 401 || !strings.Contains(body, "401002") {
		t.Errorf("a JWT session creating a secret: %d %s", res.StatusCode, body)
	}
	if res, _ = do(t, s, "GET", "/api/3.24/sessions/current", "", "", "", "X-Tableau-Auth", admin); res.StatusCode != 200 {
		t.Errorf("the admin's session ended after a JWT sign-in: %d", res.StatusCode)
	}
	if res, _ = do(t, s, "GET", base, "", "", "", "X-Tableau-Auth", admin); res.StatusCode != 200 {
		t.Errorf("admin after JWT: %d", res.StatusCode)
	}
}

func TestListPATsWire(t *testing.T) {
	s, clock := newSim(t)
	if err := s.AddPAT("acme", PAT{Name: "second", Secret: "s2", User: "tok"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPAT("acme", PAT{Name: "gone", Secret: "s3", User: "tok"}); err != nil {
		t.Fatal(err)
	}
	_ = s.RevokePAT("acme", "gone")
	clock.Advance(time.Hour)
	admin := signInRaw(t, s, `<tsRequest><credentials personalAccessTokenName="tok" personalAccessTokenSecret="sec"><site contentUrl="acme"/></credentials></tsRequest>`)
	uid, _ := s.UserID("acme", "tok")
	path := "/api/3.24/sites/" + s.sites["acme"].id + "/users/" + uid + "/personal-access-tokens"
	res, body := do(t, s, "GET", path, "application/json", "", "", "X-Tableau-Auth", admin)
	if res.StatusCode != 200 || strings.Count(body, `"tokenName"`) != 2 || strings.Contains(body, "gone") ||
		!strings.Contains(body, `"expiresAt":"2026-01-03T01:30:00Z"`) || !strings.Contains(body, `"lastUsedAt":"2026-01-01T01:00:00Z"`) {
		t.Errorf("list: %d %s", res.StatusCode, body)
	}
	if strings.Contains(body, `"sec"`) || strings.Contains(body, "s2") {
		t.Errorf("list shows a PAT secret: %s", body)
	}
	if res, _ = do(t, s, "GET", strings.Replace(path, "/3.24/", "/3.20/", 1), "", "", "", "X-Tableau-Auth", admin); res.StatusCode != 404 {
		t.Errorf("before 3.21: %d", res.StatusCode)
	}
}
