#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds the helm CLI from Go modules (nothing is downloaded as a binary) into a cache
# directory outside the repository, keyed by the tools module's content, and prints that
# directory. A second run with the same inputs builds nothing. The build goes to a
# temporary directory that is renamed into place, so an interrupted build never leaves a
# half-made cache entry behind. Same pattern as hack/envtest.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/helm"
helm_version=$(cd "$tools" && go list -m -f '{{.Version}}' helm.sh/helm/v3)

key=$(cat "$tools/go.mod" "$tools/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
cache_root="${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tableau-operator}"
dest="$cache_root/helm/$key"

if [[ -x "$dest/helm" ]]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache_root/helm"
tmp=$(mktemp -d "$cache_root/helm/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "building helm $helm_version into $dest; a cold build takes 2 to 4 minutes on 2 cores" >&2
(
  cd "$tools"
  export CGO_ENABLED=0
  go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version" \
    -o "$tmp/helm" helm.sh/helm/v3/cmd/helm
) >&2

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"
