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
	"regexp"
	"strconv"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Connected-app (direct trust) failures. Tableau reports them with the sub-codes of its
// connected-app troubleshooting page; on a REST sign-in the sub-code comes inside a 401001
// detail such as "Error signing in to Tableau Server (16)" (shared/reference/tableau-rest.md §2,
// medium confidence). The reference does not say how the secret methods report error 128; the
// classifier reads the sub-code the same way from any error detail.
const (
	ReasonConnectedAppUserNotFound     = "ConnectedAppUserNotFound"     // 5
	ReasonConnectedAppLoginFailed      = "ConnectedAppLoginFailed"      // 16
	ReasonConnectedAppsDisabled        = "ConnectedAppsDisabled"        // 67
	ReasonConnectedAppNotFound         = "ConnectedAppNotFound"         // 126
	ReasonConnectedAppSecretNotFound   = "ConnectedAppSecretNotFound"   // 127
	ReasonConnectedAppSecretLimit      = "ConnectedAppSecretLimit"      // 128
	ReasonConnectedAppDomainNotAllowed = "ConnectedAppDomainNotAllowed" // 133
	ReasonJWTMalformed                 = "JWTMalformed"                 // 10083, 10084
	ReasonJWTKeysUnavailable           = "JWTKeysUnavailable"           // 10085
	ReasonJWTExpiryTooLong             = "JWTExpiryTooLong"             // 10096
	// ReasonConnectedAppSignInRejected is a JWT sign-in refused with 401001 and no sub-code.
	ReasonConnectedAppSignInRejected = "ConnectedAppSignInRejected"
	// ReasonJWTScopeMissing is 401002 on a call of a JWT session: the method needs a scope the
	// JWT does not carry, or takes no JWT at all.
	ReasonJWTScopeMissing = "JWTScopeMissing"
	// ReasonConnectedAppInvalid is a connected-app credential refused before any call (a field
	// missing, scopes of the wrong shape).
	ReasonConnectedAppInvalid = "ConnectedAppInvalid"
	// ReasonAPIVersionTooLowForMethod is a method the pinned version does not have (the client
	// refuses it without a call).
	ReasonAPIVersionTooLowForMethod = "APIVersionTooLowForMethod"
)

// subCodeRE finds a connected-app sub-code at the end of a detail: "... (127)" or "... (127)."
var subCodeRE = regexp.MustCompile(`\((\d{1,6})\)\.?$`)

// SubCode returns the connected-app sub-code at the end of an error detail, if there is one.
func SubCode(detail string) (int, bool) {
	m := subCodeRE.FindStringSubmatch(detail)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// subCodeVerdict is what a connected-app sub-code means and what to do about it.
type subCodeVerdict struct{ reason, what, next string }

// jwtMalformed is the verdict of both sub-codes of an unreadable JWT (10083, 10084).
var jwtMalformed = subCodeVerdict{ReasonJWTMalformed,
	"Tableau could not read the JWT (its header or its encoding)",
	"The JWT must be HS256 with kid = the secret id and iss = the client id in its header; report a bug if the operator minted it, and check that the secret value has no stray newline."}

// subCodeVerdicts maps each sub-code of Tableau's connected-app troubleshooting page to its verdict.
var subCodeVerdicts = map[int]subCodeVerdict{
	5: {ReasonConnectedAppUserNotFound,
		"The JWT's sub is not a user of the site",
		"Set the connected app's username to the Tableau user name exactly (case-sensitive; the e-mail address on Tableau Cloud) of a licensed user of this site."},
	16: {ReasonConnectedAppLoginFailed,
		"Tableau refused the JWT with its generic login failure. Tableau documents it for an exp beyond the allowed period and an unknown sub; an expired token (a clock that disagrees with Tableau's), a reused jti or an aud other than \"tableau\" are reported the same way as far as is known",
		"Check that the operator's clock is UTC and in sync (NTP), that the username is a user of the site, and that nothing else replays the same JWT; the operator mints a fresh token with a 5-minute exp for every sign-in."},
	67: {ReasonConnectedAppsDisabled,
		"Connected apps are not enabled for this site",
		"Ask a site administrator to enable connected apps (Settings > Connected Apps) or use a personal access token."},
	126: {ReasonConnectedAppNotFound,
		"Tableau knows no enabled connected app with this client id",
		"Check the client id against Settings > Connected Apps on the site, and that the app is enabled."},
	127: {ReasonConnectedAppSecretNotFound,
		"The secret id (the JWT's kid) or the secret value does not match a secret of the app",
		"Copy the secret id and value of a secret that exists on the app (Settings > Connected Apps > the app); if the secret was deleted, create a new one and put both in the credential."},
	128: {ReasonConnectedAppSecretLimit,
		"The connected app already holds two secrets, Tableau's limit",
		"Delete a secret no consumer uses (never the one in use) on the app, then create the new one; the operator never deletes the active secret on its own."},
	133: {ReasonConnectedAppDomainNotAllowed,
		"The connected app's domain allowlist refuses the request's domain",
		"Add the domain to the connected app's domain allowlist, or allow all domains; REST sign-in does not normally meet this."},
	10083: jwtMalformed,
	10084: jwtMalformed,
	10085: {ReasonJWTKeysUnavailable,
		"Tableau could not fetch the keys to verify the JWT",
		"That is an OAuth 2.0 trust (external authorization server) setting; for direct trust use a connected app with direct trust, or fix the server's JWKS URI."},
	10096: {ReasonJWTExpiryTooLong,
		"The JWT's exp is further away than the connected app allows",
		"Check that the operator's clock is not ahead of Tableau's; the operator asks for 5 minutes, half of Tableau's 10-minute maximum."},
}

// connectedAppFailure classifies a failure that carries a known connected-app sub-code.
func connectedAppFailure(code int, evidence string) (Verdict, bool) {
	v, ok := subCodeVerdicts[code]
	if !ok {
		return Verdict{}, false
	}
	return Verdict{AuthConfigDrift, v.reason, fmt.Sprintf("%s (connected-app error %d): %s.", v.what, code, evidence), v.next}, true
}

// connectedAppSignInRejected is a 401001 on a JWT sign-in without a sub-code.
func connectedAppSignInRejected(evidence string) Verdict {
	return Verdict{AuthConfigDrift, ReasonConnectedAppSignInRejected,
		"Tableau rejected the connected-app sign-in (401001) without saying why: " + evidence + ". It gives this for a wrong client id, secret id or value, a disabled app, an unknown user, a site contentUrl that does not exist, and a refused JWT.",
		"Check the connected app's client id, secret id and value and that the app is enabled (Settings > Connected Apps), that the username is a user of the site, and that spec.site is the site's contentUrl."}
}

func jwtScopeMissing(evidence string) Verdict {
	return Verdict{AuthConfigDrift, ReasonJWTScopeMissing,
		"Tableau refused a call of a connected-app session (401002): " + evidence + ". The method needs a scope the JWT does not carry, takes no JWT at all, or the session expired.",
		"Add the scope Tableau documents for this method (e.g. tableau:users:read) to the connected app's scopes; methods with no JWT scope need a PAT session instead."}
}

func versionTooLow(ve *tableau.VersionError) Verdict {
	return Verdict{APIVersionMismatch, ReasonAPIVersionTooLowForMethod, ve.Error() + "; the call was not made.",
		fmt.Sprintf("Raise spec.apiVersion to %s or later if the server offers it (see status.server), or do without this method.", ve.Minimum)}
}

func invalidConnectedApp(e *tableau.InvalidCredentialError) Verdict {
	return Verdict{AuthConfigDrift, ReasonConnectedAppInvalid, e.Error() + "; no call was made.",
		"Fill in the connected app's client id, secret id, secret value and username, and give scopes of the shape tableau:<resource>:<action>."}
}
