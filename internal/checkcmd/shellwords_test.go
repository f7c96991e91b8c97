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

package checkcmd

import (
	"strings"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func TestForShellNamesTheFlags(t *testing.T) {
	for in, want := range map[string]string{
		"Check spec.server's host and port, and add the issuing CA to spec.tls.caBundle if the server uses a private CA.": "Check --server's host and port, and add the issuing CA to --ca-file if the server uses a private CA.",
		"Lower spec.apiVersion to 3.24 or below.": "Lower --api-version to 3.24 or below.",
		"Set spec.site to the contentUrl.":        "Set --site to the contentUrl.",
		"Nothing to do.":                          "Nothing to do.",
	} {
		if got := forShell(in); got != want {
			t.Errorf("forShell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFailedSpeaksOfFlags: whatever the classifier says about a refused connection, the
// report of check names no spec field.
func TestFailedSpeaksOfFlags(t *testing.T) {
	c, err := tableau.New(tableau.Options{Server: "https://127.0.0.1:1", APIVersion: "3.24"})
	if err != nil {
		t.Fatal(err)
	}
	_, callErr := c.ServerInfo(t.Context())
	if callErr == nil {
		t.Fatal("serverinfo on a closed port succeeded")
	}
	rep := failed(Report{Site: "finance"}, callErr)
	if strings.Contains(rep.Remediation+rep.Message, "spec.") {
		t.Errorf("check's report speaks of spec fields:\n%s\n%s", rep.Message, rep.Remediation)
	}
	if !strings.Contains(rep.Remediation, "--server") {
		t.Errorf("next step %q does not name --server", rep.Remediation)
	}
}
