#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# The build's version, git revision and date, stamped into internal/version by -ldflags.
# Run, it prints the -X flags (`make build`); sourced, it sets VERSION, REVISION,
# SOURCE_DATE_EPOCH, BUILD_DATE and VERSION_LDFLAGS (hack/image.sh). Each may be set beforehand
# to override it. The date is the commit's, not the clock's, so rebuilding the same commit
# gives the same binary and the same image digest.
set -euo pipefail

version_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
in_git() { git -C "$version_root" "$@" 2>/dev/null; }

: "${REVISION:=$(in_git rev-parse HEAD || echo unknown)}"
if [[ -z "${VERSION:-}" ]]; then
  # A release tag (v1.2.3, or v1.2.3-4-gabcdef after it), else v0.0.0-dev-<commit>.
  if ! VERSION=$(in_git describe --tags --match 'v[0-9]*' --dirty); then
    VERSION="v0.0.0-dev-$(in_git rev-parse --short=12 HEAD || echo unknown)"
    # Outside a git checkout (a source tarball) there is nothing to be dirty against.
    if in_git rev-parse --verify -q HEAD >/dev/null && ! in_git diff --quiet HEAD; then
      VERSION+=-dirty
    fi
  fi
fi
: "${SOURCE_DATE_EPOCH:=$(in_git log -1 --format=%ct || echo 0)}"
BUILD_DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
version_pkg=github.com/tableau-operator/tableau-operator/internal/version
VERSION_LDFLAGS="-X $version_pkg.version=$VERSION -X $version_pkg.revision=$REVISION -X $version_pkg.buildDate=$BUILD_DATE"

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "$VERSION_LDFLAGS"
fi
