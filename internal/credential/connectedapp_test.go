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
	"fmt"
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func TestConnectedAppFromSecretData(t *testing.T) {
	const value = "app-s3cret-value"
	data := map[string][]byte{"clientId": []byte("c"), "secretId": []byte("s"), "secretValue": []byte(value),
		"kid": []byte("s2"), "empty": {}}
	scopes := []string{"tableau:content:read"}
	app, err := ConnectedAppFromSecretData("app", data, ConnectedAppKeys{}, "ana", scopes)
	if err != nil || app.ClientID != "c" || app.SecretID != "s" || app.SecretValue.Reveal() != value || app.Username != "ana" {
		t.Fatalf("default keys: %+v, %v", app, err)
	}
	if app, err = ConnectedAppFromSecretData("app", data, ConnectedAppKeys{SecretID: "kid"}, "ana", scopes); err != nil || app.SecretID != "s2" {
		t.Fatalf("overridden key: %+v, %v", app, err)
	}

	_, err = ConnectedAppFromSecretData("app", data, ConnectedAppKeys{SecretValue: "empty"}, "ana", scopes)
	var ce *classify.CredentialError
	if !errors.As(err, &ce) || ce.Key != "empty" || ce.Reason != classify.ReasonSecretKeyMissing {
		t.Fatalf("empty key: %v", err)
	}
	if v, _ := classify.Failure(err, classify.Evidence{}); !strings.Contains(v.NextStep, ConnectedAppSecretRef) {
		t.Errorf("next step %q should point at %s", v.NextStep, ConnectedAppSecretRef)
	}
	for _, tc := range []struct {
		username string
		scopes   []string
	}{{"", scopes}, {"ana", nil}, {"ana", []string{"content:read"}}} {
		_, err := ConnectedAppFromSecretData("app", data, ConnectedAppKeys{}, tc.username, tc.scopes)
		var ice *tableau.InvalidCredentialError
		if !errors.As(err, &ice) || strings.Contains(fmt.Sprintf("%v %+v", err, err), value) {
			t.Errorf("user %q scopes %q: %v", tc.username, tc.scopes, err)
		}
		if v, _ := classify.Failure(err, classify.Evidence{}); v.Reason != classify.ReasonConnectedAppInvalid {
			t.Errorf("classified %s", v.Reason)
		}
	}
}

func TestConnectedAppRevision(t *testing.T) {
	base := tableau.ConnectedApp{ClientID: "c", SecretID: "s", SecretValue: tableau.NewSecret("v"), Username: "ana"}
	otherValue, otherID, shifted := base, base, base
	otherValue.SecretValue = tableau.NewSecret("w")
	otherID.SecretID = "t"
	shifted.ClientID, shifted.SecretID = "cs", "" // the separator keeps ("c","s") and ("cs","") apart
	otherUser := base
	otherUser.Username = "bob"
	r := ConnectedAppRevision(base)
	if len(r) != 12 || r != ConnectedAppRevision(base) || r != ConnectedAppRevision(otherUser) {
		t.Fatalf("revision %q is not a stable digest of the Secret's part", r)
	}
	for _, other := range []tableau.ConnectedApp{otherValue, otherID, shifted} {
		if ConnectedAppRevision(other) == r {
			t.Errorf("%+v shares revision %s", other, r)
		}
	}
	if r == Revision(tableau.PersonalAccessToken{Name: "c", Secret: tableau.NewSecret("v")}) {
		t.Error("a PAT and a connected app share a revision")
	}
}
