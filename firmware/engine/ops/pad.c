/*
 * PAD and PADV2 for any element type up to HN_MAX_DIMS dims. The paddings
 * must be constant (TFLM reads them in prepare too); the pad value is the
 * output zero point for quantized PAD, or PADV2's constant.
 */
#include <string.h>

#include "hn_kernel_util.h"

typedef struct {
    int32_t ndim;
    int32_t esize;
    int32_t before[HN_MAX_DIMS];
    int32_t in_dims[HN_MAX_DIMS];
    int32_t out_dims[HN_MAX_DIMS];
    uint8_t pad_value[8];
} pad_data;

static hn_status read_paddings(hn_op_ctx *ctx, pad_data *d, const hn_tensor *in,
                               const hn_tensor *out)
{
    const hn_tensor *p = ctx->inputs[1];
    if (!p->is_const || (p->type != HN_TYPE_INT32 && p->type != HN_TYPE_INT64) ||
        hn_num_elements(p) != 2 * (int32_t)in->ndim) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "paddings must be a constant int32/int64 [%u,2] tensor", in->ndim);
    }
    for (unsigned k = 0; k < in->ndim; ++k) {
        int64_t lo = p->type == HN_TYPE_INT32 ? hn_read_i32(p->data + 8 * k)
                                              : hn_read_i64(p->data + 16 * k);
        int64_t hi = p->type == HN_TYPE_INT32 ? hn_read_i32(p->data + 8 * k + 4)
                                              : hn_read_i64(p->data + 16 * k + 8);
        if (lo < 0 || hi < 0 || (int64_t)in->dims[k] + lo + hi != out->dims[k]) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "dim %u: %ld + pad %ld/%ld != output %ld", k, (long)in->dims[k],
                               (long)lo, (long)hi, (long)out->dims[k]);
        }
        d->before[k] = (int32_t)lo;
        d->in_dims[k] = in->dims[k];
        d->out_dims[k] = out->dims[k];
    }
    return HN_OK;
}

static hn_status pad_prepare(hn_op_ctx *ctx)
{
    pad_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 2, 3, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if (in->type != out->type || in->ndim != out->ndim || hn_type_size(in->type) == 0 ||
        hn_type_size(in->type) > 8) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input/output type or rank mismatch");
    }
    d->ndim = in->ndim;
    d->esize = (int32_t)hn_type_size(in->type);
    if ((s = read_paddings(ctx, d, in, out)) != HN_OK) return s;
    memset(d->pad_value, 0, sizeof d->pad_value);
    const hn_tensor *cv = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    if (cv != NULL) {
        if (!cv->is_const || cv->type != in->type || hn_num_elements(cv) != 1) {
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                               "constant_values must be a constant scalar of the input type");
        }
        memcpy(d->pad_value, cv->data, (size_t)d->esize);
    } else if (out->type == HN_TYPE_INT8) {
        d->pad_value[0] = (uint8_t)(int8_t)out->zero_point;
    } else if (out->type == HN_TYPE_INT16) {
        int16_t z = (int16_t)out->zero_point;
        memcpy(d->pad_value, &z, 2);
    }
    return HN_OK;
}

static hn_status pad_eval(hn_op_ctx *ctx)
{
    const pad_data *d = ctx->op_data;
    const uint8_t *in = ctx->inputs[0]->data;
    uint8_t *out = ctx->outputs[0]->data;
    const int32_t total = hn_num_elements(ctx->outputs[0]);
    const size_t es = (size_t)d->esize;
    int32_t idx[HN_MAX_DIMS] = {0};
    for (int32_t i = 0; i < total; ++i) {
        int inside = 1;
        int64_t src = 0;
        for (int k = 0; k < d->ndim; ++k) {
            int32_t c = idx[k] - d->before[k];
            if (c < 0 || c >= d->in_dims[k]) {
                inside = 0;
                break;
            }
            src = src * d->in_dims[k] + c;
        }
        memcpy(out + (size_t)i * es, inside ? in + (size_t)src * es : d->pad_value, es);
        for (int k = d->ndim - 1; k >= 0; --k) {
            if (++idx[k] < d->out_dims[k]) break;
            idx[k] = 0;
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_PAD = {"PAD", sizeof(pad_data), pad_prepare, pad_eval};
const hn_op_impl hn_op_PADV2 = {"PADV2", sizeof(pad_data), pad_prepare, pad_eval};

HN_OP_DATA_FITS(pad_data);
