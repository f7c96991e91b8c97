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
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func tabErr(status int, code string, body tableau.BodyKind, detail string) *tableau.Error {
	return &tableau.Error{Endpoint: "POST /api/3.24/auth/signin", HTTPStatus: status, Code: code, Summary: "S", Detail: detail, Body: body}
}

func TestFailure(t *testing.T) {
	xml, html, jsonT := tableau.BodyTableauXML, tableau.BodyHTML, tableau.BodyTableauJSON
	cases := []struct {
		name       string
		err        error
		ev         Evidence
		wantBucket Bucket
		wantReason string
		wantInMsg  string
	}{
		// AuthConfigDrift
		{"401001 without evidence lists every cause", tabErr(401, "401001", xml, "Error signing in to Tableau Server"), Evidence{Now: now},
			AuthConfigDrift, ReasonSignInRejected, "revoked or expired PAT"},
		{"401001 in JSON", tabErr(401, "401001", jsonT, "Error signing in"), Evidence{},
			AuthConfigDrift, ReasonSignInRejected, "site contentUrl that does not exist"},
		{"401001 minutes after the Secret changed", tabErr(401, "401001", xml, ""), Evidence{Now: now, SecretChangedAt: now.Add(-3 * time.Minute)},
			AuthConfigDrift, ReasonSignInRejectedAfterSecretChange, "3m0s after the Secret's content changed"},
		{"401001 seconds after the Secret changed says how many", tabErr(401, "401001", xml, ""), Evidence{Now: now, SecretChangedAt: now.Add(-27*time.Second - 400*time.Millisecond)},
			AuthConfigDrift, ReasonSignInRejectedAfterSecretChange, "(401001) 27s after the Secret's content changed"},
		{"401001 after the site changed", tabErr(401, "401001", xml, ""), Evidence{Now: now, SiteChangedAt: now.Add(-time.Minute), Site: "fiance"},
			AuthConfigDrift, ReasonSignInRejectedAfterSiteChange, `spec.site changed to "fiance"`},
		{"401001 when the Secret changed long ago", tabErr(401, "401001", xml, ""), Evidence{Now: now, SecretChangedAt: now.Add(-2 * time.Hour)},
			AuthConfigDrift, ReasonSignInRejected, "Tableau gives this one code"},
		{"401001 with last sign-in 20 days ago", tabErr(401, "401001", xml, ""), Evidence{Now: now, LastSignIn: now.Add(-20 * 24 * time.Hour)},
			AuthConfigDrift, ReasonPATIdleExpiryLikely, "20 days ago"},
		{"401001 with last sign-in 10 days ago", tabErr(401, "401001", xml, ""), Evidence{Now: now, LastSignIn: now.Add(-10 * 24 * time.Hour)},
			AuthConfigDrift, ReasonSignInRejected, ""},
		{"401000", tabErr(401, "401000", xml, "No authentication credentials were provided"), Evidence{},
			AuthConfigDrift, ReasonCredentialsNotProvided, "no credentials were provided"},
		{"401002", tabErr(401, "401002", xml, "Invalid authentication credentials were provided."), Evidence{},
			AuthConfigDrift, ReasonSessionInvalidated, "one session per PAT"},
		{"Tableau's 403004", tabErr(403, "403004", xml, "forbidden"), Evidence{},
			AuthConfigDrift, ReasonPermissionDenied, "code 403004"},
		{"Tableau's 403157 in JSON", tabErr(403, "403157", jsonT, "Feature disabled"), Evidence{},
			AuthConfigDrift, ReasonPermissionDenied, "Feature disabled"},
		{"missing Secret", &CredentialError{Reason: ReasonSecretNotFound, Secret: "finance-pat"}, Evidence{},
			AuthConfigDrift, ReasonSecretNotFound, `Secret "finance-pat" not found`},
		{"missing key", fmt.Errorf("loading: %w", &CredentialError{Reason: ReasonSecretKeyMissing, Secret: "finance-pat", Key: "tokenSecret"}), Evidence{},
			AuthConfigDrift, ReasonSecretKeyMissing, `no non-empty key "tokenSecret"`},
		{"identifier key holding a secret", &CredentialError{Reason: ReasonSecretKeyLooksLikeSecret, Secret: "finance-pat", Key: "tokenName", Holds: "the personal access token's name"}, Evidence{},
			AuthConfigDrift, ReasonSecretKeyLooksLikeSecret, `key "tokenName" should hold the personal access token's name`},
		{"unlabelled source Secret", &NotLabelledError{Kind: "Secret", Namespace: "team-a", Name: "finance-pat", Role: RoleSource}, Evidence{},
			AuthConfigDrift, ReasonSecretNotLabelled, "lacks the label tableau-operator.dev/credential=true"},
		{"source Secret the operator created", &NotLabelledError{Kind: "Secret", Namespace: "team-a", Name: "finance-bundle", Role: RoleSource, Managed: true}, Evidence{},
			AuthConfigDrift, ReasonSecretNotLabelled, "created by the operator"},
		{"unlabelled CA ConfigMap", fmt.Errorf("loading: %w", &NotLabelledError{Kind: "ConfigMap", Namespace: "team-a", Name: "corp-ca", Role: RoleCABundle}), Evidence{},
			AuthConfigDrift, ReasonConfigMapNotLabelled, `ConfigMap "corp-ca", named as the CA bundle`},
		// APIVersionMismatch
		{"404001 not a valid version", tabErr(404, "404001", xml, "Version '3.30' is not a valid version of the API."), Evidence{},
			APIVersionMismatch, ReasonAPIVersionNotSupported, "Version '3.30'"},
		{"404001 for something else", tabErr(404, "404001", xml, "Task not found"), Evidence{},
			EndpointMisconfigured, ReasonUnexpectedTableauResponse, "Task not found"},
		// RateOrQuotaLimit
		{"429 HTML", tabErr(429, "", html, ""), Evidence{}, RateOrQuotaLimit, ReasonRateLimited, "HTTP 429"},
		{"429 tsResponse", tabErr(429, "429000", xml, "Too Many Requests"), Evidence{}, RateOrQuotaLimit, ReasonRateLimited, "429000"},
		{"429000 under another status", tabErr(400, "429000", jsonT, ""), Evidence{}, RateOrQuotaLimit, ReasonRateLimited, ""},
		{"429 empty body", tabErr(429, "", tableau.BodyEmpty, ""), Evidence{}, RateOrQuotaLimit, ReasonRateLimited, ""},
		// EndpointMisconfigured
		{"WAF 403 page", tabErr(403, "", html, ""), Evidence{}, EndpointMisconfigured, ReasonNonTableauResponse, "HTML body"},
		{"proxy 401 page", tabErr(401, "", html, ""), Evidence{}, EndpointMisconfigured, ReasonNonTableauResponse, ""},
		{"404 plain text", tabErr(404, "", tableau.BodyUnknown, ""), Evidence{}, EndpointMisconfigured, ReasonNonTableauResponse, ""},
		{"TSM port", tabErr(401, "", tableau.BodyTSMJSON, "Please log in at /login"), Evidence{}, EndpointMisconfigured, ReasonTSMPortAnswered, "Tableau Services Manager answered"},
		{"redirect", &tableau.Error{Endpoint: "POST /api/3.24/auth/signin", HTTPStatus: 301, RedirectHost: "10ay.online.tableau.com"}, Evidence{},
			EndpointMisconfigured, ReasonRedirected, "10ay.online.tableau.com"},
		{"405000 after http to https", tabErr(405, "405000", xml, "The HTTP method 'GET' is not supported for the given resource"), Evidence{},
			EndpointMisconfigured, ReasonMethodNotAllowed, "http:// to https://"},
		{"TLS verification", &tableau.Error{Endpoint: "GET /api/2.4/serverinfo", Transport: tableau.TransportTLS, Cause: errors.New("x509: certificate signed by unknown authority")}, Evidence{},
			EndpointMisconfigured, ReasonTLSVerificationFailed, "unknown authority"},
		{"truncated 200", tabErr(200, "", tableau.BodyMalformed, ""), Evidence{}, EndpointMisconfigured, ReasonMalformedResponse, ""},
		{"HTML 200", tabErr(200, "", html, ""), Evidence{}, EndpointMisconfigured, ReasonMalformedResponse, ""},
		{"too large 400", tabErr(400, "", tableau.BodyTooLarge, ""), Evidence{}, EndpointMisconfigured, ReasonMalformedResponse, ""},
		{"empty 400", tabErr(400, "", tableau.BodyEmpty, ""), Evidence{}, EndpointMisconfigured, ReasonNonTableauResponse, "empty body"},
		{"Tableau 400000", tabErr(400, "400000", xml, "Payload is either malformed or incomplete"), Evidence{}, EndpointMisconfigured, ReasonUnexpectedTableauResponse, "400000"},
		{"CA bundle", &CABundleError{Kind: "ConfigMap", Name: "corp-ca", Key: "ca.crt", Problem: "holds no PEM certificate"}, Evidence{},
			EndpointMisconfigured, ReasonCABundleInvalid, "holds no PEM certificate"},
		{"server not allowed", &ServerNotAllowedError{Host: "evil.example.org", Allowed: "*.online.tableau.com"}, Evidence{},
			EndpointMisconfigured, ReasonServerNotAllowed, `"evil.example.org" is not among the hosts`},
		// ServerUnavailable
		{"500 tsResponse", tabErr(500, "500000", xml, "Internal Server Error"), Evidence{}, ServerUnavailable, ReasonServerError, "500000"},
		{"503 HTML", tabErr(503, "", html, ""), Evidence{}, ServerUnavailable, ReasonServerError, "HTTP 503"},
		{"timeout", &tableau.Error{Endpoint: "x", Transport: tableau.TransportTimeout}, Evidence{}, ServerUnavailable, ReasonTimeout, ""},
		{"refused", &tableau.Error{Endpoint: "x", Transport: tableau.TransportRefused}, Evidence{}, ServerUnavailable, ReasonConnectionRefused, ""},
		{"reset", &tableau.Error{Endpoint: "x", Transport: tableau.TransportReset}, Evidence{}, ServerUnavailable, ReasonConnectionReset, ""},
		{"DNS", &tableau.Error{Endpoint: "x", Transport: tableau.TransportDNS}, Evidence{}, ServerUnavailable, ReasonDNSLookupFailed, ""},
		{"other network", &tableau.Error{Endpoint: "x", Transport: tableau.TransportOther}, Evidence{}, ServerUnavailable, ReasonNetworkError, ""},
		{"not a tableau error", errors.New("boom"), Evidence{}, ServerUnavailable, ReasonNetworkError, "boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustClassify(t, tc.err, tc.ev, tc.wantBucket, tc.wantReason)
			if !strings.Contains(v.Message, tc.wantInMsg) {
				t.Errorf("message %q does not say %q", v.Message, tc.wantInMsg)
			}
		})
	}
}

// mustClassify classifies err and checks the bucket, the reason, the reason's own bucket and a
// one-line next step.
func mustClassify(t *testing.T, err error, ev Evidence, bucket Bucket, reason string) Verdict {
	t.Helper()
	v, ok := Failure(err, ev)
	if !ok {
		t.Fatal("not classified")
	}
	if v.Bucket != bucket || v.Reason != reason {
		t.Fatalf("got %s/%s, want %s/%s\n%s", v.Bucket, v.Reason, bucket, reason, v.Message)
	}
	if v.NextStep == "" || strings.Contains(v.NextStep, "\n") {
		t.Errorf("next step %q must be one line", v.NextStep)
	}
	if ReasonBucket[v.Reason] != v.Bucket {
		t.Errorf("reason %s belongs to %s, not %s", v.Reason, ReasonBucket[v.Reason], v.Bucket)
	}
	return v
}

func TestNotLabelledNextStepIsTheLabelCommand(t *testing.T) {
	cases := []struct {
		err  *NotLabelledError
		want string
	}{
		{&NotLabelledError{Kind: "Secret", Namespace: "team-a", Name: "finance-pat", Role: RoleSource},
			"kubectl label secret -n team-a finance-pat tableau-operator.dev/credential=true"},
		{&NotLabelledError{Kind: "ConfigMap", Namespace: "team-b", Name: "corp-ca", Role: RoleCABundle},
			"kubectl label configmap -n team-b corp-ca tableau-operator.dev/credential=true"},
		{&NotLabelledError{Kind: "Secret", Namespace: "team-a", Name: "finance-bundle", Role: RoleSource, Managed: true},
			"Point spec.auth.personalAccessToken.secretRef at a Secret its owner labelled tableau-operator.dev/credential=true."},
	}
	for _, tc := range cases {
		v, _ := Failure(tc.err, Evidence{})
		if v.NextStep != tc.want {
			t.Errorf("next step = %q, want %q", v.NextStep, tc.want)
		}
	}
}

func TestServerNotAllowedIsBounded(t *testing.T) {
	v, _ := Failure(&ServerNotAllowedError{Host: strings.Repeat("h", 5000), Allowed: strings.Repeat("a,", 5000)}, Evidence{})
	if len(v.Message) > 1024 {
		t.Errorf("message of %d bytes", len(v.Message))
	}
	// The cut must not split a character: 512 bytes of two-byte runes after "a" end inside one.
	v, _ = Failure(&ServerNotAllowedError{Host: "h", Allowed: "a" + strings.Repeat("é", 5000)}, Evidence{})
	if !utf8.ValidString(v.Message) {
		t.Errorf("message is not valid UTF-8: %q", v.Message)
	}
}

func TestNilIsNotAFailure(t *testing.T) {
	if _, ok := Failure(nil, Evidence{}); ok {
		t.Error("nil classified")
	}
}

func TestVersions(t *testing.T) {
	cases := []struct {
		pinned, server string
		drift          bool
	}{
		{"3.24", "3.24", false},
		{"3.9", "3.24", false},
		{"3.24", "3.9", true},
		{"3.25", "3.24", true},
		{"4.0", "3.30", true},
		{"3.24", "main", false},
		{"3.24", "", false},
	}
	for _, tc := range cases {
		v, drift := Versions(tc.pinned, tc.server)
		if drift != tc.drift {
			t.Errorf("Versions(%s, %s) drift = %v, want %v", tc.pinned, tc.server, drift, tc.drift)
		}
		if drift && (v.Bucket != APIVersionMismatch || v.Reason != ReasonAPIVersionAboveServer || !strings.Contains(v.NextStep, tc.server)) {
			t.Errorf("Versions(%s, %s) = %+v", tc.pinned, tc.server, v)
		}
	}
}

func TestEveryReasonHasABucketAndTransienceFollowsTheBucket(t *testing.T) {
	for reason, bucket := range ReasonBucket {
		found := false
		for _, b := range Buckets {
			found = found || b == bucket
		}
		if !found {
			t.Errorf("reason %s maps to unknown bucket %s", reason, bucket)
		}
	}
	for _, b := range Buckets {
		want := b == RateOrQuotaLimit || b == ServerUnavailable
		if b.Transient() != want {
			t.Errorf("%s.Transient() = %v", b, b.Transient())
		}
	}
}
