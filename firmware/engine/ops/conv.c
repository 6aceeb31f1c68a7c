/*
 * CONV_2D, int8 per-channel (TFLM reference_integer_ops::ConvPerChannel),
 * including dilation and grouped convolution. Multipliers follow TFLM's
 * PopulateConvolutionQuantizationParams: double(in) * double(filter[c]) /
 * double(out), computed once in prepare.
 */
#include "hn_conv_common.h"

static hn_status conv_prepare(hn_op_ctx *ctx)
{
    hn_conv_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 2, 3, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    if ((s = hn_conv_check_common(ctx, 4)) != HN_OK) return s;
    d->pad_kind = hn_fb_u8(&ctx->options, 0, HN_PAD_SAME);
    d->stride_w = hn_fb_i32(&ctx->options, 1, 1);
    d->stride_h = hn_fb_i32(&ctx->options, 2, 1);
    int32_t act = hn_fb_u8(&ctx->options, 3, 0);
    d->dil_w = hn_fb_i32(&ctx->options, 4, 1);
    d->dil_h = hn_fb_i32(&ctx->options, 5, 1);
    d->out_c = w->dims[0];
    d->k_h = w->dims[1];
    d->k_w = w->dims[2];
    d->filter_in_c = w->dims[3];
    if (d->filter_in_c <= 0 || in->dims[3] % d->filter_in_c != 0) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input channels %ld not a multiple of filter channels %ld",
                           (long)in->dims[3], (long)d->filter_in_c);
    }
    int32_t groups = in->dims[3] / d->filter_in_c;
    if (groups <= 0 || d->out_c % groups != 0) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "output channels %ld not divisible into %ld groups",
                           (long)d->out_c, (long)groups);
    }
    d->out_c_per_group = d->out_c / groups;
    if ((s = hn_conv_geometry(ctx, d)) != HN_OK) return s;
    if (out->dims[3] != d->out_c) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "output channels %ld != filter count %ld",
                           (long)out->dims[3], (long)d->out_c);
    }
    if ((s = hn_fused_activation(ctx, act, out, &d->act_min, &d->act_max)) != HN_OK) return s;
    hn_status sm = hn_conv_multipliers(ctx, d);
    if (sm != HN_OK && sm != HN_ERR_ARENA_TOO_SMALL) return sm;
    hn_status sb = hn_conv_fold_bias(ctx, d); /* also counted when the arena is short */
    return sm != HN_OK ? sm : sb;
}

static inline int8_t conv_requantize(const hn_conv_data *d, int32_t acc, int32_t oc)
{
    return hn_ch_rq_apply(hn_ch_rq_of(d), acc, oc);
}

static inline int32_t ceil_div_pos(int32_t a, int32_t b) { return (a + b - 1) / b; }

/* One output pixel whose window lies fully inside the input (dilation_w 1,
 * one group): input offset folded in ch_bias, no clipping or bias branches;
 * each filter row is one contiguous dot product, four output channels per
 * pass (1x1 convolutions: one dot product of in_c per channel). */
static void conv_full_pixel(const hn_conv_data *d, const int8_t *xbase, const int8_t *w,
                            int8_t *op)
{
    const int32_t row = d->k_w * d->in_c;
    const int32_t per_oc = d->k_h * row;
    const size_t xrow_step = (size_t)d->dil_h * d->in_w * d->in_c;
    const hn_ch_rq q = hn_ch_rq_of(d);
    int32_t oc = 0;
    for (; oc + 4 <= d->out_c; oc += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        const int8_t *wp = w + (size_t)oc * per_oc;
        for (int32_t k = 0; k < d->k_h; ++k) {
            hn_dot4_s8(wp + (size_t)k * row, per_oc, xbase + k * xrow_step, row, a);
        }
        op[oc] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[oc], a[0]), oc);
        op[oc + 1] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[oc + 1], a[1]), oc + 1);
        op[oc + 2] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[oc + 2], a[2]), oc + 2);
        op[oc + 3] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[oc + 3], a[3]), oc + 3);
    }
    for (; oc < d->out_c; ++oc) {
        int32_t a = 0;
        const int8_t *wp = w + (size_t)oc * per_oc;
        for (int32_t k = 0; k < d->k_h; ++k) {
            a += hn_dot_s8(wp + (size_t)k * row, xbase + k * xrow_step, row);
        }
        op[oc] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[oc], a), oc);
    }
}

/* One output pixel, dilation_w 1 and one group: only the window rows
 * [ky0, ky1) and columns [kx0, kx1) inside the input count (as in TFLM's
 * reference loop), and each clipped filter row is one contiguous dot product;
 * four output channels share the activation loads. A full window adds ch_bias
 * (input offset folded in); a clipped one offsets each activation instead. */
static void conv_pixel(const hn_conv_data *d, const int8_t *in, const int8_t *w,
                       const uint8_t *bias, int32_t b, int32_t y0, int32_t x0, int8_t *op)
{
    const int32_t ky0 = y0 < 0 ? ceil_div_pos(-y0, d->dil_h) : 0;
    const int32_t ky1 = hn_min_i32(d->k_h, d->in_h > y0 ? ceil_div_pos(d->in_h - y0, d->dil_h) : 0);
    const int32_t kx0 = x0 < 0 ? -x0 : 0;
    const int32_t kx1 = hn_min_i32(d->k_w, d->in_w - x0);
    const int full = ky0 == 0 && ky1 == d->k_h && kx0 == 0 && kx1 == d->k_w;
    const int32_t row = d->k_w * d->in_c;
    const int32_t seg = kx1 > kx0 ? (kx1 - kx0) * d->in_c : 0;
    const int32_t nky = ky1 > ky0 ? ky1 - ky0 : 0;
    const size_t per_oc = (size_t)d->k_h * row;
    const size_t xrow_step = (size_t)d->dil_h * d->in_w * d->in_c;
    const int8_t *xbase = in;
    if (nky > 0 && seg > 0) {
        xbase += (((size_t)b * d->in_h + (size_t)(y0 + ky0 * d->dil_h)) * d->in_w +
                  (size_t)(x0 + kx0)) * d->in_c;
    }
    const int8_t *wbase = w + (size_t)ky0 * row + (size_t)kx0 * d->in_c;
    const int32_t off = d->input_offset;
    int32_t oc = 0;
    for (; oc + 4 <= d->out_c; oc += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        const int8_t *wp = wbase + oc * per_oc;
        for (int32_t k = 0; k < nky; ++k) {
            const int8_t *wr = wp + (size_t)k * row;
            const int8_t *xr = xbase + k * xrow_step;
            if (full) {
                hn_dot4_s8(wr, (int32_t)per_oc, xr, seg, a);
            } else {
                hn_dot4_s8_off(wr, (int32_t)per_oc, xr, seg, off, a);
            }
        }
        for (int k = 0; k < 4; ++k) {
            const int32_t base = full ? d->ch_bias[oc + k]
                                      : (bias ? hn_bias_i32(bias + 4 * (oc + k)) : 0);
            op[oc + k] = conv_requantize(d, hn_wrap_add(base, a[k]), oc + k);
        }
    }
    for (; oc < d->out_c; ++oc) {
        int32_t a = 0;
        const int8_t *wp = wbase + oc * per_oc;
        for (int32_t k = 0; k < nky; ++k) {
            const int8_t *wr = wp + (size_t)k * row;
            const int8_t *xr = xbase + k * xrow_step;
            if (full) {
                a += hn_dot_s8(wr, xr, seg);
            } else {
                for (int32_t i = 0; i < seg; ++i) a += wr[i] * (xr[i] + off);
            }
        }
        const int32_t base = full ? d->ch_bias[oc] : (bias ? hn_bias_i32(bias + 4 * oc) : 0);
        op[oc] = conv_requantize(d, hn_wrap_add(base, a), oc);
    }
}

/* Window clipped by padding (any dilation, groups): only the taps inside the
 * input count, as in TFLM's reference loop; ranges are clipped up front. */
static int32_t conv_general(const hn_conv_data *d, const int8_t *in, const int8_t *w,
                            const uint8_t *bias, int32_t b, int32_t y0, int32_t x0, int32_t oc)
{
    const int32_t ic0 = (oc / d->out_c_per_group) * d->filter_in_c;
    const int32_t n = d->filter_in_c;
    int32_t acc = 0;
    for (int32_t ky = 0; ky < d->k_h; ++ky) {
        const int32_t iy = y0 + d->dil_h * ky;
        if (iy < 0 || iy >= d->in_h) continue;
        const int8_t *xrow = in + ((size_t)b * d->in_h + iy) * d->in_w * d->in_c + ic0;
        const int8_t *wrow = w + ((size_t)oc * d->k_h + ky) * d->k_w * n;
        for (int32_t kx = 0; kx < d->k_w; ++kx) {
            const int32_t ix = x0 + d->dil_w * kx;
            if (ix < 0 || ix >= d->in_w) continue;
            const int8_t *xp = xrow + (size_t)ix * d->in_c;
            const int8_t *wp = wrow + (size_t)kx * n;
            acc += hn_dot_s8(wp, xp, n) + d->input_offset * hn_sum_s8(wp, n);
        }
    }
    return bias ? hn_wrap_add(acc, hn_bias_i32(bias + 4 * oc)) : acc;
}

static hn_status conv_eval(hn_op_ctx *ctx)
{
    const hn_conv_data *d = ctx->op_data;
    const int8_t *in = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *w = (const int8_t *)ctx->inputs[1]->data;
    const hn_tensor *bt = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const uint8_t *bias = bt ? bt->data : NULL;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    const int fast_ok = d->dil_w == 1 && d->filter_in_c == d->in_c;
    const int32_t span_h = (d->k_h - 1) * d->dil_h;
    for (int32_t b = 0; b < d->batches; ++b) {
        for (int32_t oy = 0; oy < d->out_h; ++oy) {
            const int32_t y0 = oy * d->stride_h - d->pad_h;
            for (int32_t ox = 0; ox < d->out_w; ++ox) {
                const int32_t x0 = ox * d->stride_w - d->pad_w;
                int8_t *op = out + (((size_t)b * d->out_h + oy) * d->out_w + ox) * d->out_c;
                if (fast_ok && y0 >= 0 && y0 + span_h < d->in_h && x0 >= 0 &&
                    x0 + d->k_w <= d->in_w) {
                    conv_full_pixel(d, in + (((size_t)b * d->in_h + y0) * d->in_w + x0) * d->in_c,
                                    w, op);
                    continue;
                }
                if (fast_ok) {
                    conv_pixel(d, in, w, bias, b, y0, x0, op);
                    continue;
                }
                for (int32_t oc = 0; oc < d->out_c; ++oc) {
                    op[oc] = conv_requantize(d, conv_general(d, in, w, bias, b, y0, x0, oc), oc);
                }
            }
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_CONV_2D = {"CONV_2D", sizeof(hn_conv_data), conv_prepare, conv_eval};

HN_OP_DATA_FITS(hn_conv_data);
