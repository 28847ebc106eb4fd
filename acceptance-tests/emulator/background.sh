# Sourced by scripts that need a throwaway local AWS (scripts/bench.sh, scripts/chaos.sh):
#   source acceptance-tests/emulator/background.sh
#   start_emulator_in_background WORKDIR
# Installs the emulator if needed, starts it on a free port in its own process group (killed
# when the calling script exits), waits for its health check, and sets:
#   py        the acceptance-tests virtualenv's python
#   endpoint  http://127.0.0.1:PORT
# The emulator's output goes to WORKDIR/emulator.log (shown if it dies while starting).
start_emulator_in_background() {
  local work=$1 port
  bash acceptance-tests/emulator/setup.sh
  py=$PWD/acceptance-tests/.venv/bin/python
  mkdir -p "$work"
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  endpoint=http://127.0.0.1:$port
  setsid bash acceptance-tests/emulator/start.sh "$port" > "$work/emulator.log" 2>&1 &
  emulator_pid=$!
  trap 'kill -- -$emulator_pid 2>/dev/null || kill $emulator_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do
    curl -fsS "$endpoint/_matbakh/health" >/dev/null 2>&1 && return 0
    kill -0 $emulator_pid 2>/dev/null || { cat "$work/emulator.log"; exit 1; }
    sleep 0.5
  done
  echo "the emulator did not answer its health check within 5 minutes" >&2
  cat "$work/emulator.log"
  exit 1
}
