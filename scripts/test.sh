#!/usr/bin/env bash
# The whole test suite: installs the real wslink peers (PyPI and npm packages, Debian
# chromium) with interop/setup.sh, then runs every test of the workspace (unit,
# in-process whole-system, property, doc and interop tests) and the lint gates.
set -euo pipefail
cd "$(dirname "$0")/.."

bash interop/setup.sh --browser
npm ci --prefix examples/chat/www --no-audit --no-fund --silent

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
cargo test --workspace --doc

# A short, bounded fuzz run of every decoder that reads network bytes.
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
