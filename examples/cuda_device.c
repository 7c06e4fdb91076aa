/* cuda_device.c - lbrx's device interface (lbrx_device) implemented with the CUDA runtime, and
   an end-to-end check on a real GPU:

   1. f32 activations and F32 / Q8_0 / Q4_0 weights made on the CPU go to the GPU through
      lbrx_device_upload (buffers from a lbrx_device_pool), are multiplied there (cuBLAS sgemm;
      block weights are first dequantized by the kernels in cuda_device_kernels.cu), and the
      result comes back through lbrx_device_to_host. It is compared with lbrx_matmul on the CPU
      and with a float64 reference. Strided views (column slices) go through the same path.
   2. A GGUF file larger than 1 GiB of Q8_0 weights is written (lbrx_gguf_writer), opened
      (lbrx_gguf_open maps it) and registered with cudaHostRegister through lbrx_device_wrap
      without copying a byte. The
      upload rate of a plain cudaMemcpy from the same mapped bytes is measured before (pageable)
      and after registration, beside a cudaMallocHost buffer; then one weight is multiplied by
      the GPU straight from the registered mapping (lbrx_device_view, zero-copy reads over the
      bus) and checked against lbrx_matmul on the same mapped weight. One weight is registered
      first and the whole file only if that took under a second: on the H100 machine of
      bench/RESULTS.md, cudaHostRegister of the read-only file mapping never returned, so run
      `big` under `timeout`.

   Build on a machine with the CUDA toolkit (not part of `make test`):
       make cuda
   which runs
       nvcc -O2 -I. -Xcompiler -fopenmp,-march=native examples/cuda_device.c \
            examples/cuda_device_kernels.cu -o build/cuda_device -lcublas -lgomp
   Run: ./build/cuda_device [all|products|big] [big-file-path [GiB]]
        (default: all, /tmp/lbrx_cuda_big.gguf, 1.2 GiB) */
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
    if (err) {
        err->result = r;
        err->offset = UINT64_MAX;
        snprintf(err->message, sizeof err->message, "%s (%zu bytes): %s", what, bytes, cudaGetErrorString(e));
    }
    return r;
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
        LBRX_TRY(lbrx_device_tensor_alloc(dev, pool, LBRX_F32, 2, w->shape, &wf, &err), "dequantized weight");
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
    LBRX_TRY(lbrx_device_tensor_alloc(dev, pool, LBRX_F32, 2, yshape, &yd, &err), "y on the device");
    gpu_linear(cb, dev, pool, &wd, &xd, &yd);  /* the first run loads modules and picks kernels */
    t0 = now_s();
    gpu_linear(cb, dev, pool, &wd, &xd, &yd);
    t_gpu = now_s() - t0;
    t0 = now_s();
    LBRX_TRY(lbrx_device_to_host(&yd, &ygpu, &err), "download y");
    t_down = now_s() - t0;
    LBRX_TRY(lbrx_tensor_alloc(&ycpu, LBRX_F32, 2, yshape, NULL, &err), "y on the host");
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

static void part_products(cublasHandle_t cb, const lbrx_device *dev, cudadev *c, lbrx_context *ctx) {
    enum { N = 64, IN = 4096, OUT = 2048 };
    static const lbrx_dtype types[3] = {LBRX_F32, LBRX_Q8_0, LBRX_Q4_0};
    lbrx_device_pool *pool;
    lbrx_device_pool_stats st;
    lbrx_tensor x, wf, xv;
    lbrx_error err;
    int64_t xshape[2] = {N, IN}, wshape[2] = {OUT, IN};
    uint64_t seed = 0x243f6a8885a308d3ULL;
    int64_t i, ti;
    printf("== products on the GPU vs lbrx_matmul on the CPU (%d threads)\n", lbrx_context_threads(ctx));
    LBRX_TRY(lbrx_device_pool_create(&pool, dev, 0, &err), "pool");
    LBRX_TRY(lbrx_tensor_alloc(&x, LBRX_F32, 2, xshape, NULL, &err), "x");
    LBRX_TRY(lbrx_tensor_alloc(&wf, LBRX_F32, 2, wshape, NULL, &err), "W");
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
            LBRX_TRY(lbrx_tensor_alloc(&w, types[ti], 2, wshape, NULL, &err), "quantized W");
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
        LBRX_TRY(lbrx_tensor_alloc(&q, LBRX_Q4_0, 2, wshape, NULL, &err), "Q4_0 W");
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
    lbrx_device_pool_get_stats(pool, &st);
    printf("  pool: %llu requests served from the cache, %llu reached cudaMalloc; %zu buffers (%zu bytes) cached, %zu live\n",
           (unsigned long long)st.hits, (unsigned long long)st.misses, st.cached_buffers, st.cached_bytes, st.live_buffers);
    print_copies("after the products:", c);
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

static void part_big_file(cublasHandle_t cb, const lbrx_device *dev, cudadev *c, lbrx_context *ctx, const char *path, double gib) {
    size_t wbytes, fsize, i, page = lbrx_page_size();
    int64_t nweights, k, wshape[2] = {BIG_ROWS, BIG_IN}, fshape[1];
    lbrx_gguf_writer *gw;
    lbrx_gguf *g;
    lbrx_storage *s;
    lbrx_tensor whole, w;
    lbrx_device_tensor base_d, w_d, wf_d, x_d, y_d;
    lbrx_error err;
    uint64_t seed = 0x13198a2e03707344ULL, before_up, before_bytes;
    double t, t_page, t_page_w, t_page_reg, t_reg, t_pin, t_regis, t_touch, t_dq_host, t_dq_dev;
    void *dbuf, *pinned;
    const void *reg_src;
    size_t reg_bytes, w_off;
    unsigned long sum = 0;
    lbrx_row_bytes(LBRX_Q8_0, BIG_IN, &wbytes);
    wbytes *= BIG_ROWS;
    nweights = (int64_t)ceil(gib * 1073741824.0 / (double)wbytes);
    /* write it with the GGUF writer, rows produced on the fly */
    t = now_s();
    LBRX_TRY(lbrx_gguf_writer_create(&gw, NULL, &err), "gguf writer");
    LBRX_TRY(lbrx_gguf_writer_add_str(gw, "general.name", "lbrx cuda_device example weights", &err), "gguf key");
    for (k = 0; k < nweights; k++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%lld.ffn_up.weight", (long long)k);
        LBRX_TRY(lbrx_gguf_writer_add_tensor_fill(gw, name, LBRX_Q8_0, 2, wshape, fill_q8_0, &seed, &err), "gguf tensor");
    }
    LBRX_TRY(lbrx_gguf_writer_write_path(gw, path, &err), "gguf write");
    lbrx_gguf_writer_destroy(gw);
    t = now_s() - t;
    LBRX_TRY(lbrx_gguf_open(&g, path, NULL, &err), "gguf open");
    s = lbrx_gguf_storage(g);
    fsize = lbrx_storage_size(s);
    printf("== a %.2f GiB GGUF file of %lld Q8_0 weights [%d, %d] (%zu bytes each) at %s: written in %.2f s, opened (%s); "
           "tensor data from file offset %llu, alignment %u: not page-aligned\n",
           (double)fsize / 1073741824.0, (long long)nweights, BIG_ROWS, BIG_IN, wbytes, path, t,
           lbrx_storage_get_kind(s) == LBRX_STORAGE_MMAP ? "memory-mapped" : "read to the heap",
           (unsigned long long)lbrx_gguf_data_offset(g), lbrx_gguf_alignment(g));
    fshape[0] = (int64_t)fsize;
    LBRX_TRY(lbrx_tensor_init(&whole, LBRX_U8, 1, fshape, s, 0, &err), "whole-file tensor");
    /* fault the mapping in once so that no copy below measures page faults */
    t = now_s();
    for (i = 0; i < fsize; i += page) sum += ((const unsigned char *)whole.data)[i];
    t_touch = now_s() - t;
    printf("  mapped at %p, pages touched in %.2f s (checksum %lu)\n", whole.data, t_touch, sum);

    CUDA_TRY(cudaMalloc(&dbuf, fsize));
    t_page = time_h2d(dbuf, whole.data, fsize);
    printf("  cudaMemcpy of the whole file from the pageable mapping: %7.2f GB/s (%.3f s for %zu bytes)\n", fsize / t_page / 1e9, t_page, fsize);
    /* the ceiling: the same bytes in a cudaMallocHost buffer */
    CUDA_TRY(cudaMallocHost(&pinned, fsize));
    memcpy(pinned, whole.data, fsize);
    t_pin = time_h2d(dbuf, pinned, fsize);
    printf("  cudaMemcpy of the same bytes from cudaMallocHost memory: %7.2f GB/s (%.3f s) (a pinned copy, for scale)\n", fsize / t_pin / 1e9, t_pin);
    CUDA_TRY(cudaFreeHost(pinned));
    LBRX_TRY(lbrx_gguf_tensor(g, nweights / 2, &w, &err), "gguf tensor");
    w_off = (size_t)((const char *)w.data - (const char *)whole.data);
    t_page_w = time_h2d((char *)dbuf + w_off, w.data, wbytes);
    printf("  cudaMemcpy of %s (%zu bytes at file offset %zu) from the pageable mapping: %7.2f GB/s\n", w.name, wbytes, w_off,
           wbytes / t_page_w / 1e9);

    /* zero-copy registration through the interface: one weight first (its pages), then, if that
       was quick, the whole file once (weights are then views of it) */
    before_up = c->uploads;
    before_bytes = c->upload_bytes;
    printf("  lbrx_device_wrap of %s (cudaHostRegister, read-only) ...\n", w.name);
    t = now_s();
    if (lbrx_device_wrap(dev, &w, &base_d, &err) != LBRX_OK) {
        printf("  lbrx_device_wrap failed: %s (no registered measurements on this machine)\n", err.message);
        memset(&base_d, 0, sizeof base_d);
    }
    t_reg = now_s() - t;
    reg_src = w.data;
    reg_bytes = wbytes;
    t_page_reg = t_page_w;
    if (base_d.kind == LBRX_DEVICE_WRAPPED) {
        printf("    registered %zu bytes (data at offset %zu of the region) in %.3f s; bytes copied: %llu (%llu upload calls)\n",
               base_d.capacity, base_d.offset, t_reg, (unsigned long long)(c->upload_bytes - before_bytes),
               (unsigned long long)(c->uploads - before_up));
        if (t_reg < 1.0) {
            lbrx_device_tensor_release(&base_d);
            printf("  lbrx_device_wrap of the whole file ...\n");
            t = now_s();
            if (lbrx_device_wrap(dev, &whole, &base_d, &err) != LBRX_OK) {
                printf("  lbrx_device_wrap of the whole file failed: %s\n", err.message);
                memset(&base_d, 0, sizeof base_d);
            } else {
                t_reg = now_s() - t;
                reg_src = whole.data;
                reg_bytes = fsize;
                t_page_reg = t_page;
                printf("    registered %zu bytes at %p in %.3f s; bytes copied: %llu (%llu upload calls)\n", base_d.capacity,
                       (void *)((const char *)whole.data - base_d.offset), t_reg,
                       (unsigned long long)(c->upload_bytes - before_bytes), (unsigned long long)(c->uploads - before_up));
            }
        } else {
            printf("  (registration took %.1f s for one weight: the whole file is not registered; the rest uses this weight)\n", t_reg);
        }
    }
    if (base_d.kind == LBRX_DEVICE_WRAPPED) {
        t_regis = time_h2d((char *)dbuf + ((const char *)reg_src - (const char *)whole.data), reg_src, reg_bytes);
        printf("  cudaMemcpy of the same %zu bytes from the registered mapping: %7.2f GB/s (%.3f s), %.2fx the pageable rate\n",
               reg_bytes, reg_bytes / t_regis / 1e9, t_regis, t_page_reg / t_regis);
        /* one weight, multiplied by the GPU straight from the mapping (zero-copy reads) */
        LBRX_TRY(lbrx_device_view(&base_d, &w, &w_d, &err), "view of a weight");
        LBRX_TRY(lbrx_device_tensor_alloc(dev, NULL, LBRX_F32, 2, wshape, &wf_d, &err), "f32 weight");
        t = now_s();
        CUDA_TRY(cudadev_dequantize(LBRX_Q8_0, dptr(&w_d), (float *)dptr(&wf_d), (int64_t)BIG_ROWS * BIG_IN, 0));
        CUDA_TRY(cudaDeviceSynchronize());
        t_dq_host = now_s() - t;
        t = now_s();
        CUDA_TRY(cudadev_dequantize(LBRX_Q8_0, (const char *)dbuf + w_off, (float *)dptr(&wf_d), (int64_t)BIG_ROWS * BIG_IN, 0));
        CUDA_TRY(cudaDeviceSynchronize());
        t_dq_dev = now_s() - t;
        printf("  dequantize %s on the GPU: reading the registered mapping %.2f ms (%.2f GB/s over the bus), reading device memory %.2f ms\n",
               w.name, t_dq_host * 1e3, wbytes / t_dq_host / 1e9, t_dq_dev * 1e3);
        {
            lbrx_tensor x, ygpu, ycpu;
            int64_t xshape[2] = {8, BIG_IN}, yshape[2] = {8, BIG_ROWS};
            const float one = 1.0f, zero = 0.0f;
            double *ref;
            before_up = c->upload_bytes;
            LBRX_TRY(lbrx_tensor_alloc(&x, LBRX_F32, 2, xshape, NULL, &err), "x");
            for (k = 0; k < 8 * BIG_IN; k++) ((float *)x.data)[k] = uniform(&seed);
            LBRX_TRY(lbrx_device_upload(dev, NULL, &x, &x_d, &err), "upload x");
            LBRX_TRY(lbrx_device_tensor_alloc(dev, NULL, LBRX_F32, 2, yshape, &y_d, &err), "y");
            /* dequantize from the mapping again (the last kernel read the device copy) and multiply */
            CUDA_TRY(cudadev_dequantize(LBRX_Q8_0, dptr(&w_d), (float *)dptr(&wf_d), (int64_t)BIG_ROWS * BIG_IN, 0));
            CUBLAS_TRY(cublasSgemm(cb, CUBLAS_OP_T, CUBLAS_OP_N, BIG_ROWS, 8, BIG_IN, &one, (const float *)dptr(&wf_d), BIG_IN,
                                   (const float *)dptr(&x_d), BIG_IN, &zero, (float *)dptr(&y_d), BIG_ROWS));
            CUDA_TRY(cudaDeviceSynchronize());
            LBRX_TRY(lbrx_device_to_host(&y_d, &ygpu, &err), "download y");
            LBRX_TRY(lbrx_tensor_alloc(&ycpu, LBRX_F32, 2, yshape, NULL, &err), "y");
            t = now_s();
            LBRX_TRY(lbrx_matmul(ctx, &w, &x, &ycpu, &err), "lbrx_matmul on the mapped weight");
            t = now_s() - t;
            ref = reference(&w, &x);
            printf("  y[8, %d] = x . W^T with W read by the GPU from the mapping: max rel err gpu-vs-lbrx_matmul (same mapped W) %.3e, "
                   "gpu-vs-f64 %.3e, lbrx_matmul-vs-f64 %.3e (cpu %.2f ms); bytes uploaded: %llu (x only)\n",
                   BIG_ROWS, rel_err((float *)ygpu.data, (float *)ycpu.data, (size_t)8 * BIG_ROWS),
                   rel_err_ref((float *)ygpu.data, ref, (size_t)8 * BIG_ROWS), rel_err_ref((float *)ycpu.data, ref, (size_t)8 * BIG_ROWS),
                   t * 1e3, (unsigned long long)(c->upload_bytes - before_up));
            free(ref);
            lbrx_tensor_release(&ycpu);
            lbrx_tensor_release(&ygpu);
            lbrx_tensor_release(&x);
            lbrx_device_tensor_release(&y_d);
            lbrx_device_tensor_release(&x_d);
        }
        lbrx_device_tensor_release(&wf_d);
        lbrx_device_tensor_release(&w_d);
    }
    CUDA_TRY(cudaFree(dbuf));
    lbrx_device_tensor_release(&base_d);  /* cudaHostUnregister, then the storage reference goes */
    lbrx_tensor_release(&w);
    lbrx_tensor_release(&whole);
    lbrx_gguf_close(g);
    remove(path);
    print_copies("at the end:", c);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "all";
    const char *path = argc > 2 ? argv[2] : "/tmp/lbrx_cuda_big.gguf";
    double gib = argc > 3 ? atof(argv[3]) : 1.2;
    struct cudaDeviceProp prop;
    int driver = 0, runtime = 0, can_host_ptr = 0;
    lbrx_device dev;
    cudadev c;
    cublasHandle_t cb;
    lbrx_context *ctx;
    lbrx_error err;
    setvbuf(stdout, NULL, _IOLBF, 0);  /* every line out at once, also into a pipe */
    if (strcmp(mode, "all") && strcmp(mode, "products") && strcmp(mode, "big")) {
        fprintf(stderr, "usage: %s [all|products|big] [big-file-path [GiB]]\n", argv[0]);
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
    CUBLAS_TRY(cublasCreate(&cb));
    LBRX_TRY(lbrx_context_create(&ctx, NULL, &err), "context");
    if (strcmp(mode, "big")) part_products(cb, &dev, &c, ctx);
    if (strcmp(mode, "products")) part_big_file(cb, &dev, &c, ctx, path, gib);
    lbrx_context_destroy(ctx);
    cublasDestroy(cb);
    printf("done: %s\n", c.allocs == c.frees && c.wraps == c.unwraps ? "every device buffer freed, every registration undone" : "LEAK");
    return c.allocs == c.frees && c.wraps == c.unwraps ? 0 : 1;
}
