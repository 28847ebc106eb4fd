#!/usr/bin/env bash
# Package an already built provider for this machine's platform only, through
# the same code path as a release (scripts/release.sh --prebuilt): the
# registry zip, manifest and SHA256SUMS in dist/dev/, and the filesystem
# mirror (registry.terraform.io and registry.opentofu.org) that
# `terraform init` installs from. Unsigned: this is for local use
# (quickstart); scripts/release.sh VERSION makes the signed five-platform
# release.
# Usage: scripts/package.sh [PROFILE_DIR]   (default $CARGO_TARGET_DIR/debug)
# Prints the mirror directory last.
set -euo pipefail
cd "$(dirname "$0")/.."
profile_dir=${1:-${CARGO_TARGET_DIR:-target}/debug}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')"
bash scripts/release.sh "$version" --unsigned --dist dist/dev \
  --prebuilt "$platform=$profile_dir/terraform-provider-matbakh" | tail -1
