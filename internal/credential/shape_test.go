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
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/classify"
)

const (
	// Shaped like what Tableau shows once when a PAT is created.
	patSecret = "mvwFtEg9Rx6tQ5dCzb1R1A==:qH8q7tCkT5UvmKWqmAfVMeNwYj9XWcVb"
	// Shaped like a connected app's secret value (base64 of 32 random bytes).
	appValue = "Ye4kVnA1jYoR4aq9kTL0lFmgRFfWWJ0jZ8W0RmSZ0Rw="
	luid     = "3a6ad1b1-6c2f-4c31-9df3-8e2c1a7a1b1c"
)

func TestShapeOf(t *testing.T) {
	cases := []struct {
		name  string
		field Field
		value string
		want  Shape
	}{
		{"a PAT name", FieldTokenName, "finance-operator", Unproven},
		{"a PAT name with spaces", FieldTokenName, "CI bot 2024", Unproven},
		{"a long PAT name with separators", FieldTokenName, "finance_operator_production_dashboards_2024", Unproven},
		{"a UUID is not a PAT name's shape: names have none", FieldTokenName, luid, Unproven},
		{"a long PAT name of letters and digits", FieldTokenName, "TableauOperatorProductionFinanceDashboards2024", Unproven},
		{"another long PAT name", FieldTokenName, "FinanceReportingServiceAccountTokenQ3of2025", Unproven},
		{"a PAT secret under the name's key", FieldTokenName, patSecret, SecretLike},
		{"a PAT secret with a pasted newline", FieldTokenName, patSecret + "\n", SecretLike},
		{"an app secret value under the name's key", FieldTokenName, appValue, SecretLike},
		{"a client id", FieldClientID, luid, Identifier},
		{"an upper-case client id", FieldClientID, strings.ToUpper(luid), Identifier},
		{"a client id with a newline is not Tableau's shape", FieldClientID, luid + "\n", Unproven},
		{"a client id of another form", FieldClientID, "client-delta", Unproven},
		{"a secret value under the client id's key", FieldClientID, appValue, SecretLike},
		{"a secret value without padding", FieldClientID, strings.TrimRight(appValue, "="), SecretLike},
		{"a PAT secret under the client id's key", FieldClientID, patSecret, SecretLike},
		{"a secret id", FieldSecretID, luid, Identifier},
		{"a secret value under the secret id's key", FieldSecretID, " " + appValue, SecretLike},
		{"a short random string", FieldSecretID, "aB3dE5gH7jK9", Unproven},
		{"a long string of one case", FieldSecretID, "abcdefghijabcdefghijabcdefghijabcdefghij12", Unproven},
		{"a secret value without a digit", FieldSecretID, "aHcbEmSWQyuJnkXoq+FsDiFemnt/sBvgkKKHkZpCcEk=", SecretLike},
		{"a secret value without a digit, under the name's key", FieldTokenName, "aHcbEmSWQyuJnkXoq+FsDiFemnt/sBvgkKKHkZpCcEk=", SecretLike},
		{"a long name of letters in two cases", FieldSecretID, "FinanceReportingServiceAccountTokenQuarterly", Unproven},
		{"empty", FieldSecretID, "", Unproven},
	}
	for _, tc := range cases {
		if got := ShapeOf(tc.field, tc.value); got != tc.want {
			t.Errorf("%s: ShapeOf(%s, …) = %d, want %d", tc.name, tc.field, got, tc.want)
		}
	}
}

// Every secret Tableau could issue is recognised, not just the examples above: random values
// of the simulator's form (base64 of 32 bytes, and PAT secrets of 16 and 24 bytes).
func TestRandomSecretsLookLikeSecrets(t *testing.T) {
	b64 := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	for i := 0; i < 200; i++ {
		for _, v := range []string{b64(32), b64(16) + ":" + b64(24)} {
			if !LooksLikeSecret(v) {
				t.Fatalf("%q is not recognised as a secret", v)
			}
			if ShapeOf(FieldSecretID, v) != SecretLike || ShapeOf(FieldTokenName, v) != SecretLike {
				t.Fatalf("%q may be published as an identifier", v)
			}
		}
	}
}

func TestSwappedKeysAreRefusedByKeyNotValue(t *testing.T) {
	_, err := FromSecretData("pat", map[string][]byte{"tokenName": []byte(patSecret), "tokenSecret": []byte("finance-operator")}, "tokenName", "tokenSecret")
	var ce *classify.CredentialError
	if !errors.As(err, &ce) || ce.Reason != classify.ReasonSecretKeyLooksLikeSecret || ce.Key != "tokenName" || ce.Holds != string(FieldTokenName) {
		t.Fatalf("PAT with swapped keys: %v", err)
	}
	v, _ := classify.Failure(err, classify.Evidence{})
	if v.Bucket != classify.AuthConfigDrift || !strings.Contains(v.Message, `key "tokenName"`) || strings.Contains(v.Message+v.NextStep, patSecret) {
		t.Errorf("verdict %+v", v)
	}

	for _, tc := range []struct {
		data map[string][]byte
		key  string
	}{
		{map[string][]byte{"clientId": []byte(appValue), "secretId": []byte(luid), "secretValue": []byte(luid)}, "clientId"},
		{map[string][]byte{"clientId": []byte(luid), "secretId": []byte(appValue), "secretValue": []byte(luid)}, "secretId"},
	} {
		_, err := ConnectedAppFromSecretData("app", tc.data, ConnectedAppKeys{}, "ana", []string{"tableau:content:read"})
		if !errors.As(err, &ce) || ce.Reason != classify.ReasonSecretKeyLooksLikeSecret || ce.Key != tc.key || ce.Ref != ConnectedAppSecretRef {
			t.Errorf("%s holding the secret value: %v", tc.key, err)
			continue
		}
		if v, _ := classify.Failure(err, classify.Evidence{}); strings.Contains(v.Message+v.NextStep, appValue) || !strings.Contains(v.NextStep, ConnectedAppSecretRef) {
			t.Errorf("verdict %+v", v)
		}
	}
	// The values in their places load: the check does not refuse Tableau's own shapes.
	if _, err := ConnectedAppFromSecretData("app", map[string][]byte{"clientId": []byte(luid), "secretId": []byte(luid), "secretValue": []byte(appValue)},
		ConnectedAppKeys{}, "ana", []string{"tableau:content:read"}); err != nil {
		t.Errorf("a well-formed Secret: %v", err)
	}
	if _, err := FromSecretData("pat", map[string][]byte{"n": []byte("finance-operator"), "s": []byte(patSecret)}, "n", "s"); err != nil {
		t.Errorf("a well-formed PAT: %v", err)
	}
}
