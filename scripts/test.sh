#!/usr/bin/env bash
# Every test: formatting and lints, unit and protocol tests (cargo), then the
# acceptance tests in which the real Terraform CLI drives the real provider
# binary against the local AWS emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --quiet --all-targets -- -D warnings
echo "== cargo test"
cargo test --quiet 2>&1 | tee .run-cargo-test.log | grep -E "^test result|FAILED|panicked|error" || true
if grep -qE "FAILED|^error" .run-cargo-test.log; then
  cat .run-cargo-test.log
  rm -f .run-cargo-test.log
  exit 1
fi
rm -f .run-cargo-test.log
bash scripts/release_test.sh
echo "== acceptance tests"
# Two pytest workers by default (MATBAKH_TEST_WORKERS, 0 = one process): each
# starts its own emulator and takes whole files (--dist loadfile), so a file's
# module-scoped stacks are applied once. On 2 cores this cuts the suite by about
# a third: most of a test's time is Terraform and the provider waiting on calls.
bash acceptance-tests/run.sh -n "${MATBAKH_TEST_WORKERS:-2}" --dist loadfile "$@"
