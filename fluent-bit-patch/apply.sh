#!/usr/bin/env sh
# Applies flb-rust.patch to a Fluent Bit source tree and points the tree at
# this flb-rust checkout.
#
#   fluent-bit-patch/apply.sh /path/to/fluent-bit
#
# The patch only adds `option(FLB_RUST ...)` (default Off) to
# plugins/CMakeLists.txt; with -DFLB_RUST=On, Fluent Bit includes
# <FLB_RUST_DIR>/cmake/FlbRust.cmake. FLB_RUST_DIR defaults to
# <fluent-bit>/flb-rust, which this script makes a symbolic link to this
# checkout unless that path already exists (e.g. a packager unpacked the
# flb-rust tarball there). Pass -DFLB_RUST_DIR=... to cmake to use another
# place. Applying twice is detected and harmless.
set -eu
fb=${1:?usage: apply.sh /path/to/fluent-bit-source}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
patch_file="$here/flb-rust.patch"

[ -f "$fb/plugins/CMakeLists.txt" ] || {
    echo "apply.sh: $fb does not look like a Fluent Bit source tree" >&2
    exit 1
}
if grep -q 'option(FLB_RUST ' "$fb/plugins/CMakeLists.txt"; then
    echo "apply.sh: already patched: $fb"
elif patch -p1 --dry-run -s -d "$fb" < "$patch_file" >/dev/null; then
    patch -p1 -s -d "$fb" < "$patch_file"
    echo "apply.sh: patched $fb/plugins/CMakeLists.txt"
else
    echo "apply.sh: flb-rust.patch does not apply to $fb" >&2
    exit 1
fi
if [ ! -e "$fb/flb-rust" ]; then
    ln -s "$root" "$fb/flb-rust"
    echo "apply.sh: $fb/flb-rust -> $root"
fi
echo "apply.sh: now configure Fluent Bit with -DFLB_RUST=On (see $root/README.md)"
