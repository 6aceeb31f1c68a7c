/*
 * NUCLEO-H743ZI2 (STM32H743ZI, Cortex-M7). Console: USART3 on PD8 (TX) /
 * PD9 (RX), AF7, wired to the ST-LINK V3 virtual COM port; 115200 8N1.
 * Clock: the reset clock, HSI 64 MHz (no PLL set-up; HELLO reports it).
 * Memory: firmware data and stack in DTCM, model slot and arena in AXI SRAM
 * (both usable straight after reset). Compile-tested only.
 */
#include "cortexm.h"
#include "stm32_gpio.h"

#define RCC_BASE 0x58024400u
#define RCC_AHB4ENR REG32(RCC_BASE + 0xE0u)
#define RCC_APB1LENR REG32(RCC_BASE + 0xE8u)
#define GPIOD_BASE 0x58020C00u
#define CPU_HZ 64000000u
#define BAUD 115200u

void hn_usart_start(uint32_t kernel_hz, uint32_t baud);

void hn_board_clocks_and_pins(void) {
    RCC_AHB4ENR |= 1u << 3;    /* GPIODEN */
    RCC_APB1LENR |= 1u << 18;  /* USART3EN (kernel clock = PCLK1 = HSI after reset) */
    (void)RCC_APB1LENR;
    stm32_gpio_af(GPIOD_BASE, 8, 7);
    stm32_gpio_af(GPIOD_BASE, 9, 7);
}

uint32_t hn_board_cpu_hz(void) { return CPU_HZ; }
void hn_board_uart_start(void) { hn_usart_start(CPU_HZ, BAUD); }
