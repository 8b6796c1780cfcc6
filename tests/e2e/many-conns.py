#!/usr/bin/env python3
"""Many syslog senders at once against a Fluent Bit rs_syslog input (tcp).

    many-conns.py PORT CONNECTIONS PER_CONNECTION OUT_FILE FLB_PID

Opens CONNECTIONS TCP connections to 127.0.0.1:PORT, each sending
PER_CONNECTION LF-framed messages ("conn=C msg=M"), and keeps them all
open. Then checks, against Fluent Bit's output file (one JSON record a
line) and its /proc entries:
  - every message arrived exactly once (within 120 s);
  - the threads named rs_syslog* stay at most 16 while all are open;
  - Fluent Bit's RSS grew by at most 256 MB from before the first
    connection to the moment all messages were in;
  - with all of them still open and idle, a new sender's message is
    written within 2 s.
Prints the figures; exits 1 when a check fails. Loopback only; every wait
is bounded.
"""
import os
import re
import resource
import socket
import sys
import time

port, conns, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out, pid = sys.argv[4], int(sys.argv[5])

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < conns + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, conns + 1024), hard))


def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def input_threads():
    n = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                if f.read().startswith("rs_syslog"):
                    n += 1
        except OSError:
            pass
    return n


def lines():
    try:
        with open(out, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


failures = []
rss0 = rss_kb()
start = time.monotonic()
socks = []
for c in range(conns):
    # From 127.0.0.2: the 10,000 local ports these take (and keep in
    # TIME_WAIT) are then not ports that the next test's listener on
    # 127.0.0.1 could find in use.
    s = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=("127.0.0.2", 0))
    s.sendall(b"".join(b"<13>1 - h conns - - - conn=%05d msg=%d\n" % (c, m) for m in range(per)))
    socks.append(s)
connected = time.monotonic() - start

want = conns * per
deadline = time.monotonic() + 120
peak_threads = 0
while lines() < want and time.monotonic() < deadline:
    peak_threads = max(peak_threads, input_threads())
    time.sleep(0.05)
arrived = time.monotonic() - start
peak_threads = max(peak_threads, input_threads())
rss1 = rss_kb()

seen = {}
with open(out, "rb") as f:
    for line in f:
        m = re.search(rb"conn=(\d+) msg=(\d+)", line)
        if m:
            key = (int(m.group(1)), int(m.group(2)))
            seen[key] = seen.get(key, 0) + 1
missing = want - len(seen)
dups = sum(n - 1 for n in seen.values())
if missing or dups:
    failures.append(f"{missing} of {want} messages missing, {dups} duplicated")
if peak_threads > 16:
    failures.append(f"{peak_threads} rs_syslog threads (at most 16)")
grown_mb = (rss1 - rss0) / 1024
if grown_mb > 256:
    failures.append(f"RSS grew by {grown_mb:.0f} MB (at most 256)")

# A new sender behind all of them, idle and open.
before = lines()
late = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
t0 = time.monotonic()
late.sendall(b"<13>1 - h conns - - - the late sender\n")
while lines() <= before and time.monotonic() - t0 < 10:
    time.sleep(0.005)
late_ms = (time.monotonic() - t0) * 1000
if lines() <= before or late_ms > 2000:
    failures.append(f"a new sender's message took {late_ms:.0f} ms (at most 2000)")

print(
    f"{conns} connections x {per} messages: connected in {connected:.1f} s, all in after "
    f"{arrived:.1f} s; rs_syslog threads {peak_threads}; RSS {rss0 // 1024} -> {rss1 // 1024} MB "
    f"(+{grown_mb:.0f}); a new sender behind {conns} idle connections: {late_ms:.0f} ms"
)
late.close()
for s in socks:
    s.close()
for f in failures:
    print("FAIL", f)
sys.exit(1 if failures else 0)
