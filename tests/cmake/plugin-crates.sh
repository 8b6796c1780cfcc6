#!/usr/bin/env bash
# What FLB_RUST_PLUGIN_CRATES makes of plugin crates, without building
# Fluent Bit: cmake/FlbRustPluginCrates.cmake in script mode (as
# ext-flags.sh runs it) on crates written here. A good crate gives its
# plugin directory; every kind of bad one stops with its own message; a
# NAME that differs from the manifest's name fails to compile; the good
# one compiles, also offline from `cargo vendor`ed crates.
#
#   tests/cmake/plugin-crates.sh        (make -C tests cmake-test)
#
# Needs cmake 3.19 or newer and cargo (the compile case checks the
# generated crate with `cargo check`, offline, in CARGO_TARGET_DIR or
# ../target/plugin-crates-test).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/flb-rs-plugin-crates.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0

# A plugin crate in $work/$1: manifest metadata $2 (TOML lines), SDK at $3.
crate() {
    local dir=$work/$1 meta=$2 sdk=${3:-$root/rust/sdk} name=${4:-my_output}
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.1.0"
edition = "2021"

[dependencies]
flb-rs-sdk = { path = "$sdk" }

$meta

[workspace]
EOF
    cat > "$dir/src/lib.rs" <<EOF
use flb_rs_sdk::prelude::*;
flb_rs_sdk::config_struct! { pub struct Config {} }
pub struct MyOutput;
impl OutputPlugin for MyOutput {
    const NAME: &'static str = "$name";
    const DESCRIPTION: &'static str = "test";
    type Config = Config;
    fn new(_: Config, _: &InitContext) -> Result<Self, PluginError> { Ok(MyOutput) }
    fn flush(&mut self, _: &Chunk<'_>) -> FlushResult { FlushResult::Ok }
}
EOF
}
plugins() { printf '[package.metadata.flb-rust]\nplugins = [ %s ]\n' "$1"; }
good='{ kind = "output", name = "my_output", type = "MyOutput" }'

# Runs the script on crates $1 (comma-separated) with extra -D arguments;
# sets $out (its messages) and returns its status.
run() {
    local crates=$1
    shift
    out=$(cmake -DFLB_RUST_PLUGIN_CRATES="$crates" -DFLB_RS_EXT_DIR="$work/ext" "$@" \
        -P "$root/cmake/FlbRustPluginCrates.cmake" 2>&1)
}
expect_error() {
    local what=$1 needle=$2
    shift 2
    if run "$@"; then
        echo "FAIL $what: accepted"; failed=$((failed + 1))
    # CMake wraps its messages: compare with runs of blanks as one space.
    elif ! tr -s ' \n' '  ' <<< "$out" | grep -qF -- "$needle"; then
        echo "FAIL $what: no '$needle' in: $out"; failed=$((failed + 1))
    else
        echo "PASS $what"
    fi
}

crate good "$(plugins "$good")"
if run "$work/good" && [ "$out" = "output out_my_output $work/ext/out_my_output" ] &&
    grep -q 'flb_rust_ext_plugin(output my_output)' "$work/ext/out_my_output/CMakeLists.txt"; then
    echo "PASS a good crate gives its plugin directory"
else
    echo "FAIL a good crate: $out"; failed=$((failed + 1))
fi

mkdir -p "$work/empty-dir"
expect_error "a directory without a crate" "has no Cargo.toml" "$work/empty-dir"
crate nothing ""
expect_error "a crate that exports nothing" "exports no plugin" "$work/nothing"
crate badkind "$(plugins '{ kind = "sink", name = "my_output", type = "MyOutput" }')"
expect_error "an unknown kind" "it must be input, filter or output" "$work/badkind"
crate badname "$(plugins '{ kind = "output", name = "My-Output", type = "MyOutput" }')"
expect_error "a name Fluent Bit cannot take" "must be lower-case" "$work/badname"
crate notype "$(plugins '{ kind = "output", name = "my_output" }')"
expect_error "an entry without a type" "has no 'type'" "$work/notype"
# Another crate named flb-rs-sdk (a vendored or older copy, say).
mkdir -p "$work/other-sdk/src"
printf '[package]\nname = "flb-rs-sdk"\nversion = "0.1.0"\nedition = "2021"\n' > "$work/other-sdk/Cargo.toml"
: > "$work/other-sdk/src/lib.rs"
crate othersdk "$(plugins "$good")" "$work/other-sdk"
expect_error "another copy of the SDK" "depends on flb-rs-sdk at $work/other-sdk" "$work/othersdk"
crate twin "$(plugins "$good")"
expect_error "two crates with one plugin name" "exported by two plugin crates" "$work/good,$work/twin"
expect_error "the name of an in-tree plugin" "has the name of an in-tree Rust plugin" \
    "$work/good" -DFLB_RS_CHECK_IN_TREE=input:rs_syslog,output:my_output
mkdir -p "$work/fluent-bit/plugins/out_my_output"
expect_error "the name of a Fluent Bit plugin" "one of Fluent Bit's own (plugins/out_my_output)" \
    "$work/good" -DFLB_RS_CHECK_FLUENT_BIT="$work/fluent-bit"

# NAME must be the manifest's name: the generated crate does not compile.
crate misnamed "$(plugins "$good")" "$root/rust/sdk" other_name
run "$work/misnamed" -DFLB_RS_BUNDLE_DIR="$work/bundle" -DFLB_RUST_FEATURES= ||
    { echo "FAIL generating the crate: $out"; failed=$((failed + 1)); }
cp "$root/Cargo.lock" "$work/bundle/Cargo.lock"
target=${CARGO_TARGET_DIR:-$root/target}/plugin-crates-test
if check=$(cargo check --offline --quiet --manifest-path "$work/bundle/Cargo.toml" --target-dir "$target" 2>&1); then
    echo "FAIL a NAME other than the manifest's: compiled"; failed=$((failed + 1))
elif ! grep -qF "names the output 'my_output', but the NAME of MyOutput is another" <<< "$check"; then
    echo "FAIL a NAME other than the manifest's: $(tail -20 <<< "$check")"; failed=$((failed + 1))
else
    echo "PASS a NAME other than the manifest's does not compile"
fi
# And with the right NAME it does (the check above failed for its reason).
crate named "$(plugins "$good")"
run "$work/named" -DFLB_RS_BUNDLE_DIR="$work/bundle" -DFLB_RUST_FEATURES=
if check=$(cargo check --offline --quiet --manifest-path "$work/bundle/Cargo.toml" --target-dir "$target" 2>&1); then
    echo "PASS the generated crate compiles"
else
    echo "FAIL the generated crate: $(tail -20 <<< "$check")"; failed=$((failed + 1))
fi

# Offline from vendored crates, as FLB_RUST_VENDOR_DIR builds it: `cargo
# vendor` of the generated crate (the README's command), then a build with
# an empty CARGO_HOME (no registry cache to fall back on), --offline,
# --locked and the two --config flags that cmake/FlbRust.cmake passes.
if ! vendor_out=$(cargo vendor --locked --quiet --manifest-path "$work/bundle/Cargo.toml" "$work/vendor" 2>&1); then
    echo "FAIL cargo vendor of the generated crate: $(tail -5 <<< "$vendor_out")"; failed=$((failed + 1))
elif check=$(CARGO_HOME="$work/empty-cargo-home" cargo check --offline --locked --quiet \
    --config "source.crates-io.replace-with='flb-rust-vendored'" \
    --config "source.flb-rust-vendored.directory='$work/vendor'" \
    --manifest-path "$work/bundle/Cargo.toml" --target-dir "$target-vendored" 2>&1); then
    echo "PASS the generated crate builds offline from vendored crates ($(ls "$work/vendor" | wc -l) crates)"
else
    echo "FAIL the generated crate from vendored crates: $(tail -20 <<< "$check")"; failed=$((failed + 1))
fi

[ "$failed" -eq 0 ] && echo "plugin-crates: all passed" || { echo "plugin-crates: $failed failed"; exit 1; }
