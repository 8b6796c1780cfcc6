#!/usr/bin/env bash
# Benchmark: the built-in `syslog` output against rs_syslog in the same
# Fluent Bit, same keys, same records, side by side in interleaved rounds.
#
#   tests/bench/syslog-output.sh FLB_BIN [RECORDS] [ROUNDS]
#
# FLB_BIN is a fluent-bit with tail, null, syslog and rs_syslog (what
# tests/e2e/build-fluent-bit.sh builds). Each round runs three pipelines,
# tail (RECORDS Kubernetes-like JSON lines, default 500,000) -> output:
#   null       the baseline: what tail and the JSON parser cost
#   syslog     the built-in, mode tcp, syslog_sd_key kubernetes
#   rs_syslog  the same keys
# into a loopback receiver that reads in large batches (SO_RCVLOWAT), so
# its wake-ups are not charged to the sender. A run ends when the receiver
# has every message. Printed per output: messages/s (RECORDS over the
# time from start to the last message), process CPU seconds, output CPU
# (process CPU minus the null run's) and peak RSS; medians over ROUNDS
# (default 5), and rs_syslog/syslog ratios. FLUSH (default 1) is Fluent
# Bit's flush interval in seconds: a run ends at the first flush after tail
# has read the file, so with 1 s the messages/s of a fast output are
# rounded to whole flush ticks; FLUSH=0.2 shows the outputs' own pace more
# closely. SYSLOG_WORKERS=N runs the built-in with `workers N` (by
# default it has none and flushes on the engine thread, which then reads
# the input less often: less data in flight, a lower peak RSS, at its own
# slower pace; rs_syslog always flushes on a worker). The null row's
# messages/s is the input's own pace (RECORDS over
# the time tail took to read the file): the most any output can reach in
# this pipeline. Needs python3. Uses only 127.0.0.1 and high ports; every
# run is bounded (120 s).
set -euo pipefail

bin=${1:?usage: $0 FLB_BIN [RECORDS] [ROUNDS]}
records=${2:-500000}
rounds=${3:-5}
flush=${FLUSH:-1}
work=$(mktemp -d /tmp/flb-rs-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$work/in.log" "$records" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({
            "log": f"10.0.{i % 256}.{i % 199} - - [24/Nov/2026:10:00:00 +0000] \"GET /api/v1/items/{i} HTTP/1.1\" 200 {i % 5000} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt=0.0{i % 10}",
            "stream": "stdout",
            "level": ["info", "warning", "err"][i % 3],
            "kubernetes": {"pod_name": f"web-7d9c4-{i % 50}", "namespace_name": "prod",
                           "container_name": "nginx", "host": "node-1",
                           "labels": {"app": "web"}},
        }) + "\n")
PY
printf '[PARSER]\n    Name   json\n    Format json\n' > "$work/parsers.conf"

# Receives until `records` messages came (each RFC 5424 message has one
# ">1 " after its PRI), then prints the seconds from its start to then.
receiver() {
    python3 - "$records" "$work/port" <<'PY'
import select, socket, sys, time
n = int(sys.argv[1])
s = socket.socket()
s.bind(("127.0.0.1", 0)); s.listen(4); s.settimeout(120)
open(sys.argv[2], "w").write(str(s.getsockname()[1]))
start = time.monotonic()
c, _ = s.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 256 * 1024)
c.setblocking(False)
got, tail = 0, b""
while got < n and time.monotonic() - start < 120:
    # Readable once 256 KiB wait; every 20 ms whatever is there (the
    # last messages) is taken too.
    select.select([c], [], [], 0.02)
    try:
        d = c.recv(4 * 1024 * 1024)
    except BlockingIOError:
        continue
    if not d:
        break
    d = tail + d
    got += d.count(b">1 2")
    tail = d[-3:]
print(f"{got} {time.monotonic() - start:.3f}")
PY
}

keys=(-p syslog_message_key=log -p syslog_severity_key=level -p syslog_sd_key=kubernetes
      -p syslog_hostname_preset=node-1 -p syslog_appname_preset=nginx)

# One run of output $1; prints "seconds cpu_seconds peak_rss_kb".
run() {
    local out=$1 rpid port=0 args=()
    rm -f "$work/port" "$work/recv"
    case $out in
        null) args=(-o null -m '*') ;;
        *) receiver > "$work/recv" & rpid=$!
           for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
           port=$(cat "$work/port")
           args=(-o "$out" -m '*' -p mode=tcp -p host=127.0.0.1 -p port="$port" "${keys[@]}")
           if [ "$out" = syslog ] && [ -n "${SYSLOG_WORKERS:-}" ]; then
               args+=(-p workers="$SYSLOG_WORKERS")
           fi ;;
    esac
    local start=$SECONDS t0 took=0
    t0=$(date +%s.%N)
    "$bin" -q -f "$flush" -R "$work/parsers.conf" 2> /dev/null \
        -i tail -p path="$work/in.log" -p read_from_head=on -p parser=json \
        -p file_cache_advise=off -p buffer_max_size=1M -p mem_buf_limit=64M \
        "${args[@]}" > /dev/null &
    local fb=$!
    if [ "$out" = null ]; then
        # Done when tail has read the whole file (its offset in the fd).
        local size
        size=$(stat -c %s "$work/in.log")
        while [ $((SECONDS - start)) -lt 120 ]; do
            local pos=0
            for fd in /proc/"$fb"/fd/*; do
                [ "$(readlink "$fd")" = "$work/in.log" ] && pos=$(awk '/^pos:/ {print $2}' /proc/"$fb"/fdinfo/"${fd##*/}")
            done
            [ "$pos" -ge "$size" ] && break
            sleep 0.02
        done
        # How long tail took to read the file: no output can deliver
        # faster than this (the null row's messages/s).
        took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
        sleep "$(awk -v f="$flush" 'BEGIN { print f + 0.5 }')" # the last chunk's flush into null
    else
        wait "$rpid" || true
    fi
    local cpu rss
    cpu=$(awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' /proc/"$fb"/stat)
    rss=$(awk '/^VmHWM:/ { print $2 }' /proc/"$fb"/status)
    kill -TERM "$fb"; wait "$fb" 2> /dev/null || true
    if [ "$out" != null ]; then
        read -r got took < "$work/recv"
        [ "$got" -ge "$records" ] || { echo "$out: only $got of $records messages arrived" >&2; exit 1; }
    fi
    echo "$took $cpu $rss"
}

# shellcheck source=rounds.sh
. "$(dirname "$0")/rounds.sh"
rounds "$rounds" null syslog rs_syslog
m_null_cpu=$(echo "${cpu[null]}" | median)
printf '%-10s %12s %10s %10s %12s\n' output msgs/s cpu_s out_cpu_s peak_rss_MB
declare -A rate ocpu mrss
for out in syslog rs_syslog; do
    s=$(echo "${secs[$out]}" | median) c=$(echo "${cpu[$out]}" | median) m=$(echo "${rss[$out]}" | median)
    rate[$out]=$(awk -v n="$records" -v s="$s" 'BEGIN { printf "%.0f", n / s }')
    ocpu[$out]=$(awk -v c="$c" -v b="$m_null_cpu" 'BEGIN { printf "%.2f", c - b }')
    mrss[$out]=$(awk -v m="$m" 'BEGIN { printf "%.1f", m / 1024 }')
    printf '%-10s %12s %10s %10s %12s\n' "$out" "${rate[$out]}" "$c" "${ocpu[$out]}" "${mrss[$out]}"
done
m_null_secs=$(echo "${secs[null]}" | median)
printf '%-10s %12s %10s %10s %12s\n' null "$(awk -v n="$records" -v s="$m_null_secs" 'BEGIN { printf "%.0f", n / s }')" \
    "$m_null_cpu" - "$(echo "${rss[null]}" | median | awk '{ printf "%.1f", $1 / 1024 }')"
awk -v a="${rate[rs_syslog]}" -v b="${rate[syslog]}" -v c="${ocpu[rs_syslog]}" -v d="${ocpu[syslog]}" \
    -v e="${mrss[rs_syslog]}" -v f="${mrss[syslog]}" 'BEGIN {
    printf "rs_syslog / syslog: %.2fx messages/s, %.2fx output CPU, %+.1f MB peak RSS\n", a / b, (d > 0 ? c / d : 0), e - f }'
