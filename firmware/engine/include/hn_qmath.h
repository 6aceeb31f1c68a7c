/*
 * Fixed-point helpers shared by every int8 kernel. They reproduce TFLite
 * Micro's reference arithmetic (tensorflow/lite/kernels/internal/common.h,
 * quantization_util.cc) exactly, including its double rounding in
 * MultiplyByQuantizedMultiplier, because bit-exactness with TFLM is the
 * engine's contract.
 */
#ifndef HN_QMATH_H
#define HN_QMATH_H

#include <stdint.h>
#include "hn_op.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLite ActivationFunctionType values. */
enum {
    HN_ACT_NONE = 0,
    HN_ACT_RELU = 1,
    HN_ACT_RELU_N1_TO_1 = 2,
    HN_ACT_RELU6 = 3,
    HN_ACT_TANH = 4,
    HN_ACT_SIGN_BIT = 5
};

/* TFLite Padding values. */
enum { HN_PAD_SAME = 0, HN_PAD_VALID = 1 };

static inline int32_t hn_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t hn_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t hn_clamp_i32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* gemmlowp SaturatingRoundingDoublingHighMul, RoundingDivideByPOT (round
 * half away from zero), TFLite MultiplyByQuantizedMultiplier (the default,
 * double-rounding variant) and its SmallerThanOneExp form (shift <= 0).
 * Inline: they run once per output element of every kernel. */
static inline int32_t hn_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    /* C division truncates toward zero, as gemmlowp relies on. */
    return (int32_t)((ab + nudge) / (1ll << 31));
}

static inline int32_t hn_rdbpot(int32_t x, int exponent)
{
    /* Valid models keep exponent in [0, 31]; clamp so hostile ones cannot UB. */
    exponent = exponent < 0 ? 0 : (exponent > 31 ? 31 : exponent);
    const int32_t mask = (int32_t)((1ll << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    /* Arithmetic right shift of negatives: gcc/clang/armcc all do this. */
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t hn_mbqm(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? (shift > 31 ? 31 : shift) : 0;
    int right = shift > 0 ? 0 : -shift;
    /* x * (1 << left) in TFLite is int32 arithmetic; wrap like two's complement. */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return hn_rdbpot(hn_srdhm(shifted, multiplier), right);
}

/* hn_mbqm for a multiplier >= 0 (every conv/FC per-channel multiplier:
 * prepare derives them from positive scales), same bits in far fewer
 * instructions; it runs once per output of every MAC kernel. Both of TFLM's
 * roundings are kept. SaturatingRoundingDoublingHighMul is
 * h = floor((s*m + 2^30) / 2^31) for every product (gemmlowp's truncating
 * nudge form gives the same value; saturation needs m == INT32_MIN), so
 * INT32_MIN < h < INT32_MAX. RoundingDivideByPOT(h, r), r >= 1, is
 * floor((h + 2^(r-1) - [h < 0]) / 2^r) = floor((floor((h - [h < 0]) / 2^(r-1)) + 1) / 2),
 * which never overflows for such h. */
static inline int32_t hn_mbqm_pos(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? (shift > 31 ? 31 : shift) : 0;
    const int right = shift < 0 ? (shift < -31 ? 31 : -shift) : 0;
    const int64_t p = (int64_t)(int32_t)((uint32_t)x << left) * multiplier + (1ll << 30);
    const int32_t h = (int32_t)(p >> 31);
    if (right == 0) {
        return h;
    }
    return (((h + (h >> 31)) >> (right - 1)) + 1) >> 1;
}

/* hn_mbqm_small (left_shift <= 0 in valid models; a positive one counts as
 * 0, like hn_rdbpot's clamp) by the same two-shift rounding as hn_mbqm_pos:
 * exact for every multiplier but INT32_MIN, which no Quantize* helper returns. */
static inline int32_t hn_mbqm_small_fast(int32_t x, int32_t multiplier, int left_shift)
{
    const int right = left_shift < 0 ? (left_shift < -31 ? 31 : -left_shift) : 0;
    const int32_t h = (int32_t)(((int64_t)x * multiplier + (1ll << 30)) >> 31);
    if (right == 0) {
        return h;
    }
    return (((h + (h >> 31)) >> (right - 1)) + 1) >> 1;
}

/* Two's-complement wrapping add (what the core does), without C's signed
 * overflow UB; used where a hostile model could overflow, e.g. bias adds. */
static inline int32_t hn_wrap_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t hn_mbqm_small(int32_t x, int32_t multiplier, int left_shift)
{
    return hn_rdbpot(hn_srdhm(x, multiplier), -left_shift);
}

/* 64-bit accumulator variant (int16 paths / batch_matmul with large acc). */
int32_t hn_mbqm64(int64_t x, int32_t multiplier, int shift);

/* TFLite QuantizeMultiplier: real multiplier -> Q31 significand + shift. */
void hn_quantize_multiplier(double m, int32_t *multiplier, int *shift);
/* QuantizeMultiplierSmallerThanOneExp (asserts m < 1 in TFLite). */
void hn_quantize_multiplier_lt1(double m, int32_t *multiplier, int *left_shift);
/* QuantizeMultiplierGreaterThanOne. */
void hn_quantize_multiplier_gt1(double m, int32_t *multiplier, int *left_shift);

/* float -> int32 like a C cast, but saturating (and 0 for NaN) instead of
 * undefined behaviour; identical to the cast for every in-range value. */
int32_t hn_f2i_sat(double v);

/* TfLiteRound for float: half away from zero. */
float hn_roundf(float x);
double hn_round(double x);

/* CalculateActivationRangeQuantized for an int8/int16 output tensor.
 * Returns HN_ERR_UNSUPPORTED_OPTION for TANH/SIGN_BIT or unknown values. */
hn_status hn_activation_range(int32_t activation, const hn_tensor *out,
                              int32_t *act_min, int32_t *act_max);

/* TFLite ComputePaddingHeightWidth pieces: output size and leading padding. */
int32_t hn_conv_out_size(int32_t padding, int32_t in, int32_t filter,
                         int32_t stride, int32_t dilation);
int32_t hn_conv_pad(int32_t padding, int32_t in, int32_t filter, int32_t stride,
                    int32_t dilation, int32_t out);

/* Per-channel scale / zero point of a tensor (index clamped to n_quant). */
float hn_tensor_scale(const hn_tensor *t, uint32_t i);
int32_t hn_tensor_zero_point(const hn_tensor *t, uint32_t i);

const char *hn_type_name(int32_t type);

#ifdef __cplusplus
}
#endif
#endif
