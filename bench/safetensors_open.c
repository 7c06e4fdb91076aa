/* safetensors_open - how much of a safetensors file lbrx touches to open it and list its tensors.

   cc -O2 -I. bench/safetensors_open.c -o build/safetensors_open -lm
   build/safetensors_open FILE            open (mmap), list every tensor, print the open time and
                                          the process's resident memory before/after
   build/safetensors_open --create FILE MiB [N]
                                          write a file of N (default 64) f32 tensors totalling MiB
                                          with lbrx's writer (data from untouched calloc pages)
   Prints "value NAME[i] = v" for the first and last element of every f32 tensor with -v. */
#define LBRX_IMPL
#include "lbrx_safetensors.h"
#include <stdio.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Resident set size in KiB (Linux /proc/self/status VmRSS), -1 elsewhere. */
static long rss_kib(void) {
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1) break;
    fclose(f);
    return v;
}

static int create(const char *path, long mib, int n) {
    lbrx_tensor *t = (lbrx_tensor *)calloc((size_t)n, sizeof *t);
    char (*names)[32] = (char (*)[32])calloc((size_t)n, 32);
    int64_t elems = (int64_t)mib * 1048576 / 4 / n;
    float *data = (float *)calloc((size_t)elems * n, 4);
    lbrx_safetensors_write_desc d;
    lbrx_error e;
    int i;
    if (!t || !names || !data) { fprintf(stderr, "error: out of memory\n"); return 1; }
    for (i = 0; i < n; i++) {
        int64_t shape[2] = {elems / 1024, 1024};
        lbrx_tensor_from_ptr(&t[i], LBRX_F32, 2, shape, data + (size_t)i * elems, NULL);
        snprintf(names[i], 32, "layers.%d.weight", i);
        t[i].name = names[i];
    }
    memset(&d, 0, sizeof d);
    d.tensors = t;
    d.n_tensors = (size_t)n;
    if (lbrx_safetensors_write(path, &d, &e) != LBRX_OK) { fprintf(stderr, "error: %s\n", e.message); return 1; }
    printf("wrote %s: %d tensors of [%lld, 1024] f32\n", path, n, (long long)(elems / 1024));
    free(data); free(names); free(t);
    return 0;
}

int main(int argc, char **argv) {
    lbrx_safetensors *st;
    lbrx_error e;
    double t0, t1, t2;
    long r0, r1, r2;
    size_t i, total = 0;
    int verbose = argc > 2 && strcmp(argv[2], "-v") == 0;
    if (argc >= 4 && strcmp(argv[1], "--create") == 0) return create(argv[2], atol(argv[3]), argc > 4 ? atoi(argv[4]) : 64);
    if (argc < 2) { fprintf(stderr, "usage: %s FILE [-v] | --create FILE MiB [N]\n", argv[0]); return 2; }
    r0 = rss_kib();
    t0 = now_s();
    if (lbrx_safetensors_open(&st, argv[1], NULL, &e) != LBRX_OK) { fprintf(stderr, "error: %s\n", e.message); return 1; }
    t1 = now_s();
    r1 = rss_kib();
    for (i = 0; i < lbrx_safetensors_count(st); i++) {
        const lbrx_tensor *t = lbrx_safetensors_tensor(st, i);
        size_t nb = 0;
        int d;
        lbrx_tensor_nbytes(t, &nb);
        total += nb;
        printf("%s %s [", t->name, lbrx_safetensors_dtype_name(t->dtype));
        for (d = 0; d < t->ndim; d++) printf(d ? ", %lld" : "%lld", (long long)t->shape[d]);
        printf("] offset %llu align %zu\n", (unsigned long long)lbrx_safetensors_tensor_offset(st, i), lbrx_tensor_alignment(t));
        if (verbose && t->dtype == LBRX_F32 && nb >= 4) {
            float a, b;
            memcpy(&a, t->data, 4);
            memcpy(&b, (const char *)t->data + nb - 4, 4);
            printf("value %s[0] = %g, last = %g\n", t->name, a, b);
        }
    }
    t2 = now_s();
    r2 = rss_kib();
    printf("tensors %zu, data %.3f GiB, open %.3f ms, open+list %.3f ms, RSS KiB before %ld, after open %ld, after list %ld\n",
           lbrx_safetensors_count(st), total / 1073741824.0, (t1 - t0) * 1e3, (t2 - t0) * 1e3, r0, r1, r2);
    lbrx_safetensors_close(st);
    return 0;
}
