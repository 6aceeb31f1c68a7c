/* Shared prepare logic of CONV_2D and DEPTHWISE_CONV_2D (geometry, checks,
 * per-channel multipliers), like TFLM's conv_common.cc. */
#ifndef HN_CONV_COMMON_H
#define HN_CONV_COMMON_H

#include "hn_dot.h"
#include "hn_kernel_util.h"

typedef struct {
    int32_t pad_kind, stride_w, stride_h, dil_w, dil_h;
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c;
    int32_t k_h, k_w, filter_in_c, out_c_per_group, depth_multiplier;
    int32_t pad_h, pad_w;
    int32_t input_offset, output_offset, act_min, act_max;
    int32_t *ch_multiplier;
    int8_t *ch_shift;
    /* bias + input_offset * sum(filter[oc]): lets interior windows (all taps
     * inside the input) skip the per-tap offset add; exact integer algebra.
     * NULL for depthwise/pooling. */
    int32_t *ch_bias;
} hn_conv_data;

/* Per-channel requantisation parameters copied into locals once per pixel: the
 * int8 output stores may alias anything, so reading them through the op data
 * made the compiler reload six words per output. */
typedef struct {
    const int32_t *mult;
    const int8_t *shift;
    const int32_t *bias; /* ch_bias, or NULL */
    int32_t out_off, lo, hi;
} hn_ch_rq;

static inline hn_ch_rq hn_ch_rq_of(const hn_conv_data *d)
{
    hn_ch_rq q = {d->ch_multiplier, d->ch_shift, d->ch_bias, d->output_offset, d->act_min,
                  d->act_max};
    return q;
}

/* acc (bias included) -> int8 output of channel c. Shifts are stored clamped to
 * [-31, 31]; a right shift (the usual case) is hn_mbqm_pos without its branches:
 * ~shift == right - 1. */
static inline int8_t hn_ch_rq_apply(hn_ch_rq q, int32_t acc, int32_t c)
{
    const int sh = q.shift[c];
    int32_t v;
    if (__builtin_expect(sh < 0, 1)) {
        const int32_t h = (int32_t)(((int64_t)acc * q.mult[c] + (1ll << 30)) >> 31);
        v = (((h + (h >> 31)) >> ~sh) + 1) >> 1;
    } else {
        v = hn_mbqm_pos(acc, q.mult[c], sh);
    }
    v += q.out_off;
    v = v < q.lo ? q.lo : v;
    return (int8_t)(v > q.hi ? q.hi : v);
}

hn_status hn_conv_check_common(hn_op_ctx *ctx, unsigned filter_ndim);
hn_status hn_conv_geometry(hn_op_ctx *ctx, hn_conv_data *d);
hn_status hn_conv_multipliers(hn_op_ctx *ctx, hn_conv_data *d);
/* Fold bias and input offset into ch_bias (CONV_2D, groups of filter_in_c). */
hn_status hn_conv_fold_bias(hn_op_ctx *ctx, hn_conv_data *d);

#endif
