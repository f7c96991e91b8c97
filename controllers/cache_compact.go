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
	"slices"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// The cache holds every TableauConnection whole, and at 10,000 connections they are most
// of the operator's heap. Decoding gives each string its own copy and each list room to
// grow, although most strings repeat from one connection to the next (kinds, condition
// types, reasons and most messages, the server, key names) and cached lists never grow.
// compactConnection and compactFleet keep every value as it is and only share equal
// strings (through package unique, which forgets values nothing refers to any more) and
// trim lists to their length.

func compactConnection(c *v1.TableauConnection) {
	c.APIVersion, c.Kind = intern(c.APIVersion), intern(c.Kind)
	sp := &c.Spec
	sp.Server, sp.APIVersion = intern(sp.Server), intern(sp.APIVersion)
	if p := sp.Auth.PersonalAccessToken; p != nil {
		p.SecretRef.TokenNameKey, p.SecretRef.TokenSecretKey = intern(p.SecretRef.TokenNameKey), intern(p.SecretRef.TokenSecretKey)
	}
	if t := sp.TLS; t != nil && t.CABundle != nil {
		t.CABundle.Kind, t.CABundle.Name, t.CABundle.Key = intern(t.CABundle.Kind), intern(t.CABundle.Name), intern(t.CABundle.Key)
	}
	st := &c.Status
	st.Conditions = compactConditions(st.Conditions)
	if s := st.Server; s != nil {
		s.ProductVersion, s.Build, s.RESTAPIVersion = intern(s.ProductVersion), intern(s.Build), intern(s.RESTAPIVersion)
	}
	if cr := st.Credentials; cr != nil {
		cr.LastAttemptServer, cr.LastAttemptResult = intern(cr.LastAttemptServer), intern(cr.LastAttemptResult)
	}
	if f := st.LastFailure; f != nil {
		f.Bucket, f.Reason = intern(f.Bucket), intern(f.Reason)
	}
	if cap(st.History) > len(st.History) {
		st.History = slices.Clone(st.History)
	}
	for i := range st.History {
		h := &st.History[i]
		h.Result, h.Bucket, h.Reason, h.TableauCode = intern(h.Result), intern(h.Bucket), intern(h.Reason), intern(h.TableauCode)
	}
}

func compactFleet(f *v1.TableauFleet) {
	f.APIVersion, f.Kind = intern(f.APIVersion), intern(f.Kind)
	f.Status.Conditions = compactConditions(f.Status.Conditions)
}

// compactConditions copies conditions into a list of their length, with shared type,
// status, reason and message strings.
func compactConditions(conds []metav1.Condition) []metav1.Condition {
	if len(conds) == 0 {
		return conds
	}
	out := make([]metav1.Condition, len(conds))
	for i, c := range conds {
		c.Type, c.Reason, c.Message = intern(c.Type), intern(c.Reason), intern(c.Message)
		c.Status = metav1.ConditionStatus(intern(string(c.Status)))
		out[i] = c
	}
	return out
}

func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}
