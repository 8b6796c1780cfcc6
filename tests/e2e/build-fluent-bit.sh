#!/usr/bin/env bash
# Builds a real fluent-bit with the Rust plugins of this checkout, the way
# the README's "Building Fluent Bit with the Rust plugins" section tells a
# packager to, for the e2e suite:
#
#   tests/e2e/build-fluent-bit.sh SRC OUT_DIR [patch|ext]
#
#   SRC      a Fluent Bit source tarball (.tar.xz, .tar.gz, .tar.bz2) or tree
#   OUT_DIR  where to unpack and build, outside this checkout; the binary
#            ends up as OUT_DIR/build/bin/fluent-bit (also the last line
#            printed)
#   patch    (default) fluent-bit-patch/apply.sh, then -DFLB_RUST=On
#   ext      zero-patch mode: an unpatched tree with the flags of
#            fluent-bit-patch/ext-flags.sh
#
# A tarball is unpacked into OUT_DIR/src (again only when it changed); a
# tree is used where it is (patch mode patches it, as apply.sh does for a
# packager). Running it again rebuilds incrementally.
#
# Environment:
#   FLB_RUST_FEATURES    passed on (default: the module's, every plugin)
#   FLB_RUST_TARGET_DIR  passed on: builds of the same features share one
#                        cargo target directory, so Rust is compiled once
#   FLB_E2E_JOBS         make -j (default: the number of CPUs)
#   FLB_E2E_CCACHE       a ccache directory: compile through ccache (when it
#                        is installed) with CCACHE_BASEDIR at OUT_DIR's
#                        parent, so builds of one release side by side
#                        (patch and zero patch) share their objects
#   FLB_RUST_PLUGIN_CRATES, FLB_RUST_PLUGIN_LOCK  passed on (plugin crates
#                        from elsewhere; ext-flags.sh writes their plugin
#                        directories under OUT_DIR/ext-plugins in ext mode)
#   FLB_E2E_CMAKE_ARGS   more cmake arguments, appended
set -euo pipefail

usage() { echo "usage: $0 SRC_TARBALL_OR_DIR OUT_DIR [patch|ext]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
src=$1 out=$2 mode=${3:-patch}
case $mode in patch|ext) ;; *) usage ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
say() { echo "build-fluent-bit: $*"; }
die() { echo "build-fluent-bit: $*" >&2; exit 1; }

[ -e "$src" ] || die "no such source: $src"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Fluent Bit's code and anything built from it stay out of the checkout.
case "$out/" in "$root/"*) die "OUT_DIR $out is inside the checkout $root; choose a directory outside it" ;; esac

# ---- the source tree -----------------------------------------------------

if [ -d "$src" ]; then
    tree=$(cd "$src" && pwd)
else
    stamp="$(cd "$(dirname "$src")" && pwd)/$(basename "$src") $(stat -c '%s %Y' "$src")"
    if [ ! -f "$out/src.stamp" ] || [ "$(cat "$out/src.stamp")" != "$stamp" ]; then
        say "unpacking $src"
        rm -rf "$out/src" "$out/build" "$out/src.stamp"
        mkdir -p "$out/src"
        tar -xf "$src" -C "$out/src" --strip-components=1
        echo "$stamp" > "$out/src.stamp"
    fi
    tree=$out/src
fi
[ -f "$tree/plugins/CMakeLists.txt" ] || die "$tree does not look like a Fluent Bit source tree"
version=$(sed -n 's/^set(FLB_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\)).*/\2/p' "$tree/CMakeLists.txt" | paste -sd.)
say "Fluent Bit $version from $tree, mode $mode"

# ---- cmake arguments -----------------------------------------------------

# The README's recipe: -DFLB_RELEASE=On, then -DFLB_RUST=On (patch) or the
# flags ext-flags.sh prints (zero patch).
args=(-DFLB_RELEASE=On)
if [ "$mode" = patch ]; then
    "$root/fluent-bit-patch/apply.sh" "$tree"
    # apply.sh keeps an existing flb-rust link; the build must use this checkout.
    [ "$(cd "$tree/flb-rust" && pwd -P)" = "$(cd "$root" && pwd -P)" ] ||
        die "$tree/flb-rust is not this checkout ($root); remove it or use a fresh OUT_DIR"
    args+=(-DFLB_RUST=On)
else
    grep -q 'option(FLB_RUST ' "$tree/plugins/CMakeLists.txt" &&
        die "$tree is patched; zero-patch mode needs an unpatched tree (use a tarball or another OUT_DIR)"
    ext=$(FLB_RUST_EXT_DIR="$out/ext-plugins" "$root/fluent-bit-patch/ext-flags.sh") ||
        die "ext-flags.sh failed"
    mapfile -t ext <<< "$ext"
    args+=("${ext[@]}")
fi
# Plugin crates from outside the checkout (ext-flags.sh passes them on in
# zero-patch mode).
[ -z "${FLB_RUST_PLUGIN_CRATES:-}" ] || [ "$mode" = ext ] ||
    args+=(-DFLB_RUST_PLUGIN_CRATES="$FLB_RUST_PLUGIN_CRATES")
[ -z "${FLB_RUST_PLUGIN_LOCK:-}" ] || args+=(-DFLB_RUST_PLUGIN_LOCK="$FLB_RUST_PLUGIN_LOCK")
[ -z "${FLB_RUST_FEATURES:-}" ] || [ "$mode" = ext ] || args+=(-DFLB_RUST_FEATURES="$FLB_RUST_FEATURES")
[ -z "${FLB_RUST_TARGET_DIR:-}" ] || args+=(-DFLB_RUST_TARGET_DIR="$FLB_RUST_TARGET_DIR")

# Only the plugins the e2e suite uses besides the Rust ones (the built-in
# syslog, file and tail are there for side-by-side tests).
# Nor libfluent-bit.so or the examples: they double the link time.
args+=(-DFLB_SHARED_LIB=Off -DFLB_EXAMPLES=Off)
args+=(-DFLB_MINIMAL=On -DFLB_IN_DUMMY=On -DFLB_IN_TAIL=On -DFLB_IN_SYSLOG=On
       -DFLB_OUT_NULL=On -DFLB_OUT_FILE=On -DFLB_OUT_SYSLOG=On -DFLB_OUT_STDOUT=On)
# What the trimmed tarballs of ../shared/fluent-bit and this machine's
# compiler need (see its README): no Kafka, WASM or Zig; no bundled simdutf;
# the system's SQLite where the release can use it, no SQL DB otherwise.
args+=(-DFLB_KAFKA=Off -DFLB_WASM=Off -DFLB_ZIG=Off -DFLB_USE_SIMDUTF=Off)
if grep -q 'FLB_PREFER_SYSTEM_LIB_SQLITE' "$tree/CMakeLists.txt"; then
    args+=(-DFLB_PREFER_SYSTEM_LIB_SQLITE=On)
elif ! ls "$tree"/lib/sqlite-amalgamation-*/sqlite3.c > /dev/null 2>&1; then
    args+=(-DFLB_SQLDB=Off)
fi
# Options a release does not have are harmless, but cmake warns of each.
args+=(--no-warn-unused-cli -Wno-dev)
if [ -n "${FLB_E2E_CCACHE:-}" ] && command -v ccache > /dev/null; then
    # -g makes ccache hash the working directory unless told not to.
    export CCACHE_DIR=$FLB_E2E_CCACHE CCACHE_BASEDIR CCACHE_NOHASHDIR=1
    CCACHE_BASEDIR=$(dirname "$out")
    args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# shellcheck disable=SC2206
args+=(${FLB_E2E_CMAKE_ARGS:-})

# ---- configure and build -------------------------------------------------

mkdir -p "$out/build"
# Configuring again rewrites generated headers and so recompiles all of
# Fluent Bit: only when the arguments changed (make re-runs cmake itself
# when a CMakeLists.txt changes).
if [ -f "$out/build/CMakeCache.txt" ] && [ "$(cat "$out/cmake.args" 2>/dev/null)" = "$tree ${args[*]}" ]; then
    say "configured already with the same arguments"
else
    rm -f "$out/cmake.args"
    say "cmake $tree ${args[*]}"
    (cd "$out/build" && cmake "$tree" "${args[@]}" > "$out/cmake.log" 2>&1) ||
        { tail -40 "$out/cmake.log" >&2; die "cmake failed; the whole log is $out/cmake.log"; }
    echo "$tree ${args[*]}" > "$out/cmake.args"
    grep '^-- flb-rust' "$out/cmake.log" || true
fi
jobs=${FLB_E2E_JOBS:-$(nproc)}
say "make -j$jobs (log: $out/make.log)"
(cd "$out/build" && make -j"$jobs" > "$out/make.log" 2>&1) ||
    { grep -E 'error|Error' "$out/make.log" | head -20 >&2; tail -20 "$out/make.log" >&2; die "make failed; the whole log is $out/make.log"; }
# The shim is ours: it must compile without a warning (-Wall -Wextra).
if grep -E '(cmake/shim/|flb-rust-plugins/|cmake/ext/)[^ :]*:[0-9]+:[0-9]+: warning:' "$out/make.log"; then
    die "the C shim compiled with warnings"
fi
bin=$out/build/bin/fluent-bit
[ -x "$bin" ] || die "no $bin after the build"
say "built $("$bin" --version 2>/dev/null | head -1)"
echo "$bin"
