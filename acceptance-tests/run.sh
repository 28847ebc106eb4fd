#!/usr/bin/env bash
# Run the acceptance tests: ./run.sh [pytest args...]
#   ./run.sh -m emulator          only the emulator self-tests (no provider binary needed)
#   ./run.sh tests/test_platform.py -x
# Env: MATBAKH_PROVIDER_BIN (default ../target/debug/terraform-provider-matbakh),
#      MATBAKH_EMULATOR_ENDPOINT (reuse a running emulator instead of starting one).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/emulator/setup.sh"
cd "$HERE"
exec "$HERE/.venv/bin/python" -m pytest "$@"
