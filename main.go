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

// Command tableau-operator runs the TableauConnection operator (internal/manager), or with the `check`
// subcommand diagnoses one Tableau sign-in from the command line; `version` prints the build;
// `ctl` (or the binary installed as kubectl-tableau) is the kubectl plugin.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	// The image has no system CA roots: Mozilla's bundle is compiled in and used only when
	// the system has none, so TLS to Tableau Cloud verifies from an empty base image. It is
	// imported here, by the program, because it changes the whole process's trust store (the
	// manager's and `check`'s); internal/binarytest proves the built binary carries it.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/tableau-operator/tableau-operator/internal/checkcmd"
	"github.com/tableau-operator/tableau-operator/internal/kubectlplugin"
	"github.com/tableau-operator/tableau-operator/internal/manager"
	"github.com/tableau-operator/tableau-operator/internal/version"
)

func main() {
	// Installed as kubectl-tableau (a symlink or a copy), the binary is the kubectl plugin.
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == "kubectl-tableau" {
		os.Exit(runPlugin(os.Args[1:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "ctl" {
		os.Exit(runPlugin(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(runCheck(os.Args[2:]))
	}
	if len(os.Args) > 1 && (os.Args[1] == "version" || os.Args[1] == "--version" || os.Args[1] == "-version") {
		os.Exit(runVersion(os.Args[2:]))
	}
	os.Exit(manager.Run(os.Args[1:]))
}

func runCheck(args []string) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return checkcmd.Run(ctx, args, os.Stdout, os.Stderr, os.Getenv)
}

func runVersion(args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(os.Stderr, "version takes no arguments, got %q\n", args)
		return 2
	}
	if err := version.Get().Print(os.Stdout); err != nil {
		return 1
	}
	return 0
}

func runPlugin(args []string) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return kubectlplugin.Main(ctx, args, kubectlplugin.Streams{Out: os.Stdout, Err: os.Stderr,
		TTY: kubectlplugin.IsTerminal(os.Stdout), ErrTTY: kubectlplugin.IsTerminal(os.Stderr)})
}
