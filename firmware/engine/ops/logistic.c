/*
 * LOGISTIC, int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * TFLM (this version) does not use a lookup table for int8 LOGISTIC: it
 * rescales (x - zero_point) into Q4.27 with a frexp-derived multiplier,
 * saturates outside the input radius, evaluates gemmlowp's fixed-point
 * logistic and rounds to Q0.8 with zero point -128 (output scale 1/256 is
 * assumed, as in TFLM). prepare() tabulates the results for
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
} logistic_params;

typedef struct {
    int8_t table[HN_NL_TABLE_SIZE];
} logistic_data;

static int8_t logistic_of(const void *params, int8_t x)
{
    const logistic_params *d = (const logistic_params *)params;
    const int32_t input = x - d->input_zero_point;
    if (input <= -d->radius) {
        return INT8_MIN;
    }
    if (input >= d->radius) {
        return INT8_MAX;
    }
    const int32_t input_in_q4 = hn_mbqm(input, d->multiplier, d->shift);
    int32_t out = hn_rdbpot(hn_nl_logistic(input_in_q4, INPUT_INTEGER_BITS), 31 - 8) - 128;
    out = out > INT8_MAX ? INT8_MAX : (out < INT8_MIN ? INT8_MIN : out);
    return (int8_t)out;
}

static hn_status logistic_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_nl_check_unary_int8(ctx);
    if (s != HN_OK) {
        return s;
    }
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    if (out->zero_point != -128) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "int8 output zero point must be -128 (got %ld)",
                           (long)out->zero_point);
    }
    logistic_params p;
    logistic_params *d = &p;
    hn_nl_frexp_multiplier((double)in->scale * (double)(1 << (31 - INPUT_INTEGER_BITS)),
                           &d->multiplier, &d->shift);
    d->radius = hn_nl_input_radius(INPUT_INTEGER_BITS, d->shift, 31);
    d->input_zero_point = in->zero_point;
    hn_nl_unary_tabulate(((logistic_data *)ctx->op_data)->table, logistic_of, d);
    return HN_OK;
}

static hn_status logistic_eval(hn_op_ctx *ctx)
{
    hn_nl_unary_lookup(ctx, ((const logistic_data *)ctx->op_data)->table);
    return HN_OK;
}

const hn_op_impl hn_op_LOGISTIC = {
    "LOGISTIC", (uint32_t)sizeof(logistic_data), logistic_prepare, logistic_eval,
};

HN_OP_DATA_FITS(logistic_data);
