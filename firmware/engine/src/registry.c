/*
 * Builtin code -> kernel. The ops engineer's kernels are linked only when
 * their source file exists (checked with __has_include), so the engine
 * builds at every stage of the project; a model using a missing kernel gets
 * HN_ERR_UNSUPPORTED_OP naming the op at load time. A strong reference (not a
 * weak symbol) is used on purpose: weak references do not pull object files
 * out of a static library, which would silently drop kernels on the board.
 *
 * The name table is generated from TensorFlow's schema (BuiltinOperator).
 */
#include <stddef.h>

#include "hn_engine_internal.h"

extern const hn_op_impl hn_op_RELU;
extern const hn_op_impl hn_op_RELU6;
extern const hn_op_impl hn_op_ADD;
extern const hn_op_impl hn_op_SUB;
extern const hn_op_impl hn_op_MUL;
extern const hn_op_impl hn_op_CONV_2D;
extern const hn_op_impl hn_op_DEPTHWISE_CONV_2D;
extern const hn_op_impl hn_op_FULLY_CONNECTED;
extern const hn_op_impl hn_op_AVERAGE_POOL_2D;
extern const hn_op_impl hn_op_MAX_POOL_2D;
extern const hn_op_impl hn_op_RESHAPE;
extern const hn_op_impl hn_op_CONCATENATION;
extern const hn_op_impl hn_op_PAD;
extern const hn_op_impl hn_op_PADV2;
extern const hn_op_impl hn_op_QUANTIZE;
extern const hn_op_impl hn_op_DEQUANTIZE;
#if defined(__has_include)
#if __has_include("../ops/softmax.c")
#define HN_HAVE_SOFTMAX 1
extern const hn_op_impl hn_op_SOFTMAX;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/logistic.c")
#define HN_HAVE_LOGISTIC 1
extern const hn_op_impl hn_op_LOGISTIC;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/tanh.c")
#define HN_HAVE_TANH 1
extern const hn_op_impl hn_op_TANH;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/hard_swish.c")
#define HN_HAVE_HARD_SWISH 1
extern const hn_op_impl hn_op_HARD_SWISH;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/rsqrt.c")
#define HN_HAVE_RSQRT 1
extern const hn_op_impl hn_op_RSQRT;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/squared_difference.c")
#define HN_HAVE_SQUARED_DIFFERENCE 1
extern const hn_op_impl hn_op_SQUARED_DIFFERENCE;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/mean.c")
#define HN_HAVE_MEAN 1
extern const hn_op_impl hn_op_MEAN;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/batch_matmul.c")
#define HN_HAVE_BATCH_MATMUL 1
extern const hn_op_impl hn_op_BATCH_MATMUL;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/transpose.c")
#define HN_HAVE_TRANSPOSE 1
extern const hn_op_impl hn_op_TRANSPOSE;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/strided_slice.c")
#define HN_HAVE_STRIDED_SLICE 1
extern const hn_op_impl hn_op_STRIDED_SLICE;
#endif
#endif
#if defined(__has_include)
#if __has_include("../ops/slice.c")
#define HN_HAVE_SLICE 1
extern const hn_op_impl hn_op_SLICE;
#endif
#endif

typedef struct {
    int32_t code;
    const hn_op_impl *impl;
} registry_entry;

static const registry_entry REGISTRY[] = {
    {19, &hn_op_RELU},
    {21, &hn_op_RELU6},
    {0, &hn_op_ADD},
    {41, &hn_op_SUB},
    {18, &hn_op_MUL},
    {3, &hn_op_CONV_2D},
    {4, &hn_op_DEPTHWISE_CONV_2D},
    {9, &hn_op_FULLY_CONNECTED},
    {1, &hn_op_AVERAGE_POOL_2D},
    {17, &hn_op_MAX_POOL_2D},
    {22, &hn_op_RESHAPE},
    {2, &hn_op_CONCATENATION},
    {34, &hn_op_PAD},
    {60, &hn_op_PADV2},
    {114, &hn_op_QUANTIZE},
    {6, &hn_op_DEQUANTIZE},
#ifdef HN_HAVE_SOFTMAX
    {25, &hn_op_SOFTMAX},
#endif
#ifdef HN_HAVE_LOGISTIC
    {14, &hn_op_LOGISTIC},
#endif
#ifdef HN_HAVE_TANH
    {28, &hn_op_TANH},
#endif
#ifdef HN_HAVE_HARD_SWISH
    {117, &hn_op_HARD_SWISH},
#endif
#ifdef HN_HAVE_RSQRT
    {76, &hn_op_RSQRT},
#endif
#ifdef HN_HAVE_SQUARED_DIFFERENCE
    {99, &hn_op_SQUARED_DIFFERENCE},
#endif
#ifdef HN_HAVE_MEAN
    {40, &hn_op_MEAN},
#endif
#ifdef HN_HAVE_BATCH_MATMUL
    {126, &hn_op_BATCH_MATMUL},
#endif
#ifdef HN_HAVE_TRANSPOSE
    {39, &hn_op_TRANSPOSE},
#endif
#ifdef HN_HAVE_STRIDED_SLICE
    {45, &hn_op_STRIDED_SLICE},
#endif
#ifdef HN_HAVE_SLICE
    {65, &hn_op_SLICE},
#endif
};

const hn_op_impl *hn_registry_find(int32_t builtin_code)
{
    for (size_t i = 0; i < sizeof REGISTRY / sizeof REGISTRY[0]; ++i) {
        if (REGISTRY[i].code == builtin_code) {
            return REGISTRY[i].impl;
        }
    }
    return NULL;
}

int hn_op_supported(int32_t builtin_code)
{
    return hn_registry_find(builtin_code) != NULL;
}

static const char *const BUILTIN_NAMES[] = {
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT",
    "STABLEHLO_CASE",
};

const char *hn_builtin_name(int32_t builtin_code)
{
    if (builtin_code < 0 ||
        (size_t)builtin_code >= sizeof BUILTIN_NAMES / sizeof BUILTIN_NAMES[0] ||
        BUILTIN_NAMES[builtin_code][0] == '\0') {
        return "UNKNOWN_OP";
    }
    return BUILTIN_NAMES[builtin_code];
}
