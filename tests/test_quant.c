/* Block formats: quantize and dequantize against GGML's own vectors, SIMD against scalar,
   the plain and float8 types, tensor conversion. */
/* Let gcc fuse a*b + c as it does outside ISO modes: the quantizers must still give GGML's
   bytes (they keep GGML's separate roundings by themselves). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=fast")
#endif
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"

/* ---- a minimal GGUF v2/v3 reader, independent of lbrx_gguf.h: enough for the vectors ---- */

typedef struct vec_tensor {
    char name[64];
    int type;
    uint64_t ne[4];
    uint64_t offset;
} vec_tensor;

typedef struct vec_file {
    unsigned char *buf;
    size_t size, pos, data_start;
    int n;
    vec_tensor t[64];
    int bad;
} vec_file;

static uint64_t vf_uint(vec_file *f, int bytes) {
    uint64_t v = 0;
    int i;
    if (f->pos + (size_t)bytes > f->size) { f->bad = 1; return 0; }
    for (i = 0; i < bytes; i++) v |= (uint64_t)f->buf[f->pos + (size_t)i] << (8 * i);
    f->pos += (size_t)bytes;
    return v;
}

/* skips a string, or copies it into out (cap bytes incl. NUL) when out is not NULL */
static void vf_string(vec_file *f, char *out, size_t cap) {
    uint64_t len = vf_uint(f, 8);
    if (f->bad || len > f->size - f->pos) { f->bad = 1; return; }
    if (out) {
        size_t k = len < cap - 1 ? (size_t)len : cap - 1;
        memcpy(out, f->buf + f->pos, k);
        out[k] = 0;
    }
    f->pos += (size_t)len;
}

static void vf_skip_value(vec_file *f, uint32_t type) {
    static const int sizes[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) { vf_string(f, 0, 0); return; }
    if (type == 9) {
        uint32_t et = (uint32_t)vf_uint(f, 4);
        uint64_t count = vf_uint(f, 8), i;
        if (et == 9 || et > 12) { f->bad = 1; return; }
        for (i = 0; i < count && !f->bad; i++) vf_skip_value(f, et);
        return;
    }
    if (type > 12) { f->bad = 1; return; }
    if (f->pos + (size_t)sizes[type] > f->size) f->bad = 1;
    else f->pos += (size_t)sizes[type];
}

static int vf_open(vec_file *f, const char *path) {
    FILE *fp = fopen(path, "rb");
    uint64_t nt, nkv, i, align = 32;
    memset(f, 0, sizeof *f);
    if (!fp) return 0;
    fseek(fp, 0, SEEK_END);
    f->size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = (unsigned char *)malloc(f->size);
    if (!f->buf || fread(f->buf, 1, f->size, fp) != f->size) { fclose(fp); free(f->buf); return 0; }
    fclose(fp);
    if (vf_uint(f, 4) != 0x46554747u) return 0;
    if (vf_uint(f, 4) < 2) return 0;
    nt = vf_uint(f, 8);
    nkv = vf_uint(f, 8);
    for (i = 0; i < nkv && !f->bad; i++) {
        char key[128];
        uint32_t type;
        vf_string(f, key, sizeof key);
        type = (uint32_t)vf_uint(f, 4);
        if (strcmp(key, "general.alignment") == 0 && type == 4) align = vf_uint(f, 4);
        else vf_skip_value(f, type);
    }
    if (nt > 64) return 0;
    for (i = 0; i < nt && !f->bad; i++) {
        vec_tensor *t = &f->t[i];
        uint32_t nd, d;
        vf_string(f, t->name, sizeof t->name);
        nd = (uint32_t)vf_uint(f, 4);
        if (nd > 4) return 0;
        t->ne[0] = t->ne[1] = t->ne[2] = t->ne[3] = 1;
        for (d = 0; d < nd; d++) t->ne[d] = vf_uint(f, 8);
        t->type = (int)vf_uint(f, 4);
        t->offset = vf_uint(f, 8);
    }
    f->n = (int)nt;
    f->data_start = (f->pos + (size_t)align - 1) / (size_t)align * (size_t)align;
    return !f->bad;
}

/* the data of tensor `name` (NULL if absent) and its type and element count */
static const unsigned char *vf_find(const vec_file *f, const char *name, int *type, int64_t *nel) {
    int i;
    for (i = 0; i < f->n; i++) {
        if (strcmp(f->t[i].name, name) == 0) {
            *type = f->t[i].type;
            *nel = (int64_t)(f->t[i].ne[0] * f->t[i].ne[1] * f->t[i].ne[2] * f->t[i].ne[3]);
            return f->buf + f->data_start + f->t[i].offset;
        }
    }
    return 0;
}

#define VECTORS "derived-llama.cpp-c392e50/ggml-quant-vectors.gguf"

static const unsigned char *vf_src(const vec_file *f, int64_t *n) {
    int type;
    const unsigned char *p = vf_find(f, "src", &type, n);
    return (p && type == 0) ? p : 0;
}

/* lbrx_quantize_row gives GGML's bytes for every type lbrx quantizes */
static void test_ggml_quantize_bytes(void) {
    static const char *names[] = {"f16", "bf16", "q4_0", "q4_1", "q8_0", "q5_0", "q5_1", "q2_K", "q3_K",
                                  "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs"};
    static const lbrx_dtype types[] = {LBRX_F16, LBRX_BF16, LBRX_Q4_0, LBRX_Q4_1, LBRX_Q8_0, LBRX_Q5_0, LBRX_Q5_1, LBRX_Q2_K,
                                       LBRX_Q3_K, LBRX_Q4_K, LBRX_Q5_K, LBRX_Q6_K, LBRX_IQ4_NL, LBRX_IQ4_XS};
    vec_file f;
    int64_t n;
    const float *src;
    int k;
    LT_SHARED_OR_SKIP(path, VECTORS);
    LT_CHECK(vf_open(&f, path));
    src = (const float *)vf_src(&f, &n);
    LT_CHECK(src && n == 2048);
    if (!src) { free(f.buf); return; }
    for (k = 0; k < (int)(sizeof types / sizeof types[0]); k++) {
        char nm[32];
        int type;
        int64_t qn;
        size_t bytes = 0, i;
        const unsigned char *want;
        unsigned char *got;
        snprintf(nm, sizeof nm, "q.%s", names[k]);
        want = vf_find(&f, nm, &type, &qn);
        LT_CHECKF(want && type == (int)types[k] && qn == n, "%s", nm);
        if (!want) continue;
        lbrx_row_bytes(types[k], n, &bytes);
        got = (unsigned char *)malloc(bytes + 1);
        /* one byte off alignment: the quantizers write bytes, any address works */
        LT_CHECK(lbrx_quantize_row(types[k], src, got + 1, n) == LBRX_OK);
        for (i = 0; i < bytes && got[1 + i] == want[i]; i++) {}
        LT_CHECKF(i == bytes, "%s: byte %zu (block %zu) is 0x%02x, GGML has 0x%02x", nm, i,
                  i / lbrx_dtype_block_bytes(types[k]), got[1 + i], want[i]);
        free(got);
    }
    free(f.buf);
}

/* 40 rows of 4352 (17 super-blocks) in five shapes (uniform, cubed, bell, mostly zeros,
   outliers with an offset) at scales 2^-12 .. 2^12: they reach the scale searches' rarer
   branches, and they tell a build whose compiler fuses a*b + c (any of those roundings moves
   a code) */
#define RQ_ROWS 40
#define RQ_COLS 4352
static void random_quant_rows(float *x) {
    lt_rng r = {12345};
    int i, j;
    for (i = 0; i < RQ_ROWS; i++) {
        float scale = (float)ldexp(1.0, (i % 9) * 3 - 12);
        for (j = 0; j < RQ_COLS; j++) {
            float u = lt_uniform(&r), v;
            switch (i % 5) {
            case 0: v = u; break;
            case 1: v = u * u * u; break;
            case 2: v = (lt_uniform(&r) + lt_uniform(&r) + lt_uniform(&r) + u) * 0.5f; break;
            case 3: v = (lt_next(&r) % 7 == 0) ? u : 0.0f; break;
            default: v = u + (j % 37 == 3 ? 8.0f : 0.0f) + (i & 8 ? 0.5f : 0.0f); break;
            }
            x[(size_t)i * RQ_COLS + j] = v * scale;
        }
    }
}

static uint64_t fnv1a64(const unsigned char *p, size_t n, uint64_t h) {
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The rows above quantized row by row give the bytes GGML gives: FNV-1a 64 of all 40 rows as
   ggml_quantize_chunk(type, rows, dst, 0, 40, 4352, NULL) wrote them (GGML's libggml-base as
   built in the npm package @node-llama-cpp/linux-x64@3.22.1, llama.cpp de3ff815, x86-64 without
   FMA; the scratch driver filled the rows with this same code). */
static void test_ggml_quantize_random_rows(void) {
    static const struct { lbrx_dtype t; uint64_t fnv; } want[] = {
        {LBRX_Q5_0, 0x479d2fe483c62833ULL}, {LBRX_Q5_1, 0x89a38b6506db2584ULL}, {LBRX_Q2_K, 0x3b91775dd45b143eULL},
        {LBRX_Q3_K, 0xf6a5d5c5c863b2f4ULL}, {LBRX_Q4_K, 0x6c364b53b595c83fULL}, {LBRX_Q5_K, 0x5b93def1d5caf1eaULL},
        {LBRX_Q6_K, 0x7ba51f3cc4566056ULL}, {LBRX_IQ4_NL, 0x3a620d9bbf5cca21ULL}, {LBRX_IQ4_XS, 0xc47ec5e3feec5801ULL},
        {LBRX_Q4_0, 0x887d900d3a8baf20ULL}, {LBRX_Q4_1, 0x5f4e10de108ae071ULL}, {LBRX_Q8_0, 0x0f3e0081cd19d692ULL}};
    float *x = (float *)malloc(sizeof(float) * RQ_ROWS * RQ_COLS);
    unsigned char *q = (unsigned char *)malloc(210 * RQ_COLS / 256 + 34 * RQ_COLS / 32);
    int k, r;
    LT_CHECK(x && q);
    if (!x || !q) { free(x); free(q); return; }
    random_quant_rows(x);
    for (k = 0; k < (int)(sizeof want / sizeof want[0]); k++) {
        uint64_t h = 14695981039346656037ULL;
        size_t rb = 0;
        LT_CHECK(lbrx_row_bytes(want[k].t, RQ_COLS, &rb) == LBRX_OK);
        for (r = 0; r < RQ_ROWS; r++) {
            LT_CHECK(lbrx_quantize_row(want[k].t, x + (size_t)r * RQ_COLS, q, RQ_COLS) == LBRX_OK);
            h = fnv1a64(q, rb, h);
        }
        LT_CHECKF(h == want[k].fnv, "%s: FNV-1a %016llx, GGML's %016llx", lbrx_dtype_name(want[k].t),
                  (unsigned long long)h, (unsigned long long)want[k].fnv);
    }
    free(x);
    free(q);
}

static int same_float_bits(float a, float b) {
    return memcmp(&a, &b, 4) == 0 || (a != a && b != b);
}

/* lbrx_dequantize_row gives GGML's floats, bit for bit, for every type GGML wrote */
static void test_ggml_dequantize_floats(void) {
    static const char *names[] = {"f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_K", "q3_K",
                                  "q4_K", "q5_K", "q6_K", "iq4_nl", "iq4_xs", "tq1_0", "tq2_0"};
    static const lbrx_dtype types[] = {LBRX_F16, LBRX_BF16, LBRX_Q4_0, LBRX_Q4_1, LBRX_Q5_0, LBRX_Q5_1,
                                       LBRX_Q8_0, LBRX_Q2_K, LBRX_Q3_K, LBRX_Q4_K, LBRX_Q5_K, LBRX_Q6_K,
                                       LBRX_IQ4_NL, LBRX_IQ4_XS, LBRX_TQ1_0, LBRX_TQ2_0};
    vec_file f;
    int k;
    LT_SHARED_OR_SKIP(path, VECTORS);
    LT_CHECK(vf_open(&f, path));
    for (k = 0; k < (int)(sizeof types / sizeof types[0]); k++) {
        char qn[32], dn[32];
        int qt = -1, dt = -1;
        int64_t nq = 0, nd = 0, i;
        const unsigned char *q, *dq;
        float *out;
        snprintf(qn, sizeof qn, "q.%s", names[k]);
        snprintf(dn, sizeof dn, "dq.%s", names[k]);
        q = vf_find(&f, qn, &qt, &nq);
        dq = vf_find(&f, dn, &dt, &nd);
        LT_CHECKF(q && dq && qt == (int)types[k] && dt == 0 && nq == nd, "%s", names[k]);
        if (!q || !dq) continue;
        out = (float *)malloc((size_t)nq * sizeof(float));
        LT_CHECKF(lbrx_dequantize_row(types[k], q, out, nq) == LBRX_OK, "%s", names[k]);
        for (i = 0; i < nq; i++) {
            float w;
            memcpy(&w, dq + 4 * i, 4);
            if (!same_float_bits(out[i], w)) break;
        }
        if (i < nq) {
            float w;
            memcpy(&w, dq + 4 * i, 4);
            LT_CHECKF(0, "%s: element %lld is %.9g, GGML has %.9g", names[k], (long long)i, out[i], w);
        }
        free(out);
    }
    free(f.buf);
}

/* f16 bits as the test's own double (no lbrx code): IEEE binary16 */
static double ref_f16(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp((double)m, -24) : ldexp((double)(1024 + m), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* Q8_1 (no GGML vectors: it is GGML's activation format): qs and d as Q8_0's, checked above
   against GGML; s = d * sum(qs) computed here */
static void test_q8_1(void) {
    lt_rng rng = {7};
    float x[128], back[128];
    unsigned char q81[4 * 36], q80[4 * 34];
    int b, j;
    for (j = 0; j < 128; j++) x[j] = lt_uniform(&rng) * (j < 32 ? 0.0f : (float)(j % 7 + 1));
    lbrx_quantize_row_q8_1(x, q81, 128);
    lbrx_quantize_row_q8_0(x, q80, 128);
    for (b = 0; b < 4; b++) {
        const unsigned char *p = q81 + 36 * b, *r = q80 + 34 * b;
        int sum = 0;
        float d, s;
        uint16_t sh;
        LT_CHECK(p[0] == r[0] && p[1] == r[1] && memcmp(p + 4, r + 2, 32) == 0);
        for (j = 0; j < 32; j++) sum += (signed char)p[4 + j];
        d = (float)ref_f16((uint16_t)(p[0] | (p[1] << 8)));
        s = (float)ref_f16((uint16_t)(p[2] | (p[3] << 8)));
        sh = (uint16_t)(p[2] | (p[3] << 8));
        /* s is stored as f16 of d_f32 * sum; d_f32 is within half an f16 ulp of d, so compare loosely */
        LT_CHECKF(fabs((double)s - (double)d * sum) <= 0.002 * fabs((double)d * sum) + 1e-7, "block %d: s %g, d*sum %g", b, s, d * sum);
        LT_CHECK(b != 0 || (sh == 0 && d == 0.0f));
    }
    LT_CHECK(lbrx_dequantize_row(LBRX_Q8_1, q81, back, 128) == LBRX_OK);
    for (b = 0; b < 4; b++)
        for (j = 0; j < 32; j++) {
            const unsigned char *p = q81 + 36 * b;
            float want = (float)((signed char)p[4 + j] * ref_f16((uint16_t)(p[0] | (p[1] << 8))));
            LT_CHECK(same_float_bits(back[32 * b + j], want));
        }
}

/* Q8_K dequantization: an f32 scale times int8, written here by hand */
static void test_q8_k(void) {
    unsigned char blk[2 * 292];
    float out[512], d[2] = {0.03125f, -1.5e-3f};
    int b, j;
    memset(blk, 0, sizeof blk);
    for (b = 0; b < 2; b++) {
        memcpy(blk + 292 * b, &d[b], 4);
        for (j = 0; j < 256; j++) blk[292 * b + 4 + j] = (unsigned char)(j * 37 + b);
    }
    LT_CHECK(lbrx_dequantize_row(LBRX_Q8_K, blk, out, 512) == LBRX_OK);
    for (b = 0; b < 2; b++)
        for (j = 0; j < 256; j++)
            LT_CHECK(out[256 * b + j] == (float)((double)d[b] * (signed char)(unsigned char)(j * 37 + b)));
}

/* random blocks: random quants and an f16 scale from all classes (normal, subnormal, zero,
   inf, NaN) */
static void random_blocks(lt_rng *rng, unsigned char *p, size_t bytes) {
    size_t i;
    for (i = 0; i < bytes; i++) p[i] = (unsigned char)lt_next(rng);
}

/* the SIMD dequantizers of Q8_0/Q4_0/Q4_1 give the scalar reference's bits, at odd addresses */
static void test_simd_matches_scalar(void) {
    static const lbrx_dtype types[3] = {LBRX_Q8_0, LBRX_Q4_0, LBRX_Q4_1};
    lt_rng rng = {99};
    int k, rep;
    enum { NB = 67 };
    unsigned char *blocks = (unsigned char *)malloc(NB * 34 + 3);
    float *a = (float *)malloc((NB * 32 + 1) * sizeof(float)), *b = (float *)malloc(NB * 32 * sizeof(float));
    for (k = 0; k < 3; k++) {
        size_t bb = lbrx_dtype_block_bytes(types[k]);
        for (rep = 0; rep < 20; rep++) {
            unsigned char *src = blocks + 1 + rep % 3;
            int64_t i, bad = -1;
            random_blocks(&rng, src, NB * bb);
            if (rep == 0) { src[0] = 0x00; src[1] = 0x7c; }      /* inf */
            if (rep == 1) { src[0] = 0x01; src[1] = 0x7e; }      /* NaN */
            if (rep == 2) { src[0] = 0x01; src[1] = 0x00; }      /* subnormal */
            LT_CHECK(lbrx_dequantize_row(types[k], src, a + 1, NB * 32) == LBRX_OK);  /* unaligned dst */
            if (k == 0) lbrx__dequantize_q8_0_scalar(src, b, NB);
            else if (k == 1) lbrx__dequantize_q4_0_scalar(src, b, NB);
            else lbrx__dequantize_q4_1_scalar(src, b, NB);
            for (i = 0; i < NB * 32 && bad < 0; i++)
                if (!same_float_bits(a[1 + i], b[i])) bad = i;
            LT_CHECKF(bad < 0, "%s rep %d element %lld: %g vs scalar %g", lbrx_dtype_name(types[k]), rep,
                      (long long)bad, bad >= 0 ? a[1 + bad] : 0.0, bad >= 0 ? b[bad] : 0.0);
        }
    }
    free(blocks); free(a); free(b);
}

/* (a plain function: gcc 12 for aarch64 crashes vectorizing an fmax reduction here) */
static double max_d(double a, double b) { return a > b ? a : b; }

/* quantize then dequantize: the error stays inside what the format guarantees */
static void test_round_trip_error(void) {
    lt_rng rng = {5};
    enum { N = 4096 };
    float *x = (float *)malloc(N * sizeof(float)), *y = (float *)malloc(N * sizeof(float));
    unsigned char *q = (unsigned char *)malloc(N / 32 * 36);
    int i, b;
    for (i = 0; i < N; i++) x[i] = lt_uniform(&rng) * (float)(1 + i % 13);
    LT_CHECK(lbrx_quantize_row(LBRX_Q8_0, x, q, N) == LBRX_OK && lbrx_dequantize_row(LBRX_Q8_0, q, y, N) == LBRX_OK);
    for (b = 0; b < N / 32; b++) {
        double amax = 0, worst = 0;
        for (i = 0; i < 32; i++) amax = max_d(amax, fabs(x[32 * b + i]));
        for (i = 0; i < 32; i++) worst = max_d(worst, fabs((double)x[32 * b + i] - y[32 * b + i]));
        /* half a step of amax/127 plus the f16 rounding of the scale (2^-11 relative, times 127) */
        LT_CHECKF(worst <= amax / 127 * (0.5 + 127.0 / 2048) + 1e-7, "q8_0 block %d error %g", b, worst);
    }
    LT_CHECK(lbrx_quantize_row(LBRX_Q4_1, x, q, N) == LBRX_OK && lbrx_dequantize_row(LBRX_Q4_1, q, y, N) == LBRX_OK);
    for (b = 0; b < N / 32; b++) {
        double lo = 1e30, hi = -1e30, worst = 0;
        for (i = 0; i < 32; i++) { lo = -max_d(-lo, -x[32 * b + i]); hi = max_d(hi, x[32 * b + i]); }
        for (i = 0; i < 32; i++) worst = max_d(worst, fabs((double)x[32 * b + i] - y[32 * b + i]));
        LT_CHECKF(worst <= (hi - lo) / 15 * (0.5 + 15.0 / 2048) + fabs(lo) / 2048 + 1e-6, "q4_1 block %d error %g", b, worst);
    }
    free(x); free(y); free(q);
}

/* the plain and float8 types, against values written out here */
static void test_plain_types(void) {
    float out[16];
    {
        int8_t v[4] = {-128, -1, 0, 127};
        LT_CHECK(lbrx_dequantize_row(LBRX_I8, v, out, 4) == LBRX_OK && out[0] == -128.0f && out[3] == 127.0f);
    }
    {
        uint16_t v[3] = {0, 1, 65535};
        LT_CHECK(lbrx_dequantize_row(LBRX_U16, v, out, 3) == LBRX_OK && out[2] == 65535.0f);
    }
    {
        unsigned char buf[1 + 3 * 8];
        int64_t v[3] = {-5, ((int64_t)1 << 40) + 1, INT64_MIN};
        memcpy(buf + 1, v, sizeof v);  /* unaligned source */
        LT_CHECK(lbrx_dequantize_row(LBRX_I64, buf + 1, out, 3) == LBRX_OK && out[0] == -5.0f &&
                 out[1] == 1099511627776.0f && out[2] == -9223372036854775808.0f);
    }
    {
        uint64_t v[2] = {UINT64_MAX, 3};
        uint32_t w[2] = {4294967295u, 7};
        int16_t s[2] = {-32768, 300};
        int32_t i32[2] = {-2147483647 - 1, 16777217};
        LT_CHECK(lbrx_dequantize_row(LBRX_U64, v, out, 2) == LBRX_OK && out[0] == 18446744073709551616.0f && out[1] == 3.0f);
        LT_CHECK(lbrx_dequantize_row(LBRX_U32, w, out, 2) == LBRX_OK && out[0] == 4294967296.0f && out[1] == 7.0f);
        LT_CHECK(lbrx_dequantize_row(LBRX_I16, s, out, 2) == LBRX_OK && out[0] == -32768.0f && out[1] == 300.0f);
        LT_CHECK(lbrx_dequantize_row(LBRX_I32, i32, out, 2) == LBRX_OK && out[0] == -2147483648.0f && out[1] == 16777216.0f);
    }
    {
        unsigned char v[3] = {0, 1, 7};
        LT_CHECK(lbrx_dequantize_row(LBRX_BOOL, v, out, 3) == LBRX_OK && out[0] == 0.0f && out[1] == 1.0f && out[2] == 1.0f);
        LT_CHECK(lbrx_dequantize_row(LBRX_U8, v, out, 3) == LBRX_OK && out[2] == 7.0f);
    }
    {
        double v[3] = {0.1, -1e300, 1.0 / 3.0};
        LT_CHECK(lbrx_dequantize_row(LBRX_F64, v, out, 3) == LBRX_OK && out[0] == (float)0.1 && isinf(out[1]) && out[1] < 0 && out[2] == (float)(1.0 / 3.0));
    }
    LT_CHECK(lbrx_dequantize_row(LBRX_IQ2_XXS, out, out, 256) == LBRX_ERR_UNSUPPORTED);
    LT_CHECK(lbrx_dequantize_row(LBRX_Q4_0, out, out, 33) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_dequantize_row((lbrx_dtype)4, out, out, 32) == LBRX_ERR_BAD_DTYPE);
    LT_CHECK(lbrx_quantize_row(LBRX_TQ2_0, out, out, 256) == LBRX_ERR_UNSUPPORTED);
    LT_CHECK(lbrx_quantize_row(LBRX_Q8_0, out, out, -32) == LBRX_ERR_BAD_SHAPE);
}

/* all 256 float8 codes of both kinds against a decoder written from the definitions */
static void test_float8(void) {
    unsigned char codes[256];
    float e4[256], e5[256];
    int i;
    for (i = 0; i < 256; i++) codes[i] = (unsigned char)i;
    LT_CHECK(lbrx_dequantize_row(LBRX_F8_E4M3, codes, e4, 256) == LBRX_OK);
    LT_CHECK(lbrx_dequantize_row(LBRX_F8_E5M2, codes, e5, 256) == LBRX_OK);
    for (i = 0; i < 256; i++) {
        int s = i >> 7, e = (i >> 3) & 15, m = i & 7;
        double w = e == 0 ? ldexp(m, -9) : ldexp(8 + m, e - 10);  /* E4M3 fn: bias 7 */
        int e5e = (i >> 2) & 31, e5m = i & 3;
        double w5 = e5e == 0 ? ldexp(e5m, -16) : ldexp(4 + e5m, e5e - 17);  /* E5M2: bias 15 */
        if (s) { w = -w; w5 = -w5; }
        if (e == 15 && m == 7) LT_CHECKF(isnan(e4[i]) && (signbit(e4[i]) != 0) == s, "e4m3 0x%02x", i);
        else LT_CHECKF((double)e4[i] == w && (signbit(e4[i]) != 0) == s, "e4m3 0x%02x: %g vs %g", i, e4[i], w);
        if (e5e == 31 && e5m) LT_CHECKF(isnan(e5[i]), "e5m2 0x%02x", i);
        else if (e5e == 31) LT_CHECKF(isinf(e5[i]) && (signbit(e5[i]) != 0) == s, "e5m2 0x%02x", i);
        else LT_CHECKF((double)e5[i] == w5 && (signbit(e5[i]) != 0) == s, "e5m2 0x%02x: %g vs %g", i, e5[i], w5);
    }
    LT_CHECK(e4[0x7e] == 448.0f && e4[0x01] == 0.001953125f && e5[0x7b] == 57344.0f);
}

/* round half away from zero in double (exact here: |v| + 0.5 needs no rounding), clamped to
   the Q8 range: C's roundf, written out because some C libraries get roundf(0.49999997f) wrong
   (mingw-w64's gives 1) */
static int ref_round_q8(float v) {
    double r = floor(fabs((double)v) + 0.5);
    if (v < 0) r = -r;
    return r < -128.0 ? -128 : r > 127.0 ? 127 : (int)r;
}

/* the quantizers' rounding helper is roundf then a clamp, at every half and its float
   neighbours in the Q8 range and at random values */
static void test_round_clamp(void) {
    lt_rng rng = {23};
    int k, bad = 0;
    for (k = -260; k <= 260 && bad < 5; k++) {
        float h = (float)k * 0.5f, c[3];
        int j;
        c[0] = h; c[1] = nextafterf(h, 1000.0f); c[2] = nextafterf(h, -1000.0f);
        for (j = 0; j < 3; j++) {
            int want = ref_round_q8(c[j]);
            if (lbrx__round_clamp(c[j], -128, 127) != want) { bad++; LT_CHECKF(0, "%.9g -> %d, want %d", c[j], lbrx__round_clamp(c[j], -128, 127), want); }
        }
    }
    for (k = 0; k < 100000 && bad < 5; k++) {
        float v = lt_uniform(&rng) * 140.0f;
        int want = ref_round_q8(v);
        if (lbrx__round_clamp(v, -128, 127) != want) { bad++; LT_CHECKF(0, "%.9g", v); }
    }
    LT_CHECK(lbrx__round_clamp(NAN, -128, 127) == -128 && lbrx__round_clamp(INFINITY, -128, 127) == 127);
}

/* lbrx_tensor_convert: from a strided view, through every target format, and back */
static void test_tensor_convert(void) {
    lbrx_tensor t, v, q, back, f16;
    int64_t shape[2] = {6, 320}, r, c;
    lt_rng rng = {11};
    float *p;
    lbrx_error err;
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
    p = (float *)t.data;
    for (r = 0; r < 6 * 320; r++) p[r] = lt_uniform(&rng);
    LT_CHECK(lbrx_tensor_slice(&t, 0, 1, 5, &v, NULL) == LBRX_OK);  /* rows 1..4 */
    LT_CHECK(lbrx_tensor_convert(&v, LBRX_Q8_0, &q, NULL, &err) == LBRX_OK);
    LT_CHECK(q.shape[0] == 4 && q.shape[1] == 320 && q.storage != t.storage);
    {
        unsigned char want[10 * 34];
        lbrx_quantize_row_q8_0(p + 320 * 2, want, 320);
        LT_CHECK(memcmp(lbrx_tensor_row(&q, 1), want, sizeof want) == 0);
    }
    LT_CHECK(lbrx_tensor_convert(&q, LBRX_F32, &back, NULL, &err) == LBRX_OK);
    for (r = 0; r < 4; r++)
        for (c = 0; c < 320; c++) {
            float w;
            unsigned char *qb = (unsigned char *)lbrx_tensor_row(&q, r) + c / 32 * 34;
            w = (float)((signed char)qb[2 + c % 32] * ref_f16((uint16_t)(qb[0] | (qb[1] << 8))));
            if (((float *)back.data)[r * 320 + c] != w) { LT_CHECKF(0, "row %lld col %lld", (long long)r, (long long)c); r = 4; break; }
        }
    /* a column slice of an f32 tensor (rows with gaps) to f16 */
    lbrx_tensor_release(&v);
    LT_CHECK(lbrx_tensor_slice(&t, 1, 64, 72, &v, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_convert(&v, LBRX_F16, &f16, NULL, &err) == LBRX_OK);
    for (r = 0; r < 6; r++)
        for (c = 0; c < 8; c++) {
            uint16_t h;
            memcpy(&h, (unsigned char *)f16.data + 2 * (r * 8 + c), 2);
            LT_CHECK(h == lbrx_f32_to_f16(p[r * 320 + 64 + c]));
        }
    LT_CHECK(lbrx_tensor_convert(&v, LBRX_Q4_0, &back, NULL, &err) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_tensor_convert(&t, LBRX_TQ2_0, &back, NULL, &err) == LBRX_ERR_UNSUPPORTED);
    LT_CHECK(lbrx_tensor_convert(&t, (lbrx_dtype)5, &back, NULL, &err) == LBRX_ERR_BAD_DTYPE);
    /* the same dtype is copied byte for byte: a block slice of Q8_0 ... */
    {
        lbrx_tensor qs, qc;
        LT_CHECK(lbrx_tensor_slice(&q, 1, 64, 128, &qs, NULL) == LBRX_OK);
        LT_CHECK(lbrx_tensor_convert(&qs, LBRX_Q8_0, &qc, NULL, &err) == LBRX_OK);
        for (r = 0; r < 4; r++) LT_CHECK(memcmp(lbrx_tensor_row(&qc, r), lbrx_tensor_row(&qs, r), 2 * 34) == 0);
        lbrx_tensor_release(&qc);
        lbrx_tensor_release(&qs);
    }
    /* ... and a strided column of a type with no quantizer */
    {
        lbrx_tensor it, col, ic;
        int64_t ishape[2] = {5, 7};
        int32_t *ip;
        LT_CHECK(lbrx_tensor_init_heap(&it, LBRX_I32, 2, ishape, NULL, NULL) == LBRX_OK);
        ip = (int32_t *)it.data;
        for (r = 0; r < 35; r++) ip[r] = (int32_t)(r * 1000003);
        LT_CHECK(lbrx_tensor_slice(&it, 1, 3, 6, &col, NULL) == LBRX_OK);
        col.stride[1] = 8;  /* every other element of the row: a hand-made strided view */
        col.shape[1] = 2;
        LT_CHECK(lbrx_tensor_convert(&col, LBRX_I32, &ic, NULL, &err) == LBRX_OK);
        for (r = 0; r < 5; r++)
            for (c = 0; c < 2; c++) LT_CHECK(((int32_t *)ic.data)[r * 2 + c] == ip[r * 7 + 3 + 2 * c]);
        lbrx_tensor_release(&ic);
        LT_CHECK(lbrx_tensor_convert(&col, LBRX_F32, &ic, NULL, &err) == LBRX_OK);
        LT_CHECK(((float *)ic.data)[9] == (float)ip[4 * 7 + 5]);
        lbrx_tensor_release(&ic);
        LT_CHECK(lbrx_tensor_convert(&col, LBRX_I16, &ic, NULL, &err) == LBRX_ERR_UNSUPPORTED);
        lbrx_tensor_release(&col);
        lbrx_tensor_release(&it);
    }
    lbrx_tensor_release(&f16);
    lbrx_tensor_release(&back);
    lbrx_tensor_release(&q);
    lbrx_tensor_release(&v);
    lbrx_tensor_release(&t);
}

/* ---- the MX and FNUZ types: every code against float64 decoders written here from the OCP MX
   v1.0 and the FNUZ definitions (sign, exponent bits, bias, no infinities), not from lbrx ---- */

/* sign/exponent/mantissa with bias; exponent 0 is subnormal: m/2^mb * 2^(1-bias) */
static double ref_minifloat(unsigned v, int eb, int mb, int bias) {
    unsigned s = (v >> (eb + mb)) & 1, e = (v >> mb) & ((1u << eb) - 1), m = v & ((1u << mb) - 1);
    double x = e ? (1.0 + (double)m / (double)(1u << mb)) * pow(2.0, (double)e - bias) : (double)m / (double)(1u << mb) * pow(2.0, 1.0 - bias);
    return s ? -x : x;
}

static int same_float(float a, double b) { return (isnan(a) && isnan(b)) || (double)a == b; }

static void test_mx_types(void) {
    unsigned char bytes[256], blocks[17 * 4];
    float out[512];
    unsigned v;
    int i, j, k, bad = 0;
    for (i = 0; i < 256; i++) bytes[i] = (unsigned char)i;
    /* F8_E8M0: 2^(e-127), 0xFF NaN (2^-127 is a float subnormal, exact) */
    LT_CHECK(lbrx_dequantize_row(LBRX_F8_E8M0, bytes, out, 256) == LBRX_OK);
    for (i = 0; i < 256; i++) bad += !same_float(out[i], i == 255 ? NAN : ldexp(1.0, i - 127));
    LT_CHECKF(bad == 0, "f8_e8m0: %d codes differ", bad);
    /* FNUZ: 0x80 NaN, no infinities; max 240 and 57344 */
    LT_CHECK(lbrx_dequantize_row(LBRX_F8_E4M3FNUZ, bytes, out, 256) == LBRX_OK);
    for (i = 0, bad = 0; i < 256; i++) bad += !same_float(out[i], i == 0x80 ? NAN : ref_minifloat((unsigned)i, 4, 3, 8));
    LT_CHECKF(bad == 0 && out[0x7f] == 240.0f && out[1] == (float)ldexp(1.0, -10), "f8_e4m3fnuz: %d codes differ", bad);
    LT_CHECK(lbrx_dequantize_row(LBRX_F8_E5M2FNUZ, bytes, out, 256) == LBRX_OK);
    for (i = 0, bad = 0; i < 256; i++) bad += !same_float(out[i], i == 0x80 ? NAN : ref_minifloat((unsigned)i, 5, 2, 16));
    LT_CHECKF(bad == 0 && out[0x7f] == 57344.0f && out[0xff] == -57344.0f, "f8_e5m2fnuz: %d codes differ", bad);
    /* F4 (E2M1): two codes per byte, the first in the low nibble; 512 values from 256 bytes */
    LT_CHECK(lbrx_dequantize_row(LBRX_F4, bytes, out, 512) == LBRX_OK);
    for (i = 0, bad = 0; i < 256; i++)
        bad += !same_float(out[2 * i], ref_minifloat((unsigned)i & 15, 2, 1, 1)) || !same_float(out[2 * i + 1], ref_minifloat((unsigned)i >> 4, 2, 1, 1));
    LT_CHECKF(bad == 0 && out[2 * 0x7f] == -6.0f && out[2 * 0x7f + 1] == 6.0f && out[2 * 0xf1] == 0.5f && out[2 * 0xf1 + 1] == -6.0f, "f4: %d codes differ", bad);
    LT_CHECK(lbrx_dequantize_row(LBRX_F4, bytes, out, 3) == LBRX_ERR_BAD_SHAPE);
    /* F6: every code of both kinds, four per 3 bytes (bits 6i..6i+5 of the little-endian word) */
    for (k = 0; k < 2; k++) {
        unsigned char packed[48];
        memset(packed, 0, sizeof packed);
        for (i = 0; i < 64; i++) {  /* code i is element i */
            unsigned bit = 6u * (unsigned)i;
            for (j = 0; j < 6; j++)
                if ((i >> j) & 1) packed[(bit + (unsigned)j) / 8] |= (unsigned char)(1u << ((bit + (unsigned)j) % 8));
        }
        LT_CHECK(lbrx_dequantize_row(k ? LBRX_F6_E3M2 : LBRX_F6_E2M3, packed, out, 64) == LBRX_OK);
        for (i = 0, bad = 0; i < 64; i++) bad += !same_float(out[i], k ? ref_minifloat((unsigned)i, 3, 2, 3) : ref_minifloat((unsigned)i, 2, 3, 1));
        LT_CHECKF(bad == 0 && out[31] == (k ? 28.0f : 7.5f) && out[63] == (k ? -28.0f : -7.5f), "f6 %d: %d codes differ", k, bad);
    }
    LT_CHECK(lbrx_dequantize_row(LBRX_F6_E2M3, bytes, out, 6) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_dequantize_row(LBRX_C64, bytes, out, 2) == LBRX_ERR_UNSUPPORTED);
    LT_CHECK(lbrx_dtype_block_size(LBRX_F4) == 2 && lbrx_dtype_block_bytes(LBRX_F6_E3M2) == 3 && lbrx_dtype_block_bytes(LBRX_C64) == 8);
    LT_CHECK(strcmp(lbrx_dtype_name(LBRX_F8_E4M3FNUZ), "f8_e4m3fnuz") == 0 && strcmp(lbrx_dtype_name(LBRX_F4), "f4") == 0);
    /* GGML's MXFP4 blocks: scale e, then 16 bytes of E2M1 pairs (low nibbles elements 0..15),
       y = E2M1 * 2^(e-127); GGML makes e = 255 a finite 2^127 and e = 0, 1 subnormal halves */
    for (i = 0; i < 4; i++) {
        static const unsigned char scales[4] = {0, 1, 127 + 3, 255};
        blocks[17 * i] = scales[i];
        for (j = 0; j < 16; j++) blocks[17 * i + 1 + j] = (unsigned char)(j * 17 + i * 3);
    }
    LT_CHECK(lbrx_dequantize_row(LBRX_MXFP4, blocks, out, 128) == LBRX_OK);
    for (i = 0, bad = 0; i < 4; i++)
        for (j = 0; j < 32; j++) {
            v = blocks[17 * i + 1 + (j & 15)];
            v = j < 16 ? v & 15 : v >> 4;
            bad += !same_float(out[32 * i + j], (double)(float)(ref_minifloat(v, 2, 1, 1) * ldexp(1.0, blocks[17 * i] - 127)));
        }
    LT_CHECKF(bad == 0, "mxfp4: %d values differ", bad);
    LT_CHECK(lbrx_dequantize_row(LBRX_MXFP4, blocks, out, 16) == LBRX_ERR_BAD_SHAPE);
}

/* ---- affine group quantization: checkpoints packed here with each format's formulas (MLX's
   documentation, AutoAWQ's and AutoGPTQ's packers), dequantized against float64 ---- */

#define AF_OUT 16
#define AF_IN 256

static uint32_t af_rng = 12345u;
static unsigned af_rand(unsigned n) { af_rng = af_rng * 1664525u + 1013904223u; return (af_rng >> 8) % n; }

/* A weight of integers q[o][i] (bits wide), per-group scales and offsets (MLX biases as floats,
   AWQ/GPTQ zero points as integers), packed as `packing` into tensors the caller releases. */
typedef struct af_case {
    unsigned q[AF_OUT][AF_IN];
    float scale[AF_OUT][AF_IN / 32], bias[AF_OUT][AF_IN / 32];
    unsigned zero[AF_OUT][AF_IN / 32];
    lbrx_tensor w, s, o;
} af_case;

static void af_make(af_case *c, lbrx_affine_packing packing, int bits, int64_t group, lbrx_dtype sdt, float tiny) {
    static const int awq_order[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    int64_t ng = AF_IN / group, o, i, g, k;
    for (o = 0; o < AF_OUT; o++) {
        for (i = 0; i < AF_IN; i++) c->q[o][i] = af_rand(1u << bits);
        for (g = 0; g < ng; g++) {
            /* values a checkpoint's dtype holds: rounded through sdt; tiny > 0 scales the last
               group of the rows of the second half (a repack meets exact groups first) */
            float sc = (float)(af_rand(1000) + 1) * 1e-4f * (tiny > 0 && o >= AF_OUT / 2 && g == ng - 1 ? tiny : 1.0f), bi = ((float)af_rand(2001) - 1000.0f) * 1e-3f;
            /* F32: values of 11 bits, so that q * scale is exact in float as in the reference;
               tiny < 0: F32 values with all 24 significant bits */
            if (tiny < 0) { sc *= 1.0f + (float)af_rand(1u << 20) * (1.0f / 2097152.0f); bi *= 1.0f + (float)af_rand(1u << 20) * (1.0f / 2097152.0f); }
            else if (sdt == LBRX_F16 || sdt == LBRX_F32) { sc = lbrx_f16_to_f32(lbrx_f32_to_f16(sc)); bi = lbrx_f16_to_f32(lbrx_f32_to_f16(bi)); }
            if (sdt == LBRX_BF16) { sc = lbrx_bf16_to_f32(lbrx_f32_to_bf16(sc)); bi = lbrx_bf16_to_f32(lbrx_f32_to_bf16(bi)); }
            c->scale[o][g] = sc;
            c->bias[o][g] = bi;
            c->zero[o][g] = packing == LBRX_AFFINE_GPTQ ? af_rand(16) + 1 : af_rand(16);  /* GPTQ: 1..16, stored - 1 */
        }
    }
    if (packing == LBRX_AFFINE_MLX) {  /* weight U32 [out, in*bits/32], lowest bits first; scales, biases [out, in/group] */
        int64_t per = 32 / bits, ws[2] = {AF_OUT, AF_IN / (32 / bits)}, ss[2] = {AF_OUT, ng};
        lbrx_tensor_init_heap(&c->w, LBRX_U32, 2, ws, NULL, NULL);
        lbrx_tensor_init_heap(&c->s, sdt, 2, ss, NULL, NULL);
        lbrx_tensor_init_heap(&c->o, sdt, 2, ss, NULL, NULL);
        for (o = 0; o < AF_OUT; o++)
            for (i = 0; i < AF_IN; i++) ((uint32_t *)c->w.data)[o * ws[1] + i / per] |= (uint32_t)c->q[o][i] << (bits * (i % per));
    } else {  /* scales [in/group, out]; qzeros I32 [in/group, out/8] */
        int64_t ss[2] = {ng, AF_OUT}, zs[2] = {ng, AF_OUT / 8};
        lbrx_tensor_init_heap(&c->s, sdt, 2, ss, NULL, NULL);
        lbrx_tensor_init_heap(&c->o, LBRX_I32, 2, zs, NULL, NULL);
        for (g = 0; g < ng; g++)
            for (o = 0; o < AF_OUT; o++) {
                unsigned z = packing == LBRX_AFFINE_GPTQ ? (c->zero[o][g] - 1) & 15 : c->zero[o][g];
                int nib = packing == LBRX_AFFINE_AWQ ? -1 : (int)(o % 8);
                for (k = 0; k < 8 && nib < 0; k++) if (awq_order[k] == o % 8) nib = (int)k;  /* AWQ: nibble k holds output order[k] */
                ((uint32_t *)c->o.data)[g * zs[1] + o / 8] |= (uint32_t)z << (4 * nib);
            }
        if (packing == LBRX_AFFINE_AWQ) {  /* qweight I32 [in, out/8], nibble k of word c: output 8c + order[k] */
            int64_t ws[2] = {AF_IN, AF_OUT / 8};
            lbrx_tensor_init_heap(&c->w, LBRX_I32, 2, ws, NULL, NULL);
            for (i = 0; i < AF_IN; i++)
                for (o = 0; o < AF_OUT / 8; o++)
                    for (k = 0; k < 8; k++) ((uint32_t *)c->w.data)[i * ws[1] + o] |= (uint32_t)c->q[8 * o + awq_order[k]][i] << (4 * k);
        } else {  /* GPTQ qweight I32 [in/8, out], nibble j of word r: input 8r + j */
            int64_t ws[2] = {AF_IN / 8, AF_OUT};
            lbrx_tensor_init_heap(&c->w, LBRX_I32, 2, ws, NULL, NULL);
            for (i = 0; i < AF_IN; i++)
                for (o = 0; o < AF_OUT; o++) ((uint32_t *)c->w.data)[(i / 8) * AF_OUT + o] |= (uint32_t)c->q[o][i] << (4 * (i % 8));
        }
    }
    for (o = 0; o < AF_OUT; o++)
        for (g = 0; g < ng; g++) {
            int64_t at = packing == LBRX_AFFINE_MLX ? o * ng + g : g * AF_OUT + o;
            if (sdt == LBRX_F16) ((uint16_t *)c->s.data)[at] = lbrx_f32_to_f16(c->scale[o][g]);
            else if (sdt == LBRX_BF16) ((uint16_t *)c->s.data)[at] = lbrx_f32_to_bf16(c->scale[o][g]);
            else ((float *)c->s.data)[at] = c->scale[o][g];
            if (packing != LBRX_AFFINE_MLX) continue;
            if (sdt == LBRX_F16) ((uint16_t *)c->o.data)[at] = lbrx_f32_to_f16(c->bias[o][g]);
            else if (sdt == LBRX_BF16) ((uint16_t *)c->o.data)[at] = lbrx_f32_to_bf16(c->bias[o][g]);
            else ((float *)c->o.data)[at] = c->bias[o][g];
        }
}

static double af_ref(const af_case *c, lbrx_affine_packing packing, int64_t group, int64_t o, int64_t i) {
    int64_t g = i / group;
    if (packing == LBRX_AFFINE_MLX) return (double)c->q[o][i] * c->scale[o][g] + c->bias[o][g];
    return ((double)c->q[o][i] - (double)c->zero[o][g]) * c->scale[o][g];
}

/* ... as the formats compute it in float32: MLX's product rounded, then the sum (two roundings;
   the double sum of two floats of these magnitudes is exact); (q - z) * scale rounded once */
static float af_ref_f32(const af_case *c, lbrx_affine_packing packing, int64_t group, int64_t o, int64_t i) {
    int64_t g = i / group;
    if (packing == LBRX_AFFINE_MLX) return (float)((double)(float)((double)c->q[o][i] * c->scale[o][g]) + c->bias[o][g]);
    return (float)af_ref(c, packing, group, o, i);
}

static void af_free(af_case *c) { lbrx_tensor_release(&c->w); lbrx_tensor_release(&c->s); lbrx_tensor_release(&c->o); }

/* An allocator that grants `left` requests, then refuses; live: granted and not freed. */
typedef struct af_budget { int left, live; } af_budget;
static void *af_budget_alloc(size_t size, size_t alignment, void *user) {
    af_budget *b = (af_budget *)user;
    if (b->left <= 0) return NULL;
    b->left--;
    b->live++;
    return lbrx_alloc(NULL, size, alignment);
}
static void af_budget_free(void *ptr, void *user) {
    ((af_budget *)user)->live--;
    lbrx_free(NULL, ptr);
}

static void test_affine(void) {
    static af_case c;
    static float deq[AF_OUT * AF_IN], deq2[AF_OUT * AF_IN];
    static const struct { lbrx_affine_packing p; int bits; int64_t group; lbrx_dtype sdt; float tiny; int exact; } cases[] = {
        {LBRX_AFFINE_MLX, 4, 32, LBRX_F16, 0, 1}, {LBRX_AFFINE_MLX, 4, 64, LBRX_BF16, 0, 1}, {LBRX_AFFINE_MLX, 4, 128, LBRX_F16, 0, 1},
        {LBRX_AFFINE_MLX, 8, 64, LBRX_BF16, 0, -1}, {LBRX_AFFINE_MLX, 8, 32, LBRX_F32, 0, -1},
        {LBRX_AFFINE_MLX, 4, 64, LBRX_BF16, 1e-4f, 0},  /* bf16 scales near 1e-8: f16 subnormal, inexact */
        {LBRX_AFFINE_AWQ, 4, 128, LBRX_F16, 0, 0}, {LBRX_AFFINE_AWQ, 4, 32, LBRX_F16, 0, 0},
        {LBRX_AFFINE_GPTQ, 4, 128, LBRX_F16, 0, 0}, {LBRX_AFFINE_GPTQ, 4, 64, LBRX_F16, 0, 0},
        /* full f32 scales and biases: fma(q, scale, bias) is one rounding of the exact value */
        {LBRX_AFFINE_MLX, 4, 32, LBRX_F32, -1, 0}, {LBRX_AFFINE_MLX, 8, 64, LBRX_F32, -1, -1}, {LBRX_AFFINE_AWQ, 4, 32, LBRX_F32, -1, 0},
        {LBRX_AFFINE_GPTQ, 4, 64, LBRX_BF16, 0, 0}};
    lbrx_context *ctx = 0;
    size_t k;
    LT_CHECK(lbrx_context_create(&ctx, NULL, NULL) == LBRX_OK);
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lbrx_affine a;
        lbrx_tensor q41, x, y;
        lbrx_error e;
        int64_t o, i, bad = 0, xs[2] = {3, AF_IN}, ys[2] = {3, AF_OUT};
        int exact = -1;
        double worst = 0;
        memset(&c, 0, sizeof c);
        af_make(&c, cases[k].p, cases[k].bits, cases[k].group, cases[k].sdt, cases[k].tiny);
        LT_CHECKF(lbrx_affine_init(&a, cases[k].p, cases[k].bits, cases[k].group, &c.w, &c.s, &c.o, NULL, &e) == LBRX_OK, "case %zu: %s", k, e.message);
        LT_CHECK(a.rows == AF_OUT && a.cols == AF_IN);
        LT_CHECK(lbrx_affine_dequantize_rows(&a, 0, AF_OUT, deq, NULL) == LBRX_OK);
        for (o = 0; o < AF_OUT; o++)
            for (i = 0; i < AF_IN; i++) bad += deq[o * AF_IN + i] != af_ref_f32(&c, cases[k].p, cases[k].group, o, i);
        LT_CHECKF(bad == 0, "case %zu: %lld values differ from the float64 reference", k, (long long)bad);
        if (cases[k].bits == 4) {
            LT_CHECK(lbrx_affine_to_q4_1(&a, &q41, NULL, &exact, &e) == LBRX_OK);
            LT_CHECKF(exact == cases[k].exact, "case %zu: exact %d", k, exact);
            for (o = 0; o < AF_OUT; o++) lbrx_dequantize_row(LBRX_Q4_1, lbrx_tensor_row(&q41, o), deq2 + o * AF_IN, AF_IN);
            for (i = 0, bad = 0; i < AF_OUT * AF_IN; i++) {
                double d = fabs((double)deq2[i] - (double)deq[i]);
                bad += exact && deq2[i] != deq[i];
                if (d > worst) worst = d;
            }
            LT_CHECKF(bad == 0, "case %zu: exact repack differs in %lld values", k, (long long)bad);
            /* inexact: off by the f16 rounding of d and m, below 1e-3 for these magnitudes */
            LT_CHECKF(exact || (worst > 0 && worst < 1e-3), "case %zu: repack error %g", k, worst);
            /* the repack runs through lbrx_matmul: against float64 x . W^T of the checkpoint's weight */
            LT_CHECK(lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK && lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
            for (i = 0; i < 3 * AF_IN; i++) ((float *)x.data)[i] = ((float)af_rand(2001) - 1000.0f) * 1e-3f;
            LT_CHECKF(lbrx_matmul(ctx, &q41, &x, &y, &e) == LBRX_OK, "%s", e.message);
            for (o = 0, bad = 0; o < 3 * AF_OUT; o++) {
                double ref = 0, mag = 0;
                for (i = 0; i < AF_IN; i++) {
                    double wv = af_ref(&c, cases[k].p, cases[k].group, o % AF_OUT, i), xv = ((float *)x.data)[(o / AF_OUT) * AF_IN + i];
                    ref += wv * xv;
                    mag += fabs(wv * xv);
                }
                /* x is quantized to 8 bits per block of 32 on the way (GGML's Q8_1 activations) */
                bad += fabs(((float *)y.data)[o] - ref) > 1e-2 * mag + 1e-6;
            }
            LT_CHECKF(bad == 0, "case %zu: %lld matmul outputs off", k, (long long)bad);
            lbrx_tensor_release(&x); lbrx_tensor_release(&y); lbrx_tensor_release(&q41);
        } else {
            LT_CHECK(lbrx_affine_to_q4_1(&a, &q41, NULL, &exact, &e) == LBRX_ERR_UNSUPPORTED);
        }
        {   /* lbrx_affine_repack: Q4_1 where that is exact, else LBRX_AFFINE_Q4 / _Q8, whose
               dequantization is the formats' f32 value bit for bit; exact but where f32 cannot
               hold -z * scale or 15 * scale (computed here: full F32 AWQ scales) */
            lbrx_tensor t;
            lbrx_dtype want = cases[k].exact == 1 ? LBRX_Q4_1 : cases[k].bits == 8 ? LBRX_AFFINE_Q8 : LBRX_AFFINE_Q4;
            int want_exact = 1;
            int64_t g;
            memset(&t, 0, sizeof t);
            for (o = 0; o < AF_OUT && cases[k].p != LBRX_AFFINE_MLX; o++)
                for (g = 0; g < AF_IN / cases[k].group; g++) {
                    float m = -(float)c.zero[o][g] * c.scale[o][g];
                    int qq;
                    want_exact &= (double)m == -(double)c.zero[o][g] * (double)c.scale[o][g];
                    for (qq = 0; qq < 16; qq++) { float p = (float)qq * c.scale[o][g]; want_exact &= (double)p == qq * (double)c.scale[o][g]; }
                }
            LT_CHECKF(lbrx_affine_repack(&a, &t, NULL, &exact, &e) == LBRX_OK && t.dtype == want && exact == want_exact,
                      "case %zu: repack into %s, exact %d (want %s, %d)", k, lbrx_dtype_name(t.dtype), exact, lbrx_dtype_name(want), want_exact);
            for (o = 0; o < AF_OUT; o++) lbrx_dequantize_row(t.dtype, lbrx_tensor_row(&t, o), deq2 + o * AF_IN, AF_IN);
            for (o = 0, bad = 0; o < AF_OUT; o++)
                for (i = 0; i < AF_IN; i++) {
                    float r = af_ref_f32(&c, cases[k].p, cases[k].group, o, i), got = deq2[o * AF_IN + i];
                    /* inexact: m and q * d off by half an f32 ulp each, plus the rounding of the sum */
                    bad += want_exact ? got != r : !(fabs((double)got - r) <= ldexp(fabs((double)c.scale[o][i / cases[k].group]) * 16, -23));
                }
            LT_CHECKF(bad == 0, "case %zu: %s repack dequantizes differently in %lld values", k, lbrx_dtype_name(t.dtype), (long long)bad);
            if (getenv("LT_VERBOSE")) fprintf(stderr, "  case %zu: repacked into %s, exact %d\n", k, lbrx_dtype_name(t.dtype), exact);
            lbrx_tensor_release(&t);
            if (want == LBRX_AFFINE_Q4) {  /* out of memory where the Q4_1 start becomes LBRX_AFFINE_Q4: nothing kept */
                int n;
                for (n = 2; n <= 3; n++) {
                    af_budget bu;
                    lbrx_allocator al;
                    bu.left = n; bu.live = 0;
                    al.alloc = af_budget_alloc; al.free = af_budget_free; al.user = &bu;
                    memset(&t, 0, sizeof t);
                    LT_CHECKF(lbrx_affine_repack(&a, &t, &al, &exact, &e) == LBRX_ERR_OUT_OF_MEMORY && t.data == NULL && bu.live == 0,
                              "case %zu: repack with %d allocations: %s, %d live", k, n, e.message, bu.live);
                }
            }
        }
        lbrx_affine_release(&a);
        af_free(&c);
    }
    lbrx_context_destroy(ctx);
}

/* Hostile metadata: each an error naming the tensor and what was expected. */
static void test_affine_hostile(void) {
    static af_case c;
    lbrx_affine a;
    lbrx_error e;
    lbrx_tensor g, bad;
    int64_t gs[1] = {AF_IN}, ss[2] = {AF_OUT, 3}, i;
    memset(&c, 0, sizeof c);
    af_make(&c, LBRX_AFFINE_MLX, 4, 64, LBRX_F16, 0);
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 96, &c.w, &c.s, &c.o, NULL, &e) == LBRX_ERR_BAD_SHAPE && strstr(e.message, "group size 96"));
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 4, &c.w, &c.s, &c.o, NULL, &e) == LBRX_ERR_BAD_SHAPE && strstr(e.message, "whole packed words"));
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 32, &c.w, &c.s, &c.o, NULL, &e) == LBRX_ERR_BAD_SHAPE &&
             strstr(e.message, "scales") && strstr(e.message, "expected [16, 8]"));
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 3, 64, &c.w, &c.s, &c.o, NULL, &e) == LBRX_ERR_UNSUPPORTED);
    memset(&bad, 0, sizeof bad);
    LT_CHECK(lbrx_affine_repack(NULL, &bad, NULL, NULL, &e) == LBRX_ERR_INVALID_ARGUMENT && bad.data == NULL);
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 64, &c.w, &c.s, &c.w, NULL, &e) == LBRX_ERR_BAD_DTYPE && strstr(e.message, "biases"));
    LT_CHECK(lbrx_tensor_init_heap(&bad, LBRX_F16, 2, ss, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 64, &c.w, &c.s, &bad, NULL, &e) == LBRX_ERR_BAD_SHAPE && strstr(e.message, "[16, 3]"));
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 64, &c.w, &c.s, &c.o, &bad, &e) == LBRX_ERR_INVALID_ARGUMENT);
    lbrx_tensor_release(&bad);
    af_free(&c);
    memset(&c, 0, sizeof c);
    af_make(&c, LBRX_AFFINE_GPTQ, 4, 64, LBRX_F16, 0);
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_GPTQ, 8, 64, &c.w, &c.s, &c.o, NULL, &e) == LBRX_ERR_UNSUPPORTED);
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_GPTQ, 4, 64, &c.w, &c.o, &c.o, NULL, &e) == LBRX_ERR_BAD_DTYPE && strstr(e.message, "scales"));
    LT_CHECK(lbrx_tensor_init_heap(&g, LBRX_I32, 1, gs, NULL, NULL) == LBRX_OK);
    for (i = 0; i < AF_IN; i++) ((int32_t *)g.data)[i] = (int32_t)(i / 64);
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_GPTQ, 4, 64, &c.w, &c.s, &c.o, &g, &e) == LBRX_OK);  /* the trivial g_idx */
    lbrx_affine_release(&a);
    ((int32_t *)g.data)[70] = 3;  /* act order */
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_GPTQ, 4, 64, &c.w, &c.s, &c.o, &g, &e) == LBRX_ERR_UNSUPPORTED &&
             strstr(e.message, "act-order") && strstr(e.message, "g_idx[70] = 3"));
    LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_AWQ, 4, 64, &c.w, &c.s, &c.o, NULL, &e) == LBRX_ERR_BAD_SHAPE);  /* GPTQ tensors read as AWQ */
    lbrx_tensor_release(&g);
    af_free(&c);
    {   /* shapes whose element counts overflow (tensor structs made by hand: no file has them) */
        lbrx_tensor w, sc;
        lbrx_tensor q;
        const int64_t big = (int64_t)1 << 61, huge = (int64_t)1 << 59;
        memset(&w, 0, sizeof w);
        w.dtype = LBRX_U32; w.ndim = 2; w.shape[0] = 16; w.shape[1] = big; w.data = &w;
        LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 64, &w, &w, &w, NULL, &e) == LBRX_ERR_OVERFLOW && strstr(e.message, "too large"));
        w.shape[0] = huge; w.shape[1] = huge;  /* [2^59, 2^62] accepted, but no Q4_1 tensor holds it */
        w.stride[1] = 4; w.stride[0] = 4 * huge;
        memset(&sc, 0, sizeof sc);
        sc.dtype = LBRX_F16; sc.ndim = 2; sc.shape[0] = huge; sc.shape[1] = huge * 8 / 64; sc.data = &sc;
        LT_CHECK(lbrx_affine_init(&a, LBRX_AFFINE_MLX, 4, 64, &w, &sc, &sc, NULL, &e) == LBRX_OK);
        memset(&q, 0, sizeof q);
        LT_CHECKF(lbrx_affine_to_q4_1(&a, &q, NULL, NULL, &e) == LBRX_ERR_OVERFLOW && q.data == NULL, "%s", e.message);
        LT_CHECKF(lbrx_affine_repack(&a, &q, NULL, NULL, &e) == LBRX_ERR_OVERFLOW && q.data == NULL, "%s", e.message);
        lbrx_affine_release(&a);
    }
}

int main(void) {
    LT_RUN(test_ggml_quantize_bytes);
    LT_RUN(test_ggml_quantize_random_rows);
    LT_RUN(test_ggml_dequantize_floats);
    LT_RUN(test_q8_1);
    LT_RUN(test_q8_k);
    LT_RUN(test_simd_matches_scalar);
    LT_RUN(test_round_trip_error);
    LT_RUN(test_plain_types);
    LT_RUN(test_float8);
    LT_RUN(test_mx_types);
    LT_RUN(test_affine);
    LT_RUN(test_affine_hostile);
    LT_RUN(test_round_clamp);
    LT_RUN(test_tensor_convert);
    return lt_finish();
}
