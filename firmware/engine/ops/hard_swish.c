/*
 * HARD_SWISH, int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * TFLM computes x * relu6(x + 3) / 6 on int16 fixed point: the input is moved
 * to a "hires" scale (x << 7), multiplied by a 16-bit output multiplier, and a
 * "relu-ish" factor in [0, 1] is derived with careful saturation; the final
 * product uses a truncating doubling high multiply. The multipliers are
 * computed in single-precision float first (as TFLM does) and downscaled to
 * int16. prepare() tabulates the results for all 256 inputs in the op data
 * (hn_nl_unary_tabulate), so eval() is one lookup per element whatever the data.
 */
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int16_t output_multiplier;
    int16_t reluish_multiplier;
    int output_exponent;
    int reluish_exponent;
} hard_swish_params;

typedef struct {
    int8_t table[HN_NL_TABLE_SIZE];
} hard_swish_data;

static int16_t reluish_of(int16_t hires, const hard_swish_params *p)
{
    int16_t r = hires;
    if (p->reluish_exponent > 0) {
        r = hn_nl_sat_left_shift16(r, p->reluish_exponent - 1);
    }
    r = hn_nl_srdhm16(r, p->reluish_multiplier);
    if (p->reluish_exponent > 0) {
        r = hn_nl_sat_left_shift16(r, 1);
    }
    if (p->reluish_exponent < 0) {
        r = hn_nl_rdbpot16(r, -p->reluish_exponent);
    }
    return (int16_t)((r + (1 << 15)) >> 1); /* [-1, 1] -> [0, 1] */
}

static int8_t hard_swish_of(const void *params, int8_t x)
{
    const hard_swish_params *p = (const hard_swish_params *)params;
    const int16_t input_value = (int16_t)(x - p->input_zero_point);
    const int16_t hires = (int16_t)(input_value * (1 << 7));
    const int16_t preshift_output = hn_nl_srdhm16(hires, p->output_multiplier);
    const int16_t preshift_result = hn_nl_sdhm16(reluish_of(hires, p), preshift_output);
    int16_t out = hn_nl_rdbpot16(preshift_result, -p->output_exponent);
    out = (int16_t)(out + p->output_zero_point);
    out = out > INT8_MAX ? INT8_MAX : (out < INT8_MIN ? INT8_MIN : out);
    return (int8_t)out;
}

static hn_status compute_params(hn_op_ctx *ctx, const hn_tensor *in, const hn_tensor *out,
                                hard_swish_params *p)
{
    /* Single-precision arithmetic on purpose: TFLM's Prepare() does it in float. */
    const float hires_input_scale = (1.0f / 128.0f) * in->scale;
    const float reluish_scale = 3.0f / 32768.0f;
    int32_t m32 = 0;
    hn_quantize_multiplier((double)(hires_input_scale / out->scale), &m32,
                              &p->output_exponent);
    p->output_multiplier = hn_nl_downscale_multiplier16(m32);
    if (p->output_exponent > 0) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "input scale %g / output scale %g is too large "
                           "(TFLM needs input_scale/128 <= output_scale)",
                           (double)in->scale, (double)out->scale);
    }
    hn_quantize_multiplier((double)(hires_input_scale / reluish_scale), &m32,
                              &p->reluish_exponent);
    p->reluish_multiplier = hn_nl_downscale_multiplier16(m32);
    p->input_zero_point = in->zero_point;
    p->output_zero_point = out->zero_point;
    return HN_OK;
}

static hn_status hard_swish_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_nl_check_unary_int8(ctx);
    if (s != HN_OK) {
        return s;
    }
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    hard_swish_params p;
    s = compute_params(ctx, in, out, &p);
    if (s == HN_OK) {
        hn_nl_unary_tabulate(((hard_swish_data *)ctx->op_data)->table, hard_swish_of, &p);
    }
    return s;
}

static hn_status hard_swish_eval(hn_op_ctx *ctx)
{
    hn_nl_unary_lookup(ctx, ((const hard_swish_data *)ctx->op_data)->table);
    return HN_OK;
}

const hn_op_impl hn_op_HARD_SWISH = {
    "HARD_SWISH", (uint32_t)sizeof(hard_swish_data), hard_swish_prepare, hard_swish_eval,
};

HN_OP_DATA_FITS(hard_swish_data);
