/*
 * QUANTIZE (float32 -> int8, int8 -> int8 requantize) and DEQUANTIZE
 * (int8 -> float32), following TFLM: the float path divides by the scale in
 * double precision and rounds half away from zero; requantization uses
 * QuantizeMultiplier(in_scale / out_scale).
 */
#include <string.h>

#include "hn_kernel_util.h"

typedef struct {
    int32_t in_zp, out_zp;
    int32_t multiplier, shift;
    double scale;
} quant_data;

static hn_status quantize_prepare(hn_op_ctx *ctx)
{
    quant_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 1, 1, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if ((s = hn_check_type(ctx, out, HN_TYPE_INT8, "output")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, out, "output")) != HN_OK) return s;
    if (out->n_quant != 1) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "per-channel output unsupported");
    }
    if (hn_num_elements(in) != hn_num_elements(out)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input/output element counts differ");
    }
    d->out_zp = out->zero_point;
    d->scale = (double)out->scale;
    if (in->type == HN_TYPE_FLOAT32) {
        return HN_OK;
    }
    if (in->type != HN_TYPE_INT8) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "input type %s unsupported",
                           hn_type_name(in->type));
    }
    if ((s = hn_check_quant(ctx, in, "input")) != HN_OK) return s;
    int sh = 0;
    hn_quantize_multiplier((double)in->scale / (double)out->scale, &d->multiplier, &sh);
    d->shift = sh;
    d->in_zp = in->zero_point;
    return HN_OK;
}

static hn_status quantize_eval(hn_op_ctx *ctx)
{
    const quant_data *d = ctx->op_data;
    const hn_tensor *in = ctx->inputs[0];
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(in);
    if (in->type == HN_TYPE_FLOAT32) {
        for (int32_t i = 0; i < n; ++i) {
            float v;
            memcpy(&v, in->data + 4 * (size_t)i, 4);
            int64_t q = (int64_t)hn_f2i_sat(hn_round((double)v / d->scale)) + d->out_zp;
            out[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
        }
        return HN_OK;
    }
    const int8_t *x = (const int8_t *)in->data;
    for (int32_t i = 0; i < n; ++i) {
        int32_t q = hn_mbqm(x[i] - d->in_zp, d->multiplier, d->shift) + d->out_zp;
        out[i] = (int8_t)hn_clamp_i32(q, -128, 127);
    }
    return HN_OK;
}

static hn_status dequantize_prepare(hn_op_ctx *ctx)
{
    quant_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 1, 1, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if ((s = hn_check_type(ctx, in, HN_TYPE_INT8, "input")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, out, HN_TYPE_FLOAT32, "output")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, in, "input")) != HN_OK) return s;
    if (hn_num_elements(in) != hn_num_elements(out)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input/output element counts differ");
    }
    d->in_zp = in->zero_point;
    d->scale = (double)in->scale;
    return HN_OK;
}

static hn_status dequantize_eval(hn_op_ctx *ctx)
{
    const quant_data *d = ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    uint8_t *out = ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(ctx->inputs[0]);
    for (int32_t i = 0; i < n; ++i) {
        float v = (float)(d->scale * (double)(x[i] - d->in_zp));
        memcpy(out + 4 * (size_t)i, &v, 4);
    }
    return HN_OK;
}

const hn_op_impl hn_op_QUANTIZE = {"QUANTIZE", sizeof(quant_data), quantize_prepare, quantize_eval};
const hn_op_impl hn_op_DEQUANTIZE = {"DEQUANTIZE", sizeof(quant_data), dequantize_prepare,
                                     dequantize_eval};

HN_OP_DATA_FITS(quant_data);
