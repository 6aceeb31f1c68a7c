/*
 * stm32_gpio.h: put one STM32 pin into an alternate function (the register
 * layout is common to the L4, F7 and H7 GPIO ports).
 */
#ifndef HN_STM32_GPIO_H
#define HN_STM32_GPIO_H

#include "cortexm.h"

static inline void stm32_gpio_af(uint32_t port_base, unsigned pin, unsigned af) {
    volatile uint32_t *moder = (volatile uint32_t *)(uintptr_t)(port_base + 0x00u);
    volatile uint32_t *ospeedr = (volatile uint32_t *)(uintptr_t)(port_base + 0x08u);
    volatile uint32_t *pupdr = (volatile uint32_t *)(uintptr_t)(port_base + 0x0Cu);
    volatile uint32_t *afr = (volatile uint32_t *)(uintptr_t)(port_base + (pin < 8u ? 0x20u : 0x24u));
    unsigned shift4 = (pin % 8u) * 4u;
    *afr = (*afr & ~(0xFu << shift4)) | ((uint32_t)af << shift4);
    *ospeedr |= 2u << (pin * 2u);                                  /* high speed */
    *pupdr = (*pupdr & ~(3u << (pin * 2u))) | (1u << (pin * 2u)); /* pull-up: idle line high */
    *moder = (*moder & ~(3u << (pin * 2u))) | (2u << (pin * 2u));  /* alternate function */
}

#endif /* HN_STM32_GPIO_H */
