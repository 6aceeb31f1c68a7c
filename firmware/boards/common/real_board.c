/*
 * real_board.c: what every real (non-emulated) board shares: DWT cycle
 * timing, reset on SHUTDOWN or on a fault (a real board must come back
 * answering rather than hang), and the boot calibration loop.
 * The board's board.c provides hn_board_clocks_and_pins(), hn_board_cpu_hz()
 * and its UART start.
 */
#include "cortexm.h"
#include "hal.h"

void hn_dwt_start(void);
void hn_board_clocks_and_pins(void);
uint32_t hn_board_cpu_hz(void);
void hn_board_uart_start(void);

static uint32_t calib_ticks;

void hal_board_init(void) {
    hn_board_clocks_and_pins();
    hn_dwt_start();
    hn_board_uart_start();
    cpu_irq_enable();
    calib_ticks = hn_calib_loop_ticks();
}

uint32_t hal_cpu_hz(void) { return hn_board_cpu_hz(); }
uint32_t hal_counter_hz(void) { return hn_board_cpu_hz(); }
int hal_timing_kind(void) { return HAL_TIMING_CYCLES; }
const char *hal_timing_unit(void) { return "core clock cycles (DWT CYCCNT)"; }
uint32_t hal_calib_ticks(void) { return calib_ticks; }

void hal_shutdown(int code) {
    (void)code;
    system_reset();
}

void hal_fault(void) { system_reset(); }

int hal_host_file_read(const char *path, uint8_t *dst, uint32_t cap, uint32_t *len) {
    (void)path;
    (void)dst;
    (void)cap;
    (void)len;
    return HAL_FILE_UNSUPPORTED;
}
