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
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// FaultKind is a failure the simulator can produce on demand.
type FaultKind string

// Fault kinds.
const (
	FaultRateLimitHTML FaultKind = "RateLimitHTML" // 429 with an HTML page, as Tableau Cloud throttles
	FaultRateLimitXML  FaultKind = "RateLimitXML"  // 429 with a tsResponse error 429000
	FaultServerError   FaultKind = "ServerError"   // Status (default 503) with an HTML page
	FaultLatency       FaultKind = "Latency"       // wait Delay, then answer normally
	FaultDrop          FaultKind = "Drop"          // close the connection without an answer
	FaultMalformed     FaultKind = "Malformed"     // 200 with a truncated tsResponse
	FaultRedirect      FaultKind = "Redirect"      // 301 to RedirectTo (another host)
	FaultTSM           FaultKind = "TSM"           // the TSM port's Spring-style 401 JSON
	FaultWAF           FaultKind = "WAF"           // a 403 HTML page from something in between
	// FaultOversized answers Status (default 401) with one field Size bytes long, as a broken
	// proxy or a hostile endpoint may: Field is "code", "summary", "detail" (a tsResponse
	// error), "requestId" (a response header) or "title" (an HTML page).
	FaultOversized FaultKind = "Oversized"
)

// Fault makes matching requests fail.
type Fault struct {
	Kind FaultKind
	// Endpoint limits the fault to one endpoint ("serverinfo", "auth/signin", ...); "" is all.
	Endpoint string
	// Method limits the fault to one HTTP method (a POST that creates, not the GET that
	// lists the same endpoint); "" is all.
	Method string
	// Times is how many requests fail; 0 means until ClearFaults.
	Times int
	// Status overrides the HTTP status of FaultServerError.
	Status int
	// Delay for FaultLatency.
	Delay time.Duration
	// RetryAfter, when set, is sent as the Retry-After header of a 429.
	RetryAfter string
	// RedirectTo is the Location of FaultRedirect.
	RedirectTo string
	// Field and Size of FaultOversized.
	Field string
	Size  int
	used  int
}

// Inject adds a fault; the first matching fault with requests left applies.
func (s *Simulator) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Simulator) takeFault(endpoint, method string) *Fault {
	for _, f := range s.faults {
		if (f.Endpoint != "" && f.Endpoint != endpoint) || (f.Method != "" && f.Method != method) {
			continue
		}
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		f.used++
		copied := *f
		return &copied
	}
	return nil
}

var apiPath = regexp.MustCompile(`^/api/([^/]+)/(.*)$`)
var versionShape = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// Handler serves the simulated REST API.
func (s *Simulator) Handler() http.Handler { return http.HandlerFunc(s.serve) }

func endpointOf(method, rest string) string {
	switch {
	case strings.EqualFold(rest, "serverinfo") && method == http.MethodGet:
		return "serverinfo"
	case rest == "auth/signin":
		return "auth/signin"
	case rest == "auth/signout":
		return "auth/signout"
	case rest == "sessions/current":
		return "sessions/current"
	}
	return adminEndpointOf(rest)
}

func (s *Simulator) serve(w http.ResponseWriter, r *http.Request) {
	m := apiPath.FindStringSubmatch(r.URL.Path)
	version, rest := "", ""
	if m != nil {
		version, rest = m[1], m[2]
	}
	endpoint := endpointOf(r.Method, rest)

	s.mu.Lock()
	s.calls[endpoint]++
	s.seq++
	reqID := fmt.Sprintf("sim-%06d", s.seq)
	fault := s.takeFault(endpoint, r.Method)
	s.mu.Unlock()

	if s.cfg.RequestIDHeader != "" {
		w.Header().Set(s.cfg.RequestIDHeader, reqID)
	}
	out := newWriter(w, r, s.cfg)
	if fault != nil && s.applyFault(w, r, out, fault) {
		return
	}

	if m == nil {
		out.error(http.StatusNotFound, "404003", "Resource Not Found", fmt.Sprintf("Unknown resource '%s' specified in URI.", r.URL.Path))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !versionShape.MatchString(version) || versionAbove(version, s.cfg.RESTAPIVersion) {
		out.error(http.StatusNotFound, "404001", "Resource Not Found", fmt.Sprintf("Version '%s' is not a valid version of the API.", version))
		return
	}
	switch endpoint {
	case "serverinfo":
		if versionAbove(minServerInfoAPIVer, version) {
			out.error(http.StatusNotFound, "404003", "Resource Not Found", fmt.Sprintf("Unknown resource '/%s/serverInfo' specified in URI.", version))
			return
		}
		out.serverInfo(s.cfg.ProductVersion, s.cfg.Build, s.cfg.RESTAPIVersion)
	case "auth/signin":
		if r.Method != http.MethodPost {
			out.methodNotAllowed(r.Method)
			return
		}
		s.handleSignIn(out, r, reqID)
	case "auth/signout":
		if r.Method != http.MethodPost {
			out.methodNotAllowed(r.Method)
			return
		}
		sess, ok := s.authenticate(out, r)
		if !ok {
			return
		}
		s.endSession(sess)
		w.WriteHeader(http.StatusNoContent)
	case "sessions/current":
		sess, ok := s.authenticate(out, r)
		if !ok {
			return
		}
		out.session(sess)
	case endpointConnectedApp, endpointConnectedAppSecrets, endpointPATs, endpointUser:
		s.serveAdmin(out, r, endpoint, version, rest)
	default:
		out.error(http.StatusNotFound, "404003", "Resource Not Found", fmt.Sprintf("Unknown resource '/%s/%s' specified in URI.", version, rest))
	}
}

// applyFault writes the fault's answer; false means answer normally (after a delay).
func (s *Simulator) applyFault(w http.ResponseWriter, r *http.Request, out *writer, f *Fault) bool {
	switch f.Kind {
	case FaultLatency:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		}
		return false
	case FaultRateLimitHTML:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		htmlPage(w, http.StatusTooManyRequests, "429 Too Many Requests", "You have sent too many requests in a given amount of time.")
	case FaultRateLimitXML:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		out.error(http.StatusTooManyRequests, "429000", "Too Many Requests", "Too many requests; retry later.")
	case FaultServerError:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		htmlPage(w, status, fmt.Sprintf("%d %s", status, http.StatusText(status)), "The server is temporarily unable to service your request.")
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `<?xml version='1.0' encoding='UTF-8'?><tsResponse xmlns="http://tableau.com/api"><serverInfo><productVersion build="2024`)
	case FaultRedirect:
		w.Header().Set("Location", f.RedirectTo+r.URL.RequestURI())
		w.WriteHeader(http.StatusMovedPermanently)
	case FaultTSM:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, `{"timestamp":%d,"status":401,"error":"Unauthorized","message":"Please log in at /login to continue","path":%q}`,
			time.Now().UnixMilli(), r.URL.Path)
	case FaultWAF:
		htmlPage(w, http.StatusForbidden, "403 Forbidden", "Request blocked by the web application firewall.")
	case FaultOversized:
		oversized(w, out, f)
	default:
		return false
	}
	return true
}

func htmlPage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>%s</title></head>\n<body><h1>%s</h1><p>%s</p></body></html>\n",
		xmlEscape(title), xmlEscape(title), xmlEscape(text))
}

// authenticate checks X-Tableau-Auth the way Tableau does: none is 401000, a dead token 401002.
func (s *Simulator) authenticate(out *writer, r *http.Request) (*session, bool) {
	token := r.Header.Get("X-Tableau-Auth")
	if token == "" {
		out.error(http.StatusUnauthorized, "401000", "Unauthorized Access", "No authentication credentials were provided")
		return nil, false
	}
	sess, ok := s.lookupSession(token)
	if !ok {
		out.error(http.StatusUnauthorized, "401002", "Unauthorized Access", "Invalid authentication credentials were provided.")
		return nil, false
	}
	return sess, true
}

func (s *Simulator) handleSignIn(out *writer, r *http.Request, reqID string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		out.error(http.StatusBadRequest, "400000", "Bad Request", "Payload is either malformed or incomplete")
		return
	}
	req, ok := parseSignIn(r.Header.Get("Content-Type"), body)
	if !ok {
		out.error(http.StatusBadRequest, "400000", "Bad Request", "Payload is either malformed or incomplete")
		return
	}
	s.signIns = append(s.signIns, SignInCall{Site: req.site, RequestID: reqID})
	if req.jwt != "" {
		s.handleJWTSignIn(out, req.site, req.jwt)
		return
	}
	sess, ok := s.signIn(req.site, req.name, req.secret)
	if !ok {
		out.error(http.StatusUnauthorized, "401001", "Signin Error", "Error signing in to Tableau Server")
		return
	}
	expiry := ""
	if !sess.pat.Expires.IsZero() {
		expiry = estimatedTimeToExpiration(sess.pat.Expires.Sub(s.cfg.Clock.Now()))
	}
	out.credentials(sess, expiry)
}

type signInRequest struct{ name, secret, jwt, site string }

// parseSignIn reads a PAT (personalAccessTokenName and personalAccessTokenSecret) or JWT
// (credentials@jwt) sign-in request, XML or JSON by its Content-Type.
func parseSignIn(contentType string, body []byte) (signInRequest, bool) {
	var req signInRequest
	if strings.Contains(strings.ToLower(contentType), "json") {
		var doc map[string]map[string]any
		if json.Unmarshal(body, &doc) != nil {
			return req, false
		}
		c := doc["credentials"]
		req.name, _ = c["personalAccessTokenName"].(string)
		req.secret, _ = c["personalAccessTokenSecret"].(string)
		req.jwt, _ = c["jwt"].(string)
		if st, isMap := c["site"].(map[string]any); isMap {
			req.site, _ = st["contentUrl"].(string)
		}
		return req, req.jwt != "" || (req.name != "" && req.secret != "")
	}
	var doc struct {
		Credentials struct {
			Name   string `xml:"personalAccessTokenName,attr"`
			Secret string `xml:"personalAccessTokenSecret,attr"`
			JWT    string `xml:"jwt,attr"`
			Site   struct {
				ContentURL string `xml:"contentUrl,attr"`
			} `xml:"site"`
		} `xml:"credentials"`
	}
	if xml.Unmarshal(body, &doc) != nil {
		return req, false
	}
	c := doc.Credentials
	req = signInRequest{name: c.Name, secret: c.Secret, jwt: c.JWT, site: c.Site.ContentURL}
	return req, req.jwt != "" || (req.name != "" && req.secret != "")
}

// writer renders answers in the format the request asked for, the way Tableau writes them.
type writer struct {
	w    http.ResponseWriter
	json bool
	// xmlType is the Content-Type of XML answers: text/xml unless the client asked for application/xml.
	xmlType string
	cfg     Config
}

func newWriter(w http.ResponseWriter, r *http.Request, cfg Config) *writer {
	accept := strings.ToLower(r.Header.Get("Accept"))
	xmlType := "text/xml;charset=UTF-8"
	if strings.Contains(accept, "application/xml") {
		xmlType = "application/xml;charset=UTF-8"
	}
	return &writer{w: w, json: strings.Contains(accept, "application/json"), xmlType: xmlType, cfg: cfg}
}

func (o *writer) writeJSON(status int, body string) {
	o.w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	o.w.WriteHeader(status)
	_, _ = io.WriteString(o.w, body)
}

func (o *writer) writeXML(status int, inner string) {
	ns := "http://tableau.com/api"
	if o.cfg.LegacyNamespace {
		ns = "http://tableausoftware.com/api"
	}
	var b strings.Builder
	if !o.cfg.OmitXMLDeclaration {
		b.WriteString("<?xml version='1.0' encoding='UTF-8'?>")
	}
	fmt.Fprintf(&b, `<tsResponse xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="%s https://help.tableau.com/samples/en-us/rest_api/ts-api_%s.xsd">`,
		ns, ns, strings.ReplaceAll(o.cfg.RESTAPIVersion, ".", "_"))
	b.WriteString(inner)
	b.WriteString("</tsResponse>")
	o.w.Header().Set("Content-Type", o.xmlType)
	o.w.WriteHeader(status)
	_, _ = io.WriteString(o.w, b.String())
}

func (o *writer) error(status int, code, summary, detail string) {
	if o.json {
		o.writeJSON(status, fmt.Sprintf(`{"error":{"summary":%s,"detail":%s,"code":%s}}`, jsonString(summary), jsonString(detail), jsonString(code)))
		return
	}
	o.writeXML(status, fmt.Sprintf(`<error code="%s"><summary>%s</summary><detail>%s</detail></error>`, code, xmlEscape(summary), xmlEscape(detail)))
}

func (o *writer) serverInfo(product, build, rest string) {
	if o.json {
		o.writeJSON(http.StatusOK, fmt.Sprintf(`{"serverInfo":{"productVersion":{"value":%s,"build":%s},"prepConductorVersion":"20242.24.0711.1636","restApiVersion":%s,"platform":"linux","serverSettings":{"oAuthEnabled":true,"sentryEnabled":false}}}`,
			jsonString(product), jsonString(build), jsonString(rest)))
		return
	}
	o.writeXML(http.StatusOK, fmt.Sprintf(`<serverInfo><productVersion build="%s">%s</productVersion><prepConductorVersion>20242.24.0711.1636</prepConductorVersion><restApiVersion>%s</restApiVersion><platform>linux</platform><serverSettings oAuthEnabled="true" sentryEnabled="false"/></serverInfo>`,
		xmlEscape(build), xmlEscape(product), xmlEscape(rest)))
}

func (o *writer) credentials(sess *session, expiry string) {
	if o.json {
		exp := ""
		if expiry != "" {
			exp = `,"estimatedTimeToExpiration":` + jsonString(expiry)
		}
		o.writeJSON(http.StatusOK, fmt.Sprintf(`{"credentials":{"site":{"id":%s,"contentUrl":%s},"user":{"id":%s},"token":%s%s}}`,
			jsonString(sess.site.id), jsonString(sess.site.contentURL), jsonString(sess.user.id), jsonString(sess.token), exp))
		return
	}
	exp := ""
	if expiry != "" {
		exp = fmt.Sprintf(` estimatedTimeToExpiration="%s"`, xmlEscape(expiry))
	}
	o.writeXML(http.StatusOK, fmt.Sprintf(`<credentials token="%s"%s><site id="%s" contentUrl="%s"/><user id="%s"/></credentials>`,
		xmlEscape(sess.token), exp, sess.site.id, xmlEscape(sess.site.contentURL), sess.user.id))
}

func (o *writer) session(sess *session) {
	if o.json {
		o.writeJSON(http.StatusOK, fmt.Sprintf(`{"session":{"site":{"id":%s,"name":%s,"contentUrl":%s},"user":{"id":%s,"name":%s,"siteRole":%s}}}`,
			jsonString(sess.site.id), jsonString(sess.site.name), jsonString(sess.site.contentURL), jsonString(sess.user.id), jsonString(sess.user.name), jsonString(sess.user.siteRole)))
		return
	}
	o.writeXML(http.StatusOK, fmt.Sprintf(`<session><site id="%s" name="%s" contentUrl="%s"/><user id="%s" name="%s" siteRole="%s"/></session>`,
		sess.site.id, xmlEscape(sess.site.name), xmlEscape(sess.site.contentURL), sess.user.id, xmlEscape(sess.user.name), xmlEscape(sess.user.siteRole)))
}

// xmlEscaper escapes what XML requires in text and double-quoted attributes, and no more:
// Tableau writes apostrophes as they are ("Version '3.7' is not a valid version").
var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func xmlEscape(s string) string { return xmlEscaper.Replace(s) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
