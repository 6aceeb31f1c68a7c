/*
 * semihost.c: SYS_EXIT_EXTENDED, which QEMU turns into its own exit status
 * (emulated boards are started with -semihosting-config enable=on).
 */
#include <stdint.h>

#include "cortexm.h"

static int semihost_call(uint32_t op, void *args) {
    register uint32_t r0 __asm("r0") = op;
    register uint32_t r1 __asm("r1") = (uint32_t)(uintptr_t)args;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int)r0;
}

/* SYS_OPEN / SYS_FLEN / SYS_READ / SYS_CLOSE: QEMU reads the host file
 * straight into guest memory (200 KB in ~9 ms versus ~10 s over its UART). */
int hn_semihost_read_file(const char *path, uint8_t *dst, uint32_t cap, uint32_t *len) {
    uint32_t n = 0;
    while (path[n]) n++;
    uint32_t open_args[3] = {(uint32_t)(uintptr_t)path, 1u /* "rb" */, n};
    int fh = semihost_call(0x01u, open_args);
    if (fh < 0) return -2;
    uint32_t flen_args[1] = {(uint32_t)fh};
    int size = semihost_call(0x0Cu, flen_args);
    int rc = 0;
    if (size < 0) {
        rc = -4;
    } else if ((uint32_t)size > cap) {
        rc = -3;
    } else {
        uint32_t read_args[3] = {(uint32_t)fh, (uint32_t)(uintptr_t)dst, (uint32_t)size};
        if (semihost_call(0x06u, read_args) != 0) rc = -4; /* returns bytes NOT read */
        *len = (uint32_t)size;
    }
    uint32_t close_args[1] = {(uint32_t)fh};
    (void)semihost_call(0x02u, close_args);
    return rc;
}

void hn_semihost_exit(int code) {
    /* ADP_Stopped_ApplicationExit = 0x20026, then the exit code */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm("r0") = 0x20u; /* SYS_EXIT_EXTENDED */
    register uint32_t r1 __asm("r1") = (uint32_t)(uintptr_t)block;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
    }
}
