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

package classify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func signInSub(code int) *tableau.Error {
	return &tableau.Error{Endpoint: "POST /api/3.24/auth/signin", HTTPStatus: 401, Code: "401001", Summary: "Signin Error",
		Detail: fmt.Sprintf("Error signing in to Tableau Server (%d)", code), Body: tableau.BodyTableauXML}
}

func TestConnectedAppFailures(t *testing.T) {
	jwtEv := Evidence{Now: now, ConnectedApp: true}
	cases := []struct {
		name       string
		err        error
		ev         Evidence
		wantBucket Bucket
		wantReason string
		wantInNext string
	}{
		{"5 user not found", signInSub(5), jwtEv, AuthConfigDrift, ReasonConnectedAppUserNotFound, "case-sensitive"},
		{"16 login failed", signInSub(16), jwtEv, AuthConfigDrift, ReasonConnectedAppLoginFailed, "clock"},
		{"16 without the evidence still names the JWT", signInSub(16), Evidence{}, AuthConfigDrift, ReasonConnectedAppLoginFailed, "fresh token"},
		{"67 feature off", signInSub(67), jwtEv, AuthConfigDrift, ReasonConnectedAppsDisabled, "enable connected apps"},
		{"126 app not found", signInSub(126), jwtEv, AuthConfigDrift, ReasonConnectedAppNotFound, "client id"},
		{"127 secret not found", signInSub(127), jwtEv, AuthConfigDrift, ReasonConnectedAppSecretNotFound, "secret id and value"},
		{"133 domain allowlist", signInSub(133), jwtEv, AuthConfigDrift, ReasonConnectedAppDomainNotAllowed, "allowlist"},
		{"10083 bad header", signInSub(10083), jwtEv, AuthConfigDrift, ReasonJWTMalformed, "HS256"},
		{"10084 parse error", signInSub(10084), jwtEv, AuthConfigDrift, ReasonJWTMalformed, "kid"},
		{"10085 keys", signInSub(10085), jwtEv, AuthConfigDrift, ReasonJWTKeysUnavailable, "JWKS"},
		{"10096 exp too long", signInSub(10096), jwtEv, AuthConfigDrift, ReasonJWTExpiryTooLong, "clock"},
		{"sub-code with a trailing period", &tableau.Error{Endpoint: "e", HTTPStatus: 401, Code: "401001", Detail: "Error signing in to Tableau Server (127).", Body: tableau.BodyTableauJSON},
			jwtEv, AuthConfigDrift, ReasonConnectedAppSecretNotFound, "secret id"},
		{"128 on creating a third secret", &tableau.Error{Endpoint: "POST /api/3.24/sites/s/connected-apps/direct-trust/c/secrets", HTTPStatus: 400, Code: "400000",
			Detail: "Connected app secret limit exceeded: an app holds at most 2 secrets (128)", Body: tableau.BodyTableauXML},
			Evidence{}, AuthConfigDrift, ReasonConnectedAppSecretLimit, "never the one in use"},
		{"unknown sub-code falls through to 401001", signInSub(99999), jwtEv, AuthConfigDrift, ReasonConnectedAppSignInRejected, "client id"},
		{"401001 without a sub-code on a JWT sign-in", tabErr(401, "401001", tableau.BodyTableauXML, "Error signing in to Tableau Server"), jwtEv,
			AuthConfigDrift, ReasonConnectedAppSignInRejected, "enabled"},
		{"401001 without a sub-code on a PAT sign-in stays a PAT verdict", tabErr(401, "401001", tableau.BodyTableauXML, "Error signing in to Tableau Server"), Evidence{Now: now},
			AuthConfigDrift, ReasonSignInRejected, "PAT"},
		{"401002 on a JWT session", tabErr(401, "401002", tableau.BodyTableauXML, "Invalid authentication credentials were provided."), jwtEv,
			AuthConfigDrift, ReasonJWTScopeMissing, "scope"},
		{"401002 on a PAT session stays the one-session verdict", tabErr(401, "401002", tableau.BodyTableauXML, "Invalid authentication credentials were provided."), Evidence{},
			AuthConfigDrift, ReasonSessionInvalidated, "own PAT"},
		{"a sub-code on a 5xx is a server error", &tableau.Error{Endpoint: "e", HTTPStatus: 500, Code: "500000", Detail: "boom (16)", Body: tableau.BodyTableauXML},
			jwtEv, ServerUnavailable, ReasonServerError, "retries"},
		{"a method above the pin", fmt.Errorf("listing: %w", &tableau.VersionError{Method: "List Personal Access Tokens", Minimum: "3.21", Pinned: "3.20"}), Evidence{},
			APIVersionMismatch, ReasonAPIVersionTooLowForMethod, "3.21"},
		{"a credential refused before any call", &tableau.InvalidCredentialError{Problem: "no username"}, Evidence{},
			AuthConfigDrift, ReasonConnectedAppInvalid, "username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustClassify(t, tc.err, tc.ev, tc.wantBucket, tc.wantReason)
			if !strings.Contains(v.NextStep, tc.wantInNext) {
				t.Errorf("next step %q does not say %q", v.NextStep, tc.wantInNext)
			}
		})
	}
}

func TestSubCode(t *testing.T) {
	cases := []struct {
		detail string
		code   int
		ok     bool
	}{
		{"Error signing in to Tableau Server (16)", 16, true},
		{"Error signing in to Tableau Server (10096).", 10096, true},
		{"Error signing in to Tableau Server", 0, false},
		{"Version '3.7' is not a valid version of the API.", 0, false},
		{"(16) at the start", 0, false},
		{"too many digits (1234567)", 0, false},
	}
	for _, tc := range cases {
		code, ok := SubCode(tc.detail)
		if code != tc.code || ok != tc.ok {
			t.Errorf("SubCode(%q) = %d, %v; want %d, %v", tc.detail, code, ok, tc.code, tc.ok)
		}
	}
}
