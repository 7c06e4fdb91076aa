/* cuda_device_kernels.cu - the GPU half of examples/cuda_device.c: dequantize GGML blocks
   (Q8_0, Q4_0: the layouts of lbrx.h, byte for byte) into f32 rows that cuBLAS multiplies.
   Built together with it by nvcc (see cuda_device.c). Only C-callable launchers are exported. */
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

/* The f16 scale at the start of a block, read byte by byte: blocks of 18 or 34 bytes at any
   offset of a mapped file need not be 2-byte aligned. */
__device__ static float block_scale(const unsigned char *b) {
    unsigned short h = (unsigned short)(b[0] | (b[1] << 8));
    return __half2float(__ushort_as_half(h));
}

/* One thread per element: a warp reads one block's 32 quants in one transaction, which also
   suits host memory read over PCIe (zero-copy). */
__global__ static void dequantize_q8_0(const unsigned char *blocks, float *out, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const unsigned char *b = blocks + (i >> 5) * 34;
    out[i] = block_scale(b) * (float)(signed char)b[2 + (i & 31)];
}

/* Q4_0: low nibbles hold elements 0..15, high nibbles 16..31. */
__global__ static void dequantize_q4_0(const unsigned char *blocks, float *out, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const unsigned char *b = blocks + (i >> 5) * 18;
    int j = (int)(i & 31);
    int q = j < 16 ? (b[2 + j] & 0x0F) : (b[2 + j - 16] >> 4);
    out[i] = block_scale(b) * (float)(q - 8);
}

/* Dequantize n elements (a multiple of 32) of `dtype` (8: Q8_0, 2: Q4_0, lbrx_dtype ids) from
   `blocks` (device memory, or registered host memory through its device pointer) into out. */
extern "C" cudaError_t cudadev_dequantize(int dtype, const void *blocks, float *out, int64_t n, cudaStream_t stream) {
    const int threads = 256;
    unsigned int grid = (unsigned int)((n + threads - 1) / threads);
    if (n <= 0) return cudaSuccess;
    if (dtype == 8) dequantize_q8_0<<<grid, threads, 0, stream>>>((const unsigned char *)blocks, out, n);
    else if (dtype == 2) dequantize_q4_0<<<grid, threads, 0, stream>>>((const unsigned char *)blocks, out, n);
    else return cudaErrorInvalidValue;
    return cudaGetLastError();
}
