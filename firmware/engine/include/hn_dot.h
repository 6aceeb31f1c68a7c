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

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
/* acc += the four int8 weights at wp + off times the sign-extended activation
 * pairs x02 (bytes 0, 2) and x13 (bytes 1, 3). In one asm block so that GCC
 * cannot hoist all four rows' loads and spill the accumulators: the 4-row
 * loop then fits the registers (26 instructions per 16 MACs instead of 31). */
#define HN_MAC4_ROW(ACC, WP, OFF, XA, XB)                                                  \
    do {                                                                                   \
        int32_t t_, u_;                                                                    \
        __asm__("ldr %[t], [%[w], %[o]]\n\t"                                             \
                "sxtb16 %[u], %[t]\n\t"                                                  \
                "smlad %[a], %[u], %[p], %[a]\n\t"                                       \
                "sxtb16 %[t], %[t], ror #8\n\t"                                          \
                "smlad %[a], %[t], %[q], %[a]"                                            \
                : [a] "+r"(ACC), [t] "=&r"(t_), [u] "=&r"(u_)                              \
                : [w] "r"(WP), [o] "r"(OFF), [p] "r"(XA), [q] "r"(XB)                      \
                : "memory");                                                               \
    } while (0)
/* HN_MAC4_ROW at offset 0: no register holding a zero offset (frees one for the
 * loop, which otherwise spilled its end pointer). */
#define HN_MAC4_ROW0(ACC, WP, XA, XB)                                                      \
    do {                                                                                   \
        int32_t t_, u_;                                                                    \
        __asm__("ldr %[t], [%[w]]\n\t"                                                    \
                "sxtb16 %[u], %[t]\n\t"                                                  \
                "smlad %[a], %[u], %[p], %[a]\n\t"                                       \
                "sxtb16 %[t], %[t], ror #8\n\t"                                          \
                "smlad %[a], %[t], %[q], %[a]"                                            \
                : [a] "+r"(ACC), [t] "=&r"(t_), [u] "=&r"(u_)                              \
                : [w] "r"(WP), [p] "r"(XA), [q] "r"(XB)                                    \
                : "memory");                                                               \
    } while (0)
#endif

/* Four dot products sharing one activation vector: rows w, w + stride,
 * w + 2*stride, w + 3*stride of n weights; acc[k] += sum(row_k[i] * (x[i] + off)).
 * with_off is a compile-time constant at each call: 0 where the input offset
 * is folded into the bias, 1 for windows clipped by padding (|x + off| <= 255
 * fits an int16 lane). Loads each activation word once. */
static inline __attribute__((always_inline)) void hn_dot4_s8_any(const int8_t *w, int32_t stride,
                                                                 const int8_t *x, int32_t n,
                                                                 int32_t off, int with_off,
                                                                 int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t i = 0;
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
    const int32_t off2 = (int32_t)(((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16));
    const int8_t *wa = w, *wb = w + 2 * stride;
    for (; i + 4 <= n; i += 4, wa += 4, wb += 4) {
        uint32_t xv;
        memcpy(&xv, x + i, 4); /* unaligned LDR: fine on v7-M/v8-M Main */
        int32_t x02 = __sxtb16(xv), x13 = hn_sxtb16_ror8(xv);
        if (with_off) {
            x02 = __sadd16(x02, off2);
            x13 = __sadd16(x13, off2);
        }
        HN_MAC4_ROW0(a0, wa, x02, x13);
        HN_MAC4_ROW(a1, wa, stride, x02, x13);
        HN_MAC4_ROW0(a2, wb, x02, x13);
        HN_MAC4_ROW(a3, wb, stride, x02, x13);
    }
#endif
    const int8_t *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
    for (; i < n; ++i) {
        const int32_t xv = x[i] + (with_off ? off : 0);
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

static inline void hn_dot4_s8(const int8_t *w, int32_t stride, const int8_t *x, int32_t n,
                              int32_t *acc)
{
    hn_dot4_s8_any(w, stride, x, n, 0, 0, acc);
}

static inline void hn_dot4_s8_off(const int8_t *w, int32_t stride, const int8_t *x, int32_t n,
                                  int32_t off, int32_t *acc)
{
    hn_dot4_s8_any(w, stride, x, n, off, 1, acc);
}

/* Sum of n int8 values (kernel sums folded into the bias in prepare). */
static inline int32_t hn_sum_s8(const int8_t *a, int32_t n)
{
    int32_t s = 0;
    for (int32_t i = 0; i < n; ++i) s += a[i];
    return s;
}

#endif
