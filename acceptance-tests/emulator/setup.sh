#!/usr/bin/env bash
# Idempotently create acceptance-tests/.venv with the pinned emulator and test tools.
# Re-running is cheap: a stamp file records the hash of requirements.txt and the
# interpreter; the venv is only (re)built when either changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="${MATBAKH_VENV:-$ROOT/.venv}"
REQ="$ROOT/requirements.txt"
STAMP="$VENV/.matbakh-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$( { sha256sum "$REQ" | cut -d' ' -f1; "$PYTHON" -c 'import sys; print(sys.version.split()[0])'; } | tr '\n' ' ')"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    exit 0
fi

# Serialise concurrent runs (e.g. two pytest sessions starting at once).
exec 9>"${TMPDIR:-/tmp}/matbakh-venv-$(echo "$VENV" | sha256sum | cut -c1-12).lock"
flock 9
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    exit 0
fi

echo "setup.sh: creating virtualenv $VENV" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2
"$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r "$REQ" >&2
echo "$want" > "$STAMP"
echo "setup.sh: virtualenv ready" >&2
