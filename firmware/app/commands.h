/*
 * commands.h: one handler per protocol opcode (firmware/PROTOCOL.md).
 */
#ifndef HN_COMMANDS_H
#define HN_COMMANDS_H

#include <stdint.h>

#include "protocol.h"

/* Static buffers (model slot, arena) and engine state; call once at boot. */
void commands_init(void);

/* Handle one CRC-valid request frame and send exactly one reply frame. */
void commands_dispatch(uint8_t opcode, uint16_t seq, const uint8_t *payload, uint16_t len);

#endif /* HN_COMMANDS_H */
