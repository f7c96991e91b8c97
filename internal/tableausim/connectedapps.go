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
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"time"
)

// Connected-app (direct trust) rules the simulator keeps (shared/reference/tableau-rest.md §2, §4).
const (
	// MaxSecretsPerApp is Tableau's limit; a third secret is refused with error 128.
	MaxSecretsPerApp = 2
	// DefaultMaxJWTExpiry is the longest exp Tableau accepts by default (fixed on Tableau Cloud).
	DefaultMaxJWTExpiry = 10 * time.Minute
)

// Connected-app sub-codes of Tableau's troubleshooting page.
const (
	SubCodeUserNotFound        = 5
	SubCodeLoginFailed         = 16
	SubCodeAppNotFound         = 126
	SubCodeSecretNotFound      = 127
	SubCodeSecretLimitExceeded = 128
	SubCodeBadJWT              = 10083
	SubCodeJWTParseError       = 10084
	SubCodeExpiryExceedsMax    = 10096
)

// ConnectedApp is a direct-trust connected app on a site.
type ConnectedApp struct {
	ClientID string
	Name     string
	// Disabled apps refuse every JWT (sub-code 126).
	Disabled bool
	// MaxJWTExpiry is how far in the future exp may be; DefaultMaxJWTExpiry when zero (Tableau
	// Server can raise it with tsm).
	MaxJWTExpiry time.Duration
}

type connectedApp struct {
	ConnectedApp
	created time.Time
	secrets []*appSecret // creation order, at most MaxSecretsPerApp
	// seenJTIs maps each accepted jti to its exp: Tableau refuses a token it has seen.
	seenJTIs map[string]time.Time
}

type appSecret struct {
	id, value string
	created   time.Time
	// deleteAt is when an acknowledged delete takes effect (SetDeleteLag); zero: not deleted.
	deleteAt time.Time
}

// AddConnectedApp adds an app (with no secret) to a site, replacing one with the same client id.
func (s *Simulator) AddConnectedApp(contentURL string, app ConnectedApp) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.sites[contentURL]
	if !ok {
		return fmt.Errorf("no site %q", contentURL)
	}
	if app.ClientID == "" {
		return fmt.Errorf("a connected app needs a client id")
	}
	if app.MaxJWTExpiry <= 0 {
		app.MaxJWTExpiry = DefaultMaxJWTExpiry
	}
	st.apps[app.ClientID] = &connectedApp{ConnectedApp: app, created: s.cfg.Clock.Now(), seenJTIs: map[string]time.Time{}}
	return nil
}

// DeleteConnectedApp removes an app and its secrets from a site, as a person in Tableau's UI
// would: JWTs of its secrets no longer sign in, and its REST resources answer 404.
func (s *Simulator) DeleteConnectedApp(contentURL, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.findApp(contentURL, clientID); err != nil {
		return err
	}
	delete(s.sites[contentURL].apps, clientID)
	return nil
}

// AddConnectedAppSecret puts a secret with a known id and value on an app, as a person who
// created it in the UI and copied it would have; the two-secret limit holds.
func (s *Simulator) AddConnectedAppSecret(contentURL, clientID, id, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.findApp(contentURL, clientID)
	if err != nil {
		return err
	}
	if id == "" || value == "" {
		return fmt.Errorf("a secret needs an id and a value")
	}
	if app.secret(id) != nil {
		return fmt.Errorf("app %q already has secret %q", clientID, id)
	}
	if len(app.secrets) >= MaxSecretsPerApp {
		return fmt.Errorf("app %q already has %d secrets (error %d)", clientID, MaxSecretsPerApp, SubCodeSecretLimitExceeded)
	}
	app.secrets = append(app.secrets, &appSecret{id: id, value: value, created: s.cfg.Clock.Now()})
	return nil
}

// ConnectedAppSecretIDs lists an app's secret ids, sorted.
func (s *Simulator) ConnectedAppSecretIDs(contentURL, clientID string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.findApp(contentURL, clientID)
	if err != nil {
		return nil, err
	}
	app.purge(s.cfg.Clock.Now())
	ids := make([]string, 0, len(app.secrets))
	for _, sec := range app.secrets {
		ids = append(ids, sec.id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (s *Simulator) findApp(contentURL, clientID string) (*connectedApp, error) {
	st, ok := s.sites[contentURL]
	if !ok {
		return nil, fmt.Errorf("no site %q", contentURL)
	}
	app, ok := st.apps[clientID]
	if !ok {
		return nil, fmt.Errorf("no connected app %q on site %q", clientID, contentURL)
	}
	return app, nil
}

func (a *connectedApp) secret(id string) *appSecret {
	for _, sec := range a.secrets {
		if sec.id == id {
			return sec
		}
	}
	return nil
}

// createSecret makes a new random secret, or returns false at the limit.
func (a *connectedApp) createSecret(now time.Time) (*appSecret, bool) {
	if len(a.secrets) >= MaxSecretsPerApp {
		return nil, false
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	sec := &appSecret{id: newLUID(), value: base64.StdEncoding.EncodeToString(b), created: now}
	a.secrets = append(a.secrets, sec)
	return sec, true
}

func (a *connectedApp) deleteSecret(id string) bool {
	for i, sec := range a.secrets {
		if sec.id == id {
			a.secrets = append(a.secrets[:i], a.secrets[i+1:]...)
			return true
		}
	}
	return false
}
