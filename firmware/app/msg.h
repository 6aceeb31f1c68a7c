/*
 * msg.h: a tiny bounded message builder for error replies. Used instead of
 * snprintf so the firmware links no printf machinery (and no malloc with it).
 */
#ifndef HN_MSG_H
#define HN_MSG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char buf[201];
    size_t len;
} msg_t;

void msg_reset(msg_t *m);
/* Append a string / an unsigned decimal; both truncate at the buffer end. */
msg_t *msg_s(msg_t *m, const char *s);
msg_t *msg_u(msg_t *m, uint32_t v);

#endif /* HN_MSG_H */
