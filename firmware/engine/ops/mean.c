/*
 * MEAN, int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * The int32 sums of the raw int8 values over the reduced axes go to a scratch
 * buffer (one int32 per output element, as in TFLM), then TFLM's
 * QuantizedMeanOrSum folds 1/count into the requantization multiplier:
 * shift = floor(log2(count)) capped at 32 and at 31 + output_shift,
 * multiplier = (multiplier << shift) / count, applied to sum - zp * count.
 * (Older TFLM releases divided the raw sum when input and output shared their
 * quantization; the release used as oracle here does not, and neither do we.)
 * TFLM supports inputs of rank <= 5 and at most 2 distinct reduced axes (its
 * resolved-axis buffer has 2 entries); both limits are enforced here.
 */
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define MEAN_MAX_RANK 5
#define MEAN_MAX_AXES 2

typedef struct {
    int32_t ndim;
    int32_t dims[MEAN_MAX_RANK];
    int32_t out_strides[MEAN_MAX_RANK]; /* output stride per input dim, 0 if reduced */
    int32_t num_outputs;
    int32_t count;                      /* elements per reduced group */
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier;                 /* 1/count folded in (QuantizedMeanOrSum) */
    int shift;
    /* When the reduced axes are adjacent, the input is [outer, count, inner]. */
    uint8_t contiguous;
    int32_t outer, inner;
} mean_data;

static hn_status read_axes(hn_op_ctx *ctx, const hn_tensor *in, uint32_t *reduced_mask)
{
    const hn_tensor *axis = ctx->inputs[1];
    if (axis->type != HN_TYPE_INT32 || !axis->is_const || axis->data == NULL) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "the axis tensor must be a constant int32 tensor");
    }
    const int32_t n = hn_num_elements(axis);
    if ((uint32_t)n * 4u > axis->bytes) {
        return hn_op_error(ctx, HN_ERR_MODEL_TRUNCATED,
                           "axis tensor holds %lu bytes, needs %ld", (unsigned long)axis->bytes,
                           (long)n * 4);
    }
    int unique = 0;
    *reduced_mask = 0;
    for (int32_t i = 0; i < n; ++i) {
        int32_t a = hn_read_i32(axis->data + 4 * i);
        a = a < 0 ? a + in->ndim : a;
        if (a < 0 || a >= in->ndim) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "axis %ld is out of range for a rank-%d input",
                               (long)hn_read_i32(axis->data + 4 * i), (int)in->ndim);
        }
        if (!(*reduced_mask & (1u << a))) {
            *reduced_mask |= 1u << a;
            ++unique;
        }
    }
    if (unique > MEAN_MAX_AXES) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "reduces %d axes, TFLM supports at most %d", unique,
                           MEAN_MAX_AXES);
    }
    return HN_OK;
}

static void plan_reduction(const hn_tensor *in, uint32_t reduced_mask, mean_data *d)
{
    int32_t stride = 1;
    d->count = 1;
    d->ndim = in->ndim;
    for (int i = (int)in->ndim - 1; i >= 0; --i) {
        d->dims[i] = in->dims[i];
        if (reduced_mask & (1u << i)) {
            d->out_strides[i] = 0;
            d->count *= in->dims[i];
        } else {
            d->out_strides[i] = stride;
            stride *= in->dims[i];
        }
    }
    d->num_outputs = stride;
    int first = -1;
    int last = -1;
    for (int i = 0; i < (int)in->ndim; ++i) {
        if (reduced_mask & (1u << i)) {
            first = first < 0 ? i : first;
            last = i;
        }
    }
    d->contiguous = first >= 0 && reduced_mask == (((1u << (last + 1)) - 1u) & ~((1u << first) - 1u));
    d->outer = 1;
    d->inner = 1;
    for (int i = 0; i < (int)in->ndim && d->contiguous; ++i) {
        if (i < first) {
            d->outer *= in->dims[i];
        } else if (i > last) {
            d->inner *= in->dims[i];
        }
    }
}

/* QuantizedMeanOrSum's rescaling: fold 1/count into multiplier and shift. */
static void fold_count_into_multiplier(mean_data *d, int32_t multiplier, int shift)
{
    int log2_count = 0;
    while (log2_count < 62 && ((int64_t)1 << (log2_count + 1)) <= (int64_t)d->count) {
        ++log2_count;
    }
    log2_count = log2_count < 32 ? log2_count : 32;
    log2_count = log2_count < 31 + shift ? log2_count : 31 + shift;
    d->multiplier = (int32_t)(((int64_t)multiplier << log2_count) / d->count);
    d->shift = shift - log2_count;
}

static hn_status mean_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 2, 2, 1);
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "input", in);
    }
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "output", out);
    }
    if (s != HN_OK) {
        return s;
    }
    if (in->ndim > MEAN_MAX_RANK) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "input rank %d exceeds TFLM's limit of %d", (int)in->ndim,
                           MEAN_MAX_RANK);
    }
    uint32_t reduced_mask = 0;
    s = read_axes(ctx, in, &reduced_mask);
    if (s != HN_OK) {
        return s;
    }
    mean_data *d = (mean_data *)ctx->op_data;
    plan_reduction(in, reduced_mask, d);
    if (d->num_outputs != hn_num_elements(out)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "output has %ld elements, the reduction gives %ld",
                           (long)hn_num_elements(out), (long)d->num_outputs);
    }
    d->input_zero_point = in->zero_point;
    d->output_zero_point = out->zero_point;
    int32_t multiplier = 0;
    int shift = 0;
    hn_quantize_multiplier((double)in->scale / (double)out->scale, &multiplier, &shift);
    if (d->count > 0) {
        fold_count_into_multiplier(d, multiplier, shift);
    }
    ctx->scratch_bytes = (uint32_t)d->num_outputs * (uint32_t)sizeof(int32_t);
    return HN_OK;
}

/* Fast path: reduced axes adjacent, input seen as [outer, count, inner]. */
static void sum_adjacent_axes(const mean_data *d, const int8_t *x, int32_t *sums)
{
    for (int32_t o = 0; o < d->outer; ++o) {
        uint32_t *s = (uint32_t *)sums + o * d->inner; /* wraps like TFLM's int32 */
        const int8_t *block = x + o * d->count * d->inner;
        if (d->inner == 1) {
            uint32_t acc = 0;
            for (int32_t r = 0; r < d->count; ++r) {
                acc += (uint32_t)(int32_t)block[r];
            }
            s[0] = acc;
            continue;
        }
        for (int32_t i = 0; i < d->inner; ++i) {
            s[i] = 0;
        }
        for (int32_t r = 0; r < d->count; ++r) {
            const int8_t *row = block + r * d->inner;
            for (int32_t i = 0; i < d->inner; ++i) {
                s[i] += (uint32_t)(int32_t)row[i];
            }
        }
    }
}

static void sum_groups(const mean_data *d, const int8_t *x, int32_t n_in, int32_t *sums)
{
    if (d->contiguous) {
        sum_adjacent_axes(d, x, sums);
        return;
    }
    int32_t index[MEAN_MAX_RANK] = {0};
    int32_t o = 0;
    for (int32_t i = 0; i < d->num_outputs; ++i) {
        sums[i] = 0;
    }
    for (int32_t i = 0; i < n_in; ++i) {
        sums[o] = (int32_t)((uint32_t)sums[o] + (uint32_t)(int32_t)x[i]);
        for (int k = d->ndim - 1; k >= 0; --k) {
            o += d->out_strides[k];
            if (++index[k] < d->dims[k]) {
                break;
            }
            o -= d->out_strides[k] * d->dims[k];
            index[k] = 0;
        }
    }
}

static hn_status mean_eval(hn_op_ctx *ctx)
{
    const mean_data *d = (const mean_data *)ctx->op_data;
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    int32_t *sums = (int32_t *)ctx->scratch;
    const int32_t n_in = hn_num_elements(ctx->inputs[0]);
    if (d->count == 0 || n_in == 0) {
        for (int32_t i = 0; i < d->num_outputs; ++i) {
            y[i] = 0; /* TFLM leaves the zero-initialised output */
        }
        return HN_OK;
    }
    sum_groups(d, (const int8_t *)ctx->inputs[0]->data, n_in, sums);
    for (int32_t i = 0; i < d->num_outputs; ++i) {
        const int32_t v =
            hn_mbqm((int32_t)((uint32_t)sums[i] -
                              (uint32_t)d->input_zero_point * (uint32_t)d->count),
                    d->multiplier, d->shift) +
            d->output_zero_point;
        y[i] = (int8_t)(v > INT8_MAX ? INT8_MAX : (v < INT8_MIN ? INT8_MIN : v));
    }
    return HN_OK;
}

const hn_op_impl hn_op_MEAN = {
    "MEAN", (uint32_t)sizeof(mean_data), mean_prepare, mean_eval,
};

HN_OP_DATA_FITS(mean_data);
