/*
 * Fixed-point helpers for the engine's nonlinear ops (SOFTMAX, LOGISTIC, TANH,
 * HARD_SWISH, RSQRT) and for the multiplier set-up of MEAN, BATCH_MATMUL and
 * SQUARED_DIFFERENCE.
 *
 * Every function reproduces, bit for bit, the integer arithmetic of TensorFlow
 * Lite Micro's reference kernels (gemmlowp-style fixed point, double-rounding
 * MultiplyByQuantizedMultiplier, which is what TFLM builds by default). Values
 * named "Qm" are int32 fixed-point numbers with m integer bits and 31-m
 * fractional bits; Q0 values lie in [-1, 1).
 *
 * Where TFLM's C++ relies on two's-complement wrap-around (a + b on raw
 * fixed-point values, x * (1 << shift)), these helpers wrap explicitly through
 * uint32 so that C11 sees no undefined behaviour and the result is the same.
 *
 * The *_prepare-time* functions (those taking double/float) use floating point
 * exactly like TFLM's Prepare(); the others are integer-only and may run in
 * eval(). The nonlinear ops evaluate them once per possible int8 input in
 * prepare() and keep a 256-entry table, so eval() is a table lookup.
 */
#ifndef HN_QMATH_NL_H
#define HN_QMATH_NL_H

#include <stdint.h>

#include "hn_op.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- int32 primitives (gemmlowp semantics) ---- */

/* SaturatingRoundingDoublingHighMul, RoundingDivideByPOT,
 * MultiplyByQuantizedMultiplier and QuantizeMultiplier are the engine-wide
 * ones of hn_qmath.h (hn_srdhm, hn_rdbpot, hn_mbqm, hn_quantize_multiplier). */

/* x * 2^exponent: saturating for exponent > 0, rounding for exponent < 0. */
int32_t hn_nl_sat_rounding_mul_pot(int32_t x, int exponent);
/* TFLM MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM(x * 2^left_shift, m). */
int32_t hn_nl_mbqm_gt_one(int32_t x, int32_t multiplier, int left_shift);

/* ---- int16 primitives (HARD_SWISH works on int16 fixed point) ---- */
int16_t hn_nl_srdhm16(int16_t a, int16_t b);
/* Like hn_nl_srdhm16 but truncating toward zero (SQDMULH), as TFLM's
 * SaturatingDoublingHighMul. */
int16_t hn_nl_sdhm16(int16_t a, int16_t b);
int16_t hn_nl_rdbpot16(int16_t x, int exponent);
int16_t hn_nl_sat_left_shift16(int16_t x, int amount);

/* ---- multiplier set-up (prepare time, floating point like TFLM) ---- */

/* frexp(real) with the mantissa rounded to Q0.31, as LOGISTIC/TANH Prepare()
 * do it (they do not call QuantizeMultiplier; a mantissa rounding up to 1.0,
 * where TFLM would overflow, is renormalised). */
void hn_nl_frexp_multiplier(double real, int32_t *multiplier, int *shift);
/* TFLM DownScaleInt32ToInt16Multiplier. */
int16_t hn_nl_downscale_multiplier16(int32_t multiplier);
/* TFLM CalculateInputRadius: largest |input| that does not saturate. */
int32_t hn_nl_input_radius(int input_integer_bits, int input_left_shift, int total_signed_bits);
/* TFLM PreprocessSoftmaxScaling; returns 0 when the multiplier is not > 1
 * (TFLM aborts there), 1 on success. */
int hn_nl_softmax_scaling(double beta, double input_scale, int input_integer_bits,
                          int32_t *multiplier, int *left_shift);

/* ---- fixed-point functions (integer only) ---- */

/* exp(a) for a <= 0, a in Q(integer_bits), 0 <= integer_bits <= 6; result Q0. */
int32_t hn_nl_exp_on_negative_values(int32_t a, int integer_bits);
/* 1 / (1 + a) for a in Q0 [0, 1); result Q0 (Newton-Raphson, 3 iterations). */
int32_t hn_nl_one_over_one_plus_x_for_x_in_0_1(int32_t a);
/* (1 - a) / (1 + a) for a in Q0 [0, 1); result Q0. */
int32_t hn_nl_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a);
/* logistic(a), a in Q(integer_bits); result Q0. */
int32_t hn_nl_logistic(int32_t a, int integer_bits);
/* tanh(a), a in Q(integer_bits); result Q0. */
int32_t hn_nl_tanh(int32_t a, int integer_bits);
/* TFLM GetReciprocal: 1/x for x in Q(x_integer_digits) as Q0 scaled by
 * 2^-num_bits_over_unit. x must be > 0. */
int32_t hn_nl_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit);
/* TFLM GetInvSqrtQuantizedMultiplierExp: 1/sqrt(input) as multiplier + shift
 * (shift multiplied by reverse_shift, -1 in RSQRT). */
void hn_nl_inv_sqrt_multiplier_exp(int32_t input, int reverse_shift, int32_t *multiplier,
                                   int *shift);

/* ---- shared by the ops that use this header ---- */

/* Checks that t is int8 with one (per-tensor) scale and an int8 zero point;
 * `what` names it in the error (hn_op_error prefixes the op). */
hn_status hn_nl_check_int8(hn_op_ctx *ctx, const char *what, const hn_tensor *t);
/* One int8 input, one int8 output with per-tensor quantization and as many
 * elements: the shared prepare check of the element-wise nonlinear ops. */
hn_status hn_nl_check_unary_int8(hn_op_ctx *ctx);
/* Elementwise int8 -> int8 function of an op (TFLM's exact integer algorithm
 * for one value; params is the op's op_data). */
typedef int8_t (*hn_nl_unary_fn)(const void *params, int8_t x);
/* An int8 tensor has only 256 values, so every elementwise nonlinear op keeps
 * a 256-entry table of its results in its op data (persistent arena), filled
 * once in prepare(): eval() costs the same instructions whatever the data
 * (the latency tables assume that) and far fewer than evaluating TFLM's
 * fixed-point algorithm per element. */
#define HN_NL_TABLE_SIZE 256
/* prepare(): table[(uint8_t)v] = fn(params, v) for every int8 v. */
void hn_nl_unary_tabulate(int8_t table[HN_NL_TABLE_SIZE], hn_nl_unary_fn fn, const void *params);
/* eval(): outputs[0][i] = table[(uint8_t)inputs[0][i]] (same bits as fn). */
void hn_nl_unary_lookup(hn_op_ctx *ctx, const int8_t table[HN_NL_TABLE_SIZE]);

#ifdef __cplusplus
}
#endif
#endif /* HN_QMATH_NL_H */
