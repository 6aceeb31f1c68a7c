/*
 * Small helpers every kernel's prepare() uses to validate its tensors, so that
 * a model with wrong types or shapes is rejected with a message naming the op
 * and the operand instead of making eval() read or write out of bounds.
 */
#ifndef HN_KERNEL_UTIL_H
#define HN_KERNEL_UTIL_H

#include <string.h>

#include "hn_op.h"
#include "hn_qmath.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Ensure ctx has at least n_in inputs (non-NULL up to n_required) and n_out outputs. */
hn_status hn_check_io(hn_op_ctx *ctx, unsigned n_required, unsigned n_max_in, unsigned n_out);
/* Ensure a tensor has the given type. */
hn_status hn_check_type(hn_op_ctx *ctx, const hn_tensor *t, int32_t type, const char *what);
/* Ensure a tensor has exactly ndim dims. */
hn_status hn_check_ndim(hn_op_ctx *ctx, const hn_tensor *t, unsigned ndim, const char *what);
/* Ensure per-tensor quantization (n_quant == 1) with a positive scale. */
hn_status hn_check_quant(hn_op_ctx *ctx, const hn_tensor *t, const char *what);
int hn_same_shape(const hn_tensor *a, const hn_tensor *b);
/* Fused activation to [min,max]; rejects TANH/SIGN_BIT with a message. */
hn_status hn_fused_activation(hn_op_ctx *ctx, int32_t act, const hn_tensor *out,
                              int32_t *act_min, int32_t *act_max);
/* Bytes per element of a tensor type (0 if unknown). */
uint32_t hn_type_size(int32_t type);

/* hn_read_i32 inline for eval's per-output bias reads (one unaligned LDR on a
 * little-endian core instead of a call and four byte loads). */
static inline int32_t hn_bias_i32(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    int32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return hn_read_i32(p);
#endif
}

#ifdef __cplusplus
}
#endif
#endif
