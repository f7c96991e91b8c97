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

// Package tableausim is a stand-in for the Tableau REST API subset the operator uses:
// serverinfo, PAT and connected-app (JWT) sign-in, sign-out, sessions/current, connected-app
// secrets and List Personal Access Tokens. It is an independent
// implementation: it shares no wire types, parsing or encoding with the client, and writes its
// answers the way Tableau does (shared/reference/tableau-rest.md). It keeps Tableau's rules:
// one session per PAT (a new sign-in ends the older session, whose next call gets 401002),
// 15-day idle expiry and absolute expiry of PATs on an injectable clock, 404001 for API
// versions above the server's, at most two secrets per connected app, and JWTs checked the way
// connected apps check them (connectedapps.go, jwt.go). Tests drive it through this Go API;
// hack/tableau-simulator runs it.
package tableausim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock tells the simulator's time; ManualClock lets tests move it.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock starts a clock at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now is the clock's time.
func (c *ManualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *ManualClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Tableau's rules that the simulator enforces.
const (
	PATIdleExpiry       = 15 * 24 * time.Hour
	DefaultSessionIdle  = 240 * time.Minute
	minServerInfoAPIVer = "2.4"
)

// Config sets up a Simulator. Zero values take the defaults in New.
type Config struct {
	RESTAPIVersion string
	ProductVersion string
	Build          string
	Clock          Clock
	// SessionIdle ends sessions unused this long (Tableau Server's default is 240 minutes).
	SessionIdle time.Duration
	// LegacyNamespace answers XML in http://tableausoftware.com/api instead of http://tableau.com/api.
	LegacyNamespace bool
	// OmitXMLDeclaration leaves out <?xml ...?>, as some Tableau versions do.
	OmitXMLDeclaration bool
	// RequestIDHeader, when set, names a response header that carries a request id. No public
	// source says which header, if any, Tableau uses, so it is off by default.
	RequestIDHeader string
}

// PAT is a personal access token as a site administrator sees it.
type PAT struct {
	Name   string
	Secret string
	// User is the owner's user name; defaults to the token name. The user is added to the site
	// if it is not there yet.
	User string
	// SiteRole is the owner's site role when the user is new; SiteAdministratorCreator when
	// empty, so a PAT can call the site-administrator methods unless told otherwise.
	SiteRole string
	Created  time.Time
	// Expires is the absolute expiry; zero means none.
	Expires time.Time
	// LastUsed starts the idle clock; defaults to Created.
	LastUsed time.Time
}

// PATState is what the simulator knows of a PAT now.
type PATState struct {
	LastUsed   time.Time
	Revoked    bool
	Expired    bool
	HasSession bool
}

type site struct {
	id, name, contentURL string
	pats                 map[string]*pat
	users                map[string]*user
	apps                 map[string]*connectedApp
}

type user struct {
	id, name, siteRole string
}

type pat struct {
	PAT
	guid    string
	owner   *user
	revoked bool
	session string
}

// session is a signed-in session: of a PAT (pat set; one per PAT) or of a JWT (jwt set; any number).
type session struct {
	token    string
	site     *site
	user     *user
	pat      *pat
	jwt      *jwtGrant
	lastSeen time.Time
}

// jwtGrant is what a JWT sign-in was granted: its app and its scopes.
type jwtGrant struct {
	app    *connectedApp
	scopes []string
}

// Simulator is a simulated Tableau server. It is safe for concurrent use.
type Simulator struct {
	mu       sync.Mutex
	cfg      Config
	sites    map[string]*site
	sessions map[string]*session
	calls    map[string]int
	signIns  []SignInCall
	faults   []*Fault
	seq      int
	// deleteLag keeps an acknowledged secret delete listed this long (SetDeleteLag).
	deleteLag time.Duration
	// jwtRejections says why each refused JWT was refused.
	jwtRejections []string
}

// New builds a simulator with no sites.
func New(cfg Config) *Simulator {
	if cfg.RESTAPIVersion == "" {
		cfg.RESTAPIVersion = "3.24"
	}
	if cfg.ProductVersion == "" {
		cfg.ProductVersion = "2024.2.0"
	}
	if cfg.Build == "" {
		cfg.Build = "20242.24.0711.1636"
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	return &Simulator{cfg: cfg, sites: map[string]*site{}, sessions: map[string]*session{}, calls: map[string]int{}}
}

// AddSite adds a site; contentURL "" is the default site.
func (s *Simulator) AddSite(contentURL, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sites[contentURL]; ok {
		return
	}
	s.sites[contentURL] = &site{id: newLUID(), name: name, contentURL: contentURL, pats: map[string]*pat{},
		users: map[string]*user{}, apps: map[string]*connectedApp{}}
}

// AddPAT adds a PAT on a site, replacing one of the same name.
func (s *Simulator) AddPAT(contentURL string, p PAT) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[contentURL]
	if !ok {
		return fmt.Errorf("no site %q", contentURL)
	}
	if p.Name == "" || p.Secret == "" {
		return fmt.Errorf("a PAT needs a name and a secret")
	}
	if p.Created.IsZero() {
		p.Created = s.cfg.Clock.Now()
	}
	if p.LastUsed.IsZero() {
		p.LastUsed = p.Created
	}
	if p.User == "" {
		p.User = p.Name
	}
	if old, ok := st.pats[p.Name]; ok && old.session != "" {
		delete(s.sessions, old.session)
	}
	st.pats[p.Name] = &pat{PAT: p, guid: newLUID(), owner: st.addUser(p.User, p.SiteRole)}
	return nil
}

// AddUser adds a user to a site (JWTs sign in as users); an existing user keeps its role.
func (s *Simulator) AddUser(contentURL, name, siteRole string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[contentURL]
	if !ok {
		return fmt.Errorf("no site %q", contentURL)
	}
	if name == "" {
		return fmt.Errorf("a user needs a name")
	}
	st.addUser(name, siteRole)
	return nil
}

// UserID is a user's LUID.
func (s *Simulator) UserID(contentURL, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[contentURL]
	if !ok {
		return "", fmt.Errorf("no site %q", contentURL)
	}
	u, ok := st.users[name]
	if !ok {
		return "", fmt.Errorf("no user %q on site %q", name, contentURL)
	}
	return u.id, nil
}

func (st *site) addUser(name, siteRole string) *user {
	if u, ok := st.users[name]; ok {
		return u
	}
	if siteRole == "" {
		siteRole = "SiteAdministratorCreator"
	}
	u := &user{id: newLUID(), name: name, siteRole: siteRole}
	st.users[name] = u
	return u
}

// RevokePAT revokes a PAT and ends its session, as a site administrator can.
func (s *Simulator) RevokePAT(contentURL, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.findPAT(contentURL, name)
	if err != nil {
		return err
	}
	p.revoked = true
	if p.session != "" {
		delete(s.sessions, p.session)
		p.session = ""
	}
	return nil
}

// PATState reports a PAT's state.
func (s *Simulator) PATState(contentURL, name string) (PATState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.findPAT(contentURL, name)
	if err != nil {
		return PATState{}, err
	}
	_, live := s.sessions[p.session]
	return PATState{LastUsed: p.LastUsed, Revoked: p.revoked, Expired: s.expired(p), HasSession: live}, nil
}

// SetVersions changes what serverinfo reports and which API versions are served.
func (s *Simulator) SetVersions(restAPIVersion, productVersion, build string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.RESTAPIVersion, s.cfg.ProductVersion, s.cfg.Build = restAPIVersion, productVersion, build
}

// Calls is the number of requests to an endpoint ("serverinfo", "auth/signin", "auth/signout",
// "sessions/current", "connected-apps", "connected-apps/secrets", "users/personal-access-tokens",
// "users", or "other"), faults included.
func (s *Simulator) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// SignInCall is one sign-in request the simulator answered: the site it named and the request
// id it sent back (in Config.RequestIDHeader, when set).
type SignInCall struct {
	Site      string
	RequestID string
}

// SignIns is the log of every sign-in request with a well-formed body (PAT or JWT, accepted or
// refused), in order; a request a fault answered is not in it. Tests match it call for call
// against what the operator recorded.
func (s *Simulator) SignIns() []SignInCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SignInCall(nil), s.signIns...)
}

// AllCalls is a copy of every endpoint's count.
func (s *Simulator) AllCalls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls sets every count to zero.
func (s *Simulator) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.signIns = nil
}

// SiteNames lists the sites' contentUrls, sorted.
func (s *Simulator) SiteNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.sites {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Simulator) findPAT(contentURL, name string) (*pat, error) {
	st, ok := s.sites[contentURL]
	if !ok {
		return nil, fmt.Errorf("no site %q", contentURL)
	}
	p, ok := st.pats[name]
	if !ok {
		return nil, fmt.Errorf("no PAT %q on site %q", name, contentURL)
	}
	return p, nil
}

func (s *Simulator) expired(p *pat) bool {
	now := s.cfg.Clock.Now()
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return true
	}
	return now.Sub(p.LastUsed) >= PATIdleExpiry
}

// signIn applies Tableau's PAT rules. It returns the new session, or ok=false for 401001.
func (s *Simulator) signIn(contentURL, name, secret string) (*session, bool) {
	st, ok := s.sites[contentURL]
	if !ok {
		return nil, false
	}
	p, ok := st.pats[name]
	if !ok || subtle.ConstantTimeCompare([]byte(p.Secret), []byte(secret)) != 1 || p.revoked || s.expired(p) {
		return nil, false
	}
	now := s.cfg.Clock.Now()
	p.LastUsed = now
	if p.session != "" {
		// One session per PAT: the new sign-in ends the old session.
		delete(s.sessions, p.session)
	}
	sess := &session{token: newToken(), site: st, user: p.owner, pat: p, lastSeen: now}
	s.sessions[sess.token] = sess
	p.session = sess.token
	return sess, true
}

// lookupSession finds a live session; an idle one is ended.
func (s *Simulator) lookupSession(token string) (*session, bool) {
	sess, ok := s.sessions[token]
	if !ok {
		return nil, false
	}
	now := s.cfg.Clock.Now()
	if now.Sub(sess.lastSeen) >= s.cfg.SessionIdle {
		s.endSession(sess)
		return nil, false
	}
	sess.lastSeen = now
	return sess, true
}

func (s *Simulator) endSession(sess *session) {
	delete(s.sessions, sess.token)
	if sess.pat != nil && sess.pat.session == sess.token {
		sess.pat.session = ""
	}
}

// estimatedTimeToExpiration renders time left as Tableau does: "days:hh:mm".
func estimatedTimeToExpiration(left time.Duration) string {
	if left < 0 {
		left = 0
	}
	mins := int64(left / time.Minute)
	return fmt.Sprintf("%d:%02d:%02d", mins/(24*60), (mins/60)%24, mins%60)
}

// versionAbove reports whether a is higher than b; both are major.minor.
func versionAbove(a, b string) bool {
	am, an := versionParts(a)
	bm, bn := versionParts(b)
	return am > bm || (am == bm && an > bn)
}

func versionParts(v string) (int, int) {
	major, minor, _ := strings.Cut(v, ".")
	a, _ := strconv.Atoi(major)
	b, _ := strconv.Atoi(minor)
	return a, b
}

func newLUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newToken makes a credentials token shaped like Tableau's: "<random>|<random>".
func newToken() string {
	a := make([]byte, 16)
	b := make([]byte, 24)
	_, _ = rand.Read(a)
	_, _ = rand.Read(b)
	return hex.EncodeToString(a) + "|" + hex.EncodeToString(b)
}
