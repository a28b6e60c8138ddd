#!/usr/bin/env bash
# The whole test suite: installs the real wslink peers (PyPI and npm packages, Debian
# chromium) with interop/setup.sh, then runs every test of the workspace (unit,
# in-process whole-system, property, doc and interop tests: the interop tests need the
# feature `interop`), the lint gates, the benchmarks in a quick smoke mode, and a short
# fuzz run of every decoder.
set -euo pipefail
cd "$(dirname "$0")/.."

bash interop/setup.sh --browser
npm ci --prefix examples/chat/www --no-audit --no-fund --silent
# The remote view page: vtk.js, wslink and esbuild from its lockfile, bundled into dist/.
bash examples/remote_view/www/build.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --workspace --all-targets --features interop -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

mkdir -p target
log=target/test-output.log
: > "$log"
cargo test --workspace --all-targets --features interop 2>&1 | tee -a "$log"
cargo test --workspace --doc --features interop 2>&1 | tee -a "$log"

# The benchmarks in a quick smoke mode (they must run; no figure is asserted).
cargo bench -p wslink-codec-msgpack -p wslink-core -p wslink-server \
  --bench codec --bench ids --bench dispatch -- --quick
cargo bench --features cli --bench round_trips
cargo bench --features interop --bench remote_view -- --quick
cargo run --release -p wslink-bench -- --quick --compare --npm --deflate \
  --json target/bench-quick.json --chart target/bench-quick.svg
# Across two nodes on each broker (it starts its own nats-server and redis-server).
cargo run --release -p wslink-bench -- cluster --quick

# A short, bounded fuzz run of every decoder that reads network bytes.
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
