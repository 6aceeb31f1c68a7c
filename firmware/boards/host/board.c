/*
 * Host-native board: the firmware application built for Linux.
 *
 * Transport: stdin/stdout (binary) by default, or `--pty`: open a
 * pseudo-terminal, print "PTY <path>" on stdout and serve frames there.
 * Counter: CLOCK_MONOTONIC in ns (host wall time: for development only).
 * See firmware/PROTOCOL.md, "Host-native board".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hal.h"

static int rx_fd = 0;
static int tx_fd = 1;
static int pty_slave_fd = -1;
static int input_closed = 0;

static void open_pty(void) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        perror("hilnas_fw: posix_openpt");
        exit(3);
    }
    const char *name = ptsname(m);
    if (!name) {
        perror("hilnas_fw: ptsname");
        exit(3);
    }
    /* Keep the slave open ourselves: raw mode sticks, and a host that closes
     * and reopens the port does not turn our reads into EIO. */
    pty_slave_fd = open(name, O_RDWR | O_NOCTTY);
    if (pty_slave_fd < 0) {
        perror("hilnas_fw: open pty slave");
        exit(3);
    }
    struct termios t;
    if (tcgetattr(pty_slave_fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(pty_slave_fd, TCSANOW, &t);
    }
    rx_fd = tx_fd = m;
    printf("PTY %s\n", name);
    fflush(stdout);
}

static void on_signal(int sig) {
    (void)sig;
    _exit(0);
}

static int g_argc;
static char **g_argv;

/* main() of the app takes no arguments; the host board's own entry passes
 * them through these before calling it. */
int hn_app_main(void);

int main(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
    return hn_app_main();
}

void hal_board_init(void) {
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 1; i < g_argc; i++) {
        if (strcmp(g_argv[i], "--pty") == 0) {
            open_pty();
        } else {
            fprintf(stderr, "hilnas_fw: unknown argument '%s' (usage: hilnas_fw [--pty])\n",
                    g_argv[i]);
            exit(2);
        }
    }
}

size_t hal_uart_read(uint8_t *buf, size_t max) {
    if (input_closed) exit(0);
    struct pollfd p = {.fd = rx_fd, .events = POLLIN};
    /* A short sleep-in-poll keeps the host CPU free; the protocol timeout is
     * 500 ms, far above this. */
    int r = poll(&p, 1, 1);
    if (r <= 0) return 0;
    ssize_t n = read(rx_fd, buf, max);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        if (pty_slave_fd < 0) input_closed = 1; /* stdin EOF: done */
        return 0;
    }
    return n > 0 ? (size_t)n : 0;
}

void hal_uart_write(const uint8_t *buf, size_t n) {
    while (n) {
        ssize_t w = write(tx_fd, buf, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            exit(4); /* host side gone */
        }
        buf += w;
        n -= (size_t)w;
    }
}

uint64_t hal_counter_read(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t hal_counter_read32(void) { return (uint32_t)hal_counter_read(); }
void hal_counter_align(void) {}
uint32_t hal_counter_hz(void) { return 1000000000u; }
uint32_t hal_cpu_hz(void) { return (uint32_t)HN_CLOCK_HZ; }
int hal_timing_kind(void) { return HAL_TIMING_NS; }
const char *hal_timing_unit(void) { return "ns (host CLOCK_MONOTONIC, wall time)"; }
uint32_t hal_calib_ticks(void) { return 0; }
uint32_t hal_stack_bytes(void) { return 0; }
uint32_t hal_stack_high_water(void) { return 0; }

int hal_host_file_read(const char *path, uint8_t *dst, uint32_t cap, uint32_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return HAL_FILE_CANNOT_OPEN;
    int rc = HAL_FILE_OK;
    if (fseek(f, 0, SEEK_END) != 0) rc = HAL_FILE_READ_ERROR;
    long size = rc ? -1 : ftell(f);
    if (size < 0) {
        rc = HAL_FILE_READ_ERROR;
    } else if ((unsigned long)size > cap) {
        rc = HAL_FILE_TOO_BIG;
    } else {
        rewind(f);
        if (fread(dst, 1, (size_t)size, f) != (size_t)size) rc = HAL_FILE_READ_ERROR;
        *len = (uint32_t)size;
    }
    fclose(f);
    return rc;
}

/* Closing a pty master discards what the host has not read yet, so wait
 * (up to 2 s) until the SHUTDOWN reply has left the slave's input queue. */
void hal_shutdown(int code) {
    /* The kernel moves master->slave bytes asynchronously: a queue that
     * reads empty must stay empty for 50 ms before we trust it. */
    for (int i = 0, quiet = 0; pty_slave_fd >= 0 && i < 2000 && quiet < 50; i++) {
        int pending = 0;
        if (ioctl(pty_slave_fd, FIONREAD, &pending) != 0) break;
        quiet = pending ? 0 : quiet + 1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    exit(code);
}
