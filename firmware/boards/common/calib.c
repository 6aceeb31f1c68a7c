/*
 * calib.c: counter ticks for exactly 1,000,000 Thumb instructions.
 *
 * Timing a loop of N and of 2N iterations of `subs; bne` and subtracting
 * cancels the call/counter-read overhead, so the difference is exactly
 * 1,000,000 executed instructions. Under QEMU -icount this tells the host how
 * many instructions one SysTick tick is, whatever shift the launcher chose.
 */
#include "cortexm.h"
#include "hal.h"

static uint64_t time_loop(uint32_t iterations) {
    uint64_t t0 = hal_counter_read();
    __asm volatile("mov r0, %0\n"
                   "1: subs r0, r0, #1\n"
                   "bne 1b\n"
                   :
                   : "r"(iterations)
                   : "r0", "cc");
    return hal_counter_read() - t0;
}

uint32_t hn_calib_loop_ticks(void) {
    uint64_t once = time_loop(500000u);
    uint64_t twice = time_loop(1000000u);
    return (uint32_t)(twice - once);
}
