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

// Package classify turns a failed Tableau call, or a credential that could not be loaded, into
// exactly one bucket, a CamelCase reason and a one-line next step. It is pure: the same failure
// and evidence always give the same verdict. The mapping follows the facts in
// shared/reference/tableau-rest.md, not folklore about HTTP codes.
package classify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/bound"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Bucket is the class of a failure. It decides whether retrying can help.
type Bucket string

// The buckets.
const (
	// AuthConfigDrift: Tableau rejects the credential or its configuration, or the credential
	// is missing. Retrying the same input cannot help.
	AuthConfigDrift Bucket = "AuthConfigDrift"
	// APIVersionMismatch: the pinned REST API version is above what the server offers.
	APIVersionMismatch Bucket = "APIVersionMismatch"
	// RateOrQuotaLimit: Tableau (or Tableau Cloud's front end) throttled the request.
	RateOrQuotaLimit Bucket = "RateOrQuotaLimit"
	// EndpointMisconfigured: the answer did not come from the Tableau REST API or cannot be trusted.
	EndpointMisconfigured Bucket = "EndpointMisconfigured"
	// ServerUnavailable: the server failed or could not be reached.
	ServerUnavailable Bucket = "ServerUnavailable"
)

// Buckets lists every bucket, in a stable order.
var Buckets = []Bucket{AuthConfigDrift, APIVersionMismatch, RateOrQuotaLimit, EndpointMisconfigured, ServerUnavailable}

// Transient reports whether retrying with backoff can help. The other buckets are terminal:
// they wait for a change of the spec or the Secret.
func (b Bucket) Transient() bool { return b == RateOrQuotaLimit || b == ServerUnavailable }

// Reasons. Each belongs to exactly one bucket (see reasonBucket).
const (
	ReasonSignInRejected                  = "SignInRejected"
	ReasonSignInRejectedAfterSecretChange = "SignInRejectedAfterSecretChange"
	ReasonSignInRejectedAfterSiteChange   = "SignInRejectedAfterSiteChange"
	ReasonPATIdleExpiryLikely             = "PATIdleExpiryLikely"
	ReasonCredentialsNotProvided          = "CredentialsNotProvided"
	ReasonSessionInvalidated              = "SessionInvalidated"
	ReasonPermissionDenied                = "PermissionDenied"
	ReasonSecretNotFound                  = "SecretNotFound"
	ReasonSecretKeyMissing                = "SecretKeyMissing"
	ReasonSecretKeyLooksLikeSecret        = "SecretKeyLooksLikeSecret"
	ReasonSecretNotLabelled               = "SecretNotLabelled"
	ReasonAdminPATInUse                   = "AdminPATInUse"
	ReasonConfigMapNotLabelled            = "ConfigMapNotLabelled"

	ReasonAPIVersionNotSupported = "APIVersionNotSupported"
	ReasonAPIVersionAboveServer  = "APIVersionAboveServer"

	ReasonRateLimited = "RateLimited"

	ReasonNonTableauResponse        = "NonTableauResponse"
	ReasonTSMPortAnswered           = "TSMPortAnswered"
	ReasonRedirected                = "Redirected"
	ReasonMethodNotAllowed          = "MethodNotAllowed"
	ReasonTLSVerificationFailed     = "TLSVerificationFailed"
	ReasonMalformedResponse         = "MalformedResponse"
	ReasonUnexpectedTableauResponse = "UnexpectedTableauResponse"
	ReasonCABundleInvalid           = "CABundleInvalid"
	ReasonServerNotAllowed          = "ServerNotAllowed"
	ReasonServerError               = "ServerError"
	ReasonTimeout                   = "Timeout"
	ReasonConnectionRefused         = "ConnectionRefused"
	ReasonConnectionReset           = "ConnectionReset"
	ReasonDNSLookupFailed           = "DNSLookupFailed"
	ReasonNetworkError              = "NetworkError"
)

// ReasonBucket maps every reason to its one bucket.
var ReasonBucket = map[string]Bucket{
	ReasonAdminPATInUse:                   AuthConfigDrift,
	ReasonSignInRejected:                  AuthConfigDrift,
	ReasonSignInRejectedAfterSecretChange: AuthConfigDrift,
	ReasonSignInRejectedAfterSiteChange:   AuthConfigDrift,
	ReasonPATIdleExpiryLikely:             AuthConfigDrift,
	ReasonCredentialsNotProvided:          AuthConfigDrift,
	ReasonSessionInvalidated:              AuthConfigDrift,
	ReasonPermissionDenied:                AuthConfigDrift,
	ReasonSecretNotFound:                  AuthConfigDrift,
	ReasonSecretKeyMissing:                AuthConfigDrift,
	ReasonSecretKeyLooksLikeSecret:        AuthConfigDrift,
	ReasonSecretNotLabelled:               AuthConfigDrift,
	ReasonConfigMapNotLabelled:            AuthConfigDrift,
	ReasonAPIVersionNotSupported:          APIVersionMismatch,
	ReasonAPIVersionAboveServer:           APIVersionMismatch,
	ReasonRateLimited:                     RateOrQuotaLimit,
	ReasonNonTableauResponse:              EndpointMisconfigured,
	ReasonTSMPortAnswered:                 EndpointMisconfigured,
	ReasonRedirected:                      EndpointMisconfigured,
	ReasonMethodNotAllowed:                EndpointMisconfigured,
	ReasonTLSVerificationFailed:           EndpointMisconfigured,
	ReasonMalformedResponse:               EndpointMisconfigured,
	ReasonUnexpectedTableauResponse:       EndpointMisconfigured,
	ReasonCABundleInvalid:                 EndpointMisconfigured,
	ReasonServerNotAllowed:                EndpointMisconfigured,
	ReasonServerError:                     ServerUnavailable,
	ReasonTimeout:                         ServerUnavailable,
	ReasonConnectionRefused:               ServerUnavailable,
	ReasonConnectionReset:                 ServerUnavailable,
	ReasonDNSLookupFailed:                 ServerUnavailable,
	ReasonNetworkError:                    ServerUnavailable,

	ReasonConnectedAppUserNotFound:     AuthConfigDrift,
	ReasonConnectedAppLoginFailed:      AuthConfigDrift,
	ReasonConnectedAppsDisabled:        AuthConfigDrift,
	ReasonConnectedAppNotFound:         AuthConfigDrift,
	ReasonConnectedAppSecretNotFound:   AuthConfigDrift,
	ReasonConnectedAppSecretLimit:      AuthConfigDrift,
	ReasonConnectedAppDomainNotAllowed: AuthConfigDrift,
	ReasonJWTMalformed:                 AuthConfigDrift,
	ReasonJWTKeysUnavailable:           AuthConfigDrift,
	ReasonJWTExpiryTooLong:             AuthConfigDrift,
	ReasonConnectedAppSignInRejected:   AuthConfigDrift,
	ReasonJWTScopeMissing:              AuthConfigDrift,
	ReasonConnectedAppInvalid:          AuthConfigDrift,
	ReasonAPIVersionTooLowForMethod:    APIVersionMismatch,
}

// Verdict is the classification of one failure.
type Verdict struct {
	Bucket Bucket
	Reason string
	// Message says what happened, with the evidence, in one or two sentences.
	Message string
	// NextStep is the one-line remediation.
	NextStep string
}

// Evidence is what the caller knows beyond the failed call; it narrows a 401001.
// Zero values mean "unknown".
type Evidence struct {
	Now time.Time
	// SecretChangedAt is when the credential's content last changed.
	SecretChangedAt time.Time
	// SiteChangedAt is when spec.site last changed.
	SiteChangedAt time.Time
	// LastSignIn is the last successful sign-in with this PAT that the caller knows of.
	LastSignIn time.Time
	// Site is the site contentUrl that was used ("" is the default site).
	Site string
	// ConnectedApp says the failed call was a connected-app (JWT) sign-in or a call of a JWT
	// session, which changes what 401001 and 401002 mean.
	ConnectedApp bool
}

// RecentChangeWindow is how recent a change of the Secret or site must be to be named as the
// likely cause of a rejected sign-in.
const RecentChangeWindow = 15 * time.Minute

// PATIdleExpiry is Tableau's idle expiry of a PAT: 15 consecutive days unused.
const PATIdleExpiry = 15 * 24 * time.Hour

// CredentialError is a credential that could not be loaded before any call was made.
type CredentialError struct {
	Reason string // ReasonSecretNotFound, ReasonSecretKeyMissing or ReasonSecretKeyLooksLikeSecret
	Secret string // the Secret's name
	Key    string // the missing key, or the key whose value looks like a secret
	// Ref is the spec field that names the Secret; spec.auth.personalAccessToken.secretRef when empty.
	Ref string
	// Holds says what Key should hold, for ReasonSecretKeyLooksLikeSecret ("the connected
	// app's client id"). Never the value: it is a secret as far as anyone can tell.
	Holds string
}

func (e *CredentialError) Error() string {
	switch e.Reason {
	case ReasonSecretKeyMissing:
		return fmt.Sprintf("Secret %q has no non-empty key %q", e.Secret, e.Key)
	case ReasonSecretKeyLooksLikeSecret:
		return fmt.Sprintf("Secret %q key %q should hold %s but holds a value shaped like a secret (not shown)", e.Secret, e.Key, e.Holds)
	}
	return fmt.Sprintf("Secret %q not found", e.Secret)
}

// CABundleError is a CA bundle that could not be loaded or holds no certificate.
type CABundleError struct {
	Kind, Name, Key string
	Problem         string
}

func (e *CABundleError) Error() string {
	return fmt.Sprintf("CA bundle %s %q key %q: %s", e.Kind, e.Name, e.Key, e.Problem)
}

// NotLabelledError is a Secret (source or CA bundle) or CA-bundle ConfigMap the operator will
// not read: it lacks the owner's consent label, or it carries the operator's own "managed"
// value (a Secret the operator created is never a source).
type NotLabelledError struct {
	Kind      string // Secret or ConfigMap
	Namespace string
	Name      string
	// Role says what the connection wants it for: "source" or "CA bundle".
	Role string
	// Managed is set when the object carries the operator's own label value.
	Managed bool
}

func (e *NotLabelledError) Error() string {
	if e.Managed {
		return fmt.Sprintf("%s %q, named as the %s, was created by the operator (%s=%s) and is never read as one", e.Kind, e.Name, e.Role, v1.LabelCredential, v1.CredentialManaged)
	}
	return fmt.Sprintf("%s %q, named as the %s, lacks the label %s=%s, so the operator does not read it", e.Kind, e.Name, e.Role, v1.LabelCredential, v1.CredentialConsent)
}

// AdminPATInUseError is an administrator's PAT (validation.adminSecretRef or
// rotation.automatic.adminSecretRef) that is the connection's own PAT: signing in with it
// would end the sessions of every workload using it. Refused before any sign-in.
type AdminPATInUseError struct {
	Secret string // the admin Secret's name
	Field  string // the spec field that names it
}

func (e *AdminPATInUseError) Error() string {
	return fmt.Sprintf("Secret %q (%s) holds the personal access token the connection and its consumers use", e.Secret, e.Field)
}

// ServerNotAllowedError is a spec.server whose host the operator's --allowed-servers does not
// list: the operator sends no credential there and reads none for it.
type ServerNotAllowedError struct {
	Host    string
	Allowed string // the operator's patterns, comma-separated
}

func (e *ServerNotAllowedError) Error() string {
	return fmt.Sprintf("spec.server host %q is not among the hosts this operator may send credentials to (--allowed-servers=%s)", bound.Text(e.Host, 253), bound.Text(e.Allowed, 512))
}

// Roles of a NotLabelledError.
const (
	RoleSource   = "source"
	RoleCABundle = "CA bundle"
)

// Failure classifies err. It returns ok=false when err is nil.
func Failure(err error, ev Evidence) (Verdict, bool) {
	if err == nil {
		return Verdict{}, false
	}
	var ce *CredentialError
	if errors.As(err, &ce) {
		return credential(ce), true
	}
	var nle *NotLabelledError
	if errors.As(err, &nle) {
		return notLabelled(nle), true
	}
	var api *AdminPATInUseError
	if errors.As(err, &api) {
		return Verdict{AuthConfigDrift, ReasonAdminPATInUse, api.Error() + ": the operator does not sign in with it, since each sign-in would end every workload's session (401002).",
			fmt.Sprintf("Create a separate PAT of a site administrator that no workload uses, put it in Secret %q, and keep the connection's PAT in its own Secret.", api.Secret)}, true
	}
	var sna *ServerNotAllowedError
	if errors.As(err, &sna) {
		return Verdict{EndpointMisconfigured, ReasonServerNotAllowed, sna.Error() + ".",
			"Set spec.server to an allowed host, or ask the operator's administrators to add this host to --allowed-servers."}, true
	}
	var cae *CABundleError
	if errors.As(err, &cae) {
		return Verdict{EndpointMisconfigured, ReasonCABundleInvalid, cae.Error() + ".",
			fmt.Sprintf("Put PEM CA certificates under key %q of %s %q, or fix spec.tls.caBundle.", cae.Key, cae.Kind, cae.Name)}, true
	}
	var ve *tableau.VersionError
	if errors.As(err, &ve) {
		return versionTooLow(ve), true
	}
	var ice *tableau.InvalidCredentialError
	if errors.As(err, &ice) {
		return invalidConnectedApp(ice), true
	}
	te, ok := tableau.AsError(err)
	if !ok {
		return Verdict{ServerUnavailable, ReasonNetworkError, "The call failed before Tableau answered: " + err.Error() + ".",
			"Check the operator's network path to the server; the operator retries with backoff."}, true
	}
	return tableauFailure(te, ev), true
}

func credential(ce *CredentialError) Verdict {
	ref := ce.Ref
	if ref == "" {
		ref = "spec.auth.personalAccessToken.secretRef"
	}
	switch ce.Reason {
	case ReasonSecretKeyMissing:
		return Verdict{AuthConfigDrift, ReasonSecretKeyMissing, ce.Error() + ".",
			fmt.Sprintf("Add key %q to Secret %q, or point %s at the keys it has.", ce.Key, ce.Secret, ref)}
	case ReasonSecretKeyLooksLikeSecret:
		// Nothing was sent to Tableau and nothing of the Secret is published: the value
		// under an identifier's key is most likely the secret, with the keys swapped.
		return Verdict{AuthConfigDrift, ReasonSecretKeyLooksLikeSecret, ce.Error() + "; the operator neither signs in with it nor publishes it.",
			fmt.Sprintf("Check whether the keys of Secret %q are swapped and put %s under key %q (or point %s at the right keys).", ce.Secret, ce.Holds, ce.Key, ref)}
	}
	return Verdict{AuthConfigDrift, ReasonSecretNotFound, ce.Error() + " in the connection's namespace.",
		fmt.Sprintf("Create Secret %q with the keys of %s and the label %s=%s; the operator notices it at once.", ce.Secret, ref, v1.LabelCredential, v1.CredentialConsent)}
}

func notLabelled(e *NotLabelledError) Verdict {
	reason := ReasonSecretNotLabelled
	if e.Kind == "ConfigMap" {
		reason = ReasonConfigMapNotLabelled
	}
	if e.Managed {
		field := "spec.auth.personalAccessToken.secretRef"
		if e.Role != RoleSource {
			field = "spec.tls.caBundle"
		}
		return Verdict{AuthConfigDrift, reason, e.Error() + ".",
			fmt.Sprintf("Point %s at a %s its owner labelled %s=%s.", field, e.Kind, v1.LabelCredential, v1.CredentialConsent)}
	}
	return Verdict{AuthConfigDrift, reason, e.Error() + ": its owner has not consented.",
		fmt.Sprintf("kubectl label %s -n %s %s %s=%s", strings.ToLower(e.Kind), e.Namespace, e.Name, v1.LabelCredential, v1.CredentialConsent)}
}

func tableauFailure(e *tableau.Error, ev Evidence) Verdict {
	evidence := describe(e)
	switch e.Transport {
	case tableau.TransportTLS:
		return Verdict{EndpointMisconfigured, ReasonTLSVerificationFailed,
			"The server's certificate could not be verified, or it does not speak TLS: " + evidence + ".",
			"Check spec.server's host and port, and add the issuing CA to spec.tls.caBundle if the server uses a private CA."}
	case tableau.TransportTimeout:
		return Verdict{ServerUnavailable, ReasonTimeout, "No answer in time: " + evidence + ".",
			"Check the server's health and the network path; the operator retries with backoff."}
	case tableau.TransportRefused:
		return Verdict{ServerUnavailable, ReasonConnectionRefused, "The connection was refused: " + evidence + ".",
			"Check that the server is up and that spec.server names the right port; the operator retries with backoff."}
	case tableau.TransportReset:
		return Verdict{ServerUnavailable, ReasonConnectionReset, "The connection was closed before a complete answer: " + evidence + ".",
			"Check the server and any proxy between; the operator retries with backoff."}
	case tableau.TransportDNS:
		return Verdict{ServerUnavailable, ReasonDNSLookupFailed, "The server's name did not resolve: " + evidence + ".",
			"Check spec.server's host name and the cluster's DNS; the operator retries with backoff."}
	case tableau.TransportOther:
		return Verdict{ServerUnavailable, ReasonNetworkError, "The call failed on the network: " + evidence + ".",
			"Check the network path to the server; the operator retries with backoff."}
	}

	switch {
	case e.HTTPStatus >= 300 && e.HTTPStatus < 400:
		target := e.RedirectHost
		if target == "" {
			target = "an unnamed location"
		}
		return Verdict{EndpointMisconfigured, ReasonRedirected,
			fmt.Sprintf("The server answered with a redirect (HTTP %d) to %s; the operator never follows redirects with credentials.", e.HTTPStatus, target),
			"Set spec.server to the host that serves the REST API (on Tableau Cloud the pod URL, e.g. https://10ay.online.tableau.com) and use https://."}
	case e.HTTPStatus == 429 || e.Code == "429000":
		return Verdict{RateOrQuotaLimit, ReasonRateLimited, "Tableau throttled the request: " + evidence + ".",
			"Nothing to change if it is brief; the operator backs off (honouring Retry-After). If it persists, reduce other REST traffic on this site."}
	case e.HTTPStatus >= 500:
		return Verdict{ServerUnavailable, ReasonServerError, "The server failed: " + evidence + ".",
			"Check Tableau's status page or the server's health; the operator retries with backoff."}
	}

	switch e.Body {
	case tableau.BodyTSMJSON:
		return Verdict{EndpointMisconfigured, ReasonTSMPortAnswered,
			"Tableau Services Manager answered, not the REST API: " + evidence + ".",
			"spec.server points at the TSM port (usually 8850); use the gateway's URL instead."}
	case tableau.BodyTableauXML, tableau.BodyTableauJSON:
	case tableau.BodyEmpty:
		if e.HTTPStatus >= 200 && e.HTTPStatus < 300 {
			return malformed(evidence)
		}
		return Verdict{EndpointMisconfigured, ReasonNonTableauResponse,
			fmt.Sprintf("HTTP %d with an empty body, which the Tableau REST API never sends for an error: %s.", e.HTTPStatus, evidence),
			"Check that spec.server reaches Tableau directly and not a proxy or load balancer that rejects the request."}
	case tableau.BodyMalformed, tableau.BodyTooLarge:
		return malformed(evidence)
	default:
		if e.HTTPStatus >= 200 && e.HTTPStatus < 300 {
			return malformed(evidence)
		}
		return Verdict{EndpointMisconfigured, ReasonNonTableauResponse,
			"Something other than the Tableau REST API answered: " + evidence + ".",
			"Check spec.server and any proxy, WAF or SSO gateway in front of Tableau: it must pass /api/ through unchanged."}
	}

	if sub, ok := SubCode(e.Detail); ok && e.HTTPStatus >= 400 && e.HTTPStatus < 500 {
		if v, ok := connectedAppFailure(sub, evidence); ok {
			return v
		}
	}
	code := e.Code
	switch {
	case code == "401001" && ev.ConnectedApp:
		return connectedAppSignInRejected(evidence)
	case code == "401002" && ev.ConnectedApp:
		return jwtScopeMissing(evidence)
	case code == "401001":
		return signInRejected(evidence, ev)
	case code == "401000":
		return Verdict{AuthConfigDrift, ReasonCredentialsNotProvided, "Tableau says no credentials were provided: " + evidence + ".",
			"Check that nothing between the operator and Tableau strips the X-Tableau-Auth header, and that spec.site is the site the token belongs to."}
	case code == "401002":
		return Verdict{AuthConfigDrift, ReasonSessionInvalidated,
			"Tableau ended the session: " + evidence + ". With a PAT this usually means another sign-in with the same PAT ended it (one session per PAT), or the session expired.",
			"Give every consumer its own PAT; if this connection's PAT is shared, use spec.validation.signIn: OnChange so the operator does not sign in on its own schedule."}
	case strings.HasPrefix(code, "403"):
		return Verdict{AuthConfigDrift, ReasonPermissionDenied, "Tableau refused the request (permissions or a disabled feature): " + evidence + ".",
			"Check the PAT owner's site role and the site's settings for this operation."}
	case code == "404001" && strings.Contains(strings.ToLower(e.Detail), "is not a valid version"):
		return Verdict{APIVersionMismatch, ReasonAPIVersionNotSupported, "The server does not offer the pinned REST API version: " + evidence + ".",
			"Lower spec.apiVersion to the server's restApiVersion (see status.server) or below."}
	case code == "405000":
		return Verdict{EndpointMisconfigured, ReasonMethodNotAllowed,
			"Tableau received the wrong HTTP method: " + evidence + ". An http:// to https:// redirect turns a sign-in POST into a GET.",
			"Use https:// in spec.server, with the exact host the server redirects to."}
	}
	return Verdict{EndpointMisconfigured, ReasonUnexpectedTableauResponse, "Tableau answered with an error the operator does not expect for this call: " + evidence + ".",
		"Check spec.server, spec.site and spec.apiVersion against the server; the detail above names what Tableau objected to."}
}

func malformed(evidence string) Verdict {
	return Verdict{EndpointMisconfigured, ReasonMalformedResponse,
		"The answer could not be read as a Tableau REST API response: " + evidence + ".",
		"Check that spec.server reaches Tableau directly; a proxy may be truncating or rewriting answers."}
}

// signInRejected narrows 401001 with evidence where there is some, and lists every possible
// cause where there is none: Tableau sends the same code for all of them.
func signInRejected(evidence string, ev Evidence) Verdict {
	// To the second: a rejection seconds after a change is the common case (a person puts a
	// new PAT in the Secret and runs kubectl tableau rotate), and rounding to the minute said
	// "0s" for anything under 30 seconds.
	since := func(t time.Time) time.Duration { return ev.Now.Sub(t).Round(time.Second) }
	switch {
	case !ev.Now.IsZero() && !ev.SecretChangedAt.IsZero() && since(ev.SecretChangedAt) <= RecentChangeWindow:
		return Verdict{AuthConfigDrift, ReasonSignInRejectedAfterSecretChange,
			fmt.Sprintf("Tableau rejected the sign-in (401001) %s after the Secret's content changed: %s. The new token name or secret is the likely cause.", since(ev.SecretChangedAt), evidence),
			"Check the token name and secret just put in the Secret (no trailing newline, the right PAT); restore the previous values if they worked."}
	case !ev.Now.IsZero() && !ev.SiteChangedAt.IsZero() && since(ev.SiteChangedAt) <= RecentChangeWindow:
		return Verdict{AuthConfigDrift, ReasonSignInRejectedAfterSiteChange,
			fmt.Sprintf("Tableau rejected the sign-in (401001) %s after spec.site changed to %q: %s. A site that does not exist, or one the PAT's owner is not a member of, gives this code.", since(ev.SiteChangedAt), ev.Site, evidence),
			"Check spec.site against the contentUrl in the browser's address (/#/site/<contentUrl>/); the default site of Tableau Server is an empty string."}
	case !ev.Now.IsZero() && !ev.LastSignIn.IsZero() && ev.Now.Sub(ev.LastSignIn) > PATIdleExpiry:
		return Verdict{AuthConfigDrift, ReasonPATIdleExpiryLikely,
			fmt.Sprintf("Tableau rejected the sign-in (401001); the last successful sign-in the operator saw was %d days ago, and a PAT unused for 15 consecutive days expires: %s.", int(ev.Now.Sub(ev.LastSignIn).Hours()/24), evidence),
			"Create a new PAT for this user and put it in the Secret; use spec.validation.signIn: Periodic to keep an operator-only PAT from idling out."}
	}
	return Verdict{AuthConfigDrift, ReasonSignInRejected,
		"Tableau rejected the sign-in (401001): " + evidence + ". Tableau gives this one code for a wrong token name or secret, a revoked or expired PAT (15 days unused, or past the site's expiry policy), a site contentUrl that does not exist, and a user who is not a licensed member of the site.",
		"Check in Tableau (My Account Settings) that the PAT exists and is unexpired, that the Secret holds its exact name and secret, and that spec.site is the site's contentUrl; if the PAT is gone, create a new one."}
}

// describe renders the failure's evidence compactly: status, code, summary, detail, request id.
func describe(e *tableau.Error) string {
	var parts []string
	if e.Transport != tableau.TransportNone {
		parts = append(parts, string(e.Transport))
		if e.Cause != nil {
			parts = append(parts, e.Cause.Error())
		}
	} else {
		parts = append(parts, "HTTP "+strconv.Itoa(e.HTTPStatus))
		if e.Code != "" {
			parts = append(parts, "code "+e.Code)
		}
		if e.Summary != "" {
			parts = append(parts, e.Summary)
		}
		if e.Detail != "" {
			parts = append(parts, e.Detail)
		}
		if !e.Body.FromTableau() && e.Body != tableau.BodyEmpty && e.Body != tableau.BodyNone {
			parts = append(parts, string(e.Body)+" body")
		}
	}
	s := e.Endpoint + ": " + strings.Join(parts, ", ")
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// Versions compares the pinned version with serverinfo's restApiVersion. It returns ok=false
// when the pin is supported (not above the server's version).
func Versions(pinned, server string) (Verdict, bool) {
	if !VersionLess(server, pinned) {
		return Verdict{}, false
	}
	return Verdict{APIVersionMismatch, ReasonAPIVersionAboveServer,
		fmt.Sprintf("spec.apiVersion %s is above the server's REST API version %s (serverinfo); calls at %s fail with 404001.", pinned, server, pinned),
		fmt.Sprintf("Set spec.apiVersion to %s or lower; a Tableau Server downgrade or a pin copied from Tableau Cloud causes this.", server)}, true
}

// VersionLess reports whether version a is lower than b (major.minor, compared numerically).
// Unparseable versions compare as not less, so they never cause a false alarm.
func VersionLess(a, b string) bool {
	am, an, okA := splitVersion(a)
	bm, bn, okB := splitVersion(b)
	if !okA || !okB {
		return false
	}
	return am < bm || (am == bm && an < bn)
}

func splitVersion(v string) (int, int, bool) {
	major, minor, ok := strings.Cut(strings.TrimSpace(v), ".")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	return a, b, err1 == nil && err2 == nil
}
