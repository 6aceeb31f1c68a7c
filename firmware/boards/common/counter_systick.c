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
static uint64_t base; /* ticks before the last re-phase (hal_counter_align) */

void SysTick_Handler(void) { systick_wraps++; }

/* Enabled with CVR = 0, QEMU's SysTick pends a wrap at once but reads 0
 * for one more tick before reloading; a read in that window would make the
 * count jump back by 2^24 (seen as a +2^24 calibration). So wait for the
 * first reload, then drop the start-up wrap. */
static void wait_first_reload(void) {
    while (SYST_CVR == 0) {
    }
    SCB_ICSR = ICSR_PENDSTCLR;
    systick_wraps = 0;
}

void hn_systick_start(void) {
    SYST_CSR = 0;
    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = processor clock */
    cpu_irq_disable();
    wait_first_reload();
    cpu_irq_enable();
}

/* One SysTick tick is 40 instructions at -icount shift=0, so where the tick
 * grid falls relative to the code decides +-1 tick of any measurement. A
 * write to CVR restarts QEMU's tick grid at exactly that instruction, so
 * re-phasing right before each timed region makes the same code measure the
 * same ticks in every run and every launch. The 64-bit count stays
 * monotonic (the ticks so far are folded into base; about one tick is lost
 * to the reload, irrelevant for timeouts). */
void hal_counter_align(void) {
    cpu_irq_disable();
    uint32_t hi = systick_wraps;
    uint32_t v = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        v = SYST_CVR;
        hi++;
    }
    base += ((uint64_t)hi << 24) | (uint64_t)(0x00FFFFFFu - v);
    SYST_CVR = 0;
    wait_first_reload();
    cpu_irq_enable();
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
    uint64_t ticks = base + (((uint64_t)hi << 24) | (uint64_t)(0x00FFFFFFu - v));
    if (!primask) cpu_irq_enable();
    return ticks;
}

uint32_t hal_counter_read32(void) { return (uint32_t)hal_counter_read(); }
