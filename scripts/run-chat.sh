#!/usr/bin/env bash
# The main job: installs the chat page's npm client, then serves the chat example on
# loopback and prints the URL to open. Extra arguments go to the example
# (e.g. --port 9000 --authKey s3cret; the page takes ?secret=s3cret).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f examples/chat/www/node_modules/wslink2/dist/wslink.js ]; then
  npm ci --prefix examples/chat/www --no-audit --no-fund
fi
exec cargo run --release --features cli --example chat -- --host 127.0.0.1 --port "${PORT:-8080}" --timeout 0 "$@"
