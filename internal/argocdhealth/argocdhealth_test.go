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

package argocdhealth

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// healthTests is Argo CD's health_test.yaml format.
type healthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

func TestHealthChecks(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "argocd", "*", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no health checks under config/argocd: %v", err)
	}
	for _, dir := range dirs {
		script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, "health_test.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var tests healthTests
		if err := yaml.UnmarshalStrict(raw, &tests); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(tests.Tests) == 0 {
			t.Fatalf("%s has no tests", dir)
		}
		for _, tc := range tests.Tests {
			t.Run(filepath.Base(dir)+"/"+tc.InputPath, func(t *testing.T) {
				in, err := os.ReadFile(filepath.Join(dir, tc.InputPath))
				if err != nil {
					t.Fatal(err)
				}
				obj := map[string]any{}
				if err := yaml.Unmarshal(in, &obj); err != nil {
					t.Fatal(err)
				}
				status, message, err := Evaluate(string(script), obj)
				if err != nil {
					t.Fatal(err)
				}
				if status != tc.HealthStatus.Status || message != tc.HealthStatus.Message {
					t.Errorf("got %s %q\nwant %s %q", status, message, tc.HealthStatus.Status, tc.HealthStatus.Message)
				}
			})
		}
	}
}

func TestEvaluateReportsScriptErrors(t *testing.T) {
	if _, _, err := Evaluate("return obj.spec.missing.field", map[string]any{"spec": map[string]any{}}); err == nil {
		t.Error("a failing script must be an error")
	}
	if _, _, err := Evaluate("return 1", map[string]any{}); err == nil {
		t.Error("a script that returns no table must be an error")
	}
}

func TestArgoCDConfigMapSnippetMatchesTheScripts(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "argocd-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "argocd", "*", "*"))
	for _, dir := range dirs {
		key := "resource.customizations.health." + filepath.Base(filepath.Dir(dir)) + "_" + filepath.Base(dir)
		script, err := os.ReadFile(filepath.Join(dir, "health.lua"))
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[key] != string(script) {
			t.Errorf("argocd-cm.yaml key %s differs from %s/health.lua", key, dir)
		}
	}
}

// TestArgoCDConfigMapIsGenerated: argocd-cm.yaml is byte for byte what `make argocd-cm` writes,
// so an edited health.lua or a hand edit of the snippet fails here until it is regenerated.
func TestArgoCDConfigMapIsGenerated(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "config", "argocd")
	want, err := ConfigMap(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "argocd-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("config/argocd/argocd-cm.yaml is stale: run `make argocd-cm` and commit it")
	}
}
