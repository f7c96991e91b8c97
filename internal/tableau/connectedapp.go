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
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ConnectedApp is a connected-app (direct trust) credential: the app's client id, one of its
// secrets (id and value), the Tableau user to sign in as, and the JWT scopes. Only SecretValue
// is secret; it prints as "[redacted]" like every Secret.
type ConnectedApp struct {
	ClientID    string
	SecretID    string
	SecretValue Secret
	// Username is the JWT's sub: the Tableau user name (the e-mail address on Tableau Cloud),
	// case-sensitive.
	Username string
	// Scopes is the JWT's scp, each of the shape tableau:<resource>:<action>.
	Scopes []string
}

// JWT rules (shared/reference/tableau-rest.md §4).
const (
	// MaxJWTLifetime is the longest exp Tableau Cloud accepts (10 minutes, fixed); Tableau
	// Server defaults to the same and can only raise it.
	MaxJWTLifetime = 10 * time.Minute
	// JWTLifetime is the exp the client sets: half the maximum, so a clock that runs up to five
	// minutes ahead of Tableau's still mints a token Tableau accepts (10096 otherwise).
	JWTLifetime = 5 * time.Minute
	// MinJWTSignInAPIVersion is the first REST API version that signs in with a JWT (Tableau
	// Server 2022.3; TSC's sign_in_with_json_web_token).
	MinJWTSignInAPIVersion = "3.17"
	// jwtAudience is the aud every connected-app JWT carries.
	jwtAudience = "tableau"
)

// scopeRE is the tableau:<resource>:<action> shape: a resource such as datasources or
// viz_data_service, and an action such as read, update or the wildcard *.
var scopeRE = regexp.MustCompile(`^tableau:[a-z][a-z0-9_]*:([a-z][a-z0-9_]*|\*)$`)

// ValidateScopes checks that there is at least one scope, that each has the
// tableau:<resource>:<action> shape, and that none repeats. Scopes are not secret, so the error
// names the offending ones.
func ValidateScopes(scopes []string) error {
	if len(scopes) == 0 {
		return errors.New("no JWT scopes: name at least one, e.g. tableau:content:read")
	}
	var bad, dup []string
	seen := map[string]bool{}
	for _, s := range scopes {
		switch {
		case !scopeRE.MatchString(s):
			bad = append(bad, fmt.Sprintf("%q", s))
		case seen[s]:
			dup = append(dup, fmt.Sprintf("%q", s))
		}
		seen[s] = true
	}
	var problems []string
	if len(bad) > 0 {
		problems = append(problems, fmt.Sprintf("%s not of the shape tableau:<resource>:<action> (lower case, e.g. tableau:datasources:read or tableau:tasks:*)", strings.Join(bad, ", ")))
	}
	if len(dup) > 0 {
		problems = append(problems, "repeated: "+strings.Join(dup, ", "))
	}
	if len(problems) > 0 {
		return errors.New("JWT scopes: " + strings.Join(problems, "; "))
	}
	return nil
}

// InvalidCredentialError is a credential the client refuses before any call: a field missing, or
// scopes of the wrong shape. It never holds a secret value.
type InvalidCredentialError struct{ Problem string }

func (e *InvalidCredentialError) Error() string {
	return "invalid connected-app credential: " + e.Problem
}

// Validate checks the credential before anything is minted: an *InvalidCredentialError, which
// never holds the value.
func (a ConnectedApp) Validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{{"client id", a.ClientID}, {"secret id", a.SecretID},
		{"secret value", a.SecretValue.Reveal()}, {"username", a.Username}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return &InvalidCredentialError{Problem: "no " + strings.Join(missing, ", ")}
	}
	if err := ValidateScopes(a.Scopes); err != nil {
		return &InvalidCredentialError{Problem: err.Error()}
	}
	return nil
}

// MintJWT signs a direct-trust JWT for app: HS256 with the secret value, header kid = secret id
// and iss = client id, claims iss, sub, aud "tableau", exp = now+lifetime, a fresh jti and scp.
// lifetime must be positive and at most MaxJWTLifetime. The token is a credential (anyone who
// holds it can sign in until exp), so it comes back as a Secret.
func MintJWT(app ConnectedApp, now time.Time, lifetime time.Duration) (Secret, error) {
	if err := app.Validate(); err != nil {
		return Secret{}, err
	}
	if lifetime <= 0 || lifetime > MaxJWTLifetime {
		return Secret{}, fmt.Errorf("JWT lifetime %s is not in (0, %s]", lifetime, MaxJWTLifetime)
	}
	jti, err := newJTI()
	if err != nil {
		return Secret{}, err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": app.ClientID,
		"sub": app.Username,
		"aud": jwtAudience,
		"exp": now.Add(lifetime).Unix(),
		"jti": jti,
		"scp": app.Scopes,
	})
	tok.Header["kid"] = app.SecretID
	tok.Header["iss"] = app.ClientID
	signed, err := tok.SignedString([]byte(app.SecretValue.Reveal()))
	if err != nil {
		// golang-jwt's errors name the method or key type, never the key.
		return Secret{}, fmt.Errorf("signing the JWT: %w", err)
	}
	return NewSecret(signed), nil
}

// newJTI is a random version-4 UUID: Tableau rejects a jti it has seen.
func newJTI() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading randomness for the jti: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}

// Client-side wire shapes of the JWT sign-in request: credentials@jwt and the site.
type jwtSignInXML struct {
	XMLName     xml.Name `xml:"tsRequest"`
	Credentials struct {
		JWT  string `xml:"jwt,attr"`
		Site struct {
			ContentURL string `xml:"contentUrl,attr"`
		} `xml:"site"`
	} `xml:"credentials"`
}

type jwtSignInJSON struct {
	Credentials struct {
		JWT  string `json:"jwt"`
		Site struct {
			ContentURL string `json:"contentUrl"`
		} `json:"site"`
	} `json:"credentials"`
}

// SignInWithConnectedApp mints a fresh JWT for app and signs in to site with it. Every JWT
// sign-in is its own session: unlike a PAT sign-in it ends no other session.
func (c *Client) SignInWithConnectedApp(ctx context.Context, site string, app ConnectedApp) (*Session, error) {
	token, err := MintJWT(app, c.now(), JWTLifetime)
	if err != nil {
		return nil, err
	}
	s, err := c.SignInWithJWT(ctx, site, token)
	if te, ok := AsError(err); ok {
		// A proxy page that echoes the request could carry the key too.
		scrub(te, app.SecretValue)
	}
	return s, err
}

// SignInWithJWT signs in to site with a JWT minted elsewhere (or by MintJWT).
func (c *Client) SignInWithJWT(ctx context.Context, site string, token Secret) (*Session, error) {
	if err := c.requireVersion("JWT sign-in", MinJWTSignInAPIVersion); err != nil {
		return nil, err
	}
	var body []byte
	var err error
	if c.format == FormatJSON {
		var r jwtSignInJSON
		r.Credentials.JWT, r.Credentials.Site.ContentURL = token.Reveal(), site
		body, err = json.Marshal(r)
	} else {
		var r jwtSignInXML
		r.Credentials.JWT, r.Credentials.Site.ContentURL = token.Reveal(), site
		body, err = xml.Marshal(r)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the sign-in request: %w", err)
	}
	return c.signIn(ctx, body, token)
}

// requireVersion refuses, without a call, a method that the pinned version does not have.
func (c *Client) requireVersion(method, minimum string) error {
	if versionLess(c.apiVersion, minimum) {
		return &VersionError{Method: method, Minimum: minimum, Pinned: c.apiVersion}
	}
	return nil
}

// signIn posts a sign-in body and reads the session; secret is scrubbed from any error text.
func (c *Client) signIn(ctx context.Context, body []byte, secret Secret) (*Session, error) {
	res, err := c.do(ctx, EndpointSignIn, http.MethodPost, c.apiVersion, "auth/signin", body, secret)
	if err != nil {
		return nil, err
	}
	cr := res.body.credentials
	if cr == nil || cr.Token == "" {
		return nil, res.unexpected("the sign-in answer has no credentials token")
	}
	s := &Session{Token: NewSecret(cr.Token), SiteID: cr.SiteID, SiteContentURL: cr.SiteContentURL, UserID: cr.UserID,
		RequestID: res.requestID, Latency: res.latency}
	if d, ok := ParseEstimatedTimeToExpiration(cr.EstimatedTimeToExpiration); ok {
		s.PATExpiresIn, s.PATExpiryKnown = d, true
	}
	return s, nil
}
