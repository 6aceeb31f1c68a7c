/*
 * SOFTMAX, int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * TFLM's int8 softmax is the gemmlowp fixed-point path (not a LUT): the input
 * difference to the row maximum is scaled by beta*scale into Q5.26, exp() is
 * evaluated in fixed point, summed in Q12.19, and each exp is multiplied by the
 * fixed-point reciprocal of the sum.
 *
 * exp() costs a few hundred instructions and TFLM evaluates it twice per
 * element (SOFTMAX was 17% of a MobileViT's instructions that way). The
 * difference to the row maximum of int8 data takes at most 256 values, so for
 * tensors of TABLE_MIN_ELEMENTS or more, eval() first tabulates exp() for
 * those 256 differences in scratch (1 KB of transient arena, recomputed each
 * invoke: 256 evaluations instead of >= 2048) and then only looks values up;
 * the results are the same bits. Smaller tensors evaluate exp() directly, so
 * that small models do not need more arena than TFLM.
 */
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUM_INTEGER_BITS 12
#define TABLE_SIZE 256
#define TABLE_MIN_ELEMENTS 1024

typedef struct {
    int32_t input_multiplier; /* beta * input_scale into Q5.26 */
    int input_left_shift;
    int32_t diff_min;         /* smaller differences to the row max count as 0 */
    int32_t depth;            /* innermost dimension: one softmax per row */
    int32_t rows;
    uint8_t use_table;        /* exp() tabulated in scratch at each eval */
} softmax_data;

static hn_status check_tensors(hn_op_ctx *ctx, const hn_tensor *in, const hn_tensor *out)
{
    hn_status s = hn_nl_check_int8(ctx, "input", in);
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "output", out);
    }
    if (s != HN_OK) {
        return s;
    }
    if (out->zero_point != -128 || out->scale != 1.0f / 256.0f) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "int8 output must have scale 1/256 and zero point -128 "
                           "(got %g, %ld)", (double)out->scale, (long)out->zero_point);
    }
    if (in->ndim < 1 || out->ndim < 1 || hn_num_elements(in) != hn_num_elements(out) ||
        out->dims[out->ndim - 1] != in->dims[in->ndim - 1]) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "output shape does not match the input shape");
    }
    return HN_OK;
}

static hn_status softmax_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 1, 1, 1);
    if (s != HN_OK) {
        return s;
    }
    const hn_tensor *in = ctx->inputs[0];
    s = check_tensors(ctx, in, ctx->outputs[0]);
    if (s != HN_OK) {
        return s;
    }
    const float beta = hn_fb_f32(&ctx->options, 0, 0.0f);
    int32_t multiplier = 0;
    int left_shift = 0;
    if (!hn_nl_softmax_scaling((double)beta, (double)in->scale, SCALED_DIFF_INTEGER_BITS,
                               &multiplier, &left_shift)) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "beta %g with input scale %g gives a scaling multiplier "
                           "<= 1, which TFLM rejects", (double)beta, (double)in->scale);
    }
    softmax_data *d = (softmax_data *)ctx->op_data;
    d->input_multiplier = multiplier;
    d->input_left_shift = left_shift;
    d->diff_min = -hn_nl_input_radius(SCALED_DIFF_INTEGER_BITS, left_shift, 31);
    d->depth = in->dims[in->ndim - 1];
    d->rows = d->depth > 0 ? hn_num_elements(in) / d->depth : 0;
    d->use_table = hn_num_elements(in) >= TABLE_MIN_ELEMENTS;
    ctx->scratch_bytes = d->use_table ? TABLE_SIZE * (uint32_t)sizeof(int32_t) : 0u;
    return HN_OK;
}

static int8_t row_max(const int8_t *x, int32_t n)
{
    int8_t m = INT8_MIN;
    for (int32_t c = 0; c < n; ++c) {
        m = x[c] > m ? x[c] : m;
    }
    return m;
}

/* exp(beta * scale * diff) in Q0.31 for diff = x - row max <= 0. */
static int32_t exp_of_diff(const softmax_data *d, int32_t diff)
{
    return hn_nl_exp_on_negative_values(
        hn_nl_mbqm_gt_one(diff, d->input_multiplier, d->input_left_shift),
        SCALED_DIFF_INTEGER_BITS);
}

/* table[k] = exp_of_diff(-k) for every k a row can produce (0..255). */
static void fill_table(const softmax_data *d, int32_t *table)
{
    for (int32_t k = 0; k < TABLE_SIZE; ++k) {
        table[k] = -k >= d->diff_min ? exp_of_diff(d, -k) : 0;
    }
}

/* table == NULL: evaluate exp() directly. */
static int32_t row_exp(const softmax_data *d, const int32_t *table, int32_t diff)
{
    return table != NULL ? table[-diff] : exp_of_diff(d, diff);
}

static void softmax_row(const softmax_data *d, const int32_t *table, const int8_t *x, int8_t *y)
{
    const int32_t max_in_row = row_max(x, d->depth);
    uint32_t sum_of_exps = 0; /* Q12.19, wraps like TFLM's raw int32 adds */
    for (int32_t c = 0; c < d->depth; ++c) {
        const int32_t diff = x[c] - max_in_row;
        if (diff >= d->diff_min) {
            sum_of_exps += (uint32_t)hn_rdbpot(row_exp(d, table, diff), ACCUM_INTEGER_BITS);
        }
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale =
        hn_nl_get_reciprocal((int32_t)sum_of_exps, ACCUM_INTEGER_BITS, &num_bits_over_unit);
    int exponent = num_bits_over_unit + 31 - 8;
    exponent = exponent > 31 ? 31 : exponent; /* TFLM aborts there (>512 equal maxima) */
    for (int32_t c = 0; c < d->depth; ++c) {
        const int32_t diff = x[c] - max_in_row;
        int32_t out = INT8_MIN;
        if (diff >= d->diff_min) {
            out = hn_rdbpot(hn_srdhm(shifted_scale, row_exp(d, table, diff)), exponent) - 128;
            out = out > INT8_MAX ? INT8_MAX : (out < INT8_MIN ? INT8_MIN : out);
        }
        y[c] = (int8_t)out;
    }
}

/* Table path: entries below diff_min are 0, which adds 0 to the sum and
 * rounds to exactly -128 (srdhm(x, 0) = 0), the same bits as TFLM's skipped
 * branch; with no data-dependent branch the instruction count is the same
 * for any input (the latency tables assume that). */
static void softmax_row_table(const softmax_data *d, const int32_t *table, const int8_t *x,
                              int8_t *y)
{
    const int32_t max_in_row = row_max(x, d->depth);
    uint32_t sum_of_exps = 0;
    for (int32_t c = 0; c < d->depth; ++c) {
        sum_of_exps += (uint32_t)hn_rdbpot(table[max_in_row - x[c]], ACCUM_INTEGER_BITS);
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale =
        hn_nl_get_reciprocal((int32_t)sum_of_exps, ACCUM_INTEGER_BITS, &num_bits_over_unit);
    int exponent = num_bits_over_unit + 31 - 8;
    exponent = exponent > 31 ? 31 : exponent;
    for (int32_t c = 0; c < d->depth; ++c) {
        int32_t out =
            hn_rdbpot(hn_srdhm(shifted_scale, table[max_in_row - x[c]]), exponent) - 128;
        y[c] = (int8_t)(out > INT8_MAX ? INT8_MAX : out);
    }
}

static hn_status softmax_eval(hn_op_ctx *ctx)
{
    const softmax_data *d = (const softmax_data *)ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    int32_t *table = d->use_table ? (int32_t *)ctx->scratch : NULL;
    if (table != NULL) {
        fill_table(d, table);
    }
    for (int32_t r = 0; r < d->rows; ++r) {
        if (table != NULL) {
            softmax_row_table(d, table, x + r * d->depth, y + r * d->depth);
        } else {
            softmax_row(d, table, x + r * d->depth, y + r * d->depth);
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_SOFTMAX = {
    "SOFTMAX", (uint32_t)sizeof(softmax_data), softmax_prepare, softmax_eval,
};

HN_OP_DATA_FITS(softmax_data);
