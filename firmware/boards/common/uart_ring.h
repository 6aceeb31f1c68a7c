/*
 * uart_ring.h: interrupt-fed receive ring for real boards. At 115200 baud a
 * byte arrives every 87 us; while the firmware sends a reply (blocking TX)
 * or computes a model CRC, the interrupt keeps receiving, so pipelined
 * chunks never overrun the one-byte hardware register.
 */
#ifndef HN_UART_RING_H
#define HN_UART_RING_H

#include <stddef.h>
#include <stdint.h>

#define UART_RING_SIZE 2048u /* power of two */

typedef struct {
    volatile uint8_t data[UART_RING_SIZE];
    volatile uint32_t head; /* written by the ISR */
    volatile uint32_t tail; /* written by the main loop */
    volatile uint32_t dropped;
} uart_ring;

static inline void uart_ring_push(uart_ring *r, uint8_t b) {
    uint32_t next = (r->head + 1u) & (UART_RING_SIZE - 1u);
    if (next == r->tail) {
        r->dropped++; /* the frame's CRC will fail and the host resends */
        return;
    }
    r->data[r->head] = b;
    r->head = next;
}

static inline size_t uart_ring_pop(uart_ring *r, uint8_t *buf, size_t max) {
    size_t n = 0;
    while (n < max && r->tail != r->head) {
        buf[n++] = r->data[r->tail];
        r->tail = (r->tail + 1u) & (UART_RING_SIZE - 1u);
    }
    return n;
}

#endif /* HN_UART_RING_H */
