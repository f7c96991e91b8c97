#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds kube-apiserver, etcd and kubectl from Go modules (nothing is downloaded as a
# binary) into the tool cache (hack/tool-cache.sh), keyed by the tools module's content, and
# prints that directory. A second run with the same inputs builds nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools/envtest"
k8s_version=v1.37.2

ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$k8s_version \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=37 \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=37"

# shellcheck source=hack/tool-cache.sh
source "$here/tool-cache.sh"

# One go build of the three: their common packages (client-go, apimachinery, grpc, etcd's
# client, ...) compile once, and one binary's link overlaps the others' compiles rather than
# waiting for them. The version -X flags name packages etcd does not link, which the linker
# ignores there. go build names etcd's binary after its package path without the /v3: server.
build_envtest() {
  echo "building envtest binaries (kube-apiserver, etcd, kubectl $k8s_version); a cold build takes about 4 minutes"
  (
    cd "$tools" && export CGO_ENABLED=0 &&
      go build -trimpath -ldflags "$ldflags" -o "$1/" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3 &&
      mv "$1/server" "$1/etcd"
  )
}
tool_cache envtest build_envtest "kube-apiserver etcd kubectl" "$tools/go.mod" "$tools/go.sum"
