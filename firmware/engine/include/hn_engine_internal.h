/*
 * Internal layout of hn_engine. Only the engine sources include this; callers
 * reserve hn_engine_struct_size() bytes (or include this header to declare a
 * static hn_engine directly).
 *
 * All metadata (tensor table, op table, plan) lives here, in static storage,
 * so that the arena holds nothing but activations, scratch and op data.
 */
#ifndef HN_ENGINE_INTERNAL_H
#define HN_ENGINE_INTERNAL_H

#include "hn_engine.h"
#include "hn_op.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef HN_MAX_GRAPH_IO
#define HN_MAX_GRAPH_IO 8
#endif

/* Alignment of every arena buffer; TFLM uses 16 too. */
#define HN_ARENA_ALIGN 16u

typedef struct {
    const hn_op_impl *impl;
    hn_op_ctx ctx;
    uint32_t op_data_offset;     /* persistent region offset (arena) */
    uint32_t scratch_offset;     /* planned offset of scratch */
} hn_op_slot;

typedef struct {
    int32_t first_use;           /* op index; -1 = graph input (live from start) */
    int32_t last_use;            /* op index; n_ops = graph output */
    uint32_t offset;             /* planned arena offset */
    int32_t alias_of;            /* in-place reshape: shares the buffer of this tensor, else -1 */
} hn_tensor_plan;

struct hn_engine {
    const uint8_t *model;
    uint32_t model_len;
    uint8_t *arena;
    uint32_t arena_len;
    uint32_t arena_required;
    uint32_t planned_bytes;      /* activations + scratch (non-persistent) */
    uint32_t persistent_bytes;   /* op data, at the arena's top */
    uint8_t ready;
    uint16_t n_tensors;
    uint16_t n_ops;
    uint8_t n_inputs;
    uint8_t n_outputs;
    int16_t inputs[HN_MAX_GRAPH_IO];
    int16_t outputs[HN_MAX_GRAPH_IO];
    hn_tensor tensors[HN_MAX_TENSORS];
    hn_tensor_plan plan[HN_MAX_TENSORS];
    hn_op_slot ops[HN_MAX_OPS];
    hn_op_record records[HN_MAX_OPS];
    hn_counter_fn counter;
    char err[HN_ERR_MSG_LEN];
};

/* reader.c: parse the model into e->tensors / e->ops (no arena touched). */
hn_status hn_read_model(hn_engine *e);
/* planner.c: lifetimes + greedy offsets; fills planned_bytes and tensor offsets. */
hn_status hn_plan(hn_engine *e);
/* registry.c */
const hn_op_impl *hn_registry_find(int32_t builtin_code);
/* interpreter.c */
hn_status hn_set_error(hn_engine *e, hn_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
