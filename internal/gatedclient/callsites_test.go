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

package gatedclient_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const modulePath = "github.com/tableau-operator/tableau-operator"

// mayCallTableau are the packages whose code may call *tableau.Client's methods directly,
// and why. Every other package of the module reaches Tableau only through the gate.
var mayCallTableau = map[string]string{
	modulePath + "/internal/tableau":     "the client itself",
	modulePath + "/internal/gatedclient": "the gate's wrapper: every call asks the gate first",
	modulePath + "/internal/checkcmd":    "the one-shot CLI `tableau-operator check`: a person runs it once, with its own bounded backoff.Do, no connection to gate",
}

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Standard   bool
}

// callSite is one use of a *tableau.Client method outside the client's own package.
type callSite struct {
	pkg, pos, method string
}

// TestEveryTableauCallGoesThroughTheGate enumerates every use (call or method value) of a
// method of *tableau.Client in the module's non-test code, by type, and fails when one is
// outside the gate's wrapper (and the exempt CLI).
func TestEveryTableauCallGoesThroughTheGate(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-export", "-deps", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var ours []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		if p.ImportPath == modulePath || strings.HasPrefix(p.ImportPath, modulePath+"/") {
			ours = append(ours, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, errors.New("no export data for " + path)
		}
		return os.Open(f)
	})
	var sites []callSite
	for _, p := range ours {
		if p.ImportPath == modulePath+"/internal/tableau" {
			continue
		}
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-checking %s: %v", p.ImportPath, err)
		}
		for sel, s := range info.Selections {
			fn, ok := s.Obj().(*types.Func)
			if !ok || s.Kind() == types.FieldVal {
				continue
			}
			if isTableauClient(fn.Type().(*types.Signature).Recv()) {
				rel, _ := filepath.Rel(root, fset.Position(sel.Pos()).Filename)
				sites = append(sites, callSite{pkg: p.ImportPath, pos: rel + ":" + itoa(fset.Position(sel.Pos()).Line), method: fn.Name()})
			}
		}
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i].pos < sites[j].pos })
	gated := map[string]bool{}
	for _, s := range sites {
		why, ok := mayCallTableau[s.pkg]
		t.Logf("%s %s (%s)", s.pos, s.method, why)
		if !ok {
			t.Errorf("%s calls (*tableau.Client).%s outside the call gate: go through internal/gatedclient", s.pos, s.method)
		}
		if s.pkg == modulePath+"/internal/gatedclient" {
			gated[s.method] = true
		}
	}
	// The scan sees what it looks for: every call the operator makes is found in the wrapper.
	for _, m := range []string{"ServerInfo", "SignInWithPAT", "SignInWithConnectedApp", "SignOut", "ListConnectedAppSecrets",
		"CreateConnectedAppSecret", "DeleteConnectedAppSecret", "ListPersonalAccessTokens"} {
		if !gated[m] {
			t.Errorf("the scan found no call of (*tableau.Client).%s in the gate's wrapper", m)
		}
	}
	if !slices.ContainsFunc(sites, func(s callSite) bool { return s.pkg == modulePath+"/internal/checkcmd" }) {
		t.Errorf("the scan found no call in the CLI, which calls the client directly: the scan is blind")
	}
}

func isTableauClient(recv *types.Var) bool {
	if recv == nil {
		return false
	}
	typ := recv.Type()
	if p, ok := typ.(*types.Pointer); ok {
		typ = p.Elem()
	}
	n, ok := typ.(*types.Named)
	return ok && n.Obj().Name() == "Client" && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == modulePath+"/internal/tableau"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}
