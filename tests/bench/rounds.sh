# Sourced by the side-by-side benchmarks: interleaved rounds and medians.
#
#   rounds N name...   runs `run NAME` (which prints "seconds cpu_seconds
#                      peak_rss_kb") for every name in turn, N times over,
#                      gathering the figures in the associative arrays
#                      secs, cpu and rss (space-separated per name)
#   median             the median of the space-separated numbers on stdin

declare -A secs cpu rss
rounds() {
    local n=$1 r name s c m
    shift
    for r in $(seq "$n"); do
        for name in "$@"; do
            read -r s c m <<< "$(run "$name")"
            secs[$name]+="$s " cpu[$name]+="$c " rss[$name]+="$m "
            echo "round $r $name: ${s}s, cpu ${c}s, peak RSS ${m} kB" >&2
        done
    done
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
