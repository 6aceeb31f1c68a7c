/*
 * protocol.c: frame receive state machine, CRC-32 and frame transmit.
 * See firmware/PROTOCOL.md; golden frames in tests/board/golden_frames.json.
 */
#include "protocol.h"

#include <string.h>

#include "hal.h"

/* zlib/IEEE CRC-32 table (reflected 0xEDB88320), const so it lives in flash. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xEE0E612Cu, 0x990951BAu, 0x076DC419u, 0x706AF48Fu,
    0xE963A535u, 0x9E6495A3u, 0x0EDB8832u, 0x79DCB8A4u, 0xE0D5E91Eu, 0x97D2D988u,
    0x09B64C2Bu, 0x7EB17CBDu, 0xE7B82D07u, 0x90BF1D91u, 0x1DB71064u, 0x6AB020F2u,
    0xF3B97148u, 0x84BE41DEu, 0x1ADAD47Du, 0x6DDDE4EBu, 0xF4D4B551u, 0x83D385C7u,
    0x136C9856u, 0x646BA8C0u, 0xFD62F97Au, 0x8A65C9ECu, 0x14015C4Fu, 0x63066CD9u,
    0xFA0F3D63u, 0x8D080DF5u, 0x3B6E20C8u, 0x4C69105Eu, 0xD56041E4u, 0xA2677172u,
    0x3C03E4D1u, 0x4B04D447u, 0xD20D85FDu, 0xA50AB56Bu, 0x35B5A8FAu, 0x42B2986Cu,
    0xDBBBC9D6u, 0xACBCF940u, 0x32D86CE3u, 0x45DF5C75u, 0xDCD60DCFu, 0xABD13D59u,
    0x26D930ACu, 0x51DE003Au, 0xC8D75180u, 0xBFD06116u, 0x21B4F4B5u, 0x56B3C423u,
    0xCFBA9599u, 0xB8BDA50Fu, 0x2802B89Eu, 0x5F058808u, 0xC60CD9B2u, 0xB10BE924u,
    0x2F6F7C87u, 0x58684C11u, 0xC1611DABu, 0xB6662D3Du, 0x76DC4190u, 0x01DB7106u,
    0x98D220BCu, 0xEFD5102Au, 0x71B18589u, 0x06B6B51Fu, 0x9FBFE4A5u, 0xE8B8D433u,
    0x7807C9A2u, 0x0F00F934u, 0x9609A88Eu, 0xE10E9818u, 0x7F6A0DBBu, 0x086D3D2Du,
    0x91646C97u, 0xE6635C01u, 0x6B6B51F4u, 0x1C6C6162u, 0x856530D8u, 0xF262004Eu,
    0x6C0695EDu, 0x1B01A57Bu, 0x8208F4C1u, 0xF50FC457u, 0x65B0D9C6u, 0x12B7E950u,
    0x8BBEB8EAu, 0xFCB9887Cu, 0x62DD1DDFu, 0x15DA2D49u, 0x8CD37CF3u, 0xFBD44C65u,
    0x4DB26158u, 0x3AB551CEu, 0xA3BC0074u, 0xD4BB30E2u, 0x4ADFA541u, 0x3DD895D7u,
    0xA4D1C46Du, 0xD3D6F4FBu, 0x4369E96Au, 0x346ED9FCu, 0xAD678846u, 0xDA60B8D0u,
    0x44042D73u, 0x33031DE5u, 0xAA0A4C5Fu, 0xDD0D7CC9u, 0x5005713Cu, 0x270241AAu,
    0xBE0B1010u, 0xC90C2086u, 0x5768B525u, 0x206F85B3u, 0xB966D409u, 0xCE61E49Fu,
    0x5EDEF90Eu, 0x29D9C998u, 0xB0D09822u, 0xC7D7A8B4u, 0x59B33D17u, 0x2EB40D81u,
    0xB7BD5C3Bu, 0xC0BA6CADu, 0xEDB88320u, 0x9ABFB3B6u, 0x03B6E20Cu, 0x74B1D29Au,
    0xEAD54739u, 0x9DD277AFu, 0x04DB2615u, 0x73DC1683u, 0xE3630B12u, 0x94643B84u,
    0x0D6D6A3Eu, 0x7A6A5AA8u, 0xE40ECF0Bu, 0x9309FF9Du, 0x0A00AE27u, 0x7D079EB1u,
    0xF00F9344u, 0x8708A3D2u, 0x1E01F268u, 0x6906C2FEu, 0xF762575Du, 0x806567CBu,
    0x196C3671u, 0x6E6B06E7u, 0xFED41B76u, 0x89D32BE0u, 0x10DA7A5Au, 0x67DD4ACCu,
    0xF9B9DF6Fu, 0x8EBEEFF9u, 0x17B7BE43u, 0x60B08ED5u, 0xD6D6A3E8u, 0xA1D1937Eu,
    0x38D8C2C4u, 0x4FDFF252u, 0xD1BB67F1u, 0xA6BC5767u, 0x3FB506DDu, 0x48B2364Bu,
    0xD80D2BDAu, 0xAF0A1B4Cu, 0x36034AF6u, 0x41047A60u, 0xDF60EFC3u, 0xA867DF55u,
    0x316E8EEFu, 0x4669BE79u, 0xCB61B38Cu, 0xBC66831Au, 0x256FD2A0u, 0x5268E236u,
    0xCC0C7795u, 0xBB0B4703u, 0x220216B9u, 0x5505262Fu, 0xC5BA3BBEu, 0xB2BD0B28u,
    0x2BB45A92u, 0x5CB36A04u, 0xC2D7FFA7u, 0xB5D0CF31u, 0x2CD99E8Bu, 0x5BDEAE1Du,
    0x9B64C2B0u, 0xEC63F226u, 0x756AA39Cu, 0x026D930Au, 0x9C0906A9u, 0xEB0E363Fu,
    0x72076785u, 0x05005713u, 0x95BF4A82u, 0xE2B87A14u, 0x7BB12BAEu, 0x0CB61B38u,
    0x92D28E9Bu, 0xE5D5BE0Du, 0x7CDCEFB7u, 0x0BDBDF21u, 0x86D3D2D4u, 0xF1D4E242u,
    0x68DDB3F8u, 0x1FDA836Eu, 0x81BE16CDu, 0xF6B9265Bu, 0x6FB077E1u, 0x18B74777u,
    0x88085AE6u, 0xFF0F6A70u, 0x66063BCAu, 0x11010B5Cu, 0x8F659EFFu, 0xF862AE69u,
    0x616BFFD3u, 0x166CCF45u, 0xA00AE278u, 0xD70DD2EEu, 0x4E048354u, 0x3903B3C2u,
    0xA7672661u, 0xD06016F7u, 0x4969474Du, 0x3E6E77DBu, 0xAED16A4Au, 0xD9D65ADCu,
    0x40DF0B66u, 0x37D83BF0u, 0xA9BCAE53u, 0xDEBB9EC5u, 0x47B2CF7Fu, 0x30B5FFE9u,
    0xBDBDF21Cu, 0xCABAC28Au, 0x53B39330u, 0x24B4A3A6u, 0xBAD03605u, 0xCDD70693u,
    0x54DE5729u, 0x23D967BFu, 0xB3667A2Eu, 0xC4614AB8u, 0x5D681B02u, 0x2A6F2B94u,
    0xB40BBE37u, 0xC30C8EA1u, 0x5A05DF1Bu, 0x2D02EF8Du
};

uint32_t proto_crc32_update(uint32_t crc, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) crc = crc_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return crc;
}

uint32_t proto_crc32(const uint8_t *p, size_t n) {
    return proto_crc32_update(0xFFFFFFFFu, p, n) ^ 0xFFFFFFFFu;
}

void proto_rx_init(proto_rx *rx, uint64_t timeout_ticks) {
    memset(rx, 0, sizeof(*rx));
    rx->phase = RX_HUNT;
    rx->timeout_ticks = timeout_ticks;
}

static proto_event rx_error(proto_rx *rx, uint16_t status, uint16_t seq) {
    rx->err_status = status;
    rx->err_seq = seq;
    rx->phase = RX_HUNT;
    rx->have = 0;
    return PROTO_EV_ERROR;
}

/* A header was rejected: re-scan everything after its first SOF byte, so a
 * real frame whose SOF hid inside the bad header is still found. */
static proto_event reject_header(proto_rx *rx, uint16_t status) {
    uint16_t seq = get_u16(&rx->header[4]);
    rx->replay[0] = PROTO_SOF1;
    memcpy(&rx->replay[1], &rx->header[2], PROTO_HEADER - 2);
    rx->replay_len = PROTO_HEADER - 1;
    rx->replay_pos = 0;
    return rx_error(rx, status, seq);
}

static proto_event header_complete(proto_rx *rx) {
    if (rx->header[2] != PROTO_VERSION) return reject_header(rx, PROTO_BAD_VERSION);
    uint16_t length = get_u16(&rx->header[6]);
    if (length > PROTO_MAX_PAYLOAD) return reject_header(rx, PROTO_BAD_LENGTH);
    rx->opcode = rx->header[3];
    rx->seq = get_u16(&rx->header[4]);
    rx->length = length;
    rx->crc = proto_crc32_update(0xFFFFFFFFu, &rx->header[2], PROTO_HEADER - 2);
    rx->have = 0;
    rx->phase = length ? RX_PAYLOAD : RX_CRC;
    return PROTO_EV_NONE;
}

static proto_event crc_complete(proto_rx *rx) {
    uint32_t want = rx->crc ^ 0xFFFFFFFFu;
    rx->phase = RX_HUNT;
    rx->have = 0;
    if (get_u32(rx->crc_bytes) != want) return rx_error(rx, PROTO_BAD_CRC, rx->seq);
    return PROTO_EV_FRAME;
}

proto_event proto_rx_feed(proto_rx *rx, uint8_t byte) {
    rx->activity = 1;
    switch (rx->phase) {
    case RX_HUNT:
        if (byte == PROTO_SOF0) rx->phase = RX_SOF1;
        return PROTO_EV_NONE;
    case RX_SOF1:
        if (byte == PROTO_SOF1) {
            rx->header[0] = PROTO_SOF0;
            rx->header[1] = PROTO_SOF1;
            rx->have = 2;
            rx->phase = RX_HEADER;
        } else if (byte != PROTO_SOF0) {
            rx->phase = RX_HUNT;
        }
        return PROTO_EV_NONE;
    case RX_HEADER:
        rx->header[rx->have++] = byte;
        return rx->have == PROTO_HEADER ? header_complete(rx) : PROTO_EV_NONE;
    case RX_PAYLOAD:
        rx->payload[rx->have++] = byte;
        rx->crc = crc_table[(rx->crc ^ byte) & 0xFFu] ^ (rx->crc >> 8);
        if (rx->have == rx->length) {
            rx->have = 0;
            rx->phase = RX_CRC;
        }
        return PROTO_EV_NONE;
    case RX_CRC:
        rx->crc_bytes[rx->have++] = byte;
        return rx->have == 4 ? crc_complete(rx) : PROTO_EV_NONE;
    }
    return PROTO_EV_NONE;
}

static int mid_frame(const proto_rx *rx) {
    return rx->phase == RX_HEADER || rx->phase == RX_PAYLOAD || rx->phase == RX_CRC;
}

/* Called when the UART had nothing. The counter is read only every
 * PROTO_IDLE_POLLS empty polls: under QEMU -icount every SysTick read is an
 * expensive I/O exit that competes with the UART for the emulator, and
 * reading it per byte cut the receive rate by more than half. */
static proto_event check_timeout(proto_rx *rx) {
    if (++rx->idle_polls < PROTO_IDLE_POLLS) return PROTO_EV_NONE;
    rx->idle_polls = 0;
    uint64_t now = hal_counter_read();
    if (rx->activity || !mid_frame(rx)) {
        rx->activity = 0;
        rx->last_byte_tick = now;
        return PROTO_EV_NONE;
    }
    if (now - rx->last_byte_tick <= rx->timeout_ticks) return PROTO_EV_NONE;
    uint16_t seq = rx->phase == RX_HEADER ? 0 : rx->seq;
    return rx_error(rx, PROTO_FRAME_TIMEOUT, seq);
}

proto_event proto_rx_poll(proto_rx *rx) {
    for (;;) {
        if (rx->replay_pos < rx->replay_len) {
            proto_event ev = proto_rx_feed(rx, rx->replay[rx->replay_pos++]);
            if (ev != PROTO_EV_NONE) return ev;
            continue;
        }
        if (rx->in_pos == rx->in_len) {
            rx->in_len = (uint32_t)hal_uart_read(rx->inbuf, sizeof(rx->inbuf));
            rx->in_pos = 0;
            if (rx->in_len == 0) return check_timeout(rx);
        }
        while (rx->in_pos < rx->in_len) {
            proto_event ev = proto_rx_feed(rx, rx->inbuf[rx->in_pos++]);
            if (ev != PROTO_EV_NONE) return ev;
            if (rx->replay_pos < rx->replay_len) break;
        }
    }
}

static void fill_header(uint8_t *out, uint8_t opcode, uint16_t seq, uint16_t len) {
    out[0] = PROTO_SOF0;
    out[1] = PROTO_SOF1;
    out[2] = PROTO_VERSION;
    out[3] = opcode;
    put_u16(&out[4], seq);
    put_u16(&out[6], len);
}

static size_t append_crc(uint8_t *out, uint16_t len) {
    uint32_t crc = proto_crc32(&out[2], (size_t)PROTO_HEADER - 2 + len);
    put_u32(&out[PROTO_HEADER + len], crc);
    return (size_t)PROTO_OVERHEAD + len;
}

size_t proto_build(uint8_t *out, uint8_t opcode, uint16_t seq, const uint8_t *payload,
                   uint16_t len) {
    fill_header(out, opcode, seq, len);
    if (len) memmove(&out[PROTO_HEADER], payload, len);
    return append_crc(out, len);
}

void proto_send_inplace(uint8_t *tx, uint8_t opcode, uint16_t seq, uint16_t len) {
    fill_header(tx, opcode, seq, len);
    hal_uart_write(tx, append_crc(tx, len));
}

void proto_send_error(uint16_t seq, uint16_t status, uint8_t req_opcode, uint32_t detail,
                      const char *msg) {
    uint8_t frame[PROTO_OVERHEAD + PROTO_ERR_FIXED + PROTO_ERR_MSG_MAX];
    uint8_t *p = &frame[PROTO_HEADER];
    size_t n = msg ? strlen(msg) : 0;
    if (n > PROTO_ERR_MSG_MAX) n = PROTO_ERR_MSG_MAX;
    put_u16(p, status);
    p[2] = req_opcode;
    put_u32(&p[3], detail);
    if (n) memcpy(&p[PROTO_ERR_FIXED], msg, n);
    proto_send_inplace(frame, PROTO_OP_ERROR, seq, (uint16_t)(PROTO_ERR_FIXED + n));
}
