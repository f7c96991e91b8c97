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

// Command argocd-cm writes config/argocd/argocd-cm.yaml, the Argo CD ConfigMap snippet, from the
// health.lua scripts under config/argocd (`make argocd-cm`). internal/argocdhealth tests the
// scripts and fails when the file differs from what this writes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tableau-operator/tableau-operator/internal/argocdhealth"
)

func main() {
	dir := flag.String("dir", filepath.Join("config", "argocd"), "the directory of the <group>/<kind>/health.lua scripts; argocd-cm.yaml is written there")
	flag.Parse()
	out, err := argocdhealth.ConfigMap(*dir)
	if err == nil {
		err = os.WriteFile(filepath.Join(*dir, "argocd-cm.yaml"), out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-cm:", err)
		os.Exit(1)
	}
}
