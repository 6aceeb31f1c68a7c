/*
 * main.c: board firmware entry. Boot, then a tight poll loop: every complete
 * frame gets exactly one reply, every receive error gets an error reply, and
 * nothing here ever waits on the host with interrupts off or forever.
 */
#include "commands.h"
#include "hal.h"
#include "msg.h"
#include "protocol.h"

static proto_rx rx;

/* Entry called by the board (Reset_Handler, or the host build's main()). */
int hn_app_main(void);

/* Say precisely why a frame was dropped: the host shows this to the user. */
static void reply_rx_error(const proto_rx *r) {
    msg_t m;
    msg_reset(&m);
    uint8_t opcode = 0;
    switch (r->err_status) {
    case PROTO_BAD_CRC:
        opcode = r->opcode;
        msg_u(msg_s(&m, "frame CRC mismatch (payload length "), r->length);
        msg_s(&m, ")");
        break;
    case PROTO_BAD_LENGTH:
        opcode = r->header[3];
        msg_u(msg_s(&m, "frame length "), get_u16(&r->header[6]));
        msg_u(msg_s(&m, " exceeds MAX_PAYLOAD "), PROTO_MAX_PAYLOAD);
        break;
    case PROTO_BAD_VERSION:
        opcode = r->header[3];
        msg_u(msg_s(&m, "frame version "), r->header[2]);
        msg_u(msg_s(&m, " unsupported (board speaks "), PROTO_VERSION);
        msg_s(&m, ")");
        break;
    case PROTO_FRAME_TIMEOUT:
        msg_u(msg_s(&m, "partial frame dropped: no byte for "), PROTO_FRAME_TIMEOUT_MS);
        msg_s(&m, " ms");
        break;
    default:
        msg_s(&m, "frame dropped");
        break;
    }
    proto_send_error(r->err_seq, r->err_status, opcode, 0, m.buf);
}

int hn_app_main(void) {
    hal_board_init();
    commands_init();
    uint64_t timeout = (uint64_t)hal_counter_hz() * PROTO_FRAME_TIMEOUT_MS / 1000u;
    proto_rx_init(&rx, timeout);
    for (;;) {
        proto_event ev = proto_rx_poll(&rx);
        if (ev == PROTO_EV_FRAME) {
            commands_dispatch(rx.opcode, rx.seq, rx.payload, rx.length);
        } else if (ev == PROTO_EV_ERROR) {
            reply_rx_error(&rx);
        }
    }
}
