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

/* SXTB16 of x rotated right by 8 (bytes 1 and 3) in one instruction; GCC 12
 * does not fold the rotate of __sxtb16((x >> 8) | (x << 24)) by itself. */
static inline int32_t hn_sxtb16_ror8(uint32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
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
        acc = __smlad(hn_sxtb16_ror8(wa), hn_sxtb16_ror8(wb), acc);
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

/* Four dot products sharing one activation vector: w0..w3 are rows of n
 * weights, acc[k] += dot(wk, x). Loads each activation word once. */
static inline void hn_dot4_s8(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                              const int8_t *w3, const int8_t *x, int32_t n, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t i = 0;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    for (; i + 4 <= n; i += 4) {
        uint32_t xv, wv;
        memcpy(&xv, x + i, 4);
        const int32_t x02 = __sxtb16(xv), x13 = hn_sxtb16_ror8(xv);
        memcpy(&wv, w0 + i, 4);
        a0 = __smlad(__sxtb16(wv), x02, a0);
        a0 = __smlad(hn_sxtb16_ror8(wv), x13, a0);
        memcpy(&wv, w1 + i, 4);
        a1 = __smlad(__sxtb16(wv), x02, a1);
        a1 = __smlad(hn_sxtb16_ror8(wv), x13, a1);
        memcpy(&wv, w2 + i, 4);
        a2 = __smlad(__sxtb16(wv), x02, a2);
        a2 = __smlad(hn_sxtb16_ror8(wv), x13, a2);
        memcpy(&wv, w3 + i, 4);
        a3 = __smlad(__sxtb16(wv), x02, a3);
        a3 = __smlad(hn_sxtb16_ror8(wv), x13, a3);
    }
#endif
    for (; i < n; ++i) {
        const int32_t xv = x[i];
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
        a2 += w2[i] * xv;
        a3 += w3[i] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* hn_dot4_s8 with every activation offset by off (|x + off| <= 255 fits an
 * int16 lane): acc[k] += sum(wk[i] * (x[i] + off)). For windows clipped by
 * padding, where the offset cannot be folded into the bias. */
static inline void hn_dot4_s8_off(const int8_t *w0, const int8_t *w1, const int8_t *w2,
                                  const int8_t *w3, const int8_t *x, int32_t n, int32_t off,
                                  int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t i = 0;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    const int32_t off2 = (int32_t)(((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16));
    for (; i + 4 <= n; i += 4) {
        uint32_t xv, wv;
        memcpy(&xv, x + i, 4);
        const int32_t x02 = __sadd16(__sxtb16(xv), off2);
        const int32_t x13 = __sadd16(hn_sxtb16_ror8(xv), off2);
        memcpy(&wv, w0 + i, 4);
        a0 = __smlad(__sxtb16(wv), x02, a0);
        a0 = __smlad(hn_sxtb16_ror8(wv), x13, a0);
        memcpy(&wv, w1 + i, 4);
        a1 = __smlad(__sxtb16(wv), x02, a1);
        a1 = __smlad(hn_sxtb16_ror8(wv), x13, a1);
        memcpy(&wv, w2 + i, 4);
        a2 = __smlad(__sxtb16(wv), x02, a2);
        a2 = __smlad(hn_sxtb16_ror8(wv), x13, a2);
        memcpy(&wv, w3 + i, 4);
        a3 = __smlad(__sxtb16(wv), x02, a3);
        a3 = __smlad(hn_sxtb16_ror8(wv), x13, a3);
    }
#endif
    for (; i < n; ++i) {
        const int32_t xv = x[i] + off;
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
        a2 += w2[i] * xv;
        a3 += w3[i] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Sum of n int8 values (kernel sums folded into the bias in prepare). */
static inline int32_t hn_sum_s8(const int8_t *a, int32_t n)
{
    int32_t s = 0;
    for (int32_t i = 0; i < n; ++i) s += a[i];
    return s;
}

#endif
