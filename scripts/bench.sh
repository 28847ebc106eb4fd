#!/usr/bin/env bash
# The performance benchmark of issue #12 (outside CI's pass/fail):
#   scripts/bench.sh [--quick] [--scenarios one,three,10,30,100] [--delay-ms 200] [--binary PATH]
#                    [--mesh service_connect|app_mesh] [--label NAME]
#                    [--quotas [--quota-delays 50,200]]
# Starts the local emulator behind the latency proxy (acceptance-tests/harness/fault_proxy.py)
# and, per scenario (one = 1 microservice, three = examples/three-services, N = N generated
# microservices), runs apply, plan and destroy at D = 0 and at D = --delay-ms on every AWS
# request. Prints calls per operation by AWS operation, sequential rounds, wall times, the ratio
# to the minimum rounds, the provider's peak RSS and CPU, the binary's build (debug or release:
# a debug build needs about twice the memory), size and start-up to the handshake (see
# acceptance-tests/harness/bench.py). --quick: scenarios one,10.
# The binary: --binary, else MATBAKH_PROVIDER_BIN, else $CARGO_TARGET_DIR/release, else debug
# (built if missing). Results stay in .run/bench/results[-NAME].{txt,json}.
# --quotas (issue #23): behind AWS's published API rate quotas (acceptance-tests/harness/quotas.py),
# every microservice with autoscaling, at each of --quota-delays (default 50,200 ms; default
# scenarios 100,300; `Ni`, e.g. 100i, is N microservices behind the platform's ingress):
# calls per microservice by operation, throttling answers, errors, wall times and the floor the
# quotas set for the calls made.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."
root=$PWD

scenarios=one,three,10,30,100
delay=200
binary=${MATBAKH_PROVIDER_BIN:-}
label=
mesh=service_connect
quotas=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) scenarios=one,10 ;;
    --scenarios) scenarios=$2; shift ;;
    --delay-ms) delay=$2; shift ;;
    --binary) binary=$2; shift ;;
    --label) label=$2; shift ;;
    --mesh) mesh=$2; shift ;;
    --quotas) quotas+=(--quotas); [ "$scenarios" = one,three,10,30,100 ] && scenarios=100,300 ;;
    --quota-delays) quotas+=(--quota-delays "$2"); shift ;;
    -h|--help) sed -n '2,19p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

target=${CARGO_TARGET_DIR:-$root/target}
if [ -z "$binary" ]; then
  if [ -x "$target/release/terraform-provider-matbakh" ]; then
    binary=$target/release/terraform-provider-matbakh
  else
    binary=$target/debug/terraform-provider-matbakh
    if [ ! -x "$binary" ]; then
      echo "bench.sh: building $binary" >&2
      cargo build --quiet --bin terraform-provider-matbakh
    fi
  fi
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
[ -x /usr/bin/time ] || { echo "bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

work=$root/.run/bench
source acceptance-tests/emulator/background.sh
start_emulator_in_background "$work"

echo "bench.sh: $binary against $endpoint, scenarios $scenarios, D = $delay ms" >&2
cd acceptance-tests
"$py" -m harness.bench --emulator "$endpoint" --binary "$binary" --workdir "$work" \
  --scenarios "$scenarios" --delay-ms "$delay" --mesh "$mesh" --json "$work/results${label:+-$label}.json" ${quotas[@]+"${quotas[@]}"}
