#!/usr/bin/env bash
# Benchmark: message loss and duplicates over RELP while the receiver is
# killed again and again, rsyslog's own omrelp against rs_syslog (mode
# relp) in the same run, to the same receiver setup.
#
#   tests/bench/relp-kills.sh FLB_BIN [RECORDS] [KILLS]
#
# FLB_BIN is a fluent-bit with tail and rs_syslog (what
# tests/e2e/build-fluent-bit.sh builds). Needs rsyslogd with imfile, imrelp
# and omrelp (Debian: rsyslog, rsyslog-relp) and python3. Two phases, one
# after the other, each sending RECORDS (default 200,000) numbered messages
# ("seq=0000123 ..."):
#   omrelp     an rsyslogd reads them with imfile and forwards them with
#              omrelp (in-memory action queue, action.resumeRetryCount -1,
#              action.resumeInterval 1: it retries for ever, every second)
#   rs_syslog  Fluent Bit tails the same messages as JSON lines (parser
#              json, syslog_message_key log) into rs_syslog, mode relp,
#              retry_limit no_limits, with scheduler.base 1 and
#              scheduler.cap 2 so that a failed chunk is retried after 2-3 s
#              (the scheduler adds 1 s to its jitter) rather than after
#              Fluent Bit's default back-off of up to 2000 s
# to a real rsyslogd with imrelp (direct main queue: a message is in its
# output file before imrelp acknowledges it) that writes each message's
# MSG as a line. While data flows the receiver is killed with SIGKILL
# KILLS times (default 10), spread over the run: kill i comes when the
# receiver's file has i/(KILLS+1) of RECORDS lines; it is restarted at
# once on the same port, appending to the same file. After the last
# restart the script waits until every seq has arrived, or nothing has
# arrived for 30 s, or 120 s have passed. Printed per sender: records sent,
# kills done, lost (records minus distinct seqs received), duplicates
# (lines received minus distinct seqs) and seconds from the sender's start
# to the last message it delivered. Fluent Bit retries a failed chunk
# whole (tail fills chunks of about 2 MB, some 20,000 of these records);
# rs_syslog remembers the acknowledged prefix of each chunk in retry and
# sends only the rest, so its duplicates are the messages whose
# acknowledgement the kill swallowed. omrelp keeps its
# default windowSize (128), with which it ran at ~2,900 msgs/s on loopback
# here, about 45 ms per 128 messages (windowSize 1024: ~22,000/s): its
# seconds are rsyslog's defaults, not RELP's limit. The receiver logs
# "server closed relp session" once per start: that is the script's
# connect-and-close probe of its port. The missing seqs and the tail of
# the sender's log go to stderr when something was lost; with
# FLB_RS_BENCH_LOGS=DIR the logs are copied into DIR at exit. Uses only
# 127.0.0.1 and free high ports, its own rsyslogd configurations, pid
# files and work directories (never the system's rsyslog); every wait is
# bounded.
#
# RELP_KILLS_RATE=N writes the records at N per second while the phase
# runs, instead of all before it: the load then lasts RECORDS/N seconds,
# and interruptions come while it flows.
#
# RELP_KILLS_SENDERS picks the phases (default "omrelp rs_syslog"); with
# RELP_KILLS_MAX_DUPLICATES=N the script fails when a sender lost a record
# or duplicated more than N (how the e2e suite runs it).
#
# RELP_KILLS_RECEIVER=rs_syslog makes the receiver Fluent Bit itself: the
# rs_syslog input (mode relp) into the file output, interrupted with
# RELP_KILLS_SIGNAL: TERM (a stop, then a start) or HUP (a hot reload).
# What the input acknowledged must be in the file: a sender that retries
# for ever (omrelp) then loses nothing.
#
# RELP_KILLS_FORWARD=relp (with RELP_KILLS_RECEIVER=rs_syslog) makes that
# Fluent Bit a relay under load on both sides: it also listens with an
# rs_syslog input in mode tcp, the sender copies every message there
# through omfwd (as "tcp:seq=..."), and rs_syslog's output sends all of
# it over RELP to a downstream rsyslogd imrelp, which writes the file
# (both inputs with mem_buf_limit 4M, as a relay would be set up), and
# a copy of all it took into a file of its own (relay-copy.txt), which
# tells, for a message lost, on which side of the relay it went.
# Lost and duplicates count the RELP copies; the TCP copies (never
# acknowledged, so a reload may drop some in flight) are counted apart.
# With RELP_KILLS_SIGNAL=HUP, the RSS of the Fluent Bit receiver (or
# relay) after every interruption is printed too, and after interruption
# 5 and the last on a line of their own.
set -euo pipefail

bin=${1:?usage: $0 FLB_BIN [RECORDS] [KILLS]}
records=${2:-200000}
kills=${3:-10}
receiver=${RELP_KILLS_RECEIVER:-rsyslog}
signal=${RELP_KILLS_SIGNAL:-KILL}
forward=${RELP_KILLS_FORWARD:-}
case $receiver:$forward in
    rs_syslog:relp | *:) ;;
    *) echo "RELP_KILLS_FORWARD=$forward: expected relp, with RELP_KILLS_RECEIVER=rs_syslog" >&2; exit 2 ;;
esac
case $receiver:$signal in
    rsyslog:KILL | rs_syslog:TERM | rs_syslog:HUP) ;;
    *) echo "RELP_KILLS_RECEIVER=$receiver with RELP_KILLS_SIGNAL=$signal: expected rsyslog with KILL, or rs_syslog with TERM or HUP" >&2; exit 2 ;;
esac
rsd=$(command -v rsyslogd || ls /usr/sbin/rsyslogd 2> /dev/null) || { echo "rsyslogd not found" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin is not executable" >&2; exit 1; }
work=$(mktemp -d /tmp/flb-rs-relp-kills.XXXXXX)
rpid='' spid='' dpid=''

cleanup() {
    local p
    for p in $gpid $spid $rpid $dpid; do kill -KILL "$p" 2> /dev/null || true; done
    for p in $gpid $spid $rpid $dpid; do wait "$p" 2> /dev/null || true; done
    if [ -n "${FLB_RS_BENCH_LOGS:-}" ]; then
        mkdir -p "$FLB_RS_BENCH_LOGS"
        for p in "$work"/*/*/*.log "$work"/*/*/*/*.log; do
            [ -f "$p" ] || continue
            local rel=${p#"$work"/}
            cp "$p" "$FLB_RS_BENCH_LOGS/${rel//\//-}"
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same messages twice: plain lines for imfile, JSON lines for tail;
# all at once, or RELP_KILLS_RATE per second (in tenths of a second).
cat > "$work/generate.py" <<'PY'
import json, sys, time
txt, js, n, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
step = max(rate // 10, 1) if rate else n
t0 = time.monotonic()
with open(txt, "w") as t, open(js, "w") as j:
    for i in range(1, n + 1):
        m = f"seq={i:07d} GET /api/v1/items/{i} HTTP/1.1 200 rt=0.0{i % 10} user=u{i % 97} host=node-1"
        t.write(m + "\n")
        j.write(json.dumps({"log": m}) + "\n")
        if rate and i % step == 0:
            t.flush()
            j.flush()
            time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
PY
generate() { python3 "$work/generate.py" "$work/in.txt" "$work/in.json" "$records" "${RELP_KILLS_RATE:-0}"; }
gpid=''
if [ -z "${RELP_KILLS_RATE:-}" ]; then generate; fi
printf '[PARSER]\n    Name   json\n    Format json\n' > "$work/parsers.conf"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
# Lines of the RELP copies (the TCP copies of RELP_KILLS_FORWARD left out).
progress() {
    if [ "$forward" != relp ]; then lines "$1"
    elif [ -f "$1" ]; then grep -vc 'tcp:seq=' "$1" || true
    else echo 0; fi
}
accepts() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# "received distinct" for a receiver's file; the missing seqs (as ranges)
# into $2.
count() {
    awk -v n="$records" -v miss="$2" -v tcpf="$2.tcp" '
        /tcp:seq=/ { if (!($0 in tcp)) { tcp[$0]; t++ } next }
        match($0, /seq=[0-9]+/) { s = substr($0, RSTART + 4, RLENGTH - 4) + 0; got++; if (!(s in seen)) { seen[s]; d++ } }
        END {
            printf "" > miss
            for (i = 1; i <= n; i++) {
                if (i in seen) continue
                j = i; while (j + 1 <= n && !((j + 1) in seen)) j++
                print (i == j ? i : i "-" j) >> miss
                i = j
            }
            print t + 0 > tcpf
            print got + 0, d + 0
        }' "$1"
}

# The receiver, each MSG as a line into $rdir/out.txt: rsyslogd with
# imrelp on $port, or Fluent Bit's rs_syslog input (mode relp) into the
# file output.
receiver_conf() {
    if [ "$receiver" = rs_syslog ]; then
        local output="    name      file
    match     *
    path      $rdir
    file      out.txt
    format    template
    template  {message}" tcp_input='' relp_limit=''
        if [ "$forward" = relp ]; then
            # And a copy of what the relay took, into a file of its own:
            # a message missing downstream but in this copy was lost on
            # the way out; one missing in both never got into a chunk.
            output="    name                rs_syslog
    match               *
    mode                relp
    host                127.0.0.1
    port                $fport
    syslog_message_key  message
    retry_limit         no_limits
[OUTPUT]
    name      file
    match     *
    path      $rdir
    file      relay-copy.txt
    format    template
    template  {message}"
            tcp_input="[INPUT]
    name           rs_syslog
    mode           tcp
    listen         127.0.0.1
    port           $tport
    mem_buf_limit  4M"
            # A relay bounds what it holds: at the limit the RELP input
            # stops acknowledging and the TCP input stops reading.
            relp_limit="    mem_buf_limit  4M"
        fi
        cat > "$rdir/fluent-bit.conf" <<EOF
[SERVICE]
    flush       1
    grace       5
    hot_reload  on
    log_level   info
[INPUT]
    name    rs_syslog
    mode    relp
    listen  127.0.0.1
    port    $port
$relp_limit
$tcp_input
[OUTPUT]
$output
EOF
        if [ "$forward" = relp ]; then rsyslog_receiver_conf "$rdir/down" "$fport"; fi
        return
    fi
    rsyslog_receiver_conf "$rdir" "$port"
}

# An rsyslogd with imrelp on port $2 (direct main queue: a message is in
# the file before imrelp acknowledges it) writing each MSG as a line into
# $rdir/out.txt; its configuration and work files in $1.
rsyslog_receiver_conf() {
    mkdir -p "$1"
    cat > "$1/rsyslog.conf" <<EOF
global(workDirectory="$1")
main_queue(queue.type="Direct")
module(load="imrelp")
template(name="msg" type="string" string="%msg%\n")
ruleset(name="r") { action(type="omfile" file="$rdir/out.txt" template="msg") }
input(type="imrelp" address="127.0.0.1" port="$2" ruleset="r")
EOF
}

# The downstream rsyslogd of RELP_KILLS_FORWARD=relp.
downstream_start() {
    "$rsd" -n -f "$rdir/down/rsyslog.conf" -i "$rdir/down/rsyslogd.pid" >> "$rdir/down/receiver.log" 2>&1 &
    dpid=$!
    local t0=$SECONDS
    until accepts "$fport"; do
        if ! kill -0 "$dpid" 2> /dev/null || [ $((SECONDS - t0)) -ge 15 ]; then
            echo "the downstream rsyslogd did not start: $(tail -3 "$rdir/down/receiver.log")" >&2
            exit 1
        fi
        sleep 0.02
    done
}

receiver_start() {
    if [ "$receiver" = rs_syslog ]; then
        "$bin" -c "$rdir/fluent-bit.conf" >> "$rdir/receiver.log" 2>&1 &
    else
        rm -f "$rdir/rsyslogd.pid"
        "$rsd" -n -f "$rdir/rsyslog.conf" -i "$rdir/rsyslogd.pid" >> "$rdir/receiver.log" 2>&1 &
    fi
    rpid=$!
    receiver_wait
}

# Until the receiver's port accepts again (15 s at most).
receiver_wait() {
    local t0=$SECONDS
    until accepts "$port"; do
        if ! kill -0 "$rpid" 2> /dev/null || [ $((SECONDS - t0)) -ge 15 ]; then
            echo "receiver did not start: $(tail -3 "$rdir/receiver.log")" >&2
            exit 1
        fi
        sleep 0.02
    done
}

# Stops the receiver: SIGKILL for rsyslogd; SIGTERM for Fluent Bit, which
# flushes what it took in during its grace period (bounded: 30 s).
receiver_stop() {
    if [ "$receiver" = rs_syslog ]; then
        kill -TERM "$rpid"
        local t0=$SECONDS
        while kill -0 "$rpid" 2> /dev/null; do
            [ $((SECONDS - t0)) -lt 30 ] || { echo "the receiver did not stop within 30 s" >&2; exit 1; }
            sleep 0.02
        done
    else
        kill -KILL "$rpid"
    fi
    wait "$rpid" 2> /dev/null || true
    rpid=''
}

# One interruption: a kill (or stop) and a start, or a hot reload.
receiver_interrupt() {
    if [ "$signal" = HUP ]; then
        local before t0=$SECONDS
        before=$(grep -c 'listening on' "$rdir/receiver.log" || true)
        kill -HUP "$rpid"
        until [ "$(grep -c 'listening on' "$rdir/receiver.log" || true)" -gt "$before" ]; do
            [ $((SECONDS - t0)) -lt 30 ] || { echo "reload did not complete within 30 s: $(tail -3 "$rdir/receiver.log")" >&2; exit 1; }
            sleep 0.02
        done
        receiver_wait
    else
        receiver_stop
        receiver_start
    fi
}

# The senders; each sets spid and writes its log to $sdir.
start_omrelp() {
    local tcp_copy=''
    if [ "$forward" = relp ]; then
        tcp_copy="    action(type=\"omfwd\" target=\"127.0.0.1\" port=\"$tport\" protocol=\"tcp\"
           template=\"tcp\" queue.type=\"LinkedList\" queue.size=\"20000\"
           action.resumeRetryCount=\"-1\" action.resumeInterval=\"1\")"
    fi
    cat > "$sdir/rsyslog.conf" <<EOF
global(workDirectory="$sdir")
module(load="imfile")
module(load="omrelp")
template(name="rfc5424" type="string"
         string="<%pri%>1 %timereported:::date-rfc3339% %hostname% bench - - - %msg%")
template(name="tcp" type="string"
         string="<%pri%>1 %timereported:::date-rfc3339% %hostname% bench - - - tcp:%msg%")
ruleset(name="fwd") {
    action(type="omrelp" target="127.0.0.1" port="$port" template="rfc5424"
           queue.type="LinkedList" queue.size="20000"
           action.resumeRetryCount="-1" action.resumeInterval="1")
$tcp_copy
}
input(type="imfile" file="$work/in.txt" tag="bench" ruleset="fwd")
EOF
    "$rsd" -n -f "$sdir/rsyslog.conf" -i "$sdir/rsyslogd.pid" > "$sdir/sender.log" 2>&1 &
    spid=$!
}

start_rs_syslog() {
    cat > "$sdir/fluent-bit.conf" <<EOF
[SERVICE]
    flush           1
    grace           2
    log_level       info
    parsers_file    $work/parsers.conf
    scheduler.base  1
    scheduler.cap   2

[INPUT]
    name               tail
    path               $work/in.json
    read_from_head     on
    parser             json
    file_cache_advise  off
    buffer_max_size    1M
    mem_buf_limit      64M
    storage.type       memory

[OUTPUT]
    name                rs_syslog
    match               *
    mode                relp
    host                127.0.0.1
    port                $port
    syslog_message_key  log
    retry_limit         no_limits
EOF
    "$bin" -c "$sdir/fluent-bit.conf" > "$sdir/sender.log" 2>&1 &
    spid=$!
}

sender_stop() {
    kill -TERM "$spid" 2> /dev/null || true
    local t0=$SECONDS
    while kill -0 "$spid" 2> /dev/null && [ $((SECONDS - t0)) -lt 10 ]; do sleep 0.05; done
    kill -KILL "$spid" 2> /dev/null || true
    wait "$spid" 2> /dev/null || true
    spid=''
}

# One phase; writes "records kills lost duplicates seconds" into
# $work/$1/result (not in a subshell: the EXIT trap must see its pids).
run() {
    local sender=$1
    rdir=$work/$sender/receiver sdir=$work/$sender/sender
    mkdir -p "$rdir" "$sdir"
    port=$(free_port)
    if [ "$forward" = relp ]; then
        fport=$(free_port) tport=$(free_port)
    fi
    receiver_conf
    if [ "$forward" = relp ]; then downstream_start; fi
    receiver_start
    local out=$rdir/out.txt start last n=0 m k done_kills=0 t
    start=$(now)
    last=$start
    if [ -n "${RELP_KILLS_RATE:-}" ]; then
        : > "$work/in.txt"
        : > "$work/in.json"
    fi
    "start_$sender"
    if [ -n "${RELP_KILLS_RATE:-}" ]; then
        python3 "$work/generate.py" "$work/in.txt" "$work/in.json" "$records" "$RELP_KILLS_RATE" &
        gpid=$!
    fi
    # Kills, each when the file has reached its share of the records; a
    # sender that stops delivering for 60 s ends the kill phase early.
    for k in $(seq "$kills"); do
        local want=$((k * records / (kills + 1))) t0=$SECONDS
        while [ "$n" -lt "$want" ]; do
            kill -0 "$spid" 2> /dev/null || { echo "$sender: the sender exited: $(tail -3 "$sdir/sender.log")" >&2; exit 1; }
            [ $((SECONDS - t0)) -lt 60 ] || break 2
            sleep 0.02
            m=$(progress "$out")
            if [ "$m" -gt "$n" ]; then n=$m last=$(now) t0=$SECONDS; fi
        done
        receiver_interrupt
        done_kills=$k
        if [ "$signal" = HUP ]; then
            echo "$k $(ps -o rss= -p "$rpid" | tr -d ' ')" >> "$work/$sender/rss"
        fi
        echo "$sender: kill $k at $n lines, $(elapsed "$start" "$(now)") s" >&2
    done
    # Until every seq is there, nothing came for 30 s, or 120 s passed.
    local t_end=$((SECONDS + 120)) t_quiet=$SECONDS checked=-1 got=0 distinct=0
    while [ "$SECONDS" -lt "$t_end" ] && [ $((SECONDS - t_quiet)) -lt 30 ]; do
        m=$(progress "$out")
        if [ "$m" -gt "$n" ]; then n=$m last=$(now) t_quiet=$SECONDS; fi
        if [ "$n" -ge "$records" ] && [ "$n" -ne "$checked" ]; then
            checked=$n
            read -r got distinct <<< "$(count "$out" "$rdir/missing")"
            if [ "$distinct" -ge "$records" ]; then break; fi
        fi
        sleep 0.1
    done
    sender_stop
    t=$(elapsed "$start" "$last")
    if [ -n "$gpid" ]; then
        kill "$gpid" 2> /dev/null || true
        wait "$gpid" 2> /dev/null || true
        gpid=''
    fi
    receiver_stop
    if [ -n "$dpid" ]; then
        kill -KILL "$dpid"
        wait "$dpid" 2> /dev/null || true
        dpid=''
    fi
    read -r got distinct <<< "$(count "$out" "$rdir/missing")"
    local lost=$((records - distinct)) dups=$((got - distinct))
    if [ "$lost" -gt 0 ]; then
        echo "$sender: lost $lost; missing seqs: $(head -20 "$rdir/missing" | tr '\n' ' ')" >&2
        if [ -f "$rdir/relay-copy.txt" ]; then
            local r
            for r in $(head -5 "$rdir/missing"); do
                echo "$sender: seq ${r%-*} in the relay's own copy: $(grep -c "^seq=$(printf %07d "${r%-*}") " "$rdir/relay-copy.txt" || true) time(s)" >&2
            done
            echo "$sender: the relay's warnings and errors:" >&2
            grep -E '\[ *(warn|error)\]' "$rdir/receiver.log" | grep -v 'service will shutdown' | tail -15 | sed 's/^/    /' >&2
        fi
        echo "$sender: last lines of its log:" >&2
        tail -15 "$sdir/sender.log" | sed 's/^/    /' >&2
    fi
    echo "$records $done_kills $lost $dups $t" > "$work/$sender/result"
}

senders=${RELP_KILLS_SENDERS:-omrelp rs_syslog}
max_dups=${RELP_KILLS_MAX_DUPLICATES:-}
for sender in $senders; do run "$sender"; done
printf '%-10s %8s %6s %8s %11s %8s\n' sender records kills lost duplicates seconds
failed=0
for sender in $senders; do
    read -r r k l d s < "$work/$sender/result"
    printf '%-10s %8s %6s %8s %11s %8s\n' "$sender" "$r" "$k" "$l" "$d" "$s"
    if [ "$forward" = relp ]; then
        echo "$sender: TCP copies received: $(cat "$work/$sender/receiver/missing.tcp") of $r"
    fi
    if [ -f "$work/$sender/rss" ]; then
        # One line when the last interruption is the fifth.
        first=$(awk '$1 == 5' "$work/$sender/rss") last=$(tail -1 "$work/$sender/rss")
        [ -n "$first" ] || first=$(head -1 "$work/$sender/rss")
        echo "$sender: Fluent Bit's RSS per interruption (kB): $(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $2 }' "$work/$sender/rss")"
        echo "$sender: Fluent Bit's RSS after interruption ${first% *}: ${first#* } kB, after interruption ${last% *}: ${last#* } kB"
    fi
    if [ -n "$max_dups" ] && { [ "$l" -gt 0 ] || [ "$d" -gt "$max_dups" ] || [ "$k" -lt "$kills" ]; }; then
        echo "$sender: $l lost, $d duplicates (at most $max_dups allowed), $k of $kills kills" >&2
        failed=1
    fi
done
exit "$failed"
