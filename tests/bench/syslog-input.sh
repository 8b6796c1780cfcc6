#!/usr/bin/env bash
# Benchmark: the built-in `syslog` input against rs_syslog's input, each in
# a Fluent Bit of the same build, the same messages from the same sender,
# side by side in interleaved rounds.
#
#   tests/bench/syslog-input.sh FLB_BIN [MESSAGES] [CONNECTIONS] [ROUNDS]
#
# FLB_BIN is a fluent-bit with the syslog input, rs_syslog and null (what
# tests/e2e/build-fluent-bit.sh builds). Per round and input: Fluent Bit
# listens (mode tcp, 127.0.0.1) into the null output; a sender opens
# CONNECTIONS (default 4) connections and writes MESSAGES (default
# 1,000,000) LF-framed RFC 5424 messages with structured data, split
# evenly, as fast as the input reads them (prebuilt buffers: the sender
# is never the limit). The built-in parses them with the usual
# syslog-rfc5424 regex parser (Time_Key time), rs_syslog with its own
# parser. A run ends when Fluent Bit's CPU time has not moved for 200 ms
# after the sender wrote its last byte (the flush interval is 60 s, so
# nothing else moves it); the input's record count (HTTP metrics) must
# then be MESSAGES. Peak RSS therefore holds every record in Fluent
# Bit's chunks (no mem_buf_limit): it grows with the records' size.
# Printed per input (medians over ROUNDS, default 5): messages/s
# (MESSAGES over the time from the sender's first byte to that end; its
# building of the messages before is not counted), CPU per message (the whole process's CPU time over
# MESSAGES: both runs share the engine and the null output), peak RSS, and
# rs_syslog/syslog ratios. Uses only 127.0.0.1 and free high ports; every
# wait is bounded (180 s a run).
set -euo pipefail

bin=${1:?usage: $0 FLB_BIN [MESSAGES] [CONNECTIONS] [ROUNDS]}
messages=${2:-1000000}
conns=${3:-4}
rounds=${4:-5}
work=$(mktemp -d /tmp/flb-rs-bench-in.XXXXXX)
fb=''
cleanup() {
    [ -z "$fb" ] || kill -9 "$fb" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/parsers.conf" <<'EOF'
[PARSER]
    Name        syslog-rfc5424
    Format      regex
    Regex       ^\<(?<pri>[0-9]{1,5})\>1 (?<time>[^ ]+) (?<host>[^ ]+) (?<ident>[^ ]+) (?<pid>[-0-9]+) (?<msgid>[^ ]+) (?<extradata>(\[(.*?)\]|-)) (?<message>.+)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S.%L%z
    Time_Keep   On
EOF

# The sender: builds every message first (which takes longer than some
# runs), connects, then writes its share on each connection from a thread
# of its own; prints the wall-clock time (epoch seconds) when it started
# writing, and the seconds the writing took.
cat > "$work/send.py" <<'PY'
import socket, sys, threading, time
port, n, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def block(c):
    return b"".join(
        b'<165>1 2026-12-04T10:00:00.%06dZ web-%d nginx %d ACCESS [req@32473 id="r%07d" ms="%d"] '
        b'GET /api/v1/items/%d HTTP/1.1 200 %d "Mozilla/5.0 (X11; Linux x86_64)"\n'
        % (i % 1000000, c, 1000 + c, i, i % 97, i, i % 5000)
        for i in range(c, n, conns))
data = [block(c) for c in range(conns)]
socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(conns)]
wall, start = time.time(), time.monotonic()
ts = [threading.Thread(target=s.sendall, args=(d,)) for s, d in zip(socks, data)]
for t in ts: t.start()
for t in ts: t.join()
print(f"{wall:.6f} {time.monotonic() - start:.3f}")
for s in socks: s.close()
PY

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$1"/stat; }

# One run of input $1; prints "seconds cpu_seconds peak_rss_kb".
run() {
    local input=$1 port http args
    port=$(free_port) http=$(free_port)
    case $input in
        syslog) args=(-i syslog -p mode=tcp -p listen=127.0.0.1 -p port="$port" -p parser=syslog-rfc5424) ;;
        rs_syslog) args=(-i rs_syslog -p mode=tcp -p listen=127.0.0.1 -p port="$port") ;;
    esac
    # Flush every 60 s: no flush runs while the input works, so the CPU
    # stands still exactly when it is done (a flush tick in between
    # would move it and blur the end).
    "$bin" -q -f 60 -R "$work/parsers.conf" -H -P "$http" \
        "${args[@]}" -o null -m '*' > "$work/fb.log" 2>&1 &
    fb=$!
    local t0=$SECONDS
    until (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do
        [ $((SECONDS - t0)) -lt 15 ] || { echo "$input: not listening: $(tail -3 "$work/fb.log")" >&2; exit 1; }
        sleep 0.05
    done
    local start sent last now ticks prev
    # From the sender's first byte (not from its start: building a million
    # messages in Python takes a second).
    read -r start sent <<< "$(python3 "$work/send.py" "$port" "$messages" "$conns")"
    # Until the CPU time stands still for 200 ms (the input has parsed what
    # the sockets held).
    prev=$(cpu_ticks "$fb") last=$(date +%s.%N)
    while :; do
        sleep 0.05
        ticks=$(cpu_ticks "$fb") now=$(date +%s.%N)
        if [ "$ticks" != "$prev" ]; then
            prev=$ticks last=$now
        elif awk -v a="$last" -v b="$now" 'BEGIN { exit !(b - a >= 0.2) }'; then
            break
        fi
        [ $((SECONDS - t0)) -lt 180 ] || { echo "$input: did not settle within 180 s" >&2; exit 1; }
    done
    local took cpu rss got=0
    took=$(awk -v a="$start" -v b="$last" 'BEGIN { printf "%.3f", b - a }')
    cpu=$(awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' /proc/"$fb"/stat)
    rss=$(awk '/^VmHWM:/ { print $2 }' /proc/"$fb"/status)
    # The record count, from the HTTP metrics (refreshed about every second).
    for _ in $(seq 40); do
        got=$(python3 - "$http" <<'PY'
import json, sys, urllib.request
m = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v1/metrics", timeout=5))
print(sum(v.get("records", 0) for v in m.get("input", {}).values()))
PY
)
        [ "$got" -ge "$messages" ] && break
        sleep 0.25
    done
    kill -TERM "$fb"; wait "$fb" 2> /dev/null || true
    fb=''
    [ "$got" -eq "$messages" ] || { echo "$input: $got of $messages records (sender took ${sent}s)" >&2; exit 1; }
    echo "$took $cpu $rss"
}

# shellcheck source=rounds.sh
. "$(dirname "$0")/rounds.sh"
rounds "$rounds" syslog rs_syslog
printf '%-10s %12s %14s %12s\n' input msgs/s cpu_us/msg peak_rss_MB
declare -A rate upm mrss
for input in syslog rs_syslog; do
    s=$(echo "${secs[$input]}" | median) c=$(echo "${cpu[$input]}" | median) m=$(echo "${rss[$input]}" | median)
    rate[$input]=$(awk -v n="$messages" -v s="$s" 'BEGIN { printf "%.0f", n / s }')
    upm[$input]=$(awk -v n="$messages" -v c="$c" 'BEGIN { printf "%.3f", c * 1e6 / n }')
    mrss[$input]=$(awk -v m="$m" 'BEGIN { printf "%.1f", m / 1024 }')
    printf '%-10s %12s %14s %12s\n' "$input" "${rate[$input]}" "${upm[$input]}" "${mrss[$input]}"
done
awk -v a="${rate[rs_syslog]}" -v b="${rate[syslog]}" -v c="${upm[rs_syslog]}" -v d="${upm[syslog]}" \
    -v e="${mrss[rs_syslog]}" -v f="${mrss[syslog]}" 'BEGIN {
    printf "rs_syslog / syslog (%d connections): %.2fx messages/s, %.2fx CPU per message, %+.1f MB peak RSS\n", '"$conns"', a / b, c / d, e - f }'
