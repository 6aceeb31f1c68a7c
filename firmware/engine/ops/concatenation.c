/*
 * CONCATENATION: TFLM copies int8 data unchanged (no requantization), so the
 * kernel is a strided byte copy along the axis.
 */
#include <string.h>

#include "hn_kernel_util.h"

typedef struct {
    int32_t outer;           /* product of dims before axis */
    uint32_t out_row_bytes;  /* axis dim * inner * esize of the output */
    uint32_t in_row_bytes[HN_MAX_OP_IO];
} concat_data;

static hn_status check_input(hn_op_ctx *ctx, const hn_tensor *in, const hn_tensor *out, int axis,
                             unsigned i)
{
    if (in->type != out->type || in->ndim != out->ndim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input %u type/rank differs from output", i);
    }
    for (int d = 0; d < (int)out->ndim; ++d) {
        if (d != axis && in->dims[d] != out->dims[d]) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input %u dim %d is %ld, output %ld", i,
                               d, (long)in->dims[d], (long)out->dims[d]);
        }
    }
    return HN_OK;
}

static hn_status concat_prepare(hn_op_ctx *ctx)
{
    concat_data *d = ctx->op_data;
    if (ctx->n_inputs < 1 || ctx->n_outputs != 1) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "needs >= 1 input and 1 output");
    }
    const hn_tensor *out = ctx->outputs[0];
    int32_t axis = hn_fb_i32(&ctx->options, 0, 0);
    if (axis < 0) axis += out->ndim;
    if (axis < 0 || axis >= (int32_t)out->ndim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "axis %ld out of range", (long)axis);
    }
    if (hn_fb_u8(&ctx->options, 1, 0) != HN_ACT_NONE) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "fused activation unsupported");
    }
    uint64_t inner = hn_type_size(out->type);
    d->outer = 1;
    for (int32_t k = 0; k < axis; ++k) d->outer *= out->dims[k];
    for (int32_t k = axis + 1; k < (int32_t)out->ndim; ++k) inner *= (uint64_t)out->dims[k];
    uint64_t axis_sum = 0;
    for (unsigned i = 0; i < ctx->n_inputs; ++i) {
        const hn_tensor *in = ctx->inputs[i];
        if (in == NULL) return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input %u missing", i);
        hn_status s = check_input(ctx, in, out, axis, i);
        if (s != HN_OK) return s;
        d->in_row_bytes[i] = (uint32_t)(inner * (uint64_t)in->dims[axis]);
        axis_sum += (uint64_t)in->dims[axis];
    }
    if (axis_sum != (uint64_t)out->dims[axis]) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "inputs sum to %lu along axis, output has %ld",
                           (unsigned long)axis_sum, (long)out->dims[axis]);
    }
    d->out_row_bytes = (uint32_t)(inner * (uint64_t)out->dims[axis]);
    return HN_OK;
}

static hn_status concat_eval(hn_op_ctx *ctx)
{
    const concat_data *d = ctx->op_data;
    uint8_t *out = ctx->outputs[0]->data;
    for (int32_t o = 0; o < d->outer; ++o) {
        uint8_t *dst = out + (size_t)o * d->out_row_bytes;
        for (unsigned i = 0; i < ctx->n_inputs; ++i) {
            memcpy(dst, ctx->inputs[i]->data + (size_t)o * d->in_row_bytes[i], d->in_row_bytes[i]);
            dst += d->in_row_bytes[i];
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_CONCATENATION = {"CONCATENATION", sizeof(concat_data), concat_prepare,
                                        concat_eval};

HN_OP_DATA_FITS(concat_data);
