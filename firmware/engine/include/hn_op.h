/*
 * Kernel contract of the hilnas engine (TFLM-style: prepare does the math,
 * eval runs integer loops only).
 *
 * Each op lives in firmware/engine/ops/<family>.c and exports one or more
 * `const hn_op_impl hn_op_<BUILTIN_NAME>` objects; firmware/engine/src/registry.c
 * maps builtin codes to them. prepare() validates types/shapes/options (report
 * anything unsupported with HN_ERR_UNSUPPORTED_OPTION and a message naming the
 * op and field), computes multipliers/shifts into op_data, and states its
 * scratch need; eval() must not fail on inputs prepare() accepted.
 */
#ifndef HN_OP_H
#define HN_OP_H

#include <stdint.h>
#include "hn_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLite TensorType values (schema.fbs). */
enum {
    HN_TYPE_FLOAT32 = 0,
    HN_TYPE_FLOAT16 = 1,
    HN_TYPE_INT32 = 2,
    HN_TYPE_UINT8 = 3,
    HN_TYPE_INT64 = 4,
    HN_TYPE_BOOL = 6,
    HN_TYPE_INT16 = 7,
    HN_TYPE_INT8 = 9
};

typedef struct {
    int8_t type;               /* HN_TYPE_* */
    uint8_t ndim;
    uint8_t is_const;          /* data points into the model's buffers */
    int8_t quant_dim;          /* per-channel quantized dimension */
    int32_t dims[HN_MAX_DIMS];
    uint8_t *data;             /* arena (variable) or model (const); NULL until planned */
    uint32_t bytes;
    /* Quantization: n_quant == 0 none, 1 per-tensor, >1 per-channel. */
    uint32_t n_quant;
    float scale;               /* scales[0] */
    int32_t zero_point;        /* zero_points[0] */
    const uint8_t *scales_raw; /* n_quant little-endian float32 (read with hn_read_f32) */
    const uint8_t *zero_points_raw; /* n_quant little-endian int64 (hn_read_i64), may be NULL */
} hn_tensor;

/* A flatbuffer table reference, bounds-checked by the reader. */
typedef struct {
    const uint8_t *buf;        /* whole model buffer */
    uint32_t buf_len;
    uint32_t pos;              /* table offset; 0 = absent */
} hn_fb_table;

/* Bounds-checked option accessors (field = index in the schema's table,
 * i.e. the Nth field declared, starting at 0). Return dflt when absent. */
int32_t hn_fb_i32(const hn_fb_table *t, unsigned field, int32_t dflt);
float hn_fb_f32(const hn_fb_table *t, unsigned field, float dflt);
int hn_fb_bool(const hn_fb_table *t, unsigned field, int dflt);
/* One-byte fields (enums such as Padding and ActivationFunctionType are
 * stored as a single byte: read them with these, not hn_fb_i32). */
int32_t hn_fb_u8(const hn_fb_table *t, unsigned field, int32_t dflt);
int32_t hn_fb_i8(const hn_fb_table *t, unsigned field, int32_t dflt);
/* Vector of int32 inside the options table (e.g. Reshape new_shape); returns
 * element count, or -1 when absent/invalid; *out points to raw LE data. */
int32_t hn_fb_i32_vector(const hn_fb_table *t, unsigned field, const uint8_t **out);

float hn_read_f32(const uint8_t *p);
int64_t hn_read_i64(const uint8_t *p);
int32_t hn_read_i32(const uint8_t *p);

typedef struct hn_op_ctx {
    uint16_t op_index;         /* position in the subgraph's operator list */
    int32_t builtin_code;
    uint8_t n_inputs;
    uint8_t n_outputs;
    hn_tensor *inputs[HN_MAX_OP_IO];  /* NULL for optional inputs given as -1 */
    hn_tensor *outputs[HN_MAX_OP_IO];
    hn_fb_table options;       /* builtin_options table (may be absent) */
    void *op_data;             /* op_data_size bytes, persistent prepare -> eval */
    void *scratch;             /* at eval: scratch_bytes asked for in prepare */
    uint32_t scratch_bytes;
    hn_engine *engine;         /* for hn_op_error / hn_alloc_persistent */
} hn_op_ctx;

typedef struct {
    const char *name;          /* builtin name, e.g. "SOFTMAX" */
    uint32_t op_data_size;
    hn_status (*prepare)(hn_op_ctx *ctx);  /* may set ctx->scratch_bytes */
    hn_status (*eval)(hn_op_ctx *ctx);
} hn_op_impl;

/* Upper bound of every op's op_data_size. A load whose arena is short (or
 * absent: the host's sizing pass) still runs every op's prepare, on a static
 * buffer of this size, so hn_arena_required() counts every scratch and
 * persistent request exactly. Each op file proves its op data fits with
 * HN_OP_DATA_FITS(type); a larger op fails to compile instead of being sized
 * wrong. */
#ifndef HN_MAX_OP_DATA_BYTES
#define HN_MAX_OP_DATA_BYTES 1024u
#endif
#define HN_OP_DATA_FITS(type)                                                 \
    _Static_assert(sizeof(type) <= HN_MAX_OP_DATA_BYTES,                     \
                   #type " exceeds HN_MAX_OP_DATA_BYTES (hn_op.h): raise it")

/* Record an error message (printf-style, truncated to HN_ERR_MSG_LEN) naming
 * the op; returns status so that `return hn_op_error(ctx, HN_ERR_..., "...")`. */
hn_status hn_op_error(hn_op_ctx *ctx, hn_status status, const char *fmt, ...);

/* Persistent arena memory during prepare (e.g. per-channel multipliers);
 * NULL when the arena is exhausted (the engine then reports ARENA_TOO_SMALL
 * with the required size). 8-byte aligned. */
void *hn_alloc_persistent(hn_op_ctx *ctx, uint32_t bytes);

/* Element count of a tensor. */
int32_t hn_num_elements(const hn_tensor *t);

#ifdef __cplusplus
}
#endif
#endif /* HN_OP_H */
