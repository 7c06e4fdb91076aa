/* Matmul: y[n, out] = x[n, in] . W[out, in]^T against a float64 reference written here, for every
   weight dtype, odd sizes, unaligned and strided operands, thread counts and output ranges. */
#define LBRX_THREAD_SLICE 0   /* every operation on all threads: the thread-count checks split even small cases */
/* The bf16 dot-product tiles (vdpbf16ps) on every AVX-512 CPU: emulated with AVX-512F unless the
   build enables AVX512_BF16 (or LT_REAL_BF16 asks a dispatch build for the CPU's instruction) */
#if !defined(__AVX512BF16__) && !defined(LT_REAL_BF16)
#define LBRX_EMULATE_BF16DP
#endif
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include "lbrx_test.h"
#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#endif

static int slow(void) { const char *s = getenv("LT_SLOW"); return s && *s; }

/* 1 when this build computes (dt, n, out) in canonical order: with the scalar code (no SIMD
   kernels for matmul) or with the tiled kernels (n >= LBRX_MATMUL_GEMM_MIN, _Q for quantized W, and W of enough rows
   where the build has them). */
static int canonical_order(lbrx_dtype dt, int64_t n, int64_t out) {
    int tiled = 0, min_q = LBRX_MATMUL_GEMM_MIN;
    (void)dt; (void)n; (void)out;
#if defined(LBRX__DISPATCH)   /* the kernel set chosen at run time */
    if (!lbrx__kset_get()->mm_simd) return 1;
    tiled = lbrx_dtype_is_quantized(dt) ? lbrx__kset_get()->mm_qtiled : lbrx__kset_get()->mm_tiled;
    min_q = lbrx__kset_get()->mm_gemm_min_q;
#else
#if !defined(LBRX__MM_X86) && !defined(LBRX__NEON)
    return 1;
#endif
#if defined(LBRX__MM_TILED)
    if (!lbrx_dtype_is_quantized(dt)) tiled = 1;
#endif
#if defined(LBRX__MM_QTILED)
    if (lbrx_dtype_is_quantized(dt)) tiled = 1;
#endif
    min_q = LBRX__MM_GEMM_MIN_Q;
#endif
    return tiled && n >= (lbrx_dtype_is_quantized(dt) ? min_q : LBRX_MATMUL_GEMM_MIN) &&
           out >= (lbrx_dtype_is_quantized(dt) ? LBRX__MM_GEMM_ROWS_Q : LBRX__MM_GEMM_ROWS_F);
}

/* 1 when BF16 weights times n rows of x go through the bf16 dot-product tiles: x rounded to bf16,
   pairs summed as vdpbf16ps does (ref_bf16dp) */
static int bf16dp(lbrx_dtype dt, int64_t n, int64_t out) {
    int on;
#if defined(LBRX__DISPATCH)
    on = lbrx__kset_get()->mm_bf16;
#else
    on = LBRX__MM_BF16DP_ALL;
#endif
    return on && dt == LBRX_BF16 && n >= LBRX_MATMUL_GEMM_MIN && out >= LBRX__MM_GEMM_ROWS_F;
}

/* f32 to bf16 and back, round to nearest even (finite values; written here from the definition) */
static float ref_round_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

/* zero exponent (zero, subnormal) to zero of the same sign */
static float ref_flush(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if (!(u & 0x7f800000u)) u &= 0x80000000u;
    memcpy(&f, &u, 4);
    return f;
}

/* One output of the bf16 dot-product path from Intel's definition of vdpbf16ps: per pair of
   `in` (the last one of an odd k paired with zeros) acc = fma(w[2j+1], x[2j+1], acc), then
   fma(w[2j], x[2j], acc), each rounded to nearest even, inputs and sums with a zero exponent
   read and written as zero; x already rounded to bf16 (xb), w the bf16 weights' values. */
static float ref_bf16dp(const float *xb, const double *w, int64_t k) {
    float acc = 0.0f;
    int64_t j;
    for (j = 0; j < k; j += 2) {
        float w1 = j + 1 < k ? (float)w[j + 1] : 0.0f, x1 = j + 1 < k ? xb[j + 1] : 0.0f;
        acc = ref_flush(fmaf(ref_flush(w1), ref_flush(x1), acc));
        acc = ref_flush(fmaf(ref_flush((float)w[j]), ref_flush(xb[j]), acc));
    }
    return acc;
}

/* ---- reference weights: made here from random floats, and dequantized here to double ---- */

static uint16_t ref_f16(float f) { return lbrx_f32_to_f16(f); }

/* The block formats without a quantizer here: random code bytes with sane f16 scales at the
   format's scale fields (byte offset, count), positive for the fields that multiply a min. */
typedef struct rfmt { lbrx_dtype dt; int block, bytes, at[2]; } rfmt;
static const rfmt random_formats[] = {
    { LBRX_Q4_K, 256, 144, { 0, 2 } }, { LBRX_Q5_K, 256, 176, { 0, 2 } }, { LBRX_Q6_K, 256, 210, { 208, -1 } },
    { LBRX_Q3_K, 256, 110, { 108, -1 } }, { LBRX_Q2_K, 256, 84, { 80, 82 } }, { LBRX_Q5_0, 32, 22, { 0, -1 } },
    { LBRX_Q5_1, 32, 24, { 0, 2 } }, { LBRX_IQ4_NL, 32, 18, { 0, -1 } }, { LBRX_IQ4_XS, 256, 136, { 0, -1 } } };

static const rfmt *random_format(lbrx_dtype dt) {
    size_t i;
    for (i = 0; i < sizeof random_formats / sizeof random_formats[0]; i++)
        if (random_formats[i].dt == dt) return &random_formats[i];
    return NULL;
}

/* Build the bytes of one weight row of dtype dt from k floats (a simple round-to-nearest
   quantizer of this test's own; the format is GGML's block layout), or for the formats of
   random_formats random blocks seeded from the floats. */
static void make_row(lbrx_dtype dt, const float *v, int64_t k, unsigned char *dst) {
    int64_t j, b;
    const rfmt *rf = random_format(dt);
    if (rf) {
        lt_rng rng;
        uint32_t bits;
        memcpy(&bits, v, 4);
        rng.s = 0x9E3779B97F4A7C15ULL ^ bits;
        for (b = 0; b < k / rf->block; b++) {
            unsigned char *blk = dst + b * rf->bytes;
            int f;
            for (j = 0; j < rf->bytes; j++) blk[j] = (unsigned char)(lt_next(&rng) >> 40);
            for (f = 0; f < 2; f++)
                if (rf->at[f] >= 0) {
                    float sc = (0.5f + 0.5f * fabsf(lt_uniform(&rng))) * (f ? 0.004f : 0.01f) * (1.0f + fabsf(v[b % k]));
                    uint16_t h = ref_f16(f == 0 && lt_uniform(&rng) < 0 ? -sc : sc);
                    memcpy(blk + rf->at[f], &h, 2);
                }
        }
        return;
    }
    if (dt == LBRX_AFFINE_Q4 || dt == LBRX_AFFINE_Q8) {
        /* lbrx's affine blocks (f32 d, f32 m, then 4-bit nibbles as Q4_1 or 8-bit bytes): random
           codes, d with all 24 significant bits used, m about -half the code range times d (as
           a checkpoint's zero point or bias makes it), also with a full significand */
        const int top = dt == LBRX_AFFINE_Q8 ? 255 : 15, bytes = dt == LBRX_AFFINE_Q8 ? 40 : 24;
        lt_rng rng;
        uint32_t bits;
        memcpy(&bits, v, 4);
        rng.s = 0x51ED2701F00DULL ^ bits;
        for (b = 0; b < k / 32; b++) {
            unsigned char *blk = dst + b * bytes;
            float d = (0.5f + 0.5f * fabsf(lt_uniform(&rng))) * 0.1f / (float)top * (1.0f + fabsf(v[b % k]));
            float mn = -(float)top * d * (0.5f + 0.25f * lt_uniform(&rng));
            memcpy(blk, &d, 4);
            memcpy(blk + 4, &mn, 4);
            for (j = 8; j < bytes; j++) blk[j] = (unsigned char)(lt_next(&rng) >> 40);
            if (b == 0) blk[8] = dt == LBRX_AFFINE_Q8 ? 0 : 0xF0;   /* the extreme codes: q = 0 (v = -128) and 15 */
        }
        return;
    }
    switch (dt) {
    case LBRX_F32: memcpy(dst, v, (size_t)k * 4); break;
    case LBRX_F16: for (j = 0; j < k; j++) { uint16_t h = ref_f16(v[j]); memcpy(dst + 2 * j, &h, 2); } break;
    case LBRX_BF16: for (j = 0; j < k; j++) { uint16_t h = lbrx_f32_to_bf16(v[j]); memcpy(dst + 2 * j, &h, 2); } break;
    case LBRX_Q8_0:
        for (b = 0; b < k / 32; b++) {
            float amax = 0, d; uint16_t h; unsigned char *blk = dst + b * 34;
            for (j = 0; j < 32; j++) if (fabsf(v[b * 32 + j]) > amax) amax = fabsf(v[b * 32 + j]);
            d = amax / 127; h = ref_f16(d); memcpy(blk, &h, 2);
            for (j = 0; j < 32; j++) blk[2 + j] = (unsigned char)(signed char)(d > 0 ? floor(v[b * 32 + j] / d + 0.5) : 0);
        }
        break;
    case LBRX_Q4_0:
        for (b = 0; b < k / 32; b++) {
            float amax = 0, d; uint16_t h; unsigned char *blk = dst + b * 18;
            int q[32];
            for (j = 0; j < 32; j++) if (fabsf(v[b * 32 + j]) > amax) amax = fabsf(v[b * 32 + j]);
            d = amax / 7; h = ref_f16(d); memcpy(blk, &h, 2);
            for (j = 0; j < 32; j++) { int t = d > 0 ? (int)floor(v[b * 32 + j] / d + 0.5) + 8 : 8; q[j] = t < 0 ? 0 : t > 15 ? 15 : t; }
            for (j = 0; j < 16; j++) blk[2 + j] = (unsigned char)(q[j] | (q[j + 16] << 4));
        }
        break;
    case LBRX_Q4_1:
        for (b = 0; b < k / 32; b++) {
            float mn = v[b * 32], mx = v[b * 32], d; uint16_t h; unsigned char *blk = dst + b * 20;
            int q[32];
            for (j = 0; j < 32; j++) { if (v[b * 32 + j] < mn) mn = v[b * 32 + j]; if (v[b * 32 + j] > mx) mx = v[b * 32 + j]; }
            d = (mx - mn) / 15; h = ref_f16(d); memcpy(blk, &h, 2); h = ref_f16(mn); memcpy(blk + 2, &h, 2);
            for (j = 0; j < 32; j++) { int t = d > 0 ? (int)floor((v[b * 32 + j] - mn) / d + 0.5) : 0; q[j] = t < 0 ? 0 : t > 15 ? 15 : t; }
            for (j = 0; j < 16; j++) blk[4 + j] = (unsigned char)(q[j] | (q[j + 16] << 4));
        }
        break;
    default: break;
    }
}

/* f16 to double, written from the IEEE definition (independent of lbrx_f16_to_f32). */
static double ref_half(const unsigned char *p) {
    unsigned h = (unsigned)p[0] | ((unsigned)p[1] << 8);
    int e = (int)((h >> 10) & 31), f = (int)(h & 1023);
    double v = e == 0 ? ldexp((double)f, -24) : ldexp((double)(f | 1024), e - 25);
    return (h & 0x8000u) ? -v : v;
}

/* GGML's block formats to double, from their definitions (ggml-common.h layouts): one block
   at x to out. */
static const int iq4_values[16] = { -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113 };
static void deq_block(lbrx_dtype dt, const unsigned char *x, double *y) {
    int j, l, n, is, shift;
    switch (dt) {
    case LBRX_Q5_0: case LBRX_Q5_1: {
        int hdr = dt == LBRX_Q5_0 ? 2 : 4;
        uint32_t qh = (uint32_t)x[hdr] | ((uint32_t)x[hdr + 1] << 8) | ((uint32_t)x[hdr + 2] << 16) | ((uint32_t)x[hdr + 3] << 24);
        double d = ref_half(x), m = dt == LBRX_Q5_1 ? ref_half(x + 2) : 0;
        for (j = 0; j < 16; j++) {
            int x0 = (x[hdr + 4 + j] & 0xF) | (int)(((qh >> j) << 4) & 0x10), x1 = (x[hdr + 4 + j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
            if (dt == LBRX_Q5_0) { x0 -= 16; x1 -= 16; }
            y[j] = x0 * d + m; y[j + 16] = x1 * d + m;
        }
        break;
    }
    case LBRX_IQ4_NL:
        for (j = 0; j < 16; j++) { y[j] = ref_half(x) * iq4_values[x[2 + j] & 0xF]; y[j + 16] = ref_half(x) * iq4_values[x[2 + j] >> 4]; }
        break;
    case LBRX_IQ4_XS: {
        unsigned sh = (unsigned)x[2] | ((unsigned)x[3] << 8);
        for (n = 0; n < 8; n++) {
            int ls = ((x[4 + n / 2] >> (4 * (n % 2))) & 0xF) | (int)(((sh >> (2 * n)) & 3) << 4);
            double dl = ref_half(x) * (ls - 32);
            for (j = 0; j < 16; j++) { y[32 * n + j] = dl * iq4_values[x[8 + 16 * n + j] & 0xF]; y[32 * n + j + 16] = dl * iq4_values[x[8 + 16 * n + j] >> 4]; }
        }
        break;
    }
    case LBRX_Q4_K: case LBRX_Q5_K: {
        const unsigned char *sc = x + 4, *qh = x + 16, *q = x + (dt == LBRX_Q5_K ? 48 : 16);
        double d = ref_half(x), mn = ref_half(x + 2);
        int u1 = 1, u2 = 2;
        for (is = 0, n = 0; n < 256; n += 64, is += 2, q += 32, u1 <<= 2, u2 <<= 2) {
            int s[2], m[2], t;
            for (t = 0; t < 2; t++) {
                int jj = is + t;
                if (jj < 4) { s[t] = sc[jj] & 63; m[t] = sc[jj + 4] & 63; }
                else { s[t] = (sc[jj + 4] & 0xF) | ((sc[jj - 4] >> 6) << 4); m[t] = (sc[jj + 4] >> 4) | ((sc[jj] >> 6) << 4); }
            }
            for (l = 0; l < 32; l++) {
                int h1 = dt == LBRX_Q5_K && (qh[l] & u1) ? 16 : 0, h2 = dt == LBRX_Q5_K && (qh[l] & u2) ? 16 : 0;
                y[n + l] = d * s[0] * ((q[l] & 0xF) + h1) - mn * m[0];
                y[n + 32 + l] = d * s[1] * ((q[l] >> 4) + h2) - mn * m[1];
            }
        }
        break;
    }
    case LBRX_Q6_K: {
        const unsigned char *ql = x, *qh = x + 128;
        const signed char *sc = (const signed char *)(x + 192);
        double d = ref_half(x + 208);
        for (n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8)
            for (l = 0; l < 32; l++) {
                int k4 = l / 16;
                y[n + l] = d * sc[k4] * (((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                y[n + l + 32] = d * sc[k4 + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                y[n + l + 64] = d * sc[k4 + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                y[n + l + 96] = d * sc[k4 + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        break;
    }
    case LBRX_Q3_K: {
        const unsigned char *hm = x, *q = x + 32, *s = x + 96;
        double d = ref_half(x + 108);
        int scales[16], m = 1, t = 0;
        for (j = 0; j < 4; j++) {
            scales[j] = (s[j] & 0xF) | (((s[8 + j] >> 0) & 3) << 4);
            scales[4 + j] = (s[4 + j] & 0xF) | (((s[8 + j] >> 2) & 3) << 4);
            scales[8 + j] = (s[j] >> 4) | (((s[8 + j] >> 4) & 3) << 4);
            scales[12 + j] = (s[4 + j] >> 4) | (((s[8 + j] >> 6) & 3) << 4);
        }
        for (is = 0, n = 0; n < 256; n += 128, q += 32)
            for (j = 0, shift = 0; j < 4; j++, shift += 2, m <<= 1) {
                double dl = d * (scales[is++] - 32);
                for (l = 0; l < 16; l++) y[t++] = dl * (((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4));
                dl = d * (scales[is++] - 32);
                for (l = 0; l < 16; l++) y[t++] = dl * (((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            }
        break;
    }
    case LBRX_Q2_K: {
        const unsigned char *sc = x, *q = x + 16;
        double d = ref_half(x + 80), mn = ref_half(x + 82);
        int t = 0;
        for (is = 0, n = 0; n < 256; n += 128, q += 32)
            for (j = 0, shift = 0; j < 4; j++, shift += 2) {
                int c = sc[is++];
                for (l = 0; l < 16; l++) y[t++] = d * (c & 0xF) * ((q[l] >> shift) & 3) - mn * (c >> 4);
                c = sc[is++];
                for (l = 0; l < 16; l++) y[t++] = d * (c & 0xF) * ((q[l + 16] >> shift) & 3) - mn * (c >> 4);
            }
        break;
    }
    default: break;
    }
}

/* ... and *mag (may be NULL) the magnitudes |D q| + |M| of the two terms a weight with a min
   enters the sum with (else |w|): the f32 roundings scale with them, not with w */
static void deq_row(lbrx_dtype dt, const unsigned char *src, int64_t k, double *out, double *mag) {
    int64_t j, b;
    const rfmt *rf = random_format(dt);
    if (mag && dt != LBRX_AFFINE_Q4 && dt != LBRX_AFFINE_Q8) {
        deq_row(dt, src, k, out, NULL);
        for (j = 0; j < k; j++) mag[j] = fabs(out[j]);
        return;
    }
    if (dt == LBRX_AFFINE_Q4 || dt == LBRX_AFFINE_Q8) {
        /* y = q * d + m exactly (the layout of LBRX_AFFINE_Q4 / _Q8 in lbrx.h's dtypes) */
        const int bytes = dt == LBRX_AFFINE_Q8 ? 40 : 24;
        for (j = 0; j < k; j++) {
            const unsigned char *blk = src + (j / 32) * bytes;
            int t = (int)(j % 32), q = dt == LBRX_AFFINE_Q8 ? blk[8 + t] : t < 16 ? blk[8 + t] & 15 : blk[8 + t - 16] >> 4;
            float d, mn;
            memcpy(&d, blk, 4);
            memcpy(&mn, blk + 4, 4);
            out[j] = (double)q * d + mn;
            if (mag) mag[j] = fabs((double)q * d) + fabs((double)mn);
        }
        return;
    }
    if (rf) {
        for (b = 0; b < k / rf->block; b++) deq_block(dt, src + b * rf->bytes, out + b * rf->block);
        return;
    }
    for (j = 0; j < k; j++) {
        switch (dt) {
        case LBRX_F32: { float f; memcpy(&f, src + 4 * j, 4); out[j] = f; break; }
        case LBRX_F16: out[j] = ref_half(src + 2 * j); break;
        case LBRX_BF16: { uint32_t u = ((uint32_t)src[2 * j] | ((uint32_t)src[2 * j + 1] << 8)) << 16; float f; memcpy(&f, &u, 4); out[j] = f; break; }
        default: {
            int t = (int)(j % 32);
            b = j / 32;
            if (dt == LBRX_Q8_0) out[j] = ref_half(src + b * 34) * (signed char)src[b * 34 + 2 + t];
            else if (dt == LBRX_Q4_0) { int q = t < 16 ? (src[b * 18 + 2 + t] & 15) : (src[b * 18 + 2 + t - 16] >> 4); out[j] = ref_half(src + b * 18) * (q - 8); }
            else { int q = t < 16 ? (src[b * 20 + 4 + t] & 15) : (src[b * 20 + 4 + t - 16] >> 4); out[j] = ref_half(src + b * 20) * q + ref_half(src + b * 20 + 2); }
        }
        }
    }
}

/* The float64 bound on |y - x.w| for one output: x's quantization to int8 blocks (quantized
   weights) plus (k + 4) f32 roundings on the sum of magnitudes; *ref gets x.w. x may be
   unaligned. */
static double out_tolerance(const unsigned char *x, const double *w, const double *wmag, int64_t k, int quant, double *ref) {
    double mag = 0, qerr = 0;
    int64_t j, b;
    *ref = 0;
    for (j = 0; j < k; j++) {
        float xv;
        memcpy(&xv, x + 4 * j, 4);
        *ref += (double)xv * w[j];
        mag += fabs((double)xv) * (wmag ? wmag[j] : fabs(w[j]));
    }
    if (quant) {
        /* x is quantized to int8 with scale amax/127 per block: each x value moves by at most
           half a step, amax/254, and the int8 scale itself is an f32 rounding of amax/127 */
        for (b = 0; b < k / 32; b++) {
            double amax = 0, wsum = 0;
            for (j = b * 32; j < b * 32 + 32; j++) { float xv; memcpy(&xv, x + 4 * j, 4); if (fabs(xv) > amax) amax = fabs(xv); wsum += fabs(w[j]); }
            qerr += (amax / 254.0) * (1 + 1e-6) * wsum;
        }
    }
    return qerr + ((double)k + 4) * ldexp(1.0, -24) * (mag + qerr) + 1e-30;
}

/* ---- one case ---- */

typedef struct mcase {
    lbrx_dtype dt;
    int64_t out, k, n;
    int w_misalign, x_misalign;   /* byte offsets that make the pointers unaligned */
    int64_t w_pad, x_pad, y_pad;  /* extra bytes between rows (strided views) */
} mcase;

#define N_DTYPES 17
static const lbrx_dtype all_dtypes[N_DTYPES] = { LBRX_F32, LBRX_F16, LBRX_BF16, LBRX_Q8_0, LBRX_Q4_0, LBRX_Q4_1, LBRX_Q4_K, LBRX_Q6_K,
                                                 LBRX_Q5_K, LBRX_IQ4_XS, LBRX_IQ4_NL, LBRX_Q5_0, LBRX_Q5_1, LBRX_Q3_K, LBRX_Q2_K,
                                                 LBRX_AFFINE_Q4, LBRX_AFFINE_Q8 };

/* For float weights: the same product with W prepared (lbrx_matmul_weights_create) for 1..3 threads
   and uneven ranges must give exactly the bytes in `want` (the unprepared result), and leave y's
   row padding alone. Returns the number of failed checks. */
static int check_prepared(const mcase *c, const lbrx_tensor *w, const lbrx_tensor *x, lbrx_tensor *y,
                          unsigned char *ybuf, const unsigned char *want, int64_t ystride, lbrx_context *ctx) {
    lbrx_matmul_weights *pw = NULL;
    lbrx_error err;
    int fails = 0, t;
    int64_t i;
    if (lbrx_dtype_is_quantized(c->dt)) return 0;
    if (lbrx_matmul_weights_create(&pw, w, NULL, &err) != LBRX_OK) { fprintf(stderr, "  prepare: %s\n", err.message); return 1; }
    for (t = 1; t <= 3; t++) {
        lbrx_result r;
        memset(ybuf, 0xAB, (size_t)(ystride * c->n + 64));
        y->data = ybuf;
        lbrx_context_set_threads(ctx, t);
        if (t == 2 && c->out > 3) {
            /* ranges that start and end inside panels and work items */
            int64_t a = c->out / 3 + 1, b2 = c->out - 2;
            r = lbrx_matmul_prepared_rows(ctx, pw, x, a, b2, y, &err);
            if (r == LBRX_OK) r = lbrx_matmul_prepared_rows(ctx, pw, x, 0, a, y, &err);
            if (r == LBRX_OK) r = lbrx_matmul_prepared_rows(ctx, pw, x, b2, c->out, y, &err);
        } else {
            r = lbrx_matmul_prepared(ctx, pw, x, y, &err);
        }
        if (r != LBRX_OK) { fails++; fprintf(stderr, "  prepared: %s\n", err.message); continue; }
        for (i = 0; i < c->n; i++)
            if (memcmp(ybuf + i * ystride, want + i * ystride, (size_t)c->out * 4) != 0) {
                fails++;
                fprintf(stderr, "  %s out %lld k %lld n %lld: prepared W, %d threads: row %lld differs from lbrx_matmul\n", lbrx_dtype_name(c->dt),
                        (long long)c->out, (long long)c->k, (long long)c->n, t, (long long)i);
                break;
            }
        if (c->y_pad > 0 && ybuf[c->out * 4] != 0xAB) { fails++; fprintf(stderr, "  prepared: y padding overwritten\n"); }
    }
    lbrx_matmul_weights_destroy(pw);
    return fails;
}

/* Runs the case with thread counts 1..3 and two splits into ranges; checks against the float64
   reference with a bound derived from the arithmetic, and that all runs are bit-identical (with
   a prepared W too). Returns the number of failed checks. */
static int run_case(const mcase *c, unsigned long long seed) {
    lt_rng rng; size_t rb = 0;
    int64_t o, i, j, wstride, xstride, ystride;
    unsigned char *wbuf, *xbuf, *ybuf, *ybuf2;
    float *v;
    double *wd, *wm;
    lbrx_tensor w, x, y;
    lbrx_context *ctx;
    int fails = 0, t;
    int quant = lbrx_dtype_is_quantized(c->dt), dp = bf16dp(c->dt, c->n, c->out);
    float *xq = NULL;   /* dp: x rounded to bf16, [n][k] */
    rng.s = seed * 2654435761ULL + 12345;
    lbrx_row_bytes(c->dt, c->k, &rb);
    wstride = (int64_t)rb + c->w_pad;
    xstride = c->k * 4 + c->x_pad;
    ystride = c->out * 4 + c->y_pad;
    wbuf = (unsigned char *)malloc((size_t)(wstride * c->out + 64));
    xbuf = (unsigned char *)malloc((size_t)(xstride * c->n + 64));
    ybuf = (unsigned char *)malloc((size_t)(ystride * c->n + 64));
    ybuf2 = (unsigned char *)malloc((size_t)(ystride * c->n + 64));
    v = (float *)malloc((size_t)(c->k + 1) * 4);
    wd = (double *)malloc((size_t)(c->out * c->k + 1) * 8);
    wm = (double *)malloc((size_t)(c->out * c->k + 1) * 8);
    for (o = 0; o < c->out; o++) {
        for (j = 0; j < c->k; j++) v[j] = lt_uniform(&rng) * (1.0f + (float)(o % 3));
        make_row(c->dt, v, c->k, wbuf + c->w_misalign + o * wstride);
        deq_row(c->dt, wbuf + c->w_misalign + o * wstride, c->k, wd + o * c->k, wm + o * c->k);
    }
    for (i = 0; i < c->n; i++)
        for (j = 0; j < c->k; j++) { float f = lt_uniform(&rng) * 2.0f; memcpy(xbuf + c->x_misalign + i * xstride + 4 * j, &f, 4); }
    if (dp) {
        xq = (float *)malloc((size_t)(c->n * c->k + 1) * 4);
        for (i = 0; i < c->n; i++)
            for (j = 0; j < c->k; j++) { float f; memcpy(&f, xbuf + c->x_misalign + i * xstride + 4 * j, 4); xq[i * c->k + j] = ref_round_bf16(f); }
    }
    memset(&w, 0, sizeof w); memset(&x, 0, sizeof x); memset(&y, 0, sizeof y);
    w.dtype = c->dt; w.ndim = 2; w.shape[0] = c->out; w.shape[1] = c->k; w.stride[0] = wstride; w.stride[1] = quant ? 0 : (int64_t)lbrx_dtype_block_bytes(c->dt);
    w.data = wbuf + c->w_misalign;
    /* x as [n/?, ?, k] when n splits, to exercise the flattening of leading dimensions */
    x.dtype = LBRX_F32; y.dtype = LBRX_F32;
    if (c->n % 3 == 0 && c->n > 3) {
        x.ndim = 3; x.shape[0] = c->n / 3; x.shape[1] = 3; x.shape[2] = c->k; x.stride[0] = 3 * xstride; x.stride[1] = xstride; x.stride[2] = 4;
        y.ndim = 3; y.shape[0] = c->n / 3; y.shape[1] = 3; y.shape[2] = c->out; y.stride[0] = 3 * ystride; y.stride[1] = ystride; y.stride[2] = 4;
    } else {
        x.ndim = 2; x.shape[0] = c->n; x.shape[1] = c->k; x.stride[0] = xstride; x.stride[1] = 4;
        y.ndim = 2; y.shape[0] = c->n; y.shape[1] = c->out; y.stride[0] = ystride; y.stride[1] = 4;
    }
    x.data = xbuf + c->x_misalign;
    y.data = ybuf;
    if (lbrx_context_create(&ctx, NULL, NULL) != LBRX_OK) { fails++; goto done; }
    for (t = 1; t <= 3; t++) {
        lbrx_error err;
        unsigned char *dst = t == 1 ? ybuf : ybuf2;
        memset(dst, 0xAB, (size_t)(ystride * c->n + 64));
        y.data = dst;
        lbrx_context_set_threads(ctx, t);
        if (t == 3 && c->out > 2) {
            /* three ranges of a host-side split */
            int64_t a = c->out / 3, b2 = 2 * c->out / 3 + 1;
            if (lbrx_matmul_rows(ctx, &w, &x, 0, a, &y, &err) != LBRX_OK || lbrx_matmul_rows(ctx, &w, &x, a, b2, &y, &err) != LBRX_OK ||
                lbrx_matmul_rows(ctx, &w, &x, b2, c->out, &y, &err) != LBRX_OK) { fails++; fprintf(stderr, "  error: %s\n", err.message); continue; }
        } else if (lbrx_matmul(ctx, &w, &x, &y, &err) != LBRX_OK) { fails++; fprintf(stderr, "  error: %s\n", err.message); continue; }
        if (t > 1) {
            for (i = 0; i < c->n; i++)
                if (memcmp(ybuf + i * ystride, ybuf2 + i * ystride, (size_t)c->out * 4) != 0) {
                    fails++;
                    fprintf(stderr, "  %s out %lld k %lld n %lld: %d threads differ from 1 thread in row %lld\n", lbrx_dtype_name(c->dt),
                            (long long)c->out, (long long)c->k, (long long)c->n, t, (long long)i);
                    break;
                }
        }
    }
    /* the scalar code in canonical order: the tiled kernels (n >= LBRX_MATMUL_GEMM_MIN) and the
       scalar build match it bit for bit (their per-block integer sums are exact and every float
       step is the same fused multiply-add); the matrix-vector kernels sum in SIMD lanes and are
       held to the float64 bound below instead */
    {
        lbrx_error err;
        memset(ybuf2, 0xAB, (size_t)(ystride * c->n + 64));
        y.data = ybuf2;
        if (lbrx__matmul_run(ctx, &w, 0, &x, &y, 0, c->out, &lbrx__mm_reference, &err) != LBRX_OK) { fails++; fprintf(stderr, "  error: %s\n", err.message); }
        else if (dp) {   /* the bf16 dot-product tiles: vdpbf16ps's definition, step by step */
            for (i = 0; i < c->n && fails < 5; i++)
                for (o = 0; o < c->out; o++) {
                    float want = ref_bf16dp(xq + i * c->k, wd + o * c->k, c->k), yv;
                    memcpy(&yv, ybuf + i * ystride + 4 * o, 4);
                    if (memcmp(&yv, &want, 4) != 0) {
                        fails++;
                        fprintf(stderr, "  bf16 out %lld k %lld n %lld: y[%lld][%lld] = %.9g, vdpbf16ps's steps give %.9g\n", (long long)c->out,
                                (long long)c->k, (long long)c->n, (long long)i, (long long)o, yv, want);
                        break;
                    }
                }
        } else if (canonical_order(c->dt, c->n, c->out)) {
            for (i = 0; i < c->n; i++)
                if (memcmp(ybuf + i * ystride, ybuf2 + i * ystride, (size_t)c->out * 4) != 0) {
                    fails++;
                    fprintf(stderr, "  %s out %lld k %lld n %lld: row %lld differs from the scalar code\n", lbrx_dtype_name(c->dt),
                            (long long)c->out, (long long)c->k, (long long)c->n, (long long)i);
                    break;
                }
        }
        y.data = ybuf;
    }
    fails += check_prepared(c, &w, &x, &y, ybuf2, ybuf, ystride, ctx);
    y.data = ybuf;
    /* padding between y rows untouched */
    if (c->y_pad > 0 && ybuf[c->out * 4] != 0xAB) { fails++; fprintf(stderr, "  y padding overwritten\n"); }
    for (i = 0; i < c->n && fails < 5; i++) {
        /* the bf16 dot product's x is x rounded to bf16: the bound is on that product */
        const unsigned char *xr = dp ? (const unsigned char *)(xq + i * c->k) : xbuf + c->x_misalign + i * xstride;
        for (o = 0; o < c->out; o++) {
            double ref, got, tol = out_tolerance(xr, wd + o * c->k, wm + o * c->k, c->k, quant, &ref);
            float yv;
            memcpy(&yv, ybuf + i * ystride + 4 * o, 4);
            got = yv;
            if (!(fabs(got - ref) <= tol)) {
                fails++;
                fprintf(stderr, "  %s out %lld k %lld n %lld: y[%lld][%lld] = %.9g, reference %.9g, tolerance %.3g\n", lbrx_dtype_name(c->dt),
                        (long long)c->out, (long long)c->k, (long long)c->n, (long long)i, (long long)o, got, ref, tol);
                break;
            }
        }
    }
    lbrx_context_destroy(ctx);
done:
    free(wbuf); free(xbuf); free(ybuf); free(ybuf2); free(v); free(wd); free(wm); free(xq);
    return fails;
}

static void test_matmul_sizes(void) {
    static const int64_t ks_float[] = { 172, 32, 1, 7, 256 }, ks_quant[] = { 32, 96, 224, 160, 512 }, ks_256[] = { 256, 512, 4352, 768, 256 };
    static const int64_t ns[] = { 1, 3, 17, 513, 2, 8 };
    int d, a, b, seed = 1;
    for (d = 0; d < N_DTYPES; d++) {
        lbrx_dtype dt = all_dtypes[d];
        int quant = lbrx_dtype_is_quantized(dt);
        for (a = 0; a < 5; a++)
            for (b = 0; b < 6; b++) {
                mcase c;
                memset(&c, 0, sizeof c);
                c.dt = dt;
                c.k = lbrx_dtype_block_size(dt) == 256 ? ks_256[a] : quant ? ks_quant[a] : ks_float[a];
                c.n = ns[b];
                c.out = (c.n == 513 || slow()) ? 67 : 75;   /* at least LBRX__MM_GEMM_ROWS_Q: the tiles */
                if (c.n == 513 && (slow() || c.k > 1000) && c.k > 100) continue;
                if (c.k > 1000 && c.n == 17) c.out = 300;
                LT_CHECKF(run_case(&c, (unsigned long long)seed++) == 0, "%s k=%lld n=%lld", lbrx_dtype_name(dt), (long long)c.k, (long long)c.n);
            }
    }
}

static void test_matmul_out1_and_layouts(void) {
    int d, seed = 100;
    for (d = 0; d < N_DTYPES; d++) {
        lbrx_dtype dt = all_dtypes[d];
        int quant = lbrx_dtype_is_quantized(dt);
        mcase c;
        memset(&c, 0, sizeof c);
        c.dt = dt; c.k = lbrx_dtype_block_size(dt) == 256 ? 512 : quant ? 64 : 172;
        c.out = 1; c.n = 1;
        LT_CHECK(run_case(&c, (unsigned long long)seed++) == 0);
        c.out = 1; c.n = 17;
        LT_CHECK(run_case(&c, (unsigned long long)seed++) == 0);
        /* unaligned weights and x, padded rows (strided views) */
        c.out = 45; c.n = 3; c.w_misalign = 3; c.x_misalign = 2; c.w_pad = 5; c.x_pad = 12; c.y_pad = 8;
        LT_CHECK(run_case(&c, (unsigned long long)seed++) == 0);
        c.n = 21;
        LT_CHECK(run_case(&c, (unsigned long long)seed++) == 0);
    }
}

/* Rows longer than one packed block of `in` (the float kernels block by 512 elements, the
   quantized ones by 16 blocks of 32) and more outputs than one work item (256 columns). */
static void test_matmul_long_rows(void) {
    int d, seed = 200;
    for (d = 0; d < N_DTYPES; d++) {
        lbrx_dtype dt = all_dtypes[d];
        mcase c;
        memset(&c, 0, sizeof c);
        c.dt = dt; c.k = lbrx_dtype_block_size(dt) == 256 ? 1280 : lbrx_dtype_is_quantized(dt) ? 1056 : 1100;
        c.out = 75; c.n = 19; c.w_misalign = 1; c.x_misalign = 3;
        LT_CHECKF(run_case(&c, (unsigned long long)seed++) == 0, "%s k=%lld n=%lld", lbrx_dtype_name(dt), (long long)c.k, (long long)c.n);
        c.out = slow() ? 270 : 300; c.n = 13; c.w_misalign = 0; c.x_misalign = 0;
        LT_CHECKF(run_case(&c, (unsigned long long)seed++) == 0, "%s k=%lld n=%lld", lbrx_dtype_name(dt), (long long)c.k, (long long)c.n);
        c.n = 5;
        LT_CHECKF(run_case(&c, (unsigned long long)seed++) == 0, "%s k=%lld n=%lld", lbrx_dtype_name(dt), (long long)c.k, (long long)c.n);
    }
}

/* GGML's own blocks: ggml-quant-vectors.gguf holds q.<type> (8 rows of 256 values quantized by
   GGML) and dq.<type> (GGML's dequantization of them, f32). This test's float64 dequantizer
   agrees with dq (so the reference above is GGML's reading of the formats), and lbrx_matmul
   with W = q.<type> as mapped from the file matches x . dq^T within the bound, for n = 1 (the
   matrix-vector kernels) and n = 9 (the tiled ones). */
static void test_matmul_ggml_blocks(void) {
    static const char *names[] = { "q4_K", "q6_K", "q5_K", "iq4_xs", "iq4_nl", "q5_0", "q5_1", "q3_K", "q2_K", "q8_0", "q4_0", "q4_1" };
    lbrx_gguf *g;
    lbrx_error err;
    lbrx_context *ctx;
    size_t t;
    LT_SHARED_OR_SKIP(path, "derived-llama.cpp-c392e50/ggml-quant-vectors.gguf");
    LT_CHECKF(lbrx_gguf_open(&g, path, NULL, &err) == LBRX_OK, "%s", err.message);
    LT_CHECK(lbrx_context_create(&ctx, NULL, NULL) == LBRX_OK);
    for (t = 0; t < sizeof names / sizeof names[0]; t++) {
        char qn[32], dqn[32];
        lbrx_tensor w, dq, x, y;
        double wd[8 * 256], worst = 0;
        int64_t xs[2] = { 9, 256 }, ys[2] = { 9, 8 }, r, j, i;
        int n;
        lt_rng rng;
        rng.s = 77 + t;
        snprintf(qn, sizeof qn, "q.%s", names[t]);
        snprintf(dqn, sizeof dqn, "dq.%s", names[t]);
        memset(&w, 0, sizeof w);
        memset(&dq, 0, sizeof dq);
        if (lbrx_gguf_get_tensor(g, qn, &w, &err) != LBRX_OK || lbrx_gguf_get_tensor(g, dqn, &dq, &err) != LBRX_OK ||
            w.ndim != 2 || w.shape[0] != 8 || w.shape[1] != 256 || dq.dtype != LBRX_F32 || !lbrx_matmul_supports(w.dtype)) {
            LT_CHECKF(0, "%s: not in the vectors file as 8 x 256 of a matmul dtype", qn);
            lbrx_tensor_release(&w);
            lbrx_tensor_release(&dq);
            continue;
        }
        for (r = 0; r < 8; r++) {
            const float *dr = (const float *)lbrx_tensor_row(&dq, r);
            double rmax = 0;
            if (random_format(w.dtype)) deq_row(w.dtype, (const unsigned char *)lbrx_tensor_row(&w, r), 256, wd + r * 256, NULL);
            else for (j = 0; j < 256; j++) wd[r * 256 + j] = dr[j];
            for (j = 0; j < 256; j++) if (fabs(dr[j]) > rmax) rmax = fabs(dr[j]);
            for (j = 0; j < 256; j++) if (fabs(wd[r * 256 + j] - dr[j]) > worst * rmax) worst = fabs(wd[r * 256 + j] - dr[j]) / rmax;
        }
        LT_CHECKF(worst <= 1e-6, "%s: this test's dequantizer is %g (relative) from GGML's", names[t], worst);
        LT_CHECK(lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK);
        for (j = 0; j < 9 * 256; j++) ((float *)x.data)[j] = lt_uniform(&rng);
        for (n = 1; n <= 9; n += 8) {
            xs[0] = ys[0] = n;
            x.shape[0] = n;
            LT_CHECK(lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
            LT_CHECKF(lbrx_matmul(ctx, &w, &x, &y, &err) == LBRX_OK, "%s", err.message);
            for (i = 0; i < n; i++)
                for (r = 0; r < 8; r++) {
                    double ref, tol = out_tolerance((const unsigned char *)lbrx_tensor_row(&x, i), wd + r * 256, NULL, 256, 1, &ref);
                    double got = ((const float *)lbrx_tensor_row(&y, i))[r];
                    LT_CHECKF(fabs(got - ref) <= tol, "%s n %d: y[%lld][%lld] = %.9g, GGML's weights give %.9g (tolerance %.3g)",
                              names[t], n, (long long)i, (long long)r, got, ref, tol);
                }
            lbrx_tensor_release(&y);
        }
        lbrx_tensor_release(&x);
        lbrx_tensor_release(&w);
        lbrx_tensor_release(&dq);
    }
    lbrx_context_destroy(ctx);
    lbrx_gguf_destroy(g);
}

/* The format table's rows agree with the rest of lbrx: block geometry with lbrx_dtype_block_*,
   and for each block dtype, random floats through lbrx_quantize_row, then the row's unpacker
   (D*v + M per value) against lbrx_dequantize_row (GGML's floats), within two roundings. */
static void test_matmul_format_table(void) {
    size_t f;
    lt_rng rng;
    rng.s = 4242;
    for (f = 0; f < LBRX__WFMT_COUNT; f++) {
        const lbrx__wfmt *t = &lbrx__wfmts[f];
        float src[512], deq[512], d[16], mn[16];
        unsigned char q[2 * 292];
        int8_t v[256];
        int j, g, bad = 0;
        LT_CHECKF(lbrx_dtype_block_size(t->dt) == t->block && lbrx_dtype_block_bytes(t->dt) == (size_t)t->bytes && lbrx_matmul_supports(t->dt),
                  "%s: geometry", lbrx_dtype_name(t->dt));
        if (!t->unpack) continue;
        LT_CHECKF((t->group == 32 || t->group == 16) && t->block % t->group == 0, "%s: groups", lbrx_dtype_name(t->dt));
        for (j = 0; j < t->block; j++) src[j] = lt_uniform(&rng) * (1.0f + (float)(j % 7));
        if (lbrx_quantize_row(t->dt, src, q, t->block) != LBRX_OK || lbrx_dequantize_row(t->dt, q, deq, t->block) != LBRX_OK) {
            LT_CHECKF(0, "%s: no quantizer or dequantizer", lbrx_dtype_name(t->dt));
            continue;
        }
        t->unpack(q, v, d, mn);
        for (j = 0; j < t->block && !bad; j++) {
            double a = (double)d[j / t->group] * (v[j] + t->vadd), m = t->has_min ? mn[j / t->group] : 0.0;
            g = t->uoff >= 0 && (v[j] + t->uoff < 0 || v[j] + t->uoff > 63);
            if (g || fabs(a + m - deq[j]) > ldexp(fabs(a) + fabs(m), -22)) {
                bad = 1;
                fprintf(stderr, "  %s value %d: unpacked %d * %g + %g, dequantized %g%s\n", lbrx_dtype_name(t->dt), j, v[j], d[j / t->group],
                        t->has_min ? mn[j / t->group] : 0.0, deq[j], g ? " (v + uoff outside 0..63)" : "");
            }
        }
        LT_CHECKF(!bad, "%s: unpacker and dequantizer disagree", lbrx_dtype_name(t->dt));
    }
}

/* No kernel reads past W: each block dtype's W [5, 512] ends where an inaccessible page begins
   (a mapped file can end there); n = 1, 3, 16 give the same bytes as the same W on the heap. */
static void test_matmul_reads_inside_w(void) {
#if defined(__unix__) || defined(__APPLE__)
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const int64_t out = 5, k = 512;
    static float src[5 * 512];
    size_t f, i;
    for (i = 0; i < sizeof src / sizeof src[0]; i++) src[i] = (float)((i * 7919) % 1000) / 250.0f - 2.0f;
    for (f = 0; f < LBRX__WFMT_COUNT; f++) {
        const lbrx_dtype dt = lbrx__wfmts[f].dt;
        size_t rb = 0, nb, span;
        unsigned char *base;
        int c;
        if (lbrx__wfmts[f].block == 1) continue;
        lbrx_row_bytes(dt, k, &rb);
        nb = rb * (size_t)out;
        span = (nb + pg - 1) / pg * pg;
        base = (unsigned char *)mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == (unsigned char *)MAP_FAILED || mprotect(base + span, pg, PROT_NONE) != 0) LT_SKIP("mmap/mprotect failed");
        for (c = 0; c < 3; c++) {
            const int64_t n = c == 0 ? 1 : c == 1 ? 3 : 16;
            int64_t ws[2], xs[2], ys[2];
            lbrx_tensor w, wh, x, y, yh;
            ws[0] = out; ws[1] = k; xs[0] = n; xs[1] = k; ys[0] = n; ys[1] = out;
            LT_CHECK(lbrx_tensor_init_heap(&wh, dt, 2, ws, NULL, NULL) == LBRX_OK && lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK &&
                     lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK && lbrx_tensor_init_heap(&yh, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
            for (i = 0; i < (size_t)(n * k); i++) ((float *)x.data)[i] = (float)(i % 13) - 6.0f;
            LT_CHECK(lbrx_quantize_row(dt, src, wh.data, out * k) == LBRX_OK);
            memcpy(base + span - nb, wh.data, nb);
            w = wh;
            w.data = base + span - nb;
            LT_CHECKF(lbrx_matmul(NULL, &w, &x, &y, NULL) == LBRX_OK && lbrx_matmul(NULL, &wh, &x, &yh, NULL) == LBRX_OK &&
                      memcmp(y.data, yh.data, (size_t)(n * out) * 4) == 0, "%s n %lld: W before a guard page", lbrx_dtype_name(dt), (long long)n);
            lbrx_tensor_release(&wh); lbrx_tensor_release(&x); lbrx_tensor_release(&y); lbrx_tensor_release(&yh);
        }
        munmap(base, span + pg);
    }
#else
    LT_SKIP("no mmap here");
#endif
}

/* The bf16 dot product at the edges of its definition: subnormal bf16 weights and x (read as
   zero), products and sums below 2^-126 (flushed to zero, sign kept), odd k; bit for bit
   against ref_bf16dp, with prepared weights too. Runs where bf16dp() does (on CPUs with
   AVX512_BF16 the instruction itself, else its emulation). */
static void test_matmul_bf16_subnormals(void) {
    enum { S_OUT = 40, S_K = 9, S_N = 8 };
    int64_t ws[2] = { S_OUT, S_K }, xs[2] = { S_N, S_K }, ys[2] = { S_N, S_OUT }, i, o, j;
    lbrx_tensor w, x, y, yp;
    lbrx_matmul_weights *pw = NULL;
    lbrx_context *ctx;
    lt_rng rng;
    double wd[S_OUT * S_K];
    float xq[S_N * S_K];
    int bad = 0;
    if (!bf16dp(LBRX_BF16, S_N, S_OUT)) LT_SKIP("no bf16 dot product in this build (AVX-512 builds run it, or its emulation)");
    rng.s = 31337;
    LT_CHECK(lbrx_context_create(&ctx, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&w, LBRX_BF16, 2, ws, NULL, NULL) == LBRX_OK && lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK &&
             lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK && lbrx_tensor_init_heap(&yp, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
    for (o = 0; o < S_OUT; o++)
        for (j = 0; j < S_K; j++) {
            /* row classes: subnormal weights, tiny normal ones (products underflow), ordinary ones */
            uint32_t u = (uint32_t)(lt_next(&rng) >> 40) & 0x807fu;   /* sign and 7 mantissa bits: exponent 0 */
            float f;
            if (o % 3 == 1) u |= (uint32_t)(1 + o % 5) << 7;            /* 2^-126 .. 2^-122 */
            else if (o % 3 == 2) u |= 127u << 7;                        /* around 1 */
            u <<= 16;
            memcpy(&f, &u, 4);
            ((uint16_t *)w.data)[o * S_K + j] = (uint16_t)(u >> 16);
            wd[o * S_K + j] = f;
        }
    for (i = 0; i < S_N; i++)
        for (j = 0; j < S_K; j++) {
            /* x: tiny (subnormal after rounding), small (products below 2^-126 with the tiny
               weights), or ordinary */
            float f = lt_uniform(&rng) * (i % 3 == 0 ? 1e-39f : i % 3 == 1 ? 1e-3f : 1.0f);
            ((float *)x.data)[i * S_K + j] = f;
            xq[i * S_K + j] = ref_round_bf16(f);
        }
    LT_CHECK(lbrx_matmul(ctx, &w, &x, &y, NULL) == LBRX_OK);
    LT_CHECK(lbrx_matmul_weights_create(&pw, &w, NULL, NULL) == LBRX_OK && lbrx_matmul_prepared(ctx, pw, &x, &yp, NULL) == LBRX_OK);
    for (i = 0; i < S_N && !bad; i++)
        for (o = 0; o < S_OUT && !bad; o++) {
            float want = ref_bf16dp(xq + i * S_K, wd + o * S_K, S_K), got = ((float *)y.data)[i * S_OUT + o];
            if (memcmp(&got, &want, 4) != 0 || memcmp(&got, (float *)yp.data + i * S_OUT + o, 4) != 0) {
                bad = 1;
                fprintf(stderr, "  bf16 subnormals: y[%lld][%lld] = %a (prepared %a), vdpbf16ps's steps give %a\n", (long long)i, (long long)o,
                        got, ((float *)yp.data)[i * S_OUT + o], want);
            }
        }
    LT_CHECK(!bad);
    lbrx_matmul_weights_destroy(pw);
    lbrx_tensor_release(&w); lbrx_tensor_release(&x); lbrx_tensor_release(&y); lbrx_tensor_release(&yp);
    lbrx_context_destroy(ctx);
}

static void test_matmul_errors(void) {
    lbrx_context *ctx;
    lbrx_tensor w, x, y;
    lbrx_error err;
    int64_t ks[2] = { 4, 256 }, ws[2] = { 4, 32 }, xs[2] = { 2, 32 }, ys[2] = { 2, 4 }, ybad[2] = { 2, 5 };
    LT_CHECK(lbrx_context_create(&ctx, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&w, LBRX_Q8_K, 2, ks, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
    /* the message lists the table's dtypes */
    LT_CHECK(lbrx_matmul(ctx, &w, &x, &y, &err) == LBRX_ERR_BAD_DTYPE && strstr(err.message, "q4_K") && strstr(err.message, "iq4_xs"));
    lbrx_tensor_release(&w);
    LT_CHECK(lbrx_tensor_init_heap(&w, LBRX_Q8_0, 2, ws, NULL, NULL) == LBRX_OK);
    {   /* a NULL context is one thread with scratch for the call: the same bits as a context's */
        int64_t j;
        float y1[8];
        for (j = 0; j < 4 * 34; j++) ((unsigned char *)w.data)[j] = (unsigned char)(j * 37 + 11);
        for (j = 0; j < 64; j++) ((float *)x.data)[j] = (float)(j % 9) - 4.0f;
        LT_CHECK(lbrx_matmul(ctx, &w, &x, &y, &err) == LBRX_OK);
        memcpy(y1, y.data, sizeof y1);
        memset(y.data, 0, sizeof y1);
        LT_CHECK(lbrx_matmul(NULL, &w, &x, &y, &err) == LBRX_OK && memcmp(y1, y.data, sizeof y1) == 0);
    }
    LT_CHECK(lbrx_matmul_rows(ctx, &w, &x, 3, 5, &y, &err) == LBRX_ERR_INVALID_ARGUMENT);
    lbrx_tensor_release(&y);
    LT_CHECK(lbrx_tensor_init_heap(&y, LBRX_F32, 2, ybad, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_matmul(ctx, &w, &x, &y, &err) == LBRX_ERR_BAD_SHAPE && strstr(err.message, "y rows") != NULL);
    lbrx_tensor_release(&w); lbrx_tensor_release(&x); lbrx_tensor_release(&y);
    lbrx_context_destroy(ctx);
}

/* Counts allocations, to check that prepared weights use the caller's allocator and free all. */
typedef struct count_alloc { int live, total; } count_alloc;
static void *ca_alloc(size_t size, size_t alignment, void *user) {
    count_alloc *c = (count_alloc *)user;
    void *p = lbrx_alloc(NULL, size, alignment);
    if (p) { c->live++; c->total++; }
    return p;
}
static void ca_free(void *ptr, void *user) {
    if (ptr) ((count_alloc *)user)->live--;
    lbrx_free(NULL, ptr);
}

static void test_matmul_prepared_api(void) {
    lbrx_context *ctx;
    lbrx_tensor w, wq, x, y, yb;
    lbrx_matmul_weights *pw = NULL;
    lbrx_error err;
    lbrx_allocator al;
    count_alloc ca = { 0, 0 };
    int64_t ws[2] = { 70, 40 }, xs[2] = { 9, 40 }, ys[2] = { 9, 70 }, ybad[2] = { 9, 71 }, qs[2] = { 4, 64 }, j;
    LT_CHECK(lbrx_context_create(&ctx, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&w, LBRX_F16, 2, ws, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&x, LBRX_F32, 2, xs, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&y, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&yb, LBRX_F32, 2, ybad, NULL, NULL) == LBRX_OK);
    for (j = 0; j < 70 * 40; j++) ((uint16_t *)w.data)[j] = lbrx_f32_to_f16((float)(j % 13) - 6.0f);
    for (j = 0; j < 9 * 40; j++) ((float *)x.data)[j] = (float)(j % 7) - 3.0f;
    memset(&al, 0, sizeof al);
    al.alloc = ca_alloc; al.free = ca_free; al.user = &ca;
    LT_CHECK(lbrx_matmul_weights_create(&pw, &w, &al, &err) == LBRX_OK && pw != NULL && ca.live >= 1);
    /* the object keeps w's storage: releasing the caller's view leaves it usable */
    lbrx_tensor_release(&w);
    LT_CHECK(lbrx_matmul_prepared(ctx, pw, &x, &y, &err) == LBRX_OK);
    /* small integers: every product and sum is exact, so y is known */
    {
        int ok = 1;
        int64_t i, o;
        for (i = 0; i < 9; i++)
            for (o = 0; o < 70; o++) {
                double ref = 0;
                for (j = 0; j < 40; j++) ref += (double)((i * 40 + j) % 7 - 3) * (double)((o * 40 + j) % 13 - 6);
                if (((float *)y.data)[i * 70 + o] != (float)ref) ok = 0;
            }
        LT_CHECK(ok);
    }
    LT_CHECK(lbrx_matmul_prepared(ctx, pw, &x, &yb, &err) == LBRX_ERR_BAD_SHAPE && strstr(err.message, "y rows") != NULL);
    LT_CHECK(lbrx_matmul_prepared_rows(ctx, pw, &x, 5, 71, &y, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_matmul_prepared_rows(ctx, pw, &x, 5, 4, &y, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_matmul_prepared(NULL, pw, &x, &yb, &err) == LBRX_ERR_BAD_SHAPE);
    {   /* a NULL context: one thread, the same bits */
        lbrx_tensor y2;
        LT_CHECK(lbrx_tensor_init_heap(&y2, LBRX_F32, 2, ys, NULL, NULL) == LBRX_OK);
        LT_CHECK(lbrx_matmul_prepared(NULL, pw, &x, &y2, &err) == LBRX_OK && memcmp(y2.data, y.data, 9 * 70 * 4) == 0);
        lbrx_tensor_release(&y2);
    }
    LT_CHECK(lbrx_matmul_prepared(ctx, NULL, &x, &y, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_matmul_prepared_rows(ctx, NULL, &x, 0, 1, &y, &err) == LBRX_ERR_INVALID_ARGUMENT);
    lbrx_matmul_weights_destroy(pw);
    LT_CHECKF(ca.live == 0 && ca.total >= 1, "live %d total %d", ca.live, ca.total);
    lbrx_matmul_weights_destroy(NULL);
    /* bad inputs */
    pw = (lbrx_matmul_weights *)&ca;
    LT_CHECK(lbrx_matmul_weights_create(&pw, NULL, NULL, &err) == LBRX_ERR_INVALID_ARGUMENT && pw == NULL);
    LT_CHECK(lbrx_matmul_weights_create(NULL, &x, NULL, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_tensor_init_heap(&wq, LBRX_Q8_0, 2, qs, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_matmul_weights_create(&pw, &wq, NULL, &err) == LBRX_ERR_BAD_DTYPE && pw == NULL && strstr(err.message, "q8_0") != NULL);
    lbrx_tensor_release(&wq);
    LT_CHECK(lbrx_tensor_init_heap(&wq, LBRX_F32, 1, qs, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_matmul_weights_create(&pw, &wq, NULL, &err) == LBRX_ERR_BAD_SHAPE && pw == NULL);
    lbrx_tensor_release(&wq);
    LT_CHECK(lbrx_tensor_init_heap(&wq, LBRX_F32, 2, qs, NULL, NULL) == LBRX_OK);
    wq.stride[0] = -256;
    LT_CHECK(lbrx_matmul_weights_create(&pw, &wq, NULL, &err) == LBRX_ERR_INVALID_ARGUMENT && pw == NULL);
    wq.stride[0] = 256;
    lbrx_tensor_release(&wq);
    lbrx_tensor_release(&x); lbrx_tensor_release(&y); lbrx_tensor_release(&yb);
    lbrx_context_destroy(ctx);
}

int main(void) {
    LT_RUN(test_matmul_sizes);
    LT_RUN(test_matmul_out1_and_layouts);
    LT_RUN(test_matmul_long_rows);
    LT_RUN(test_matmul_format_table);
    LT_RUN(test_matmul_ggml_blocks);
    LT_RUN(test_matmul_reads_inside_w);
    LT_RUN(test_matmul_bf16_subnormals);
    LT_RUN(test_matmul_errors);
    LT_RUN(test_matmul_prepared_api);
    return lt_finish();
}
