/*
 * Fuzz target for the model reader, planner and kernels (libFuzzer entry
 * point). The input is treated as a .tflite file: it is copied into a buffer
 * of exactly its size (so AddressSanitizer catches any read past the end),
 * loaded into a small arena, and, when the engine accepts it, run once on an
 * input filled from the data. Any crash, hang or sanitizer report is a bug:
 * the engine must turn every hostile model into a status code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hn_engine.h"
#include "hn_engine_internal.h"

#define FUZZ_ARENA_BYTES (96u * 1024u)

static hn_engine g_engine;
static uint8_t g_arena[FUZZ_ARENA_BYTES] __attribute__((aligned(16)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *model = (uint8_t *)malloc(size ? size : 1);
    if (model == NULL) return 0;
    if (size) memcpy(model, data, size);
    hn_status s = hn_load(&g_engine, model, size, g_arena, sizeof g_arena);
    (void)hn_last_error(&g_engine);
    if (s == HN_OK) {
        for (size_t i = 0; i < hn_num_inputs(&g_engine); ++i) {
            uint8_t *in = NULL;
            size_t bytes = 0;
            if (hn_input(&g_engine, i, &in, &bytes) == HN_OK && in != NULL) {
                for (size_t k = 0; k < bytes; ++k) in[k] = size ? data[k % size] : 0;
            }
        }
        (void)hn_invoke(&g_engine);
        for (size_t i = 0; i < hn_num_outputs(&g_engine); ++i) {
            const uint8_t *out = NULL;
            size_t bytes = 0;
            volatile uint8_t sink = 0;
            if (hn_output(&g_engine, i, &out, &bytes) == HN_OK && out != NULL && bytes) {
                sink = out[bytes - 1];
            }
            (void)sink;
        }
    }
    free(model);
    return 0;
}
