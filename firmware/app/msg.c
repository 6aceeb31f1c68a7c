/* msg.c: bounded error-message builder (see msg.h). */
#include "msg.h"

void msg_reset(msg_t *m) { m->len = 0; m->buf[0] = '\0'; }

msg_t *msg_s(msg_t *m, const char *s) {
    while (s && *s && m->len + 1 < sizeof(m->buf)) m->buf[m->len++] = *s++;
    m->buf[m->len] = '\0';
    return m;
}

msg_t *msg_u(msg_t *m, uint32_t v) {
    char tmp[10];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10u); v /= 10u; } while (v && n < 10);
    while (n && m->len + 1 < sizeof(m->buf)) m->buf[m->len++] = tmp[--n];
    m->buf[m->len] = '\0';
    return m;
}

