/* bench.c - lbrx kernel benchmarks with this machine's ceilings measured in the same run.

   Build: cc -O3 -march=native -fopenmp -I. examples/bench.c -o build/bench -lm
          (add -DLBRX_BENCH_BLAS -lopenblas for OpenBLAS as the f32 peer; `make bench BLAS=1`)
   Usage: bench [--threads N] [--csv] [--reps N] [--only WORD] [--cpu-time] [--sweep]
     --threads N  threads for lbrx and the peer (default: all cores)
     --csv        one CSV row per case: op,dtype,m,n,k,threads,dram,median_ms,gflops,gbps,peer,
                  peer_ms,ratio,frac,ceiling  (ratio = peer_ms / median_ms; frac = the row's
                  fraction of `ceiling`, the relevant ceiling: read bandwidth for n <= 8 -- for
                  dram rows measured again just before the row -- and FMA peak otherwise)
     --reps N     timed repetitions per case (median reported; default 9)
     --only WORD  run the cases whose op or dtype contains WORD (e.g. q4_0, matmul, affine;
                  attention_decode: the attention rows of n_q <= 4 only)
     --cpu-time   time with the process's CPU time instead of the wall clock (use with
                  --threads 1 on a shared machine: it leaves out the time spent descheduled)
     --sweep      instead of the cases below, lbrx_matmul over a grid of shapes (op "sweep"): every
                  dtype, k 8..16384, out 1..131072, n = 1 and 64, weights read where they lie
                  (cache or DRAM as their size decides); GB/s counts W, x and y; frac is the larger
                  of the row's fraction of the read ceiling and of the FMA peak; the last line names the worst row
                  among those whose ideal time (at the ceiling) is at least 20 us: smaller calls
                  measure the call's fixed cost, which the row's microseconds show
   Ceilings (streaming read GB/s and FMA GFLOP/s, 1 thread and all threads) come first, as
   comment lines (#) in CSV mode. The read ceiling is the higher of reading one stream per thread
   and four side by side (as the matrix-vector kernels do): Zen 4 reads one stream per thread
   faster at 1 thread, the Intel machines four. "dram" rows (matrix-vector products and attention
   decode) rotate through copies of the weights or of the KV cache that add up to at least 1 GiB,
   so the caches hold none of them.

   Adding a benchmark: write a function `static void bench_xxx(const bench_env *env)` that times
   its cases with bench_median_ms() and prints each with bench_emit(), and call it from main(). */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#define LBRX_GGUF_IMPLEMENTATION
#define LBRX_SAFETENSORS_IMPLEMENTATION
#define LBRX_TOKENIZER_IMPLEMENTATION
#include "examples/lbrx_tokenizer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef LBRX_BENCH_BLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
#endif

typedef struct bench_env {
    int threads, csv, reps;
    const char *only;
    double read_gbps_1, read_gbps_all;   /* streaming read ceilings */
    const uint32_t *read_buf;            /* the 1 GiB they read, kept for read_ceiling_now */
    int read_pf, read_streams;           /* the faster read loop: prefetching or not, 1 or 4 streams */
    int sweep;
    double fma_gflops_1, fma_gflops_all; /* FMA peak ceilings */
    lbrx_context *ctx;
} bench_env;

typedef struct bench_row {
    const char *op, *dtype;
    long long m, n, k;
    int dram;
    double median_ms, gflops, gbps;
    const char *peer;
    double peer_ms;
    double frac;
    double ceiling;                      /* the ceiling frac is relative to (GB/s or GFLOP/s) */
} bench_row;

/* Wall-clock time, or with --cpu-time the process's CPU time: on a shared, oversubscribed
   machine that measures a single-threaded kernel without the time it spends descheduled. */
static int use_cpu_time;
static double now_s(void) {
    struct timespec ts;
    clock_gettime(use_cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over `reps` timed calls of fn(arg, rep) in milliseconds, after one untimed call. */
static double bench_median_ms(int reps, void (*fn)(void *, int), void *arg) {
    double t[256], t0;
    int r;
    if (reps > 256) reps = 256;
    if (reps < 1) reps = 1;
    fn(arg, -1);
    for (r = 0; r < reps; r++) {
        t0 = now_s();
        fn(arg, r);
        t[r] = (now_s() - t0) * 1e3;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
}

static int bench_selected(const bench_env *env, const char *op, const char *dtype) {
    return !env->only || strstr(op, env->only) || strstr(dtype, env->only);
}

static void bench_emit(const bench_env *env, const bench_row *r) {
    double ratio = r->peer_ms > 0 ? r->peer_ms / r->median_ms : 0;
    if (env->csv) {
        printf("%s,%s,%lld,%lld,%lld,%d,%d,%.4f,%.2f,%.2f,%s,%.4f,%.3f,%.3f,%.1f\n", r->op, r->dtype, r->m, r->n, r->k,
               env->threads, r->dram, r->median_ms, r->gflops, r->gbps, r->peer ? r->peer : "none",
               r->peer_ms, ratio, r->frac, r->ceiling);
    } else {
        printf("%-8s %-5s m=%-6lld n=%-4lld k=%-6lld %-5s %9.3f ms %8.1f GFLOP/s %7.2f GB/s  %5.1f%% of %.1f",
               r->op, r->dtype, r->m, r->n, r->k, r->dram ? "dram" : "cache", r->median_ms, r->gflops, r->gbps, 100 * r->frac, r->ceiling);
        if (r->peer && r->peer_ms > 0) printf("  | %s %.3f ms, ratio %.2f", r->peer, r->peer_ms, ratio);
        printf("\n");
    }
    fflush(stdout);
}

/* ---- ceilings ---- */

typedef struct read_arg { const uint32_t *buf; size_t n; int threads, prefetch, streams; volatile uint32_t sink; } read_arg;

/* One 64-byte line added into an accumulator of 32-bit lanes. */
#if defined(__AVX512F__)
typedef __m512i rd_vec;
#define RD_ZERO() _mm512_setzero_si512()
#define RD_LINE(s, p) s = _mm512_add_epi32(s, _mm512_load_si512((const void *)(p)))
#elif defined(__AVX2__)
typedef __m256i rd_vec;
#define RD_ZERO() _mm256_setzero_si256()
#define RD_LINE(s, p) s = _mm256_add_epi32(s, _mm256_add_epi32(_mm256_load_si256((const __m256i *)(const void *)(p)), \
                                                              _mm256_load_si256((const __m256i *)(const void *)((p) + 8))))
#else
typedef uint32_t rd_vec;
#define RD_ZERO() 0u
#define RD_LINE(s, p) { int l_; for (l_ = 0; l_ < 16; l_++) s += (p)[l_]; }
#define RD_SUM(s) (s)
#endif
#if defined(__AVX512F__) || defined(__AVX2__)
/* the lanes' sum through memory: g++ 12 -O2 warns (maybe-uninitialized, inside its own header)
   on _mm512_reduce_add_epi32 inlined into an OpenMP region */
static uint32_t rd_sum(rd_vec v) {
    uint32_t t[sizeof(rd_vec) / 4], s = 0;
    size_t l;
    memcpy(t, &v, sizeof t);
    for (l = 0; l < sizeof t / 4; l++) s += t[l];
    return s;
}
#define RD_SUM(s) rd_sum(s)
#endif
#if defined(__GNUC__) || defined(__clang__)
#define RD_PREFETCH(p) __builtin_prefetch(p)
#else
#define RD_PREFETCH(p) ((void)(p))
#endif
#define RD_PF 512   /* 2 KiB ahead, in 32-bit words */

/* Sums the buffer as wrapping 32-bit integers. Each thread reads its part as a->streams (1 or 4)
   streams side by side, one cache line of each per step (4: the way the matrix-vector kernels read
   groups of weight rows), with a->prefetch also prefetching each stream 2 KiB ahead. The last
   few lines (fewer than 4 per thread) are left out of a 1 GiB buffer. */
static void read_once(void *p, int rep) {
    read_arg *a = (read_arg *)p;
    uint32_t total = 0;
    int t;
    (void)rep;
#ifdef _OPENMP
#pragma omp parallel for num_threads(a->threads) reduction(+ : total) schedule(static, 1)
#endif
    for (t = 0; t < a->threads; t++) {
        const size_t q = a->n / 16 / (size_t)a->threads / 4;   /* lines per stream of 4 */
        const uint32_t *b0 = a->buf + (size_t)t * 4 * q * 16, *b1 = b0 + q * 16, *b2 = b1 + q * 16, *b3 = b2 + q * 16;
        rd_vec s0 = RD_ZERO(), s1 = s0, s2 = s0, s3 = s0;
        size_t l;
        if (a->streams == 1)   /* the same lines as one stream: four accumulators along it */
            for (l = 0; l < 4 * q * 16; l += 64) {
                if (a->prefetch) RD_PREFETCH(b0 + l + RD_PF);
                RD_LINE(s0, b0 + l); RD_LINE(s1, b0 + l + 16); RD_LINE(s2, b0 + l + 32); RD_LINE(s3, b0 + l + 48);
            }
        else for (l = 0; l < q * 16; l += 16) {
            if (a->prefetch) { RD_PREFETCH(b0 + l + RD_PF); RD_PREFETCH(b1 + l + RD_PF); RD_PREFETCH(b2 + l + RD_PF); RD_PREFETCH(b3 + l + RD_PF); }
            RD_LINE(s0, b0 + l); RD_LINE(s1, b1 + l); RD_LINE(s2, b2 + l); RD_LINE(s3, b3 + l);
        }
        total += RD_SUM(s0) + RD_SUM(s1) + RD_SUM(s2) + RD_SUM(s3);
    }
    a->sink = total;
}

typedef struct fma_arg { int threads; long long iters; volatile float sink; } fma_arg;

/* 12 independent accumulators in named variables (an array can end up in memory) */
#define FMA12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#if defined(__AVX512F__)
typedef __m512 fma_vec;
#define FMA_LANES 16
#define FMA_SET(v) _mm512_set1_ps(v)
#define FMA_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define FMA_ADD(a, b) _mm512_add_ps(a, b)
#define FMA_LANE0(v) _mm512_cvtss_f32(v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 fma_vec;
#define FMA_LANES 8
#define FMA_SET(v) _mm256_set1_ps(v)
#define FMA_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define FMA_ADD(a, b) _mm256_add_ps(a, b)
#define FMA_LANE0(v) _mm256_cvtss_f32(v)
#else
typedef float fma_vec;
#define FMA_LANES 1
#define FMA_SET(v) (v)
#define FMA_FMA(a, b, c) ((a) * (b) + (c))
#define FMA_ADD(a, b) ((a) + (b))
#define FMA_LANE0(v) (v)
#endif

static void fma_once(void *p, int rep) {
    fma_arg *a = (fma_arg *)p;
    float total = 0;
    int t;
    (void)rep;
#ifdef _OPENMP
#pragma omp parallel for num_threads(a->threads) reduction(+ : total) schedule(static, 1)
#endif
    for (t = 0; t < a->threads; t++) {
        const fma_vec m = FMA_SET(0.999999f), c = FMA_SET(1e-7f);
        long long i;
#define FMA_DECL(j) fma_vec v##j = FMA_SET((float)(j + t));
#define FMA_STEP(j) v##j = FMA_FMA(v##j, m, c);
#define FMA_SUM(j) s = FMA_ADD(s, v##j);
        FMA12(FMA_DECL)
        fma_vec s = FMA_SET(0.0f);
        for (i = 0; i < a->iters; i++) { FMA12(FMA_STEP) }
        FMA12(FMA_SUM)
        total += FMA_LANE0(s);
    }
    a->sink = total;
}

static int fma_lanes(void) { return FMA_LANES * 12; }

static void measure_ceilings(bench_env *env) {
    size_t bytes = (size_t)1 << 30;
    read_arg ra;
    fma_arg fa;
    uint32_t *buf = (uint32_t *)lbrx_alloc(NULL, bytes, 4096);
    double ms;
    if (buf) {
        memset(buf, 0, bytes);
        int pf, st;
        ra.buf = buf; ra.n = bytes / 4;
        /* the best of reading with the hardware prefetcher alone and with software prefetch, one
           stream per thread and four */
        for (st = 1; st <= 4; st += 3) {
            double g1 = 0, ga = 0;
            for (pf = 0; pf < 2; pf++) {
                double g;
                ra.prefetch = pf;
                ra.streams = st;
                ra.threads = 1;
                g = (double)bytes / bench_median_ms(5, read_once, &ra) / 1e6;
                if (g > g1) g1 = g;
                if (g > env->read_gbps_1) env->read_gbps_1 = g;
                ra.threads = env->threads;
                g = (double)bytes / bench_median_ms(5, read_once, &ra) / 1e6;
                if (g > ga) ga = g;
                if (g > env->read_gbps_all) { env->read_gbps_all = g; env->read_pf = pf; env->read_streams = st; }
            }
            printf("%sstreaming read, %d stream%s per thread: %.1f GB/s (1 thread), %.1f GB/s (%d threads)\n", env->csv ? "# " : "",
                   st, st > 1 ? "s" : "", g1, ga, env->threads);
        }
        env->read_buf = buf;
    }
    fa.iters = 10000000;
    fa.threads = 1;
    ms = bench_median_ms(5, fma_once, &fa);
    env->fma_gflops_1 = 2.0 * (double)fma_lanes() * (double)fa.iters / ms / 1e6;
    fa.threads = env->threads;
    ms = bench_median_ms(5, fma_once, &fa);
    env->fma_gflops_all = 2.0 * (double)fma_lanes() * (double)fa.iters * env->threads / ms / 1e6;
    printf("%sceilings: streaming read %.1f GB/s (1 thread), %.1f GB/s (%d threads); FMA %.0f GFLOP/s (1 thread), %.0f GFLOP/s (%d threads)\n",
           env->csv ? "# " : "", env->read_gbps_1, env->read_gbps_all, env->threads, env->fma_gflops_1, env->fma_gflops_all, env->threads);
}

/* The streaming read ceiling with all threads, measured now (median of 3): the memory bandwidth
   this shared machine gives drifts by 20% and more within a minute, so each row that streams
   from DRAM is compared with a ceiling measured just before it. */
static double read_ceiling_now(bench_env *env) {
    read_arg ra;
    size_t bytes = (size_t)1 << 30;
    if (!env->read_buf) return env->read_gbps_all;
    ra.buf = env->read_buf; ra.n = bytes / 4; ra.threads = env->threads; ra.prefetch = env->read_pf; ra.streams = env->read_streams;
    return (double)bytes / bench_median_ms(3, read_once, &ra) / 1e6;
}

/* ---- copies of the operands that dram rows rotate through ---- */

/* How many copies of what one call reads (bytes) a row rotates through: 1, or for dram rows
   enough to add up to at least 1 GiB (at least 2), so that no cache holds the next one. */
static int bench_copy_count(size_t bytes, int dram) {
    size_t c = dram ? ((size_t)1 << 30) / bytes + 1 : 1;
    return (int)(dram && c < 2 ? 2 : c);
}

/* Views of `copies` copies of a tensor laid out in `all`, `bytes` each: the first one, which the
   caller filled, is copied into the others. */
static lbrx_tensor *bench_copies(lbrx_dtype dt, int ndim, const int64_t *shape, unsigned char *all, size_t bytes, int copies) {
    lbrx_tensor *t = (lbrx_tensor *)calloc((size_t)copies, sizeof(lbrx_tensor));
    int c;
    if (!t) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (c = 0; c < copies; c++) {
        if (c > 0) memcpy(all + (size_t)c * bytes, all, bytes);
        lbrx_tensor_init_memory(&t[c], dt, ndim, shape, all + (size_t)c * bytes, NULL);
    }
    return t;
}

/* ---- matmul ---- */

typedef struct mm_arg {
    bench_env *env;
    lbrx_tensor *w;        /* copies of the weights (1 unless dram), views of one buffer */
    int copies;
    lbrx_tensor x, y;
    lbrx_matmul_weights *pw;   /* W prepared (lbrx_matmul_weights_create), or NULL for the zero-copy call */
    const unsigned char *wall;
    size_t wbytes;         /* bytes of one copy */
    long long m, n, k;
} mm_arg;

static void mm_once(void *p, int rep) {
    mm_arg *a = (mm_arg *)p;
    lbrx_tensor *w = &a->w[(rep + 1) % a->copies];
    lbrx_result r = a->pw ? lbrx_matmul_prepared(a->env->ctx, a->pw, &a->x, &a->y, NULL) : lbrx_matmul(a->env->ctx, w, &a->x, &a->y, NULL);
    if (r != LBRX_OK) { fprintf(stderr, "lbrx_matmul failed\n"); exit(1); }
}

#ifdef LBRX_BENCH_BLAS
static void blas_once(void *p, int rep) {
    mm_arg *a = (mm_arg *)p;
    const float *w = (const float *)(const void *)(a->wall + (size_t)((rep + 1) % a->copies) * a->wbytes);
    if (a->n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)a->m, (int)a->k, 1.0f, w, (int)a->k, (const float *)a->x.data, 1, 0.0f, (float *)a->y.data, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)a->n, (int)a->m, (int)a->k, 1.0f, (const float *)a->x.data, (int)a->k,
                    w, (int)a->k, 0.0f, (float *)a->y.data, (int)a->m);
}
#endif

/* Where a block's f16 scales lie (a second one: the multiplier of the mins), -1 for none. */
static int scale_fields(lbrx_dtype dt, int at[2]) {
    at[0] = 0; at[1] = -1;
    switch (dt) {
    case LBRX_Q4_1: case LBRX_Q5_1: case LBRX_Q4_K: case LBRX_Q5_K: at[1] = 2; break;
    case LBRX_Q6_K: at[0] = 208; break;
    case LBRX_Q3_K: at[0] = 108; break;
    case LBRX_Q2_K: at[0] = 80; at[1] = 82; break;
    case LBRX_AFFINE_Q4: case LBRX_AFFINE_Q8: at[1] = 4; return 4;   /* f32 d and m */
    default: break;
    }
    return 2;
}

/* Weights of dtype dt from random values in [-0.5, 0.5): float types converted, block types with
   random quant bytes and scales of 1/64 (the benchmark needs the layout, not the values). */
static void fill_weights(lbrx_dtype dt, unsigned char *dst, long long m, long long k) {
    unsigned long long s = 88172645463325252ULL;
    size_t rb = 0, bytes, i;
    float *row = (float *)malloc((size_t)k * sizeof(float));
    long long r, j;
    lbrx_row_bytes(dt, k, &rb);
    bytes = rb * (size_t)m;
    if (!row) { fprintf(stderr, "out of memory\n"); exit(1); }
    if (lbrx_dtype_is_quantized(dt)) {
        size_t bb = lbrx_dtype_block_bytes(dt);
        const float f = 1.0f / 64;
        const uint16_t h = lbrx_f32_to_f16(f);
        int at[2];
        const int width = scale_fields(dt, at);
        const void *scale = width == 4 ? (const void *)&f : (const void *)&h;
        for (i = 0; i < bytes; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; dst[i] = (unsigned char)(s >> 32); }
        for (i = 0; i < bytes; i += bb) {
            memcpy(dst + i + at[0], scale, (size_t)width);
            if (at[1] >= 0) memcpy(dst + i + at[1], scale, (size_t)width);
        }
    } else {
        for (r = 0; r < m; r++) {
            for (j = 0; j < k; j++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; row[j] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5); }
            if (dt == LBRX_F32) memcpy(dst + (size_t)r * rb, row, rb);
            else if (dt == LBRX_F16) lbrx_f32_to_f16_row(row, dst + (size_t)r * rb, (size_t)k);
            else lbrx_f32_to_bf16_row(row, dst + (size_t)r * rb, (size_t)k);
        }
    }
    free(row);
}

/* One row: W [m, k] of dtype dt, x [n, k]; `prepared` times lbrx_matmul_prepared on W prepared
   once beforehand (op "matmul_prepared"; cache rows only) instead of the zero-copy lbrx_matmul.
   `given` (NULL: random weights) holds W's bytes, and `op` / `label` (NULL: "matmul" and dt's
   name) name the row. Returns the median in ms (0 when the row is not selected). */
static double bench_matmul_case(bench_env *env, lbrx_dtype dt, long long m, long long n, long long k, int dram, int prepared,
                                const void *given, const char *op, const char *label) {
    mm_arg a;
    bench_row row;
    int64_t ws[2], xs[2], ys[2];
    unsigned char *wall;
    long long i;
    int c;
    double ms;
    if (!op) op = prepared ? "matmul_prepared" : "matmul";
    if (!label) label = lbrx_dtype_name(dt);
    if (!bench_selected(env, op, label)) return 0;
    memset(&a, 0, sizeof a);
    a.env = env; a.m = m; a.n = n; a.k = k;
    ws[0] = m; ws[1] = k; xs[0] = n; xs[1] = k; ys[0] = n; ys[1] = m;
    lbrx_row_bytes(dt, k, &a.wbytes);
    a.wbytes *= (size_t)m;
    a.copies = bench_copy_count(a.wbytes, dram);
    wall = (unsigned char *)lbrx_alloc(NULL, a.wbytes * (size_t)a.copies, 4096);
    if (!wall) { fprintf(stderr, "out of memory for %d copies of %zu bytes\n", a.copies, a.wbytes); exit(1); }
    if (given) memcpy(wall, given, a.wbytes);
    else fill_weights(dt, wall, m, k);
    a.w = bench_copies(dt, 2, ws, wall, a.wbytes, a.copies);
    a.wall = wall;
    lbrx_tensor_init_heap(&a.x, LBRX_F32, 2, xs, NULL, NULL);
    lbrx_tensor_init_heap(&a.y, LBRX_F32, 2, ys, NULL, NULL);
    for (i = 0; i < n * k; i++) ((float *)a.x.data)[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    if (prepared && lbrx_matmul_weights_create(&a.pw, &a.w[0], NULL, NULL) != LBRX_OK) { fprintf(stderr, "lbrx_matmul_weights_create failed\n"); exit(1); }
    memset(&row, 0, sizeof row);
    row.op = op; row.dtype = label; row.m = m; row.n = n; row.k = k; row.dram = dram;
    row.ceiling = n > 8 ? env->fma_gflops_all : dram ? read_ceiling_now(env) : env->read_gbps_all;
    row.median_ms = bench_median_ms(env->reps, mm_once, &a);
    row.gflops = 2.0 * (double)m * (double)n * (double)k / row.median_ms / 1e6;
    row.gbps = (double)a.wbytes / row.median_ms / 1e6;
    row.frac = n <= 8 ? row.gbps / row.ceiling : row.gflops / row.ceiling;
    row.peer = "none";
#ifdef LBRX_BENCH_BLAS
    if (dt == LBRX_F32) {
        openblas_set_num_threads(env->threads);
        row.peer = "openblas";
        row.peer_ms = bench_median_ms(env->reps, blas_once, &a);
    }
#endif
    bench_emit(env, &row);
    ms = row.median_ms;
    lbrx_matmul_weights_destroy(a.pw);
    for (c = 0; c < a.copies; c++) lbrx_tensor_release(&a.w[c]);
    lbrx_tensor_release(&a.x);
    lbrx_tensor_release(&a.y);
    lbrx_free(NULL, wall);
    free(a.w);
    return ms;
}

static void bench_matmul(bench_env *env) {
    /* lbrx's affine blocks (AWQ/GPTQ/MLX checkpoints, lbrx_affine_repack) next to Q4_1 */
    static const lbrx_dtype dts[] = { LBRX_F32, LBRX_F16, LBRX_BF16, LBRX_Q8_0, LBRX_Q4_0, LBRX_Q4_1, LBRX_AFFINE_Q4, LBRX_AFFINE_Q8,
                                      LBRX_Q4_K, LBRX_Q5_K, LBRX_Q6_K, LBRX_IQ4_XS, LBRX_Q3_K, LBRX_Q2_K };
    size_t d;
    for (d = 0; d < sizeof dts / sizeof dts[0]; d++) {
        bench_matmul_case(env, dts[d], 4096, 1, 4096, 0, 0, NULL, NULL, NULL);
        bench_matmul_case(env, dts[d], 4096, 1, 4096, 1, 0, NULL, NULL, NULL);
        bench_matmul_case(env, dts[d], 14336, 1, 4096, 1, 0, NULL, NULL, NULL);
        bench_matmul_case(env, dts[d], 4096, 1, 14336, 1, 0, NULL, NULL, NULL);
        bench_matmul_case(env, dts[d], 4096, 512, 4096, 0, 0, NULL, NULL, NULL);
        if (d < 3) bench_matmul_case(env, dts[d], 4096, 512, 4096, 0, 1, NULL, NULL, NULL);   /* float weights can be prepared */
    }
}

/* Affine group quantization (op "affine"): an MLX 4-bit weight [4096, 4096] in groups of 64
   (random integers, f16 scales and biases) repacked into Q4_1 by lbrx_affine_to_q4_1 (row
   "affine_repack": its time once, GB/s of the packed input), then lbrx_matmul on the Q4_1
   (label mlx4>q4_1) and on the same weights dequantized to F32 (label mlx4>f32), at n = 1 from
   DRAM and n = 512; a line gives the ratio of each pair. */
static void bench_affine(bench_env *env) {
    const long long m = 4096, k = 4096, group = 64;
    static const long long ns[2] = { 1, 512 };
    int64_t ws[2], ss[2];
    lbrx_tensor w, sc, bi, q, f;
    lbrx_affine a;
    unsigned long long s = 0x9E3779B97F4A7C15ULL;
    long long i;
    int c, ok;
    double t0, repack_ms;
    bench_row row;
    if (!bench_selected(env, "affine_repack", "mlx4>q4_1") && !bench_selected(env, "affine", "mlx4>f32")) return;
    ws[0] = m; ws[1] = k / 8; ss[0] = m; ss[1] = k / group;
    ok = lbrx_tensor_init_heap(&w, LBRX_U32, 2, ws, NULL, NULL) == LBRX_OK && lbrx_tensor_init_heap(&sc, LBRX_F16, 2, ss, NULL, NULL) == LBRX_OK &&
         lbrx_tensor_init_heap(&bi, LBRX_F16, 2, ss, NULL, NULL) == LBRX_OK;
    if (!ok) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (i = 0; i < m * k / 8; i++) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; ((uint32_t *)w.data)[i] = (uint32_t)(s >> 32); }
    for (i = 0; i < m * k / group; i++) {
        ((uint16_t *)sc.data)[i] = lbrx_f32_to_f16(1.0f / 64);
        ((uint16_t *)bi.data)[i] = lbrx_f32_to_f16(-8.0f / 64);
    }
    if (lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, group, &w, &sc, &bi, NULL, NULL) != LBRX_OK) { fprintf(stderr, "lbrx_affine_init failed\n"); exit(1); }
    t0 = now_s();
    ok = lbrx_affine_to_q4_1(&a, &q, NULL, NULL, NULL) == LBRX_OK;
    repack_ms = (now_s() - t0) * 1e3;
    ws[1] = k;
    ok = ok && lbrx_tensor_init_heap(&f, LBRX_F32, 2, ws, NULL, NULL) == LBRX_OK && lbrx_affine_dequantize_rows(&a, 0, m, (float *)f.data, NULL) == LBRX_OK;
    if (!ok) { fprintf(stderr, "affine repack failed\n"); exit(1); }
    memset(&row, 0, sizeof row);
    row.op = "affine_repack"; row.dtype = "mlx4>q4_1"; row.m = m; row.k = k;
    row.median_ms = repack_ms;
    row.gbps = (double)(m * k / 2) / repack_ms / 1e6;
    row.ceiling = env->read_gbps_1;
    row.frac = row.gbps / row.ceiling;
    if (bench_selected(env, "affine_repack", "mlx4>q4_1")) bench_emit(env, &row);
    for (c = 0; c < 2; c++) {
        double tq = bench_matmul_case(env, LBRX_Q4_1, m, ns[c], k, ns[c] == 1, 0, q.data, "affine", "mlx4>q4_1");
        double tf = bench_matmul_case(env, LBRX_F32, m, ns[c], k, ns[c] == 1, 0, f.data, "affine", "mlx4>f32");
        if (tq > 0 && tf > 0) printf("%saffine n=%lld: the Q4_1 repack takes %.2fx the time of F32\n", env->csv ? "# " : "", ns[c], tq / tf);
    }
    lbrx_affine_release(&a);
    lbrx_tensor_release(&w); lbrx_tensor_release(&sc); lbrx_tensor_release(&bi); lbrx_tensor_release(&q); lbrx_tensor_release(&f);
}

/* The shape sweep (--sweep): W [out, k] of every weight dtype of lbrx_matmul (the k that are a
   multiple of its block) against n = 1 and 64 rows of x, one copy of the weights (read from the
   caches when they fit). */
static void bench_sweep(bench_env *env) {
    static const lbrx_dtype dts[15] = { LBRX_F32, LBRX_F16, LBRX_BF16, LBRX_Q8_0, LBRX_Q4_0, LBRX_Q4_1, LBRX_IQ4_NL, LBRX_Q5_0, LBRX_Q5_1,
                                        LBRX_Q4_K, LBRX_Q5_K, LBRX_Q6_K, LBRX_IQ4_XS, LBRX_Q3_K, LBRX_Q2_K };
    static const long long ks[7] = { 8, 32, 128, 512, 2048, 4096, 16384 }, outs[7] = { 1, 8, 64, 512, 4096, 32768, 131072 };
    static const long long ns[2] = { 1, 64 };
    double worst = 2;
    char worst_row[160] = "";
    int d, a, b, c;
    for (d = 0; d < 15; d++)
        for (a = 0; a < 7; a++)
            for (b = 0; b < 7; b++)
                for (c = 0; c < 2; c++) {
                    const lbrx_dtype dt = dts[d];
                    const long long k = ks[a], out = outs[b], n = ns[c];
                    size_t rb = 0, wbytes;
                    double bytes;
                    mm_arg m;
                    bench_row row;
                    unsigned char *wall;
                    int64_t ws[2], xs[2], ys[2];
                    double t_ideal, fb, ff;
                    long long i;
                    if (!bench_selected(env, "sweep", lbrx_dtype_name(dt))) continue;
                    if (k % (long long)lbrx_dtype_block_size(dt)) continue;
                    lbrx_row_bytes(dt, k, &rb);
                    wbytes = rb * (size_t)out;
                    if (wbytes > ((size_t)1 << 28)) continue;   /* at most 256 MiB of weights */
                    bytes = (double)wbytes + 4.0 * (double)n * (double)(k + out);   /* W, x and y */
                    memset(&m, 0, sizeof m);
                    m.env = env; m.m = out; m.n = n; m.k = k; m.copies = 1; m.wbytes = wbytes;
                    ws[0] = out; ws[1] = k; xs[0] = n; xs[1] = k; ys[0] = n; ys[1] = out;
                    wall = (unsigned char *)lbrx_alloc(NULL, wbytes, 4096);
                    if (!wall) { fprintf(stderr, "out of memory for %zu bytes\n", wbytes); exit(1); }
                    fill_weights(dt, wall, out, k);
                    m.w = bench_copies(dt, 2, ws, wall, wbytes, 1);
                    m.wall = wall;
                    lbrx_tensor_init_heap(&m.x, LBRX_F32, 2, xs, NULL, NULL);
                    lbrx_tensor_init_heap(&m.y, LBRX_F32, 2, ys, NULL, NULL);
                    for (i = 0; i < n * k; i++) ((float *)m.x.data)[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
                    memset(&row, 0, sizeof row);
                    row.op = "sweep"; row.dtype = lbrx_dtype_name(dt); row.m = out; row.n = n; row.k = k;
                    row.dram = wbytes > ((size_t)64 << 20);
                    row.median_ms = bench_median_ms(env->reps, mm_once, &m);
                    row.gflops = 2.0 * (double)out * (double)n * (double)k / row.median_ms / 1e6;
                    row.gbps = bytes / row.median_ms / 1e6;
                    fb = row.gbps / env->read_gbps_all;
                    ff = row.gflops / env->fma_gflops_all;
                    row.frac = fb > ff ? fb : ff;
                    row.ceiling = fb > ff ? env->read_gbps_all : env->fma_gflops_all;
                    row.peer = "none";
                    bench_emit(env, &row);
                    t_ideal = fb > ff ? bytes / env->read_gbps_all / 1e6 : 2.0 * (double)out * (double)n * (double)k / env->fma_gflops_all / 1e6;
                    if (t_ideal >= 0.02 && row.frac < worst) {
                        worst = row.frac;
                        snprintf(worst_row, sizeof worst_row, "%s out=%lld n=%lld k=%lld: %.3f ms, %.1f%% of %.1f", row.dtype, out, n, k,
                                 row.median_ms, 100 * row.frac, row.ceiling);
                    }
                    lbrx_tensor_release(&m.w[0]);
                    lbrx_tensor_release(&m.x);
                    lbrx_tensor_release(&m.y);
                    lbrx_free(NULL, wall);
                    free(m.w);
                }
    if (worst_row[0]) printf("%sworst (ideal time >= 20 us): %s\n", env->csv ? "# " : "", worst_row);
}

/* ---- attention ---- */

typedef struct attn_arg {
    bench_env *env;
    lbrx_tensor q, out;
    lbrx_tensor *k, *v;    /* copies of the KV cache (1 unless dram), views of one buffer each */
    int copies;
    lbrx_attention_desc desc;
} attn_arg;

static void attn_once(void *p, int rep) {
    attn_arg *a = (attn_arg *)p;
    int c = (rep + 1) % a->copies;
    if (lbrx_attention(a->env->ctx, &a->q, &a->k[c], &a->v[c], &a->desc, &a->out, NULL) != LBRX_OK) {
        fprintf(stderr, "lbrx_attention failed\n");
        exit(1);
    }
}

/* Llama-3-8B heads: 32 query heads, 8 KV heads, head_dim 128, an f16 KV cache. Row columns:
   m = n_q, n = n_kv, k = head_dim. GB/s counts the K and V bytes (each read once); GFLOP/s counts
   4 * head_dim * n_head per (query, visible key) pair: all n_q * n_kv pairs for "attention",
   only the causally visible ones for "attention_causal". Decode rows (n_q = 1, and n_q = 4: a
   few tokens at once, as speculative decoding checks them) are "dram" rows: a model reads every
   layer's cache once per step, so none of it is in the cache; they rotate through copies of K
   and V that add up to at least 1 GiB. */
static void bench_attention_case(bench_env *env, long long n_q, long long n_kv, int causal) {
    const long long n_head = 32, n_kv_head = 8, d = 128;
    const char *op = causal && n_q > 1 ? "attention_causal" : "attention";
    const size_t kv_bytes = (size_t)n_kv * (size_t)(n_kv_head * d) * 2;
    const int decode = n_q <= 4;
    int64_t qs[3], ks[3];
    attn_arg a;
    bench_row row;
    double pairs;
    unsigned char *kall, *vall;
    long long i;
    int c;
    if (!bench_selected(env, op, "f16") && !(decode && bench_selected(env, "attention_decode", "f16"))) return;
    memset(&a, 0, sizeof a);
    a.env = env;
    a.desc.causal = causal;
    a.copies = bench_copy_count(2 * kv_bytes, decode);
    qs[0] = n_q; qs[1] = n_head; qs[2] = d;
    ks[0] = n_kv; ks[1] = n_kv_head; ks[2] = d;
    kall = (unsigned char *)lbrx_alloc(NULL, kv_bytes * (size_t)a.copies, 4096);
    vall = (unsigned char *)lbrx_alloc(NULL, kv_bytes * (size_t)a.copies, 4096);
    if (lbrx_tensor_init_heap(&a.q, LBRX_F32, 3, qs, NULL, NULL) != LBRX_OK || lbrx_tensor_init_heap(&a.out, LBRX_F32, 3, qs, NULL, NULL) != LBRX_OK ||
        !kall || !vall) {
        fprintf(stderr, "out of memory for attention n_q %lld n_kv %lld\n", n_q, n_kv);
        exit(1);
    }
    for (i = 0; i < n_q * n_head * d; i++) ((float *)a.q.data)[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (i = 0; i < n_kv * n_kv_head * d; i++) {
        uint16_t hk = lbrx_f32_to_f16((float)((i * 104729) % 1000) / 1000.0f - 0.5f), hv = lbrx_f32_to_f16((float)((i * 13) % 1000) / 1000.0f - 0.5f);
        memcpy(kall + 2 * i, &hk, 2);
        memcpy(vall + 2 * i, &hv, 2);
    }
    a.k = bench_copies(LBRX_F16, 3, ks, kall, kv_bytes, a.copies);
    a.v = bench_copies(LBRX_F16, 3, ks, vall, kv_bytes, a.copies);
    /* query i sits at position n_kv - n_q + i and sees keys 0 .. that position */
    pairs = causal ? (double)n_q * (double)(n_kv - n_q) + 0.5 * (double)n_q * (double)(n_q + 1) : (double)n_q * (double)n_kv;
    memset(&row, 0, sizeof row);
    row.op = op; row.dtype = "f16"; row.m = n_q; row.n = n_kv; row.k = d; row.dram = decode;
    row.ceiling = decode ? read_ceiling_now(env) : env->fma_gflops_all;
    row.median_ms = bench_median_ms(env->reps, attn_once, &a);
    row.gflops = 4.0 * (double)d * (double)n_head * pairs / row.median_ms / 1e6;
    row.gbps = 2.0 * (double)n_kv * (double)n_kv_head * (double)d * 2.0 / row.median_ms / 1e6;
    row.frac = decode ? row.gbps / row.ceiling : row.gflops / row.ceiling;
    row.peer = "none";
    bench_emit(env, &row);
    for (c = 0; c < a.copies; c++) { lbrx_tensor_release(&a.k[c]); lbrx_tensor_release(&a.v[c]); }
    free(a.k); free(a.v);
    lbrx_free(NULL, kall); lbrx_free(NULL, vall);
    lbrx_tensor_release(&a.q); lbrx_tensor_release(&a.out);
}

static void bench_attention(bench_env *env) {
    static const long long decode[4] = { 512, 2048, 4096, 16384 }, prefill[2] = { 512, 2048 };
    int i;
    for (i = 0; i < 4; i++) bench_attention_case(env, 1, decode[i], 1);
    bench_attention_case(env, 4, 4096, 1);
    for (i = 0; i < 2; i++) bench_attention_case(env, prefill[i], prefill[i], 0);
    for (i = 0; i < 2; i++) bench_attention_case(env, prefill[i], prefill[i], 1);
}

/* ---- row-wise ops and row conversions ----
   The row-wise ops at the sizes of a Llama-3-8B layer (op "ops", dtype the op's name; m =
   tokens, n = the row): rms_norm, softmax and add over [m, 4096], silu over [m, 14336], rope over
   [m, 32, 128]; m = 1 (one decoded token: their fixed cost) and 64. And the row conversions of
   256 Ki values (op "convert": f16, bf16 and q8_0 to f32, f32 to f16, bf16, q8_0 and q6_K). From
   cache; GB/s counts the bytes read and written. */
typedef struct ops_arg ops_arg;
typedef lbrx_result (*ops_fn)(ops_arg *a);
struct ops_arg {
    bench_env *env;
    const char *name;
    ops_fn run;           /* the operation timed, chosen with its row */
    lbrx_tensor x, y, w;
    void *src;            /* conversions: n values in the narrow type (the input, or the output of f32>X) */
    float *dst;           /* and n floats (the output, or the input of f32>X) */
    long long n;
};

static lbrx_result ops_rms_norm(ops_arg *a) { return lbrx_rms_norm(a->env->ctx, &a->x, &a->w, 1e-5f, &a->y, NULL); }
static lbrx_result ops_softmax(ops_arg *a) { return lbrx_softmax(a->env->ctx, &a->x, &a->y, NULL); }
static lbrx_result ops_add(ops_arg *a) { return lbrx_add(a->env->ctx, &a->x, &a->x, &a->y, NULL); }
static lbrx_result ops_silu(ops_arg *a) { return lbrx_silu(a->env->ctx, &a->x, &a->y, NULL); }
static lbrx_result ops_rope(ops_arg *a) {
    lbrx_rope_desc d;
    memset(&d, 0, sizeof d);
    d.mode = LBRX_ROPE_NEOX;
    d.pos_offset = 100;
    return lbrx_rope(a->env->ctx, &a->x, &d, &a->y, NULL);
}
static lbrx_result conv_f16_f32(ops_arg *a) { lbrx_f16_to_f32_row(a->src, a->dst, (size_t)a->n); return LBRX_OK; }
static lbrx_result conv_bf16_f32(ops_arg *a) { lbrx_bf16_to_f32_row(a->src, a->dst, (size_t)a->n); return LBRX_OK; }
static lbrx_result conv_q8_0_f32(ops_arg *a) { return lbrx_dequantize_row(LBRX_Q8_0, a->src, a->dst, a->n); }
static lbrx_result conv_f32_f16(ops_arg *a) { lbrx_f32_to_f16_row(a->dst, a->src, (size_t)a->n); return LBRX_OK; }
static lbrx_result conv_f32_bf16(ops_arg *a) { lbrx_f32_to_bf16_row(a->dst, a->src, (size_t)a->n); return LBRX_OK; }
static lbrx_result conv_f32_q8_0(ops_arg *a) { lbrx_quantize_row_q8_0(a->dst, a->src, a->n); return LBRX_OK; }
static lbrx_result conv_f32_q6_k(ops_arg *a) { lbrx_quantize_row_q6_k(a->dst, a->src, a->n); return LBRX_OK; }

static void ops_once(void *p, int rep) {
    ops_arg *a = (ops_arg *)p;
    (void)rep;
    if (a->run(a) != LBRX_OK) {
        fprintf(stderr, "bench ops %s failed\n", a->name);
        exit(1);
    }
}

static void bench_ops(bench_env *env) {
    static const struct { const char *name; ops_fn run; long long n, heads; } ops[] = {
        { "rms_norm", ops_rms_norm, 4096, 1 }, { "softmax", ops_softmax, 4096, 1 }, { "add", ops_add, 4096, 1 },
        { "silu", ops_silu, 14336, 1 }, { "rope", ops_rope, 128, 32 } };
    /* fill: what writes src before the timing (the narrow input, or a first f32>X output) */
    static const struct { const char *name; ops_fn run, fill; double in_bytes; } convs[] = {
        { "f16>f32", conv_f16_f32, conv_f32_f16, 2.0 }, { "bf16>f32", conv_bf16_f32, conv_f32_bf16, 2.0 },
        { "q8_0>f32", conv_q8_0_f32, conv_f32_q8_0, 34.0 / 32.0 }, { "f32>f16", conv_f32_f16, conv_f32_f16, 2.0 },
        { "f32>bf16", conv_f32_bf16, conv_f32_bf16, 2.0 }, { "f32>q8_0", conv_f32_q8_0, conv_f32_q8_0, 34.0 / 32.0 },
        { "f32>q6_K", conv_f32_q6_k, conv_f32_q6_k, 210.0 / 256.0 } };
    static const long long ms[2] = { 1, 64 };
    size_t i, j;
    long long e;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        for (j = 0; j < 2; j++) {
            int64_t shape[3], wshape[1];
            ops_arg a;
            bench_row row;
            long long count = ms[j] * ops[i].heads * ops[i].n;
            if (!bench_selected(env, "ops", ops[i].name)) continue;
            memset(&a, 0, sizeof a);
            a.env = env;
            a.name = ops[i].name;
            a.run = ops[i].run;
            shape[0] = ms[j]; shape[1] = ops[i].heads; shape[2] = ops[i].n;
            if (ops[i].heads == 1) shape[1] = ops[i].n;
            wshape[0] = ops[i].n;
            if (lbrx_tensor_init_heap(&a.x, LBRX_F32, ops[i].heads == 1 ? 2 : 3, shape, NULL, NULL) != LBRX_OK ||
                lbrx_tensor_init_heap(&a.y, LBRX_F32, ops[i].heads == 1 ? 2 : 3, shape, NULL, NULL) != LBRX_OK ||
                lbrx_tensor_init_heap(&a.w, LBRX_F32, 1, wshape, NULL, NULL) != LBRX_OK) {
                fprintf(stderr, "out of memory for ops %s\n", a.name);
                exit(1);
            }
            for (e = 0; e < count; e++) ((float *)a.x.data)[e] = (float)((e * 7919) % 1000) / 250.0f - 2.0f;
            for (e = 0; e < ops[i].n; e++) ((float *)a.w.data)[e] = 1.0f + (float)(e % 7) / 7.0f;
            memset(&row, 0, sizeof row);
            row.op = "ops"; row.dtype = a.name; row.m = ms[j]; row.n = ops[i].heads * ops[i].n;
            row.median_ms = bench_median_ms(env->reps, ops_once, &a);
            row.gbps = 8.0 * (double)count / row.median_ms / 1e6;
            row.peer = "none";
            bench_emit(env, &row);
            lbrx_tensor_release(&a.x); lbrx_tensor_release(&a.y); lbrx_tensor_release(&a.w);
        }
    }
    for (i = 0; i < sizeof convs / sizeof convs[0]; i++) {
        const long long n = 256 * 1024;
        ops_arg a;
        bench_row row;
        if (!bench_selected(env, "convert", convs[i].name)) continue;
        memset(&a, 0, sizeof a);
        a.env = env;
        a.name = convs[i].name;
        a.run = convs[i].run;
        a.n = n;
        a.src = lbrx_alloc(NULL, (size_t)n * 2, 64);
        a.dst = (float *)lbrx_alloc(NULL, (size_t)n * 4, 64);
        if (!a.src || !a.dst) { fprintf(stderr, "out of memory for convert\n"); exit(1); }
        for (e = 0; e < n; e++) a.dst[e] = (float)((e * 7919) % 1000) / 250.0f - 2.0f;
        convs[i].fill(&a);
        memset(&row, 0, sizeof row);
        row.op = "convert"; row.dtype = a.name; row.m = 1; row.n = n;
        row.median_ms = bench_median_ms(env->reps, ops_once, &a);
        row.gbps = (convs[i].in_bytes + 4.0) * (double)n / row.median_ms / 1e6;
        row.peer = "none";
        bench_emit(env, &row);
        lbrx_free(NULL, a.src);
        lbrx_free(NULL, a.dst);
    }
}

/* ---- tokenizers ----
   Encoding text on one thread (op "tokenizer", m = bytes of text, n = ids; gbps is the text rate
   in GB/s): the Llama 3 and Qwen 3 tokenizer.json files and Llama 2's SentencePiece GGUF of
   ../shared/data, over this repository's sources and documents (English prose and C, about
   0.8 MB, not repeated) and llama.cpp's multilingual tokenizer test strings. Skipped when
   ../shared/data is absent. */
typedef struct tok_arg { const lbrx_tokenizer *t; const char *text; size_t len, n; } tok_arg;

static void tok_run(void *p, int rep) {
    tok_arg *a = (tok_arg *)p;
    int32_t *ids = NULL;
    (void)rep;
    if (lbrx_tokenizer_encode(a->t, a->text, a->len, 0, &ids, &a->n, NULL) != LBRX_OK) a->n = 0;
    free(ids);
}

static void bench_tokenizer(bench_env *env) {
    static const char *const corpus[] = { "lbrx.h", "lbrx_gguf.h", "lbrx_safetensors.h", "README.md", "SECURITY.md",
        "examples/llama.c", "examples/convert.c", "examples/bench.c", "examples/demo.c", "examples/lbrx_tokenizer.h",
        "bench/RESULTS.md", "../shared/SPECS.md", "../shared/DESIGN.md", "../shared/CONVENTIONS.md",
        "../shared/data/llama.cpp/v3/ggml-vocab-gpt-2.gguf.inp" };
    static const struct { const char *name, *path; } toks[] = {
        { "bpe-llama3", "../shared/data/tokenizers/llama3/tokenizer.json" },
        { "bpe-qwen3", "../shared/data/tokenizers/qwen3/tokenizer.json" },
        { "bpe-gpt2", "../shared/data/llama.cpp/v3/ggml-vocab-gpt-2.gguf" },
        { "spm-llama", "../shared/data/llama.cpp/v3/ggml-vocab-llama-spm.gguf" } };
    char *text = NULL;
    size_t len = 0, i;
    if (!bench_selected(env, "tokenizer", "bpe spm")) return;
    for (i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        FILE *f = fopen(corpus[i], "rb");
        char *grown;
        long n;
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        grown = n > 0 ? (char *)realloc(text, len + (size_t)n) : NULL;
        if (grown) { text = grown; len += fread(text + len, 1, (size_t)n, f); }
        fclose(f);
    }
    for (i = 0; text && i < sizeof toks / sizeof toks[0]; i++) {
        lbrx_tokenizer t;
        lbrx_error err;
        tok_arg a;
        bench_row r;
        if (lbrx_tokenizer_init_file(&t, toks[i].path, &err) != LBRX_OK) {
            fprintf(stderr, "bench tokenizer %s: skipped (%s)\n", toks[i].name, err.message);
            continue;
        }
        a.t = &t; a.text = text; a.len = len; a.n = 0;
        memset(&r, 0, sizeof r);
        r.op = "tokenizer"; r.dtype = toks[i].name; r.m = (long long)len;
        r.median_ms = bench_median_ms(env->reps, tok_run, &a);
        r.n = (long long)a.n;
        r.gbps = (double)len / (r.median_ms * 1e6);
        if (env->csv) {
            printf("tokenizer,%s,%lld,%lld,0,1,0,%.4f,0,%.5f,none,0,0,0,0\n", r.dtype, r.m, r.n, r.median_ms, r.gbps);
        } else {
            printf("%-9s %-10s %lld bytes -> %lld ids, 1 thread: %9.3f ms  %6.1f MB/s\n", r.op, r.dtype, r.m, r.n, r.median_ms, r.gbps * 1e3);
        }
        fflush(stdout);
        lbrx_tokenizer_release(&t);
    }
    free(text);
}

int main(int argc, char **argv) {
    bench_env env;
    int i;
    memset(&env, 0, sizeof env);
    env.reps = 9;
#ifdef _OPENMP
    env.threads = omp_get_num_procs();
#else
    env.threads = 1;
#endif
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) env.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--csv")) env.csv = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) env.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) env.only = argv[++i];
        else if (!strcmp(argv[i], "--cpu-time")) use_cpu_time = 1;
        else if (!strcmp(argv[i], "--sweep")) env.sweep = 1;
        else { fprintf(stderr, "usage: %s [--threads N] [--csv] [--reps N] [--only WORD] [--cpu-time] [--sweep]\n", argv[0]); return 2; }
    }
    if (env.threads < 1) env.threads = 1;
    {
        lbrx_context_desc cd;
        memset(&cd, 0, sizeof cd);
        cd.n_threads = env.threads;
        if (lbrx_context_create(&env.ctx, &cd, NULL) != LBRX_OK) return 1;
    }
    measure_ceilings(&env);
    if (env.csv) printf("op,dtype,m,n,k,threads,dram,median_ms,gflops,gbps,peer,peer_ms,ratio,frac,ceiling\n");
    if (env.sweep) bench_sweep(&env);
    else {
        bench_matmul(&env);
        bench_affine(&env);
        bench_attention(&env);
        bench_ops(&env);
        bench_tokenizer(&env);
    }
    lbrx_context_destroy(env.ctx);
    lbrx_free(NULL, (void *)env.read_buf);
    return 0;
}
