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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

const patSecretShaped = "mvwFtEg9Rx6tQ5dCzb1R1A==:qH8q7tCkT5UvmKWqmAfVMeNwYj9XWcVb"

func patConn(nameKey, secretKey string) *v1.TableauConnection {
	return &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c", UID: "uid-1"},
		Spec: v1.TableauConnectionSpec{Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{
			SecretRef: v1.PATSecretReference{Name: "src", TokenNameKey: nameKey, TokenSecretKey: secretKey}}}},
	}
}

// A secret an older operator published in status (it showed identifiers before any sign-in)
// is taken out at the next record, not kept because status already shows it.
func TestIdentNeverKeepsASecretStatusAlreadyShows(t *testing.T) {
	st := &v1.CredentialStatus{TokenName: patSecretShaped}
	credentialIdent{tokenName: patSecretShaped}.set(st, false)
	if st.TokenName != "" {
		t.Errorf("tokenName = %q: the secret stayed in status", st.TokenName)
	}
	// A name status shows stays while unproven: it was published after a sign-in.
	st = &v1.CredentialStatus{TokenName: "finance-operator"}
	credentialIdent{tokenName: "finance-operator"}.set(st, false)
	if st.TokenName != "finance-operator" {
		t.Errorf("tokenName = %q, want the name status showed", st.TokenName)
	}
}

// A credential whose name is not published yet is not shown as PAT "".
func TestDescribeLeavesOutWhatIsNotPublished(t *testing.T) {
	for _, tc := range []struct {
		ident credentialIdent
		want  string
	}{
		{credentialIdent{tokenName: "finance"}, `PAT "finance"`},
		{credentialIdent{}, "the credential"},
		{credentialIdent{clientID: "c"}, `connected app "c"`},
		{credentialIdent{clientID: "c", secretID: "s"}, `connected app "c" (secret "s")`},
		{credentialIdent{secretID: "s"}, `the connected app's secret "s"`},
	} {
		if got := tc.ident.describe(); got != tc.want || strings.Contains(got, `""`) {
			t.Errorf("describe(%+v) = %q, want %q", tc.ident, got, tc.want)
		}
	}
}

// The next step of SecretKeyLooksLikeSecret is to point the spec at the right keys: that
// reads the same Secret version again instead of recalling the refusal, and status's record of
// the version read does not hide the other keys either. Default keys keep the plain version,
// as status recorded it before.
func TestSourceVersionFollowsTheKeysTheSpecReads(t *testing.T) {
	def, swapped := patConn("tokenName", "tokenSecret"), patConn("tokenSecret", "tokenName")
	if got := sourceVersion(def, "7"); got != "7" {
		t.Errorf("default keys: %q, want the resourceVersion alone", got)
	}
	if sourceVersion(swapped, "7") == sourceVersion(def, "7") {
		t.Error("other keys of the same Secret version count as the same source")
	}
	r := (&TableauConnectionReconciler{}).built().credentials
	refusal := &classify.CredentialError{Reason: classify.ReasonSecretKeyLooksLikeSecret, Secret: "src", Key: "tokenName"}
	r.mem.setSecret(def, &secretMemo{resourceVersion: sourceVersion(def, "7"), err: refusal})
	meta := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "src", ResourceVersion: "7", UID: "s-1"}}
	if s := (&scope{conn: def, secretName: "src"}); !r.recall(s, meta) || s.credErr != refusal {
		t.Errorf("the same keys and version: recall = %v, %v; want the remembered refusal", s.credErr, s.credErr == refusal)
	}
	if s := (&scope{conn: swapped, secretName: "src"}); r.recall(s, meta) {
		t.Errorf("keys fixed in the spec: the refusal was recalled (%v) instead of reading the Secret again", s.credErr)
	}
}
