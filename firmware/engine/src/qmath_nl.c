/*
 * Fixed-point helpers of the nonlinear ops, bit-exact with TFLM's reference
 * kernels (tensorflow/lite/micro/kernels/internal: fixedpoint.h, common.h,
 * quantization_util.cc). See hn_qmath_nl.h for the contract of each function.
 */
#include "hn_qmath_nl.h"

#include "hn_kernel_util.h"
#include "hn_qmath.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

/* Raw fixed-point add/sub/neg wrap like the C++ code does in practice. */
static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t wrap_neg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }
static int32_t wrap_shl(int32_t a, int s) { return (int32_t)((uint32_t)a << s); }

static int clz32(uint32_t x)
{
    if (x == 0) {
        return 32;
    }
#if defined(__GNUC__)
    return __builtin_clz(x);
#else
    int n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* ------------------------------------------------------------------ int32 */

int32_t hn_nl_sat_rounding_mul_pot(int32_t x, int exponent)
{
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return hn_rdbpot(x, -exponent);
    }
    const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return wrap_shl(x, exponent);
}

int32_t hn_nl_mbqm_gt_one(int32_t x, int32_t multiplier, int left_shift)
{
    return hn_srdhm(wrap_shl(x, left_shift), multiplier);
}

/* ------------------------------------------------------------------ int16 */

int16_t hn_nl_srdhm16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

int16_t hn_nl_sdhm16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = (int32_t)a * (int32_t)b;
    return (int16_t)(ab / (1 << 15));
}

int16_t hn_nl_rdbpot16(int16_t x, int exponent)
{
    /* Any exponent >= 16 gives the same result on int16; clamp so that
     * hostile scales cannot make the shift undefined. */
    exponent = exponent < 0 ? 0 : (exponent > 31 ? 31 : exponent);
    /* int16 masks are truncated like Dup<int16_t>((1ll << exponent) - 1). */
    const int16_t mask = (int16_t)(((int64_t)1 << exponent) - 1);
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

int16_t hn_nl_sat_left_shift16(int16_t x, int amount)
{
    amount = amount < 0 ? 0 : (amount > 31 ? 31 : amount); /* saturates the same */
    const int64_t r = (int64_t)x * ((int64_t)1 << amount);
    if (r > INT16_MAX) {
        return INT16_MAX;
    }
    if (r < INT16_MIN) {
        return INT16_MIN;
    }
    return (int16_t)r;
}

/* ------------------------------------------------------- multiplier set-up */

void hn_nl_frexp_multiplier(double real, int32_t *multiplier, int *shift)
{
    if (!(real > 0.0) || !(real <= DBL_MAX)) { /* only hostile scales get here */
        *multiplier = 0;
        *shift = 0;
        return;
    }
    const double q = frexp(real, shift);
    int64_t q_fixed = (int64_t)round(q * (double)(1LL << 31));
    if (q_fixed >= (1LL << 31)) {
        q_fixed /= 2;
        ++*shift;
    }
    *multiplier = (int32_t)q_fixed;
}

int16_t hn_nl_downscale_multiplier16(int32_t multiplier)
{
    const int32_t rounding = 1 << 15;
    if (multiplier >= INT32_MAX - rounding) {
        return INT16_MAX;
    }
    return (int16_t)((multiplier + rounding) >> 16);
}

int32_t hn_nl_input_radius(int input_integer_bits, int input_left_shift, int total_signed_bits)
{
    /* ((2^ib - 1) * 2^(tsb - ib)) / 2^ls, exact in double like TFLM's. */
    const double max_input_rescaled = ldexp((double)((1 << input_integer_bits) - 1),
                                            total_signed_bits - input_integer_bits -
                                                input_left_shift);
    const double r = floor(max_input_rescaled);
    return r >= (double)INT32_MAX ? INT32_MAX : (int32_t)r;
}

int hn_nl_softmax_scaling(double beta, double input_scale, int input_integer_bits,
                          int32_t *multiplier, int *left_shift)
{
    const double max_real_multiplier = (double)(1LL << 31) - 1.0;
    double real = beta * input_scale * (double)(1 << (31 - input_integer_bits));
    if (real > max_real_multiplier) {
        real = max_real_multiplier;
    }
    if (!(real > 1.0)) {
        return 0;
    }
    hn_quantize_multiplier(real, multiplier, left_shift);
    return *left_shift >= 0;
}

/* ------------------------------------------------------ fixed-point maths */

static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in Q0 [-1/4, 0): Taylor expansion around -1/8. */
static int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;  /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = wrap_add(a, 1 << 28);    /* a + 1/8 */
    const int32_t x2 = hn_srdhm(x, x);
    const int32_t x3 = hn_srdhm(x2, x);
    const int32_t x4 = hn_srdhm(x2, x2);
    const int32_t x4_over_4 = hn_nl_sat_rounding_mul_pot(x4, -2);
    const int32_t poly = hn_nl_sat_rounding_mul_pot(
        wrap_add(hn_srdhm(wrap_add(x4_over_4, x3), constant_1_over_3), x2), -1);
    return wrap_add(constant_term, hn_srdhm(constant_term, wrap_add(x, poly)));
}

int32_t hn_nl_exp_on_negative_values(int32_t a, int integer_bits)
{
    /* exp(-2^e) in Q0 for e = -2..4, applied per set bit of the remainder. */
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = wrap_sub(a & mask, one_quarter);
    int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        hn_nl_sat_rounding_mul_pot(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = wrap_sub(a_mod_quarter_minus_one_quarter, a);
    for (int exponent = -2; exponent <= 4; ++exponent) {
        if (integer_bits > exponent) {
            const int shift_amount = fractional_bits + exponent;
            if (remainder & ((int32_t)1 << shift_amount)) {
                result = hn_srdhm(result, barrel[exponent + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* Newton-Raphson for 1 / (1 + a), shared by the two rational functions:
 * returns x ~ 1/half_denominator in Q2. */
static int32_t newton_reciprocal_q2(int32_t half_denominator)
{
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    const int32_t one_q2 = 1 << 29;
    int32_t x = wrap_add(constant_48_over_17,
                         hn_srdhm(half_denominator, constant_neg_32_over_17));
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = hn_srdhm(half_denominator, x);
        const int32_t one_minus = wrap_sub(one_q2, half_denominator_times_x);
        x = wrap_add(x, hn_nl_sat_rounding_mul_pot(hn_srdhm(x, one_minus), 2));
    }
    return x;
}

int32_t hn_nl_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t x = newton_reciprocal_q2(rounding_half_sum(a, INT32_MAX));
    return hn_nl_sat_rounding_mul_pot(x, 1);  /* Q2/2 seen as Q1, rescaled to Q0 */
}

int32_t hn_nl_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t x = newton_reciprocal_q2(rounding_half_sum(a, INT32_MAX));
    return hn_nl_sat_rounding_mul_pot(wrap_sub(x, 1 << 29), 2);
}

int32_t hn_nl_logistic(int32_t a, int integer_bits)
{
    if (a == 0) {
        return 1 << 30;  /* 0.5 */
    }
    const int positive = a > 0;
    const int32_t abs_input = positive ? a : wrap_neg(a);
    const int32_t result_if_positive = hn_nl_one_over_one_plus_x_for_x_in_0_1(
        hn_nl_exp_on_negative_values(wrap_neg(abs_input), integer_bits));
    return positive ? result_if_positive : wrap_sub(INT32_MAX, result_if_positive);
}

int32_t hn_nl_tanh(int32_t a, int integer_bits)
{
    if (a == 0) {
        return 0;
    }
    const int negative = a < 0;
    const int32_t n = negative ? a : wrap_neg(a);
    /* exp(2n): same raw value read with one more integer bit. */
    const int32_t t = hn_nl_one_minus_x_over_one_plus_x_for_x_in_0_1(
        hn_nl_exp_on_negative_values(n, integer_bits + 1));
    return negative ? wrap_neg(t) : t;
}

int32_t hn_nl_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit)
{
    const int headroom_plus_one = clz32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    const uint32_t shifted = headroom_plus_one >= 32 ? 0u : ((uint32_t)x << headroom_plus_one);
    const int32_t shifted_sum_minus_one = (int32_t)(shifted - (1u << 31));
    return hn_nl_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

void hn_nl_inv_sqrt_multiplier_exp(int32_t input, int reverse_shift, int32_t *multiplier,
                                   int *shift)
{
    if (input <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    int out_shift = 11;
    while (input >= (1 << 29)) {
        input /= 4;
        ++out_shift;
    }
    const unsigned max_left_shift_bits = (unsigned)clz32((uint32_t)input) - 1u;
    const unsigned left_shift_bit_pairs = max_left_shift_bits / 2u - 1u;
    out_shift -= (int)left_shift_bit_pairs;
    input = wrap_shl(input, (int)(2u * left_shift_bit_pairs));
    /* Newton-Raphson on Q3 values, starting from x = 1, 5 iterations. */
    const int32_t fixedpoint_input = input >> 1;
    const int32_t half_input = hn_nl_sat_rounding_mul_pot(fixedpoint_input, -1);
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t x = 1 << 28;
    for (int i = 0; i < 5; ++i) {
        const int32_t x3 =
            hn_nl_sat_rounding_mul_pot(hn_srdhm(hn_srdhm(x, x), x), 6);
        x = hn_nl_sat_rounding_mul_pot(
            wrap_sub(hn_srdhm(half_three, x), hn_srdhm(half_input, x3)), 3);
    }
    x = hn_srdhm(x, 1518500250);  /* * sqrt(2)/2 */
    if (out_shift < 0) {
        x = wrap_shl(x, -out_shift);
        out_shift = 0;
    }
    *multiplier = x;
    *shift = out_shift * reverse_shift;
}

/* ------------------------------------------------------ shared op helpers */

hn_status hn_nl_check_unary_int8(hn_op_ctx *ctx)
{
    hn_status s = hn_check_io(ctx, 1, 1, 1);
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "input", ctx->inputs[0]);
    }
    if (s == HN_OK) {
        s = hn_nl_check_int8(ctx, "output", ctx->outputs[0]);
    }
    if (s != HN_OK) {
        return s;
    }
    const int32_t n_in = hn_num_elements(ctx->inputs[0]);
    const int32_t n_out = hn_num_elements(ctx->outputs[0]);
    if (n_in != n_out) {
        return hn_op_error(ctx, HN_ERR_MODEL_MALFORMED, "output has %ld elements, input %ld",
                           (long)n_out, (long)n_in);
    }
    return HN_OK;
}

hn_status hn_nl_check_int8(hn_op_ctx *ctx, const char *what, const hn_tensor *t)
{
    hn_status s = hn_check_type(ctx, t, HN_TYPE_INT8, what);
    if (s != HN_OK) {
        return s;
    }
    if (t->n_quant != 1) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "%s needs one per-tensor scale/zero point (has %u)", what,
                           (unsigned)t->n_quant);
    }
    if (!(t->scale > 0.0f) || !(t->scale <= FLT_MAX) || t->zero_point < -128 ||
        t->zero_point > 127) {
        return hn_op_error(ctx, HN_ERR_UNSUPPORTED_OPTION,
                           "%s has invalid quantization (scale %g, zero point %ld)", what,
                           (double)t->scale, (long)t->zero_point);
    }
    return HN_OK;
}

void hn_nl_unary_tabulate(int8_t table[HN_NL_TABLE_SIZE], hn_nl_unary_fn fn, const void *params)
{
    for (int32_t v = INT8_MIN; v <= INT8_MAX; ++v) {
        table[(uint8_t)(int8_t)v] = fn(params, (int8_t)v);
    }
}

void hn_nl_unary_lookup(hn_op_ctx *ctx, const int8_t table[HN_NL_TABLE_SIZE])
{
    const uint8_t *x = (const uint8_t *)ctx->inputs[0]->data; /* index = bit pattern */
    int8_t *y = (int8_t *)ctx->outputs[0]->data;
    const int32_t n = hn_num_elements(ctx->inputs[0]);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) { /* x may alias y: read all four before writing */
        const uint8_t x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        y[i] = table[x0];
        y[i + 1] = table[x1];
        y[i + 2] = table[x2];
        y[i + 3] = table[x3];
    }
    for (; i < n; ++i) {
        y[i] = table[x[i]];
    }
}
