/* gguf_open - how much opening a large GGUF file costs: time and resident memory to open it and
   list every tensor (as lbrx_tensors pointing into the mapping). Only the header pages should be
   touched, whatever the file's size.

       cc -O2 -I. bench/gguf_open.c -o build/gguf_open -lm
       ./build/gguf_open [FILE [MiB]]   (FILE is created with MiB of q8_0 tensors when missing;
                                         default /tmp/lbrx_bench_open.gguf, 1100 MiB)

   Resident memory comes from /proc/self/statm (Linux); elsewhere it prints -1. */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Resident set in KiB, -1 when unknown. */
static long rss_kib(void) {
    long pages = -1, resident = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (long)(lbrx_page_size() / 1024);
}

static lbrx_result fill_ones(void *user, const char *name, int64_t r0, int64_t n, void *dst, lbrx_error *err) {
    size_t row = *(const size_t *)user;
    (void)name; (void)r0; (void)err;
    memset(dst, 0x11, (size_t)n * row);
    return LBRX_OK;
}

static int make_file(const char *path, int mib) {
    lbrx_gguf_writer *w = 0;
    lbrx_error err;
    int64_t shape[2] = {2048, 2048};
    size_t row = 2048 / 32 * 34;
    int i, n = (int)((double)mib * 1048576.0 / (2048.0 * (double)row)) + 1;
    char name[64];
    if (lbrx_gguf_writer_create(&w, NULL, &err) != LBRX_OK) return 1;
    lbrx_gguf_writer_add_str(w, "general.architecture", "bench", &err);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "blk.%d.weight", i);
        if (lbrx_gguf_writer_add_tensor_fill(w, name, LBRX_Q8_0, 2, shape, fill_ones, &row, &err) != LBRX_OK) break;
    }
    if (lbrx_gguf_writer_write_path(w, path, &err) != LBRX_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        lbrx_gguf_writer_destroy(w);
        return 1;
    }
    lbrx_gguf_writer_destroy(w);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/tmp/lbrx_bench_open.gguf";
    int mib = argc > 2 ? atoi(argv[2]) : 1100;
    lbrx_gguf *g;
    lbrx_error err;
    FILE *f = fopen(path, "rb");
    double t0, t1, t2;
    long r0, r1, r2;
    int64_t i;
    size_t listed = 0;
    if (f) fclose(f);
    else if (make_file(path, mib)) return 1;
    r0 = rss_kib();
    t0 = now_s();
    if (lbrx_gguf_open(&g, path, NULL, &err) != LBRX_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return 1;
    }
    t1 = now_s();
    r1 = rss_kib();
    for (i = 0; i < lbrx_gguf_tensor_count(g); i++) {
        lbrx_tensor t;
        if (lbrx_gguf_tensor(g, i, &t, &err) != LBRX_OK) return 1;
        listed += t.data != NULL && lbrx_gguf_find_tensor(g, t.name) == i;
        lbrx_tensor_release(&t);
    }
    t2 = now_s();
    r2 = rss_kib();
    printf("file %s: %.1f MiB, %lld tensors, header %llu bytes\n", path,
           (double)lbrx_storage_size(lbrx_gguf_storage(g)) / 1048576.0, (long long)lbrx_gguf_tensor_count(g),
           (unsigned long long)(lbrx_gguf_tensor_count(g) ? lbrx_gguf_data_offset(g) : lbrx_storage_size(lbrx_gguf_storage(g))));
    printf("open %.3f ms, open + list of %zu tensors %.3f ms; resident memory %ld KiB before, %ld after open, %ld after list\n",
           1e3 * (t1 - t0), listed, 1e3 * (t2 - t0), r0, r1, r2);
    lbrx_gguf_close(g);
    return 0;
}
