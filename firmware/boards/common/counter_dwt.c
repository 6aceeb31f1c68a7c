/*
 * counter_dwt.c: 64-bit cycle counter from DWT CYCCNT, for real boards.
 * CYCCNT wraps every 2^32 cycles (8.9 s at 480 MHz); SysTick fires every 2^24
 * cycles and folds the count forward, so multi-second inferences still
 * measure right. The M7 needs its DWT software lock opened (LAR).
 * Never used under QEMU, where CYCCNT reads 0.
 */
#include "cortexm.h"
#include "hal.h"

static uint32_t last_low;
static uint64_t high;

void hn_dwt_start(void) {
    DEMCR |= 1u << 24;       /* TRCENA */
    DWT_LAR = 0xC5ACCE55u;   /* unlock (Cortex-M7; ignored elsewhere) */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;          /* CYCCNTENA */
    SYST_CSR = 0;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u;
}

uint64_t hal_counter_read(void) {
    uint32_t primask;
    __asm volatile("mrs %0, primask" : "=r"(primask));
    cpu_irq_disable();
    uint32_t now = DWT_CYCCNT;
    if (now < last_low) high += 1ull << 32;
    last_low = now;
    uint64_t v = high | now;
    if (!primask) cpu_irq_enable();
    return v;
}

void SysTick_Handler(void) { (void)hal_counter_read(); }

uint32_t hal_counter_read32(void) { return DWT_CYCCNT; }

/* Cycle counts have no tick grid to align. */
void hal_counter_align(void) {}
