/* Hardening: storage reference counting when views outlive their owner (storage, GGUF and
   safetensors readers), concurrent readers of one mapped model, kernels from several host
   threads, offsets past 4 GiB (refused cleanly on 32-bit builds), UTF-8 paths (the
   MapViewOfFile path under the mingw/wine configuration), and the replay of every fuzzer
   regression input (tests/fuzz_regressions/) and of the shared model files through the fuzz
   harnesses. */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
#include "lbrx_test.h"
/* the fuzz harnesses, each under its own name, and the replay driver's directory walker */
#define LBRX_FUZZ_NO_IMPL
#define LBRX_FUZZ_NO_MAIN
#define LBRX_FUZZ_ENTRY lt_fuzz_gguf
#include "fuzz_gguf.c"
#undef LBRX_FUZZ_ENTRY
#define LBRX_FUZZ_ENTRY lt_fuzz_safetensors
#include "fuzz_safetensors.c"
#undef LBRX_FUZZ_ENTRY
#define LBRX_FUZZ_ENTRY lt_fuzz_json
#include "fuzz_json.c"
#undef LBRX_FUZZ_ENTRY
#include "fuzz_main.c"
#include <pthread.h>
#if defined(_WIN32)
#include <windows.h>
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

/* fopen with a UTF-8 path on every system (Windows: through the wide-character API). */
static FILE *open_utf8(const char *path, const char *mode) {
#if defined(_WIN32)
    wchar_t wpath[1024], wmode[8];
    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath, 1024)) return NULL;
    if (!MultiByteToWideChar(CP_UTF8, 0, mode, -1, wmode, 8)) return NULL;
    return _wfopen(wpath, wmode);
#else
    return fopen(path, mode);
#endif
}

static int remove_utf8(const char *path) {
#if defined(_WIN32)
    wchar_t wpath[1024];
    if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath, 1024)) return -1;
    return _wremove(wpath);
#else
    return remove(path);
#endif
}

/* n little-endian floats value(i) = i * 0.25 - 1000 into `path`; 0 on failure. */
static float pattern_value(int64_t i) { return (float)i * 0.25f - 1000.0f; }
static int write_pattern_file(const char *path, int64_t n) {
    FILE *f = open_utf8(path, "wb");
    int64_t i;
    if (!f) return 0;
    for (i = 0; i < n; i++) {
        float v = pattern_value(i);
        if (fwrite(&v, 4, 1, f) != 1) { fclose(f); return 0; }
    }
    return fclose(f) == 0;
}

/* ---- views keep their storage alive ---- */

typedef struct release_count { int calls; void *ptr; size_t size; } release_count;
static void count_release(void *ptr, size_t size, void *user) {
    release_count *c = (release_count *)user;
    c->calls++; c->ptr = ptr; c->size = size;
}

static void test_views_outlive_owner(void) {
    const char *path = lt_tmp_path("hardening_views.bin");
    char keep[4096];
    lbrx_storage *s = NULL;
    lbrx_tensor t, rows, col, flat;
    int64_t shape[2] = {64, 32}, flat_shape[1] = {-1};
    lbrx_error err;
    int64_t r, c, bad = 0;
    snprintf(keep, sizeof keep, "%s", path);
    LT_CHECK(write_pattern_file(keep, 64 * 32 + 16));
    LT_CHECKF(lbrx_storage_open(&s, keep, NULL, &err) == LBRX_OK, "%s", err.message);
    if (!s) { remove(keep); return; }
    /* a tensor after a 64-byte header, then views of it */
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 2, shape, s, 64, &err) == LBRX_OK);
    LT_CHECK(lbrx_tensor_slice_rows(&t, 10, 20, &rows, &err) == LBRX_OK);
    LT_CHECK(lbrx_tensor_slice(&t, 1, 5, 6, &col, &err) == LBRX_OK);
    LT_CHECK(lbrx_tensor_reshape(&t, 1, flat_shape, &flat, &err) == LBRX_OK);
    /* the owner lets go first: the file stays mapped for the views */
    lbrx_storage_release(s);
    lbrx_tensor_release(&t);
    for (r = 0; r < 10; r++)
        for (c = 0; c < 32; c++)
            if (((const float *)lbrx_tensor_row(&rows, r))[c] != pattern_value(16 + (10 + r) * 32 + c)) bad++;
    lbrx_tensor_release(&rows);
    for (r = 0; r < 64; r++)
        if (*(const float *)lbrx_tensor_row(&col, r) != pattern_value(16 + r * 32 + 5)) bad++;
    lbrx_tensor_release(&col);
    LT_CHECK(flat.shape[0] == 64 * 32);
    for (r = 0; r < 64 * 32; r++)
        if (((const float *)flat.data)[r] != pattern_value(16 + r)) bad++;
    lbrx_tensor_release(&flat);  /* the last reference: unmaps */
    LT_CHECKF(bad == 0, "%lld wrong values read through views", (long long)bad);
    LT_CHECK(remove(keep) == 0);
}

static void test_external_release_once(void) {
    static unsigned char buf[256];
    release_count rc = {0, NULL, 0};
    lbrx_storage *s = NULL;
    lbrx_tensor a, b;
    int64_t shape[1] = {64};
    LT_CHECK(lbrx_storage_create_external(&s, buf, sizeof buf, 1, count_release, &rc, NULL, NULL) == LBRX_OK);
    if (!s) return;
    LT_CHECK(lbrx_tensor_init(&a, LBRX_F32, 1, shape, s, 0, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_slice(&a, 0, 8, 16, &b, NULL) == LBRX_OK);
    lbrx_storage_release(s);
    LT_CHECK(rc.calls == 0);
    lbrx_tensor_release(&a);
    LT_CHECK(rc.calls == 0);
    lbrx_tensor_release(&b);
    LT_CHECK(rc.calls == 1 && rc.ptr == buf && rc.size == sizeof buf);
    lbrx_tensor_release(&b);  /* releasing a released tensor is harmless */
    LT_CHECK(rc.calls == 1);
}

/* ---- concurrent readers ---- */

#define READERS 8
typedef struct reader_arg {
    lbrx_storage *s;   /* a reference owned by the thread, released when it is done */
    int64_t rows, cols, header_floats;
    unsigned seed;
    int iters;
    long bad;
} reader_arg;

static void *reader_main(void *p) {
    reader_arg *a = (reader_arg *)p;
    lt_rng rng;
    int it;
    rng.s = 0x9e3779b97f4a7c15ULL ^ a->seed;
    for (it = 0; it < a->iters; it++) {
        lbrx_tensor t, v;
        int64_t shape[2], r0, r1, r, c;
        double sum = 0, want = 0;
        shape[0] = a->rows; shape[1] = a->cols;
        if (lbrx_tensor_init(&t, LBRX_F32, 2, shape, a->s, (uint64_t)a->header_floats * 4, NULL) != LBRX_OK) { a->bad++; continue; }
        r0 = (int64_t)(lt_next(&rng) % (uint64_t)a->rows);
        r1 = r0 + 1 + (int64_t)(lt_next(&rng) % (uint64_t)(a->rows - r0));
        if (lbrx_tensor_slice_rows(&t, r0, r1, &v, NULL) != LBRX_OK) { a->bad++; lbrx_tensor_release(&t); continue; }
        if (it & 1) lbrx_tensor_release(&t);  /* the view may outlive the tensor it came from */
        lbrx_storage_retain(v.storage);
        for (r = 0; r < r1 - r0; r++) {
            const float *row = (const float *)lbrx_tensor_row(&v, r);
            for (c = 0; c < a->cols; c++) {
                sum += row[c];
                want += pattern_value(a->header_floats + (r0 + r) * a->cols + c);
            }
        }
        if (sum != want) a->bad++;
        lbrx_storage_release(v.storage);
        lbrx_tensor_release(&v);
        if (!(it & 1)) lbrx_tensor_release(&t);
    }
    lbrx_storage_release(a->s);
    return NULL;
}

/* Starts READERS threads on `s` (each with its own reference), drops the caller's reference
   while they run, and joins them. Returns the number of wrong reads. */
static long run_readers(lbrx_storage *s, int64_t rows, int64_t cols, int64_t header_floats) {
    pthread_t th[READERS];
    reader_arg args[READERS];
    int i, started = 0, iters = getenv("LT_SLOW") ? 60 : 400;
    long bad = 0;
    for (i = 0; i < READERS; i++) {
        args[i].s = s; args[i].rows = rows; args[i].cols = cols; args[i].header_floats = header_floats;
        args[i].seed = (unsigned)i * 7919u + 1u; args[i].iters = iters; args[i].bad = 0;
        lbrx_storage_retain(s);
        if (pthread_create(&th[i], NULL, reader_main, &args[i]) != 0) { lbrx_storage_release(s); break; }
        started++;
    }
    lbrx_storage_release(s);
    for (i = 0; i < started; i++) { pthread_join(th[i], NULL); bad += args[i].bad; }
    LT_CHECKF(started == READERS, "only %d threads started", started);
    return bad;
}

static void test_concurrent_readers_mapped(void) {
    const char *path = lt_tmp_path("hardening_readers.bin");
    char keep[4096];
    lbrx_storage *s = NULL;
    lbrx_error err;
    long bad;
    snprintf(keep, sizeof keep, "%s", path);
    LT_CHECK(write_pattern_file(keep, 8 + 256 * 64));
    LT_CHECKF(lbrx_storage_open(&s, keep, NULL, &err) == LBRX_OK, "%s", err.message);
    if (!s) { remove(keep); return; }
    bad = run_readers(s, 256, 64, 8);
    LT_CHECKF(bad == 0, "%ld wrong reads", bad);
    LT_CHECK(remove(keep) == 0);
}

static void test_concurrent_readers_release_once(void) {
    int64_t n = 16 + 128 * 32, i;
    float *buf = (float *)malloc((size_t)n * sizeof(float));
    release_count rc = {0, NULL, 0};
    lbrx_storage *s = NULL;
    long bad;
    if (!buf) LT_SKIP("out of memory");
    for (i = 0; i < n; i++) buf[i] = pattern_value(i);
    LT_CHECK(lbrx_storage_create_external(&s, buf, (size_t)n * sizeof(float), 0, count_release, &rc, NULL, NULL) == LBRX_OK);
    if (s) {
        bad = run_readers(s, 128, 32, 16);
        LT_CHECKF(bad == 0, "%ld wrong reads", bad);
        LT_CHECKF(rc.calls == 1 && rc.ptr == buf, "release callback called %d times", rc.calls);
    }
    free(buf);
}

/* ---- model files: tensors that outlive the reader, 8 threads reading one model ---- */

#define MODEL_TENSORS 12
#define MODEL_COLS 64
static const lbrx_dtype model_dtypes[4] = {LBRX_F32, LBRX_F16, LBRX_Q8_0, LBRX_Q4_0};

/* Sum of every element of t, dequantized row by row; 0 (and *ok = 0) on failure. */
static double tensor_sum(const lbrx_tensor *t, int *ok) {
    float row[MODEL_COLS];
    double sum = 0;
    int64_t r, c, rows = lbrx_tensor_nrows(t);
    if (t->ndim != 2 || t->shape[1] != MODEL_COLS) { *ok = 0; return 0; }
    for (r = 0; r < rows; r++) {
        if (lbrx_dequantize_row(t->dtype, lbrx_tensor_row(t, r), row, MODEL_COLS) != LBRX_OK) { *ok = 0; return 0; }
        for (c = 0; c < MODEL_COLS; c++) sum += row[c];
    }
    return sum;
}

/* Tensors "t.<k>" of the model, on the heap, and their sums (taken before any file exists). */
typedef struct model_case {
    lbrx_tensor t[MODEL_TENSORS];
    double sum[MODEL_TENSORS];
    char names[MODEL_TENSORS][16];
} model_case;

static int model_make(model_case *m) {
    lt_rng rng;
    float src[MODEL_COLS];
    int k, ok = 1;
    int64_t r, c;
    rng.s = 777;
    memset(m, 0, sizeof *m);
    for (k = 0; k < MODEL_TENSORS && ok; k++) {
        int64_t shape[2];
        shape[0] = 8 + k; shape[1] = MODEL_COLS;
        snprintf(m->names[k], sizeof m->names[k], "t.%d", k);
        ok = lbrx_tensor_init_heap(&m->t[k], model_dtypes[k % 4], 2, shape, NULL, NULL) == LBRX_OK;
        for (r = 0; ok && r < shape[0]; r++) {
            for (c = 0; c < MODEL_COLS; c++) src[c] = lt_uniform(&rng) * (float)(k + 1);
            ok = lbrx_quantize_row(model_dtypes[k % 4], src, lbrx_tensor_row(&m->t[k], r), MODEL_COLS) == LBRX_OK;
        }
        if (ok) m->sum[k] = tensor_sum(&m->t[k], &ok);
    }
    return ok;
}

static void model_free(model_case *m) {
    int k;
    for (k = 0; k < MODEL_TENSORS; k++) lbrx_tensor_release(&m->t[k]);
}

static int model_write_gguf(const model_case *m, const char *path) {
    lbrx_gguf_writer *w = NULL;
    lbrx_error err;
    int k, ok;
    ok = lbrx_gguf_writer_create(&w, NULL, &err) == LBRX_OK &&
         lbrx_gguf_writer_add_u32(w, "model.count", MODEL_TENSORS, &err) == LBRX_OK;
    for (k = 0; ok && k < MODEL_TENSORS; k++) ok = lbrx_gguf_writer_add_tensor(w, m->names[k], &m->t[k], &err) == LBRX_OK;
    ok = ok && lbrx_gguf_writer_write_path(w, path, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "  gguf write: %s\n", err.message);
    lbrx_gguf_writer_destroy(w);
    return ok;
}

/* safetensors has no block dtypes: the F32 and F16 tensors only */
static int model_write_safetensors(const model_case *m, const char *path) {
    lbrx_tensor ts[MODEL_TENSORS];
    const char *names[MODEL_TENSORS];
    lbrx_safetensors_write_desc desc;
    lbrx_error err;
    int k, n = 0, ok;
    for (k = 0; k < MODEL_TENSORS; k++)
        if (!lbrx_dtype_is_quantized(m->t[k].dtype)) { names[n] = m->names[k]; ts[n++] = m->t[k]; }
    memset(&desc, 0, sizeof desc);
    desc.tensors = ts;
    desc.names = names;
    desc.n_tensors = (size_t)n;
    ok = lbrx_safetensors_write(path, &desc, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "  safetensors write: %s\n", err.message);
    return ok;
}

static void test_gguf_tensors_outlive_file(void) {
    model_case m;
    char path[4096];
    lbrx_gguf *g = NULL;
    lbrx_tensor t[MODEL_TENSORS], rows;
    lbrx_error err;
    float last_row[MODEL_COLS];
    int k, ok = 1;
    snprintf(path, sizeof path, "%s", lt_tmp_path("hardening_model.gguf"));
    LT_CHECK(model_make(&m) && model_write_gguf(&m, path));
    LT_CHECKF(lbrx_gguf_open(&g, path, NULL, &err) == LBRX_OK, "%s", err.message);
    if (!g) { model_free(&m); remove(path); return; }
    for (k = 0; k < MODEL_TENSORS; k++) LT_CHECK(lbrx_gguf_get_tensor(g, m.names[k], &t[k], &err) == LBRX_OK);
    LT_CHECK(lbrx_tensor_slice_rows(&t[3], 2, 5, &rows, &err) == LBRX_OK);
    lbrx_gguf_destroy(g);  /* unmaps nothing yet: the tensors hold the storage */
    for (k = 0; k < MODEL_TENSORS; k++) {
        LT_CHECKF(tensor_sum(&t[k], &ok) == m.sum[k] && ok, "tensor %d after close", k);
        lbrx_tensor_release(&t[k]);
    }
    /* the view is the last holder of the mapping */
    LT_CHECK(lbrx_dequantize_row(rows.dtype, lbrx_tensor_row(&rows, 2), last_row, MODEL_COLS) == LBRX_OK);
    lbrx_tensor_release(&rows);
    model_free(&m);
    LT_CHECK(remove(path) == 0);
}

static void test_safetensors_tensors_outlive_file(void) {
    model_case m;
    char path[4096];
    lbrx_safetensors *st = NULL;
    lbrx_tensor kept[MODEL_TENSORS];
    lbrx_error err;
    int k, n = 0, ok = 1;
    snprintf(path, sizeof path, "%s", lt_tmp_path("hardening_model.safetensors"));
    LT_CHECK(model_make(&m) && model_write_safetensors(&m, path));
    LT_CHECKF(lbrx_safetensors_open(&st, path, NULL, &err) == LBRX_OK, "%s", err.message);
    if (!st) { model_free(&m); remove(path); return; }
    for (k = 0; k < MODEL_TENSORS; k++) {
        lbrx_result r = lbrx_safetensors_get_tensor(st, m.names[k], &kept[n], &err);
        if (lbrx_dtype_is_quantized(m.t[k].dtype)) { LT_CHECK(r == LBRX_ERR_NOT_FOUND); continue; }
        LT_CHECK(r == LBRX_OK);
        if (r != LBRX_OK) continue;
        n++;  /* a value with its own storage reference: it outlives the reader */
    }
    lbrx_safetensors_destroy(st);
    for (k = 0, n = 0; k < MODEL_TENSORS; k++) {
        if (lbrx_dtype_is_quantized(m.t[k].dtype)) continue;
        LT_CHECKF(tensor_sum(&kept[n], &ok) == m.sum[k] && ok, "tensor %d after close", k);
        lbrx_tensor_release(&kept[n++]);
    }
    model_free(&m);
    LT_CHECK(remove(path) == 0);
}

typedef struct model_reader {
    const model_case *m;
    const lbrx_gguf *g;                  /* phase 1: a shared open GGUF reader */
    const lbrx_safetensors *st;          /* or a shared open safetensors reader */
    lbrx_tensor own[MODEL_TENSORS];      /* phase 2: this thread's references, reader closed */
    unsigned seed;
    int iters;
    long bad;
} model_reader;

static void *model_reader_main(void *p) {
    model_reader *a = (model_reader *)p;
    lt_rng rng;
    int it, ok;
    rng.s = 0x51ed2701ULL + a->seed;
    for (it = 0; it < a->iters; it++) {
        int k = (int)(lt_next(&rng) % MODEL_TENSORS);
        lbrx_tensor t, v;
        uint32_t count = 0;
        memset(&t, 0, sizeof t);
        if (a->g) {
            if (lbrx_gguf_get_tensor(a->g, a->m->names[k], &t, NULL) != LBRX_OK) { a->bad++; continue; }
            if (lbrx_gguf_get_u32(a->g, "model.count", &count, NULL) != LBRX_OK || count != MODEL_TENSORS) a->bad++;
        } else if (a->st) {
            lbrx_result r = lbrx_safetensors_get_tensor(a->st, a->m->names[k], &t, NULL);
            if (lbrx_dtype_is_quantized(a->m->t[k].dtype)) { if (r != LBRX_ERR_NOT_FOUND) a->bad++; continue; }
            if (r != LBRX_OK) { a->bad++; continue; }
        } else {
            t = a->own[k];
            lbrx_storage_retain(t.storage);
        }
        ok = 1;
        if (tensor_sum(&t, &ok) != a->m->sum[k] || !ok) a->bad++;
        if (lbrx_tensor_slice_rows(&t, 1, 3, &v, NULL) == LBRX_OK) {
            lbrx_tensor_release(&t);  /* the view outlives the tensor it came from */
            ok = 1;
            tensor_sum(&v, &ok);
            if (!ok) a->bad++;
            lbrx_tensor_release(&v);
        } else {
            a->bad++;
            lbrx_tensor_release(&t);
        }
    }
    for (it = 0; it < MODEL_TENSORS; it++) lbrx_tensor_release(&a->own[it]);
    return NULL;
}

/* Runs READERS threads over one model (a->g, a->st or each thread's own references). */
static long run_model_readers(const model_case *m, const lbrx_gguf *g, const lbrx_safetensors *st,
                              const lbrx_tensor *own) {
    static model_reader args[READERS];
    pthread_t th[READERS];
    int i, k, started = 0;
    long bad = 0;
    for (i = 0; i < READERS; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].m = m; args[i].g = g; args[i].st = st; args[i].seed = (unsigned)i;
        args[i].iters = getenv("LT_SLOW") ? 40 : 300;
        if (own)
            for (k = 0; k < MODEL_TENSORS; k++) { args[i].own[k] = own[k]; lbrx_storage_retain(own[k].storage); }
        if (pthread_create(&th[i], NULL, model_reader_main, &args[i]) != 0) {
            for (k = 0; k < MODEL_TENSORS; k++) lbrx_tensor_release(&args[i].own[k]);
            break;
        }
        started++;
    }
    LT_CHECKF(started == READERS, "only %d threads started", started);
    for (i = 0; i < started; i++) { pthread_join(th[i], NULL); bad += args[i].bad; }
    return bad;
}

static void test_concurrent_model_readers(void) {
    model_case m;
    char gpath[4096], spath[4096];
    lbrx_gguf *g = NULL;
    lbrx_safetensors *st = NULL;
    lbrx_tensor own[MODEL_TENSORS];
    lbrx_error err;
    long bad;
    int k;
    snprintf(gpath, sizeof gpath, "%s", lt_tmp_path("hardening_readers.gguf"));
    snprintf(spath, sizeof spath, "%s", lt_tmp_path("hardening_readers.safetensors"));
    LT_CHECK(model_make(&m) && model_write_gguf(&m, gpath) && model_write_safetensors(&m, spath));
    /* one open GGUF reader shared by 8 threads */
    LT_CHECKF(lbrx_gguf_open(&g, gpath, NULL, &err) == LBRX_OK, "%s", err.message);
    if (g) {
        bad = run_model_readers(&m, g, NULL, NULL);
        LT_CHECKF(bad == 0, "gguf: %ld wrong reads", bad);
        /* 8 threads holding the tensors of a closed reader; the last one out unmaps */
        for (k = 0; k < MODEL_TENSORS; k++) LT_CHECK(lbrx_gguf_get_tensor(g, m.names[k], &own[k], NULL) == LBRX_OK);
        lbrx_gguf_destroy(g);
        bad = run_model_readers(&m, NULL, NULL, own);
        LT_CHECKF(bad == 0, "gguf, closed: %ld wrong reads", bad);
        for (k = 0; k < MODEL_TENSORS; k++) lbrx_tensor_release(&own[k]);
    }
    /* one open safetensors reader shared by 8 threads */
    LT_CHECKF(lbrx_safetensors_open(&st, spath, NULL, &err) == LBRX_OK, "%s", err.message);
    if (st) {
        bad = run_model_readers(&m, NULL, st, NULL);
        LT_CHECKF(bad == 0, "safetensors: %ld wrong reads", bad);
        lbrx_safetensors_destroy(st);
    }
    model_free(&m);
    LT_CHECK(remove(gpath) == 0 && remove(spath) == 0);
}

/* ---- kernels called from several host threads at once ---- */

/* Shared read-only inputs of the kernels and the single-threaded results to compare with. */
#define KT_OUT 48
#define KT_IN 64
#define KT_N 9       /* >= LBRX_MATMUL_GEMM_MIN: the tiled kernels */
#define KT_HEADS 4
#define KT_KV_HEADS 2
#define KT_HEAD_DIM 16
#define KT_Q 5
#define KT_KV 11
typedef struct kernel_case {
    lbrx_tensor w, x, q, k, v;     /* inputs, shared by every thread */
    lbrx_tensor y_ref, att_ref;    /* what one call on the main thread produced */
    lbrx_tensor y_split;           /* one product, its output columns split over the threads */
} kernel_case;

typedef struct kernel_arg {
    kernel_case *kc;
    int index, iters;
    long bad;
} kernel_arg;

static long count_diff(const lbrx_tensor *a, const lbrx_tensor *b) {
    size_t n = 0, i;
    long d = 0;
    if (lbrx_tensor_nbytes(a, &n) != LBRX_OK) return 1;
    for (i = 0; i < n / 4; i++)
        if (memcmp((const float *)a->data + i, (const float *)b->data + i, 4) != 0) d++;
    return d;
}

static void *kernel_main(void *p) {
    kernel_arg *a = (kernel_arg *)p;
    kernel_case *kc = a->kc;
    lbrx_context_desc cd;
    lbrx_context *ctx = NULL;
    lbrx_attention_desc ad;
    lbrx_tensor y, att;
    int it;
    int64_t per = KT_OUT / READERS;
    memset(&cd, 0, sizeof cd);
    cd.n_threads = 2;  /* OpenMP teams inside host threads (one thread without OpenMP) */
    memset(&ad, 0, sizeof ad);
    ad.causal = 1;
    if (lbrx_context_create(&ctx, &cd, NULL) != LBRX_OK ||
        lbrx_tensor_init_heap(&y, LBRX_F32, 2, kc->y_ref.shape, NULL, NULL) != LBRX_OK) { a->bad++; lbrx_context_destroy(ctx); return NULL; }
    if (lbrx_tensor_init_heap(&att, LBRX_F32, 3, kc->att_ref.shape, NULL, NULL) != LBRX_OK) { a->bad++; lbrx_tensor_release(&y); lbrx_context_destroy(ctx); return NULL; }
    for (it = 0; it < a->iters; it++) {
        if (lbrx_matmul(ctx, &kc->w, &kc->x, &y, NULL) != LBRX_OK) a->bad++;
        a->bad += count_diff(&y, &kc->y_ref);
        if (lbrx_attention(ctx, &kc->q, &kc->k, &kc->v, &ad, &att, NULL) != LBRX_OK) a->bad++;
        a->bad += count_diff(&att, &kc->att_ref);
    }
    /* this thread's share of the split product: columns [index*per, (index+1)*per) */
    lbrx_context_set_threads(ctx, 1);
    if (lbrx_matmul_rows(ctx, &kc->w, &kc->x, a->index * per, (a->index + 1) * per, &kc->y_split, NULL) != LBRX_OK) a->bad++;
    lbrx_tensor_release(&att);
    lbrx_tensor_release(&y);
    lbrx_context_destroy(ctx);
    return NULL;
}

static void test_kernels_from_host_threads(void) {
    kernel_case kc;
    kernel_arg args[READERS];
    pthread_t th[READERS];
    lbrx_context *ctx = NULL;
    lbrx_context_desc cd;
    lbrx_attention_desc ad;
    lt_rng rng;
    int64_t ws[2] = {KT_OUT, KT_IN}, xs[2] = {KT_N, KT_IN}, ys[2] = {KT_N, KT_OUT};
    int64_t qs[3] = {KT_Q, KT_HEADS, KT_HEAD_DIM}, ks[3] = {KT_KV, KT_KV_HEADS, KT_HEAD_DIM};
    int i, started = 0;
    long bad = 0;
    size_t j;
    memset(&kc, 0, sizeof kc);
    rng.s = 12345;
    LT_CHECK(lbrx_tensor_init_heap(&kc.w, LBRX_F32, 2, ws, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.q, LBRX_F32, 3, qs, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.k, LBRX_F32, 3, ks, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.v, LBRX_F32, 3, ks, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.y_ref, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.y_split, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&kc.att_ref, LBRX_F32, 3, qs, NULL, NULL) == LBRX_OK);
    if (!kc.w.data || !kc.x.data || !kc.q.data || !kc.k.data || !kc.v.data || !kc.y_ref.data || !kc.y_split.data || !kc.att_ref.data) goto done;
    for (j = 0; j < (size_t)(KT_OUT * KT_IN); j++) ((float *)kc.w.data)[j] = lt_uniform(&rng);
    for (j = 0; j < (size_t)(KT_N * KT_IN); j++) ((float *)kc.x.data)[j] = lt_uniform(&rng);
    for (j = 0; j < (size_t)(KT_Q * KT_HEADS * KT_HEAD_DIM); j++) ((float *)kc.q.data)[j] = lt_uniform(&rng);
    for (j = 0; j < (size_t)(KT_KV * KT_KV_HEADS * KT_HEAD_DIM); j++) {
        ((float *)kc.k.data)[j] = lt_uniform(&rng);
        ((float *)kc.v.data)[j] = lt_uniform(&rng);
    }
    memset(&cd, 0, sizeof cd);
    cd.n_threads = 2;
    memset(&ad, 0, sizeof ad);
    ad.causal = 1;
    LT_CHECK(lbrx_context_create(&ctx, &cd, NULL) == LBRX_OK);
    LT_CHECK(ctx && lbrx_matmul(ctx, &kc.w, &kc.x, &kc.y_ref, NULL) == LBRX_OK);
    LT_CHECK(ctx && lbrx_attention(ctx, &kc.q, &kc.k, &kc.v, &ad, &kc.att_ref, NULL) == LBRX_OK);
    lbrx_context_destroy(ctx);
    for (i = 0; i < READERS; i++) {
        args[i].kc = &kc; args[i].index = i; args[i].iters = getenv("LT_SLOW") ? 3 : 20; args[i].bad = 0;
        if (pthread_create(&th[i], NULL, kernel_main, &args[i]) != 0) break;
        started++;
    }
    for (i = 0; i < started; i++) { pthread_join(th[i], NULL); bad += args[i].bad; }
    LT_CHECKF(started == READERS, "only %d threads started", started);
    LT_CHECKF(bad == 0, "%ld results differ from the single-threaded ones", bad);
    /* the product split over the host threads is bit-identical to one call */
    LT_CHECKF(count_diff(&kc.y_split, &kc.y_ref) == 0, "split product differs in %ld elements", count_diff(&kc.y_split, &kc.y_ref));
done:
    lbrx_tensor_release(&kc.w); lbrx_tensor_release(&kc.x); lbrx_tensor_release(&kc.q);
    lbrx_tensor_release(&kc.k); lbrx_tensor_release(&kc.v); lbrx_tensor_release(&kc.y_ref);
    lbrx_tensor_release(&kc.y_split); lbrx_tensor_release(&kc.att_ref);
}

/* ---- offsets past 4 GiB ---- */

/* A sparse file of `size` bytes whose last 8 bytes are `tail`; 0 when the system refuses. */
static int write_sparse_file(const char *path, uint64_t size, const unsigned char tail[8]) {
#if defined(_WIN32)
    HANDLE h = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    LARGE_INTEGER pos;
    DWORD done = 0;
    int ok;
    if (h == INVALID_HANDLE_VALUE) return 0;
    pos.QuadPart = (LONGLONG)(size - 8);
    ok = SetFilePointerEx(h, pos, NULL, FILE_BEGIN) && WriteFile(h, tail, 8, &done, NULL) && done == 8;
    return CloseHandle(h) && ok;
#else
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600), ok;
    if (fd < 0) return 0;
    ok = sizeof(off_t) == 8 && ftruncate(fd, (off_t)size) == 0 &&
         pwrite(fd, tail, 8, (off_t)(size - 8)) == 8;
    return close(fd) == 0 && ok;
#endif
}

static void test_big_file_offsets(void) {
    const uint64_t size = ((uint64_t)1 << 32) + 4096;  /* 4 GiB + 4 KiB */
    const unsigned char tail[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const char *path = lt_tmp_path("hardening_big.bin");
    char keep[4096];
    lbrx_storage *s = NULL;
    lbrx_error err;
    lbrx_result r;
#if defined(LBRX_NO_MMAP)
    if (sizeof(size_t) > 4) LT_SKIP("LBRX_NO_MMAP would read 4 GiB into memory");
#endif
    snprintf(keep, sizeof keep, "%s", path);
    if (!write_sparse_file(keep, size, tail)) { remove(keep); LT_SKIP("cannot create a sparse 4 GiB file here"); }
    memset(&err, 0, sizeof err);
    r = lbrx_storage_open(&s, keep, NULL, &err);
    if (sizeof(size_t) == 4) {
        /* 32-bit: refused cleanly, no storage, a message */
        LT_CHECKF(r == LBRX_ERR_LIMIT, "got %s: %s", lbrx_result_str(r), err.message);
        LT_CHECK(s == NULL && err.message[0] != 0);
    } else if (r == LBRX_ERR_LIMIT) {
        fprintf(stderr, "  note: 4 GiB map refused here: %s\n", err.message);  /* e.g. ulimit -v */
    } else {
        lbrx_tensor t;
        int64_t shape[1] = {8};
        LT_CHECKF(r == LBRX_OK, "%s", err.message);
        if (s) {
            LT_CHECK((uint64_t)lbrx_storage_size(s) == size);
            LT_CHECK(lbrx_tensor_init(&t, LBRX_U8, 1, shape, s, size - 8, &err) == LBRX_OK);
            LT_CHECK(t.data && memcmp(t.data, tail, 8) == 0);
            lbrx_tensor_release(&t);
            LT_CHECK(lbrx_storage_at(s, size - 8, 9) == NULL);
            LT_CHECK(lbrx_tensor_init(&t, LBRX_U8, 1, shape, s, size - 7, &err) == LBRX_ERR_BAD_OFFSET);
            lbrx_storage_release(s);
        }
    }
    LT_CHECK(remove(keep) == 0);
}

/* Offsets and sizes that exceed 32 bits must not wrap around on 32-bit builds. */
static void test_no_32bit_wraparound(void) {
    static unsigned char buf[64];
    lbrx_storage *s = NULL;
    lbrx_tensor t;
    int64_t one[1] = {16}, big[2] = {65536, 65536};
    size_t rb = 0;
    lbrx_result r;
    LT_CHECK(lbrx_storage_create_external(&s, buf, sizeof buf, 0, NULL, NULL, NULL, NULL) == LBRX_OK);
    if (!s) return;
    LT_CHECK(lbrx_storage_at(s, ((uint64_t)1 << 32) + 16, 16) == NULL);
    LT_CHECK(lbrx_storage_at(s, 16, ((uint64_t)1 << 32) + 16) == NULL);
    LT_CHECK(lbrx_storage_at(s, UINT64_MAX, 2) == NULL);
    LT_CHECK(lbrx_tensor_init(&t, LBRX_U8, 1, one, s, ((uint64_t)1 << 32) + 16, NULL) == LBRX_ERR_BAD_OFFSET);
    /* 16 GiB of F32 */
    r = lbrx_tensor_init(&t, LBRX_F32, 2, big, s, 0, NULL);
    LT_CHECKF(r == (sizeof(size_t) == 4 ? LBRX_ERR_OVERFLOW : LBRX_ERR_BAD_OFFSET), "%s", lbrx_result_str(r));
    r = lbrx_row_bytes(LBRX_F32, (int64_t)1 << 31, &rb);
    LT_CHECK(r == (sizeof(size_t) == 4 ? LBRX_ERR_OVERFLOW : LBRX_OK));
    lbrx_storage_release(s);
}

/* ---- UTF-8 paths ---- */

static void test_utf8_path(void) {
    /* "lbrx_ü_日本_ε.bin" */
    const char *name = "hardening_\xc3\xbc_\xe6\x97\xa5\xe6\x9c\xac_\xce\xb5.bin";
    char keep[4096];
    lbrx_storage *s = NULL;
    lbrx_error err;
    lbrx_result r;
    snprintf(keep, sizeof keep, "%s", lt_tmp_path(name));
    if (!write_pattern_file(keep, 1000)) LT_SKIP("cannot create a file with a non-ASCII name here");
    r = lbrx_storage_open(&s, keep, NULL, &err);
    LT_CHECKF(r == LBRX_OK, "%s", err.message);
    if (s) {
        const float *f = (const float *)lbrx_storage_at(s, 999 * 4, 4);
        LT_CHECK(lbrx_storage_size(s) == 4000 && lbrx_storage_kind_of(s) == LBRX_STORAGE_MMAP);
        LT_CHECK(f && *f == pattern_value(999));
        lbrx_storage_release(s);
    }
    LT_CHECK(remove_utf8(keep) == 0);
    /* gone now: a clear NOT_FOUND */
    s = NULL;
    r = lbrx_storage_open(&s, keep, NULL, &err);
    LT_CHECKF(r == LBRX_ERR_NOT_FOUND && s == NULL, "%s", lbrx_result_str(r));
    /* not UTF-8 (a lone continuation byte): Windows cannot name it, POSIX finds no such file */
    r = lbrx_storage_open(&s, lt_tmp_path("bad_\x80_name.bin"), NULL, &err);
#if defined(_WIN32)
    LT_CHECKF(r == LBRX_ERR_INVALID_ARGUMENT, "%s", lbrx_result_str(r));
#else
    LT_CHECKF(r == LBRX_ERR_NOT_FOUND, "%s", lbrx_result_str(r));
#endif
}

/* ---- fuzzer regressions and seeds ---- */

static void test_fuzz_regressions(void) {
    long n = 0;
    n += lt_fuzz_replay_path("tests/fuzz_regressions/gguf", NULL, lt_fuzz_gguf);
    n += lt_fuzz_replay_path("tests/fuzz_regressions/safetensors", NULL, lt_fuzz_safetensors);
    n += lt_fuzz_replay_path("tests/fuzz_regressions/json", NULL, lt_fuzz_json);
    LT_CHECKF(n > 0, "no regression inputs found under tests/fuzz_regressions");
}

/* The shared real files through the harnesses: every tensor of every file read and dequantized. */
static void test_fuzz_harnesses_on_shared_files(void) {
    char root[4096];
    char *slash;
    long n;
    LT_SHARED_OR_SKIP(marker, "PROVENANCE.md");
    snprintf(root, sizeof root, "%s", marker);
    slash = strrchr(root, '/');
    if (slash) *slash = 0;
    n = lt_fuzz_replay_path(root, ".gguf", lt_fuzz_gguf);
    n += lt_fuzz_replay_path(root, ".safetensors", lt_fuzz_safetensors);
    n += lt_fuzz_replay_path(root, ".json", lt_fuzz_json);
    LT_CHECKF(n >= 10, "only %ld shared files found", n);
}

int main(void) {
    LT_RUN(test_views_outlive_owner);
    LT_RUN(test_external_release_once);
    LT_RUN(test_concurrent_readers_mapped);
    LT_RUN(test_concurrent_readers_release_once);
    LT_RUN(test_gguf_tensors_outlive_file);
    LT_RUN(test_safetensors_tensors_outlive_file);
    LT_RUN(test_concurrent_model_readers);
    LT_RUN(test_kernels_from_host_threads);
    LT_RUN(test_big_file_offsets);
    LT_RUN(test_no_32bit_wraparound);
    LT_RUN(test_utf8_path);
    LT_RUN(test_fuzz_regressions);
    LT_RUN(test_fuzz_harnesses_on_shared_files);
    return lt_finish();
}
