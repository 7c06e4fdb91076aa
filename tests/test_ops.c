/* The transformer ops (norms, RoPE, activations, softmax, broadcasting add/mul, embedding),
   each against a float64 reference written here from the published formulas. */
#define LBRX_THREAD_SLICE 0   /* every operation on all threads: the thread-count checks split even small cases */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"

static lbrx_tensor make(int ndim, const int64_t *shape, unsigned long long seed, float amplitude) {
    lbrx_tensor t;
    int64_t i, n = 1;
    lt_rng rng;
    rng.s = seed;
    for (i = 0; i < ndim; i++) n *= shape[i];
    lbrx_tensor_init_heap(&t, LBRX_F32, ndim, shape, NULL, NULL);
    for (i = 0; i < n; i++) ((float *)t.data)[i] = amplitude * lt_uniform(&rng);
    return t;
}

static float at(const lbrx_tensor *t, int64_t i) { return ((const float *)t->data)[i]; }

/* |got - want| <= tol * (1 + |want|) everywhere; reports the first miss. */
static int close_rel(double got, double want, double tol) { return fabs(got - want) <= tol * (1.0 + fabs(want)); }


static void test_rms_norm(void) {
    int64_t shape[2] = {7, 300}, wshape[1] = {300}, r, j;
    lbrx_tensor x = make(2, shape, 1, 3.0f), w = make(1, wshape, 2, 1.0f), y = make(2, shape, 3, 0.0f), w16;
    int bad = 0, dt;
    for (dt = 0; dt < 3; dt++) {
        const lbrx_tensor *wp = &w;
        if (dt == 1) {   /* f16 weight: reference uses the rounded values */
            lbrx_tensor_init_heap(&w16, LBRX_F16, 1, wshape, NULL, NULL);
            lbrx_f32_to_f16_row((const float *)w.data, w16.data, 300);
            lbrx_f16_to_f32_row(w16.data, (float *)w.data, 300);
            wp = &w16;
        }
        if (dt == 2) wp = NULL;
        LT_CHECK(lbrx_rms_norm(NULL, &x, wp, 1e-5f, &y, NULL) == LBRX_OK);
        for (r = 0; r < 7; r++) {
            double ss = 0.0;
            for (j = 0; j < 300; j++) ss += (double)at(&x, r * 300 + j) * at(&x, r * 300 + j);
            ss = 1.0 / sqrt(ss / 300 + 1e-5);
            for (j = 0; j < 300; j++) {
                double want = at(&x, r * 300 + j) * ss * (dt == 2 ? 1.0 : at(&w, j));
                if (!close_rel(at(&y, r * 300 + j), want, 1e-6)) bad++;
            }
        }
        if (dt == 1) lbrx_tensor_release(&w16);
    }
    LT_CHECKF(bad == 0, "%d elements off", bad);
    /* in place */
    LT_CHECK(lbrx_rms_norm(NULL, &x, &w, 1e-5f, &y, NULL) == LBRX_OK);
    LT_CHECK(lbrx_rms_norm(NULL, &x, &w, 1e-5f, &x, NULL) == LBRX_OK);
    LT_CHECK(memcmp(x.data, y.data, 7 * 300 * 4) == 0);
    lbrx_tensor_release(&x); lbrx_tensor_release(&w); lbrx_tensor_release(&y);
}

static void test_layer_norm(void) {
    int64_t shape[3] = {2, 3, 129}, wshape[1] = {129}, r, j;
    lbrx_tensor x = make(3, shape, 4, 2.0f), w = make(1, wshape, 5, 1.0f), b = make(1, wshape, 6, 1.0f), y = make(3, shape, 7, 0.0f);
    int bad = 0, pass;
    for (j = 0; j < 6 * 129; j++) ((float *)x.data)[j] += 10.0f;   /* a large mean */
    for (pass = 0; pass < 2; pass++) {
        LT_CHECK(lbrx_layer_norm(NULL, &x, pass ? NULL : &w, pass ? NULL : &b, 1e-5f, &y, NULL) == LBRX_OK);
        for (r = 0; r < 6; r++) {
            double mean = 0.0, var = 0.0;
            for (j = 0; j < 129; j++) mean += at(&x, r * 129 + j);
            mean /= 129;
            for (j = 0; j < 129; j++) var += (at(&x, r * 129 + j) - mean) * (at(&x, r * 129 + j) - mean);
            var /= 129;
            for (j = 0; j < 129; j++) {
                double want = (at(&x, r * 129 + j) - mean) / sqrt(var + 1e-5);
                if (!pass) want = want * at(&w, j) + at(&b, j);
                if (!close_rel(at(&y, r * 129 + j), want, 2e-6)) bad++;
            }
        }
    }
    LT_CHECKF(bad == 0, "%d elements off", bad);
    lbrx_tensor_release(&x); lbrx_tensor_release(&w); lbrx_tensor_release(&b); lbrx_tensor_release(&y);
}

/* RoPE reference straight from the two published formulas, in float64:
   GGML mode 0 / GGUF llama: rotate pairs (2i, 2i+1) by theta_i = p * base^(-2i/n_dims).
   HF (NeoX): q*cos + rotate_half(q)*sin, cos/sin = cat(freqs, freqs), rotate_half(x) = cat(-x2, x1).
   ff (may be NULL): per-frequency divisors of theta_i (GGML's rope_freqs, Llama 3.x). */
static double rope_ref(const float *x, int64_t hd, int64_t n_dims, int neox, double pos, double base, const float *ff, int64_t e) {
    int64_t half = n_dims / 2, i;
    double theta;
    if (e >= n_dims) return x[e];
    if (!neox) {
        i = e / 2;
        theta = pos * pow(base, -2.0 * (double)i / (double)n_dims) / (ff ? ff[i] : 1.0);
        if (e % 2 == 0) return x[e] * cos(theta) - x[e + 1] * sin(theta);
        return x[e - 1] * sin(theta) + x[e] * cos(theta);
    }
    i = e % half;
    theta = pos * pow(base, -2.0 * (double)i / (double)n_dims) / (ff ? ff[i] : 1.0);
    (void)hd;
    /* rotate_half(x)[e] = -x[e + half] for e < half, x[e - half] otherwise */
    return x[e] * cos(theta) + (e < half ? -x[e + half] : x[e - half]) * sin(theta);
}

static void test_rope_formulas(void) {
    int64_t shape[3] = {5, 3, 64}, t, h, e;
    int neox, partial, bad = 0;
    int32_t positions[5] = {0, 1, 17, 1000, 40000};
    float factors[16];
    for (e = 0; e < 16; e++) factors[e] = e < 4 ? 1.0f : e < 8 ? 1.0f + 0.7f * (float)(e - 3) : 8.0f;
    for (neox = 0; neox < 2; neox++)
        for (partial = 0; partial < 2; partial++) {
            lbrx_tensor x = make(3, shape, 10 + neox, 1.0f), y = make(3, shape, 12, 0.0f);
            lbrx_rope_desc d;
            memset(&d, 0, sizeof d);
            d.mode = neox ? LBRX_ROPE_NEOX : LBRX_ROPE_INTERLEAVED;
            d.n_dims = partial ? 32 : 0;
            d.freq_base = partial ? 500000.0f : 0.0f;
            d.freq_scale = partial ? 0.25f : 0.0f;
            d.positions = partial ? positions : NULL;
            d.freq_factors = partial ? factors : NULL;
            d.pos_offset = 3;
            LT_CHECK(lbrx_rope(NULL, &x, &d, &y, NULL) == LBRX_OK);
            for (t = 0; t < 5; t++)
                for (h = 0; h < 3; h++)
                    for (e = 0; e < 64; e++) {
                        double pos = partial ? positions[t] * 0.25 : (double)(3 + t);
                        const float *xr = (const float *)x.data + (t * 3 + h) * 64;
                        double want = rope_ref(xr, 64, partial ? 32 : 64, neox, pos, partial ? 500000.0 : 10000.0, partial ? factors : NULL, e);
                        if (fabs(at(&y, (t * 3 + h) * 64 + e) - want) > 1e-6) bad++;
                    }
            /* in place gives the same bytes */
            LT_CHECK(lbrx_rope(NULL, &x, &d, &x, NULL) == LBRX_OK && memcmp(x.data, y.data, 5 * 3 * 64 * 4) == 0);
            lbrx_tensor_release(&x); lbrx_tensor_release(&y);
        }
    LT_CHECKF(bad == 0, "%d elements off", bad);
}

/* The link between the two conventions that GGUF conversion relies on: permuting each head's
   dims so that HF's i and i + d/2 land at 2i and 2i+1, interleaved RoPE equals NeoX RoPE. */
static void test_rope_conventions_agree(void) {
    int64_t shape[3] = {4, 2, 128}, t, h, i;
    lbrx_tensor x = make(3, shape, 20, 1.0f), xp = make(3, shape, 21, 0.0f), y = make(3, shape, 22, 0.0f), yp = make(3, shape, 23, 0.0f);
    lbrx_rope_desc d;
    int bad = 0;
    for (t = 0; t < 4; t++)
        for (h = 0; h < 2; h++)
            for (i = 0; i < 64; i++) {
                float *src = (float *)x.data + (t * 2 + h) * 128, *dst = (float *)xp.data + (t * 2 + h) * 128;
                dst[2 * i] = src[i];
                dst[2 * i + 1] = src[i + 64];
            }
    memset(&d, 0, sizeof d);
    d.pos_offset = 100;
    d.mode = LBRX_ROPE_NEOX;
    LT_CHECK(lbrx_rope(NULL, &x, &d, &y, NULL) == LBRX_OK);
    d.mode = LBRX_ROPE_INTERLEAVED;
    LT_CHECK(lbrx_rope(NULL, &xp, &d, &yp, NULL) == LBRX_OK);
    for (t = 0; t < 8; t++)
        for (i = 0; i < 64; i++) {
            if (at(&y, t * 128 + i) != at(&yp, t * 128 + 2 * i)) bad++;
            if (at(&y, t * 128 + i + 64) != at(&yp, t * 128 + 2 * i + 1)) bad++;
        }
    LT_CHECKF(bad == 0, "%d elements differ", bad);
    lbrx_tensor_release(&x); lbrx_tensor_release(&xp); lbrx_tensor_release(&y); lbrx_tensor_release(&yp);
}

static void test_activations(void) {
    int64_t shape[2] = {3, 1000}, i;
    lbrx_tensor x = make(2, shape, 30, 12.0f), y = make(2, shape, 31, 0.0f), u = make(2, shape, 32, 2.0f);
    int bad_silu = 0, bad_gelu = 0, bad_erf = 0, bad_swiglu = 0;
    ((float *)x.data)[0] = -100.0f; ((float *)x.data)[1] = 100.0f; ((float *)x.data)[2] = 0.0f;
    LT_CHECK(lbrx_silu(NULL, &x, &y, NULL) == LBRX_OK);
    for (i = 0; i < 3000; i++) { double v = at(&x, i); if (!close_rel(at(&y, i), v / (1.0 + exp(-v)), 2e-6)) bad_silu++; }
    LT_CHECK(lbrx_gelu(NULL, &x, &y, NULL) == LBRX_OK);
    for (i = 0; i < 3000; i++) {
        double v = at(&x, i), want = 0.5 * v * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
        if (!close_rel(at(&y, i), want, 2e-6)) bad_gelu++;
    }
    LT_CHECK(lbrx_gelu_erf(NULL, &x, &y, NULL) == LBRX_OK);
    for (i = 0; i < 3000; i++) { double v = at(&x, i); if (!close_rel(at(&y, i), 0.5 * v * (1.0 + erf(v / sqrt(2.0))), 2e-6)) bad_erf++; }
    LT_CHECK(lbrx_swiglu(NULL, &x, &u, &y, NULL) == LBRX_OK);
    for (i = 0; i < 3000; i++) {
        double v = at(&x, i);
        if (!close_rel(at(&y, i), v / (1.0 + exp(-v)) * at(&u, i), 2e-6)) bad_swiglu++;
    }
    LT_CHECKF(bad_silu + bad_gelu + bad_erf + bad_swiglu == 0, "silu %d gelu %d gelu_erf %d swiglu %d off", bad_silu, bad_gelu, bad_erf, bad_swiglu);
    /* in place */
    memcpy(u.data, x.data, 3000 * 4);
    LT_CHECK(lbrx_silu(NULL, &x, &y, NULL) == LBRX_OK && lbrx_silu(NULL, &u, &u, NULL) == LBRX_OK);
    LT_CHECK(memcmp(u.data, y.data, 3000 * 4) == 0);
    lbrx_tensor_release(&x); lbrx_tensor_release(&y); lbrx_tensor_release(&u);
}

static void test_softmax(void) {
    int64_t shape[2] = {4, 333}, r, j;
    lbrx_tensor x = make(2, shape, 40, 5.0f), y = make(2, shape, 41, 0.0f);
    float *xp = (float *)x.data;
    int bad = 0;
    for (j = 0; j < 333; j++) xp[333 + j] += 1000.0f;            /* row 1: large, exp would overflow */
    for (j = 0; j < 333; j += 3) xp[2 * 333 + j] = -INFINITY;     /* row 2: some -inf */
    for (j = 0; j < 333; j++) xp[3 * 333 + j] = -INFINITY;        /* row 3: all -inf */
    LT_CHECK(lbrx_softmax(NULL, &x, &y, NULL) == LBRX_OK);
    for (r = 0; r < 3; r++) {
        double mx = -INFINITY, sum = 0.0;
        for (j = 0; j < 333; j++) if (xp[r * 333 + j] > mx) mx = xp[r * 333 + j];
        for (j = 0; j < 333; j++) sum += exp(xp[r * 333 + j] - mx);
        for (j = 0; j < 333; j++) if (!close_rel(at(&y, r * 333 + j), exp(xp[r * 333 + j] - mx) / sum, 2e-6)) bad++;
    }
    for (j = 0; j < 333; j++) if (at(&y, 3 * 333 + j) != 0.0f) bad++;
    LT_CHECKF(bad == 0, "%d elements off", bad);
    lbrx_tensor_release(&x); lbrx_tensor_release(&y);
}

static void test_broadcast_add_mul(void) {
    int64_t so[3] = {2, 3, 40}, s1[1] = {40}, s2[2] = {3, 1}, s3[3] = {2, 1, 40}, s4[3] = {1, 3, 1};
    lbrx_tensor a = make(3, so, 50, 1.0f), out = make(3, so, 51, 0.0f);
    lbrx_tensor bs[4];
    int k, op, bad = 0;
    bs[0] = make(1, s1, 52, 1.0f); bs[1] = make(2, s2, 53, 1.0f); bs[2] = make(3, s3, 54, 1.0f); bs[3] = make(3, s4, 55, 1.0f);
    for (k = 0; k < 4; k++)
        for (op = 0; op < 2; op++) {
            int64_t i, j, e;
            LT_CHECK((op ? lbrx_mul : lbrx_add)(NULL, &a, &bs[k], &out, NULL) == LBRX_OK);
            for (i = 0; i < 2; i++)
                for (j = 0; j < 3; j++)
                    for (e = 0; e < 40; e++) {
                        double av = at(&a, (i * 3 + j) * 40 + e), bv;
                        switch (k) {
                        case 0: bv = at(&bs[0], e); break;
                        case 1: bv = at(&bs[1], j); break;
                        case 2: bv = at(&bs[2], i * 40 + e); break;
                        default: bv = at(&bs[3], j); break;
                        }
                        if (at(&out, (i * 3 + j) * 40 + e) != (float)(op ? av * bv : av + bv)) bad++;
                    }
            /* b first: same result (both operands broadcast the same way) */
            LT_CHECK((op ? lbrx_mul : lbrx_add)(NULL, &bs[k], &a, &out, NULL) == LBRX_OK);
        }
    LT_CHECKF(bad == 0, "%d elements off", bad);
    /* [2,1,40] + [1,3,1] broadcasts both ways into [2,3,40] */
    LT_CHECK(lbrx_add(NULL, &bs[2], &bs[3], &out, NULL) == LBRX_OK);
    LT_CHECK(at(&out, (1 * 3 + 2) * 40 + 7) == at(&bs[2], 40 + 7) + at(&bs[3], 2));
    /* a shape that does not broadcast */
    {
        int64_t sbad[1] = {39};
        lbrx_tensor b = make(1, sbad, 56, 1.0f);
        lbrx_error err;
        LT_CHECK(lbrx_add(NULL, &a, &b, &out, &err) == LBRX_ERR_BAD_SHAPE);
        lbrx_tensor_release(&b);
    }
    for (k = 0; k < 4; k++) lbrx_tensor_release(&bs[k]);
    lbrx_tensor_release(&a); lbrx_tensor_release(&out);
}

static void test_embedding(void) {
    int64_t ws[2] = {50, 24}, os[2] = {4, 24}, e;
    int32_t ids[4] = {0, 49, 7, 7}, bad_ids[2] = {3, 50};
    lbrx_tensor w = make(2, ws, 60, 3.0f), out = make(2, os, 61, 0.0f), w16, wb16;
    lbrx_error err;
    int t, bad = 0;
    lbrx_tensor_init_heap(&w16, LBRX_F16, 2, ws, NULL, NULL);
    lbrx_tensor_init_heap(&wb16, LBRX_BF16, 2, ws, NULL, NULL);
    for (e = 0; e < 50 * 24; e++) {
        uint16_t h16 = lbrx_f32_to_f16(at(&w, e)), hb = lbrx_f32_to_bf16(at(&w, e));
        memcpy((unsigned char *)w16.data + 2 * e, &h16, 2);
        memcpy((unsigned char *)wb16.data + 2 * e, &hb, 2);
    }
    LT_CHECK(lbrx_embedding(NULL, &w, ids, 4, &out, NULL) == LBRX_OK);
    for (t = 0; t < 4; t++) for (e = 0; e < 24; e++) if (at(&out, t * 24 + e) != at(&w, ids[t] * 24 + e)) bad++;
    LT_CHECK(lbrx_embedding(NULL, &w16, ids, 4, &out, NULL) == LBRX_OK);
    for (t = 0; t < 4; t++)
        for (e = 0; e < 24; e++) {
            uint16_t h;
            memcpy(&h, (unsigned char *)w16.data + 2 * (ids[t] * 24 + e), 2);
            if (at(&out, t * 24 + e) != lbrx_f16_to_f32(h) || fabsf(at(&out, t * 24 + e) - at(&w, ids[t] * 24 + e)) > 2e-3f) bad++;
        }
    LT_CHECK(lbrx_embedding(NULL, &wb16, ids, 4, &out, NULL) == LBRX_OK);
    for (t = 0; t < 4; t++) for (e = 0; e < 24; e++) if (fabsf(at(&out, t * 24 + e) - at(&w, ids[t] * 24 + e)) > 2e-2f) bad++;
    /* Q8_0 rows (GGML blocks of 32: an f16 scale, then 32 int8), decoded here from the format */
    {
        int64_t qs[2] = {50, 64}, qo[2] = {4, 64};
        lbrx_tensor wq, outq;
        const unsigned char *blk;
        float src[64];
        lbrx_tensor_init_heap(&wq, LBRX_Q8_0, 2, qs, NULL, NULL);
        outq = make(2, qo, 63, 0.0f);
        for (t = 0; t < 50; t++) {
            for (e = 0; e < 64; e++) src[e] = at(&w, (t * 64 + e) % (50 * 24)) * (float)(t + 1);
            lbrx_quantize_row_q8_0(src, (unsigned char *)wq.data + t * 68, 64);
        }
        LT_CHECK(lbrx_embedding(NULL, &wq, ids, 4, &outq, NULL) == LBRX_OK);
        for (t = 0; t < 4; t++)
            for (e = 0; e < 64; e++) {
                uint16_t h;
                blk = (const unsigned char *)wq.data + ids[t] * 68 + (e / 32) * 34;
                memcpy(&h, blk, 2);
                if (at(&outq, t * 64 + e) != lbrx_f16_to_f32(h) * (float)(signed char)blk[2 + e % 32]) bad++;
            }
        lbrx_tensor_release(&wq); lbrx_tensor_release(&outq);
    }
    LT_CHECKF(bad == 0, "%d elements off", bad);
    memset(&err, 0, sizeof err);
    os[0] = 2;
    lbrx_tensor_release(&out);
    out = make(2, os, 62, 0.0f);
    LT_CHECK(lbrx_embedding(NULL, &w, bad_ids, 2, &out, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(strstr(err.message, "ids[1]") != NULL);
    {   /* a dtype lbrx_dequantize_row does not read (C64): an error before any row is written */
        int64_t cs[2] = {50, 12};
        lbrx_tensor wc;
        lbrx_tensor_init_heap(&wc, LBRX_C64, 2, cs, NULL, NULL);
        os[1] = 12;
        lbrx_tensor_release(&out);
        out = make(2, os, 62, 0.0f);
        memset(out.data, 0, 2 * 12 * 4);
        LT_CHECK(lbrx_embedding(NULL, &wc, ids, 2, &out, &err) == LBRX_ERR_UNSUPPORTED && strstr(err.message, "c64") && at(&out, 0) == 0.0f);
        lbrx_tensor_release(&wc);
    }
    lbrx_tensor_release(&w); lbrx_tensor_release(&w16); lbrx_tensor_release(&wb16); lbrx_tensor_release(&out);
}

/* Every op with 1, 2 and 3 threads on tensors big enough to be split: the same bytes. */
static void test_threads_bit_identical(void) {
    int64_t shape[3] = {64, 8, 128}, ws[1] = {128};
    lbrx_tensor x = make(3, shape, 70, 2.0f), u = make(3, shape, 71, 1.0f), w = make(1, ws, 72, 1.0f);
    lbrx_tensor y[3];
    int t, op, bad = 0;
    for (t = 0; t < 3; t++) y[t] = make(3, shape, 73, 0.0f);
    for (op = 0; op < 8; op++) {
        for (t = 0; t < 3; t++) {
            lbrx_context *ctx = lt_context(t + 1);
            lbrx_rope_desc rd;
            memset(&rd, 0, sizeof rd);
            rd.mode = LBRX_ROPE_NEOX;
            switch (op) {
            case 0: lbrx_rms_norm(ctx, &x, &w, 1e-6f, &y[t], NULL); break;
            case 1: lbrx_layer_norm(ctx, &x, &w, &w, 1e-6f, &y[t], NULL); break;
            case 2: lbrx_rope(ctx, &x, &rd, &y[t], NULL); break;
            case 3: lbrx_silu(ctx, &x, &y[t], NULL); break;
            case 4: lbrx_gelu(ctx, &x, &y[t], NULL); break;
            case 5: lbrx_softmax(ctx, &x, &y[t], NULL); break;
            case 6: lbrx_swiglu(ctx, &x, &u, &y[t], NULL); break;
            default: lbrx_mul(ctx, &x, &w, &y[t], NULL); break;
            }
            lbrx_context_destroy(ctx);
        }
        if (memcmp(y[0].data, y[1].data, 64 * 8 * 128 * 4) || memcmp(y[0].data, y[2].data, 64 * 8 * 128 * 4)) {
            bad++;
            fprintf(stderr, "  op %d differs across thread counts\n", op);
        }
    }
    LT_CHECK(bad == 0);
    for (t = 0; t < 3; t++) lbrx_tensor_release(&y[t]);
    lbrx_tensor_release(&x); lbrx_tensor_release(&u); lbrx_tensor_release(&w);
}

static void test_bad_arguments(void) {
    int64_t s[2] = {3, 8}, s2[2] = {3, 9};
    lbrx_tensor x = make(2, s, 80, 1.0f), y = make(2, s2, 81, 1.0f), h;
    lbrx_error err;
    memset(&err, 0, sizeof err);
    LT_CHECK(lbrx_silu(NULL, &x, &y, &err) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_rms_norm(NULL, NULL, NULL, 1e-5f, &x, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_rms_norm(NULL, &x, &y, 1e-5f, &x, &err) == LBRX_ERR_BAD_SHAPE);   /* weight of 27 */
    lbrx_tensor_init_heap(&h, LBRX_F16, 2, s, NULL, NULL);
    LT_CHECK(lbrx_softmax(NULL, &h, &h, &err) == LBRX_ERR_BAD_DTYPE);
    LT_CHECK(strstr(err.message, "f16") != NULL);
    {
        lbrx_rope_desc d;
        memset(&d, 0, sizeof d);
        d.n_dims = 7;
        LT_CHECK(lbrx_rope(NULL, &x, &d, &x, &err) == LBRX_ERR_INVALID_ARGUMENT);
    }
    lbrx_tensor_release(&h); lbrx_tensor_release(&x); lbrx_tensor_release(&y);
}


/* ---- kernel sets (runtime dispatch) ----
   A fixed battery of matmuls (n = 1: the matrix-vector kernels; n = 9 with 70 rows: the tiles),
   prepared weights, attention (decode over an f16 cache, causal prefill over f32), activations
   and the row conversions (ks_conversions). Every build prints its kernel set and a hash of the battery's bits on stderr
   ("kernel set NAME: results HASH"); tests/matrix.sh checks that the dispatch build's line for
   each set equals the line of the native build of that set (c99, avx2, nosimd configurations). A
   dispatch build (no -march on x86-64) also checks that it chose the set a -march=native build
   of this CPU compiles, told here from /proc/cpuinfo's flags (not lbrx's CPUID code), and runs
   every set the CPU has against the scalar one: bit for bit where the order is canonical (the
   tiles), else within the bounds of the summation order and the exp polynomial. */
#define KS_K 256
#define KS_OUT 70
#define KS_FLOATS 16384
static const lbrx_dtype ks_dtypes[] = { LBRX_F32, LBRX_F16, LBRX_Q8_0, LBRX_Q4_0, LBRX_Q4_K, LBRX_Q6_K };

#if defined(LBRX__DISPATCH)
#define KS_CALL(ks, f, pub, ...) ((ks) ? ((const lbrx__kset *)(ks))->f(__VA_ARGS__) : (pub))
#else
#define KS_CALL(ks, f, pub, ...) (pub)
#endif

/* 32 bits as two floats (the 16-bit halves, exact), so that NaN and infinities compare and hash
   as bits and the tolerance's scale stays finite */
static int ks_bits(float *out, uint32_t u) {
    out[0] = (float)(u >> 16);
    out[1] = (float)(u & 0xffffu);
    return 2;
}

/* The row conversions of kernel set ks (NULL: the public functions) at out[at..), 77 values each
   (a SIMD tail for every width), all bit for bit (exact 2): f16 and bf16 bit patterns (random,
   with zeros, subnormals, infinities and NaNs) to f32, f32 values (random across f16's range and
   random bits) to f16 and bf16, and 3 random blocks each of Q8_0, Q4_0 and Q4_1 (finite scales). */
#define KS_NCVT 77
static int ks_conversions(const void *ks, float *out, unsigned char *exact, int at, lt_rng *rng) {
    static const uint16_t h_special[8] = { 0x0000, 0x8000, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x7e00, 0x7c01 };
    static const float f_special[10] = { 0.0f, -0.0f, 65504.0f, 65520.0f, -1e9f, 5.9604645e-8f, 2.9802322e-8f, 1e-10f, 1.0009766f, 3.0e38f };
    unsigned char h[2 * KS_NCVT], blocks[3 * 34];
    float f[KS_NCVT], g[KS_NCVT], dq[96];
    int i, k, c, start = at;
    for (c = 0; c < 2; c++) {   /* f16 (c = 0) and bf16 bit patterns to f32 */
        for (i = 0; i < KS_NCVT; i++) {
            uint16_t v = i < 8 && c == 0 ? h_special[i] : (uint16_t)lt_next(rng);
            h[2 * i] = (unsigned char)(v & 0xff);
            h[2 * i + 1] = (unsigned char)(v >> 8);
        }
        if (c == 0) KS_CALL(ks, f16_to_f32_row, lbrx_f16_to_f32_row(h, f, KS_NCVT), h, f, KS_NCVT);
        else KS_CALL(ks, bf16_to_f32_row, lbrx_bf16_to_f32_row(h, f, KS_NCVT), h, f, KS_NCVT);
        for (i = 0; i < KS_NCVT; i++) {
            uint32_t u;
            memcpy(&u, f + i, 4);
            at += ks_bits(out + at, u);
        }
    }
    for (c = 0; c < 2; c++) {   /* f32 to f16 (c = 0) and bf16: values in and around f16's range, then random bits */
        for (i = 0; i < KS_NCVT; i++) {
            uint32_t u = (uint32_t)lt_next(rng);
            if (i < 10) g[i] = f_special[i];
            else if (i < 60) g[i] = ldexpf(lt_uniform(rng), (int)(lt_next(rng) % 48) - 30);
            else memcpy(g + i, &u, 4);
            if (i >= 35 && i < 60) {   /* the bits below the result's last one at a tie, just below or just above it */
                static const uint32_t below[3][2] = { { 0x1000, 0x8000 }, { 0x0fff, 0x7fff }, { 0x1001, 0x8001 } };
                uint32_t mask = c == 0 ? 0x1fffu : 0xffffu;
                memcpy(&u, g + i, 4);
                u = (u & ~mask) | below[i % 3][c];
                memcpy(g + i, &u, 4);
            }
        }
        if (c == 0) KS_CALL(ks, f32_to_f16_row, lbrx_f32_to_f16_row(g, h, KS_NCVT), g, h, KS_NCVT);
        else KS_CALL(ks, f32_to_bf16_row, lbrx_f32_to_bf16_row(g, h, KS_NCVT), g, h, KS_NCVT);
        for (i = 0; i < KS_NCVT; i++) out[at++] = (float)(h[2 * i] | h[2 * i + 1] << 8);
    }
    for (c = 0; c < 3; c++) {   /* Q8_0, Q4_0, Q4_1 */
        static const lbrx_dtype dts[3] = { LBRX_Q8_0, LBRX_Q4_0, LBRX_Q4_1 };
        size_t bb = lbrx_dtype_block_bytes(dts[c]);
        for (i = 0; i < (int)(3 * bb); i++) blocks[i] = (unsigned char)lt_next(rng);
        for (k = 0; k < 3; k++) {   /* finite scales (and Q4_1's minimum) */
            uint16_t d = lbrx_f32_to_f16(ldexpf(lt_uniform(rng), (int)(lt_next(rng) % 20) - 12)), m = lbrx_f32_to_f16(lt_uniform(rng));
            memcpy(blocks + (size_t)k * bb, &d, 2);
            if (dts[c] == LBRX_Q4_1) memcpy(blocks + (size_t)k * bb + 2, &m, 2);
        }
        if (c == 0) KS_CALL(ks, dequantize_q8_0, (void)lbrx_dequantize_row(LBRX_Q8_0, blocks, dq, 96), blocks, dq, 3);
        else if (c == 1) KS_CALL(ks, dequantize_q4_0, (void)lbrx_dequantize_row(LBRX_Q4_0, blocks, dq, 96), blocks, dq, 3);
        else KS_CALL(ks, dequantize_q4_1, (void)lbrx_dequantize_row(LBRX_Q4_1, blocks, dq, 96), blocks, dq, 3);
        for (i = 0; i < 96; i++) {
            uint32_t u;
            memcpy(&u, dq + i, 4);
            at += ks_bits(out + at, u);
        }
    }
    memset(exact + start, 2, (size_t)(at - start));
    (void)ks;
    return at;
}

/* The battery's outputs at out[0..), run by kernel set ks (NULL: the public functions); returns
   the count and fills what[] with where each part starts (for messages) and exact[] with 1 where
   every SIMD set must equal the scalar one bit for bit (2: every set, 1: sets whose order is canonical). */
static int ks_battery(const void *ks, float *out, unsigned char *exact) {
    lbrx_context *ctx;
    lbrx_context_desc cd;
    lt_rng rng;
    int at = 0, d, i;
    memset(&cd, 0, sizeof cd);
    cd.n_threads = 2;
    if (lbrx_context_create(&ctx, &cd, NULL) != LBRX_OK) return -1;
    rng.s = 777;
    for (d = 0; d < (int)(sizeof ks_dtypes / sizeof ks_dtypes[0]); d++) {
        int64_t wshape[2] = { KS_OUT, KS_K }, n;
        size_t rb;
        lbrx_tensor w, x, y;
        float src[KS_K];
        int64_t o;
        lbrx_row_bytes(ks_dtypes[d], KS_K, &rb);
        lbrx_tensor_init_heap(&w, ks_dtypes[d], 2, wshape, NULL, NULL);
        for (o = 0; o < KS_OUT; o++) {
            for (i = 0; i < KS_K; i++) src[i] = lt_uniform(&rng);
            lbrx_quantize_row(ks_dtypes[d], src, (unsigned char *)w.data + o * rb, KS_K);
        }
        for (n = 1; n <= 13; n += 12) {   /* 13: the tiled kernels (canonical order) in every set */
            int64_t xs[2] = { n, KS_K }, ys[2] = { n, KS_OUT };
            lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL);
            lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL);
            for (i = 0; i < n * KS_K; i++) ((float *)x.data)[i] = lt_uniform(&rng);
            if (KS_CALL(ks, matmul, lbrx_matmul(ctx, &w, &x, &y, NULL), ctx, &w, 0, &x, &y, 0, KS_OUT, NULL) != LBRX_OK) at = -1000000;
            if (at >= 0) {
                memcpy(out + at, y.data, (size_t)(n * KS_OUT) * 4);
                memset(exact + at, n > 1, (size_t)(n * KS_OUT));
                at += (int)(n * KS_OUT);
            }
            if (n > 1 && d < 2) {   /* prepared weights (float dtypes) */
                lbrx_matmul_weights *pw = 0;
                if (KS_CALL(ks, weights_create, lbrx_matmul_weights_create(&pw, &w, NULL, NULL), &pw, &w, NULL, NULL) != LBRX_OK ||
                    KS_CALL(ks, matmul, lbrx_matmul_prepared(ctx, pw, &x, &y, NULL), ctx, &pw->w, pw->panels, &x, &y, 0, KS_OUT, NULL) != LBRX_OK)
                    at = -1000000;
                lbrx_matmul_weights_destroy(pw);
                if (at >= 0) {
                    memcpy(out + at, y.data, (size_t)(n * KS_OUT) * 4);
                    memset(exact + at, 1, (size_t)(n * KS_OUT));
                    at += (int)(n * KS_OUT);
                }
            }
            lbrx_tensor_release(&x);
            lbrx_tensor_release(&y);
        }
        lbrx_tensor_release(&w);
    }
    {   /* attention: decode (1 query, 100 keys in f16) and causal prefill (20 in f32) */
        int c;
        for (c = 0; c < 2 && at >= 0; c++) {
            int64_t nq = c ? 20 : 1, nkv = c ? 20 : 100, qs[3] = { nq, 4, 64 }, ks3[3] = { nkv, 2, 64 };
            lbrx_dtype kd = c ? LBRX_F32 : LBRX_F16;
            lbrx_tensor q, k, v, o;
            lbrx_attention_desc desc;
            float tmp[64];
            int64_t j;
            memset(&desc, 0, sizeof desc);
            desc.causal = c;
            lbrx_tensor_init_heap(&q, LBRX_F32, 3, qs, NULL, NULL);
            lbrx_tensor_init_heap(&o, LBRX_F32, 3, qs, NULL, NULL);
            lbrx_tensor_init_heap(&k, kd, 3, ks3, NULL, NULL);
            lbrx_tensor_init_heap(&v, kd, 3, ks3, NULL, NULL);
            for (i = 0; i < nq * 256; i++) ((float *)q.data)[i] = lt_uniform(&rng);
            for (j = 0; j < nkv * 2; j++) {
                for (i = 0; i < 64; i++) tmp[i] = lt_uniform(&rng);
                lbrx_quantize_row(kd, tmp, (unsigned char *)k.data + j * 64 * lbrx_dtype_block_bytes(kd), 64);
                for (i = 0; i < 64; i++) tmp[i] = lt_uniform(&rng);
                lbrx_quantize_row(kd, tmp, (unsigned char *)v.data + j * 64 * lbrx_dtype_block_bytes(kd), 64);
            }
            if (KS_CALL(ks, attention, lbrx_attention(ctx, &q, &k, &v, &desc, &o, NULL), ctx, &q, &k, &v, &desc, &o, NULL) != LBRX_OK) at = -1000000;
            else {
                memcpy(out + at, o.data, (size_t)(nq * 256) * 4);
                memset(exact + at, 0, (size_t)(nq * 256));
                at += (int)(nq * 256);
            }
            lbrx_tensor_release(&q); lbrx_tensor_release(&k); lbrx_tensor_release(&v); lbrx_tensor_release(&o);
        }
    }
    if (at >= 0) {   /* silu, softmax, swiglu over 3 rows of 37 */
        int64_t sh[2] = { 3, 37 };
        lbrx_tensor a = make(2, sh, 99, 6.0f), b = make(2, sh, 98, 2.0f), r;
        lbrx_tensor_init_heap(&r, LBRX_F32, 2, sh, NULL, NULL);
        for (i = 0; i < 3 && at >= 0; i++) {
            lbrx_result e = i == 0 ? KS_CALL(ks, unary, lbrx_silu(ctx, &a, &r, NULL), ctx, &a, &r, LBRX__SILU, "lbrx_silu", NULL)
                          : i == 1 ? KS_CALL(ks, unary, lbrx_softmax(ctx, &a, &r, NULL), ctx, &a, &r, LBRX__SOFTMAX, "lbrx_softmax", NULL)
                          : KS_CALL(ks, binary, lbrx_swiglu(ctx, &a, &b, &r, NULL), ctx, &a, &b, &r, LBRX__SWIGLU, "lbrx_swiglu", NULL);
            if (e != LBRX_OK) { at = -1000000; break; }
            memcpy(out + at, r.data, 3 * 37 * 4);
            memset(exact + at, 0, 3 * 37);
            at += 3 * 37;
        }
        lbrx_tensor_release(&a); lbrx_tensor_release(&b); lbrx_tensor_release(&r);
    }
    if (at >= 0) at = ks_conversions(ks, out, exact, at, &rng);
    lbrx_context_destroy(ctx);
    (void)ks;
    return at;
}

static unsigned long long ks_hash(const float *v, int n) {
    unsigned long long h = 1469598103934665603ULL;
    const unsigned char *p = (const unsigned char *)v;
    size_t i;
    for (i = 0; i < (size_t)n * 4; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

#if defined(LBRX__DISPATCH)
/* The set a -march=native build of this CPU compiles, from the kernel's list of CPU flags;
   NULL where there is none (not Linux). */
static const char *ks_native_name(void) {
    static char line[8192];
    FILE *f = fopen("/proc/cpuinfo", "r");
    const char *name = 0;
    int amd = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "vendor_id", 9) == 0 && strstr(line, "AuthenticAMD")) amd = 1;
        if (strncmp(line, "flags", 5) == 0) {
#define KS_HAS(flag) (strstr(line, " " flag " ") || strstr(line, " " flag "\n"))
            if (KS_HAS("avx512f") && KS_HAS("avx512bw") && KS_HAS("avx512dq") && KS_HAS("avx512vl") && KS_HAS("avx512_vnni") && KS_HAS("avx512vbmi"))
                name = KS_HAS("avx512_bf16") && amd ? "avx512 bf16" : "avx512";   /* the bf16 set: AMD only (lbrx__cpu_level) */
            else if (KS_HAS("avx2") && KS_HAS("fma") && KS_HAS("f16c")) name = "avx2";
            else name = "scalar";
#undef KS_HAS
            break;
        }
    }
    fclose(f);
    return name;
}
#endif

static void test_kernel_sets(void) {
    static float got[KS_FLOATS];
    static unsigned char exact[KS_FLOATS];
    int n = ks_battery(0, got, exact);
    LT_CHECK(n > 0 && n <= KS_FLOATS);
    if (n <= 0) return;
    fprintf(stderr, "  kernel set %s: results %016llx\n", lbrx__kset_name(), ks_hash(got, n));
#if defined(LBRX__DISPATCH)
    {
        static float ref[KS_FLOATS];
        const char *native = ks_native_name();
        int level, cpu = lbrx__cpu_level(), i, nr;
        if (native) LT_CHECKF(strcmp(lbrx__kset_name(), native) == 0 || getenv("LBRX_ISA"), "chose kernel set %s, a native build of this CPU has %s",
                              lbrx__kset_name(), native);
        /* LBRX_ISA: a lower level is taken, a higher or unknown one changes nothing */
        LT_CHECK(lbrx__kset_level(0, 2) == 2 && lbrx__kset_level("scalar", 2) == 0 && lbrx__kset_level("avx2", 2) == 1);
        LT_CHECK(lbrx__kset_level("avx512", 1) == 1 && lbrx__kset_level("avx512", 0) == 0 && lbrx__kset_level("avx2", 0) == 0);
        LT_CHECK(lbrx__kset_level("sse9", 2) == 2 && lbrx__kset_level("", 1) == 1);
        LT_CHECK(lbrx__kset_level("avx512", 3) == 2 && lbrx__kset_level(0, 3) == 3 && lbrx__kset_level("avx2", 3) == 1);
        LT_CHECK(strcmp(lbrx__kset_of(3)->name, "avx512 bf16") == 0 && lbrx__kset_of(3)->mm_bf16 && !lbrx__kset_of(2)->mm_bf16);
        nr = ks_battery(lbrx__kset_of(0), ref, exact);
        LT_CHECK(nr == n && strcmp(lbrx__kset_of(0)->name, "scalar") == 0);
        for (level = 0; level <= cpu; level++) {
            const lbrx__kset *ks = lbrx__kset_of(level);
            int bad = 0;
            float scale = 0.0f;
            n = ks_battery(ks, got, exact);
            LT_CHECKF(n == nr, "%s: battery of %d values, scalar %d", ks->name, n, nr);
            if (n != nr) continue;
            fprintf(stderr, "  kernel set %s: results %016llx\n", ks->name, ks_hash(got, n));
            for (i = 0; i < n; i++) scale = fabsf(ref[i]) > scale ? fabsf(ref[i]) : scale;
            for (i = 0; i < n && !bad; i++) {
                /* canonical order: the same bits; else 1e-5 of the largest output (sums of 256
                   products in another order, exp to an ulp) */
                if (exact[i] == 2 || (exact[i] && (ks->mm_tiled || !ks->mm_simd)) ? memcmp(got + i, ref + i, 4) != 0 : !(fabsf(got[i] - ref[i]) <= 1e-5f * scale)) {
                    bad = 1;
                    fprintf(stderr, "  %s: value %d is %.9g, the scalar set's %.9g\n", ks->name, i, got[i], ref[i]);
                }
            }
            LT_CHECK(!bad);
        }
    }
#endif
}

int main(void) {
    LT_RUN(test_rms_norm);
    LT_RUN(test_layer_norm);
    LT_RUN(test_rope_formulas);
    LT_RUN(test_rope_conventions_agree);
    LT_RUN(test_activations);
    LT_RUN(test_softmax);
    LT_RUN(test_broadcast_add_mul);
    LT_RUN(test_embedding);
    LT_RUN(test_threads_bit_identical);
    LT_RUN(test_bad_arguments);
    LT_RUN(test_kernel_sets);
    return lt_finish();
}
