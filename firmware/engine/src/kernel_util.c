/* Shared validation helpers for kernel prepare() functions. */
#include "hn_kernel_util.h"

hn_status hn_check_io(hn_op_ctx *ctx, unsigned n_required, unsigned n_max_in, unsigned n_out)
{
    if (ctx->n_inputs < n_required || ctx->n_inputs > n_max_in) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "has %u inputs, expected %u..%u",
                           (unsigned)ctx->n_inputs, n_required, n_max_in);
    }
    for (unsigned i = 0; i < n_required; ++i) {
        if (ctx->inputs[i] == NULL) {
            return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input %u is missing", i);
        }
    }
    if (ctx->n_outputs != n_out) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "has %u outputs, expected %u",
                           (unsigned)ctx->n_outputs, n_out);
    }
    return HN_OK;
}

hn_status hn_check_type(hn_op_ctx *ctx, const hn_tensor *t, int32_t type, const char *what)
{
    if (t->type != type) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "%s type %s unsupported (need %s)",
                           what, hn_type_name(t->type), hn_type_name(type));
    }
    return HN_OK;
}

hn_status hn_check_ndim(hn_op_ctx *ctx, const hn_tensor *t, unsigned ndim, const char *what)
{
    if (t->ndim != ndim) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "%s has %u dims, expected %u", what,
                           (unsigned)t->ndim, ndim);
    }
    return HN_OK;
}

hn_status hn_check_quant(hn_op_ctx *ctx, const hn_tensor *t, const char *what)
{
    if (t->n_quant < 1 || !(t->scale > 0.0f) || !(t->scale < 3.0e38f)) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION, "%s is not quantized", what);
    }
    int32_t lo = t->type == HN_TYPE_INT16 ? -32768 : -128;
    int32_t hi = t->type == HN_TYPE_INT16 ? 32767 : 127;
    if (t->type == HN_TYPE_UINT8) {
        lo = 0;
        hi = 255;
    }
    if ((t->type == HN_TYPE_INT8 || t->type == HN_TYPE_INT16 || t->type == HN_TYPE_UINT8) &&
        (t->zero_point < lo || t->zero_point > hi)) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "%s zero point %ld outside [%ld, %ld]",
                           what, (long)t->zero_point, (long)lo, (long)hi);
    }
    return HN_OK;
}

int hn_same_shape(const hn_tensor *a, const hn_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (unsigned i = 0; i < a->ndim; ++i) {
        if (a->dims[i] != b->dims[i]) return 0;
    }
    return 1;
}

hn_status hn_fused_activation(hn_op_ctx *ctx, int32_t act, const hn_tensor *out,
                              int32_t *act_min, int32_t *act_max)
{
    if (hn_activation_range(act, out, act_min, act_max) != HN_OK) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "fused activation %ld unsupported (NONE, RELU, RELU_N1_TO_1, RELU6 only)",
                           (long)act);
    }
    return HN_OK;
}

uint32_t hn_type_size(int32_t type)
{
    switch (type) {
    case HN_TYPE_FLOAT32: case HN_TYPE_INT32: return 4;
    case HN_TYPE_FLOAT16: case HN_TYPE_INT16: return 2;
    case HN_TYPE_UINT8: case HN_TYPE_INT8: case HN_TYPE_BOOL: return 1;
    case HN_TYPE_INT64: return 8;
    default: return 0;
    }
}
