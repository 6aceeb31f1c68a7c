/*
 * nRF52840-DK (nRF52840, Cortex-M4F, 64 MHz). Console: UART0 (legacy,
 * non-DMA register interface) on P0.06 (TX) / P0.08 (RX), wired to the
 * J-Link OB virtual COM port; 115200 8N1, interrupt-driven receive.
 * The core always runs at 64 MHz; the 32 MHz crystal (HFXO) is started so
 * the UART baud rate is crystal-accurate (the board keeps the internal
 * oscillator if it does not start). Compile-tested only.
 */
#include "cortexm.h"
#include "hal.h"
#include "uart_ring.h"

#define UART0_BASE 0x40002000u
#define UART_STARTRX REG32(UART0_BASE + 0x000u)
#define UART_STARTTX REG32(UART0_BASE + 0x008u)
#define UART_EV_RXDRDY REG32(UART0_BASE + 0x108u)
#define UART_EV_TXDRDY REG32(UART0_BASE + 0x11Cu)
#define UART_EV_ERROR REG32(UART0_BASE + 0x124u)
#define UART_INTENSET REG32(UART0_BASE + 0x304u)
#define UART_ERRORSRC REG32(UART0_BASE + 0x480u)
#define UART_ENABLE REG32(UART0_BASE + 0x500u)
#define UART_PSELTXD REG32(UART0_BASE + 0x50Cu)
#define UART_PSELRXD REG32(UART0_BASE + 0x514u)
#define UART_RXD REG32(UART0_BASE + 0x518u)
#define UART_TXD REG32(UART0_BASE + 0x51Cu)
#define UART_BAUDRATE REG32(UART0_BASE + 0x524u)
#define UART_CONFIG REG32(UART0_BASE + 0x56Cu)
#define BAUD_115200 0x01D7E000u
#define P0_BASE 0x50000000u
#define P0_OUTSET REG32(P0_BASE + 0x508u)
#define P0_PIN_CNF(n) REG32(P0_BASE + 0x700u + 4u * (n))
#define TX_PIN 6u
#define RX_PIN 8u
#define CPU_HZ 64000000u

#define CLOCK_HFCLKSTART (0x40000000u + 0x000u)
#define CLOCK_EV_HFCLKSTARTED (0x40000000u + 0x100u)

static uart_ring ring;

void hn_board_clocks_and_pins(void) {
    REG32(CLOCK_EV_HFCLKSTARTED) = 0;
    REG32(CLOCK_HFCLKSTART) = 1u;
    (void)wait_bits(CLOCK_EV_HFCLKSTARTED, 1u, 1u);
    P0_OUTSET = 1u << TX_PIN;
    P0_PIN_CNF(TX_PIN) = 3u; /* output, input buffer disconnected */
    P0_PIN_CNF(RX_PIN) = 0u; /* input */
}

uint32_t hn_board_cpu_hz(void) { return CPU_HZ; }

void hn_board_uart_start(void) {
    UART_PSELTXD = TX_PIN;
    UART_PSELRXD = RX_PIN;
    UART_BAUDRATE = BAUD_115200;
    UART_CONFIG = 0; /* no parity, no flow control */
    UART_ENABLE = 4u;
    UART_EV_RXDRDY = 0;
    UART_EV_TXDRDY = 0;
    UART_INTENSET = 1u << 2; /* RXDRDY */
    UART_STARTRX = 1u;
    UART_STARTTX = 1u;
    nvic_enable(HN_UART_IRQN);
}

void hal_uart_irq(void) {
    if (UART_EV_ERROR) {
        UART_EV_ERROR = 0;
        UART_ERRORSRC = UART_ERRORSRC; /* write-1-to-clear */
        ring.dropped++;
    }
    while (UART_EV_RXDRDY) {
        UART_EV_RXDRDY = 0; /* clear before reading RXD (product spec) */
        uart_ring_push(&ring, (uint8_t)UART_RXD);
    }
}

size_t hal_uart_read(uint8_t *buf, size_t max) { return uart_ring_pop(&ring, buf, max); }

void hal_uart_write(const uint8_t *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        UART_EV_TXDRDY = 0;
        UART_TXD = buf[i];
        while (!UART_EV_TXDRDY) {
        }
    }
}
