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
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BodyKind says what kind of body answered a request, read from its Content-Type and its bytes.
type BodyKind string

// Body kinds. Only TableauXML and TableauJSON come from the Tableau REST API itself.
const (
	BodyNone        BodyKind = ""            // no response arrived
	BodyEmpty       BodyKind = "Empty"       // a response without a body
	BodyTableauXML  BodyKind = "TableauXML"  // a tsResponse document, either namespace
	BodyTableauJSON BodyKind = "TableauJSON" // Tableau's JSON shape
	BodyHTML        BodyKind = "HTML"        // an HTML page: throttling, a proxy, a WAF, a wrong host
	BodyTSMJSON     BodyKind = "TSMJSON"     // Spring-style JSON of the TSM port (8850)
	BodyOtherJSON   BodyKind = "OtherJSON"   // JSON that is not Tableau's
	BodyOtherXML    BodyKind = "OtherXML"    // XML that is not a tsResponse
	BodyMalformed   BodyKind = "Malformed"   // claims or looks like XML or JSON but does not parse
	BodyTooLarge    BodyKind = "TooLarge"    // longer than the client reads
	BodyUnknown     BodyKind = "Unknown"     // anything else (plain text, binary, unknown types)
)

// FromTableau reports whether the body was written by the Tableau REST API.
func (k BodyKind) FromTableau() bool { return k == BodyTableauXML || k == BodyTableauJSON }

// TransportFailure says why no usable response arrived.
type TransportFailure string

// Transport failures.
const (
	TransportNone    TransportFailure = ""
	TransportTimeout TransportFailure = "Timeout"
	TransportRefused TransportFailure = "ConnectionRefused"
	TransportReset   TransportFailure = "ConnectionReset"
	TransportDNS     TransportFailure = "DNSLookupFailed"
	TransportTLS     TransportFailure = "TLSVerificationFailed"
	TransportOther   TransportFailure = "NetworkError"
)

// Error is the one error type of every failed call: what was called, what came back, and
// how long it took. It never holds a credential.
type Error struct {
	// Endpoint is the method and path template, e.g. "POST /api/3.24/auth/signin".
	Endpoint string
	// HTTPStatus is the response status, 0 when no response arrived.
	HTTPStatus int
	// Code is Tableau's error code, e.g. "401001"; empty when the body was not Tableau's.
	Code    string
	Summary string
	Detail  string
	// RequestID is the request id of a response header, when one carries it.
	RequestID string
	Latency   time.Duration
	// RetryAfter is the Retry-After header's delay, 0 when absent.
	RetryAfter time.Duration
	Body       BodyKind
	Transport  TransportFailure
	// RedirectHost is the host a 3xx answer pointed at.
	RedirectHost string
	// Cause is the underlying network or decoding error, if any.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	switch {
	case e.Transport != TransportNone:
		fmt.Fprintf(&b, "%s", e.Transport)
		if e.Cause != nil {
			fmt.Fprintf(&b, ": %v", e.Cause)
		}
	default:
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
		if e.Code != "" {
			fmt.Fprintf(&b, " code %s", e.Code)
		}
		if e.Summary != "" {
			fmt.Fprintf(&b, " %s", e.Summary)
		}
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
		if !e.Body.FromTableau() && e.Body != BodyEmpty {
			fmt.Fprintf(&b, " (%s body, not from the Tableau REST API)", e.Body)
		}
		if e.RedirectHost != "" {
			fmt.Fprintf(&b, " (redirect to host %s)", e.RedirectHost)
		}
		if e.Cause != nil {
			fmt.Fprintf(&b, " (%v)", e.Cause)
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Cause }

// AsError finds the *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var te *Error
	if errors.As(err, &te) {
		return te, true
	}
	return nil, false
}

// VersionError is a method the pinned REST API version does not have. The client returns it
// without making the call.
type VersionError struct {
	Method  string
	Minimum string
	Pinned  string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s needs REST API %s or later; the pinned version is %s", e.Method, e.Minimum, e.Pinned)
}

// versionLess reports whether major.minor version a is below b; unparseable versions compare as
// not less (New has already checked the pin's shape).
func versionLess(a, b string) bool {
	am, an, okA := splitVersion(a)
	bm, bn, okB := splitVersion(b)
	return okA && okB && (am < bm || (am == bm && an < bn))
}

func splitVersion(v string) (int, int, bool) {
	major, minor, ok := strings.Cut(v, ".")
	a, err1 := strconv.Atoi(major)
	b, err2 := strconv.Atoi(minor)
	return a, b, ok && err1 == nil && err2 == nil
}

// IsTableauError reports whether err came back from a call (as opposed to a request the client
// refused to make).
func IsTableauError(err error) bool {
	_, ok := AsError(err)
	return ok
}
