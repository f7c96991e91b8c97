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
	"testing"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

func TestEndpointRefusedHoldsOnlyForTheServerAndCABundle(t *testing.T) {
	withCA := func() *v1.TableauConnection {
		return &v1.TableauConnection{Spec: v1.TableauConnectionSpec{TLS: &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "ca", Key: "ca.crt"}}}}
	}
	for _, tc := range []struct {
		name string
		s    scope
		want bool
	}{
		{"server not allowed", scope{conn: &v1.TableauConnection{}, refusal: &classify.ServerNotAllowedError{Host: "x"}}, true},
		{"CA bundle not loaded", scope{conn: withCA()}, true},
		{"CA bundle loaded", scope{conn: withCA(), caPEM: []byte("pem")}, false},
		{"no CA bundle", scope{conn: &v1.TableauConnection{}}, false},
		{"source not labelled", scope{conn: withCA(), caPEM: []byte("pem"), refusal: &classify.NotLabelledError{Kind: "Secret", Role: classify.RoleSource}}, false},
	} {
		if got := endpointRefused(&tc.s); got != tc.want {
			t.Errorf("%s: endpointRefused = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestInputsNowUsableOnlyForFailuresWithoutATableauCall(t *testing.T) {
	clean := func() *scope { return &scope{conn: &v1.TableauConnection{}} }
	for _, tc := range []struct {
		name string
		f    v1.FailureStatus
		s    *scope
		want bool
	}{
		{"refused CA bundle, now clean", v1.FailureStatus{Stage: v1.StageCredentials, Reason: classify.ReasonConfigMapNotLabelled}, clean(), true},
		{"server not allowed, now allowed", v1.FailureStatus{Stage: v1.StageServer, Reason: classify.ReasonServerNotAllowed}, clean(), true},
		{"still unseen", v1.FailureStatus{Stage: v1.StageCredentials}, &scope{conn: &v1.TableauConnection{}, unseen: []unseenRef{{kind: "ConfigMap"}}}, false},
		{"still broken", v1.FailureStatus{Stage: v1.StageCredentials}, &scope{conn: &v1.TableauConnection{}, credErr: &classify.CABundleError{}}, false},
		{"sign-in failure", v1.FailureStatus{Stage: v1.StageSignIn, Reason: "InvalidCredentials"}, clean(), false},
		{"server down", v1.FailureStatus{Stage: v1.StageServer, Reason: "ServerUnavailable"}, clean(), false},
	} {
		if got := inputsNowUsable(tc.s, &tc.f); got != tc.want {
			t.Errorf("%s: inputsNowUsable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
