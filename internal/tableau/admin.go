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
	"context"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// The site-administrator methods: connected-app secrets (create, get, list, delete), List
// Personal Access Tokens, and Get User on Site. They take a session signed in with a site administrator's PAT. That
// PAT must be one only the operator uses: signing in with it ends any other session on it.

// Short endpoint names of the admin methods, for metric labels and Call records.
const (
	EndpointConnectedApp         = "connected-apps/direct-trust"
	EndpointConnectedAppSecrets  = "connected-apps/direct-trust/secrets"
	EndpointPersonalAccessTokens = "users/personal-access-tokens"
	EndpointUser                 = "users"
)

// Minimum REST API versions. The connected-apps/direct-trust path replaced
// connected-applications in 3.17; List Personal Access Tokens came in 3.21 (Tableau Cloud).
const (
	MinConnectedAppAPIVersion = "3.17"
	MinListPATsAPIVersion     = "3.21"
)

// ConnectedAppSecretInfo is a connected-app secret as Tableau lists it: no value.
type ConnectedAppSecretInfo struct {
	ID        string
	CreatedAt time.Time
}

// NewConnectedAppSecret is a secret just created. Tableau returns its value only in the answer to
// the create call, so the caller must store Value before anything else can fail.
type NewConnectedAppSecret struct {
	ID        string
	Value     Secret
	CreatedAt time.Time
	RequestID string
}

// PersonalAccessTokenInfo is a PAT as List Personal Access Tokens reports it: no secret.
type PersonalAccessTokenInfo struct {
	Name string
	GUID string
	// LastUsedAt and ExpiresAt are zero when Tableau did not send them or sent an unreadable time.
	LastUsedAt time.Time
	ExpiresAt  time.Time
}

// pathSegment is what an id may look like to be put into a path as it is: Tableau's ids are
// LUIDs (UUIDs); anything with a slash, a dot segment or a query character is refused.
var pathSegment = regexp.MustCompile(`^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$`)

func checkIDs(ids ...[2]string) error {
	for _, id := range ids {
		if !pathSegment.MatchString(id[1]) {
			return fmt.Errorf("%s %q is not an id Tableau issues", id[0], id[1])
		}
	}
	return nil
}

func (c *Client) connectedAppPath(s *Session, clientID string, rest string) (string, error) {
	if err := c.requireVersion("the connected-app methods", MinConnectedAppAPIVersion); err != nil {
		return "", err
	}
	if s == nil {
		return "", errNoSession
	}
	if err := checkIDs([2]string{"site id", s.SiteID}, [2]string{"client id", clientID}); err != nil {
		return "", err
	}
	return "sites/" + s.SiteID + "/connected-apps/direct-trust/" + clientID + rest, nil
}

// CreateConnectedAppSecret creates a secret on the connected app (POST …/secrets, no body).
// Tableau allows two secrets per app; a third is refused (error 128).
func (c *Client) CreateConnectedAppSecret(ctx context.Context, admin *Session, clientID string) (*NewConnectedAppSecret, error) {
	path, err := c.connectedAppPath(admin, clientID, "/secrets")
	if err != nil {
		return nil, err
	}
	res, err := c.doAuth(ctx, EndpointConnectedAppSecrets, http.MethodPost, path, admin)
	if err != nil {
		return nil, err
	}
	w, err := res.body.connectedAppSecret()
	if err != nil || w.Value == "" {
		return nil, res.unexpected("the answer has no connectedApplicationSecret with an id and a value")
	}
	return &NewConnectedAppSecret{ID: w.ID, Value: NewSecret(w.Value), CreatedAt: parseTime(w.CreatedAt), RequestID: res.requestID}, nil
}

// GetConnectedAppSecret reads one secret's id and creation time. A value in the answer is
// ignored: the operator keeps the value it stored at creation.
func (c *Client) GetConnectedAppSecret(ctx context.Context, admin *Session, clientID, secretID string) (*ConnectedAppSecretInfo, error) {
	if err := checkIDs([2]string{"secret id", secretID}); err != nil {
		return nil, err
	}
	path, err := c.connectedAppPath(admin, clientID, "/secrets/"+secretID)
	if err != nil {
		return nil, err
	}
	res, err := c.doAuth(ctx, EndpointConnectedAppSecrets, http.MethodGet, path, admin)
	if err != nil {
		return nil, err
	}
	w, err := res.body.connectedAppSecret()
	if err != nil {
		return nil, res.unexpected("the answer has no connectedApplicationSecret with an id")
	}
	return &ConnectedAppSecretInfo{ID: w.ID, CreatedAt: parseTime(w.CreatedAt)}, nil
}

// ListConnectedAppSecrets lists the app's secrets. The reference has no list-secrets method;
// Get Connected App (GET …/direct-trust/{client-id}) returns the app with its secret elements
// (at most two, per Tableau's XSD), which is what this reads.
func (c *Client) ListConnectedAppSecrets(ctx context.Context, admin *Session, clientID string) ([]ConnectedAppSecretInfo, error) {
	path, err := c.connectedAppPath(admin, clientID, "")
	if err != nil {
		return nil, err
	}
	res, err := c.doAuth(ctx, EndpointConnectedApp, http.MethodGet, path, admin)
	if err != nil {
		return nil, err
	}
	ws, err := res.body.connectedAppSecrets()
	if err != nil {
		return nil, res.unexpected("the answer has no connectedApplication")
	}
	if len(ws) > maxListedSecrets {
		return nil, res.unexpected(fmt.Sprintf("%d connectedApplicationSecret elements, more than a connected app holds", len(ws)))
	}
	out := make([]ConnectedAppSecretInfo, 0, len(ws))
	for _, w := range ws {
		if len(w.ID) > MaxSecretIDLength || !pathSegment.MatchString(w.ID) {
			// Never an id of Tableau's (36-character LUIDs): it is not passed on, so it
			// never reaches status, whose bounds would refuse the whole write.
			return nil, res.unexpected(fmt.Sprintf("a connectedApplicationSecret id of %d characters that is not an id Tableau issues", len(w.ID)))
		}
		out = append(out, ConnectedAppSecretInfo{ID: w.ID, CreatedAt: parseTime(w.CreatedAt)})
	}
	return out, nil
}

// MaxSecretIDLength is the longest connected-app secret id the client passes on (Tableau's are
// 36-character LUIDs); maxListedSecrets the most secrets a listing may name (Tableau allows
// two per app).
const (
	MaxSecretIDLength = 128
	maxListedSecrets  = 8
)

// DeleteConnectedAppSecret deletes a secret: every JWT signed with it stops working at once.
func (c *Client) DeleteConnectedAppSecret(ctx context.Context, admin *Session, clientID, secretID string) error {
	if err := checkIDs([2]string{"secret id", secretID}); err != nil {
		return err
	}
	path, err := c.connectedAppPath(admin, clientID, "/secrets/"+secretID)
	if err != nil {
		return err
	}
	_, err = c.doAuth(ctx, EndpointConnectedAppSecrets, http.MethodDelete, path, admin)
	return err
}

// ListPersonalAccessTokens lists a user's PATs with lastUsedAt and expiresAt (Tableau Cloud,
// REST 3.21+), so expiry is known without signing in with the PAT, which would end the session
// of whoever uses it. userID is the PAT owner's LUID; a site administrator may list any user's.
func (c *Client) ListPersonalAccessTokens(ctx context.Context, admin *Session, userID string) ([]PersonalAccessTokenInfo, error) {
	if err := c.requireVersion("List Personal Access Tokens", MinListPATsAPIVersion); err != nil {
		return nil, err
	}
	if admin == nil {
		return nil, errNoSession
	}
	if err := checkIDs([2]string{"site id", admin.SiteID}, [2]string{"user id", userID}); err != nil {
		return nil, err
	}
	path := "sites/" + admin.SiteID + "/users/" + userID + "/personal-access-tokens"
	res, err := c.doAuth(ctx, EndpointPersonalAccessTokens, http.MethodGet, path, admin)
	if err != nil {
		return nil, err
	}
	ws, err := res.body.personalAccessTokens()
	if err != nil {
		return nil, res.unexpected("the answer has no personalAccessTokens")
	}
	out := make([]PersonalAccessTokenInfo, 0, len(ws))
	for _, w := range ws {
		out = append(out, PersonalAccessTokenInfo{Name: w.Name, GUID: w.GUID, LastUsedAt: parseTime(w.LastUsedAt), ExpiresAt: parseTime(w.ExpiresAt)})
	}
	return out, nil
}

// User is a user of the site as Get User on Site reports it.
type User struct {
	ID, Name, SiteRole string
}

// GetUser reads a user of the session's site (Get User on Site). A JWT session needs the
// tableau:users:read scope for it; without it Tableau answers 401002.
func (c *Client) GetUser(ctx context.Context, s *Session, userID string) (*User, error) {
	if s == nil {
		return nil, errNoSession
	}
	if err := checkIDs([2]string{"site id", s.SiteID}, [2]string{"user id", userID}); err != nil {
		return nil, err
	}
	res, err := c.doAuth(ctx, EndpointUser, http.MethodGet, "sites/"+s.SiteID+"/users/"+userID, s)
	if err != nil {
		return nil, err
	}
	u, err := res.body.user()
	if err != nil {
		return nil, res.unexpected("the answer has no user")
	}
	return &User{ID: u.ID, Name: u.Name, SiteRole: u.SiteRole}, nil
}

// parseTime reads Tableau's ISO 8601 times ("2024-02-01T10:00:00Z"); anything else is zero.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
