/* lbrx.h - v0.1.0 - tensors, storage, block formats and kernels for ML models on CPUs.
   Public domain or MIT, your choice: see the end of this file.

   DO THIS in exactly one C or C++ file, before the #include:

       #define LBRX_IMPLEMENTATION     (or LBRX_IMPL to instantiate lbrx_gguf.h and
       #include "lbrx.h"                lbrx_safetensors.h in the same file as well)

   Every other file just includes the header.

   QUICK START

       lbrx_storage *s; lbrx_tensor w; lbrx_error err;
       if (lbrx_storage_map_file(&s, "weights.bin", NULL, &err) != LBRX_OK) {
           fprintf(stderr, "error: %s\n", err.message); return 1;
       }
       int64_t shape[2] = { 4096, 4096 };
       lbrx_tensor_init(&w, LBRX_F32, 2, shape, s, 0, &err);  // zero-copy view of the file
       float first = ((const float *)w.data)[0];
       lbrx_tensor_release(&w);                                 // the tensor held its own reference
       lbrx_storage_release(s);

   COMPILE-TIME OPTIONS (define before including the implementation)

       LBRX_STATIC          make every function static (private to one translation unit)
       LBRX_MAX_DIMS        maximum tensor rank (default 8)
       LBRX_MALLOC(sz) / LBRX_FREE(p)
                            replace malloc/free for the default allocator (define both or neither)
       LBRX_ASSERT(c)       check kernel arguments that are programmer errors (default assert)
       LBRX_NO_MMAP         read files into heap memory with read()/ReadFile instead of mapping them
       LBRX_NO_SIMD         use the portable scalar code only
       LBRX_NO_AVX2 / LBRX_NO_AVX512 / LBRX_NO_NEON / LBRX_NO_F16C
                            turn off one instruction set even where the compiler enables it
       _OPENMP              (set by -fopenmp) kernels run on the context's thread count;
                            without it everything is correct on one thread

   LIMITS AND SECURITY

       Files are untrusted: every size, count and offset read from a file is checked with
       overflow-safe arithmetic before it is used, and a bad file gives an lbrx_result, never an
       abort. Kernel arguments (shapes, pointers) are trusted programmer input, checked with
       LBRX_ASSERT where cheap. A mapped file that another process truncates while mapped raises
       SIGBUS on POSIX systems; copy untrusted files that others may modify (LBRX_NO_MMAP).

   THREAD SAFETY

       No global mutable state. Storage reference counts are atomic, so tensors sharing one
       storage may be used and released from several threads. A lbrx_context is used by one call
       at a time; give each host thread its own context.
*/
#ifndef LBRX_H
#define LBRX_H

/* The implementation needs POSIX (mmap, pread) even under -std=c99; this must come before the
   first system header, so include lbrx.h first in the file that defines the implementation. */
#if (defined(LBRX_IMPLEMENTATION) || defined(LBRX_IMPL)) && !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
/* 64-bit file offsets on 32-bit POSIX systems, so files past 2 GiB are seen (and refused with
   LBRX_ERR_LIMIT when they do not fit in the address space) rather than failing fstat. */
#if (defined(LBRX_IMPLEMENTATION) || defined(LBRX_IMPL)) && !defined(_WIN32) && !defined(_FILE_OFFSET_BITS)
#define _FILE_OFFSET_BITS 64
#endif
/* MinGW: C99 printf formats (%zu, %lld) in error messages instead of msvcrt's. */
#if (defined(LBRX_IMPLEMENTATION) || defined(LBRX_IMPL)) && defined(__MINGW32__) && !defined(__USE_MINGW_ANSI_STDIO)
#define __USE_MINGW_ANSI_STDIO 1
#endif

#define LBRX_VERSION_MAJOR 0
#define LBRX_VERSION_MINOR 1
#define LBRX_VERSION_PATCH 0
#define LBRX_VERSION_STRING "0.1.0"
/* Version of the quantized block formats; matches GGML's GGML_QNT_VERSION. */
#define LBRX_QNT_VERSION 2

#include <stddef.h>
#include <stdint.h>

#ifndef LBRX_MAX_DIMS
#define LBRX_MAX_DIMS 8
#endif

#ifdef LBRX_STATIC
#define LBRXDEF static
#else
#define LBRXDEF extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
   Results and errors
   ============================================================================================ */

typedef enum lbrx_result {
    LBRX_OK = 0,
    LBRX_ERR_INVALID_ARGUMENT,  /* a caller passed a bad argument (NULL, bad shape, bad range) */
    LBRX_ERR_OUT_OF_MEMORY,     /* an allocation failed */
    LBRX_ERR_IO,                /* the operating system refused to open, map or read a file */
    LBRX_ERR_NOT_FOUND,         /* no such file, tensor or key */
    LBRX_ERR_OVERFLOW,          /* a size computed from a shape or a file does not fit */
    LBRX_ERR_UNSUPPORTED,       /* valid but not supported here (dtype, version, feature) */
    LBRX_ERR_TRUNCATED,         /* the file ends inside a field */
    LBRX_ERR_BAD_MAGIC,         /* the file is not of the expected format */
    LBRX_ERR_BAD_VERSION,       /* unknown format version */
    LBRX_ERR_BIG_ENDIAN,        /* a big-endian file (only little-endian files are read) */
    LBRX_ERR_BAD_DTYPE,         /* unknown or invalid data type id or name */
    LBRX_ERR_BAD_SHAPE,         /* invalid rank or dimensions */
    LBRX_ERR_BAD_OFFSET,        /* tensor data out of the file, overlapping or with holes */
    LBRX_ERR_BAD_ALIGNMENT,     /* an alignment value or an offset that breaks it */
    LBRX_ERR_BAD_HEADER,        /* malformed header (JSON syntax, schema, UTF-8) */
    LBRX_ERR_BAD_VALUE,         /* an invalid metadata value, key or name */
    LBRX_ERR_DUPLICATE,         /* a key or tensor name appears twice */
    LBRX_ERR_TYPE_MISMATCH,     /* a typed getter asked for a value of another type */
    LBRX_ERR_SIZE_MISMATCH,     /* byte ranges do not match shapes and dtypes, or trailing bytes */
    LBRX_ERR_LIMIT,             /* a documented limit (LBRX_*_MAX macros) was exceeded */
    LBRX_RESULT_COUNT
} lbrx_result;

/* A short constant English description of a result code ("out of memory"). Never NULL. */
LBRXDEF const char *lbrx_result_str(lbrx_result r);

/* Optional detail for a failed call, owned by the caller. Every function that takes a
   lbrx_error * accepts NULL. On failure `message` holds one line naming what is wrong and where
   (field, tensor, file offset); `offset` holds the file offset concerned or UINT64_MAX. On
   success the struct is left untouched. */
typedef struct lbrx_error {
    lbrx_result result;
    uint64_t offset;
    char message[256];
} lbrx_error;

/* ============================================================================================
   Data types (ids are GGML's ggml_type ids; safetensors-only types above GGML's range)
   ============================================================================================ */

typedef enum lbrx_dtype {
    LBRX_F32 = 0, LBRX_F16 = 1, LBRX_Q4_0 = 2, LBRX_Q4_1 = 3,
    LBRX_Q5_0 = 6, LBRX_Q5_1 = 7, LBRX_Q8_0 = 8, LBRX_Q8_1 = 9,
    LBRX_Q2_K = 10, LBRX_Q3_K = 11, LBRX_Q4_K = 12, LBRX_Q5_K = 13, LBRX_Q6_K = 14, LBRX_Q8_K = 15,
    LBRX_IQ2_XXS = 16, LBRX_IQ2_XS = 17, LBRX_IQ3_XXS = 18, LBRX_IQ1_S = 19, LBRX_IQ4_NL = 20,
    LBRX_IQ3_S = 21, LBRX_IQ2_S = 22, LBRX_IQ4_XS = 23,
    LBRX_I8 = 24, LBRX_I16 = 25, LBRX_I32 = 26, LBRX_I64 = 27, LBRX_F64 = 28, LBRX_IQ1_M = 29,
    LBRX_BF16 = 30, LBRX_TQ1_0 = 34, LBRX_TQ2_0 = 35, LBRX_MXFP4 = 39,
    LBRX_GGML_TYPE_COUNT = 40,  /* ids below this are GGML's */
    LBRX_U8 = 64, LBRX_U16 = 65, LBRX_U32 = 66, LBRX_U64 = 67, LBRX_BOOL = 68,
    LBRX_F8_E4M3 = 69, LBRX_F8_E5M2 = 70,
    LBRX_DTYPE_COUNT = 71
} lbrx_dtype;

/* 1 if `id` names a dtype lbrx knows (table entry with a non-zero block size). */
LBRXDEF int lbrx_dtype_valid(int id);
/* Name as GGML prints it ("f32", "q4_0", "bf16"; "u8", "bool", "f8_e4m3"), "invalid" if unknown. */
LBRXDEF const char *lbrx_dtype_name(lbrx_dtype t);
/* Elements per block (1 for plain types, 32 for Q4_0, 256 for K-quants); 0 if unknown. */
LBRXDEF int64_t lbrx_dtype_block_size(lbrx_dtype t);
/* Bytes per block (4 for F32, 18 for Q4_0); 0 if unknown. */
LBRXDEF size_t lbrx_dtype_block_bytes(lbrx_dtype t);
/* 1 for block-quantized types (block size > 1). */
LBRXDEF int lbrx_dtype_is_quantized(lbrx_dtype t);
/* Bytes of a row of n elements into *out. Fails (LBRX_ERR_BAD_SHAPE) when n is negative or not a
   multiple of the block size, LBRX_ERR_OVERFLOW when it does not fit in size_t. */
LBRXDEF lbrx_result lbrx_row_bytes(lbrx_dtype t, int64_t n, size_t *out);

/* ============================================================================================
   Allocation
   ============================================================================================ */

/* A run-time allocator. `alignment` is a power of two (lbrx asks for 64 for SIMD buffers).
   A zeroed struct (or NULL where one is taken) means the default: LBRX_MALLOC/LBRX_FREE. */
typedef struct lbrx_allocator {
    void *(*alloc)(size_t size, size_t alignment, void *user);
    void (*free)(void *ptr, void *user);
    void *user;
} lbrx_allocator;

LBRXDEF void *lbrx_alloc(const lbrx_allocator *a, size_t size, size_t alignment);
LBRXDEF void lbrx_free(const lbrx_allocator *a, void *ptr);

/* Checked size arithmetic: return 0 and leave *out untouched on overflow, 1 on success. */
LBRXDEF int lbrx_mul_size(size_t a, size_t b, size_t *out);
LBRXDEF int lbrx_add_size(size_t a, size_t b, size_t *out);
LBRXDEF int lbrx_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
LBRXDEF int lbrx_add_u64(uint64_t a, uint64_t b, uint64_t *out);

/* ============================================================================================
   Storage: reference-counted bytes (aligned heap, read-only file map, external memory)
   ============================================================================================ */

typedef enum lbrx_storage_kind {
    LBRX_STORAGE_HEAP = 0,      /* aligned heap memory from an allocator, writable */
    LBRX_STORAGE_MMAP = 1,      /* a read-only map of a file (or, under LBRX_NO_MMAP, its copy) */
    LBRX_STORAGE_EXTERNAL = 2   /* memory owned by someone else, released by a callback */
} lbrx_storage_kind;

typedef struct lbrx_storage lbrx_storage;

/* Release callback of external storage: called once, when the last reference goes. */
typedef void (*lbrx_release_fn)(void *ptr, size_t size, void *user);

/* New heap storage of `size` bytes (zeroed), aligned to `alignment` (0 means 64). The caller
   owns one reference. Thread safety: all storage functions may be called from any thread. */
LBRXDEF lbrx_result lbrx_storage_alloc(lbrx_storage **out, size_t size, size_t alignment,
                                       const lbrx_allocator *allocator, lbrx_error *err);

/* Map a file read-only (mmap / MapViewOfFile). Paths are UTF-8 on every system. An empty file
   maps to a storage of size 0 with a non-NULL data pointer. A directory, a missing file or a file
   larger than the address space gives LBRX_ERR_IO / LBRX_ERR_NOT_FOUND / LBRX_ERR_LIMIT. */
LBRXDEF lbrx_result lbrx_storage_map_file(lbrx_storage **out, const char *path,
                                          const lbrx_allocator *allocator, lbrx_error *err);

/* Wrap memory the caller owns (an arena, a GPU buffer on unified memory, a MTLBuffer's
   contents). `release` (may be NULL) is called with (ptr, size, user) when the last reference
   goes. `writable` says whether kernels may write through tensors on it. */
LBRXDEF lbrx_result lbrx_storage_wrap(lbrx_storage **out, void *ptr, size_t size, int writable,
                                      lbrx_release_fn release, void *user,
                                      const lbrx_allocator *allocator, lbrx_error *err);

LBRXDEF void lbrx_storage_retain(lbrx_storage *s);
/* Drop one reference; the last one unmaps / frees / calls the release callback. NULL is ok. */
LBRXDEF void lbrx_storage_release(lbrx_storage *s);
LBRXDEF lbrx_storage_kind lbrx_storage_get_kind(const lbrx_storage *s);
LBRXDEF void *lbrx_storage_data(const lbrx_storage *s);
LBRXDEF size_t lbrx_storage_size(const lbrx_storage *s);
LBRXDEF int lbrx_storage_writable(const lbrx_storage *s);
/* Pointer to bytes [offset, offset+length) of the storage, or NULL if the range is not inside
   it (checked without overflow). The way to read a file's bytes safely. */
LBRXDEF const void *lbrx_storage_at(const lbrx_storage *s, uint64_t offset, uint64_t length);
/* Hint that [offset, offset+length) will be read soon (madvise WILLNEED /
   PrefetchVirtualMemory). Does nothing for heap storage or out-of-range requests. */
LBRXDEF void lbrx_storage_prefetch(const lbrx_storage *s, uint64_t offset, uint64_t length);
/* The largest power of two (up to 4096) that divides the address p. */
LBRXDEF size_t lbrx_pointer_alignment(const void *p);
/* The system's page size (allocation granularity of mappings). */
LBRXDEF size_t lbrx_page_size(void);

/* ============================================================================================
   Tensors and views
   ============================================================================================ */

/* A tensor is a small value: copy the struct freely, but each copy that owns a storage reference
   must be released once (lbrx_tensor_release). shape[] is outermost-first (numpy order): shape[ndim-1]
   is the contiguous row. stride[] is in bytes; for block dtypes the last dimension is contiguous
   blocks and stride[ndim-1] is the bytes of one block divided by the block size only
   notionally, so it is set to 0 and must not be used. A rank-0 tensor has one element. */
typedef struct lbrx_tensor {
    lbrx_dtype dtype;
    int ndim;
    int64_t shape[LBRX_MAX_DIMS];
    int64_t stride[LBRX_MAX_DIMS];
    void *data;               /* first element; any alignment unless the storage is lbrx's heap */
    lbrx_storage *storage;    /* owning reference, or NULL for a tensor over borrowed memory */
    const char *name;         /* NUL-terminated, not owned (the file or caller keeps it); may be NULL */
} lbrx_tensor;

/* Describe a contiguous tensor at byte `offset` of `storage`, taking a new reference to it.
   Checks that the element count and byte size fit and that the bytes lie inside the storage. */
LBRXDEF lbrx_result lbrx_tensor_init(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                     lbrx_storage *storage, uint64_t offset, lbrx_error *err);
/* Allocate a contiguous tensor on new heap storage (zeroed, 64-byte aligned). */
LBRXDEF lbrx_result lbrx_tensor_alloc(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                      const lbrx_allocator *allocator, lbrx_error *err);
/* Describe a contiguous tensor over memory the caller keeps alive (storage NULL, no reference). */
LBRXDEF lbrx_result lbrx_tensor_from_ptr(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                         void *data, lbrx_error *err);
/* Drop the storage reference and clear the struct. Safe on a zeroed or released tensor. */
LBRXDEF void lbrx_tensor_release(lbrx_tensor *t);

/* Elements (product of the shape; 1 for rank 0) into *out; LBRX_ERR_OVERFLOW past INT64_MAX. */
LBRXDEF lbrx_result lbrx_tensor_nelements(const lbrx_tensor *t, int64_t *out);
/* Bytes of the contiguous layout of the tensor's shape and dtype. */
LBRXDEF lbrx_result lbrx_tensor_nbytes(const lbrx_tensor *t, size_t *out);
/* Rows (product of all dimensions but the last; 1 for rank 0 and 1). */
LBRXDEF int64_t lbrx_tensor_nrows(const lbrx_tensor *t);
/* 1 if the tensor is laid out contiguously (row-major, no gaps). */
LBRXDEF int lbrx_tensor_is_contiguous(const lbrx_tensor *t);
/* Pointer to row `r` (rows counted over all dimensions but the last, in row-major order). */
LBRXDEF void *lbrx_tensor_row(const lbrx_tensor *t, int64_t r);
/* The largest power of two dividing the data pointer and every stride (at most 4096). SIMD
   code never needs this to be large; it tells callers whether a zero-copy pointer is aligned. */
LBRXDEF size_t lbrx_tensor_alignment(const lbrx_tensor *t);

/* Views share storage (a new reference) and never copy. `out` may equal `t` only if the
   caller releases nothing twice: out receives its own reference. */
/* Elements [begin, end) of dimension `dim`. Block dtypes slice the last dimension on block
   boundaries only. */
LBRXDEF lbrx_result lbrx_tensor_slice(const lbrx_tensor *t, int dim, int64_t begin, int64_t end,
                                      lbrx_tensor *out, lbrx_error *err);
/* Rows [begin, end) of the outermost dimension (lbrx_tensor_slice of dim 0). */
LBRXDEF lbrx_result lbrx_tensor_rows(const lbrx_tensor *t, int64_t begin, int64_t end,
                                     lbrx_tensor *out, lbrx_error *err);
/* A contiguous tensor seen with another shape of the same element count. One dimension may be
   -1 (inferred). Non-contiguous input is LBRX_ERR_INVALID_ARGUMENT. */
LBRXDEF lbrx_result lbrx_tensor_reshape(const lbrx_tensor *t, int ndim, const int64_t *shape,
                                        lbrx_tensor *out, lbrx_error *err);

/* The page-aligned host region covering a tensor's bytes, for GPU APIs that wrap host memory
   without copying (Metal newBufferWithBytesNoCopy, cudaHostRegister). *base is rounded down and
   *size up to the page size; *offset is where the tensor's data starts inside the region. The
   region may extend past the storage into memory of the same mapping's pages only. */
LBRXDEF lbrx_result lbrx_tensor_host_region(const lbrx_tensor *t, void **base, size_t *size,
                                            size_t *offset, lbrx_error *err);

/* ============================================================================================
   f16 and bf16
   ============================================================================================ */

/* Exact conversions: subnormals, infinities and NaN kept; f32 -> f16/bf16 rounds to nearest
   even (NaN stays a quiet NaN). Rows accept unaligned pointers. */
LBRXDEF float lbrx_f16_to_f32(uint16_t h);
LBRXDEF uint16_t lbrx_f32_to_f16(float f);
LBRXDEF float lbrx_bf16_to_f32(uint16_t h);
LBRXDEF uint16_t lbrx_f32_to_bf16(float f);
LBRXDEF void lbrx_f16_to_f32_row(const void *src, float *dst, size_t n);
LBRXDEF void lbrx_f32_to_f16_row(const float *src, void *dst, size_t n);
LBRXDEF void lbrx_bf16_to_f32_row(const void *src, float *dst, size_t n);
LBRXDEF void lbrx_f32_to_bf16_row(const float *src, void *dst, size_t n);

/* ============================================================================================
   Block formats (GGML's, byte for byte)
   ============================================================================================ */

/* Quantize n floats (n a multiple of the block size) into blocks of Q8_0, Q4_0, Q4_1 or Q8_1,
   producing the same bytes as GGML's reference quantizers. */
LBRXDEF void lbrx_quantize_row_q8_0(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q4_0(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q4_1(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q8_1(const float *src, void *dst, int64_t n);
/* Any float or block type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q8_1) from f32. Unaligned dst ok. */
LBRXDEF lbrx_result lbrx_quantize_row(lbrx_dtype t, const float *src, void *dst, int64_t n);
/* Any readable type to f32: F32, F16, BF16, F64, the integer types, Q4_0, Q4_1, Q5_0, Q5_1,
   Q8_0, Q8_1, Q2_K..Q6_K, Q8_K. Same floats as GGML's dequantizers. Unaligned src ok.
   LBRX_ERR_UNSUPPORTED for types with no dequantizer (IQ*, TQ*, F8_*). */
LBRXDEF lbrx_result lbrx_dequantize_row(lbrx_dtype t, const void *src, float *dst, int64_t n);
/* Convert a whole tensor (any layout) into a new contiguous tensor of dtype `to` on the heap. */
LBRXDEF lbrx_result lbrx_tensor_convert(const lbrx_tensor *src, lbrx_dtype to, lbrx_tensor *out,
                                        const lbrx_allocator *allocator, lbrx_error *err);

/* ============================================================================================
   Context: thread count and scratch memory
   ============================================================================================ */

typedef struct lbrx_context_desc {
    int n_threads;             /* 0: all processors (omp_get_max_threads), 1 without OpenMP */
    size_t scratch_bytes;      /* initial scratch size (grows on demand); 0: 1 MiB */
    lbrx_allocator allocator;  /* zeroed: default allocator */
} lbrx_context_desc;

typedef struct lbrx_context lbrx_context;

/* desc may be NULL (defaults). Thread safety: a context is used by one call at a time. */
LBRXDEF lbrx_result lbrx_context_create(lbrx_context **out, const lbrx_context_desc *desc, lbrx_error *err);
LBRXDEF void lbrx_context_destroy(lbrx_context *ctx);
LBRXDEF int lbrx_context_threads(const lbrx_context *ctx);
LBRXDEF void lbrx_context_set_threads(lbrx_context *ctx, int n_threads);
/* 64-byte-aligned scratch of at least `bytes`, valid until the next call that asks for scratch.
   Grows (one allocation) when too small; NULL when that allocation fails. */
LBRXDEF void *lbrx_context_scratch(lbrx_context *ctx, size_t bytes);

/* ==== matmul (API) ========================================================================== */

/* ==== end matmul (API) ====================================================================== */

/* ==== ops and attention (API) =============================================================== */

/* The transformer ops. Conventions shared by all of them:
   - Activations are f32 tensors whose last dimension is contiguous; the other dimensions may
     have any byte strides (views are fine). "Rows" are all dimensions but the last.
   - `out` is written, never allocated: it has the shape the op documents (usually the input's)
     and may be the input itself (every op works in place).
   - ctx gives the thread count (NULL: one thread) and scratch memory. Results are bit-identical
     for every thread count. A context is used by one call at a time.
   - Errors: LBRX_ERR_INVALID_ARGUMENT (NULL pointer, bad parameter), LBRX_ERR_BAD_DTYPE (a dtype
     the op does not take), LBRX_ERR_BAD_SHAPE (shapes that do not fit), LBRX_ERR_OUT_OF_MEMORY
     (scratch); the message in *err names the tensor. */

/* RMSNorm over each row: out = x / sqrt(mean(x^2) + eps) * weight. weight: [n] of f32, f16 or
   bf16, or NULL for none (Gemma's (1 + w) is the caller's business). eps > 0 (e.g. 1e-5). */
LBRXDEF lbrx_result lbrx_rms_norm(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_tensor *weight,
                                  float eps, lbrx_tensor *out, lbrx_error *err);
/* LayerNorm over each row: out = (x - mean) / sqrt(var + eps) * weight + bias (biased variance,
   as PyTorch). weight and bias: [n] of f32, f16 or bf16, each may be NULL. */
LBRXDEF lbrx_result lbrx_layer_norm(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_tensor *weight,
                                    const lbrx_tensor *bias, float eps, lbrx_tensor *out, lbrx_error *err);

/* Rotary position embedding (RoPE). Pairs of dimensions (a, b) of each head rotate by the angle
   theta_i = pos * freq_scale * freq_base^(-2i / n_dims), i = 0 .. n_dims/2 - 1:
       a' = a cos(theta_i) - b sin(theta_i),   b' = a sin(theta_i) + b cos(theta_i).
   LBRX_ROPE_INTERLEAVED pairs (2i, 2i+1): GGML's mode 0, what GGUF llama models use (their Q and
   K weights are permuted for it). LBRX_ROPE_NEOX pairs (i, i + n_dims/2): GGML's NeoX mode, what
   HF checkpoints (rotate_half) use. Dimensions from n_dims on pass through unchanged. */
typedef enum lbrx_rope_mode {
    LBRX_ROPE_INTERLEAVED = 0,
    LBRX_ROPE_NEOX = 1
} lbrx_rope_mode;

/* Zeroed fields mean the defaults. */
typedef struct lbrx_rope_desc {
    lbrx_rope_mode mode;        /* default LBRX_ROPE_INTERLEAVED */
    int64_t n_dims;             /* rotated dimensions at the start of each head, even; 0: head_dim */
    float freq_base;            /* 0: 10000 */
    float freq_scale;           /* positions are multiplied by it (linear RoPE scaling); 0: 1 */
    int64_t pos_offset;         /* position of token t is pos_offset + t ... */
    const int32_t *positions;   /* ... unless this array of n_tokens positions is given */
} lbrx_rope_desc;

/* Rotate x: [n_tokens, n_head, head_dim] (or [n_tokens, head_dim]) of f32, into out (same shape;
   may be x). desc may be NULL (defaults). Angles are computed in double precision. */
LBRXDEF lbrx_result lbrx_rope(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_rope_desc *desc,
                              lbrx_tensor *out, lbrx_error *err);

/* Elementwise activations, out = f(x), same shape (may be x). */
/* SiLU (swish): x / (1 + exp(-x)). */
LBRXDEF lbrx_result lbrx_silu(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err);
/* GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). GGML's gelu, HF's
   "gelu_new" / "gelu_pytorch_tanh". */
LBRXDEF lbrx_result lbrx_gelu(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err);
/* GELU, exact: 0.5 x (1 + erf(x / sqrt(2))). PyTorch's default, HF's "gelu". */
LBRXDEF lbrx_result lbrx_gelu_erf(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err);
/* SwiGLU: out = silu(gate) * up; gate, up and out of one shape (out may be either input). */
LBRXDEF lbrx_result lbrx_swiglu(lbrx_context *ctx, const lbrx_tensor *gate, const lbrx_tensor *up,
                                lbrx_tensor *out, lbrx_error *err);
/* Softmax over each row, with the row maximum subtracted first (no overflow for any finite
   input; -INFINITY entries get 0; a row of only -INFINITY gives zeros). */
LBRXDEF lbrx_result lbrx_softmax(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err);

/* out = a + b and out = a * b with numpy broadcasting: shapes align at the last dimension, and
   each dimension of a and b equals out's or is 1 (a missing leading dimension counts as 1). out has
   the broadcast shape exactly; it may be a or b when that one already has out's shape. */
LBRXDEF lbrx_result lbrx_add(lbrx_context *ctx, const lbrx_tensor *a, const lbrx_tensor *b, lbrx_tensor *out,
                             lbrx_error *err);
LBRXDEF lbrx_result lbrx_mul(lbrx_context *ctx, const lbrx_tensor *a, const lbrx_tensor *b, lbrx_tensor *out,
                             lbrx_error *err);

/* Embedding lookup: out[t, :] = weight[ids[t], :] as f32, for t < n_ids. weight: [vocab, dim] of
   any dtype lbrx_dequantize_row reads (f32, f16, bf16, Q8_0, Q4_0, K-quants ...); out: [n_ids, dim]
   f32. An id outside [0, vocab) is LBRX_ERR_INVALID_ARGUMENT naming the id and its index. */
LBRXDEF lbrx_result lbrx_embedding(lbrx_context *ctx, const lbrx_tensor *weight, const int32_t *ids,
                                   int64_t n_ids, lbrx_tensor *out, lbrx_error *err);

/* Fused attention: out = softmax(q k^T * scale + mask) v for every query head, in one pass over K
   and V with online softmax (no n_q x n_kv score matrix; scratch is O(head_dim) per query row of a
   tile).
     q:   [n_q, n_head, head_dim] f32
     k,v: [n_kv, n_kv_head, head_dim] f32 or f16 (the KV cache; both of one dtype). n_head is a
          multiple of n_kv_head: query head h reads KV head h / (n_head / n_kv_head) (GQA/MQA).
     out: [n_q, n_head, head_dim] f32 (must not overlap q, k or v).
   head_dim: any multiple of 8 up to 512 (64, 80, 96, 128, 256 ...). Query i sits at position
   n_kv - n_q + i (the new tokens are the last n_q of the cache); key j at position j. A query
   row that sees no key at all (everything masked) gets zeros. Thread safety: ctx is used by one
   call at a time; results are bit-identical for every thread count. */
typedef struct lbrx_attention_desc {
    float scale;                /* multiplies q.k; 0: 1/sqrt(head_dim) */
    int causal;                 /* nonzero: query at position p sees keys j <= p */
    int64_t window;             /* > 0: sliding window, query at p sees keys j > p - window only
                                   (window keys including its own position); 0: no window */
    const lbrx_tensor *mask;    /* optional additive f32 mask [n_q, n_kv] (or [1 or n_head, n_q,
                                   n_kv]), added after scaling; -INFINITY hides a key */
} lbrx_attention_desc;

/* desc may be NULL (all defaults: no causal mask, no window, no mask, scale 1/sqrt(head_dim)). */
LBRXDEF lbrx_result lbrx_attention(lbrx_context *ctx, const lbrx_tensor *q, const lbrx_tensor *k,
                                   const lbrx_tensor *v, const lbrx_attention_desc *desc, lbrx_tensor *out,
                                   lbrx_error *err);

/* A KV cache: two tensors [capacity, n_kv_head, head_dim] of f16 or f32 and the number of
   positions filled. The views of rows [0, n) are what lbrx_attention takes as k and v. */
typedef struct lbrx_kv_cache {
    lbrx_tensor k, v;           /* owned references (lbrx_kv_cache_release drops them) */
    int64_t n;                  /* positions filled; set it lower to roll back */
} lbrx_kv_cache;

/* Allocate an empty cache (zeroed memory, n = 0). dtype: LBRX_F16 or LBRX_F32. A caller may
   instead fill the struct itself with tensors over preallocated memory of that shape. */
LBRXDEF lbrx_result lbrx_kv_cache_init(lbrx_kv_cache *c, lbrx_dtype dtype, int64_t capacity, int64_t n_kv_head,
                                       int64_t head_dim, const lbrx_allocator *allocator, lbrx_error *err);
/* Drop the cache's tensors and clear the struct. NULL or zeroed is ok. */
LBRXDEF void lbrx_kv_cache_release(lbrx_kv_cache *c);
/* Append k and v: [n_new, n_kv_head, head_dim] f32 (any row strides) at positions [n, n + n_new),
   converting to the cache's dtype (f16 rounds to nearest even), then n += n_new. Past the
   capacity it is LBRX_ERR_LIMIT and nothing is written. */
LBRXDEF lbrx_result lbrx_kv_cache_append(lbrx_kv_cache *c, const lbrx_tensor *k, const lbrx_tensor *v,
                                         lbrx_error *err);
/* Views of rows [0, n) of the cache (each with its own storage reference; release them). */
LBRXDEF lbrx_result lbrx_kv_cache_view(const lbrx_kv_cache *c, lbrx_tensor *k, lbrx_tensor *v, lbrx_error *err);

/* ==== end ops and attention (API) =========================================================== */

/* ==== device interface (API) ================================================================ */

/* ==== end device interface (API) ============================================================ */

/* Private helpers shared with lbrx_gguf.h and lbrx_safetensors.h; not part of the API. */
/* Fill *err (if not NULL) with r, offset (UINT64_MAX: none) and a printf-style message; return r. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 4, 5)))
#elif defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
LBRXDEF lbrx_result lbrx__errorf(lbrx_error *err, lbrx_result r, uint64_t offset, const char *fmt, ...);
/* Check a shape against a dtype (rank, sign, block multiple, overflow); optionally return the
   contiguous byte strides and the byte size. */
LBRXDEF lbrx_result lbrx__shape_layout(lbrx_dtype dtype, int ndim, const int64_t *shape, int64_t *stride,
                                       size_t *nbytes, lbrx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LBRX_H */

/* ############################################################################################
   Implementation below. Stop here if you only want the API.
   ############################################################################################ */

#if defined(LBRX_IMPL) && !defined(LBRX_IMPLEMENTATION)
#define LBRX_IMPLEMENTATION
#endif

#if defined(LBRX_IMPLEMENTATION) && !defined(LBRX__IMPLEMENTATION_DONE)
#define LBRX__IMPLEMENTATION_DONE

#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <math.h>

#ifndef LBRX_ASSERT
#include <assert.h>
#define LBRX_ASSERT(c) assert(c)
#endif

#if defined(LBRX_MALLOC) && defined(LBRX_FREE)
#elif !defined(LBRX_MALLOC) && !defined(LBRX_FREE)
#define LBRX_MALLOC(sz) malloc(sz)
#define LBRX_FREE(p) free(p)
#else
#error "lbrx: define both LBRX_MALLOC and LBRX_FREE, or neither"
#endif

#ifdef LBRX_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define LBRX__PRIVATE static __attribute__((unused))
#else
#define LBRX__PRIVATE static
#endif
#else
#define LBRX__PRIVATE static
#endif

/* ---- instruction sets, chosen at compile time ---- */
#if !defined(LBRX_NO_SIMD)
#if defined(__AVX2__) && defined(__FMA__) && !defined(LBRX_NO_AVX2)
#define LBRX__AVX2 1
#endif
#if defined(__F16C__) && !defined(LBRX_NO_F16C)
#define LBRX__F16C 1
#endif
#if defined(LBRX__AVX2) && defined(__AVX512F__) && defined(__AVX512BW__) && !defined(LBRX_NO_AVX512)
#define LBRX__AVX512 1
#if defined(__AVX512VNNI__)
#define LBRX__AVX512VNNI 1
#endif
#endif
#if (defined(__ARM_NEON) || defined(__ARM_NEON__)) && defined(__aarch64__) && !defined(LBRX_NO_NEON)
#define LBRX__NEON 1
#if defined(__ARM_FEATURE_DOTPROD)
#define LBRX__NEON_DOTPROD 1
#endif
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC) || defined(__ARM_FP16_FORMAT_IEEE)
#define LBRX__NEON_FP16 1
#endif
#endif
#endif
#if defined(LBRX__AVX2) || defined(LBRX__F16C)
#include <immintrin.h>
#endif
#if defined(LBRX__NEON)
#include <arm_neon.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#if !defined(LBRX_NO_MMAP)
#include <sys/mman.h>
#endif
#endif

/* ============================================================================================
   Results and errors
   ============================================================================================ */

LBRXDEF const char *lbrx_result_str(lbrx_result r) {
    switch (r) {
    case LBRX_OK: return "ok";
    case LBRX_ERR_INVALID_ARGUMENT: return "invalid argument";
    case LBRX_ERR_OUT_OF_MEMORY: return "out of memory";
    case LBRX_ERR_IO: return "input/output error";
    case LBRX_ERR_NOT_FOUND: return "not found";
    case LBRX_ERR_OVERFLOW: return "size overflow";
    case LBRX_ERR_UNSUPPORTED: return "unsupported";
    case LBRX_ERR_TRUNCATED: return "truncated file";
    case LBRX_ERR_BAD_MAGIC: return "bad magic (not this file format)";
    case LBRX_ERR_BAD_VERSION: return "unsupported format version";
    case LBRX_ERR_BIG_ENDIAN: return "big-endian file";
    case LBRX_ERR_BAD_DTYPE: return "invalid data type";
    case LBRX_ERR_BAD_SHAPE: return "invalid shape";
    case LBRX_ERR_BAD_OFFSET: return "invalid data offset";
    case LBRX_ERR_BAD_ALIGNMENT: return "invalid alignment";
    case LBRX_ERR_BAD_HEADER: return "malformed header";
    case LBRX_ERR_BAD_VALUE: return "invalid value";
    case LBRX_ERR_DUPLICATE: return "duplicate key or name";
    case LBRX_ERR_TYPE_MISMATCH: return "type mismatch";
    case LBRX_ERR_SIZE_MISMATCH: return "size mismatch";
    case LBRX_ERR_LIMIT: return "limit exceeded";
    default: return "unknown result";
    }
}

LBRXDEF lbrx_result lbrx__errorf(lbrx_error *err, lbrx_result r, uint64_t offset, const char *fmt, ...) {
    if (err) {
        va_list ap;
        size_t n;
        err->result = r;
        err->offset = offset;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        n = strlen(err->message);
        if (offset != UINT64_MAX && n + 1 < sizeof err->message)
            snprintf(err->message + n, sizeof err->message - n, " (file offset %llu)",
                     (unsigned long long)offset);
    }
    return r;
}
#define LBRX__NO_OFFSET UINT64_MAX

/* ============================================================================================
   Data types
   ============================================================================================ */

typedef struct lbrx__dtype_info { const char *name; int64_t block; size_t bytes; } lbrx__dtype_info;

LBRX__PRIVATE const lbrx__dtype_info *lbrx__dtype_info_of(int id) {
    static const lbrx__dtype_info ggml[LBRX_GGML_TYPE_COUNT] = {
        {"f32", 1, 4}, {"f16", 1, 2}, {"q4_0", 32, 18}, {"q4_1", 32, 20}, {0, 0, 0}, {0, 0, 0},
        {"q5_0", 32, 22}, {"q5_1", 32, 24}, {"q8_0", 32, 34}, {"q8_1", 32, 36},
        {"q2_K", 256, 84}, {"q3_K", 256, 110}, {"q4_K", 256, 144}, {"q5_K", 256, 176},
        {"q6_K", 256, 210}, {"q8_K", 256, 292}, {"iq2_xxs", 256, 66}, {"iq2_xs", 256, 74},
        {"iq3_xxs", 256, 98}, {"iq1_s", 256, 50}, {"iq4_nl", 32, 18}, {"iq3_s", 256, 110},
        {"iq2_s", 256, 82}, {"iq4_xs", 256, 136}, {"i8", 1, 1}, {"i16", 1, 2}, {"i32", 1, 4},
        {"i64", 1, 8}, {"f64", 1, 8}, {"iq1_m", 256, 56}, {"bf16", 1, 2}, {0, 0, 0}, {0, 0, 0},
        {0, 0, 0}, {"tq1_0", 256, 54}, {"tq2_0", 256, 66}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0},
        {"mxfp4", 32, 17}};
    static const lbrx__dtype_info extra[LBRX_DTYPE_COUNT - LBRX_U8] = {
        {"u8", 1, 1}, {"u16", 1, 2}, {"u32", 1, 4}, {"u64", 1, 8}, {"bool", 1, 1},
        {"f8_e4m3", 1, 1}, {"f8_e5m2", 1, 1}};
    const lbrx__dtype_info *d = 0;
    if (id >= 0 && id < LBRX_GGML_TYPE_COUNT) d = &ggml[id];
    else if (id >= LBRX_U8 && id < LBRX_DTYPE_COUNT) d = &extra[id - LBRX_U8];
    return (d && d->block > 0) ? d : 0;
}

LBRXDEF int lbrx_dtype_valid(int id) { return lbrx__dtype_info_of(id) != 0; }
LBRXDEF const char *lbrx_dtype_name(lbrx_dtype t) {
    const lbrx__dtype_info *d = lbrx__dtype_info_of((int)t);
    return d ? d->name : "invalid";
}
LBRXDEF int64_t lbrx_dtype_block_size(lbrx_dtype t) {
    const lbrx__dtype_info *d = lbrx__dtype_info_of((int)t);
    return d ? d->block : 0;
}
LBRXDEF size_t lbrx_dtype_block_bytes(lbrx_dtype t) {
    const lbrx__dtype_info *d = lbrx__dtype_info_of((int)t);
    return d ? d->bytes : 0;
}
LBRXDEF int lbrx_dtype_is_quantized(lbrx_dtype t) { return lbrx_dtype_block_size(t) > 1; }

LBRXDEF lbrx_result lbrx_row_bytes(lbrx_dtype t, int64_t n, size_t *out) {
    const lbrx__dtype_info *d = lbrx__dtype_info_of((int)t);
    size_t r;
    if (!d) return LBRX_ERR_BAD_DTYPE;
    if (n < 0 || n % d->block != 0) return LBRX_ERR_BAD_SHAPE;
    if ((uint64_t)(n / d->block) > (uint64_t)SIZE_MAX) return LBRX_ERR_OVERFLOW;
    if (!lbrx_mul_size((size_t)(n / d->block), d->bytes, &r)) return LBRX_ERR_OVERFLOW;
    *out = r;
    return LBRX_OK;
}

/* ============================================================================================
   Allocation and checked arithmetic
   ============================================================================================ */

LBRXDEF int lbrx_mul_size(size_t a, size_t b, size_t *out) {
    if (b != 0 && a > SIZE_MAX / b) return 0;
    *out = a * b;
    return 1;
}
LBRXDEF int lbrx_add_size(size_t a, size_t b, size_t *out) {
    if (a > SIZE_MAX - b) return 0;
    *out = a + b;
    return 1;
}
LBRXDEF int lbrx_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (b != 0 && a > UINT64_MAX / b) return 0;
    *out = a * b;
    return 1;
}
LBRXDEF int lbrx_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (a > UINT64_MAX - b) return 0;
    *out = a + b;
    return 1;
}

/* The default allocator over-allocates from LBRX_MALLOC and stores the original pointer just
   before the aligned block. */
LBRX__PRIVATE void *lbrx__default_alloc(size_t size, size_t alignment) {
    size_t total;
    unsigned char *raw, *p;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (!lbrx_add_size(size, alignment + sizeof(void *), &total)) return 0;
    raw = (unsigned char *)LBRX_MALLOC(total);
    if (!raw) return 0;
    p = raw + sizeof(void *);
    p += (alignment - (size_t)((uintptr_t)p & (alignment - 1))) & (alignment - 1);
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}
LBRX__PRIVATE void lbrx__default_free(void *ptr) {
    void *raw;
    if (!ptr) return;
    memcpy(&raw, (unsigned char *)ptr - sizeof(void *), sizeof raw);
    LBRX_FREE(raw);
}

LBRXDEF void *lbrx_alloc(const lbrx_allocator *a, size_t size, size_t alignment) {
    if (alignment == 0) alignment = 64;
    if (alignment & (alignment - 1)) return 0;
    if (size == 0) size = 1;
    if (a && a->alloc) return a->alloc(size, alignment, a->user);
    return lbrx__default_alloc(size, alignment);
}
LBRXDEF void lbrx_free(const lbrx_allocator *a, void *ptr) {
    if (!ptr) return;
    if (a && a->alloc) { if (a->free) a->free(ptr, a->user); return; }
    lbrx__default_free(ptr);
}

/* ============================================================================================
   Storage
   ============================================================================================ */

struct lbrx_storage {
    long refcount;                /* atomic */
    lbrx_storage_kind kind;
    int writable;
    unsigned char *data;
    size_t size;
    lbrx_allocator allocator;     /* for this struct and, for heap storage, the data */
    lbrx_release_fn release;      /* external storage */
    void *release_user;
    void *map_base;               /* mmap: the mapping as returned by the system */
    size_t map_size;
    unsigned char empty_byte;     /* data pointer of an empty file */
};

#if defined(_MSC_VER) && !defined(__clang__)
#define LBRX__ATOMIC_INC(p) InterlockedIncrement((volatile LONG *)(p))
#define LBRX__ATOMIC_DEC(p) InterlockedDecrement((volatile LONG *)(p))
#else
#define LBRX__ATOMIC_INC(p) __atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
#define LBRX__ATOMIC_DEC(p) __atomic_sub_fetch((p), 1, __ATOMIC_ACQ_REL)
#endif

LBRX__PRIVATE lbrx_storage *lbrx__storage_new(const lbrx_allocator *allocator) {
    lbrx_storage *s = (lbrx_storage *)lbrx_alloc(allocator, sizeof(lbrx_storage), 16);
    if (!s) return 0;
    memset(s, 0, sizeof *s);
    s->refcount = 1;
    if (allocator) s->allocator = *allocator;
    return s;
}

LBRXDEF lbrx_result lbrx_storage_alloc(lbrx_storage **out, size_t size, size_t alignment,
                                       const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_storage *s;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_alloc: out is NULL");
    *out = 0;
    if (alignment == 0) alignment = 64;
    if (alignment & (alignment - 1))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "alignment %zu is not a power of two", alignment);
    s = lbrx__storage_new(allocator);
    if (!s) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory");
    s->kind = LBRX_STORAGE_HEAP;
    s->writable = 1;
    s->size = size;
    s->data = (unsigned char *)lbrx_alloc(allocator, size, alignment);
    if (!s->data) {
        lbrx_free(allocator, s);
        return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory allocating %zu bytes", size);
    }
    memset(s->data, 0, size);
    *out = s;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_storage_wrap(lbrx_storage **out, void *ptr, size_t size, int writable,
                                      lbrx_release_fn release, void *user,
                                      const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_storage *s;
    if (!out || (!ptr && size)) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_wrap: NULL pointer");
    *out = 0;
    s = lbrx__storage_new(allocator);
    if (!s) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory");
    s->kind = LBRX_STORAGE_EXTERNAL;
    s->writable = writable != 0;
    s->data = ptr ? (unsigned char *)ptr : &s->empty_byte;
    s->size = size;
    s->release = release;
    s->release_user = user;
    *out = s;
    return LBRX_OK;
}

#if defined(_WIN32)
LBRX__PRIVATE wchar_t *lbrx__utf8_to_wide(const char *path, const lbrx_allocator *a) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, 0, 0);
    wchar_t *w;
    if (n <= 0) return 0;
    w = (wchar_t *)lbrx_alloc(a, (size_t)n * sizeof(wchar_t), 16);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) <= 0) {
        lbrx_free(a, w);
        w = 0;
    }
    return w;
}
#endif

LBRXDEF lbrx_result lbrx_storage_map_file(lbrx_storage **out, const char *path,
                                          const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_storage *s;
    uint64_t fsize;
    if (!out || !path) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_map_file: NULL argument");
    *out = 0;
    s = lbrx__storage_new(allocator);
    if (!s) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory");
    s->kind = LBRX_STORAGE_MMAP;
    s->data = &s->empty_byte;
#if defined(_WIN32)
    {
        wchar_t *wpath = lbrx__utf8_to_wide(path, allocator);
        HANDLE f, m;
        LARGE_INTEGER li;
        DWORD attr;
        if (!wpath) { lbrx_free(allocator, s); return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: path is not valid UTF-8", path); }
        attr = GetFileAttributesW(wpath);
        if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
            lbrx_free(allocator, wpath); lbrx_free(allocator, s);
            return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: is a directory", path);
        }
        f = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, 0, OPEN_EXISTING,
                        FILE_ATTRIBUTE_NORMAL, 0);
        lbrx_free(allocator, wpath);
        if (f == INVALID_HANDLE_VALUE) {
            DWORD e = GetLastError();
            lbrx_free(allocator, s);
            if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
                return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__NO_OFFSET, "%s: no such file", path);
            return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot open (Windows error %lu)", path, (unsigned long)e);
        }
        if (!GetFileSizeEx(f, &li)) {
            CloseHandle(f); lbrx_free(allocator, s);
            return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot read its size", path);
        }
        fsize = (uint64_t)li.QuadPart;
        if (fsize > (uint64_t)SIZE_MAX) {
            CloseHandle(f); lbrx_free(allocator, s);
            return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "%s: %llu bytes do not fit in this process's address space", path, (unsigned long long)fsize);
        }
        if (fsize > 0) {
#if defined(LBRX_NO_MMAP)
            unsigned char *buf = (unsigned char *)lbrx_alloc(allocator, (size_t)fsize, 64);
            size_t done = 0;
            if (!buf) { CloseHandle(f); lbrx_free(allocator, s); return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory reading %llu bytes", path, (unsigned long long)fsize); }
            while (done < (size_t)fsize) {
                DWORD want = (DWORD)(((size_t)fsize - done) > 0x40000000u ? 0x40000000u : ((size_t)fsize - done)), got = 0;
                if (!ReadFile(f, buf + done, want, &got, 0) || got == 0) {
                    lbrx_free(allocator, buf); CloseHandle(f); lbrx_free(allocator, s);
                    return lbrx__errorf(err, LBRX_ERR_IO, (uint64_t)done, "%s: read failed", path);
                }
                done += got;
            }
            s->map_base = buf;
            s->data = buf;
#else
            m = CreateFileMappingW(f, 0, PAGE_READONLY, 0, 0, 0);
            if (!m) {
                CloseHandle(f); lbrx_free(allocator, s);
                return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: CreateFileMapping failed (Windows error %lu)", path, (unsigned long)GetLastError());
            }
            s->map_base = MapViewOfFile(m, FILE_MAP_READ, 0, 0, 0);
            CloseHandle(m);
            if (!s->map_base) {
                CloseHandle(f); lbrx_free(allocator, s);
                return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: MapViewOfFile failed (Windows error %lu)", path, (unsigned long)GetLastError());
            }
            s->data = (unsigned char *)s->map_base;
#endif
            s->map_size = (size_t)fsize;
        }
        CloseHandle(f);
        (void)m;
    }
#else
    {
        int fd;
        struct stat st;
        do { fd = open(path, O_RDONLY); } while (fd < 0 && errno == EINTR);
        if (fd < 0) {
            int e = errno;
            lbrx_free(allocator, s);
            if (e == ENOENT || e == ENOTDIR)
                return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__NO_OFFSET, "%s: no such file", path);
            /* EOVERFLOW: a file past 2 GiB in a 32-bit build without 64-bit offsets */
            return lbrx__errorf(err, e == EOVERFLOW ? LBRX_ERR_LIMIT : LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot open (%s)", path, strerror(e));
        }
        if (fstat(fd, &st) != 0) {
            int e = errno;
            close(fd); lbrx_free(allocator, s);
            return lbrx__errorf(err, e == EOVERFLOW ? LBRX_ERR_LIMIT : LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot stat (%s)", path, strerror(e));
        }
        if (S_ISDIR(st.st_mode)) {
            close(fd); lbrx_free(allocator, s);
            return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: is a directory", path);
        }
        if (!S_ISREG(st.st_mode)) {
            close(fd); lbrx_free(allocator, s);
            return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: not a regular file", path);
        }
        if (st.st_size < 0) { close(fd); lbrx_free(allocator, s); return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: negative size", path); }
        fsize = (uint64_t)st.st_size;
        if (fsize > (uint64_t)SIZE_MAX || fsize > (uint64_t)(SIZE_MAX >> 1)) {
            close(fd); lbrx_free(allocator, s);
            return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "%s: %llu bytes do not fit in this process's address space", path, (unsigned long long)fsize);
        }
        if (fsize > 0) {
#if defined(LBRX_NO_MMAP)
            unsigned char *buf = (unsigned char *)lbrx_alloc(allocator, (size_t)fsize, 64);
            size_t done = 0;
            if (!buf) { close(fd); lbrx_free(allocator, s); return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory reading %llu bytes", path, (unsigned long long)fsize); }
            while (done < (size_t)fsize) {
                size_t want = (size_t)fsize - done;
                ssize_t got;
                if (want > 0x40000000u) want = 0x40000000u;
                got = pread(fd, buf + done, want, (off_t)done);
                if (got < 0 && errno == EINTR) continue;
                if (got <= 0) {
                    lbrx_free(allocator, buf); close(fd); lbrx_free(allocator, s);
                    return lbrx__errorf(err, LBRX_ERR_IO, (uint64_t)done, "%s: read failed", path);
                }
                done += (size_t)got;
            }
            s->map_base = buf;
            s->data = buf;
#else
            void *p = mmap(0, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                int e = errno;
                close(fd); lbrx_free(allocator, s);
                return lbrx__errorf(err, e == ENOMEM ? LBRX_ERR_LIMIT : LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: mmap failed (%s)", path, strerror(e));
            }
            s->map_base = p;
            s->data = (unsigned char *)p;
#endif
            s->map_size = (size_t)fsize;
        }
        close(fd);
    }
#endif
    s->size = s->map_size;
    *out = s;
    return LBRX_OK;
}

LBRXDEF void lbrx_storage_retain(lbrx_storage *s) {
    if (s) LBRX__ATOMIC_INC(&s->refcount);
}

LBRXDEF void lbrx_storage_release(lbrx_storage *s) {
    lbrx_allocator a;
    if (!s || LBRX__ATOMIC_DEC(&s->refcount) != 0) return;
    a = s->allocator;
    switch (s->kind) {
    case LBRX_STORAGE_HEAP: lbrx_free(&a, s->data); break;
    case LBRX_STORAGE_EXTERNAL: if (s->release) s->release(s->data == &s->empty_byte ? 0 : s->data, s->size, s->release_user); break;
    case LBRX_STORAGE_MMAP:
        if (s->map_base) {
#if defined(LBRX_NO_MMAP)
            lbrx_free(&a, s->map_base);
#elif defined(_WIN32)
            UnmapViewOfFile(s->map_base);
#else
            munmap(s->map_base, s->map_size);
#endif
        }
        break;
    }
    lbrx_free(&a, s);
}

LBRXDEF lbrx_storage_kind lbrx_storage_get_kind(const lbrx_storage *s) { return s->kind; }
LBRXDEF void *lbrx_storage_data(const lbrx_storage *s) { return s ? s->data : 0; }
LBRXDEF size_t lbrx_storage_size(const lbrx_storage *s) { return s ? s->size : 0; }
LBRXDEF int lbrx_storage_writable(const lbrx_storage *s) { return s ? s->writable : 0; }

LBRXDEF const void *lbrx_storage_at(const lbrx_storage *s, uint64_t offset, uint64_t length) {
    if (!s || offset > (uint64_t)s->size || length > (uint64_t)s->size - offset) return 0;
    return s->data + (size_t)offset;
}

LBRXDEF size_t lbrx_page_size(void) {
#if defined(_WIN32)
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return (size_t)si.dwAllocationGranularity;
#else
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
#endif
}

LBRXDEF void lbrx_storage_prefetch(const lbrx_storage *s, uint64_t offset, uint64_t length) {
    if (!s || s->kind != LBRX_STORAGE_MMAP || !lbrx_storage_at(s, offset, length) || length == 0) return;
#if !defined(LBRX_NO_MMAP)
    {
        size_t page = lbrx_page_size();
        uintptr_t b = (uintptr_t)(s->data + offset), e = b + (uintptr_t)length;
        b &= ~(uintptr_t)(page - 1);
#if defined(_WIN32)
#if defined(_WIN32_WINNT) && _WIN32_WINNT >= 0x0602
        {
            WIN32_MEMORY_RANGE_ENTRY r;
            r.VirtualAddress = (void *)b;
            r.NumberOfBytes = (SIZE_T)(e - b);
            PrefetchVirtualMemory(GetCurrentProcess(), 1, &r, 0);
        }
#else
        (void)e;
#endif
#else
        posix_madvise((void *)b, (size_t)(e - b), POSIX_MADV_WILLNEED);
#endif
    }
#endif
}

LBRXDEF size_t lbrx_pointer_alignment(const void *p) {
    uintptr_t v = (uintptr_t)p;
    size_t a = 1;
    while (a < 4096 && !(v & a)) a <<= 1;
    return a;
}

/* ============================================================================================
   Tensors and views
   ============================================================================================ */

LBRXDEF lbrx_result lbrx__shape_layout(lbrx_dtype dtype, int ndim, const int64_t *shape, int64_t *stride,
                                       size_t *nbytes, lbrx_error *err) {
    const lbrx__dtype_info *d = lbrx__dtype_info_of((int)dtype);
    size_t row, total;
    int i;
    lbrx_result r;
    if (!d) return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "invalid dtype id %d", (int)dtype);
    if (ndim < 0 || ndim > LBRX_MAX_DIMS)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "rank %d is outside 0..%d", ndim, LBRX_MAX_DIMS);
    for (i = 0; i < ndim; i++)
        if (shape[i] < 0) return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "dimension %d is negative (%lld)", i, (long long)shape[i]);
    if (ndim == 0) {
        if (d->block != 1) return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "a rank-0 tensor cannot have block dtype %s", d->name);
        if (nbytes) *nbytes = d->bytes;
        return LBRX_OK;
    }
    r = lbrx_row_bytes(dtype, shape[ndim - 1], &row);
    if (r == LBRX_ERR_BAD_SHAPE)
        return lbrx__errorf(err, r, LBRX__NO_OFFSET, "row length %lld is not a multiple of the %s block size %lld",
                            (long long)shape[ndim - 1], d->name, (long long)d->block);
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__NO_OFFSET, "row of %lld elements overflows", (long long)shape[ndim - 1]);
    total = row;
    if (stride) stride[ndim - 1] = d->block == 1 ? (int64_t)d->bytes : 0;
    for (i = ndim - 2; i >= 0; i--) {
        if (stride) {
            if (total > (size_t)INT64_MAX) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows");
            stride[i] = (int64_t)total;
        }
        if ((uint64_t)shape[i] > (uint64_t)SIZE_MAX || !lbrx_mul_size(total, (size_t)shape[i], &total))
            return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows (dimension %d = %lld)", i, (long long)shape[i]);
    }
    /* a zero dimension makes the tensor empty, but the product of the others must still fit */
    if (total > (size_t)INT64_MAX) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows");
    {
        int64_t n = 1;
        for (i = 0; i < ndim; i++) {
            if (shape[i] != 0 && n > INT64_MAX / shape[i])
                return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "element count overflows (dimension %d = %lld)", i, (long long)shape[i]);
            n *= shape[i];
        }
    }
    if (nbytes) *nbytes = total;
    return LBRX_OK;
}

LBRX__PRIVATE lbrx_result lbrx__tensor_describe(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                               size_t *nbytes, lbrx_error *err) {
    lbrx_tensor tmp;
    lbrx_result r;
    int i;
    if (!t || (ndim > 0 && !shape)) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "NULL tensor or shape");
    memset(&tmp, 0, sizeof tmp);
    r = lbrx__shape_layout(dtype, ndim, shape, tmp.stride, nbytes, err);
    if (r != LBRX_OK) return r;
    tmp.dtype = dtype;
    tmp.ndim = ndim;
    for (i = 0; i < ndim; i++) tmp.shape[i] = shape[i];
    *t = tmp;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_init(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                     lbrx_storage *storage, uint64_t offset, lbrx_error *err) {
    lbrx_tensor tmp;
    size_t nbytes;
    lbrx_result r;
    if (!storage) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_init: storage is NULL");
    r = lbrx__tensor_describe(&tmp, dtype, ndim, shape, &nbytes, err);
    if (r != LBRX_OK) return r;
    if (!lbrx_storage_at(storage, offset, nbytes))
        return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, offset, "%zu bytes at offset %llu do not fit in storage of %zu bytes",
                            nbytes, (unsigned long long)offset, storage->size);
    tmp.data = storage->data + (size_t)offset;
    tmp.storage = storage;
    lbrx_storage_retain(storage);
    *t = tmp;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_alloc(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                      const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_tensor tmp;
    lbrx_storage *s;
    size_t nbytes;
    lbrx_result r = lbrx__tensor_describe(&tmp, dtype, ndim, shape, &nbytes, err);
    if (r != LBRX_OK) return r;
    r = lbrx_storage_alloc(&s, nbytes, 64, allocator, err);
    if (r != LBRX_OK) return r;
    tmp.data = s->data;
    tmp.storage = s;  /* the new reference moves into the tensor */
    *t = tmp;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_from_ptr(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                         void *data, lbrx_error *err) {
    lbrx_tensor tmp;
    size_t nbytes;
    lbrx_result r = lbrx__tensor_describe(&tmp, dtype, ndim, shape, &nbytes, err);
    if (r != LBRX_OK) return r;
    if (!data && nbytes) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_from_ptr: data is NULL");
    tmp.data = data;
    *t = tmp;
    return LBRX_OK;
}

LBRXDEF void lbrx_tensor_release(lbrx_tensor *t) {
    if (!t) return;
    lbrx_storage_release(t->storage);
    memset(t, 0, sizeof *t);
}

LBRXDEF lbrx_result lbrx_tensor_nelements(const lbrx_tensor *t, int64_t *out) {
    int64_t n = 1;
    int i;
    for (i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0) return LBRX_ERR_BAD_SHAPE;
        if (t->shape[i] != 0 && n > INT64_MAX / t->shape[i]) return LBRX_ERR_OVERFLOW;
        n *= t->shape[i];
    }
    *out = n;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_nbytes(const lbrx_tensor *t, size_t *out) {
    return lbrx__shape_layout(t->dtype, t->ndim, t->shape, 0, out, 0);
}

LBRXDEF int64_t lbrx_tensor_nrows(const lbrx_tensor *t) {
    int64_t n = 1;
    int i;
    for (i = 0; i + 1 < t->ndim; i++) n *= t->shape[i];
    return n;
}

LBRXDEF int lbrx_tensor_is_contiguous(const lbrx_tensor *t) {
    int64_t stride[LBRX_MAX_DIMS];
    int i;
    if (lbrx__shape_layout(t->dtype, t->ndim, t->shape, stride, 0, 0) != LBRX_OK) return 0;
    for (i = 0; i < t->ndim; i++)
        if (t->shape[i] > 1 && t->stride[i] != stride[i]) return 0;
    return 1;
}

LBRXDEF void *lbrx_tensor_row(const lbrx_tensor *t, int64_t r) {
    int64_t off = 0;
    int i;
    if (t->ndim <= 1) return t->data;
    for (i = t->ndim - 2; i >= 0; i--) {
        int64_t n = t->shape[i];
        off += (r % n) * t->stride[i];
        r /= n;
    }
    return (unsigned char *)t->data + off;
}

LBRXDEF size_t lbrx_tensor_alignment(const lbrx_tensor *t) {
    uintptr_t v = (uintptr_t)t->data;
    int i;
    for (i = 0; i < t->ndim; i++)
        if (t->shape[i] > 1) v |= (uintptr_t)t->stride[i];
    return lbrx_pointer_alignment((const void *)v);
}

LBRXDEF lbrx_result lbrx_tensor_slice(const lbrx_tensor *t, int dim, int64_t begin, int64_t end,
                                      lbrx_tensor *out, lbrx_error *err) {
    lbrx_tensor tmp;
    int64_t block;
    if (!t || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_slice: NULL tensor");
    if (dim < 0 || dim >= t->ndim)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "slice of dimension %d of a rank-%d tensor", dim, t->ndim);
    if (begin < 0 || end < begin || end > t->shape[dim])
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "slice [%lld, %lld) outside dimension %d of size %lld",
                            (long long)begin, (long long)end, dim, (long long)t->shape[dim]);
    tmp = *t;
    block = lbrx_dtype_block_size(t->dtype);
    if (dim == t->ndim - 1 && block > 1) {
        if (begin % block || end % block)
            return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "slice [%lld, %lld) of a %s row is not on %lld-element block boundaries",
                                (long long)begin, (long long)end, lbrx_dtype_name(t->dtype), (long long)block);
        tmp.data = (unsigned char *)t->data + (size_t)(begin / block) * lbrx_dtype_block_bytes(t->dtype);
    } else {
        tmp.data = (unsigned char *)t->data + begin * t->stride[dim];
    }
    tmp.shape[dim] = end - begin;
    lbrx_storage_retain(tmp.storage);
    *out = tmp;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_rows(const lbrx_tensor *t, int64_t begin, int64_t end,
                                     lbrx_tensor *out, lbrx_error *err) {
    return lbrx_tensor_slice(t, 0, begin, end, out, err);
}

LBRXDEF lbrx_result lbrx_tensor_reshape(const lbrx_tensor *t, int ndim, const int64_t *shape,
                                        lbrx_tensor *out, lbrx_error *err) {
    int64_t full[LBRX_MAX_DIMS] = {0}, n, m = 1;
    int i, infer = -1;
    lbrx_tensor tmp;
    lbrx_result r;
    if (!t || !out || ndim < 0 || ndim > LBRX_MAX_DIMS || (ndim > 0 && !shape))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_reshape: bad arguments");
    if (!lbrx_tensor_is_contiguous(t))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "reshape of a non-contiguous tensor");
    if (lbrx_tensor_nelements(t, &n) != LBRX_OK) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "element count overflows");
    for (i = 0; i < ndim; i++) {
        full[i] = shape[i];
        if (shape[i] == -1) {
            if (infer >= 0) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "reshape: more than one -1");
            infer = i;
        } else if (shape[i] < 0) {
            return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "reshape: dimension %d is %lld", i, (long long)shape[i]);
        } else {
            if (shape[i] != 0 && m > INT64_MAX / shape[i]) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "reshape: element count overflows");
            m *= shape[i];
        }
    }
    if (infer >= 0) {
        if (m == 0 || n % m) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "reshape: cannot infer dimension %d", infer);
        full[infer] = n / m;
        m = n;
    }
    if (m != n)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "reshape of %lld elements to a shape of %lld", (long long)n, (long long)m);
    memset(&tmp, 0, sizeof tmp);
    r = lbrx__shape_layout(t->dtype, ndim, full, tmp.stride, 0, err);
    if (r != LBRX_OK) return r;
    tmp.dtype = t->dtype;
    tmp.ndim = ndim;
    for (i = 0; i < ndim; i++) tmp.shape[i] = full[i];
    tmp.data = t->data;
    tmp.storage = t->storage;
    tmp.name = t->name;
    lbrx_storage_retain(tmp.storage);
    *out = tmp;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_host_region(const lbrx_tensor *t, void **base, size_t *size,
                                            size_t *offset, lbrx_error *err) {
    size_t page = lbrx_page_size(), nbytes = 0, span;
    uintptr_t b, e, lo, hi;
    int i;
    if (!t || !base || !size || !offset) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_host_region: NULL argument");
    /* bytes spanned from the first element to one past the last, for any strides >= 0 */
    if (lbrx_tensor_nbytes(t, &nbytes) != LBRX_OK) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows");
    span = 0;
    if (nbytes > 0) {
        size_t row = 0;
        lbrx_row_bytes(t->dtype, t->ndim ? t->shape[t->ndim - 1] : 1, &row);
        span = row;
        for (i = 0; i + 1 < t->ndim; i++) span += (size_t)(t->shape[i] - 1) * (size_t)t->stride[i];
    }
    b = (uintptr_t)t->data;
    e = b + span;
    lo = b & ~(uintptr_t)(page - 1);
    hi = (e + page - 1) & ~(uintptr_t)(page - 1);
    if (hi == lo) hi = lo + page;
    *base = (void *)lo;
    *size = (size_t)(hi - lo);
    *offset = (size_t)(b - lo);
    return LBRX_OK;
}

/* ============================================================================================
   f16 and bf16
   ============================================================================================ */

LBRXDEF float lbrx_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
    float f;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        /* subnormal: normalize */
        int e = -1;
        do { e++; mant <<= 1; } while (!(mant & 0x400u));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
    memcpy(&f, &bits, 4);
    return f;
}

LBRXDEF uint16_t lbrx_f32_to_f16(float f) {
    uint32_t x, sign, mant;
    int32_t exp;
    memcpy(&x, &f, 4);
    sign = (x >> 16) & 0x8000u;
    exp = (int32_t)((x >> 23) & 0xff);
    mant = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? (0x200u | (mant >> 13)) : 0));
    exp -= 127 - 15;
    if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) {
        uint32_t m, shift, half, rem, r;
        if (exp < -10) return (uint16_t)sign;
        m = mant | 0x800000u;
        shift = (uint32_t)(14 - exp);
        r = m >> shift;
        rem = m & ((1u << shift) - 1);
        half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    } else {
        uint32_t r = ((uint32_t)exp << 10) | (mant >> 13), rem = mant & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) r++;  /* may carry into inf: correct */
        return (uint16_t)(sign | r);
    }
}

LBRXDEF float lbrx_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

LBRXDEF uint16_t lbrx_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

LBRXDEF void lbrx_f16_to_f32_row(const void *src, float *dst, size_t n) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
#if defined(LBRX__F16C)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
#endif
    for (; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        dst[i] = lbrx_f16_to_f32(h);
    }
}

LBRXDEF void lbrx_f32_to_f16_row(const float *src, void *dst, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    size_t i = 0;
#if defined(LBRX__F16C)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
    for (; i < n; i++) {
        uint16_t h = lbrx_f32_to_f16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

LBRXDEF void lbrx_bf16_to_f32_row(const void *src, float *dst, size_t n) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
#if defined(LBRX__AVX2)
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
#endif
    for (; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        dst[i] = lbrx_bf16_to_f32(h);
    }
}

LBRXDEF void lbrx_f32_to_bf16_row(const float *src, void *dst, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    size_t i;
    for (i = 0; i < n; i++) {
        uint16_t h = lbrx_f32_to_bf16(src[i]);
        memcpy(d + 2 * i, &h, 2);
    }
}

/* ============================================================================================
   Block formats
   ============================================================================================ */

/* ==== block formats (implementation) ==== */

/* ==== end block formats (implementation) ==== */

/* ============================================================================================
   Context
   ============================================================================================ */

struct lbrx_context {
    int n_threads;
    lbrx_allocator allocator;
    void *scratch;
    size_t scratch_bytes;
};

LBRXDEF lbrx_result lbrx_context_create(lbrx_context **out, const lbrx_context_desc *desc, lbrx_error *err) {
    lbrx_context_desc d;
    lbrx_context *c;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_context_create: out is NULL");
    *out = 0;
    if (desc) d = *desc; else memset(&d, 0, sizeof d);
    if (d.scratch_bytes == 0) d.scratch_bytes = (size_t)1 << 20;
    c = (lbrx_context *)lbrx_alloc(&d.allocator, sizeof *c, 64);
    if (!c) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory");
    memset(c, 0, sizeof *c);
    c->allocator = d.allocator;
    lbrx_context_set_threads(c, d.n_threads);
    c->scratch = lbrx_alloc(&c->allocator, d.scratch_bytes, 64);
    if (!c->scratch) {
        lbrx_free(&c->allocator, c);
        return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for %zu bytes of scratch", d.scratch_bytes);
    }
    c->scratch_bytes = d.scratch_bytes;
    *out = c;
    return LBRX_OK;
}

LBRXDEF void lbrx_context_destroy(lbrx_context *ctx) {
    lbrx_allocator a;
    if (!ctx) return;
    a = ctx->allocator;
    lbrx_free(&a, ctx->scratch);
    lbrx_free(&a, ctx);
}

LBRXDEF int lbrx_context_threads(const lbrx_context *ctx) { return ctx ? ctx->n_threads : 1; }

LBRXDEF void lbrx_context_set_threads(lbrx_context *ctx, int n_threads) {
#ifdef _OPENMP
    if (n_threads <= 0) n_threads = omp_get_max_threads();
#else
    n_threads = 1;
#endif
    ctx->n_threads = n_threads < 1 ? 1 : n_threads;
}

LBRXDEF void *lbrx_context_scratch(lbrx_context *ctx, size_t bytes) {
    if (bytes > ctx->scratch_bytes) {
        void *p = lbrx_alloc(&ctx->allocator, bytes, 64);
        if (!p) return 0;
        lbrx_free(&ctx->allocator, ctx->scratch);
        ctx->scratch = p;
        ctx->scratch_bytes = bytes;
    }
    return ctx->scratch;
}

/* ==== matmul (implementation) ==== */

/* ==== end matmul (implementation) ==== */

/* ==== ops and attention (implementation) ==== */

/* ---- shared checks and helpers of the ops ---- */

LBRX__PRIVATE int lbrx__ops_threads(const lbrx_context *ctx, int64_t work) {
    int n = ctx ? ctx->n_threads : 1;
    if (work < 16384) n = 1;   /* tiny ops: a parallel region costs more than it saves */
    return n < 1 ? 1 : n;
}

/* Scratch of `bytes` from the context, or from the default allocator when ctx is NULL (then
   *owned is set and the caller frees it with lbrx__ops_scratch_done). */
LBRX__PRIVATE void *lbrx__ops_scratch(lbrx_context *ctx, size_t bytes, void **owned) {
    *owned = 0;
    if (ctx) return lbrx_context_scratch(ctx, bytes);
    *owned = lbrx_alloc(0, bytes, 64);
    return *owned;
}
LBRX__PRIVATE void lbrx__ops_scratch_done(void *owned) { lbrx_free(0, owned); }

/* An f32 activation tensor with a contiguous last dimension. */
LBRX__PRIVATE lbrx_result lbrx__ops_check_f32(const lbrx_tensor *t, const char *op, const char *what, lbrx_error *err) {
    if (!t) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: %s is NULL", op, what);
    if (t->dtype != LBRX_F32)
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "%s: %s is %s, not f32", op, what, lbrx_dtype_name(t->dtype));
    if (t->ndim < 1 || t->ndim > LBRX_MAX_DIMS)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: %s has rank %d", op, what, t->ndim);
    if (t->shape[t->ndim - 1] > 1 && t->stride[t->ndim - 1] != 4)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: the rows of %s are not contiguous", op, what);
    if (!t->data && lbrx_tensor_nrows(t) * t->shape[t->ndim - 1] != 0)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: %s has no data", op, what);
    return LBRX_OK;
}

LBRX__PRIVATE lbrx_result lbrx__ops_check_same_shape(const lbrx_tensor *a, const lbrx_tensor *b, const char *op,
                                                    const char *what, lbrx_error *err) {
    int i, same = a->ndim == b->ndim;
    for (i = 0; same && i < a->ndim; i++) same = a->shape[i] == b->shape[i];
    if (!same) return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: %s does not have the input's shape", op, what);
    return LBRX_OK;
}

/* A parameter vector (norm weight or bias) of n f32, f16 or bf16 as f32 in dst (NULL tensor:
   returns 0, "absent"). */
LBRX__PRIVATE lbrx_result lbrx__ops_param(const lbrx_tensor *p, int64_t n, float *dst, const float **out,
                                         const char *op, const char *what, lbrx_error *err) {
    int64_t count;
    *out = 0;
    if (!p) return LBRX_OK;
    if (lbrx_tensor_nelements(p, &count) != LBRX_OK || count != n || !p->data || !lbrx_tensor_is_contiguous(p))
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: %s is not a contiguous vector of %lld", op, what, (long long)n);
    switch (p->dtype) {
    case LBRX_F32: memcpy(dst, p->data, (size_t)n * 4); break;
    case LBRX_F16: lbrx_f16_to_f32_row(p->data, dst, (size_t)n); break;
    case LBRX_BF16: lbrx_bf16_to_f32_row(p->data, dst, (size_t)n); break;
    default:
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "%s: %s is %s (f32, f16 or bf16 taken)", op, what, lbrx_dtype_name(p->dtype));
    }
    *out = dst;
    return LBRX_OK;
}

/* ---- norms ---- */

LBRX__PRIVATE lbrx_result lbrx__norm(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_tensor *weight,
                                    const lbrx_tensor *bias, float eps, int layer, lbrx_tensor *out, lbrx_error *err) {
    const char *op = layer ? "lbrx_layer_norm" : "lbrx_rms_norm";
    lbrx_result r;
    int64_t n, rows, i;
    const float *w = 0, *b = 0;
    float *params;
    void *owned;
    int nt;
    if ((r = lbrx__ops_check_f32(x, op, "x", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(out, op, "out", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_same_shape(x, out, op, "out", err)) != LBRX_OK) return r;
    if (!(eps >= 0.0f)) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: eps is negative or NaN", op);
    n = x->shape[x->ndim - 1];
    rows = lbrx_tensor_nrows(x);
    if (n == 0 || rows == 0) return LBRX_OK;
    params = (float *)lbrx__ops_scratch(ctx, (size_t)n * 8, &owned);
    if (!params) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory for scratch", op);
    r = lbrx__ops_param(weight, n, params, &w, op, "weight", err);
    if (r == LBRX_OK) r = lbrx__ops_param(bias, n, params + n, &b, op, "bias", err);
    if (r != LBRX_OK) { lbrx__ops_scratch_done(owned); return r; }
    nt = lbrx__ops_threads(ctx, rows * n);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (i = 0; i < rows; i++) {
        const float *xr = (const float *)lbrx_tensor_row(x, i);
        float *yr = (float *)lbrx_tensor_row(out, i);
        double mean = 0.0, ss = 0.0;
        float inv, mu;
        int64_t j;
        if (layer) {
            for (j = 0; j < n; j++) mean += xr[j];
            mean /= (double)n;
            for (j = 0; j < n; j++) { double d = xr[j] - mean; ss += d * d; }
        } else {
            for (j = 0; j < n; j++) ss += (double)xr[j] * xr[j];
        }
        inv = (float)(1.0 / sqrt(ss / (double)n + eps));
        mu = (float)mean;
        for (j = 0; j < n; j++) {
            float y = (xr[j] - mu) * inv;
            if (w) y *= w[j];
            if (b) y += b[j];
            yr[j] = y;
        }
    }
    (void)nt;
    lbrx__ops_scratch_done(owned);
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_rms_norm(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_tensor *weight,
                                  float eps, lbrx_tensor *out, lbrx_error *err) {
    return lbrx__norm(ctx, x, weight, 0, eps, 0, out, err);
}

LBRXDEF lbrx_result lbrx_layer_norm(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_tensor *weight,
                                    const lbrx_tensor *bias, float eps, lbrx_tensor *out, lbrx_error *err) {
    return lbrx__norm(ctx, x, weight, bias, eps, 1, out, err);
}

/* ---- RoPE ---- */

LBRXDEF lbrx_result lbrx_rope(lbrx_context *ctx, const lbrx_tensor *x, const lbrx_rope_desc *desc,
                              lbrx_tensor *out, lbrx_error *err) {
    static const char *op = "lbrx_rope";
    lbrx_rope_desc d;
    lbrx_result r;
    int64_t n_tok, n_head, hd, t;
    double base, fscale;
    float *table;
    void *owned;
    int nt;
    if ((r = lbrx__ops_check_f32(x, op, "x", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(out, op, "out", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_same_shape(x, out, op, "out", err)) != LBRX_OK) return r;
    if (x->ndim != 2 && x->ndim != 3)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: x has rank %d, not [n_tokens, n_head, head_dim]", op, x->ndim);
    if (desc) d = *desc; else memset(&d, 0, sizeof d);
    n_tok = x->shape[0];
    n_head = x->ndim == 3 ? x->shape[1] : 1;
    hd = x->shape[x->ndim - 1];
    if (d.n_dims == 0) d.n_dims = hd;
    if (d.mode != LBRX_ROPE_INTERLEAVED && d.mode != LBRX_ROPE_NEOX)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: unknown mode %d", op, (int)d.mode);
    if (d.n_dims < 0 || d.n_dims > hd || d.n_dims % 2)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: n_dims %lld is odd or outside 0..%lld", op, (long long)d.n_dims, (long long)hd);
    if (d.freq_base < 0.0f || d.freq_scale < 0.0f || d.freq_base != d.freq_base || d.freq_scale != d.freq_scale)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: negative or NaN freq_base / freq_scale", op);
    base = d.freq_base == 0.0f ? 10000.0 : (double)d.freq_base;
    fscale = d.freq_scale == 0.0f ? 1.0 : (double)d.freq_scale;
    if (n_tok == 0 || n_head == 0 || hd == 0) return LBRX_OK;
    nt = lbrx__ops_threads(ctx, n_tok * n_head * hd);
    table = (float *)lbrx__ops_scratch(ctx, (size_t)nt * (size_t)(d.n_dims + 1) * 4, &owned);
    if (!table) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory for scratch", op);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (t = 0; t < n_tok; t++) {
        int tid = 0;
        int64_t half = d.n_dims / 2, h, i;
        float *cs, *sn;
        double pos = (double)(d.positions ? (int64_t)d.positions[t] : d.pos_offset + t) * fscale;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        cs = table + (size_t)tid * (size_t)(d.n_dims + 1);
        sn = cs + half;
        for (i = 0; i < half; i++) {
            double theta = pos * pow(base, -2.0 * (double)i / (double)d.n_dims);
            cs[i] = (float)cos(theta);
            sn[i] = (float)sin(theta);
        }
        for (h = 0; h < n_head; h++) {
            const float *xr = (const float *)lbrx_tensor_row(x, t * n_head + h);
            float *yr = (float *)lbrx_tensor_row(out, t * n_head + h);
            /* pair i is (a_i, b_i): interleaved (2i, 2i+1), NeoX (i, i + half) */
            int64_t step = d.mode == LBRX_ROPE_NEOX ? 1 : 2, off = d.mode == LBRX_ROPE_NEOX ? half : 1;
            for (i = 0; i < half; i++) {
                float a = xr[i * step], b = xr[i * step + off];
                yr[i * step] = a * cs[i] - b * sn[i];
                yr[i * step + off] = a * sn[i] + b * cs[i];
            }
            if (yr != xr)
                for (i = d.n_dims; i < hd; i++) yr[i] = xr[i];
        }
    }
    lbrx__ops_scratch_done(owned);
    return LBRX_OK;
}

/* ---- elementwise activations and softmax ---- */

typedef enum lbrx__unary_kind { LBRX__SILU, LBRX__GELU, LBRX__GELU_ERF, LBRX__SOFTMAX } lbrx__unary_kind;

LBRX__PRIVATE void lbrx__unary_row(lbrx__unary_kind kind, const float *x, float *y, int64_t n) {
    int64_t j;
    switch (kind) {
    case LBRX__SILU:
        for (j = 0; j < n; j++) y[j] = x[j] / (1.0f + expf(-x[j]));
        break;
    case LBRX__GELU:
        for (j = 0; j < n; j++) {
            float v = x[j];
            y[j] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
        break;
    case LBRX__GELU_ERF:
        for (j = 0; j < n; j++) y[j] = 0.5f * x[j] * (1.0f + erff(x[j] * 0.7071067811865476f));
        break;
    case LBRX__SOFTMAX: {
        float mx = -INFINITY, inv;
        double sum = 0.0;
        for (j = 0; j < n; j++) if (x[j] > mx) mx = x[j];
        if (mx == -INFINITY) { for (j = 0; j < n; j++) y[j] = 0.0f; break; }
        for (j = 0; j < n; j++) { float e = expf(x[j] - mx); y[j] = e; sum += e; }
        inv = (float)(1.0 / sum);
        for (j = 0; j < n; j++) y[j] *= inv;
        break;
    }
    }
}

LBRX__PRIVATE lbrx_result lbrx__unary(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx__unary_kind kind,
                                     const char *op, lbrx_error *err) {
    lbrx_result r;
    int64_t n, rows, i;
    int nt;
    if ((r = lbrx__ops_check_f32(x, op, "x", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(out, op, "out", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_same_shape(x, out, op, "out", err)) != LBRX_OK) return r;
    n = x->shape[x->ndim - 1];
    rows = lbrx_tensor_nrows(x);
    nt = lbrx__ops_threads(ctx, rows * n);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (i = 0; i < rows; i++)
        lbrx__unary_row(kind, (const float *)lbrx_tensor_row(x, i), (float *)lbrx_tensor_row(out, i), n);
    (void)nt;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_silu(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err) {
    return lbrx__unary(ctx, x, out, LBRX__SILU, "lbrx_silu", err);
}
LBRXDEF lbrx_result lbrx_gelu(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err) {
    return lbrx__unary(ctx, x, out, LBRX__GELU, "lbrx_gelu", err);
}
LBRXDEF lbrx_result lbrx_gelu_erf(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err) {
    return lbrx__unary(ctx, x, out, LBRX__GELU_ERF, "lbrx_gelu_erf", err);
}
LBRXDEF lbrx_result lbrx_softmax(lbrx_context *ctx, const lbrx_tensor *x, lbrx_tensor *out, lbrx_error *err) {
    return lbrx__unary(ctx, x, out, LBRX__SOFTMAX, "lbrx_softmax", err);
}

/* ---- binary ops with broadcasting ---- */

typedef enum lbrx__binary_kind { LBRX__ADD, LBRX__MUL, LBRX__SWIGLU } lbrx__binary_kind;

LBRX__PRIVATE lbrx_result lbrx__binary(lbrx_context *ctx, const lbrx_tensor *a, const lbrx_tensor *b, lbrx_tensor *out,
                                      lbrx__binary_kind kind, const char *op, lbrx_error *err) {
    int64_t sa[LBRX_MAX_DIMS], sb[LBRX_MAX_DIMS];  /* byte strides of a and b over out's dims, 0 = broadcast */
    int64_t n, rows, i;
    int nd, k, nt, a_step, b_step;
    lbrx_result r;
    if ((r = lbrx__ops_check_f32(a, op, "a", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(b, op, "b", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(out, op, "out", err)) != LBRX_OK) return r;
    nd = out->ndim;
    if (a->ndim > nd || b->ndim > nd)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: out has rank %d, lower than an input's", op, nd);
    for (k = 0; k < nd; k++) {
        int ka = k - (nd - a->ndim), kb = k - (nd - b->ndim);
        int64_t da = ka >= 0 ? a->shape[ka] : 1, db = kb >= 0 ? b->shape[kb] : 1;
        if ((da != out->shape[k] && da != 1) || (db != out->shape[k] && db != 1) ||
            (da != out->shape[k] && db != out->shape[k] && out->shape[k] != 1))
            return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET,
                                "%s: dimension %d: a has %lld, b has %lld, out has %lld (not broadcastable)", op, k,
                                (long long)da, (long long)db, (long long)out->shape[k]);
        sa[k] = (ka >= 0 && da != 1) ? a->stride[ka] : 0;
        sb[k] = (kb >= 0 && db != 1) ? b->stride[kb] : 0;
    }
    n = out->shape[nd - 1];
    rows = lbrx_tensor_nrows(out);
    a_step = sa[nd - 1] ? 1 : 0;
    b_step = sb[nd - 1] ? 1 : 0;
    nt = lbrx__ops_threads(ctx, rows * n);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (i = 0; i < rows; i++) {
        const unsigned char *pa = (const unsigned char *)a->data, *pb = (const unsigned char *)b->data;
        const float *xa, *xb;
        float *y = (float *)lbrx_tensor_row(out, i);
        int64_t rem = i, j;
        int kk;
        for (kk = nd - 2; kk >= 0; kk--) {
            int64_t c = rem % out->shape[kk];
            rem /= out->shape[kk];
            pa += c * sa[kk];
            pb += c * sb[kk];
        }
        xa = (const float *)pa;
        xb = (const float *)pb;
        switch (kind) {
        case LBRX__ADD: for (j = 0; j < n; j++) y[j] = xa[j * a_step] + xb[j * b_step]; break;
        case LBRX__MUL: for (j = 0; j < n; j++) y[j] = xa[j * a_step] * xb[j * b_step]; break;
        case LBRX__SWIGLU:
            for (j = 0; j < n; j++) { float g = xa[j * a_step]; y[j] = g / (1.0f + expf(-g)) * xb[j * b_step]; }
            break;
        }
    }
    (void)nt;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_add(lbrx_context *ctx, const lbrx_tensor *a, const lbrx_tensor *b, lbrx_tensor *out,
                             lbrx_error *err) {
    return lbrx__binary(ctx, a, b, out, LBRX__ADD, "lbrx_add", err);
}
LBRXDEF lbrx_result lbrx_mul(lbrx_context *ctx, const lbrx_tensor *a, const lbrx_tensor *b, lbrx_tensor *out,
                             lbrx_error *err) {
    return lbrx__binary(ctx, a, b, out, LBRX__MUL, "lbrx_mul", err);
}
LBRXDEF lbrx_result lbrx_swiglu(lbrx_context *ctx, const lbrx_tensor *gate, const lbrx_tensor *up,
                                lbrx_tensor *out, lbrx_error *err) {
    lbrx_result r;
    if ((r = lbrx__ops_check_f32(gate, "lbrx_swiglu", "gate", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(up, "lbrx_swiglu", "up", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_f32(out, "lbrx_swiglu", "out", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_same_shape(gate, up, "lbrx_swiglu", "up", err)) != LBRX_OK) return r;
    if ((r = lbrx__ops_check_same_shape(gate, out, "lbrx_swiglu", "out", err)) != LBRX_OK) return r;
    return lbrx__binary(ctx, gate, up, out, LBRX__SWIGLU, "lbrx_swiglu", err);
}

/* ---- embedding ---- */

LBRXDEF lbrx_result lbrx_embedding(lbrx_context *ctx, const lbrx_tensor *weight, const int32_t *ids,
                                   int64_t n_ids, lbrx_tensor *out, lbrx_error *err) {
    static const char *op = "lbrx_embedding";
    int64_t vocab, dim, t;
    lbrx_result r;
    int nt;
    if (!weight || (!ids && n_ids > 0) || n_ids < 0)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: NULL weight or ids", op);
    if ((r = lbrx__ops_check_f32(out, op, "out", err)) != LBRX_OK) return r;
    if (weight->ndim != 2 || !weight->data)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: weight %s is not [vocab, dim]", op, weight->name ? weight->name : "");
    vocab = weight->shape[0];
    dim = weight->shape[1];
    if (out->ndim != 2 || out->shape[0] != n_ids || out->shape[1] != dim)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: out is not [%lld, %lld]", op, (long long)n_ids, (long long)dim);
    if (weight->dtype != LBRX_F32 && weight->dtype != LBRX_F16 && weight->dtype != LBRX_BF16)
        return lbrx__errorf(err, LBRX_ERR_UNSUPPORTED, LBRX__NO_OFFSET, "%s: weight dtype %s", op, lbrx_dtype_name(weight->dtype));
    for (t = 0; t < n_ids; t++)
        if (ids[t] < 0 || ids[t] >= vocab)
            return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: ids[%lld] = %ld is outside the vocabulary of %lld",
                                op, (long long)t, (long)ids[t], (long long)vocab);
    nt = lbrx__ops_threads(ctx, n_ids * dim);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (t = 0; t < n_ids; t++) {
        const unsigned char *src = (const unsigned char *)weight->data + ids[t] * weight->stride[0];
        float *dst = (float *)lbrx_tensor_row(out, t);
        switch (weight->dtype) {
        case LBRX_F16: lbrx_f16_to_f32_row(src, dst, (size_t)dim); break;
        case LBRX_BF16: lbrx_bf16_to_f32_row(src, dst, (size_t)dim); break;
        default: memcpy(dst, src, (size_t)dim * 4); break;
        }
    }
    (void)nt;
    return LBRX_OK;
}

/* ---- attention ---- */

/* A validated attention problem. */
typedef struct lbrx__attn {
    int64_t n_q, n_kv, n_head, n_kv_head, d, group, window;
    int causal, f16;
    float scale;
    const unsigned char *q, *k, *v, *mask;
    unsigned char *out;
    int64_t q_s0, q_s1, k_s0, k_s1, v_s0, v_s1, o_s0, o_s1;  /* byte strides of dims 0 and 1 */
    int64_t m_sh, m_s0, m_s1;   /* mask: head stride (0: shared), row stride, */
} lbrx__attn;

LBRX__PRIVATE lbrx_result lbrx__attn_check3(const lbrx_tensor *t, const char *what, lbrx_error *err) {
    size_t es = t ? lbrx_dtype_block_bytes(t->dtype) : 0;
    if (!t || !t->data) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_attention: %s is NULL", what);
    if (t->ndim != 3)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "lbrx_attention: %s has rank %d, not 3", what, t->ndim);
    if (t->shape[2] > 1 && t->stride[2] != (int64_t)es)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "lbrx_attention: the rows of %s are not contiguous", what);
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_attention(lbrx_context *ctx, const lbrx_tensor *q, const lbrx_tensor *k,
                                   const lbrx_tensor *v, const lbrx_attention_desc *desc, lbrx_tensor *out,
                                   lbrx_error *err) {
    static const char *op = "lbrx_attention";
    lbrx__attn a;
    lbrx_attention_desc dd;
    lbrx_result r;
    int64_t item, n_items;
    float *scratch;
    void *owned;
    int nt;
    if (desc) dd = *desc; else memset(&dd, 0, sizeof dd);
    if ((r = lbrx__attn_check3(q, "q", err)) != LBRX_OK || (r = lbrx__attn_check3(k, "k", err)) != LBRX_OK ||
        (r = lbrx__attn_check3(v, "v", err)) != LBRX_OK || (r = lbrx__attn_check3(out, "out", err)) != LBRX_OK)
        return r;
    if (q->dtype != LBRX_F32 || out->dtype != LBRX_F32)
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "%s: q and out must be f32 (q %s, out %s)", op,
                            lbrx_dtype_name(q->dtype), lbrx_dtype_name(out->dtype));
    if ((k->dtype != LBRX_F32 && k->dtype != LBRX_F16) || v->dtype != k->dtype)
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "%s: k and v must both be f32 or both f16 (k %s, v %s)", op,
                            lbrx_dtype_name(k->dtype), lbrx_dtype_name(v->dtype));
    memset(&a, 0, sizeof a);
    a.n_q = q->shape[0]; a.n_head = q->shape[1]; a.d = q->shape[2];
    a.n_kv = k->shape[0]; a.n_kv_head = k->shape[1];
    if (k->shape[2] != a.d || v->shape[0] != a.n_kv || v->shape[1] != a.n_kv_head || v->shape[2] != a.d)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: k [%lld, %lld, %lld] and v [%lld, %lld, %lld] do not match q's head_dim %lld", op,
                            (long long)k->shape[0], (long long)k->shape[1], (long long)k->shape[2],
                            (long long)v->shape[0], (long long)v->shape[1], (long long)v->shape[2], (long long)a.d);
    if (out->shape[0] != a.n_q || out->shape[1] != a.n_head || out->shape[2] != a.d)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: out does not have q's shape", op);
    if (a.d <= 0 || a.d % 8 || a.d > 512)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: head_dim %lld is not a multiple of 8 in 8..512", op, (long long)a.d);
    if (a.n_kv_head <= 0 || a.n_head % a.n_kv_head)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: n_head %lld is not a multiple of n_kv_head %lld", op,
                            (long long)a.n_head, (long long)a.n_kv_head);
    if (dd.window < 0 || dd.scale != dd.scale)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: negative window or NaN scale", op);
    a.group = a.n_head / a.n_kv_head;
    a.causal = dd.causal != 0;
    a.window = dd.window;
    a.f16 = k->dtype == LBRX_F16;
    a.scale = dd.scale != 0.0f ? dd.scale : (float)(1.0 / sqrt((double)a.d));
    a.q = (const unsigned char *)q->data; a.q_s0 = q->stride[0]; a.q_s1 = q->stride[1];
    a.k = (const unsigned char *)k->data; a.k_s0 = k->stride[0]; a.k_s1 = k->stride[1];
    a.v = (const unsigned char *)v->data; a.v_s0 = v->stride[0]; a.v_s1 = v->stride[1];
    a.out = (unsigned char *)out->data; a.o_s0 = out->stride[0]; a.o_s1 = out->stride[1];
    if (dd.mask) {
        const lbrx_tensor *m = dd.mask;
        if ((r = lbrx__ops_check_f32(m, op, "mask", err)) != LBRX_OK) return r;
        if (m->ndim < 2 || m->ndim > 3 || m->shape[m->ndim - 2] != a.n_q || m->shape[m->ndim - 1] != a.n_kv ||
            (m->ndim == 3 && m->shape[0] != 1 && m->shape[0] != a.n_head))
            return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: mask is not [n_q=%lld, n_kv=%lld] or [1 or n_head, n_q, n_kv]",
                                op, (long long)a.n_q, (long long)a.n_kv);
        a.mask = (const unsigned char *)m->data;
        a.m_s0 = m->stride[m->ndim - 2];
        a.m_sh = (m->ndim == 3 && m->shape[0] > 1) ? m->stride[0] : 0;
    }
    if (a.n_q == 0 || a.n_head == 0) return LBRX_OK;
    n_items = a.n_q * a.n_head;
    nt = lbrx__ops_threads(ctx, n_items * (a.n_kv + 1) * a.d);
    scratch = (float *)lbrx__ops_scratch(ctx, (size_t)nt * (size_t)a.d * 12, &owned);
    if (!scratch) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory for scratch", op);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (item = 0; item < n_items; item++) {
        int64_t i = item / a.n_head, h = item % a.n_head, hk = h / a.group, j, e;
        int64_t pos = a.n_kv - a.n_q + i, j_end = a.n_kv, j_begin = 0;
        int tid = 0;
        float *acc, *kr, *vr, mx = -INFINITY;
        const float *qr = (const float *)(a.q + i * a.q_s0 + h * a.q_s1);
        const float *mrow = a.mask ? (const float *)(a.mask + h * a.m_sh + i * a.m_s0) : 0;
        float *orow = (float *)(a.out + i * a.o_s0 + h * a.o_s1);
        double l = 0.0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        acc = scratch + (size_t)tid * (size_t)a.d * 3;
        kr = acc + a.d;
        vr = kr + a.d;
        for (e = 0; e < a.d; e++) acc[e] = 0.0f;
        if (a.causal && pos + 1 < j_end) j_end = pos + 1;
        if (a.window && pos - a.window + 1 > j_begin) j_begin = pos - a.window + 1;
        for (j = j_begin; j < j_end; j++) {
            const unsigned char *kp = a.k + j * a.k_s0 + hk * a.k_s1, *vp = a.v + j * a.v_s0 + hk * a.v_s1;
            float s = 0.0f, p, alpha;
            if (a.f16) { lbrx_f16_to_f32_row(kp, kr, (size_t)a.d); lbrx_f16_to_f32_row(vp, vr, (size_t)a.d); }
            else { memcpy(kr, kp, (size_t)a.d * 4); memcpy(vr, vp, (size_t)a.d * 4); }
            for (e = 0; e < a.d; e++) s += qr[e] * kr[e];
            s *= a.scale;
            if (mrow) s += mrow[j];
            if (s == -INFINITY) continue;
            if (s > mx) {
                alpha = expf(mx - s);
                mx = s;
                l *= alpha;
                for (e = 0; e < a.d; e++) acc[e] *= alpha;
            }
            p = expf(s - mx);
            l += p;
            for (e = 0; e < a.d; e++) acc[e] += p * vr[e];
        }
        for (e = 0; e < a.d; e++) orow[e] = l > 0.0 ? (float)(acc[e] / l) : 0.0f;
    }
    (void)nt;
    lbrx__ops_scratch_done(owned);
    return LBRX_OK;
}

/* ---- KV cache ---- */

LBRXDEF lbrx_result lbrx_kv_cache_init(lbrx_kv_cache *c, lbrx_dtype dtype, int64_t capacity, int64_t n_kv_head,
                                       int64_t head_dim, const lbrx_allocator *allocator, lbrx_error *err) {
    int64_t shape[3];
    lbrx_result r;
    if (!c) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_kv_cache_init: c is NULL");
    memset(c, 0, sizeof *c);
    if (dtype != LBRX_F16 && dtype != LBRX_F32)
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "lbrx_kv_cache_init: dtype %s (f16 or f32 taken)", lbrx_dtype_name(dtype));
    shape[0] = capacity; shape[1] = n_kv_head; shape[2] = head_dim;
    r = lbrx_tensor_alloc(&c->k, dtype, 3, shape, allocator, err);
    if (r == LBRX_OK) r = lbrx_tensor_alloc(&c->v, dtype, 3, shape, allocator, err);
    if (r != LBRX_OK) lbrx_kv_cache_release(c);
    return r;
}

LBRXDEF void lbrx_kv_cache_release(lbrx_kv_cache *c) {
    if (!c) return;
    lbrx_tensor_release(&c->k);
    lbrx_tensor_release(&c->v);
    c->n = 0;
}

LBRXDEF lbrx_result lbrx_kv_cache_append(lbrx_kv_cache *c, const lbrx_tensor *k, const lbrx_tensor *v,
                                         lbrx_error *err) {
    static const char *op = "lbrx_kv_cache_append";
    const lbrx_tensor *src[2];
    lbrx_tensor *dst[2];
    int64_t n_new, t, h;
    int which;
    lbrx_result r;
    if (!c) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: c is NULL", op);
    if ((r = lbrx__ops_check_f32(k, op, "k", err)) != LBRX_OK || (r = lbrx__ops_check_f32(v, op, "v", err)) != LBRX_OK) return r;
    src[0] = k; src[1] = v; dst[0] = &c->k; dst[1] = &c->v;
    for (which = 0; which < 2; which++) {
        const lbrx_tensor *s = src[which], *d = dst[which];
        const char *name = which ? "v" : "k";
        if (d->ndim != 3 || !d->data || (d->dtype != LBRX_F16 && d->dtype != LBRX_F32) ||
            d->stride[2] != (int64_t)lbrx_dtype_block_bytes(d->dtype))
            return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: cache.%s is not an f16/f32 [capacity, n_kv_head, head_dim] tensor", op, name);
        if (d->storage && !lbrx_storage_writable(d->storage))
            return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: cache.%s is read-only", op, name);
        if (s->ndim != 3 || s->shape[1] != d->shape[1] || s->shape[2] != d->shape[2] || s->shape[0] != k->shape[0])
            return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: %s is not [n_new, %lld, %lld] like the other", op, name,
                                (long long)d->shape[1], (long long)d->shape[2]);
    }
    n_new = k->shape[0];
    if (c->n < 0 || c->n > c->k.shape[0] || c->k.shape[0] != c->v.shape[0] || n_new > c->k.shape[0] - c->n)
        return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "%s: %lld positions after %lld exceed the capacity %lld", op,
                            (long long)n_new, (long long)c->n, (long long)c->k.shape[0]);
    for (which = 0; which < 2; which++) {
        const lbrx_tensor *s = src[which];
        lbrx_tensor *d = dst[which];
        size_t hd = (size_t)d->shape[2];
        for (t = 0; t < n_new; t++)
            for (h = 0; h < d->shape[1]; h++) {
                const float *sr = (const float *)((const unsigned char *)s->data + t * s->stride[0] + h * s->stride[1]);
                unsigned char *dr = (unsigned char *)d->data + (c->n + t) * d->stride[0] + h * d->stride[1];
                if (d->dtype == LBRX_F16) lbrx_f32_to_f16_row(sr, dr, hd);
                else memcpy(dr, sr, hd * 4);
            }
    }
    c->n += n_new;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_kv_cache_view(const lbrx_kv_cache *c, lbrx_tensor *k, lbrx_tensor *v, lbrx_error *err) {
    lbrx_result r;
    if (!c || !k || !v) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_kv_cache_view: NULL argument");
    r = lbrx_tensor_rows(&c->k, 0, c->n, k, err);
    if (r != LBRX_OK) return r;
    r = lbrx_tensor_rows(&c->v, 0, c->n, v, err);
    if (r != LBRX_OK) lbrx_tensor_release(k);
    return r;
}

/* ==== end ops and attention (implementation) ==== */

/* ==== device interface (implementation) ==== */

/* ==== end device interface (implementation) ==== */

#endif /* LBRX_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the lbrx authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
In jurisdictions that recognize copyright laws, the author or authors of this
software dedicate any and all copyright interest in the software to the public
domain. We make this dedication in addition to any and all copyright interest
in the software under copyright law.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
