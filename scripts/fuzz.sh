#!/usr/bin/env bash
# Runs every fuzz target (cargo fuzz, libFuzzer) for SECONDS each (default 20), starting
# from the seed corpus in fuzz/corpus. Installs cargo-fuzz when missing. The machine's
# stable toolchain is used with RUSTC_BOOTSTRAP=1 (cargo fuzz passes nightly-only flags)
# and no sanitizer (that needs a nightly standard library).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
for target in "${targets[@]}"; do
  echo "fuzz: $target for ${seconds}s"
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  status=0
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -s none "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|Done)|panicked|ERROR' "$log" || true
  # A crash makes cargo fuzz exit non-zero: that fails the run, with the fuzzer's story.
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $target FAILED (artifacts in fuzz/artifacts/$target)"
    exit 1
  fi
  rm -f "$log"
done
echo "fuzz: all targets ran clean"
