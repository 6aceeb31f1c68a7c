/*
 * SLICE with constant begin/size (int32 or int64), as TFLM's reference
 * kernel: the shape is front-padded to 5 dimensions (leading axes taken
 * whole), axis i keeps [begin[i], begin[i] + size[i]) and size -1 means "to
 * the end". Values are copied unchanged, so any 1/2/4-byte element type
 * (int8, int16, int32, float32) runs the same byte loop. TFLM never checks
 * begin/size against the input and reads out of bounds on a bad model; here
 * prepare rejects them, naming the axis.
 */
#include <string.h>

#include "hn_kernel_util.h"
#include "hn_op.h"

#define SLICE_RANK 5

typedef struct {
    int32_t start[SLICE_RANK];
    int32_t count[SLICE_RANK];     /* elements taken along each axis */
    int32_t in_strides[SLICE_RANK]; /* byte strides of the padded input */
    uint32_t elem_bytes;
} slice_data;

static int is_plain_copy_type(int32_t type)
{
    return type == HN_TYPE_INT8 || type == HN_TYPE_INT16 || type == HN_TYPE_INT32 ||
           type == HN_TYPE_FLOAT32;
}

/* Reads the constant int32/int64 vector `which` (begin or size) into out,
 * front-padded with pad_value to SLICE_RANK entries. int64 entries must fit
 * in int32 (they are compared with int32 dims afterwards). */
static hn_status read_index_vector(hn_op_ctx *ctx, int which, const char *name, int rank,
                                   int32_t pad_value, int32_t *out)
{
    const hn_tensor *t = ctx->inputs[which];
    if ((t->type != HN_TYPE_INT32 && t->type != HN_TYPE_INT64) || !t->is_const ||
        t->data == NULL) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "%s must be a constant int32 or int64 tensor (type %s, %s)", name,
                           hn_type_name(t->type), t->is_const ? "constant" : "not constant");
    }
    const uint32_t esize = t->type == HN_TYPE_INT64 ? 8u : 4u;
    if (t->ndim != 1 || hn_num_elements(t) != rank || (uint32_t)rank * esize > t->bytes) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "%s must be a 1-D tensor of %d entries (one per input axis), has "
                           "%ld entries in %u dims", name, rank, (long)hn_num_elements(t),
                           (unsigned)t->ndim);
    }
    const int pad = SLICE_RANK - rank;
    for (int i = 0; i < pad; ++i) {
        out[i] = pad_value;
    }
    for (int i = 0; i < rank; ++i) {
        int64_t v = esize == 8u ? hn_read_i64(t->data + 8 * i) : hn_read_i32(t->data + 4 * i);
        if (v < INT32_MIN || v > INT32_MAX) {
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "%s[%d] = %lld out of int32 range",
                               name, i, (long long)v);
        }
        out[pad + i] = (int32_t)v;
    }
    return HN_OK;
}

/* Start and element count of one axis; size -1 takes the rest of the axis. */
static hn_status axis_range(hn_op_ctx *ctx, int axis, int32_t dim, int32_t begin, int32_t size,
                            int32_t *start, int32_t *count)
{
    if (begin < 0 || begin > dim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "begin[%d] = %ld is outside [0, %ld] (input dim %ld)", axis,
                           (long)begin, (long)dim, (long)dim);
    }
    if (size == -1) {
        size = dim - begin;
    } else if (size < 0 || (int64_t)begin + size > dim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "size[%d] = %ld with begin %ld exceeds input dim %ld (use -1 for "
                           "'to the end')", axis, (long)size, (long)begin, (long)dim);
    }
    *start = begin;
    *count = size;
    return HN_OK;
}

static hn_status check_types(hn_op_ctx *ctx, const hn_tensor *in, const hn_tensor *out)
{
    if (!is_plain_copy_type(in->type) || in->type != out->type) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "input/output types %s/%s: need the same type, one of int8, int16, "
                           "int32, float32", hn_type_name(in->type), hn_type_name(out->type));
    }
    if (in->ndim < 1 || in->ndim > SLICE_RANK) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "input rank %u, supported 1..%d",
                           (unsigned)in->ndim, SLICE_RANK);
    }
    if (out->ndim != in->ndim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "output rank %u != input rank %u",
                           (unsigned)out->ndim, (unsigned)in->ndim);
    }
    return HN_OK;
}

static hn_status slice_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 3, 3, 1);
    if (s != HN_OK) {
        return s;
    }
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    s = check_types(ctx, in, out);
    int32_t begin[SLICE_RANK], size[SLICE_RANK];
    if (s == HN_OK) {
        s = read_index_vector(ctx, 1, "begin", in->ndim, 0, begin);
    }
    if (s == HN_OK) {
        s = read_index_vector(ctx, 2, "size", in->ndim, -1, size);
    }
    if (s != HN_OK) {
        return s;
    }
    slice_data *d = (slice_data *)ctx->op_data;
    const int pad = SLICE_RANK - (int)in->ndim;
    d->elem_bytes = hn_type_size(in->type);
    /* 64-bit: with a 0 dim elsewhere the reader's size check does not bound
     * the product of the others. Every offset eval forms is below stride. */
    int64_t stride = d->elem_bytes;
    for (int i = SLICE_RANK - 1; i >= 0; --i) {
        const int32_t dim = i < pad ? 1 : in->dims[i - pad];
        d->in_strides[i] = (int32_t)stride;
        stride *= dim;
        if (stride > INT32_MAX) {
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                               "input shape spans more than 2^31 bytes at dim %d", i - pad);
        }
        s = axis_range(ctx, i - pad, dim, begin[i], size[i], &d->start[i], &d->count[i]);
        if (s != HN_OK) {
            return s;
        }
        if (i >= pad && out->dims[i - pad] != d->count[i]) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "output dim %d is %ld, the slice takes %ld", i - pad,
                               (long)out->dims[i - pad], (long)d->count[i]);
        }
    }
    return HN_OK;
}

static hn_status slice_eval(hn_op_ctx *ctx)
{
    const slice_data *d = (const slice_data *)ctx->op_data;
    const uint8_t *x = ctx->inputs[0]->data;
    uint8_t *y = ctx->outputs[0]->data;
    const size_t row = (size_t)d->count[4] * d->elem_bytes;
    const uint8_t *base = x + (size_t)d->start[4] * d->elem_bytes;
    if (row == 0) {
        return HN_OK; /* empty slice: nothing to copy (y may be NULL) */
    }
    for (int32_t a = 0; a < d->count[0]; ++a) {
        const int32_t o0 = (d->start[0] + a) * d->in_strides[0];
        for (int32_t b = 0; b < d->count[1]; ++b) {
            const int32_t o1 = o0 + (d->start[1] + b) * d->in_strides[1];
            for (int32_t c = 0; c < d->count[2]; ++c) {
                const int32_t o2 = o1 + (d->start[2] + c) * d->in_strides[2];
                for (int32_t e = 0; e < d->count[3]; ++e) {
                    const int32_t o3 = o2 + (d->start[3] + e) * d->in_strides[3];
                    memcpy(y, base + o3, row);
                    y += row;
                }
            }
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_SLICE = {
    "SLICE", (uint32_t)sizeof(slice_data), slice_prepare, slice_eval,
};

HN_OP_DATA_FITS(slice_data);
