/*
 * STM32F746G-DISCO (STM32F746NG, Cortex-M7). Console: USART1 on PA9 (TX) /
 * PB7 (RX), AF7, wired to the ST-LINK virtual COM port; 115200 8N1.
 * Clock: the reset clock, HSI 16 MHz (no PLL set-up; HELLO reports it).
 * Caches stay off (reset state). Compile-tested only.
 */
#include "cortexm.h"
#include "stm32_gpio.h"

#define RCC_BASE 0x40023800u
#define RCC_AHB1ENR REG32(RCC_BASE + 0x30u)
#define RCC_APB2ENR REG32(RCC_BASE + 0x44u)
#define GPIOA_BASE 0x40020000u
#define GPIOB_BASE 0x40020400u
#define CPU_HZ 16000000u
#define BAUD 115200u

void hn_usart_start(uint32_t kernel_hz, uint32_t baud);

void hn_board_clocks_and_pins(void) {
    RCC_AHB1ENR |= (1u << 0) | (1u << 1); /* GPIOAEN, GPIOBEN */
    RCC_APB2ENR |= 1u << 4;               /* USART1EN (kernel clock = PCLK2) */
    (void)RCC_APB2ENR;
    stm32_gpio_af(GPIOA_BASE, 9, 7);
    stm32_gpio_af(GPIOB_BASE, 7, 7);
}

uint32_t hn_board_cpu_hz(void) { return CPU_HZ; }
void hn_board_uart_start(void) { hn_usart_start(CPU_HZ, BAUD); }
