/*
 * Driver for the fuzz target when libFuzzer is not used (gcc builds):
 *   replay FILE...            run each file once (corpus replay in CI)
 *   replay -mutate SECS DIR    naive mutation fuzzing for SECS seconds, seeded
 *                              from the corpus files in DIR (bit flips, byte
 *                              overwrites with boundary values, truncation,
 *                              4-byte offset rewrites); saves crashing inputs
 *                              to crash-<n> before the sanitizer aborts.
 * Built with -fsanitize=address,undefined so that any memory error aborts.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 256
#define MAX_FILE_BYTES (1u << 20)

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    uint8_t *buf = malloc(MAX_FILE_BYTES);
    *len = buf ? fread(buf, 1, MAX_FILE_BYTES, f) : 0;
    fclose(f);
    return buf;
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void mutate(uint8_t *buf, size_t *len)
{
    static const uint32_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff,
                                           0x80000000u, 0xffffffffu, 4, 8, 16};
    int n = 1 + (int)(rnd() % 4);
    for (int k = 0; k < n && *len > 0; ++k) {
        size_t at = rnd() % *len;
        switch (rnd() % 5) {
        case 0: buf[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: buf[at] = (uint8_t)rnd(); break;
        case 2:
            if (at + 4 <= *len) {
                uint32_t v = interesting[rnd() % (sizeof interesting / sizeof interesting[0])];
                memcpy(buf + at, &v, 4);
            }
            break;
        case 3: *len = at + 1; break;
        default:
            if (at + 4 <= *len) {
                uint32_t v;
                memcpy(&v, buf + at, 4);
                v += (uint32_t)((int32_t)(rnd() % 64) - 32);
                memcpy(buf + at, &v, 4);
            }
            break;
        }
    }
}

static int mutate_loop(double seconds, const char *dir)
{
    static uint8_t *seeds[MAX_FILES];
    static size_t seed_len[MAX_FILES];
    int n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot open corpus dir %s\n", dir);
        return 2;
    }
    struct dirent *ent;
    char path[4096];
    while ((ent = readdir(d)) != NULL && n < MAX_FILES) {
        if (ent->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        seeds[n] = read_file(path, &seed_len[n]);
        if (seeds[n] != NULL && seed_len[n] > 0) ++n;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "empty corpus %s\n", dir);
        return 2;
    }
    uint8_t *buf = malloc(MAX_FILE_BYTES);
    clock_t end = clock() + (clock_t)(seconds * CLOCKS_PER_SEC);
    unsigned long runs = 0;
    while (clock() < end) {
        int s = (int)(rnd() % (uint32_t)n);
        size_t len = seed_len[s];
        memcpy(buf, seeds[s], len);
        mutate(buf, &len);
        FILE *f = fopen("last-input", "wb"); /* kept if the sanitizer aborts */
        if (f) {
            fwrite(buf, 1, len, f);
            fclose(f);
        }
        LLVMFuzzerTestOneInput(buf, len);
        ++runs;
    }
    remove("last-input");
    printf("mutation fuzzing: %lu runs, no sanitizer report\n", runs);
    free(buf);
    for (int i = 0; i < n; ++i) free(seeds[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "-mutate") == 0) {
        return mutate_loop(atof(argv[2]), argv[3]);
    }
    for (int i = 1; i < argc; ++i) {
        size_t len = 0;
        uint8_t *buf = read_file(argv[i], &len);
        if (buf == NULL) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
