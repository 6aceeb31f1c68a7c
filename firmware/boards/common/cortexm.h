/*
 * cortexm.h: the few Cortex-M core registers the board ports touch (SCB,
 * SysTick, DWT, NVIC), so that no vendor/CMSIS header is needed.
 */
#ifndef HN_CORTEXM_H
#define HN_CORTEXM_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_CPACR REG32(0xE000ED88u)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)

#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)

#define DEMCR REG32(0xE000EDFCu)
#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR REG32(0xE0001FB0u)

#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))

static inline void nvic_enable(unsigned irq) { NVIC_ISER(irq / 32u) = 1u << (irq % 32u); }
static inline void cpu_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void cpu_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
__attribute__((noreturn)) static inline void system_reset(void) {
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = (0x5FAu << 16) | (1u << 2); /* VECTKEY | SYSRESETREQ */
    for (;;) {
    }
}

/* Wait (bounded) until (reg & mask) == want; 1 on success, 0 on timeout.
 * Clock set-up must never hang a board that lacks a crystal or a supply. */
static inline int wait_bits(uint32_t addr, uint32_t mask, uint32_t want) {
    for (uint32_t i = 0; i < 2000000u; i++)
        if ((REG32(addr) & mask) == want) return 1;
    return 0;
}

/* Provided by common/startup.c and the linker script. */
extern uint32_t __stack_bottom, __stack_top;

/* Shared helpers (common/ sources). */
void hn_stack_paint(void);
uint32_t hn_calib_loop_ticks(void);
void hn_semihost_exit(int code) __attribute__((noreturn));
int hn_semihost_read_file(const char *path, uint8_t *dst, uint32_t cap, uint32_t *len);

#endif /* HN_CORTEXM_H */
