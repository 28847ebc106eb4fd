#!/usr/bin/env bash
# Package the built provider the way the Terraform registry serves it: a zip
# named terraform-provider-matbakh_VERSION_OS_ARCH.zip holding
# terraform-provider-matbakh_vVERSION, plus its SHA256SUMS, laid out as a
# filesystem mirror (HOST/NAMESPACE/TYPE/zip) that `terraform init` installs
# from. Usage: scripts/package.sh [PROFILE_DIR]   (default target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
profile_dir=${1:-${CARGO_TARGET_DIR:-target}/debug}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')"
dist=dist
mirror=$dist/mirror/registry.terraform.io/matbakh/matbakh
zip_name=terraform-provider-matbakh_${version}_${platform}.zip
mkdir -p "$mirror"
python3 - "$profile_dir/terraform-provider-matbakh" "$dist/$zip_name" "terraform-provider-matbakh_v${version}" <<'PY'
import sys, zipfile
src, dst, name = sys.argv[1:]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(src, "rb") as f:
        z.writestr(info, f.read())
PY
cp "$dist/$zip_name" "$mirror/$zip_name"
(cd "$dist" && sha256sum "$zip_name" > "terraform-provider-matbakh_${version}_SHA256SUMS")
cp terraform-registry-manifest.json "$dist/terraform-provider-matbakh_${version}_manifest.json"
echo "$PWD/$dist/mirror"
