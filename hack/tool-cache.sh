#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# The tool cache, sourced by the scripts that build tools from Go modules (nothing is
# downloaded as a binary): `tool_cache NAME BUILD BINARIES INPUT...` prints the directory
# ${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-~/.cache}/tableau-operator}/NAME/<key>, where
# key hashes the INPUT files (the tools module's go.mod and go.sum, its sources), the calling
# script (which holds the build recipe) and what `go build` reads besides them: the toolchain's
# version and the target and flag variables of the environment (GOOS, GOARCH, GOFLAGS, ...),
# so a tool built with GOARCH=arm64 exported is never what a later plain run gets. A missing
# INPUT is an error. When that directory is missing, it runs `BUILD DIR` (output to stderr)
# into a temporary directory beside it, checks that BUILD succeeded and left each of the
# space-separated BINARIES executable there, and renames it into place, so a failed or
# interrupted (INT, TERM, HUP) build leaves nothing, not even the temporary directory, and a
# finished one is never rebuilt. Runs of one key at once build it once: the others wait for
# that build (a lock per key under .locks/) and print its entry. tool_cache runs in a subshell with errexit, pipefail and its own traps whether or not
# the caller captures it in $(...) (where bash turns errexit off); BUILD must fail itself (chain
# with &&). Only the directory goes to stdout.
#
# hack/envtest.sh, hack/helm.sh, hack/promtool.sh, hack/controller-gen.sh and hack/image.sh use
# it; each holds only its tool's build recipe.

# toolCacheGoEnv is what the key takes from `go env`: the toolchain and every variable that
# changes what go build makes. Not CGO_ENABLED: every recipe sets it to 0, and its default
# follows whether a C compiler is installed, which would rebuild every tool for nothing.
toolCacheGoEnv=(GOVERSION GOOS GOARCH GOFLAGS GOEXPERIMENT GOAMD64 GOARM GOARM64 GO386 GOMIPS GOMIPS64 GOPPC64 GORISCV64 GOWASM)

# tool_cache_go_env prints those variables as the key takes them: GOFLAGS without -trimpath,
# which every recipe passes itself and the Makefile exports for its own go commands (one build
# mode for tools and tests, so their common packages compile once), so a tool built under
# `make test` is the one a plain hack/envtest.sh finds, and the other way round.
tool_cache_go_env() {
  local out name value words word kept
  out=$(go env "${toolCacheGoEnv[@]}") || return 1
  for name in "${toolCacheGoEnv[@]}"; do
    IFS= read -r value || value=
    if [[ "$name" == GOFLAGS ]]; then
      read -ra words <<<"$value"
      kept=()
      for word in "${words[@]}"; do
        [[ "$word" == -trimpath || "$word" == -trimpath=true ]] || kept+=("$word")
      done
      value="${kept[*]}"
    fi
    printf '%s=%s\n' "$name" "$value"
  done <<<"$out"
}

tool_cache() (
  set -euo pipefail
  local name=$1 build=$2 binaries=$3
  shift 3
  local caller=${BASH_SOURCE[1]:-}
  if [[ -z "$caller" ]]; then
    echo "tool_cache: $name: call it from a script, whose recipe is part of the key" >&2
    exit 1
  fi
  local input key cache_root dest bin
  for input in "$@" "$caller"; do
    if [[ ! -f "$input" ]]; then
      echo "tool_cache: $name: the input $input does not exist" >&2
      exit 1
    fi
  done
  # go env runs in the tools module, where its go.mod may select another toolchain.
  if ! key=$({ (cd "$(dirname "$1")" && tool_cache_go_env) && cat "$@" "$caller"; } | sha256sum | cut -c1-16); then
    echo "tool_cache: $name: cannot compute the key (go env, or reading the inputs, failed)" >&2
    exit 1
  fi
  cache_root="${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tableau-operator}"
  dest="$cache_root/$name/$key"
  if [[ -d "$dest" ]]; then
    echo "$dest"
    exit 0
  fi
  mkdir -p "$cache_root/$name" "$cache_root/.locks"
  # One build per key at a time: a run that finds another building the same key waits for it
  # (flock, from util-linux) and takes its entry, rather than spending the same minutes of the
  # machine's cores again. The lock goes with this subshell, however it ends. Without flock,
  # concurrent runs each build, and the first rename wins (below).
  if command -v flock >/dev/null; then
    exec {lock}>"$cache_root/.locks/$name-$key"
    if ! flock -n "$lock"; then
      echo "waiting for another build of $name into $dest" >&2
      flock "$lock"
    fi
    if [[ -d "$dest" ]]; then
      echo "$dest"
      exit 0
    fi
  fi
  # The traps are set before the temporary directory exists: a signal must find them.
  tmp=
  trap 'if [[ -n "$tmp" ]]; then rm -rf "$tmp"; fi' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  tmp=$(mktemp -d "$cache_root/$name/.build-XXXXXX")
  echo "building $name into $dest" >&2
  if ! "$build" "$tmp" >&2; then
    echo "tool_cache: building $name failed" >&2
    exit 1
  fi
  for bin in $binaries; do
    if [[ ! -x "$tmp/$bin" ]]; then
      echo "tool_cache: building $name made no $bin" >&2
      exit 1
    fi
  done
  # mv -T refuses a directory that another build of the same key finished meanwhile: keep that
  # one (the EXIT trap removes ours).
  if ! mv -T "$tmp" "$dest" 2>/dev/null && [[ ! -d "$dest" ]]; then
    echo "tool_cache: cannot move $tmp to $dest" >&2
    exit 1
  fi
  echo "$dest"
)
