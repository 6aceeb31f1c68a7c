/*
 * hal.h: the only seam between the board firmware application (firmware/app)
 * and a board (firmware/boards/<name>). A new board implements exactly these
 * functions; the app never touches a register.
 *
 * Board facts that come from device_profiles/<name>.yaml arrive as compile
 * definitions (HN_BOARD_NAME, HN_CORE, HN_SRAM_BYTES, HN_FLASH_BYTES,
 * HN_SLOT_BYTES, HN_ARENA_BYTES), see firmware/CMakeLists.txt.
 */
#ifndef HN_HAL_H
#define HN_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* HELLO timing_kind values (firmware/PROTOCOL.md). */
enum {
    HAL_TIMING_CYCLES = 0,        /* DWT CYCCNT, core clock cycles */
    HAL_TIMING_ICOUNT_TICKS = 1,  /* SysTick under QEMU -icount: instruction time */
    HAL_TIMING_NS = 2             /* host build: CLOCK_MONOTONIC nanoseconds */
};

/* Clocks, UART, counter. Called once, first thing in main(). */
void hal_board_init(void);

/* Non-blocking: copy up to max received bytes into buf, return how many
 * (0 when nothing is waiting). Must never block: the protocol's inter-byte
 * timeout depends on it. */
size_t hal_uart_read(uint8_t *buf, size_t max);

/* Blocking: returns when all n bytes are handed to the UART. */
void hal_uart_write(const uint8_t *buf, size_t n);

/* Monotonic 64-bit tick count (software-extended where the hardware counter
 * is narrower) and its rate. Used for latency and for protocol timeouts. */
uint64_t hal_counter_read(void);
uint32_t hal_counter_hz(void);
/* Low 32 bits of hal_counter_read(), the engine's per-op counter. */
uint32_t hal_counter_read32(void);
/* Called right before each timed region: where the counter ticks more
 * coarsely than the code runs (SysTick under QEMU -icount: 1 tick = 40
 * instructions), restart its tick grid here so that identical code always
 * measures identical ticks. No-op elsewhere. Keeps hal_counter_read monotonic. */
void hal_counter_align(void);

/* Core clock the firmware actually configured (not the datasheet maximum). */
uint32_t hal_cpu_hz(void);
int hal_timing_kind(void);
const char *hal_timing_unit(void);

/* Counter ticks for a loop of exactly 1,000,000 Thumb instructions, measured
 * once at boot (0 where meaningless, i.e. the host build). Lets the host turn
 * emulated ticks into instructions without knowing QEMU's -icount shift. */
uint32_t hal_calib_ticks(void);

/* Stack region size, and the most of it ever used since boot (the region is
 * painted at reset; 0/0 where unavailable). */
uint32_t hal_stack_bytes(void);
uint32_t hal_stack_high_water(void);

/* Bulk path for emulated/host boards: read the host file `path` into dst
 * (capacity cap), *len = its size. Returns HAL_FILE_OK or an HAL_FILE_*
 * error. Real boards return HAL_FILE_UNSUPPORTED: the UART is their only path. */
enum {
    HAL_FILE_OK = 0,
    HAL_FILE_UNSUPPORTED = -1,
    HAL_FILE_CANNOT_OPEN = -2,
    HAL_FILE_TOO_BIG = -3,
    HAL_FILE_READ_ERROR = -4
};
int hal_host_file_read(const char *path, uint8_t *dst, uint32_t cap, uint32_t *len);

/* Stop after a SHUTDOWN command: exit QEMU / the process, reset a real board. */
void hal_shutdown(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif
#endif /* HN_HAL_H */
