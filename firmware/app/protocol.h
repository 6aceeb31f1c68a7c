/*
 * protocol.h: framing layer of the hilnas board protocol (firmware/PROTOCOL.md).
 *
 * The receiver is a byte-at-a-time state machine so that the CRC is computed
 * while bytes arrive: when the last byte lands the frame is already checked,
 * and the main loop never stops polling the UART for a long computation.
 */
#ifndef HN_PROTOCOL_H
#define HN_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_SOF0 0xA5u
#define PROTO_SOF1 0x5Au
#define PROTO_VERSION 1u
#define PROTO_HEADER 8u
#define PROTO_OVERHEAD 12u
#define PROTO_MAX_PAYLOAD 4096u
#define PROTO_WINDOW 8u
#define PROTO_FRAME_TIMEOUT_MS 500u
#ifdef PROTO_IDLE_POLLS_OVERRIDE
#define PROTO_IDLE_POLLS PROTO_IDLE_POLLS_OVERRIDE
#else
#define PROTO_IDLE_POLLS 256u
#endif
#define PROTO_OP_ERROR 0xFFu
#define PROTO_ERR_MSG_MAX 200u

/* Protocol status codes (error replies); engine hn_status values are 1..9. */
enum {
    PROTO_BAD_CRC = 0x100,
    PROTO_FRAME_TIMEOUT = 0x101,
    PROTO_UNKNOWN_OPCODE = 0x102,
    PROTO_BAD_LENGTH = 0x103,
    PROTO_MODEL_TOO_BIG = 0x104,
    PROTO_BAD_OFFSET = 0x105,
    PROTO_MODEL_CRC_MISMATCH = 0x106,
    PROTO_NO_MODEL = 0x107,
    PROTO_INPUT_SIZE = 0x108,
    PROTO_BAD_VERSION = 0x109,
    PROTO_NOT_SUPPORTED = 0x10A,
    PROTO_HOST_FILE = 0x10B
};

typedef enum {
    PROTO_EV_NONE = 0,
    PROTO_EV_FRAME,   /* rx->opcode/seq/payload/length hold a CRC-valid frame */
    PROTO_EV_ERROR    /* rx->err_status/err_seq say what was dropped */
} proto_event;

typedef enum { RX_HUNT, RX_SOF1, RX_HEADER, RX_PAYLOAD, RX_CRC } rx_phase;

typedef struct {
    rx_phase phase;
    uint8_t header[PROTO_HEADER];
    uint32_t have;            /* bytes of the current part received */
    uint32_t crc;             /* running CRC over version..payload */
    uint8_t crc_bytes[4];
    uint64_t last_byte_tick;  /* board time of the last check that saw activity */
    uint32_t idle_polls;      /* empty UART polls since the last counter read */
    int activity;             /* a byte arrived since the last counter read */
    uint64_t timeout_ticks;
    /* bytes to re-scan after a rejected header (resync from SOF+1) */
    uint8_t replay[PROTO_HEADER];
    uint32_t replay_len, replay_pos;
    /* bytes read from the UART but not fed yet */
    uint8_t inbuf[64];
    uint32_t in_len, in_pos;
    /* the last complete frame */
    uint8_t opcode;
    uint16_t seq;
    uint16_t length;
    uint8_t payload[PROTO_MAX_PAYLOAD];
    /* the last receive error */
    uint16_t err_status;
    uint16_t err_seq;
} proto_rx;

uint32_t proto_crc32_update(uint32_t crc, const uint8_t *p, size_t n);
/* zlib.crc32(data) */
uint32_t proto_crc32(const uint8_t *p, size_t n);

void proto_rx_init(proto_rx *rx, uint64_t timeout_ticks);
/* Feed one byte; returns an event. */
proto_event proto_rx_feed(proto_rx *rx, uint8_t byte);
/* Poll the UART (and the replay buffer) until an event or nothing is left to
 * read; also reports the inter-byte timeout. Never blocks. */
proto_event proto_rx_poll(proto_rx *rx);

/* Build a frame into out (capacity >= len + PROTO_OVERHEAD); returns its size. */
size_t proto_build(uint8_t *out, uint8_t opcode, uint16_t seq, const uint8_t *payload,
                   uint16_t len);
/* Send a frame whose payload already sits at tx + PROTO_HEADER. */
void proto_send_inplace(uint8_t *tx, uint8_t opcode, uint16_t seq, uint16_t len);
/* Send an error reply (status, request opcode, detail, message). detail is
 * status-specific (BAD_OFFSET: the offset the board expects), else 0. */
#define PROTO_ERR_FIXED 7u
void proto_send_error(uint16_t seq, uint16_t status, uint8_t req_opcode, uint32_t detail,
                      const char *msg);

static inline void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void put_u64(uint8_t *p, uint64_t v) { put_u32(p, (uint32_t)v); put_u32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif /* HN_PROTOCOL_H */
