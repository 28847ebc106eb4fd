#!/usr/bin/env bash
# Start the local AWS emulator (moto + matbakh extensions) in the foreground.
# Usage: start.sh [PORT]   (default: $MATBAKH_EMULATOR_PORT or 4566)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="${MATBAKH_VENV:-$ROOT/.venv}"
PORT="${1:-${MATBAKH_EMULATOR_PORT:-4566}}"

"$HERE/setup.sh"
exec "$VENV/bin/python" "$HERE/matbakh_moto.py" --host 127.0.0.1 --port "$PORT"
