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

// Package credential reads a PAT out of Secret data and names its content with a short,
// non-reversible revision, so status can say "the credential changed" without holding it.
package credential

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// FromSecretData extracts the PAT from a Secret's data. A missing or empty key, or a name
// with the shape of a PAT secret (the keys swapped, or the secret pasted twice), is a
// *classify.CredentialError naming the Secret and key, never the values.
func FromSecretData(secretName string, data map[string][]byte, nameKey, secretKey string) (tableau.PersonalAccessToken, error) {
	for _, key := range []string{nameKey, secretKey} {
		if len(data[key]) == 0 {
			return tableau.PersonalAccessToken{}, &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Secret: secretName, Key: key}
		}
	}
	if err := secretLike(secretName, "", nameKey, FieldTokenName, data); err != nil {
		return tableau.PersonalAccessToken{}, err
	}
	return tableau.PersonalAccessToken{Name: string(data[nameKey]), Secret: tableau.NewSecret(string(data[secretKey]))}, nil
}

// secretLike is the error for an identifier key whose value has the shape of a secret: the
// value goes nowhere (no sign-in, no status), and the error names the key and what it should
// hold. nil when the value may be an identifier.
func secretLike(secretName, ref, key string, field Field, data map[string][]byte) error {
	if ShapeOf(field, string(data[key])) != SecretLike {
		return nil
	}
	return &classify.CredentialError{Reason: classify.ReasonSecretKeyLooksLikeSecret, Secret: secretName, Key: key, Ref: ref, Holds: string(field)}
}

// Revision is a 12-hex-digit digest of the token name and secret. It changes whenever either
// changes and reveals neither: a PAT secret has far more entropy than could be guessed back.
func Revision(pat tableau.PersonalAccessToken) string {
	h := sha256.New()
	h.Write([]byte("tableau-operator.dev/pat/v1\x00"))
	h.Write([]byte(pat.Name))
	h.Write([]byte{0})
	h.Write([]byte(pat.Secret.Reveal()))
	return hex.EncodeToString(h.Sum(nil))[:12]
}
