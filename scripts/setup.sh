#!/usr/bin/env bash
# Everything a fresh machine needs, idempotently: protoc for the tf-provider
# crate's build, the provider binary, the local AWS's virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null 2>&1; then
  echo "setup: installing protobuf-compiler (protoc)"
  sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq protobuf-compiler >/dev/null
fi

echo "setup: building the provider (cargo build)"
cargo build --quiet --bin terraform-provider-matbakh

bash acceptance-tests/emulator/setup.sh
