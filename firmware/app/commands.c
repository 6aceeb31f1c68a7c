/*
 * commands.c: one handler per opcode of firmware/PROTOCOL.md.
 *
 * Every handler validates its payload size first, then its state, and either
 * fills the reply payload (returning 0) or fills an error message (returning
 * a status). commands_dispatch sends exactly one frame per request, so the
 * host can always pair replies with requests by order and seq.
 */
#include "commands.h"

#include <string.h>

#include "hal.h"
#include "hn_engine.h"
#include "msg.h"

#ifndef HN_FW_VERSION
#define HN_FW_VERSION "0.0.0"
#endif
#ifndef HN_GIT_HASH
#define HN_GIT_HASH "unknown"
#endif
#ifndef HN_ENGINE_FLAGS
#define HN_ENGINE_FLAGS ""
#endif
#ifndef HN_MAX_RUNS
#define HN_MAX_RUNS 1000u
#endif

enum {
    OP_HELLO = 0x01, OP_PING = 0x02, OP_SHUTDOWN = 0x03,
    OP_MODEL_BEGIN = 0x10, OP_MODEL_CHUNK = 0x11, OP_MODEL_END = 0x12, OP_MODEL_BUILTIN = 0x13,
    OP_MODEL_HOST_FILE = 0x14,
    OP_INPUT_CHUNK = 0x20, OP_RUN = 0x30, OP_READ_OUTPUT = 0x31, OP_READ_OPS = 0x32
};

/* Model slot and arena: static, sized from the board profile (no malloc).
 * .noinit: a multi-megabyte zero fill at boot buys nothing. */
#ifdef HN_HOST_BUILD
#define NOINIT(name)
#else
#define NOINIT(name) __attribute__((section(".noinit." name)))
#endif
static uint8_t slot[HN_SLOT_BYTES] __attribute__((aligned(16))) NOINIT("slot");
static uint8_t arena_mem[HN_ARENA_BYTES] __attribute__((aligned(16))) NOINIT("arena");

/* The engine's tables (HN_MAX_OPS / HN_MAX_TENSORS from the profile) are part of
 * the firmware's own RAM, never carved out of the arena: the arena a model gets
 * is exactly the profile's engine.arena_bytes, which HELLO reports. */
#ifdef HN_STUB_ENGINE
static uint8_t engine_mem[256] __attribute__((aligned(16)));
#else
#include "hn_engine_internal.h"
static hn_engine engine_mem;
#endif

/* The board's limits for one model, as HELLO reports them (PROTOCOL.md): model
 * slot, arena, op and tensor tables, all from the device profile. Kept as one
 * named record so that a host can also read them from an image it cannot boot
 * (real boards: tests/board read `hn_limits` from the ELF). */
const volatile uint32_t hn_limits[4] = { /* volatile: HELLO reads the record itself */
    (uint32_t)HN_SLOT_BYTES, (uint32_t)HN_ARENA_BYTES, (uint32_t)HN_MAX_OPS,
    (uint32_t)HN_MAX_TENSORS};

#ifdef HN_HAS_BUILTIN_MODEL
extern const uint8_t hn_builtin_model_start[];
extern const uint8_t hn_builtin_model_end[];
#endif

typedef struct {
    /* upload */
    int upload_open;
    uint32_t upload_total, upload_crc, upload_next;
    /* loaded model */
    hn_engine *engine;
    uint8_t *arena;
    size_t arena_cap;
    int loaded;
    const uint8_t *model;
    uint32_t model_bytes, model_crc;
    uint32_t input_bytes, output_bytes;
    uint8_t *input_stage;
    uint32_t input_next;
    int ran;
} fw_state;

static fw_state st;
static uint64_t latencies[HN_MAX_RUNS];
static uint8_t tx[PROTO_OVERHEAD + PROTO_MAX_PAYLOAD] __attribute__((aligned(4)));
static msg_t err;
static uint32_t err_detail; /* the error reply's detail field (PROTOCOL.md), reset per request */

#define REPLY (&tx[PROTO_HEADER])

static size_t align16(size_t n) { return (n + 15u) & ~(size_t)15u; }

void commands_init(void) {
    memset(&st, 0, sizeof(st));
    if (hn_engine_struct_size() <= sizeof(engine_mem)) st.engine = (hn_engine *)(void *)&engine_mem;
    st.arena = arena_mem;
    st.arena_cap = sizeof(arena_mem);
}

static void unload(void) {
    st.loaded = 0;
    st.ran = 0;
    st.model = NULL;
    st.model_bytes = st.input_bytes = st.output_bytes = st.input_next = 0;
    st.input_stage = NULL;
}

static uint16_t need_len(uint16_t len, uint16_t want, const char *what) {
    if (len == want) return 0;
    msg_reset(&err);
    msg_u(msg_s(msg_s(&err, what), " payload must be "), want);
    msg_u(msg_s(&err, " bytes, got "), len);
    return PROTO_BAD_LENGTH;
}

static size_t put_str(uint8_t *p, const char *s) {
    size_t n = strlen(s);
    if (n > 255) n = 255;
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

static uint32_t builtin_model_bytes(void) {
#ifdef HN_HAS_BUILTIN_MODEL
    return (uint32_t)(hn_builtin_model_end - hn_builtin_model_start);
#else
    return 0;
#endif
}

static uint16_t cmd_hello(const uint8_t *p, uint16_t len, uint16_t *out) {
    uint16_t s = need_len(len, 1, "HELLO");
    if (s) return s;
    if (p[0] != PROTO_VERSION) {
        msg_reset(&err);
        msg_u(msg_s(&err, "host asks for protocol version "), p[0]);
        msg_u(msg_s(&err, ", board speaks "), PROTO_VERSION);
        return PROTO_BAD_VERSION;
    }
    uint8_t *r = REPLY;
    r[0] = PROTO_VERSION;
    r[1] = (uint8_t)hal_timing_kind();
    put_u16(r + 2, PROTO_MAX_PAYLOAD);
    put_u16(r + 4, PROTO_WINDOW);
    put_u16(r + 6, HN_MAX_RUNS);
    put_u32(r + 8, hal_cpu_hz());
    put_u32(r + 12, hal_counter_hz());
    put_u32(r + 16, (uint32_t)HN_SRAM_BYTES);
    put_u32(r + 20, (uint32_t)HN_FLASH_BYTES);
    put_u32(r + 24, hn_limits[0]);
    put_u32(r + 28, (uint32_t)st.arena_cap);
    put_u32(r + 32, hal_stack_bytes());
    put_u32(r + 36, builtin_model_bytes());
    put_u32(r + 40, hal_calib_ticks());
    size_t n = 44;
    n += put_str(r + n, HN_BOARD_NAME);
    n += put_str(r + n, HN_CORE);
    n += put_str(r + n, HN_FW_VERSION);
    n += put_str(r + n, HN_GIT_HASH);
    n += put_str(r + n, HN_ENGINE_FLAGS);
    n += put_str(r + n, hal_timing_unit());
    /* Engine limits (appended: hosts ignore bytes after the fields they know). */
    put_u32(r + n, hn_limits[2]);
    put_u32(r + n + 4, hn_limits[3]);
    n += 8;
    *out = (uint16_t)n;
    return 0;
}

static uint16_t cmd_ping(const uint8_t *p, uint16_t len, uint16_t *out) {
    memcpy(REPLY, p, len);
    *out = len;
    return 0;
}

static uint16_t cmd_model_begin(const uint8_t *p, uint16_t len, uint16_t *out) {
    uint16_t s = need_len(len, 8, "MODEL_BEGIN");
    if (s) return s;
    uint32_t total = get_u32(p);
    unload();
    st.upload_open = 0;
    msg_reset(&err);
    if (total == 0) {
        msg_s(&err, "MODEL_BEGIN total_bytes is 0");
        return PROTO_BAD_LENGTH;
    }
    if (total > sizeof(slot)) {
        msg_u(msg_s(&err, "model of "), total);
        msg_u(msg_s(&err, " bytes exceeds the model slot of "), (uint32_t)sizeof(slot));
        msg_s(msg_s(&err, " bytes on "), HN_BOARD_NAME);
        return PROTO_MODEL_TOO_BIG;
    }
    st.upload_open = 1;
    st.upload_total = total;
    st.upload_crc = get_u32(p + 4);
    st.upload_next = 0;
    put_u32(REPLY, (uint32_t)sizeof(slot));
    *out = 4;
    return 0;
}

/* Shared by MODEL_CHUNK and INPUT_CHUNK: sequential chunks into a buffer. */
static uint16_t sequential_chunk(const uint8_t *p, uint16_t len, uint8_t *dst, uint32_t cap,
                                 uint32_t *next, int allow_restart, uint16_t too_big,
                                 const char *what) {
    msg_reset(&err);
    if (len < 5) {
        msg_u(msg_s(msg_s(&err, what), " needs offset + at least 1 data byte, got "), len);
        return PROTO_BAD_LENGTH;
    }
    uint32_t offset = get_u32(p);
    uint32_t n = (uint32_t)len - 4u;
    if (offset != *next && !(allow_restart && offset == 0)) {
        msg_u(msg_s(msg_s(&err, what), " offset "), offset);
        msg_u(msg_s(&err, " but the board expects "), *next);
        err_detail = *next;
        return PROTO_BAD_OFFSET;
    }
    if (offset > cap || n > cap - offset) {
        msg_u(msg_s(msg_s(&err, what), " bytes "), offset);
        msg_u(msg_s(&err, ".."), offset + n);
        msg_u(msg_s(&err, " run past the expected size "), cap);
        return too_big;
    }
    memcpy(dst + offset, p + 4, n);
    *next = offset + n;
    put_u32(REPLY, *next);
    return 0;
}

static uint16_t cmd_model_chunk(const uint8_t *p, uint16_t len, uint16_t *out) {
    if (!st.upload_open) {
        msg_reset(&err);
        msg_s(&err, "MODEL_CHUNK without MODEL_BEGIN");
        return PROTO_NO_MODEL;
    }
    uint16_t s = sequential_chunk(p, len, slot, st.upload_total, &st.upload_next, 0,
                                  PROTO_MODEL_TOO_BIG, "MODEL_CHUNK");
    if (!s) *out = 4;
    return s;
}

static uint32_t io_total(int outputs) {
    size_t count = outputs ? hn_num_outputs(st.engine) : hn_num_inputs(st.engine);
    uint32_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t bytes = 0;
        if (outputs) {
            const uint8_t *d;
            if (hn_output(st.engine, i, &d, &bytes) != HN_OK) bytes = 0;
        } else {
            uint8_t *d;
            if (hn_input(st.engine, i, &d, &bytes) != HN_OK) bytes = 0;
        }
        total += (uint32_t)bytes;
    }
    return total;
}

/* Load `model` into the engine and describe it; input staging goes after the
 * model in the slot (or at its start for a flash model). */
static uint16_t load_model(const uint8_t *model, uint32_t bytes, uint16_t *out) {
    unload();
    msg_reset(&err);
    if (!st.engine) {
        msg_s(&err, "engine struct does not fit its static storage");
        return HN_ERR_ARENA_TOO_SMALL;
    }
    hn_status hs = hn_load(st.engine, model, bytes, st.arena, st.arena_cap);
    if (hs != HN_OK) {
        msg_s(&err, hn_last_error(st.engine));
        if (hs == HN_ERR_ARENA_TOO_SMALL) {
            msg_u(msg_s(&err, " (needs "), (uint32_t)hn_arena_required(st.engine));
            msg_u(msg_s(&err, ", board arena "), (uint32_t)st.arena_cap);
            msg_s(&err, ")");
        }
        return (uint16_t)hs;
    }
    hn_set_counter(st.engine, hal_counter_read32);
    uint32_t in_bytes = io_total(0);
    size_t stage_at = model == slot ? align16(bytes) : 0;
    if (stage_at > sizeof(slot) || in_bytes > sizeof(slot) - stage_at) {
        msg_u(msg_s(&err, "no room for the model's "), in_bytes);
        msg_u(msg_s(&err, " input bytes after the model in the "), (uint32_t)sizeof(slot));
        msg_s(&err, "-byte slot");
        return PROTO_INPUT_SIZE;
    }
    st.loaded = 1;
    st.model = model;
    st.model_bytes = bytes;
    st.model_crc = proto_crc32(model, bytes);
    st.input_bytes = in_bytes;
    st.output_bytes = io_total(1);
    st.input_stage = slot + stage_at;
    st.input_next = 0;
    uint8_t *r = REPLY;
    put_u32(r, (uint32_t)hn_arena_required(st.engine));
    put_u32(r + 4, bytes);
    put_u32(r + 8, st.model_crc);
    put_u16(r + 12, (uint16_t)hn_num_ops(st.engine));
    r[14] = (uint8_t)hn_num_inputs(st.engine);
    r[15] = (uint8_t)hn_num_outputs(st.engine);
    put_u32(r + 16, st.input_bytes);
    put_u32(r + 20, st.output_bytes);
    *out = 24;
    return 0;
}

static uint16_t cmd_model_end(const uint8_t *p, uint16_t len, uint16_t *out) {
    (void)p;
    uint16_t s = need_len(len, 0, "MODEL_END");
    if (s) return s;
    msg_reset(&err);
    if (!st.upload_open) {
        msg_s(&err, "MODEL_END without MODEL_BEGIN");
        return PROTO_NO_MODEL;
    }
    st.upload_open = 0;
    if (st.upload_next != st.upload_total) {
        err_detail = st.upload_next;
        msg_u(msg_s(&err, "MODEL_END after "), st.upload_next);
        msg_u(msg_s(&err, " of "), st.upload_total);
        msg_s(&err, " bytes");
        return PROTO_BAD_OFFSET;
    }
    uint32_t crc = proto_crc32(slot, st.upload_total);
    if (crc != st.upload_crc) {
        msg_u(msg_s(&err, "model CRC mismatch: slot has crc32 "), crc);
        msg_u(msg_s(&err, ", MODEL_BEGIN said "), st.upload_crc);
        return PROTO_MODEL_CRC_MISMATCH;
    }
    return load_model(slot, st.upload_total, out);
}

static uint16_t cmd_model_builtin(const uint8_t *p, uint16_t len, uint16_t *out) {
    (void)p;
    uint16_t s = need_len(len, 0, "MODEL_BUILTIN");
    if (s) return s;
    st.upload_open = 0;
#ifdef HN_HAS_BUILTIN_MODEL
    return load_model(hn_builtin_model_start, builtin_model_bytes(), out);
#else
    (void)out;
    unload();
    msg_reset(&err);
    msg_s(msg_s(&err, "no model linked into this firmware for "), HN_BOARD_NAME);
    return PROTO_NO_MODEL;
#endif
}

/* Bulk path (emulated and host boards): the board reads the host file itself
 * (semihosting), then checks size and CRC exactly as an upload would. */
static uint16_t cmd_model_host_file(const uint8_t *p, uint16_t len, uint16_t *out) {
    static char path[256];
    msg_reset(&err);
    if (len < 9 || len > 8 + 255) {
        msg_u(msg_s(&err, "MODEL_HOST_FILE needs total, crc and a 1..255-byte path, got "), len);
        return PROTO_BAD_LENGTH;
    }
    uint32_t total = get_u32(p), crc_want = get_u32(p + 4);
    uint32_t n = (uint32_t)len - 8u;
    memcpy(path, p + 8, n);
    path[n] = '\0';
    unload();
    st.upload_open = 0;
    uint32_t got = 0;
    int rc = hal_host_file_read(path, slot, (uint32_t)sizeof(slot), &got);
    if (rc == HAL_FILE_UNSUPPORTED) {
        msg_s(msg_s(&err, "MODEL_HOST_FILE is not available on "), HN_BOARD_NAME);
        msg_s(&err, " (no semihosting): upload over the UART");
        return PROTO_NOT_SUPPORTED;
    }
    if (rc == HAL_FILE_TOO_BIG) {
        msg_s(msg_s(&err, "host file "), path);
        msg_u(msg_s(&err, " exceeds the model slot of "), (uint32_t)sizeof(slot));
        return PROTO_MODEL_TOO_BIG;
    }
    if (rc != HAL_FILE_OK) {
        msg_s(msg_s(&err, rc == HAL_FILE_CANNOT_OPEN ? "cannot open host file " : "cannot read host file "), path);
        return PROTO_HOST_FILE;
    }
    if (got != total) {
        msg_u(msg_s(msg_s(&err, path), " has "), got);
        msg_u(msg_s(&err, " bytes, request said "), total);
        return PROTO_BAD_LENGTH;
    }
    uint32_t crc = proto_crc32(slot, got);
    if (crc != crc_want) {
        msg_u(msg_s(&err, "model CRC mismatch: file has crc32 "), crc);
        msg_u(msg_s(&err, ", request said "), crc_want);
        return PROTO_MODEL_CRC_MISMATCH;
    }
    return load_model(slot, got, out);
}

static uint16_t no_model(const char *what) {
    msg_reset(&err);
    msg_s(msg_s(&err, what), ": no model loaded");
    return PROTO_NO_MODEL;
}

static uint16_t cmd_input_chunk(const uint8_t *p, uint16_t len, uint16_t *out) {
    if (!st.loaded) return no_model("INPUT_CHUNK");
    uint16_t s = sequential_chunk(p, len, st.input_stage, st.input_bytes, &st.input_next, 1,
                                  PROTO_INPUT_SIZE, "INPUT_CHUNK");
    if (!s) *out = 4;
    return s;
}

/* Copy the staged input into the engine's input tensors (untimed). */
static void stage_inputs(void) {
    uint32_t off = 0;
    for (size_t i = 0; i < hn_num_inputs(st.engine); i++) {
        uint8_t *d;
        size_t bytes;
        if (hn_input(st.engine, i, &d, &bytes) != HN_OK) continue;
        memcpy(d, st.input_stage + off, bytes);
        off += (uint32_t)bytes;
    }
}

static void sort_u64(uint64_t *v, uint32_t n) {
    for (uint32_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        uint32_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static uint32_t output_crc(void) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < hn_num_outputs(st.engine); i++) {
        const uint8_t *d;
        size_t bytes;
        if (hn_output(st.engine, i, &d, &bytes) == HN_OK) crc = proto_crc32_update(crc, d, bytes);
    }
    return crc ^ 0xFFFFFFFFu;
}

static uint16_t invoke_timed(uint64_t *ticks) {
    stage_inputs();
    hal_counter_align();
    uint64_t t0 = hal_counter_read();
    hn_status hs = hn_invoke(st.engine);
    uint64_t t1 = hal_counter_read();
    *ticks = t1 - t0;
    if (hs == HN_OK) return 0;
    msg_reset(&err);
    msg_s(&err, hn_last_error(st.engine));
    return (uint16_t)hs;
}

static uint16_t cmd_run(const uint8_t *p, uint16_t len, uint16_t *out) {
    uint16_t s = need_len(len, 4, "RUN");
    if (s) return s;
    uint16_t runs = get_u16(p), warmup = get_u16(p + 2);
    msg_reset(&err);
    if (runs == 0 || runs > HN_MAX_RUNS) {
        msg_u(msg_s(&err, "RUN runs must be 1.."), HN_MAX_RUNS);
        msg_u(msg_s(&err, ", got "), runs);
        return PROTO_BAD_LENGTH;
    }
    if (!st.loaded) return no_model("RUN");
    if (st.input_next != st.input_bytes) {
        msg_u(msg_s(&err, "RUN with incomplete input: "), st.input_next);
        msg_u(msg_s(&err, " of "), st.input_bytes);
        msg_s(&err, " bytes received");
        return PROTO_INPUT_SIZE;
    }
    st.ran = 0;
    uint64_t ticks;
    for (uint32_t i = 0; i < warmup; i++)
        if ((s = invoke_timed(&ticks)) != 0) return s;
    for (uint32_t i = 0; i < runs; i++) {
        if ((s = invoke_timed(&ticks)) != 0) return s;
        latencies[i] = ticks;
    }
    st.ran = 1;
    sort_u64(latencies, runs);
    uint8_t *r = REPLY;
    put_u16(r, runs);
    put_u16(r + 2, warmup);
    put_u64(r + 4, latencies[0]);
    put_u64(r + 12, latencies[(runs - 1u) / 2u]);
    put_u64(r + 20, latencies[runs - 1u]);
    put_u32(r + 28, (uint32_t)hn_arena_required(st.engine));
    put_u32(r + 32, hal_stack_high_water());
    put_u32(r + 36, st.model_bytes);
    put_u32(r + 40, st.output_bytes);
    put_u32(r + 44, output_crc());
    put_u16(r + 48, (uint16_t)hn_num_ops(st.engine));
    put_u16(r + 50, 0);
    *out = 52;
    return 0;
}

static uint16_t cmd_read_output(const uint8_t *p, uint16_t len, uint16_t *out) {
    uint16_t s = need_len(len, 6, "READ_OUTPUT");
    if (s) return s;
    if (!st.loaded || !st.ran) return no_model("READ_OUTPUT (no completed RUN)");
    uint32_t offset = get_u32(p), n = get_u16(p + 4);
    msg_reset(&err);
    if (n == 0 || n > PROTO_MAX_PAYLOAD || offset > st.output_bytes ||
        n > st.output_bytes - offset) {
        msg_u(msg_s(&err, "READ_OUTPUT "), offset);
        msg_u(msg_s(&err, "+"), n);
        msg_u(msg_s(&err, " outside the "), st.output_bytes);
        msg_s(&err, " output bytes");
        return PROTO_BAD_OFFSET;
    }
    /* walk the outputs as one concatenated byte range */
    uint32_t base = 0, done = 0;
    for (size_t i = 0; i < hn_num_outputs(st.engine) && done < n; i++) {
        const uint8_t *d;
        size_t bytes;
        if (hn_output(st.engine, i, &d, &bytes) != HN_OK) continue;
        uint32_t lo = offset + done;
        if (lo < base + bytes) {
            uint32_t take = (uint32_t)(base + bytes - lo);
            if (take > n - done) take = n - done;
            memcpy(REPLY + done, d + (lo - base), take);
            done += take;
        }
        base += (uint32_t)bytes;
    }
    *out = (uint16_t)n;
    return 0;
}

static uint16_t cmd_read_ops(const uint8_t *p, uint16_t len, uint16_t *out) {
    uint16_t s = need_len(len, 4, "READ_OPS");
    if (s) return s;
    if (!st.loaded) return no_model("READ_OPS");
    uint32_t total = (uint32_t)hn_num_ops(st.engine);
    uint32_t first = get_u16(p), count = get_u16(p + 2);
    if (first > total) {
        msg_reset(&err);
        msg_u(msg_s(&err, "READ_OPS first "), first);
        msg_u(msg_s(&err, " > op count "), total);
        return PROTO_BAD_OFFSET;
    }
    uint32_t n = total - first;
    if (n > count) n = count;
    if (n > (PROTO_MAX_PAYLOAD - 6u) / 6u) n = (PROTO_MAX_PAYLOAD - 6u) / 6u;
    const hn_op_record *rec = hn_op_records(st.engine);
    uint8_t *r = REPLY;
    put_u16(r, (uint16_t)total);
    put_u16(r + 2, (uint16_t)first);
    put_u16(r + 4, (uint16_t)n);
    for (uint32_t i = 0; i < n; i++) {
        put_u16(r + 6 + 6 * i, (uint16_t)rec[first + i].builtin_code);
        put_u32(r + 8 + 6 * i, rec[first + i].count);
    }
    *out = (uint16_t)(6 + 6 * n);
    return 0;
}

typedef uint16_t (*cmd_fn)(const uint8_t *p, uint16_t len, uint16_t *out);

static cmd_fn handler_for(uint8_t opcode) {
    switch (opcode) {
    case OP_HELLO: return cmd_hello;
    case OP_PING: return cmd_ping;
    case OP_MODEL_BEGIN: return cmd_model_begin;
    case OP_MODEL_CHUNK: return cmd_model_chunk;
    case OP_MODEL_END: return cmd_model_end;
    case OP_MODEL_BUILTIN: return cmd_model_builtin;
    case OP_MODEL_HOST_FILE: return cmd_model_host_file;
    case OP_INPUT_CHUNK: return cmd_input_chunk;
    case OP_RUN: return cmd_run;
    case OP_READ_OUTPUT: return cmd_read_output;
    case OP_READ_OPS: return cmd_read_ops;
    default: return NULL;
    }
}

void commands_dispatch(uint8_t opcode, uint16_t seq, const uint8_t *payload, uint16_t len) {
    if (opcode == OP_SHUTDOWN) {
        proto_send_inplace(tx, (uint8_t)(opcode | 0x80u), seq, 0);
        hal_shutdown(0);
    }
    cmd_fn fn = handler_for(opcode);
    if (!fn) {
        msg_reset(&err);
        msg_u(msg_s(&err, "unknown opcode "), opcode);
        proto_send_error(seq, PROTO_UNKNOWN_OPCODE, opcode, 0, err.buf);
        return;
    }
    uint16_t out = 0;
    err_detail = 0;
    uint16_t status = fn(payload, len, &out);
    if (status) {
        proto_send_error(seq, status, opcode, err_detail, err.buf);
        return;
    }
    proto_send_inplace(tx, (uint8_t)(opcode | 0x80u), seq, out);
}
