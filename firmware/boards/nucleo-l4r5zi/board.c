/*
 * NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F). Console: LPUART1 on PG7 (TX) /
 * PG8 (RX), AF8, wired to the ST-LINK virtual COM port; 115200 8N1.
 * Clock: MSI 4 MHz -> PLL (M=1, N=60, R=2) = 120 MHz in range 1 boost mode,
 * 5 flash wait states, APB1 = 120 MHz (LPUART1 kernel clock). If the PLL does
 * not lock, the board stays on MSI 4 MHz and HELLO reports that.
 * Port G pins 2..15 sit on VDDIO2, which must be declared valid (PWR_CR2.IOSV)
 * before the pins work. Compile-tested only.
 */
#include "cortexm.h"
#include "stm32_gpio.h"

#define RCC_BASE 0x40021000u
#define RCC_AHB2ENR REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1 REG32(RCC_BASE + 0x58u)
#define RCC_APB1ENR2 REG32(RCC_BASE + 0x5Cu)
#define PWR_CR2 REG32(0x40007000u + 0x04u)
#define GPIOG_BASE 0x48001800u
#define RCC_CR (RCC_BASE + 0x00u)
#define RCC_CFGR (RCC_BASE + 0x08u)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x0Cu)
#define PWR_CR5 REG32(0x40007000u + 0x80u)
#define FLASH_ACR REG32(0x40022000u)
#define BAUD 115200u

static uint32_t cpu_hz = 4000000u;

/* RM0432 §6.2.9 / §5.1.8: boost mode and wait states first; switch with the
 * AHB prescaler at /2 for 1 us, then go to /1. */
static void pll_120mhz(void) {
    PWR_CR5 &= ~(1u << 8);                          /* R1MODE = 0: range 1 boost */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 5u;           /* 5 WS */
    if ((FLASH_ACR & 0xFu) != 5u) return;
    RCC_PLLCFGR = 1u | (0u << 4) | (60u << 8) | (1u << 24) | (0u << 25); /* MSI, M=1, N=60, R=2 */
    REG32(RCC_CR) |= 1u << 24;                      /* PLLON */
    if (!wait_bits(RCC_CR, 1u << 25, 1u << 25)) return;
    uint32_t cfgr = REG32(RCC_CFGR) & ~((0xFu << 4) | 3u);
    REG32(RCC_CFGR) = cfgr | (8u << 4) | 3u;        /* AHB /2, SW = PLL */
    if (!wait_bits(RCC_CFGR, 3u << 2, 3u << 2)) return;
    for (volatile uint32_t i = 0; i < 200u; i++) { /* >= 1 us at 60 MHz */
    }
    REG32(RCC_CFGR) &= ~(0xFu << 4);                /* AHB /1 */
    cpu_hz = 120000000u;
}

void hn_usart_start(uint32_t kernel_hz, uint32_t baud);

void hn_board_clocks_and_pins(void) {
    RCC_APB1ENR1 |= 1u << 28; /* PWREN */
    (void)RCC_APB1ENR1;
    pll_120mhz();
    PWR_CR2 |= 1u << 9;       /* IOSV: VDDIO2 valid (port G) */
    RCC_AHB2ENR |= 1u << 6;   /* GPIOGEN */
    RCC_APB1ENR2 |= 1u << 0;  /* LPUART1EN (kernel clock = PCLK1 after reset) */
    (void)RCC_APB1ENR2;
    stm32_gpio_af(GPIOG_BASE, 7, 8);
    stm32_gpio_af(GPIOG_BASE, 8, 8);
}

uint32_t hn_board_cpu_hz(void) { return cpu_hz; }
void hn_board_uart_start(void) { hn_usart_start(cpu_hz, BAUD); }
