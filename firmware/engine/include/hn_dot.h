/*
 * int8 dot product, the inner loop of CONV_2D and FULLY_CONNECTED. Integer
 * sums are exact in any order, so the DSP variant (Cortex-M4/M7/M33:
 * SXTB16 + SMLAD, two MACs per instruction) gives the same bits as the
 * portable loop and as TFLM's reference kernels.
 */
#ifndef HN_DOT_H
#define HN_DOT_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#endif

static inline int32_t hn_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    int32_t acc = 0;
    int32_t i = 0;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    for (; i + 4 <= n; i += 4) {
        uint32_t wa, wb;
        memcpy(&wa, a + i, 4); /* unaligned LDR: fine on v7-M/v8-M Main */
        memcpy(&wb, b + i, 4);
        acc = __smlad(__sxtb16(wa), __sxtb16(wb), acc);
        acc = __smlad(__sxtb16((wa >> 8) | (wa << 24)), __sxtb16((wb >> 8) | (wb << 24)), acc);
    }
#else
    int32_t acc1 = 0;
    for (; i + 2 <= n; i += 2) {
        acc += a[i] * b[i];
        acc1 += a[i + 1] * b[i + 1];
    }
    acc += acc1;
#endif
    for (; i < n; ++i) {
        acc += a[i] * b[i];
    }
    return acc;
}

/* Sum of n int8 values (kernel sums folded into the bias in prepare). */
static inline int32_t hn_sum_s8(const int8_t *a, int32_t n)
{
    int32_t s = 0;
    for (int32_t i = 0; i < n; ++i) s += a[i];
    return s;
}

#endif
