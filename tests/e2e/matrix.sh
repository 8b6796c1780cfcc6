#!/usr/bin/env bash
# Builds real Fluent Bit binaries from source tarballs with this checkout's
# Rust plugins and runs the e2e suite (run.sh) against each:
#
#   tests/e2e/matrix.sh [SOURCES_DIR]        (or make -C tests e2e-matrix)
#
# SOURCES_DIR (default: FLB_SOURCES, else ../shared/fluent-bit beside the
# checkout) holds fluent-bit-VERSION.tar.* files. Each entry of
# FLB_E2E_MATRIX (default "5.1.1:patch 5.1.1:ext 3.2.10:patch": the newest
# supported release with the patch and in zero-patch mode, and the oldest
# with the patch) is built by build-fluent-bit.sh into FLB_E2E_BUILD_DIR
# (default: a directory under /tmp named after this checkout, kept, so a
# second run rebuilds incrementally) and tested. Every run must pass with
# nothing skipped. Without the tarballs it says so in one line and succeeds,
# so a clone without them still passes `make check`.
#
# The next entry builds (at low priority) while the e2e suite runs against
# the current one: the suite mostly waits on timers and sockets.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sources=${1:-${FLB_SOURCES:-$root/../shared/fluent-bit}}
read -r -a matrix <<< "${FLB_E2E_MATRIX:-5.1.1:patch 5.1.1:ext 3.2.10:patch}"
builds=${FLB_E2E_BUILD_DIR:-${TMPDIR:-/tmp}/flb-rs-fluent-bit-$(printf '%s' "$root" | cksum | cut -d' ' -f1)}

tarball() { ls "$sources"/fluent-bit-"$1".tar.* 2> /dev/null | head -1; }

have=0
for entry in "${matrix[@]}"; do [ -n "$(tarball "${entry%%:*}")" ] && have=1; done
if [ "$have" = 0 ]; then
    echo "e2e-matrix: no Fluent Bit source tarballs in $sources; the e2e suite did not run against a real Fluent Bit (see tests/e2e/matrix.sh)"
    exit 0
fi

mkdir -p "$builds"
# One cargo target directory for every build (same features and profile:
# Rust is compiled once), and one compiler cache (the patch and zero-patch
# builds of a release share almost every object).
export FLB_RUST_TARGET_DIR=${FLB_RUST_TARGET_DIR:-$builds/rust-target}
export FLB_E2E_CCACHE=${FLB_E2E_CCACHE-$builds/ccache}

# Every build also links a plugin crate from outside the checkout, as a
# plugin author's would be: examples/plugin-template, copied out with its
# SDK path pointed at this checkout (run.sh's plugin-crate test uses it).
crate=$builds/plugin-crates/my-output
rm -rf "$crate"
mkdir -p "$(dirname "$crate")"
cp -r "$root/examples/plugin-template" "$crate"
rm -rf "$crate/target"
sed -i "s|^flb-rs-sdk = { path = \"[^\"]*\" }|flb-rs-sdk = { path = \"$root/rust/sdk\" }|" "$crate/Cargo.toml"
export FLB_RUST_PLUGIN_CRATES=${FLB_RUST_PLUGIN_CRATES-$crate}
# The first build writes the combined lock file; the others build --locked
# against it.
export FLB_RUST_PLUGIN_LOCK=${FLB_RUST_PLUGIN_LOCK-$crate/flb-rust.lock}

# Builds entry $1 in the background; its log, binary and wall time land
# in $builds/<entry>.{build.log,bin,build.secs}.
start_build() {
    local entry=$1 prio=$2 version=${1%%:*} mode=${1#*:} src
    local base=$builds/$version-$mode
    rm -f "$base.bin" "$base.build.secs"
    src=$(tarball "$version")
    (
        start=$SECONDS
        if [ -z "$src" ]; then
            echo "build-fluent-bit: no fluent-bit-$version tarball in $sources"
        elif nice -n "$prio" "$here/build-fluent-bit.sh" "$src" "$base" "$mode" > "$base.build.out" 2>&1; then
            tail -1 "$base.build.out" > "$base.bin"
        fi
        cat "$base.build.out" 2> /dev/null
        echo $((SECONDS - start)) > "$base.build.secs"
    ) > "$base.build.log" 2>&1 &
    build_pid=$!
}

passed=0 failed=0 skipped=0 bad=0
summary=()
start_build "${matrix[0]}" 0
for i in "${!matrix[@]}"; do
    entry=${matrix[$i]} version=${matrix[$i]%%:*} mode=${matrix[$i]#*:}
    base=$builds/$version-$mode
    wait "$build_pid"
    echo "=== e2e-matrix: Fluent Bit $version, $mode: build"
    cat "$base.build.log"
    built=$(cat "$base.build.secs" 2> /dev/null || echo "?")
    bin=$(cat "$base.bin" 2> /dev/null)
    next=$((i + 1))
    [ "$next" -lt "${#matrix[@]}" ] && start_build "${matrix[$next]}" 19
    if [ -z "$bin" ] || [ ! -x "$bin" ]; then
        echo "e2e-matrix: FAIL $entry: the build failed"
        summary+=("$entry: build failed after ${built} s")
        bad=$((bad + 1))
        continue
    fi
    echo "=== e2e-matrix: Fluent Bit $version, $mode: e2e against $bin"
    start=$SECONDS
    log=$base.e2e.log
    FLB_BIN=$bin bash "$here/run.sh" 2>&1 | tee "$log"
    tested=$((SECONDS - start))
    p=0 f=1 s=0
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -1)
    [ -z "$last" ] || read -r p f s <<< "$(echo "$last" | tr -dc '0-9 \n' | tr -s ' ')"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    # A skipped test is a hole in what CI checks: it fails the run.
    [ "$f" -eq 0 ] && [ "$s" -eq 0 ] || bad=$((bad + 1))
    summary+=("$entry: $p passed, $f failed, $s skipped (build $built s, e2e $tested s)")
done

echo "=== e2e-matrix: summary"
for line in "${summary[@]}"; do echo "e2e-matrix: $line"; done
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$bad" -eq 0 ]
