/* fuzz_safetensors.c - libFuzzer harness of the safetensors reader: open the input from memory,
   walk the __metadata__ strings and every tensor (lookup by name, its first rows dequantized),
   keep one tensor past the close through its storage reference, then close; format detection
   must say safetensors for every file opened; the tensors beside every NAME.scales go through
   lbrx_affine (MLX, AWQ, GPTQ metadata), see lt_fuzz_affine.

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_safetensors.c -o fuzz_safetensors
       ./fuzz_safetensors -dict=tests/fuzz_safetensors.dict corpus/      (or: make fuzz)
   Replay without libFuzzer: tests/fuzz_main.c. */
#ifndef LBRX_FUZZ_NO_IMPL
#define LBRX_IMPL
#endif
#include "lbrx_safetensors.h"
#include "lbrx_fuzz.h"
#include <string.h>

/* The affine group quantization of weight `base` (lbrx_affine_init) from the tensors beside it:
   MLX's base.weight + base.scales + base.biases in 4 and 8 bits, AWQ's and GPTQ's base.qweight +
   base.qzeros + base.scales (+ GPTQ's base.g_idx), the group size from the shapes. Whatever
   init accepts must dequantize, and a repack (lbrx_affine_to_q4_1, lbrx_affine_repack) it calls
   exact must dequantize to the same floats bit for bit. */
static unsigned lt_fuzz_affine(const lbrx_safetensors *st, const char *base, size_t base_len) {
    static const char *const parts[5] = { "weight", "biases", "qweight", "qzeros", "g_idx" };
    lbrx_tensor t[6];  /* weight, biases, qweight, qzeros, g_idx, scales */
    char name[512];
    unsigned acc = 0;
    int k, packing;
    lbrx_error err;
    if (base_len > 400) return 0;
    memset(t, 0, sizeof t);
    for (k = 0; k < 6; k++) {
        snprintf(name, sizeof name, "%.*s.%s", (int)base_len, base, k < 5 ? parts[k] : "scales");
        if (lbrx_safetensors_get_tensor(st, name, &t[k], &err) != LBRX_OK) memset(&t[k], 0, sizeof t[k]);
    }
    for (packing = LBRX_AFFINE_MLX; packing <= LBRX_AFFINE_GPTQ; packing++) {
        const int mlx = packing == LBRX_AFFINE_MLX;
        const lbrx_tensor *w = &t[mlx ? 0 : 2], *o = &t[mlx ? 1 : 3];
        int bits;
        if (!w->storage || !o->storage || w->ndim != 2 || t[5].ndim != 2 || t[5].shape[mlx ? 1 : 0] <= 0) continue;
        for (bits = 4; bits <= (mlx ? 8 : 4); bits += 4) {
            int64_t cols = mlx ? w->shape[1] * (32 / bits) : packing == LBRX_AFFINE_AWQ ? w->shape[0] : w->shape[0] * 8;
            int64_t group = cols / t[5].shape[mlx ? 1 : 0];
            lbrx_affine a;
            lbrx_tensor q;
            int64_t i;
            int exact = 0;
            if (w->shape[0] > ((int64_t)1 << 40) || w->shape[1] > ((int64_t)1 << 40) || group <= 0) continue;
            if (lbrx_affine_init(&a, (lbrx_affine_packing)packing, bits, group, w, &t[5], o, packing == LBRX_AFFINE_GPTQ && t[4].storage ? &t[4] : NULL,
                                 &err) != LBRX_OK) {
                acc += (unsigned)strlen(err.message);
                continue;
            }
            if (a.cols <= LBRX_FUZZ_ROW_ELEMS && a.rows <= 65536 / a.cols) {
                float *x = (float *)malloc(sizeof(float) * (size_t)a.cols * 2);
                LT_FUZZ_CHECK(x != NULL && lbrx_affine_dequantize_rows(&a, 0, 1, x, &err) == LBRX_OK);
                if (lbrx_affine_to_q4_1(&a, &q, NULL, &exact, &err) == LBRX_OK) {
                    LT_FUZZ_CHECK(lbrx_dequantize_row(LBRX_Q4_1, lbrx_tensor_row(&q, 0), x + a.cols, a.cols) == LBRX_OK);
                    for (i = 0; exact && i < a.cols; i++) LT_FUZZ_CHECK(x[i] == x[a.cols + i] || (x[i] != x[i] && x[a.cols + i] != x[a.cols + i]));
                    lbrx_tensor_release(&q);
                }
                if (lbrx_affine_repack(&a, &q, NULL, &exact, &err) == LBRX_OK) {  /* Q4_1 or lbrx's AFFINE_Q4 / _Q8: the same contract */
                    LT_FUZZ_CHECK(lbrx_dequantize_row(q.dtype, lbrx_tensor_row(&q, 0), x + a.cols, a.cols) == LBRX_OK);
                    for (i = 0; exact && i < a.cols; i++) LT_FUZZ_CHECK(x[i] == x[a.cols + i] || (x[i] != x[i] && x[a.cols + i] != x[a.cols + i]));
                    lbrx_tensor_release(&q);
                }
                acc += (unsigned)(x[0] > 0.0f);
                free(x);
            }
            lbrx_affine_release(&a);
        }
    }
    for (k = 0; k < 6; k++) lbrx_tensor_release(&t[k]);
    return acc;
}

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    lbrx_safetensors *st = NULL;
    lbrx_error err;
    const lbrx_json_value *meta;
    lbrx_tensor kept;
    size_t i, n;
    volatile unsigned acc = 0;
    lbrx_format fmt = lbrx_format_detect(data, size);
    if (lbrx_safetensors_open_memory(&st, data, size, NULL, &err) != LBRX_OK) {
        acc += (unsigned)strlen(err.message);  /* the message is always a terminated string */
        return 0;
    }
    LT_FUZZ_CHECK(fmt == LBRX_FORMAT_SAFETENSORS);  /* a file the reader opens is never taken for another format */
    meta = lbrx_safetensors_metadata(st);
    n = lbrx_json_count(meta);
    for (i = 0; i < n; i++) {
        const char *key = NULL, *val;
        size_t key_len = 0, len = 0;
        const lbrx_json_value *v = lbrx_json_member(meta, i, &key, &key_len);
        val = lbrx_json_string(v, &len);
        LT_FUZZ_CHECK(key != NULL && val != NULL);  /* metadata values are strings */
        acc += (unsigned)key_len + (len ? (unsigned char)val[len - 1] : 0u);
        if (strlen(key) == key_len) LT_FUZZ_CHECK(lbrx_safetensors_get_metadata(st, key) != NULL);
    }
    n = lbrx_safetensors_tensor_count(st);
    LT_FUZZ_CHECK(lbrx_safetensors_shard_count(st) == 1);
    acc += (unsigned)lbrx_safetensors_data_offset(st, 0);
    for (i = 0; i < n; i++) {
        const char *name = lbrx_safetensors_tensor_name(st, i);
        lbrx_tensor t;
        LT_FUZZ_CHECK(name != NULL && lbrx_safetensors_tensor(st, i, &t, &err) == LBRX_OK);
        LT_FUZZ_CHECK(lbrx_safetensors_find_tensor(st, name) == i);  /* unique names */
        LT_FUZZ_CHECK(lbrx_safetensors_tensor_offset(st, i) <= size);
        acc += lt_fuzz_touch_tensor(&t);
        lbrx_tensor_release(&t);
        if (strlen(name) > 7 && !strcmp(name + strlen(name) - 7, ".scales")) acc += lt_fuzz_affine(st, name, strlen(name) - 7);
    }
    /* a tensor kept past the close: its own storage reference keeps the bytes */
    memset(&kept, 0, sizeof kept);
    if (n > 0) {
        LT_FUZZ_CHECK(lbrx_safetensors_tensor(st, n - 1, &kept, &err) == LBRX_OK);
    }
    lbrx_safetensors_destroy(st);
    if (n > 0) {
        acc += lt_fuzz_touch_tensor(&kept);
        lbrx_tensor_release(&kept);
    }
    (void)acc;
    return 0;
}
