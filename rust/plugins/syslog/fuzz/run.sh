#!/usr/bin/env bash
# Fuzzes the syslog input's deframer and parser: ./run.sh [SECONDS] (60).
# Exits non-zero when the fuzzer finds a crash (the input is saved under
# artifacts/parse_and_deframe/; replay it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run -O parse_and_deframe artifacts/...`).
set -euo pipefail
cd "$(dirname "$0")"
duration="${1:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes -Z flags (-Zsanitizer=address and others) to rustc. A
# stable toolchain accepts them under RUSTC_BOOTSTRAP=1.
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

# The committed seeds are corpus/parse_and_deframe/seed-*; what the fuzzer
# adds there is ignored by git (see .gitignore) but reused by the next run.
cargo fuzz build -O parse_and_deframe
cargo fuzz run -O parse_and_deframe corpus/parse_and_deframe -- \
    -max_total_time="$duration" -max_len=4096 -timeout=10
