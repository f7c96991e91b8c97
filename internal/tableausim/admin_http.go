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
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// JWT sign-in and the site-administrator methods: connected-app secrets, List Personal Access
// Tokens, and Get User on Site (the one scoped method the simulator serves, so a JWT without the
// scope meets 401002 as it does on Tableau).
//
// Where shared/reference/tableau-rest.md is silent the simulator chooses, and says so here:
//   - the HTTP status and code that carry error 128 (400 400000, "(128)" ending the detail, as
//     sign-in carries its sub-codes), and those of a missing app or secret (404 404000, "(126)"
//     or "(127)");
//   - 201 for a created secret, 204 for a deleted one;
//   - 403 403004 when a user who is not a site administrator calls a connected-app method;
//   - a JWT session may call sessions/current and sign out; the connected-app methods and List
//     PATs refuse it with 401002 (the reference gives List PATs no JWT scope and names none for
//     the connected-app methods);
//   - List PATs is served whatever the deployment; the reference says it is Tableau Cloud only.

// Endpoint names, as Calls counts them.
const (
	endpointConnectedApp        = "connected-apps"
	endpointConnectedAppSecrets = "connected-apps/secrets"
	endpointPATs                = "users/personal-access-tokens"
	endpointUser                = "users"
)

// Minimum versions: connected-apps/direct-trust since 3.17, List PATs since 3.21.
const (
	minConnectedAppVersion = "3.17"
	minListPATsVersion     = "3.21"
)

// userReadScope grants Get User on Site (MCP's getUser: "Tableau REST API scope: tableau:users:read").
const userReadScope = "tableau:users:read"

var (
	appPath    = regexp.MustCompile(`^sites/([^/]+)/connected-apps/direct-trust/([^/]+)$`)
	secretPath = regexp.MustCompile(`^sites/([^/]+)/connected-apps/direct-trust/([^/]+)/secrets(?:/([^/]+))?$`)
	patsPath   = regexp.MustCompile(`^sites/([^/]+)/users/([^/]+)/personal-access-tokens$`)
	userPath   = regexp.MustCompile(`^sites/([^/]+)/users/([^/]+)$`)
)

func adminEndpointOf(rest string) string {
	switch {
	case secretPath.MatchString(rest):
		return endpointConnectedAppSecrets
	case appPath.MatchString(rest):
		return endpointConnectedApp
	case patsPath.MatchString(rest):
		return endpointPATs
	case userPath.MatchString(rest):
		return endpointUser
	}
	return "other"
}

// handleJWTSignIn signs in with a connected-app JWT. Each JWT sign-in is its own session: no
// other session ends. A refused JWT is 401001 with the sub-code in the detail, as Tableau
// reports it ("Error signing in to Tableau Server (16)").
func (s *Simulator) handleJWTSignIn(out *writer, contentURL, token string) {
	st, ok := s.sites[contentURL]
	if !ok {
		out.error(http.StatusUnauthorized, "401001", "Signin Error", "Error signing in to Tableau Server")
		return
	}
	now := s.cfg.Clock.Now()
	app, u, scopes, rej := verifyJWT(st, token, now)
	if rej != nil {
		s.jwtRejections = append(s.jwtRejections, rej.why)
		out.error(http.StatusUnauthorized, "401001", "Signin Error", fmt.Sprintf("Error signing in to Tableau Server (%d)", rej.subCode))
		return
	}
	sess := &session{token: newToken(), site: st, user: u, jwt: &jwtGrant{app: app, scopes: scopes}, lastSeen: now}
	s.sessions[sess.token] = sess
	out.credentials(sess, "")
}

// JWTRejections lists why each refused JWT was refused, oldest first (for tests).
func (s *Simulator) JWTRejections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.jwtRejections...)
}

func isSiteAdmin(role string) bool {
	return role == "SiteAdministratorCreator" || role == "SiteAdministratorExplorer" || role == "ServerAdministrator"
}

func (s *Simulator) serveAdmin(out *writer, r *http.Request, endpoint, version, rest string) {
	minVersion := minConnectedAppVersion
	if endpoint == endpointPATs {
		minVersion = minListPATsVersion
	}
	if endpoint != endpointUser && versionAbove(minVersion, version) {
		out.error(http.StatusNotFound, "404003", "Resource Not Found", fmt.Sprintf("Unknown resource '/%s/%s' specified in URI.", version, rest))
		return
	}
	sess, ok := s.authenticate(out, r)
	if !ok {
		return
	}
	var m []string
	for _, re := range []*regexp.Regexp{secretPath, appPath, patsPath, userPath} {
		if m = re.FindStringSubmatch(rest); m != nil {
			break
		}
	}
	if m[1] != sess.site.id {
		if s.siteByID(m[1]) == nil {
			out.error(http.StatusNotFound, "404000", "Site Not Found", fmt.Sprintf("Site '%s' could not be found.", m[1]))
		} else {
			out.error(http.StatusUnauthorized, "401000", "Unauthorized Access", "No authentication credentials were provided")
		}
		return
	}
	if endpoint == endpointUser {
		s.serveUser(out, r, sess, m[2])
		return
	}
	if sess.jwt != nil {
		// The reference gives List PATs no JWT scope ("Not available") and names none for the
		// connected-app methods: a JWT session cannot call them.
		out.error(http.StatusUnauthorized, "401002", "Unauthorized Access", "Invalid authentication credentials were provided.")
		return
	}
	if endpoint == endpointPATs {
		s.servePATs(out, r, sess, m[2])
		return
	}
	if !isSiteAdmin(sess.user.siteRole) {
		out.error(http.StatusForbidden, "403004", "Forbidden", "Only a site or server administrator can manage connected apps.")
		return
	}
	app, ok := sess.site.apps[m[2]]
	if !ok {
		out.error(http.StatusNotFound, "404000", "Resource Not Found", fmt.Sprintf("Connected app '%s' could not be found (%d)", m[2], SubCodeAppNotFound))
		return
	}
	app.purge(s.cfg.Clock.Now())
	secretID := ""
	if endpoint == endpointConnectedAppSecrets {
		secretID = m[3]
	}
	switch {
	case endpoint == endpointConnectedApp && r.Method == http.MethodGet:
		out.connectedApp(app)
	case endpoint == endpointConnectedAppSecrets && secretID == "" && r.Method == http.MethodPost:
		sec, ok := app.createSecret(s.cfg.Clock.Now())
		if !ok {
			out.error(http.StatusBadRequest, "400000", "Bad Request",
				fmt.Sprintf("Connected app secret limit exceeded: an app holds at most %d secrets (%d)", MaxSecretsPerApp, SubCodeSecretLimitExceeded))
			return
		}
		out.connectedAppSecret(http.StatusCreated, sec, true)
	case endpoint == endpointConnectedAppSecrets && secretID != "" && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		sec := app.secret(secretID)
		if sec == nil {
			out.error(http.StatusNotFound, "404000", "Resource Not Found", fmt.Sprintf("Connected app secret '%s' could not be found (%d)", secretID, SubCodeSecretNotFound))
			return
		}
		if r.Method == http.MethodGet {
			// Tableau shows a secret's value only when it is created.
			out.connectedAppSecret(http.StatusOK, sec, false)
			return
		}
		if s.deleteLag > 0 {
			// An eventually consistent backend: acknowledged now, gone later.
			if sec.deleteAt.IsZero() {
				sec.deleteAt = s.cfg.Clock.Now().Add(s.deleteLag)
			}
		} else {
			app.deleteSecret(secretID)
		}
		out.w.WriteHeader(http.StatusNoContent)
	default:
		out.methodNotAllowed(r.Method)
	}
}

func (s *Simulator) siteByID(id string) *site {
	for _, st := range s.sites {
		if st.id == id {
			return st
		}
	}
	return nil
}

func (st *site) userByID(id string) *user {
	for _, u := range st.users {
		if u.id == id {
			return u
		}
	}
	return nil
}

// servePATs lists a user's live PATs: revoked and expired ones are gone, as in My Account.
// A site administrator may list anyone's; other users only their own.
func (s *Simulator) servePATs(out *writer, r *http.Request, sess *session, userID string) {
	if r.Method != http.MethodGet {
		out.methodNotAllowed(r.Method)
		return
	}
	if userID != sess.user.id && !isSiteAdmin(sess.user.siteRole) {
		out.error(http.StatusForbidden, "403004", "Forbidden", "Only a site administrator can list another user's personal access tokens.")
		return
	}
	owner := sess.site.userByID(userID)
	if owner == nil {
		out.error(http.StatusNotFound, "404002", "Resource Not Found", fmt.Sprintf("User '%s' could not be found.", userID))
		return
	}
	var live []*pat
	for _, p := range sess.site.pats {
		if p.owner == owner && !p.revoked && !s.expired(p) {
			live = append(live, p)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Name < live[j].Name })
	out.personalAccessTokens(live)
}

// serveUser is Get User on Site: a JWT session needs tableau:users:read.
func (s *Simulator) serveUser(out *writer, r *http.Request, sess *session, userID string) {
	if r.Method != http.MethodGet {
		out.methodNotAllowed(r.Method)
		return
	}
	if sess.jwt != nil && !scopeGrants(sess.jwt.scopes, userReadScope) {
		out.error(http.StatusUnauthorized, "401002", "Unauthorized Access", "Invalid authentication credentials were provided.")
		return
	}
	u := sess.site.userByID(userID)
	if u == nil {
		out.error(http.StatusNotFound, "404002", "Resource Not Found", fmt.Sprintf("User '%s' could not be found.", userID))
		return
	}
	out.user(u)
}

func (o *writer) methodNotAllowed(method string) {
	o.error(http.StatusMethodNotAllowed, "405000", "Method Not Allowed", fmt.Sprintf("The HTTP method '%s' is not supported for the given resource", method))
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (o *writer) connectedApp(app *connectedApp) {
	if o.json {
		secrets := make([]string, 0, len(app.secrets))
		for _, sec := range app.secrets {
			secrets = append(secrets, fmt.Sprintf(`{"id":%s,"createdAt":%s}`, jsonString(sec.id), jsonString(isoTime(sec.created))))
		}
		o.writeJSON(http.StatusOK, fmt.Sprintf(`{"connectedApplication":{"name":%s,"enabled":%t,"clientId":%s,"createdAt":%s,"unrestrictedEmbedding":false,"secret":[%s]}}`,
			jsonString(app.Name), !app.Disabled, jsonString(app.ClientID), jsonString(isoTime(app.created)), strings.Join(secrets, ",")))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<connectedApplication name="%s" enabled="%t" clientId="%s" createdAt="%s" unrestrictedEmbedding="false">`,
		xmlEscape(app.Name), !app.Disabled, xmlEscape(app.ClientID), isoTime(app.created))
	for _, sec := range app.secrets {
		fmt.Fprintf(&b, `<secret id="%s" createdAt="%s"/>`, xmlEscape(sec.id), isoTime(sec.created))
	}
	b.WriteString("</connectedApplication>")
	o.writeXML(http.StatusOK, b.String())
}

func (o *writer) connectedAppSecret(status int, sec *appSecret, withValue bool) {
	if o.json {
		value := ""
		if withValue {
			value = `,"value":` + jsonString(sec.value)
		}
		o.writeJSON(status, fmt.Sprintf(`{"connectedApplicationSecret":{"id":%s,"createdAt":%s%s}}`, jsonString(sec.id), jsonString(isoTime(sec.created)), value))
		return
	}
	value := ""
	if withValue {
		value = fmt.Sprintf(` value="%s"`, xmlEscape(sec.value))
	}
	o.writeXML(status, fmt.Sprintf(`<connectedApplicationSecret id="%s"%s createdAt="%s"/>`, xmlEscape(sec.id), value, isoTime(sec.created)))
}

func (o *writer) personalAccessTokens(pats []*pat) {
	if o.json {
		items := make([]string, 0, len(pats))
		for _, p := range pats {
			items = append(items, fmt.Sprintf(`{"tokenName":%s,"tokenGuid":%s,"lastUsedAt":%s%s}`,
				jsonString(p.Name), jsonString(p.guid), jsonString(isoTime(p.LastUsed)), patExpiryJSON(p)))
		}
		o.writeJSON(http.StatusOK, `{"personalAccessTokens":[`+strings.Join(items, ",")+`]}`)
		return
	}
	var b strings.Builder
	b.WriteString("<personalAccessTokens>")
	for _, p := range pats {
		exp := ""
		if !p.Expires.IsZero() {
			exp = fmt.Sprintf(` expiresAt="%s"`, isoTime(p.Expires))
		}
		fmt.Fprintf(&b, `<personalAccessToken tokenName="%s" tokenGuid="%s" lastUsedAt="%s"%s/>`, xmlEscape(p.Name), p.guid, isoTime(p.LastUsed), exp)
	}
	b.WriteString("</personalAccessTokens>")
	o.writeXML(http.StatusOK, b.String())
}

func patExpiryJSON(p *pat) string {
	if p.Expires.IsZero() {
		return ""
	}
	return `,"expiresAt":` + jsonString(isoTime(p.Expires))
}

func (o *writer) user(u *user) {
	if o.json {
		o.writeJSON(http.StatusOK, fmt.Sprintf(`{"user":{"id":%s,"name":%s,"siteRole":%s}}`, jsonString(u.id), jsonString(u.name), jsonString(u.siteRole)))
		return
	}
	o.writeXML(http.StatusOK, fmt.Sprintf(`<user id="%s" name="%s" siteRole="%s"/>`, u.id, xmlEscape(u.name), xmlEscape(u.siteRole)))
}
