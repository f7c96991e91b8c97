#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds Prometheus's promtool from Go modules (nothing is downloaded as a binary) into a
# cache directory outside the repository, keyed by the tools module's content, and prints
# the binary's path. A second run with the same inputs builds nothing. The remove_all_sd tag
# leaves the cloud service-discovery plugins out, which promtool's rule checks never use.
# The build goes to a temporary directory that is renamed into place, so an interrupted
# build never leaves a half-made cache entry behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/promtool"

key=$(cat "$tools/go.mod" "$tools/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
cache_root="${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tableau-operator}"
dest="$cache_root/promtool/$key"

if [[ -x "$dest/promtool" ]]; then
  echo "$dest/promtool"
  exit 0
fi

mkdir -p "$cache_root/promtool"
tmp=$(mktemp -d "$cache_root/promtool/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "building promtool from Go modules into $dest; a cold build takes 3 to 10 minutes on 2 cores" >&2
(
  cd "$tools"
  CGO_ENABLED=0 go build -trimpath -tags remove_all_sd -ldflags "-s -w" -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool
) >&2

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest/promtool"
