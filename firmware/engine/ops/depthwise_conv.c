/*
 * DEPTHWISE_CONV_2D, int8 per-channel (TFLM
 * reference_integer_ops::DepthwiseConvPerChannel). The depth multiplier is
 * taken from the shapes (out_c / in_c), which is what the kernel computes with.
 */
#include <string.h>

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
    return hn_ch_rq_apply(hn_ch_rq_of(d), acc, oc);
}

static inline int32_t ceil_div_pos(int32_t a, int32_t b) { return (a + b - 1) / b; }

/* Geometry of one output pixel's window: taps [ky0, ky0 + nky) x [kx0, kx0 + nkx)
 * lie inside the input (TFLM skips the others). */
typedef struct {
    const int8_t *x; /* input at the first valid tap, channel 0 */
    const int8_t *w; /* filter at the first valid tap, channel 0 */
    int32_t nky, nkx;
    size_t xrow, xstep, wrow, wstep;
} dw_window;

/* Four channels c..c+3 over nky x nkx taps: acc[k] += sum w * (x + off). with_off
 * (and for 3x3 windows nky, nkx) is a compile-time constant at each call (0 for full windows, whose offset
 * is folded into ch_bias). DSP cores: one word load of four channels for x and
 * w, SXTB16 into halfword pairs, SMLABB/SMLATT per channel. */
static inline __attribute__((always_inline)) void dw_acc4(const dw_window *win, int32_t c,
                                                          int32_t off, int with_off,
                                                          int32_t nky, int32_t nkx, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    const int32_t off2 = (int32_t)(((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16));
#endif
    for (int32_t ky = 0; ky < nky; ++ky) {
        const int8_t *xp = win->x + ky * win->xrow + c;
        const int8_t *wp = win->w + ky * win->wrow + c;
        for (int32_t kx = 0; kx < nkx; ++kx, xp += win->xstep, wp += win->wstep) {
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
            uint32_t xv, wv;
            memcpy(&xv, xp, 4);
            memcpy(&wv, wp, 4);
            int32_t x02 = __sxtb16(xv), x13 = hn_sxtb16_ror8(xv);
            if (with_off) {
                x02 = __sadd16(x02, off2);
                x13 = __sadd16(x13, off2);
            }
            const int32_t w02 = __sxtb16(wv), w13 = hn_sxtb16_ror8(wv);
            a0 = __smlabb(w02, x02, a0);
            a2 = __smlatt(w02, x02, a2);
            a1 = __smlabb(w13, x13, a1);
            a3 = __smlatt(w13, x13, a3);
#else
            const int32_t o = with_off ? off : 0;
            a0 += wp[0] * (xp[0] + o);
            a1 += wp[1] * (xp[1] + o);
            a2 += wp[2] * (xp[2] + o);
            a3 += wp[3] * (xp[3] + o);
#endif
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* One 3x3 tap of four channels: x and w words at [r0, XO] and [r1, WO],
 * SXTB16 into lanes (0, 2) and (1, 3), channels c..c+3 into r4..r7. */
#define DW_TAP(XO, WO)                                                                  \
    "ldr r8, [r0" XO "]\n\t"                                                            \
    "ldr r9, [r1" WO "]\n\t"                                                            \
    "sxtb16 r10, r8\n\t"                                                                \
    "sxtb16 r11, r9\n\t"                                                                \
    "smlabb r4, r11, r10, r4\n\t"                                                       \
    "smlatt r6, r11, r10, r6\n\t"                                                       \
    "sxtb16 r8, r8, ror #8\n\t"                                                         \
    "sxtb16 r9, r9, ror #8\n\t"                                                         \
    "smlabb r5, r9, r8, r5\n\t"                                                         \
    "smlatt r7, r9, r8, r7\n\t"
#define DW_ROW DW_TAP("", "") DW_TAP(", r2", ", r2") DW_TAP(", r12", ", r12")

/* acc[0..3] = the 3x3 window sums of channels c..c+3 (offset folded in the
 * bias): x the window's top-left tap and w tap 0, both at channel c; ch the
 * byte step between horizontal taps, equal in x and w (depth multiplier 1,
 * dilation_w 1); xrow the step between window rows. The GCC-scheduled unrolled
 * loop spilled its 18 tap addresses; here they are three registers: 100
 * instructions per 36 MACs. */
#define DW_ARG __attribute__((unused)) /* read by the asm through r0-r3, [sp] */
__attribute__((naked, noinline)) static void dw3x3_acc4(DW_ARG const int8_t *x,
                                                        DW_ARG const int8_t *w, DW_ARG int32_t ch,
                                                        DW_ARG int32_t xrow, DW_ARG int32_t *acc)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "movs r4, #0\n\t"
                     "movs r5, #0\n\t"
                     "movs r6, #0\n\t"
                     "movs r7, #0\n\t"
                     "add r12, r2, r2\n\t"
                     "add lr, r12, r2\n\t"
                     DW_ROW
                     "add r0, r0, r3\n\t"
                     "add r1, r1, lr\n\t"
                     DW_ROW
                     "add r0, r0, r3\n\t"
                     "add r1, r1, lr\n\t"
                     DW_ROW
                     "ldr r12, [sp, #36]\n\t"
                     "stm r12, {r4, r5, r6, r7}\n\t"
                     "pop {r4-r11, pc}\n");
}
#endif

/* Channel tail (c..out_c) of one pixel, one channel at a time. */
static void dw_tail(const hn_conv_data *d, const dw_window *win, const uint8_t *bias, int full,
                    int32_t c, int8_t *op)
{
    const int32_t o = full ? 0 : d->input_offset;
    for (; c < d->out_c; ++c) {
        int32_t a = 0;
        for (int32_t ky = 0; ky < win->nky; ++ky) {
            const int8_t *xp = win->x + ky * win->xrow + c;
            const int8_t *wp = win->w + ky * win->wrow + c;
            for (int32_t kx = 0; kx < win->nkx; ++kx, xp += win->xstep, wp += win->wstep) {
                a += *wp * (*xp + o);
            }
        }
        const int32_t base = full ? d->ch_bias[c] : (bias ? hn_bias_i32(bias + 4 * c) : 0);
        op[c] = dw_requantize(d, hn_wrap_add(base, a), c);
    }
}

/* Full window (the interior of every layer): input offset folded in ch_bias,
 * no clipping or bias-source branches per output; 3x3 taps unrolled. */
static void dw_full_pixel(const hn_conv_data *d, const dw_window *win, int8_t *op)
{
    const int is3x3 = d->k_h == 3 && d->k_w == 3;
    const hn_ch_rq q = hn_ch_rq_of(d);
    const dw_window wl = *win; /* locals: the output stores may alias the window */
    int32_t c = 0;
    for (; c + 4 <= d->out_c; c += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        if (is3x3) { /* MobileNet's case */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
            if (wl.xstep == wl.wstep) {
                dw3x3_acc4(wl.x + c, wl.w + c, (int32_t)wl.xstep, (int32_t)wl.xrow, a);
            } else {
                dw_acc4(&wl, c, 0, 0, 3, 3, a);
            }
#else
            dw_acc4(&wl, c, 0, 0, 3, 3, a);
#endif
        } else {
            dw_acc4(&wl, c, 0, 0, wl.nky, wl.nkx, a);
        }
        op[c] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[c], a[0]), c);
        op[c + 1] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[c + 1], a[1]), c + 1);
        op[c + 2] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[c + 2], a[2]), c + 2);
        op[c + 3] = hn_ch_rq_apply(q, hn_wrap_add(q.bias[c + 3], a[3]), c + 3);
    }
    dw_tail(d, win, NULL, 1, c, op);
}

/* One output pixel, depth multiplier 1: only the taps inside the input count
 * (TFLM's reference loop), four channels per pass. A full window adds ch_bias
 * (input offset folded in), a clipped one offsets each activation. */
static void dw_pixel(const hn_conv_data *d, const int8_t *in, const int8_t *w,
                     const uint8_t *bias, int32_t b, int32_t y0, int32_t x0, int8_t *op)
{
    const int32_t ky0 = y0 < 0 ? ceil_div_pos(-y0, d->dil_h) : 0;
    const int32_t ky1 = hn_min_i32(d->k_h, d->in_h > y0 ? ceil_div_pos(d->in_h - y0, d->dil_h) : 0);
    const int32_t kx0 = x0 < 0 ? ceil_div_pos(-x0, d->dil_w) : 0;
    const int32_t kx1 = hn_min_i32(d->k_w, d->in_w > x0 ? ceil_div_pos(d->in_w - x0, d->dil_w) : 0);
    const int full = ky0 == 0 && ky1 == d->k_h && kx0 == 0 && kx1 == d->k_w;
    dw_window win;
    win.nky = ky1 > ky0 ? ky1 - ky0 : 0;
    win.nkx = kx1 > kx0 ? kx1 - kx0 : 0;
    win.xrow = (size_t)d->dil_h * d->in_w * d->in_c;
    win.xstep = (size_t)d->dil_w * d->in_c;
    win.wrow = (size_t)d->k_w * d->out_c;
    win.wstep = (size_t)d->out_c;
    win.x = in;
    if (win.nky > 0 && win.nkx > 0) {
        win.x += (((size_t)b * d->in_h + (size_t)(y0 + ky0 * d->dil_h)) * d->in_w +
                  (size_t)(x0 + kx0 * d->dil_w)) * d->in_c;
    } else {
        win.nky = 0;
    }
    win.w = w + ((size_t)ky0 * d->k_w + (size_t)kx0) * d->out_c;
    if (full) {
        dw_full_pixel(d, &win, op);
        return;
    }
    const int32_t off = d->input_offset;
    int32_t c = 0;
    for (; c + 4 <= d->out_c; c += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        dw_acc4(&win, c, off, 1, win.nky, win.nkx, a);
        for (int k = 0; k < 4; ++k) {
            const int32_t base = bias ? hn_bias_i32(bias + 4 * (c + k)) : 0;
            op[c + k] = dw_requantize(d, hn_wrap_add(base, a[k]), c + k);
        }
    }
    dw_tail(d, &win, bias, 0, c, op);
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
    return bias ? hn_wrap_add(acc, hn_bias_i32(bias + 4 * oc)) : acc;
}

static hn_status dw_eval(hn_op_ctx *ctx)
{
    const hn_conv_data *d = ctx->op_data;
    const int8_t *in = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *w = (const int8_t *)ctx->inputs[1]->data;
    const hn_tensor *bt = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const uint8_t *bias = bt ? bt->data : NULL;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    for (int32_t b = 0; b < d->batches; ++b) {
        for (int32_t oy = 0; oy < d->out_h; ++oy) {
            const int32_t y0 = oy * d->stride_h - d->pad_h;
            for (int32_t ox = 0; ox < d->out_w; ++ox) {
                const int32_t x0 = ox * d->stride_w - d->pad_w;
                int8_t *op = out + (((size_t)b * d->out_h + oy) * d->out_w + ox) * d->out_c;
                if (d->ch_bias != NULL) { /* depth multiplier 1 */
                    dw_pixel(d, in, w, bias, b, y0, x0, op);
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
