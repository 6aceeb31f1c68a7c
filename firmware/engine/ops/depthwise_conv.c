/*
 * DEPTHWISE_CONV_2D, int8 per-channel (TFLM
 * reference_integer_ops::DepthwiseConvPerChannel). The depth multiplier is
 * taken from the shapes (out_c / in_c), which is what the kernel computes with.
 */
#include "hn_conv_common.h"

/* ch_bias[c] = bias[c] + input_offset * sum over taps of filter[.., c]. */
static hn_status dw_fold_bias(hn_op_ctx *ctx, hn_conv_data *d)
{
    const int8_t *w = (const int8_t *)ctx->inputs[1]->data;
    const hn_tensor *bt = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    d->ch_bias = hn_alloc_persistent(ctx, 4u * (uint32_t)d->out_c);
    if (d->ch_bias == NULL) return HN_ERR_ARENA_TOO_SMALL;
    for (int32_t c = 0; c < d->out_c; ++c) {
        int32_t sum = 0;
        for (int32_t t = 0; t < d->k_h * d->k_w; ++t) sum += w[(size_t)t * d->out_c + c];
        int32_t b = bt ? hn_read_i32(bt->data + 4 * c) : 0;
        d->ch_bias[c] = hn_wrap_add(b, sum * d->input_offset);
    }
    return HN_OK;
}

static hn_status dw_prepare(hn_op_ctx *ctx)
{
    hn_conv_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 2, 3, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    if ((s = hn_conv_check_common(ctx, 4)) != HN_OK) return s;
    d->pad_kind = hn_fb_u8(&ctx->options, 0, HN_PAD_SAME);
    d->stride_w = hn_fb_i32(&ctx->options, 1, 1);
    d->stride_h = hn_fb_i32(&ctx->options, 2, 1);
    int32_t act = hn_fb_u8(&ctx->options, 4, 0);
    d->dil_w = hn_fb_i32(&ctx->options, 5, 1);
    d->dil_h = hn_fb_i32(&ctx->options, 6, 1);
    if (w->dims[0] != 1) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "filter dim 0 is %ld, expected 1",
                           (long)w->dims[0]);
    }
    d->k_h = w->dims[1];
    d->k_w = w->dims[2];
    d->out_c = w->dims[3];
    if (in->dims[3] <= 0 || d->out_c % in->dims[3] != 0 || out->dims[3] != d->out_c) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "channels: input %ld, filter %ld, output %ld inconsistent",
                           (long)in->dims[3], (long)d->out_c, (long)out->dims[3]);
    }
    d->depth_multiplier = d->out_c / in->dims[3];
    if ((s = hn_conv_geometry(ctx, d)) != HN_OK) return s;
    if ((s = hn_fused_activation(ctx, act, out, &d->act_min, &d->act_max)) != HN_OK) return s;
    hn_status sm = hn_conv_multipliers(ctx, d);
    if (sm != HN_OK && sm != HN_ERR_ARENA_TOO_SMALL) return sm;
    hn_status sb = d->depth_multiplier == 1 ? dw_fold_bias(ctx, d) : HN_OK;
    return sm != HN_OK ? sm : sb;
}

static inline int8_t dw_requantize(const hn_conv_data *d, int32_t acc, int32_t oc)
{
    acc = hn_mbqm(acc, d->ch_multiplier[oc], d->ch_shift[oc]) + d->output_offset;
    return (int8_t)hn_clamp_i32(acc, d->act_min, d->act_max);
}

/* Interior window, depth multiplier 1: four channels per pass, no bounds
 * checks, input offset folded into ch_bias. */
static void dw_interior(const hn_conv_data *d, const int8_t *in, const int8_t *w, int32_t b,
                        int32_t y0, int32_t x0, int8_t *op)
{
    const size_t xstep = (size_t)d->dil_w * d->in_c;
    int32_t c = 0;
    for (; c + 4 <= d->out_c; c += 4) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int32_t ky = 0; ky < d->k_h; ++ky) {
            const int8_t *xp =
                in + (((size_t)b * d->in_h + y0 + ky * d->dil_h) * d->in_w + x0) * d->in_c + c;
            const int8_t *wp = w + (size_t)ky * d->k_w * d->out_c + c;
            for (int32_t kx = 0; kx < d->k_w; ++kx, xp += xstep, wp += d->out_c) {
                a0 += wp[0] * xp[0];
                a1 += wp[1] * xp[1];
                a2 += wp[2] * xp[2];
                a3 += wp[3] * xp[3];
            }
        }
        op[c] = dw_requantize(d, hn_wrap_add(d->ch_bias[c], a0), c);
        op[c + 1] = dw_requantize(d, hn_wrap_add(d->ch_bias[c + 1], a1), c + 1);
        op[c + 2] = dw_requantize(d, hn_wrap_add(d->ch_bias[c + 2], a2), c + 2);
        op[c + 3] = dw_requantize(d, hn_wrap_add(d->ch_bias[c + 3], a3), c + 3);
    }
    for (; c < d->out_c; ++c) {
        int32_t a = 0;
        for (int32_t ky = 0; ky < d->k_h; ++ky) {
            const int8_t *xp =
                in + (((size_t)b * d->in_h + y0 + ky * d->dil_h) * d->in_w + x0) * d->in_c + c;
            const int8_t *wp = w + (size_t)ky * d->k_w * d->out_c + c;
            for (int32_t kx = 0; kx < d->k_w; ++kx, xp += xstep, wp += d->out_c) {
                a += *wp * *xp;
            }
        }
        op[c] = dw_requantize(d, hn_wrap_add(d->ch_bias[c], a), c);
    }
}

/* Any window: TFLM's reference loop (taps outside the input skipped). */
static int32_t dw_general(const hn_conv_data *d, const int8_t *in, const int8_t *w,
                          const uint8_t *bias, int32_t b, int32_t y0, int32_t x0, int32_t oc)
{
    const int32_t ic = oc / d->depth_multiplier;
    int32_t acc = 0;
    for (int32_t ky = 0; ky < d->k_h; ++ky) {
        const int32_t iy = y0 + d->dil_h * ky;
        if (iy < 0 || iy >= d->in_h) continue;
        for (int32_t kx = 0; kx < d->k_w; ++kx) {
            const int32_t ix = x0 + d->dil_w * kx;
            if (ix < 0 || ix >= d->in_w) continue;
            int32_t xv = in[(((size_t)b * d->in_h + iy) * d->in_w + ix) * d->in_c + ic];
            int32_t wv = w[((size_t)ky * d->k_w + kx) * d->out_c + oc];
            acc += wv * (xv + d->input_offset);
        }
    }
    return bias ? hn_wrap_add(acc, hn_read_i32(bias + 4 * oc)) : acc;
}

static hn_status dw_eval(hn_op_ctx *ctx)
{
    const hn_conv_data *d = ctx->op_data;
    const int8_t *in = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *w = (const int8_t *)ctx->inputs[1]->data;
    const hn_tensor *bt = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const uint8_t *bias = bt ? bt->data : NULL;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    const int32_t span_h = (d->k_h - 1) * d->dil_h, span_w = (d->k_w - 1) * d->dil_w;
    for (int32_t b = 0; b < d->batches; ++b) {
        for (int32_t oy = 0; oy < d->out_h; ++oy) {
            const int32_t y0 = oy * d->stride_h - d->pad_h;
            const int in_y = y0 >= 0 && y0 + span_h < d->in_h;
            for (int32_t ox = 0; ox < d->out_w; ++ox) {
                const int32_t x0 = ox * d->stride_w - d->pad_w;
                int8_t *op = out + (((size_t)b * d->out_h + oy) * d->out_w + ox) * d->out_c;
                if (d->ch_bias != NULL && in_y && x0 >= 0 && x0 + span_w < d->in_w) {
                    dw_interior(d, in, w, b, y0, x0, op);
                    continue;
                }
                for (int32_t oc = 0; oc < d->out_c; ++oc) {
                    op[oc] = dw_requantize(d, dw_general(d, in, w, bias, b, y0, x0, oc), oc);
                }
            }
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_DEPTHWISE_CONV_2D = {"DEPTHWISE_CONV_2D", sizeof(hn_conv_data), dw_prepare,
                                            dw_eval};

HN_OP_DATA_FITS(hn_conv_data);
