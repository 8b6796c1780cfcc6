"""Writes the redact benchmark's input: RECORDS JSON lines of about 300
bytes, the same for a given RECORDS on every run (fixed seed).

    python3 gen.py RECORDS OUT

Nine records in ten hold no secret but the text that makes the detectors
look closer: digits and timestamps, durations, key=value and a:b pairs,
versions (1.2.3), paths, HTTP status lines, UUIDs, clock times and
MAC-like runs (colons and hex), Rust paths (a::b), order numbers of 16
digits that fail the Luhn check, near-miss keys (max_tokens=,
password_policy=). Every tenth record holds exactly one secret, the kinds
taken in turn: a card number (Luhn-valid, spaces or dashes), an e-mail
address, an IPv4 address, an IPv6 address, a JWT, an Authorization:
Bearer header, an AWS key id, a password pair (password=, DB_PASSWORD=,
"secret": "..."), a `user` field, a `client` map with an `id`, an `http`
map with a `cookie`.
"""
import json
import random
import sys
import uuid

n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(20260304)

LEVELS = ["info"] * 6 + ["debug"] * 2 + ["warn", "error"]
COMPONENTS = ["ingress", "orders", "billing", "scheduler", "search", "auth-proxy", "inventory", "mailer"]
PATHS = ["/api/v2/orders/%d/items", "/api/v1/users/%d/profile", "/static/js/app.%d.js",
         "/healthz", "/api/v2/search", "/internal/metrics/%d"]
UAS = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "curl/8.5.0", "okhttp/4.12.0",
       "Go-http-client/2.0", "kube-probe/1.29"]


def digits(k):
    return "".join(rnd.choice("0123456789") for _ in range(k))


def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def card():
    body = rnd.choice(["4", "51", "52", "37", "6011"])
    body += digits(15 - len(body))
    num = body + str(luhn_digit(body))
    sep = rnd.choice([" ", "-"])
    return sep.join(num[i:i + 4] for i in range(0, 16, 4))


def not_a_card():
    body = rnd.choice("123456789") + digits(14)
    return body + str((luhn_digit(body) + rnd.randint(1, 9)) % 10)


def ts():
    return "2026-03-%02dT%02d:%02d:%02d.%03dZ" % (
        rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(0, 999))


def hexs(k):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(k))


def rid():
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def b64u(k):
    return "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(k))


def word(k):
    return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(k))


def secs():
    # Never a whole number: Lua would write 2.0 back as 2.
    return round(rnd.randint(1, 9999) / 1000 + 0.0005, 4)


def access():
    status = rnd.choice([200, 200, 200, 201, 204, 301, 304, 404, 500, 503])
    path = rnd.choice(PATHS)
    if "%d" in path:
        path %= rnd.randint(1, 99999)
    size = rnd.randint(0, 50000)
    ms = rnd.randint(1, 900)
    method = rnd.choice(["GET", "GET", "POST", "PUT", "DELETE"])
    return {
        "log": '%s %s?page=%d&limit=50 HTTP/1.1 %d %d "-" "%s" rt=%.3f upstream=%s-%d:8080' % (
            method, path, rnd.randint(1, 9), status, size, rnd.choice(UAS), ms / 1000,
            rnd.choice(COMPONENTS), rnd.randint(0, 9)),
        "duration_ms": ms,
        "http": {"method": method, "status": status, "bytes": size},
    }


def app():
    msg = rnd.choice([
        "job=reindex-%d shard=%d/16 state=done took=%.3fs attempts=%d version=%d.%d.%d next_run=%s" % (
            rnd.randint(1, 999), rnd.randint(0, 15), rnd.random() * 9, rnd.randint(1, 3),
            rnd.randint(1, 4), rnd.randint(0, 20), rnd.randint(0, 9), ts()),
        "failed to open /var/lib/app/data/2026/03/%02d/part-%05d.parquet: No such file or directory (os error 2) at src/io/reader.rs:%d:%d" % (
            rnd.randint(1, 28), rnd.randint(0, 99999), rnd.randint(1, 400), rnd.randint(1, 80)),
        "upstream responded HTTP/1.1 %d %s after %.3fs; circuit=%s; host=api-%d.internal:443; retry_in=%dms" % (
            rnd.choice([502, 503, 504]), rnd.choice(["Bad Gateway", "Service Unavailable", "Gateway Timeout"]),
            rnd.random() * 30, rnd.choice(["open", "half-open"]), rnd.randint(1, 9), rnd.randint(10, 5000)),
        "span_id=%s trace_id=%s db.statement=SELECT id, total FROM orders WHERE id = $1 rows=%d latency=%dms" % (
            hexs(16), hexs(32), rnd.randint(0, 500), rnd.randint(1, 300)),
        "order_ref=%s settled at %02d:%02d:%02d batch=%d fee=%.2f EUR (policy v%d.%d.%d)" % (
            not_a_card(), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(1, 99999),
            rnd.random() * 10, rnd.randint(1, 3), rnd.randint(0, 9), rnd.randint(0, 9)),
        "panicked at tokio::runtime::blocking::pool: worker %d lost; std::io::Error kind=TimedOut; mac %s:%s:%s:%s:%s:%s" % (
            rnd.randint(0, 31), hexs(2), hexs(2), hexs(2), hexs(2), hexs(2), hexs(2)),
        "model call ok: max_tokens=%d temperature=0.%d password_policy=strict prompt_chars=%d oid=1.3.6.1.4.1.%d" % (
            rnd.choice([256, 512, 1024]), rnd.randint(1, 9), rnd.randint(100, 9000), rnd.randint(1000, 60000)),
        "cache miss key_space=sessions ttl=%ds size=%dKiB evicted=%d ratio=0.%02d @here ping sent" % (
            rnd.randint(60, 3600), rnd.randint(1, 4096), rnd.randint(0, 100), rnd.randint(1, 99)),
    ])
    return {"message": msg, "duration_ms": rnd.randint(1, 5000), "latency_s": secs()}


def secret(kind):
    """A record with exactly one secret of the given kind (0..10)."""
    r = app() if kind % 2 else access()
    text_key = "message" if "message" in r else "log"
    if kind == 0:
        r[text_key] = "payment authorized card=%s amount=%d.%02d currency=EUR merchant=m-%d" % (
            card(), rnd.randint(1, 999), rnd.randint(0, 99), rnd.randint(1, 9999))
    elif kind == 1:
        r[text_key] = "receipt queued for %s.%s%d@mail.example.org via relay mx-%d (attempt %d)" % (
            word(5), word(6), rnd.randint(1, 99), rnd.randint(1, 4), rnd.randint(1, 3))
    elif kind == 2:
        r[text_key] = "accepted connection from 203.0.%d.%d:%d tls=1.3 cipher=TLS_AES_128_GCM_SHA256" % (
            rnd.randint(0, 255), rnd.randint(1, 254), rnd.randint(1024, 65535))
    elif kind == 3:
        r[text_key] = "accepted connection from [2001:db8:%x::%x]:%d tls=1.3 cipher=TLS_AES_128_GCM_SHA256" % (
            rnd.randint(1, 0xffff), rnd.randint(1, 0xffff), rnd.randint(1024, 65535))
    elif kind == 4:
        r[text_key] = "session verified jwt=eyJ%s.eyJ%s.%s exp_in=%ds" % (
            b64u(30), b64u(60), b64u(43), rnd.randint(60, 3600))
    elif kind == 5:
        r[text_key] = "outbound request to billing-api: Authorization: Bearer %s accept=application/json" % hexs(40)
    elif kind == 6:
        r[text_key] = "s3 upload to bucket logs-%d with key id AKIA%s region=eu-west-1" % (
            rnd.randint(1, 99), "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)))
    elif kind == 7:
        r[text_key] = rnd.choice([
            "login ok for uid=%d password=%s%d! method=form" % (rnd.randint(1, 99999), word(7), rnd.randint(10, 99)),
            "env loaded: DB_HOST=db-%d DB_PASSWORD=%s-%s%d DB_POOL=%d" % (
                rnd.randint(1, 9), word(5), word(4), rnd.randint(1, 99), rnd.randint(4, 64)),
            'config reloaded: {"name": "svc-%d", "secret": "%s %s %d", "replicas": %d}' % (
                rnd.randint(1, 99), word(4), word(5), rnd.randint(1, 999), rnd.randint(1, 9)),
        ])
    elif kind == 8:
        r["user"] = "%s.%s" % (word(5), word(7))
    elif kind == 9:
        r["client"] = {"id": "c-%d" % rnd.randint(100000, 9999999), "name": "ios-app", "version": "5.%d.%d" % (
            rnd.randint(0, 9), rnd.randint(0, 20))}
    elif kind == 10:
        r["http"] = {"method": "POST", "path": "/cart", "status": 201,
                     "cookie": "sid=%s; theme=dark; consent=%d" % (hexs(24), rnd.randint(0, 1))}
    return r


with open(out, "w") as f:
    for i in range(n):
        if i % 10 == 9:
            r = secret((i // 10) % 11)
        else:
            r = access() if rnd.random() < 0.4 else app()
        rec = {"ts": ts(), "level": rnd.choice(LEVELS), "component": rnd.choice(COMPONENTS), "request_id": rid()}
        rec.update(r)
        line = json.dumps(rec, separators=(",", ":"))
        # About 300 bytes: pad the short ones with a host and a pod name.
        if len(line) < 280:
            rec["host"] = "node-%d.eu-west-1.compute.internal" % rnd.randint(1, 64)
            line = json.dumps(rec, separators=(",", ":"))
        if len(line) < 280:
            rec["pod"] = "%s-%s-%s" % (rec["component"], hexs(10), word(5))
            line = json.dumps(rec, separators=(",", ":"))
        f.write(line + "\n")
