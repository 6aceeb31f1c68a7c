/*
 * mps2.c: the emulated MPS2/MPS2+ boards under QEMU 7.2 (an385 M3, an386 M4,
 * an500 M7, an505 M33). UART0 is a CMSDK APB UART (base from the board's
 * board.cmake), read by polling with a short back-off (hal_uart_read): under
 * QEMU that is faster than interrupt + WFI, and QEMU never drops a byte (it
 * holds the next one until the RX register is read). Time is SysTick under
 * -icount (instructions).
 */
#include "cortexm.h"
#include "hal.h"

#define UART_DATA REG32(HN_UART_BASE + 0x00u)
#define UART_STATE REG32(HN_UART_BASE + 0x04u)
#define UART_CTRL REG32(HN_UART_BASE + 0x08u)
#define UART_BAUDDIV REG32(HN_UART_BASE + 0x10u)
#define STATE_TXFULL 1u
#define STATE_RXFULL 2u

void hn_systick_start(void);

static uint32_t calib_ticks;

void hal_board_init(void) {
    UART_BAUDDIV = 16u; /* QEMU ignores the rate but needs a valid divider (>= 16) */
    UART_CTRL = 3u;     /* TX enable | RX enable */
    /* QEMU 7.2 re-arms its socket watch only when DATA is read; a read right
     * after enabling RX avoids a lost-wakeup race (see hilnas.board.qemu). */
    (void)UART_DATA;
    hn_systick_start();
    calib_ticks = hn_calib_loop_ticks();
}

/* After an empty poll, spin this many loop iterations (2 instructions each)
 * without touching the bus before the next one. Board time here is instruction
 * time (SysTick under -icount); a poll is an MMIO exit that costs the emulator
 * far more host time than an instruction, so back-to-back polling made board
 * time crawl while idle: FRAME_TIMEOUT (500 ms of board time) took 6-8 s of
 * wall time on a loaded 2-core host, and over 15 s at load average 13. With the
 * spin it takes ~3 s there, at the same receive rate (8-10 KB/s) and PING
 * round trip (measured with 0, 1000, 5000 and 20000 iterations). */
#ifndef HN_UART_IDLE_SPIN
#define HN_UART_IDLE_SPIN 1000u
#endif

size_t hal_uart_read(uint8_t *buf, size_t max) {
    size_t n = 0;
    while (n < max && (UART_STATE & STATE_RXFULL)) buf[n++] = (uint8_t)UART_DATA;
    if (n == 0 && HN_UART_IDLE_SPIN > 0u) {
        uint32_t k = HN_UART_IDLE_SPIN;
        __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(k) : : "cc");
    }
    return n;
}

void hal_uart_write(const uint8_t *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        while (UART_STATE & STATE_TXFULL) {
        }
        UART_DATA = buf[i];
    }
}

uint32_t hal_counter_hz(void) { return (uint32_t)HN_CLOCK_HZ; }
uint32_t hal_cpu_hz(void) { return (uint32_t)HN_CLOCK_HZ; }
int hal_timing_kind(void) { return HAL_TIMING_ICOUNT_TICKS; }
const char *hal_timing_unit(void) {
    return "SysTick ticks under QEMU -icount (instruction time; instructions = ticks*1e6/calib_ticks)";
}
uint32_t hal_calib_ticks(void) { return calib_ticks; }

/* Wait until QEMU took the last byte of the SHUTDOWN reply from the UART before
 * exiting: otherwise QEMU can exit with that byte still pending in the device
 * and the host sees the socket close instead of the reply. */
void hal_shutdown(int code) {
    while (UART_STATE & STATE_TXFULL) {
    }
    hn_semihost_exit(code);
}

int hal_host_file_read(const char *path, uint8_t *dst, uint32_t cap, uint32_t *len) {
    return hn_semihost_read_file(path, dst, cap, len);
}

/* A fault on an emulated board ends QEMU with a distinctive status (3) so the
 * host launcher reports a crash instead of a timeout. */
void hal_fault(void) { hn_semihost_exit(3); }
