#!/usr/bin/env bash
# The long chaos run (outside CI; the CI-sized one is acceptance-tests/tests/test_chaos.py):
#   scripts/chaos.sh RATE SEEDS        e.g. scripts/chaos.sh 0.4 1-5   (or 40%, or seeds 3,7,11)
# For each seed: apply (at most 3 attempts), plan -detailed-exitcode, destroy of
# examples/three-services through the fault proxy (acceptance-tests/harness/fault_proxy.py) at
# RATE mixed faults, against one local emulator (reset before each seed). One line per run:
#   rate seed attempts orphans duplicates panics wall   (+ plan/destroy exit codes, faults)
# Exit status 1 if any run needed more than one attempt, left orphans or duplicates, panicked
# or planned changes. Builds nothing if the provider binary exists (MATBAKH_PROVIDER_BIN, else
# $CARGO_TARGET_DIR/debug/terraform-provider-matbakh). Run directories (provider DEBUG log,
# proxy request log, state) stay under .run/chaos/.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."
root=$PWD

if [ $# -ne 2 ]; then
  sed -n '2,11p' "$self" | sed 's/^# \{0,1\}//'
  exit 2
fi
rate=${1%\%}
if awk "BEGIN { exit !($rate > 1) }"; then rate=$(awk "BEGIN { print $rate / 100 }"); fi
case "$2" in
  *-*) seeds=$(seq "${2%-*}" "${2#*-}") ;;
  *)   seeds=$(echo "$2" | tr ',' ' ') ;;
esac

binary=${MATBAKH_PROVIDER_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/terraform-provider-matbakh}
if [ ! -x "$binary" ]; then
  echo "chaos.sh: building $binary" >&2
  cargo build --quiet --bin terraform-provider-matbakh
fi

work=$root/.run/chaos
source acceptance-tests/emulator/background.sh
start_emulator_in_background "$work"

cd acceptance-tests
cli_config=$("$py" -c '
import sys
from pathlib import Path
from harness.terraform import plugin_dir_for, write_cli_config
work = Path(sys.argv[2])
print(write_cli_config(work / "terraformrc", plugin_dir_for(Path(sys.argv[1]), work)))
' "$binary" "$work")

echo "chaos.sh: $binary against $endpoint, rate $rate, seeds $(echo $seeds)" >&2
"$py" -m harness.chaos header
status=0
for seed in $seeds; do
  "$py" -m harness.chaos cycle --emulator "$endpoint" --cli-config "$cli_config" \
    --workdir "$work" --rate "$rate" --seed "$seed" || status=1
done
exit $status
