/*
 * semihost.c: SYS_EXIT_EXTENDED, which QEMU turns into its own exit status
 * (emulated boards are started with -semihosting-config enable=on).
 */
#include <stdint.h>

#include "cortexm.h"

void hn_semihost_exit(int code) {
    /* ADP_Stopped_ApplicationExit = 0x20026, then the exit code */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm("r0") = 0x20u; /* SYS_EXIT_EXTENDED */
    register uint32_t r1 __asm("r1") = (uint32_t)(uintptr_t)block;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}
