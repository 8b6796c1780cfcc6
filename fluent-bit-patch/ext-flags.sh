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
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
features=${FLB_RUST_FEATURES:-example,syslog,redact}
in="" filter="" out=""
for entry in $(sed -n 's/^ *"\([a-z]*:[a-z0-9_]*:[a-z0-9_-]*\)".*/\1/p' "$root/cmake/plugins.cmake"); do
    kind=${entry%%:*}
    rest=${entry#*:}
    name=${rest%%:*}
    feature=${rest#*:}
    case ",$features," in *",$feature,"*) ;; *) continue ;; esac
    case $kind in input) id=in_$name ;; filter) id=filter_$name ;; *) id=out_$name ;; esac
    item="$id=$root/cmake/ext/$id"
    case $kind in
        input) in="${in:+$in,}$item" ;;
        filter) filter="${filter:+$filter,}$item" ;;
        output) out="${out:+$out,}$item" ;;
    esac
done
printf '%s\n' "-DFLB_RUST_FEATURES=$features"
[ -z "$in" ] || printf '%s\n' "-DEXT_IN_PLUGINS=$in"
[ -z "$filter" ] || printf '%s\n' "-DEXT_FILTER_PLUGINS=$filter"
[ -z "$out" ] || printf '%s\n' "-DEXT_OUT_PLUGINS=$out"
