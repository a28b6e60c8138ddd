#!/usr/bin/env bash
# The two-node chat in one command: a broker (Debian's nats-server, or redis-server with
# BROKER=redis) and two chat servers sharing it, all on loopback. Open node A's page in
# one browser and node B's in another: what one says, the other sees.
#
#   scripts/run-chat-cluster.sh              # NATS on 4222, nodes on 8081 and 8082
#   BROKER=redis scripts/run-chat-cluster.sh # Redis on 6379 instead
#   BROKER_PORT=14222 PORT_A=9001 PORT_B=9002 scripts/run-chat-cluster.sh
#
# Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BROKER="${BROKER:-nats}"
PORT_A="${PORT_A:-8081}"
PORT_B="${PORT_B:-8082}"

if [ ! -f examples/chat/www/node_modules/wslink2/dist/wslink.js ]; then
  npm ci --prefix examples/chat/www --no-audit --no-fund
fi
case "$BROKER" in
  nats)
    BROKER_PORT="${BROKER_PORT:-4222}"
    BIN=/usr/sbin/nats-server
    ARGS=(-a 127.0.0.1 -p "$BROKER_PORT")
    ;;
  redis)
    BROKER_PORT="${BROKER_PORT:-6379}"
    BIN=/usr/bin/redis-server
    ARGS=(--bind 127.0.0.1 --port "$BROKER_PORT" --save "" --appendonly no)
    ;;
  *) echo "run-chat-cluster.sh: BROKER must be nats or redis" >&2; exit 2 ;;
esac
[ -x "$BIN" ] || { echo "run-chat-cluster.sh: $BIN missing: run interop/setup.sh" >&2; exit 1; }
cargo build --release --features cli,nats,redis --example chat

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$BIN" "${ARGS[@]}" >/dev/null 2>&1 &
pids+=($!)
URL="$BROKER://127.0.0.1:$BROKER_PORT"
for node in A B; do
  port_var="PORT_$node"
  target/release/examples/chat --host 127.0.0.1 --port "${!port_var}" --timeout 0 \
    --name "Node $node" --pubsub "$URL" --pubsub-namespace chat &
  pids+=($!)
done
echo "Two chat servers on $URL: open http://127.0.0.1:$PORT_A/ in one browser and http://127.0.0.1:$PORT_B/ in another."
wait -n
