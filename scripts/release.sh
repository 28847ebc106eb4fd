#!/usr/bin/env bash
# Build a release the way the Terraform Registry (and HCP Terraform's private
# registry, and a filesystem or network mirror) expects it:
#
#   scripts/release.sh VERSION [OS_ARCH...] [--dist DIR] [--prebuilt OS_ARCH=BINARY] [--unsigned]
#
# into dist/VERSION/ (or --dist DIR):
#   terraform-provider-matbakh_VERSION_OS_ARCH.zip    for linux_amd64, linux_arm64,
#                                                     darwin_amd64, darwin_arm64, windows_amd64
#   terraform-provider-matbakh_VERSION_manifest.json  protocol 6.0
#   terraform-provider-matbakh_VERSION_SHA256SUMS     every zip and the manifest
#   terraform-provider-matbakh_VERSION_SHA256SUMS.sig detached binary GPG signature
#   signing-key.asc                                   the public key that verifies it
#   mirror/{registry.terraform.io,registry.opentofu.org}/matbakh/matbakh/
#                                                     packed filesystem mirror + network-mirror json
#
# OS_ARCH arguments build a subset (CI builds linux_amd64 linux_arm64).
# Binaries use the release profile (fat LTO, one codegen unit, stripped).
# RELEASE_FAST=1 lowers that to no LTO and 16 codegen units, for CI's
# cross-build check only; a published release never sets it.
#
# Signing key, from the environment:
#   GPG_PRIVATE_KEY  ASCII-armoured secret key (GPG_PASSPHRASE if it has one)
#   GPG_FINGERPRINT  which key to sign with (default: the only secret key)
# With neither, a throwaway RSA key is generated for this run (into a
# temporary GNUPGHOME) and its public half written to signing-key.asc.
#
# How each platform is linked here, on Linux, without the platform's SDK:
#   linux_*    static (musl) through cargo-zigbuild: runs on any Linux, glibc
#              (Amazon Linux 2, old Debian/RHEL) or musl (Alpine, Atlantis).
#   darwin_*   cargo-zigbuild with the frameworks the TLS root store uses
#              (Security, CoreFoundation) given as text stubs from
#              scripts/release/macos-frameworks: the symbols and install names
#              the real frameworks export, nothing else (see the README there).
#   windows_*  x86_64-pc-windows-gnu through cargo-zigbuild; aws-lc-sys uses its
#              prebuilt NASM objects, so neither nasm nor cmake is needed.
# Tools (rustup targets, ziglang and cargo-zigbuild in a virtualenv, gnupg)
# are installed on first use; everything is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

version=""
platforms=()
dist=""
sign=1
declare -A prebuilt=()
while [ $# -gt 0 ]; do
  case $1 in
    --dist) dist=$2; shift 2 ;;
    --prebuilt) prebuilt[${2%%=*}]=${2#*=}; platforms+=("${2%%=*}"); shift 2 ;;
    --unsigned) sign=0; shift ;;
    -h|--help) usage ;;
    -*) echo "release: unknown option $1" >&2; usage ;;
    *) if [ -z "$version" ]; then version=$1; else platforms+=("$1"); fi; shift ;;
  esac
done
[ -n "$version" ] || usage
cargo_version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
if [ "$version" != "$cargo_version" ]; then
  echo "release: VERSION $version differs from Cargo.toml's version $cargo_version; bump Cargo.toml (and CHANGELOG.md) first" >&2
  exit 1
fi
[ ${#platforms[@]} -gt 0 ] || platforms=(linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64)
dist=${dist:-dist/$version}

rust_target() {
  case $1 in
    linux_amd64) echo x86_64-unknown-linux-musl ;;
    linux_arm64) echo aarch64-unknown-linux-musl ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    *) echo "release: unknown platform $1 (linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64)" >&2; return 1 ;;
  esac
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# --- tools -------------------------------------------------------------------
tools=${MATBAKH_RELEASE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/matbakh-release}
venv=$tools/venv
to_build=()
for p in "${platforms[@]}"; do
  rust_target "$p" >/dev/null
  [ -n "${prebuilt[$p]:-}" ] || to_build+=("$p")
done
if [ ${#to_build[@]} -gt 0 ]; then
  # Pinned: a zig or cargo-zigbuild upgrade is a change to review, not a surprise.
  if ! "$venv/bin/python" -m ziglang version 2>/dev/null | grep -qx 0.17.1 ||
     ! "$venv/bin/cargo-zigbuild" --version 2>/dev/null | grep -q ' 0.24.1$'; then
    echo "release: installing ziglang 0.17.1 and cargo-zigbuild 0.24.1 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'ziglang==0.17.1' 'cargo-zigbuild==0.24.1'
  fi
  installed=$(rustup target list --installed)
  for p in "${to_build[@]}"; do
    t=$(rust_target "$p")
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
  command -v protoc >/dev/null || apt_install protobuf-compiler
fi
if [ "$sign" = 1 ] && ! command -v gpg >/dev/null; then apt_install gnupg; fi

# --- build -------------------------------------------------------------------
if [ "${RELEASE_FAST:-0}" = 1 ]; then
  echo "release: RELEASE_FAST=1: no LTO, 16 codegen units (CI check build, not for publishing)"
  export CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
# Terraform itself needs macOS 11; so does this provider (both architectures).
export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-11.0}
# Windows x86_64: aws-lc-sys's own prebuilt NASM objects instead of nasm.
export AWS_LC_SYS_PREBUILT_NASM=${AWS_LC_SYS_PREBUILT_NASM:-1}
frameworks=$root/scripts/release/macos-frameworks
export CARGO_TARGET_AARCH64_APPLE_DARWIN_RUSTFLAGS="-C link-arg=-F$frameworks"
export CARGO_TARGET_X86_64_APPLE_DARWIN_RUSTFLAGS="-C link-arg=-F$frameworks"

binaries=()
for p in "${platforms[@]}"; do
  if [ -n "${prebuilt[$p]:-}" ]; then
    binaries+=("$p=${prebuilt[$p]}")
    continue
  fi
  t=$(rust_target "$p")
  exe=terraform-provider-matbakh; [[ $p == windows_* ]] && exe=$exe.exe
  echo "release: building $p ($t)"
  start=$(date +%s)
  PATH=$venv/bin:$PATH cargo zigbuild --locked --release --bin terraform-provider-matbakh --target "$t"
  bin=$target_dir/$t/release/$exe
  echo "release: $p built in $(( $(date +%s) - start )) s: $(stat -c %s "$bin") bytes"
  binaries+=("$p=$bin")
done

# --- package -----------------------------------------------------------------
mkdir -p "$dist"
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 315532800)}
mirror=$(python3 scripts/release/layout.py pack --version "$version" --dist "$dist" --epoch "$epoch" "${binaries[@]}")
sums=$dist/terraform-provider-matbakh_${version}_SHA256SUMS

# --- sign --------------------------------------------------------------------
if [ "$sign" = 1 ]; then
  GNUPGHOME=$(mktemp -d)
  export GNUPGHOME
  trap 'gpgconf --kill all >/dev/null 2>&1 || true; rm -rf "$GNUPGHOME"' EXIT
  gpg_sign=(gpg --batch --yes --pinentry-mode loopback)
  if [ -n "${GPG_PRIVATE_KEY:-}" ]; then
    printf '%s\n' "$GPG_PRIVATE_KEY" | gpg --batch --import 2>/dev/null
    fingerprint=${GPG_FINGERPRINT:-$(gpg --list-secret-keys --with-colons | awk -F: '/^fpr:/ {print $10; exit}')}
    [ -n "${GPG_PASSPHRASE:-}" ] && gpg_sign+=(--passphrase "$GPG_PASSPHRASE")
    echo "release: signing with the key from GPG_PRIVATE_KEY ($fingerprint)"
  else
    # The Terraform Registry takes RSA (or DSA) signing keys.
    gpg --batch --passphrase '' --quick-generate-key \
      "terraform-provider-matbakh release (throwaway) <release@matbakh.invalid>" rsa3072 sign 7d 2>/dev/null
    fingerprint=$(gpg --list-secret-keys --with-colons | awk -F: '/^fpr:/ {print $10; exit}')
    gpg_sign+=(--passphrase '')
    echo "release: no GPG_PRIVATE_KEY: signed with a throwaway key generated for this run ($fingerprint)"
  fi
  "${gpg_sign[@]}" --local-user "$fingerprint" --detach-sign --output "$sums.sig" "$sums"
  gpg --armor --export "$fingerprint" > "$dist/signing-key.asc"
fi

echo "release: $dist"
ls -l "$dist" | sed 's/^/  /'
echo "$mirror"
