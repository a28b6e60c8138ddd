#!/usr/bin/env bash
# Runs the test-protocol server on the real Python wslink of one generation.
#
#   interop/run_python_server.sh GEN [PORT] [SECRET] [extra wslink options...]
#
#   GEN     2 (PyPI wslink 2.6.0, .venv2) or 1 (wslink 1.12.4, .venv1)
#   PORT    port on 127.0.0.1; 0 (default) lets the OS pick one
#   SECRET  --authKey value (default: wslink-secret)
#
# Prints "READY ws://127.0.0.1:PORT/ws" on its own line once listening (with the
# real port), then serves until killed. Needs ./setup.sh to have run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

GEN="${1:?usage: run_python_server.sh GEN [PORT] [SECRET] [options...]}"
PORT="${2:-0}"
SECRET="${3:-wslink-secret}"
shift $(( $# < 3 ? $# : 3 ))

case "$GEN" in 1|2) ;; *) echo "run_python_server.sh: GEN must be 1 or 2" >&2; exit 2 ;; esac
PY="$HERE/.venv$GEN/bin/python"
[ -x "$PY" ] || { echo "run_python_server.sh: $PY missing; run interop/setup.sh" >&2; exit 1; }

# -u: unbuffered, so wslink's own output interleaves sensibly with ours.
exec "$PY" -u "$HERE/python/test_server.py" --host 127.0.0.1 --port "$PORT" --authKey "$SECRET" "$@"
