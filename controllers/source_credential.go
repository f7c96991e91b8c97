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

package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/credential"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Keys of a connected app's consumer bundle (besides server, site and apiVersion).
const (
	BundleClientID    = "clientId"
	BundleSecretID    = "secretId"
	BundleSecretValue = "secretValue"
	BundleUsername    = "username"
	BundleScopes      = "scopes"
)

// signInCredential is the credential a connection signs in with: a PAT, or a connected app
// whose JWT the client mints for each sign-in. Exactly one is set.
type signInCredential struct {
	pat *tableau.PersonalAccessToken
	app *tableau.ConnectedApp
}

// usesConnectedApp reports whether the connection signs in with a connected-app JWT.
func usesConnectedApp(conn *v1.TableauConnection) bool {
	return conn.Spec.Auth.ConnectedApp != nil
}

// sourceSecretName is the Secret the connection's credential comes from.
func sourceSecretName(conn *v1.TableauConnection) string {
	if a := conn.Spec.Auth.ConnectedApp; a != nil {
		return a.SecretRef.Name
	}
	return conn.Spec.Auth.PersonalAccessToken.SecretRef.Name
}

// sourceSecretField is the spec field that names the source Secret, for messages.
func sourceSecretField(conn *v1.TableauConnection) string {
	if usesConnectedApp(conn) {
		return credential.ConnectedAppSecretRef
	}
	return "spec.auth.personalAccessToken.secretRef"
}

// credentialFromData reads the connection's credential from Secret data: the source Secret
// (with the key names of the spec) or one of the operator's bundles (with the bundle's keys).
func credentialFromData(conn *v1.TableauConnection, secretName string, data map[string][]byte, bundle bool) (signInCredential, error) {
	if a := conn.Spec.Auth.ConnectedApp; a != nil {
		keys := credential.ConnectedAppKeys{ClientID: a.SecretRef.ClientIDKey, SecretID: a.SecretRef.SecretIDKey, SecretValue: a.SecretRef.SecretValueKey}
		if bundle {
			keys = credential.ConnectedAppKeys{ClientID: BundleClientID, SecretID: BundleSecretID, SecretValue: BundleSecretValue}
		}
		app, err := credential.ConnectedAppFromSecretData(secretName, data, keys, a.Username, a.Scopes)
		if err != nil {
			return signInCredential{}, err
		}
		return signInCredential{app: &app}, nil
	}
	ref := conn.Spec.Auth.PersonalAccessToken.SecretRef
	nameKey, secretKey := ref.TokenNameKey, ref.TokenSecretKey
	if bundle {
		nameKey, secretKey = BundleTokenName, BundleTokenSecret
	}
	pat, err := credential.FromSecretData(secretName, data, nameKey, secretKey)
	if err != nil {
		return signInCredential{}, err
	}
	return signInCredential{pat: &pat}, nil
}

// revision is the credential's short, non-reversible digest. A connected app's covers the
// user and scopes it signs in with too: a change of either is validated and rolled out like
// a new secret.
func (c signInCredential) revision() string {
	if c.app != nil {
		return appRevision(credential.ConnectedAppRevision(*c.app), c.app.Username, c.app.Scopes)
	}
	return credential.Revision(*c.pat)
}

func appRevision(secretRevision, username string, scopes []string) string {
	sum := sha256.Sum256([]byte(secretRevision + "\x00" + identity(username, scopes)))
	return hex.EncodeToString(sum[:6])
}

func identity(username string, scopes []string) string {
	return username + "\x00" + strings.Join(scopes, " ")
}

// sourceVersion is what status.credentials.sourceResourceVersion records, and what the
// memory of a refused Secret is keyed by: the Secret's resourceVersion, for a connected app a
// digest of the spec's username and scopes (which the revision covers too), and the keys the
// spec reads when they are not the defaults. While it matches, no content is read; pointing
// the spec at other keys of the same Secret (the next step of SecretKeyLooksLikeSecret) reads
// it again. Default keys add nothing, so what status recorded before stays valid.
func sourceVersion(conn *v1.TableauConnection, resourceVersion string) string {
	if a := conn.Spec.Auth.ConnectedApp; a != nil {
		ref := a.SecretRef
		keys := ""
		if ref.ClientIDKey != "clientId" || ref.SecretIDKey != "secretId" || ref.SecretValueKey != "secretValue" {
			keys = "\x00" + ref.ClientIDKey + "\x00" + ref.SecretIDKey + "\x00" + ref.SecretValueKey
		}
		sum := sha256.Sum256([]byte(identity(a.Username, a.Scopes) + keys))
		return resourceVersion + "+" + hex.EncodeToString(sum[:6])
	}
	ref := conn.Spec.Auth.PersonalAccessToken.SecretRef
	if ref.TokenNameKey == "tokenName" && ref.TokenSecretKey == "tokenSecret" {
		return resourceVersion
	}
	sum := sha256.Sum256([]byte(ref.TokenNameKey + "\x00" + ref.TokenSecretKey))
	return resourceVersion + "+keys-" + hex.EncodeToString(sum[:6])
}

// credentialIdent names a credential without its secret: a PAT's name, or a connected app's
// client id and secret id.
type credentialIdent struct {
	tokenName, clientID, secretID string
}

func (c signInCredential) ident() credentialIdent {
	if c.app != nil {
		return credentialIdent{clientID: c.app.ClientID, secretID: c.app.SecretID}
	}
	return credentialIdent{tokenName: c.pat.Name}
}

func identOf(st *v1.CredentialStatus) credentialIdent {
	return credentialIdent{tokenName: st.TokenName, clientID: st.ClientID, secretID: st.SecretID}
}

// set records the identity in status. Nothing from a Secret is published before Tableau
// accepted it as what it claims to be: unless accepted (a sign-in with it succeeded, or
// Tableau issued it), a part is kept only when it has the shape Tableau gives that identifier
// (a UUID) or status already names the same value. A PAT's name has no such shape, and a
// Secret with its keys swapped would otherwise put the secret there (issue 24).
func (i credentialIdent) set(st *v1.CredentialStatus, accepted bool) {
	if !accepted {
		shown := identOf(st)
		i.tokenName = publishable(credential.FieldTokenName, i.tokenName, shown.tokenName)
		i.clientID = publishable(credential.FieldClientID, i.clientID, shown.clientID)
		i.secretID = publishable(credential.FieldSecretID, i.secretID, shown.secretID)
	}
	// Longer than the CRD's maxLength, the API server would refuse the whole status write;
	// the revision still names the credential.
	for _, p := range []struct {
		v   *string
		max int
	}{{&i.tokenName, v1.MaxTokenNameLength}, {&i.clientID, v1.MaxSecretIDLength}, {&i.secretID, v1.MaxSecretIDLength}} {
		if len(*p.v) > p.max {
			*p.v = ""
		}
	}
	st.TokenName, st.ClientID, st.SecretID = i.tokenName, i.clientID, i.secretID
}

// publishable is value when it may be shown before a sign-in accepted it, else "".
func publishable(field credential.Field, value, shown string) string {
	switch credential.ShapeOf(field, value) {
	case credential.SecretLike:
		// Never, not even when status shows it already: an older operator published
		// identifiers before any sign-in, and this takes such a leak out of status.
		return ""
	case credential.Identifier:
		return value
	}
	if value == shown {
		return value
	}
	return ""
}

// describe names the credential in a message.
// A part not yet published (see set) is left out rather than shown as "".
func (i credentialIdent) describe() string {
	switch {
	case i.clientID != "" && i.secretID != "":
		return fmt.Sprintf("connected app %q (secret %q)", i.clientID, i.secretID)
	case i.clientID != "":
		return fmt.Sprintf("connected app %q", i.clientID)
	case i.secretID != "":
		return fmt.Sprintf("the connected app's secret %q", i.secretID)
	case i.tokenName != "":
		return fmt.Sprintf("PAT %q", i.tokenName)
	}
	return "the credential"
}

// bundleData is the credential part of the consumer bundle.
func (c signInCredential) bundleData() map[string][]byte {
	if a := c.app; a != nil {
		return map[string][]byte{
			BundleClientID:    []byte(a.ClientID),
			BundleSecretID:    []byte(a.SecretID),
			BundleSecretValue: []byte(a.SecretValue.Reveal()),
			BundleUsername:    []byte(a.Username),
			BundleScopes:      []byte(strings.Join(a.Scopes, " ")),
		}
	}
	return map[string][]byte{
		BundleTokenName:   []byte(c.pat.Name),
		BundleTokenSecret: []byte(c.pat.Secret.Reveal()),
	}
}

// signInOut signs in and out again at once, through the connection's call gate (class: the
// validation sign-in or the pre-promotion check). A PAT sign-in ends every other session of
// the PAT; a JWT sign-in is a session of its own and ends no one's.
func signInOut(ctx context.Context, c *gatedclient.Client, class callgate.Class, site string, cred signInCredential) (*tableau.Session, error) {
	var sess *tableau.Session
	var err error
	if cred.app != nil {
		sess, err = c.SignInWithConnectedApp(ctx, class, site, *cred.app)
	} else {
		sess, err = c.SignInWithPAT(ctx, class, site, *cred.pat)
	}
	if err != nil {
		return nil, err
	}
	if err := c.SignOut(ctx, sess); err != nil {
		ctrl.LoggerFrom(ctx).Info("sign-out failed; Tableau expires the session on its own", "error", err.Error())
	}
	return sess, nil
}

// capitalized upper-cases the first letter of a sentence that starts with a name.
func capitalized(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
