/*
 * no_malloc.c: the firmware never allocates. newlib-nano's printf core (the
 * engine formats error messages with vsnprintf into fixed buffers) still
 * references the allocator for its unused growing-buffer path; these
 * definitions satisfy those references without linking a heap, and stop the
 * board loudly if that path were ever taken. The post-build check
 * (check_no_malloc.cmake) fails the build if a heap (malloc/_sbrk) is linked.
 */
#include <stddef.h>

struct _reent;
void hal_fault(void) __attribute__((noreturn));

void *_malloc_r(struct _reent *r, size_t n);
void *_realloc_r(struct _reent *r, void *p, size_t n);
void _free_r(struct _reent *r, void *p);

void *_malloc_r(struct _reent *r, size_t n) {
    (void)r;
    (void)n;
    hal_fault();
}

void *_realloc_r(struct _reent *r, void *p, size_t n) {
    (void)r;
    (void)p;
    (void)n;
    hal_fault();
}

void _free_r(struct _reent *r, void *p) {
    (void)r;
    if (p) hal_fault();
}
