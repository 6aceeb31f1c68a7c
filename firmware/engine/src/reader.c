/*
 * Model reader: walks a .tflite (schema v3) flatbuffer in place and fills the
 * engine's tensor and op tables. Nothing is copied: constant tensors point
 * into the model buffer. Every offset, length and index is checked; the first
 * problem found is reported with the tensor/op index and the byte offset.
 */
#include <string.h>

#include "hn_engine_internal.h"
#include "hn_fb.h"

/* Field indices (schema.fbs declaration order). */
enum { MODEL_OPERATOR_CODES = 1, MODEL_SUBGRAPHS = 2, MODEL_BUFFERS = 4 };
enum { OPCODE_DEPRECATED_BUILTIN = 0, OPCODE_CUSTOM = 1, OPCODE_BUILTIN = 3 };
enum { SG_TENSORS = 0, SG_INPUTS = 1, SG_OUTPUTS = 2, SG_OPERATORS = 3 };
enum { TENSOR_SHAPE = 0, TENSOR_TYPE = 1, TENSOR_BUFFER = 2, TENSOR_QUANT = 4,
       TENSOR_IS_VARIABLE = 5, TENSOR_SPARSITY = 6 };
enum { QUANT_SCALE = 2, QUANT_ZERO_POINT = 3, QUANT_DIM = 6 };
enum { OP_OPCODE_INDEX = 0, OP_INPUTS = 1, OP_OUTPUTS = 2, OP_BUILTIN_OPTIONS = 4 };
enum { BUFFER_DATA = 0, BUFFER_OFFSET = 1, BUFFER_SIZE = 2 };

#define BUILTIN_CUSTOM 32

static uint32_t type_size(int32_t type)
{
    switch (type) {
    case HN_TYPE_FLOAT32: case HN_TYPE_INT32: return 4;
    case HN_TYPE_FLOAT16: case HN_TYPE_INT16: return 2;
    case HN_TYPE_UINT8: case HN_TYPE_INT8: case HN_TYPE_BOOL: return 1;
    case HN_TYPE_INT64: return 8;
    default: return 0;
    }
}

typedef struct {
    hn_fb_table model;
    const uint8_t *buffers;      /* vector of Buffer tables */
    int64_t n_buffers;
    const uint8_t *opcodes;      /* vector of OperatorCode tables */
    int64_t n_opcodes;
} reader_state;

static hn_status vector_error(hn_engine *e, int64_t n, const char *what)
{
    if (n == -1) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "model: %s missing", what);
    }
    return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "model: %s lies outside the %u-byte buffer",
                        what, (unsigned)e->model_len);
}

static hn_status read_buffer(hn_engine *e, reader_state *rs, uint32_t index, int tensor,
                             const uint8_t **data, uint64_t *len)
{
    *data = NULL;
    *len = 0;
    if (index == 0) {
        return HN_OK; /* buffer 0 is the empty sentinel */
    }
    if ((int64_t)index >= rs->n_buffers) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "tensor %d: buffer index %u >= %d buffers",
                            tensor, (unsigned)index, (int)rs->n_buffers);
    }
    hn_fb_table b = hn_fb_vector_table(&rs->model, rs->buffers, index);
    if (b.pos == 0) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "tensor %d: buffer %u table out of bounds",
                            tensor, (unsigned)index);
    }
    const uint8_t *d = NULL;
    int64_t n = hn_fb_vector(&b, BUFFER_DATA, 1, &d);
    if (n == -2) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "tensor %d: buffer %u data out of bounds",
                            tensor, (unsigned)index);
    }
    if (n > 0) {
        *data = d;
        *len = (uint64_t)n;
        return HN_OK;
    }
    /* Large models keep data outside the flatbuffer: offset/size from file start. */
    uint32_t off_at = hn_fb_field(&b, BUFFER_OFFSET, 8);
    uint32_t size_at = hn_fb_field(&b, BUFFER_SIZE, 8);
    if (off_at && size_at) {
        uint64_t off = (uint64_t)hn_read_i64(e->model + off_at);
        uint64_t size = (uint64_t)hn_read_i64(e->model + size_at);
        if (off > 1 && (off > e->model_len || size > e->model_len - off)) {
            return hn_set_error(e, HN_ERR_MODEL_TRUNCATED,
                                "tensor %d: buffer %u [offset %lu, size %lu] outside the model",
                                tensor, (unsigned)index, (unsigned long)off, (unsigned long)size);
        }
        if (off > 1 && size > 0) {
            *data = e->model + off;
            *len = size;
        }
    }
    return HN_OK;
}

static hn_status read_quantization(hn_engine *e, const hn_fb_table *tt, hn_tensor *t, int idx)
{
    hn_fb_table q = hn_fb_subtable(tt, TENSOR_QUANT);
    if (q.pos == 0) {
        return HN_OK;
    }
    const uint8_t *scales = NULL;
    const uint8_t *zps = NULL;
    int64_t ns = hn_fb_vector(&q, QUANT_SCALE, 4, &scales);
    int64_t nz = hn_fb_vector(&q, QUANT_ZERO_POINT, 8, &zps);
    if (ns == -2 || nz == -2) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED,
                            "tensor %d: quantization vectors out of bounds", idx);
    }
    if (ns <= 0) {
        return HN_OK;
    }
    if (ns > 65536) {
        return hn_set_error(e, HN_ERR_TOO_MANY, "tensor %d: %ld quantization scales", idx,
                            (long)ns);
    }
    t->n_quant = (uint32_t)ns;
    t->scales_raw = scales;
    t->scale = hn_read_f32(scales);
    if (nz >= 1) {
        t->zero_point = (int32_t)hn_read_i64(zps);
        t->zero_points_raw = nz == ns ? zps : NULL;
    }
    int32_t qd = hn_fb_i32(&q, QUANT_DIM, 0);
    if (qd < 0 || qd >= (int32_t)(t->ndim ? t->ndim : 1)) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "tensor %d: quantized_dimension %ld out of range",
                            idx, (long)qd);
    }
    t->quant_dim = (int8_t)qd;
    return HN_OK;
}

static hn_status read_shape(hn_engine *e, const hn_fb_table *tt, hn_tensor *t, int idx,
                            uint64_t *elements)
{
    const uint8_t *shape = NULL;
    int64_t nd = hn_fb_vector(tt, TENSOR_SHAPE, 4, &shape);
    if (nd == -2) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "tensor %d: shape out of bounds", idx);
    }
    if (nd < 0) {
        nd = 0;
    }
    if (nd > HN_MAX_DIMS) {
        return hn_set_error(e, HN_ERR_TOO_MANY, "tensor %d: %ld dims > HN_MAX_DIMS %d", idx,
                            (long)nd, HN_MAX_DIMS);
    }
    t->ndim = (uint8_t)nd;
    uint64_t n = 1;
    /* Product of the non-zero dims: kernels multiply partial dims (strides), and a
     * zero dim elsewhere must not let those products overflow int32 (found by fuzzing). */
    uint64_t extent = 1;
    for (int64_t d = 0; d < nd; ++d) {
        int32_t v = hn_read_i32(shape + 4 * d);
        if (v < 0) {
            return hn_set_error(e, HN_ERR_UNSUPPORTED_OPTION,
                                "tensor %d: dynamic or negative dim %ld (dim %d)", idx, (long)v,
                                (int)d);
        }
        t->dims[d] = v;
        n *= (uint64_t)v;
        extent *= (uint64_t)(v > 0 ? v : 1);
        if (extent > 0x7FFFFFFFu) {
            return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "tensor %d: too many elements", idx);
        }
    }
    *elements = n;
    return HN_OK;
}

static hn_status read_tensor(hn_engine *e, reader_state *rs, hn_fb_table *tt, int idx)
{
    hn_tensor *t = &e->tensors[idx];
    if (tt->pos == 0) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "tensor %d: table out of bounds", idx);
    }
    if (hn_fb_subtable(tt, TENSOR_SPARSITY).pos != 0) {
        return hn_set_error(e, HN_ERR_UNSUPPORTED_OPTION, "tensor %d: sparse tensors unsupported",
                            idx);
    }
    uint64_t elements = 0;
    hn_status s = read_shape(e, tt, t, idx, &elements);
    if (s != HN_OK) {
        return s;
    }
    t->type = (int8_t)hn_fb_i8(tt, TENSOR_TYPE, HN_TYPE_FLOAT32);
    uint32_t esize = type_size(t->type);
    if (esize == 0) {
        return hn_set_error(e, HN_ERR_UNSUPPORTED_OPTION, "tensor %d: unsupported type %d", idx,
                            (int)t->type);
    }
    uint64_t bytes = elements * esize;
    if (bytes > 0x7FFFFFF0u) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "tensor %d: too large", idx);
    }
    t->bytes = (uint32_t)bytes;
    s = read_quantization(e, tt, t, idx);
    if (s != HN_OK) {
        return s;
    }
    const uint8_t *data = NULL;
    uint64_t len = 0;
    s = read_buffer(e, rs, (uint32_t)hn_fb_i32(tt, TENSOR_BUFFER, 0), idx, &data, &len);
    if (s != HN_OK) {
        return s;
    }
    if (data != NULL) {
        if (len < bytes) {
            return hn_set_error(e, HN_ERR_MODEL_MALFORMED,
                                "tensor %d: constant data has %lu bytes, shape needs %lu", idx,
                                (unsigned long)len, (unsigned long)bytes);
        }
        t->is_const = 1;
        t->data = (uint8_t *)(uintptr_t)data; /* never written: is_const */
    }
    if (hn_fb_bool(tt, TENSOR_IS_VARIABLE, 0)) {
        return hn_set_error(e, HN_ERR_UNSUPPORTED_OPTION,
                            "tensor %d: variable (stateful) tensors unsupported", idx);
    }
    return HN_OK;
}

static hn_status read_index_list(hn_engine *e, const hn_fb_table *t, unsigned field,
                                 const char *what, int op, int16_t *out, uint8_t *count,
                                 unsigned max, int allow_optional)
{
    const uint8_t *v = NULL;
    int64_t n = hn_fb_vector(t, field, 4, &v);
    if (n == -2) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "op %d: %s list out of bounds", op, what);
    }
    if (n < 0) {
        n = 0;
    }
    if (n > (int64_t)max) {
        return hn_set_error(e, HN_ERR_TOO_MANY, "op %d: %ld %s > limit %u", op, (long)n, what,
                            max);
    }
    for (int64_t i = 0; i < n; ++i) {
        int32_t ti = hn_read_i32(v + 4 * i);
        if (ti < -1 || ti >= (int32_t)e->n_tensors || (ti == -1 && !allow_optional)) {
            return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "op %d: %s[%d] = tensor %ld invalid",
                                op, what, (int)i, (long)ti);
        }
        out[i] = (int16_t)ti;
    }
    *count = (uint8_t)n;
    return HN_OK;
}

static hn_status resolve_opcode(hn_engine *e, reader_state *rs, int op, uint32_t opcode_index,
                                int32_t *code)
{
    if ((int64_t)opcode_index >= rs->n_opcodes) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "op %d: opcode_index %u >= %d", op,
                            (unsigned)opcode_index, (int)rs->n_opcodes);
    }
    hn_fb_table oc = hn_fb_vector_table(&rs->model, rs->opcodes, opcode_index);
    if (oc.pos == 0) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "op %d: operator code out of bounds", op);
    }
    int32_t dep = hn_fb_i8(&oc, OPCODE_DEPRECATED_BUILTIN, 0);
    int32_t full = hn_fb_i32(&oc, OPCODE_BUILTIN, 0);
    *code = dep > full ? dep : full;
    if (*code == BUILTIN_CUSTOM) {
        const uint8_t *name = NULL;
        int64_t n = hn_fb_vector(&oc, OPCODE_CUSTOM, 1, &name);
        int len = n > 0 ? (n > 40 ? 40 : (int)n) : 0;
        return hn_set_error(e, HN_ERR_UNSUPPORTED_OP, "op %d: custom op '%.*s' unsupported", op,
                            len, name ? (const char *)name : "");
    }
    return HN_OK;
}

static hn_status read_operator(hn_engine *e, reader_state *rs, const hn_fb_table *ot, int op)
{
    hn_op_slot *slot = &e->ops[op];
    hn_op_ctx *c = &slot->ctx;
    if (ot->pos == 0) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "op %d: table out of bounds", op);
    }
    int32_t code = 0;
    hn_status s = resolve_opcode(e, rs, op, (uint32_t)hn_fb_i32(ot, OP_OPCODE_INDEX, 0), &code);
    if (s != HN_OK) {
        return s;
    }
    c->op_index = (uint16_t)op;
    c->builtin_code = code;
    c->engine = e;
    slot->impl = hn_registry_find(code);
    if (slot->impl == NULL) {
        return hn_set_error(e, HN_ERR_UNSUPPORTED_OP, "op %d: %s (builtin %ld) is not supported",
                            op, hn_builtin_name(code), (long)code);
    }
    int16_t idx[HN_MAX_OP_IO];
    s = read_index_list(e, ot, OP_INPUTS, "inputs", op, idx, &c->n_inputs, HN_MAX_OP_IO, 1);
    if (s != HN_OK) {
        return s;
    }
    for (unsigned i = 0; i < c->n_inputs; ++i) {
        c->inputs[i] = idx[i] < 0 ? NULL : &e->tensors[idx[i]];
    }
    s = read_index_list(e, ot, OP_OUTPUTS, "outputs", op, idx, &c->n_outputs, HN_MAX_OP_IO, 0);
    if (s != HN_OK) {
        return s;
    }
    for (unsigned i = 0; i < c->n_outputs; ++i) {
        if (e->tensors[idx[i]].is_const) {
            return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "op %d: output tensor %d is constant",
                                op, (int)idx[i]);
        }
        c->outputs[i] = &e->tensors[idx[i]];
    }
    c->options = hn_fb_subtable(ot, OP_BUILTIN_OPTIONS);
    e->records[op].builtin_code = code;
    return HN_OK;
}

static hn_status read_graph_io(hn_engine *e, const hn_fb_table *sg)
{
    hn_status s = read_index_list(e, sg, SG_INPUTS, "graph inputs", -1, e->inputs, &e->n_inputs,
                                  HN_MAX_GRAPH_IO, 0);
    if (s != HN_OK) {
        return s;
    }
    return read_index_list(e, sg, SG_OUTPUTS, "graph outputs", -1, e->outputs, &e->n_outputs,
                           HN_MAX_GRAPH_IO, 0);
}

static hn_status read_root(hn_engine *e, reader_state *rs, hn_fb_table *sg)
{
    if (e->model_len < 8) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "model: %u bytes is too short",
                            (unsigned)e->model_len);
    }
    rs->model.buf = e->model;
    rs->model.buf_len = e->model_len;
    uint32_t root = hn_read_u32(e->model);
    rs->model.pos = root < e->model_len ? root : 0;
    if (!hn_fb_table_ok(&rs->model)) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "model: root table at %u invalid",
                            (unsigned)root);
    }
    if (memcmp(e->model + 4, "TFL3", 4) != 0) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "model: file identifier is not TFL3");
    }
    rs->n_opcodes = hn_fb_vector(&rs->model, MODEL_OPERATOR_CODES, 4, &rs->opcodes);
    if (rs->n_opcodes < 0) {
        return vector_error(e, rs->n_opcodes, "operator_codes");
    }
    rs->n_buffers = hn_fb_vector(&rs->model, MODEL_BUFFERS, 4, &rs->buffers);
    if (rs->n_buffers < 0) {
        return vector_error(e, rs->n_buffers, "buffers");
    }
    const uint8_t *subgraphs = NULL;
    int64_t n_sg = hn_fb_vector(&rs->model, MODEL_SUBGRAPHS, 4, &subgraphs);
    if (n_sg < 0) {
        return vector_error(e, n_sg, "subgraphs");
    }
    if (n_sg < 1) {
        return hn_set_error(e, HN_ERR_MODEL_MALFORMED, "model: no subgraph");
    }
    *sg = hn_fb_vector_table(&rs->model, subgraphs, 0);
    if (sg->pos == 0) {
        return hn_set_error(e, HN_ERR_MODEL_TRUNCATED, "model: subgraph 0 out of bounds");
    }
    return HN_OK;
}

hn_status hn_read_model(hn_engine *e)
{
    reader_state rs;
    hn_fb_table sg;
    hn_status s = read_root(e, &rs, &sg);
    if (s != HN_OK) {
        return s;
    }
    const uint8_t *tensors = NULL;
    int64_t nt = hn_fb_vector(&sg, SG_TENSORS, 4, &tensors);
    if (nt < 0) {
        return vector_error(e, nt, "subgraph tensors");
    }
    if (nt > HN_MAX_TENSORS) {
        return hn_set_error(e, HN_ERR_TOO_MANY, "model: %ld tensors > HN_MAX_TENSORS %d",
                            (long)nt, HN_MAX_TENSORS);
    }
    e->n_tensors = (uint16_t)nt;
    for (int i = 0; i < (int)nt; ++i) {
        hn_fb_table tt = hn_fb_vector_table(&sg, tensors, (uint32_t)i);
        s = read_tensor(e, &rs, &tt, i);
        if (s != HN_OK) {
            return s;
        }
    }
    s = read_graph_io(e, &sg);
    if (s != HN_OK) {
        return s;
    }
    const uint8_t *ops = NULL;
    int64_t no = hn_fb_vector(&sg, SG_OPERATORS, 4, &ops);
    if (no == -2) {
        return vector_error(e, no, "operators");
    }
    if (no > HN_MAX_OPS) {
        return hn_set_error(e, HN_ERR_TOO_MANY, "model: %ld ops > HN_MAX_OPS %d", (long)no,
                            HN_MAX_OPS);
    }
    e->n_ops = (uint16_t)(no > 0 ? no : 0);
    for (int i = 0; i < (int)e->n_ops; ++i) {
        hn_fb_table ot = hn_fb_vector_table(&sg, ops, (uint32_t)i);
        s = read_operator(e, &rs, &ot, i);
        if (s != HN_OK) {
            return s;
        }
    }
    return HN_OK;
}
