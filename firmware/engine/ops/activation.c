/*
 * Standalone RELU and RELU6 (emitted when an activation cannot be fused).
 * TFLM's int8 RELU rescales input -> output scale and clamps at quantized 0;
 * its RELU6 clamps in the input's quantization without rescaling.
 */
#include <math.h>

#include "hn_kernel_util.h"

typedef struct {
    int32_t input_offset, output_offset, multiplier, shift, act_min, act_max;
} relu_data;

static hn_status check_int8_unary(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 1, 1, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if ((s = hn_check_type(ctx, in, HN_TYPE_INT8, "input")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, out, HN_TYPE_INT8, "output")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, in, "input")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, out, "output")) != HN_OK) return s;
    if (hn_num_elements(in) != hn_num_elements(out)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input/output element counts differ");
    }
    return HN_OK;
}

static hn_status relu_prepare(hn_op_ctx *ctx)
{
    relu_data *d = ctx->op_data;
    hn_status s = check_int8_unary(ctx);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    int sh = 0;
    hn_quantize_multiplier((double)in->scale / (double)out->scale, &d->multiplier, &sh);
    d->shift = sh;
    d->input_offset = in->zero_point;
    d->output_offset = out->zero_point;
    d->act_min = hn_max_i32(-128, out->zero_point);
    d->act_max = 127;
    return HN_OK;
}

static hn_status relu_eval(hn_op_ctx *ctx)
{
    const relu_data *d = ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(ctx->inputs[0]);
    for (int32_t i = 0; i < n; ++i) {
        int32_t v = d->output_offset + hn_mbqm(x[i] - d->input_offset, d->multiplier, d->shift);
        y[i] = (int8_t)hn_clamp_i32(v, d->act_min, d->act_max);
    }
    return HN_OK;
}

static hn_status relu6_prepare(hn_op_ctx *ctx)
{
    relu_data *d = ctx->op_data;
    hn_status s = check_int8_unary(ctx);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0];
    float six = roundf(6.0f / in->scale) + (float)in->zero_point;
    d->act_max = six > 127.0f ? 127 : (six < -128.0f ? -128 : (int32_t)six);
    d->act_min = in->zero_point;
    return HN_OK;
}

static hn_status relu6_eval(hn_op_ctx *ctx)
{
    const relu_data *d = ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(ctx->inputs[0]);
    for (int32_t i = 0; i < n; ++i) {
        int32_t v = x[i];
        v = v > d->act_min ? v : d->act_min;
        y[i] = (int8_t)(v < d->act_max ? v : d->act_max);
    }
    return HN_OK;
}

const hn_op_impl hn_op_RELU = {"RELU", sizeof(relu_data), relu_prepare, relu_eval};
const hn_op_impl hn_op_RELU6 = {"RELU6", sizeof(relu_data), relu6_prepare, relu6_eval};

HN_OP_DATA_FITS(relu_data);
