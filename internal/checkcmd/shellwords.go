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

import "strings"

// shellWords maps the TableauConnection fields the classifier's messages name to the flags
// of check that play their part: a person at a shell wrote --server, not spec.server. Longer
// field names come first so that spec.tls.caBundle is not read as spec.tls.
var shellWords = strings.NewReplacer(
	"spec.tls.caBundle", "--ca-file",
	"spec.apiVersion", "--api-version",
	"spec.server", "--server",
	"spec.site", "--site",
	"spec.auth.personalAccessToken.secretRef", "the --token-secret-file (or "+SecretEnv+")",
	"spec.auth.connectedApp.secretRef", "--client-id, --secret-id and the --secret-value-file (or "+AppSecretEnv+")",
)

// forShell rewrites a message or next step written for a manifest into the flags of check.
func forShell(s string) string { return shellWords.Replace(s) }
