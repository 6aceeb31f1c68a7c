/*
 * counter_systick.c: 64-bit tick counter from the 24-bit SysTick, for the
 * emulated boards. QEMU has no DWT cycle counter, but SysTick under -icount is
 * exactly repeatable (it advances with executed instructions), so it is the
 * honest latency counter there. Wraps are counted in the SysTick interrupt;
 * a wrap not yet serviced is detected through ICSR.PENDSTSET, so a read that
 * straddles a wrap is never off by 2^24.
 */
#include "cortexm.h"
#include "hal.h"

static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { systick_wraps++; }

void hn_systick_start(void) {
    SYST_CSR = 0;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = processor clock */
}

uint64_t hal_counter_read(void) {
    uint32_t primask;
    __asm volatile("mrs %0, primask" : "=r"(primask));
    cpu_irq_disable();
    uint32_t hi = systick_wraps;
    uint32_t v = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        v = SYST_CVR; /* the wrap happened: re-read after the reload */
        hi++;
    }
    if (!primask) cpu_irq_enable();
    return ((uint64_t)hi << 24) | (uint64_t)(0x00FFFFFFu - v);
}

uint32_t hal_counter_read32(void) { return (uint32_t)hal_counter_read(); }
