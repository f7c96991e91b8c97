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

package v1alpha1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// TestMaxLengthsMatchCRD: each MaxLength constant equals the maxLength the generated CRD gives
// its fields. The +kubebuilder:validation:MaxLength markers must be literal numbers, so without
// this a marker changed alone would let the operator write strings the API server refuses (or
// cut them shorter than the field allows).
func TestMaxLengthsMatchCRD(t *testing.T) {
	schema := crdSchema(t, "tableau-operator.dev_tableauconnections.yaml")
	for _, tc := range []struct {
		constant string
		value    int
		paths    []string // dotted from the version's openAPIV3Schema; [] is a list's items
	}{
		{"MaxCallGateReasonLength", v1.MaxCallGateReasonLength, []string{"status.callGate.reason"}},
		{"MaxCallGateEndpointLength", v1.MaxCallGateEndpointLength, []string{"status.callGate.endpoint"}},
		{"MaxCallGateInputsLength", v1.MaxCallGateInputsLength, []string{"status.callGate.inputs"}},
		{"MaxCallGateClassLength", v1.MaxCallGateClassLength, []string{"status.callGate.holds[].class"}},
		{"MaxSecretIDLength", v1.MaxSecretIDLength, []string{
			"status.callGate.pendingDeleteSecretID",
			"status.rotation.automatic.newSecretID",
			"status.rotation.automatic.retiringSecretID",
			"status.rotation.automatic.heldSecretIDs[]",
			"status.credentials.clientID",
			"status.credentials.secretID",
		}},
		{"MaxTokenNameLength", v1.MaxTokenNameLength, []string{"status.credentials.tokenName"}},
		{"MaxRefusedWriteMessageLength", v1.MaxRefusedWriteMessageLength, []string{"status.refusedWrite.message"}},
		{"MaxUserIDLength", v1.MaxUserIDLength, []string{"status.credentials.userID"}},
		{"MaxExpiryCheckFailureLength", v1.MaxExpiryCheckFailureLength, []string{"status.credentials.expiryCheckFailure"}},
	} {
		for _, path := range tc.paths {
			got, err := maxLength(schema, path)
			if err != nil {
				t.Errorf("%s: %v", tc.constant, err)
				continue
			}
			if got != tc.value {
				t.Errorf("v1alpha1.%s = %d, but the CRD's %s has maxLength %d: change the marker and the constant together",
					tc.constant, tc.value, path, got)
			}
		}
	}
}

// crdSchema is the openAPIV3Schema of the v1alpha1 version of a CRD in config/crd/bases. It
// reads the YAML as plain maps, which needs no apiextensions types.
func crdSchema(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", file))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == v1.GroupVersion.Version {
			return v.Schema.OpenAPIV3Schema
		}
	}
	t.Fatalf("%s has no version %s", file, v1.GroupVersion.Version)
	return nil
}

// maxLength follows a dotted path through properties (and items, for a segment ending in [])
// to a string field and returns its maxLength.
func maxLength(schema map[string]any, path string) (int, error) {
	node := schema
	for _, seg := range strings.Split(path, ".") {
		name, list := strings.CutSuffix(seg, "[]")
		props, _ := node["properties"].(map[string]any)
		next, ok := props[name].(map[string]any)
		if !ok {
			return 0, fmt.Errorf("the CRD has no field %s (at %q)", path, seg)
		}
		if list {
			if next, ok = next["items"].(map[string]any); !ok {
				return 0, fmt.Errorf("the CRD's %s is not a list", path)
			}
		}
		node = next
	}
	// sigs.k8s.io/yaml decodes through JSON, so numbers are float64.
	n, ok := node["maxLength"].(float64)
	if !ok {
		return 0, fmt.Errorf("the CRD's %s has no maxLength", path)
	}
	return int(n), nil
}
