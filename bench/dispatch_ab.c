/* dispatch_ab.c - the median time of a few lbrx calls, for comparing a build without -march
   (runtime dispatch) with a -march=native one (bench/RESULTS.md, "Runtime dispatch").
   Usage: dispatch_ab q4_0|q4_K|f32 N   (W 4096 x 4096, N rows of x)
          dispatch_ab attn N_Q N_KV     (causal, 32 heads of 128 over 8 KV heads, f16 cache)
   2 threads; prints milliseconds. */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static void fill(lbrx_tensor *t, int64_t n) { int64_t i; unsigned s = 1; float *f = malloc(n * 4);
  for (i = 0; i < n; i++) { s = s * 1103515245u + 12345u; f[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
  if (t->dtype == LBRX_F32) memcpy(t->data, f, n * 4); else lbrx_quantize_row(t->dtype, f, t->data, n); free(f); }
int main(int argc, char **argv) {
  const char *what; int reps = 3, r; double ts[64];
  if (argc < 3 || (!strcmp(argv[1], "attn") && argc < 4)) { fprintf(stderr, "usage: see the top of dispatch_ab.c\n"); return 2; }
  what = argv[1];
  lbrx_context *ctx; lbrx_context_desc cd; memset(&cd, 0, sizeof cd); cd.n_threads = 2; lbrx_context_create(&ctx, &cd, NULL);
  if (!strcmp(what, "attn")) {
    int64_t nq = atoi(argv[2]), nkv = atoi(argv[3]); int64_t qs[3] = { nq, 32, 128 }, ks[3] = { nkv, 8, 128 };
    lbrx_tensor q, k, v, o; lbrx_attention_desc d; memset(&d, 0, sizeof d); d.causal = 1;
    lbrx_tensor_init_heap(&q, LBRX_F32, 3, qs, NULL, NULL); lbrx_tensor_init_heap(&o, LBRX_F32, 3, qs, NULL, NULL);
    lbrx_tensor_init_heap(&k, LBRX_F16, 3, ks, NULL, NULL); lbrx_tensor_init_heap(&v, LBRX_F16, 3, ks, NULL, NULL);
    fill(&q, nq * 4096); fill(&k, nkv * 1024); fill(&v, nkv * 1024);
    for (r = 0; r < reps; r++) { double t0 = now(); lbrx_attention(ctx, &q, &k, &v, &d, &o, NULL); ts[r] = now() - t0; }
  } else {
    lbrx_dtype dt = !strcmp(what, "q4_0") ? LBRX_Q4_0 : !strcmp(what, "q4_K") ? LBRX_Q4_K : LBRX_F32;
    int64_t n = atoi(argv[2]), ws[2] = { 4096, 4096 }, xs[2] = { n, 4096 }; lbrx_tensor w, x, y;
    lbrx_tensor_init_heap(&w, dt, 2, ws, NULL, NULL); lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL); lbrx_tensor_init_heap(&y, LBRX_F32, 2, xs, NULL, NULL);
    fill(&w, 4096 * 4096); fill(&x, n * 4096);
    if (n == 1) reps = 41;
    for (r = 0; r < reps; r++) { double t0 = now(); lbrx_matmul(ctx, &w, &x, &y, NULL); ts[r] = now() - t0; }
  }
  qsort(ts, reps, sizeof ts[0], cmp); printf("%.4f\n", ts[reps / 2] * 1e3); return 0;
}
