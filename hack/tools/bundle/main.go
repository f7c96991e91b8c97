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

// Command bundle is `make bundle`: it reads `kubectl kustomize config/manifests` on standard
// input and writes the operator's OLM bundle (registry+v1: manifests/ and metadata/) to --out.
// Its tests validate the bundle with the operator-framework's own validators.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bundle", flag.ContinueOnError)
	var out string
	var opts options
	fs.StringVar(&out, "out", "", "the bundle directory to write (its manifests/ and metadata/ are replaced)")
	fs.StringVar(&opts.version, "version", "", "the operator's version (semver, v optional)")
	fs.StringVar(&opts.image, "image", "", "the operator image the CSV's Deployment runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if out == "" {
		return errors.New("no --out directory given")
	}
	objs, err := parse(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading the kustomization: %w", err)
	}
	files, err := generate(objs, opts)
	if err != nil {
		return err
	}
	if err := files.write(out); err != nil {
		return err
	}
	fmt.Println(out)
	return nil
}

// write replaces dir's manifests/ and metadata/ with the bundle's files; nothing else in dir
// is touched.
func (b bundle) write(dir string) error {
	for _, sub := range []string{"manifests", "metadata"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(b))
	for name := range b {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), b[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
