/* Fixed-point helpers, bit-exact with TFLite Micro's reference code. */
#include "hn_qmath.h"

#include <math.h>

int32_t hn_mbqm64(int64_t x, int32_t multiplier, int shift)
{
    /* TFLite's int64 MultiplyByQuantizedMultiplier (reduced multiplier). */
    int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    int total_shift = 15 - shift;
    int64_t round = (int64_t)1 << (total_shift - 1);
    int64_t result = x * (int64_t)reduced + round;
    result = result >> total_shift;
    if (result < INT32_MIN) result = INT32_MIN;
    if (result > INT32_MAX) result = INT32_MAX;
    return (int32_t)result;
}

double hn_round(double x) { return round(x); }
float hn_roundf(float x) { return roundf(x); }

void hn_quantize_multiplier(double m, int32_t *multiplier, int *shift)
{
    if (!(m > 0.0) || !(m < 1.0e300)) { /* 0, negative, NaN, inf: hostile scales */
        *multiplier = 0;
        *shift = 0;
        return;
    }
    int e = 0;
    double q = frexp(m, &e);
    int64_t q_fixed = (int64_t)round(q * (double)(1ll << 31));
    if (q_fixed == (1ll << 31)) {
        q_fixed /= 2;
        ++e;
    }
    if (e < -31) {
        e = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = e;
}

void hn_quantize_multiplier_lt1(double m, int32_t *multiplier, int *left_shift)
{
    hn_quantize_multiplier(m, multiplier, left_shift);
}

void hn_quantize_multiplier_gt1(double m, int32_t *multiplier, int *left_shift)
{
    hn_quantize_multiplier(m, multiplier, left_shift);
}

int32_t hn_f2i_sat(double v)
{
    if (!(v == v)) return 0; /* NaN */
    if (v >= 2147483647.0) return INT32_MAX;
    if (v <= -2147483648.0) return INT32_MIN;
    return (int32_t)v;
}

static int32_t quantize_for_range(const hn_tensor *out, float f)
{
    const float scale = out->scale;
    const float tmp = roundf(f / scale);
    return hn_wrap_add(out->zero_point, hn_f2i_sat((double)tmp));
}

hn_status hn_activation_range(int32_t activation, const hn_tensor *out,
                              int32_t *act_min, int32_t *act_max)
{
    int32_t qmin = out->type == HN_TYPE_INT16 ? -32768 : -128;
    int32_t qmax = out->type == HN_TYPE_INT16 ? 32767 : 127;
    switch (activation) {
    case HN_ACT_NONE:
        *act_min = qmin;
        *act_max = qmax;
        return HN_OK;
    case HN_ACT_RELU:
        *act_min = hn_max_i32(qmin, quantize_for_range(out, 0.0f));
        *act_max = qmax;
        return HN_OK;
    case HN_ACT_RELU6:
        *act_min = hn_max_i32(qmin, quantize_for_range(out, 0.0f));
        *act_max = hn_min_i32(qmax, quantize_for_range(out, 6.0f));
        return HN_OK;
    case HN_ACT_RELU_N1_TO_1:
        *act_min = hn_max_i32(qmin, quantize_for_range(out, -1.0f));
        *act_max = hn_min_i32(qmax, quantize_for_range(out, 1.0f));
        return HN_OK;
    default:
        return HN_ERR_UNSUPPORTED_OPTION;
    }
}

int32_t hn_conv_out_size(int32_t padding, int32_t in, int32_t filter,
                         int32_t stride, int32_t dilation)
{
    int32_t eff = (filter - 1) * dilation + 1;
    if (stride <= 0) {
        return 0;
    }
    if (padding == HN_PAD_SAME) {
        return (in + stride - 1) / stride;
    }
    return (in + stride - eff) / stride;
}

int32_t hn_conv_pad(int32_t padding, int32_t in, int32_t filter, int32_t stride,
                    int32_t dilation, int32_t out)
{
    (void)padding;
    int32_t eff = (filter - 1) * dilation + 1;
    int32_t total = (out - 1) * stride + eff - in;
    total = total > 0 ? total : 0;
    return total / 2;
}

float hn_tensor_scale(const hn_tensor *t, uint32_t i)
{
    if (t->n_quant <= 1 || t->scales_raw == NULL) {
        return t->scale;
    }
    if (i >= t->n_quant) {
        i = t->n_quant - 1;
    }
    return hn_read_f32(t->scales_raw + 4u * i);
}

int32_t hn_tensor_zero_point(const hn_tensor *t, uint32_t i)
{
    if (t->n_quant <= 1 || t->zero_points_raw == NULL) {
        return t->zero_point;
    }
    if (i >= t->n_quant) {
        i = t->n_quant - 1;
    }
    return (int32_t)hn_read_i64(t->zero_points_raw + 8u * i);
}

const char *hn_type_name(int32_t type)
{
    switch (type) {
    case HN_TYPE_FLOAT32: return "FLOAT32";
    case HN_TYPE_FLOAT16: return "FLOAT16";
    case HN_TYPE_INT32: return "INT32";
    case HN_TYPE_UINT8: return "UINT8";
    case HN_TYPE_INT64: return "INT64";
    case HN_TYPE_BOOL: return "BOOL";
    case HN_TYPE_INT16: return "INT16";
    case HN_TYPE_INT8: return "INT8";
    default: return "UNKNOWN_TYPE";
    }
}
