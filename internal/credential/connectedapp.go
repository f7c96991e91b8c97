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

package credential

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Default keys of a connected-app Secret (issue 12: clientId, secretId, secretValue).
const (
	DefaultClientIDKey    = "clientId"
	DefaultSecretIDKey    = "secretId"
	DefaultSecretValueKey = "secretValue"
)

// ConnectedAppSecretRef is the spec field that will name a connected-app Secret; classify's
// next steps point at it.
const ConnectedAppSecretRef = "spec.auth.connectedApp.secretRef"

// ConnectedAppKeys names the Secret's keys; an empty name takes the default.
type ConnectedAppKeys struct {
	ClientID, SecretID, SecretValue string
}

func (k ConnectedAppKeys) withDefaults() ConnectedAppKeys {
	if k.ClientID == "" {
		k.ClientID = DefaultClientIDKey
	}
	if k.SecretID == "" {
		k.SecretID = DefaultSecretIDKey
	}
	if k.SecretValue == "" {
		k.SecretValue = DefaultSecretValueKey
	}
	return k
}

// ConnectedAppFromSecretData extracts a connected-app credential from a Secret's data; username
// and scopes come from the spec. A missing or empty key, or a client id or secret id with the
// shape of a secret (keys swapped), is a *classify.CredentialError naming the Secret and key; a missing username or malformed scopes is a *tableau.InvalidCredentialError.
// Neither holds a value.
func ConnectedAppFromSecretData(secretName string, data map[string][]byte, keys ConnectedAppKeys, username string, scopes []string) (tableau.ConnectedApp, error) {
	keys = keys.withDefaults()
	for _, key := range []string{keys.ClientID, keys.SecretID, keys.SecretValue} {
		if len(data[key]) == 0 {
			return tableau.ConnectedApp{}, &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Secret: secretName, Key: key, Ref: ConnectedAppSecretRef}
		}
	}
	for _, id := range []struct {
		key   string
		field Field
	}{{keys.ClientID, FieldClientID}, {keys.SecretID, FieldSecretID}} {
		if err := secretLike(secretName, ConnectedAppSecretRef, id.key, id.field, data); err != nil {
			return tableau.ConnectedApp{}, err
		}
	}
	app := tableau.ConnectedApp{ClientID: string(data[keys.ClientID]), SecretID: string(data[keys.SecretID]),
		SecretValue: tableau.NewSecret(string(data[keys.SecretValue])), Username: username, Scopes: scopes}
	if err := app.Validate(); err != nil {
		return tableau.ConnectedApp{}, err
	}
	return app, nil
}

// ConnectedAppRevision is a 12-hex-digit digest of the client id, secret id and secret value,
// like Revision for a PAT: it changes when the Secret's credential changes and reveals nothing.
// The username and scopes are spec, which metadata.generation already tracks.
func ConnectedAppRevision(app tableau.ConnectedApp) string {
	h := sha256.New()
	h.Write([]byte("tableau-operator.dev/connected-app/v1\x00"))
	for _, part := range []string{app.ClientID, app.SecretID, app.SecretValue.Reveal()} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
