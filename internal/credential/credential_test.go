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
	"errors"
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func TestFromSecretData(t *testing.T) {
	data := map[string][]byte{"tokenName": []byte("op"), "tokenSecret": []byte("s3cret-value"), "empty": {}}
	pat, err := FromSecretData("pat", data, "tokenName", "tokenSecret")
	if err != nil || pat.Name != "op" || pat.Secret.Reveal() != "s3cret-value" {
		t.Fatalf("got %v, %v", pat, err)
	}
	for _, tc := range []struct{ nameKey, secretKey, missing string }{
		{"name", "tokenSecret", "name"},
		{"tokenName", "empty", "empty"},
	} {
		_, err := FromSecretData("pat", data, tc.nameKey, tc.secretKey)
		var ce *classify.CredentialError
		if !errors.As(err, &ce) || ce.Reason != classify.ReasonSecretKeyMissing || ce.Key != tc.missing || ce.Secret != "pat" {
			t.Errorf("keys %s/%s: %v", tc.nameKey, tc.secretKey, err)
		}
		if strings.Contains(err.Error(), "s3cret-value") {
			t.Error("the error shows the secret")
		}
	}
}

func TestRevision(t *testing.T) {
	a := tableau.PersonalAccessToken{Name: "op", Secret: tableau.NewSecret("one")}
	b := tableau.PersonalAccessToken{Name: "op", Secret: tableau.NewSecret("two")}
	c := tableau.PersonalAccessToken{Name: "op2", Secret: tableau.NewSecret("one")}
	// The separator keeps ("ab","c") and ("a","bc") apart.
	d := tableau.PersonalAccessToken{Name: "opo", Secret: tableau.NewSecret("ne")}
	ra, rb, rc, rd := Revision(a), Revision(b), Revision(c), Revision(d)
	if len(ra) != 12 || ra != Revision(a) {
		t.Fatalf("revision %q is not a stable 12-digit digest", ra)
	}
	if ra == rb || ra == rc || ra == rd {
		t.Errorf("different credentials share a revision: %s %s %s %s", ra, rb, rc, rd)
	}
	if strings.Contains(ra, "one") || strings.Contains(ra, "op") {
		t.Error("the revision contains the credential")
	}
}
