#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds controller-gen (sigs.k8s.io/controller-tools, pinned by hack/tools/controller-gen) into
# the tool cache (hack/tool-cache.sh), keyed by the tools module's content, and prints the
# binary's path: a fresh clone on a machine that built it once builds nothing for
# `make generate manifests` or `make verify-generated`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/controller-gen"

# shellcheck source=hack/tool-cache.sh
source "$here/tool-cache.sh"

build_controller_gen() {
  echo "building controller-gen from Go modules; a cold build takes 1 to 3 minutes on 2 cores"
  (cd "$tools" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$1/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen)
}
dest=$(tool_cache controller-gen build_controller_gen controller-gen "$tools/go.mod" "$tools/go.sum")
echo "$dest/controller-gen"
