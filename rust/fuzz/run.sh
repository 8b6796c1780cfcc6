#!/usr/bin/env bash
# Fuzzes, each for SECONDS (default 60): ./run.sh [SECONDS] [TARGET...]
#   parse_and_deframe  the syslog input's deframer and parser
#   chunk_to_syslog    the SDK's msgpack reader and event decoding (both
#                      formats) through the syslog output's mapping and
#                      formatting
#   redact_walk        the same decoding through rs_redact's scan and
#                      rewrite, every kind of rule
# Exits non-zero when the fuzzer finds a crash (the input is saved under
# artifacts/TARGET/; replay it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir . -O TARGET artifacts/...`).
set -euo pipefail
cd "$(dirname "$0")"
duration="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_and_deframe chunk_to_syslog redact_walk)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes -Z flags (-Zsanitizer=address and others) to rustc. A
# stable toolchain accepts them under RUSTC_BOOTSTRAP=1.
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

# The committed seeds are corpus/TARGET/seed-*; what the fuzzer adds there
# is ignored by git (see .gitignore) but reused by the next run.
for t in "${targets[@]}"; do
    cargo fuzz build --fuzz-dir . -O "$t"
    cargo fuzz run --fuzz-dir . -O "$t" "corpus/$t" -- \
        -max_total_time="$duration" -max_len=4096 -timeout=10
done
