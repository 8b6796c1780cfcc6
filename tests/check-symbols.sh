#!/usr/bin/env bash
# Fails when the staticlib exports a C symbol without the project's prefix.
#
# Allowed besides `flb_rs_*`: Rust-mangled names (_ZN..., _R...), and Rust's
# own runtime, which every Rust staticlib carries: the compiler_builtins
# archive members (compiler-rt's __addvdi3 and friends, libgcc's names) and
# the unwinder's personality routine rust_eh_personality.
# Release builds use LTO, which internalises everything else of std.
set -euo pipefail
lib=${1:?usage: check-symbols.sh path/to/libflb_rs.a}
bad=$(nm -g --defined-only -A "$lib" 2>/dev/null | awk '
    NF == 3 {
        split($1, where, ":");
        member = where[2];
        sym = $3;
        if (sym ~ /^flb_rs_/) next;
        if (sym ~ /^_ZN/ || sym ~ /^_R/) next;
        if (member ~ /^compiler_builtins-/) next;
        # compiler-rt C objects that compiler_builtins adds (hash-name.o),
        # all named like libgcc builtins.
        if (member ~ /^[0-9a-f]+-[a-z0-9_]+\.o$/ && sym ~ /^__/) next;
        if (sym == "rust_eh_personality" || sym == "DW.ref.rust_eh_personality") next;
        print member ": " sym;
    }')
if [ -n "$bad" ]; then
    echo "exported symbols without the flb_rs_ prefix in $lib:" >&2
    echo "$bad" >&2
    exit 1
fi
n=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $3 ~ /^flb_rs_/' | wc -l)
echo "symbols: $n exported flb_rs_* functions, no other C symbols"
