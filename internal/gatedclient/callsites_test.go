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
	"fmt"
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
	modulePath + "/internal/tableau":        "the client itself",
	modulePath + "/internal/gatedclient":    "the gate's wrapper: every call asks the gate first",
	modulePath + "/internal/checkcmd":       "the one-shot CLI `tableau-operator check`: a person runs it once, with its own bounded backoff.Do, no connection to gate",
	modulePath + "/internal/testenv/optest": "the envtest suites' harness (tests only): it signs in as a workload would, with the consumer Secret the operator published, to prove that credential works",
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
	listed := goList(t, root)
	exports := map[string]string{}
	var ours []listedPackage
	for _, p := range listed {
		exports[p.ImportPath] = p.Export
		if p.ImportPath == modulePath || strings.HasPrefix(p.ImportPath, modulePath+"/") {
			ours = append(ours, p)
		}
	}
	fset := token.NewFileSet()
	imp := exportImporter(fset, exports)
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
		found, err := scanPackage(fset, imp, p.ImportPath, files)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range found {
			rel, _ := filepath.Rel(root, s.pos)
			s.pos = rel
			sites = append(sites, s)
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

// scanPackage type-checks one package and returns its uses of *tableau.Client's methods:
// calls, method values and method expressions, through an embedded client, and through an
// interface (or a type parameter's constraint) that *tableau.Client satisfies, which would
// reach Tableau with the gate nowhere in the source.
func scanPackage(fset *token.FileSet, imp types.Importer, path string, files []*ast.File) ([]callSite, error) {
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: imp}
	if _, err := conf.Check(path, fset, files, info); err != nil {
		return nil, fmt.Errorf("type-checking %s: %w", path, err)
	}
	client, err := imp.Import(modulePath + "/internal/tableau")
	if err != nil {
		return nil, err
	}
	clientPtr := types.NewPointer(client.Scope().Lookup("Client").Type())
	var sites []callSite
	for sel, s := range info.Selections {
		fn, ok := s.Obj().(*types.Func)
		if !ok || s.Kind() == types.FieldVal {
			continue
		}
		if isTableauClient(fn.Type().(*types.Signature).Recv()) || viaInterface(s.Recv(), fn.Name(), clientPtr) {
			p := fset.Position(sel.Pos())
			sites = append(sites, callSite{pkg: path, pos: p.Filename + ":" + itoa(p.Line), method: fn.Name()})
		}
	}
	return sites, nil
}

// viaInterface reports a method selected on an interface or a type parameter that
// *tableau.Client satisfies, when the method is one of the client's calls to Tableau.
func viaInterface(recv types.Type, method string, clientPtr types.Type) bool {
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	iface, ok := recv.Underlying().(*types.Interface)
	if !ok || iface.Empty() || !types.Implements(clientPtr, iface) {
		return false
	}
	m, _, _ := types.LookupFieldOrMethod(clientPtr, true, nil, method)
	fn, ok := m.(*types.Func)
	return ok && fn.Name() != "APIVersion"
}

// TestTheScanSeesEveryKindOfUse: the scan finds a call, a method value, a method expression,
// an embedded client's call and a call through an interface the client satisfies (plain and
// as a type parameter's constraint), and nothing in code that only holds the client. The
// interface and type-parameter uses are invisible to a scan by the method's receiver alone.
func TestTheScanSeesEveryKindOfUse(t *testing.T) {
	const src = `package bypass

import (
	"context"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

type embeds struct{ *tableau.Client }

type pinger interface {
	ServerInfo(ctx context.Context) (*tableau.ServerInfo, error)
}

func calls(ctx context.Context, c *tableau.Client) {
	_, _ = c.ServerInfo(ctx)                           // call
	f := c.SignOut                                     // method value
	_ = f
	g := (*tableau.Client).SignInWithPAT               // method expression
	_ = g
	_, _ = embeds{c}.ListConnectedAppSecrets(ctx, nil, "") // embedded
	var p pinger = c
	_, _ = p.ServerInfo(ctx)                           // interface
	generic(ctx, c)
	_ = c.APIVersion()                                 // a method of the client too
}

func generic[T pinger](ctx context.Context, t T) { _, _ = t.ServerInfo(ctx) } // type parameter

func holds(c *tableau.Client) any { return c }
`
	exports := listExports(t)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "bypass.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	sites, err := scanPackage(fset, exportImporter(fset, exports), "example.com/bypass", []*ast.File{f})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, s := range sites {
		lines[s.pos] = true
	}
	for _, want := range []struct {
		line int
		what string
	}{{16, "a call"}, {17, "a method value"}, {19, "a method expression"}, {21, "an embedded client's call"},
		{23, "a call through an interface"}, {25, "the version getter"}, {28, "a call through a type parameter"}} {
		if !lines["bypass.go:"+itoa(want.line)] {
			t.Errorf("the scan missed %s (line %d); it found %v", want.what, want.line, sites)
		}
	}
	if len(sites) != 7 {
		t.Errorf("the scan found %d uses, want 7 (none in holds): %v", len(sites), sites)
	}
}

// goList lists the module's packages and their dependencies with export data.
func goList(t *testing.T, root string) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var listed []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, p)
	}
	return listed
}

// listExports maps the module's packages and dependencies to their export data.
func listExports(t *testing.T) map[string]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]string{}
	for _, p := range goList(t, root) {
		exports[p.ImportPath] = p.Export
	}
	return exports
}

// exportImporter imports packages from go list's export data.
func exportImporter(fset *token.FileSet, exports map[string]string) types.Importer {
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, errors.New("no export data for " + path)
		}
		return os.Open(f)
	})
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
