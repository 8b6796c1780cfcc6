-- The redact benchmark's Lua equivalent of this rs_redact configuration,
-- for Fluent Bit's `lua` filter (LuaJIT, Lua 5.1 patterns):
--
--   rule cards  detector=card     action=keep_last:4
--   rule mails  detector=email    action=hash
--   rule ip4    detector=ipv4
--   rule ip6    detector=ipv6
--   rule jwts   detector=jwt
--   rule bearer detector=bearer
--   rule aws    detector=aws_key
--   rule pw     detector=password
--   rule user   fields=user            action=hash
--   rule client fields=$client['id']   action=hash
--   rule cookie fields=$http['cookie'] action=drop
--
-- Every string value at any depth (and integers, as digits, for cards)
-- goes through the detectors in that order, each one seeing what the one
-- before left; a detector replaces what it found ([REDACTED], the card's
-- last 4 characters behind `*`, a hash token). The detectors follow
-- rs_redact's patterns and checks (README "### rs_redact",
-- rust/plugins/redact/src/detect.rs) by hand-written scanners: Lua
-- patterns have no alternation or bounded repetition, and rs_redact's
-- `\b` and leftmost-first semantics are emulated step by step. What
-- cannot match is skipped cheaply, as rs_redact's RegexSet pass does: one
-- byte loop over the string (digits, dots, colons, capitals) and plain
-- finds (`@`, `eyJ`, `bearer`, the key words) tell which detectors to run.
-- Character classes are ASCII (rs_redact's `\b`, `\s` and letters are
-- Unicode's): the benchmark's input is ASCII.
--
-- `hash` here is a keyed FNV-1a (two 32-bit lanes, 16 hex digits), not
-- HMAC-SHA256 as in rs_redact: cheaper, so the comparison favours Lua.
--
-- Returns 2 (modified, timestamp kept as it was: the filter's code 1
-- would round it through a double) only when something changed, else 0.

local find, sub, byte, lower, rep, format = string.find, string.sub, string.byte, string.lower, string.rep, string.format
local concat = table.concat
local bit = require("bit")
local bxor, lshift, tobit, tohex = bit.bxor, bit.lshift, bit.tobit, bit.tohex

local HASH_KEY = "bench-key-0123456789"
local MASK = "[REDACTED]"

-- ---- character classes (ASCII, as the input) ------------------------------

local function is_word(c) -- regex \w: [A-Za-z0-9_]
    return c ~= nil and ((c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95)
end
local function is_alnum(c)
    return c ~= nil and ((c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122))
end
local function is_digit(c) return c ~= nil and c >= 48 and c <= 57 end
local function is_alpha(c) return c ~= nil and ((c >= 65 and c <= 90) or (c >= 97 and c <= 122)) end
local function is_hex(c)
    return c ~= nil and ((c >= 48 and c <= 57) or (c >= 65 and c <= 70) or (c >= 97 and c <= 102))
end
local function is_space(c) return c == 32 or (c ~= nil and c >= 9 and c <= 13) end

-- ---- actions --------------------------------------------------------------

local function fnv(seed, s)
    local h = seed
    for i = 1, #s do
        h = bxor(h, byte(s, i))
        -- h * 16777619 mod 2^32, exact in doubles: (h << 24) + h * 403
        h = tobit(lshift(h, 24) + h * 403)
    end
    return h
end
local SEED1 = fnv(tobit(0x811c9dc5), HASH_KEY)
local SEED2 = fnv(tobit(0x050c5d1f), HASH_KEY .. "\1")

local function hash(s)
    return "[h:" .. tohex(fnv(SEED1, s), 8) .. tohex(fnv(SEED2, s), 8) .. "]"
end

local function keep_last4(s)
    if #s <= 4 then return s end
    return rep("*", #s - 4) .. sub(s, -4)
end

local function mask() return MASK end

-- Replaces the ranges (flat list s1, e1, s2, e2, ...) with what `act` makes
-- of each found text.
local function apply(s, r, act)
    local out, n, at = {}, 0, 1
    for i = 1, #r, 2 do
        n = n + 1; out[n] = sub(s, at, r[i] - 1)
        n = n + 1; out[n] = act(sub(s, r[i], r[i + 1]))
        at = r[i + 1] + 1
    end
    n = n + 1; out[n] = sub(s, at)
    return concat(out)
end

-- ---- card: \b\d(?:[ -]?\d){12,18}\b, then Luhn ------------------------------

local function luhn(s)
    local sum, n = 0, 0
    for i = #s, 1, -1 do
        local c = byte(s, i)
        if is_digit(c) then
            local d = c - 48
            if n % 2 == 1 then
                d = d * 2
                if d > 9 then d = d - 9 end
            end
            sum = sum + d
            n = n + 1
        end
    end
    return n >= 13 and n <= 19 and sum % 10 == 0
end

-- From a digit at p (a word boundary before it): the longest run of 13 to
-- 19 digits, single spaces or dashes between them, with a word boundary
-- after; nil if none (the regex then fails at p).
local function card_at(s, p)
    local count, pos, best = 1, p, nil
    while count < 19 do
        local c = byte(s, pos + 1)
        if is_digit(c) then
            pos = pos + 1
        elseif (c == 32 or c == 45) and is_digit(byte(s, pos + 2)) then
            pos = pos + 2
        else
            break
        end
        count = count + 1
        if count >= 13 and not is_word(byte(s, pos + 1)) then best = pos end
    end
    return best
end

local function find_cards(s)
    local r, init = nil, 1
    while true do
        local p = find(s, "%d", init)
        if not p then break end
        if not is_word(byte(s, p - 1)) then
            local e = card_at(s, p)
            if e then
                if luhn(sub(s, p, e)) then
                    r = r or {}
                    r[#r + 1] = p; r[#r + 1] = e
                end
                init = e + 1
            else
                init = p + 1
            end
        else
            -- Inside a run of word characters: skip to its end.
            local _, e = find(s, "^[%w_]+", p)
            init = e + 1
        end
    end
    return r
end

-- ---- email ----------------------------------------------------------------
-- \b[A-Za-z0-9._%+-]+@LABEL(?:\.LABEL)*\.[A-Za-z]{2,}\b,
-- LABEL = [A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?

local function is_local(c) -- [A-Za-z0-9._%+-]
    return is_alnum(c) or c == 46 or c == 95 or c == 37 or c == 43 or c == 45
end

-- The domain after the @ at `at`: the end of the longest match, or nil.
local function email_domain(s, at)
    local i, best, labels = at + 1, nil, 0
    while true do
        if not is_alnum(byte(s, i)) then return best end
        -- A label: alphanumerics and dashes, ending in an alphanumeric.
        local j = i
        while is_alnum(byte(s, j + 1)) or byte(s, j + 1) == 45 do j = j + 1 end
        while byte(s, j) == 45 do j = j - 1 end
        labels = labels + 1
        if labels >= 2 then
            -- This label as the top-level part: its leading letters, two
            -- or more, then no word character.
            local k = i
            while k <= j and is_alpha(byte(s, k)) do k = k + 1 end
            if k - i >= 2 and not is_word(byte(s, k)) then best = k - 1 end
        end
        if byte(s, j + 1) ~= 46 then return best end
        i = j + 2
    end
end

local function find_emails(s)
    local r, init = nil, 1
    while true do
        local at = find(s, "@", init, true)
        if not at then break end
        -- The local part's leftmost start with a word boundary before it.
        local a = at
        while is_local(byte(s, a - 1)) do a = a - 1 end
        if a < init then a = init end
        local start
        for k = a, at - 1 do
            if is_word(byte(s, k - 1)) ~= is_word(byte(s, k)) then start = k; break end
        end
        local e = start and email_domain(s, at)
        if e then
            r = r or {}
            r[#r + 1] = start; r[#r + 1] = e
            init = e + 1
        else
            init = at + 1
        end
    end
    return r
end

-- ---- ipv4: four dotted 0..255 (no leading zeros), whole token -------------

local function octet(s, a, b)
    local n = b - a + 1
    if n > 3 or (n > 1 and byte(s, a) == 48) then return false end
    return tonumber(sub(s, a, b)) <= 255
end

local function find_ipv4(s)
    local r, init = nil, 1
    while true do
        local a, b, e1, e2, e3 = find(s, "%d+()%.%d+()%.%d+()%.%d+", init)
        if not a then break end
        local before, after = byte(s, a - 1), byte(s, b + 1)
        if not is_word(before) and not is_word(after)
            and octet(s, a, e1 - 1) and octet(s, e1 + 1, e2 - 1) and octet(s, e2 + 1, e3 - 1) and octet(s, e3 + 1, b) then
            -- A match; an address only when not part of a longer dotted run.
            if before ~= 46 and not (after == 46 and is_digit(byte(s, b + 2))) then
                r = r or {}
                r[#r + 1] = a; r[#r + 1] = b
            end
            init = b + 1
        else
            init = e1 + 1
        end
    end
    return r
end

-- ---- ipv6 -----------------------------------------------------------------
-- [0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[0-9A-Za-z]+)?, then a real
-- parse, one letter case, at least two colons, and the whole-token rule.

local function hexrun(s, i)
    local j = i
    while is_hex(byte(s, j)) do j = j + 1 end
    return j - i
end

-- The regex's match from p (its end, its colons, whether two of them are
-- adjacent), or nil.
local function ipv6_at(s, p)
    local L = hexrun(s, p)
    if L > 4 then return nil end
    local pos, groups, double = p + L, 0, false
    while groups < 7 and byte(s, pos) == 58 do
        if byte(s, pos + 1) == 58 then double = true end
        local h = hexrun(s, pos + 1)
        if h > 4 then h = 4 end
        pos = pos + 1 + h
        groups = groups + 1
        if h == 4 and is_hex(byte(s, pos)) then break end
    end
    if groups < 2 then return nil end
    local e = pos - 1
    if byte(s, pos) == 37 then
        local z = pos + 1
        while is_alnum(byte(s, z)) do z = z + 1 end
        if z > pos + 1 then e = z - 1 end
    end
    return e, groups, double
end

-- The number of colon-separated groups of 1 to 4 hex digits in `part`,
-- or nil.
local function groups(part)
    if part == "" then return 0 end
    local n = 0
    for g in (part .. ":"):gmatch("([^:]*):") do
        if #g < 1 or #g > 4 then return nil end
        n = n + 1
    end
    return n
end

-- Does `a` (no zone) parse as an IPv6 address (Rust's Ipv6Addr, no
-- embedded IPv4: the pattern takes no dots)?
local function ipv6_parses(a)
    local head, tail = a, nil
    local dc = find(a, "::", 1, true)
    if dc then
        head, tail = sub(a, 1, dc - 1), sub(a, dc + 2)
        if find(tail, "::", 1, true) then return false end
    end
    local h = groups(head)
    if not h then return false end
    if not tail then return h == 8 end
    local t = groups(tail)
    return t ~= nil and h + t <= 7
end

local function joined(c) -- touches an address: part of a word, a path, a call
    return is_alnum(c) or c == 58 or c == 95 or c == 46 or c == 36
end

local function find_ipv6(s)
    local r, init = nil, 1
    while true do
        -- The leftmost place the pattern can start: the hex run (4 at most)
        -- before the first colon followed by hex and another colon.
        local c = find(s, ":%x*:", init)
        if not c then break end
        local a = c
        while a > init and is_hex(byte(s, a - 1)) do a = a - 1 end
        if c - a > 4 then a = c - 4 end
        local e, colons, double = ipv6_at(s, a)
        if not e then
            init = a + 1
        else
            -- A whole token, and eight groups or fewer with `::` (anything
            -- else cannot parse), in one letter case, that parses.
            local before, n1, n2 = byte(s, a - 1), byte(s, e + 1), byte(s, e + 2)
            local sentence_end = n1 == 46 and not is_alnum(n2)
            local touches = n1 ~= nil and (joined(n1) or n1 == 40 or n1 == 60)
            if not joined(before) and (not touches or sentence_end) and (colons == 7 or double) then
                local addr = sub(s, a, e):match("^[^%%]*")
                if not (find(addr, "%u") and find(addr, "%l")) and ipv6_parses(addr) then
                    r = r or {}
                    r[#r + 1] = a; r[#r + 1] = e
                end
            end
            init = e + 1
        end
    end
    return r
end

-- ---- jwt: \beyJ[\w-]+\.eyJ[\w-]+\.[\w-]* -------------------------------------

local function find_jwts(s)
    local r, init = nil, 1
    while true do
        local a, b = find(s, "eyJ[%w_%-]+%.eyJ[%w_%-]+%.[%w_%-]*", init)
        if not a then break end
        if not is_word(byte(s, a - 1)) then
            r = r or {}
            r[#r + 1] = a; r[#r + 1] = b
            init = b + 1
        else
            init = a + 1
        end
    end
    return r
end

-- ---- bearer ---------------------------------------------------------------

local TOKEN = "^[%w%-%._~%+/]+"

-- The token at i: a run of token characters, then any `=`; its end or nil.
local function token_run(s, i)
    local _, e = find(s, TOKEN, i)
    if not e then return nil end
    local _, q = find(s, "^=*", e + 1)
    return e, q
end

-- Branch 1: authorization ["'] [:=] ["'] bearer \s+ TOKEN, from `a`.
local function bearer_auth(s, ls, a)
    local i = a + 13
    if byte(s, i) == 92 and (byte(s, i + 1) == 34 or byte(s, i + 1) == 39) then i = i + 2
    elseif byte(s, i) == 34 or byte(s, i) == 39 then i = i + 1 end
    while is_space(byte(s, i)) do i = i + 1 end
    local c = byte(s, i)
    if c ~= 58 and c ~= 61 then return nil end
    i = i + 1
    while is_space(byte(s, i)) do i = i + 1 end
    if byte(s, i) == 92 and (byte(s, i + 1) == 34 or byte(s, i + 1) == 39) then i = i + 2
    elseif byte(s, i) == 34 or byte(s, i) == 39 then i = i + 1 end
    if sub(ls, i, i + 5) ~= "bearer" then return nil end
    i = i + 6
    if not is_space(byte(s, i)) then return nil end
    while is_space(byte(s, i)) do i = i + 1 end
    local _, q = token_run(s, i)
    if not q then return nil end
    return i, q
end

-- Branch 2's token after `Bearer` ending at b: one with a digit or one of
-- -_~+/ in it, or 16 letters or more.
local function bearer_free(s, b)
    local i = b + 1
    if not is_space(byte(s, i)) then return nil end
    while is_space(byte(s, i)) do i = i + 1 end
    local e, q = token_run(s, i)
    if e and find(sub(s, i, e), "[%d%-_~%+/]") then return i, q end
    local _, l = find(s, "^%a+", i)
    if l and l - i + 1 >= 16 then
        local _, q2 = find(s, "^=*", l + 1)
        return i, q2
    end
    return nil
end

local function find_bearer(s, ls)
    local r, init = nil, 1
    -- `^\s*bearer`, any case, at the very start.
    local _, b0 = find(ls, "^%s*bearer")
    if b0 then
        local ts, te = bearer_free(s, b0)
        if ts then
            r = { ts, te }
            init = te + 1
        end
    end
    while true do
        local a = find(ls, "authorization", init, true)
        while a and is_word(byte(s, a - 1)) do a = find(ls, "authorization", a + 1, true) end
        local c = find(ls, "bearer", init, true)
        while c and not ((sub(s, c, c + 5) == "Bearer" or sub(s, c, c + 5) == "BEARER") and not is_word(byte(s, c - 1))) do
            c = find(ls, "bearer", c + 1, true)
        end
        if not a and not c then break end
        local ts, te
        if a and (not c or a < c) then
            ts, te = bearer_auth(s, ls, a)
            if not ts then init = a + 1 end
        else
            ts, te = bearer_free(s, c + 5)
            if not ts then init = c + 1 end
        end
        if ts then
            r = r or {}
            r[#r + 1] = ts; r[#r + 1] = te
            init = te + 1
        end
    end
    return r
end

-- ---- aws_key: \b(AKIA|ASIA|...|A3T[A-Z0-9])[A-Z0-9]{16}\b -------------------

local AWS_PRE = "A" .. rep("[%u%d]", 19) .. "%f[^%w_]"
local AWS_PREFIX = { AKIA = true, ASIA = true, AGPA = true, AIDA = true, AROA = true, AIPA = true, ANPA = true, ANVA = true }

local function find_aws(s)
    local r, init = nil, 1
    while true do
        local a, b = find(s, AWS_PRE, init)
        if not a then break end
        local p = sub(s, a, a + 3)
        if not is_word(byte(s, a - 1)) and (AWS_PREFIX[p] or sub(p, 1, 3) == "A3T") then
            r = r or {}
            r[#r + 1] = a; r[#r + 1] = b
        end
        init = b + 1
    end
    return r
end

-- ---- password -------------------------------------------------------------

local KEYWORDS = { "password", "passwd", "passphrase", "pwd", "secret", "token",
    "api[_%.%-]?key", "private[_%.%-]?key", "access[_%.%-]?key", "secret[_%.%-]?key" }
local CAMEL = { "Password", "Passwd", "Passphrase", "Pwd", "Secret", "Token", "ApiKey", "PrivateKey", "AccessKey", "SecretKey" }
local KW_WHOLE, KW_LAST, CAMEL_LAST = {}, {}, {}
for i, k in ipairs(KEYWORDS) do
    KW_WHOLE[i] = "^" .. k .. "$"
    KW_LAST[i] = "[_%.%-]" .. k .. "$"
end
for i, k in ipairs(CAMEL) do CAMEL_LAST[i] = "[a-z0-9]" .. k .. "$" end

-- The last three letters of every key word, camel case or not.
local KEY_TAIL = { ord = true, swd = true, ase = true, pwd = true, ret = true, ken = true, key = true }

-- Is K (a whole run of [A-Za-z0-9_.-]) a secret's key?
local function secret_key(k)
    local lk = lower(k)
    if not KEY_TAIL[sub(lk, -3)] then return false end
    for i = 1, #KEYWORDS do
        if find(lk, KW_WHOLE[i]) or find(lk, KW_LAST[i]) then return true end
    end
    for i = 1, #CAMEL do
        if find(k, CAMEL_LAST[i]) then return true end
    end
    return false
end

-- A quoted value from the quote at k (`\"`, `"` or `'`): content range
-- and the end of the match, or nil.
local function quoted(s, k)
    local c = byte(s, k)
    if c == 92 and byte(s, k + 1) == 34 then
        local i = k + 2
        while true do
            local d = byte(s, i)
            if d == nil or d == 34 then return nil end
            if d == 92 then
                local n = byte(s, i + 1)
                if n == 34 then return k + 2, i - 1, i + 1 end
                if n == nil then return nil end
                i = i + 2
            else
                i = i + 1
            end
        end
    elseif c == 34 or c == 39 then
        local i = k + 1
        while true do
            local d = byte(s, i)
            if d == nil then return nil end
            if d == c then return k + 1, i - 1, i end
            if d == 92 then
                local n = byte(s, i + 1)
                if n == nil or n == 10 then return nil end
                i = i + 2
            else
                i = i + 1
            end
        end
    end
    return nil
end

local function bare_stop(c) -- [\s"',;&}]
    return c == nil or is_space(c) or c == 34 or c == 39 or c == 44 or c == 59 or c == 38 or c == 125
end

-- The value after key K ending at b: its range (maybe empty) and the end
-- of the match, or nil.
local function secret_value(s, b)
    local j = b + 1
    local c = byte(s, j)
    if c == 92 and (byte(s, j + 1) == 34 or byte(s, j + 1) == 39) then j = j + 2
    elseif c == 34 or c == 39 then j = j + 1 end
    -- \s*[:=]\s* and a quoted value
    local k = j
    while is_space(byte(s, k)) do k = k + 1 end
    c = byte(s, k)
    if c == 58 or c == 61 then
        k = k + 1
        while is_space(byte(s, k)) do k = k + 1 end
        local vs, ve, me = quoted(s, k)
        if vs then return vs, ve, me end
    end
    -- = or \s*:\s*, then a bare value
    local v
    if byte(s, j) == 61 then
        v = j + 1
    else
        v = j
        while is_space(byte(s, v)) do v = v + 1 end
        if byte(s, v) ~= 58 then return nil end
        v = v + 1
        while is_space(byte(s, v)) do v = v + 1 end
    end
    c = byte(s, v)
    if bare_stop(c) or c == 92 then return nil end
    local e = v
    while not bare_stop(byte(s, e + 1)) do e = e + 1 end
    return v, e, e
end

local function is_key(c) -- [A-Za-z0-9_.-]
    return is_alnum(c) or c == 95 or c == 46 or c == 45
end

-- Last letters a key word can end in: d (password, passwd, pwd), e
-- (passphrase), t (secret), n (token), y (the ..key ones).
local KEY_END = { [100] = true, [101] = true, [116] = true, [110] = true, [121] = true }

-- The next key that can start a match, found from the `:` or `=` after it
-- (a key is followed by an optional quote, spaces and one of them, so a
-- separator at x names at most one key: the run of key characters before
-- the spaces and the quote). A key qualifies when it is a key word's
-- and its delimiter (or the text's start) was taken by no match before
-- `kinit`. Returns the separator, the key's first and last positions.
local function key_candidate(s, from, kinit)
    while true do
        local x = find(s, "[:=]", from)
        if not x then return nil end
        local q = x - 1
        while is_space(byte(s, q)) do q = q - 1 end
        local c = byte(s, q)
        if c == 34 or c == 39 then
            q = q - 1
            if byte(s, q) == 92 then q = q - 1 end
        end
        c = byte(s, q)
        if c and KEY_END[c < 91 and c > 64 and c + 32 or c] then
            local ka = q
            while is_key(byte(s, ka - 1)) do ka = ka - 1 end
            if ((ka == 1 and kinit == 1) or ka - 1 >= kinit) and secret_key(sub(s, ka, q)) then
                return x, ka, q
            end
        end
        from = x + 1
    end
end

local function find_passwords(s, url)
    local r, kinit, uinit = nil, 1, 1
    local kx, ka, kb = key_candidate(s, 1, 1)
    local u
    while true do
        if kx and not ((ka == 1 and kinit == 1) or ka - 1 >= kinit) then
            kx, ka, kb = key_candidate(s, kx + 1 > kinit and kx + 1 or kinit, kinit)
        end
        if url and (not u or u < uinit) then u = find(s, "://", uinit, true) end
        local kstart = kx and (ka == 1 and 1 or ka - 1)
        if not kstart and not u then break end
        local vs, ve, me
        if kstart and (not u or kstart <= u) then
            vs, ve, me = secret_value(s, kb)
            if not vs then kx, ka, kb = key_candidate(s, kx + 1, kinit) end
        else
            local _, e, p1, p2 = find(s, "^://[^/%s:@]+:()[^/%s@]+()@", u)
            if e then vs, ve, me = p1, p2 - 1, e else uinit = u + 1 end
        end
        if vs then
            if ve >= vs then
                r = r or {}
                r[#r + 1] = vs; r[#r + 1] = ve
            end
            kinit, uinit = me + 1, me + 1
            if kx and kx <= me then kx, ka, kb = key_candidate(s, kinit, kinit) end
        end
    end
    return r
end

-- ---- the rules, in order --------------------------------------------------

-- One pass over the bytes tells which of the detectors that need digits,
-- dots, colons or capitals can match at all (necessary conditions only,
-- as rs_redact's RegexSet pass): a card needs 13 digits in a run of
-- digits, spaces and dashes; an IPv4 address a run of digits and dots
-- with three dots and a digit after them; an IPv6 address two colons with
-- only hex digits between; an AWS key id 20 capitals and digits in a row.
-- Also whether s has capitals at all.
local function screen(s)
    local card, ip4, ip6, aws, upper = false, false, false, false, false
    local dn, dots, up, colon = 0, 0, 0, false
    for i = 1, #s do
        local c = byte(s, i)
        if c >= 48 and c <= 57 then
            dn = dn + 1
            if dn >= 13 then card = true end
            if dots >= 3 then ip4 = true end
            up = up + 1
            if up >= 20 then aws = true end
        else
            if c ~= 32 and c ~= 45 then dn = 0 end
            if c == 46 then dots = dots + 1 else dots = 0 end
            if c >= 65 and c <= 90 then
                upper = true
                up = up + 1
                if up >= 20 then aws = true end
            else
                up = 0
            end
            if c == 58 then
                if colon then ip6 = true end
                colon = true
            elseif not ((c >= 97 and c <= 102) or (c >= 65 and c <= 70)) then
                colon = false
            end
        end
    end
    return card, ip4, ip6, aws, upper
end

-- The detectors in the rules' order, each on what the one before left.
-- The cheap checks (the screen, plain finds) skip those that cannot match;
-- after a change they are taken again on the new text.
local function detect(s)
    -- (upper: whether s has capitals; without any, lower(s) is s itself.)
    local card, ip4, ip6, aws, upper = screen(s)
    local r
    if card then
        r = find_cards(s)
        if r then s = apply(s, r, keep_last4); card, ip4, ip6, aws, upper = screen(s) end
    end
    if find(s, "@", 1, true) then
        r = find_emails(s)
        if r then s = apply(s, r, hash); card, ip4, ip6, aws, upper = screen(s) end
    end
    if ip4 then
        r = find_ipv4(s)
        if r then s = apply(s, r, mask); card, ip4, ip6, aws, upper = screen(s) end
    end
    if ip6 then
        r = find_ipv6(s)
        if r then s = apply(s, r, mask); card, ip4, ip6, aws, upper = screen(s) end
    end
    if find(s, "eyJ", 1, true) then
        r = find_jwts(s)
        if r then s = apply(s, r, mask); card, ip4, ip6, aws, upper = screen(s) end
    end
    local ls = upper and lower(s) or s
    if find(ls, "bearer", 1, true) then
        r = find_bearer(s, ls)
        if r then s = apply(s, r, mask); card, ip4, ip6, aws, upper = screen(s); ls = upper and lower(s) or s end
    end
    if aws then
        r = find_aws(s)
        if r then s = apply(s, r, mask); ls = lower(s) end
    end
    local url = find(s, "://", 1, true) and find(s, "@", 1, true)
    if url or find(ls, "pass", 1, true) or find(ls, "pwd", 1, true) or find(ls, "secret", 1, true)
        or find(ls, "token", 1, true) or find(ls, "key", 1, true) then
        r = find_passwords(s, url)
        if r then s = apply(s, r, mask) end
    end
    return s
end

-- An integer as its digits, for the card rule (the only one digits alone
-- can match); nil when it cannot hold 13 digits.
local function number_text(v)
    if v == math.floor(v) and (v >= 1e12 or v <= -1e12) and v < 2 ^ 53 and v > -2 ^ 53 then
        return format("%d", v)
    end
    return nil
end

-- Detectors on every string (and integer) under t; true if one changed.
local function walk(t)
    local changed = false
    for k, v in pairs(t) do
        local tv = type(v)
        if tv == "string" then
            local nv = detect(v)
            if nv ~= v then t[k] = nv; changed = true end
        elseif tv == "table" then
            if walk(v) then changed = true end
        elseif tv == "number" then
            local s = number_text(v)
            if s then
                local nv = detect(s)
                if nv ~= s then t[k] = nv; changed = true end
            end
        end
    end
    return changed
end

local function scalar_text(v)
    if type(v) == "string" then return v end
    if type(v) == "number" then return number_text(v) or tostring(v) end
    return nil
end

function redact(tag, timestamp, record)
    local changed = walk(record)
    -- user and $client['id']: the whole value (after the detectors) hashed.
    local u = scalar_text(record.user)
    if u then record.user = hash(u); changed = true end
    local client = record.client
    if type(client) == "table" then
        local id = scalar_text(client.id)
        if id then client.id = hash(id); changed = true end
    end
    -- $http['cookie'] dropped.
    local http = record.http
    if type(http) == "table" and http.cookie ~= nil then
        http.cookie = nil
        changed = true
    end
    if changed then return 2, timestamp, record end
    return 0, timestamp, record
end
