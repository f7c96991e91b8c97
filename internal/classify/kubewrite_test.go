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

package classify

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func TestKubernetesWrite(t *testing.T) {
	secrets := schema.GroupResource{Resource: "secrets"}
	cases := []struct {
		name      string
		err       error
		want      string // reason, or "" for no refusal
		transient bool
		next      string
	}{
		{"forbidden by RBAC", apierrors.NewForbidden(secrets, "t-candidate", errors.New(`User "system:serviceaccount:x:y" cannot create resource "secrets"`)), v1.ReasonWriteForbidden, false, "ServiceAccount"},
		{"owner reference enforcement", apierrors.NewForbidden(secrets, "t-candidate", errors.New("cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on")), v1.ReasonWriteForbidden, false, "tableauconnections/finalizers"},
		{"quota exceeded", apierrors.NewForbidden(secrets, "t-candidate", errors.New("exceeded quota: secrets, requested: secrets=1, used: secrets=2, limited: secrets=2")), v1.ReasonWriteQuotaExceeded, false, "ResourceQuota"},
		{"conflict", apierrors.NewConflict(secrets, "t-candidate", errors.New("the object has been modified")), v1.ReasonWriteConflict, true, "another writer"},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "t-candidate", field.ErrorList{field.Invalid(field.NewPath("metadata", "labels"), "x", "denied")}), v1.ReasonWriteInvalid, false, "admission webhook"},
		{"webhook denial with an odd code", &apierrors.StatusError{ErrStatus: apierrors.NewForbidden(secrets, "x", errors.New("x")).ErrStatus}, v1.ReasonWriteForbidden, false, ""},
		{"wrapped", fmt.Errorf("writing: %w", apierrors.NewForbidden(secrets, "t", errors.New("exceeded quota: q"))), v1.ReasonWriteQuotaExceeded, false, ""},
		{"a quota the quota controller has not counted yet is no refusal", apierrors.NewForbidden(secrets, "t-candidate", errors.New("status unknown for quota: secrets, resources: secrets")), "", false, ""},
		{"not found is no refusal", apierrors.NewNotFound(secrets, "t"), "", false, ""},
		{"already exists is no refusal", apierrors.NewAlreadyExists(secrets, "t"), "", false, ""},
		{"401 is the operator's credential, no refusal of this write", apierrors.NewUnauthorized("Unauthorized"), "", false, ""},
		{"server unavailable is no refusal", apierrors.NewServiceUnavailable("down"), "", false, ""},
		{"throttled is no refusal", apierrors.NewTooManyRequests("slow down", 1), "", false, ""},
		{"a network error is no refusal", errors.New("connection refused"), "", false, ""},
		{"no error", nil, "", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := KubernetesWrite(tc.err, "create", "Secret", "t-candidate")
			if ok != (tc.want != "") || w.Reason != tc.want {
				t.Fatalf("KubernetesWrite = %+v, %v; want reason %q", w, ok, tc.want)
			}
			if !ok {
				return
			}
			if w.Transient() != tc.transient {
				t.Errorf("transient = %v", w.Transient())
			}
			msg := w.Message()
			if !strings.Contains(msg, `create Secret "t-candidate"`) || !strings.Contains(msg, "Next step: ") || !strings.Contains(msg, tc.next) {
				t.Errorf("message = %q", msg)
			}
		})
	}
}
