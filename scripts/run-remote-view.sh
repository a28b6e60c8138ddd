#!/usr/bin/env bash
# The remote view example: installs the page's npm packages (vtk.js, wslink, esbuild,
# from the committed lockfile), bundles the page, then serves the example on loopback
# and prints the URL to open. Extra arguments go to the example
# (e.g. --authKey s3cret, the page then takes ?secret=s3cret; --views 2; --fps 60).
set -euo pipefail
cd "$(dirname "$0")/.."
bash examples/remote_view/www/build.sh
exec cargo run --release --features cli --example remote_view -- --host 127.0.0.1 --port "${PORT:-8080}" --timeout 0 "$@"
