/*
 * Internal bounds-checked flatbuffer helpers (the public option accessors
 * hn_fb_i32/f32/bool/i32_vector are declared in hn_op.h). A position of 0
 * always means "absent or invalid": offset 0 is the root offset, never a table.
 */
#ifndef HN_FB_H
#define HN_FB_H

#include "hn_op.h"

#ifdef __cplusplus
extern "C" {
#endif

uint32_t hn_read_u32(const uint8_t *p);
uint16_t hn_read_u16(const uint8_t *p);
int hn_fb_table_ok(const hn_fb_table *t);
/* Absolute position of a scalar/offset field of `size` bytes, 0 if absent. */
uint32_t hn_fb_field(const hn_fb_table *t, unsigned field, uint32_t size);
/* Follow a uoffset stored at `at`; 0 if it leaves the buffer. */
uint32_t hn_fb_deref(const uint8_t *buf, uint32_t buf_len, uint32_t at);
/* Table-valued field; pos 0 when absent or invalid. */
hn_fb_table hn_fb_subtable(const hn_fb_table *t, unsigned field);
/* Vector field: -1 absent, -2 out of bounds, else element count (data set). */
int64_t hn_fb_vector(const hn_fb_table *t, unsigned field, uint32_t elem_size,
                     const uint8_t **data);
/* i-th table of a vector of tables (vec_data from hn_fb_vector, elem 4). */
hn_fb_table hn_fb_vector_table(const hn_fb_table *t, const uint8_t *vec_data, uint32_t i);

#ifdef __cplusplus
}
#endif
#endif
