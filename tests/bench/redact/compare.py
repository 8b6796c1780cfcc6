"""Compares the records the lua and rs_redact filters wrote (the file
output's plain format: one JSON record a line) with each other and with
what the unfiltered run wrote:

    python3 compare.py RECORDS NONE LUA RS_REDACT

Records are matched by their place in the files (one tail input: the
order is the input's; checked on the `ts` field, which no rule changes)
and compared as parsed maps (the Lua filter reorders a changed record's
keys); hash tokens,
`[h:` 16 hex digits `]` (HMAC-SHA256 in rs_redact, keyed FNV-1a in the
Lua), become `<hash>`. Prints how many records each changed, how many
differ between the two, and a few of those. Exits 1 when a file does not
hold RECORDS records.
"""
import json
import re
import sys

records = int(sys.argv[1])
HASH = re.compile(r"\[h:[0-9a-f]{16}\]")


def norm(v):
    if isinstance(v, str):
        return HASH.sub("<hash>", v)
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def load(path):
    with open(path) as f:
        return [norm(json.loads(line)) for line in f]


none, lua, rs = (load(p) for p in sys.argv[2:5])
bad = [(n, len(m)) for n, m in zip(("none", "lua", "rs_redact"), (none, lua, rs)) if len(m) != records]
for n, got in bad:
    print(f"equivalence: {n} wrote {got} records of {records}", file=sys.stderr)
if bad:
    sys.exit(1)
for n, m in (("lua", lua), ("rs_redact", rs)):
    moved = sum(a.get("ts") != b.get("ts") for a, b in zip(none, m))
    if moved:
        print(f"equivalence: {moved} of {n}'s records are not in the input's order", file=sys.stderr)
        sys.exit(1)


def diff(a, b, path=""):
    """The paths where a and b differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")
        return out
    return [] if a == b else [(path, a, b)]


changed_lua = sum(a != b for a, b in zip(lua, none))
changed_rs = sum(a != b for a, b in zip(rs, none))
differ = [i for i in range(records) if lua[i] != rs[i]]
print(f"equivalence: of {records} records, lua changed {changed_lua}, rs_redact {changed_rs}; "
      f"{len(differ)} differ between the two (hash tokens normalized)")
for i in differ[:5]:
    for path, a, b in diff(lua[i], rs[i]):
        print(f"  record {i + 1} {path}:\n    lua:       {json.dumps(a)}\n    rs_redact: {json.dumps(b)}")
