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

package manifests

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	objs, err := Parse([]byte(`# Source: chart/templates/empty.yaml
---
# only a comment
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
`))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 2 || idx["ServiceAccount/ns/sa"] == nil || idx["ClusterRole/reader"] == nil {
		t.Errorf("Index = %v, want ServiceAccount/ns/sa and ClusterRole/reader", idx)
	}
}

func TestParseErrors(t *testing.T) {
	for doc, want := range map[string]string{
		"a: [b\n":                         "document 1",
		"kind: ConfigMap\nmetadata: {}\n": "not a Kubernetes object",
		"---\nkind: X\nmetadata: {name: x}\n---\n- 1\n": "document 2",
	} {
		if _, err := Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want one containing %q", doc, err, want)
		}
	}
	twice := "kind: ConfigMap\nmetadata: {name: a, namespace: team}\n---\nkind: ConfigMap\nmetadata: {name: a, namespace: team}\n"
	objs, err := Parse([]byte(twice))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Index(objs); err == nil || !strings.Contains(err.Error(), "ConfigMap/team/a appears twice") {
		t.Errorf("Index of a duplicate: %v", err)
	}
}
