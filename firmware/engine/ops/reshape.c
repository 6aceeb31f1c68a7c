/*
 * RESHAPE: same bytes, new shape (taken from the model's output tensor). The
 * planner usually gives the output the input's buffer, making eval a no-op.
 */
#include <string.h>

#include "hn_kernel_util.h"

static hn_status reshape_prepare(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 1, 2, 1);
    if (s != HN_OK) return s;
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if (in->type != out->type || in->bytes != out->bytes) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "input %s[%lu bytes] vs output %s[%lu bytes]",
                           hn_type_name(in->type), (unsigned long)in->bytes,
                           hn_type_name(out->type), (unsigned long)out->bytes);
    }
    return HN_OK;
}

static hn_status reshape_eval(hn_op_ctx *ctx)
{
    const hn_tensor *in = ctx->inputs[0], *out = ctx->outputs[0];
    if (in->data != out->data) {
        memmove(out->data, in->data, out->bytes);
    }
    return HN_OK;
}

const hn_op_impl hn_op_RESHAPE = {"RESHAPE", 0, reshape_prepare, reshape_eval};
