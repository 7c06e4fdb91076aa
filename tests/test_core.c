/* Core: dtypes, allocation, tensors and views, f16/bf16 conversions. */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"

static void test_dtype_table(void) {
    size_t b = 0;
    LT_CHECK(lbrx_dtype_block_size(LBRX_Q4_0) == 32 && lbrx_dtype_block_bytes(LBRX_Q4_0) == 18);
    LT_CHECK(lbrx_dtype_block_size(LBRX_Q6_K) == 256 && lbrx_dtype_block_bytes(LBRX_Q6_K) == 210);
    LT_CHECK(lbrx_dtype_block_bytes(LBRX_BF16) == 2 && strcmp(lbrx_dtype_name(LBRX_BF16), "bf16") == 0);
    LT_CHECK(lbrx_dtype_block_bytes(LBRX_Q8_1) == 36 && lbrx_dtype_block_bytes(LBRX_Q8_K) == 292);
    LT_CHECK(strcmp(lbrx_dtype_name(LBRX_F8_E4M3), "f8_e4m3") == 0 && lbrx_dtype_block_bytes(LBRX_U64) == 8);
    LT_CHECK(!lbrx_dtype_valid(4) && !lbrx_dtype_valid(31) && !lbrx_dtype_valid(-1) && !lbrx_dtype_valid(1000));
    LT_CHECK(!lbrx_dtype_valid(LBRX_GGML_TYPE_COUNT) && !lbrx_dtype_valid(LBRX_DTYPE_COUNT));
    LT_CHECK(strcmp(lbrx_dtype_name((lbrx_dtype)5), "invalid") == 0);
    LT_CHECK(lbrx_row_bytes(LBRX_Q8_0, 64, &b) == LBRX_OK && b == 68);
    LT_CHECK(lbrx_row_bytes(LBRX_Q8_0, 48, &b) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_row_bytes(LBRX_F32, INT64_MAX, &b) == LBRX_ERR_OVERFLOW);
    LT_CHECK(strcmp(lbrx_result_str(LBRX_ERR_TRUNCATED), "truncated file") == 0);
}

static void test_checked_arithmetic(void) {
    size_t s = 7;
    uint64_t u = 7;
    LT_CHECK(!lbrx_mul_size(SIZE_MAX / 2 + 1, 2, &s) && s == 7);
    LT_CHECK(lbrx_mul_size(SIZE_MAX, 1, &s) && s == SIZE_MAX);
    LT_CHECK(!lbrx_add_size(SIZE_MAX, 1, &s) && lbrx_add_size(1, 2, &s) && s == 3);
    LT_CHECK(!lbrx_mul_u64(UINT64_MAX, 2, &u) && lbrx_mul_u64(0, UINT64_MAX, &u) && u == 0);
    LT_CHECK(!lbrx_add_u64(UINT64_MAX, 1, &u));
}

/* a run-time allocator that counts: every allocation is freed, and all come through it */
static void test_allocator_counts(void) {
    lt_counting c = {0, 0, 0, 0, 0};
    lbrx_allocator a = lt_counting_allocator(&c);
    lbrx_tensor t, v;
    lbrx_context *ctx;
    lbrx_context_desc desc;
    int64_t shape[2] = {3, 100};
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_F32, 2, shape, &a, NULL) == LBRX_OK);
    LT_CHECK(c.allocs == 2 && c.bytes >= 1200);  /* the storage struct and its data */
    LT_CHECK(((uintptr_t)t.data & 63) == 0);
    LT_CHECK(lbrx_tensor_slice_rows(&t, 1, 2, &v, NULL) == LBRX_OK);
    lbrx_tensor_release(&t);
    LT_CHECK(c.frees == 0);  /* the view still holds the storage */
    lbrx_tensor_release(&v);
    LT_CHECK(c.frees == 2 && c.live == 0 && c.peak == c.bytes);
    memset(&desc, 0, sizeof desc);
    desc.allocator = a;
    desc.scratch_bytes = 1000;
    LT_CHECK(lbrx_context_create(&ctx, &desc, NULL) == LBRX_OK);
    LT_CHECK(lbrx_context_threads(ctx) >= 1);
    LT_CHECK(lbrx_context_scratch(ctx, 500) != NULL);
    LT_CHECK(((uintptr_t)lbrx_context_scratch(ctx, 5000) & 63) == 0);  /* grows */
    lbrx_context_destroy(ctx);
    LT_CHECKF(c.allocs == c.frees && c.allocs == 5 && c.live == 0, "%ld allocs, %ld frees", c.allocs, c.frees);
}

static void test_heap_alignment(void) {
    int i;
    for (i = 0; i < 20; i++) {
        void *p = lbrx_alloc(NULL, (size_t)(i * 13 + 1), 64);
        lbrx_storage *s;
        LT_CHECK(p && ((uintptr_t)p & 63) == 0);
        lbrx_free(NULL, p);
        LT_CHECK(lbrx_storage_create(&s, (size_t)i * 7, 0, NULL, NULL) == LBRX_OK);
        LT_CHECK(((uintptr_t)lbrx_storage_data(s) & 63) == 0 && lbrx_storage_size(s) == (size_t)i * 7);
        LT_CHECK(lbrx_storage_writable(s) && lbrx_storage_kind_of(s) == LBRX_STORAGE_HEAP);
        lbrx_storage_release(s);
    }
    LT_CHECK(lbrx_alloc(NULL, 10, 48) == NULL);  /* not a power of two */
    {
        void *p = lbrx_alloc(NULL, 10, 4096);
        LT_CHECK(p && ((uintptr_t)p & 4095) == 0 && lbrx_pointer_alignment(p) == 4096);
        lbrx_free(NULL, p);
    }
}

#ifdef LBRX__HUGE_PAGE
/* The kernel's own account of the mapping that holds p (/proc/self/smaps): 1 when its VmFlags
   carry the huge-page advice ("hg"), 0 when not, -1 when smaps shows no VmFlags for it. */
static int smaps_advised(const void *p) {
    char line[512];
    int in = 0, advised = -1;
    FILE *f = fopen("/proc/self/smaps", "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (in && strncmp(line, "VmFlags:", 8) == 0) advised = strstr(line, " hg") != NULL;
    }
    if (f) fclose(f);
    return advised;
}
#endif

/* Large blocks from the default allocator start on a 2 MiB boundary and carry the huge-page
   advice. The test first advises a mapping of its own, to learn whether this system shows the
   advice at all (qemu-user accepts madvise and drops it; a kernel without THP refuses it). */
static void test_large_blocks_huge_pages(void) {
#ifdef LBRX__HUGE_PAGE
    const size_t size = ((size_t)8 << 20) + 100, probe_size = (size_t)4 << 20;
    unsigned char *p;
    void *probe = mmap(NULL, probe_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int shown;
    LT_CHECK(probe != MAP_FAILED);
    if (probe == MAP_FAILED) return;
    shown = madvise(probe, probe_size, MADV_HUGEPAGE) == 0 && smaps_advised(probe) == 1;
    munmap(probe, probe_size);
    p = (unsigned char *)lbrx_alloc(NULL, size, 64);
    LT_CHECK(p && ((uintptr_t)p & (((size_t)2 << 20) - 1)) == 0);
    if (!p) return;
    memset(p, 7, size);
    LT_CHECK(p[0] == 7 && p[size - 1] == 7);
    if (shown) LT_CHECKF(smaps_advised(p) == 1, "the 8 MiB block's mapping lacks the huge-page advice (hg)");
    lbrx_free(NULL, p);
    if (!shown) LT_SKIP("this system does not show madvise(MADV_HUGEPAGE) in /proc/self/smaps (qemu-user, no THP)");
#else
    LT_SKIP("huge-page advice is Linux-only and off under LBRX_NO_HUGE_PAGES");
#endif
}

/* element [i][j][k] of the 4x5x6 test tensor */
static float val3(int64_t i, int64_t j, int64_t k) { return (float)(i * 30 + j * 6 + k); }

static void test_views_share_storage(void) {
    lbrx_tensor t, s, r, rows, s2;
    int64_t shape[3] = {4, 5, 6}, nshape[2] = {-1, 6}, n;
    float *p;
    int64_t i, j, k;
    lbrx_error err;
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_F32, 3, shape, NULL, NULL) == LBRX_OK);
    p = (float *)t.data;
    for (i = 0; i < 120; i++) p[i] = (float)i;
    LT_CHECK(lbrx_tensor_is_contiguous(&t) && lbrx_tensor_nrows(&t) == 20);
    LT_CHECK(lbrx_tensor_nelements(&t, &n) == LBRX_OK && n == 120);
    /* slice of the middle dimension: same storage, no copy, right elements */
    LT_CHECK(lbrx_tensor_slice(&t, 1, 2, 4, &s, NULL) == LBRX_OK);
    LT_CHECK(s.storage == t.storage && s.shape[1] == 2 && !lbrx_tensor_is_contiguous(&s));
    LT_CHECK((unsigned char *)s.data == (unsigned char *)t.data + 2 * 24);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 2; j++)
            for (k = 0; k < 6; k++)
                LT_CHECK(((float *)lbrx_tensor_row(&s, i * 2 + j))[k] == val3(i, j + 2, k));
    /* a slice of the slice (last dimension) */
    LT_CHECK(lbrx_tensor_slice(&s, 2, 1, 4, &s2, NULL) == LBRX_OK);
    LT_CHECK(((float *)lbrx_tensor_row(&s2, 5))[2] == val3(2, 3, 3));
    /* rows of the outermost dimension stay contiguous */
    LT_CHECK(lbrx_tensor_slice_rows(&t, 1, 3, &rows, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_is_contiguous(&rows) && ((float *)rows.data)[0] == val3(1, 0, 0));
    /* reshape: same data pointer, inferred dimension */
    LT_CHECK(lbrx_tensor_reshape(&t, 2, nshape, &r, NULL) == LBRX_OK && r.shape[0] == 20 && r.data == t.data);
    LT_CHECK(((float *)lbrx_tensor_row(&r, 13))[4] == val3(2, 3, 4));
    lbrx_tensor_release(&r);
    LT_CHECK(lbrx_tensor_reshape(&s, 2, nshape, &r, &err) == LBRX_ERR_INVALID_ARGUMENT);
    {
        int64_t bad[2] = {7, -1}, two[2] = {-1, -1};
        LT_CHECK(lbrx_tensor_reshape(&t, 2, bad, &r, &err) == LBRX_ERR_INVALID_ARGUMENT);
        LT_CHECK(lbrx_tensor_reshape(&t, 2, two, &r, &err) == LBRX_ERR_INVALID_ARGUMENT);
    }
    LT_CHECK(lbrx_tensor_slice(&t, 3, 0, 1, &r, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_tensor_slice(&t, 0, 2, 5, &r, &err) == LBRX_ERR_INVALID_ARGUMENT && strstr(err.message, "outside"));
    /* every view is released once; the storage goes with the last */
    lbrx_tensor_release(&s2);
    lbrx_tensor_release(&rows);
    lbrx_tensor_release(&s);
    lbrx_tensor_release(&t);
    lbrx_tensor_release(&t);  /* releasing a released tensor is harmless */
}

static void test_block_views(void) {
    lbrx_tensor q, s, r;
    int64_t shape[2] = {3, 128}, nshape[1] = {384};
    lbrx_error err;
    LT_CHECK(lbrx_tensor_init_heap(&q, LBRX_Q4_0, 2, shape, NULL, NULL) == LBRX_OK);
    LT_CHECK(q.stride[0] == 4 * 18 && q.stride[1] == 0);
    LT_CHECK(lbrx_tensor_slice(&q, 1, 64, 128, &s, NULL) == LBRX_OK);
    LT_CHECK((unsigned char *)s.data == (unsigned char *)q.data + 2 * 18 && s.shape[1] == 64);
    LT_CHECK((unsigned char *)lbrx_tensor_row(&s, 2) == (unsigned char *)q.data + 2 * 72 + 36);
    LT_CHECK(lbrx_tensor_slice(&q, 1, 16, 64, &r, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_tensor_reshape(&q, 1, nshape, &r, NULL) == LBRX_OK && r.data == q.data);
    lbrx_tensor_release(&r);
    {
        int64_t odd[2] = {4, 96}, bad[2] = {8, 48};
        LT_CHECK(lbrx_tensor_reshape(&q, 2, odd, &r, NULL) == LBRX_OK);
        lbrx_tensor_release(&r);
        LT_CHECK(lbrx_tensor_reshape(&q, 2, bad, &r, &err) == LBRX_ERR_BAD_SHAPE);
    }
    lbrx_tensor_release(&s);
    lbrx_tensor_release(&q);
}

static void test_shape_errors(void) {
    lbrx_tensor t;
    lbrx_error err;
    int64_t neg[2] = {2, -1}, big[3] = {(int64_t)1 << 40, (int64_t)1 << 40, 16}, odd[1] = {33};
    int64_t zero[2] = {0, 5};
    float buf[4];
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_F32, 2, neg, buf, &err) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_F32, 3, big, buf, &err) == LBRX_ERR_OVERFLOW);
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_Q8_0, 1, odd, buf, &err) == LBRX_ERR_BAD_SHAPE && strstr(err.message, "block"));
    LT_CHECK(lbrx_tensor_init_memory(&t, (lbrx_dtype)31, 1, odd, buf, &err) == LBRX_ERR_BAD_DTYPE && strstr(err.message, "31"));
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_F32, LBRX_MAX_DIMS + 1, big, buf, &err) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_F32, 2, zero, NULL, &err) == LBRX_OK && lbrx_tensor_nrows(&t) == 0);
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_F32, 0, NULL, buf, &err) == LBRX_OK && lbrx_tensor_nrows(&t) == 1);
}

/* ---- f16 / bf16 against the test's own double-precision reference ---- */

static double ref_f16_value(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31) v = m ? NAN : INFINITY;
    else v = e == 0 ? ldexp((double)m, -24) : ldexp((double)(1024 + m), e - 25);
    return (h & 0x8000) ? -v : v;
}
static double ref_bf16_value(uint16_t h) {
    int e = (h >> 7) & 255, m = h & 127;
    double v;
    if (e == 255) v = m ? NAN : INFINITY;
    else v = e == 0 ? ldexp((double)m, -133) : ldexp((double)(128 + m), e - 134);
    return (h & 0x8000) ? -v : v;
}

/* nearest-even rounding of a finite double to the format whose positive codes 0..inf_code
   increase with value (both f16 and bf16); the code above the largest finite acts as the next
   value of an unbounded exponent, which is what IEEE overflow rounding uses */
static uint16_t ref_round(double x, double (*value)(uint16_t), uint16_t inf_code, double inf_as) {
    uint16_t sign = signbit(x) ? 0x8000 : 0, lo = 0, hi = inf_code, mid;
    double a = fabs(x), vlo, vhi;
    while (hi - lo > 1) {  /* largest code with value <= a */
        mid = (uint16_t)((lo + hi) / 2);
        if (value(mid) <= a) lo = mid; else hi = mid;
    }
    if (a >= inf_as) return (uint16_t)(sign | inf_code);
    vlo = value(lo);
    vhi = lo + 1 == inf_code ? inf_as : value((uint16_t)(lo + 1));
    if (a - vlo < vhi - a || (a - vlo == vhi - a && !(lo & 1))) return (uint16_t)(sign | lo);
    return (uint16_t)(sign | (lo + 1));
}

static float bits_f(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static uint32_t f_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

static void test_f16_all_patterns(void) {
    uint32_t h;
    int bad = 0;
    for (h = 0; h < 65536 && bad < 5; h++) {
        float f = lbrx_f16_to_f32((uint16_t)h);
        double want = ref_f16_value((uint16_t)h);
        uint16_t back = lbrx_f32_to_f16(f);
        if (want != want) {
            /* NaN: quiet, sign and payload kept */
            if (!(f != f) || (f_bits(f) >> 31) != (h >> 15) || back != (h | 0x200)) { bad++; LT_CHECKF(0, "NaN 0x%04x -> 0x%08x -> 0x%04x", h, f_bits(f), back); }
        } else if ((double)f != want || (signbit(f) != 0) != (signbit(want) != 0) || back != h) {
            bad++;
            LT_CHECKF(0, "f16 0x%04x -> %.9g (want %.9g) -> 0x%04x", h, f, want, back);
        }
    }
}

static void test_bf16_all_patterns(void) {
    uint32_t h;
    int bad = 0;
    for (h = 0; h < 65536 && bad < 5; h++) {
        float f = lbrx_bf16_to_f32((uint16_t)h);
        double want = ref_bf16_value((uint16_t)h);
        uint16_t back = lbrx_f32_to_bf16(f);
        if (want != want) {
            if (f_bits(f) != h << 16 || back != (h | 0x40)) { bad++; LT_CHECKF(0, "NaN 0x%04x -> 0x%04x", h, back); }
        } else if ((double)f != want || (signbit(f) != 0) != (signbit(want) != 0) || back != h) {
            bad++;
            LT_CHECKF(0, "bf16 0x%04x -> %.9g (want %.9g) -> 0x%04x", h, f, want, back);
        }
    }
}

/* f32 -> f16/bf16 rounding: every midpoint between neighbouring codes and its two float
   neighbours, plus random floats of every exponent, against ref_round */
static void test_f32_rounding(void) {
    lt_rng rng = {3};
    int i, bad = 0, fmt;
    for (fmt = 0; fmt < 2; fmt++) {
        double (*value)(uint16_t) = fmt ? ref_bf16_value : ref_f16_value;
        uint16_t inf_code = fmt ? 0x7f80 : 0x7c00;
        double inf_as = fmt ? ldexp(1.0, 128) : 65536.0;
        uint16_t (*conv)(float) = fmt ? lbrx_f32_to_bf16 : lbrx_f32_to_f16;
        uint32_t c;
        for (c = 0; c < inf_code && bad < 5; c++) {
            double lo = value((uint16_t)c), hi = c + 1 == inf_code ? inf_as : value((uint16_t)(c + 1));
            float mid = (float)((lo + hi) / 2);  /* exact for f16; for bf16 too (8-bit mantissas) */
            float cands[3];
            int k;
            cands[0] = mid;
            cands[1] = bits_f(f_bits(mid) + 1);
            cands[2] = bits_f(f_bits(mid) - 1);
            for (k = 0; k < 3; k++) {
                float x = k == 0 || mid != 0.0f ? cands[k] : mid;
                uint16_t got = conv(x), want = ref_round((double)x, value, inf_code, inf_as);
                uint16_t gotn = conv(-x), wantn = ref_round(-(double)x, value, inf_code, inf_as);
                if (isinf(x) || x != x) continue;
                if (got != want || gotn != wantn) {
                    bad++;
                    LT_CHECKF(0, "%s(%.9g) = 0x%04x, want 0x%04x", fmt ? "bf16" : "f16", x, got, want);
                }
            }
        }
        for (i = 0; i < 200000 && bad < 5; i++) {
            float x = bits_f((uint32_t)lt_next(&rng));
            uint16_t got, want;
            if (isinf(x) || x != x) continue;
            got = conv(x);
            want = ref_round((double)x, value, inf_code, inf_as);
            if (got != want) { bad++; LT_CHECKF(0, "%s(%.9g) = 0x%04x, want 0x%04x", fmt ? "bf16" : "f16", x, got, want); }
        }
    }
    LT_CHECK(lbrx_f32_to_f16(INFINITY) == 0x7c00 && lbrx_f32_to_f16(-INFINITY) == 0xfc00);
    LT_CHECK(lbrx_f32_to_bf16(INFINITY) == 0x7f80 && lbrx_f32_to_bf16(-INFINITY) == 0xff80);
    LT_CHECK(lbrx_f32_to_f16(bits_f(0x7f800001u)) == 0x7e00 && lbrx_f32_to_bf16(bits_f(0xff800001u)) == 0xffc0);
}

/* the row functions (SIMD where built) give the scalar functions' bits, at odd addresses and
   lengths, over random bit patterns including NaN, infinities and subnormals */
static void test_rows_match_scalar(void) {
    enum { N = 1000 + 13 };
    lt_rng rng = {17};
    unsigned char *h = (unsigned char *)malloc(2 * N + 1), *h2 = (unsigned char *)malloc(2 * N + 1);
    float *f = (float *)malloc((N + 1) * sizeof(float)), *g = (float *)malloc((N + 1) * sizeof(float));
    int rep, fmt;
    size_t i;
    for (rep = 0; rep < 40; rep++) {
        size_t n = N - (size_t)rep % 17;
        for (fmt = 0; fmt < 2; fmt++) {
            int bad = 0;
            for (i = 0; i < 2 * n; i++) h[1 + i] = (unsigned char)lt_next(&rng);
            for (i = 0; i < n; i++) f[1 + i] = bits_f((uint32_t)lt_next(&rng) >> (rep % 3 == 0 ? 0 : (i % 9)));
            /* 16-bit codes -> f32 */
            if (fmt) lbrx_bf16_to_f32_row(h + 1, g + 1, n); else lbrx_f16_to_f32_row(h + 1, g + 1, n);
            for (i = 0; i < n && !bad; i++) {
                uint16_t c = (uint16_t)(h[1 + 2 * i] | (h[2 + 2 * i] << 8));
                float w = fmt ? lbrx_bf16_to_f32(c) : lbrx_f16_to_f32(c);
                if (f_bits(g[1 + i]) != f_bits(w)) { bad = 1; LT_CHECKF(0, "%s to f32 row, element %zu (0x%04x)", fmt ? "bf16" : "f16", i, c); }
            }
            /* f32 -> 16-bit codes */
            if (fmt) lbrx_f32_to_bf16_row(f + 1, h2 + 1, n); else lbrx_f32_to_f16_row(f + 1, h2 + 1, n);
            for (i = 0; i < n && !bad; i++) {
                uint16_t c = (uint16_t)(h2[1 + 2 * i] | (h2[2 + 2 * i] << 8));
                uint16_t w = fmt ? lbrx_f32_to_bf16(f[1 + i]) : lbrx_f32_to_f16(f[1 + i]);
                if (c != w) { bad = 1; LT_CHECKF(0, "f32 to %s row, element %zu (0x%08x): 0x%04x vs 0x%04x", fmt ? "bf16" : "f16", i, f_bits(f[1 + i]), c, w); }
            }
        }
    }
    free(h); free(h2); free(f); free(g);
}

/* The thread policy (lbrx__threads_for): tiny work on the calling thread, work worth all threads
   on all of them, as many as the work pays for between; half a region's threads once the
   regions lose time against half their threads (a descheduled core), and all again once that
   period has passed; the threads' creation, a first region after a pause, an occasional late
   region among regions that saved, or a calling thread waiting at the end for shares a little
   longer than its own, changes nothing. */
#ifdef _OPENMP
/* a region of nt threads that took `wall` seconds, the calling thread `work` of them in its shares */
static void policy_region(lbrx_context *ctx, int nt, double wall, double work) {
    ctx->par_t0 = omp_get_wtime() - wall;
    ctx->par_work = work;
    lbrx__par_end(ctx, nt);
}
#endif

static void test_thread_policy(void) {
    lbrx_context *ctx = NULL;
    lbrx_context_desc desc;
    const double slice = LBRX_THREAD_SLICE * LBRX__PAR_BPS;   /* bytes of one thread's share */
    int n;
    memset(&desc, 0, sizeof desc);
    desc.n_threads = 4;
    LT_CHECK(lbrx_context_create(&ctx, &desc, NULL) == LBRX_OK);
    if (!ctx) return;
    n = lbrx_context_threads(ctx);   /* 4, or 1 without OpenMP */
    LT_CHECK(lbrx__threads_for(NULL, 1e12, 1e12) == 1);
    LT_CHECK(lbrx__threads_for(ctx, 64, 64) == 1);
    LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
    LT_CHECK(lbrx__threads_for(ctx, 0, 1e12) == n);
    LT_CHECK(lbrx__threads_for(ctx, 2.5 * slice, 0) == (n < 2 ? n : 2));
#ifdef _OPENMP
    {
        double len;
        int i;
        policy_region(ctx, 2, 0.010, 0.0005);    /* the first region creates the threads: not counted */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
        policy_region(ctx, 2, 0.0015, 0.0005);   /* woken from sleep 1 ms late: within the credit */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
        ctx->par_gain = 0.0;
        policy_region(ctx, 2, 0.0045, 0.0005);   /* the other thread waited 4 ms for its core: 3.5 ms lost */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == 1);
        LT_CHECKF(ctx->solo_len >= 0.069 && ctx->solo_len <= 1.0, "half the threads for %g s", ctx->solo_len);
        ctx->solo_until = omp_get_wtime() - 1.0;  /* the period is over */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
        len = ctx->solo_len;
        policy_region(ctx, 2, 0.0007, 0.0005);   /* woken 0.2 ms late: it still saved; the next period halves */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
        LT_CHECKF(ctx->solo_len == 0.5 * len, "%g s after %g s", ctx->solo_len, len);
        for (i = 0; i < 10; i++) policy_region(ctx, 2, 0.0011, 0.001);
        policy_region(ctx, 2, 0.0035, 0.0005);   /* one time slice among regions that saved more */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
        for (i = 0; i < 10 && lbrx__threads_for(ctx, 1e12, 0) == n; i++)
            policy_region(ctx, 2, 0.0035, 0.0005);   /* a busy core: every region loses */
        LT_CHECKF(lbrx__threads_for(ctx, 1e12, 0) == 1 && i <= 5, "on one thread after %d losing regions", i + 1);
        ctx->solo_until = omp_get_wtime() - 1.0;
        policy_region(ctx, 2, 0.005, 0.003);     /* shares unequal, nobody late: not a loss */
        LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == n);
        if (n == 4) {
            policy_region(ctx, 4, 0.010, 0.0005);    /* 4 threads: two more are created, not counted */
            for (i = 0; i < 300; i++)                /* fork and join longer than the shares: half would pay it too */
                policy_region(ctx, 4, 60e-6, 20e-6);
            LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == 4);
            ctx->par_gain = 0.0;
            policy_region(ctx, 4, 0.0045, 0.0005);   /* of 4 threads, one late: 2 for the period */
            LT_CHECK(lbrx__threads_for(ctx, 1e12, 0) == 2);
            LT_CHECK(lbrx__threads_for(ctx, 1.5 * slice, 0) == 1);
        }
    }
#endif
    lbrx_context_destroy(ctx);
}

int main(void) {
    LT_RUN(test_dtype_table);
    LT_RUN(test_checked_arithmetic);
    LT_RUN(test_allocator_counts);
    LT_RUN(test_heap_alignment);
    LT_RUN(test_large_blocks_huge_pages);
    LT_RUN(test_views_share_storage);
    LT_RUN(test_block_views);
    LT_RUN(test_shape_errors);
    LT_RUN(test_f16_all_patterns);
    LT_RUN(test_bf16_all_patterns);
    LT_RUN(test_f32_rounding);
    LT_RUN(test_rows_match_scalar);
    LT_RUN(test_thread_policy);
    return lt_finish();
}
