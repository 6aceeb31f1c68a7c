/*
 * TRANSPOSE of an int8 tensor by a constant int32 permutation (rank <= 6),
 * as TFLM's reference kernel: output dimension i is input dimension perm[i],
 * values are copied unchanged (no requantization).
 */
#include "hn_kernel_util.h"
#include "hn_op.h"
#include "hn_qmath.h"
#include "hn_qmath_nl.h"

typedef struct {
    int32_t ndim;
    int32_t dims[HN_MAX_DIMS];       /* output shape */
    int32_t in_strides[HN_MAX_DIMS]; /* input stride of output dimension i */
} transpose_data;

static hn_status read_perm(hn_op_ctx *ctx, const hn_tensor *in, int32_t *perm)
{
    const hn_tensor *p = ctx->inputs[1];
    if (p->type != HN_TYPE_INT32 || !p->is_const || p->data == NULL) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "the permutation must be a constant int32 tensor");
    }
    const int32_t n = hn_num_elements(p);
    if (n != in->ndim || (uint32_t)n * 4u > p->bytes) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "permutation has %ld entries for a rank-%d input", (long)n,
                           (int)in->ndim);
    }
    uint32_t seen = 0;
    for (int32_t i = 0; i < n; ++i) {
        perm[i] = hn_read_i32(p->data + 4 * i);
        if (perm[i] < 0 || perm[i] >= n || (seen & (1u << perm[i]))) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                               "entry %ld (%ld) of the permutation is invalid", (long)i,
                               (long)perm[i]);
        }
        seen |= 1u << perm[i];
    }
    return HN_OK;
}

static hn_status transpose_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 2, 2, 1);
    const hn_tensor *in = ctx->inputs[0];
    const hn_tensor *out = ctx->outputs[0];
    if (s == HN_OK && (in->type != HN_TYPE_INT8 || out->type != HN_TYPE_INT8)) {
        s = hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                        "input/output types %d/%d, only int8 (9) is supported",
                        (int)in->type, (int)out->type);
    }
    int32_t perm[HN_MAX_DIMS];
    if (s == HN_OK) {
        s = read_perm(ctx, in, perm);
    }
    if (s != HN_OK) {
        return s;
    }
    transpose_data *d = (transpose_data *)ctx->op_data;
    int32_t strides[HN_MAX_DIMS];
    int32_t stride = 1;
    for (int i = (int)in->ndim - 1; i >= 0; --i) {
        strides[i] = stride;
        stride *= in->dims[i];
    }
    d->ndim = in->ndim;
    int ok = out->ndim == in->ndim;
    for (int i = 0; i < (int)in->ndim && ok; ++i) {
        d->dims[i] = in->dims[perm[i]];
        d->in_strides[i] = strides[perm[i]];
        ok = out->dims[i] == d->dims[i];
    }
    if (!ok) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED,
                           "output shape is not the permuted input shape");
    }
    return HN_OK;
}

static hn_status transpose_eval(hn_op_ctx *ctx)
{
    const transpose_data *d = (const transpose_data *)ctx->op_data;
    const int8_t *x = (const int8_t *)ctx->inputs[0]->data;
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(ctx->outputs[0]);
    int32_t index[HN_MAX_DIMS] = {0};
    int32_t o = 0;
    for (int32_t i = 0; i < n; ++i) {
        y[i] = x[o];
        for (int k = d->ndim - 1; k >= 0; --k) {
            o += d->in_strides[k];
            if (++index[k] < d->dims[k]) {
                break;
            }
            o -= d->in_strides[k] * d->dims[k];
            index[k] = 0;
        }
    }
    return HN_OK;
}

const hn_op_impl hn_op_TRANSPOSE = {
    "TRANSPOSE", (uint32_t)sizeof(transpose_data), transpose_prepare, transpose_eval,
};

HN_OP_DATA_FITS(transpose_data);
