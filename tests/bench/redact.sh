#!/usr/bin/env bash
# Benchmark: what redaction costs a whole Fluent Bit process, rs_redact
# against Fluent Bit's built-in `lua` filter running the same rules, in
# the same build, on the same input, side by side in interleaved rounds.
#
#   tests/bench/redact.sh FLB_BIN [RECORDS] [ROUNDS]
#
# FLB_BIN is a fluent-bit with tail, the lua filter, rs_redact, null and
# file (tests/e2e/build-fluent-bit.sh with FLB_E2E_CMAKE_ARGS=
# -DFLB_FILTER_LUA=On builds one). redact/gen.py writes RECORDS (default
# 300,000) JSON lines of about 300 bytes, the same ones every time (fixed
# seed): nine in ten with no secret but the text that makes detectors look
# closer (digits, timestamps, durations, key=value and a:b pairs, versions,
# paths, HTTP status lines, UUIDs, clock times, hex with colons, Rust
# paths, 16-digit numbers that fail Luhn), one in ten with exactly one
# secret (card, e-mail, IPv4, IPv6, JWT, Bearer header, AWS key id,
# password pair, a `user` field, a `client` map's `id`, an `http` map's
# `cookie`). Per round and variant, a fresh Fluent Bit reads the file
# with tail (read_from_head, parser json, exit_on_eof: it exits by itself
# once the file is read, and every record passed the filter by then;
# file_cache_advise off: from the page cache, gen.py having just written
# it) into the null output, with
#   none       no filter,
#   lua        the lua filter calling redact/lua-filter.lua, the 11 rules
#              below by hand in Lua (hashes with keyed FNV-1a, cheaper
#              than rs_redact's HMAC-SHA256: that favours Lua),
#   rs_redact  rs_redact with the 11 rules below.
# Measured: the process's whole CPU time (user + system, every thread,
# from wait4's rusage: start-up, reading and parsing the file, the
# filter, chunks, the null output, shutdown) over RECORDS, and peak RSS.
# The added CPU of a filter is its run's CPU less the same round's none
# run's: what the filter costs (for lua, also the conversion of every
# record to a Lua table and back, which is what using it costs). Printed
# per variant (medians over ROUNDS, default 5): CPU µs per record, added
# µs per record (the median of the rounds' differences), peak RSS; and lua
# added / rs_redact added. Peak RSS is mostly the chunks held between
# flushes (1 s): a run that reads faster holds more, so it says little
# about a filter's own memory. Wall time is not printed: the exit waits
# for the engine's next timer tick, so it comes in whole seconds.
# Afterwards, one more run each of none, lua and rs_redact writes its
# records to a file: each must hold RECORDS records (the check that tail
# read everything), and the lua and rs_redact records are compared (hash
# tokens normalized): how many each changed, how many differ, examples.
# (The Lua masks the first groups of some UUIDs, those all digits that
# pass the Luhn check as a card number; rs_redact's card detector does
# not take a first group of eight digits: those records differ.)
# Every run is bounded (300 s); the temporary directory and any Fluent
# Bit still running go on exit.
set -euo pipefail

bin=${1:?usage: $0 FLB_BIN [RECORDS] [ROUNDS]}
records=${2:-300000}
rounds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/flb-rs-bench-redact.XXXXXX)
cleanup() {
    # measure.py's pid and Fluent Bit's, while a run is under way.
    local wrapper child
    if [ -f "$work/fb.pid" ] && read -r wrapper child < "$work/fb.pid"; then
        kill -9 "$child" "$wrapper" 2> /dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
# Stops the whole script, also from the subshell rounds.sh runs `run` in
# (whose exit status it does not look at).
fail() { echo "$*" >&2; kill -TERM $$; exit 1; }

cat > "$work/parsers.conf" <<'EOF'
[PARSER]
    Name   json
    Format json
EOF

# The configuration of variant $1 with output $2 (null, or file: the
# records as JSON lines into $work/$1.out).
config() {
    local variant=$1 output=$2
    cat <<EOF
[SERVICE]
    flush        1
    grace        2
    log_level    warn
    parsers_file $work/parsers.conf

[INPUT]
    name           tail
    tag            bench
    path           $work/in.jsonl
    read_from_head on
    exit_on_eof    on
    parser         json
    # Keep the file in the page cache (by default tail drops what it read
    # from it): otherwise every run reads the disk and its kernel time
    # for I/O and page-cache eviction inflates every run, noisily.
    file_cache_advise off
EOF
    case $variant in
        none) ;;
        lua) cat <<EOF

[FILTER]
    name   lua
    match  *
    script $here/redact/lua-filter.lua
    call   redact
EOF
            ;;
        rs_redact) cat <<EOF

[FILTER]
    name     rs_redact
    match    *
    hash_key bench-key-0123456789
    rule cards      detector=card     action=keep_last:4
    rule mails      detector=email    action=hash
    rule ip4        detector=ipv4
    rule ip6        detector=ipv6
    rule jwts       detector=jwt
    rule bearer     detector=bearer
    rule aws        detector=aws_key
    rule pw         detector=password
    rule user       fields=user       action=hash
    rule client     fields=\$client['id'] action=hash
    rule cookie     fields=\$http['cookie'] action=drop
EOF
            ;;
    esac
    if [ "$output" = file ]; then
        cat <<EOF

[OUTPUT]
    name   file
    match  *
    path   $work
    file   $variant.out
    format plain
EOF
    else
        cat <<EOF

[OUTPUT]
    name   null
    match  *
EOF
    fi
}

# One Fluent Bit from start to exit; prints "seconds cpu_seconds
# peak_rss_kb".
fluent_bit() {
    local variant=$1 output=$2
    config "$variant" "$output" > "$work/$variant.conf"
    python3 "$here/redact/measure.py" 300 "$work/fb.pid" "$work/fb.log" "$bin" -c "$work/$variant.conf" ||
        fail "$variant: Fluent Bit failed; its log ends: $(tail -5 "$work/fb.log")"
    ! grep -q '\[error\]' "$work/fb.log" ||
        fail "$variant: errors in Fluent Bit's log: $(grep '\[error\]' "$work/fb.log" | head -5)"
}

run() { fluent_bit "$1" null; }

echo "generating $records records" >&2
python3 "$here/redact/gen.py" "$records" "$work/in.jsonl"

# shellcheck source=rounds.sh source-path=SCRIPTDIR
. "$here/rounds.sh"
variants=(none lua rs_redact)
rounds "$rounds" "${variants[@]}"

# Per round, a filter's CPU less the none run's of the same round.
added() {
    paste -d ' ' <(echo "${cpu[$1]}" | tr ' ' '\n' | grep .) <(echo "${cpu[none]}" | tr ' ' '\n' | grep .) |
        awk '{ printf "%s ", $1 - $2 }'
}
printf '%-10s %12s %14s %12s\n' variant cpu_us/rec added_us/rec peak_rss_MB
declare -A add
for v in "${variants[@]}"; do
    c=$(echo "${cpu[$v]}" | median) m=$(echo "${rss[$v]}" | median)
    upr=$(awk -v n="$records" -v c="$c" 'BEGIN { printf "%.3f", c * 1e6 / n }')
    if [ "$v" = none ]; then
        a=-
    else
        add[$v]=$(added "$v" | median)
        a=$(awk -v n="$records" -v c="${add[$v]}" 'BEGIN { printf "%.3f", c * 1e6 / n }')
    fi
    printf '%-10s %12s %14s %12s\n' "$v" "$upr" "$a" "$(awk -v m="$m" 'BEGIN { printf "%.1f", m / 1024 }')"
done
awk -v l="${add[lua]}" -v r="${add[rs_redact]}" 'BEGIN {
    if (r > 0) printf "lua added / rs_redact added: %.2fx\n", l / r
    else print "lua added / rs_redact added: rs_redact added nothing measurable" }'

# The same input once more per variant, into files, and compared.
for v in "${variants[@]}"; do fluent_bit "$v" file > /dev/null; done
python3 "$here/redact/compare.py" "$records" "$work/none.out" "$work/lua.out" "$work/rs_redact.out"
