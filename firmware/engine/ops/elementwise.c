/*
 * ADD, SUB, MUL for int8 with NumPy broadcasting up to HN_MAX_DIMS dims
 * (TFLM: AddElementwise / BroadcastAdd6DSlow, same per-element arithmetic,
 * so one broadcast-aware loop is bit-exact for both). ADD/SUB rescale both
 * inputs to a common scale with left_shift 20 (TFLM add/sub prepare); MUL
 * uses one multiplier in1*in2/out.
 */
#include "hn_kernel_util.h"

enum { EW_ADD, EW_SUB, EW_MUL };

#define ADD_LEFT_SHIFT 20 /* TFLM add/sub prepare: kAddLeftShift-style headroom */

typedef struct {
    int32_t kind;
    int32_t ndim;
    int32_t out_dims[HN_MAX_DIMS];
    int32_t stride1[HN_MAX_DIMS]; /* element strides, 0 on broadcast dims */
    int32_t stride2[HN_MAX_DIMS];
    int32_t input1_offset, input2_offset, output_offset;
    int32_t input1_multiplier, input2_multiplier, output_multiplier;
    int32_t input1_shift, input2_shift, output_shift, left_shift;
    int32_t act_min, act_max;
    int32_t total;
    int32_t same_shape; /* no broadcasting: one flat loop */
} ew_data;

static hn_status broadcast_strides(hn_op_ctx *ctx, const hn_tensor *in, const hn_tensor *out,
                                   int32_t *strides, const char *what)
{
    if (in->ndim > out->ndim) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "%s has more dims than the output", what);
    }
    int32_t stride = 1;
    for (int d = (int)out->ndim - 1; d >= 0; --d) {
        int id = d - ((int)out->ndim - (int)in->ndim);
        int32_t dim = id >= 0 ? in->dims[id] : 1;
        if (dim != out->dims[d] && dim != 1) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "%s dim %d (%ld) does not broadcast to output dim %ld", what, id,
                               (long)dim, (long)out->dims[d]);
        }
        strides[d] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
    return HN_OK;
}

static void add_sub_multipliers(ew_data *d, const hn_tensor *a, const hn_tensor *b,
                                const hn_tensor *out)
{
    int sh = 0;
    d->left_shift = ADD_LEFT_SHIFT;
    const double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
    hn_quantize_multiplier_lt1((double)a->scale / twice_max, &d->input1_multiplier, &sh);
    d->input1_shift = sh;
    hn_quantize_multiplier_lt1((double)b->scale / twice_max, &d->input2_multiplier, &sh);
    d->input2_shift = sh;
    hn_quantize_multiplier_lt1(twice_max / ((double)(1 << d->left_shift) * (double)out->scale),
                               &d->output_multiplier, &sh);
    d->output_shift = sh;
}

static hn_status ew_prepare(hn_op_ctx *ctx, int32_t kind)
{
    ew_data *d = ctx->op_data;
    hn_status s = hn_check_io(ctx, 2, 2, 1);
    if (s != HN_OK) return s;
    const hn_tensor *a = ctx->inputs[0], *b = ctx->inputs[1], *out = ctx->outputs[0];
    if ((s = hn_check_type(ctx, a, HN_TYPE_INT8, "input 1")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, b, HN_TYPE_INT8, "input 2")) != HN_OK) return s;
    if ((s = hn_check_type(ctx, out, HN_TYPE_INT8, "output")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, a, "input 1")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, b, "input 2")) != HN_OK) return s;
    if ((s = hn_check_quant(ctx, out, "output")) != HN_OK) return s;
    d->kind = kind;
    d->ndim = out->ndim;
    for (unsigned i = 0; i < out->ndim; ++i) d->out_dims[i] = out->dims[i];
    if ((s = broadcast_strides(ctx, a, out, d->stride1, "input 1")) != HN_OK) return s;
    if ((s = broadcast_strides(ctx, b, out, d->stride2, "input 2")) != HN_OK) return s;
    d->total = hn_num_elements(out);
    d->same_shape = hn_num_elements(a) == d->total && hn_num_elements(b) == d->total;
    d->input1_offset = -a->zero_point;
    d->input2_offset = -b->zero_point;
    d->output_offset = out->zero_point;
    s = hn_fused_activation(ctx, hn_fb_u8(&ctx->options, 0, 0), out, &d->act_min, &d->act_max);
    if (s != HN_OK) return s;
    if (kind == EW_MUL) {
        int sh = 0;
        hn_quantize_multiplier((double)a->scale * (double)b->scale / (double)out->scale,
                               &d->output_multiplier, &sh);
        d->output_shift = sh;
    } else {
        add_sub_multipliers(d, a, b, out);
    }
    return HN_OK;
}

static hn_status add_prepare(hn_op_ctx *ctx) { return ew_prepare(ctx, EW_ADD); }
static hn_status sub_prepare(hn_op_ctx *ctx) { return ew_prepare(ctx, EW_SUB); }
static hn_status mul_prepare(hn_op_ctx *ctx) { return ew_prepare(ctx, EW_MUL); }

/* The per-element parameters, copied into locals once per eval: the int8 output
 * stores may alias anything, so reading them through the op data made GCC reload
 * about ten words per element. */
typedef struct {
    int32_t kind, input1_offset, input2_offset, output_offset;
    int32_t input1_multiplier, input2_multiplier, output_multiplier;
    int32_t input1_shift, input2_shift, output_shift, left_shift;
    int32_t act_min, act_max;
} ew_params;

static inline ew_params ew_params_of(const ew_data *d)
{
    ew_params p = {d->kind, d->input1_offset, d->input2_offset, d->output_offset,
                   d->input1_multiplier, d->input2_multiplier, d->output_multiplier,
                   d->input1_shift, d->input2_shift, d->output_shift, d->left_shift,
                   d->act_min, d->act_max};
    return p;
}

static inline int32_t ew_one(ew_params d, int32_t x1, int32_t x2)
{
    const int32_t v1 = d.input1_offset + x1;
    const int32_t v2 = d.input2_offset + x2;
    int32_t r;
    /* The multipliers come from Quantize* helpers (never INT32_MIN), so the
     * fast forms give TFLM's bits. */
    if (d.kind == EW_MUL) {
        r = d.output_offset + hn_mbqm_pos(v1 * v2, d.output_multiplier, d.output_shift);
    } else {
        const int32_t s1 = hn_mbqm_small_fast(v1 * (1 << d.left_shift), d.input1_multiplier,
                                              d.input1_shift);
        const int32_t s2 = hn_mbqm_small_fast(v2 * (1 << d.left_shift), d.input2_multiplier,
                                              d.input2_shift);
        const int32_t raw = d.kind == EW_ADD ? s1 + s2 : s1 - s2;
        r = hn_mbqm_small_fast(raw, d.output_multiplier, d.output_shift) + d.output_offset;
    }
    return hn_clamp_i32(r, d.act_min, d.act_max);
}

/* hn_mbqm_small_fast with the right shift r (0..31) worked out once per eval and
 * the usual r > 0 case straight-line. */
static inline int32_t ew_mbqm_r(int32_t x, int32_t multiplier, int32_t r)
{
    const int32_t h = (int32_t)(((int64_t)x * multiplier + (1ll << 30)) >> 31);
    if (__builtin_expect(r > 0, 1)) {
        return (((h + (h >> 31)) >> (r - 1)) + 1) >> 1;
    }
    return h;
}

static inline int32_t ew_right(int32_t left_shift)
{
    return left_shift < 0 ? (left_shift < -31 ? 31 : -left_shift) : 0;
}

/* ADD with the constant left shift (an immediate shift on the core). */
static inline int32_t ew_add(ew_params d, int32_t r1, int32_t r2, int32_t ro, int32_t x1,
                             int32_t x2)
{
    const int32_t v1 = d.input1_offset + x1;
    const int32_t v2 = d.input2_offset + x2;
    const int32_t s1 = ew_mbqm_r(v1 * (1 << ADD_LEFT_SHIFT), d.input1_multiplier, r1);
    const int32_t s2 = ew_mbqm_r(v2 * (1 << ADD_LEFT_SHIFT), d.input2_multiplier, r2);
    const int32_t r = ew_mbqm_r(s1 + s2, d.output_multiplier, ro) + d.output_offset;
    return hn_clamp_i32(r, d.act_min, d.act_max);
}

/* n outputs from a[i * s1], b[i * s2] (strides 0 or 1: one broadcast row). One
 * loop per kind so that no kind test runs per element. */
static void ew_row(ew_params p, const int8_t *a, int32_t s1, const int8_t *b, int32_t s2,
                   int8_t *out, int32_t n)
{
    if (p.kind == EW_ADD) {
        const int32_t r1 = ew_right(p.input1_shift), r2 = ew_right(p.input2_shift);
        const int32_t ro = ew_right(p.output_shift);
        for (int32_t i = 0; i < n; ++i, a += s1, b += s2) {
            out[i] = (int8_t)ew_add(p, r1, r2, ro, *a, *b);
        }
    } else if (p.kind == EW_MUL) {
        for (int32_t i = 0; i < n; ++i, a += s1, b += s2) {
            const int32_t r = p.output_offset +
                              hn_mbqm_pos((p.input1_offset + *a) * (p.input2_offset + *b),
                                          p.output_multiplier, p.output_shift);
            out[i] = (int8_t)hn_clamp_i32(r, p.act_min, p.act_max);
        }
    } else {
        for (int32_t i = 0; i < n; ++i, a += s1, b += s2) out[i] = (int8_t)ew_one(p, *a, *b);
    }
}

static hn_status ew_eval(hn_op_ctx *ctx)
{
    const ew_data *d = ctx->op_data;
    const ew_params p = ew_params_of(d);
    const int8_t *a = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *b = (const int8_t *)ctx->inputs[1]->data;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    if (d->same_shape) {
        ew_row(p, a, 1, b, 1, out, d->total);
        return HN_OK;
    }
    /* Broadcast: the innermost dim is one row (input strides 0 or 1), the outer
     * dims advance odometer style once per row. */
    const int last = d->ndim - 1;
    const int32_t inner = last >= 0 ? d->out_dims[last] : 1;
    const int32_t s1 = last >= 0 ? d->stride1[last] : 0, s2 = last >= 0 ? d->stride2[last] : 0;
    int32_t idx[HN_MAX_DIMS] = {0};
    int32_t ia = 0, ib = 0;
    for (int32_t o = 0; o + inner <= d->total && inner > 0; o += inner) {
        ew_row(p, a + ia, s1, b + ib, s2, out + o, inner);
        for (int k = last - 1; k >= 0; --k) {
            ia += d->stride1[k];
            ib += d->stride2[k];
            if (++idx[k] < d->out_dims[k]) break;
            ia -= d->stride1[k] * d->out_dims[k];
            ib -= d->stride2[k] * d->out_dims[k];
            idx[k] = 0;
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_ADD = {"ADD", sizeof(ew_data), add_prepare, ew_eval};
const hn_op_impl hn_op_SUB = {"SUB", sizeof(ew_data), sub_prepare, ew_eval};
const hn_op_impl hn_op_MUL = {"MUL", sizeof(ew_data), mul_prepare, ew_eval};

HN_OP_DATA_FITS(ew_data);
