#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# The tool cache, sourced by the scripts that build tools from Go modules (nothing is
# downloaded as a binary): `tool_cache NAME BUILD BINARIES INPUT...` prints the directory
# ${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-~/.cache}/tableau-operator}/NAME/<key>, where
# key hashes the INPUT files (the tools module's go.mod and go.sum, its sources) and the
# calling script (which holds the build recipe). When that directory is missing, it runs
# `BUILD DIR` (output to stderr) into a temporary directory beside it, checks that BUILD
# succeeded and left each of the space-separated BINARIES executable there, and renames it into
# place, so a failed or interrupted build leaves nothing half-made and a finished one is never
# rebuilt. BUILD runs where errexit does not apply: it must fail itself (chain with &&).
# This file is not part of the key: changing how the cache works rebuilds no tool.
#
# hack/envtest.sh, hack/helm.sh, hack/promtool.sh and hack/image.sh use it; each holds only its
# tool's build recipe.

tool_cache() {
  local name=$1 build=$2 binaries=$3
  shift 3
  local caller=${BASH_SOURCE[1]}
  local key cache_root dest tmp
  key=$(cat "$@" "$caller" | sha256sum | cut -c1-16)
  cache_root="${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tableau-operator}"
  dest="$cache_root/$name/$key"
  if [[ -d "$dest" ]]; then
    echo "$dest"
    return 0
  fi
  mkdir -p "$cache_root/$name"
  tmp=$(mktemp -d "$cache_root/$name/.build-XXXXXX")
  # shellcheck disable=SC2064 # expand tmp now: the trap runs after this function returns
  trap "rm -rf '$tmp'" EXIT
  echo "building $name into $dest" >&2
  local bin
  if ! "$build" "$tmp" >&2; then
    echo "tool_cache: building $name failed" >&2
    return 1
  fi
  for bin in $binaries; do
    if [[ ! -x "$tmp/$bin" ]]; then
      echo "tool_cache: building $name made no $bin" >&2
      return 1
    fi
  done
  # mv -T refuses a directory that another build of the same key finished meanwhile: keep that one.
  if ! mv -T "$tmp" "$dest" 2>/dev/null; then
    [[ -d "$dest" ]] || { echo "tool_cache: cannot move $tmp to $dest" >&2; return 1; }
    rm -rf "$tmp"
  fi
  trap - EXIT
  echo "$dest"
}
