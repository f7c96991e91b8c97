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

package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot finds the root from a trimmed build (make's) as from a plain one (go test): the
// directory whose go.mod declares this module and which holds this package.
func TestRepoRootIsTheModulesDirectory(t *testing.T) {
	root := RepoRoot()
	if !declaresModule(filepath.Join(root, "go.mod"), "github.com/tableau-operator/tableau-operator") {
		t.Fatalf("RepoRoot() = %s: its go.mod does not declare the operator's module", root)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv", "testenv.go")); err != nil {
		t.Fatalf("RepoRoot() = %s does not hold this package: %v", root, err)
	}
}

func TestDeclaresModuleReadsTheModuleLine(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"plain", "// a comment\nmodule example.com/a\n\ngo 1.26.0\n", true},
		{"quoted", "module \"example.com/a\"\n", true},
		{"another module", "module example.com/a/hack/tools/x\n", false},
		{"no module line", "go 1.26.0\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := declaresModule(write(tc.name, tc.content), "example.com/a"); got != tc.want {
				t.Errorf("declaresModule(%q) = %v, want %v", tc.content, got, tc.want)
			}
		})
	}
	if declaresModule(filepath.Join(dir, "missing"), "example.com/a") {
		t.Error("declaresModule of a missing file = true")
	}
}
