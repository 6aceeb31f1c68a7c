/*
 * TANH, int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * Same scheme as LOGISTIC (no LUT in TFLM for int8): (x - zero_point) is
 * rescaled into Q4.27 with a frexp-derived multiplier, saturated outside the
 * input radius, passed through gemmlowp's fixed-point tanh and rounded to
 * Q0.7. TFLM assumes output scale 1/128 and zero point 0 without checking
 * them; so does this kernel. prepare() tabulates the results for
 * all 256 inputs in the op data (hn_nl_unary_tabulate): one lookup per element.
 */
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define INPUT_INTEGER_BITS 4

typedef struct {
    int32_t input_zero_point;
    int32_t radius;     /* |x - zero_point| at or beyond which the output saturates */
    int32_t multiplier; /* (x - zero_point) -> Q4.27 */
    int shift;
} tanh_params;

typedef struct {
    int8_t table[HN_NL_TABLE_SIZE];
} tanh_data;

static int8_t tanh_of(const void *params, int8_t x)
{
    const tanh_params *d = (const tanh_params *)params;
    const int32_t input = x - d->input_zero_point;
    if (input <= -d->radius) {
        return INT8_MIN;
    }
    if (input >= d->radius) {
        return INT8_MAX;
    }
    const int32_t input_in_q4 = hn_mbqm(input, d->multiplier, d->shift);
    int32_t out = hn_rdbpot(hn_nl_tanh(input_in_q4, INPUT_INTEGER_BITS), 31 - 7);
    out = out > INT8_MAX ? INT8_MAX : (out < INT8_MIN ? INT8_MIN : out);
    return (int8_t)out;
}

static hn_status tanh_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_nl_check_unary_int8(ctx);
    if (s != HN_OK) {
        return s;
    }
    const hn_tensor *in = ctx->inputs[0];
    tanh_params p;
    tanh_params *d = &p;
    hn_nl_frexp_multiplier((double)in->scale * (double)(1 << (31 - INPUT_INTEGER_BITS)),
                           &d->multiplier, &d->shift);
    d->radius = hn_nl_input_radius(INPUT_INTEGER_BITS, d->shift, 31);
    d->input_zero_point = in->zero_point;
    hn_nl_unary_tabulate(((tanh_data *)ctx->op_data)->table, tanh_of, d);
    return HN_OK;
}

static hn_status tanh_eval(hn_op_ctx *ctx)
{
    hn_nl_unary_lookup(ctx, ((const tanh_data *)ctx->op_data)->table);
    return HN_OK;
}

const hn_op_impl hn_op_TANH = {
    "TANH", (uint32_t)sizeof(tanh_data), tanh_prepare, tanh_eval,
};

HN_OP_DATA_FITS(tanh_data);
