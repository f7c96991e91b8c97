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

// Package tableau is the operator's client of the Tableau REST API: serverinfo, sign-in with a
// personal access token or a connected app's JWT, sign-out, the current session, and the
// site-administrator methods for connected-app secrets and personal access tokens. It speaks XML and JSON, reads every
// answer by its Content-Type and bytes, and turns every failure into one *Error.
package tableau

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/bound"
)

// Format is the wire format of requests and of the answers the client asks for.
type Format int

// Wire formats.
const (
	FormatXML Format = iota
	FormatJSON
)

func (f Format) mediaType() string {
	if f == FormatJSON {
		return "application/json"
	}
	return "application/xml"
}

// Short endpoint names, used as metric labels and in Call records.
const (
	EndpointServerInfo     = "serverinfo"
	EndpointSignIn         = "auth/signin"
	EndpointSignOut        = "auth/signout"
	EndpointCurrentSession = "sessions/current"
)

// ServerInfoAPIVersion is the version serverinfo is called at. serverinfo exists since 2.4 and
// older versions keep working on newer servers, so this call succeeds whatever the pin is and
// reports the server's highest version; Tableau's own clients do the same.
const ServerInfoAPIVersion = "2.4"

// Defaults.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBodyBytes = 1 << 20
)

var apiVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// Options configures a Client.
type Options struct {
	// Server is the scheme and host (and optional port) of Tableau Server or the Tableau Cloud pod.
	Server string
	// APIVersion is the pinned REST API version, e.g. "3.24".
	APIVersion string
	// CACertPEM adds PEM CA certificates to the system roots.
	CACertPEM []byte
	// Timeout bounds each call; DefaultTimeout when zero.
	Timeout time.Duration
	// Format of requests and answers; XML when unset.
	Format Format
	// MaxBodyBytes bounds how much of a response body is read; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// Transport replaces the HTTP transport (tests); the CA bundle is ignored then.
	Transport http.RoundTripper
	// Observe, when set, is told of every call (for metrics); it must not block.
	Observe func(Call)
	// UserAgent of every request.
	UserAgent string
	// Now is the clock JWTs are minted by; time.Now when nil. Tableau wants UTC clocks that
	// agree, so tests that move a simulator's clock move this one too.
	Now func() time.Time
}

// Call records one request for metrics: never a credential, never a site or user id.
type Call struct {
	Endpoint   string
	HTTPStatus int
	Code       string
	Latency    time.Duration
	Err        *Error
}

// Client calls one Tableau server at one pinned API version. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	apiVersion string
	format     Format
	timeout    time.Duration
	maxBody    int64
	http       *http.Client
	observe    func(Call)
	userAgent  string
	now        func() time.Time
}

// New validates the options and builds a Client. It makes no call.
func New(o Options) (*Client, error) {
	base, err := ParseServer(o.Server)
	if err != nil {
		return nil, err
	}
	if !apiVersionRE.MatchString(o.APIVersion) {
		return nil, fmt.Errorf("API version %q is not major.minor, for example 3.24", o.APIVersion)
	}
	transport := o.Transport
	if transport == nil {
		tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
		if len(o.CACertPEM) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(o.CACertPEM) {
				return nil, errors.New("the CA bundle holds no PEM certificate")
			}
			tlsConfig.RootCAs = pool
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsConfig
		t.MaxIdleConnsPerHost = 4
		transport = t
	}
	c := &Client{
		base:       base,
		apiVersion: o.APIVersion,
		format:     o.Format,
		timeout:    o.Timeout,
		maxBody:    o.MaxBodyBytes,
		observe:    o.Observe,
		userAgent:  o.UserAgent,
		now:        o.Now,
		http: &http.Client{
			Transport: transport,
			// Never follow a redirect: a POST would turn into a GET (405000), the credential
			// could be sent to another host, and on Tableau Cloud the redirect means the
			// connection names the wrong pod. The 3xx comes back as an *Error with its host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.userAgent == "" {
		c.userAgent = "tableau-operator"
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// ParseServer checks that s is a scheme and host only and returns it as a URL.
func ParseServer(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("server %q is not a URL", s)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("server %q must start with https://", s)
	case u.Host == "":
		return nil, fmt.Errorf("server %q has no host", s)
	case u.User != nil:
		return nil, errors.New("server must not contain user credentials")
	case u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#"):
		return nil, fmt.Errorf("server %q must not contain a query or fragment", s)
	case u.Path != "" && u.Path != "/":
		return nil, fmt.Errorf("server %q must not contain a path", s)
	}
	u.Path = ""
	return u, nil
}

// APIVersion is the pinned version the client calls at.
func (c *Client) APIVersion() string { return c.apiVersion }

// ServerInfo is serverinfo's answer.
type ServerInfo struct {
	ProductVersion string
	Build          string
	RESTAPIVersion string
	RequestID      string
	Latency        time.Duration
}

// ServerInfo calls the unauthenticated serverinfo endpoint. It needs no credential.
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	res, err := c.do(ctx, EndpointServerInfo, http.MethodGet, ServerInfoAPIVersion, "serverinfo", nil, Secret{})
	if err != nil {
		return nil, err
	}
	if res.body.serverInfo == nil || res.body.serverInfo.RESTAPIVersion == "" {
		return nil, res.unexpected("the answer has no serverInfo with a restApiVersion")
	}
	si := res.body.serverInfo
	return &ServerInfo{ProductVersion: si.ProductVersion, Build: si.Build, RESTAPIVersion: si.RESTAPIVersion,
		RequestID: res.requestID, Latency: res.latency}, nil
}

// Session is a signed-in session. Its token is a credential.
type Session struct {
	Token          Secret
	SiteID         string
	SiteContentURL string
	UserID         string
	// PATExpiresIn is estimatedTimeToExpiration, the time until the PAT expires, when sent.
	PATExpiresIn   time.Duration
	PATExpiryKnown bool
	RequestID      string
	Latency        time.Duration
}

// Client-side wire shapes of the sign-in request.
type signInXML struct {
	XMLName     xml.Name `xml:"tsRequest"`
	Credentials struct {
		Name   string `xml:"personalAccessTokenName,attr"`
		Secret string `xml:"personalAccessTokenSecret,attr"`
		Site   struct {
			ContentURL string `xml:"contentUrl,attr"`
		} `xml:"site"`
	} `xml:"credentials"`
}

type signInJSON struct {
	Credentials struct {
		Name   string `json:"personalAccessTokenName"`
		Secret string `json:"personalAccessTokenSecret"`
		Site   struct {
			ContentURL string `json:"contentUrl"`
		} `json:"site"`
	} `json:"credentials"`
}

// SignInWithPAT signs in to site (a contentUrl; "" is Tableau Server's default site). Signing in
// ends every other session of the same PAT: callers must know that nobody else uses it.
func (c *Client) SignInWithPAT(ctx context.Context, site string, pat PersonalAccessToken) (*Session, error) {
	var body []byte
	var err error
	if c.format == FormatJSON {
		var r signInJSON
		r.Credentials.Name, r.Credentials.Secret, r.Credentials.Site.ContentURL = pat.Name, pat.Secret.Reveal(), site
		body, err = json.Marshal(r)
	} else {
		var r signInXML
		r.Credentials.Name, r.Credentials.Secret, r.Credentials.Site.ContentURL = pat.Name, pat.Secret.Reveal(), site
		body, err = xml.Marshal(r)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the sign-in request: %w", err)
	}
	return c.signIn(ctx, body, pat.Secret)
}

// SignOut ends the session.
func (c *Client) SignOut(ctx context.Context, s *Session) error {
	_, err := c.doAuth(ctx, EndpointSignOut, http.MethodPost, "auth/signout", s)
	return err
}

// SessionInfo is what sessions/current says of a session.
type SessionInfo struct {
	SiteID, SiteName, SiteContentURL string
	UserID, UserName, SiteRole       string
}

// CurrentSession asks whether the session still works without signing in again.
func (c *Client) CurrentSession(ctx context.Context, s *Session) (*SessionInfo, error) {
	res, err := c.doAuth(ctx, EndpointCurrentSession, http.MethodGet, "sessions/current", s)
	if err != nil {
		return nil, err
	}
	ws := res.body.session
	if ws == nil {
		return nil, res.unexpected("the answer has no session")
	}
	return &SessionInfo{SiteID: ws.SiteID, SiteName: ws.SiteName, SiteContentURL: ws.SiteContentURL,
		UserID: ws.UserID, UserName: ws.UserName, SiteRole: ws.SiteRole}, nil
}

func (c *Client) doAuth(ctx context.Context, endpoint, method, path string, s *Session) (*result, error) {
	if s == nil || s.Token.Empty() {
		return nil, errNoSession
	}
	return c.do(ctx, endpoint, method, c.apiVersion, path, nil, s.Token, withAuth(s.Token))
}

var errNoSession = errors.New("no session: sign in first")

type requestOption func(*http.Request)

func withAuth(token Secret) requestOption {
	return func(r *http.Request) { r.Header.Set("X-Tableau-Auth", token.Reveal()) }
}

type result struct {
	endpoint  string
	status    int
	body      decoded
	requestID string
	latency   time.Duration
}

// unexpected is the error of a 2xx answer that does not say what the call needs.
func (r *result) unexpected(why string) *Error {
	return &Error{Endpoint: r.endpoint, HTTPStatus: r.status, Code: r.body.errCode, Summary: "Unexpected answer",
		Detail: why, RequestID: r.requestID, Latency: r.latency, Body: r.body.kind, Cause: r.body.cause}
}

// do sends one request and reads its answer. secret is scrubbed from any text that comes back.
func (c *Client) do(ctx context.Context, endpoint, method, version, path string, body []byte, secret Secret, opts ...requestOption) (*result, error) {
	u := *c.base
	u.Path = "/api/" + version + "/" + path
	label := method + " " + u.Path
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: building the request: %w", label, err)
	}
	req.Header.Set("Accept", c.format.mediaType())
	if body != nil {
		req.Header.Set("Content-Type", c.format.mediaType())
	}
	req.Header.Set("User-Agent", c.userAgent)
	for _, o := range opts {
		o(req)
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		e := &Error{Endpoint: label, Latency: time.Since(start), Transport: transportFailure(err), Cause: sanitizeCause(err)}
		c.report(endpoint, e, 0, "")
		return nil, e
	}
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	_ = resp.Body.Close()
	latency := time.Since(start)
	tooLarge := int64(len(raw)) > c.maxBody
	res := &result{endpoint: label, status: resp.StatusCode, requestID: requestID(resp.Header), latency: latency}
	if readErr != nil {
		e := &Error{Endpoint: label, HTTPStatus: resp.StatusCode, RequestID: res.requestID, Latency: latency,
			Transport: transportFailure(readErr), Cause: sanitizeCause(readErr)}
		c.report(endpoint, e, resp.StatusCode, "")
		return nil, e
	}
	res.body = decodeBody(resp.Header.Get("Content-Type"), raw, tooLarge)

	if resp.StatusCode >= 200 && resp.StatusCode < 300 && res.body.errCode == "" {
		if !res.body.kind.FromTableau() && res.body.kind != BodyEmpty {
			e := res.unexpected(fmt.Sprintf("a %s body where the Tableau REST API answers with a tsResponse", res.body.kind))
			scrub(e, secret)
			c.report(endpoint, e, resp.StatusCode, "")
			return nil, e
		}
		c.report(endpoint, nil, resp.StatusCode, "")
		return res, nil
	}
	e := &Error{Endpoint: label, HTTPStatus: resp.StatusCode, Code: res.body.errCode, Summary: res.body.errSummary,
		Detail: res.body.errDetail, RequestID: res.requestID, Latency: latency, Body: res.body.kind,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Cause: res.body.cause}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.RedirectHost = bound.Text(redirectHost(c.base, resp.Header.Get("Location")), maxNameLen)
	}
	scrub(e, secret)
	c.report(endpoint, e, resp.StatusCode, e.Code)
	return nil, e
}

func (c *Client) report(endpoint string, e *Error, status int, code string) {
	if c.observe == nil {
		return
	}
	call := Call{Endpoint: endpoint, HTTPStatus: status, Code: code, Err: e}
	if e != nil {
		call.Latency = e.Latency
	}
	c.observe(call)
}

// scrub removes a credential from text that came back from the server (an echoing proxy page).
func scrub(e *Error, secret Secret) {
	v := secret.Reveal()
	if len(v) < 4 {
		return
	}
	e.Summary = redact(e.Summary, v)
	e.Detail = redact(e.Detail, v)
}

// minRedactedHead is the shortest head of a credential that redact removes from a cut text.
const minRedactedHead = 8

// redact replaces v in text, and also the head of v that ends a text cleanText cut at its bound:
// a long credential (a JWT) echoed near the bound is cut in two, and its head alone is still
// a credential's text.
func redact(text, v string) string {
	text = strings.ReplaceAll(text, v, redacted)
	body, cut := strings.CutSuffix(text, bound.Marker)
	if !cut {
		return text
	}
	for k := len(v) - 1; k >= minRedactedHead; k-- {
		if strings.HasSuffix(body, v[:k]) {
			return body[:len(body)-k] + redacted + bound.Marker
		}
	}
	return text
}

// requestIDHeaders are the headers a request id may come back in; the first present wins.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-Trace-Id"}

func requestID(h http.Header) string {
	for _, name := range requestIDHeaders {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			return cleanText(v)
		}
	}
	return ""
}

// maxRetryAfter bounds a Retry-After header so a bogus date cannot park a connection for days.
const maxRetryAfter = time.Hour

func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Compared in seconds: a huge number would overflow time.Duration and be lost.
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

func redirectHost(base *url.URL, location string) string {
	if location == "" {
		return ""
	}
	u, err := base.Parse(location)
	if err != nil {
		return ""
	}
	return u.Host
}

func transportFailure(err error) TransportFailure {
	var netErr net.Error
	var dnsErr *net.DNSError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr):
		return TransportDNS
	case errors.As(err, &unknownAuthority), errors.As(err, &hostnameErr), errors.As(err, &invalidCert),
		errors.As(err, &verifyErr), errors.As(err, &recordErr),
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return TransportTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return TransportRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.EPIPE):
		return TransportReset
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return TransportTimeout
	default:
		return TransportOther
	}
}

// sanitizeCause keeps the network error's own words but drops url.Error's wrapping, whose
// text repeats the method and URL that Endpoint already carries.
func sanitizeCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return boundCause(ue.Err)
	}
	return boundCause(err)
}

// ParseEstimatedTimeToExpiration reads Tableau's "days:hh:mm" (e.g. "177:05:38"). It is lenient:
// it also takes "hh:mm", surrounding spaces, and plain seconds.
func ParseEstimatedTimeToExpiration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	parts := strings.Split(s, ":")
	nums := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		nums[i] = n
	}
	switch len(nums) {
	case 1:
		return time.Duration(nums[0]) * time.Second, true
	case 2:
		return time.Duration(nums[0])*time.Hour + time.Duration(nums[1])*time.Minute, true
	case 3:
		return time.Duration(nums[0])*24*time.Hour + time.Duration(nums[1])*time.Hour + time.Duration(nums[2])*time.Minute, true
	default:
		return 0, false
	}
}
