/*
 * BATCH_MATMUL, int8 x int8 -> int8, bit-exact with TFLM's reference kernel.
 *
 * out[b, i, j] = requant(sum_k (lhs[b, i, k] - lhs_zp) * (rhs[b, k, j] - rhs_zp))
 * with adj_x / adj_y transposing the last two dimensions of lhs / rhs, ranks
 * 2..5 and broadcasting of the batch dimensions (a batch dimension of 1
 * repeats), as TFLM supports. Requantization is TFLM's double-rounding
 * MultiplyByQuantizedMultiplier with multiplier lhs_scale * rhs_scale /
 * output_scale.
 *
 * The int32 sum is exact (it wraps modulo 2^32 exactly like TFLM's), so it may
 * be computed in any order: per batch, operands that are not laid out with
 * the depth contiguous are transposed into scratch (TFLM keeps transposed
 * copies of whole operands in persistent memory instead), and the zero points
 * are folded out of the inner loop:
 *   sum (l - zl)(r - zr) = sum l*r - zr*sum l - zl*sum r + depth*zl*zr.
 * The inner loop is then a plain contiguous int8 dot product.
 */
#include "hn_dot.h"
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

#define BMM_MAX_RANK 5
#define BMM_MAX_BATCH (BMM_MAX_RANK - 2)

typedef struct {
    int32_t lhs_zero_point, rhs_zero_point, output_zero_point;
    int32_t multiplier;
    int shift;
    int32_t rows, cols, depth;
    uint8_t adj_x, adj_y;
    int32_t n_batch_dims;
    int32_t batch_dims[BMM_MAX_BATCH];
    int32_t lhs_batch_strides[BMM_MAX_BATCH]; /* 0 where lhs is broadcast */
    int32_t rhs_batch_strides[BMM_MAX_BATCH];
    /* scratch layout: rhs column sums (cols int32), then transposed copies */
    uint32_t lhs_copy_offset; /* rows*depth bytes when adj_x */
    uint32_t rhs_copy_offset; /* cols*depth bytes when !adj_y */
} batch_matmul_data;

/* Dimension i of t once left-padded with 1s to `rank` dimensions. */
static int32_t padded_dim(const hn_tensor *t, int rank, int i)
{
    const int lead = rank - (int)t->ndim;
    return i < lead ? 1 : t->dims[i - lead];
}

/* Element stride of each batch dimension of t (0 where it has size 1). */
static void batch_strides(const hn_tensor *t, int rank, int32_t *strides)
{
    int32_t stride = padded_dim(t, rank, rank - 1) * padded_dim(t, rank, rank - 2);
    for (int i = rank - 3; i >= 0; --i) {
        const int32_t dim = padded_dim(t, rank, i);
        strides[i] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
}

static hn_status check_ranks(hn_op_ctx *ctx, const hn_tensor *lhs, const hn_tensor *rhs)
{
    if (lhs->ndim < 2 || lhs->ndim > BMM_MAX_RANK || rhs->ndim < 2 || rhs->ndim > BMM_MAX_RANK) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "operand ranks %d and %d, TFLM supports 2..5",
                           (int)lhs->ndim, (int)rhs->ndim);
    }
    return HN_OK;
}

static hn_status plan_shapes(hn_op_ctx *ctx, const hn_tensor *lhs, const hn_tensor *rhs,
                             const hn_tensor *out, batch_matmul_data *d)
{
    const int rank = lhs->ndim > rhs->ndim ? lhs->ndim : rhs->ndim;
    d->rows = padded_dim(lhs, rank, d->adj_x ? rank - 1 : rank - 2);
    d->depth = padded_dim(lhs, rank, d->adj_x ? rank - 2 : rank - 1);
    d->cols = padded_dim(rhs, rank, d->adj_y ? rank - 2 : rank - 1);
    const int32_t rhs_depth = padded_dim(rhs, rank, d->adj_y ? rank - 1 : rank - 2);
    if (rhs_depth != d->depth) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "lhs depth %ld != rhs depth %ld (adj_x=%d adj_y=%d)",
                           (long)d->depth, (long)rhs_depth, d->adj_x, d->adj_y);
    }
    d->n_batch_dims = rank - 2;
    batch_strides(lhs, rank, d->lhs_batch_strides);
    batch_strides(rhs, rank, d->rhs_batch_strides);
    int ok = out->ndim == rank && out->dims[rank - 2] == d->rows && out->dims[rank - 1] == d->cols;
    for (int i = 0; i < rank - 2 && ok; ++i) {
        const int32_t l = padded_dim(lhs, rank, i);
        const int32_t r = padded_dim(rhs, rank, i);
        if (l != r && l != 1 && r != 1) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "batch dimension %d does not broadcast (%ld vs %ld)", i,
                               (long)l, (long)r);
        }
        d->batch_dims[i] = l == 1 ? r : l;
        ok = out->dims[i] == d->batch_dims[i];
    }
    if (!ok) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "output shape does not match the operands' product shape");
    }
    return HN_OK;
}

static void plan_scratch(hn_op_ctx *ctx, batch_matmul_data *d)
{
    const uint32_t sums = (uint32_t)d->cols * (uint32_t)sizeof(int32_t);
    const uint32_t lhs_copy = d->adj_x ? (uint32_t)d->rows * (uint32_t)d->depth : 0u;
    const uint32_t rhs_copy = d->adj_y ? 0u : (uint32_t)d->cols * (uint32_t)d->depth;
    d->lhs_copy_offset = sums;
    d->rhs_copy_offset = sums + lhs_copy;
    ctx->scratch_bytes = sums + lhs_copy + rhs_copy;
}

static hn_status batch_matmul_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 2, 2, 1);
    const hn_tensor *lhs = ctx->inputs[0];
    const hn_tensor *rhs = ctx->inputs[1];
    const hn_tensor *out = ctx->outputs[0];
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "lhs", lhs);
    }
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "rhs", rhs);
    }
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "output", out);
    }
    if (s == HN_OK) {
        s = check_ranks(ctx, lhs, rhs);
    }
    if (s != HN_OK) {
        return s;
    }
    batch_matmul_data *d = (batch_matmul_data *)ctx->op_data;
    d->adj_x = (uint8_t)hn_fb_bool(&ctx->options, 0, 0);
    d->adj_y = (uint8_t)hn_fb_bool(&ctx->options, 1, 0);
    s = plan_shapes(ctx, lhs, rhs, out, d);
    if (s != HN_OK) {
        return s;
    }
    hn_quantize_multiplier((double)lhs->scale * (double)rhs->scale / (double)out->scale,
                              &d->multiplier, &d->shift);
    d->lhs_zero_point = lhs->zero_point;
    d->rhs_zero_point = rhs->zero_point;
    d->output_zero_point = out->zero_point;
    plan_scratch(ctx, d);
    return HN_OK;
}

/* dst[a * inner + b] = src[b * outer + a]: depth becomes contiguous. */
static void transpose_into(const int8_t *src, int32_t outer, int32_t inner, int8_t *dst)
{
    for (int32_t a = 0; a < outer; ++a) {
        for (int32_t b = 0; b < inner; ++b) {
            dst[a * inner + b] = src[b * outer + a];
        }
    }
}

/* Sums wrap modulo 2^32 (uint32) like TFLM's int32 accumulators, without
 * C's signed-overflow UB for hostile depths. */
static int32_t sum_i8(const int8_t *v, int32_t n)
{
    uint32_t s = 0;
    for (int32_t k = 0; k < n; ++k) {
        s += (uint32_t)(int32_t)v[k];
    }
    return (int32_t)s;
}

static int32_t dot_i8(const int8_t *a, const int8_t *b, int32_t n)
{
    uint32_t s = 0;
    for (int32_t k = 0; k < n; ++k) {
        s += (uint32_t)((int32_t)a[k] * (int32_t)b[k]);
    }
    return (int32_t)s;
}

/* Two dot products sharing the lhs row: one lhs load feeds two MACs. */
static void dot2_i8(const int8_t *a, const int8_t *b0, const int8_t *b1, int32_t n,
                    int32_t *s0, int32_t *s1)
{
    uint32_t acc0 = 0;
    uint32_t acc1 = 0;
    for (int32_t k = 0; k < n; ++k) {
        const int32_t x = a[k];
        acc0 += (uint32_t)(x * (int32_t)b0[k]);
        acc1 += (uint32_t)(x * (int32_t)b1[k]);
    }
    *s0 = (int32_t)acc0;
    *s1 = (int32_t)acc1;
}

static int8_t requantize(const batch_matmul_data *d, uint32_t acc)
{
    const int32_t v = hn_mbqm_pos((int32_t)acc, d->multiplier, d->shift) + d->output_zero_point;
    return (int8_t)(v > INT8_MAX ? INT8_MAX : (v < INT8_MIN ? INT8_MIN : v));
}

/* Depths up to which int32 dot products of int8 cannot overflow (|sum| <=
 * 2^16 * 2^14), so the SMLAD dot products give the wrapped sums' bits. */
#define DOT4_MAX_DEPTH 65536

/* One matrix product; lhs rows and rhs columns have contiguous depth. */
static void matmul_one(const batch_matmul_data *d, const int8_t *lhs, const int8_t *rhs,
                       const int32_t *rhs_sums, int8_t *out)
{
    const uint32_t zl = (uint32_t)d->lhs_zero_point;
    const uint32_t zr = (uint32_t)d->rhs_zero_point;
    const uint32_t zero_points_term = (uint32_t)d->depth * zl * zr;
    for (int32_t i = 0; i < d->rows; ++i) {
        const int8_t *l = lhs + i * d->depth;
        const uint32_t lhs_term = zr * (uint32_t)sum_i8(l, d->depth);
        /* modulo-2^32 arithmetic: the exact sum fits int32 as in TFLM */
        const uint32_t row_term = zero_points_term - lhs_term;
        int8_t *o = out + i * d->cols;
        int32_t j = 0;
        if (d->depth <= DOT4_MAX_DEPTH) { /* four columns share the lhs loads */
            for (; j + 4 <= d->cols; j += 4) {
                int32_t dot[4] = {0, 0, 0, 0};
                hn_dot4_s8(rhs + j * d->depth, d->depth, l, d->depth, dot);
                for (int k = 0; k < 4; ++k) {
                    o[j + k] = requantize(d, (uint32_t)dot[k] + row_term -
                                                 zl * (uint32_t)rhs_sums[j + k]);
                }
            }
        }
        for (; j + 1 < d->cols; j += 2) {
            int32_t dot0 = 0;
            int32_t dot1 = 0;
            dot2_i8(l, rhs + j * d->depth, rhs + (j + 1) * d->depth, d->depth, &dot0, &dot1);
            o[j] = requantize(d, (uint32_t)dot0 + row_term - zl * (uint32_t)rhs_sums[j]);
            o[j + 1] = requantize(d, (uint32_t)dot1 + row_term - zl * (uint32_t)rhs_sums[j + 1]);
        }
        if (j < d->cols) {
            const int32_t dot = dot_i8(l, rhs + j * d->depth, d->depth);
            o[j] = requantize(d, (uint32_t)dot + row_term - zl * (uint32_t)rhs_sums[j]);
        }
    }
}

/* Lays one batch's operands out with contiguous depth (copying into scratch
 * only when needed and only when the source changed) and multiplies them. */
static void matmul_batch(const batch_matmul_data *d, const int8_t *lhs, const int8_t *rhs,
                         uint8_t *scratch, int8_t *out, const int8_t **last_lhs,
                         const int8_t **last_rhs)
{
    int32_t *rhs_sums = (int32_t *)scratch;
    int8_t *lhs_copy = (int8_t *)(scratch + d->lhs_copy_offset);
    int8_t *rhs_copy = (int8_t *)(scratch + d->rhs_copy_offset);
    const int8_t *l = d->adj_x ? lhs_copy : lhs;
    const int8_t *r = d->adj_y ? rhs : rhs_copy;
    if (d->adj_x && lhs != *last_lhs) {
        transpose_into(lhs, d->rows, d->depth, lhs_copy);
    }
    if (rhs != *last_rhs) {
        if (!d->adj_y) {
            transpose_into(rhs, d->cols, d->depth, rhs_copy);
        }
        for (int32_t j = 0; j < d->cols; ++j) {
            rhs_sums[j] = sum_i8(r + j * d->depth, d->depth);
        }
    }
    *last_lhs = lhs;
    *last_rhs = rhs;
    matmul_one(d, l, r, rhs_sums, out);
}

static hn_status batch_matmul_eval(hn_op_ctx *ctx)
{
    const batch_matmul_data *d = (const batch_matmul_data *)ctx->op_data;
    const int8_t *lhs = (const int8_t *)ctx->inputs[0]->data;
    const int8_t *rhs = (const int8_t *)ctx->inputs[1]->data;
    int8_t *out = (int8_t *)ctx->outputs[0]->data;
    int32_t n_batches = 1;
    for (int i = 0; i < d->n_batch_dims; ++i) {
        n_batches *= d->batch_dims[i];
    }
    int32_t index[BMM_MAX_BATCH] = {0};
    int32_t lo = 0;
    int32_t ro = 0;
    const int8_t *last_lhs = NULL;
    const int8_t *last_rhs = NULL;
    for (int32_t b = 0; b < n_batches; ++b) {
        matmul_batch(d, lhs + lo, rhs + ro, (uint8_t *)ctx->scratch,
                     out + b * d->rows * d->cols, &last_lhs, &last_rhs);
        for (int k = d->n_batch_dims - 1; k >= 0; --k) {
            lo += d->lhs_batch_strides[k];
            ro += d->rhs_batch_strides[k];
            if (++index[k] < d->batch_dims[k]) {
                break;
            }
            lo -= d->lhs_batch_strides[k] * d->batch_dims[k];
            ro -= d->rhs_batch_strides[k] * d->batch_dims[k];
            index[k] = 0;
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_BATCH_MATMUL = {
    "BATCH_MATMUL", (uint32_t)sizeof(batch_matmul_data), batch_matmul_prepare, batch_matmul_eval,
};

HN_OP_DATA_FITS(batch_matmul_data);
