/*
 * SQUARED_DIFFERENCE, int8 -> int8 with broadcasting, bit-exact with TFLM.
 *
 * TFLM rescales both inputs to a common scale (2 * max input scale) after a
 * left shift of 7 bits, squares the int32 difference and requantizes it with
 * a third multiplier. Broadcasting follows the usual right-aligned rules
 * (a dimension of 1 repeats); TFLM's kernel handles up to 4 dimensions, this
 * one up to HN_MAX_DIMS with the same per-element arithmetic.
 *
 * Each input's rescaling depends on its int8 value only and fits int16
 * (|(x - zp) * 128 * m| < 2^15 with m <= 1/2), so for outputs of
 * TABLE_MIN_ELEMENTS or more eval() first tabulates it for the 256 values of
 * each input in scratch (2 x 512 bytes, transient), leaving one requantization
 * per element. Same bits as computing it per element.
 */
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define LEFT_SHIFT 7
#define TABLE_MIN_ELEMENTS 1024

typedef struct {
    int32_t input1_offset, input2_offset, output_offset;
    int32_t input1_multiplier, input2_multiplier, output_multiplier;
    int input1_shift, input2_shift, output_shift;
    int32_t ndim;
    int32_t dims[HN_MAX_DIMS];          /* output shape */
    int32_t input1_strides[HN_MAX_DIMS]; /* 0 where input 1 is broadcast */
    int32_t input2_strides[HN_MAX_DIMS];
    uint8_t use_tables;                  /* rescaled inputs tabulated in scratch */
} squared_difference_data;

static void compute_multipliers(const hn_tensor *in1, const hn_tensor *in2, const hn_tensor *out,
                                squared_difference_data *d)
{
    const float max_scale = in1->scale > in2->scale ? in1->scale : in2->scale;
    const double twice_max_input_scale = 2.0 * (double)max_scale;
    const double real_output = (twice_max_input_scale * twice_max_input_scale) /
                               (double)((float)(1 << (LEFT_SHIFT * 2)) * out->scale);
    hn_quantize_multiplier((double)in1->scale / twice_max_input_scale, &d->input1_multiplier,
                              &d->input1_shift);
    hn_quantize_multiplier((double)in2->scale / twice_max_input_scale, &d->input2_multiplier,
                              &d->input2_shift);
    hn_quantize_multiplier(real_output, &d->output_multiplier, &d->output_shift);
    d->input1_offset = -in1->zero_point;
    d->input2_offset = -in2->zero_point;
    d->output_offset = out->zero_point;
}

/* Element strides of `in` seen with the output's shape (right-aligned), 0 on
 * broadcast dimensions; returns 0 when the shapes are not broadcastable. */
static int broadcast_strides(const hn_tensor *in, const hn_tensor *out, int32_t *strides)
{
    const int lead = (int)out->ndim - (int)in->ndim;
    if (lead < 0) {
        return 0;
    }
    int32_t stride = 1;
    for (int i = (int)out->ndim - 1; i >= 0; --i) {
        const int32_t dim = i >= lead ? in->dims[i - lead] : 1;
        if (dim != out->dims[i] && dim != 1) {
            return 0;
        }
        strides[i] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
    return 1;
}

static hn_status check_shapes(hn_op_ctx *ctx, const hn_tensor *in1, const hn_tensor *in2,
                              const hn_tensor *out, squared_difference_data *d)
{
    if (!broadcast_strides(in1, out, d->input1_strides) ||
        !broadcast_strides(in2, out, d->input2_strides)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "input shapes do not broadcast to the output shape");
    }
    for (int i = 0; i < (int)out->ndim; ++i) {
        /* the output must be exactly the broadcast shape, not larger */
        if (d->input1_strides[i] == 0 && d->input2_strides[i] == 0 && out->dims[i] != 1) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "output dimension %d is %ld, inputs give 1", i,
                               (long)out->dims[i]);
        }
        d->dims[i] = out->dims[i];
    }
    d->ndim = out->ndim;
    return HN_OK;
}

static hn_status squared_difference_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 2, 2, 1);
    const hn_tensor *in1 = ctx->inputs[0];
    const hn_tensor *in2 = ctx->inputs[1];
    const hn_tensor *out = ctx->outputs[0];
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "input 1", in1);
    }
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "input 2", in2);
    }
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "output", out);
    }
    squared_difference_data *d = (squared_difference_data *)ctx->op_data;
    if (s == HN_OK) {
        s = check_shapes(ctx, in1, in2, out, d);
    }
    if (s == HN_OK) {
        compute_multipliers(in1, in2, out, d);
        d->use_tables = hn_num_elements(out) >= TABLE_MIN_ELEMENTS;
        ctx->scratch_bytes = d->use_tables ? 2u * 256u * (uint32_t)sizeof(int16_t) : 0u;
    }
    return s;
}

/* (x + offset) << 7 on the common input scale (TFLM's scaled_input_val). */
static int32_t rescale(int8_t x, int32_t offset, int32_t multiplier, int shift)
{
    return hn_rdbpot(hn_srdhm((offset + x) * (1 << LEFT_SHIFT), multiplier), -shift);
}

static int8_t square_and_requantize(const squared_difference_data *d, int32_t raw_diff)
{
    int32_t out = hn_mbqm(raw_diff * raw_diff, d->output_multiplier, d->output_shift) +
                  d->output_offset;
    out = out > INT8_MAX ? INT8_MAX : (out < INT8_MIN ? INT8_MIN : out);
    return (int8_t)out;
}

static void fill_tables(const squared_difference_data *d, int16_t *t1, int16_t *t2)
{
    for (int32_t v = INT8_MIN; v <= INT8_MAX; ++v) {
        const int8_t x = (int8_t)v;
        t1[(uint8_t)x] = (int16_t)rescale(x, d->input1_offset, d->input1_multiplier,
                                          d->input1_shift);
        t2[(uint8_t)x] = (int16_t)rescale(x, d->input2_offset, d->input2_multiplier,
                                          d->input2_shift);
    }
}

/* t1 == NULL: rescale per element. */
static int8_t squared_difference_of(const squared_difference_data *d, const int16_t *t1,
                                    const int16_t *t2, int8_t x, int8_t y)
{
    if (t1 != NULL) {
        return square_and_requantize(d, (int32_t)t1[(uint8_t)x] - (int32_t)t2[(uint8_t)y]);
    }
    return square_and_requantize(
        d, rescale(x, d->input1_offset, d->input1_multiplier, d->input1_shift) -
               rescale(y, d->input2_offset, d->input2_multiplier, d->input2_shift));
}

static hn_status squared_difference_eval(hn_op_ctx *ctx)
{
    const squared_difference_data *d = (const squared_difference_data *)ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *y = (const int8_t *)ctx->inputs[1]->data;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(ctx->outputs[0]);
    int16_t *t1 = NULL;
    int16_t *t2 = NULL;
    if (d->use_tables) {
        t1 = (int16_t *)ctx->scratch;
        t2 = t1 + 256;
        fill_tables(d, t1, t2);
    }
    int32_t index[HN_MAX_DIMS] = {0};
    int32_t o1 = 0;
    int32_t o2 = 0;
    for (int32_t i = 0; i < n; ++i) {
        out[i] = squared_difference_of(d, t1, t2, x[o1], y[o2]);
        for (int k = d->ndim - 1; k >= 0; --k) {
            o1 += d->input1_strides[k];
            o2 += d->input2_strides[k];
            if (++index[k] < d->dims[k]) {
                break;
            }
            o1 -= d->input1_strides[k] * d->dims[k];
            o2 -= d->input2_strides[k] * d->dims[k];
            index[k] = 0;
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_SQUARED_DIFFERENCE = {
    "SQUARED_DIFFERENCE", (uint32_t)sizeof(squared_difference_data), squared_difference_prepare,
    squared_difference_eval,
};

HN_OP_DATA_FITS(squared_difference_data);
