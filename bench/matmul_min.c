/* matmul_min - the quantized matmul kernels' own speed on a shared machine: weights (4096x4096 unless
   given) of each block dtype (random code bytes, scales 1/64), one lbrx_matmul repeated, the fastest
   repetition reported (the minimum is what the kernel can do; on a machine where other work
   takes the cores away the median says more about the other work).

       cc -O3 -march=native -fopenmp -I. bench/matmul_min.c -o build/matmul_min -lm
       build/matmul_min [DTYPES [N [THREADS [OUT [IN]]]]]   DTYPES: comma-separated names
                                     ("q4_K,q6_K"; default all), N rows of x (default 1), threads
                                     (default 1), W's shape OUT x IN (default 4096 x 4096)
   N = 1: min of 300 calls, in GB/s of weight bytes (the weights fit in the L3: this is compute,
   not memory); N > 1: min of 5 (more for small products, up to 200), in GFLOP/s. With LBRX_MIN_CPU_TIME set in the environment the
   process's CPU time is timed instead of the wall clock (1 thread: time descheduled left out). */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(getenv("LBRX_MIN_CPU_TIME") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    static const lbrx_dtype dts[] = { LBRX_Q4_0, LBRX_Q4_1, LBRX_Q8_0, LBRX_Q4_K, LBRX_Q5_K, LBRX_Q6_K, LBRX_IQ4_XS,
                                      LBRX_IQ4_NL, LBRX_Q5_0, LBRX_Q5_1, LBRX_Q3_K, LBRX_Q2_K };
    const int64_t m = argc > 4 ? atoi(argv[4]) : 4096, k = argc > 5 ? atoi(argv[5]) : 4096;
    int64_t n = argc > 2 ? atoi(argv[2]) : 1;
    const double work = 2.0 * (double)m * (double)k * (double)n;
    int reps = n == 1 ? 300 : work > 8e9 ? 5 : work < 2e8 ? 200 : (int)(4e10 / work), r;
    size_t d;
    lbrx_context *ctx;
    lbrx_context_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.n_threads = argc > 3 ? atoi(argv[3]) : 1;
    if (n < 1 || m < 1 || k < 256 || k % 256 || lbrx_context_create(&ctx, &cd, NULL) != LBRX_OK) return 1;
    for (d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        const char *name = lbrx_dtype_name(dts[d]);
        const size_t bb = lbrx_dtype_block_bytes(dts[d]);
        /* where the block's f16 scale and, for formats with mins, the min's multiplier lie */
        const size_t at = dts[d] == LBRX_Q6_K ? 208 : dts[d] == LBRX_Q3_K ? 108 : dts[d] == LBRX_Q2_K ? 80 : 0;
        const int two = dts[d] == LBRX_Q4_1 || dts[d] == LBRX_Q5_1 || dts[d] == LBRX_Q4_K || dts[d] == LBRX_Q5_K || dts[d] == LBRX_Q2_K;
        const uint16_t h = lbrx_f32_to_f16(1.0f / 64);
        int64_t ws[2], xs[2], ys[2];
        lbrx_tensor w, x, y;
        size_t i, nb = 0;
        double best = 1e30, t;
        if (argc > 1 && !strstr(argv[1], name)) continue;
        ws[0] = m; ws[1] = k; xs[0] = n; xs[1] = k; ys[0] = n; ys[1] = m;
        if (lbrx_tensor_init_heap(&w, dts[d], 2, ws, NULL, NULL) != LBRX_OK || lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) != LBRX_OK ||
            lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) != LBRX_OK)
            return 1;
        lbrx_tensor_nbytes(&w, &nb);
        for (i = 0; i < nb; i++) ((unsigned char *)w.data)[i] = (unsigned char)((i * 2654435761u) >> 13);
        for (i = 0; i < nb; i += bb) {
            memcpy((unsigned char *)w.data + i + at, &h, 2);
            if (two) memcpy((unsigned char *)w.data + i + at + 2, &h, 2);
        }
        for (i = 0; i < (size_t)(n * k); i++) ((float *)x.data)[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
        for (r = 0; r < reps; r++) {
            t = now();
            if (lbrx_matmul(ctx, &w, &x, &y, NULL) != LBRX_OK) return 1;
            t = now() - t;
            if (t < best) best = t;
        }
        if (n == 1) printf("%-7s n=1    min %8.3f ms  %6.2f GB/s\n", name, best * 1e3, (double)nb / best / 1e9);
        else printf("%-7s n=%-4lld min %8.2f ms  %6.1f GFLOP/s\n", name, (long long)n, best * 1e3, 2.0 * (double)(m * k * n) / best / 1e9);
        lbrx_tensor_release(&w);
        lbrx_tensor_release(&x);
        lbrx_tensor_release(&y);
    }
    lbrx_context_destroy(ctx);
    return 0;
}
