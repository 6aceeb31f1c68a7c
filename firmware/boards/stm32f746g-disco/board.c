/*
 * STM32F746G-DISCO (STM32F746NG, Cortex-M7). Console: USART1 on PA9 (TX) /
 * PB7 (RX), AF7, wired to the ST-LINK virtual COM port; 115200 8N1.
 * Clock: HSI 16 MHz -> PLL (M=8, N=216, P=2) = 216 MHz with over-drive,
 * 7 flash wait states, APB1 54 MHz, APB2 108 MHz (USART1 kernel clock). If
 * the PLL or over-drive does not come up, the board stays on HSI 16 MHz and
 * HELLO reports that. Caches stay off (reset state). Compile-tested only.
 */
#include "cortexm.h"
#include "stm32_gpio.h"

#define RCC_BASE 0x40023800u
#define RCC_AHB1ENR REG32(RCC_BASE + 0x30u)
#define RCC_APB2ENR REG32(RCC_BASE + 0x44u)
#define GPIOA_BASE 0x40020000u
#define GPIOB_BASE 0x40020400u
#define RCC_CR (RCC_BASE + 0x00u)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x04u)
#define RCC_CFGR (RCC_BASE + 0x08u)
#define RCC_APB1ENR REG32(RCC_BASE + 0x40u)
#define PWR_CR1 (0x40007000u + 0x00u)
#define PWR_CSR1 (0x40007000u + 0x04u)
#define FLASH_ACR REG32(0x40023C00u)
#define BAUD 115200u

static uint32_t cpu_hz = 16000000u;
static uint32_t pclk2_hz = 16000000u;

/* RM0385 §5.1.4 / §5.3.2 order: PLL on, over-drive on, then switch. */
static void pll_216mhz(void) {
    RCC_APB1ENR |= 1u << 28;                       /* PWREN */
    (void)RCC_APB1ENR;
    REG32(PWR_CR1) |= 3u << 14;                    /* VOS scale 1 */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 7u | (1u << 8) | (1u << 9); /* 7 WS, prefetch, ART */
    if ((FLASH_ACR & 0xFu) != 7u) return;
    RCC_PLLCFGR = 8u | (216u << 6) | (0u << 16) | (0u << 22) | (9u << 24);
    REG32(RCC_CR) |= 1u << 24;                     /* PLLON */
    if (!wait_bits(RCC_CR, 1u << 25, 1u << 25)) return;
    REG32(PWR_CR1) |= 1u << 16;                    /* ODEN */
    if (!wait_bits(PWR_CSR1, 1u << 16, 1u << 16)) return;
    REG32(PWR_CR1) |= 1u << 17;                    /* ODSWEN */
    if (!wait_bits(PWR_CSR1, 1u << 17, 1u << 17)) return;
    uint32_t cfgr = REG32(RCC_CFGR) & ~((7u << 10) | (7u << 13) | 3u);
    REG32(RCC_CFGR) = cfgr | (5u << 10) | (4u << 13) | 2u; /* APB1 /4, APB2 /2, SW = PLL */
    if (!wait_bits(RCC_CFGR, 3u << 2, 2u << 2)) return;
    cpu_hz = 216000000u;
    pclk2_hz = 108000000u;
}

void hn_usart_start(uint32_t kernel_hz, uint32_t baud);

void hn_board_clocks_and_pins(void) {
    pll_216mhz();
    RCC_AHB1ENR |= (1u << 0) | (1u << 1); /* GPIOAEN, GPIOBEN */
    RCC_APB2ENR |= 1u << 4;               /* USART1EN (kernel clock = PCLK2) */
    (void)RCC_APB2ENR;
    stm32_gpio_af(GPIOA_BASE, 9, 7);
    stm32_gpio_af(GPIOB_BASE, 7, 7);
}

uint32_t hn_board_cpu_hz(void) { return cpu_hz; }
void hn_board_uart_start(void) { hn_usart_start(pclk2_hz, BAUD); }
