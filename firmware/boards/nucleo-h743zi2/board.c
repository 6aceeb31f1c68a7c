/*
 * NUCLEO-H743ZI2 (STM32H743ZI, Cortex-M7). Console: USART3 on PD8 (TX) /
 * PD9 (RX), AF7, wired to the ST-LINK V3 virtual COM port; 115200 8N1.
 * Clock: HSI 64 MHz -> PLL1 (M=4, N=50, P=2) = 400 MHz at VOS1 with the LDO
 * supply (480 MHz would need VOS0 over-drive, not done), AHB/AXI 200 MHz,
 * 2 flash wait states, APB1 100 MHz (USART3 kernel clock). Every wait is
 * bounded; on failure the board stays on HSI 64 MHz and HELLO says so.
 * Memory: firmware data and stack in DTCM, model slot and arena in AXI SRAM
 * (both usable straight after reset). Compile-tested only.
 */
#include "cortexm.h"
#include "stm32_gpio.h"

#define RCC_BASE 0x58024400u
#define RCC_AHB4ENR REG32(RCC_BASE + 0xE0u)
#define RCC_APB1LENR REG32(RCC_BASE + 0xE8u)
#define GPIOD_BASE 0x58020C00u
#define RCC_CR (RCC_BASE + 0x00u)
#define RCC_CFGR (RCC_BASE + 0x10u)
#define RCC_D1CFGR REG32(RCC_BASE + 0x18u)
#define RCC_D2CFGR REG32(RCC_BASE + 0x1Cu)
#define RCC_D3CFGR REG32(RCC_BASE + 0x20u)
#define RCC_PLLCKSELR REG32(RCC_BASE + 0x28u)
#define RCC_PLLCFGR REG32(RCC_BASE + 0x2Cu)
#define RCC_PLL1DIVR REG32(RCC_BASE + 0x30u)
#define PWR_BASE 0x58024800u
#define PWR_CSR1 (PWR_BASE + 0x04u)
#define PWR_CR3 REG32(PWR_BASE + 0x0Cu)
#define PWR_D3CR (PWR_BASE + 0x18u)
#define FLASH_ACR REG32(0x52002000u)
#define BAUD 115200u

static uint32_t cpu_hz = 64000000u;
static uint32_t pclk1_hz = 64000000u;

/* RM0433 §6.8.4 (supply), §8.5.2 (PLL), §4.3.8 (flash latency). */
static void pll_400mhz(void) {
    PWR_CR3 = (PWR_CR3 & ~1u) | (1u << 1);          /* LDO supply, no bypass (locks CR3) */
    if (!wait_bits(PWR_CSR1, 1u << 13, 1u << 13)) return;  /* ACTVOSRDY */
    REG32(PWR_D3CR) |= 3u << 14;                     /* VOS1 */
    if (!wait_bits(PWR_D3CR, 1u << 13, 1u << 13)) return;  /* VOSRDY */
    FLASH_ACR = (FLASH_ACR & ~0x3Fu) | 2u | (2u << 4); /* 2 WS, WRHIGHFREQ = 2 */
    if ((FLASH_ACR & 0xFu) != 2u) return;
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~(3u | (0x3Fu << 4))) | (4u << 4); /* HSI, M1 = 4 */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | (3u << 2) | (1u << 16);  /* 8-16 MHz in, wide VCO, P1 on */
    RCC_PLL1DIVR = (50u - 1u) | ((2u - 1u) << 9) | ((4u - 1u) << 16) | ((2u - 1u) << 24);
    REG32(RCC_CR) |= 1u << 24;                       /* PLL1ON */
    if (!wait_bits(RCC_CR, 1u << 25, 1u << 25)) return;
    RCC_D1CFGR = 8u | (4u << 4);                     /* HPRE /2, D1PPRE /2, D1CPRE /1 */
    RCC_D2CFGR = (4u << 4) | (4u << 8);              /* D2PPRE1 /2, D2PPRE2 /2 */
    RCC_D3CFGR = 4u << 4;                            /* D3PPRE /2 */
    REG32(RCC_CFGR) = (REG32(RCC_CFGR) & ~7u) | 3u;  /* SW = PLL1 */
    if (!wait_bits(RCC_CFGR, 7u << 3, 3u << 3)) {
        RCC_D1CFGR = 0;                              /* still on HSI: undo the dividers */
        RCC_D2CFGR = 0;
        RCC_D3CFGR = 0;
        return;
    }
    cpu_hz = 400000000u;
    pclk1_hz = 100000000u;
}

void hn_usart_start(uint32_t kernel_hz, uint32_t baud);

void hn_board_clocks_and_pins(void) {
    pll_400mhz();
    RCC_AHB4ENR |= 1u << 3;    /* GPIODEN */
    RCC_APB1LENR |= 1u << 18;  /* USART3EN (kernel clock = PCLK1 = HSI after reset) */
    (void)RCC_APB1LENR;
    stm32_gpio_af(GPIOD_BASE, 8, 7);
    stm32_gpio_af(GPIOD_BASE, 9, 7);
}

uint32_t hn_board_cpu_hz(void) { return cpu_hz; }
void hn_board_uart_start(void) { hn_usart_start(pclk1_hz, BAUD); }
