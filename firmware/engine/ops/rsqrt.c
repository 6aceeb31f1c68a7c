/*
 * RSQRT, int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * TFLM computes 1/sqrt(x - zero_point) per element with the Newton-Raphson
 * GetInvSqrtQuantizedMultiplierExp, turns it into an integer with a 2^20
 * headroom and requantizes with 1/(sqrt(input_scale) * output_scale). A zero
 * input maps to 127. Inputs below the zero point (negative reals) make TFLM's
 * Invoke fail, and so does eval() here, before writing anything. prepare()
 * tabulates the results for all 256 inputs in the op data (hn_nl_unary_tabulate).
 */
#include <math.h>

#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define RSQRT_HEADROOM_SHIFT 20

typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier; /* 1 / (sqrt(input_scale) * output_scale) */
    int shift;
} rsqrt_params;

typedef struct {
    int8_t table[HN_NL_TABLE_SIZE];
    int32_t input_zero_point;
} rsqrt_data;

static int8_t rsqrt_of(const void *params, int8_t x)
{
    const rsqrt_params *d = (const rsqrt_params *)params;
    const int32_t value = x - d->input_zero_point;
    if (value <= 0) { /* < 0 never reaches here (eval rejects it first) */
        return INT8_MAX; /* TFLM: any value close to 0 is the maximum output */
    }
    int32_t inv_sqrt_multiplier = 0;
    int inv_sqrt_shift = 0;
    hn_nl_inv_sqrt_multiplier_exp(value, -1, &inv_sqrt_multiplier, &inv_sqrt_shift);
    const int32_t data =
        hn_mbqm(1, inv_sqrt_multiplier, inv_sqrt_shift + RSQRT_HEADROOM_SHIFT);
    int32_t out =
        hn_mbqm(data, d->multiplier, d->shift - RSQRT_HEADROOM_SHIFT) + d->output_zero_point;
    out = out > INT8_MAX ? INT8_MAX : (out < INT8_MIN ? INT8_MIN : out);
    return (int8_t)out;
}

static hn_status rsqrt_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_nl_check_unary_int8(ctx);
    if (s != HN_OK) {
        return s;
    }
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    rsqrt_params p;
    rsqrt_params *d = &p;
    hn_quantize_multiplier(1.0 / (sqrt((double)in->scale) * (double)out->scale), &d->multiplier,
                           &d->shift);
    d->input_zero_point = in->zero_point;
    d->output_zero_point = out->zero_point;
    rsqrt_data *od = (rsqrt_data *)ctx->op_data;
    od->input_zero_point = d->input_zero_point;
    hn_nl_unary_tabulate(od->table, rsqrt_of, d);
    return HN_OK;
}

static hn_status rsqrt_eval(hn_op_ctx *ctx)
{
    const rsqrt_data *d = (const rsqrt_data *)ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    const int32_t n = hn_num_elements(ctx->inputs[0]);
    for (int32_t i = 0; i < n; ++i) {
        if (x[i] < d->input_zero_point) {
            return hn_op_error(ctx, HN_ERR_BAD_ARGUMENT,
                               "input element %ld is %d, below the zero point %ld "
                               "(a negative value; TFLM fails here too)",
                               (long)i, (int)x[i], (long)d->input_zero_point);
        }
    }
    hn_nl_unary_lookup(ctx, d->table);
    return HN_OK;
}

const hn_op_impl hn_op_RSQRT = {
    "RSQRT", (uint32_t)sizeof(rsqrt_data), rsqrt_prepare, rsqrt_eval,
};

HN_OP_DATA_FITS(rsqrt_data);
