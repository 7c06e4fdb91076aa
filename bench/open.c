/* open - how much of a model file lbrx touches to open it and list its tensors: the time and the
   process's resident memory to open a GGUF file, a .safetensors file or a sharded checkpoint's
   index (memory-mapped) and take every tensor (an lbrx_tensor into the mapping, plus a lookup
   by name). Only the header pages should be touched, whatever the file's size.

       cc -O2 -march=native -I. bench/open.c -o build/open -lm
       build/open FILE [-v]               open and list FILE (GGUF when it starts with "GGUF",
                                          else safetensors or, for *.json, a shard index); -v
                                          prints one line per tensor
       build/open --create FILE MiB [N]   write N (default 64) f32 tensors [rows, 1024] totalling
                                          MiB with lbrx's writer: GGUF when FILE ends in .gguf,
                                          else safetensors (data from untouched calloc pages)

   Resident memory comes from /proc/self/statm (Linux); elsewhere it prints -1. */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
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

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int create(const char *path, long mib, int n) {
    lbrx_tensor *t = (lbrx_tensor *)calloc((size_t)n, sizeof *t);
    char (*names)[32] = (char (*)[32])calloc((size_t)n, 32);
    const char **name_of = (const char **)calloc((size_t)n, sizeof *name_of);
    int64_t rows = (int64_t)mib * 1048576 / 4 / 1024 / n, shape[2];
    float *data = (float *)calloc((size_t)(rows * 1024) * (size_t)n, 4);
    lbrx_error e;
    lbrx_result r = LBRX_OK;
    int i, gguf = ends_with(path, ".gguf");
    if (!t || !names || !name_of || !data || rows < 1) { fprintf(stderr, "error: out of memory or too many tensors\n"); return 1; }
    shape[0] = rows;
    shape[1] = 1024;
    for (i = 0; i < n; i++) {
        lbrx_tensor_init_memory(&t[i], LBRX_F32, 2, shape, data + (size_t)(i * rows * 1024), NULL);
        snprintf(names[i], 32, "layers.%d.weight", i);
        name_of[i] = names[i];
    }
    if (gguf) {
        lbrx_gguf_writer *w = 0;
        r = lbrx_gguf_writer_create(&w, NULL, &e);
        if (r == LBRX_OK) r = lbrx_gguf_writer_add_str(w, "general.architecture", "bench", &e);
        for (i = 0; i < n && r == LBRX_OK; i++) r = lbrx_gguf_writer_add_tensor(w, names[i], &t[i], &e);
        if (r == LBRX_OK) r = lbrx_gguf_writer_write_path(w, path, &e);
        lbrx_gguf_writer_destroy(w);
    } else {
        lbrx_safetensors_write_desc d;
        memset(&d, 0, sizeof d);
        d.tensors = t;
        d.names = name_of;
        d.n_tensors = (size_t)n;
        r = lbrx_safetensors_write(path, &d, &e);
    }
    free(data); free(names); free((void *)name_of); free(t);
    if (r != LBRX_OK) { fprintf(stderr, "error: %s\n", e.message); return 1; }
    printf("wrote %s: %d tensors of [%lld, 1024] f32\n", path, n, (long long)rows);
    return 0;
}

/* One open file of either format. */
typedef struct bench_file { lbrx_gguf *g; lbrx_safetensors *st; } bench_file;

static lbrx_result bench_open(bench_file *f, const char *path, lbrx_error *e) {
    char magic[4] = {0, 0, 0, 0};
    FILE *fp = fopen(path, "rb");
    if (fp) { if (fread(magic, 1, 4, fp) != 4) magic[0] = 0; fclose(fp); }
    if (memcmp(magic, "GGUF", 4) == 0) return lbrx_gguf_open(&f->g, path, NULL, e);
    return lbrx_safetensors_open(&f->st, path, NULL, e);
}

static size_t bench_count(const bench_file *f) {
    return f->g ? lbrx_gguf_tensor_count(f->g) : lbrx_safetensors_tensor_count(f->st);
}

static const char *bench_name(const bench_file *f, size_t i) {
    return f->g ? lbrx_gguf_tensor_name(f->g, i) : lbrx_safetensors_tensor_name(f->st, i);
}

/* Tensor i as an lbrx_tensor (its own reference) and whether a lookup by its name finds it. */
static int bench_tensor(const bench_file *f, size_t i, lbrx_tensor *t) {
    if (f->g) {
        if (lbrx_gguf_tensor(f->g, i, t, NULL) != LBRX_OK) return 0;
        return lbrx_gguf_find_tensor(f->g, bench_name(f, i)) == i;
    }
    if (lbrx_safetensors_tensor(f->st, i, t, NULL) != LBRX_OK) return 0;
    return lbrx_safetensors_find_tensor(f->st, bench_name(f, i)) == i;
}

int main(int argc, char **argv) {
    bench_file f = {0, 0};
    lbrx_error e;
    double t0, t1, t2;
    long r0, r1, r2;
    size_t i, n, listed = 0, total = 0;
    int verbose = argc > 2 && strcmp(argv[2], "-v") == 0;
    if (argc >= 4 && strcmp(argv[1], "--create") == 0) return create(argv[2], atol(argv[3]), argc > 4 ? atoi(argv[4]) : 64);
    if (argc < 2 || argv[1][0] == '-') { fprintf(stderr, "usage: %s FILE [-v] | --create FILE MiB [N]\n", argv[0]); return 2; }
    r0 = rss_kib();
    t0 = now_s();
    if (bench_open(&f, argv[1], &e) != LBRX_OK) { fprintf(stderr, "error: %s\n", e.message); return 1; }
    t1 = now_s();
    r1 = rss_kib();
    n = bench_count(&f);
    for (i = 0; i < n; i++) {
        lbrx_tensor t;
        size_t nb = 0;
        int d;
        listed += (size_t)bench_tensor(&f, i, &t);
        lbrx_tensor_nbytes(&t, &nb);
        total += nb;
        if (verbose) {
            printf("%s %s [", bench_name(&f, i), lbrx_dtype_name(t.dtype));
            for (d = 0; d < t.ndim; d++) printf(d ? ", %lld" : "%lld", (long long)t.shape[d]);
            printf("] align %zu\n", lbrx_tensor_alignment(&t));
            if (t.dtype == LBRX_F32 && nb >= 4) {
                float a, b;
                memcpy(&a, t.data, 4);
                memcpy(&b, (const char *)t.data + nb - 4, 4);
                printf("value %s[0] = %g, last = %g\n", bench_name(&f, i), a, b);
            }
        }
        lbrx_tensor_release(&t);
    }
    t2 = now_s();
    r2 = rss_kib();
    printf("%s: %s, %zu tensors (%zu found by name), data %.3f GiB\n", argv[1], f.g ? "GGUF" : "safetensors", n, listed,
           (double)total / 1073741824.0);
    printf("open %.3f ms, open + list %.3f ms; resident memory %ld KiB before, %ld after open, %ld after list\n",
           1e3 * (t1 - t0), 1e3 * (t2 - t0), r0, r1, r2);
    lbrx_gguf_destroy(f.g);
    lbrx_safetensors_destroy(f.st);
    return listed == n ? 0 : 1;
}
