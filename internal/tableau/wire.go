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
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"mime"
	"regexp"
	"strings"

	"github.com/tableau-operator/tableau-operator/internal/bound"
)

// decoded is what a response body says, whatever its format.
type decoded struct {
	kind BodyKind
	// namespace of a tsResponse: http://tableau.com/api or the legacy http://tableausoftware.com/api.
	namespace string

	errCode, errSummary, errDetail string

	credentials *wireCredentials
	serverInfo  *wireServerInfo
	session     *wireSession

	// raw is a Tableau body as it came, for the admin methods that decode their own element
	// (admin_wire.go); nil for every other kind.
	raw []byte

	// cause says why a body is Malformed.
	cause error
}

type wireCredentials struct {
	Token                     string
	EstimatedTimeToExpiration string
	SiteID, SiteContentURL    string
	UserID                    string
}

type wireServerInfo struct {
	ProductVersion, Build, RESTAPIVersion string
}

type wireSession struct {
	SiteID, SiteName, SiteContentURL string
	UserID, UserName, SiteRole       string
}

// XML shapes. Struct tags carry no namespace, so both the current and the legacy
// namespace decode; the root's namespace is recorded separately.
type xmlTSResponse struct {
	XMLName xml.Name `xml:"tsResponse"`
	Error   *struct {
		Code    string `xml:"code,attr"`
		Summary string `xml:"summary"`
		Detail  string `xml:"detail"`
	} `xml:"error"`
	Credentials *struct {
		Token                     string `xml:"token,attr"`
		EstimatedTimeToExpiration string `xml:"estimatedTimeToExpiration,attr"`
		Site                      struct {
			ID         string `xml:"id,attr"`
			ContentURL string `xml:"contentUrl,attr"`
		} `xml:"site"`
		User struct {
			ID string `xml:"id,attr"`
		} `xml:"user"`
	} `xml:"credentials"`
	ServerInfo *struct {
		ProductVersion struct {
			Value string `xml:",chardata"`
			Build string `xml:"build,attr"`
		} `xml:"productVersion"`
		RESTAPIVersion string `xml:"restApiVersion"`
	} `xml:"serverInfo"`
	Session *struct {
		Site struct {
			ID         string `xml:"id,attr"`
			Name       string `xml:"name,attr"`
			ContentURL string `xml:"contentUrl,attr"`
		} `xml:"site"`
		User struct {
			ID       string `xml:"id,attr"`
			Name     string `xml:"name,attr"`
			SiteRole string `xml:"siteRole,attr"`
		} `xml:"user"`
	} `xml:"session"`
}

// flexString decodes a JSON string or number; Tableau sends error codes as strings, and a
// number from some other writer should not make the whole body unreadable.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

type jsonEnvelope struct {
	Error       json.RawMessage `json:"error"`
	Status      json.RawMessage `json:"status"`
	Message     string          `json:"message"`
	Credentials *struct {
		Token                     string     `json:"token"`
		EstimatedTimeToExpiration flexString `json:"estimatedTimeToExpiration"`
		Site                      struct {
			ID         string `json:"id"`
			ContentURL string `json:"contentUrl"`
		} `json:"site"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"credentials"`
	ServerInfo *struct {
		ProductVersion struct {
			Value string `json:"value"`
			Build string `json:"build"`
		} `json:"productVersion"`
		RESTAPIVersion flexString `json:"restApiVersion"`
	} `json:"serverInfo"`
	Session *struct {
		Site struct {
			ID         string `json:"id"`
			Name       string `json:"name"`
			ContentURL string `json:"contentUrl"`
		} `json:"site"`
		User struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			SiteRole string `json:"siteRole"`
		} `json:"user"`
	} `json:"session"`
	// The admin methods' elements, decoded by admin_wire.go.
	ConnectedApplication       json.RawMessage `json:"connectedApplication"`
	ConnectedApplicationSecret json.RawMessage `json:"connectedApplicationSecret"`
	PersonalAccessTokens       json.RawMessage `json:"personalAccessTokens"`
	User                       json.RawMessage `json:"user"`
}

type jsonError struct {
	Code    flexString `json:"code"`
	Summary string     `json:"summary"`
	Detail  string     `json:"detail"`
}

// decodeBody reads a body by its Content-Type and its bytes. A body longer than the client's
// limit arrives with tooLarge set and is not parsed. Every string it returns is bounded.
func decodeBody(contentType string, body []byte, tooLarge bool) decoded {
	return decodeUnbounded(contentType, body, tooLarge).bounded()
}

func decodeUnbounded(contentType string, body []byte, tooLarge bool) decoded {
	if tooLarge {
		return decoded{kind: BodyTooLarge}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return decoded{kind: BodyEmpty}
	}
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		media = ""
	}
	looksHTML := looksLikeHTML(trimmed)
	switch {
	case looksHTML || media == "text/html" || media == "application/xhtml+xml":
		if looksHTML || !(trimmed[0] == '<' || trimmed[0] == '{') {
			return decodeHTML(trimmed)
		}
		// A Tableau or JSON body mislabelled as HTML: read what it is.
		return sniff(trimmed)
	case isXMLMedia(media):
		return decodeXML(trimmed)
	case isJSONMedia(media):
		return decodeJSON(trimmed)
	default:
		return sniff(trimmed)
	}
}

// sniff decides by the first byte when the Content-Type does not say.
func sniff(b []byte) decoded {
	switch b[0] {
	case '<':
		return decodeXML(b)
	case '{', '[':
		return decodeJSON(b)
	default:
		return decoded{kind: BodyUnknown, errSummary: firstLine(b)}
	}
}

func isXMLMedia(m string) bool {
	return m == "application/xml" || m == "text/xml" || strings.HasSuffix(m, "+xml")
}

func isJSONMedia(m string) bool {
	return m == "application/json" || strings.HasSuffix(m, "+json")
}

func looksLikeHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 512)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html") ||
		strings.Contains(head, "<html") && !strings.Contains(head, "<tsresponse")
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
var h1RE = regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`)
var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// decodeHTML keeps the page's title (or first heading) as the summary: "429 Too Many Requests"
// or "403 Forbidden" is the evidence an on-call engineer needs.
func decodeHTML(b []byte) decoded {
	head := b[:min(len(b), 16<<10)]
	summary := ""
	for _, re := range []*regexp.Regexp{titleRE, h1RE} {
		if m := re.FindSubmatch(head); m != nil {
			summary = cleanText(tagRE.ReplaceAllString(string(m[1]), " "))
			if summary != "" {
				break
			}
		}
	}
	return decoded{kind: BodyHTML, errSummary: summary}
}

func decodeXML(b []byte) decoded {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			return decoded{kind: BodyMalformed, cause: errors.New("XML body has no root element: " + err.Error())}
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	switch strings.ToLower(root.Name.Local) {
	case "tsresponse":
	case "html":
		return decodeHTML(b)
	default:
		if err := drainXML(dec); err != nil {
			return decoded{kind: BodyMalformed, cause: err}
		}
		return decoded{kind: BodyOtherXML, errSummary: "<" + root.Name.Local + "> document"}
	}
	var r xmlTSResponse
	if err := xml.Unmarshal(b, &r); err != nil {
		return decoded{kind: BodyMalformed, cause: errors.New("tsResponse does not parse: " + err.Error())}
	}
	d := decoded{kind: BodyTableauXML, namespace: root.Name.Space, raw: b}
	if r.Error != nil {
		d.errCode = strings.TrimSpace(r.Error.Code)
		d.errSummary = cleanText(r.Error.Summary)
		d.errDetail = cleanText(r.Error.Detail)
	}
	if c := r.Credentials; c != nil {
		d.credentials = &wireCredentials{Token: c.Token, EstimatedTimeToExpiration: c.EstimatedTimeToExpiration,
			SiteID: c.Site.ID, SiteContentURL: c.Site.ContentURL, UserID: c.User.ID}
	}
	if s := r.ServerInfo; s != nil {
		d.serverInfo = &wireServerInfo{ProductVersion: strings.TrimSpace(s.ProductVersion.Value),
			Build: s.ProductVersion.Build, RESTAPIVersion: strings.TrimSpace(s.RESTAPIVersion)}
	}
	if s := r.Session; s != nil {
		d.session = &wireSession{SiteID: s.Site.ID, SiteName: s.Site.Name, SiteContentURL: s.Site.ContentURL,
			UserID: s.User.ID, UserName: s.User.Name, SiteRole: s.User.SiteRole}
	}
	return d
}

func drainXML(dec *xml.Decoder) error {
	for {
		_, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func decodeJSON(b []byte) decoded {
	if !json.Valid(b) {
		return decoded{kind: BodyMalformed, cause: errors.New("JSON body does not parse")}
	}
	var env jsonEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		// Valid JSON of another shape (an array, a string, fields of other types).
		return decoded{kind: BodyOtherJSON}
	}
	if len(env.Error) > 0 && env.Error[0] == '"' {
		// Spring Boot's error shape: {"status":401,"error":"Unauthorized","message":"..."}.
		var title string
		_ = json.Unmarshal(env.Error, &title)
		if len(env.Status) > 0 {
			return decoded{kind: BodyTSMJSON, errSummary: cleanText(title), errDetail: cleanText(env.Message)}
		}
		return decoded{kind: BodyOtherJSON, errSummary: cleanText(title)}
	}
	d := decoded{kind: BodyTableauJSON, raw: b}
	switch {
	case len(env.Error) > 0 && env.Error[0] == '{':
		var e jsonError
		if err := json.Unmarshal(env.Error, &e); err != nil {
			return decoded{kind: BodyOtherJSON}
		}
		d.errCode, d.errSummary, d.errDetail = strings.TrimSpace(string(e.Code)), cleanText(e.Summary), cleanText(e.Detail)
	case env.Credentials != nil || env.ServerInfo != nil || env.Session != nil,
		len(env.ConnectedApplication) > 0, len(env.ConnectedApplicationSecret) > 0, len(env.PersonalAccessTokens) > 0,
		len(env.User) > 0:
	default:
		return decoded{kind: BodyOtherJSON}
	}
	if c := env.Credentials; c != nil {
		d.credentials = &wireCredentials{Token: c.Token, EstimatedTimeToExpiration: string(c.EstimatedTimeToExpiration),
			SiteID: c.Site.ID, SiteContentURL: c.Site.ContentURL, UserID: c.User.ID}
	}
	if s := env.ServerInfo; s != nil {
		d.serverInfo = &wireServerInfo{ProductVersion: s.ProductVersion.Value, Build: s.ProductVersion.Build,
			RESTAPIVersion: string(s.RESTAPIVersion)}
	}
	if s := env.Session; s != nil {
		d.session = &wireSession{SiteID: s.Site.ID, SiteName: s.Site.Name, SiteContentURL: s.Site.ContentURL,
			UserID: s.User.ID, UserName: s.User.Name, SiteRole: s.User.SiteRole}
	}
	return d
}

// cleanText collapses white space, unescapes entities and bounds the length, so evidence fits
// in a status field and a terminal line.
func cleanText(s string) string {
	// Entities and white space shrink a text, never grow it much: cut a huge one first.
	s = bound.Text(s, 4*maxTextLen)
	s = strings.Join(strings.Fields(html.UnescapeString(s)), " ")
	return bound.Text(s, maxTextLen)
}

// Bounds of the strings that come from Tableau or the network: they reach status, events,
// logs and error strings only through these.
const (
	maxTextLen = 300 // summaries, details, titles, causes, request ids
	maxCodeLen = 16  // Tableau's codes are six digits
	maxIDLen   = 128 // LUIDs are 36 characters
	maxNameLen = 256 // content URLs, site and user names, versions and builds
)

// boundedError keeps an error's text within maxTextLen; it unwraps to the original.
type boundedError struct{ err error }

func (e boundedError) Error() string { return bound.Text(e.err.Error(), maxTextLen) }
func (e boundedError) Unwrap() error { return e.err }

func boundCause(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(boundedError); ok {
		return err
	}
	return boundedError{err}
}

// bounded bounds every string of a decoded answer: a broken proxy or a hostile endpoint can
// send a code, a title or a version of any length, and what reaches status must fit in it.
func (d decoded) bounded() decoded {
	d.errCode, d.errSummary, d.errDetail = bound.Text(d.errCode, maxCodeLen), bound.Text(d.errSummary, maxTextLen), bound.Text(d.errDetail, maxTextLen)
	d.namespace = bound.Text(d.namespace, maxNameLen)
	d.cause = boundCause(d.cause)
	if c := d.credentials; c != nil {
		b := *c
		b.EstimatedTimeToExpiration = bound.Text(b.EstimatedTimeToExpiration, maxCodeLen)
		b.SiteID, b.SiteContentURL, b.UserID = bound.Text(b.SiteID, maxIDLen), bound.Text(b.SiteContentURL, maxNameLen), bound.Text(b.UserID, maxIDLen)
		d.credentials = &b
	}
	if s := d.serverInfo; s != nil {
		b := *s
		b.ProductVersion, b.Build, b.RESTAPIVersion = bound.Text(b.ProductVersion, maxNameLen), bound.Text(b.Build, maxNameLen), bound.Text(b.RESTAPIVersion, maxCodeLen)
		d.serverInfo = &b
	}
	if s := d.session; s != nil {
		b := *s
		b.SiteID, b.SiteName, b.SiteContentURL = bound.Text(b.SiteID, maxIDLen), bound.Text(b.SiteName, maxNameLen), bound.Text(b.SiteContentURL, maxNameLen)
		b.UserID, b.UserName, b.SiteRole = bound.Text(b.UserID, maxIDLen), bound.Text(b.UserName, maxNameLen), bound.Text(b.SiteRole, maxNameLen)
		d.session = &b
	}
	return d
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b[:min(len(b), 512)], []byte("\n"))
	return cleanText(strings.ToValidUTF8(string(line), "?"))
}
