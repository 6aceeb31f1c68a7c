/*
 * stm32_usart.c: STM32 USART/LPUART (the L4, F7 and H7 families share this
 * register layout) with interrupt-driven receive into a ring and blocking
 * transmit. The board gives the base (HN_USART_BASE), its IRQ (HN_UART_IRQN)
 * and the BRR formula multiplier (HN_USART_BRR_MUL: 1 for USART with 16x
 * oversampling, 256 for LPUART). Compile-tested only: no board attached here.
 */
#include "cortexm.h"
#include "hal.h"
#include "uart_ring.h"

#define USART_CR1 REG32(HN_USART_BASE + 0x00u)
#define USART_BRR REG32(HN_USART_BASE + 0x0Cu)
#define USART_ISR REG32(HN_USART_BASE + 0x1Cu)
#define USART_ICR REG32(HN_USART_BASE + 0x20u)
#define USART_RDR REG32(HN_USART_BASE + 0x24u)
#define USART_TDR REG32(HN_USART_BASE + 0x28u)
#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)

static uart_ring ring;

void hn_usart_start(uint32_t kernel_hz, uint32_t baud) {
    USART_CR1 = 0;
    USART_BRR = (uint32_t)(((uint64_t)kernel_hz * HN_USART_BRR_MUL + baud / 2u) / baud);
    USART_CR1 = CR1_UE | CR1_RE | CR1_TE | CR1_RXNEIE;
    nvic_enable(HN_UART_IRQN);
}

void hal_uart_irq(void) {
    uint32_t isr = USART_ISR;
    if (isr & ISR_ORE) {
        USART_ICR = ISR_ORE;
        ring.dropped++;
    }
    if (isr & ISR_RXNE) uart_ring_push(&ring, (uint8_t)USART_RDR);
}

size_t hal_uart_read(uint8_t *buf, size_t max) { return uart_ring_pop(&ring, buf, max); }

void hal_uart_write(const uint8_t *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        while (!(USART_ISR & ISR_TXE)) {
        }
        USART_TDR = buf[i];
    }
}
