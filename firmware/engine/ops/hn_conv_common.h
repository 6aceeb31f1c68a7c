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

hn_status hn_conv_check_common(hn_op_ctx *ctx, unsigned filter_ndim);
hn_status hn_conv_geometry(hn_op_ctx *ctx, hn_conv_data *d);
hn_status hn_conv_multipliers(hn_op_ctx *ctx, hn_conv_data *d);
/* Fold bias and input offset into ch_bias (CONV_2D, groups of filter_in_c). */
hn_status hn_conv_fold_bias(hn_op_ctx *ctx, hn_conv_data *d);

#endif
