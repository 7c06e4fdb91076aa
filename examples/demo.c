/* demo.c - lbrx in a few steps: make a tensor, quantize it to GGML's Q8_0, Q4_0 and Q4_1
   blocks, write each to a file, map the file back without copying, dequantize, and print the
   error and the sizes.
   Build: cc -O2 -march=native examples/demo.c -o build/demo -lm   (run from the repository root) */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include <stdio.h>
#include <math.h>

/* a weight-like matrix: smooth structure, noise, and a few outliers */
static void fill(float *w, int64_t rows, int64_t cols) {
    uint32_t state = 12345;
    int64_t r, c;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            float noise;
            state = state * 1664525u + 1013904223u;
            noise = (float)(state >> 8) / 16777216.0f - 0.5f;
            w[r * cols + c] = 0.05f * sinf(0.01f * (float)(r * 7 + c)) + 0.02f * noise + (c % 97 == 0 ? 0.3f : 0.0f);
        }
}

static int run(lbrx_dtype type, const lbrx_tensor *w) {
    char path[64];
    lbrx_tensor q, mapped, back;
    lbrx_storage *file;
    lbrx_error err;
    size_t qbytes, fbytes;
    int64_t i, n;
    double max_err = 0, sq = 0;
    FILE *f;
    /* quantize: a new contiguous tensor of GGML blocks */
    if (lbrx_tensor_convert(w, type, &q, NULL, &err) != LBRX_OK) { fprintf(stderr, "convert: %s\n", err.message); return 1; }
    lbrx_tensor_nbytes(&q, &qbytes);
    lbrx_tensor_nbytes(w, &fbytes);
    /* write the raw blocks */
    snprintf(path, sizeof path, "build/demo_%s.bin", lbrx_dtype_name(type));
    f = fopen(path, "wb");
    if (!f || fwrite(q.data, 1, qbytes, f) != qbytes || fclose(f) != 0) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    lbrx_tensor_release(&q);
    /* map the file and describe the same tensor on it: no copy */
    if (lbrx_storage_map_file(&file, path, NULL, &err) != LBRX_OK) { fprintf(stderr, "map: %s\n", err.message); return 1; }
    if (lbrx_tensor_init(&mapped, type, w->ndim, w->shape, file, 0, &err) != LBRX_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
    lbrx_storage_release(file);  /* the tensor holds its own reference */
    /* dequantize and compare */
    if (lbrx_tensor_convert(&mapped, LBRX_F32, &back, NULL, &err) != LBRX_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
    lbrx_tensor_nelements(w, &n);
    for (i = 0; i < n; i++) {
        double d = fabs((double)((const float *)w->data)[i] - ((const float *)back.data)[i]);
        if (d > max_err) max_err = d;
        sq += d * d;
    }
    printf("%-5s %9zu bytes  %5.2f bits/weight  %5.1fx smaller  max |err| %.6f  rms err %.6f  (%s)\n",
           lbrx_dtype_name(type), qbytes, 8.0 * (double)qbytes / (double)n, (double)fbytes / (double)qbytes,
           max_err, sqrt(sq / (double)n), path);
    lbrx_tensor_release(&back);
    lbrx_tensor_release(&mapped);
    return 0;
}

int main(void) {
    lbrx_tensor w;
    lbrx_error err;
    int64_t shape[2] = {256, 1024};
    size_t bytes;
    if (lbrx_tensor_alloc(&w, LBRX_F32, 2, shape, NULL, &err) != LBRX_OK) { fprintf(stderr, "%s\n", err.message); return 1; }
    fill((float *)w.data, shape[0], shape[1]);
    lbrx_tensor_nbytes(&w, &bytes);
    printf("lbrx %s demo: a %lld x %lld f32 tensor (%zu bytes) through GGML's block formats\n",
           LBRX_VERSION_STRING, (long long)shape[0], (long long)shape[1], bytes);
    if (run(LBRX_Q8_0, &w) || run(LBRX_Q4_1, &w) || run(LBRX_Q4_0, &w)) return 1;
    lbrx_tensor_release(&w);
    return 0;
}
