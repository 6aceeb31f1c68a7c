/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, int8 (TFLM reference_integer_ops pooling):
 * windows are clipped to the input (padding never counts), the average rounds
 * half away from zero.
 */
#include "hn_conv_common.h"

typedef struct {
    hn_conv_data g; /* geometry: k_h/k_w = filter, strides, padding */
    int32_t is_max;
} pool_data;

static hn_status pool_prepare(hn_op_ctx *ctx, int32_t is_max)
{
    pool_data *p = ctx->op_data;
    hn_conv_data *d = &p->g;
    hn_status s = hn_check_io(ctx, 1, 1, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if ((s = hn_check_type(ctx, in, HN_TYPE_INT8, "input")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, out, HN_TYPE_INT8, "output")) != HN_OK) return s;
    if ((s = hn_check_ndim(ctx, in, 4, "input")) != HN_OK) return s;
    if ((s = hn_check_ndim(ctx, out, 4, "output")) != HN_OK) return s;
    p->is_max = is_max;
    d->pad_kind = hn_fb_u8(&ctx->options, 0, HN_PAD_SAME);
    d->stride_w = hn_fb_i32(&ctx->options, 1, 1);
    d->stride_h = hn_fb_i32(&ctx->options, 2, 1);
    d->k_w = hn_fb_i32(&ctx->options, 3, 1);
    d->k_h = hn_fb_i32(&ctx->options, 4, 1);
    int32_t act = hn_fb_u8(&ctx->options, 5, 0);
    d->dil_w = d->dil_h = 1;
    if ((s = hn_conv_geometry(ctx, d)) != HN_OK) return s;
    if (out->dims[3] != in->dims[3]) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "output channels %ld != input channels %ld",
                           (long)out->dims[3], (long)in->dims[3]);
    }
    return hn_fused_activation(ctx, act, out, &d->act_min, &d->act_max);
}

static hn_status avg_prepare(hn_op_ctx *ctx) { return pool_prepare(ctx, 0); }
static hn_status max_prepare(hn_op_ctx *ctx) { return pool_prepare(ctx, 1); }

static int32_t pool_window(const pool_data *p, const int8_t *in, int32_t b, int32_t oy, int32_t ox,
                           int32_t c)
{
    const hn_conv_data *d = &p->g;
    const int32_t y0 = oy * d->stride_h - d->pad_h;
    const int32_t x0 = ox * d->stride_w - d->pad_w;
    const int32_t fy0 = hn_max_i32(0, -y0), fy1 = hn_min_i32(d->k_h, d->in_h - y0);
    const int32_t fx0 = hn_max_i32(0, -x0), fx1 = hn_min_i32(d->k_w, d->in_w - x0);
    int32_t acc = p->is_max ? -128 : 0;
    int32_t count = 0;
    for (int32_t fy = fy0; fy < fy1; ++fy) {
        for (int32_t fx = fx0; fx < fx1; ++fx) {
            int32_t v = in[(((size_t)b * d->in_h + y0 + fy) * d->in_w + x0 + fx) * d->in_c + c];
            if (p->is_max) {
                acc = v > acc ? v : acc;
            } else {
                acc += v;
            }
            ++count;
        }
    }
    if (!p->is_max) {
        if (count == 0) return 0;
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    }
    return hn_clamp_i32(acc, d->act_min, d->act_max);
}

static hn_status pool_eval(hn_op_ctx *ctx)
{
    const pool_data *p = ctx->op_data;
    const hn_conv_data *d = &p->g;
    const int8_t *in = (const int8_t *)ctx->inputs[0]->data;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    size_t o = 0;
    for (int32_t b = 0; b < d->batches; ++b) {
        for (int32_t oy = 0; oy < d->out_h; ++oy) {
            for (int32_t ox = 0; ox < d->out_w; ++ox) {
                for (int32_t c = 0; c < d->in_c; ++c) {
                    out[o++] = (int8_t)pool_window(p, in, b, oy, ox, c);
                }
            }
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_AVERAGE_POOL_2D = {"AVERAGE_POOL_2D", sizeof(pool_data), avg_prepare,
                                          pool_eval};
const hn_op_impl hn_op_MAX_POOL_2D = {"MAX_POOL_2D", sizeof(pool_data), max_prepare, pool_eval};

HN_OP_DATA_FITS(pool_data);
