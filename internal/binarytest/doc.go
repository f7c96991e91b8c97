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

// Package binarytest holds the black-box tests of the tableau-operator binary: its TestMain
// builds the program at the repository's root once, stamped by hack/version.sh as `make build`
// stamps it, and the tests run that binary as a user, a cluster or kubectl would (the manager
// against envtest control planes under its ServiceAccount, `check` against the simulator, the
// kubectl plugin, --help and version), plus the tests of the hack/ scripts the build relies on.
// It has no code of its own: the tests live here so that the root holds only main.go.
package binarytest
