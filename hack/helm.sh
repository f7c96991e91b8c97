#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds the helm CLI from Go modules (nothing is downloaded as a binary) into the tool cache
# (hack/tool-cache.sh), keyed by the tools module's content, and prints its directory. A
# second run with the same inputs builds nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/helm"
helm_version=$(cd "$tools" && go list -m -f '{{.Version}}' helm.sh/helm/v3)

# shellcheck source=hack/tool-cache.sh
source "$here/tool-cache.sh"

build_helm() {
  echo "building helm $helm_version; a cold build takes 2 to 4 minutes on 2 cores"
  (cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version" \
    -o "$1/helm" helm.sh/helm/v3/cmd/helm)
}
tool_cache helm build_helm helm "$tools/go.mod" "$tools/go.sum"
