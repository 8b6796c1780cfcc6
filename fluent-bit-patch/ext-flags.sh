#!/usr/bin/env sh
# Prints the cmake flags that link every Rust plugin into an *unpatched*
# Fluent Bit through its EXT_*_PLUGINS options (zero-patch mode):
#
#   cmake /path/to/fluent-bit $(fluent-bit-patch/ext-flags.sh) ...
#
# Only plugins whose cargo feature is in FLB_RUST_FEATURES (environment,
# comma-separated, default "example,syslog,redact") are listed; the same value is passed
# on to cmake. Note that Fluent Bit builds these plugin directories in
# place, inside cmake/ext/ of this checkout.
#
# Plugin crates from elsewhere: FLB_RUST_PLUGIN_CRATES (environment, their
# directories, comma-separated) adds their plugins. Each needs a plugin
# directory of its own, which this writes under FLB_RUST_EXT_DIR
# (environment, default ./flb-rust-ext; needs cmake 3.19 or newer).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
features=${FLB_RUST_FEATURES:-example,syslog,redact}
in="" filter="" out=""
# Adds "id=dir" to the list of plugin kind $1.
add() {
    case $1 in
        input) in="${in:+$in,}$2" ;;
        filter) filter="${filter:+$filter,}$2" ;;
        output) out="${out:+$out,}$2" ;;
        *) return 1 ;;
    esac
}
for entry in $(sed -n 's/^ *"\([a-z]*:[a-z0-9_]*:[a-z0-9_-]*\)".*/\1/p' "$root/cmake/plugins.cmake"); do
    kind=${entry%%:*}
    rest=${entry#*:}
    name=${rest%%:*}
    feature=${rest#*:}
    case ",$features," in *",$feature,"*) ;; *) continue ;; esac
    case $kind in input) id=in_$name ;; filter) id=filter_$name ;; *) id=out_$name ;; esac
    add "$kind" "$id=$root/cmake/ext/$id"
done
if [ -n "${FLB_RUST_PLUGIN_CRATES:-}" ]; then
    ext_dir=${FLB_RUST_EXT_DIR:-$PWD/flb-rust-ext}
    mkdir -p "$ext_dir"
    ext_dir=$(cd "$ext_dir" && pwd)
    # FlbRustPluginCrates.cmake reads the crates' manifests (the check
    # FlbRust.cmake does again when Fluent Bit is configured) and writes the
    # directories; it prints "kind id dir" per plugin, on stderr.
    listed=$(cmake -DFLB_RUST_PLUGIN_CRATES="$FLB_RUST_PLUGIN_CRATES" -DFLB_RS_EXT_DIR="$ext_dir" \
        -P "$root/cmake/FlbRustPluginCrates.cmake" 2>&1) || { printf '%s\n' "$listed" >&2; exit 1; }
    while read -r kind id dir; do
        add "$kind" "$id=$dir" || { printf '%s\n' "$listed" >&2; exit 1; }
    done <<EOF
$listed
EOF
    printf '%s\n' "-DFLB_RUST_PLUGIN_CRATES=$FLB_RUST_PLUGIN_CRATES"
fi
printf '%s\n' "-DFLB_RUST_FEATURES=$features"
[ -z "$in" ] || printf '%s\n' "-DEXT_IN_PLUGINS=$in"
[ -z "$filter" ] || printf '%s\n' "-DEXT_FILTER_PLUGINS=$filter"
[ -z "$out" ] || printf '%s\n' "-DEXT_OUT_PLUGINS=$out"
