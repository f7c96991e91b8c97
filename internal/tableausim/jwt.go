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
	"strings"
	"time"
)

// The simulator's own JWT verification, written from the JWT spec (RFC 7519, HS256 from RFC
// 7518) and Tableau's direct-trust rules, with crypto/hmac: it shares nothing with the client's
// JWT library, so a token the client mints wrongly is caught here.
//
// Which sub-code each failure gets: the reference lists the sub-codes but not, for every
// check, which one Tableau uses. The choices below follow the sub-codes' names; where no name
// fits (a wrong aud, a reused jti, an expired token) the simulator answers 16 LOGIN_FAILED, the
// generic code, which is also what Tableau reports for an exp beyond the maximum.

// jwtRejection is a refused JWT: the sub-code the answer carries and why (for tests).
type jwtRejection struct {
	subCode int
	why     string
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Iss string `json:"iss"`
}

type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
	Jti string          `json:"jti"`
	Scp json.RawMessage `json:"scp"`
}

// verifyJWT checks a direct-trust JWT for site st at now. On success it records the jti and
// returns the app, the user and the scopes.
func verifyJWT(st *site, token string, now time.Time) (*connectedApp, *user, []string, *jwtRejection) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, nil, &jwtRejection{SubCodeJWTParseError, "not three dot-separated parts"}
	}
	var h jwtHeader
	var c jwtClaims
	if !decodeSegment(parts[0], &h) || !decodeSegment(parts[1], &c) {
		return nil, nil, nil, &jwtRejection{SubCodeJWTParseError, "a segment is not base64url JSON"}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, nil, nil, &jwtRejection{SubCodeJWTParseError, "the signature is not base64url"}
	}
	if h.Alg != "HS256" || h.Kid == "" {
		return nil, nil, nil, &jwtRejection{SubCodeBadJWT, "header alg is not HS256 or kid is missing"}
	}
	app, ok := st.apps[c.Iss]
	if !ok || app.Disabled || (h.Iss != "" && h.Iss != c.Iss) {
		return nil, nil, nil, &jwtRejection{SubCodeAppNotFound, "iss names no enabled connected app of the site"}
	}
	secret := app.secret(h.Kid)
	if secret == nil {
		return nil, nil, nil, &jwtRejection{SubCodeSecretNotFound, "kid names no secret of the app"}
	}
	mac := hmac.New(sha256.New, []byte(secret.value))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		// The reference lists 127 for "wrong kid or secret".
		return nil, nil, nil, &jwtRejection{SubCodeSecretNotFound, "the signature does not match the secret"}
	}
	if !audienceIsTableau(c.Aud) {
		return nil, nil, nil, &jwtRejection{SubCodeLoginFailed, `aud is not "tableau"`}
	}
	if c.Exp == nil {
		return nil, nil, nil, &jwtRejection{SubCodeLoginFailed, "exp is missing"}
	}
	expSecs, err := c.Exp.Float64()
	if err != nil {
		return nil, nil, nil, &jwtRejection{SubCodeJWTParseError, "exp is not a number"}
	}
	exp := time.Unix(int64(expSecs), 0)
	if !exp.After(now) {
		return nil, nil, nil, &jwtRejection{SubCodeLoginFailed, "the token has expired"}
	}
	if exp.Sub(now) > app.MaxJWTExpiry {
		return nil, nil, nil, &jwtRejection{SubCodeExpiryExceedsMax, "exp is further away than the configured maximum"}
	}
	for jti, until := range app.seenJTIs {
		if !until.After(now) {
			delete(app.seenJTIs, jti) // it can no longer be replayed: its token has expired
		}
	}
	if _, seen := app.seenJTIs[c.Jti]; c.Jti == "" || seen {
		return nil, nil, nil, &jwtRejection{SubCodeLoginFailed, "jti is missing or was used before"}
	}
	u, ok := st.users[c.Sub]
	if !ok {
		return nil, nil, nil, &jwtRejection{SubCodeUserNotFound, "sub is not a user of the site (user names are case-sensitive)"}
	}
	scopes, ok := scopeList(c.Scp)
	if !ok {
		return nil, nil, nil, &jwtRejection{SubCodeJWTParseError, "scp is not a list of strings"}
	}
	app.seenJTIs[c.Jti] = exp
	return app, u, scopes, nil
}

func decodeSegment(seg string, into any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	return dec.Decode(into) == nil
}

// audienceIsTableau accepts aud as the string "tableau" or an array holding it (RFC 7519 §4.1.3).
func audienceIsTableau(raw json.RawMessage) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == "tableau"
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, a := range many {
			if a == "tableau" {
				return true
			}
		}
	}
	return false
}

// scopeList reads scp: an array of strings, or absent (no scopes: every scoped method answers 401002).
func scopeList(raw json.RawMessage) ([]string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	return list, true
}

// scopeGrants reports whether any granted scope covers want: equal, or the same resource with
// the action wildcard (tableau:users:* covers tableau:users:read).
func scopeGrants(granted []string, want string) bool {
	i := strings.LastIndex(want, ":")
	for _, g := range granted {
		if g == want || (i > 0 && g == want[:i]+":*") {
			return true
		}
	}
	return false
}
