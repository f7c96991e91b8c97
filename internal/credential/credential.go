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

// FromSecretData extracts the PAT from a Secret's data. A missing or empty key is a
// *classify.CredentialError naming the Secret and key, never the values.
func FromSecretData(secretName string, data map[string][]byte, nameKey, secretKey string) (tableau.PersonalAccessToken, error) {
	for _, key := range []string{nameKey, secretKey} {
		if len(data[key]) == 0 {
			return tableau.PersonalAccessToken{}, &classify.CredentialError{Reason: classify.ReasonSecretKeyMissing, Secret: secretName, Key: key}
		}
	}
	return tableau.PersonalAccessToken{Name: string(data[nameKey]), Secret: tableau.NewSecret(string(data[secretKey]))}, nil
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
