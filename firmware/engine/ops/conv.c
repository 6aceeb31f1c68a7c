/*
 * CONV_2D, int8 per-channel (TFLM reference_integer_ops::ConvPerChannel),
 * including dilation and grouped convolution. Multipliers follow TFLM's
 * PopulateConvolutionQuantizationParams: double(in) * double(filter[c]) /
 * double(out), computed once in prepare.
 */
#include <string.h>

#include "hn_conv_common.h"

/* ---- 2x2 output tile over an int16 im2col of two pixels -------------------
 * The general path (dilation_w 1, one group) gathers the windows of two output
 * pixels into scratch as int16 (x + input_offset; 0 for taps outside the
 * input, which TFLM skips: the same sum), then each pass computes 2 pixels x 2
 * output channels: every weight word loaded feeds four SMLADs and every
 * activation word two, and the activations are sign-extended once per pixel
 * instead of once per output channel. Requantisation once per output.
 *
 * Scratch layout (4 * K bytes, K = k_h * k_w * in_c): for each block of four
 * taps k..k+3, pixel 0 then pixel 1, each as the int16 pairs (k, k+2) and
 * (k+1, k+3), the lanes SXTB16 gives for a weight word and its ror-8; then the
 * K % 4 tail taps of pixel 0, then those of pixel 1, in order. */

typedef struct {
    int16_t *col;
    int32_t k, k4, tail, slot;
} col_writer;

static inline void col_put(col_writer *c, int32_t v)
{
    static const uint8_t lane[4] = {0, 2, 1, 3};
    const int32_t k = c->k++;
    size_t idx;
    if (k < c->k4) {
        idx = (size_t)(k >> 2) * 8u + (size_t)c->slot * 4u + lane[k & 3];
    } else {
        idx = (size_t)c->k4 * 2u + (size_t)(c->slot * c->tail + (k - c->k4));
    }
    c->col[idx] = (int16_t)v;
}

/* n taps at xp, all inside the input: word at a time where aligned to a block. */
static void col_seg(col_writer *c, const int8_t *xp, int32_t n, int32_t off)
{
    for (; n > 0 && (c->k & 3) != 0; --n) col_put(c, *xp++ + off);
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    const int32_t off2 = (int32_t)(((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16));
#endif
    int16_t *dst = c->col + (size_t)(c->k >> 2) * 8u + (size_t)c->slot * 4u;
    for (; n >= 4 && c->k + 4 <= c->k4; n -= 4, xp += 4, c->k += 4, dst += 8) {
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
        uint32_t xv;
        memcpy(&xv, xp, 4);
        const int32_t a = __sadd16(__sxtb16(xv), off2), b = __sadd16(hn_sxtb16_ror8(xv), off2);
        memcpy(dst, &a, 4);
        memcpy(dst + 2, &b, 4);
#else
        dst[0] = (int16_t)(xp[0] + off);
        dst[1] = (int16_t)(xp[2] + off);
        dst[2] = (int16_t)(xp[1] + off);
        dst[3] = (int16_t)(xp[3] + off);
#endif
    }
    for (; n > 0; --n) col_put(c, *xp++ + off);
}

static void col_zero(col_writer *c, int32_t n)
{
    for (; n > 0; --n) col_put(c, 0);
}

/* Window of the output pixel at (y0, x0) into scratch slot `slot`. */
static void col_fill(const hn_conv_data *d, const int8_t *in, int32_t b, int32_t y0, int32_t x0,
                     int16_t *col, int32_t slot)
{
    const int32_t k_all = d->k_h * d->k_w * d->in_c;
    col_writer c = {col, 0, k_all & ~3, k_all & 3, slot};
    const int32_t kx0 = x0 < 0 ? -x0 : 0;
    const int32_t kx1 = hn_min_i32(d->k_w, d->in_w - x0);
    const int32_t row = d->k_w * d->in_c;
    for (int32_t ky = 0; ky < d->k_h; ++ky) {
        const int32_t iy = y0 + ky * d->dil_h;
        if (iy < 0 || iy >= d->in_h || kx1 <= kx0) {
            col_zero(&c, row);
            continue;
        }
        const int8_t *xr = in + (((size_t)b * d->in_h + (size_t)iy) * d->in_w + (size_t)(x0 + kx0)) *
                                    d->in_c;
        col_zero(&c, kx0 * d->in_c);
        col_seg(&c, xr, (kx1 - kx0) * d->in_c, d->input_offset);
        col_zero(&c, (d->k_w - kx1) * d->in_c);
    }
}

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* One block of four taps: both pixels' int16 pairs by one LDM, both weight rows. */
#define TILE_BLOCK                                                                      \
    "ldm r0!, {r8, r9, r10, r11}\n\t"                                                   \
    "ldr r12, [r1, r2]\n\t"                                                             \
    "sxtb16 lr, r12\n\t"                                                                \
    "smlad r6, lr, r8, r6\n\t"                                                          \
    "smlad r7, lr, r10, r7\n\t"                                                         \
    "sxtb16 r12, r12, ror #8\n\t"                                                       \
    "smlad r6, r12, r9, r6\n\t"                                                         \
    "smlad r7, r12, r11, r7\n\t"                                                        \
    "ldr r12, [r1], #4\n\t"                                                             \
    "sxtb16 lr, r12\n\t"                                                                \
    "smlad r4, lr, r8, r4\n\t"                                                          \
    "smlad r5, lr, r10, r5\n\t"                                                         \
    "sxtb16 r12, r12, ror #8\n\t"                                                       \
    "smlad r4, r12, r9, r4\n\t"                                                         \
    "smlad r5, r12, r11, r5\n\t"

/* acc = {p0.w0, p1.w0, p0.w1, p1.w1} over nb >= 1 blocks of four taps: w0 the
 * first filter row, w1 = w0 + stride. Hand-scheduled so that the 4
 * accumulators, 4 activation words, 2 temporaries and the 4 loop registers fit
 * r0-r12 and lr; two blocks per loop pass: 16 instructions per 16 MACs. */
#define HN_ARG __attribute__((unused)) /* read by the asm through r0-r3, [sp] */
__attribute__((naked, noinline)) static void tile2x2_blocks(HN_ARG const int16_t *col,
                                                            HN_ARG const int8_t *w0,
                                                            HN_ARG int32_t stride, HN_ARG int32_t nb,
                                                            HN_ARG int32_t *acc)
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "movs r4, #0\n\t"
                     "movs r5, #0\n\t"
                     "movs r6, #0\n\t"
                     "movs r7, #0\n\t"
                     "lsrs r3, r3, #1\n\t" /* pairs of blocks; carry: one more */
                     "bcc 2f\n\t"
                     TILE_BLOCK
                     "2:\n\t"
                     "cmp r3, #0\n\t"
                     "beq 3f\n"
                     "1:\n\t"
                     TILE_BLOCK
                     TILE_BLOCK
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n"
                     "3:\n\t"
                     "ldr r12, [sp, #36]\n\t"
                     "stm r12, {r4, r5, r6, r7}\n\t"
                     "pop {r4-r11, pc}\n");
}
#endif

/* acc[0..3] = {p0.w0, p1.w0, p0.w1, p1.w1} (rows=2) or acc[0..1] = {p0.w0, p1.w0}
 * (rows=1) over all K taps of the two columns in scratch. */
static inline __attribute__((always_inline)) void tile_dot(const int16_t *col, const int8_t *w0,
                                                           int32_t k_all, int rows, int32_t *acc)
{
    const int32_t k4 = k_all & ~3, tail = k_all & 3;
    const int8_t *w1 = w0 + k_all;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    if (rows == 2 && k4 > 0) {
        int32_t r[4];
        tile2x2_blocks(col, w0, k_all, k4 >> 2, r);
        a0 = r[0];
        a1 = r[1];
        a2 = r[2];
        a3 = r[3];
    } else {
        const int16_t *cp = col;
        for (int32_t i = 0; i < k4; i += 4, cp += 8) {
            uint32_t wv, x0a, x0b, x1a, x1b;
            memcpy(&wv, w0 + i, 4);
            memcpy(&x0a, cp, 4);
            memcpy(&x0b, cp + 2, 4);
            memcpy(&x1a, cp + 4, 4);
            memcpy(&x1b, cp + 6, 4);
            const int32_t wa = __sxtb16(wv), wb = hn_sxtb16_ror8(wv);
            a0 = __smlad(wa, (int32_t)x0a, a0);
            a0 = __smlad(wb, (int32_t)x0b, a0);
            a1 = __smlad(wa, (int32_t)x1a, a1);
            a1 = __smlad(wb, (int32_t)x1b, a1);
        }
    }
#else
    for (int32_t i = 0; i < k4; i += 4) {
        const int16_t *c0 = col + (size_t)i * 2u, *c1 = c0 + 4;
        a0 += w0[i] * c0[0] + w0[i + 2] * c0[1] + w0[i + 1] * c0[2] + w0[i + 3] * c0[3];
        a1 += w0[i] * c1[0] + w0[i + 2] * c1[1] + w0[i + 1] * c1[2] + w0[i + 3] * c1[3];
        if (rows == 2) {
            a2 += w1[i] * c0[0] + w1[i + 2] * c0[1] + w1[i + 1] * c0[2] + w1[i + 3] * c0[3];
            a3 += w1[i] * c1[0] + w1[i + 2] * c1[1] + w1[i + 1] * c1[2] + w1[i + 3] * c1[3];
        }
    }
#endif
    const int16_t *t0 = col + (size_t)k4 * 2u, *t1 = t0 + tail;
    for (int32_t j = 0; j < tail; ++j) {
        a0 += w0[k4 + j] * t0[j];
        a1 += w0[k4 + j] * t1[j];
        if (rows == 2) {
            a2 += w1[k4 + j] * t0[j];
            a3 += w1[k4 + j] * t1[j];
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Largest window (taps) gathered into scratch: 1 KB of transient arena at most,
 * which every MLPerf Tiny model's plan absorbs within TFLM's arena. */
#define HN_TILE_MAX_TAPS 256

/* Bytes of the two-column int16 im2col (0: path not taken). */
static uint32_t conv_tile_scratch(const hn_conv_data *d)
{
    const int32_t k_all = d->k_h * d->k_w * d->in_c;
    if (d->dil_w != 1 || d->filter_in_c != d->in_c || k_all > HN_TILE_MAX_TAPS) return 0;
    return 4u * (uint32_t)k_all;
}

/* All output channels of a pixel pair whose windows are in scratch: two
 * channels per pass, requantised once each. Kept out of line so that its few
 * live values stay in registers (inlined into the pixel loop, GCC spilled them). */
static __attribute__((noinline)) void tile_pair(const int16_t *col, const int8_t *w,
                                                int32_t k_all, int32_t out_c,
                                                const uint8_t *bias, const hn_ch_rq *qp,
                                                int8_t *o0, int8_t *o1)
{
    const hn_ch_rq q = *qp;
    int32_t oc = 0;
    for (; oc + 2 <= out_c; oc += 2) {
        int32_t a[4];
        tile_dot(col, w + (size_t)oc * (size_t)k_all, k_all, 2, a);
        const int32_t b0 = bias ? hn_bias_i32(bias + 4 * oc) : 0;
        const int32_t b1 = bias ? hn_bias_i32(bias + 4 * (oc + 1)) : 0;
        o0[oc] = hn_ch_rq_apply(q, hn_wrap_add(b0, a[0]), oc);
        o0[oc + 1] = hn_ch_rq_apply(q, hn_wrap_add(b1, a[2]), oc + 1);
        o1[oc] = hn_ch_rq_apply(q, hn_wrap_add(b0, a[1]), oc);
        o1[oc + 1] = hn_ch_rq_apply(q, hn_wrap_add(b1, a[3]), oc + 1);
    }
    if (oc < out_c) {
        int32_t a[4];
        tile_dot(col, w + (size_t)oc * (size_t)k_all, k_all, 1, a);
        const int32_t b0 = bias ? hn_bias_i32(bias + 4 * oc) : 0;
        o0[oc] = hn_ch_rq_apply(q, hn_wrap_add(b0, a[0]), oc);
        o1[oc] = hn_ch_rq_apply(q, hn_wrap_add(b0, a[1]), oc);
    }
}

static void conv_eval_tiled(const hn_conv_data *d, int16_t *col, const int8_t *in,
                            const int8_t *w, const uint8_t *bias, int8_t *out)
{
    const int32_t k_all = d->k_h * d->k_w * d->in_c;
    const int32_t npix = d->out_h * d->out_w;
    const hn_ch_rq q = hn_ch_rq_of(d);
    for (int32_t b = 0; b < d->batches; ++b) {
        int32_t oy = 0, ox = 0;
        int8_t *ob = out + (size_t)b * (size_t)npix * (size_t)d->out_c;
        for (int32_t p = 0; p < npix; p += 2) {
            const int32_t p1 = p + 1 < npix ? p + 1 : p; /* odd count: the last pixel twice */
            const int32_t oy1 = ox + 1 == d->out_w ? oy + 1 : oy;
            const int32_t ox1 = ox + 1 == d->out_w ? 0 : ox + 1;
            col_fill(d, in, b, oy * d->stride_h - d->pad_h, ox * d->stride_w - d->pad_w, col, 0);
            if (p1 != p) {
                col_fill(d, in, b, oy1 * d->stride_h - d->pad_h, ox1 * d->stride_w - d->pad_w, col,
                         1);
                oy = ox1 + 1 == d->out_w ? oy1 + 1 : oy1;
                ox = ox1 + 1 == d->out_w ? 0 : ox1 + 1;
            } else {
                col_fill(d, in, b, oy * d->stride_h - d->pad_h, ox * d->stride_w - d->pad_w, col,
                         1);
            }
            tile_pair(col, w, k_all, d->out_c, bias, &q, ob + (size_t)p * (size_t)d->out_c,
                      ob + (size_t)p1 * (size_t)d->out_c);
        }
    }
}

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
    ctx->scratch_bytes = conv_tile_scratch(d); /* before any persistent request */
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
    if (ctx->scratch != NULL) {
        conv_eval_tiled(d, (int16_t *)ctx->scratch, in, w, bias, out);
        return HN_OK;
    }
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
