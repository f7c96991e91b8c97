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

// Package gatedclient is the only way the operator calls Tableau: a thin wrapper of
// *tableau.Client that asks a connection's call gate (internal/callgate) before every call,
// and the gate of the administrator's credential before every administrator call, and feeds
// both with every answer. A call the gate holds back does not go out: it returns *HeldError.
package gatedclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Endpoint names of the calls, fed to the gate with each answer.
const (
	EndpointServerInfo    = "serverinfo"
	EndpointSignIn        = "signin"
	EndpointSignOut       = "signout"
	EndpointListSecrets   = "secrets/list"
	EndpointCreateSecret  = "secrets/create"
	EndpointDeleteSecret  = "secrets/delete"
	EndpointListPATs      = "pats/list"
	adminKeyPrefix        = "admin/"
	connectionKeyPrefix   = "connection/"
	verdictKeySeparator   = "|"
	heldMessageTimeFormat = time.RFC3339
)

// HeldError is the answer of a call the gate held back: nothing went out.
type HeldError struct {
	Class  callgate.Class
	Until  time.Time
	Reason string
}

func (e *HeldError) Error() string {
	why := ""
	if e.Reason != "" {
		why = " (" + e.Reason + ")"
	}
	return fmt.Sprintf("the call gate holds %s calls until %s%s", e.Class, e.Until.UTC().Format(heldMessageTimeFormat), why)
}

// AsHeld returns the *HeldError in err's chain.
func AsHeld(err error) (*HeldError, bool) {
	var h *HeldError
	ok := errors.As(err, &h)
	return h, ok
}

// Keeper holds the gates of every connection and administrator credential in memory. It is
// safe for concurrent use.
type Keeper struct {
	mu    sync.Mutex
	gates map[string]callgate.State
}

// update applies f to key's state atomically and returns the result. An open gate is kept
// too: memory that knows the gate opened must not fall back to an older status.
func (k *Keeper) update(key string, f func(st callgate.State, known bool) callgate.State) callgate.State {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gates == nil {
		k.gates = map[string]callgate.State{}
	}
	cur, known := k.gates[key]
	st := f(cur, known)
	k.gates[key] = st
	return st
}

func (k *Keeper) load(key string) (callgate.State, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	st, ok := k.gates[key]
	return st, ok
}

// Forget drops a connection's gate and its verdicts on administrator credentials (the
// connection was deleted).
func (k *Keeper) Forget(connection string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.gates, connectionKeyPrefix+connection)
	for key := range k.gates {
		if strings.HasPrefix(key, adminKeyPrefix) && strings.HasSuffix(key, verdictKeySeparator+connectionKeyPrefix+connection) {
			delete(k.gates, key)
		}
	}
}

// Options bind a Client to one connection.
type Options struct {
	Keeper *Keeper
	// Connection names the connection (namespace/name).
	Connection string
	// Server and Site scope the administrator credential's gate.
	Server, Site string
	// Inputs returns the digest of the connection's inputs now; a change opens the gate.
	Inputs func() string
	// Persisted returns the gate persisted in status (the zero State when none).
	Persisted func() callgate.State
	// Persist records the gate in status; called whenever it changes.
	Persist func(callgate.State)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Policy paces the backoff.
	Policy backoff.Policy
	// Observe, when set, is told of every call made or held back.
	Observe func(class callgate.Class, held bool)
}

// Client is one connection's gated Tableau client. It is used by one reconcile at a time.
type Client struct {
	raw  *tableau.Client
	o    Options
	mu   sync.Mutex
	sess map[*tableau.Session]sessionInfo
	// lastAdminKey is the administrator credential this client last signed in with.
	lastAdminKey string
}

type sessionInfo struct {
	class    callgate.Class
	adminKey string
}

// New wraps raw for one connection.
func New(raw *tableau.Client, o Options) *Client {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Inputs == nil {
		o.Inputs = func() string { return "" }
	}
	if o.Persisted == nil {
		o.Persisted = func() callgate.State { return callgate.State{} }
	}
	if o.Persist == nil {
		o.Persist = func(callgate.State) {}
	}
	if o.Keeper == nil {
		o.Keeper = &Keeper{}
	}
	return &Client{raw: raw, o: o, sess: map[*tableau.Session]sessionInfo{}}
}

// APIVersion is the pinned version the client calls at.
func (c *Client) APIVersion() string { return c.raw.APIVersion() }

func (c *Client) connKey() string { return connectionKeyPrefix + c.o.Connection }

// State is the connection's gate now, under the current inputs. Every change reaches memory
// before status, so memory wins whenever it holds the gate (a status write that failed
// leaves status behind); a process that starts (or takes over) has only status.
func (c *Client) State() callgate.State {
	in := c.o.Inputs()
	mem, known := c.o.Keeper.load(c.connKey())
	return c.current(mem, known, in)
}

func (c *Client) current(mem callgate.State, known bool, in string) callgate.State {
	if known {
		return mem.For(in)
	}
	return c.o.Persisted().For(in)
}

// Until is when class may call next; the zero time when it may call now.
func (c *Client) Until(class callgate.Class) time.Time {
	return c.State().Until(class, c.o.Now())
}

// HoldsBack is Until for a caller that skips its call when the gate is closed: the call it
// skips is counted as held back, like one the gate refused, so the metric shows the gate
// at work on the paths that ask before calling (validation, serverinfo).
func (c *Client) HoldsBack(class callgate.Class) time.Time {
	until := c.Until(class)
	if !until.IsZero() {
		c.observe(class, true)
	}
	return until
}

// Hold closes class until t: a verdict the caller records (a rejected sign-in's next attempt)
// holds in memory even when status cannot be written.
func (c *Client) Hold(class callgate.Class, until time.Time) {
	now := c.o.Now()
	c.updateConn(func(s callgate.State) callgate.State { return s.Hold(class, until, now) })
}

// HoldAdmin closes this connection's administrator calls with the credential this client last
// signed in with until t, in memory: a rejected administrator credential is not tried again
// before the next attempt its caller recorded, even when status cannot be written. The hold
// is the connection's verdict, kept under its inputs like every other hold: a new
// administrator PAT is another credential, and a change of the connection's spec, Secret or
// requested-at opens the gate.
func (c *Client) HoldAdmin(until time.Time) {
	c.mu.Lock()
	key := c.lastAdminKey
	c.mu.Unlock()
	if key == "" {
		return
	}
	now, in := c.o.Now(), c.o.Inputs()
	c.o.Keeper.update(c.verdictKey(key), func(s callgate.State, _ bool) callgate.State {
		next := s.For(in).Hold(callgate.Admin, until, now)
		if !next.Zero() {
			next.Inputs = in
		}
		return next
	})
}

// verdictKey names this connection's verdicts on an administrator credential.
func (c *Client) verdictKey(adminKey string) string {
	return adminKey + verdictKeySeparator + c.connKey()
}

// updateConn applies f to the connection's gate, in memory first, then to status.
func (c *Client) updateConn(f func(callgate.State) callgate.State) {
	in := c.o.Inputs()
	persisted := c.o.Persisted().For(in)
	st := c.o.Keeper.update(c.connKey(), func(mem callgate.State, known bool) callgate.State {
		next := f(c.current(mem, known, in))
		if !next.Zero() {
			next.Inputs = in
		}
		return next
	})
	if !st.Equal(persisted) && !(st.Zero() && persisted.Zero()) {
		c.o.Persist(st)
	}
}

// AdminKey names an administrator credential's gate: the server, the site and the PAT.
func (c *Client) AdminKey(pat tableau.PersonalAccessToken) string {
	h := sha256.New()
	for _, s := range []string{c.o.Server, c.o.Site, pat.Name, pat.Secret.Reveal()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return adminKeyPrefix + hex.EncodeToString(h.Sum(nil)[:16])
}

// admit asks the connection's gate, and the administrator credential's when adminKey is set.
func (c *Client) admit(class callgate.Class, adminKey string) error {
	now := c.o.Now()
	st := c.State()
	until, reason := st.Until(class, now), st.Reason
	if adminKey != "" {
		ast, _ := c.o.Keeper.load(adminKey)
		if u := ast.Until(class, now); u.After(until) {
			until, reason = u, ast.Reason
		}
		vst, _ := c.o.Keeper.load(c.verdictKey(adminKey))
		if u := vst.For(c.o.Inputs()).Until(class, now); u.After(until) {
			until, reason = u, ""
		}
	}
	if !until.IsZero() {
		if reason == "" && st.PendingDelete != "" {
			reason = callgate.ReasonDeletePending
		}
		c.observe(class, true)
		return &HeldError{Class: class, Until: until, Reason: reason}
	}
	c.observe(class, false)
	return nil
}

func (c *Client) observe(class callgate.Class, held bool) {
	if c.o.Observe != nil {
		c.o.Observe(class, held)
	}
}

// answer feeds err (nil for a success) to the gates. Errors that are not Tableau's answers
// (no session, a cancelled context) tell nothing about the server and feed nothing.
func (c *Client) answer(class callgate.Class, endpoint, adminKey string, err error) {
	a := callgate.Answer{Class: class, Endpoint: endpoint}
	if err != nil {
		te, ok := tableau.AsError(err)
		if !ok {
			return
		}
		v, _ := classify.Failure(err, classify.Evidence{Now: c.o.Now()})
		a.Transient, a.RetryAfter, a.Reason = v.Bucket.Transient(), te.RetryAfter, v.Reason
	}
	now := c.o.Now()
	c.updateConn(func(s callgate.State) callgate.State { return s.Observe(a, now, c.o.Policy) })
	if adminKey != "" {
		c.o.Keeper.update(adminKey, func(s callgate.State, _ bool) callgate.State { return s.Observe(a, now, c.o.Policy) })
	}
}

// call runs one gated call. A call cut short by its caller's context (the operator stopping)
// tells nothing about the server; the client's own timeout does.
func (c *Client) call(ctx context.Context, class callgate.Class, endpoint, adminKey string, fn func() error) error {
	if err := c.admit(class, adminKey); err != nil {
		return err
	}
	err := fn()
	if err != nil && ctx.Err() != nil {
		return err
	}
	c.answer(class, endpoint, adminKey, err)
	return err
}

func (c *Client) remember(s *tableau.Session, class callgate.Class, adminKey string) {
	c.mu.Lock()
	c.sess[s] = sessionInfo{class: class, adminKey: adminKey}
	c.mu.Unlock()
}

func (c *Client) session(s *tableau.Session) sessionInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess[s]
}

// ServerInfo calls serverinfo.
func (c *Client) ServerInfo(ctx context.Context) (*tableau.ServerInfo, error) {
	var info *tableau.ServerInfo
	err := c.call(ctx, callgate.ServerInfo, EndpointServerInfo, "", func() (err error) {
		info, err = c.raw.ServerInfo(ctx)
		return err
	})
	return info, err
}

// SignInWithPAT signs in with a PAT: the connection's (class SignIn), a candidate (Check) or
// the site administrator's (Admin, also gated per administrator credential).
func (c *Client) SignInWithPAT(ctx context.Context, class callgate.Class, site string, pat tableau.PersonalAccessToken) (*tableau.Session, error) {
	adminKey := ""
	if class == callgate.Admin {
		adminKey = c.AdminKey(pat)
		c.mu.Lock()
		c.lastAdminKey = adminKey
		c.mu.Unlock()
	}
	var s *tableau.Session
	err := c.call(ctx, class, EndpointSignIn, adminKey, func() (err error) {
		s, err = c.raw.SignInWithPAT(ctx, site, pat)
		return err
	})
	if err == nil {
		c.remember(s, class, adminKey)
	}
	return s, err
}

// AdoptAdmin makes an administrator session that another client of the same connection
// opened (an earlier reconcile's, with the credential of adminKey, see AdminKey) this
// client's: its calls are gated under that credential, and SignOut ends it.
func (c *Client) AdoptAdmin(s *tableau.Session, adminKey string) {
	c.remember(s, callgate.Admin, adminKey)
	c.mu.Lock()
	c.lastAdminKey = adminKey
	c.mu.Unlock()
}

// SignInWithConnectedApp signs in with a JWT of the connected app (class SignIn or Check).
func (c *Client) SignInWithConnectedApp(ctx context.Context, class callgate.Class, site string, app tableau.ConnectedApp) (*tableau.Session, error) {
	var s *tableau.Session
	err := c.call(ctx, class, EndpointSignIn, "", func() (err error) {
		s, err = c.raw.SignInWithConnectedApp(ctx, site, app)
		return err
	})
	if err == nil {
		c.remember(s, class, "")
	}
	return s, err
}

// SignOut ends a session this client opened. Only the shared clock holds it back.
func (c *Client) SignOut(ctx context.Context, s *tableau.Session) error {
	info := c.session(s)
	err := c.call(ctx, callgate.SignOut, EndpointSignOut, info.adminKey, func() error { return c.raw.SignOut(ctx, s) })
	c.mu.Lock()
	delete(c.sess, s)
	c.mu.Unlock()
	return err
}

// adminKeyOf is the administrator gate of a session; an error when the session is not an
// administrator session this client opened.
func (c *Client) adminKeyOf(s *tableau.Session) (string, error) {
	info := c.session(s)
	if info.class != callgate.Admin {
		return "", errors.New("not an administrator session of this client")
	}
	return info.adminKey, nil
}

// ListConnectedAppSecrets lists the app's secrets; a pending delete is settled by it.
func (c *Client) ListConnectedAppSecrets(ctx context.Context, admin *tableau.Session, clientID string) ([]tableau.ConnectedAppSecretInfo, error) {
	key, err := c.adminKeyOf(admin)
	if err != nil {
		return nil, err
	}
	var infos []tableau.ConnectedAppSecretInfo
	err = c.call(ctx, callgate.Admin, EndpointListSecrets, key, func() (err error) {
		infos, err = c.raw.ListConnectedAppSecrets(ctx, admin, clientID)
		return err
	})
	if err == nil {
		ids := make([]string, 0, len(infos))
		for _, in := range infos {
			ids = append(ids, in.ID)
		}
		now := c.o.Now()
		c.updateConn(func(s callgate.State) callgate.State { return s.Listed(ids, now, c.o.Policy) })
	}
	return infos, err
}

// CreateConnectedAppSecret creates a secret on the app.
func (c *Client) CreateConnectedAppSecret(ctx context.Context, admin *tableau.Session, clientID string) (*tableau.NewConnectedAppSecret, error) {
	key, err := c.adminKeyOf(admin)
	if err != nil {
		return nil, err
	}
	var created *tableau.NewConnectedAppSecret
	err = c.call(ctx, callgate.Admin, EndpointCreateSecret, key, func() (err error) {
		created, err = c.raw.CreateConnectedAppSecret(ctx, admin, clientID)
		return err
	})
	return created, err
}

// DeleteConnectedAppSecret deletes a secret. An acknowledged delete is pending until a
// listing no longer shows the secret; that listing waits for the gate's backoff.
func (c *Client) DeleteConnectedAppSecret(ctx context.Context, admin *tableau.Session, clientID, secretID string) error {
	key, err := c.adminKeyOf(admin)
	if err != nil {
		return err
	}
	err = c.call(ctx, callgate.Admin, EndpointDeleteSecret, key, func() error {
		return c.raw.DeleteConnectedAppSecret(ctx, admin, clientID, secretID)
	})
	if err == nil {
		now := c.o.Now()
		c.updateConn(func(s callgate.State) callgate.State { return s.Deleted(secretID, now, c.o.Policy) })
	}
	return err
}

// ListPersonalAccessTokens lists a user's PATs (their expiry) with the administrator's session.
func (c *Client) ListPersonalAccessTokens(ctx context.Context, admin *tableau.Session, userID string) ([]tableau.PersonalAccessTokenInfo, error) {
	key, err := c.adminKeyOf(admin)
	if err != nil {
		return nil, err
	}
	var pats []tableau.PersonalAccessTokenInfo
	err = c.call(ctx, callgate.Admin, EndpointListPATs, key, func() (err error) {
		pats, err = c.raw.ListPersonalAccessTokens(ctx, admin, userID)
		return err
	})
	return pats, err
}
