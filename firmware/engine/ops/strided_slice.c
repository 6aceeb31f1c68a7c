/*
 * STRIDED_SLICE of an int8 tensor with constant int32 begin/end/strides and
 * begin/end/shrink-axis masks, as TFLM's reference kernel: the shape is padded
 * to 5 dimensions (leading axes fully taken), each axis' start/stop is clamped
 * and then overridden by the masks, a shrunk axis takes one element. Values
 * are copied unchanged. Ellipsis and new-axis masks and the `offset` option
 * are ignored by TFLM (which silently computes something else) and rejected
 * here.
 */
#include <string.h>

#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define SS_RANK 5

typedef struct {
    int32_t start[SS_RANK];
    int32_t stride[SS_RANK];
    int32_t count[SS_RANK];      /* elements taken along each axis */
    int32_t in_strides[SS_RANK]; /* element strides of the padded input */
} strided_slice_data;

typedef struct {
    int32_t begin[SS_RANK], end[SS_RANK], stride[SS_RANK];
    uint32_t begin_mask, end_mask, shrink_mask;
} slice_spec;

static int32_t clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* TFLM StridedSliceStartForAxis. */
static int32_t start_for_axis(const slice_spec *p, int32_t axis_size, int axis)
{
    int32_t start = p->begin[axis];
    const int32_t stride = p->stride[axis];
    if (start < 0) {
        start += axis_size;
    }
    start = stride > 0 ? clamp_i32(start, 0, axis_size) : clamp_i32(start, -1, axis_size - 1);
    if (p->begin_mask & (1u << axis)) {
        start = stride > 0 ? 0 : axis_size - 1;
    }
    return start;
}

/* TFLM StridedSliceEndForAxis (offset == false). */
static int32_t end_for_axis(const slice_spec *p, int32_t axis_size, int axis, int32_t start)
{
    if (p->shrink_mask & (1u << axis)) {
        return start >= axis_size ? start : start + 1;
    }
    int32_t end = p->end[axis];
    const int32_t stride = p->stride[axis];
    if (end < 0) {
        end += axis_size;
    }
    end = stride > 0 ? clamp_i32(end, 0, axis_size) : clamp_i32(end, -1, axis_size - 1);
    if (p->end_mask & (1u << axis)) {
        end = stride > 0 ? axis_size : -1;
    }
    return end;
}

/* Number of indices start, start + stride, ... before reaching end (TFLM's
 * loop condition), in 64-bit so that hostile strides cannot overflow. */
static int32_t steps(int32_t start, int32_t end, int32_t stride)
{
    const int64_t span = stride > 0 ? (int64_t)end - start : (int64_t)start - end;
    const int64_t step = stride > 0 ? (int64_t)stride : -(int64_t)stride;
    return span > 0 ? (int32_t)((span + step - 1) / step) : 0;
}

static hn_status read_index_tensor(hn_op_ctx *ctx, int which, const char *name, int rank,
                                   int32_t *out)
{
    const hn_tensor *t = ctx->inputs[which];
    if (t->type != HN_TYPE_INT32 || !t->is_const || t->data == NULL) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "the %s tensor must be a constant int32 tensor", name);
    }
    if (hn_num_elements(t) != rank || (uint32_t)rank * 4u > t->bytes) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "%s has %ld entries for a rank-%d input", name,
                           (long)hn_num_elements(t), rank);
    }
    for (int i = 0; i < rank; ++i) {
        out[i] = hn_read_i32(t->data + 4 * i);
    }
    return HN_OK;
}

/* Reads begin/end/strides and the masks, padded at the front to 5 axes. */
static hn_status read_spec(hn_op_ctx *ctx, int rank, slice_spec *p)
{
    const int pad = SS_RANK - rank;
    hn_status s = read_index_tensor(ctx, 1, "begin", rank, p->begin + pad);
    if (s == HN_OK) {
        s = read_index_tensor(ctx, 2, "end", rank, p->end + pad);
    }
    if (s == HN_OK) {
        s = read_index_tensor(ctx, 3, "strides", rank, p->stride + pad);
    }
    if (s != HN_OK) {
        return s;
    }
    for (int i = 0; i < pad; ++i) {
        p->begin[i] = 0;
        p->end[i] = 1;
        p->stride[i] = 1;
    }
    const int32_t ellipsis = hn_fb_i32(&ctx->options, 2, 0);
    const int32_t new_axis = hn_fb_i32(&ctx->options, 3, 0);
    if (ellipsis != 0 || new_axis != 0 || hn_fb_bool(&ctx->options, 5, 0)) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "ellipsis_mask=%ld new_axis_mask=%ld offset=%d are not "
                           "supported by TFLM", (long)ellipsis, (long)new_axis,
                           hn_fb_bool(&ctx->options, 5, 0));
    }
    const uint32_t padded_axes = (1u << pad) - 1u; /* fully taken leading axes */
    p->begin_mask = ((uint32_t)hn_fb_i32(&ctx->options, 0, 0) << pad) | padded_axes;
    p->end_mask = ((uint32_t)hn_fb_i32(&ctx->options, 1, 0) << pad) | padded_axes;
    p->shrink_mask = (uint32_t)hn_fb_i32(&ctx->options, 4, 0) << pad;
    for (int i = 0; i < SS_RANK; ++i) {
        if (p->stride[i] == 0) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "stride of axis %d is 0", i - pad);
        }
    }
    return HN_OK;
}

static hn_status check_output(hn_op_ctx *ctx, const slice_spec *p, const strided_slice_data *d,
                              int rank, const hn_tensor *out)
{
    int kept = 0;
    int ok = 1;
    for (int i = SS_RANK - rank; i < SS_RANK && ok; ++i) {
        if (!(p->shrink_mask & (1u << i))) {
            ok = kept < (int)out->ndim && out->dims[kept] == d->count[i];
            ++kept;
        }
    }
    if (!ok || kept != (int)out->ndim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "output shape does not match the slice");
    }
    return HN_OK;
}

static hn_status strided_slice_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 4, 4, 1);
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    if (s == HN_OK && (in->type != HN_TYPE_INT8 || out->type != HN_TYPE_INT8)) {
        s = hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                        "input/output types %d/%d, only int8 (9) is supported",
                        (int)in->type, (int)out->type);
    }
    if (s == HN_OK && (in->ndim < 1 || in->ndim > SS_RANK)) {
        s = hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                        "input rank %d, supported 1..%d", (int)in->ndim, SS_RANK);
    }
    slice_spec p;
    if (s == HN_OK) {
        s = read_spec(ctx, in->ndim, &p);
    }
    if (s != HN_OK) {
        return s;
    }
    strided_slice_data *d = (strided_slice_data *)ctx->op_data;
    const int pad = SS_RANK - (int)in->ndim;
    int32_t stride = 1;
    for (int i = SS_RANK - 1; i >= 0; --i) {
        const int32_t axis_size = i < pad ? 1 : in->dims[i - pad];
        d->in_strides[i] = stride;
        stride *= axis_size;
        d->start[i] = start_for_axis(&p, axis_size, i);
        d->stride[i] = p.stride[i];
        d->count[i] = steps(d->start[i], end_for_axis(&p, axis_size, i, d->start[i]), p.stride[i]);
    }
    return check_output(ctx, &p, d, in->ndim, out);
}

static hn_status strided_slice_eval(hn_op_ctx *ctx)
{
    const strided_slice_data *d = (const strided_slice_data *)ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    const int32_t s4 = d->stride[4];
    for (int32_t a = 0; a < d->count[0]; ++a) {
        const int32_t o0 = (d->start[0] + a * d->stride[0]) * d->in_strides[0];
        for (int32_t b = 0; b < d->count[1]; ++b) {
            const int32_t o1 = o0 + (d->start[1] + b * d->stride[1]) * d->in_strides[1];
            for (int32_t c = 0; c < d->count[2]; ++c) {
                const int32_t o2 = o1 + (d->start[2] + c * d->stride[2]) * d->in_strides[2];
                for (int32_t e = 0; e < d->count[3]; ++e) {
                    const int32_t o3 = o2 + (d->start[3] + e * d->stride[3]) * d->in_strides[3];
                    const int8_t *row = x + o3 + d->start[4];
                    if (s4 == 1) {
                        memcpy(y, row, (size_t)d->count[4]);
                    } else {
                        for (int32_t f = 0; f < d->count[4]; ++f) {
                            y[f] = row[f * s4];
                        }
                    }
                    y += d->count[4];
                }
            }
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_STRIDED_SLICE = {
    "STRIDED_SLICE", (uint32_t)sizeof(strided_slice_data), strided_slice_prepare,
    strided_slice_eval,
};

HN_OP_DATA_FITS(strided_slice_data);
