/* Shared prepare logic of CONV_2D and DEPTHWISE_CONV_2D. */
#include "hn_conv_common.h"

hn_status hn_conv_check_common(hn_op_ctx *ctx, unsigned filter_ndim)
{
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    const hn_tensor *bias = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    hn_status s;
    if ((s = hn_check_type(ctx, in, HN_TYPE_INT8, "input")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, w, HN_TYPE_INT8, "filter")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, out, HN_TYPE_INT8, "output")) != HN_OK) return s;
    if ((s = hn_check_ndim(ctx, in, 4, "input")) != HN_OK) return s;
    if ((s = hn_check_ndim(ctx, w, filter_ndim, "filter")) != HN_OK) return s;
    if ((s = hn_check_ndim(ctx, out, 4, "output")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, in, "input")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, w, "filter")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, out, "output")) != HN_OK) return s;
    if (!w->is_const) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "filter must be constant");
    }
    if (bias != NULL) {
        if ((s = hn_check_type(ctx, bias, HN_TYPE_INT32, "bias")) != HN_OK) return s;
        if (!bias->is_const) { /* folded into ch_bias in prepare */
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "bias must be constant");
        }
    }
    return HN_OK;
}

hn_status hn_conv_geometry(hn_op_ctx *ctx, hn_conv_data *d)
{
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    const hn_tensor *bias = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    if (d->stride_w < 1 || d->stride_h < 1 || d->dil_w < 1 || d->dil_h < 1 ||
        d->stride_w > 4096 || d->stride_h > 4096 || d->dil_w > 4096 || d->dil_h > 4096) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "stride %ldx%ld / dilation %ldx%ld invalid",
                           (long)d->stride_h, (long)d->stride_w, (long)d->dil_h, (long)d->dil_w);
    }
    if (d->pad_kind != HN_PAD_SAME && d->pad_kind != HN_PAD_VALID) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "padding %ld unsupported", (long)d->pad_kind);
    }
    if (d->k_h <= 0 || d->k_w <= 0 || d->k_h > 4096 || d->k_w > 4096) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "filter size %ldx%ld invalid", (long)d->k_h,
                           (long)d->k_w);
    }
    d->batches = in->dims[0];
    d->in_h = in->dims[1];
    d->in_w = in->dims[2];
    d->in_c = in->dims[3];
    d->out_h = hn_conv_out_size(d->pad_kind, d->in_h, d->k_h, d->stride_h, d->dil_h);
    d->out_w = hn_conv_out_size(d->pad_kind, d->in_w, d->k_w, d->stride_w, d->dil_w);
    if (d->out_h <= 0 || d->out_w <= 0 || out->dims[0] != d->batches || out->dims[1] != d->out_h ||
        out->dims[2] != d->out_w) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "output shape %ldx%ldx%ldx%ld does not match computed %ldx%ldx%ld",
                           (long)out->dims[0], (long)out->dims[1], (long)out->dims[2],
                           (long)out->dims[3], (long)d->batches, (long)d->out_h, (long)d->out_w);
    }
    if ((int64_t)d->k_h * d->k_w * (d->filter_in_c > 0 ? d->filter_in_c : 1) > 65536) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "window %ldx%ldx%ld exceeds 65536 terms (int32 accumulator bound)",
                           (long)d->k_h, (long)d->k_w, (long)d->filter_in_c);
    }
    d->pad_h = hn_conv_pad(d->pad_kind, d->in_h, d->k_h, d->stride_h, d->dil_h, d->out_h);
    d->pad_w = hn_conv_pad(d->pad_kind, d->in_w, d->k_w, d->stride_w, d->dil_w, d->out_w);
    if (bias != NULL && hn_num_elements(bias) != out->dims[3]) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "bias has %ld elements, expected %ld",
                           (long)hn_num_elements(bias), (long)out->dims[3]);
    }
    return HN_OK;
}

hn_status hn_conv_multipliers(hn_op_ctx *ctx, hn_conv_data *d)
{
    const hn_tensor *in = ctx->inputs[0], *w = ctx->inputs[1], *out = ctx->outputs[0];
    if (w->n_quant != 1 && (int32_t)w->n_quant != d->out_c) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "filter has %lu scales for %ld channels",
                           (unsigned long)w->n_quant, (long)d->out_c);
    }
    for (uint32_t c = 0; c < w->n_quant; ++c) {
        float sc = hn_tensor_scale(w, c);
        if (!(sc > 0.0f) || !(sc < 3.0e38f)) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "filter scale %lu invalid",
                               (unsigned long)c);
        }
        if (hn_tensor_zero_point(w, c) != 0) {
            return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "filter zero point must be 0");
        }
    }
    d->input_offset = -in->zero_point;
    d->output_offset = out->zero_point;
    d->ch_multiplier = hn_alloc_persistent(ctx, 4u * (uint32_t)d->out_c);
    d->ch_shift = hn_alloc_persistent(ctx, (uint32_t)d->out_c);
    if (d->ch_multiplier == NULL || d->ch_shift == NULL) return HN_ERR_ARENA_TOO_SMALL;
    for (int32_t c = 0; c < d->out_c; ++c) {
        double m = (double)in->scale * (double)hn_tensor_scale(w, (uint32_t)c) / (double)out->scale;
        int sh = 0;
        hn_quantize_multiplier(m, &d->ch_multiplier[c], &sh);
        /* hn_mbqm_pos shifts by at most 31 either way: clamping here gives the same
         * bits and lets hn_ch_rq_apply shift by ~shift without its own clamp. */
        d->ch_shift[c] = (int8_t)(sh < -31 ? -31 : (sh > 31 ? 31 : sh));
    }
    return HN_OK;
}

hn_status hn_conv_fold_bias(hn_op_ctx *ctx, hn_conv_data *d)
{
    const hn_tensor *w = ctx->inputs[1];
    const hn_tensor *bt = ctx->n_inputs > 2 ? ctx->inputs[2] : NULL;
    const int32_t per_oc = d->k_h * d->k_w * d->filter_in_c;
    d->ch_bias = hn_alloc_persistent(ctx, 4u * (uint32_t)d->out_c);
    if (d->ch_bias == NULL) return HN_ERR_ARENA_TOO_SMALL;
    for (int32_t oc = 0; oc < d->out_c; ++oc) {
        int32_t s = hn_sum_s8((const int8_t *)w->data + (size_t)oc * per_oc, per_oc);
        int32_t b = bt ? hn_read_i32(bt->data + 4 * oc) : 0;
        d->ch_bias[oc] = hn_wrap_add(b, s * d->input_offset);
    }
    return HN_OK;
}
