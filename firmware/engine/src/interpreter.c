/*
 * Interpreter: load = read + prepare + plan, invoke = run each op's eval with
 * the board's counter around it. The arena holds, from the bottom, the planned
 * activations and scratch, and from the top down, persistent op data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hn_engine_internal.h"

static uint32_t align_up(uint32_t v) { return (v + HN_ARENA_ALIGN - 1u) & ~(HN_ARENA_ALIGN - 1u); }

size_t hn_engine_struct_size(void) { return sizeof(hn_engine); }

static void vset_error(hn_engine *e, const char *prefix, const char *fmt, va_list ap)
{
    int n = prefix ? snprintf(e->err, sizeof e->err, "%s", prefix) : 0;
    if (n < 0) n = 0;
    if ((size_t)n < sizeof e->err) {
        vsnprintf(e->err + n, sizeof e->err - (size_t)n, fmt, ap);
    }
}

hn_status hn_set_error(hn_engine *e, hn_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(e, NULL, fmt, ap);
    va_end(ap);
    return s;
}

hn_status hn_op_error(hn_op_ctx *ctx, hn_status status, const char *fmt, ...)
{
    char prefix[40];
    snprintf(prefix, sizeof prefix, "op %u %s: ", (unsigned)ctx->op_index,
             hn_builtin_name(ctx->builtin_code));
    va_list ap;
    va_start(ap, fmt);
    vset_error(ctx->engine, prefix, fmt, ap);
    va_end(ap);
    return status;
}

void *hn_alloc_persistent(hn_op_ctx *ctx, uint32_t bytes)
{
    hn_engine *e = ctx->engine;
    uint32_t need = align_up(bytes);
    if (need < bytes) {
        return NULL;
    }
    uint32_t new_total = e->persistent_bytes + need;
    e->persistent_bytes = new_total; /* counted even on failure: reports the requirement */
    if (e->arena == NULL || new_total > e->arena_len) {
        return NULL;
    }
    uint8_t *p = e->arena + e->arena_len - new_total;
    memset(p, 0, need);
    return p;
}

int32_t hn_num_elements(const hn_tensor *t)
{
    int64_t n = 1;
    for (unsigned i = 0; i < t->ndim; ++i) {
        n *= t->dims[i];
    }
    return (int32_t)n;
}

/* Op data for the sizing pass (arena short or absent): every op's data fits it
 * (HN_OP_DATA_FITS), so no prepare is ever skipped and the figures it asks for
 * (scratch, persistent arrays) all reach hn_arena_required(). */
static uint64_t measure_op_data[(HN_MAX_OP_DATA_BYTES + 7u) / 8u];

static hn_status prepare_ops(hn_engine *e, int *arena_short)
{
    for (unsigned i = 0; i < e->n_ops; ++i) {
        hn_op_slot *slot = &e->ops[i];
        slot->ctx.op_data = NULL;
        if (slot->impl->op_data_size > 0) {
            slot->ctx.op_data = hn_alloc_persistent(&slot->ctx, slot->impl->op_data_size);
            if (slot->ctx.op_data == NULL) {
                /* Arena short: still run prepare on a throw-away op_data so that
                 * its scratch and persistent requests are counted, which makes
                 * hn_arena_required() exact after ARENA_TOO_SMALL. */
                *arena_short = 1;
                if (slot->impl->op_data_size > sizeof measure_op_data) {
                    /* unreachable: HN_OP_DATA_FITS in every op file */
                    return hn_set_error(e, HN_ERR_INTERNAL,
                                        "op %u %s: op data of %lu bytes exceeds "
                                        "HN_MAX_OP_DATA_BYTES",
                                        i, slot->impl->name,
                                        (unsigned long)slot->impl->op_data_size);
                }
                memset(measure_op_data, 0, sizeof measure_op_data);
                slot->ctx.op_data = measure_op_data;
            }
        }
        hn_status s = slot->impl->prepare ? slot->impl->prepare(&slot->ctx) : HN_OK;
        if (s == HN_ERR_ARENA_TOO_SMALL) {
            *arena_short = 1;
        } else if (s != HN_OK) {
            return s;
        }
    }
    return HN_OK;
}

static void assign_buffers(hn_engine *e)
{
    for (unsigned t = 0; t < e->n_tensors; ++t) {
        if (e->tensors[t].is_const) continue;
        const hn_tensor_plan *p = &e->plan[t];
        int root = p->alias_of >= 0 ? p->alias_of : (int)t;
        if (e->plan[root].first_use == -2) {
            e->tensors[t].data = NULL;
            continue;
        }
        e->tensors[t].data = e->arena + e->plan[root].offset;
    }
    for (unsigned i = 0; i < e->n_ops; ++i) {
        hn_op_slot *s = &e->ops[i];
        s->ctx.scratch = s->ctx.scratch_bytes ? e->arena + s->scratch_offset : NULL;
    }
}

hn_status hn_load(hn_engine *e, const uint8_t *model, size_t model_len, uint8_t *arena,
                  size_t arena_len)
{
    if (e == NULL) {
        return HN_ERR_BAD_ARGUMENT;
    }
    memset(e, 0, sizeof *e);
    if (model == NULL || model_len > 0x7FFFFFF0u) {
        return hn_set_error(e, HN_ERR_BAD_ARGUMENT, "model pointer NULL or length too large");
    }
    e->model = model;
    e->model_len = (uint32_t)model_len;
    /* Align the arena start; the lost bytes count against the arena. */
    uint32_t pad = arena ? (uint32_t)((HN_ARENA_ALIGN - ((uintptr_t)arena % HN_ARENA_ALIGN)) %
                                      HN_ARENA_ALIGN)
                         : 0;
    if (arena != NULL && arena_len > pad) {
        e->arena = arena + pad;
        e->arena_len = (uint32_t)((arena_len - pad) > 0x7FFFFFF0u ? 0x7FFFFFF0u : arena_len - pad);
    }
    hn_status s = hn_read_model(e);
    if (s != HN_OK) {
        return s;
    }
    int arena_short = 0;
    s = prepare_ops(e, &arena_short);
    if (s != HN_OK) {
        return s;
    }
    s = hn_plan(e);
    if (s != HN_OK) {
        return s;
    }
    e->arena_required = e->planned_bytes + e->persistent_bytes + pad;
    if (arena_short || e->planned_bytes + e->persistent_bytes > e->arena_len) {
        return hn_set_error(e, HN_ERR_ARENA_TOO_SMALL,
                            "arena too small: model needs %lu bytes (%lu planned + %lu op data), "
                            "got %lu",
                            (unsigned long)e->arena_required, (unsigned long)e->planned_bytes,
                            (unsigned long)e->persistent_bytes, (unsigned long)arena_len);
    }
    assign_buffers(e);
    e->ready = 1;
    return HN_OK;
}

size_t hn_arena_required(const hn_engine *e) { return e ? e->arena_required : 0; }

hn_status hn_invoke(hn_engine *e)
{
    if (e == NULL || !e->ready) {
        return e ? hn_set_error(e, HN_ERR_NOT_READY, "invoke before a successful load")
                 : HN_ERR_NOT_READY;
    }
    for (unsigned i = 0; i < e->n_ops; ++i) {
        hn_op_slot *slot = &e->ops[i];
        uint32_t t0 = e->counter ? e->counter() : 0;
        hn_status s = slot->impl->eval(&slot->ctx);
        uint32_t t1 = e->counter ? e->counter() : 0;
        e->records[i].count = t1 - t0;
        if (s != HN_OK) {
            return s;
        }
    }
    return HN_OK;
}

size_t hn_num_inputs(const hn_engine *e) { return e && e->ready ? e->n_inputs : 0; }
size_t hn_num_outputs(const hn_engine *e) { return e && e->ready ? e->n_outputs : 0; }

hn_status hn_input(hn_engine *e, size_t i, uint8_t **data, size_t *bytes)
{
    if (e == NULL || !e->ready) return HN_ERR_NOT_READY;
    if (i >= e->n_inputs || data == NULL || bytes == NULL) {
        return hn_set_error(e, HN_ERR_BAD_ARGUMENT, "input %lu out of range (%u inputs)",
                            (unsigned long)i, (unsigned)e->n_inputs);
    }
    hn_tensor *t = &e->tensors[e->inputs[i]];
    *data = t->data;
    *bytes = t->bytes;
    return HN_OK;
}

hn_status hn_output(const hn_engine *e, size_t i, const uint8_t **data, size_t *bytes)
{
    if (e == NULL || !e->ready) return HN_ERR_NOT_READY;
    if (i >= e->n_outputs || data == NULL || bytes == NULL) {
        return HN_ERR_BAD_ARGUMENT;
    }
    const hn_tensor *t = &e->tensors[e->outputs[i]];
    *data = t->data;
    *bytes = t->bytes;
    return HN_OK;
}

void hn_set_counter(hn_engine *e, hn_counter_fn fn)
{
    if (e) e->counter = fn;
}

size_t hn_num_ops(const hn_engine *e) { return e ? e->n_ops : 0; }
const hn_op_record *hn_op_records(const hn_engine *e) { return e ? e->records : NULL; }
const char *hn_last_error(const hn_engine *e) { return e ? e->err : "no engine"; }

const char *hn_status_name(hn_status s)
{
    switch (s) {
    case HN_OK: return "OK";
    case HN_ERR_MODEL_TRUNCATED: return "MODEL_TRUNCATED";
    case HN_ERR_MODEL_MALFORMED: return "MODEL_MALFORMED";
    case HN_ERR_UNSUPPORTED_OP: return "UNSUPPORTED_OP";
    case HN_ERR_UNSUPPORTED_OPTION: return "UNSUPPORTED_OPTION";
    case HN_ERR_ARENA_TOO_SMALL: return "ARENA_TOO_SMALL";
    case HN_ERR_TOO_MANY: return "TOO_MANY";
    case HN_ERR_BAD_ARGUMENT: return "BAD_ARGUMENT";
    case HN_ERR_NOT_READY: return "NOT_READY";
    case HN_ERR_INTERNAL: return "INTERNAL";
    default: return "UNKNOWN_STATUS";
    }
}

static void fill_desc(const hn_engine *e, size_t ti, hn_tensor_desc *d)
{
    const hn_tensor *t = &e->tensors[ti];
    memset(d, 0, sizeof *d);
    d->tensor_index = (int32_t)ti;
    d->type = t->type;
    d->ndim = t->ndim;
    for (unsigned k = 0; k < t->ndim; ++k) d->dims[k] = t->dims[k];
    d->bytes = t->bytes;
    d->scale = t->n_quant ? t->scale : 0.0f;
    d->zero_point = t->zero_point;
}

hn_status hn_input_desc(const hn_engine *e, size_t i, hn_tensor_desc *d)
{
    if (e == NULL || !e->ready) return HN_ERR_NOT_READY;
    if (i >= e->n_inputs || d == NULL) return HN_ERR_BAD_ARGUMENT;
    fill_desc(e, (size_t)e->inputs[i], d);
    return HN_OK;
}

hn_status hn_output_desc(const hn_engine *e, size_t i, hn_tensor_desc *d)
{
    if (e == NULL || !e->ready) return HN_ERR_NOT_READY;
    if (i >= e->n_outputs || d == NULL) return HN_ERR_BAD_ARGUMENT;
    fill_desc(e, (size_t)e->outputs[i], d);
    return HN_OK;
}

hn_status hn_invoke_op(hn_engine *e, size_t op)
{
    if (e == NULL || !e->ready) return HN_ERR_NOT_READY;
    if (op >= e->n_ops) return HN_ERR_BAD_ARGUMENT;
    return e->ops[op].impl->eval(&e->ops[op].ctx);
}

size_t hn_op_num_outputs(const hn_engine *e, size_t op)
{
    return (e && op < e->n_ops) ? e->ops[op].ctx.n_outputs : 0;
}

int32_t hn_op_output_tensor(const hn_engine *e, size_t op, size_t k)
{
    if (e == NULL || op >= e->n_ops || k >= e->ops[op].ctx.n_outputs) return -1;
    return (int32_t)(e->ops[op].ctx.outputs[k] - e->tensors);
}

hn_status hn_tensor_desc_of(const hn_engine *e, size_t tensor, hn_tensor_desc *d)
{
    if (e == NULL || tensor >= e->n_tensors || d == NULL) return HN_ERR_BAD_ARGUMENT;
    fill_desc(e, tensor, d);
    return HN_OK;
}

hn_status hn_tensor_data(const hn_engine *e, size_t tensor, const uint8_t **data, size_t *bytes)
{
    if (e == NULL || !e->ready) return HN_ERR_NOT_READY;
    if (tensor >= e->n_tensors || data == NULL || bytes == NULL) return HN_ERR_BAD_ARGUMENT;
    *data = e->tensors[tensor].data;
    *bytes = e->tensors[tensor].bytes;
    return HN_OK;
}
