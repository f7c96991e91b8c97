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
	"unsafe"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// decodedConnection builds a connection as decoding does: every string its own copy, lists
// with room to grow.
func decodedConnection(name string) *v1.TableauConnection {
	own := func(s string) string { return strings.Clone(s) }
	c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: own(name), Namespace: own("t")}}
	c.Spec = v1.TableauConnectionSpec{Server: own("https://tableau.example.com"), Site: own(name), APIVersion: own("3.24"),
		Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: own(name), TokenNameKey: own("tokenName"), TokenSecretKey: own("tokenSecret")}}},
		TLS:  &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: own("ConfigMap"), Name: own("tableau-ca"), Key: own("ca.crt")}}}
	c.Status.Conditions = make([]metav1.Condition, 0, 8)
	for _, t := range []string{v1.ConditionReady, v1.ConditionStalled, v1.ConditionReconciling} {
		c.Status.Conditions = append(c.Status.Conditions, metav1.Condition{Type: own(t), Status: metav1.ConditionStatus(own("True")),
			Reason: own("SignedIn"), Message: own("Sign-in works and the pinned API version is supported."), LastTransitionTime: metav1.Now()})
	}
	c.Status.History = append(make([]v1.ValidationAttempt, 0, 4), v1.ValidationAttempt{Result: own(v1.ResultSucceeded), Revision: own("r-" + name)})
	c.Status.Credentials = &v1.CredentialStatus{LastAttemptServer: own("https://tableau.example.com"), LastAttemptResult: own(v1.ResultSucceeded), TokenName: own(name)}
	return c
}

func sameBytes(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// TestCompactConnectionSharesStringsAndKeepsValues: compacting changes no value, shares the
// strings that repeat between connections, and leaves lists no spare room.
func TestCompactConnectionSharesStringsAndKeepsValues(t *testing.T) {
	a, b := decodedConnection("finance"), decodedConnection("sales")
	wantA := a.DeepCopy()
	compactConnection(a)
	compactConnection(b)
	if !equality.Semantic.DeepEqual(a, wantA) {
		t.Fatalf("compacted connection differs:\n%+v\nwant\n%+v", a, wantA)
	}
	for what, pair := range map[string][2]string{
		"message":           {a.Status.Conditions[0].Message, b.Status.Conditions[0].Message},
		"reason":            {a.Status.Conditions[1].Reason, b.Status.Conditions[1].Reason},
		"server":            {a.Spec.Server, b.Spec.Server},
		"lastAttemptServer": {a.Status.Credentials.LastAttemptServer, a.Spec.Server},
		"CA bundle name":    {a.Spec.TLS.CABundle.Name, b.Spec.TLS.CABundle.Name},
		"history result":    {a.Status.History[0].Result, b.Status.History[0].Result},
	} {
		if !sameBytes(pair[0], pair[1]) {
			t.Errorf("%s %q is not shared", what, pair[0])
		}
	}
	if sameBytes(a.Spec.Site, b.Spec.Site) || a.Spec.Site != "finance" {
		t.Errorf("sites %q and %q", a.Spec.Site, b.Spec.Site)
	}
	if cap(a.Status.Conditions) != len(a.Status.Conditions) || cap(a.Status.History) != len(a.Status.History) {
		t.Errorf("lists keep spare room: conditions %d/%d, history %d/%d", len(a.Status.Conditions), cap(a.Status.Conditions),
			len(a.Status.History), cap(a.Status.History))
	}
}
