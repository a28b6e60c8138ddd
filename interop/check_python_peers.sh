#!/usr/bin/env bash
# Runs the JS client suite (real npm client) against the real Python server of
# each requested generation: 2.x client vs wslink 2.6.0, 1.x client vs 1.12.4.
#
#   interop/check_python_peers.sh [GEN...]      (default: 2 1)
#
# Each server is started on a free port (--port 0; the port is read from its
# READY line) and stopped afterwards. Server logs go to interop/out/.
# Exit status is non-zero if any suite fails. Needs ./setup.sh to have run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$HERE/out"
mkdir -p "$OUT"
SECRET="interop-$$-secret"
GENS=("$@")
[ $# -gt 0 ] || GENS=(2 1)

server_pid=""
cleanup() { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

status=0
for gen in "${GENS[@]}"; do
  log="$OUT/python-server-$gen.log"
  "$HERE/run_python_server.sh" "$gen" 0 "$SECRET" >"$log" 2>&1 &
  server_pid=$!
  url=""
  for _ in $(seq 1 100); do   # up to 10 s for the READY line
    url="$(grep -o 'READY ws://[^ ]*' "$log" | head -n1 | cut -d' ' -f2 || true)"
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "check_python_peers: Python $gen.x server did not start; see $log" >&2
    cat "$log" >&2
    exit 1
  fi
  extra=()
  # The Python 1.x server closes frames over 4 MiB (1009): cap the upload there.
  [ "$gen" = 1 ] && extra=(--big-upload 4194304)
  echo "== JS $gen.x client vs Python $gen.x server at $url ${extra[*]}"
  node "$HERE/node/js_client_suite.js" "$url" --gen "$gen" --secret "$SECRET" "${extra[@]}" || status=1
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done
exit "$status"
