/* lbrx_fuzz.h - shared by the libFuzzer harnesses tests/fuzz_*.c (and, through them, by the
   regression replay in tests/test_hardening.c). Include it after the lbrx headers.
   A harness defines its entry point as LBRX_FUZZ_ENTRY, which is LLVMFuzzerTestOneInput unless
   the includer renames it (so several harnesses can live in one test program). */
#ifndef LBRX_FUZZ_H
#define LBRX_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef LBRX_FUZZ_ENTRY
#define LBRX_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
#ifdef __cplusplus
#define LBRX_FUZZ_EXTERN extern "C"
#else
#define LBRX_FUZZ_EXTERN
#endif

/* An invariant the reader promises (unique names, typed getters that refuse other types):
   a violation is a bug, so it crashes for the fuzzer to report. */
#define LT_FUZZ_CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); abort(); } } while (0)

/* Most elements dequantized per row and rows per tensor: enough to reach every block decoder,
   small enough to keep thousands of executions per second. */
#define LBRX_FUZZ_ROW_ELEMS 4096
#define LBRX_FUZZ_ROWS 3

/* Reads a tensor the way a user would: its first and last byte, then the first rows
   dequantized to f32 (types without a dequantizer return LBRX_ERR_UNSUPPORTED, which is fine),
   then the same through a row view. Returns a value derived from everything read, so nothing
   is optimised away. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
static unsigned lt_fuzz_touch_tensor(const lbrx_tensor *t) {
    unsigned acc = 0;
    size_t nbytes = 0;
    int64_t rows, n, block, r, i;
    float *buf;
    lbrx_tensor v;
    if (lbrx_tensor_nbytes(t, &nbytes) != LBRX_OK) return 1;
    if (nbytes > 0) {
        const unsigned char *p = (const unsigned char *)t->data;
        acc += p[0] + p[nbytes - 1];
    }
    rows = lbrx_tensor_nrows(t);
    n = t->ndim ? t->shape[t->ndim - 1] : 1;
    block = lbrx_dtype_block_size(t->dtype);
    if (block <= 0 || n <= 0 || rows <= 0) return acc;
    if (n > LBRX_FUZZ_ROW_ELEMS) n = LBRX_FUZZ_ROW_ELEMS - LBRX_FUZZ_ROW_ELEMS % block;
    if (n <= 0) return acc;
    buf = (float *)malloc((size_t)n * sizeof(float));
    if (!buf) return acc;
    for (r = 0; r < rows && r < LBRX_FUZZ_ROWS; r++) {
        if (lbrx_dequantize_row(t->dtype, lbrx_tensor_row(t, r), buf, n) != LBRX_OK) break;
        for (i = 0; i < n; i++) acc += buf[i] != buf[i] ? 1u : (unsigned)(buf[i] > 0.0f);
    }
    /* the last row, through a view of the last outer slice (whole rows: rank >= 2) */
    if (t->ndim >= 2 && t->shape[0] > 0 && lbrx_tensor_slice_rows(t, t->shape[0] - 1, t->shape[0], &v, NULL) == LBRX_OK) {
        if (lbrx_dequantize_row(v.dtype, lbrx_tensor_row(&v, lbrx_tensor_nrows(&v) - 1), buf, n) == LBRX_OK)
            acc += (unsigned)(buf[n - 1] > 0.0f);
        lbrx_tensor_release(&v);
    }
    free(buf);
    return acc;
}

#endif
