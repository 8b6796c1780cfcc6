/* mp.c: see mp.h. */

#include "mp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

void mp_init(mp_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void mp_free(mp_buf *b)
{
    free(b->data);
    mp_init(b);
}

void mp_reset(mp_buf *b)
{
    b->len = 0;
}

static void reserve(mp_buf *b, size_t n)
{
    if (b->cap - b->len >= n) {
        return;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n) {
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        fprintf(stderr, "mp: out of memory\n");
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void mp_raw(mp_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void mp_byte(mp_buf *b, uint8_t c)
{
    mp_raw(b, &c, 1);
}

void mp_be16(mp_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    mp_raw(b, x, 2);
}

void mp_be32(mp_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    mp_raw(b, x, 4);
}

void mp_be64(mp_buf *b, uint64_t v)
{
    mp_be32(b, (uint32_t)(v >> 32));
    mp_be32(b, (uint32_t)v);
}

void mp_nil(mp_buf *b)
{
    mp_byte(b, 0xc0);
}

void mp_bool(mp_buf *b, int v)
{
    mp_byte(b, v ? 0xc3 : 0xc2);
}

void mp_uint(mp_buf *b, uint64_t v)
{
    if (v < 0x80) {
        mp_byte(b, (uint8_t)v);
    } else if (v <= 0xff) {
        mp_byte(b, 0xcc);
        mp_byte(b, (uint8_t)v);
    } else if (v <= 0xffff) {
        mp_byte(b, 0xcd);
        mp_be16(b, (uint16_t)v);
    } else if (v <= 0xffffffffu) {
        mp_byte(b, 0xce);
        mp_be32(b, (uint32_t)v);
    } else {
        mp_byte(b, 0xcf);
        mp_be64(b, v);
    }
}

void mp_int(mp_buf *b, int64_t v)
{
    if (v >= 0) {
        mp_uint(b, (uint64_t)v);
    } else if (v >= -32) {
        mp_byte(b, (uint8_t)(int8_t)v);
    } else if (v >= INT8_MIN) {
        mp_byte(b, 0xd0);
        mp_byte(b, (uint8_t)(int8_t)v);
    } else if (v >= INT16_MIN) {
        mp_byte(b, 0xd1);
        mp_be16(b, (uint16_t)(int16_t)v);
    } else if (v >= INT32_MIN) {
        mp_byte(b, 0xd2);
        mp_be32(b, (uint32_t)(int32_t)v);
    } else {
        mp_byte(b, 0xd3);
        mp_be64(b, (uint64_t)v);
    }
}

void mp_f64(mp_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    mp_byte(b, 0xcb);
    mp_be64(b, u);
}

void mp_f32(mp_buf *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    mp_byte(b, 0xca);
    mp_be32(b, u);
}

void mp_str(mp_buf *b, const char *s)
{
    mp_strn(b, s, strlen(s));
}

void mp_strn(mp_buf *b, const void *s, size_t n)
{
    if (n < 32) {
        mp_byte(b, (uint8_t)(0xa0 | n));
        mp_raw(b, s, n);
    } else if (n <= 0xff) {
        mp_str8(b, s, n);
    } else if (n <= 0xffff) {
        mp_str16(b, s, n);
    } else {
        mp_str32(b, s, n);
    }
}

void mp_str8(mp_buf *b, const void *s, size_t n)
{
    mp_byte(b, 0xd9);
    mp_byte(b, (uint8_t)n);
    mp_raw(b, s, n);
}

void mp_str16(mp_buf *b, const void *s, size_t n)
{
    mp_byte(b, 0xda);
    mp_be16(b, (uint16_t)n);
    mp_raw(b, s, n);
}

void mp_str32(mp_buf *b, const void *s, size_t n)
{
    mp_byte(b, 0xdb);
    mp_be32(b, (uint32_t)n);
    mp_raw(b, s, n);
}

void mp_bin(mp_buf *b, const void *p, size_t n)
{
    if (n <= 0xff) {
        mp_byte(b, 0xc4);
        mp_byte(b, (uint8_t)n);
    } else if (n <= 0xffff) {
        mp_byte(b, 0xc5);
        mp_be16(b, (uint16_t)n);
    } else {
        mp_byte(b, 0xc6);
        mp_be32(b, (uint32_t)n);
    }
    mp_raw(b, p, n);
}

void mp_array(mp_buf *b, uint32_t n)
{
    if (n < 16) {
        mp_byte(b, (uint8_t)(0x90 | n));
    } else if (n <= 0xffff) {
        mp_array16(b, (uint16_t)n);
    } else {
        mp_array32(b, n);
    }
}

void mp_array16(mp_buf *b, uint16_t n)
{
    mp_byte(b, 0xdc);
    mp_be16(b, n);
}

void mp_array32(mp_buf *b, uint32_t n)
{
    mp_byte(b, 0xdd);
    mp_be32(b, n);
}

void mp_map(mp_buf *b, uint32_t n)
{
    if (n < 16) {
        mp_byte(b, (uint8_t)(0x80 | n));
    } else if (n <= 0xffff) {
        mp_map16(b, (uint16_t)n);
    } else {
        mp_map32(b, n);
    }
}

void mp_map16(mp_buf *b, uint16_t n)
{
    mp_byte(b, 0xde);
    mp_be16(b, n);
}

void mp_map32(mp_buf *b, uint32_t n)
{
    mp_byte(b, 0xdf);
    mp_be32(b, n);
}

void mp_event_time(mp_buf *b, uint32_t sec, uint32_t nsec)
{
    mp_byte(b, 0xd7);
    mp_byte(b, 0x00);
    mp_be32(b, sec);
    mp_be32(b, nsec);
}

void mp_event_time_ext8(mp_buf *b, uint32_t sec, uint32_t nsec)
{
    mp_byte(b, 0xc7);
    mp_byte(b, 0x08);
    mp_byte(b, 0x00);
    mp_be32(b, sec);
    mp_be32(b, nsec);
}

void mp_v2_head(mp_buf *b, uint32_t sec, uint32_t nsec)
{
    mp_array(b, 2);
    mp_array(b, 2);
    mp_event_time(b, sec, nsec);
    mp_map(b, 0);
}

/* ---- reader ---- */

void mp_reader_init(mp_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
}

static int take(mp_reader *r, size_t n, const uint8_t **p)
{
    if (r->len - r->pos < n) {
        return -1;
    }
    *p = r->data + r->pos;
    r->pos += n;
    return 0;
}

static int rd_be(mp_reader *r, size_t n, uint64_t *v)
{
    const uint8_t *p;
    if (take(r, n, &p)) {
        return -1;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        x = (x << 8) | p[i];
    }
    *v = x;
    return 0;
}

static int payload(mp_reader *r, mp_item *it, enum mp_type t, size_t n)
{
    it->type = t;
    it->n = n;
    return take(r, n, &it->p);
}

static int ext(mp_reader *r, mp_item *it, size_t n)
{
    const uint8_t *p;
    if (take(r, 1, &p)) {
        return -1;
    }
    it->ext_type = (int8_t)p[0];
    return payload(r, it, MP_EXT, n);
}

static int sint(mp_item *it, int64_t v)
{
    if (v < 0) {
        it->type = MP_INT;
        it->i = v;
    } else {
        it->type = MP_UINT;
        it->u = (uint64_t)v;
    }
    return 0;
}

int mp_next(mp_reader *r, mp_item *it)
{
    const uint8_t *p;
    uint64_t v;
    memset(it, 0, sizeof(*it));
    if (take(r, 1, &p)) {
        return -1;
    }
    uint8_t c = p[0];
    if (c <= 0x7f) {
        it->type = MP_UINT;
        it->u = c;
        return 0;
    }
    if (c >= 0xe0) {
        it->type = MP_INT;
        it->i = (int8_t)c;
        return 0;
    }
    if ((c & 0xf0) == 0x80) {
        it->type = MP_MAP;
        it->n = c & 0x0f;
        return 0;
    }
    if ((c & 0xf0) == 0x90) {
        it->type = MP_ARRAY;
        it->n = c & 0x0f;
        return 0;
    }
    if ((c & 0xe0) == 0xa0) {
        return payload(r, it, MP_STR, c & 0x1f);
    }
    switch (c) {
    case 0xc0:
        it->type = MP_NIL;
        return 0;
    case 0xc2:
    case 0xc3:
        it->type = MP_BOOL;
        it->u = c == 0xc3;
        return 0;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        if (rd_be(r, (size_t)1 << (c - 0xc4), &v)) {
            return -1;
        }
        return payload(r, it, MP_BIN, (size_t)v);
    case 0xc7:
    case 0xc8:
    case 0xc9:
        if (rd_be(r, (size_t)1 << (c - 0xc7), &v)) {
            return -1;
        }
        return ext(r, it, (size_t)v);
    case 0xca: {
        float f;
        uint32_t u;
        if (rd_be(r, 4, &v)) {
            return -1;
        }
        u = (uint32_t)v;
        memcpy(&f, &u, 4);
        it->type = MP_F32;
        it->f = f;
        return 0;
    }
    case 0xcb: {
        double d;
        if (rd_be(r, 8, &v)) {
            return -1;
        }
        memcpy(&d, &v, 8);
        it->type = MP_F64;
        it->f = d;
        return 0;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        if (rd_be(r, (size_t)1 << (c - 0xcc), &v)) {
            return -1;
        }
        it->type = MP_UINT;
        it->u = v;
        return 0;
    case 0xd0:
        if (rd_be(r, 1, &v)) {
            return -1;
        }
        return sint(it, (int8_t)(uint8_t)v);
    case 0xd1:
        if (rd_be(r, 2, &v)) {
            return -1;
        }
        return sint(it, (int16_t)(uint16_t)v);
    case 0xd2:
        if (rd_be(r, 4, &v)) {
            return -1;
        }
        return sint(it, (int32_t)(uint32_t)v);
    case 0xd3:
        if (rd_be(r, 8, &v)) {
            return -1;
        }
        return sint(it, (int64_t)v);
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        return ext(r, it, (size_t)1 << (c - 0xd4));
    case 0xd9:
    case 0xda:
    case 0xdb:
        if (rd_be(r, (size_t)1 << (c - 0xd9), &v)) {
            return -1;
        }
        return payload(r, it, MP_STR, (size_t)v);
    case 0xdc:
    case 0xdd:
        if (rd_be(r, c == 0xdc ? 2 : 4, &v)) {
            return -1;
        }
        it->type = MP_ARRAY;
        it->n = (size_t)v;
        return 0;
    case 0xde:
    case 0xdf:
        if (rd_be(r, c == 0xde ? 2 : 4, &v)) {
            return -1;
        }
        it->type = MP_MAP;
        it->n = (size_t)v;
        return 0;
    default: /* 0xc1 */
        return -1;
    }
}

int mp_skip(mp_reader *r)
{
    uint64_t pending = 1;
    mp_item it;
    while (pending > 0) {
        /* every value is at least one byte: refuse counts that lie */
        if (pending > r->len - r->pos) {
            return -1;
        }
        pending--;
        if (mp_next(r, &it)) {
            return -1;
        }
        if (it.type == MP_ARRAY) {
            pending += it.n;
        } else if (it.type == MP_MAP) {
            pending += 2 * (uint64_t)it.n;
        }
    }
    return 0;
}

static int read_time(mp_reader *r, mp_event *ev)
{
    mp_item it;
    if (mp_next(r, &it)) {
        return -1;
    }
    if (it.type == MP_EXT && it.ext_type == 0 && it.n == 8) {
        ev->sec = (uint32_t)it.p[0] << 24 | (uint32_t)it.p[1] << 16 | (uint32_t)it.p[2] << 8 |
                  it.p[3];
        ev->nsec = (uint32_t)it.p[4] << 24 | (uint32_t)it.p[5] << 16 | (uint32_t)it.p[6] << 8 |
                   it.p[7];
        return 0;
    }
    if (it.type == MP_UINT) {
        ev->sec = (uint32_t)it.u;
        ev->nsec = 0;
        return 0;
    }
    if (it.type == MP_F64 || it.type == MP_F32) {
        ev->sec = (uint32_t)it.f;
        ev->nsec = (uint32_t)((it.f - (double)ev->sec) * 1e9);
        return 0;
    }
    return -1;
}

int mp_read_event(mp_reader *r, mp_event *ev)
{
    mp_item it;
    size_t start;
    memset(ev, 0, sizeof(*ev));
    ev->offset = r->pos;
    if (mp_next(r, &it) || it.type != MP_ARRAY || it.n != 2) {
        return -1;
    }
    /* peek at the head: an array means V2 */
    size_t head = r->pos;
    if (mp_next(r, &it)) {
        return -1;
    }
    if (it.type == MP_ARRAY) {
        if (it.n != 2) {
            return -1;
        }
        ev->v2 = 1;
        if (read_time(r, ev)) {
            return -1;
        }
        start = r->pos;
        if (mp_next(r, &it) || it.type != MP_MAP) {
            return -1;
        }
        r->pos = start;
        if (mp_skip(r)) {
            return -1;
        }
        ev->meta = r->data + start;
        ev->meta_len = r->pos - start;
    } else {
        r->pos = head;
        if (read_time(r, ev)) {
            return -1;
        }
    }
    start = r->pos;
    if (mp_next(r, &it) || it.type != MP_MAP) {
        return -1;
    }
    ev->body_count = (uint32_t)it.n;
    r->pos = start;
    if (mp_skip(r)) {
        return -1;
    }
    ev->body = r->data + start;
    ev->body_len = r->pos - start;
    ev->len = r->pos - ev->offset;
    return 0;
}

int mp_map_get(const uint8_t *map, size_t map_len, const char *key, mp_item *out,
               const uint8_t **val, size_t *val_len)
{
    mp_reader r;
    mp_item it;
    size_t klen = strlen(key);
    mp_reader_init(&r, map, map_len);
    if (mp_next(&r, &it) || it.type != MP_MAP) {
        return -1;
    }
    for (size_t i = 0, n = it.n; i < n; i++) {
        if (mp_next(&r, &it)) {
            return -1;
        }
        int match = it.type == MP_STR && it.n == klen && memcmp(it.p, key, klen) == 0;
        if (it.type == MP_ARRAY || it.type == MP_MAP) {
            /* a container key: its header is read; step over its children */
            uint64_t pending = it.type == MP_MAP ? 2 * (uint64_t)it.n : it.n;
            while (pending--) {
                if (mp_skip(&r)) {
                    return -1;
                }
            }
        }
        size_t vstart = r.pos;
        if (match) {
            if (mp_next(&r, out)) {
                return -1;
            }
            r.pos = vstart;
            if (mp_skip(&r)) {
                return -1;
            }
            if (val) {
                *val = map + vstart;
            }
            if (val_len) {
                *val_len = r.pos - vstart;
            }
            return 0;
        }
        if (mp_skip(&r)) {
            return -1;
        }
    }
    return -1;
}
