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

/* gemmlowp SaturatingRoundingDoublingHighMul. */
int32_t hn_srdhm(int32_t a, int32_t b);
/* gemmlowp RoundingDivideByPOT (round half away from zero). */
int32_t hn_rdbpot(int32_t x, int exponent);
/* TFLite MultiplyByQuantizedMultiplier (non single-rounding variant). */
int32_t hn_mbqm(int32_t x, int32_t multiplier, int shift);
/* MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0. */
int32_t hn_mbqm_small(int32_t x, int32_t multiplier, int left_shift);
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
/* Two's-complement wrapping add (what the core does), without C's signed
 * overflow UB; used where a hostile model could overflow, e.g. bias adds. */
int32_t hn_wrap_add(int32_t a, int32_t b);

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
