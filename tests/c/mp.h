/*
 * mp.h: a tiny MessagePack writer and reader for the C test host.
 *
 * The writer appends to a growable buffer and picks the smallest encoding
 * (as msgpack-c and rmp do) unless a function names the encoding; the
 * explicit ones let tests build every wire form the library must accept.
 * The reader is a cursor that decodes one header at a time and can skip
 * whole values; it checks every length against the bytes that are there.
 */

#ifndef FLB_RS_TEST_MP_H
#define FLB_RS_TEST_MP_H

#include <stddef.h>
#include <stdint.h>

/* ---- writer ---- */

typedef struct mp_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} mp_buf;

void mp_init(mp_buf *b);
void mp_free(mp_buf *b);
void mp_reset(mp_buf *b);
void mp_raw(mp_buf *b, const void *p, size_t n);
void mp_byte(mp_buf *b, uint8_t c);
void mp_be16(mp_buf *b, uint16_t v);
void mp_be32(mp_buf *b, uint32_t v);
void mp_be64(mp_buf *b, uint64_t v);

void mp_nil(mp_buf *b);
void mp_bool(mp_buf *b, int v);
/* Non-negative integers, smallest encoding. */
void mp_uint(mp_buf *b, uint64_t v);
/* Any integer, smallest encoding (non-negative ones as mp_uint). */
void mp_int(mp_buf *b, int64_t v);
void mp_f64(mp_buf *b, double v);
void mp_f32(mp_buf *b, float v);

/* Strings: smallest header, or a named one. */
void mp_str(mp_buf *b, const char *s);
void mp_strn(mp_buf *b, const void *s, size_t n);
void mp_str8(mp_buf *b, const void *s, size_t n);
void mp_str16(mp_buf *b, const void *s, size_t n);
void mp_str32(mp_buf *b, const void *s, size_t n);
void mp_bin(mp_buf *b, const void *p, size_t n);

/* Containers: smallest header, or a named one. */
void mp_array(mp_buf *b, uint32_t n);
void mp_array16(mp_buf *b, uint16_t n);
void mp_array32(mp_buf *b, uint32_t n);
void mp_map(mp_buf *b, uint32_t n);
void mp_map16(mp_buf *b, uint16_t n);
void mp_map32(mp_buf *b, uint32_t n);

/* Fluent Bit's EventTime: ext type 0, big-endian u32 seconds + u32 nanos,
 * as fixext8 (0xd7) or ext8 (0xc7 0x08). */
void mp_event_time(mp_buf *b, uint32_t sec, uint32_t nsec);
void mp_event_time_ext8(mp_buf *b, uint32_t sec, uint32_t nsec);

/* `[[EventTime, {}], ` : the head of a V2 event with empty metadata;
 * the caller writes the body map next. */
void mp_v2_head(mp_buf *b, uint32_t sec, uint32_t nsec);

/* ---- reader ---- */

enum mp_type {
    MP_NIL = 1,
    MP_BOOL,
    MP_UINT,
    MP_INT, /* negative */
    MP_F32,
    MP_F64,
    MP_STR,
    MP_BIN,
    MP_EXT,
    MP_ARRAY,
    MP_MAP
};

typedef struct mp_item {
    enum mp_type type;
    uint64_t u;        /* MP_UINT, MP_BOOL */
    int64_t i;         /* MP_INT */
    double f;          /* MP_F32, MP_F64 */
    const uint8_t *p;  /* MP_STR, MP_BIN, MP_EXT payload */
    size_t n;          /* payload length, or element count of containers */
    int8_t ext_type;   /* MP_EXT */
} mp_item;

typedef struct mp_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
} mp_reader;

void mp_reader_init(mp_reader *r, const void *data, size_t len);
/* Reads one header (for containers: the header only; the cursor is then on
 * the first child). Returns 0, or -1 on truncation / reserved byte. */
int mp_next(mp_reader *r, mp_item *it);
/* Steps over one complete value, however nested (no recursion). */
int mp_skip(mp_reader *r);

/* One Fluent Bit event located in a buffer. */
typedef struct mp_event {
    size_t offset;       /* of the event in the buffer */
    size_t len;          /* of the whole event */
    int v2;              /* [[t, meta], body] rather than [t, body] */
    uint32_t sec;        /* from an EventTime; integer/float seconds too */
    uint32_t nsec;
    const uint8_t *meta; /* V2: the encoded metadata map */
    size_t meta_len;
    const uint8_t *body; /* the encoded body map */
    size_t body_len;
    uint32_t body_count;
} mp_event;

/* Decodes the event at the cursor. Returns 0, or -1 when it is not a
 * well-formed event (the cursor is then unspecified). */
int mp_read_event(mp_reader *r, mp_event *ev);

/* Looks up a string key in an encoded map; sets *it to the value's header
 * (and val, val_len to the encoded value). Returns 0, or -1 when absent. */
int mp_map_get(const uint8_t *map, size_t map_len, const char *key, mp_item *it,
               const uint8_t **val, size_t *val_len);

#endif /* FLB_RS_TEST_MP_H */
