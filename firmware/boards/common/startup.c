/*
 * startup.c: vector table and reset handler shared by every Cortex-M board.
 *
 * Reset copies .data, zeroes .bss, enables the FPU when the build uses it,
 * paints the stack (for the high-water mark in RUN replies) and calls the
 * application. The board says how many IRQ vectors it has (HN_NUM_IRQS) and,
 * for interrupt-driven UART receive, which one is its UART (HN_UART_IRQN).
 */
#include <stdint.h>
#include <string.h>

#include "cortexm.h"
#include "hal.h"

#ifndef HN_NUM_IRQS
#define HN_NUM_IRQS 32
#endif

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
int hn_app_main(void);
void hal_fault(void) __attribute__((noreturn));
void SysTick_Handler(void);
#ifdef HN_UART_IRQN
void hal_uart_irq(void);
#endif

#define STACK_PAINT 0xC5C5C5C5u

void Reset_Handler(void) __attribute__((noreturn, naked));
static void reset_continue(void) __attribute__((noreturn, used));

void Reset_Handler(void) {
    /* naked: set SP explicitly (some loaders do not) and go to C */
    __asm volatile("ldr r0, =__stack_top\n"
                   "mov sp, r0\n"
                   "b reset_continue\n");
}

static void reset_continue(void) {
#if defined(__ARM_FP)
    SCB_CPACR |= (0xFu << 20); /* CP10/CP11 full access */
    __asm volatile("dsb\n isb" ::: "memory");
#endif
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
    hn_stack_paint();
    hn_app_main();
    hal_fault();
}

/* Paint from the bottom of the stack to a little below the current SP; the
 * high-water mark is the lowest word that no longer holds the paint. */
void hn_stack_paint(void) {
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    volatile uint32_t *p = &__stack_bottom;
    while ((uintptr_t)p + 64u < sp) *p++ = STACK_PAINT;
}

uint32_t hal_stack_bytes(void) {
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_bottom);
}

uint32_t hal_stack_high_water(void) {
    const volatile uint32_t *p = &__stack_bottom;
    while (p < &__stack_top && *p == STACK_PAINT) p++;
    return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

static void Fault_Handler(void) { hal_fault(); }
static void Ignore_Handler(void) {}

typedef void (*vec_fn)(void);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".isr_vector"), used)) const vec_fn hn_vector_table[16 + HN_NUM_IRQS] = {
    [0] = (vec_fn)(uintptr_t)&__stack_top,
    [1] = Reset_Handler,
    [2 ... 15] = Fault_Handler,
    [11] = Ignore_Handler, /* SVCall */
    [14] = Ignore_Handler, /* PendSV */
    [15] = SysTick_Handler,
    [16 ...(16 + HN_NUM_IRQS - 1)] = Fault_Handler,
#ifdef HN_UART_IRQN
    [16 + HN_UART_IRQN] = hal_uart_irq,
#endif
};
#pragma GCC diagnostic pop

/* Boards without a SysTick use (DWT-timed real boards) still get a vector. */
__attribute__((weak)) void SysTick_Handler(void) {}
