#!/usr/bin/env bash
# The release, checked the way its users meet it (part of scripts/test.sh):
#
#   1. scripts/release.sh builds linux_amd64 and linux_arm64 with the release
#      profile (cross builds: the static x86_64/aarch64-unknown-linux-musl
#      targets, linked by zig), packs and signs them (a throwaway key).
#      RELEASE_FAST=1 by default here: no LTO, see below.
#      RELEASE_TEST_PLATFORMS="linux_amd64" builds one (each is a release build
#      of every dependency: about five minutes on 2 cores).
#   2. Layout: zip names, one executable entry per zip named
#      terraform-provider-matbakh_vVERSION, SHA256SUMS covering every zip and
#      the manifest, manifest protocol 6.0, both mirrors, network-mirror json.
#   3. `gpg --verify` of SHA256SUMS.sig with nothing but the exported public
#      key, and a tampered SHA256SUMS failing it.
#   4. The Linux binaries are static and of the right architecture; both
#      complete go-plugin's handshake (arm64 under qemu-aarch64-static).
#   5. `terraform init` in fresh directories installs from the filesystem
#      mirror (as registry.terraform.io/... and registry.opentofu.org/...)
#      and from a local HTTPS registry serving the release (Terraform checks
#      the signature itself); the lock files hold exactly the expected h1:
#      (and, from the registry, the signed zh:) hashes; `terraform providers
#      lock -fs-mirror -platform=...` for every platform in the release;
#      `terraform providers schema` runs the installed binary, which reports
#      its version.
#
# RELEASE_TEST_DIST=DIR checks an existing release (e.g. dist/0.2.0, all five
# platforms) instead of building one. RELEASE_FAST=0 builds with the real
# release profile (fat LTO): slower, see the README's release section.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "release test: FAIL: $*" >&2; exit 1; }
step() { echo "release test: $*"; }
start=$(date +%s)
build_platforms=${RELEASE_TEST_PLATFORMS:-linux_amd64 linux_arm64}
echo "== release test: $build_platforms release build, layout, signature, install from mirror and registry"

if [ -n "${RELEASE_TEST_DIST:-}" ]; then
  dist=$(cd "$RELEASE_TEST_DIST" && pwd)
else
  dist=$work/dist
  RELEASE_FAST=${RELEASE_FAST:-1} bash scripts/release.sh "$version" $build_platforms --dist "$dist" > "$work/release.log" 2>&1 ||
    { tail -50 "$work/release.log"; fail "scripts/release.sh failed"; }
  grep -E '^release: .* built in' "$work/release.log" || true
fi
platforms=$(cd "$dist" && ls terraform-provider-matbakh_"${version}"_*.zip | sed "s/^terraform-provider-matbakh_${version}_//; s/\.zip$//")
step "checking $dist: $(echo $platforms)"
mirror=$dist/mirror
sums=$dist/terraform-provider-matbakh_${version}_SHA256SUMS

# 2. layout
python3 scripts/release/layout.py check --version "$version" --dist "$dist" --signed --platforms $platforms

# 3. signature, with the published public key alone
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --import "$dist/signing-key.asc" 2>/dev/null
fingerprint=$(gpg --with-colons --show-keys "$dist/signing-key.asc" | awk -F: '/^fpr:/ {print $10; exit}')
gpg --batch --status-fd 1 --verify "$sums.sig" "$sums" 2>/dev/null | grep -q "^\[GNUPG:\] VALIDSIG $fingerprint " ||
  fail "SHA256SUMS.sig does not verify with signing-key.asc"
cp "$sums" "$work/tampered" && echo "0000000000000000000000000000000000000000000000000000000000000000  extra.zip" >> "$work/tampered"
if gpg --batch --verify "$sums.sig" "$work/tampered" 2>/dev/null; then fail "a tampered SHA256SUMS verified"; fi
step "signature verifies (key $fingerprint); a tampered SHA256SUMS does not"

# 4. binaries
for p in $platforms; do
  [[ $p == linux_* ]] || continue
  unzip -q -o "$dist/terraform-provider-matbakh_${version}_$p.zip" -d "$work/bin-$p"
  bin=$work/bin-$p/terraform-provider-matbakh_v$version
  [ -x "$bin" ] || fail "$p: unzip does not give an executable"
  want_machine=$([ "$p" = linux_amd64 ] && echo 'X86-64' || echo 'AArch64')
  readelf -h "$bin" | grep -q "Machine:.*$want_machine$" || fail "$p: not an $want_machine ELF"
  if readelf -l "$bin" | grep -q INTERP || readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then
    fail "$p: not static (needs $(readelf -d "$bin" | grep NEEDED | tr -s ' ' | cut -d' ' -f6 | tr '\n' ' '))"
  fi
  step "$p: static $want_machine ELF, $(stat -c %s "$bin") bytes"
done
# PLATFORM's binary, started as go-plugin starts it (through RUNNER, if given): it must
# answer with the handshake line and log its version.
check_handshake() {
  local p=$1 bin=$work/bin-$1/terraform-provider-matbakh_v$version handshake
  shift
  handshake=$(TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 \
    PLUGIN_PROTOCOL_VERSIONS=6 timeout 60 "$@" "$bin" 2> "$work/provider-$p.log" | head -1 || true)
  [[ $handshake =~ ^1\|6\|(unix|tcp)\|.+\|grpc ]] || fail "$p binary: no go-plugin handshake (got '$handshake')"
  grep -q "\"version\":\"$version\"" "$work/provider-$p.log" || fail "$p: the start-up log line does not carry version $version: $(head -3 "$work/provider-$p.log")"
  step "$p binary${1:+ (run by $(basename "$1"))}: handshake '${handshake%%|grpc*}|grpc…', start-up log names version $version"
}
if [ "$(uname -m)" = x86_64 ]; then
  [ -d "$work/bin-linux_amd64" ] && check_handshake linux_amd64
  # The arm64 binary runs too, under qemu's user-mode emulator (installed when missing).
  if [ -d "$work/bin-linux_arm64" ]; then
    if ! command -v qemu-aarch64-static >/dev/null; then
      as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
      as_root apt-get update -qq
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq qemu-user-static >/dev/null
    fi
    check_handshake linux_arm64 "$(command -v qemu-aarch64-static)"
  fi
fi

# 5. Terraform installs it
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
expected_h1() { python3 scripts/release/layout.py h1 "$dist/terraform-provider-matbakh_${version}_$1.zip"; }
host_platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')"
lock_hashes() { sed -n 's/^ *"\(\(h1\|zh\):[^"]*\)",$/\1/p' "$1/.terraform.lock.hcl" | sort; }
new_config() { # DIR SOURCE CLI_CONFIG
  mkdir -p "$1"
  cat > "$1/main.tf" <<EOT
terraform {
  required_providers {
    matbakh = { source = "$2", version = "$version" }
  }
}
EOT
  printf '%s\n' "$3" > "$1/cli.tfrc"
}
for host in registry.terraform.io registry.opentofu.org; do
  dir=$work/tf-$host
  new_config "$dir" "$host/matbakh/matbakh" "provider_installation {
  filesystem_mirror {
    path    = \"$mirror\"
    include = [\"$host/matbakh/matbakh\"]
  }
  direct { exclude = [\"$host/matbakh/matbakh\"] }
}"
  (cd "$dir" && TF_CLI_CONFIG_FILE=$dir/cli.tfrc terraform init -no-color > init.log 2>&1) ||
    { cat "$dir/init.log"; fail "terraform init from the $host mirror"; }
  if echo "$platforms" | grep -qx "$host_platform"; then
    [ "$(lock_hashes "$dir")" = "$(expected_h1 "$host_platform")" ] ||
      fail "$host: lock file holds '$(lock_hashes "$dir")', expected $(expected_h1 "$host_platform")"
  fi
  lock_args=()
  for p in $platforms; do lock_args+=("-platform=$p"); done
  (cd "$dir" && TF_CLI_CONFIG_FILE=$dir/cli.tfrc terraform providers lock -no-color -fs-mirror="$mirror" "${lock_args[@]}" > lock.log 2>&1) ||
    { cat "$dir/lock.log"; fail "terraform providers lock -fs-mirror ${lock_args[*]} ($host)"; }
  want=$(for p in $platforms; do expected_h1 "$p"; done | sort)
  [ "$(lock_hashes "$dir")" = "$want" ] || fail "$host: after providers lock: '$(lock_hashes "$dir")', expected '$want'"
  step "$host mirror: terraform init and providers lock for $(echo $platforms) give the expected h1: hashes"
done

# The host binary, installed by Terraform, answers the schema with its version.
if echo "$platforms" | grep -qx "$host_platform"; then
  dir=$work/tf-registry.terraform.io
  (cd "$dir" && TF_CLI_CONFIG_FILE=$dir/cli.tfrc terraform providers schema -json > schema.json 2> schema.log) ||
    { cat "$dir/schema.log"; fail "terraform providers schema with the installed release binary"; }
  python3 - "$dir/schema.json" "$version" <<'PY' || fail "the provider schema's description does not name version $version"
import json, sys
schema = json.load(open(sys.argv[1]))["provider_schemas"]["registry.terraform.io/matbakh/matbakh"]
assert sys.argv[2] in schema["provider"]["block"]["description"], schema["provider"]["block"]["description"]
PY
  step "terraform providers schema runs the installed binary; its description names $version"
fi

# A registry: Terraform checks the signature and records the signed zh: hashes.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
python3 scripts/release/registry_server.py "$dist" "$version" "$work/cert.pem" "$work/key.pem" "$work/port" 2> "$work/registry.log" &
server_pid=$!
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/registry.log"; fail "the local registry did not start"; }
dir=$work/tf-registry
source="localhost:$(cat "$work/port")/matbakh/matbakh"
new_config "$dir" "$source" 'provider_installation { direct {} }'
if echo "$platforms" | grep -qx "$host_platform"; then
  (cd "$dir" && SSL_CERT_FILE=$work/cert.pem TF_CLI_CONFIG_FILE=$dir/cli.tfrc terraform init -no-color > init.log 2>&1) ||
    { cat "$dir/init.log" "$work/registry.log"; fail "terraform init from the local registry"; }
  grep -q "Installed $source v$version (self-signed, key ID" "$dir/init.log" ||
    fail "terraform did not report a signature check: $(grep Installed "$dir/init.log")"
  want=$( (expected_h1 "$host_platform"; awk '{print "zh:" $1}' "$sums") | sort)
  [ "$(lock_hashes "$dir")" = "$want" ] || fail "registry install: lock file holds '$(lock_hashes "$dir")', expected '$want'"
  step "registry install: signature checked by terraform; lock file holds h1: and the signed zh: of every SHA256SUMS entry"
fi
step "passed in $(( $(date +%s) - start )) s"
