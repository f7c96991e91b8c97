#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds kube-apiserver, etcd and kubectl from Go modules (nothing is downloaded as a
# binary) into a cache directory outside the repository, keyed by the tools module's
# content, and prints that directory. A second run with the same inputs builds nothing.
# The build goes to a temporary directory that is renamed into place, so an interrupted
# build never leaves a half-made cache entry behind.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/envtest"
k8s_version=v1.37.2

key=$(cat "$tools/go.mod" "$tools/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
cache_root="${TABLEAU_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tableau-operator}"
dest="$cache_root/envtest/$key"

if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" && -x "$dest/kubectl" ]]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache_root/envtest"
tmp=$(mktemp -d "$cache_root/envtest/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$k8s_version \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=37 \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=37"

echo "building envtest binaries (kube-apiserver, etcd, kubectl $k8s_version) into $dest; a cold build takes about 4 minutes" >&2
(
  cd "$tools"
  export CGO_ENABLED=0
  go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
  go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
) >&2

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"
