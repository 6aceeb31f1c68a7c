/*
 * Host-build extras (not part of the board library): a nanosecond counter so
 * that the Python binding can record per-op times with the same hook the
 * board uses for its cycle counter, and an allocation helper so Python does
 * not need to know the engine struct's size or alignment.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdlib.h>
#include <time.h>

#include "hn_engine.h"

static uint32_t host_counter_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

void hn_host_enable_timing(hn_engine *e) { hn_set_counter(e, host_counter_ns); }

hn_engine *hn_host_engine_new(void) { return (hn_engine *)calloc(1, hn_engine_struct_size()); }

void hn_host_engine_free(hn_engine *e) { free(e); }
