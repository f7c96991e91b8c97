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
	"regexp"
	"strings"
)

// Field is what a key of a credential Secret is meant to hold, among the values the operator
// may publish (in status and messages) as naming the credential.
type Field string

// The identifier fields of a credential Secret. The secrets themselves (a PAT's secret, a
// connected app's secret value) are never published and have no Field.
const (
	FieldTokenName Field = "the personal access token's name"
	FieldClientID  Field = "the connected app's client id"
	FieldSecretID  Field = "the id of the connected app's secret"
)

// Shape is what a value read from a Secret looks like, for the field it claims to be.
type Shape int

const (
	// Unproven: neither the shape Tableau gives the identifier nor that of a secret. It may
	// be published once a sign-in that used it succeeded, not before: a person's typo and a
	// secret of an unfamiliar form look alike.
	Unproven Shape = iota
	// Identifier: the shape Tableau gives the field (a connected app's client id and secret
	// id are UUIDs), which no secret has: it may be published before any sign-in.
	Identifier
	// SecretLike: the shape of a secret (a PAT's secret, a connected app's secret value).
	// It is never published, and the key holding it is reported as wrong: a key swapped
	// with the secret's, or a secret pasted under the identifier's key.
	SecretLike
)

var (
	// uuidShape is a Tableau LUID as connected-app client ids and secret ids carry them
	// (internal/tableausim's newLUID; Tableau prints them lower-case, either case is a UUID).
	uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// patSecretShape is a PAT secret as Tableau shows it once: two base64 strings (the first
	// of a 16-byte key, "…==") joined by a colon, e.g. "mvwF…1A==:qH8q…VcbX".
	patSecretShape = regexp.MustCompile(`^[A-Za-z0-9+/]{16,64}={0,2}:[A-Za-z0-9+/]{16,64}={0,2}$`)
	// randomShape is a long string of the base64 alphabet only, as a connected app's secret
	// value is (the base64 of 32 random bytes: 44 characters).
	randomShape = regexp.MustCompile(`^[A-Za-z0-9+/]{40,}={0,2}$`)
)

// ShapeOf says what value, read from a Secret key meant to hold field, looks like. It is a
// pure function of its inputs, so what reaches status never depends on anything else.
//
// A PAT's name is chosen by its owner: Tableau gives it no shape, so it is at best Unproven
// and is published only after a sign-in with it succeeded. A long name of letters and digits
// ("FinanceReportingServiceAccountTokenQ3of2025") is a name people choose, and refusing it
// would stall a connection that signs in fine: under the name's key only a PAT secret's shape,
// or a random string with base64's own characters ("+", "/", "=" padding, which a connected
// app's secret value of 32 bytes always ends with), is SecretLike. A client id or secret id
// is a UUID when Tableau issued it, so any long random string there is a secret.
func ShapeOf(field Field, value string) Shape {
	if field == FieldTokenName {
		if v := strings.TrimSpace(value); LooksLikeSecret(v) && (patSecretShape.MatchString(v) || strings.ContainsAny(v, "+/=")) {
			return SecretLike
		}
		return Unproven
	}
	if LooksLikeSecret(value) {
		return SecretLike
	}
	if field != FieldTokenName && uuidShape.MatchString(value) {
		return Identifier
	}
	return Unproven
}

// LooksLikeSecret reports whether value has the shape of a Tableau secret: a PAT secret
// ("<base64>:<base64>"), or a long random base64 string with upper- and lower-case letters
// and digits or base64's "+", "/" or "=", as a connected app's secret value. Surrounding white space (a pasted newline)
// does not hide it. A name people choose ("finance-operator", "ci_bot 2024") has separators
// or is short, so it is not mistaken for one.
func LooksLikeSecret(value string) bool {
	v := strings.TrimSpace(value)
	if patSecretShape.MatchString(v) {
		return true
	}
	if !randomShape.MatchString(v) {
		return false
	}
	// Both cases, and a digit or one of base64's own characters: a random value of 43
	// characters has no digit about once in 1,500 draws, but a connected app's secret value
	// (32 bytes) always ends with "=" padding; without padding, neither a digit nor "+" or
	// "/" is about one in 7,500.
	return strings.ContainsAny(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz") &&
		strings.ContainsAny(v, "0123456789+/=")
}
