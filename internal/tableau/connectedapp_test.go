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

package tableau_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

const (
	clientID    = "0b8a7e3c-1f2d-4c5b-9a8e-7d6c5b4a3f21"
	secretID    = "5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c"
	secretValue = "Y29ubmVjdGVkLWFwcC1zZWNyZXQtbmV2ZXItcHJpbnQ="
	appUser     = "ana@example.com"
)

var appScopes = []string{"tableau:content:read", "tableau:users:read"}

func connectedApp() tableau.ConnectedApp {
	return tableau.ConnectedApp{ClientID: clientID, SecretID: secretID, SecretValue: tableau.NewSecret(secretValue),
		Username: appUser, Scopes: appScopes}
}

// newAppFixture is newFixture plus a connected app with one secret, a user to sign in as, and a
// client whose JWT clock is the simulator's.
func newAppFixture(t *testing.T, format tableau.Format) (*fixture, *tableau.Client) {
	t.Helper()
	f := newFixture(t, tableausim.Config{}, true)
	if err := f.sim.AddConnectedApp(site, tableausim.ConnectedApp{ClientID: clientID, Name: "operator"}); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.AddConnectedAppSecret(site, clientID, secretID, secretValue); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.AddUser(site, appUser, "Viewer"); err != nil {
		t.Fatal(err)
	}
	return f, f.client(t, format, func(o *tableau.Options) { o.Now = f.clock.Now })
}

// noLeak fails if any printed form of err holds a credential value.
func noLeak(t *testing.T, err error, values ...string) {
	t.Helper()
	if err == nil {
		return
	}
	text := fmt.Sprintf("%v %+v %#v", err, err, err)
	if te, ok := tableau.AsError(err); ok {
		text += fmt.Sprintf(" %+v %#v", *te, *te)
	}
	for _, v := range append(values, secretValue, secretText) {
		if v != "" && strings.Contains(text, v) {
			t.Fatalf("a credential leaked into the error: %s", text)
		}
	}
}

func TestValidateScopes(t *testing.T) {
	cases := []struct {
		scopes []string
		ok     bool
		want   string
	}{
		{[]string{"tableau:content:read"}, true, ""},
		{[]string{"tableau:viz_data_service:read", "tableau:tasks:*", "tableau:datasources:update"}, true, ""},
		{nil, false, "at least one"},
		{[]string{"tableau:content"}, false, `"tableau:content"`},
		{[]string{"Tableau:content:read"}, false, "shape"},
		{[]string{"tableau:content:read:extra"}, false, "shape"},
		{[]string{"tableau::read"}, false, "shape"},
		{[]string{"tableau:content:read "}, false, "shape"},
		{[]string{"tableau:*:read"}, false, "shape"},
		{[]string{"tableau:content:read", "tableau:content:read"}, false, "repeated"},
	}
	for _, tc := range cases {
		err := tableau.ValidateScopes(tc.scopes)
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ValidateScopes(%q) = %v, want ok=%v mentioning %q", tc.scopes, err, tc.ok, tc.want)
		}
	}
}

func TestMintJWT(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tok, err := tableau.MintJWT(connectedApp(), now, tableau.JWTLifetime)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), tok.Reveal()) {
		t.Error("printing a JWT shows it")
	}
	parsed, err := jwt.Parse(tok.Reveal(), func(*jwt.Token) (any, error) { return []byte(secretValue), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithAudience("tableau"))
	if err != nil {
		t.Fatalf("the minted JWT does not verify: %v", err)
	}
	if parsed.Header["kid"] != secretID || parsed.Header["iss"] != clientID || parsed.Header["typ"] != "JWT" {
		t.Errorf("header = %v", parsed.Header)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	if claims["iss"] != clientID || claims["sub"] != appUser || claims["aud"] != "tableau" {
		t.Errorf("claims = %v", claims)
	}
	exp, _ := claims.GetExpirationTime()
	if exp == nil || exp.Sub(now) != 5*time.Minute {
		t.Errorf("exp = %v, want now+5m", exp)
	}
	if scp, _ := claims["scp"].([]any); len(scp) != 2 || scp[0] != appScopes[0] || scp[1] != appScopes[1] {
		t.Errorf("scp = %v", claims["scp"])
	}
	other, _ := tableau.MintJWT(connectedApp(), now, tableau.JWTLifetime)
	otherParsed, _, _ := jwt.NewParser().ParseUnverified(other.Reveal(), jwt.MapClaims{})
	if jti := claims["jti"]; jti == "" || jti == otherParsed.Claims.(jwt.MapClaims)["jti"] {
		t.Errorf("jti %v is empty or repeats", jti)
	}

	for _, bad := range []struct {
		name     string
		app      tableau.ConnectedApp
		lifetime time.Duration
		want     string
	}{
		{"exp above 10 minutes", connectedApp(), 11 * time.Minute, "lifetime"},
		{"no secret value", func() tableau.ConnectedApp { a := connectedApp(); a.SecretValue = tableau.Secret{}; return a }(), time.Minute, "secret value"},
		{"no username", func() tableau.ConnectedApp { a := connectedApp(); a.Username = ""; return a }(), time.Minute, "username"},
		{"bad scope", func() tableau.ConnectedApp { a := connectedApp(); a.Scopes = []string{"read"}; return a }(), time.Minute, "shape"},
	} {
		_, err := tableau.MintJWT(bad.app, now, bad.lifetime)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want an error about %q", bad.name, err, bad.want)
		}
		noLeak(t, err)
	}
}

func TestConnectedAppSignIn(t *testing.T) {
	for _, format := range []tableau.Format{tableau.FormatXML, tableau.FormatJSON} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			f, c := newAppFixture(t, format)
			ctx := context.Background()
			s, err := c.SignInWithConnectedApp(ctx, site, connectedApp())
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.CurrentSession(ctx, s)
			if err != nil || info.UserName != appUser || info.SiteContentURL != site {
				t.Fatalf("current session = %+v, %v", info, err)
			}
			u, err := c.GetUser(ctx, s, s.UserID)
			if err != nil || u.Name != appUser || u.SiteRole != "Viewer" {
				t.Fatalf("GetUser with tableau:users:read = %+v, %v", u, err)
			}
			if err := c.SignOut(ctx, s); err != nil {
				t.Fatal(err)
			}
			if n := f.sim.Calls("auth/signin"); n != 1 {
				t.Errorf("sign-ins = %d", n)
			}
		})
	}
}

func TestAJWTSignInEndsNoOtherSession(t *testing.T) {
	f, c := newAppFixture(t, tableau.FormatXML)
	ctx := context.Background()
	workloadPAT, err := c.SignInWithPAT(ctx, site, pat)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.SignInWithConnectedApp(ctx, site, connectedApp())
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.SignInWithConnectedApp(ctx, site, connectedApp())
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*tableau.Session{"first JWT session": first, "second JWT session": second, "a PAT session": workloadPAT} {
		if _, err := c.CurrentSession(ctx, s); err != nil {
			t.Errorf("%s ended after another JWT sign-in: %v", name, err)
		}
	}
	if len(f.sim.JWTRejections()) != 0 {
		t.Errorf("rejections: %v", f.sim.JWTRejections())
	}
}

// TestJWTRejectionsAreClassified signs in with tokens that break one rule each: the simulator
// refuses each, and the classifier names it with a next step.
func TestJWTRejectionsAreClassified(t *testing.T) {
	ctx := context.Background()
	mint := func(now time.Time, edit func(h map[string]any, c jwt.MapClaims)) tableau.Secret {
		claims := jwt.MapClaims{"iss": clientID, "sub": appUser, "aud": "tableau", "exp": now.Add(5 * time.Minute).Unix(),
			"jti": fmt.Sprintf("jti-%d", now.UnixNano()), "scp": appScopes}
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		tok.Header["kid"], tok.Header["iss"] = secretID, clientID
		if edit != nil {
			edit(tok.Header, claims)
		}
		signed, err := tok.SignedString([]byte(secretValue))
		if err != nil {
			t.Fatal(err)
		}
		return tableau.NewSecret(signed)
	}
	cases := []struct {
		name       string
		edit       func(h map[string]any, c jwt.MapClaims)
		replay     bool
		wantReason string
		wantSub    string
	}{
		{"wrong kid", func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "9f8e7d6c-0000-4000-8000-000000000000" }, false,
			classify.ReasonConnectedAppSecretNotFound, "(127)"},
		{"wrong aud", func(_ map[string]any, c jwt.MapClaims) { c["aud"] = "tableau-cloud" }, false, classify.ReasonConnectedAppLoginFailed, "(16)"},
		{"expired", func(_ map[string]any, c jwt.MapClaims) { c["exp"] = start.Add(-time.Second).Unix() }, false, classify.ReasonConnectedAppLoginFailed, "(16)"},
		{"exp beyond ten minutes", func(_ map[string]any, c jwt.MapClaims) { c["exp"] = start.Add(11 * time.Minute).Unix() }, false,
			classify.ReasonJWTExpiryTooLong, "(10096)"},
		{"reused jti", nil, true, classify.ReasonConnectedAppLoginFailed, "(16)"},
		{"unknown client id", func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "11111111-2222-4333-8444-555555555555" }, false,
			classify.ReasonConnectedAppNotFound, "(126)"},
		{"user not on the site", func(_ map[string]any, c jwt.MapClaims) { c["sub"] = "Ana@example.com" }, false,
			classify.ReasonConnectedAppUserNotFound, "(5)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newAppFixture(t, tableau.FormatJSON)
			tok := mint(start, tc.edit)
			if tc.replay {
				if _, err := c.SignInWithJWT(ctx, site, tok); err != nil {
					t.Fatalf("the first use of the token must work: %v", err)
				}
			}
			_, err := c.SignInWithJWT(ctx, site, tok)
			te := mustTableauError(t, err)
			noLeak(t, err, tok.Reveal())
			if te.HTTPStatus != 401 || te.Code != "401001" || !strings.HasSuffix(te.Detail, tc.wantSub) {
				t.Fatalf("got %v, want 401001 ending %s", te, tc.wantSub)
			}
			v, _ := classify.Failure(err, classify.Evidence{Now: f.clock.Now(), ConnectedApp: true})
			if v.Reason != tc.wantReason || v.NextStep == "" {
				t.Errorf("classified %s (%q), want %s with a next step", v.Reason, v.NextStep, tc.wantReason)
			}
			if len(f.sim.JWTRejections()) != 1 {
				t.Errorf("simulator rejections = %v, want one", f.sim.JWTRejections())
			}
		})
	}

	t.Run("missing scope", func(t *testing.T) {
		f, c := newAppFixture(t, tableau.FormatXML)
		app := connectedApp()
		app.Scopes = []string{"tableau:content:read"}
		s, err := c.SignInWithConnectedApp(ctx, site, app)
		if err != nil {
			t.Fatalf("signing in needs no particular scope: %v", err)
		}
		_, err = c.GetUser(ctx, s, s.UserID)
		te := mustTableauError(t, err)
		if te.Code != "401002" {
			t.Fatalf("GetUser without tableau:users:read = %v, want 401002", te)
		}
		v, _ := classify.Failure(err, classify.Evidence{Now: f.clock.Now(), ConnectedApp: true})
		if v.Reason != classify.ReasonJWTScopeMissing || !strings.Contains(v.NextStep, "scope") {
			t.Errorf("classified %s: %s", v.Reason, v.NextStep)
		}
	})
}

// TestConnectedAppSecretsRoundTrip drives the secret methods with a site administrator's PAT
// session: create until Tableau's limit of two, read, list, delete, and sign in with the new one.
func TestConnectedAppSecretsRoundTrip(t *testing.T) {
	for _, format := range []tableau.Format{tableau.FormatXML, tableau.FormatJSON} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			f, c := newAppFixture(t, format)
			ctx := context.Background()
			admin, err := c.SignInWithPAT(ctx, site, pat)
			if err != nil {
				t.Fatal(err)
			}
			created, err := c.CreateConnectedAppSecret(ctx, admin, clientID)
			if err != nil {
				t.Fatal(err)
			}
			if created.ID == "" || created.Value.Empty() || !created.CreatedAt.Equal(start) {
				t.Fatalf("created = %+v", created)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v", created, created, created), created.Value.Reveal()) {
				t.Error("printing a new secret shows its value")
			}
			list, err := c.ListConnectedAppSecrets(ctx, admin, clientID)
			if err != nil || len(list) != 2 || list[0].ID != secretID || list[1].ID != created.ID {
				t.Fatalf("list = %+v, %v", list, err)
			}
			got, err := c.GetConnectedAppSecret(ctx, admin, clientID, created.ID)
			if err != nil || got.ID != created.ID || !got.CreatedAt.Equal(start) {
				t.Fatalf("get = %+v, %v", got, err)
			}

			_, err = c.CreateConnectedAppSecret(ctx, admin, clientID)
			te := mustTableauError(t, err)
			noLeak(t, err, created.Value.Reveal())
			if v, _ := classify.Failure(err, classify.Evidence{}); v.Reason != classify.ReasonConnectedAppSecretLimit {
				t.Errorf("a third secret: %v classified %s, want %s", te, v.Reason, classify.ReasonConnectedAppSecretLimit)
			}

			newApp := connectedApp()
			newApp.SecretID, newApp.SecretValue = created.ID, created.Value
			if _, err := c.SignInWithConnectedApp(ctx, site, newApp); err != nil {
				t.Fatalf("signing in with the new secret: %v", err)
			}
			if err := c.DeleteConnectedAppSecret(ctx, admin, clientID, secretID); err != nil {
				t.Fatal(err)
			}
			ids, _ := f.sim.ConnectedAppSecretIDs(site, clientID)
			if len(ids) != 1 || ids[0] != created.ID {
				t.Errorf("secrets on the simulator = %v, want only the new one", ids)
			}
			_, err = c.SignInWithConnectedApp(ctx, site, connectedApp())
			noLeak(t, err, created.Value.Reveal())
			if v, _ := classify.Failure(err, classify.Evidence{ConnectedApp: true}); v.Reason != classify.ReasonConnectedAppSecretNotFound {
				t.Errorf("the deleted secret signs in: %v (%s)", err, v.Reason)
			}
			err = c.DeleteConnectedAppSecret(ctx, admin, clientID, secretID)
			if te := mustTableauError(t, err); te.HTTPStatus != 404 {
				t.Errorf("deleting twice = %v, want 404", te)
			}
			if _, err := c.GetConnectedAppSecret(ctx, admin, clientID, "../../users"); err == nil || tableau.IsTableauError(err) {
				t.Errorf("a path-like secret id must be refused without a call: %v", err)
			}
		})
	}
}

func TestSecretMethodsAreForSiteAdministrators(t *testing.T) {
	f, c := newAppFixture(t, tableau.FormatXML)
	ctx := context.Background()
	if err := f.sim.AddPAT(site, tableausim.PAT{Name: "viewer-pat", Secret: "viewer-secret", User: "victor", SiteRole: "Viewer"}); err != nil {
		t.Fatal(err)
	}
	viewer, err := c.SignInWithPAT(ctx, site, tableau.PersonalAccessToken{Name: "viewer-pat", Secret: tableau.NewSecret("viewer-secret")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateConnectedAppSecret(ctx, viewer, clientID)
	if v, _ := classify.Failure(err, classify.Evidence{}); v.Reason != classify.ReasonPermissionDenied {
		t.Errorf("a viewer creating a secret: %v (%s), want %s", err, v.Reason, classify.ReasonPermissionDenied)
	}
	jwtSession, err := c.SignInWithConnectedApp(ctx, site, connectedApp())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListConnectedAppSecrets(ctx, jwtSession, clientID)
	if v, _ := classify.Failure(err, classify.Evidence{ConnectedApp: true}); v.Reason != classify.ReasonJWTScopeMissing {
		t.Errorf("a JWT session listing secrets: %v (%s), want %s", err, v.Reason, classify.ReasonJWTScopeMissing)
	}
	ids, _ := f.sim.ConnectedAppSecretIDs(site, clientID)
	if len(ids) != 1 {
		t.Errorf("secrets = %v, want the one it had", ids)
	}
}

func TestListPersonalAccessTokens(t *testing.T) {
	ctx := context.Background()
	for _, format := range []tableau.Format{tableau.FormatXML, tableau.FormatJSON} {
		t.Run(fmt.Sprint(format), func(t *testing.T) {
			f := newFixture(t, tableausim.Config{RESTAPIVersion: "3.24"}, true)
			if err := f.sim.AddPAT(site, tableausim.PAT{Name: "admin-pat", Secret: "admin-secret", User: "admin"}); err != nil {
				t.Fatal(err)
			}
			c := f.client(t, format)
			f.clock.Advance(24 * time.Hour)
			admin, err := c.SignInWithPAT(ctx, site, tableau.PersonalAccessToken{Name: "admin-pat", Secret: tableau.NewSecret("admin-secret")})
			if err != nil {
				t.Fatal(err)
			}
			owner, _ := f.sim.UserID(site, tokenName)
			pats, err := c.ListPersonalAccessTokens(ctx, admin, owner)
			if err != nil {
				t.Fatal(err)
			}
			if len(pats) != 1 || pats[0].Name != tokenName || pats[0].GUID == "" ||
				!pats[0].ExpiresAt.Equal(start.Add(180*24*time.Hour)) || !pats[0].LastUsedAt.Equal(start) {
				t.Errorf("pats = %+v", pats)
			}
			if state, _ := f.sim.PATState(site, tokenName); state.HasSession || !state.LastUsed.Equal(start) {
				t.Errorf("listing must not use the PAT: %+v", state)
			}
		})
	}
	t.Run("below 3.21 no call is made", func(t *testing.T) {
		f := newFixture(t, tableausim.Config{RESTAPIVersion: "3.24"}, true)
		c := f.client(t, tableau.FormatXML, func(o *tableau.Options) { o.APIVersion = "3.20" })
		admin, err := c.SignInWithPAT(ctx, site, pat)
		if err != nil {
			t.Fatal(err)
		}
		f.sim.ResetCalls()
		_, err = c.ListPersonalAccessTokens(ctx, admin, admin.UserID)
		if v, _ := classify.Failure(err, classify.Evidence{}); v.Reason != classify.ReasonAPIVersionTooLowForMethod {
			t.Errorf("got %v (%s)", err, v.Reason)
		}
		if n := len(f.sim.AllCalls()); n != 0 {
			t.Errorf("calls made: %v", f.sim.AllCalls())
		}
	})
}

func TestJWTEchoedByAProxyIsScrubbed(t *testing.T) {
	_, err := echoingProxyClient(t).SignInWithConnectedApp(context.Background(), site, connectedApp())
	te := mustTableauError(t, err)
	noLeak(t, err)
	if !strings.Contains(te.Summary, "[redacted]") || strings.Contains(te.Summary, "eyJ") {
		t.Errorf("summary = %q, want the echoed JWT replaced", te.Summary)
	}
}
