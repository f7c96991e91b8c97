#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# `make image`: the operator's OCI image for linux/amd64 and linux/arm64, without a container
# engine. Builds static binaries (CGO_ENABLED=0, -trimpath, version -ldflags), then the image
# with hack/tools/image (go-containerregistry), and writes to ${IMAGE_OUT:-bin/image}:
#   oci/                                 OCI layout, multi-platform (crane push, skopeo oci:)
#   tableau-operator.oci.tar             the same as an OCI archive (skopeo/podman oci-archive:)
#   tableau-operator-linux-<arch>.docker.tar   one platform, `docker save` format (docker load)
#   tableau-operator.cdx.json            CycloneDX SBOM of the binaries in the image, also attached
#                                        to the layout as an OCI referrer of the image index
# It prints the image name and the digest of its index, then "sbom", the SBOM referrer's
# manifest digest, its media type and the SBOM's digest. The same commit gives the same digests.
# `hack/image.sh sbom` writes the SBOM of the image already in IMAGE_OUT anew (dated
# SOURCE_DATE_EPOCH) and attaches it in place of the old one; the image is left as it is.
# IMG names the image, IMAGE_PLATFORMS (default "linux/amd64 linux/arm64") picks the platforms.
# The image tool is built once into a cache keyed by its module and sources (hack/tool-cache.sh).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tools="$here/tools/image"
# shellcheck source=hack/version.sh
source "$here/version.sh"
out=${IMAGE_OUT:-$root/bin/image}
name=${IMG:-tableau-operator:$VERSION}
platforms=${IMAGE_PLATFORMS:-linux/amd64 linux/arm64}

# shellcheck source=hack/tool-cache.sh
source "$here/tool-cache.sh"
build_image_tool() { (cd "$tools" && CGO_ENABLED=0 go build -trimpath -o "$1/image" .); }
# The key takes the tool's sources, not its tests: editing a test rebuilds nothing.
sources=()
for f in "$tools"/*.go; do [[ "$f" == *_test.go ]] || sources+=("$f"); done
tool="$(tool_cache image build_image_tool image "$tools/go.mod" "$tools/go.sum" "${sources[@]}")/image"

if [[ "${1:-}" == sbom ]]; then
  exec "$tool" sbom --out "$out" --created "$SOURCE_DATE_EPOCH"
fi

bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
args=()
for platform in $platforms; do
  os=${platform%/*} arch=${platform#*/}
  echo "building the operator for $platform" >&2
  (cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false \
    -ldflags "-s -w $VERSION_LDFLAGS" -o "$bins/$os-$arch/tableau-operator" .) >&2
  args+=(--binary "$platform=$bins/$os-$arch/tableau-operator")
done

"$tool" "${args[@]}" --out "$out" --name "$name" --version "$VERSION" --revision "$REVISION" --created "$SOURCE_DATE_EPOCH"
