/*
 * NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F). Console: LPUART1 on PG7 (TX) /
 * PG8 (RX), AF8, wired to the ST-LINK virtual COM port; 115200 8N1.
 * Clock: the reset clock, MSI 4 MHz (no PLL set-up: the profile's 120 MHz is
 * the part's maximum, HELLO reports the clock actually running).
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
#define CPU_HZ 4000000u
#define BAUD 115200u

void hn_usart_start(uint32_t kernel_hz, uint32_t baud);

void hn_board_clocks_and_pins(void) {
    RCC_APB1ENR1 |= 1u << 28; /* PWREN */
    (void)RCC_APB1ENR1;
    PWR_CR2 |= 1u << 9;       /* IOSV: VDDIO2 valid (port G) */
    RCC_AHB2ENR |= 1u << 6;   /* GPIOGEN */
    RCC_APB1ENR2 |= 1u << 0;  /* LPUART1EN (kernel clock = PCLK1 after reset) */
    (void)RCC_APB1ENR2;
    stm32_gpio_af(GPIOG_BASE, 7, 8);
    stm32_gpio_af(GPIOG_BASE, 8, 8);
}

uint32_t hn_board_cpu_hz(void) { return CPU_HZ; }
void hn_board_uart_start(void) { hn_usart_start(CPU_HZ, BAUD); }
