"""Runs one command to its end and prints what it cost:

    python3 measure.py TIMEOUT PIDFILE LOG CMD...

prints "wall_seconds cpu_seconds peak_rss_kb" (the child's user + system
CPU time and maximum RSS from wait4's rusage, so every thread counts and
nothing is sampled) and exits 0, or exits 1 when the command failed or ran
longer than TIMEOUT seconds (then it is killed). PIDFILE gets "OWN_PID
CHILD_PID" while the command runs, for a caller's cleanup; the child also
dies with this process (PR_SET_PDEATHSIG). The command's stdout and
stderr go to LOG.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

timeout, pidfile, log, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


with open(log, "wb") as out:
    start = time.monotonic()
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             preexec_fn=die_with_parent)
with open(pidfile, "w") as f:
    f.write(f"{os.getpid()} {child.pid}\n")
timed_out = False


def on_alarm(*_):
    global timed_out
    timed_out = True
    child.kill()


def on_term(*_):
    child.kill()
    sys.exit(1)


signal.signal(signal.SIGALRM, on_alarm)
signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
signal.setitimer(signal.ITIMER_REAL, timeout)
while True:
    try:
        _, status, ru = os.wait4(child.pid, 0)
        break
    except InterruptedError:
        continue
wall = time.monotonic() - start
signal.setitimer(signal.ITIMER_REAL, 0)
os.unlink(pidfile)
if timed_out:
    print(f"measure: {cmd[0]} still running after {timeout:.0f} s, killed", file=sys.stderr)
    sys.exit(1)
code = os.waitstatus_to_exitcode(status)
if code != 0:
    print(f"measure: {cmd[0]} exited with {code} (log: {log})", file=sys.stderr)
    sys.exit(1)
print(f"{wall:.3f} {ru.ru_utime + ru.ru_stime:.3f} {ru.ru_maxrss}")
