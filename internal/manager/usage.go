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

package manager

import (
	"flag"
	"fmt"
	"strings"

	"github.com/tableau-operator/tableau-operator/internal/kubectlplugin"
)

// usage is `tableau-operator --help`: every subcommand with one line, then the manager's flags.
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintln(w, "Usage: tableau-operator [flags]            run the operator (the manager); its flags are below")
	fmt.Fprintln(w, "       tableau-operator SUBCOMMAND [args]")
	fmt.Fprintln(w, "\nSubcommands:")
	fmt.Fprintf(w, "  %-17s %s\n", "check", "diagnose one Tableau sign-in from a shell: serverinfo, sign-in, sign-out, verdict (check -h)")
	fmt.Fprintf(w, "  %-17s %s\n", "version", "print the version, commit and build date")
	for _, s := range kubectlplugin.Subcommands {
		fmt.Fprintf(w, "  %-17s %s\n", "ctl "+s.Name, s.Summary)
	}
	fmt.Fprintln(w, "\nInstalled as kubectl-tableau (a symlink or a copy of this binary on PATH), the ctl subcommands are")
	fmt.Fprintln(w, "`kubectl tableau status|rotate|resume|suspend|unsuspend|report`, with kubectl's --context, -n and --kubeconfig.")
	fmt.Fprintln(w, "\nManager flags:")
	fs.PrintDefaults()
}

// oneLine keeps a configuration error to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
