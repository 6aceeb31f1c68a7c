/*
 * hilnas int8 inference engine: public API.
 *
 * Runs standard .tflite (schema v3) int8 models, bit-exact with TensorFlow
 * Lite Micro's reference kernels. No malloc: the caller owns the engine struct
 * (static storage) and one arena; the model is read in place (RAM or flash).
 *
 * Contract used by firmware/app (board firmware) and host/hilnas/engine
 * (Python binding of the host build). See hn_op.h for the kernel contract.
 */
#ifndef HN_ENGINE_H
#define HN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes travel unchanged in the board protocol's error frames and map
 * to hilnas.errors.EngineError.status / DeviceError.status on the host. */
typedef enum {
    HN_OK = 0,
    HN_ERR_MODEL_TRUNCATED = 1,   /* an offset/length points outside the buffer */
    HN_ERR_MODEL_MALFORMED = 2,   /* structurally invalid flatbuffer or schema */
    HN_ERR_UNSUPPORTED_OP = 3,    /* builtin op (or custom op) not implemented */
    HN_ERR_UNSUPPORTED_OPTION = 4,/* op implemented, option/type combination not */
    HN_ERR_ARENA_TOO_SMALL = 5,
    HN_ERR_TOO_MANY = 6,          /* exceeds a static limit (tensors, ops, dims) */
    HN_ERR_BAD_ARGUMENT = 7,      /* wrong input index/size etc. */
    HN_ERR_NOT_READY = 8,         /* invoke before a successful load */
    HN_ERR_INTERNAL = 9
} hn_status;

/* Static limits (override with -D at build time). */
#ifndef HN_MAX_TENSORS
#define HN_MAX_TENSORS 512
#endif
#ifndef HN_MAX_OPS
#define HN_MAX_OPS 256
#endif
#ifndef HN_MAX_DIMS
#define HN_MAX_DIMS 6
#endif
#ifndef HN_MAX_OP_IO
#define HN_MAX_OP_IO 8
#endif
#ifndef HN_ERR_MSG_LEN
#define HN_ERR_MSG_LEN 128
#endif

/* Counter supplied by the board layer (DWT CYCCNT, SysTick, clock_gettime). */
typedef uint32_t (*hn_counter_fn)(void);

typedef struct {
    int32_t builtin_code;   /* TFLite BuiltinOperator value */
    uint32_t count;         /* counter ticks spent in eval (last invoke) */
} hn_op_record;

struct hn_engine;           /* full definition in hn_engine_internal.h */
typedef struct hn_engine hn_engine;

/* Size of hn_engine, so that callers can reserve static storage without the
 * internal header: static uint8_t storage[...] aligned to 8. */
size_t hn_engine_struct_size(void);

/* Parse and plan the model; everything unsupported is reported here, before
 * anything runs. model must stay valid while the engine is used. */
hn_status hn_load(hn_engine *e, const uint8_t *model, size_t model_len,
                  uint8_t *arena, size_t arena_len);

/* Bytes of arena the loaded model needs (valid after a load, also after a
 * load that failed only with HN_ERR_ARENA_TOO_SMALL). */
size_t hn_arena_required(const hn_engine *e);

hn_status hn_invoke(hn_engine *e);

size_t hn_num_inputs(const hn_engine *e);
size_t hn_num_outputs(const hn_engine *e);
/* Raw tensor data pointer and size in bytes (int8 models: one byte/element). */
hn_status hn_input(hn_engine *e, size_t i, uint8_t **data, size_t *bytes);
hn_status hn_output(const hn_engine *e, size_t i, const uint8_t **data, size_t *bytes);

void hn_set_counter(hn_engine *e, hn_counter_fn fn);
size_t hn_num_ops(const hn_engine *e);
const hn_op_record *hn_op_records(const hn_engine *e);

/* Shape/type/quantization of a tensor (for host bindings and the board
 * protocol's model info). */
typedef struct {
    int32_t tensor_index;
    int32_t type;           /* TFLite TensorType (9 = INT8, 0 = FLOAT32) */
    int32_t ndim;
    int32_t dims[HN_MAX_DIMS];
    uint32_t bytes;
    float scale;            /* first scale; 0 when not quantized */
    int32_t zero_point;
} hn_tensor_desc;

hn_status hn_input_desc(const hn_engine *e, size_t i, hn_tensor_desc *d);
hn_status hn_output_desc(const hn_engine *e, size_t i, hn_tensor_desc *d);

/* Verification hooks (host tests, `hilnas engine run --check`): run one op,
 * then read its outputs before a later op reuses their arena bytes. */
hn_status hn_invoke_op(hn_engine *e, size_t op);
size_t hn_op_num_outputs(const hn_engine *e, size_t op);
int32_t hn_op_output_tensor(const hn_engine *e, size_t op, size_t k);
hn_status hn_tensor_desc_of(const hn_engine *e, size_t tensor, hn_tensor_desc *d);
hn_status hn_tensor_data(const hn_engine *e, size_t tensor, const uint8_t **data, size_t *bytes);

/* Human-readable reason for the last error (names op index/name, tensor, offset). */
const char *hn_last_error(const hn_engine *e);
const char *hn_status_name(hn_status s);
const char *hn_builtin_name(int32_t builtin_code);
/* 1 when this build links a kernel for the TFLite builtin code, else 0 (lets
 * hosts and tests check op coverage without loading a model per op). */
int hn_op_supported(int32_t builtin_code);

#ifdef __cplusplus
}
#endif
#endif /* HN_ENGINE_H */
