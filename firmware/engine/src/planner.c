/*
 * Arena planner. Same idea as TFLM's GreedyMemoryPlanner: every non-constant
 * tensor and every op scratch buffer gets a lifetime [first op, last op]; the
 * buffers are placed largest first, each at the lowest offset where it does
 * not overlap (in time and address) a buffer placed before it. On top of that,
 * a RESHAPE whose input dies at the reshape reuses the input's buffer (no copy,
 * no second buffer), which TFLM does not do, so the plan is never larger.
 */
#include <string.h>

#include "hn_engine_internal.h"

#define RESHAPE_CODE 22
#define NO_USE (-2)

static uint32_t align_up(uint32_t v) { return (v + HN_ARENA_ALIGN - 1u) & ~(HN_ARENA_ALIGN - 1u); }

static int tensor_index(const hn_engine *e, const hn_tensor *t)
{
    return (int)(t - e->tensors);
}

static int is_graph_io(const hn_engine *e, int t)
{
    for (unsigned i = 0; i < e->n_inputs; ++i) {
        if (e->inputs[i] == t) return 1;
    }
    for (unsigned i = 0; i < e->n_outputs; ++i) {
        if (e->outputs[i] == t) return 1;
    }
    return 0;
}

static hn_status compute_lifetimes(hn_engine *e)
{
    for (unsigned t = 0; t < e->n_tensors; ++t) {
        e->plan[t].first_use = NO_USE;
        e->plan[t].last_use = NO_USE;
        e->plan[t].alias_of = -1;
    }
    for (unsigned i = 0; i < e->n_inputs; ++i) {
        e->plan[e->inputs[i]].first_use = -1;
        e->plan[e->inputs[i]].last_use = -1;
    }
    for (int op = 0; op < (int)e->n_ops; ++op) {
        hn_op_ctx *c = &e->ops[op].ctx;
        for (unsigned i = 0; i < c->n_inputs; ++i) {
            if (c->inputs[i] == NULL || c->inputs[i]->is_const) continue;
            int t = tensor_index(e, c->inputs[i]);
            if (e->plan[t].first_use == NO_USE) {
                return hn_set_error(e, HN_ERR_MODEL_MALFORMED,
                                    "op %d (%s): input tensor %d is read before any op writes it",
                                    op, hn_builtin_name(c->builtin_code), t);
            }
            e->plan[t].last_use = op;
        }
        for (unsigned i = 0; i < c->n_outputs; ++i) {
            int t = tensor_index(e, c->outputs[i]);
            if (e->plan[t].first_use == NO_USE) {
                e->plan[t].first_use = op;
            }
            if (e->plan[t].last_use < op) {
                e->plan[t].last_use = op;
            }
        }
    }
    for (unsigned i = 0; i < e->n_outputs; ++i) {
        int t = e->outputs[i];
        if (e->tensors[t].is_const) continue;
        if (e->plan[t].first_use == NO_USE) {
            return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "graph output tensor %d is never written",
                                t);
        }
        e->plan[t].last_use = (int32_t)e->n_ops;
    }
    return HN_OK;
}

/* RESHAPE output shares its input's buffer when the input dies there. */
static void alias_reshapes(hn_engine *e)
{
    for (int op = 0; op < (int)e->n_ops; ++op) {
        hn_op_ctx *c = &e->ops[op].ctx;
        if (c->builtin_code != RESHAPE_CODE || c->n_inputs < 1 || c->n_outputs != 1) continue;
        hn_tensor *in = c->inputs[0];
        if (in == NULL || in->is_const || in->bytes != c->outputs[0]->bytes) continue;
        int ti = tensor_index(e, in);
        int to = tensor_index(e, c->outputs[0]);
        if (ti == to || e->plan[ti].last_use != op || is_graph_io(e, ti) || is_graph_io(e, to)) {
            continue;
        }
        int root = e->plan[ti].alias_of >= 0 ? e->plan[ti].alias_of : ti;
        e->plan[to].alias_of = root;
        if (e->plan[root].last_use < e->plan[to].last_use) {
            e->plan[root].last_use = e->plan[to].last_use;
        }
    }
}

/* A planner buffer: tensor t (< n_tensors) or scratch of op (t - n_tensors). */
typedef struct {
    uint32_t size;
    int32_t first;
    int32_t last;
    uint32_t offset;
} buf_info;

static buf_info buffer_info(const hn_engine *e, unsigned b)
{
    buf_info bi = {0, 0, 0, 0};
    if (b < e->n_tensors) {
        const hn_tensor_plan *p = &e->plan[b];
        if (e->tensors[b].is_const || p->alias_of >= 0 || p->first_use == NO_USE) {
            return bi;
        }
        bi.size = align_up(e->tensors[b].bytes);
        bi.first = p->first_use;
        bi.last = p->last_use;
        bi.offset = p->offset;
    } else {
        const hn_op_slot *s = &e->ops[b - e->n_tensors];
        bi.size = align_up(s->ctx.scratch_bytes);
        bi.first = bi.last = (int32_t)(b - e->n_tensors);
        bi.offset = s->scratch_offset;
    }
    return bi;
}

static void set_offset(hn_engine *e, unsigned b, uint32_t off)
{
    if (b < e->n_tensors) {
        e->plan[b].offset = off;
    } else {
        e->ops[b - e->n_tensors].scratch_offset = off;
    }
}

/* Lowest offset where `me` overlaps no placed buffer that is alive with it. */
static uint32_t first_fit(const hn_engine *e, const uint16_t *order, unsigned n_placed,
                          buf_info me)
{
    uint32_t cand = 0;
    int moved = 1;
    while (moved) {
        moved = 0;
        for (unsigned k = 0; k < n_placed; ++k) {
            buf_info o = buffer_info(e, order[k]);
            int alive_together = !(o.last < me.first || me.last < o.first);
            int overlap = cand < o.offset + o.size && o.offset < cand + me.size;
            if (alive_together && overlap) {
                cand = o.offset + o.size;
                moved = 1;
            }
        }
    }
    return cand;
}

hn_status hn_plan(hn_engine *e)
{
    static uint16_t order[HN_MAX_TENSORS + HN_MAX_OPS];
    hn_status s = compute_lifetimes(e);
    if (s != HN_OK) {
        return s;
    }
    alias_reshapes(e);
    unsigned n = 0;
    for (unsigned b = 0; b < (unsigned)e->n_tensors + e->n_ops; ++b) {
        if (buffer_info(e, b).size > 0) {
            /* insertion sort: size descending, stable */
            uint32_t sz = buffer_info(e, b).size;
            unsigned k = n++;
            while (k > 0 && buffer_info(e, order[k - 1]).size < sz) {
                order[k] = order[k - 1];
                --k;
            }
            order[k] = (uint16_t)b;
        }
    }
    uint32_t total = 0;
    for (unsigned k = 0; k < n; ++k) {
        buf_info me = buffer_info(e, order[k]);
        uint32_t off = first_fit(e, order, k, me);
        set_offset(e, order[k], off);
        if (off + me.size > total) {
            total = off + me.size;
        }
    }
    e->planned_bytes = total;
    return HN_OK;
}
