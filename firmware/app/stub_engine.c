/*
 * TEST-ONLY stub of the hn_engine API (CMake option HN_STUB_ENGINE, default
 * OFF). It exists so the protocol can be developed and tested while the real
 * engine is missing; it is never linked into a firmware that profiles models.
 *
 * Behaviour: accepts any buffer with "TFL3" at bytes 4..7 (the .tflite file
 * identifier); one input and one output of 16 bytes; output[i] = input[i] ^ 0x5A;
 * one op record (builtin code 0) counting the invoke.
 */
#include <string.h>

#include "hn_engine.h"

struct hn_engine {
    int loaded;
    uint8_t *in, *outp;
    hn_counter_fn counter;
    hn_op_record rec;
    char err[HN_ERR_MSG_LEN];
};

size_t hn_engine_struct_size(void) { return sizeof(struct hn_engine); }

hn_status hn_load(hn_engine *e, const uint8_t *model, size_t model_len, uint8_t *arena,
                  size_t arena_len) {
    memset(e, 0, sizeof(*e));
    if (model_len < 8 || memcmp(model + 4, "TFL3", 4) != 0) {
        strcpy(e->err, "stub engine: not a .tflite (no TFL3 identifier at byte 4)");
        return HN_ERR_MODEL_MALFORMED;
    }
    if (arena_len < 32) {
        strcpy(e->err, "stub engine: arena too small");
        return HN_ERR_ARENA_TOO_SMALL;
    }
    e->in = arena;
    e->outp = arena + 16;
    e->loaded = 1;
    return HN_OK;
}

size_t hn_arena_required(const hn_engine *e) { (void)e; return 32; }

static uint32_t no_counter(void) { return 0; }

hn_status hn_invoke(hn_engine *e) {
    if (!e->loaded) return HN_ERR_NOT_READY;
    hn_counter_fn c = e->counter ? e->counter : no_counter;
    uint32_t t0 = c();
    for (int i = 0; i < 16; i++) e->outp[i] = (uint8_t)(e->in[i] ^ 0x5A);
    e->rec.builtin_code = 0;
    e->rec.count = c() - t0;
    return HN_OK;
}

size_t hn_num_inputs(const hn_engine *e) { return e->loaded ? 1 : 0; }
size_t hn_num_outputs(const hn_engine *e) { return e->loaded ? 1 : 0; }

hn_status hn_input(hn_engine *e, size_t i, uint8_t **data, size_t *bytes) {
    if (!e->loaded || i != 0) return HN_ERR_BAD_ARGUMENT;
    *data = e->in;
    *bytes = 16;
    return HN_OK;
}

hn_status hn_output(const hn_engine *e, size_t i, const uint8_t **data, size_t *bytes) {
    if (!e->loaded || i != 0) return HN_ERR_BAD_ARGUMENT;
    *data = e->outp;
    *bytes = 16;
    return HN_OK;
}

void hn_set_counter(hn_engine *e, hn_counter_fn fn) { e->counter = fn; }
size_t hn_num_ops(const hn_engine *e) { return e->loaded ? 1 : 0; }
const hn_op_record *hn_op_records(const hn_engine *e) { return &e->rec; }
const char *hn_last_error(const hn_engine *e) { return e->err; }
const char *hn_status_name(hn_status s) { (void)s; return "stub"; }
const char *hn_builtin_name(int32_t c) { (void)c; return "stub"; }
