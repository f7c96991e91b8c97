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

// The program TestImageOfTwoPlatforms puts in its image in place of the operator: a static Go
// binary with a module in every platform's build and one in the arm64 build only (main_arm64.go),
// so the SBOM has entries of both kinds, small enough to cross-compile in seconds.
package main

import (
	"fmt"

	"github.com/opencontainers/go-digest"
)

// version is stamped with -ldflags -X, as hack/image.sh stamps the operator's.
var version = "unset"

// imageSpec is set by main_arm64.go.
var imageSpec string

func main() {
	fmt.Println("image test program", version, digest.FromString(version), imageSpec)
}
