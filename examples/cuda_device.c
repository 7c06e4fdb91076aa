/* cuda_device.c - lbrx's device interface (lbrx_device) implemented with the CUDA runtime, and
   an end-to-end check on a real GPU:

   1. f32 activations and F32 / Q8_0 / Q4_0 weights made on the CPU go to the GPU through
      lbrx_device_upload (buffers from a lbrx_device_pool), are multiplied there (cuBLAS sgemm;
      block weights are first dequantized by the kernels in cuda_device_kernels.cu), and the
      result comes back through lbrx_device_to_host. It is compared with lbrx_matmul on the CPU
      and with a float64 reference. Strided views (column slices) go through the same path.
   2. A GGUF file larger than 1 GiB of Q8_0 weights is written (lbrx_gguf_writer) and opened
      (lbrx_gguf_open). A plain cudaMemcpy of its bytes (pageable) is timed; then all of them
      are registered once with cudaHostRegister through lbrx_device_wrap (nothing copied; the
      registration itself is timed, it pins every page), the same cudaMemcpy is timed from the
      registered pages and from a cudaMallocHost buffer, and one weight (a lbrx_device_view of
      the registered bytes) is multiplied by the GPU twice: with the dequantize kernel reading it
      in place over the bus (zero-copy), and after lbrx_device_upload. Both are checked against
      lbrx_matmul on the same weight and a float64 reference.

      The bytes are, by default, the file read into page-aligned heap memory ("heap"); "map"
      registers the read-only mapping of the file just written, and "existing" maps a file
      already at that path (one this example wrote before, e.g. copied) without writing or
      removing it. On the H100 machine of bench/RESULTS.md cudaHostRegister does not return
      for the mapping of the file just written (the thread stays runnable, in and out of
      poll(), with no page pinned), not even after its pages were dropped from the page cache
      and read back, nor in a fresh process; yet a cp or dd copy of the same bytes registers
      (1.26 GiB in 0.98 s) and so does a heap copy (0.08 s). So "map" is opt-in (llama.cpp also
      keeps its mmap + cudaHostRegister path off by default); run it under `timeout`.

   Build on a machine with the CUDA toolkit (not part of `make test`):
       make cuda
   which runs
       nvcc -O2 -I. -Xcompiler -fopenmp,-march=native examples/cuda_device.c \
            examples/cuda_device_kernels.cu -o build/cuda_device -lcublas -lgomp
   Run: ./build/cuda_device [all|products|big] [big-file-path [GiB [heap|map|existing [alignment]]]]
        (default: all, /tmp/lbrx_cuda_big.gguf, 1.2 GiB, heap, general.alignment 32) */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <cuda_runtime_api.h>
#include <cublas_v2.h>

/* from cuda_device_kernels.cu */
cudaError_t cudadev_dequantize(int dtype, const void *blocks, float *out, int64_t n, cudaStream_t stream);

/* ---- the lbrx_device table over the CUDA runtime ---------------------------------------- */

#define CUDADEV_MAX_WRAPS 64

typedef struct cudadev {
    uint64_t allocs, frees, uploads, upload_bytes, downloads, download_bytes, wraps, unwraps;
    struct { void *device_ptr, *host; } wrapped[CUDADEV_MAX_WRAPS];  /* for cudaHostUnregister */
    int read_only_ok;  /* cudaDevAttrHostRegisterReadOnlySupported */
} cudadev;

/* Fill err with "what (bytes): CUDA's own words". */
static lbrx_result cudadev_fail(lbrx_error *err, lbrx_result r, cudaError_t e, const char *what, size_t bytes) {
    return lbrx_error_set(err, r, LBRX_NO_OFFSET, "%s (%zu bytes): %s", what, bytes, cudaGetErrorString(e));
}

static lbrx_result cudadev_alloc(void *user, size_t size, void **buffer, lbrx_error *err) {
    cudaError_t e = cudaMalloc(buffer, size);
    if (e != cudaSuccess)
        return cudadev_fail(err, e == cudaErrorMemoryAllocation ? LBRX_ERR_OUT_OF_MEMORY : LBRX_ERR_IO, e, "cudaMalloc", size);
    ((cudadev *)user)->allocs++;
    return LBRX_OK;
}

static void cudadev_free(void *user, void *buffer) {
    cudaFree(buffer);
    ((cudadev *)user)->frees++;
}

static lbrx_result cudadev_upload(void *user, void *buffer, size_t offset, const void *src, size_t size, lbrx_error *err) {
    cudadev *c = (cudadev *)user;
    cudaError_t e = cudaMemcpy((char *)buffer + offset, src, size, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) return cudadev_fail(err, LBRX_ERR_IO, e, "cudaMemcpy to the device", size);
    c->uploads++;
    c->upload_bytes += size;
    return LBRX_OK;
}

static lbrx_result cudadev_download(void *user, void *buffer, size_t offset, void *dst, size_t size, lbrx_error *err) {
    cudadev *c = (cudadev *)user;
    cudaError_t e = cudaMemcpy(dst, (const char *)buffer + offset, size, cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) return cudadev_fail(err, LBRX_ERR_IO, e, "cudaMemcpy to the host", size);
    c->downloads++;
    c->download_bytes += size;
    return LBRX_OK;
}

/* Page-lock host memory in place and hand out its device address: kernels read it over the
   bus, and cudaMemcpy from it runs as DMA without a staging copy. A read-only mapping needs
   cudaHostRegisterReadOnly, or the driver would ask for write access to the file's pages. */
static lbrx_result cudadev_wrap(void *user, void *base, size_t size, int writable, void **buffer, lbrx_error *err) {
    cudadev *c = (cudadev *)user;
    unsigned int flags = cudaHostRegisterMapped | cudaHostRegisterPortable;
    cudaError_t e;
    void *dptr = NULL;
    int slot;
    for (slot = 0; slot < CUDADEV_MAX_WRAPS && c->wrapped[slot].host; slot++) {}
    if (slot == CUDADEV_MAX_WRAPS)
        return cudadev_fail(err, LBRX_ERR_LIMIT, cudaErrorInvalidValue, "wrap: every slot of the table in use", size);
    if (!writable) {
        if (!c->read_only_ok)
            return cudadev_fail(err, LBRX_ERR_UNSUPPORTED, cudaErrorNotSupported, "cudaHostRegisterReadOnly of a read-only mapping", size);
        flags |= cudaHostRegisterReadOnly;
    }
    e = cudaHostRegister(base, size, flags);
    if (e != cudaSuccess) return cudadev_fail(err, LBRX_ERR_IO, e, "cudaHostRegister", size);
    e = cudaHostGetDevicePointer(&dptr, base, 0);
    if (e != cudaSuccess) {
        cudaHostUnregister(base);
        return cudadev_fail(err, LBRX_ERR_IO, e, "cudaHostGetDevicePointer", size);
    }
    c->wrapped[slot].device_ptr = dptr;
    c->wrapped[slot].host = base;
    c->wraps++;
    *buffer = dptr;
    return LBRX_OK;
}

static void cudadev_unwrap(void *user, void *buffer) {
    cudadev *c = (cudadev *)user;
    int i;
    for (i = 0; i < CUDADEV_MAX_WRAPS; i++) {
        if (c->wrapped[i].host && c->wrapped[i].device_ptr == buffer) {
            cudaHostUnregister(c->wrapped[i].host);
            c->wrapped[i].host = NULL;
            c->unwraps++;
            return;
        }
    }
}

static void cudadev_init(lbrx_device *dev, cudadev *c) {
    int ro = 0;
    memset(c, 0, sizeof *c);
    cudaDeviceGetAttribute(&ro, cudaDevAttrHostRegisterReadOnlySupported, 0);
    c->read_only_ok = ro;
    memset(dev, 0, sizeof *dev);
    dev->user = c;
    dev->alloc = cudadev_alloc;
    dev->free = cudadev_free;
    dev->upload = cudadev_upload;
    dev->download = cudadev_download;
    dev->wrap_host = cudadev_wrap;
    dev->unwrap_host = cudadev_unwrap;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const lbrx_error *err) {
    fprintf(stderr, "error: %s: %s\n", what, err ? err->message : "");
    exit(1);
}
#define LBRX_TRY(call, what) do { if ((call) != LBRX_OK) die(what, &err); } while (0)
#define CUDA_TRY(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    fprintf(stderr, "error: %s: %s\n", #call, cudaGetErrorString(e_)); exit(1); } } while (0)
#define CUBLAS_TRY(call) do { cublasStatus_t s_ = (call); if (s_ != CUBLAS_STATUS_SUCCESS) { \
    fprintf(stderr, "error: %s: cuBLAS status %d\n", #call, (int)s_); exit(1); } } while (0)

/* Device address of a device tensor's first element (CUDA buffers are device pointers). */
static void *dptr(const lbrx_device_tensor *t) { return (char *)t->buffer + t->offset; }

static void print_copies(const char *when, const cudadev *c) {
    printf("  copies %-34s uploads %llu (%llu bytes), downloads %llu (%llu bytes), wraps %llu, unwraps %llu, cudaMalloc %llu, cudaFree %llu\n",
           when, (unsigned long long)c->uploads, (unsigned long long)c->upload_bytes, (unsigned long long)c->downloads,
           (unsigned long long)c->download_bytes, (unsigned long long)c->wraps, (unsigned long long)c->unwraps,
           (unsigned long long)c->allocs, (unsigned long long)c->frees);
}

/* y[n, out] = x[n, in] . W[out, in]^T on the GPU. Block weights are dequantized into an f32
   scratch tensor from the pool first. cuBLAS is column-major: the row-major W [out, in] is a
   column-major [in, out] matrix, so C[out, n] = op_T(W) . x, which is y in row-major order. */
static void gpu_linear(cublasHandle_t cb, const lbrx_device *dev, lbrx_device_pool *pool, const lbrx_device_tensor *w,
                       const lbrx_device_tensor *x, const lbrx_device_tensor *y) {
    lbrx_device_tensor wf;
    lbrx_error err;
    const float one = 1.0f, zero = 0.0f;
    int64_t out = w->shape[0], in = w->shape[1], n = x->nrows;
    const float *a = (const float *)dptr(w);
    memset(&wf, 0, sizeof wf);
    if (w->dtype != LBRX_F32) {
        LBRX_TRY(lbrx_device_tensor_init(&wf, dev, pool, LBRX_F32, 2, w->shape, &err), "dequantized weight");
        CUDA_TRY(cudadev_dequantize((int)w->dtype, dptr(w), (float *)dptr(&wf), out * in, 0));
        a = (const float *)dptr(&wf);
    }
    CUBLAS_TRY(cublasSgemm(cb, CUBLAS_OP_T, CUBLAS_OP_N, (int)out, (int)n, (int)in, &one, a, (int)in,
                           (const float *)dptr(x), (int)in, &zero, (float *)dptr(y), (int)out));
    CUDA_TRY(cudaDeviceSynchronize());
    lbrx_device_tensor_release(&wf);
}

/* max |a - b| / max |b|: the error relative to the scale of the output. */
static double rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > num) num = d;
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    return den > 0 ? num / den : num;
}
static double rel_err_ref(const float *a, const double *ref, size_t n) {
    double num = 0, den = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (d > num) num = d;
        if (fabs(ref[i]) > den) den = fabs(ref[i]);
    }
    return den > 0 ? num / den : num;
}

/* float64 y = x . W^T from the weights as lbrx_dequantize_row reads them (any layout with
   contiguous rows): the reference both products are held to. */
static double *reference(const lbrx_tensor *w, const lbrx_tensor *x) {
    int64_t out = w->shape[0], in = w->shape[1], n = x->shape[0], o;
    double *y = (double *)malloc((size_t)(n * out) * sizeof(double));
    float *wf = (float *)malloc((size_t)(out * in) * sizeof(float));
    for (o = 0; o < out; o++)
        if (lbrx_dequantize_row(w->dtype, lbrx_tensor_row(w, o), wf + o * in, in) != LBRX_OK) { fprintf(stderr, "dequantize failed\n"); exit(1); }
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (o = 0; o < out; o++) {
        int64_t r, k;
        for (r = 0; r < n; r++) {
            const float *xr = (const float *)lbrx_tensor_row(x, r);
            double s = 0;
            for (k = 0; k < in; k++) s += (double)xr[k] * (double)wf[o * in + k];
            y[r * out + o] = s;
        }
    }
    free(wf);
    return y;
}

/* One product on both sides: upload, GPU, download, lbrx_matmul, reference. */
static void check_product(const char *label, cublasHandle_t cb, const lbrx_device *dev, lbrx_device_pool *pool,
                          lbrx_context *ctx, const lbrx_tensor *w, const lbrx_tensor *x) {
    lbrx_device_tensor wd, xd, yd;
    lbrx_tensor ygpu, ycpu;
    lbrx_error err;
    int64_t yshape[2];
    double t0, t_up, t_gpu, t_down, t_cpu, *ref;
    size_t ny;
    yshape[0] = x->shape[0];
    yshape[1] = w->shape[0];
    ny = (size_t)(yshape[0] * yshape[1]);
    t0 = now_s();
    LBRX_TRY(lbrx_device_upload(dev, pool, w, &wd, &err), "upload W");
    LBRX_TRY(lbrx_device_upload(dev, pool, x, &xd, &err), "upload x");
    t_up = now_s() - t0;
    LBRX_TRY(lbrx_device_tensor_init(&yd, dev, pool, LBRX_F32, 2, yshape, &err), "y on the device");
    gpu_linear(cb, dev, pool, &wd, &xd, &yd);  /* the first run loads modules and picks kernels */
    t0 = now_s();
    gpu_linear(cb, dev, pool, &wd, &xd, &yd);
    t_gpu = now_s() - t0;
    t0 = now_s();
    LBRX_TRY(lbrx_device_to_host(&yd, &ygpu, &err), "download y");
    t_down = now_s() - t0;
    LBRX_TRY(lbrx_tensor_init_heap(&ycpu, LBRX_F32, 2, yshape, NULL, &err), "y on the host");
    t0 = now_s();
    LBRX_TRY(lbrx_matmul(ctx, w, x, &ycpu, &err), "lbrx_matmul");
    t_cpu = now_s() - t0;
    ref = reference(w, x);
    printf("  %-26s W %s [%lld, %lld]%s x [%lld, %lld]%s: max rel err gpu-vs-lbrx_matmul %.3e, gpu-vs-f64 %.3e, lbrx_matmul-vs-f64 %.3e\n",
           label, lbrx_dtype_name(w->dtype), (long long)w->shape[0], (long long)w->shape[1],
           lbrx_tensor_is_contiguous(w) ? "" : " (view)", (long long)x->shape[0], (long long)x->shape[1],
           lbrx_tensor_is_contiguous(x) ? "" : " (view)", rel_err((float *)ygpu.data, (float *)ycpu.data, ny),
           rel_err_ref((float *)ygpu.data, ref, ny), rel_err_ref((float *)ycpu.data, ref, ny));
    printf("  %-26s upload %.2f ms (%zu + %zu bytes), gpu (second run) %.2f ms, download %.2f ms, cpu lbrx_matmul %.2f ms\n", "",
           t_up * 1e3, wd.nbytes, xd.nbytes, t_gpu * 1e3, t_down * 1e3, t_cpu * 1e3);
    free(ref);
    lbrx_tensor_release(&ycpu);
    lbrx_tensor_release(&ygpu);
    lbrx_device_tensor_release(&yd);
    lbrx_device_tensor_release(&xd);
    lbrx_device_tensor_release(&wd);
}

static float uniform(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return (float)((double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* ---- part 1: products ---------------------------------------------------------------------- */

static void part_products(const lbrx_device *dev, cudadev *c, lbrx_context *ctx) {
    enum { N = 64, IN = 4096, OUT = 2048 };
    static const lbrx_dtype types[3] = {LBRX_F32, LBRX_Q8_0, LBRX_Q4_0};
    lbrx_device_pool *pool;
    lbrx_device_pool_stats st;
    lbrx_tensor x, wf, xv;
    lbrx_error err;
    int64_t xshape[2] = {N, IN}, wshape[2] = {OUT, IN};
    uint64_t seed = 0x243f6a8885a308d3ULL;
    int64_t i, ti;
    cublasHandle_t cb;
    printf("== products on the GPU vs lbrx_matmul on the CPU (%d threads)\n", lbrx_context_threads(ctx));
    CUBLAS_TRY(cublasCreate(&cb));
    LBRX_TRY(lbrx_device_pool_create(&pool, dev, 0, &err), "pool");
    LBRX_TRY(lbrx_tensor_init_heap(&x, LBRX_F32, 2, xshape, NULL, &err), "x");
    LBRX_TRY(lbrx_tensor_init_heap(&wf, LBRX_F32, 2, wshape, NULL, &err), "W");
    for (i = 0; i < N * IN; i++) ((float *)x.data)[i] = uniform(&seed);
    for (i = 0; i < OUT * IN; i++) ((float *)wf.data)[i] = 0.05f * uniform(&seed);
    /* a column slice of x: rows of 2048 at a stride of 4096 floats */
    LBRX_TRY(lbrx_tensor_slice(&x, 1, 1024, 3072, &xv, &err), "x view");
    for (ti = 0; ti < 3; ti++) {
        lbrx_tensor w, wv;
        char label[64];
        if (types[ti] == LBRX_F32) {
            w = wf;
            lbrx_storage_retain(w.storage);
        } else {
            LBRX_TRY(lbrx_tensor_init_heap(&w, types[ti], 2, wshape, NULL, &err), "quantized W");
            for (i = 0; i < OUT; i++)
                if (lbrx_quantize_row(types[ti], (const float *)wf.data + i * IN, lbrx_tensor_row(&w, i), IN) != LBRX_OK) {
                    fprintf(stderr, "quantize failed\n");
                    exit(1);
                }
        }
        snprintf(label, sizeof label, "%s", lbrx_dtype_name(types[ti]));
        check_product(label, cb, dev, pool, ctx, &w, &x);
        /* the same columns of W (on block boundaries) and of x: both views packed on upload */
        LBRX_TRY(lbrx_tensor_slice(&w, 1, 1024, 3072, &wv, &err), "W view");
        snprintf(label, sizeof label, "%s, column views", lbrx_dtype_name(types[ti]));
        check_product(label, cb, dev, pool, ctx, &wv, &xv);
        lbrx_tensor_release(&wv);
        lbrx_tensor_release(&w);
    }
    /* the view round trip, byte for byte: a Q4_0 view up and back equals its rows */
    {
        lbrx_tensor q, qv, back;
        lbrx_device_tensor qd;
        size_t row;
        int64_t r, bad = 0;
        LBRX_TRY(lbrx_tensor_init_heap(&q, LBRX_Q4_0, 2, wshape, NULL, &err), "Q4_0 W");
        for (i = 0; i < OUT; i++) lbrx_quantize_row(LBRX_Q4_0, (const float *)wf.data + i * IN, lbrx_tensor_row(&q, i), IN);
        LBRX_TRY(lbrx_tensor_slice(&q, 1, 32 * 7, 32 * 100, &qv, &err), "Q4_0 view");
        LBRX_TRY(lbrx_device_upload(dev, pool, &qv, &qd, &err), "upload Q4_0 view");
        LBRX_TRY(lbrx_device_to_host(&qd, &back, &err), "download Q4_0 view");
        lbrx_row_bytes(LBRX_Q4_0, qv.shape[1], &row);
        for (r = 0; r < OUT; r++) bad += memcmp(lbrx_tensor_row(&back, r), lbrx_tensor_row(&qv, r), row) != 0;
        printf("  q4_0 view [%lld, %lld] of [%d, %d]: device round trip %s (%lld rows differ), %zu bytes as raw blocks\n",
               (long long)qv.shape[0], (long long)qv.shape[1], OUT, IN, bad ? "DIFFERS" : "byte-identical", (long long)bad, qd.nbytes);
        lbrx_tensor_release(&back);
        lbrx_device_tensor_release(&qd);
        lbrx_tensor_release(&qv);
        lbrx_tensor_release(&q);
    }
    lbrx_device_pool_stats_of(pool, &st);
    printf("  pool: %llu requests served from the cache, %llu reached cudaMalloc; %zu buffers (%zu bytes) cached, %zu live\n",
           (unsigned long long)st.hits, (unsigned long long)st.misses, st.cached_buffers, st.cached_bytes, st.live_buffers);
    print_copies("after the products:", c);
    cublasDestroy(cb);
    lbrx_device_pool_destroy(pool);
    lbrx_tensor_release(&xv);
    lbrx_tensor_release(&wf);
    lbrx_tensor_release(&x);
}

/* ---- part 2: a mapped file of more than 1 GiB ------------------------------------------------ */

enum { BIG_ROWS = 16384, BIG_IN = 4096 };  /* each weight: Q8_0 [16384, 4096], 71 MB */

/* Best-of-3 seconds of a host-to-device cudaMemcpy of `size` bytes. */
static double time_h2d(void *dst, const void *src, size_t size) {
    double best = 1e30;
    int rep;
    for (rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        CUDA_TRY(cudaMemcpy(dst, src, size, cudaMemcpyHostToDevice));
        t0 = now_s() - t0;
        if (t0 < best) best = t0;
    }
    return best;
}

/* The GGUF writer's row source: Q8_0 blocks of random quants with scales around 0.01. */
static lbrx_result fill_q8_0(void *user, size_t index, const char *name, int64_t row_begin, int64_t row_count, void *dst,
                             lbrx_error *err) {
    uint64_t *seed = (uint64_t *)user;
    unsigned char *p = (unsigned char *)dst;
    size_t row, i;
    (void)index; (void)name; (void)row_begin; (void)err;
    lbrx_row_bytes(LBRX_Q8_0, BIG_IN, &row);
    for (i = 0; i < row * (size_t)row_count; i += 34) {
        uint16_t d = lbrx_f32_to_f16(0.01f + 0.005f * uniform(seed));
        int j;
        memcpy(p + i, &d, 2);
        for (j = 0; j < 32; j += 8) {
            uint64_t r = *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
            memcpy(p + i + 2 + j, &r, 8);
        }
    }
    return LBRX_OK;
}

/* y[n, BIG_ROWS] = x . W^T for the Q8_0 weight whose blocks are at device address `wq` (device
   memory, or the registered mapping through its device pointer): the dequantize kernel writes
   wf, then cuBLAS. Best of 3, in seconds; *t_dq gets the dequantize kernel's own best time. */
static double big_product(cublasHandle_t cb, const void *wq, float *wf, const float *x, float *y, int n, double *t_dq) {
    const float one = 1.0f, zero = 0.0f;
    double best = 1e30, t0;
    int rep;
    *t_dq = 1e30;
    for (rep = 0; rep < 3; rep++) {
        t0 = now_s();
        CUDA_TRY(cudadev_dequantize(LBRX_Q8_0, wq, wf, (int64_t)BIG_ROWS * BIG_IN, 0));
        CUDA_TRY(cudaDeviceSynchronize());
        if (now_s() - t0 < *t_dq) *t_dq = now_s() - t0;
        CUBLAS_TRY(cublasSgemm(cb, CUBLAS_OP_T, CUBLAS_OP_N, BIG_ROWS, n, BIG_IN, &one, wf, BIG_IN, x, BIG_IN, &zero, y, BIG_ROWS));
        CUDA_TRY(cudaDeviceSynchronize());
        if (now_s() - t0 < best) best = now_s() - t0;
    }
    return best;
}

/* Read a whole file into page-aligned heap storage (the fallback to mapping it). */
static lbrx_storage *read_to_heap(const char *path, size_t size) {
    lbrx_storage *s;
    lbrx_error err;
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "error: cannot open %s\n", path); exit(1); }
    LBRX_TRY(lbrx_storage_create(&s, size, lbrx_page_size(), NULL, &err), "heap copy of the file");
    if (fread(lbrx_storage_data(s), 1, size, f) != size) { fprintf(stderr, "error: cannot read %s\n", path); exit(1); }
    fclose(f);
    return s;
}

static void part_big_file(const lbrx_device *dev, cudadev *c, lbrx_context *ctx, const char *path, double gib, int heap,
                          int existing, unsigned alignment) {
    enum { NX = 8 };
    size_t wbytes, fsize, i, w_off, page = lbrx_page_size();
    int64_t nweights, k, wshape[2] = {BIG_ROWS, BIG_IN}, fshape[1], xshape[2] = {NX, BIG_IN}, yshape[2] = {NX, BIG_ROWS};
    lbrx_gguf_writer *gw;
    lbrx_gguf *g;
    const char *wname;
    lbrx_storage *s;
    cublasHandle_t cb;
    lbrx_tensor whole, w, x, y_map, y_up, y_cpu;
    lbrx_device_tensor file_d, w_d, w_up, wf_d, x_d, y_d;
    lbrx_error err;
    uint64_t seed = 0x13198a2e03707344ULL, copied;
    double t, t_page, t_page_w, t_reg, t_regd, t_pin, t_map, t_dq_map, t_up, t_dev, t_dq_dev, t_cpu, *ref;
    void *dbuf, *pinned;
    unsigned long sum = 0;
    lbrx_row_bytes(LBRX_Q8_0, BIG_IN, &wbytes);
    wbytes *= BIG_ROWS;
    nweights = (int64_t)ceil(gib * 1073741824.0 / (double)wbytes);
    t = 0;
    if (!existing) {
        /* write it with the GGUF writer, rows produced on the fly */
        t = now_s();
        LBRX_TRY(lbrx_gguf_writer_create(&gw, NULL, &err), "gguf writer");
        LBRX_TRY(lbrx_gguf_writer_add_str(gw, "general.name", "lbrx cuda_device example weights", &err), "gguf key");
        LBRX_TRY(lbrx_gguf_writer_add_u32(gw, "general.alignment", alignment, &err), "gguf alignment");
        for (k = 0; k < nweights; k++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%lld.ffn_up.weight", (long long)k);
            LBRX_TRY(lbrx_gguf_writer_add_tensor_fill(gw, name, LBRX_Q8_0, 2, wshape, fill_q8_0, &seed, &err), "gguf tensor");
        }
        LBRX_TRY(lbrx_gguf_writer_write_path(gw, path, &err), "gguf write");
        lbrx_gguf_writer_destroy(gw);
        t = now_s() - t;
    }
    LBRX_TRY(lbrx_gguf_open(&g, path, NULL, &err), "gguf open");
    if (heap) {
        s = read_to_heap(path, lbrx_storage_size(lbrx_gguf_storage(g)));
        lbrx_gguf_destroy(g);
        LBRX_TRY(lbrx_gguf_open_storage(&g, s, NULL, &err), "gguf open of the heap copy");
        lbrx_storage_release(s);
    }
    if (existing) nweights = (int64_t)lbrx_gguf_tensor_count(g);
    s = lbrx_gguf_storage(g);
    fsize = lbrx_storage_size(s);
    printf("== a %.2f GiB GGUF file of %lld Q8_0 weights [%d, %d] (%zu bytes each) at %s: %s in %.2f s, %s; "
           "tensor data from file offset %llu, alignment %u: %spage-aligned\n",
           (double)fsize / 1073741824.0, (long long)nweights, BIG_ROWS, BIG_IN, wbytes, path, existing ? "already there (not written)" : "written", t,
           heap ? "READ INTO PAGE-ALIGNED HEAP MEMORY (not the mapping)" : "opened (memory-mapped read-only)",
           (unsigned long long)lbrx_gguf_data_offset(g), lbrx_gguf_alignment(g),
           lbrx_gguf_data_offset(g) % page == 0 && alignment % page == 0 ? "" : "not ");
    fshape[0] = (int64_t)fsize;
    LBRX_TRY(lbrx_tensor_init(&whole, LBRX_U8, 1, fshape, s, 0, &err), "whole-file tensor");
    LBRX_TRY(lbrx_gguf_tensor(g, (size_t)nweights / 2, &w, &err), "gguf tensor");
    wname = lbrx_gguf_tensor_name(g, (size_t)nweights / 2);
    if (w.dtype != LBRX_Q8_0 || w.ndim != 2 || w.shape[0] != BIG_ROWS || w.shape[1] != BIG_IN) {
        fprintf(stderr, "error: %s: tensor %s is not Q8_0 [%d, %d]: not a file this example wrote\n", path, wname, BIG_ROWS, BIG_IN);
        exit(1);
    }
    w_off = (size_t)((const char *)w.data - (const char *)whole.data);
    /* fault the mapping in once so that no copy below measures page faults */
    t = now_s();
    for (i = 0; i < fsize; i += page) sum += ((const unsigned char *)whole.data)[i];
    printf("  %s at %p, file size %zu (%s), pages touched in %.2f s (checksum %lu)\n", heap ? "heap copy" : "mapped", whole.data, fsize,
           fsize % page ? "not a page multiple" : "a page multiple", now_s() - t, sum);

    CUDA_TRY(cudaMalloc(&dbuf, fsize));
    t_page = time_h2d(dbuf, whole.data, fsize);
    t_page_w = time_h2d((char *)dbuf + w_off, w.data, wbytes);
    printf("  cudaMemcpy of the whole file from pageable memory:     %6.2f GB/s (%.3f s for %zu bytes); of %s alone %6.2f GB/s\n",
           fsize / t_page / 1e9, t_page, fsize, wname, wbytes / t_page_w / 1e9);

    /* zero-copy: the whole file's pages registered once, each weight a view of it */
    copied = c->upload_bytes;
    printf("  lbrx_device_wrap of the whole %s (cudaHostRegister Mapped|Portable%s) ...\n", heap ? "heap copy" : "mapping", heap ? "" : "|ReadOnly");
    t = now_s();
    if (lbrx_device_wrap(dev, &whole, &file_d, &err) != LBRX_OK) {
        printf("  lbrx_device_wrap failed: %s\n", err.message);
        exit(1);
    }
    t_reg = now_s() - t;
    printf("    registered %zu bytes at %p in %.3f s (pages pinned at %.2f GB/s); bytes copied: %llu\n", file_d.capacity,
           (void *)((char *)whole.data - file_d.offset), t_reg, file_d.capacity / t_reg / 1e9,
           (unsigned long long)(c->upload_bytes - copied));
    t_regd = time_h2d(dbuf, whole.data, fsize);
    printf("  cudaMemcpy of the whole file from the registered pages: %6.2f GB/s (%.3f s), %.2fx the pageable rate\n",
           fsize / t_regd / 1e9, t_regd, t_page / t_regd);
    CUDA_TRY(cudaMallocHost(&pinned, fsize));
    memcpy(pinned, whole.data, fsize);
    t_pin = time_h2d(dbuf, pinned, fsize);
    printf("  cudaMemcpy of the same bytes from cudaMallocHost memory: %6.2f GB/s (%.3f s) (a pinned copy, for scale)\n", fsize / t_pin / 1e9, t_pin);
    CUDA_TRY(cudaFreeHost(pinned));
    CUDA_TRY(cudaFree(dbuf));
    CUBLAS_TRY(cublasCreate(&cb));

    /* one weight multiplied on the GPU two ways: read in place from the mapping, or uploaded first */
    LBRX_TRY(lbrx_device_view(&file_d, &w, &w_d, &err), "view of a weight");
    LBRX_TRY(lbrx_tensor_init_heap(&x, LBRX_F32, 2, xshape, NULL, &err), "x");
    for (k = 0; k < NX * BIG_IN; k++) ((float *)x.data)[k] = uniform(&seed);
    LBRX_TRY(lbrx_device_upload(dev, NULL, &x, &x_d, &err), "upload x");
    LBRX_TRY(lbrx_device_tensor_init(&wf_d, dev, NULL, LBRX_F32, 2, wshape, &err), "f32 weight");
    LBRX_TRY(lbrx_device_tensor_init(&y_d, dev, NULL, LBRX_F32, 2, yshape, &err), "y");
    t_map = big_product(cb, dptr(&w_d), (float *)dptr(&wf_d), (const float *)dptr(&x_d), (float *)dptr(&y_d), NX, &t_dq_map);
    LBRX_TRY(lbrx_device_to_host(&y_d, &y_map, &err), "download y");
    t = now_s();
    LBRX_TRY(lbrx_device_upload(dev, NULL, &w, &w_up, &err), "upload W");
    t_up = now_s() - t;
    t_dev = big_product(cb, dptr(&w_up), (float *)dptr(&wf_d), (const float *)dptr(&x_d), (float *)dptr(&y_d), NX, &t_dq_dev);
    LBRX_TRY(lbrx_device_to_host(&y_d, &y_up, &err), "download y");
    LBRX_TRY(lbrx_tensor_init_heap(&y_cpu, LBRX_F32, 2, yshape, NULL, &err), "y");
    t = now_s();
    LBRX_TRY(lbrx_matmul(ctx, &w, &x, &y_cpu, &err), "lbrx_matmul on the mapped weight");
    t_cpu = now_s() - t;
    ref = reference(&w, &x);
    printf("  y[%d, %d] = x . W^T, W = %s (dequantize kernel + cublasSgemm, best of 3):\n", NX, BIG_ROWS, wname);
    printf("    zero-copy, the kernel reads W from the registered %s: %7.2f ms (dequantize %.2f ms: W at %.2f GB/s over the bus)\n",
           heap ? "heap copy" : "mapping", t_map * 1e3, t_dq_map * 1e3, wbytes / t_dq_map / 1e9);
    printf("    uploaded first: lbrx_device_upload of W %.2f ms (%.2f GB/s, cudaMalloc included), then %.2f ms from device memory "
           "(dequantize %.2f ms: %.2f GB/s)\n", t_up * 1e3, wbytes / t_up / 1e9, t_dev * 1e3, t_dq_dev * 1e3, wbytes / t_dq_dev / 1e9);
    printf("    max rel err zero-copy-vs-uploaded %.3e, gpu-vs-lbrx_matmul (same mapped W) %.3e, gpu-vs-f64 %.3e, lbrx_matmul-vs-f64 %.3e "
           "(cpu %.2f ms)\n", rel_err((float *)y_map.data, (float *)y_up.data, (size_t)NX * BIG_ROWS),
           rel_err((float *)y_map.data, (float *)y_cpu.data, (size_t)NX * BIG_ROWS), rel_err_ref((float *)y_map.data, ref, (size_t)NX * BIG_ROWS),
           rel_err_ref((float *)y_cpu.data, ref, (size_t)NX * BIG_ROWS), t_cpu * 1e3);
    free(ref);
    lbrx_tensor_release(&y_cpu);
    lbrx_tensor_release(&y_up);
    lbrx_tensor_release(&y_map);
    lbrx_tensor_release(&x);
    lbrx_device_tensor_release(&y_d);
    lbrx_device_tensor_release(&wf_d);
    lbrx_device_tensor_release(&w_up);
    lbrx_device_tensor_release(&x_d);
    lbrx_device_tensor_release(&w_d);
    t = now_s();
    lbrx_device_tensor_release(&file_d);  /* cudaHostUnregister, then the storage reference goes */
    printf("  cudaHostUnregister: %.3f s\n", now_s() - t);
    cublasDestroy(cb);
    lbrx_tensor_release(&w);
    lbrx_tensor_release(&whole);
    lbrx_gguf_destroy(g);
    if (!existing) remove(path);
    print_copies("at the end:", c);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "all";
    const char *path = argc > 2 ? argv[2] : "/tmp/lbrx_cuda_big.gguf";
    double gib = argc > 3 ? atof(argv[3]) : 1.2;
    const char *source = argc > 4 ? argv[4] : "heap";  /* see part 2 at the top */
    unsigned alignment = argc > 5 ? (unsigned)atoi(argv[5]) : 32;
    struct cudaDeviceProp prop;
    int driver = 0, runtime = 0, can_host_ptr = 0;
    lbrx_device dev;
    cudadev c;
    lbrx_context *ctx;
    lbrx_error err;
    setvbuf(stdout, NULL, _IOLBF, 0);  /* every line out at once, also into a pipe */
    if ((strcmp(mode, "all") && strcmp(mode, "products") && strcmp(mode, "big")) || (strcmp(source, "map") && strcmp(source, "heap") && strcmp(source, "existing"))) {
        fprintf(stderr, "usage: %s [all|products|big] [big-file-path [GiB [heap|map|existing [alignment]]]]\n", argv[0]);
        return 2;
    }
    CUDA_TRY(cudaGetDeviceProperties(&prop, 0));
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    cudaDeviceGetAttribute(&can_host_ptr, cudaDevAttrCanUseHostPointerForRegisteredMem, 0);
    cudadev_init(&dev, &c);
    printf("lbrx %s device example: %s (sm_%d%d, %.1f GiB), CUDA driver %d, runtime %d, "
           "host-register read-only %s, registered host pointer usable on the device %s\n",
           LBRX_VERSION_STRING, prop.name, prop.major, prop.minor, (double)prop.totalGlobalMem / 1073741824.0, driver,
           runtime, c.read_only_ok ? "yes" : "no", can_host_ptr ? "yes" : "no");
    LBRX_TRY(lbrx_context_create(&ctx, NULL, &err), "context");
    if (strcmp(mode, "big")) part_products(&dev, &c, ctx);
    if (strcmp(mode, "products")) part_big_file(&dev, &c, ctx, path, gib, !strcmp(source, "heap"), !strcmp(source, "existing"), alignment);
    lbrx_context_destroy(ctx);
    printf("done: %s\n", c.allocs == c.frees && c.wraps == c.unwraps ? "every device buffer freed, every registration undone" : "LEAK");
    return c.allocs == c.frees && c.wraps == c.unwraps ? 0 : 1;
}
