#!/usr/bin/env bash
# Copyright 2026 The tableau-operator Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Runs `make generate manifests` and fails if that changed, added or removed any generated
# file. It compares the working tree before and after, so it works in a fresh clone (CI) and
# in a tree with uncommitted edits alike.
set -euo pipefail
make_cmd=${1:-make}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

snapshot() {
  { find api config/crd/bases config/rbac -type f \( -name 'zz_generated*.go' -o -path 'config/crd/bases/*' -o -name role.yaml \)
    # hack/copy-generated.sh's copies in the chart and the namespaced overlay.
    find config/helm/tableau-operator/templates/crds config/helm/tableau-operator/files config/namespaced/role -type f
  } 2>/dev/null \
    | LC_ALL=C sort | xargs -r sha256sum
}

before=$(snapshot)
$make_cmd --no-print-directory generate manifests >/dev/null
after=$(snapshot)
if [[ "$before" != "$after" ]]; then
  echo "Generated files were stale; \`make generate manifests\` has rewritten them. Review and commit:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "generated files are up to date"
