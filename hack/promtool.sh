#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds Prometheus's promtool from Go modules (nothing is downloaded as a binary) into the
# tool cache (hack/tool-cache.sh), keyed by the tools module's content, and prints the
# binary's path. A second run with the same inputs builds nothing. The remove_all_sd tag
# leaves the cloud service-discovery plugins out, which promtool's rule checks never use.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/promtool"

# shellcheck source=hack/tool-cache.sh
source "$here/tool-cache.sh"

build_promtool() {
  echo "building promtool from Go modules; a cold build takes 3 to 10 minutes on 2 cores"
  (cd "$tools" && CGO_ENABLED=0 go build -trimpath -tags remove_all_sd -ldflags "-s -w" \
    -o "$1/promtool" github.com/prometheus/prometheus/cmd/promtool)
}
dest=$(tool_cache promtool build_promtool promtool "$tools/go.mod" "$tools/go.sum")
echo "$dest/promtool"
