/*
 * FULLY_CONNECTED, int8 (TFLM reference_integer_ops::FullyConnected).
 * Per-tensor filters use TFLM's GetQuantizedConvolutionMultipler, whose input
 * product scale is a float product widened to double; per-channel filters use
 * the double product of PopulateConvolutionQuantizationParams.
 */
#include "hn_dot.h"
#include "hn_kernel_util.h"

typedef struct {
    int32_t input_offset, filter_offset, output_offset;
    int32_t act_min, act_max;
    int32_t batches, out_depth, accum_depth;
    int32_t multiplier;
    int16_t shift;
    /* the filter is an activation: its zero point comes from calibration, so the
     * filter-offset pass always runs (a count that depends on the graph, not the data) */
    int16_t filter_is_activation;
    int32_t *ch_multiplier; /* per-channel, or NULL */
    int8_t *ch_shift;
} fc_data;

static hn_status fc_check_shapes(hn_op_ctx *ctx, fc_data *d)
{
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    const hn_tensor *bias = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    if (w->ndim != 2) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "filter must be a 2-D tensor");
    }
    d->out_depth = w->dims[0];
    d->accum_depth = w->dims[1];
    int32_t n_in = hn_num_elements(in);
    if (d->accum_depth <= 0 || d->out_depth <= 0 || n_in % d->accum_depth != 0) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input size %ld not a multiple of %ld",
                           (long)n_in, (long)d->accum_depth);
    }
    if (d->accum_depth > 32768) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "accumulation depth %ld > 32768 (int32 accumulator bound)",
                           (long)d->accum_depth);
    }
    d->batches = n_in / d->accum_depth;
    if ((int64_t)d->batches * d->out_depth != hn_num_elements(out)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "output has %ld elements, expected %ld",
                           (long)hn_num_elements(out), (long)d->batches * d->out_depth);
    }
    if (bias != NULL) {
        hn_status s = hn_check_type(ctx, bias, HN_TYPE_INT32, "bias");
        if (s != HN_OK) return s;
        if (!bias->is_const) { /* a run-time bias is not supported (TFLite never writes one) */
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "bias must be constant");
        }
        if (hn_num_elements(bias) != d->out_depth) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "bias has %ld elements, expected %ld",
                               (long)hn_num_elements(bias), (long)d->out_depth);
        }
    }
    return HN_OK;
}

static hn_status fc_multipliers(hn_op_ctx *ctx, fc_data *d)
{
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    if (w->n_quant > 1) {
        if ((int32_t)w->n_quant != d->out_depth) {
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "filter has %lu scales for %ld channels",
                               (unsigned long)w->n_quant, (long)d->out_depth);
        }
        d->ch_multiplier = hn_alloc_persistent(ctx, 4u * (uint32_t)d->out_depth);
        d->ch_shift = hn_alloc_persistent(ctx, (uint32_t)d->out_depth);
        if (d->ch_multiplier == NULL || d->ch_shift == NULL) return HN_ERR_ARENA_TOO_SMALL;
        for (int32_t c = 0; c < d->out_depth; ++c) {
            float sc = hn_tensor_scale(w, (uint32_t)c);
            if (!(sc > 0.0f) || !(sc < 3.0e38f)) {
                return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "filter scale %ld invalid",
                                   (long)c);
            }
            double m = (double)in->scale * (double)hn_tensor_scale(w, (uint32_t)c) /
                       (double)out->scale;
            int sh = 0;
            hn_quantize_multiplier(m, &d->ch_multiplier[c], &sh);
            d->ch_shift[c] = (int8_t)(sh < -127 ? -127 : (sh > 127 ? 127 : sh));
        }
        return HN_OK;
    }
    double product = (double)(in->scale * w->scale);
    int sh = 0;
    hn_quantize_multiplier(product / (double)out->scale, &d->multiplier, &sh);
    d->shift = (int16_t)sh;
    return HN_OK;
}

static hn_status fc_prepare(hn_op_ctx *ctx)
{
    fc_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 2, 3, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    if ((s = hn_check_type(ctx, in, HN_TYPE_INT8, "input")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, w, HN_TYPE_INT8, "filter")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, out, HN_TYPE_INT8, "output")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, in, "input")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, w, "filter")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, out, "output")) != HN_OK) return s;
    if (hn_fb_u8(&ctx->options, 1, 0) != 0) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "weights_format %ld unsupported",
                           (long)hn_fb_u8(&ctx->options, 1, 0));
    }
    if ((s = fc_check_shapes(ctx, d)) != HN_OK) return s;
    s = hn_fused_activation(ctx, hn_fb_u8(&ctx->options, 0, 0), out, &d->act_min, &d->act_max);
    if (s != HN_OK) return s;
    d->input_offset = -in->zero_point;
    d->filter_offset = -w->zero_point;
    d->filter_is_activation = !w->is_const;
    d->output_offset = out->zero_point;
    /* No per-output data beyond TFLM's (per-channel multipliers and shifts): a
     * folded bias (b + input_offset * sum(row)) would cost 4 bytes per output in
     * the arena, twice TFLM's arena on the per-tensor MLPerf AD autoencoder. The
     * offset is added to the activations in the dot product instead. */
    return fc_multipliers(ctx, d);
}

/* Requantisation parameters in locals (the int8 output stores may alias the op
 * data, which made GCC reload them per output); per-tensor filters use one
 * multiplier and shift for every output. */
typedef struct {
    const int32_t *ch_mult;
    const int8_t *ch_shift;
    int32_t mult, shift, out_off, lo, hi;
} fc_rq;

static inline int8_t fc_rq_apply(fc_rq q, int32_t acc, int32_t oc)
{
    acc = q.ch_mult ? hn_mbqm_pos(acc, q.ch_mult[oc], q.ch_shift[oc])
                    : hn_mbqm_pos(acc, q.mult, q.shift);
    acc += q.out_off;
    acc = acc < q.lo ? q.lo : acc;
    return (int8_t)(acc > q.hi ? q.hi : acc);
}

/* Four rows share the activation loads, the input offset is added to the activations in
 * int16 lanes (|x + off| <= 255), ``x_term`` and the raw bias after the sum. A filter
 * offset fo enters only through x_term = fo * sum(x + off): sum((w + fo)(x + off)) =
 * sum(w (x + off)) + fo * sum(x + off), exact in int32 (|acc| <= 32768 * 255 * 255).
 * TFLite writes int8 constant filters with fo = 0, but an FC whose "filter" is an
 * activation (litert's attention probabilities x V) has a calibrated zero point; it
 * must take this path too, or its count would depend on the calibration data. */
static void fc_row(const fc_data *d, const int8_t *w, const int8_t *x, int32_t x_term,
                   const uint8_t *bias, int8_t *y)
{
    const int32_t n = d->accum_depth, off = d->input_offset, out_depth = d->out_depth;
    const fc_rq q = {d->ch_multiplier, d->ch_shift, d->multiplier, d->shift,
                     d->output_offset, d->act_min, d->act_max};
    int32_t oc = 0;
    for (; oc + 4 <= out_depth; oc += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        hn_dot4_s8_off(w + (size_t)oc * n, n, x, n, off, a);
        for (int k = 0; k < 4; ++k) {
            const int32_t b = bias ? hn_bias_i32(bias + 4 * (oc + k)) : 0;
            y[oc + k] = fc_rq_apply(q, hn_wrap_add(a[k] + x_term, b), oc + k);
        }
    }
    for (; oc < out_depth; ++oc) {
        const int8_t *row = w + (size_t)oc * n;
        int32_t acc = x_term;
        for (int32_t k = 0; k < n; ++k) acc += row[k] * (x[k] + off);
        y[oc] = fc_rq_apply(q, bias ? hn_wrap_add(acc, hn_bias_i32(bias + 4 * oc)) : acc, oc);
    }
}

static hn_status fc_eval(hn_op_ctx *ctx)
{
    const fc_data *d = ctx->op_data;
    const int8_t *in = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *w = (const int8_t *)ctx->inputs[1]->data;
    const hn_tensor *bt = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const uint8_t *bias = bt ? bt->data : NULL;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    for (int32_t b = 0; b < d->batches; ++b) {
        const int8_t *x = in + (size_t)b * d->accum_depth;
        int32_t x_term = 0;
        if (d->filter_offset != 0 || d->filter_is_activation) {
            int32_t sx = 0;
            for (int32_t k = 0; k < d->accum_depth; ++k) sx += x[k] + d->input_offset;
            x_term = d->filter_offset * sx;
        }
        fc_row(d, w, x, x_term, bias, out + (size_t)b * d->out_depth);
    }
    return HN_OK;
}

const hn_op_impl hn_op_FULLY_CONNECTED = {"FULLY_CONNECTED", sizeof(fc_data), fc_prepare, fc_eval};

HN_OP_DATA_FITS(fc_data);
