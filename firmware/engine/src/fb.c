/*
 * Bounds-checked flatbuffer access. Every read checks offset + size against
 * the buffer length with 64-bit arithmetic, so a hostile model can only ever
 * produce "absent" or an error, never an out-of-bounds read. Multi-byte values
 * are assembled byte by byte: models may sit at any alignment (flash, UART
 * buffers) and Cortex-M0+ faults on unaligned word loads.
 */
#include "hn_fb.h"

#include <string.h>

uint32_t hn_read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

int32_t hn_read_i32(const uint8_t *p) { return (int32_t)hn_read_u32(p); }

uint16_t hn_read_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

int64_t hn_read_i64(const uint8_t *p)
{
    uint64_t lo = hn_read_u32(p);
    uint64_t hi = hn_read_u32(p + 4);
    return (int64_t)(lo | (hi << 32));
}

float hn_read_f32(const uint8_t *p)
{
    uint32_t u = hn_read_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int fits(uint32_t buf_len, uint64_t pos, uint64_t size)
{
    return pos <= buf_len && size <= (uint64_t)buf_len - pos;
}

int hn_fb_table_ok(const hn_fb_table *t)
{
    if (t == NULL || t->buf == NULL || t->pos == 0 || !fits(t->buf_len, t->pos, 4)) {
        return 0;
    }
    int64_t vt = (int64_t)t->pos - (int64_t)hn_read_i32(t->buf + t->pos);
    if (vt < 0 || !fits(t->buf_len, (uint64_t)vt, 4)) {
        return 0;
    }
    uint16_t vt_size = hn_read_u16(t->buf + vt);
    if (vt_size < 4 || (vt_size & 1u) || !fits(t->buf_len, (uint64_t)vt, vt_size)) {
        return 0;
    }
    return 1;
}

uint32_t hn_fb_field(const hn_fb_table *t, unsigned field, uint32_t size)
{
    if (!hn_fb_table_ok(t) || field > 1000u) {
        return 0;
    }
    int64_t vt = (int64_t)t->pos - (int64_t)hn_read_i32(t->buf + t->pos);
    uint16_t vt_size = hn_read_u16(t->buf + vt);
    uint16_t table_size = hn_read_u16(t->buf + vt + 2);
    uint32_t slot = 4u + 2u * field;
    if (slot + 2u > vt_size) {
        return 0;
    }
    uint16_t off = hn_read_u16(t->buf + vt + slot);
    if (off == 0) {
        return 0;
    }
    if ((uint32_t)off + size > table_size || !fits(t->buf_len, (uint64_t)t->pos + off, size)) {
        return 0;
    }
    return t->pos + off;
}

uint32_t hn_fb_deref(const uint8_t *buf, uint32_t buf_len, uint32_t at)
{
    if (at == 0 || !fits(buf_len, at, 4)) {
        return 0;
    }
    uint64_t target = (uint64_t)at + hn_read_u32(buf + at);
    if (target == 0 || target >= buf_len) {
        return 0;
    }
    return (uint32_t)target;
}

hn_fb_table hn_fb_subtable(const hn_fb_table *t, unsigned field)
{
    hn_fb_table sub = {t ? t->buf : NULL, t ? t->buf_len : 0, 0};
    uint32_t at = hn_fb_field(t, field, 4);
    if (at != 0) {
        sub.pos = hn_fb_deref(t->buf, t->buf_len, at);
        if (!hn_fb_table_ok(&sub)) {
            sub.pos = 0;
        }
    }
    return sub;
}

int64_t hn_fb_vector(const hn_fb_table *t, unsigned field, uint32_t elem_size,
                     const uint8_t **data)
{
    *data = NULL;
    uint32_t at = hn_fb_field(t, field, 4);
    if (at == 0) {
        return -1;
    }
    uint32_t vec = hn_fb_deref(t->buf, t->buf_len, at);
    if (vec == 0 || !fits(t->buf_len, vec, 4)) {
        return -2;
    }
    uint64_t n = hn_read_u32(t->buf + vec);
    if (!fits(t->buf_len, (uint64_t)vec + 4u, n * elem_size)) {
        return -2;
    }
    *data = t->buf + vec + 4u;
    return (int64_t)n;
}

hn_fb_table hn_fb_vector_table(const hn_fb_table *t, const uint8_t *vec_data, uint32_t i)
{
    hn_fb_table sub = {t->buf, t->buf_len, 0};
    uint32_t at = (uint32_t)(vec_data - t->buf) + 4u * i;
    sub.pos = hn_fb_deref(t->buf, t->buf_len, at);
    if (!hn_fb_table_ok(&sub)) {
        sub.pos = 0;
    }
    return sub;
}

int32_t hn_fb_i32(const hn_fb_table *t, unsigned field, int32_t dflt)
{
    uint32_t at = hn_fb_field(t, field, 4);
    return at ? hn_read_i32(t->buf + at) : dflt;
}

int32_t hn_fb_u8(const hn_fb_table *t, unsigned field, int32_t dflt)
{
    uint32_t at = hn_fb_field(t, field, 1);
    return at ? (int32_t)t->buf[at] : dflt;
}

int32_t hn_fb_i8(const hn_fb_table *t, unsigned field, int32_t dflt)
{
    uint32_t at = hn_fb_field(t, field, 1);
    return at ? (int32_t)(int8_t)t->buf[at] : dflt;
}

float hn_fb_f32(const hn_fb_table *t, unsigned field, float dflt)
{
    uint32_t at = hn_fb_field(t, field, 4);
    return at ? hn_read_f32(t->buf + at) : dflt;
}

int hn_fb_bool(const hn_fb_table *t, unsigned field, int dflt)
{
    uint32_t at = hn_fb_field(t, field, 1);
    return at ? (t->buf[at] != 0) : dflt;
}

int32_t hn_fb_i32_vector(const hn_fb_table *t, unsigned field, const uint8_t **out)
{
    int64_t n = hn_fb_vector(t, field, 4, out);
    if (n < 0 || n > INT32_MAX) {
        *out = NULL;
        return -1;
    }
    return (int32_t)n;
}
