/* Fused attention and the KV cache, against a float64 naive reference written here. */
#define LBRX_THREAD_SLICE 0   /* every operation on all threads: the thread-count checks split even small cases */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"

static int slow_mode(void) { const char *s = getenv("LT_SLOW"); return s && *s; }

/* One attention problem with its inputs; k and v are kept in the cache dtype, and the reference
   reads the same (f16-rounded) values back. */
typedef struct problem {
    int64_t n_q, n_kv, n_head, n_kv_head, d;
    lbrx_dtype kv_dtype;
    lbrx_tensor q, k, v, out, mask;
    int has_mask;
} problem;


static void make_problem(problem *p, int64_t n_q, int64_t n_kv, int64_t n_head, int64_t n_kv_head, int64_t d,
                         lbrx_dtype kv_dtype, float amplitude, unsigned long long seed) {
    int64_t qs[3], ks[3], i, n;
    lt_rng rng;
    float *tmp;
    memset(p, 0, sizeof *p);
    p->n_q = n_q; p->n_kv = n_kv; p->n_head = n_head; p->n_kv_head = n_kv_head; p->d = d; p->kv_dtype = kv_dtype;
    rng.s = seed;
    qs[0] = n_q; qs[1] = n_head; qs[2] = d;
    ks[0] = n_kv; ks[1] = n_kv_head; ks[2] = d;
    lbrx_tensor_init_heap(&p->q, LBRX_F32, 3, qs, NULL, NULL);
    lbrx_tensor_init_heap(&p->out, LBRX_F32, 3, qs, NULL, NULL);
    lbrx_tensor_init_heap(&p->k, kv_dtype, 3, ks, NULL, NULL);
    lbrx_tensor_init_heap(&p->v, kv_dtype, 3, ks, NULL, NULL);
    for (i = 0; i < n_q * n_head * d; i++) ((float *)p->q.data)[i] = amplitude * lt_uniform(&rng);
    n = n_kv * n_kv_head * d;
    tmp = (float *)calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    for (i = 0; i < n; i++) tmp[i] = amplitude * lt_uniform(&rng);
    if (kv_dtype == LBRX_F16) lbrx_f32_to_f16_row(tmp, p->k.data, (size_t)n); else memcpy(p->k.data, tmp, (size_t)n * 4);
    for (i = 0; i < n; i++) tmp[i] = lt_uniform(&rng);
    if (kv_dtype == LBRX_F16) lbrx_f32_to_f16_row(tmp, p->v.data, (size_t)n); else memcpy(p->v.data, tmp, (size_t)n * 4);
    free(tmp);
}

/* An additive mask [n_q, n_kv] (or [n_head, n_q, n_kv]) of small values with some -inf. */
static void add_mask(problem *p, int per_head, unsigned long long seed) {
    int64_t ms[3], i, n;
    lt_rng rng;
    rng.s = seed;
    ms[0] = p->n_head; ms[1] = p->n_q; ms[2] = p->n_kv;
    if (per_head) lbrx_tensor_init_heap(&p->mask, LBRX_F32, 3, ms, NULL, NULL);
    else lbrx_tensor_init_heap(&p->mask, LBRX_F32, 2, ms + 1, NULL, NULL);
    n = (per_head ? p->n_head : 1) * p->n_q * p->n_kv;
    for (i = 0; i < n; i++) {
        float u = lt_uniform(&rng);
        ((float *)p->mask.data)[i] = u > 0.8f ? -INFINITY : 2.0f * u;
    }
    p->has_mask = 1;
}

static void free_problem(problem *p) {
    lbrx_tensor_release(&p->q); lbrx_tensor_release(&p->k); lbrx_tensor_release(&p->v);
    lbrx_tensor_release(&p->out); lbrx_tensor_release(&p->mask);
}

static double kv_at(const problem *p, const lbrx_tensor *t, int64_t j, int64_t h, int64_t e) {
    size_t idx = (size_t)((j * p->n_kv_head + h) * p->d + e);
    if (p->kv_dtype == LBRX_F16) {
        uint16_t u;
        memcpy(&u, (const unsigned char *)t->data + 2 * idx, 2);
        return lbrx_f16_to_f32(u);
    }
    return ((const float *)t->data)[idx];
}

/* Naive float64 attention; returns the largest |out - ref| over all outputs. */
static double max_error(const problem *p, const lbrx_attention_desc *desc) {
    int64_t i, h, j, e, group = p->n_head / p->n_kv_head;
    double worst = 0.0, scale = desc && desc->scale != 0.0f ? desc->scale : 1.0 / sqrt((double)p->d);
    double *s = (double *)malloc((size_t)p->n_kv * sizeof(double) + 8), *o = (double *)malloc((size_t)p->d * sizeof(double));
    for (i = 0; i < p->n_q; i++)
        for (h = 0; h < p->n_head; h++) {
            int64_t pos = p->n_kv - p->n_q + i, hk = h / group;
            double mx = -INFINITY, sum = 0.0;
            const float *qr = (const float *)p->q.data + (i * p->n_head + h) * p->d;
            for (j = 0; j < p->n_kv; j++) {
                double dot = 0.0;
                int visible = 1;
                if (desc && desc->causal && j > pos) visible = 0;
                if (desc && desc->window > 0 && j <= pos - desc->window) visible = 0;
                for (e = 0; e < p->d; e++) dot += (double)qr[e] * kv_at(p, &p->k, j, hk, e);
                s[j] = dot * scale;
                if (desc && desc->softcap > 0.0f) s[j] = desc->softcap * tanh(s[j] / desc->softcap);
                if (p->has_mask) {
                    const float *m = (const float *)p->mask.data;
                    s[j] += p->mask.ndim == 3 ? m[(h * p->n_q + i) * p->n_kv + j] : m[i * p->n_kv + j];
                }
                if (!visible) s[j] = -INFINITY;
                if (s[j] > mx) mx = s[j];
            }
            for (e = 0; e < p->d; e++) o[e] = 0.0;
            if (mx > -INFINITY) {
                for (j = 0; j < p->n_kv; j++) {
                    double w = s[j] == -INFINITY ? 0.0 : exp(s[j] - mx);
                    sum += w;
                    for (e = 0; e < p->d; e++) o[e] += w * kv_at(p, &p->v, j, hk, e);
                }
                for (e = 0; e < p->d; e++) o[e] /= sum;
            }
            for (e = 0; e < p->d; e++) {
                double got = ((const float *)p->out.data)[(i * p->n_head + h) * p->d + e], err = fabs(got - o[e]);
                if (!(err <= worst)) worst = err;  /* NaN counts as the worst */
            }
        }
    free(s); free(o);
    return worst;
}


/* Run one case and compare with the reference; tolerance is absolute (outputs are O(1)). */
static void check_case(lbrx_context *ctx, problem *p, const lbrx_attention_desc *desc, double tol, const char *what) {
    lbrx_error err;
    lbrx_result r;
    double e;
    memset(&err, 0, sizeof err);
    r = lbrx_attention(ctx, &p->q, &p->k, &p->v, desc, &p->out, &err);
    LT_CHECKF(r == LBRX_OK, "%s: %s", what, err.message);
    if (r != LBRX_OK) return;
    e = max_error(p, desc);
    LT_CHECKF(e <= tol, "%s: n_q %lld n_kv %lld heads %lld/%lld d %lld %s: max error %.3g > %.3g", what,
              (long long)p->n_q, (long long)p->n_kv, (long long)p->n_head, (long long)p->n_kv_head, (long long)p->d,
              lbrx_dtype_name(p->kv_dtype), e, tol);
}

static void test_head_dims(void) {
    /* the multiples of 8 models use, and sizes that leave a partial vector (odd ones included) */
    static const int64_t dims[] = {64, 80, 96, 128, 256, 8, 24, 136, 512, 1, 2, 3, 5, 7, 12, 20, 36, 100, 257, 511};
    lbrx_context *ctx = lt_context(2);
    lbrx_attention_desc desc;
    size_t i;
    memset(&desc, 0, sizeof desc);
    desc.causal = 1;
    for (i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        problem p;
        int f16;
        for (f16 = 0; f16 < 2; f16++) {
            make_problem(&p, 1, 77, 4, 2, dims[i], f16 ? LBRX_F16 : LBRX_F32, 1.0f, 11 + i);
            check_case(ctx, &p, &desc, 2e-6, "decode");
            free_problem(&p);
            make_problem(&p, 45, 45, 4, 1, dims[i], f16 ? LBRX_F16 : LBRX_F32, 1.0f, 21 + i);
            check_case(ctx, &p, &desc, 2e-6, "prefill");
            free_problem(&p);
        }
    }
    lbrx_context_destroy(ctx);
}

static void test_gqa_and_lengths(void) {
    static const int64_t ratios[] = {1, 4, 8};
    lbrx_context *ctx = lt_context(2);
    lbrx_attention_desc desc;
    int64_t big = slow_mode() ? 1024 : 4096, pre = slow_mode() ? 96 : 300;
    size_t i;
    memset(&desc, 0, sizeof desc);
    desc.causal = 1;
    for (i = 0; i < 3; i++) {
        problem p;
        int64_t hk = ratios[i] == 8 ? 1 : 2;
        make_problem(&p, 1, big, hk * ratios[i], hk, 128, LBRX_F16, 1.0f, 100 + i);
        check_case(ctx, &p, &desc, 2e-6, "decode long");
        free_problem(&p);
        make_problem(&p, 3, big, hk * ratios[i], hk, 64, LBRX_F32, 1.0f, 110 + i);
        check_case(ctx, &p, &desc, 2e-6, "3 new tokens, long cache");
        free_problem(&p);
        make_problem(&p, pre, pre, hk * ratios[i], hk, 128, LBRX_F16, 1.0f, 120 + i);
        check_case(ctx, &p, &desc, 2e-6, "prefill");
        free_problem(&p);
        make_problem(&p, pre, pre, hk * ratios[i], hk, 80, LBRX_F32, 1.0f, 130 + i);
        desc.causal = 0;
        check_case(ctx, &p, &desc, 2e-6, "prefill, not causal");
        desc.causal = 1;
        free_problem(&p);
    }
    lbrx_context_destroy(ctx);
}

static void test_masks_and_window(void) {
    lbrx_context *ctx = lt_context(2);
    lbrx_attention_desc desc;
    problem p;
    int64_t windows[] = {1, 7, 64, 1000};
    size_t i;
    memset(&desc, 0, sizeof desc);
    make_problem(&p, 37, 150, 8, 2, 64, LBRX_F16, 1.0f, 7);
    add_mask(&p, 0, 8);
    desc.mask = &p.mask;
    check_case(ctx, &p, &desc, 2e-6, "2-d mask");
    desc.causal = 1;
    check_case(ctx, &p, &desc, 2e-6, "2-d mask and causal");
    free_problem(&p);
    make_problem(&p, 20, 20, 4, 4, 96, LBRX_F32, 1.0f, 9);
    add_mask(&p, 1, 10);
    desc.mask = &p.mask;
    desc.causal = 0;
    check_case(ctx, &p, &desc, 2e-6, "per-head mask");
    free_problem(&p);
    desc.mask = NULL;
    desc.causal = 1;
    for (i = 0; i < 4; i++) {
        desc.window = windows[i];
        make_problem(&p, 100, 300, 4, 2, 64, LBRX_F16, 1.0f, 30 + i);
        check_case(ctx, &p, &desc, 2e-6, "sliding window");
        free_problem(&p);
        make_problem(&p, 1, 300, 4, 2, 128, LBRX_F16, 1.0f, 40 + i);
        check_case(ctx, &p, &desc, 2e-6, "sliding window decode");
        free_problem(&p);
    }
    lbrx_context_destroy(ctx);
}

/* Soft-capped scores (Gemma 2): with large scores so that tanh bends them, over the decode and
   the prefill paths, with a window and a mask, odd and even head dims. */
static void test_softcap(void) {
    static const int64_t dims[] = {16, 13, 256};
    lbrx_context *ctx = lt_context(2);
    lbrx_attention_desc desc;
    size_t i;
    memset(&desc, 0, sizeof desc);
    desc.causal = 1;
    desc.softcap = 2.5f;
    for (i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        problem p;
        make_problem(&p, 2, 300, 4, 2, dims[i], LBRX_F32, 3.0f, 31 + i);
        check_case(ctx, &p, &desc, 2e-6, "softcap decode");
        free_problem(&p);
        make_problem(&p, 70, 90, 4, 2, dims[i], LBRX_F16, 3.0f, 41 + i);
        desc.window = 9;
        add_mask(&p, 0, 5);
        desc.mask = &p.mask;
        check_case(ctx, &p, &desc, 2e-6, "softcap prefill, window, mask");
        desc.window = 0;
        desc.mask = NULL;
        free_problem(&p);
    }
    lbrx_context_destroy(ctx);
}

static void test_fully_masked_rows_are_zero(void) {
    lbrx_attention_desc desc;
    problem p;
    int64_t i;
    memset(&desc, 0, sizeof desc);
    make_problem(&p, 6, 9, 2, 1, 16, LBRX_F32, 1.0f, 3);
    add_mask(&p, 0, 4);
    for (i = 0; i < 9; i++) ((float *)p.mask.data)[2 * 9 + i] = -INFINITY;   /* query 2 sees nothing */
    desc.mask = &p.mask;
    check_case(NULL, &p, &desc, 2e-6, "a fully masked row");
    for (i = 0; i < 2 * 16; i++) LT_CHECK(((float *)p.out.data)[2 * 2 * 16 + i] == 0.0f);
    free_problem(&p);
    /* more queries than keys: the first queries sit at negative positions and see nothing */
    make_problem(&p, 12, 5, 2, 2, 32, LBRX_F16, 1.0f, 5);
    desc.mask = NULL;
    desc.causal = 1;
    check_case(NULL, &p, &desc, 2e-6, "n_q > n_kv, causal");
    free_problem(&p);
}

static void test_large_scores(void) {
    lbrx_context *ctx = lt_context(2);
    lbrx_attention_desc desc;
    problem p;
    memset(&desc, 0, sizeof desc);
    desc.causal = 1;
    /* scores of magnitude ~ 1e3 (q and k up to 30, d 128): exp without the running maximum
       would overflow. The tolerance is f32 rounding of such scores: 2^-24 * scale * sum|q_e k_e|
       (~2.5e3) is ~1.5e-4 absolute in a score, the same relative error in its weight. */
    make_problem(&p, 50, 200, 4, 2, 128, LBRX_F32, 30.0f, 77);
    check_case(ctx, &p, &desc, 1e-3, "large scores");
    free_problem(&p);
    desc.scale = 1000.0f;
    make_problem(&p, 1, 500, 8, 1, 64, LBRX_F16, 1.0f, 78);
    check_case(ctx, &p, &desc, 1e-4, "large scale");
    free_problem(&p);
    lbrx_context_destroy(ctx);
}

/* Decoding splits the keys into chunks of a fixed size (256) and combines them: lengths around
   the chunk size, a window that starts inside a chunk, MHA (one row per KV head), the largest
   decode tile (8 rows: 2 queries x 4 heads, 1 query x 8 heads), a head_dim the vectors do not
   divide, a mask, and K/V whose heads are not adjacent (a slice of a wider cache). */
static void test_decode_chunks(void) {
    static const int64_t lens[] = {1, 255, 256, 257, 1000};
    lbrx_context *ctx = lt_context(2);
    lbrx_attention_desc desc;
    size_t i;
    memset(&desc, 0, sizeof desc);
    desc.causal = 1;
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        problem p;
        make_problem(&p, 1, lens[i], 4, 4, 64, LBRX_F32, 1.0f, 600 + i);
        check_case(ctx, &p, &desc, 2e-6, "decode, MHA");
        free_problem(&p);
        make_problem(&p, 2, lens[i] + 1, 8, 2, 128, LBRX_F16, 1.0f, 610 + i);
        check_case(ctx, &p, &desc, 2e-6, "decode, 2 queries x 4 heads");
        desc.window = 300;
        check_case(ctx, &p, &desc, 2e-6, "decode, 2 queries x 4 heads, window 300");
        desc.window = 0;
        free_problem(&p);
        make_problem(&p, 1, lens[i], 8, 1, 72, LBRX_F16, 1.0f, 620 + i);
        add_mask(&p, 1, 630 + i);
        desc.mask = &p.mask;
        check_case(ctx, &p, &desc, 2e-6, "decode, 8 heads per KV head, head_dim 72, per-head mask");
        desc.mask = NULL;
        free_problem(&p);
    }
    {   /* 3, 5, 6, 7 rows per KV head (runs of keys that do not divide a block, and their tails),
           and 9-16 rows: a few tokens at once (speculative decoding), still on decoding's path */
        static const int64_t shapes[][3] = {{1, 6, 2}, {1, 10, 2}, {3, 4, 2}, {7, 2, 2},
                                            {9, 1, 1}, {3, 8, 2}, {4, 8, 2}, {2, 16, 2}, {16, 2, 2}};
        for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            problem p;
            make_problem(&p, shapes[i][0], 300 + 7 * (int64_t)i, shapes[i][1], shapes[i][2], 64, LBRX_F16, 1.0f, 650 + i);
            check_case(ctx, &p, &desc, 2e-6, "decode, 3-16 rows per KV head");
            free_problem(&p);
        }
    }
    {   /* K and V: KV heads 1 and 2 of a cache with 3 */
        problem p;
        lbrx_tensor wk, wv, kv, vv;
        int64_t ws[3] = {700, 3, 64}, j;
        make_problem(&p, 1, 700, 8, 2, 64, LBRX_F16, 1.0f, 640);
        lbrx_tensor_init_heap(&wk, LBRX_F16, 3, ws, NULL, NULL);
        lbrx_tensor_init_heap(&wv, LBRX_F16, 3, ws, NULL, NULL);
        memset(wk.data, 0, (size_t)(700 * 3 * 64 * 2));
        memset(wv.data, 0, (size_t)(700 * 3 * 64 * 2));
        for (j = 0; j < 700; j++) {
            memcpy((unsigned char *)wk.data + (j * 3 + 1) * 128, (unsigned char *)p.k.data + j * 2 * 128, 2 * 128);
            memcpy((unsigned char *)wv.data + (j * 3 + 1) * 128, (unsigned char *)p.v.data + j * 2 * 128, 2 * 128);
        }
        lbrx_tensor_slice(&wk, 1, 1, 3, &kv, NULL);
        lbrx_tensor_slice(&wv, 1, 1, 3, &vv, NULL);
        LT_CHECK(lbrx_attention(ctx, &p.q, &kv, &vv, &desc, &p.out, NULL) == LBRX_OK);
        LT_CHECKF(max_error(&p, &desc) <= 2e-6, "decode with K/V as head slices: max error %.3g", max_error(&p, &desc));
        lbrx_tensor_release(&kv); lbrx_tensor_release(&vv);
        lbrx_tensor_release(&wk); lbrx_tensor_release(&wv);
        free_problem(&p);
    }
    lbrx_context_destroy(ctx);
}

static void test_threads_bit_identical(void) {
    static const int64_t nq[] = {1, 200};   /* n_q 1: 4 chunks of keys */
    size_t c;
    for (c = 0; c < 2; c++) {
        problem p;
        float *first;
        size_t bytes;
        int t;
        lbrx_attention_desc desc;
        memset(&desc, 0, sizeof desc);
        desc.causal = 1;
        make_problem(&p, nq[c], nq[c] == 1 ? 1000 : 333, 12, 4, 64, LBRX_F16, 1.0f, 500 + c);
        bytes = (size_t)(nq[c] * 12 * 64) * 4;
        first = (float *)malloc(bytes);
        for (t = 1; t <= 3; t++) {
            lbrx_context *ctx = lt_context(t);
            LT_CHECK(lbrx_attention(ctx, &p.q, &p.k, &p.v, &desc, &p.out, NULL) == LBRX_OK);
            if (t == 1) memcpy(first, p.out.data, bytes);
            else LT_CHECKF(memcmp(first, p.out.data, bytes) == 0, "%d threads differ from 1 (n_q %lld)", t, (long long)nq[c]);
            lbrx_context_destroy(ctx);
        }
        free(first);
        free_problem(&p);
    }
}

/* q as a strided view (every other head of a wider tensor), out as a view too. */
static void test_strided_views(void) {
    lbrx_tensor wide, qv, ov, wide_out;
    int64_t ws[3] = {10, 8, 32}, i;
    problem p;
    lt_rng rng;
    lbrx_attention_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.causal = 1;
    rng.s = 99;
    make_problem(&p, 10, 30, 4, 2, 32, LBRX_F32, 1.0f, 12);
    lbrx_tensor_init_heap(&wide, LBRX_F32, 3, ws, NULL, NULL);
    lbrx_tensor_init_heap(&wide_out, LBRX_F32, 3, ws, NULL, NULL);
    for (i = 0; i < 10 * 8 * 32; i++) ((float *)wide.data)[i] = lt_uniform(&rng);
    lbrx_tensor_slice(&wide, 1, 2, 6, &qv, NULL);
    lbrx_tensor_slice(&wide_out, 1, 4, 8, &ov, NULL);
    LT_CHECK(lbrx_attention(NULL, &qv, &p.k, &p.v, &desc, &ov, NULL) == LBRX_OK);
    for (i = 0; i < 10; i++) {   /* copy the view into p.q / p.out and use the reference */
        memcpy((float *)p.q.data + i * 4 * 32, (float *)wide.data + (i * 8 + 2) * 32, 4 * 32 * 4);
        memcpy((float *)p.out.data + i * 4 * 32, (float *)wide_out.data + (i * 8 + 4) * 32, 4 * 32 * 4);
    }
    LT_CHECK(max_error(&p, &desc) <= 2e-6);
    lbrx_tensor_release(&qv); lbrx_tensor_release(&ov);
    lbrx_tensor_release(&wide); lbrx_tensor_release(&wide_out);
    free_problem(&p);
}

static void test_bad_arguments(void) {
    problem p;
    lbrx_error err;
    lbrx_tensor bad;
    int64_t s[3] = {4, 3, 16};
    make_problem(&p, 4, 4, 4, 2, 16, LBRX_F32, 1.0f, 1);
    memset(&err, 0, sizeof err);
    LT_CHECK(lbrx_attention(NULL, NULL, &p.k, &p.v, NULL, &p.out, &err) == LBRX_ERR_INVALID_ARGUMENT);
    lbrx_tensor_init_heap(&bad, LBRX_F32, 3, s, NULL, NULL);   /* 3 heads: not a multiple of 2 */
    LT_CHECK(lbrx_attention(NULL, &bad, &p.k, &p.v, NULL, &p.out, &err) == LBRX_ERR_BAD_SHAPE);
    lbrx_tensor_release(&bad);
    s[1] = 4; s[2] = 12;                                     /* head_dim 12 against k's 16 */
    lbrx_tensor_init_heap(&bad, LBRX_F32, 3, s, NULL, NULL);
    LT_CHECK(lbrx_attention(NULL, &bad, &p.k, &p.v, NULL, &bad, &err) == LBRX_ERR_BAD_SHAPE);
    lbrx_tensor_release(&bad);
    {   /* head_dim 513 is past the limit; a negative or NaN softcap is refused */
        problem big;
        lbrx_attention_desc d;
        make_problem(&big, 1, 2, 1, 1, 513, LBRX_F32, 1.0f, 3);
        LT_CHECK(lbrx_attention(NULL, &big.q, &big.k, &big.v, NULL, &big.out, &err) == LBRX_ERR_BAD_SHAPE);
        free_problem(&big);
        memset(&d, 0, sizeof d);
        d.softcap = -1.0f;
        LT_CHECK(lbrx_attention(NULL, &p.q, &p.k, &p.v, &d, &p.out, &err) == LBRX_ERR_INVALID_ARGUMENT);
        d.softcap = (float)NAN;
        LT_CHECK(lbrx_attention(NULL, &p.q, &p.k, &p.v, &d, &p.out, &err) == LBRX_ERR_INVALID_ARGUMENT);
    }
    s[2] = 16;
    lbrx_tensor_init_heap(&bad, LBRX_BF16, 3, s, NULL, NULL);   /* bf16 k */
    LT_CHECK(lbrx_attention(NULL, &p.q, &bad, &p.v, NULL, &p.out, &err) == LBRX_ERR_BAD_DTYPE);
    LT_CHECK(strstr(err.message, "bf16") != NULL);
    lbrx_tensor_release(&bad);
    free_problem(&p);
}

static void test_kv_cache(void) {
    static const lbrx_dtype types[] = {LBRX_F16, LBRX_F32};
    size_t c;
    for (c = 0; c < 2; c++) {
        lbrx_kv_cache cache;
        lbrx_tensor kn, vn, kview, vview;
        int64_t s[3] = {5, 2, 16}, i, total = 0, step;
        lt_rng rng;
        float *all_k = (float *)malloc(20 * 2 * 16 * 4), *all_v = (float *)malloc(20 * 2 * 16 * 4);
        lbrx_error err;
        rng.s = 1234 + c;
        LT_CHECK(lbrx_kv_cache_init(&cache, types[c], 20, 2, 16, NULL, NULL) == LBRX_OK);
        for (step = 1; total + step <= 20; step += 2) {   /* appends of 1, 3, 5, 7 positions */
            s[0] = step;
            lbrx_tensor_init_heap(&kn, LBRX_F32, 3, s, NULL, NULL);
            lbrx_tensor_init_heap(&vn, LBRX_F32, 3, s, NULL, NULL);
            for (i = 0; i < step * 32; i++) {
                all_k[total * 32 + i] = ((float *)kn.data)[i] = 100.0f * lt_uniform(&rng);
                all_v[total * 32 + i] = ((float *)vn.data)[i] = lt_uniform(&rng);
            }
            LT_CHECK(lbrx_kv_cache_append(&cache, &kn, &vn, NULL) == LBRX_OK);
            total += step;
            LT_CHECK(cache.n == total);
            lbrx_tensor_release(&kn); lbrx_tensor_release(&vn);
        }
        LT_CHECK(lbrx_kv_cache_view(&cache, &kview, &vview, NULL) == LBRX_OK);
        LT_CHECK(kview.shape[0] == total && vview.shape[0] == total && kview.dtype == types[c]);
        for (i = 0; i < total * 32; i++) {
            float kk, vv;
            if (types[c] == LBRX_F16) {
                uint16_t hk, hv;
                memcpy(&hk, (unsigned char *)kview.data + 2 * i, 2);
                memcpy(&hv, (unsigned char *)vview.data + 2 * i, 2);
                kk = lbrx_f16_to_f32(hk); vv = lbrx_f16_to_f32(hv);
                LT_CHECK(hk == lbrx_f32_to_f16(all_k[i]) && hv == lbrx_f32_to_f16(all_v[i]));
            } else {
                kk = ((float *)kview.data)[i]; vv = ((float *)vview.data)[i];
                LT_CHECK(kk == all_k[i] && vv == all_v[i]);
            }
            LT_CHECK(fabsf(kk - all_k[i]) <= 0.05f && fabsf(vv - all_v[i]) <= 0.001f);
        }
        lbrx_tensor_release(&kview); lbrx_tensor_release(&vview);
        /* past the capacity: an error, nothing written */
        s[0] = 20 - total + 1;
        lbrx_tensor_init_heap(&kn, LBRX_F32, 3, s, NULL, NULL);
        lbrx_tensor_init_heap(&vn, LBRX_F32, 3, s, NULL, NULL);
        memset(&err, 0, sizeof err);
        LT_CHECK(lbrx_kv_cache_append(&cache, &kn, &vn, &err) == LBRX_ERR_LIMIT && cache.n == total);
        lbrx_tensor_release(&kn); lbrx_tensor_release(&vn);
        lbrx_kv_cache_release(&cache);
        free(all_k); free(all_v);
    }
}

int main(void) {
    LT_RUN(test_head_dims);
    LT_RUN(test_gqa_and_lengths);
    LT_RUN(test_masks_and_window);
    LT_RUN(test_softcap);
    LT_RUN(test_fully_masked_rows_are_zero);
    LT_RUN(test_large_scores);
    LT_RUN(test_decode_chunks);
    LT_RUN(test_threads_bit_identical);
    LT_RUN(test_strided_views);
    LT_RUN(test_bad_arguments);
    LT_RUN(test_kv_cache);
    return lt_finish();
}
