/* lbrx.h - v0.1.0 - tensors, storage, block formats and kernels for ML models on CPUs.
   Public domain or MIT, your choice: see the end of this file.

   DO THIS in exactly one C or C++ file, before the #include:

       #define LBRX_IMPLEMENTATION     (or LBRX_IMPL to instantiate lbrx_gguf.h and
       #include "lbrx.h"                lbrx_safetensors.h in the same file as well)

   Every other file just includes the header.

   QUICK START

       lbrx_storage *s; lbrx_tensor w; lbrx_error err;
       if (lbrx_storage_open(&s, "weights.bin", NULL, &err) != LBRX_OK) {
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
       LBRX_NO_HUGE_PAGES   do not advise transparent huge pages for the default allocator's
                            blocks of 4 MiB and more (Linux; see lbrx_alloc)
       LBRX_NO_SIMD         use the portable scalar code only
       LBRX_NO_AVX2 / LBRX_NO_AVX512 / LBRX_NO_NEON / LBRX_NO_F16C
                            turn off one instruction set even where the compiler enables it
       _OPENMP              (set by -fopenmp) kernels run on up to the context's thread count
                            (see THREADS); without it everything is correct on one thread
       LBRX_THREAD_SLICE    seconds of estimated one-thread work that each thread of an
                            operation must get (default 10e-6); 0 runs every operation that can
                            be split on all the context's threads, always (the tests do)

   LIMITS AND SECURITY

       Files are untrusted: every size, count and offset read from a file is checked with
       overflow-safe arithmetic before it is used, and a bad file gives an lbrx_result, never an
       abort. Calls that return an lbrx_result check their arguments too (API rule 8); only the
       row functions that return nothing (lbrx_quantize_row_q8_0 ...) check theirs with
       LBRX_ASSERT, as programmer errors. A mapped file that another process truncates while mapped raises
       SIGBUS on POSIX systems; copy untrusted files that others may modify (LBRX_NO_MMAP).

   THREAD SAFETY

       No global mutable state. Storage reference counts are atomic, so tensors sharing one
       storage may be used and released from several threads. A lbrx_context is used by one call
       at a time; give each host thread its own context.

   THREADS

       An operation runs on up to its context's thread count (OpenMP): it estimates its time on
       one thread from the bytes it reads and its arithmetic and takes one thread per
       LBRX_THREAD_SLICE of it, so small operations (a small model's whole token) never fork and
       join. Results are bit-identical for every thread count. When a parallel region finds one
       of its threads descheduled (it started or finished late because another thread or process
       held its core), the context runs on one thread for a while (50 ms to 1 s) and then tries
       again. A host that shares its cores with other work should also:
       - give the context the cores it can spare (lbrx_context_set_threads), not all of them;
       - let idle OpenMP threads sleep instead of spinning: OMP_WAIT_POLICY=passive in the
         environment before the program starts (GOMP_SPINCOUNT=0 for libgomp alone;
         KMP_BLOCKTIME=0 for LLVM's libomp). A spinning thread holds its core between operations
         and, once the scheduler takes the core away, starts the next region a time slice late;
       - not run several multi-threaded contexts at once on the same cores (one context per
         host thread, each with 1 thread, splitting products with lbrx_matmul_rows, is the
         alternative for a host with its own thread pool).

   API RULES (every public function of lbrx.h, lbrx_gguf.h and lbrx_safetensors.h follows them)

       1. Names are lbrx_<thing>_<verb or property>. A property has no verb (lbrx_storage_size);
          `_get_` is a lookup by key or name (lbrx_gguf_get_u32, lbrx_safetensors_get_tensor);
          `_of` where the property's name is a type's (lbrx_storage_kind_of, lbrx_json_type_of).
       2. Lifecycle, by what you hold:
          - an opaque object (a pointer: lbrx_context, lbrx_gguf, lbrx_safetensors, lbrx_json,
            lbrx_gguf_writer, lbrx_device_pool, lbrx_matmul_weights) is made by lbrx_X_create*
            (from arguments), lbrx_X_open* (from a path, memory or a storage) or lbrx_json_parse,
            and ended by lbrx_X_destroy, which accepts NULL;
          - lbrx_storage, the one reference-counted object: lbrx_storage_create* / _open give a
            reference, lbrx_storage_retain adds one, lbrx_storage_release drops one;
          - a value (a struct you declare: lbrx_tensor, lbrx_kv_cache, lbrx_device_tensor) is
            filled by lbrx_X_init* or by any call that has it as its output, and emptied by
            lbrx_X_release (a zeroed or released value is fine; copying a struct takes no
            reference);
          - raw memory: lbrx_alloc / lbrx_free, lbrx_device_pool_alloc / lbrx_device_pool_free.
       3. Parameters come in one order: subject, inputs, options, outputs, allocator, err. The
          subject is what the prefix names (the context of a kernel; the lbrx_X ** or lbrx_X *
          that a constructor or _init fills). err is always last and may be NULL. Row functions
          on raw pointers take (src, dst, n), as GGML's.
       4. Options are a struct lbrx_X_desc passed as a const pointer: NULL, a zeroed struct and
          every zero field mean the defaults. A call that allocates takes its allocator as the
          `allocator` member of its desc when it has one, else as the parameter before err; a
          zeroed allocator or NULL is the default (LBRX_MALLOC/LBRX_FREE).
       5. Names are owned by what they come from, never carried in a value: lbrx_tensor has no
          name. A reader lends lbrx_X_tensor_name(r, i) until it is destroyed; the writers take
          names next to the tensors.
       6. Both readers have the same tensor calls, with size_t indexes: lbrx_X_tensor_count,
          lbrx_X_tensor_name, lbrx_X_find_tensor (an index, or SIZE_MAX), lbrx_X_tensor (by
          index) and lbrx_X_get_tensor (by name), which fill an lbrx_tensor value holding its
          own storage reference (it outlives the reader; release it), lbrx_X_tensor_offset.
       7. Every call that takes an lbrx_context * accepts NULL: one thread, and scratch memory
          allocated for the call.
       8. A call that can fail returns an lbrx_result and fills the optional lbrx_error with a
          message naming the argument (and the file offset for file contents). For arguments:
          LBRX_ERR_INVALID_ARGUMENT (a NULL pointer, a bad value or range), LBRX_ERR_BAD_DTYPE
          (a dtype the call does not take), LBRX_ERR_BAD_SHAPE (shapes that do not fit).
*/
#ifndef LBRX_H
#define LBRX_H

/* The implementation needs POSIX (mmap, pread) even under -std=c99; this must come before the
   first system header, so include lbrx.h first in the file that defines the implementation. */
#if (defined(LBRX_IMPLEMENTATION) || defined(LBRX_IMPL)) && !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
/* Linux: madvise (huge pages for large heap blocks, see lbrx_alloc) is outside POSIX. */
#if (defined(LBRX_IMPLEMENTATION) || defined(LBRX_IMPL)) && defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
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
#include <stdio.h>

#ifndef LBRX_MAX_DIMS
#define LBRX_MAX_DIMS 8
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LBRX__UNUSED __attribute__((unused))
#else
#define LBRX__UNUSED
#endif
#ifdef LBRX_STATIC
#define LBRXDEF static LBRX__UNUSED
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
   A zeroed struct (or NULL where one is taken) means the default: LBRX_MALLOC/LBRX_FREE. On Linux
   the default aligns blocks of 4 MiB and more to 2 MiB and advises transparent huge pages for them
   (madvise MADV_HUGEPAGE; streaming reads from DRAM gain 5-9 %); the first touch of each 2 MiB may
   then wait for the kernel to assemble a huge page. LBRX_NO_HUGE_PAGES turns this off. */
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
LBRXDEF lbrx_result lbrx_storage_create(lbrx_storage **out, size_t size, size_t alignment,
                                       const lbrx_allocator *allocator, lbrx_error *err);

/* Map a file read-only (mmap / MapViewOfFile). Paths are UTF-8 on every system. An empty file
   maps to a storage of size 0 with a non-NULL data pointer. A directory, a missing file or a file
   larger than the address space gives LBRX_ERR_IO / LBRX_ERR_NOT_FOUND / LBRX_ERR_LIMIT. */
LBRXDEF lbrx_result lbrx_storage_open(lbrx_storage **out, const char *path,
                                          const lbrx_allocator *allocator, lbrx_error *err);

/* Map bytes [offset, offset + length) of an open file read-only and without copying (a model
   stored inside a bigger file: an APK's uncompressed asset, an archive); length UINT64_MAX
   means up to the end of the file. The descriptor stays the caller's: lbrx neither closes it nor
   uses it after the call. The storage's first byte is the one at `offset` (the mapping starts
   at the page below it; lbrx_tensor_host_region stays inside that mapping), so a reader opened
   on it (lbrx_gguf_open_storage, lbrx_safetensors_open_storage) counts every offset, GGUF's
   alignment included, from the model's start. Under LBRX_NO_MMAP the region is read into the
   heap. LBRX_ERR_BAD_OFFSET when the region is not inside the file (error offset: `offset`),
   LBRX_ERR_IO for a descriptor that is not open or not a regular file, LBRX_ERR_LIMIT past half
   the address space. On Windows fd is a C runtime descriptor (_open). */
LBRXDEF lbrx_result lbrx_storage_open_fd(lbrx_storage **out, int fd, uint64_t offset, uint64_t length,
                                        const lbrx_allocator *allocator, lbrx_error *err);
/* lbrx_storage_open_fd for a Windows file HANDLE (opened with GENERIC_READ); the handle stays
   the caller's. LBRX_ERR_UNSUPPORTED on other systems. */
LBRXDEF lbrx_result lbrx_storage_open_handle(lbrx_storage **out, void *handle, uint64_t offset, uint64_t length,
                                            const lbrx_allocator *allocator, lbrx_error *err);

/* Wrap memory the caller owns (an arena, a GPU buffer on unified memory, a MTLBuffer's
   contents). `release` (may be NULL) is called with (ptr, size, user) when the last reference
   goes. `writable` says whether kernels may write through tensors on it. */
LBRXDEF lbrx_result lbrx_storage_create_external(lbrx_storage **out, void *ptr, size_t size, int writable,
                                      lbrx_release_fn release, void *user,
                                      const lbrx_allocator *allocator, lbrx_error *err);

LBRXDEF void lbrx_storage_retain(lbrx_storage *s);
/* Drop one reference; the last one unmaps / frees / calls the release callback. NULL is ok. */
LBRXDEF void lbrx_storage_release(lbrx_storage *s);
LBRXDEF lbrx_storage_kind lbrx_storage_kind_of(const lbrx_storage *s);
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
} lbrx_tensor;

/* Describe a contiguous tensor at byte `offset` of `storage`, taking a new reference to it.
   Checks that the element count and byte size fit and that the bytes lie inside the storage. */
LBRXDEF lbrx_result lbrx_tensor_init(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                     lbrx_storage *storage, uint64_t offset, lbrx_error *err);
/* Allocate a contiguous tensor on new heap storage (zeroed, 64-byte aligned). */
LBRXDEF lbrx_result lbrx_tensor_init_heap(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                      const lbrx_allocator *allocator, lbrx_error *err);
/* Describe a contiguous tensor over memory the caller keeps alive (storage NULL, no reference). */
LBRXDEF lbrx_result lbrx_tensor_init_memory(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                         void *data, lbrx_error *err);
/* Drop the storage reference and clear the struct. Safe on a zeroed or released tensor. */
LBRXDEF void lbrx_tensor_release(lbrx_tensor *t);

/* Elements (product of the shape; 1 for rank 0) into *out; LBRX_ERR_OVERFLOW past INT64_MAX. */
LBRXDEF lbrx_result lbrx_tensor_nelements(const lbrx_tensor *t, int64_t *out);
/* Bytes of the contiguous layout of the tensor's shape and dtype. */
LBRXDEF lbrx_result lbrx_tensor_nbytes(const lbrx_tensor *t, size_t *out);
/* Rows (product of all dimensions but the last; 1 for rank 0 and 1; 0 for an empty tensor,
   one with a zero dimension, whose other dimensions' product may not fit). */
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
LBRXDEF lbrx_result lbrx_tensor_slice_rows(const lbrx_tensor *t, int64_t begin, int64_t end,
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
   File formats: what the GGUF and safetensors readers and writers share
   ============================================================================================ */

/* Options of the readers' open functions (lbrx_gguf_open*, lbrx_safetensors_open*): one struct
   for every format. A zeroed struct, or NULL where one is taken, means the defaults. */
typedef struct lbrx_open_desc {
    lbrx_allocator allocator;  /* for the reader's index and names and, opening a path, the mapping */
} lbrx_open_desc;

/* What a model file is, from its content (never its name): lbrx_format_detect. */
typedef enum lbrx_format {
    LBRX_FORMAT_UNKNOWN = 0,
    LBRX_FORMAT_GGUF,               /* a GGUF file (magic "GGUF"; or "FUGG", big-endian) */
    LBRX_FORMAT_GGUF_SPLIT,         /* a GGUF shard of a split set: key split.count above 1 */
    LBRX_FORMAT_SAFETENSORS,        /* a safetensors file: 8-byte header length, then JSON '{' */
    LBRX_FORMAT_SAFETENSORS_INDEX   /* JSON text (a sharded checkpoint's model.safetensors.index.json) */
} lbrx_format;

/* Say what the `size` bytes at `data` (a whole file, or at least its header) are, from their
   content. GGUF by its magic; a split GGUF shard by a split.count key above 1 among the
   metadata (v2/v3; a key past the bytes given is not seen). safetensors when the first 8 bytes
   are a length below 2^56 (the top byte is 0, which JSON text never has) followed, after JSON
   whitespace, by '{' (a length past the end still counts: the reader then says it is truncated).
   An index when the bytes start, after JSON whitespace, with '{'. Whatever the length's low byte
   is ('{', space, tab, CR or LF included), a safetensors file is never taken for JSON. Nothing is
   validated: the readers do that. Thread safe. "gguf", "gguf-split", "safetensors",
   "safetensors-index", "unknown" are the names lbrx_format_name gives. */
LBRXDEF lbrx_format lbrx_format_detect(const void *data, size_t size);
LBRXDEF const char *lbrx_format_name(lbrx_format f);

/* Producer of a tensor's bytes for the streaming writers (lbrx_gguf_writer_add_tensor_fill,
   lbrx_safetensors_write_desc.fill): write rows [row_begin, row_begin + row_count) of tensor
   `index` (GGUF: the order it was added in; safetensors: its index in desc.tensors), named
   `name`, to dst as packed rows of its dtype. Rows are counted over all dimensions but the last;
   a rank-0 or rank-1 tensor has one. Called in row order, a few MiB at a time. Return LBRX_OK,
   or an error (filled into err) that stops the write. */
typedef lbrx_result (*lbrx_fill_fn)(void *user, size_t index, const char *name, int64_t row_begin,
                                    int64_t row_count, void *dst, lbrx_error *err);

/* ============================================================================================
   f16 and bf16
   ============================================================================================ */

/* Exact conversions: subnormals and infinities kept; f32 -> f16/bf16 rounds to nearest even.
   NaN stays NaN with its sign and upper payload bits; f16 -> f32 and f32 -> f16/bf16 make it
   quiet (as F16C and NEON do), bf16 -> f32 is the plain 16-bit shift. Rows accept unaligned
   pointers and give the same bits with and without SIMD. Thread safe. */
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

/* Quantize n floats (n a multiple of 32, checked with LBRX_ASSERT) into n/32 blocks of Q8_0
   (34 B), Q4_0 (18 B), Q4_1 (20 B) or Q8_1 (36 B): the same bytes as GGML's reference quantizers
   (quantize_row_*_ref), whatever the compiler's floating-point contraction. dst may have any
   alignment. NaN or infinite inputs give defined but meaningless blocks. Thread safe. */
LBRXDEF void lbrx_quantize_row_q8_0(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q4_0(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q4_1(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q8_1(const float *src, void *dst, int64_t n);
/* The same for Q5_0 (22 B), Q5_1 (24 B) and IQ4_NL (18 B) blocks of 32, and Q2_K (84 B), Q3_K
   (110 B), Q4_K (144 B), Q5_K (176 B), Q6_K (210 B) and IQ4_XS (136 B) super-blocks of 256 (n a
   multiple of 256): GGML's bytes without an importance matrix (quantize_row_*_ref; IQ4 as
   ggml_quantize_chunk, which tries 7 scales each side), whatever the compiler's contraction. */
LBRXDEF void lbrx_quantize_row_q5_0(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q5_1(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q2_k(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q3_k(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q4_k(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q5_k(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_q6_k(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_iq4_nl(const float *src, void *dst, int64_t n);
LBRXDEF void lbrx_quantize_row_iq4_xs(const float *src, void *dst, int64_t n);
/* Quantize n floats into a row of type t: F32 (copy), F16, BF16 (round to nearest even),
   Q8_0, Q4_0, Q4_1, Q8_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS.
   LBRX_ERR_BAD_DTYPE (unknown t), LBRX_ERR_BAD_SHAPE (n negative or not a multiple of the block
   size), LBRX_ERR_UNSUPPORTED (other types); n = 0 with NULL pointers is a valid way to ask
   whether t is supported. Thread safe. */
LBRXDEF lbrx_result lbrx_quantize_row(lbrx_dtype t, const float *src, void *dst, int64_t n);
/* n elements of type t (any alignment) to f32: F32, F16, BF16, F64, I8..I64, U8..U64, BOOL
   (0 or 1), F8_E4M3 (fn: no infinities, S.1111.111 is NaN), F8_E5M2, and the block types Q4_0,
   Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS, TQ1_0, TQ2_0
   (bit for bit GGML's dequantize_row_*; SIMD and scalar builds agree). 64-bit integers round to
   the nearest float. LBRX_ERR_UNSUPPORTED for the other IQ types and MXFP4; errors as
   lbrx_quantize_row. Thread safe. */
LBRXDEF lbrx_result lbrx_dequantize_row(lbrx_dtype t, const void *src, float *dst, int64_t n);
/* Convert a whole tensor (any strides) into a new contiguous tensor of dtype `to` on the heap
   (allocator may be NULL), row by row through f32: `to` is one lbrx_quantize_row writes, the
   source one lbrx_dequantize_row reads. The same dtype is copied byte for byte (any dtype).
   Thread safe; no scratch beyond 16 KiB of stack. */
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

/* desc may be NULL (defaults). Thread safety: a context is used by one call at a time. Every
   kernel also accepts a NULL context: one thread, scratch allocated for the call. */
LBRXDEF lbrx_result lbrx_context_create(lbrx_context **out, const lbrx_context_desc *desc, lbrx_error *err);
LBRXDEF void lbrx_context_destroy(lbrx_context *ctx);
LBRXDEF int lbrx_context_threads(const lbrx_context *ctx);
LBRXDEF void lbrx_context_set_threads(lbrx_context *ctx, int n_threads);
/* 64-byte-aligned scratch of at least `bytes`, valid until the next call that asks for scratch.
   Grows (one allocation) when too small; NULL when that allocation fails. */
LBRXDEF void *lbrx_context_scratch(lbrx_context *ctx, size_t bytes);

/* ==== matmul (API) ========================================================================== */

/* y[n, out] = x[n, in] . W[out, in]^T, the Linear-layer product (PyTorch's and GGUF's layout).
     w  rank 2 [out, in] in F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL (in a multiple
        of 32), Q4_K, Q5_K, Q6_K, Q3_K, Q2_K or IQ4_XS (in a multiple of 256), used where it lies
        (a memory map is fine): the data pointer and the row stride (stride[0] > 0, bytes) may
        have any alignment; elements of a row are contiguous. Quantized rows hold whole blocks.
     x  F32, rank >= 1, last dimension `in`: all leading dimensions flatten into n rows. Any byte
        strides and alignment, but the last stride must be 4 (contiguous rows).
     y  F32 with the leading shape of x and last dimension `out`; any strides (last one 4); its
        rows must not overlap x or w. Every element of y is written (not accumulated).
   Quantized weights meet x quantized once per call to blocks of 32 int8 values with an f32
   scale, and exact integer block dot products; float weights are multiplied in f32 with fused
   multiply-add. For n >= LBRX_MATMUL_GEMM_MIN (and W of at least 32 rows, 64 for quantized
   weights) the weights are cache-blocked and packed per call so each weight byte is read from
   memory once; otherwise the matrix-vector kernels stream the rows (each weight row is read once
   and used for all n rows of x).
   Determinism: the result is bit-identical for every thread count and every split into
   lbrx_matmul_rows ranges. It depends on n (and W's row count) only through the kernel choice above: the tiled
   kernels (and the scalar build) sum each output in order over `in` (blocks for quantized
   weights) with one fused multiply-add per step; the matrix-vector kernels sum in SIMD lanes.
   Threads: the context's count (OpenMP); a NULL ctx is one thread. Scratch: the context's,
   grown on first use to about 3*n*in bytes for quantized weights and 16*n for float ones (x is
   read where it lies), plus 0.5 MiB per thread for n >= LBRX_MATMUL_GEMM_MIN; no allocation
   after (a NULL ctx allocates it for the call).
   Errors: LBRX_ERR_INVALID_ARGUMENT (NULL tensors, bad strides or range; overlap is not
   checked), LBRX_ERR_BAD_SHAPE (shapes that do not fit), LBRX_ERR_BAD_DTYPE (another weight
   dtype, x or y not f32), LBRX_ERR_OUT_OF_MEMORY (scratch).
   Thread safety: one call at a time per context; w and x are only read. */
LBRXDEF lbrx_result lbrx_matmul(lbrx_context *ctx, const lbrx_tensor *w, const lbrx_tensor *x,
                                lbrx_tensor *y, lbrx_error *err);

/* lbrx_matmul for the output columns [out_begin, out_end) only (the rows of W in that range);
   the other columns of y are left untouched. A host with its own thread pool splits one product
   by giving each of its threads its own context (1 thread) and a disjoint range: the results are
   bit-identical to one lbrx_matmul call. Each call quantizes (or packs) x for itself, which costs
   O(n*in) per call. Errors as lbrx_matmul, and LBRX_ERR_INVALID_ARGUMENT for a bad range. */
LBRXDEF lbrx_result lbrx_matmul_rows(lbrx_context *ctx, const lbrx_tensor *w, const lbrx_tensor *x,
                                     int64_t out_begin, int64_t out_end, lbrx_tensor *y,
                                     lbrx_error *err);

/* 1 if lbrx_matmul takes weights of dtype t. */
LBRXDEF int lbrx_matmul_supports(lbrx_dtype t);

/* Float weights repacked once, for a W that is multiplied many times with n >= LBRX_MATMUL_GEMM_MIN:
   lbrx_matmul packs the weights of each block again on every call (a few percent of a large
   product); a prepared W skips that. Optional: lbrx_matmul on W itself stays the zero-copy way. */
typedef struct lbrx_matmul_weights lbrx_matmul_weights;

/* Prepare w (rank 2 [out, in] in F32, F16 or BF16, any layout lbrx_matmul takes) into *out: a
   copy converted to f32 in the panel layout of the tiled kernels, about out*in*4 bytes (twice
   w's bytes for F16/BF16), allocated with `allocator` (NULL: the default). The object also keeps
   w's view and a reference to its storage, for the matrix-vector kernels that n below
   LBRX_MATMUL_GEMM_MIN uses; when w has no storage (borrowed memory) the caller keeps w's bytes
   alive as long as the object. Builds without tiled float kernels (no SIMD) keep no copy.
   Errors: LBRX_ERR_INVALID_ARGUMENT (NULL, bad row stride), LBRX_ERR_BAD_SHAPE (not rank 2),
   LBRX_ERR_BAD_DTYPE (another dtype; quantized weights have no prepared form), LBRX_ERR_OVERFLOW,
   LBRX_ERR_OUT_OF_MEMORY. Thread safety: w is only read; the object is immutable and may be
   used by any number of threads and contexts at a time. */
LBRXDEF lbrx_result lbrx_matmul_weights_create(lbrx_matmul_weights **out, const lbrx_tensor *w,
                                               const lbrx_allocator *allocator, lbrx_error *err);

/* Free a prepared W and drop its storage reference. Safe on NULL. Not while a product uses it. */
LBRXDEF void lbrx_matmul_weights_destroy(lbrx_matmul_weights *pw);

/* lbrx_matmul_rows with a prepared W: y's columns [out_begin, out_end) = x . W^T, bit-identical
   to lbrx_matmul_rows on the W it was prepared from (and so to lbrx_matmul), for every n,
   thread count and range; the context's scratch needs no per-thread weight buffer. Errors and
   thread safety as lbrx_matmul_rows (pw NULL: LBRX_ERR_INVALID_ARGUMENT). */
LBRXDEF lbrx_result lbrx_matmul_prepared_rows(lbrx_context *ctx, const lbrx_matmul_weights *pw,
                                              const lbrx_tensor *x, int64_t out_begin, int64_t out_end,
                                              lbrx_tensor *y, lbrx_error *err);

/* lbrx_matmul with a prepared W: all `out` columns (lbrx_matmul_prepared_rows over [0, out)). */
LBRXDEF lbrx_result lbrx_matmul_prepared(lbrx_context *ctx, const lbrx_matmul_weights *pw,
                                         const lbrx_tensor *x, lbrx_tensor *y, lbrx_error *err);

/* Rows of x (n) from which the tiled matrix-matrix kernels are used. */
#define LBRX_MATMUL_GEMM_MIN 8

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
    const float *freq_factors;  /* optional n_dims/2 values > 0: theta_i is divided by freq_factors[i]
                                   (GGUF's rope_freqs.weight, Llama 3.x's frequency-dependent scaling) */
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
   tile). Decoding, i.e. up to 16 query rows per KV head (n_q * n_head / n_kv_head <= 16: one token,
   or a few tokens of speculative decoding or a small batch), splits the keys into chunks of 256
   that threads share (flash-decoding); each chunk keeps head_dim floats per query row and 32 per
   KV head, so its scratch grows with n_kv: about n_kv / 256 * (n_q * n_head * head_dim + 32 *
   n_kv_head) * 4 bytes (1 MiB for 16384 keys and 32 query heads of 128), from ctx's scratch.
     q:   [n_q, n_head, head_dim] f32
     k,v: [n_kv, n_kv_head, head_dim] f32 or f16 (the KV cache; both of one dtype). n_head is a
          multiple of n_kv_head: query head h reads KV head h / (n_head / n_kv_head) (GQA/MQA).
     out: [n_q, n_head, head_dim] f32 (must not overlap q, k or v).
   head_dim: any size from 1 to 512 (rows are padded to whole vectors inside). Query i sits at position
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
    float softcap;              /* > 0: each scaled score s becomes softcap * tanh(s / softcap) before
                                   the mask (Gemma 2's attn_logit_softcapping); 0: none */
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

/* lbrx stays a CPU library; these helpers move tensors to and from an accelerator through a
   small table of functions that you implement over your GPU API (CUDA, Metal, Vulkan). lbrx
   never calls a GPU API itself. A device buffer is an opaque handle (`void *`): a CUDA device
   pointer, an id<MTLBuffer>, a struct of VkBuffer and memory. Each function gets the table's
   `user` pointer first; on failure it returns a code and may fill `err` (lbrx__errorf style).
   Thread safety: lbrx keeps no state besides the table; the helpers may be called from several
   threads where your functions allow it (pools excepted, see below). */
typedef struct lbrx_device {
    void *user;
    /* Required. A new buffer of `size` (> 0) bytes into *buffer. */
    lbrx_result (*alloc)(void *user, size_t size, void **buffer, lbrx_error *err);
    /* Required. Free a buffer from alloc. */
    void (*free)(void *user, void *buffer);
    /* Required. Copy `size` bytes from host memory `src` to bytes [offset, offset+size) of buffer. */
    lbrx_result (*upload)(void *user, void *buffer, size_t offset, const void *src, size_t size, lbrx_error *err);
    /* Required. Copy bytes [offset, offset+size) of buffer to host memory `dst`. */
    lbrx_result (*download)(void *user, void *buffer, size_t offset, void *dst, size_t size, lbrx_error *err);
    /* Optional (NULL: no zero-copy). Make host memory [base, base+size), both multiples of the
       page size, usable as a device buffer without copying it (cudaHostRegister, Metal
       newBufferWithBytesNoCopy). `writable` is 0 for read-only memory such as a mapped file. */
    lbrx_result (*wrap_host)(void *user, void *base, size_t size, int writable, void **buffer, lbrx_error *err);
    /* Optional (with wrap_host). Undo wrap_host; called before the host memory can go away. */
    void (*unwrap_host)(void *user, void *buffer);
    /* Host memory for staging non-contiguous tensors, for host tensors made by
       lbrx_device_to_host and for pool bookkeeping. Zeroed: the default allocator. */
    lbrx_allocator allocator;
    /* Bytes of host staging used to pack a non-contiguous tensor; 0: 4 MiB. */
    size_t staging_bytes;
} lbrx_device;

typedef struct lbrx_device_pool lbrx_device_pool;

typedef enum lbrx_device_buffer_kind {
    LBRX_DEVICE_NONE = 0,   /* an empty tensor: no buffer */
    LBRX_DEVICE_OWNED,      /* from device->alloc; freed on release */
    LBRX_DEVICE_POOLED,     /* from a pool; given back to it on release */
    LBRX_DEVICE_WRAPPED,    /* host memory wrapped without copying; unwrapped on release */
    LBRX_DEVICE_VIEW        /* bytes inside another wrapped tensor's buffer; releases nothing */
} lbrx_device_buffer_kind;

/* A tensor in device memory: always contiguous (row-major, outermost dimension first), with the
   metadata a kernel needs to read it. Block formats keep GGML's raw blocks, so a kernel reads
   row r, block b at buffer + offset + r*row_bytes + b*block_bytes. Release each once. */
typedef struct lbrx_device_tensor {
    lbrx_dtype dtype;
    int ndim;
    int64_t shape[LBRX_MAX_DIMS];
    int64_t block_size;        /* elements per block: 1 for plain types, 32 for Q8_0 and Q4_0 */
    size_t block_bytes;        /* bytes per block (element size for plain types) */
    size_t row_bytes;          /* bytes of one row of shape[ndim-1] elements */
    int64_t nrows;             /* product of all dimensions but the last (1 for rank 0 and 1) */
    size_t nbytes;             /* nrows * row_bytes */
    void *buffer;              /* the device's handle (NULL for LBRX_DEVICE_NONE) */
    size_t offset;             /* byte offset of the first element inside buffer */
    size_t capacity;           /* bytes of the buffer (a pool's size class, a wrapped region) */
    lbrx_device_buffer_kind kind;
    const void *host;          /* WRAPPED and VIEW: host address of the first element; else NULL */
    const lbrx_device *device; /* the device it lives on; must outlive the tensor */
    lbrx_device_pool *pool;    /* POOLED: the pool it goes back to */
    lbrx_storage *storage;     /* WRAPPED: reference that keeps the host memory alive */
} lbrx_device_tensor;

/* A device tensor of `dtype` and `shape` with an uninitialized buffer (for the outputs of device
   kernels), from `pool` when not NULL (its device must be `dev`), else from dev->alloc. An
   empty shape gets no buffer (LBRX_DEVICE_NONE). On failure *out is zeroed. */
LBRXDEF lbrx_result lbrx_device_tensor_init(lbrx_device_tensor *out, const lbrx_device *dev, lbrx_device_pool *pool,
                                            lbrx_dtype dtype, int ndim, const int64_t *shape, lbrx_error *err);
/* Copy a host tensor of any dtype and layout into a new device buffer, from `pool` when not
   NULL (its device must be `dev`), else from dev->alloc. A contiguous tensor goes up in one
   upload call; a view is packed into contiguous order through host staging of
   dev->staging_bytes (block rows copied as raw blocks), one upload per staging chunk. An empty
   tensor gets no buffer. On failure nothing is left allocated and *out is zeroed. */
LBRXDEF lbrx_result lbrx_device_upload(const lbrx_device *dev, lbrx_device_pool *pool, const lbrx_tensor *t,
                                       lbrx_device_tensor *out, lbrx_error *err);
/* Copy a device tensor into an existing host tensor of the same dtype and shape and any
   strides (a view of a bigger tensor is filled in place). The host storage must be writable.
   One download when `dst` is contiguous, else one per staging chunk. */
LBRXDEF lbrx_result lbrx_device_download(const lbrx_device_tensor *dt, lbrx_tensor *dst, lbrx_error *err);
/* Copy a device tensor into a new contiguous heap tensor (dt->device->allocator) with the same
   dtype and shape. Release *out with lbrx_tensor_release. */
LBRXDEF lbrx_result lbrx_device_to_host(const lbrx_device_tensor *dt, lbrx_tensor *out, lbrx_error *err);
/* Zero-copy: give the device the page-aligned host region of a contiguous tensor
   (lbrx_tensor_host_region) through dev->wrap_host, copying nothing. The device tensor holds a
   reference to t's storage, so the host tensor may be released first. For mapped weights wrap
   the whole file once (a U8 tensor over the storage) and describe each weight with
   lbrx_device_view: CUDA refuses to register overlapping page ranges twice.
   LBRX_ERR_UNSUPPORTED when the device has no wrap_host; LBRX_ERR_INVALID_ARGUMENT for a
   non-contiguous tensor (upload it instead). */
LBRXDEF lbrx_result lbrx_device_wrap(const lbrx_device *dev, const lbrx_tensor *t, lbrx_device_tensor *out,
                                     lbrx_error *err);
/* Describe a contiguous host tensor lying inside the host bytes of `base` (a WRAPPED or VIEW
   device tensor) as a device tensor in base's buffer: no copy, no new wrapping. Release *out
   before base. LBRX_ERR_BAD_OFFSET when t's bytes are not inside base's. */
LBRXDEF lbrx_result lbrx_device_view(const lbrx_device_tensor *base, const lbrx_tensor *t, lbrx_device_tensor *out,
                                     lbrx_error *err);
/* Free, give back to the pool, or unwrap (and drop the storage reference), as the kind says;
   then zero the struct. Safe on a zeroed or released device tensor. */
LBRXDEF void lbrx_device_tensor_release(lbrx_device_tensor *dt);

/* A pool of device buffers: a released buffer is kept in its size class (256 bytes, else a
   power of two or 1.25, 1.5 or 1.75 times one: at most 25% over the request) and handed out
   again for the next request of that class, so repeated activations of one shape never reach
   dev->alloc. When dev->alloc fails the pool frees its cached buffers and tries once more.
   Thread safety: a pool is not thread safe; use it from one thread at a time (lock around it,
   or give each thread its own). `dev` must outlive the pool. */
typedef struct lbrx_device_pool_stats {
    uint64_t hits;             /* requests served from the cache */
    uint64_t misses;           /* requests that called dev->alloc */
    size_t cached_buffers, cached_bytes;  /* kept for reuse now */
    size_t live_buffers, live_bytes;      /* handed out and not yet released */
} lbrx_device_pool_stats;

/* A new pool over `dev`. max_cached_bytes caps the bytes it keeps (0: no cap); a released
   buffer that would pass the cap is freed instead. */
LBRXDEF lbrx_result lbrx_device_pool_create(lbrx_device_pool **out, const lbrx_device *dev, size_t max_cached_bytes,
                                            lbrx_error *err);
/* The size class that a request of `size` bytes gets (>= size). */
LBRXDEF size_t lbrx_device_pool_size_class(size_t size);
/* A buffer of at least `size` bytes; *capacity receives its size class. */
LBRXDEF lbrx_result lbrx_device_pool_alloc(lbrx_device_pool *pool, size_t size, void **buffer, size_t *capacity,
                                           lbrx_error *err);
/* Give back a buffer from lbrx_device_pool_alloc, with the capacity it came with. */
LBRXDEF void lbrx_device_pool_free(lbrx_device_pool *pool, void *buffer, size_t capacity);
/* Free every cached buffer (buffers handed out stay valid). */
LBRXDEF void lbrx_device_pool_trim(lbrx_device_pool *pool);
/* The pool's counters into *out (zeroed for a NULL pool). */
LBRXDEF void lbrx_device_pool_stats_of(const lbrx_device_pool *pool, lbrx_device_pool_stats *out);
/* Free the cached buffers and the pool. Release every tensor and buffer from it first. NULL ok. */
LBRXDEF void lbrx_device_pool_destroy(lbrx_device_pool *pool);

/* A device whose memory is host memory: a reference implementation of the table, a fallback
   where no GPU exists, and the backend of the tests. It checks every range against the buffer
   and counts every call and byte, so a test can assert that the zero-copy path copied nothing.
   wrap_host keeps the host pointer itself. The counters are plain integers: one thread at a time. */
typedef struct lbrx_device_host {
    lbrx_allocator allocator;      /* for its buffers */
    uint64_t allocs, frees;        /* alloc / free calls */
    uint64_t uploads, upload_bytes, downloads, download_bytes;
    uint64_t wraps, unwraps;       /* wrap_host / unwrap_host calls */
    int64_t live_buffers;          /* allocs - frees + wraps - unwraps */
} lbrx_device_host;

/* Fill *dev with the host backend over *host, which must outlive it; counters zeroed;
   `allocator` (NULL: default) serves the buffers, the staging and the pool bookkeeping. */
LBRXDEF void lbrx_device_host_init(lbrx_device *dev, lbrx_device_host *host, const lbrx_allocator *allocator);
/* Host address of a host-backend device tensor's first element (its buffer's memory plus its
   offset): run CPU kernels on it. NULL for an empty tensor or one of another backend. */
LBRXDEF void *lbrx_device_host_data(const lbrx_device_tensor *dt);

/* ==== end device interface (API) ============================================================ */

/* Private helpers shared with lbrx_gguf.h and lbrx_safetensors.h; not part of the API. */
/* Storage class of private functions: static (and marked unused under LBRX_STATIC, where the
   public ones are static too and a program may call only some of them). */
#ifdef LBRX_STATIC
#define LBRX__PRIVATE static LBRX__UNUSED
#else
#define LBRX__PRIVATE static
#endif
/* The `offset` of an lbrx_error that concerns no file position. */
#define LBRX__NO_OFFSET UINT64_MAX
/* Fill *err (if not NULL) with r, offset (UINT64_MAX: none) and a printf-style message. */
#if defined(__MINGW32__)
__attribute__((format(gnu_printf, 4, 5)))
#elif defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
LBRXDEF void lbrx__error_fill(lbrx_error *err, lbrx_result r, uint64_t offset, const char *fmt, ...);
/* lbrx__error_fill, and the value r: `return lbrx__errorf(err, LBRX_ERR_IO, offset, "...", ...);`.
   A macro (r is evaluated twice: pass a constant or a variable) so that the optimizer sees which
   result each error path returns and does not warn about outputs an error path leaves unset. */
#define lbrx__errorf(err, r, offset, ...) (lbrx__error_fill((err), (r), (offset), __VA_ARGS__), (lbrx_result)(r))
/* Put "prefix: " before err's message (err may be NULL): the file a shard's error came from. */
LBRXDEF void lbrx__error_prefix(lbrx_error *err, const char *prefix);
/* Check a shape against a dtype (rank, sign, block multiple, overflow); optionally return the
   contiguous byte strides and the byte size. */
LBRXDEF lbrx_result lbrx__shape_layout(lbrx_dtype dtype, int ndim, const int64_t *shape, int64_t *stride,
                                       size_t *nbytes, lbrx_error *err);
/* Length of the well-formed UTF-8 sequence at s (of at most n >= 1 bytes), 0 if it is not one
   (overlong forms, surrogates and code points above U+10FFFF are not well-formed). */
LBRXDEF size_t lbrx__utf8_seq(const unsigned char *s, size_t n);
/* 1 if the n bytes at s are well-formed UTF-8 (NUL bytes included). */
LBRXDEF int lbrx__utf8_valid(const char *s, size_t n);
/* FNV-1a hash of n bytes, folded to size_t. */
LBRXDEF size_t lbrx__hash_bytes(const void *p, size_t n);
/* An open-addressing index of names (the file readers' key and tensor lookup): slot[h] holds an
   item's index + 1, 0 is empty. The items stay the caller's; name_at gives item i's name (len
   bytes, need not be NUL-terminated). */
typedef struct lbrx__name_index {
    size_t *slot;
    size_t mask;
} lbrx__name_index;
typedef const char *(*lbrx__name_at_fn)(const void *items, size_t i, size_t *len);
/* Index items [0, n). LBRX_ERR_DUPLICATE with *dup = the later index of a repeated name (the
   index then holds the items before it, so lbrx__name_index_find gives the earlier one);
   LBRX_ERR_OUT_OF_MEMORY. Free ix->slot with lbrx_free(a, ...) in every case. */
LBRXDEF lbrx_result lbrx__name_index_build(lbrx__name_index *ix, const lbrx_allocator *a, size_t n,
                                           lbrx__name_at_fn name_at, const void *items, size_t *dup);
/* Index of the item named by the len bytes at name, or SIZE_MAX. */
LBRXDEF size_t lbrx__name_index_find(const lbrx__name_index *ix, const char *name, size_t len,
                                     lbrx__name_at_fn name_at, const void *items);
/* What a file writer writes into the open file f. */
typedef lbrx_result (*lbrx__file_body_fn)(FILE *f, void *user, lbrx_error *err);
/* Create (or replace) the file at `path`, UTF-8 on every system (_wfopen on Windows), write it
   with body(f, user, err) and close it; on any failure the file is removed. a: for the wide
   path on Windows. */
LBRXDEF lbrx_result lbrx__write_file(const char *path, lbrx__file_body_fn body, void *user, const lbrx_allocator *a,
                                     lbrx_error *err);
/* Where the streaming writers send bytes: 0 on success, non-zero on failure. */
typedef int (*lbrx__sink_fn)(const void *data, size_t size, void *user);
/* Stream a tensor of `dtype` and shape (validated) produced by fill (tensor `index`, `name`) to
   sink in chunks of rows of at most about 4 MiB, through one buffer from allocator a. A sink
   failure is LBRX_ERR_IO. */
LBRXDEF lbrx_result lbrx__fill_stream(lbrx_fill_fn fill, void *user, size_t index, const char *name, lbrx_dtype dtype,
                                      int ndim, const int64_t *shape, lbrx__sink_fn sink, void *sink_user,
                                      const lbrx_allocator *a, lbrx_error *err);

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
#if defined(__AVX512VBMI__)
#define LBRX__AVX512VBMI 1
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
/* g++ before 13 warns about the AVX-512 intrinsics' own deliberately undefined temporaries
   (GCC bug 105593); silenced for lbrx's code only, restored at the end of the implementation. */
#if defined(LBRX__AVX512) && defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define LBRX__GCC_BUG_105593 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
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
#include <io.h>
#else
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#if !defined(LBRX_NO_MMAP) || defined(__linux__)
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

LBRXDEF void lbrx__error_fill(lbrx_error *err, lbrx_result r, uint64_t offset, const char *fmt, ...) {
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
}

LBRXDEF void lbrx__error_prefix(lbrx_error *err, const char *prefix) {
    size_t np, nm, cap;
    if (!err) return;
    cap = sizeof err->message - 1;
    np = strlen(prefix);
    if (np > cap - 2) np = cap - 2;
    nm = strlen(err->message);
    if (nm > cap - np - 2) nm = cap - np - 2;
    memmove(err->message + np + 2, err->message, nm);
    memcpy(err->message, prefix, np);
    err->message[np] = ':';
    err->message[np + 1] = ' ';
    err->message[np + 2 + nm] = 0;
}

LBRXDEF size_t lbrx__utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t k, i;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) k = 2;
    else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (n < k || s[1] < lo || s[1] > hi) return 0;
    for (i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return k;
}

LBRXDEF int lbrx__utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k;
    while (i < n) {
        if (!(k = lbrx__utf8_seq(u + i, n - i))) return 0;
        i += k;
    }
    return 1;
}

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

/* Blocks of LBRX__HUGE_MIN bytes or more from the default allocator start on a 2 MiB boundary and,
   on Linux, are advised for transparent huge pages (madvise MADV_HUGEPAGE): a read that streams
   through them (a KV cache, weights read into the heap) then needs one TLB entry per 2 MiB instead
   of one per 4 KiB. On the 2-core test VM, decoding's attention reads its f16 cache 5-8 % faster
   from DRAM and the matrix-vector products read weights 5-9 % faster (bench/RESULTS.md). The
   advice is a hint: where the system refuses it (THP set to "never", a kernel without THP) the
   block is used as it is. LBRX_NO_HUGE_PAGES leaves it out; a caller's lbrx_allocator decides for
   itself. */
#if defined(__linux__) && defined(MADV_HUGEPAGE) && !defined(LBRX_NO_HUGE_PAGES)
#define LBRX__HUGE_PAGE ((size_t)2 << 20)
#define LBRX__HUGE_MIN (2 * LBRX__HUGE_PAGE)
#endif

/* The default allocator over-allocates from LBRX_MALLOC and stores the original pointer just
   before the aligned block. */
LBRX__PRIVATE void *lbrx__default_alloc(size_t size, size_t alignment) {
    size_t total;
    unsigned char *raw, *p;
#ifdef LBRX__HUGE_PAGE
    const int huge = size >= LBRX__HUGE_MIN;
    if (huge && alignment < LBRX__HUGE_PAGE) alignment = LBRX__HUGE_PAGE;
#endif
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (!lbrx_add_size(size, alignment + sizeof(void *), &total)) return 0;
    raw = (unsigned char *)LBRX_MALLOC(total);
    if (!raw) return 0;
    p = raw + sizeof(void *);
    p += (alignment - (size_t)((uintptr_t)p & (alignment - 1))) & (alignment - 1);
    memcpy(p - sizeof(void *), &raw, sizeof raw);
#ifdef LBRX__HUGE_PAGE
    if (huge) (void)madvise(p, size & ~(LBRX__HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
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
   Shared by the file formats: name index, streaming of filled tensors
   ============================================================================================ */

LBRX__PRIVATE int lbrx__json_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The value of a GGUF v2/v3 image's integer key split.count, 0 when absent, not an integer or not
   within the `size` bytes. A lenient walk over the metadata for lbrx_format_detect only: the
   GGUF reader validates every field. */
LBRX__PRIVATE uint64_t lbrx__gguf_split_count(const unsigned char *p, size_t size) {
    static const unsigned char fixed[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};  /* by value type */
    uint64_t n_kv, i, len, count, j, v;
    uint32_t version, type, et;
    size_t pos = 24;
    if (size < 24) return 0;
    memcpy(&version, p + 4, 4);
    if (version != 2 && version != 3) return 0;
    memcpy(&n_kv, p + 16, 8);
    for (i = 0; i < n_kv; i++) {
        const unsigned char *key;
        if (size - pos < 8) return 0;
        memcpy(&len, p + pos, 8);
        pos += 8;
        if (len > size - pos || size - pos - (size_t)len < 4) return 0;
        key = p + pos;
        pos += (size_t)len;
        memcpy(&type, p + pos, 4);
        pos += 4;
        if (type >= 13) return 0;
        if (type == 9) {  /* array: element type, count, elements */
            if (size - pos < 12) return 0;
            memcpy(&et, p + pos, 4);
            memcpy(&count, p + pos + 4, 8);
            pos += 12;
            if (et >= 13 || et == 9) return 0;
            if (et != 8) {
                if (count > (size - pos) / fixed[et]) return 0;
                pos += (size_t)count * fixed[et];
                continue;
            }
            for (j = 0; j < count; j++) {
                if (size - pos < 8) return 0;
                memcpy(&len, p + pos, 8);
                if (len > size - pos - 8) return 0;
                pos += 8 + (size_t)len;
            }
            continue;
        }
        if (type == 8) {  /* string */
            if (size - pos < 8) return 0;
            memcpy(&len, p + pos, 8);
            if (len > size - pos - 8) return 0;
            pos += 8 + (size_t)len;
            continue;
        }
        if (size - pos < fixed[type]) return 0;
        if (len == 11 && memcmp(key, "split.count", 11) == 0 && type != 6 && type != 7 && type != 12) {
            v = 0;  /* unsigned and signed integers of 1..8 bytes, little-endian */
            for (j = 0; j < fixed[type]; j++) v |= (uint64_t)p[pos + j] << (8 * j);
            if ((type == 1 || type == 3 || type == 5 || type == 11) && (p[pos + fixed[type] - 1] & 0x80)) return 0;
            return v;
        }
        pos += fixed[type];
    }
    return 0;
}

LBRXDEF lbrx_format lbrx_format_detect(const void *data, size_t size) {
    const unsigned char *p = (const unsigned char *)data;
    size_t i;
    if (!p) return LBRX_FORMAT_UNKNOWN;
    if (size >= 4 && memcmp(p, "FUGG", 4) == 0) return LBRX_FORMAT_GGUF;
    if (size >= 4 && memcmp(p, "GGUF", 4) == 0)
        return lbrx__gguf_split_count(p, size) > 1 ? LBRX_FORMAT_GGUF_SPLIT : LBRX_FORMAT_GGUF;
    if (size >= 9 && p[7] == 0) {  /* a header length below 2^56: JSON text has no NUL byte */
        for (i = 8; i < size && lbrx__json_ws(p[i]); i++) {}
        if (i < size && p[i] == '{') return LBRX_FORMAT_SAFETENSORS;
        return LBRX_FORMAT_UNKNOWN;
    }
    for (i = 0; i < size && lbrx__json_ws(p[i]); i++) {}
    return i < size && p[i] == '{' ? LBRX_FORMAT_SAFETENSORS_INDEX : LBRX_FORMAT_UNKNOWN;
}

LBRXDEF const char *lbrx_format_name(lbrx_format f) {
    switch (f) {
    case LBRX_FORMAT_GGUF: return "gguf";
    case LBRX_FORMAT_GGUF_SPLIT: return "gguf-split";
    case LBRX_FORMAT_SAFETENSORS: return "safetensors";
    case LBRX_FORMAT_SAFETENSORS_INDEX: return "safetensors-index";
    default: return "unknown";
    }
}

LBRXDEF size_t lbrx__hash_bytes(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 14695981039346656037ULL;
    size_t i;
    for (i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ULL; }
    return (size_t)(h ^ (h >> 32));
}

LBRXDEF size_t lbrx__name_index_find(const lbrx__name_index *ix, const char *name, size_t len,
                                     lbrx__name_at_fn name_at, const void *items) {
    size_t h;
    if (!ix->slot) return SIZE_MAX;
    for (h = lbrx__hash_bytes(name, len) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask) {
        size_t l;
        const char *s = name_at(items, ix->slot[h] - 1, &l);
        if (l == len && memcmp(s, name, len) == 0) return ix->slot[h] - 1;
    }
    return SIZE_MAX;
}

LBRXDEF lbrx_result lbrx__name_index_build(lbrx__name_index *ix, const lbrx_allocator *a, size_t n,
                                           lbrx__name_at_fn name_at, const void *items, size_t *dup) {
    size_t cap = 16, i, bytes;
    ix->slot = 0;
    ix->mask = 0;
    while (cap < n * 2 + 1) {
        if (cap > SIZE_MAX / 4) return LBRX_ERR_OUT_OF_MEMORY;
        cap *= 2;
    }
    if (!lbrx_mul_size(cap, sizeof(size_t), &bytes)) return LBRX_ERR_OUT_OF_MEMORY;
    ix->slot = (size_t *)lbrx_alloc(a, bytes, 16);
    if (!ix->slot) return LBRX_ERR_OUT_OF_MEMORY;
    memset(ix->slot, 0, bytes);
    ix->mask = cap - 1;
    for (i = 0; i < n; i++) {
        size_t len, h;
        const char *s = name_at(items, i, &len);
        if (lbrx__name_index_find(ix, s, len, name_at, items) != SIZE_MAX) {
            *dup = i;
            return LBRX_ERR_DUPLICATE;
        }
        for (h = lbrx__hash_bytes(s, len) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask) {}
        ix->slot[h] = i + 1;
    }
    return LBRX_OK;
}

/* Bytes per chunk of rows that a fill callback produces at once. */
#define LBRX__FILL_CHUNK ((size_t)4 << 20)

LBRXDEF lbrx_result lbrx__fill_stream(lbrx_fill_fn fill, void *user, size_t index, const char *name, lbrx_dtype dtype,
                                      int ndim, const int64_t *shape, lbrx__sink_fn sink, void *sink_user,
                                      const lbrx_allocator *a, lbrx_error *err) {
    size_t row = lbrx_dtype_block_bytes(dtype), cap;
    int64_t nrows = 1, per, r0;
    int d;
    void *buf;
    lbrx_result r = LBRX_OK;
    for (d = 0; d < ndim; d++)
        if (shape[d] == 0) return LBRX_OK;  /* empty: nothing to write */
    for (d = 0; d + 1 < ndim; d++) nrows *= shape[d];  /* fits: the caller checked the shape */
    if (ndim > 0) lbrx_row_bytes(dtype, shape[ndim - 1], &row);
    if (nrows == 0 || row == 0) return LBRX_OK;
    per = (int64_t)(LBRX__FILL_CHUNK / row > 0 ? LBRX__FILL_CHUNK / row : 1);
    if (per > nrows) per = nrows;
    cap = (size_t)per * row;
    buf = lbrx_alloc(a, cap, 64);
    if (!buf) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "tensor '%s': out of memory for %zu bytes", name, cap);
    for (r0 = 0; r0 < nrows && r == LBRX_OK; r0 += per) {
        int64_t n = nrows - r0 < per ? nrows - r0 : per;
        r = fill(user, index, name, r0, n, buf, err);
        if (r == LBRX_OK && sink(buf, (size_t)n * row, sink_user))
            r = lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "tensor '%s': write of %zu bytes failed", name, (size_t)n * row);
    }
    lbrx_free(a, buf);
    return r;
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

LBRXDEF lbrx_result lbrx_storage_create(lbrx_storage **out, size_t size, size_t alignment,
                                       const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_storage *s;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_create: out is NULL");
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

LBRXDEF lbrx_result lbrx_storage_create_external(lbrx_storage **out, void *ptr, size_t size, int writable,
                                      lbrx_release_fn release, void *user,
                                      const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_storage *s;
    if (!out || (!ptr && size)) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_create_external: NULL pointer");
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

LBRXDEF lbrx_result lbrx__write_file(const char *path, lbrx__file_body_fn body, void *user, const lbrx_allocator *a,
                                     lbrx_error *err) {
    FILE *f;
    lbrx_result r;
#if defined(_WIN32)
    wchar_t *wpath = lbrx__utf8_to_wide(path, a);
    if (!wpath) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: path is not valid UTF-8", path);
    f = _wfopen(wpath, L"wb");
#else
    (void)a;
    f = fopen(path, "wb");
#endif
    if (!f) {
        r = lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot create", path);
    } else {
        r = body(f, user, err);
        if (fclose(f) != 0 && r == LBRX_OK) r = lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: write failed on close", path);
#if defined(_WIN32)
        if (r != LBRX_OK) _wremove(wpath);
#else
        if (r != LBRX_OK) remove(path);
#endif
    }
#if defined(_WIN32)
    lbrx_free(a, wpath);
#endif
    return r;
}

/* The file layer under lbrx_storage_open*, one version per system: lbrx__file_open (path to an
   open file), lbrx__file_size (a regular file's size), lbrx__file_map / lbrx__file_unmap (a
   read-only view of a span of it) or, under LBRX_NO_MMAP, lbrx__file_read (bytes at an offset),
   lbrx__file_close. `what` names the file in messages. */
#if defined(_WIN32)
typedef HANDLE lbrx__file;

LBRX__PRIVATE lbrx_result lbrx__file_open(const char *path, const lbrx_allocator *allocator, lbrx__file *f, lbrx_error *err) {
    wchar_t *wpath = lbrx__utf8_to_wide(path, allocator);
    DWORD attr;
    if (!wpath) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: path is not valid UTF-8", path);
    attr = GetFileAttributesW(wpath);
    if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY)) {
        lbrx_free(allocator, wpath);
        return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: is a directory", path);
    }
    *f = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, 0, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, 0);
    lbrx_free(allocator, wpath);
    if (*f == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__NO_OFFSET, "%s: no such file", path);
        return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot open (Windows error %lu)", path, (unsigned long)e);
    }
    return LBRX_OK;
}

LBRX__PRIVATE void lbrx__file_close(lbrx__file f) { CloseHandle(f); }

LBRX__PRIVATE lbrx_result lbrx__file_size(lbrx__file f, const char *what, uint64_t *size, lbrx_error *err) {
    LARGE_INTEGER li;
    if (GetFileType(f) != FILE_TYPE_DISK) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: not a regular file", what);
    if (!GetFileSizeEx(f, &li)) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot read its size", what);
    *size = (uint64_t)li.QuadPart;
    return LBRX_OK;
}

#if defined(LBRX_NO_MMAP)
/* Up to `want` (at most 1 GiB) bytes at `at` into buf: the count read, 0 at the end or on an error. */
LBRX__PRIVATE size_t lbrx__file_read(lbrx__file f, void *buf, size_t want, uint64_t at) {
    DWORD got = 0;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)(at & 0xffffffffu);
    ov.OffsetHigh = (DWORD)(at >> 32);
    return ReadFile(f, buf, (DWORD)want, &got, &ov) ? (size_t)got : 0;
}
#else
/* A read-only view of `span` bytes at `base` (a multiple of the allocation granularity). */
LBRX__PRIVATE lbrx_result lbrx__file_map(lbrx__file f, uint64_t base, size_t span, const char *what, void **view, lbrx_error *err) {
    HANDLE m = CreateFileMappingW(f, 0, PAGE_READONLY, 0, 0, 0);
    if (!m) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: CreateFileMapping failed (Windows error %lu)", what, (unsigned long)GetLastError());
    *view = MapViewOfFile(m, FILE_MAP_READ, (DWORD)(base >> 32), (DWORD)(base & 0xffffffffu), (SIZE_T)span);
    CloseHandle(m);
    if (!*view)
        return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: MapViewOfFile failed (Windows error %lu)", what, (unsigned long)GetLastError());
    return LBRX_OK;
}

LBRX__PRIVATE void lbrx__file_unmap(void *view, size_t span) { (void)span; UnmapViewOfFile(view); }
#endif
#else
typedef int lbrx__file;

LBRX__PRIVATE lbrx_result lbrx__file_open(const char *path, const lbrx_allocator *allocator, lbrx__file *f, lbrx_error *err) {
    (void)allocator;
    /* O_NONBLOCK: a FIFO must not block here (it is refused as not a regular file) */
    do { *f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); } while (*f < 0 && errno == EINTR);
    if (*f < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__NO_OFFSET, "%s: no such file", path);
        /* EOVERFLOW: a file past 2 GiB in a 32-bit build without 64-bit offsets */
        return lbrx__errorf(err, e == EOVERFLOW ? LBRX_ERR_LIMIT : LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot open (%s)", path, strerror(e));
    }
    return LBRX_OK;
}

LBRX__PRIVATE void lbrx__file_close(lbrx__file f) { close(f); }

LBRX__PRIVATE lbrx_result lbrx__file_size(lbrx__file f, const char *what, uint64_t *size, lbrx_error *err) {
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        return lbrx__errorf(err, e == EOVERFLOW ? LBRX_ERR_LIMIT : LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: cannot stat (%s)", what, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: is a directory", what);
    if (!S_ISREG(st.st_mode)) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: not a regular file", what);
    if (st.st_size < 0) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: negative size", what);
    *size = (uint64_t)st.st_size;
    return LBRX_OK;
}

#if defined(LBRX_NO_MMAP)
/* Up to `want` (at most 1 GiB) bytes at `at` into buf: the count read, 0 at the end or on an error. */
LBRX__PRIVATE size_t lbrx__file_read(lbrx__file f, void *buf, size_t want, uint64_t at) {
    ssize_t got;
    do { got = pread(f, buf, want, (off_t)at); } while (got < 0 && errno == EINTR);
    return got > 0 ? (size_t)got : 0;
}
#else
/* A private read-only mapping of `span` bytes at `base` (a multiple of the page size). */
LBRX__PRIVATE lbrx_result lbrx__file_map(lbrx__file f, uint64_t base, size_t span, const char *what, void **view, lbrx_error *err) {
    void *p = mmap(0, span, PROT_READ, MAP_PRIVATE, f, (off_t)base);
    if (p == MAP_FAILED) {
        int e = errno;
        return lbrx__errorf(err, e == ENOMEM ? LBRX_ERR_LIMIT : LBRX_ERR_IO, LBRX__NO_OFFSET, "%s: mmap failed (%s)", what, strerror(e));
    }
    *view = p;
    return LBRX_OK;
}

LBRX__PRIVATE void lbrx__file_unmap(void *view, size_t span) { munmap(view, span); }
#endif
#endif

/* Fill s (kind MMAP, data already &empty_byte) with bytes [offset, offset + length) of an open
   file: mapped read-only from the page (Windows: allocation granularity) below offset, or read
   into the heap under LBRX_NO_MMAP. length UINT64_MAX: to the end. The file stays the caller's. */
LBRX__PRIVATE lbrx_result lbrx__storage_map_open(lbrx_storage *s, lbrx__file f, uint64_t offset, uint64_t length, const char *what,
                                                const lbrx_allocator *allocator, lbrx_error *err) {
    uint64_t fsize;
    lbrx_result r = lbrx__file_size(f, what, &fsize, err);
    if (r != LBRX_OK) return r;
    if (offset > fsize) return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, offset, "%s: offset %llu is past the end of the %llu-byte file", what,
                                            (unsigned long long)offset, (unsigned long long)fsize);
    if (length == UINT64_MAX) length = fsize - offset;
    if (length > fsize - offset)
        return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, offset, "%s: %llu bytes at offset %llu end past the end of the %llu-byte file", what,
                            (unsigned long long)length, (unsigned long long)offset, (unsigned long long)fsize);
    /* half the address space at most: a larger size is a corrupt length, or a 32-bit process */
    if (length > (uint64_t)(SIZE_MAX >> 1))
        return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "%s: %llu bytes do not fit in this process's address space", what,
                            (unsigned long long)length);
    if (length == 0) return LBRX_OK;
    {
#if defined(LBRX_NO_MMAP)
        unsigned char *buf = (unsigned char *)lbrx_alloc(allocator, (size_t)length, 64);
        size_t done = 0;
        if (!buf) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory reading %llu bytes", what, (unsigned long long)length);
        while (done < (size_t)length) {
            size_t want = (size_t)length - done, got;
            if (want > 0x40000000u) want = 0x40000000u;
            got = lbrx__file_read(f, buf + done, want, offset + done);
            if (got == 0) {
                lbrx_free(allocator, buf);
                return lbrx__errorf(err, LBRX_ERR_IO, offset + done, "%s: read failed", what);
            }
            done += got;
        }
        s->map_base = buf;
        s->data = buf;
        s->map_size = (size_t)length;
#else
        size_t page = lbrx_page_size(), delta = (size_t)(offset % page);
        size_t span = (size_t)length + delta;  /* fits: length <= SIZE_MAX / 2 and delta < page */
        (void)allocator;
        r = lbrx__file_map(f, offset - delta, span, what, &s->map_base, err);
        if (r != LBRX_OK) return r;
        s->data = (unsigned char *)s->map_base + delta;
        s->map_size = span;
#endif
    }
    s->size = (size_t)length;
    return LBRX_OK;
}

/* A new storage over an open file's region (lbrx__storage_map_open). */
LBRX__PRIVATE lbrx_result lbrx__storage_map_region(lbrx_storage **out, lbrx__file f, uint64_t offset, uint64_t length, const char *what,
                                                  const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_storage *s;
    lbrx_result r;
    *out = 0;
    s = lbrx__storage_new(allocator);
    if (!s) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory");
    s->kind = LBRX_STORAGE_MMAP;
    s->data = &s->empty_byte;
    r = lbrx__storage_map_open(s, f, offset, length, what, allocator, err);
    if (r != LBRX_OK) { lbrx_free(allocator, s); return r; }
    *out = s;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_storage_open(lbrx_storage **out, const char *path,
                                          const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx__file f;
    lbrx_result r;
    if (!out || !path) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_open: NULL argument");
    *out = 0;
    r = lbrx__file_open(path, allocator, &f, err);
    if (r != LBRX_OK) return r;
    r = lbrx__storage_map_region(out, f, 0, UINT64_MAX, path, allocator, err);
    lbrx__file_close(f);
    return r;
}

LBRXDEF lbrx_result lbrx_storage_open_fd(lbrx_storage **out, int fd, uint64_t offset, uint64_t length,
                                        const lbrx_allocator *allocator, lbrx_error *err) {
    char what[48];
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_open_fd: out is NULL");
    *out = 0;
    snprintf(what, sizeof what, "file descriptor %d", fd);
#if defined(_WIN32)
    {
        intptr_t h = fd < 0 ? -1 : _get_osfhandle(fd);
        if (h == -1 || h == -2) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s is not open", what);
        return lbrx__storage_map_region(out, (HANDLE)h, offset, length, what, allocator, err);
    }
#else
    if (fd < 0) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s is not open", what);
    return lbrx__storage_map_region(out, fd, offset, length, what, allocator, err);
#endif
}

LBRXDEF lbrx_result lbrx_storage_open_handle(lbrx_storage **out, void *handle, uint64_t offset, uint64_t length,
                                            const lbrx_allocator *allocator, lbrx_error *err) {
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_open_handle: out is NULL");
    *out = 0;
#if defined(_WIN32)
    if (!handle || handle == INVALID_HANDLE_VALUE)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_storage_open_handle: invalid handle");
    return lbrx__storage_map_region(out, (HANDLE)handle, offset, length, "file handle", allocator, err);
#else
    (void)handle; (void)offset; (void)length; (void)allocator;
    return lbrx__errorf(err, LBRX_ERR_UNSUPPORTED, LBRX__NO_OFFSET, "lbrx_storage_open_handle: Windows only (use lbrx_storage_open_fd)");
#endif
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
#if defined(LBRX_NO_MMAP)
        lbrx_free(&a, s->map_base);
#else
        if (s->map_base) lbrx__file_unmap(s->map_base, s->map_size);
#endif
        break;
    }
    lbrx_free(&a, s);
}

LBRXDEF lbrx_storage_kind lbrx_storage_kind_of(const lbrx_storage *s) { return s->kind; }
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
    int i, empty = 0;
    lbrx_result r;
    if (!d) return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "invalid dtype id %d", (int)dtype);
    if (ndim < 0 || ndim > LBRX_MAX_DIMS)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "rank %d is outside 0..%d", ndim, LBRX_MAX_DIMS);
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0) return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "dimension %d is negative (%lld)", i, (long long)shape[i]);
        empty |= shape[i] == 0;
    }
    if (ndim == 0) {
        if (d->block != 1) return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "a rank-0 tensor cannot have block dtype %s", d->name);
        if (nbytes) *nbytes = d->bytes;
        return LBRX_OK;
    }
    /* An empty tensor (a zero dimension) has no element and 0 bytes whatever its other
       dimensions (GGML accepts such tensors): sizes that would overflow are not errors there,
       and the strides they would give are 0 (there is no element to reach through them). */
    r = lbrx_row_bytes(dtype, shape[ndim - 1], &row);
    if (r == LBRX_ERR_BAD_SHAPE)
        return lbrx__errorf(err, r, LBRX__NO_OFFSET, "row length %lld is not a multiple of the %s block size %lld",
                            (long long)shape[ndim - 1], d->name, (long long)d->block);
    if (r != LBRX_OK) {
        if (!empty) return lbrx__errorf(err, r, LBRX__NO_OFFSET, "row of %lld elements overflows", (long long)shape[ndim - 1]);
        row = 0;
    }
    total = row;
    if (stride) stride[ndim - 1] = d->block == 1 ? (int64_t)d->bytes : 0;
    for (i = ndim - 2; i >= 0; i--) {
        if (total > (size_t)INT64_MAX) {
            if (!empty) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows");
            total = 0;
        }
        if (stride) stride[i] = (int64_t)total;
        if (total != 0 && ((uint64_t)shape[i] > (uint64_t)SIZE_MAX || !lbrx_mul_size(total, (size_t)shape[i], &total))) {
            if (!empty)
                return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows (dimension %d = %lld)", i, (long long)shape[i]);
            total = 0;
        }
    }
    if (empty) total = 0;
    if (total > (size_t)INT64_MAX) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "tensor size overflows");
    if (!empty) {  /* the element count must fit too (block types have fewer bytes than elements) */
        int64_t n = 1;
        for (i = 0; i < ndim; i++) {
            if (n > INT64_MAX / shape[i])
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

LBRXDEF lbrx_result lbrx_tensor_init_heap(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                      const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_tensor tmp;
    lbrx_storage *s;
    size_t nbytes;
    lbrx_result r = lbrx__tensor_describe(&tmp, dtype, ndim, shape, &nbytes, err);
    if (r != LBRX_OK) return r;
    r = lbrx_storage_create(&s, nbytes, 64, allocator, err);
    if (r != LBRX_OK) return r;
    tmp.data = s->data;
    tmp.storage = s;  /* the new reference moves into the tensor */
    *t = tmp;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_tensor_init_memory(lbrx_tensor *t, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                         void *data, lbrx_error *err) {
    lbrx_tensor tmp;
    size_t nbytes;
    lbrx_result r = lbrx__tensor_describe(&tmp, dtype, ndim, shape, &nbytes, err);
    if (r != LBRX_OK) return r;
    if (!data && nbytes) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_init_memory: data is NULL");
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
        if (t->shape[i] == 0) n = 0;
    }
    for (i = 0; i < t->ndim && n; i++) {  /* an empty tensor has 0 elements whatever the others */
        if (n > INT64_MAX / t->shape[i]) return LBRX_ERR_OVERFLOW;
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
    for (i = 0; i < t->ndim; i++)
        if (t->shape[i] == 0) return 0;  /* empty: its other dimensions' product may not fit */
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

LBRXDEF lbrx_result lbrx_tensor_slice_rows(const lbrx_tensor *t, int64_t begin, int64_t end,
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
        /* NaN comes out quiet, as the F16C and NEON conversions make it */
        bits = sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0);
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

/* The vector loops below run to n rounded down to their width (not "i + 8 <= n"), which also
   lets gcc see that the scalar tail is short (no -Waggressive-loop-optimizations false alarm
   when n is a constant in the caller). */
LBRXDEF void lbrx_f16_to_f32_row(const void *src, float *dst, size_t n) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
#if defined(LBRX__AVX512)
    for (; i < (n & ~(size_t)15); i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + 2 * i))));
#endif
#if defined(LBRX__F16C)
    for (; i < (n & ~(size_t)7); i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
#elif defined(LBRX__NEON)
    for (; i < (n & ~(size_t)3); i += 4)
        vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(s + 2 * i))));
#endif
    for (; i < n; i++) dst[i] = lbrx_f16_to_f32((uint16_t)(s[2 * i] | (s[2 * i + 1] << 8)));
}

LBRXDEF void lbrx_f32_to_f16_row(const float *src, void *dst, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    size_t i = 0;
#if defined(LBRX__AVX512)
    for (; i < (n & ~(size_t)15); i += 16)
        _mm256_storeu_si256((__m256i *)(d + 2 * i),
                            _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
#if defined(LBRX__F16C)
    for (; i < (n & ~(size_t)7); i += 8)
        _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#elif defined(LBRX__NEON)
    for (; i < (n & ~(size_t)3); i += 4)
        vst1_u8(d + 2 * i, vreinterpret_u8_f16(vcvt_f16_f32(vld1q_f32(src + i))));
#endif
    for (; i < n; i++) {
        uint16_t h = lbrx_f32_to_f16(src[i]);
        d[2 * i] = (unsigned char)(h & 0xff);
        d[2 * i + 1] = (unsigned char)(h >> 8);
    }
}

LBRXDEF void lbrx_bf16_to_f32_row(const void *src, float *dst, size_t n) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
#if defined(LBRX__AVX512)
    for (; i < (n & ~(size_t)15); i += 16) {
        __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s + 2 * i)));
        _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
    }
#endif
#if defined(LBRX__AVX2)
    for (; i < (n & ~(size_t)7); i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
#elif defined(LBRX__NEON)
    for (; i < (n & ~(size_t)3); i += 4)
        vst1q_f32(dst + i, vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(s + 2 * i)), 16)));
#endif
    for (; i < n; i++) dst[i] = lbrx_bf16_to_f32((uint16_t)(s[2 * i] | (s[2 * i + 1] << 8)));
}

/* The SIMD versions below do lbrx_f32_to_bf16's integer rounding lane by lane: NaN becomes
   (x >> 16) | 0x40, everything else rounds to nearest even through x + 0x7fff + lsb. */
LBRXDEF void lbrx_f32_to_bf16_row(const float *src, void *dst, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    size_t i = 0;
#if defined(LBRX__AVX512)
    {
        const __m512i absmask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
        const __m512i one = _mm512_set1_epi32(1), bias = _mm512_set1_epi32(0x7fff), quiet = _mm512_set1_epi32(0x40);
        for (; i < (n & ~(size_t)15); i += 16) {
            __m512i x = _mm512_castps_si512(_mm512_loadu_ps(src + i)), hi = _mm512_srli_epi32(x, 16);
            __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, absmask), inf);
            __m512i r = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(bias, _mm512_and_si512(hi, one))), 16);
            r = _mm512_mask_blend_epi32(nan, r, _mm512_or_si512(hi, quiet));
            _mm256_storeu_si256((__m256i *)(d + 2 * i), _mm512_cvtepi32_epi16(r));
        }
    }
#endif
#if defined(LBRX__AVX2)
    {
        const __m256i absmask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
        const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff), quiet = _mm256_set1_epi32(0x40);
        for (; i < (n & ~(size_t)7); i += 8) {
            __m256i x = _mm256_castps_si256(_mm256_loadu_ps(src + i)), hi = _mm256_srli_epi32(x, 16);
            __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, absmask), inf);
            __m256i r = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(bias, _mm256_and_si256(hi, one))), 16);
            r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, quiet), nan);
            r = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
            _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_castsi256_si128(r));
        }
    }
#elif defined(LBRX__NEON)
    {
        const uint32x4_t absmask = vdupq_n_u32(0x7fffffffu), inf = vdupq_n_u32(0x7f800000u);
        const uint32x4_t one = vdupq_n_u32(1), bias = vdupq_n_u32(0x7fff), quiet = vdupq_n_u32(0x40);
        for (; i < (n & ~(size_t)3); i += 4) {
            uint32x4_t x = vreinterpretq_u32_f32(vld1q_f32(src + i)), hi = vshrq_n_u32(x, 16);
            uint32x4_t nan = vcgtq_u32(vandq_u32(x, absmask), inf);
            uint32x4_t r = vshrq_n_u32(vaddq_u32(x, vaddq_u32(bias, vandq_u32(hi, one))), 16);
            r = vbslq_u32(nan, vorrq_u32(hi, quiet), r);
            vst1_u8(d + 2 * i, vreinterpret_u8_u16(vmovn_u32(r)));
        }
    }
#endif
    for (; i < n; i++) {
        uint16_t h = lbrx_f32_to_bf16(src[i]);
        d[2 * i] = (unsigned char)(h & 0xff);
        d[2 * i + 1] = (unsigned char)(h >> 8);
    }
}

/* ============================================================================================
   Block formats
   ============================================================================================ */

/* ==== block formats (implementation) ==== */

/* Block headers hold little-endian f16 scales at any alignment. */
LBRX__PRIVATE float lbrx__load_f16(const unsigned char *p) {
    return lbrx_f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}
LBRX__PRIVATE void lbrx__store_f16(unsigned char *p, float f) {
    uint16_t h = lbrx_f32_to_f16(f);
    p[0] = (unsigned char)(h & 0xff);
    p[1] = (unsigned char)(h >> 8);
}
/* (int)v clamped to [lo, hi] (NaN gives lo): the C cast of GGML's quantizers without its
   undefined behaviour outside the range. */
LBRX__PRIVATE int lbrx__trunc_clamp(float v, int lo, int hi) {
    if (!(v >= (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)v;
}

/* roundf(v) (halves away from zero) clamped to [lo, hi], NaN giving lo, without a libm call:
   v - trunc(v) is exact for |v| < 2^24. */
LBRX__PRIVATE int lbrx__round_clamp(float v, int lo, int hi) {
    int t;
    if (!(v > (float)lo)) return lo;
    if (!(v < (float)hi)) return hi;
    t = (int)v;
    v -= (float)t;
    return t + (v >= 0.5f) - (v <= -0.5f);
}

/* The value of x as rounded to float, hidden from the optimizer: keeps a compiler that fuses
   a*b + c into one rounding (gcc's default -ffp-contract=fast outside ISO modes) from changing
   the quantizers' bytes, which follow GGML's two roundings. */
LBRX__PRIVATE float lbrx__fp_barrier(float x) {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__SSE__)
    __asm__("" : "+x"(x));  /* opaque to the optimizer, and free: the value stays in its register */
    return x;
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
    __asm__("" : "+w"(x));
    return x;
#else
    volatile float v = x;
    return v;
#endif
}

/* ---- quantizers (GGML's reference algorithms) ---- */

/* One block of 32 floats as Q8_0/Q8_1 codes: the f16 scale to dh, the codes to qs; returns
   the sum of the codes and the f32 scale in *d (the codes are rounded with it, not the f16). */
LBRX__PRIVATE int lbrx__quantize_block_q8(const float *src, unsigned char *dh, unsigned char *qs, float *d) {
    float amax = 0.0f, id;
    int j, sum = 0;
    for (j = 0; j < 32; j++) {
        float a = fabsf(src[j]);
        if (a > amax) amax = a;
    }
    *d = amax / 127.0f;
    id = *d != 0.0f ? 1.0f / *d : 0.0f;
    lbrx__store_f16(dh, *d);
    for (j = 0; j < 32; j++) {
        int q = lbrx__round_clamp(src[j] * id, -128, 127);
        qs[j] = (unsigned char)(signed char)q;
        sum += q;
    }
    return sum;
}

LBRXDEF void lbrx_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    float d;
    LBRX_ASSERT(n % 32 == 0);
    for (b = 0; b < n / 32; b++) lbrx__quantize_block_q8(src + 32 * b, y + 34 * b, y + 34 * b + 2, &d);
}

LBRXDEF void lbrx_quantize_row_q8_1(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    float d;
    LBRX_ASSERT(n % 32 == 0);
    for (b = 0; b < n / 32; b++) {
        int sum = lbrx__quantize_block_q8(src + 32 * b, y + 36 * b, y + 36 * b + 4, &d);
        lbrx__store_f16(y + 36 * b + 2, (float)sum * d);
    }
}

LBRXDEF void lbrx_quantize_row_q4_0(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 32 == 0);
    for (b = 0; b < n / 32; b++, src += 32, y += 18) {
        float amax = 0.0f, max = 0.0f, d, id;
        int j;
        /* the signed value of largest magnitude (the first one on ties) maps to -8 */
        for (j = 0; j < 32; j++) {
            if (fabsf(src[j]) > amax) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        d = max / -8.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        lbrx__store_f16(y, d);
        for (j = 0; j < 16; j++) {
            float x0 = lbrx__fp_barrier(src[j] * id), x1 = lbrx__fp_barrier(src[16 + j] * id);
            int q0 = lbrx__trunc_clamp(x0 + 8.5f, 0, 15), q1 = lbrx__trunc_clamp(x1 + 8.5f, 0, 15);
            y[2 + j] = (unsigned char)(q0 | (q1 << 4));
        }
    }
}

LBRXDEF void lbrx_quantize_row_q4_1(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 32 == 0);
    for (b = 0; b < n / 32; b++, src += 32, y += 20) {
        float lo = src[0], hi = src[0], d, id;
        int j;
        for (j = 1; j < 32; j++) {
            if (src[j] < lo) lo = src[j];
            if (src[j] > hi) hi = src[j];
        }
        d = (hi - lo) / 15.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        lbrx__store_f16(y, d);
        lbrx__store_f16(y + 2, lo);
        for (j = 0; j < 16; j++) {
            float x0 = lbrx__fp_barrier((src[j] - lo) * id), x1 = lbrx__fp_barrier((src[16 + j] - lo) * id);
            int q0 = lbrx__trunc_clamp(x0 + 0.5f, 0, 15), q1 = lbrx__trunc_clamp(x1 + 0.5f, 0, 15);
            y[4 + j] = (unsigned char)(q0 | (q1 << 4));
        }
    }
}

/* Scale and min j (0..7) of Q4_K/Q5_K: 6 bits each, packed in 12 bytes. */
LBRX__PRIVATE void lbrx__k4_scale_min(const unsigned char *s, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* ---- quantizers of Q5_0/Q5_1, the K-quants and IQ4 (GGML's reference algorithms, non-imatrix
   path). GGML compiles them without fused multiply-add: every product that meets an addition
   goes through lbrx__fp_barrier, so the sums round as GGML's do whatever -ffp-contract says. ---- */

/* GGML's nearest_int: round half to even by adding 1.5 * 2^23 (|v| < 2^22) */
LBRX__PRIVATE int lbrx__nearest_int(float v) {
    float t = lbrx__fp_barrier(v) + 12582912.0f;
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}
LBRX__PRIVATE int lbrx__clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* the 16 values of IQ4_NL and IQ4_XS */
static const signed char lbrx__iq4_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                 1, 13, 25, 38, 53, 69, 89, 113};

/* index of the IQ4 value nearest to v (the upper one on ties) */
LBRX__PRIVATE int lbrx__iq4_index(float v) {
    const signed char *val = lbrx__iq4_values;
    int lo = 0, hi = 15;
    v = lbrx__fp_barrier(v);
    if (v <= (float)val[0]) return 0;
    if (v >= (float)val[15]) return 15;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (v < (float)val[mid]) hi = mid;
        else lo = mid;
    }
    return v - (float)val[hi - 1] < (float)val[hi] - v ? hi - 1 : hi;
}

/* the signed value of largest magnitude among n (the first on ties; 0 when below eps) */
LBRX__PRIVATE float lbrx__signed_amax(const float *x, int n, float eps) {
    float amax = 0.0f, max = 0.0f;
    int i;
    for (i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    return amax < eps ? 0.0f : max;
}

LBRX__PRIVATE void lbrx__quantize_q5(const float *src, unsigned char *y, int64_t n, int with_min) {
    const size_t hdr = with_min ? 4 : 2;
    int64_t b;
    LBRX_ASSERT(n % 32 == 0);
    for (b = 0; b < n / 32; b++, src += 32, y += hdr + 20) {
        float lo = src[0], hi = src[0], d, id;
        uint32_t qh = 0;
        int j;
        if (with_min) {  /* codes 0..31 from the minimum */
            for (j = 1; j < 32; j++) {
                if (src[j] < lo) lo = src[j];
                if (src[j] > hi) hi = src[j];
            }
            d = (hi - lo) / 31.0f;
        } else {  /* the signed value of largest magnitude maps to -16; -0 for zeros, as GGML's */
            lo = 0.0f;
            d = lbrx__signed_amax(src, 32, 0.0f) / -16.0f;
        }
        id = d != 0.0f ? 1.0f / d : 0.0f;
        lbrx__store_f16(y, d);
        if (with_min) lbrx__store_f16(y + 2, lo);
        for (j = 0; j < 16; j++) {
            float x0 = lbrx__fp_barrier((src[j] - lo) * id), x1 = lbrx__fp_barrier((src[16 + j] - lo) * id);
            /* Q5_0 clamps at 31, Q5_1 keeps GGML's unclamped byte */
            int q0 = with_min ? lbrx__trunc_clamp(x0 + 0.5f, 0, 255) : lbrx__trunc_clamp(x0 + 16.5f, 0, 31);
            int q1 = with_min ? lbrx__trunc_clamp(x1 + 0.5f, 0, 255) : lbrx__trunc_clamp(x1 + 16.5f, 0, 31);
            y[hdr + 4 + j] = (unsigned char)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
        }
        for (j = 0; j < 4; j++) y[hdr + (size_t)j] = (unsigned char)(qh >> (8 * j));
    }
}

LBRXDEF void lbrx_quantize_row_q5_0(const float *src, void *dst, int64_t n) {
    lbrx__quantize_q5(src, (unsigned char *)dst, n, 0);
}
LBRXDEF void lbrx_quantize_row_q5_1(const float *src, void *dst, int64_t n) {
    lbrx__quantize_q5(src, (unsigned char *)dst, n, 1);
}

/* GGML's make_qkx2_quants: codes L[i] in 0..nmax for n (<= 32) weighted values, value =
   scale * L - min; tries nstep + 1 scales from (nmax + rmin) / range in steps of rdelta. Returns
   the scale, *neg_min = -min (>= 0). use_mad: absolute instead of squared error. */
LBRX__PRIVATE float lbrx__qk_scale_min(int n, int nmax, const float *x, const float *w, unsigned char *L, float *neg_min,
                                       float rmin, float rdelta, int nstep, int use_mad) {
    unsigned char Laux[32];
    float min = x[0], max = x[0], sum_w = w[0], sum_x = lbrx__fp_barrier(w[0] * x[0]);
    float iscale, scale, best_error = 0.0f;
    int i, is;
    for (i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += lbrx__fp_barrier(w[i] * x[i]);
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        for (i = 0; i < n; i++) L[i] = 0;
        *neg_min = -min;
        return 0.0f;
    }
    iscale = (float)nmax / (max - min);
    scale = 1.0f / iscale;
    for (i = 0; i < n; i++) {
        float diff;
        L[i] = (unsigned char)lbrx__clampi(lbrx__nearest_int(iscale * (x[i] - min)), 0, nmax);
        diff = lbrx__fp_barrier(scale * (float)L[i]) + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += lbrx__fp_barrier(w[i] * diff);
    }
    for (is = 0; is <= nstep; is++) {
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f, D;
        iscale = (rmin + lbrx__fp_barrier(rdelta * (float)is) + (float)nmax) / (max - min);
        for (i = 0; i < n; i++) {
            int l = lbrx__clampi(lbrx__nearest_int(iscale * (x[i] - min)), 0, nmax);
            float wl = lbrx__fp_barrier(w[i] * (float)l);
            Laux[i] = (unsigned char)l;
            sum_l += wl;
            sum_l2 += lbrx__fp_barrier(wl * (float)l);
            sum_xl += lbrx__fp_barrier(wl * x[i]);
        }
        D = lbrx__fp_barrier(sum_w * sum_l2) - lbrx__fp_barrier(sum_l * sum_l);
        if (D > 0.0f) {
            float this_scale = (lbrx__fp_barrier(sum_w * sum_xl) - lbrx__fp_barrier(sum_x * sum_l)) / D;
            float this_min = (lbrx__fp_barrier(sum_l2 * sum_x) - lbrx__fp_barrier(sum_l * sum_xl)) / D;
            float cur_error = 0.0f;
            if (this_min > 0.0f) {
                this_min = 0.0f;
                this_scale = sum_xl / sum_l2;
            }
            for (i = 0; i < n; i++) {
                float diff = lbrx__fp_barrier(this_scale * (float)Laux[i]) + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += lbrx__fp_barrier(w[i] * diff);
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *neg_min = -min;
    return scale;
}

/* GGML's make_qx_quants (rmse_type 1, no importance): signed codes L[i] + nmax (nmax = 32) of
   16 values weighted by x^2, trying 18 scales around -nmax / max; returns the scale. */
LBRX__PRIVATE float lbrx__q6_group(const float *x, signed char *L) {
    const int n = 16, nmax = 32;
    float max = lbrx__signed_amax(x, n, 1e-15f), iscale, sumlx = 0.0f, suml2 = 0.0f, scale, best;
    int i, is;
    if (max == 0.0f) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    iscale = (float)-nmax / max;
    for (i = 0; i < n; i++) {
        int l = lbrx__clampi(lbrx__nearest_int(iscale * x[i]), -nmax, nmax - 1);
        float w = x[i] * x[i];
        L[i] = (signed char)(l + nmax);
        sumlx += lbrx__fp_barrier(w * x[i] * (float)l);
        suml2 += lbrx__fp_barrier(w * (float)l * (float)l);
    }
    scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    best = scale * sumlx;
    for (is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + lbrx__fp_barrier(0.1f * (float)is)) / max;
        sumlx = suml2 = 0.0f;
        for (i = 0; i < n; i++) {
            int l = lbrx__clampi(lbrx__nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += lbrx__fp_barrier(w * x[i] * (float)l);
            suml2 += lbrx__fp_barrier(w * (float)l * (float)l);
        }
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            for (i = 0; i < n; i++)
                L[i] = (signed char)(nmax + lbrx__clampi(lbrx__nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* GGML's make_q3_quants with rmse (nmax = 4): codes L[i] + 4 of 16 values weighted by x^2,
   improved one code at a time for up to 5 rounds; returns the scale. */
LBRX__PRIVATE float lbrx__q3_group(const float *x, signed char *L) {
    const int n = 16, nmax = 4;
    float max = lbrx__signed_amax(x, n, 1e-15f), iscale, sumlx = 0.0f, suml2 = 0.0f;
    int i, itry;
    if (max == 0.0f) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    iscale = (float)-nmax / max;
    for (i = 0; i < n; i++) {
        int l = lbrx__clampi(lbrx__nearest_int(iscale * x[i]), -nmax, nmax - 1);
        float w = x[i] * x[i];
        L[i] = (signed char)l;
        sumlx += lbrx__fp_barrier(w * x[i] * (float)l);
        suml2 += lbrx__fp_barrier(w * (float)l * (float)l);
    }
    for (itry = 0; itry < 5; itry++) {
        int changed = 0;
        for (i = 0; i < n; i++) {
            float w = x[i] * x[i], slx = sumlx - lbrx__fp_barrier(w * x[i] * (float)L[i]), sl2;
            int nl;
            if (!(slx > 0.0f)) continue;
            sl2 = suml2 - lbrx__fp_barrier(w * (float)L[i] * (float)L[i]);
            nl = lbrx__clampi(lbrx__nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i]) continue;
            slx += lbrx__fp_barrier(w * x[i] * (float)nl);
            sl2 += lbrx__fp_barrier(w * (float)nl * (float)nl);
            if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (signed char)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed) break;
    }
    for (i = 0; i < n; i++) L[i] = (signed char)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* the 2-bit codes of 256 values (in 0..3) as Q2_K/Q3_K pack them: in each half of 128, bit pair
   k of byte l is element 32k + l */
LBRX__PRIVATE void lbrx__pack_2bit(const unsigned char *L, unsigned char *qs) {
    int h, l;
    for (h = 0; h < 2; h++, L += 128, qs += 32)
        for (l = 0; l < 32; l++)
            qs[l] = (unsigned char)(L[l] | (L[l + 32] << 2) | (L[l + 64] << 4) | (L[l + 96] << 6));
}

LBRXDEF void lbrx_quantize_row_q2_k(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 256 == 0);
    for (b = 0; b < n / 256; b++, src += 256, y += 84) {
        unsigned char L[256];
        float w[16], scales[16], mins[16], max_scale = 0.0f, max_min = 0.0f, d, dmin;
        int j, i;
        for (j = 0; j < 16; j++) {
            for (i = 0; i < 16; i++) w[i] = fabsf(src[16 * j + i]);
            scales[j] = lbrx__qk_scale_min(16, 3, src + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        for (j = 0; j < 16; j++) {  /* 4-bit scale (low nibble) and min (high), as bytes wrap */
            int ls = max_scale > 0.0f ? lbrx__nearest_int(15.0f / max_scale * scales[j]) : 0;
            int lm = max_min > 0.0f ? lbrx__nearest_int(15.0f / max_min * mins[j]) : 0;
            y[j] = (unsigned char)(ls | (lm << 4));
        }
        lbrx__store_f16(y + 80, max_scale > 0.0f ? max_scale / 15.0f : 0.0f);
        lbrx__store_f16(y + 82, max_min > 0.0f ? max_min / 15.0f : 0.0f);
        d = lbrx__load_f16(y + 80);
        dmin = lbrx__load_f16(y + 82);
        for (j = 0; j < 16; j++) {
            float dl = d * (float)(y[j] & 0x0f), ml;
            if (dl == 0.0f) continue;
            ml = lbrx__fp_barrier(dmin * (float)(y[j] >> 4));
            for (i = 0; i < 16; i++) L[16 * j + i] = (unsigned char)lbrx__clampi(lbrx__nearest_int((src[16 * j + i] + ml) / dl), 0, 3);
        }
        lbrx__pack_2bit(L, y + 16);
    }
}

LBRXDEF void lbrx_quantize_row_q3_k(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 256 == 0);
    for (b = 0; b < n / 256; b++, src += 256, y += 110) {
        signed char L[256];
        unsigned char *hm = y, *qs = y + 32, *sc = y + 96;
        float scales[16], max_scale, d;
        int j, i;
        for (j = 0; j < 16; j++) scales[j] = lbrx__q3_group(src + 16 * j, L + 16 * j);
        max_scale = lbrx__signed_amax(scales, 16, 0.0f);
        memset(sc, 0, 12);
        if (max_scale != 0.0f) {  /* 16 six-bit scales biased by 32 */
            float iscale = -32.0f / max_scale;
            for (j = 0; j < 16; j++) {
                int l = lbrx__clampi(lbrx__nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) sc[j] = (unsigned char)(l & 0x0f);
                else sc[j - 8] |= (unsigned char)((l & 0x0f) << 4);
                sc[8 + j % 4] |= (unsigned char)((l >> 4) << (2 * (j / 4)));
            }
            lbrx__store_f16(y + 108, 1.0f / iscale);
        } else {
            lbrx__store_f16(y + 108, 0.0f);
        }
        d = lbrx__load_f16(y + 108);
        for (j = 0; j < 16; j++) {
            int s = (j < 8 ? sc[j] & 0x0f : sc[j - 8] >> 4) | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
            float dl = d * (float)(s - 32);
            if (dl == 0.0f) continue;
            for (i = 0; i < 16; i++)
                L[16 * j + i] = (signed char)(lbrx__clampi(lbrx__nearest_int(src[16 * j + i] / dl), -4, 3) + 4);
        }
        memset(hm, 0, 32);  /* the high bit of element j at bit j / 32 of hmask[j % 32] */
        for (j = 0; j < 256; j++) {
            if (L[j] > 3) {
                hm[j % 32] |= (unsigned char)(1 << (j / 32));
                L[j] = (signed char)(L[j] - 4);
            }
        }
        lbrx__pack_2bit((const unsigned char *)L, qs);
    }
}

/* Q4_K and Q5_K: eight groups of 32, scale and min each quantized to 6 bits of d and dmin */
LBRX__PRIVATE void lbrx__quantize_q45_k(const float *src, unsigned char *y, int64_t n, int five) {
    const int nmax = five ? 31 : 15;
    int64_t b;
    LBRX_ASSERT(n % 256 == 0);
    for (b = 0; b < n / 256; b++, src += 256, y += five ? 176 : 144) {
        unsigned char L[256], *s = y + 4, *q = y + (five ? 48 : 16);
        float w[32], scales[8], mins[8], max_scale = 0.0f, max_min = 0.0f, inv_scale, inv_min, d, dmin;
        int j, i;
        for (j = 0; j < 8; j++) {
            const float *x = src + 32 * j;
            float sum_x2 = 0.0f, av_x;
            for (i = 0; i < 32; i++) sum_x2 += lbrx__fp_barrier(x[i] * x[i]);
            av_x = sqrtf(sum_x2 / 32.0f);
            for (i = 0; i < 32; i++) w[i] = av_x + fabsf(x[i]);
            scales[j] = five ? lbrx__qk_scale_min(32, 31, x, w, L + 32 * j, &mins[j], -0.5f, 0.1f, 15, 0)
                             : lbrx__qk_scale_min(32, 15, x, w, L + 32 * j, &mins[j], -1.0f, 0.1f, 20, 0);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
        inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
        for (j = 0; j < 8; j++) {  /* codes as GGML's uint8_t holds them, then at most 63 */
            int ls = (unsigned char)lbrx__nearest_int(inv_scale * scales[j]);
            int lm = (unsigned char)lbrx__nearest_int(inv_min * mins[j]);
            ls = ls < 63 ? ls : 63;
            lm = lm < 63 ? lm : 63;
            if (j < 4) {
                s[j] = (unsigned char)ls;
                s[j + 4] = (unsigned char)lm;
            } else {
                s[j + 4] = (unsigned char)((ls & 0x0f) | ((lm & 0x0f) << 4));
                s[j - 4] |= (unsigned char)((ls >> 4) << 6);
                s[j] |= (unsigned char)((lm >> 4) << 6);
            }
        }
        lbrx__store_f16(y, max_scale / 63.0f);
        lbrx__store_f16(y + 2, max_min / 63.0f);
        d = lbrx__load_f16(y);
        dmin = lbrx__load_f16(y + 2);
        for (j = 0; j < 8; j++) {
            int sc, mn;
            float dl, ml;
            lbrx__k4_scale_min(s, j, &sc, &mn);
            dl = d * (float)sc;
            if (dl == 0.0f) continue;
            ml = lbrx__fp_barrier(dmin * (float)mn);
            for (i = 0; i < 32; i++)
                L[32 * j + i] = (unsigned char)lbrx__clampi(lbrx__nearest_int((src[32 * j + i] + ml) / dl), 0, nmax);
        }
        if (five) memset(y + 16, 0, 32);
        for (j = 0; j < 4; j++, q += 32) {  /* 64 values per 32 bytes, low nibbles first */
            for (i = 0; i < 32; i++) {
                int l1 = L[64 * j + i], l2 = L[64 * j + 32 + i];
                if (five && l1 > 15) { l1 -= 16; y[16 + i] |= (unsigned char)(1 << (2 * j)); }
                if (five && l2 > 15) { l2 -= 16; y[16 + i] |= (unsigned char)(2 << (2 * j)); }
                q[i] = (unsigned char)(l1 | (l2 << 4));
            }
        }
    }
}

LBRXDEF void lbrx_quantize_row_q4_k(const float *src, void *dst, int64_t n) {
    lbrx__quantize_q45_k(src, (unsigned char *)dst, n, 0);
}
LBRXDEF void lbrx_quantize_row_q5_k(const float *src, void *dst, int64_t n) {
    lbrx__quantize_q45_k(src, (unsigned char *)dst, n, 1);
}

LBRXDEF void lbrx_quantize_row_q6_k(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 256 == 0);
    for (b = 0; b < n / 256; b++, src += 256, y += 210) {
        signed char L[256];
        signed char *sc = (signed char *)(y + 192);
        unsigned char *ql = y, *qh = y + 128;
        float scales[16], max_scale, iscale, d;
        int j, i, h;
        for (j = 0; j < 16; j++) scales[j] = lbrx__q6_group(src + 16 * j, L + 16 * j);
        max_scale = lbrx__signed_amax(scales, 16, 1e-15f);
        if (max_scale == 0.0f) {
            memset(y, 0, 210);
            continue;
        }
        iscale = -128.0f / max_scale;
        lbrx__store_f16(y + 208, 1.0f / iscale);
        for (j = 0; j < 16; j++) {
            int l = lbrx__nearest_int(iscale * scales[j]);
            sc[j] = (signed char)(l < 127 ? l : 127);
        }
        d = lbrx__load_f16(y + 208);
        for (j = 0; j < 16; j++) {
            float dl = d * (float)sc[j];
            if (dl == 0.0f) continue;
            for (i = 0; i < 16; i++)
                L[16 * j + i] = (signed char)(lbrx__clampi(lbrx__nearest_int(src[16 * j + i] / dl), -32, 31) + 32);
        }
        for (h = 0; h < 2; h++, ql += 64, qh += 32) {  /* halves of 128: low nibbles, then 2 bits */
            const signed char *Lh = L + 128 * h;
            for (i = 0; i < 32; i++) {
                ql[i] = (unsigned char)((Lh[i] & 0x0f) | ((Lh[i + 64] & 0x0f) << 4));
                ql[i + 32] = (unsigned char)((Lh[i + 32] & 0x0f) | ((Lh[i + 96] & 0x0f) << 4));
                qh[i] = (unsigned char)((Lh[i] >> 4) | ((Lh[i + 32] >> 4) << 2) | ((Lh[i + 64] >> 4) << 4) | ((Lh[i + 96] >> 4) << 6));
            }
        }
    }
}

/* GGML's IQ4 quantizer (no importance, 7 tries each side): each group of 32 gets the scale
   that best fits the 16 non-linear values with weights x^2. IQ4_NL: a block is one group with
   an f16 scale. IQ4_XS: 8 groups, 6-bit scales of one f16 super-scale. */
LBRX__PRIVATE float lbrx__iq4_group(const float *x, unsigned char *L) {
    const float v0 = (float)lbrx__iq4_values[0];
    float max = lbrx__signed_amax(x, 32, 1e-15f), d, id, sumqx = 0.0f, sumq2 = 0.0f, best;
    int j, itry;
    if (max == 0.0f) return 0.0f;
    d = -max / v0;
    id = 1.0f / d;
    for (j = 0; j < 32; j++) {
        int l = lbrx__iq4_index(id * x[j]);
        float q = (float)lbrx__iq4_values[l], w = x[j] * x[j];
        L[j] = (unsigned char)l;
        sumqx += lbrx__fp_barrier(w * q * x[j]);
        sumq2 += lbrx__fp_barrier(w * q * q);
    }
    d = sumq2 > 0.0f ? sumqx / sumq2 : 0.0f;
    best = d * sumqx;
    for (itry = -7; itry <= 7; itry++) {
        id = (float)(itry + lbrx__iq4_values[0]) / max;
        sumqx = sumq2 = 0.0f;
        for (j = 0; j < 32; j++) {
            float q = (float)lbrx__iq4_values[lbrx__iq4_index(id * x[j])], w = x[j] * x[j];
            sumqx += lbrx__fp_barrier(w * q * x[j]);
            sumq2 += lbrx__fp_barrier(w * q * q);
        }
        if (sumq2 > 0.0f && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* 32 codes to 16 bytes: element j in the low nibble of byte j, element 16 + j in the high */
LBRX__PRIVATE void lbrx__pack_iq4(const unsigned char *L, unsigned char *q) {
    int j;
    for (j = 0; j < 16; j++) q[j] = (unsigned char)(L[j] | (L[16 + j] << 4));
}

LBRXDEF void lbrx_quantize_row_iq4_nl(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 32 == 0);
    for (b = 0; b < n / 32; b++, src += 32, y += 18) {
        unsigned char L[32];
        float d = lbrx__iq4_group(src, L), id = d != 0.0f ? 1.0f / d : 0.0f;
        int j;
        lbrx__store_f16(y, d);
        for (j = 0; j < 32; j++) L[j] = (unsigned char)lbrx__iq4_index(id * src[j]);
        lbrx__pack_iq4(L, y + 2);
    }
}

LBRXDEF void lbrx_quantize_row_iq4_xs(const float *src, void *dst, int64_t n) {
    unsigned char *y = (unsigned char *)dst;
    int64_t b;
    LBRX_ASSERT(n % 256 == 0);
    for (b = 0; b < n / 256; b++, src += 256, y += 136) {
        unsigned char L[32];
        float scales[8], d, id;
        unsigned scales_h = 0;
        int j, ib;
        for (ib = 0; ib < 8; ib++) scales[ib] = lbrx__iq4_group(src + 32 * ib, L);
        d = -lbrx__signed_amax(scales, 8, 0.0f) / 32.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        lbrx__store_f16(y, d);
        for (ib = 0; ib < 8; ib++) {
            int l = lbrx__clampi(lbrx__nearest_int(id * scales[ib]), -32, 31);
            float dl = d * (float)l, idl = dl != 0.0f ? 1.0f / dl : 0.0f;
            for (j = 0; j < 32; j++) L[j] = (unsigned char)lbrx__iq4_index(idl * src[32 * ib + j]);
            lbrx__pack_iq4(L, y + 8 + 16 * ib);
            l += 32;
            if (ib % 2 == 0) y[4 + ib / 2] = (unsigned char)(l & 0x0f);
            else y[4 + ib / 2] |= (unsigned char)((l & 0x0f) << 4);
            scales_h |= (unsigned)(l >> 4) << (2 * ib);
        }
        y[2] = (unsigned char)(scales_h & 0xff);
        y[3] = (unsigned char)(scales_h >> 8);
    }
}

LBRXDEF lbrx_result lbrx_quantize_row(lbrx_dtype t, const float *src, void *dst, int64_t n) {
    int64_t bs = lbrx_dtype_block_size(t);
    if (bs == 0) return LBRX_ERR_BAD_DTYPE;
    if (n < 0 || n % bs) return LBRX_ERR_BAD_SHAPE;
    if (n > 0 && (!src || !dst)) return LBRX_ERR_INVALID_ARGUMENT;
    switch (t) {
    case LBRX_F32: if (n) memcpy(dst, src, (size_t)n * 4); return LBRX_OK;
    case LBRX_F16: lbrx_f32_to_f16_row(src, dst, (size_t)n); return LBRX_OK;
    case LBRX_BF16: lbrx_f32_to_bf16_row(src, dst, (size_t)n); return LBRX_OK;
    case LBRX_Q8_0: lbrx_quantize_row_q8_0(src, dst, n); return LBRX_OK;
    case LBRX_Q8_1: lbrx_quantize_row_q8_1(src, dst, n); return LBRX_OK;
    case LBRX_Q4_0: lbrx_quantize_row_q4_0(src, dst, n); return LBRX_OK;
    case LBRX_Q4_1: lbrx_quantize_row_q4_1(src, dst, n); return LBRX_OK;
    case LBRX_Q5_0: lbrx_quantize_row_q5_0(src, dst, n); return LBRX_OK;
    case LBRX_Q5_1: lbrx_quantize_row_q5_1(src, dst, n); return LBRX_OK;
    case LBRX_Q2_K: lbrx_quantize_row_q2_k(src, dst, n); return LBRX_OK;
    case LBRX_Q3_K: lbrx_quantize_row_q3_k(src, dst, n); return LBRX_OK;
    case LBRX_Q4_K: lbrx_quantize_row_q4_k(src, dst, n); return LBRX_OK;
    case LBRX_Q5_K: lbrx_quantize_row_q5_k(src, dst, n); return LBRX_OK;
    case LBRX_Q6_K: lbrx_quantize_row_q6_k(src, dst, n); return LBRX_OK;
    case LBRX_IQ4_NL: lbrx_quantize_row_iq4_nl(src, dst, n); return LBRX_OK;
    case LBRX_IQ4_XS: lbrx_quantize_row_iq4_xs(src, dst, n); return LBRX_OK;
    default: return LBRX_ERR_UNSUPPORTED;
    }
}

/* ---- dequantizers of the 32-element formats; the _scalar versions are the reference the
   SIMD versions are tested against ---- */

/* A scalar reference that SIMD builds keep only for the tests to compare with. */
#if defined(__GNUC__) || defined(__clang__)
#define LBRX__SCALAR_REFERENCE static __attribute__((unused))
#else
#define LBRX__SCALAR_REFERENCE static
#endif

/* blocks of `bytes` bytes: an f16 scale, then (at qs_at) 32 signed codes: Q8_0 and Q8_1 */
LBRX__PRIVATE void lbrx__dequantize_q8(const unsigned char *x, float *y, int64_t nb, size_t bytes, size_t qs_at) {
    int64_t b;
    int j;
    for (b = 0; b < nb; b++, x += bytes, y += 32) {
        float d = lbrx__load_f16(x);
        for (j = 0; j < 32; j++) y[j] = (float)(signed char)x[qs_at + (size_t)j] * d;
    }
}
LBRX__SCALAR_REFERENCE void lbrx__dequantize_q8_0_scalar(const unsigned char *x, float *y, int64_t nb) {
    lbrx__dequantize_q8(x, y, nb, 34, 2);
}

LBRX__SCALAR_REFERENCE void lbrx__dequantize_q4_0_scalar(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int j;
    for (b = 0; b < nb; b++, x += 18, y += 32) {
        float d = lbrx__load_f16(x);
        for (j = 0; j < 16; j++) {
            y[j] = (float)((x[2 + j] & 0x0f) - 8) * d;
            y[16 + j] = (float)((x[2 + j] >> 4) - 8) * d;
        }
    }
}

LBRX__SCALAR_REFERENCE void lbrx__dequantize_q4_1_scalar(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int j;
    for (b = 0; b < nb; b++, x += 20, y += 32) {
        float d = lbrx__load_f16(x), m = lbrx__load_f16(x + 2);
        /* q*d is exact (4 x 11 significant bits), so a fused multiply-add gives the same sum */
        for (j = 0; j < 16; j++) {
            y[j] = (float)(x[4 + j] & 0x0f) * d + m;
            y[16 + j] = (float)(x[4 + j] >> 4) * d + m;
        }
    }
}

#if defined(LBRX__AVX512)
LBRX__PRIVATE void lbrx__dequantize_q8_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    for (b = 0; b < nb; b++, x += 34, y += 32) {
        __m512 d = _mm512_set1_ps(lbrx__load_f16(x));
        __m512i q0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x + 2)));
        __m512i q1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(x + 18)));
        _mm512_storeu_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(q0), d));
        _mm512_storeu_ps(y + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(q1), d));
    }
}
/* the 16 low nibbles and the 16 high nibbles of a 4-bit block, as 32-bit lanes */
LBRX__PRIVATE void lbrx__nibbles_avx512(const unsigned char *qs, __m512i *lo, __m512i *hi) {
    __m128i v = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0f);
    *lo = _mm512_cvtepu8_epi32(_mm_and_si128(v, m));
    *hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(v, 4), m));
}
LBRX__PRIVATE void lbrx__dequantize_q4_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    __m512i eight = _mm512_set1_epi32(8);
    for (b = 0; b < nb; b++, x += 18, y += 32) {
        __m512 d = _mm512_set1_ps(lbrx__load_f16(x));
        __m512i lo, hi;
        lbrx__nibbles_avx512(x + 2, &lo, &hi);
        _mm512_storeu_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, eight)), d));
        _mm512_storeu_ps(y + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, eight)), d));
    }
}
LBRX__PRIVATE void lbrx__dequantize_q4_1(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    for (b = 0; b < nb; b++, x += 20, y += 32) {
        __m512 d = _mm512_set1_ps(lbrx__load_f16(x)), m = _mm512_set1_ps(lbrx__load_f16(x + 2));
        __m512i lo, hi;
        lbrx__nibbles_avx512(x + 4, &lo, &hi);
        _mm512_storeu_ps(y, _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), d, m));
        _mm512_storeu_ps(y + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), d, m));
    }
}
#elif defined(LBRX__AVX2)
LBRX__PRIVATE void lbrx__dequantize_q8_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int k;
    for (b = 0; b < nb; b++, x += 34, y += 32) {
        __m256 d = _mm256_set1_ps(lbrx__load_f16(x));
        for (k = 0; k < 4; k++) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x + 2 + 8 * k)));
            _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}
/* the 16 low nibbles and the 16 high nibbles of a 4-bit block, 8 per 32-bit vector */
LBRX__PRIVATE void lbrx__nibbles_avx2(const unsigned char *qs, __m256i q[4]) {
    __m128i v = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0f);
    __m128i lo = _mm_and_si128(v, m), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
    q[0] = _mm256_cvtepu8_epi32(lo);
    q[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8));
    q[2] = _mm256_cvtepu8_epi32(hi);
    q[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8));
}
LBRX__PRIVATE void lbrx__dequantize_q4_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int k;
    __m256i eight = _mm256_set1_epi32(8);
    for (b = 0; b < nb; b++, x += 18, y += 32) {
        __m256 d = _mm256_set1_ps(lbrx__load_f16(x));
        __m256i q[4];
        lbrx__nibbles_avx2(x + 2, q);
        for (k = 0; k < 4; k++)
            _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q[k], eight)), d));
    }
}
LBRX__PRIVATE void lbrx__dequantize_q4_1(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int k;
    for (b = 0; b < nb; b++, x += 20, y += 32) {
        __m256 d = _mm256_set1_ps(lbrx__load_f16(x)), m = _mm256_set1_ps(lbrx__load_f16(x + 2));
        __m256i q[4];
        lbrx__nibbles_avx2(x + 4, q);
        for (k = 0; k < 4; k++)
            _mm256_storeu_ps(y + 8 * k, _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[k]), d, m));
    }
}
#elif defined(LBRX__NEON)
/* 16 signed bytes to floats times d, stored at y */
LBRX__PRIVATE void lbrx__s8x16_mul_neon(int8x16_t q, float32x4_t d, float *y) {
    int16x8_t a = vmovl_s8(vget_low_s8(q)), b = vmovl_s8(vget_high_s8(q));
    vst1q_f32(y, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(a))), d));
    vst1q_f32(y + 4, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(a))), d));
    vst1q_f32(y + 8, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(b))), d));
    vst1q_f32(y + 12, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(b))), d));
}
LBRX__PRIVATE void lbrx__dequantize_q8_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    for (b = 0; b < nb; b++, x += 34, y += 32) {
        float32x4_t d = vdupq_n_f32(lbrx__load_f16(x));
        lbrx__s8x16_mul_neon(vreinterpretq_s8_u8(vld1q_u8(x + 2)), d, y);
        lbrx__s8x16_mul_neon(vreinterpretq_s8_u8(vld1q_u8(x + 18)), d, y + 16);
    }
}
LBRX__PRIVATE void lbrx__dequantize_q4_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    uint8x16_t m = vdupq_n_u8(0x0f);
    int8x16_t eight = vdupq_n_s8(8);
    for (b = 0; b < nb; b++, x += 18, y += 32) {
        float32x4_t d = vdupq_n_f32(lbrx__load_f16(x));
        uint8x16_t v = vld1q_u8(x + 2);
        lbrx__s8x16_mul_neon(vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, m)), eight), d, y);
        lbrx__s8x16_mul_neon(vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), eight), d, y + 16);
    }
}
/* 16 unsigned nibbles (one per byte) to q*d + m, stored at y */
LBRX__PRIVATE void lbrx__u4x16_fma_neon(uint8x16_t q, float32x4_t d, float32x4_t m, float *y) {
    uint16x8_t a = vmovl_u8(vget_low_u8(q)), b = vmovl_u8(vget_high_u8(q));
    vst1q_f32(y, vfmaq_f32(m, vcvtq_f32_u32(vmovl_u16(vget_low_u16(a))), d));
    vst1q_f32(y + 4, vfmaq_f32(m, vcvtq_f32_u32(vmovl_u16(vget_high_u16(a))), d));
    vst1q_f32(y + 8, vfmaq_f32(m, vcvtq_f32_u32(vmovl_u16(vget_low_u16(b))), d));
    vst1q_f32(y + 12, vfmaq_f32(m, vcvtq_f32_u32(vmovl_u16(vget_high_u16(b))), d));
}
LBRX__PRIVATE void lbrx__dequantize_q4_1(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    uint8x16_t mask = vdupq_n_u8(0x0f);
    for (b = 0; b < nb; b++, x += 20, y += 32) {
        float32x4_t d = vdupq_n_f32(lbrx__load_f16(x)), m = vdupq_n_f32(lbrx__load_f16(x + 2));
        uint8x16_t v = vld1q_u8(x + 4);
        lbrx__u4x16_fma_neon(vandq_u8(v, mask), d, m, y);
        lbrx__u4x16_fma_neon(vshrq_n_u8(v, 4), d, m, y + 16);
    }
}
#else
#define lbrx__dequantize_q8_0 lbrx__dequantize_q8_0_scalar
#define lbrx__dequantize_q4_0 lbrx__dequantize_q4_0_scalar
#define lbrx__dequantize_q4_1 lbrx__dequantize_q4_1_scalar
#endif

/* Q5_0 and Q5_1: qh (32 bits, little-endian) holds the fifth bit of element j at bit j */
LBRX__PRIVATE uint32_t lbrx__load_u32le(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
/* Q5_0 (22 B: d, qh, qs; codes - 16) and Q5_1 (24 B: d, m, qh, qs; codes * d + m) */
LBRX__PRIVATE void lbrx__dequantize_q5(const unsigned char *x, float *y, int64_t nb, int with_min) {
    const size_t hdr = with_min ? 4 : 2;
    const int bias = with_min ? 0 : 16;
    int64_t b;
    int j;
    for (b = 0; b < nb; b++, x += hdr + 20, y += 32) {
        float d = lbrx__load_f16(x), m = with_min ? lbrx__load_f16(x + 2) : 0.0f;
        uint32_t qh = lbrx__load_u32le(x + hdr);
        const unsigned char *qs = x + hdr + 4;
        for (j = 0; j < 16; j++) {
            int lo = (int)((qs[j] & 0x0f) | (((qh >> j) & 1) << 4)) - bias;
            int hi = (int)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - bias;
            if (with_min) {  /* exact product: fused or not, the same sum */
                y[j] = (float)lo * d + m;
                y[16 + j] = (float)hi * d + m;
            } else {
                y[j] = (float)lo * d;
                y[16 + j] = (float)hi * d;
            }
        }
    }
}

/* ---- K-quants (super-blocks of 256) ---- */

/* Q2_K (84 B): scales[16] (low nibble scale, high nibble min), qs[64] (2 bits), d, dmin. The 256
   weights are two halves of 128; in a half, bit pair k of qs[l] (l < 32) is element 32k + l. */
LBRX__PRIVATE void lbrx__dequantize_q2_k(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int h, k, l;
    for (b = 0; b < nb; b++, x += 84) {
        const unsigned char *sc = x, *qs = x + 16;
        float d = lbrx__load_f16(x + 80), dmin = lbrx__load_f16(x + 82);
        for (h = 0; h < 2; h++, qs += 32) {
            for (k = 0; k < 4; k++) {
                for (l = 0; l < 32; l++) {
                    int s = sc[h * 8 + k * 2 + l / 16];
                    float dl = d * (float)(s & 0x0f), ml = dmin * (float)(s >> 4);
                    *y++ = dl * (float)((qs[l] >> (2 * k)) & 3) - ml;
                }
            }
        }
    }
}

/* Q3_K (110 B): hmask[32] (third bit, set = no -4), qs[64] (low 2 bits, as Q2_K), scales[12]
   (16 six-bit signed scales biased by 32), d. Bit k of hmask[l] belongs to element 32k + l. */
LBRX__PRIVATE void lbrx__dequantize_q3_k(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int h, k, l, j;
    for (b = 0; b < nb; b++, x += 110) {
        const unsigned char *hm = x, *qs = x + 32, *s = x + 96;
        float d = lbrx__load_f16(x + 108), dl[16];
        for (j = 0; j < 16; j++) {
            int lo = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
            int hi2 = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
            dl[j] = d * (float)((lo | (hi2 << 4)) - 32);
        }
        for (h = 0; h < 2; h++, qs += 32) {
            for (k = 0; k < 4; k++) {
                for (l = 0; l < 32; l++) {
                    int q = ((qs[l] >> (2 * k)) & 3) - ((hm[l] >> (4 * h + k)) & 1 ? 0 : 4);
                    *y++ = dl[h * 8 + k * 2 + l / 16] * (float)q;
                }
            }
        }
    }
}

/* Q4_K (144 B): d, dmin, scales[12], qs[128]; each 32 bytes of qs hold 64 weights, low nibbles
   first. Q5_K (176 B) adds qh[32] before qs: bit 2g (2g+1) of qh[l] is the fifth bit of the low
   (high) nibble of qs[32g + l]. */
LBRX__PRIVATE void lbrx__dequantize_q45_k(const unsigned char *x, float *y, int64_t nb, int five) {
    const size_t bytes = five ? 176 : 144;
    int64_t b;
    int g, l, sc, mn;
    for (b = 0; b < nb; b++, x += bytes) {
        float d = lbrx__load_f16(x), dmin = lbrx__load_f16(x + 2);
        const unsigned char *qh = x + 16, *q = x + (five ? 48 : 16);
        for (g = 0; g < 4; g++, q += 32) {
            float d1, m1, d2, m2;
            lbrx__k4_scale_min(x + 4, 2 * g, &sc, &mn);
            d1 = d * (float)sc; m1 = dmin * (float)mn;
            lbrx__k4_scale_min(x + 4, 2 * g + 1, &sc, &mn);
            d2 = d * (float)sc; m2 = dmin * (float)mn;
            for (l = 0; l < 32; l++) {
                int h = five ? ((qh[l] >> (2 * g)) & 1) << 4 : 0;
                *y++ = d1 * (float)((q[l] & 0x0f) | h) - m1;
            }
            for (l = 0; l < 32; l++) {
                int h = five ? ((qh[l] >> (2 * g + 1)) & 1) << 4 : 0;
                *y++ = d2 * (float)((q[l] >> 4) | h) - m2;
            }
        }
    }
}

/* Q6_K (210 B): ql[128], qh[64], scales[16] (int8), d last. */
LBRX__PRIVATE void lbrx__dequantize_q6_k(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int h, l, k;
    for (b = 0; b < nb; b++, x += 210) {
        float d = lbrx__load_f16(x + 208);
        const unsigned char *ql = x, *qh = x + 128;
        const signed char *sc = (const signed char *)(x + 192);
        for (h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, y += 128) {
            for (l = 0; l < 32; l++) {
                /* k = 0..3: elements l, l+32, l+64, l+96 of this half */
                for (k = 0; k < 4; k++) {
                    int lo = (k & 1 ? ql[l + 32] : ql[l]) >> (k & 2 ? 4 : 0) & 0x0f;
                    int q = (lo | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                    y[l + 32 * k] = d * (float)sc[l / 16 + 2 * k] * (float)q;
                }
            }
        }
    }
}

/* Q8_K (292 B): f32 d, qs[256] (int8), bsums[16] (int16, not needed here). */
LBRX__PRIVATE void lbrx__dequantize_q8_k(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int j;
    for (b = 0; b < nb; b++, x += 292, y += 256) {
        float d;
        memcpy(&d, x, 4);
        for (j = 0; j < 256; j++) y[j] = d * (float)(signed char)x[4 + j];
    }
}

/* IQ4_NL (18 B): d, then 32 codes as nibbles (element j low in byte j, 16 + j high) indexing the
   16 non-linear values. IQ4_XS (136 B): d, scales_h (2 high bits of scale g at bits 2g), scales_l[4]
   (low nibbles, group g in byte g / 2), qs[128] (IQ4_NL's nibbles per group of 32); scale - 32. */
LBRX__PRIVATE void lbrx__dequantize_iq4(const unsigned char *x, float *y, int64_t nb, int xs) {
    int64_t b;
    int g, j;
    for (b = 0; b < nb; b++, x += xs ? 136 : 18) {
        float d = lbrx__load_f16(x);
        const unsigned char *qs = x + (xs ? 8 : 2);
        for (g = 0; g < (xs ? 8 : 1); g++, qs += 16, y += 32) {
            float dl = d;
            if (xs) {
                int ls = ((x[4 + g / 2] >> (4 * (g % 2))) & 0x0f) | (((x[2] | (x[3] << 8)) >> (2 * g)) & 3) << 4;
                dl = d * (float)(ls - 32);
            }
            for (j = 0; j < 16; j++) {
                y[j] = dl * (float)lbrx__iq4_values[qs[j] & 0x0f];
                y[16 + j] = dl * (float)lbrx__iq4_values[qs[j] >> 4];
            }
        }
    }
}

/* TQ1_0 (54 B): qs[48] then qh[4] hold five (four) base-3 digits per byte as a fixed-point
   fraction: digit n of byte q is the top of (q * 3^n mod 256) * 3 / 256; d last. Bytes 0..31 of
   qs give elements 32n + m, bytes 32..47 elements 160 + 16n + m, qh elements 240 + 4n + j. */
LBRX__PRIVATE void lbrx__dequantize_tq1_0(const unsigned char *x, float *y, int64_t nb) {
    static const unsigned char pow3[5] = {1, 3, 9, 27, 81};
    int64_t b;
    int n, m, part;
    for (b = 0; b < nb; b++, x += 54) {
        float d = lbrx__load_f16(x + 52);
        for (part = 0; part < 3; part++) {  /* qs[0..31], qs[32..47], qh[0..3] */
            const unsigned char *q = x + (part == 0 ? 0 : part == 1 ? 32 : 48);
            int width = part == 0 ? 32 : part == 1 ? 16 : 4, digits = part == 2 ? 4 : 5;
            for (n = 0; n < digits; n++)
                for (m = 0; m < width; m++) {
                    unsigned char v = (unsigned char)(q[m] * pow3[n]);
                    *y++ = (float)((v * 3 >> 8) - 1) * d;
                }
        }
    }
}

/* TQ2_0 (66 B): qs[64], 2-bit codes minus 1 (bit pair l of byte 32h + m is element 128h + 32l + m), d last */
LBRX__PRIVATE void lbrx__dequantize_tq2_0(const unsigned char *x, float *y, int64_t nb) {
    int64_t b;
    int h, l, m;
    for (b = 0; b < nb; b++, x += 66) {
        float d = lbrx__load_f16(x + 64);
        for (h = 0; h < 2; h++)
            for (l = 0; l < 4; l++)
                for (m = 0; m < 32; m++) *y++ = (float)(((x[32 * h + m] >> (2 * l)) & 3) - 1) * d;
    }
}

/* ---- plain types ---- */

/* F8_E4M3 ("fn": no infinities, S.1111.111 is NaN, bias 7) */
LBRX__PRIVATE float lbrx__f8_e4m3_to_f32(unsigned char v) {
    int e = (v >> 3) & 15, m = v & 7;
    float f;
    if (e == 15 && m == 7) {
        uint32_t bits = ((uint32_t)(v & 0x80) << 24) | 0x7fc00000u;
        memcpy(&f, &bits, 4);
        return f;
    }
    if (e == 0) f = (float)m * 0.001953125f;  /* subnormal: m * 2^-9 */
    else {
        uint32_t bits = ((uint32_t)(e + 120) << 23) | ((uint32_t)m << 20);
        memcpy(&f, &bits, 4);
    }
    return (v & 0x80) ? -f : f;
}

#define LBRX__CONVERT_PLAIN(ctype, count)                                                  \
    do {                                                                                   \
        int64_t i_;                                                                        \
        for (i_ = 0; i_ < (count); i_++) {                                                 \
            ctype v_;                                                                      \
            memcpy(&v_, x + (size_t)i_ * sizeof(ctype), sizeof(ctype));                    \
            dst[i_] = (float)v_;                                                           \
        }                                                                                  \
    } while (0)

LBRXDEF lbrx_result lbrx_dequantize_row(lbrx_dtype t, const void *src, float *dst, int64_t n) {
    const unsigned char *x = (const unsigned char *)src;
    int64_t bs = lbrx_dtype_block_size(t), nb, i;
    if (bs == 0) return LBRX_ERR_BAD_DTYPE;
    if (n < 0 || n % bs) return LBRX_ERR_BAD_SHAPE;
    if (n > 0 && (!src || !dst)) return LBRX_ERR_INVALID_ARGUMENT;
    nb = n / bs;
    switch (t) {
    case LBRX_F32: if (n) memcpy(dst, x, (size_t)n * 4); break;
    case LBRX_F16: lbrx_f16_to_f32_row(x, dst, (size_t)n); break;
    case LBRX_BF16: lbrx_bf16_to_f32_row(x, dst, (size_t)n); break;
    case LBRX_F64: LBRX__CONVERT_PLAIN(double, n); break;
    case LBRX_I8: LBRX__CONVERT_PLAIN(int8_t, n); break;
    case LBRX_I16: LBRX__CONVERT_PLAIN(int16_t, n); break;
    case LBRX_I32: LBRX__CONVERT_PLAIN(int32_t, n); break;
    case LBRX_I64: LBRX__CONVERT_PLAIN(int64_t, n); break;
    case LBRX_U8: LBRX__CONVERT_PLAIN(uint8_t, n); break;
    case LBRX_U16: LBRX__CONVERT_PLAIN(uint16_t, n); break;
    case LBRX_U32: LBRX__CONVERT_PLAIN(uint32_t, n); break;
    case LBRX_U64: LBRX__CONVERT_PLAIN(uint64_t, n); break;
    case LBRX_BOOL: for (i = 0; i < n; i++) dst[i] = x[i] ? 1.0f : 0.0f; break;
    case LBRX_F8_E4M3: for (i = 0; i < n; i++) dst[i] = lbrx__f8_e4m3_to_f32(x[i]); break;
    case LBRX_F8_E5M2: /* the upper byte of an f16 */
        for (i = 0; i < n; i++) dst[i] = lbrx_f16_to_f32((uint16_t)(x[i] << 8));
        break;
    case LBRX_Q4_0: lbrx__dequantize_q4_0(x, dst, nb); break;
    case LBRX_Q4_1: lbrx__dequantize_q4_1(x, dst, nb); break;
    case LBRX_Q5_0: lbrx__dequantize_q5(x, dst, nb, 0); break;
    case LBRX_Q5_1: lbrx__dequantize_q5(x, dst, nb, 1); break;
    case LBRX_Q8_0: lbrx__dequantize_q8_0(x, dst, nb); break;
    case LBRX_Q8_1: lbrx__dequantize_q8(x, dst, nb, 36, 4); break;
    case LBRX_Q2_K: lbrx__dequantize_q2_k(x, dst, nb); break;
    case LBRX_Q3_K: lbrx__dequantize_q3_k(x, dst, nb); break;
    case LBRX_Q4_K: lbrx__dequantize_q45_k(x, dst, nb, 0); break;
    case LBRX_Q5_K: lbrx__dequantize_q45_k(x, dst, nb, 1); break;
    case LBRX_Q6_K: lbrx__dequantize_q6_k(x, dst, nb); break;
    case LBRX_Q8_K: lbrx__dequantize_q8_k(x, dst, nb); break;
    case LBRX_IQ4_NL: lbrx__dequantize_iq4(x, dst, nb, 0); break;
    case LBRX_IQ4_XS: lbrx__dequantize_iq4(x, dst, nb, 1); break;
    case LBRX_TQ1_0: lbrx__dequantize_tq1_0(x, dst, nb); break;
    case LBRX_TQ2_0: lbrx__dequantize_tq2_0(x, dst, nb); break;
    default: return LBRX_ERR_UNSUPPORTED;
    }
    return LBRX_OK;
}

/* ---- whole tensors ---- */

LBRXDEF lbrx_result lbrx_tensor_convert(const lbrx_tensor *src, lbrx_dtype to, lbrx_tensor *out,
                                        const lbrx_allocator *allocator, lbrx_error *err) {
    enum { CHUNK = 4096 };  /* a multiple of every block size */
    float buf[CHUNK];
    lbrx_tensor dst;
    int64_t rows, r, n, i, estride;
    size_t in_row, out_row, esize, row_bytes;
    int gather, same;
    lbrx_result res;
    if (!src || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_tensor_convert: NULL tensor");
    res = lbrx__shape_layout(src->dtype, src->ndim, src->shape, 0, 0, err);
    if (res != LBRX_OK) return res;
    n = src->ndim ? src->shape[src->ndim - 1] : 1;
    same = src->dtype == to;  /* copied byte for byte, whatever the type */
    res = lbrx_quantize_row(to, 0, 0, 0);
    if (!same && res != LBRX_OK)
        return lbrx__errorf(err, res == LBRX_ERR_BAD_DTYPE ? res : LBRX_ERR_UNSUPPORTED, LBRX__NO_OFFSET,
                            "conversion to %s (dtype %d) is not supported", lbrx_dtype_name(to), (int)to);
    if (!same && lbrx_dequantize_row(src->dtype, 0, 0, 0) != LBRX_OK)
        return lbrx__errorf(err, LBRX_ERR_UNSUPPORTED, LBRX__NO_OFFSET, "conversion from %s is not supported", lbrx_dtype_name(src->dtype));
    if (n % lbrx_dtype_block_size(to))
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "row length %lld is not a multiple of the %s block size %lld",
                            (long long)n, lbrx_dtype_name(to), (long long)lbrx_dtype_block_size(to));
    if ((res = lbrx_row_bytes(src->dtype, n, &row_bytes)) != LBRX_OK || (res = lbrx_row_bytes(src->dtype, CHUNK, &in_row)) != LBRX_OK ||
        (res = lbrx_row_bytes(to, CHUNK, &out_row)) != LBRX_OK)
        return lbrx__errorf(err, res, LBRX__NO_OFFSET, "rows of %lld %s elements: %s", (long long)n, lbrx_dtype_name(src->dtype),
                            lbrx_result_str(res));
    res = lbrx_tensor_init_heap(&dst, to, src->ndim, src->shape, allocator, err);
    if (res != LBRX_OK) return res;
    rows = lbrx_tensor_nrows(src);
    if (lbrx_tensor_nelements(src, &i) == LBRX_OK && i == 0) rows = 0;
    esize = lbrx_dtype_block_bytes(src->dtype);
    /* a plain-typed source whose elements are not adjacent within a row is gathered */
    estride = src->ndim ? src->stride[src->ndim - 1] : (int64_t)esize;
    gather = lbrx_dtype_block_size(src->dtype) == 1 && estride != (int64_t)esize;
    for (r = 0; r < rows; r++) {
        const unsigned char *s = (const unsigned char *)lbrx_tensor_row(src, r);
        unsigned char *d = (unsigned char *)lbrx_tensor_row(&dst, r);
        if (same) {
            if (!gather) memcpy(d, s, row_bytes);
            else for (i = 0; i < n; i++) memcpy(d + (size_t)i * esize, s + i * estride, esize);
            continue;
        }
        for (i = 0; i < n; i += CHUNK) {
            int64_t m = n - i < (int64_t)CHUNK ? n - i : (int64_t)CHUNK, k;
            if (gather)
                for (k = 0; k < m; k++) lbrx_dequantize_row(src->dtype, s + (i + k) * estride, buf + k, 1);
            else
                lbrx_dequantize_row(src->dtype, s + (size_t)(i / CHUNK) * in_row, buf, m);
            lbrx_quantize_row(to, buf, d + (size_t)(i / CHUNK) * out_row, m);
        }
    }
    *out = dst;
    return LBRX_OK;
}

/* ==== end block formats (implementation) ==== */

/* ============================================================================================
   Context
   ============================================================================================ */

#define LBRX__PAR_MAX 64       /* threads of a region whose start times are recorded */

struct lbrx_context {
    int n_threads;
    lbrx_allocator allocator;
    void *scratch;
    size_t scratch_bytes;
    /* the thread policy's state (lbrx__threads_for): the running region's start, its threads'
       entry times and the master's finish; until when the context runs on one thread, and the
       current length of that period */
    double par_t0, par_in[LBRX__PAR_MAX], par_master, solo_until, solo_len;
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

/* ---- the thread policy ----
   Every parallel operation asks lbrx__threads_for how many threads to use, from the bytes it
   reads and the floating-point operations it does: its time on one thread estimated at
   LBRX__PAR_BPS and LBRX__PAR_FPS, one thread per LBRX_THREAD_SLICE of that time, at most the
   context's count. So tiny operations (the many small ones of a small model's token) never fork
   and join, and mid-sized ones use only the threads that pay for their start.
   A host shares its cores with other work. When another thread takes a core, a thread of a
   region can start or finish a scheduler time slice late (milliseconds), and a fork/join per
   operation then costs orders of magnitude more than it saves. Each region records when its
   threads started and when the master finished its share (lbrx__par_begin / lbrx__par_mark /
   lbrx__par_end); a region that waited more than LBRX__PAR_LATE for its threads, and more than
   a quarter of its own work, puts the context on one thread for at least LBRX__PAR_SOLO seconds
   and 20 times the wait (a try costs about one time slice, so tries cost at most 5 %), twice as
   long after each try that still finds a thread late (up to 1 s), back to the full count after
   one that does not (the next period then starts from half the last one).
   The results do not depend on the thread count, so this changes only the speed. */
#define LBRX__PAR_BPS 20e9     /* bytes per second one thread is assumed to read */
#define LBRX__PAR_FPS 50e9     /* floating-point operations per second of one thread */
#ifndef LBRX_THREAD_SLICE
#define LBRX_THREAD_SLICE 10e-6   /* seconds of one-thread work each thread must have */
#endif
#define LBRX__PAR_LATE 100e-6  /* a region's threads later than this were descheduled */
#define LBRX__PAR_SOLO 0.05    /* seconds on one thread after the first late region */

LBRX__PRIVATE int lbrx__threads_for(lbrx_context *ctx, double bytes, double flops) {
    const double t = bytes / LBRX__PAR_BPS + flops / LBRX__PAR_FPS, slice = LBRX_THREAD_SLICE;
    int n = ctx ? ctx->n_threads : 1;
    if (!(slice > 0.0)) return n;
    if (n > 1 && t < n * slice) n = (int)(t / slice);
#ifdef _OPENMP
    if (n > 1 && ctx->solo_until > 0.0 && omp_get_wtime() < ctx->solo_until) n = 1;
#endif
    return n < 1 ? 1 : n;
}

#ifdef _OPENMP
/* Before a region of nt threads; inside it, every thread at its start (leaving = 0) and at its
   end (leaving = 1: only the master's counts); after it. */
LBRX__PRIVATE void lbrx__par_begin(lbrx_context *ctx, int nt) {
    if (ctx && nt > 1) ctx->par_t0 = omp_get_wtime();
}
LBRX__PRIVATE void lbrx__par_mark(lbrx_context *ctx, int nt, int leaving) {
    int tid;
    if (!ctx || nt <= 1) return;
    tid = omp_get_thread_num();
    if (leaving) { if (tid == 0) ctx->par_master = omp_get_wtime(); }
    else if (tid < LBRX__PAR_MAX) ctx->par_in[tid] = omp_get_wtime();
}
LBRX__PRIVATE void lbrx__par_end(lbrx_context *ctx, int nt) {
    double now, late;
    int t;
    if (!ctx || nt <= 1) return;
    now = omp_get_wtime();
    late = now - ctx->par_master;   /* the master waiting for the others at the end */
    for (t = 1; t < nt && t < LBRX__PAR_MAX; t++)   /* a thread starting late (older entries: not in this team) */
        if (ctx->par_in[t] - ctx->par_t0 > late) late = ctx->par_in[t] - ctx->par_t0;
    if (late > LBRX__PAR_LATE && late > 0.25 * (now - ctx->par_t0 - late)) {
        double len = 2.0 * ctx->solo_len;
        if (len < 20.0 * late) len = 20.0 * late;
        if (len < LBRX__PAR_SOLO) len = LBRX__PAR_SOLO;
        ctx->solo_len = len < 1.0 ? len : 1.0;
        ctx->solo_until = now + ctx->solo_len;
    } else {
        ctx->solo_len *= 0.5;   /* the next late region starts from half the last period */
    }
}
#else
#define lbrx__par_begin(ctx, nt) ((void)(ctx), (void)(nt))
#define lbrx__par_mark(ctx, nt, leaving) ((void)(ctx), (void)(nt), (void)(leaving))
#define lbrx__par_end(ctx, nt) ((void)(ctx), (void)(nt))
#endif

/* The scratch of a kernel: the context's, or when ctx is NULL (one thread, see "API rules") a
   block of the default allocator, which *owned receives and lbrx__scratch_done frees. */
LBRX__PRIVATE void *lbrx__scratch(lbrx_context *ctx, size_t bytes, void **owned) {
    *owned = 0;
    if (ctx) return lbrx_context_scratch(ctx, bytes);
    *owned = lbrx_alloc(0, bytes, 64);
    return *owned;
}
LBRX__PRIVATE void lbrx__scratch_done(void *owned) { lbrx_free(0, owned); }

/* ==== SIMD vectors (implementation) ==== */

/* LBRX__INLINE: kernels with compile-time sizes (tile rows, vector counts), inlined into
   dispatchers that call them with constants. LBRX__UNROLL: unroll a loop over such a size
   completely, so that its array of accumulators lives in registers; gcc needs it at -O2 (at -O3
   it does it anyway). Not for clang: clang unrolls these loops by itself early enough to
   promote the arrays, and the pragma defers its unrolling past that point, leaving them in
   memory (decode attention from cache at half speed). LBRX__NOINLINE: a dispatcher kept out of
   its caller, so that its register tiles are allocated on their own (clang spilled the
   attention tiles inlined into the OpenMP region: prefill at 0.6 of gcc's speed; the quantized
   GEMM's, 0.88). */
#if defined(__GNUC__) || defined(__clang__)
#define LBRX__INLINE static inline __attribute__((always_inline))
#define LBRX__NOINLINE __attribute__((noinline))
#if defined(__clang__)
#define LBRX__UNROLL
#else
#define LBRX__UNROLL _Pragma("GCC unroll 16")
#endif
#else
#define LBRX__INLINE static
#define LBRX__NOINLINE
#define LBRX__UNROLL
#endif

/* One SIMD register of f32 (LBRX__VL lanes) and the few operations the kernels need: the float
   matmul tiles, the ops and attention. The exp is exp(x) for x <= 88 (underflow below -87.3
   gives 0), about 1 ulp: Cody-Waite reduction by ln 2 and the degree-7 Taylor polynomial on
   |r| <= ln2/2. */
#define LBRX__EXP_LO -87.33654f
#define LBRX__EXP_HI 88.37626f
#define LBRX__LN2_HI 0.693145751953125f
#define LBRX__LN2_LO 1.428606765330187e-06f
#define LBRX__EXP_POLY(r, vset, vfma) \
    vfma(vfma(vfma(vfma(vfma(vfma(vfma(vset(1.0f / 5040.0f), r, vset(1.0f / 720.0f)), r, vset(1.0f / 120.0f)), r, \
    vset(1.0f / 24.0f)), r, vset(1.0f / 6.0f)), r, vset(0.5f)), r, vset(1.0f)), r, vset(1.0f))
#if defined(LBRX__AVX512)
typedef __m512 lbrx__vec;
#define LBRX__VL 16
#define lbrx__vzero() _mm512_setzero_ps()
#define lbrx__vld(p) _mm512_loadu_ps(p)
#define lbrx__vst(p, v) _mm512_storeu_ps(p, v)
#define lbrx__vdup(x) _mm512_set1_ps(x)
#define lbrx__vfma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define lbrx__vmul(a, b) _mm512_mul_ps(a, b)
#define lbrx__vadd(a, b) _mm512_add_ps(a, b)
#define lbrx__vsub(a, b) _mm512_sub_ps(a, b)
#define lbrx__vmax(a, b) _mm512_max_ps(a, b)
#define lbrx__vhsum(v) _mm512_reduce_add_ps(v)
#define lbrx__vhmax(v) _mm512_reduce_max_ps(v)
#define lbrx__vdiv(a, b) _mm512_div_ps(a, b)
LBRX__INLINE __m512 lbrx__vexp(__m512 x) {
    __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(LBRX__EXP_LO), _CMP_GE_OQ);
    __m512 n, r, p;
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(LBRX__EXP_LO)), _mm512_set1_ps(LBRX__EXP_HI));
    n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LBRX__LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LBRX__LN2_LO), r);
    p = LBRX__EXP_POLY(r, _mm512_set1_ps, _mm512_fmadd_ps);
    return _mm512_maskz_mov_ps(keep, _mm512_scalef_ps(p, n));
}
#define lbrx__vld_h(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
/* out[0..3] = the sums of a, b, c and d */
LBRX__INLINE void lbrx__vhsum4(__m512 a, __m512 b, __m512 c, __m512 d, float *out) {
    __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    __m512 x = _mm512_add_ps(_mm512_shuffle_ps(ab, cd, 0x44), _mm512_shuffle_ps(ab, cd, 0xee));
    __m256 y = _mm256_add_ps(_mm512_castps512_ps256(x), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    __m128 z = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
    _mm_storeu_ps(out, z);
}
#elif defined(LBRX__AVX2)
typedef __m256 lbrx__vec;
#define LBRX__VL 8
#define lbrx__vzero() _mm256_setzero_ps()
#define lbrx__vld(p) _mm256_loadu_ps(p)
#define lbrx__vst(p, v) _mm256_storeu_ps(p, v)
#define lbrx__vdup(x) _mm256_set1_ps(x)
#define lbrx__vfma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define lbrx__vmul(a, b) _mm256_mul_ps(a, b)
#define lbrx__vadd(a, b) _mm256_add_ps(a, b)
#define lbrx__vsub(a, b) _mm256_sub_ps(a, b)
#define lbrx__vmax(a, b) _mm256_max_ps(a, b)
#define lbrx__vdiv(a, b) _mm256_div_ps(a, b)
LBRX__INLINE float lbrx__vhmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
LBRX__INLINE float lbrx__vhsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
LBRX__INLINE __m256 lbrx__vexp(__m256 x) {
    __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(LBRX__EXP_LO), _CMP_GE_OQ), n, r, p;
    __m256i e;
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(LBRX__EXP_LO)), _mm256_set1_ps(LBRX__EXP_HI));
    n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LBRX__LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LBRX__LN2_LO), r);
    p = LBRX__EXP_POLY(r, _mm256_set1_ps, _mm256_fmadd_ps);
    e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(keep, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}
#if defined(LBRX__F16C)
#define lbrx__vld_h(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#else
LBRX__INLINE __m256 lbrx__vld_h(const unsigned char *p) {
    float t[8];
    lbrx_f16_to_f32_row(p, t, 8);
    return _mm256_loadu_ps(t);
}
#endif
LBRX__INLINE void lbrx__vhsum4(__m256 a, __m256 b, __m256 c, __m256 d, float *out) {
    __m256 x = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1)));
}
#elif defined(LBRX__NEON)
typedef float32x4_t lbrx__vec;
#define LBRX__VL 4
#define lbrx__vzero() vdupq_n_f32(0.0f)
#define lbrx__vld(p) vld1q_f32(p)
#define lbrx__vst(p, v) vst1q_f32(p, v)
#define lbrx__vdup(x) vdupq_n_f32(x)
#define lbrx__vfma(a, b, c) vfmaq_f32(c, a, b)
#define lbrx__vmul(a, b) vmulq_f32(a, b)
#define lbrx__vadd(a, b) vaddq_f32(a, b)
#define lbrx__vsub(a, b) vsubq_f32(a, b)
#define lbrx__vmax(a, b) vmaxq_f32(a, b)
#define lbrx__vhsum(v) vaddvq_f32(v)
#define lbrx__vhmax(v) vmaxvq_f32(v)
#define lbrx__vdiv(a, b) vdivq_f32(a, b)
LBRX__INLINE float32x4_t lbrx__vexp(float32x4_t x) {
    uint32x4_t keep = vcgeq_f32(x, vdupq_n_f32(LBRX__EXP_LO));
    float32x4_t n, r, p;
    int32x4_t e;
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(LBRX__EXP_LO)), vdupq_n_f32(LBRX__EXP_HI));
    n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    r = vfmsq_f32(x, n, vdupq_n_f32(LBRX__LN2_HI));
    r = vfmsq_f32(r, n, vdupq_n_f32(LBRX__LN2_LO));
#define LBRX__NEON_FMA(a, b, c) vfmaq_f32(c, a, b)
    p = LBRX__EXP_POLY(r, vdupq_n_f32, LBRX__NEON_FMA);
#undef LBRX__NEON_FMA
    e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vreinterpretq_f32_u32(vandq_u32(keep, vreinterpretq_u32_f32(vmulq_f32(p, vreinterpretq_f32_s32(e)))));
}
#define lbrx__vld_h(p) vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8((const uint8_t *)(p))))
#define lbrx__vhsum4(a, b, c, d, out) vst1q_f32(out, vpaddq_f32(vpaddq_f32(a, b), vpaddq_f32(c, d)))
#else
typedef float lbrx__vec;
#define LBRX__VL 1
#define lbrx__vzero() 0.0f
#define lbrx__vld(p) (*(p))
#define lbrx__vst(p, v) (*(p) = (v))
#define lbrx__vdup(x) (x)
#define lbrx__vfma(a, b, c) ((a) * (b) + (c))
#define lbrx__vmul(a, b) ((a) * (b))
#define lbrx__vadd(a, b) ((a) + (b))
#define lbrx__vsub(a, b) ((a) - (b))
#define lbrx__vmax(a, b) ((a) > (b) ? (a) : (b))
#define lbrx__vhsum(v) (v)
#define lbrx__vhmax(v) (v)
#define lbrx__vdiv(a, b) ((a) / (b))
#define lbrx__vexp(x) expf(x)
LBRX__INLINE float lbrx__vld_h(const unsigned char *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return lbrx_f16_to_f32(h);
}
#define lbrx__vhsum4(a, b, c, d, out) ((out)[0] = (a), (out)[1] = (b), (out)[2] = (c), (out)[3] = (d))
#endif
#if defined(__GNUC__) || defined(__clang__)
#define LBRX__PREFETCH(p) __builtin_prefetch(p)
#else
#define LBRX__PREFETCH(p) ((void)(p))
#endif

/* ==== end SIMD vectors (implementation) ==== */

/* ==== matmul (implementation) ==== */

/* How the product is organised.
   - x is prepared once per call in the context's scratch: its row pointers and, for quantized
     weights, each row in blocks of 32 int8 values q = round-half-even(x * 127/amax) with the
     scale d = amax/127 (f32), the block sum s = sum(q) and ds = d*s (Q4_1's offset term).
   - Canonical order, followed by the scalar code and, bit for bit, by the tiled kernels: for
     float weights acc = fma(x[j], w[j], acc) for j = 0..in-1; for quantized weights, the row
     unpacked (the format table, lbrx__wfmts) into scale groups g of 32 or 16 values v with a
     scale D_g and, for formats with a min, M_g, in order: acc = fma((float)isum_g, D_g*dx_g, acc)
     and then acc = fma(M_g, dx_g*s_g, acc), where isum_g is the exact integer dot product of v
     with x's int8 values, dx_g the scale of x's block of 32 holding the group and s_g the sum of
     x's values in the group (Q8_0: v = q; Q4_0: nibble-8; Q4_1: nibble, M = m; Q4_K: nibble,
     D = d*scale, M = -dmin*min; and so on, one unpacker per format).
   - n < LBRX_MATMUL_GEMM_MIN: matrix-vector kernels stream groups of weight rows with software
     prefetch (memory-level parallelism is what bounds decoding) and sum in SIMD lanes.
   - n >= LBRX_MATMUL_GEMM_MIN: each thread takes panels of output columns; per block of `in` it
     packs (converts, unpacks) the weights of the panel once into its own buffer, or takes them
     from the prepared panels (lbrx_matmul_weights), and runs register-blocked tiles over all
     rows of x: the float tiles broadcast x where it lies, the quantized ones read a packed copy
     of the quantized x that all threads share.
   Each output element is computed by exactly one thread in an order that does not depend on the
   thread count or the range, hence the bit-identical results. */

/* Matrix-vector products give each thread one contiguous run of weight rows, a multiple of
   LBRX__MM_CHUNK: a long run keeps the software prefetch streaming from one group of rows into
   the next (short work items measured 25% slower from DRAM: every item starts cold). */
#define LBRX__MM_CHUNK 32

/* Rows of W (float, quantized) from which the tiled kernels take n >= LBRX_MATMUL_GEMM_MIN; a W
   with fewer goes through the matrix-vector kernels. */
#define LBRX__MM_GEMM_ROWS_F 32
#define LBRX__MM_GEMM_ROWS_Q 64

/* The scalar kernels are the reference the tests compare SIMD builds with; SIMD builds may not
   call them. */
#if defined(__GNUC__) || defined(__clang__)
#define LBRX__MM_REF static __attribute__((unused))
#else
#define LBRX__MM_REF static
#endif

typedef struct lbrx__mm {
    lbrx_dtype dt;
    int64_t n, k, nb;           /* rows of x, length of a row (in), blocks of 32 per row */
    const unsigned char *w;     /* weight row o at w + o * ws */
    int64_t ws;
    const struct lbrx__wfmt *fmt;  /* the weight dtype's row of the format table */
    const float **xr;           /* x rows */
    float **yr;                 /* y rows */
    int8_t *xq;                 /* quantized x: row i at xq + i * kq */
    int64_t kq;
    float *xd;                  /* block scales of x, row i at xd + i * nb */
    int32_t *xs;                /* block sums of q */
    float *xds;                 /* d * s */
    int32_t *xs16;              /* formats with groups of 16: sums of q per 16 values, row i at xs16 + i * 2 nb */
    void *xp;                   /* quantized tiled kernels: x packed in panels of QR rows */
    const float *wprep;         /* float tiled kernels: prepared panels (lbrx_matmul_weights) or NULL */
    unsigned char *wbuf;        /* tiled kernels: per-thread weight buffers */
    size_t wbuf_bytes;
} lbrx__mm;

/* x and y may be unaligned (any strides): scalar code reads and writes them through memcpy. */
LBRX__PRIVATE float lbrx__mm_ldf(const float *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}


/* ---- weight formats: how each block unpacks for the kernels ---- */

/* Every quantized weight dtype reaches the kernels in one form: a block of `block` values (32 or
   256) unpacks into groups of `group` values (32, or 16 for the K-quants with 16-value scales)
   as int8 integers v with a float scale D and, for the formats with a min, a float M, so that
   value = D * v + M. D and M are the format's scales multiplied out (an f16 times an integer of
   at most 8 bits: exact in f32), so unpacking rounds nothing. The table (lbrx__wfmts, below the
   kernels) gives each dtype's geometry, its unpacker, its matrix-vector kernel for this build and
   its quantizer and dequantizer. */
typedef void (*lbrx__unpack_fn)(const unsigned char *blk, int8_t *v, float *d, float *mn);
typedef void (*lbrx__mm_kernel_fn)(const lbrx__mm *m, int64_t o0, int64_t o1);
typedef struct lbrx__wfmt {
    lbrx_dtype dt;
    int block, bytes, group;  /* values per block, bytes per block, values per scale group (0: float type) */
    int uoff;                 /* v + uoff lies in 0..63 for every block (an unsigned operand); -1: v signed */
    int has_min;
    lbrx__unpack_fn unpack;   /* NULL for the float types */
    lbrx__mm_kernel_fn gemv;  /* matrix-vector kernel of this build: rows [o0, o1) against every row of x */
    void (*quantize)(const float *src, void *dst, int64_t n);           /* lbrx_quantize_row_<type>, or NULL */
    void (*dequantize)(const unsigned char *x, float *y, int64_t nb);   /* nb blocks to f32, or NULL */
} lbrx__wfmt;

/* 16 bytes of nibbles: low nibbles are values 0..15, high nibbles 16..31 (Q4_0, Q4_1, Q5_*, IQ4_*) */
LBRX__PRIVATE void lbrx__unpack_nibbles(const unsigned char *qs, int8_t *v, int sub) {
    int j;
    for (j = 0; j < 16; j++) {
        v[j] = (int8_t)((qs[j] & 0x0f) - sub);
        v[j + 16] = (int8_t)((qs[j] >> 4) - sub);
    }
}
LBRX__PRIVATE void lbrx__unpack_q8_0(const unsigned char *x, int8_t *v, float *d, float *mn) {
    int j;
    for (j = 0; j < 32; j++) v[j] = (int8_t)x[2 + j];
    d[0] = lbrx__load_f16(x);
    (void)mn;
}
LBRX__PRIVATE void lbrx__unpack_q4_0(const unsigned char *x, int8_t *v, float *d, float *mn) {
    lbrx__unpack_nibbles(x + 2, v, 8);
    d[0] = lbrx__load_f16(x);
    (void)mn;
}
LBRX__PRIVATE void lbrx__unpack_q4_1(const unsigned char *x, int8_t *v, float *d, float *mn) {
    lbrx__unpack_nibbles(x + 4, v, 0);
    d[0] = lbrx__load_f16(x);
    mn[0] = lbrx__load_f16(x + 2);
}
/* Q5_0 (v = q - 16) and Q5_1 (v = q, min m): the fifth bit of value j is bit j of qh */
LBRX__PRIVATE void lbrx__unpack_q5(const unsigned char *x, int8_t *v, int hdr, int sub) {
    uint32_t qh = lbrx__load_u32le(x + hdr);
    int j;
    lbrx__unpack_nibbles(x + hdr + 4, v, 0);
    for (j = 0; j < 32; j++) v[j] = (int8_t)(v[j] + (int)((qh >> j) & 1) * 16 - sub);
}
LBRX__PRIVATE void lbrx__unpack_q5_0(const unsigned char *x, int8_t *v, float *d, float *mn) {
    lbrx__unpack_q5(x, v, 2, 16);
    d[0] = lbrx__load_f16(x);
    (void)mn;
}
LBRX__PRIVATE void lbrx__unpack_q5_1(const unsigned char *x, int8_t *v, float *d, float *mn) {
    lbrx__unpack_q5(x, v, 4, 0);
    d[0] = lbrx__load_f16(x);
    mn[0] = lbrx__load_f16(x + 2);
}
LBRX__PRIVATE void lbrx__unpack_iq4_nl(const unsigned char *x, int8_t *v, float *d, float *mn) {
    int j;
    lbrx__unpack_nibbles(x + 2, v, 0);
    for (j = 0; j < 32; j++) v[j] = lbrx__iq4_values[v[j]];
    d[0] = lbrx__load_f16(x);
    (void)mn;
}
/* IQ4_XS (136 B): d, scales_h (u16: 2 high bits per group), scales_l[4] (nibbles), qs[128];
   group g's scale is d * (6-bit ls - 32) */
LBRX__PRIVATE void lbrx__unpack_iq4_xs(const unsigned char *x, int8_t *v, float *d, float *mn) {
    const float dd = lbrx__load_f16(x);
    const unsigned sh = (unsigned)x[2] | ((unsigned)x[3] << 8);
    int g, j;
    for (g = 0; g < 8; g++) {
        int ls = ((x[4 + g / 2] >> (4 * (g % 2))) & 0x0f) | (int)(((sh >> (2 * g)) & 3) << 4);
        lbrx__unpack_nibbles(x + 8 + 16 * g, v + 32 * g, 0);
        for (j = 0; j < 32; j++) v[32 * g + j] = lbrx__iq4_values[v[32 * g + j]];
        d[g] = dd * (float)(ls - 32);
    }
    (void)mn;
}
/* Q2_K (84 B): groups of 16, v = 2-bit q, D = d * scale nibble, M = -dmin * min nibble */
LBRX__PRIVATE void lbrx__unpack_q2_k(const unsigned char *x, int8_t *v, float *d, float *mn) {
    const float dd = lbrx__load_f16(x + 80), dmin = lbrx__load_f16(x + 82);
    int h, k, l, g;
    for (h = 0; h < 2; h++)
        for (k = 0; k < 4; k++)
            for (l = 0; l < 32; l++) v[128 * h + 32 * k + l] = (int8_t)((x[16 + 32 * h + l] >> (2 * k)) & 3);
    for (g = 0; g < 16; g++) {
        d[g] = dd * (float)(x[g] & 0x0f);
        mn[g] = -dmin * (float)(x[g] >> 4);
    }
}
/* Q3_K (110 B): groups of 16, v = 2-bit q - (hmask bit clear ? 4 : 0), D = d * (6-bit scale - 32) */
LBRX__PRIVATE void lbrx__unpack_q3_k(const unsigned char *x, int8_t *v, float *d, float *mn) {
    const unsigned char *hm = x, *qs = x + 32, *s = x + 96;
    const float dd = lbrx__load_f16(x + 108);
    int h, k, l, g;
    for (h = 0; h < 2; h++)
        for (k = 0; k < 4; k++)
            for (l = 0; l < 32; l++)
                v[128 * h + 32 * k + l] = (int8_t)(((qs[32 * h + l] >> (2 * k)) & 3) - ((hm[l] >> (4 * h + k)) & 1 ? 0 : 4));
    for (g = 0; g < 16; g++) {
        int lo = g < 8 ? (s[g] & 0x0f) : (s[g - 8] >> 4), hi = (s[8 + (g & 3)] >> (2 * (g >> 2))) & 3;
        d[g] = dd * (float)((lo | (hi << 4)) - 32);
    }
    (void)mn;
}
/* Q4_K (144 B) and Q5_K (176 B): groups of 32, D = d * scale, M = -dmin * min (6 bits each) */
LBRX__PRIVATE void lbrx__unpack_q45_k(const unsigned char *x, int8_t *v, float *d, float *mn, int five) {
    const float dd = lbrx__load_f16(x), dmin = lbrx__load_f16(x + 2);
    const unsigned char *qh = x + 16, *q = x + (five ? 48 : 16);
    int g, l, sc, m;
    for (g = 0; g < 8; g++) {
        lbrx__k4_scale_min(x + 4, g, &sc, &m);
        d[g] = dd * (float)sc;
        mn[g] = -dmin * (float)m;
        for (l = 0; l < 32; l++)
            v[32 * g + l] = (int8_t)(((q[32 * (g / 2) + l] >> (4 * (g & 1))) & 0x0f) | (five ? ((qh[l] >> g) & 1) << 4 : 0));
    }
}
LBRX__PRIVATE void lbrx__unpack_q4_k(const unsigned char *x, int8_t *v, float *d, float *mn) { lbrx__unpack_q45_k(x, v, d, mn, 0); }
LBRX__PRIVATE void lbrx__unpack_q5_k(const unsigned char *x, int8_t *v, float *d, float *mn) { lbrx__unpack_q45_k(x, v, d, mn, 1); }
/* Q6_K (210 B): groups of 16, v = 6-bit q - 32, D = d * int8 scale */
LBRX__PRIVATE void lbrx__unpack_q6_k(const unsigned char *x, int8_t *v, float *d, float *mn) {
    const float dd = lbrx__load_f16(x + 208);
    int h, k, l, g;
    for (h = 0; h < 2; h++)
        for (k = 0; k < 4; k++)
            for (l = 0; l < 32; l++) {
                int lo = (x[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0f;
                v[128 * h + 32 * k + l] = (int8_t)((lo | (((x[128 + 32 * h + l] >> (2 * k)) & 3) << 4)) - 32);
            }
    for (g = 0; g < 16; g++) d[g] = dd * (float)(int8_t)x[192 + g];
    (void)mn;
}

/* Quantize one row of x (k a multiple of 32) as described above. */
LBRX__MM_REF void lbrx__mm_quantize_x_scalar(const float *x, int64_t k, int8_t *q, float *d,
                                              int32_t *s, float *ds) {
    int64_t b;
    for (b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0.0f, id;
        int32_t sum = 0;
        int j;
        for (j = 0; j < 32; j++) {
            float a = fabsf(lbrx__mm_ldf(xb + j));
            if (a > amax) amax = a;
        }
        id = amax > 0.0f ? 127.0f / amax : 0.0f;
        for (j = 0; j < 32; j++) {
            long v = lrintf(lbrx__mm_ldf(xb + j) * id);
            q[b * 32 + j] = (int8_t)v;
            sum += (int32_t)v;
        }
        d[b] = amax / 127.0f;
        s[b] = sum;
        ds[b] = d[b] * (float)sum;
    }
}

/* x's side of scale group g (of m->fmt->group values) of row i: its scale and d * (sum of q) */
LBRX__PRIVATE float lbrx__mm_xgd(const lbrx__mm *m, int64_t i, int64_t g) {
    return m->xd[i * m->nb + (m->fmt->group == 16 ? g / 2 : g)];
}
LBRX__PRIVATE float lbrx__mm_xgds(const lbrx__mm *m, int64_t i, int64_t g) {
    if (m->fmt->group == 16) return m->xd[i * m->nb + g / 2] * (float)m->xs16[i * 2 * m->nb + g];
    return m->xds[i * m->nb + g];
}

/* One output in canonical order: weight row `wr` against row i of x. */
LBRX__MM_REF float lbrx__mm_dot_scalar(const lbrx__mm *m, const unsigned char *wr, int64_t i) {
    float acc = 0.0f;
    int64_t j, b;
    switch (m->dt) {
    case LBRX_F32: {
        const float *x = m->xr[i];
        for (j = 0; j < m->k; j++) {
            float v;
            memcpy(&v, wr + 4 * j, 4);
            acc = fmaf(lbrx__mm_ldf(x + j), v, acc);
        }
        break;
    }
    case LBRX_F16: case LBRX_BF16: {
        const float *x = m->xr[i];
        for (j = 0; j < m->k; j++) {
            uint16_t h;
            memcpy(&h, wr + 2 * j, 2);
            acc = fmaf(lbrx__mm_ldf(x + j), m->dt == LBRX_F16 ? lbrx_f16_to_f32(h) : lbrx_bf16_to_f32(h), acc);
        }
        break;
    }
    default: {
        const lbrx__wfmt *f = m->fmt;
        const int8_t *xq = m->xq + i * m->kq;
        const int gpb = f->block / f->group;
        int8_t v[256];
        float d[16], mn[16];
        int g, t;
        for (b = 0; b < m->k / f->block; b++) {
            f->unpack(wr + (size_t)b * (size_t)f->bytes, v, d, mn);
            for (g = 0; g < gpb; g++) {
                const int64_t gi = b * gpb + g, e0 = gi * f->group;
                int32_t isum = 0;
                for (t = 0; t < f->group; t++) isum += v[g * f->group + t] * xq[e0 + t];
                acc = fmaf((float)isum, d[g] * lbrx__mm_xgd(m, i, gi), acc);
                if (f->has_min) acc = fmaf(mn[g], lbrx__mm_xgds(m, i, gi), acc);
            }
        }
        break;
    }
    }
    return acc;
}

/* Weight rows [o0, o1) against all rows of x, in canonical order. */
LBRX__MM_REF void lbrx__mm_rows_scalar(const lbrx__mm *m, int64_t o0, int64_t o1) {
    int64_t o, i;
    for (o = o0; o < o1; o++)
        for (i = 0; i < m->n; i++) {
            float v = lbrx__mm_dot_scalar(m, m->w + o * m->ws, i);
            memcpy(m->yr[i] + o, &v, 4);
        }
}

/* ---- SIMD: quantizing x and the matrix-vector kernels ---- */

#if defined(LBRX__AVX2) && defined(LBRX__F16C)
#define LBRX__MM_X86 1
#if defined(LBRX__AVX512VNNI) && defined(__AVX512VL__)
#define LBRX__MM_VNNI256 1
#endif
#if defined(LBRX__AVX512VNNI) && defined(LBRX__AVX512VBMI)
#define LBRX__MM_GEMV512 1     /* quantized matrix-vector kernel on 512-bit steps (below) */
#endif
#if defined(LBRX__AVX512) && defined(LBRX__AVX512VNNI)
#define LBRX__GV512 1          /* the format table's AVX-512 section (below) */
#endif
#endif

#define LBRX__MM_PF 2048       /* software prefetch distance of the matrix-vector kernels, bytes */

#if defined(LBRX__MM_X86)
LBRX__PRIVATE float lbrx__mm_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

LBRX__PRIVATE void lbrx__mm_quantize_x_simd(const float *x, int64_t k, int8_t *q, float *d, int32_t *s, float *ds) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int64_t b;
    for (b = 0; b < k / 32; b++) {
        const float *xb = x + b * 32;
        __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8), v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
        __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, absmask), _mm256_and_ps(v1, absmask)),
                                  _mm256_max_ps(_mm256_and_ps(v2, absmask), _mm256_and_ps(v3, absmask)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        __m256 vid;
        __m256i i0, i1, i2, i3, t;
        __m128i t4;
        float amax, id;
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        amax = _mm_cvtss_f32(m4);
        id = amax > 0.0f ? 127.0f / amax : 0.0f;
        vid = _mm256_set1_ps(id);
        i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
        i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
        i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
        i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
        t = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        t4 = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
        t4 = _mm_add_epi32(t4, _mm_shuffle_epi32(t4, 0x4E));
        t4 = _mm_add_epi32(t4, _mm_shuffle_epi32(t4, 0xB1));
        t = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)(void *)(q + b * 32), _mm256_permutevar8x32_epi32(t, perm));
        d[b] = amax / 127.0f;
        s[b] = _mm_cvtsi128_si32(t4);
        ds[b] = d[b] * (float)s[b];
    }
}

/* Eight int32 lanes whose sum is the integer dot product of one weight block with x's block. */
LBRX__PRIVATE __m256i lbrx__mm_bdot_q8(const unsigned char *wq, __m256i xv) {
    __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)wq);
    __m256i aw = _mm256_abs_epi8(w), sx = _mm256_sign_epi8(xv, w);
#if defined(LBRX__MM_VNNI256)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sx);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1));
#endif
}

/* Eight int32 lanes: unsigned 4-bit weights lo, hi (one byte each, 0..15) against x's int8 values
   of the same lanes xlo, xhi; lanes 0..3 sum the register's lower 128 bits, lanes 4..7 the upper. */
LBRX__PRIVATE __m256i lbrx__mm_bdot_q4x2(__m256i lo, __m256i xlo, __m256i hi, __m256i xhi) {
#if defined(LBRX__MM_VNNI256)
    return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, xlo), hi, xhi);
#else
    /* a pair of products is at most 2 * 15 * 127 in magnitude, so two of them fit int16 */
    return _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo, xlo), _mm256_maddubs_epi16(hi, xhi)), _mm256_set1_epi16(1));
#endif
}

#define LBRX__MM_GR 4          /* weight rows per group of every matrix-vector kernel (LBRX__MM_R4 lists them) */
#define LBRX__MM_R4(X) X(0) X(1) X(2) X(3)

/* The rows of a run [o0, o1) of the matrix-vector kernels are split into LBRX__MM_GR streams of
   q = (o1 - o0) / GR consecutive rows; group j < q takes row j of every stream (rows o0 + r q + j)
   and a last group the (o1 - o0) % GR rows after them (its unused slots repeat its first row).
   So each of the GR rows read side by side walks on through its own consecutive rows instead of
   GR neighbouring rows sharing pages, which the hardware prefetcher follows far better (q4_0 at
   4096x4096 from DRAM: 0.77 -> 0.92 of the read ceiling). Fills row[] and returns the group's
   number of rows. */
LBRX__PRIVATE int lbrx__mm_group(int64_t o0, int64_t o1, int64_t j, int64_t *row) {
    const int64_t q = (o1 - o0) / LBRX__MM_GR;
    int r, nr;
    if (j < q) {
        for (r = 0; r < LBRX__MM_GR; r++) row[r] = o0 + r * q + j;
        return LBRX__MM_GR;
    }
    nr = (int)((o1 - o0) % LBRX__MM_GR);
    for (r = 0; r < LBRX__MM_GR; r++) row[r] = o0 + LBRX__MM_GR * q + (r < nr ? r : 0);
    return nr;
}
/* Weight row pointer w0..w3 of the group in row[] (in a kernel of lbrx__mm *m). */
#define LBRX__MM_WROW(r) const unsigned char *w##r = m->w + row[r] * m->ws;
/* Results res[0..nr) of a group's rows, for row i of x. */
LBRX__PRIVATE void lbrx__mm_put(const lbrx__mm *m, int64_t i, const int64_t *row, int nr, const float *res) {
    int r;
    for (r = 0; r < nr; r++) memcpy(m->yr[i] + row[r], res + r, 4);   /* y may be unaligned */
}

/* The address `off` bytes into the stream of rows w, w + ws, w + 2 ws, ... (rb bytes each): a row
   prefetches on into the next row of its stream, so no group starts cold. Computed directly
   (rows of a contiguous matrix need no division): walking a row per step took up to 128 steps
   per prefetch on short rows, 89 % of a small model's time. Integer arithmetic: the address
   may lie past the matrix (prefetching it is harmless). */
LBRX__PRIVATE const char *lbrx__mm_pf_addr(const unsigned char *w, int64_t ws, int64_t rb, int64_t off) {
    uintptr_t a = (uintptr_t)w;
    if (off >= rb && ws != rb) {
        const int64_t q = off / rb;
        a += (uintptr_t)q * (uintptr_t)ws;
        off -= q * rb;
    }
    return (const char *)(a + (uintptr_t)off);
}

#if !defined(LBRX__MM_GEMV512)
/* Quantized weights on 256-bit registers, rows [o0, o1) in groups of 4 against all rows of x.
   Per 8 blocks each row gathers its 8 f16 scales (and Q4_1 minimums) into one register: the
   scale of block j times x's is lane j, broadcast to a step's lanes by one permutation, and the
   terms that do not depend on the weight values (Q4_0: -8 d s, Q4_1: m d s, with d s of x's
   block) go to a second 8-lane accumulator. A Q4 step is two blocks, their 16 bytes side by side
   in one register (low nibbles meet x values 0..15, high nibbles 16..31, both blocks at once);
   a Q8_0 step is one block. Per row: fixed tree sums of the two accumulators at the end. */
LBRX__PRIVATE void lbrx__mm_gemv_q_x86(const lbrx__mm *m, int64_t o0, int64_t o1) {
    const int bb = (int)lbrx_dtype_block_bytes(m->dt), qoff = m->dt == LBRX_Q4_1 ? 4 : 2;
    const int q41 = m->dt == LBRX_Q4_1, q40 = m->dt == LBRX_Q4_0, q80 = m->dt == LBRX_Q8_0;
    const __m256i gidx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(bb));
    const __m256i lo16 = _mm256_set1_epi32(0xFFFF), nib = _mm256_set1_epi8(0x0F);
    const __m256i pair = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const __m256 off = _mm256_set1_ps(q40 ? -8.0f : 1.0f);
    int64_t i, b, gi, row[LBRX__MM_GR];
    for (gi = 0; gi * LBRX__MM_GR < o1 - o0; gi++) {
        int nr = lbrx__mm_group(o0, o1, gi, row);
        LBRX__MM_R4(LBRX__MM_WROW)
        for (i = 0; i < m->n; i++) {
            const int8_t *xq = m->xq + i * m->kq;
            const float *xd = m->xd + i * m->nb, *xds = m->xds + i * m->nb;
            __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0, a0 = f0, a1 = f0, a2 = f0, a3 = f0;
            float res[4];
            for (b = 0; b < m->nb; b += 8) {
                __m256 s0, s1, s2, s3;
                const __m256 xdv = _mm256_loadu_ps(xd + (m->nb - b < 8 ? m->nb - 8 : b));
                int nc = (int)(m->nb - b < 8 ? m->nb - b : 8), j;
                if (i == 0) {
                    int p;
#define LBRX__MM_PFR(r) { const char *a_ = lbrx__mm_pf_addr(w##r, m->ws, m->nb * bb, b * bb + LBRX__MM_PF); \
                        for (p = 0; p < 8 * bb; p += 64) _mm_prefetch(a_ + p, _MM_HINT_T0); }
                    LBRX__MM_R4(LBRX__MM_PFR)
#undef LBRX__MM_PFR
                }
                if (nc == 8) {
                    const __m256 xov = _mm256_mul_ps(_mm256_loadu_ps(xds + b), off);
#define LBRX__MM_SC(r) { \
                        const __m256i g_ = _mm256_i32gather_epi32((const int *)(const void *)(w##r + b * bb), gidx, 1), l_ = _mm256_and_si256(g_, lo16); \
                        const __m256 d_ = _mm256_cvtph_ps(_mm_packus_epi32(_mm256_castsi256_si128(l_), _mm256_extracti128_si256(l_, 1))); \
                        s##r = _mm256_mul_ps(d_, xdv); \
                        if (q41) { const __m256i h_ = _mm256_srli_epi32(g_, 16); \
                            a##r = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_packus_epi32(_mm256_castsi256_si128(h_), _mm256_extracti128_si256(h_, 1))), xov, a##r); } \
                        else if (q40) a##r = _mm256_fmadd_ps(d_, xov, a##r); }
                    LBRX__MM_R4(LBRX__MM_SC)
#undef LBRX__MM_SC
                } else {
                    /* the last nc < 8 blocks: scales one at a time, lanes nc..7 zero */
                    float sc[4][8] = { { 0 } }, t[4][8] = { { 0 } };
                    for (j = 0; j < nc; j++) {
#define LBRX__MM_SC(r) { const unsigned char *k_ = w##r + (b + j) * bb; float d_ = lbrx__load_f16(k_); \
                        sc[r][j] = d_ * xd[b + j]; \
                        if (!q80) t[r][j] = (q41 ? lbrx__load_f16(k_ + 2) : -8.0f * d_) * xds[b + j]; }
                        LBRX__MM_R4(LBRX__MM_SC)
#undef LBRX__MM_SC
                    }
#define LBRX__MM_SC(r) s##r = _mm256_loadu_ps(sc[r]); a##r = _mm256_add_ps(a##r, _mm256_loadu_ps(t[r]));
                    LBRX__MM_R4(LBRX__MM_SC)
#undef LBRX__MM_SC
                }
                if (q80) {
                    for (j = 0; j < nc; j++) {
                        const __m256i xv = _mm256_load_si256((const __m256i *)(const void *)(xq + (b + j) * 32)), jv = _mm256_set1_epi32(j);
                        const size_t at = (size_t)((b + j) * bb + 2);
#define LBRX__MM_DOT(r) f##r = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lbrx__mm_bdot_q8(w##r + at, xv)), _mm256_permutevar8x32_ps(s##r, jv), f##r);
                        LBRX__MM_R4(LBRX__MM_DOT)
#undef LBRX__MM_DOT
                    }
                } else {
                    for (j = 0; j < nc; j += 2) {
                        /* blocks b+j and b+j+1 (or only b+j: the other half's weights are zero) */
                        const int two = j + 1 < nc;
                        const __m256i x0 = _mm256_load_si256((const __m256i *)(const void *)(xq + (b + j) * 32));
                        const __m256i x1 = two ? _mm256_load_si256((const __m256i *)(const void *)(xq + (b + j + 1) * 32)) : x0;
                        const __m256i xlo = _mm256_permute2x128_si256(x0, x1, 0x20), xhi = _mm256_permute2x128_si256(x0, x1, 0x31);
                        const __m256i sel = _mm256_add_epi32(pair, _mm256_set1_epi32(j));
                        const size_t at = (size_t)((b + j) * bb + qoff);
#define LBRX__MM_DOT(r) { \
                            const __m128i l_ = _mm_loadu_si128((const __m128i *)(const void *)(w##r + at)); \
                            const __m256i v_ = _mm256_inserti128_si256(_mm256_castsi128_si256(l_), two ? _mm_loadu_si128((const __m128i *)(const void *)(w##r + at + bb)) : _mm_setzero_si128(), 1); \
                            f##r = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lbrx__mm_bdot_q4x2(_mm256_and_si256(v_, nib), xlo, _mm256_and_si256(_mm256_srli_epi16(v_, 4), nib), xhi)), \
                                                   _mm256_permutevar8x32_ps(s##r, sel), f##r); }
                        LBRX__MM_R4(LBRX__MM_DOT)
#undef LBRX__MM_DOT
                    }
                }
            }
            res[0] = lbrx__mm_hsum8(f0) + lbrx__mm_hsum8(a0);
            res[1] = lbrx__mm_hsum8(f1) + lbrx__mm_hsum8(a1);
            res[2] = lbrx__mm_hsum8(f2) + lbrx__mm_hsum8(a2);
            res[3] = lbrx__mm_hsum8(f3) + lbrx__mm_hsum8(a3);
            lbrx__mm_put(m, i, row, nr, res);
        }
    }
}
#endif /* !LBRX__MM_GEMV512 */

#if defined(LBRX__MM_GEMV512)

/* Quantized weights with AVX-512 VNNI and VBMI, rows [o0, o1) in groups of LBRX__MM_GR against
   all rows of x. A step is G blocks whose 32 G values fill one 64-byte register: G = 4 for Q4_0
   and Q4_1 (block j's 16 bytes in 128-bit lane j; low nibbles meet x values 0..15, high nibbles
   16..31), G = 2 for Q8_0 (block j in 256-bit half j, biased by 128 to unsigned bytes). The
   step's G * bb bytes (68..80) arrive as two loads, its first and its last 64 bytes, so nothing
   past the step is read; a two-source byte permutation picks the values, a one-source one the
   f16 scales (a block's scale in each of its 16 / G lanes). vpdpbusd starts from the term that
   undoes the bias (Q4_0: -8 s, Q8_0: -128 s, s = sum of x's block) in the block's first lane.
   Per row one 16-lane f32 accumulator, acc = fma(isum, dw*dx, acc) per step (Q4_1 then adds
   fma(min, d*s of x) in the block's first lane); the blocks after the last whole step go
   through the 8-lane block kernels above. */
LBRX__PRIVATE void lbrx__mm_gemv_q_avx512(const lbrx__mm *m, int64_t o0, int64_t o1) {
    const int bb = (int)lbrx_dtype_block_bytes(m->dt), q41 = m->dt == LBRX_Q4_1, q80 = m->dt == LBRX_Q8_0;
    const int g = q80 ? 2 : 4, sb = g * bb, qoff = q41 ? 4 : 2, lpb = 16 / g;
    const int64_t nbs = m->nb - m->nb % g, rb = m->nb * bb;
    const __m512i nib = _mm512_set1_epi8(0x0F), bias = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    const __mmask16 first = q80 ? 0x0101 : 0x1111, ld = q80 ? 0x3 : 0xF;
    unsigned char iq[64], id[64], im[64];
    int ix[16], p;
    __m512i idx_q, idx_d, idx_m, idx_x;
    int64_t o, i, b, gi, row[LBRX__MM_GR];
    for (p = 0; p < 64; p++) {
        int j = p / (64 / g), t = j * bb + qoff + p % (64 / g);
        iq[p] = (unsigned char)(t < 64 ? t : 64 + t - (sb - 64));
        j = p / 2 / lpb;
        id[p] = (unsigned char)(p < 32 ? j * bb + p % 2 : 0);
        im[p] = (unsigned char)(p < 32 ? j * bb + 2 + p % 2 : 0);
        if (p < 16) ix[p] = p / lpb;
    }
    idx_q = _mm512_loadu_si512(iq);
    idx_d = _mm512_loadu_si512(id);
    idx_m = _mm512_loadu_si512(im);
    idx_x = _mm512_loadu_si512(ix);
    lbrx__mm_group(o0, o1, 0, row);
    for (o = 0; o < LBRX__MM_GR; o++)   /* the first rows' first bytes: the steps prefetch from there on */
        for (p = 0; p < LBRX__MM_PF && p < rb; p += 64) _mm_prefetch((const char *)(m->w + row[o] * m->ws + p), _MM_HINT_T0);
    for (gi = 0; gi * LBRX__MM_GR < o1 - o0; gi++) {
        int nr = lbrx__mm_group(o0, o1, gi, row);
        LBRX__MM_R4(LBRX__MM_WROW)
        for (i = 0; i < m->n; i++) {
            const int8_t *xq = m->xq + i * m->kq;
            const float *xd = m->xd + i * m->nb, *xds = m->xds + i * m->nb;
            const int32_t *xs = m->xs + i * m->nb;
            float res[LBRX__MM_GR];
#define LBRX__MM_ACC(r) __m512 acc##r = _mm512_setzero_ps(); float t##r = 0.0f;
            LBRX__MM_R4(LBRX__MM_ACC)
#undef LBRX__MM_ACC
            for (b = 0; b < nbs; b += g) {
                const int64_t s = b * bb;
                const __m512 xdv = _mm512_permutexvar_ps(idx_x, _mm512_maskz_loadu_ps(ld, xd + b));
                const __m512i sx = _mm512_maskz_permutexvar_epi32(first, idx_x, _mm512_maskz_loadu_epi32(ld, xs + b));
                const __m512i corr = q41 ? zero : _mm512_sub_epi32(zero, _mm512_slli_epi32(sx, q80 ? 7 : 3));
                const __m512 xmv = q41 ? _mm512_maskz_permutexvar_ps(first, idx_x, _mm512_maskz_loadu_ps(ld, xds + b)) : _mm512_setzero_ps();
                __m512i xlo = _mm512_loadu_si512(xq + b * 32), xhi = xlo;
                if (!q80) {
                    const __m512i x1 = _mm512_loadu_si512(xq + b * 32 + 64);
                    xhi = _mm512_shuffle_i64x2(xlo, x1, _MM_SHUFFLE(3, 1, 3, 1));
                    xlo = _mm512_shuffle_i64x2(xlo, x1, _MM_SHUFFLE(2, 0, 2, 0));
                }
                if (i == 0) {
#define LBRX__MM_PFR(r) _mm_prefetch(lbrx__mm_pf_addr(w##r, m->ws, rb, s + LBRX__MM_PF), _MM_HINT_T0); \
                    _mm_prefetch(lbrx__mm_pf_addr(w##r, m->ws, rb, s + LBRX__MM_PF + sb - 1), _MM_HINT_T0);
                    LBRX__MM_R4(LBRX__MM_PFR)
#undef LBRX__MM_PFR
                }
#define LBRX__MM_STEP(r) { \
                    const __m512i a_ = _mm512_loadu_si512(w##r + s), q_ = _mm512_permutex2var_epi8(a_, idx_q, _mm512_loadu_si512(w##r + s + sb - 64)); \
                    const __m512i i_ = q80 ? _mm512_dpbusd_epi32(corr, _mm512_xor_si512(q_, bias), xlo) : \
                        _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(corr, _mm512_and_si512(q_, nib), xlo), _mm512_and_si512(_mm512_srli_epi16(q_, 4), nib), xhi); \
                    const __m512 d_ = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi8(idx_d, a_))); \
                    acc##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i_), _mm512_mul_ps(d_, xdv), acc##r); \
                    if (q41) acc##r = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi8(idx_m, a_))), xmv, acc##r); }
                LBRX__MM_R4(LBRX__MM_STEP)
#undef LBRX__MM_STEP
            }
            for (; b < m->nb; b++) {
                const __m256i xv = _mm256_loadu_si256((const __m256i *)(const void *)(xq + b * 32)), xh = _mm256_permute2x128_si256(xv, xv, 0x11);
                const __m256i n4 = _mm256_set1_epi8(0x0F);
                const size_t at = (size_t)(b * bb);
#define LBRX__MM_TAIL(r) { \
                    const __m256i v_ = _mm256_set_m128i(_mm_setzero_si128(), _mm_loadu_si128((const __m128i *)(const void *)(w##r + at + qoff))); \
                    const __m256i l_ = q80 ? lbrx__mm_bdot_q8(w##r + at + 2, xv) : \
                        lbrx__mm_bdot_q4x2(_mm256_and_si256(v_, n4), xv, _mm256_and_si256(_mm256_srli_epi16(v_, 4), n4), xh); \
                    t##r = fmaf(lbrx__mm_hsum8(_mm256_cvtepi32_ps(l_)), lbrx__load_f16(w##r + at) * xd[b], t##r); \
                    if (!q80) t##r = fmaf(q41 ? lbrx__load_f16(w##r + at + 2) : -8.0f * lbrx__load_f16(w##r + at), xds[b], t##r); }
                LBRX__MM_R4(LBRX__MM_TAIL)
#undef LBRX__MM_TAIL
            }
#define LBRX__MM_RES(r) res[r] = _mm512_reduce_add_ps(acc##r) + t##r;
            LBRX__MM_R4(LBRX__MM_RES)
#undef LBRX__MM_RES
            lbrx__mm_put(m, i, row, nr, res);
        }
    }
}
#endif

/* Eight weights of a float row as f32. */
#define LBRX__MM_LDW(dt, p) ((dt) == LBRX_F32 ? _mm256_loadu_ps((const float *)(const void *)(p)) : \
    (dt) == LBRX_F16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p))) : \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))), 16)))

/* Float weights, rows [o0, o1) in groups of 4: per row one 8-lane accumulator over the
   multiple-of-8 part, a scalar one over the rest, then a fixed tree sum. */
LBRX__PRIVATE void lbrx__mm_gemv_f_x86(const lbrx__mm *m, int64_t o0, int64_t o1) {
    const lbrx_dtype dt = m->dt;
    const int es = dt == LBRX_F32 ? 4 : 2;
    const int64_t k8 = m->k & ~(int64_t)7;
    int64_t i, j, gi, row[LBRX__MM_GR];
    for (gi = 0; gi * LBRX__MM_GR < o1 - o0; gi++) {
        int nr = lbrx__mm_group(o0, o1, gi, row);
        LBRX__MM_R4(LBRX__MM_WROW)
        for (i = 0; i < m->n; i++) {
            const float *x = m->xr[i];
            __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
            float t0 = 0, t1 = 0, t2 = 0, t3 = 0, res[4];
            for (j = 0; j < k8; j += 8) {
                __m256 xv = _mm256_loadu_ps(x + j);
                if (i == 0 && ((j * es) & 63) == 0) {
#define LBRX__MM_PFR(r) _mm_prefetch(lbrx__mm_pf_addr(w##r, m->ws, m->k * es, j * es + LBRX__MM_PF), _MM_HINT_T0);
                    LBRX__MM_R4(LBRX__MM_PFR)
#undef LBRX__MM_PFR
                }
#define LBRX__MM_DOT(r) f##r = _mm256_fmadd_ps(xv, LBRX__MM_LDW(dt, w##r + j * es), f##r);
                LBRX__MM_R4(LBRX__MM_DOT)
#undef LBRX__MM_DOT
            }
            for (; j < m->k; j++) {
                float xv = lbrx__mm_ldf(x + j);
#define LBRX__MM_DOT(r) { float wv; \
                    if (dt == LBRX_F32) memcpy(&wv, w##r + 4 * j, 4); \
                    else { uint16_t h; memcpy(&h, w##r + 2 * j, 2); wv = dt == LBRX_F16 ? lbrx_f16_to_f32(h) : lbrx_bf16_to_f32(h); } \
                    t##r = fmaf(xv, wv, t##r); }
                LBRX__MM_R4(LBRX__MM_DOT)
#undef LBRX__MM_DOT
            }
            res[0] = lbrx__mm_hsum8(f0) + t0;
            res[1] = lbrx__mm_hsum8(f1) + t1;
            res[2] = lbrx__mm_hsum8(f2) + t2;
            res[3] = lbrx__mm_hsum8(f3) + t3;
            lbrx__mm_put(m, i, row, nr, res);
        }
    }
}
#endif /* LBRX__MM_X86 */

#if defined(LBRX__NEON)
LBRX__PRIVATE void lbrx__mm_quantize_x_simd(const float *x, int64_t k, int8_t *q, float *d, int32_t *s, float *ds) {
    int64_t b;
    for (b = 0; b < k / 32; b++) {
        const unsigned char *xb = (const unsigned char *)(x + b * 32);
        float32x4_t v[8], mx;
        int32x4_t iv[8], sum;
        float amax, id;
        int t;
        for (t = 0; t < 8; t++) v[t] = vreinterpretq_f32_u8(vld1q_u8(xb + 16 * t));
        mx = vabsq_f32(v[0]);
        for (t = 1; t < 8; t++) mx = vmaxq_f32(mx, vabsq_f32(v[t]));
        amax = vmaxvq_f32(mx);
        id = amax > 0.0f ? 127.0f / amax : 0.0f;
        sum = vdupq_n_s32(0);
        for (t = 0; t < 8; t++) {
            iv[t] = vcvtnq_s32_f32(vmulq_n_f32(v[t], id));
            sum = vaddq_s32(sum, iv[t]);
        }
        for (t = 0; t < 4; t++) {
            int16x8_t h = vcombine_s16(vmovn_s32(iv[2 * t]), vmovn_s32(iv[2 * t + 1]));
            vst1_s8(q + b * 32 + 8 * t, vmovn_s16(h));
        }
        d[b] = amax / 127.0f;
        s[b] = vaddvq_s32(sum);
        ds[b] = d[b] * (float)s[b];
    }
}

/* Four int32 lanes whose sum is the integer dot product of one weight block with x's block. */
LBRX__PRIVATE int32x4_t lbrx__mm_bdot_neon(int8x16_t w0, int8x16_t w1, const int8_t *xq) {
    int8x16_t x0 = vld1q_s8(xq), x1 = vld1q_s8(xq + 16);
#if defined(LBRX__NEON_DOTPROD)
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, x0), w1, x1);
#else
    int16x8_t p0 = vmull_s8(vget_low_s8(w0), vget_low_s8(x0)), p1 = vmull_s8(vget_high_s8(w0), vget_high_s8(x0));
    int16x8_t p2 = vmull_s8(vget_low_s8(w1), vget_low_s8(x1)), p3 = vmull_s8(vget_high_s8(w1), vget_high_s8(x1));
    return vpadalq_s16(vpadalq_s16(vpadalq_s16(vpaddlq_s16(p0), p1), p2), p3);
#endif
}

/* Quantized weights, one row at a time: acc = fma(isum lanes, dw*dx, acc) per block. */
LBRX__PRIVATE void lbrx__mm_gemv_q_neon(const lbrx__mm *m, int64_t o0, int64_t o1) {
    const size_t bb = lbrx_dtype_block_bytes(m->dt);
    int64_t o, i, b;
    for (o = o0; o < o1; o++) {
        const unsigned char *wr = m->w + o * m->ws;
        for (i = 0; i < m->n; i++) {
            const int8_t *xq = m->xq + i * m->kq;
            const float *xd = m->xd + i * m->nb, *xds = m->xds + i * m->nb;
            float32x4_t acc = vdupq_n_f32(0.0f);
            float tail = 0.0f, res;
            for (b = 0; b < m->nb; b++) {
                const unsigned char *blk = wr + (size_t)b * bb;
                int8x16_t w0, w1;
                if (m->dt == LBRX_Q8_0) {
                    w0 = vreinterpretq_s8_u8(vld1q_u8(blk + 2));
                    w1 = vreinterpretq_s8_u8(vld1q_u8(blk + 18));
                } else {
                    uint8x16_t v = vld1q_u8(blk + (m->dt == LBRX_Q4_1 ? 4 : 2));
                    uint8x16_t lo = vandq_u8(v, vdupq_n_u8(0x0F)), hi = vshrq_n_u8(v, 4);
                    if (m->dt == LBRX_Q4_0) { lo = vsubq_u8(lo, vdupq_n_u8(8)); hi = vsubq_u8(hi, vdupq_n_u8(8)); }
                    w0 = vreinterpretq_s8_u8(lo);
                    w1 = vreinterpretq_s8_u8(hi);
                }
                acc = vfmaq_f32(acc, vcvtq_f32_s32(lbrx__mm_bdot_neon(w0, w1, xq + b * 32)), vdupq_n_f32(lbrx__load_f16(blk) * xd[b]));
                if (m->dt == LBRX_Q4_1) tail = fmaf(lbrx__load_f16(blk + 2), xds[b], tail);
            }
            res = vaddvq_f32(acc) + tail;
            memcpy(m->yr[i] + o, &res, 4);
        }
    }
}

/* Float weights, one row at a time: a 4-lane accumulator over the multiple-of-4 part. */
LBRX__PRIVATE void lbrx__mm_gemv_f_neon(const lbrx__mm *m, int64_t o0, int64_t o1) {
    const int64_t k4 = m->k & ~(int64_t)3;
    int64_t o, i, j;
    for (o = o0; o < o1; o++) {
        const unsigned char *wr = m->w + o * m->ws;
        for (i = 0; i < m->n; i++) {
            const unsigned char *x = (const unsigned char *)m->xr[i];
            float32x4_t acc = vdupq_n_f32(0.0f);
            float tail = 0.0f, res;
            for (j = 0; j < k4; j += 4) {
                float32x4_t wv;
                if (m->dt == LBRX_F32) wv = vreinterpretq_f32_u8(vld1q_u8(wr + 4 * j));
                else if (m->dt == LBRX_F16) wv = vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(wr + 2 * j)));
                else wv = vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(wr + 2 * j)), 16));
                acc = vfmaq_f32(acc, vreinterpretq_f32_u8(vld1q_u8(x + 4 * j)), wv);
            }
            for (; j < m->k; j++) {
                float wv;
                if (m->dt == LBRX_F32) memcpy(&wv, wr + 4 * j, 4);
                else { uint16_t h; memcpy(&h, wr + 2 * j, 2); wv = m->dt == LBRX_F16 ? lbrx_f16_to_f32(h) : lbrx_bf16_to_f32(h); }
                tail = fmaf(lbrx__mm_ldf(m->xr[i] + j), wv, tail);
            }
            res = vaddvq_f32(acc) + tail;
            memcpy(m->yr[i] + o, &res, 4);
        }
    }
}
#endif /* LBRX__NEON */

/* ---- matrix-vector kernels of the format table, one section per instruction set ----
   Each section defines lbrx__gemv_<dtype>_<isa> for the dtypes it has a kernel for (x86: AVX2,
   with VNNI on 256 bits where present; AVX-512 VNNI: the formats where 512-bit steps pay) or
   lbrx__gemv_unpacked_<isa>, which takes any format through its unpacker (NEON); the selection
   section below maps the generic names onto them, the scalar code where a build has neither.
   The x86 kernels read a run of rows in groups of LBRX__MM_GR (lbrx__mm_group, as the kernels
   above) with software prefetch, per group of rows and row of x one weight block at a time,
   and sum in SIMD lanes. Adding a format: its row in lbrx__wfmts, its unpacker, and a kernel
   in the sections that should have one. */

#if defined(LBRX__MM_X86)
/* Prefetch of weight row r, LBRX__MM_PF bytes ahead of the cache line that starts p_ bytes
   into its block b (in a driver: each line once). */
#define LBRX__GV_PF(r) _mm_prefetch(lbrx__mm_pf_addr(w##r, m->ws, rb, b * bb + LBRX__MM_PF + p_), _MM_HINT_T0);

/* Eight int32 lanes, lane l the dot product of bytes 4l..4l+3 of u (unsigned, at most 63, so
   maddubs' pair sums cannot saturate) and of x (signed). */
LBRX__INLINE __m256i lbrx__gv_dotu(__m256i u, __m256i x) {
#if defined(LBRX__MM_VNNI256)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, x);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
#endif
}
/* The same for signed v (-128..127): |v| against x with v's sign; |v| x pairs fit int16 */
LBRX__INLINE __m256i lbrx__gv_dots(__m256i v, __m256i x) {
#if defined(LBRX__MM_VNNI256)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(v), _mm256_sign_epi8(x, v));
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(v), _mm256_sign_epi8(x, v)), _mm256_set1_epi16(1));
#endif
}
/* The two f16 values at p (any alignment) in lanes 0 and 1 */
LBRX__INLINE __m128 lbrx__gv_f16x2(const unsigned char *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm_cvtph_ps(_mm_cvtsi32_si128(v));
}
/* lanes 0..3 of s broadcast from lane a, lanes 4..7 from lane b */
#define LBRX__GV_PAIR(s, a, b) _mm256_permutevar8x32_ps(s, _mm256_setr_epi32(a, a, a, a, b, b, b, b))

/* The x86 driver: NAME runs BDOT(w, xq, xd, xds, xs16, acc) -> acc over the blocks (BLOCK values,
   BB bytes) of each row, on accumulators of type VT (VZERO, summed by VSUM); xq, xd, xds and
   xs16 point at x's side of the block. */
#define LBRX__GV_X86(NAME, BLOCK, BB, BDOT) LBRX__GV_DRIVER(NAME, BLOCK, BB, __m256, _mm256_setzero_ps(), lbrx__mm_hsum8, BDOT)
#define LBRX__GV_DRIVER(NAME, BLOCK, BB, VT, VZERO, VSUM, BDOT) \
LBRX__PRIVATE void NAME(const lbrx__mm *m, int64_t o0, int64_t o1) { \
    const int64_t bb = (BB), nblk = m->k / (BLOCK), rb = nblk * bb, xb = (BLOCK) / 32; \
    int64_t i, b, gi, row[LBRX__MM_GR]; \
    for (gi = 0; gi * LBRX__MM_GR < o1 - o0; gi++) { \
        int nr = lbrx__mm_group(o0, o1, gi, row); \
        LBRX__MM_R4(LBRX__MM_WROW) \
        for (i = 0; i < m->n; i++) { \
            const int8_t *xq = m->xq + i * m->kq; \
            const float *xd = m->xd + i * m->nb, *xds = m->xds + i * m->nb; \
            const int32_t *xs16 = m->xs16 ? m->xs16 + i * 2 * m->nb : 0; \
            VT acc0 = VZERO, acc1 = acc0, acc2 = acc0, acc3 = acc0; \
            float res[LBRX__MM_GR]; \
            (void)xds; (void)xs16; \
            for (b = 0; b < nblk; b++) { \
                if (i == 0) { int64_t p_; for (p_ = (64 - b * bb % 64) % 64; p_ < bb; p_ += 64) { LBRX__MM_R4(LBRX__GV_PF) } } \
                acc0 = BDOT(w0 + b * bb, xq + b * (BLOCK), xd + b * xb, xds + b * xb, xs16 ? xs16 + 2 * b * xb : 0, acc0); \
                acc1 = BDOT(w1 + b * bb, xq + b * (BLOCK), xd + b * xb, xds + b * xb, xs16 ? xs16 + 2 * b * xb : 0, acc1); \
                acc2 = BDOT(w2 + b * bb, xq + b * (BLOCK), xd + b * xb, xds + b * xb, xs16 ? xs16 + 2 * b * xb : 0, acc2); \
                acc3 = BDOT(w3 + b * bb, xq + b * (BLOCK), xd + b * xb, xds + b * xb, xs16 ? xs16 + 2 * b * xb : 0, acc3); \
            } \
            res[0] = VSUM(acc0); res[1] = VSUM(acc1); res[2] = VSUM(acc2); res[3] = VSUM(acc3); \
            lbrx__mm_put(m, i, row, nr, res); \
        } \
    } \
}

/* Q4_K: the 8 six-bit scales and mins (12 bytes at s, 4 more readable) as bytes sc[0..7],
   mn[0..7] of one register: sc j<4 = s[j] & 63, sc j>=4 = s[j+4] & 15 | (s[j-4] >> 6) << 4,
   mn j<4 = s[j+4] & 63, mn j>=4 = s[j+4] >> 4 | (s[j] >> 6) << 4. */
LBRX__INLINE __m128i lbrx__gv_k4_scales(const unsigned char *s) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i a = _mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
    const __m128i b = _mm_shuffle_epi8(v, _mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7));
    const __m128i lo = _mm_and_si128(_mm_blend_epi32(a, _mm_srli_epi16(a, 4), 8), _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    return _mm_or_si128(lo, _mm_and_si128(_mm_srli_epi16(b, 2), _mm_set1_epi8(0x30)));
}
/* Q4_K and Q5_K: D_g * dx_g (lane g) and M_g = -dmin * min_g of the 8 groups */
LBRX__INLINE void lbrx__gv_k4_sc_mn(const unsigned char *w, const float *xd, __m256 *sc, __m256 *mn) {
    const __m128i sm = lbrx__gv_k4_scales(w + 4);
    const __m128 dm = lbrx__gv_f16x2(w);
    *sc = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm)), _mm256_broadcastss_ps(dm)), _mm256_loadu_ps(xd));
    *mn = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))), _mm256_broadcastss_ps(_mm_sub_ps(_mm_setzero_ps(), _mm_movehdup_ps(dm))));
}
/* The K-quants with groups of 16 (Q6_K, Q3_K, Q2_K): the 16 int8 scales sc8 times d times x's
   scale of the group's block of 32: lanes 2t, 2t+1 of s[h] from block 4h + t. */
LBRX__INLINE void lbrx__gv_k16_scales(__m128i sc8, __m256 d, const float *xd, __m256 s[2]) {
    const __m256 xv = _mm256_loadu_ps(xd);
    s[0] = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc8)), d), _mm256_permutevar8x32_ps(xv, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3)));
    s[1] = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc8, 8))), d),
                         _mm256_permutevar8x32_ps(xv, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7)));
}
/* IQ4_XS: D_g * dx_g of the 8 groups; group g's 6-bit scale is nibble g of scales_l (4 bytes)
   with bits 2g, 2g+1 of scales_h above it, minus 32. */
LBRX__INLINE __m256 lbrx__gv_iq4_xs_scales(const unsigned char *w, const float *xd) {
    int32_t sl, sh;
    __m256i ls;
    memcpy(&sl, w + 4, 4);
    sh = (int32_t)w[2] | ((int32_t)w[3] << 8);
    ls = _mm256_or_si256(
        _mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(_mm_shuffle_epi8(_mm_cvtsi32_si128(sl), _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, -1, -1, -1, -1, -1, -1, -1, -1))),
                                           _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)), _mm256_set1_epi32(15)),
        _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(sh), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)), _mm256_set1_epi32(3)), 4));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(ls, _mm256_set1_epi32(32))), _mm256_broadcastss_ps(lbrx__gv_f16x2(w))), _mm256_loadu_ps(xd));
}

#if !defined(LBRX__GV512)  /* (the AVX-512 section has these three) */
/* Q4_K and Q5_K: per group g of 32, lanes sum (v . q) * d*sc_g*dx_g; the mins go in as
   fma(-dmin*mn_g, d*s of x's block g) over the 8 lanes. */
LBRX__INLINE __m256 lbrx__gv_q45_k(const unsigned char *w, const int8_t *xq, const float *xd, const float *xds, int five, __m256 acc) {
    const __m256i nib = _mm256_set1_epi8(0x0f), h = five ? _mm256_loadu_si256((const __m256i *)(const void *)(w + 16)) : _mm256_setzero_si256();
    const unsigned char *qs = w + (five ? 48 : 16);
    __m256 sc, mn;
    int j;
    lbrx__gv_k4_sc_mn(w, xd, &sc, &mn);
    acc = _mm256_fmadd_ps(mn, _mm256_loadu_ps(xds), acc);
    for (j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(qs + 32 * j));
        __m256i lo = _mm256_and_si256(q, nib), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
        if (five) {
            const __m256i bl = _mm256_set1_epi8((char)(1 << (2 * j))), bh = _mm256_set1_epi8((char)(2 << (2 * j))), b4 = _mm256_set1_epi8(16);
            lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bl), bl), b4));
            hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bh), bh), b4));
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lbrx__gv_dotu(lo, _mm256_loadu_si256((const __m256i *)(const void *)(xq + 64 * j)))),
                              _mm256_permutevar8x32_ps(sc, _mm256_set1_epi32(2 * j)), acc);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lbrx__gv_dotu(hi, _mm256_loadu_si256((const __m256i *)(const void *)(xq + 64 * j + 32)))),
                              _mm256_permutevar8x32_ps(sc, _mm256_set1_epi32(2 * j + 1)), acc);
    }
    return acc;
}
#define LBRX__GV_Q4_K(w, xq, xd, xds, xs16, acc) lbrx__gv_q45_k(w, xq, xd, xds, 0, acc)
#define LBRX__GV_Q5_K(w, xq, xd, xds, xs16, acc) lbrx__gv_q45_k(w, xq, xd, xds, 1, acc)
LBRX__GV_X86(lbrx__gemv_q4_k_x86, 256, 144, LBRX__GV_Q4_K)
LBRX__GV_X86(lbrx__gemv_q5_k_x86, 256, 176, LBRX__GV_Q5_K)

/* Q6_K: q (0..63) against x, minus 32 times x's sums of 4 (the same dot product with 32s);
   lanes 0..3 of a group of 32 carry its first 16 values' scale, lanes 4..7 the second's. */
LBRX__INLINE __m256 lbrx__gv_q6_k(const unsigned char *w, const int8_t *xq, const float *xd, __m256 acc) {
    const __m256i nib = _mm256_set1_epi8(0x0f), top = _mm256_set1_epi8(0x30), c32 = _mm256_set1_epi8(32);
    __m256 sc[2];
    int h;
    lbrx__gv_k16_scales(_mm_loadu_si128((const __m128i *)(const void *)(w + 192)), _mm256_broadcastss_ps(lbrx__gv_f16x2(w + 208)), xd, sc);
    for (h = 0; h < 2; h++) {
        const __m256 s = sc[h];
        const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(w + 64 * h));
        const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(w + 64 * h + 32));
        const __m256i hb = _mm256_loadu_si256((const __m256i *)(const void *)(w + 128 + 32 * h));
        const int8_t *x = xq + 128 * h;
        __m256i u[4];
        int k;
        u[0] = _mm256_or_si256(_mm256_and_si256(a, nib), _mm256_and_si256(_mm256_slli_epi16(hb, 4), top));
        u[1] = _mm256_or_si256(_mm256_and_si256(b, nib), _mm256_and_si256(_mm256_slli_epi16(hb, 2), top));
        u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), nib), _mm256_and_si256(hb, top));
        u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), nib), _mm256_and_si256(_mm256_srli_epi16(hb, 2), top));
        for (k = 0; k < 4; k++) {
            const __m256i xk = _mm256_loadu_si256((const __m256i *)(const void *)(x + 32 * k));
            const __m256i p = _mm256_sub_epi32(lbrx__gv_dotu(u[k], xk), lbrx__gv_dotu(c32, xk));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), LBRX__GV_PAIR(s, 2 * k, 2 * k + 1), acc);
        }
    }
    return acc;
}
#define LBRX__GV_Q6_K(w, xq, xd, xds, xs16, acc) lbrx__gv_q6_k(w, xq, xd, acc)
LBRX__GV_X86(lbrx__gemv_q6_k_x86, 256, 210, LBRX__GV_Q6_K)
#endif

/* IQ4_NL and IQ4_XS: the nibbles index the 16 code values (one byte shuffle), signed values
   against x with v's sign. A group's 16 bytes hold values 0..15 (low nibbles) and 16..31. */
LBRX__INLINE __m256i lbrx__gv_iq4_table(void) {
    const __m128i t = _mm_loadu_si128((const __m128i *)(const void *)lbrx__iq4_values);
    return _mm256_set_m128i(t, t);
}
LBRX__INLINE __m256 lbrx__gv_iq4_nl(const unsigned char *w, const int8_t *xq, const float *xd, __m256 acc) {
    const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(w + 2));
    const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f));
    const __m256i p = lbrx__gv_dots(_mm256_shuffle_epi8(lbrx__gv_iq4_table(), u), _mm256_loadu_si256((const __m256i *)(const void *)xq));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(_mm_cvtss_f32(lbrx__gv_f16x2(w)) * xd[0]), acc);
}
#define LBRX__GV_IQ4_NL(w, xq, xd, xds, xs16, acc) lbrx__gv_iq4_nl(w, xq, xd, acc)
LBRX__GV_X86(lbrx__gemv_iq4_nl_x86, 32, 18, LBRX__GV_IQ4_NL)

#if !defined(LBRX__GV512)
/* IQ4_XS: group 2j's 16 bytes and group 2j+1's in one register, their nibbles put in x's
   order by 128-bit lane permutations. */
LBRX__INLINE __m256 lbrx__gv_iq4_xs(const unsigned char *w, const int8_t *xq, const float *xd, __m256 acc) {
    const __m256i tab = lbrx__gv_iq4_table(), nib = _mm256_set1_epi8(0x0f);
    const __m256 s = lbrx__gv_iq4_xs_scales(w, xd);
    int j;
    for (j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w + 8 + 32 * j));
        const __m256i lo = _mm256_and_si256(q, nib), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
        const __m256i v0 = _mm256_shuffle_epi8(tab, _mm256_permute2x128_si256(lo, hi, 0x20));
        const __m256i v1 = _mm256_shuffle_epi8(tab, _mm256_permute2x128_si256(lo, hi, 0x31));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lbrx__gv_dots(v0, _mm256_loadu_si256((const __m256i *)(const void *)(xq + 64 * j)))),
                              _mm256_permutevar8x32_ps(s, _mm256_set1_epi32(2 * j)), acc);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lbrx__gv_dots(v1, _mm256_loadu_si256((const __m256i *)(const void *)(xq + 64 * j + 32)))),
                              _mm256_permutevar8x32_ps(s, _mm256_set1_epi32(2 * j + 1)), acc);
    }
    return acc;
}
#define LBRX__GV_IQ4_XS(w, xq, xd, xds, xs16, acc) lbrx__gv_iq4_xs(w, xq, xd, acc)
LBRX__GV_X86(lbrx__gemv_iq4_xs_x86, 256, 136, LBRX__GV_IQ4_XS)
#endif

/* Q5_0 and Q5_1: bit j of qh (32 bits) is value j's fifth bit: byte j of the register gets qh's
   byte j / 8, tested against bit j % 8. Q5_0 subtracts 16 times x's sums of 4 (as Q6_K its 32);
   Q5_1's min goes in through lane 0. */
LBRX__INLINE __m256 lbrx__gv_q5(const unsigned char *w, const int8_t *xq, const float *xd, const float *xds, int with_min, __m256 acc) {
    const int hdr = with_min ? 4 : 2;
    int32_t qh;
    __m256i hb, u, p, x;
    __m128i q;
    const __m256i bits = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    const __m128 dm = lbrx__gv_f16x2(w);
    memcpy(&qh, w + hdr, 4);
    hb = _mm256_shuffle_epi8(_mm256_set1_epi32(qh), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    hb = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, bits), bits), _mm256_set1_epi8(16));
    q = _mm_loadu_si128((const __m128i *)(const void *)(w + hdr + 4));
    u = _mm256_or_si256(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0f)), hb);
    x = _mm256_loadu_si256((const __m256i *)(const void *)xq);
    p = lbrx__gv_dotu(u, x);
    if (!with_min) p = _mm256_sub_epi32(p, lbrx__gv_dotu(_mm256_set1_epi8(16), x));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(_mm_cvtss_f32(dm) * xd[0]), acc);
    if (with_min) acc = _mm256_add_ps(acc, _mm256_set_m128(_mm_setzero_ps(), _mm_set_ss(_mm_cvtss_f32(_mm_movehdup_ps(dm)) * xds[0])));
    return acc;
}
#define LBRX__GV_Q5_0(w, xq, xd, xds, xs16, acc) lbrx__gv_q5(w, xq, xd, xds, 0, acc)
#define LBRX__GV_Q5_1(w, xq, xd, xds, xs16, acc) lbrx__gv_q5(w, xq, xd, xds, 1, acc)
LBRX__GV_X86(lbrx__gemv_q5_0_x86, 32, 22, LBRX__GV_Q5_0)
LBRX__GV_X86(lbrx__gemv_q5_1_x86, 32, 24, LBRX__GV_Q5_1)

/* Q3_K and Q2_K: groups of 16 as Q6_K; the 2-bit values of group of 32 k (of the 128-value
   half h) are bit pair k of the half's 32 bytes of qs. */
/* Q3_K: v + 4 = the 2 bits + 4 where hmask's bit 4h + k is set; scales 6 bits - 32 */
LBRX__INLINE __m256 lbrx__gv_q3_k(const unsigned char *w, const int8_t *xq, const float *xd, __m256 acc) {
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4), hm = _mm256_loadu_si256((const __m256i *)(const void *)w);
    const unsigned char *s = w + 96;
    int32_t s8;
    __m128i lo, hi;
    __m256 sc[2];
    int h, k;
    memcpy(&s8, s + 8, 4);
    lo = _mm_loadl_epi64((const __m128i *)(const void *)s);
    lo = _mm_and_si128(_mm_unpacklo_epi64(lo, _mm_srli_epi16(lo, 4)), _mm_set1_epi8(0x0f));
    hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32(s8), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    lbrx__gv_k16_scales(_mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32)), _mm256_broadcastss_ps(lbrx__gv_f16x2(w + 108)), xd, sc);
    for (h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w + 32 + 32 * h));
        for (k = 0; k < 4; k++) {
            const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + k)));
            const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three),
                                              _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), bit), four));
            const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(xq + 128 * h + 32 * k));
            const __m256i p = _mm256_sub_epi32(lbrx__gv_dotu(u, x), lbrx__gv_dotu(four, x));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), LBRX__GV_PAIR(sc[h], 2 * k, 2 * k + 1), acc);
        }
    }
    return acc;
}
#define LBRX__GV_Q3_K(w, xq, xd, xds, xs16, acc) lbrx__gv_q3_k(w, xq, xd, acc)
LBRX__GV_X86(lbrx__gemv_q3_k_x86, 256, 110, LBRX__GV_Q3_K)

/* Q2_K: v = the 2 bits; scale nibbles times d, min nibbles times -dmin against x's scale times
   its sums of 16 (xs16) */
LBRX__INLINE __m256 lbrx__gv_q2_k(const unsigned char *w, const int8_t *xq, const float *xd, const int32_t *xs16, __m256 acc) {
    const __m256i three = _mm256_set1_epi8(3);
    const __m128i sb = _mm_loadu_si128((const __m128i *)(const void *)w), m4 = _mm_set1_epi8(0x0f);
    const __m128 dm = lbrx__gv_f16x2(w + 80);
    __m256 sc[2], mn[2];
    int h, k;
    lbrx__gv_k16_scales(_mm_and_si128(sb, m4), _mm256_broadcastss_ps(dm), xd, sc);
    lbrx__gv_k16_scales(_mm_and_si128(_mm_srli_epi16(sb, 4), m4), _mm256_broadcastss_ps(_mm_sub_ps(_mm_setzero_ps(), _mm_movehdup_ps(dm))), xd, mn);
    acc = _mm256_fmadd_ps(mn[0], _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(const void *)xs16)), acc);
    acc = _mm256_fmadd_ps(mn[1], _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(const void *)(xs16 + 8))), acc);
    for (h = 0; h < 2; h++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w + 16 + 32 * h));
        for (k = 0; k < 4; k++) {
            const __m256i u = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three);
            const __m256i p = lbrx__gv_dotu(u, _mm256_loadu_si256((const __m256i *)(const void *)(xq + 128 * h + 32 * k)));
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), LBRX__GV_PAIR(sc[h], 2 * k, 2 * k + 1), acc);
        }
    }
    return acc;
}
#define LBRX__GV_Q2_K(w, xq, xd, xds, xs16, acc) lbrx__gv_q2_k(w, xq, xd, xs16, acc)
LBRX__GV_X86(lbrx__gemv_q2_k_x86, 256, 84, LBRX__GV_Q2_K)

#endif /* LBRX__MM_X86 */

#if defined(LBRX__GV512)
/* ---- AVX-512 VNNI section: two groups of 32 per 512-bit step ---- */
LBRX__INLINE float lbrx__gv_hsum16(__m512 v) { return _mm512_reduce_add_ps(v); }
/* 16 lanes: lanes 0..7 from lane a of s, 8..15 from lane b (s's lanes 0..7 hold the scales) */
#define LBRX__GV_SPLIT(s, a, b) _mm512_permutexvar_ps(_mm512_setr_epi32(a, a, a, a, a, a, a, a, b, b, b, b, b, b, b, b), s)
/* an 8-lane vector in the lower half of a 512-bit one, zeros above */
#define LBRX__GV_WIDEN(v) _mm512_maskz_mov_ps(0xFF, _mm512_castps256_ps512(v))

/* Q4_K and Q5_K: a step is the 32 bytes of qs holding groups 2j (low nibbles) and 2j+1 (high
   nibbles), against x's 64 values of those groups; Q5_K's fifth bits come in as a masked add. */
LBRX__INLINE __m512 lbrx__gv_q45_k_512(const unsigned char *w, const int8_t *xq, const float *xd, const float *xds, int five, __m512 acc) {
    const __m512i nib = _mm512_set1_epi8(0x0f), b4 = _mm512_set1_epi8(16);
    const unsigned char *qs = w + (five ? 48 : 16);
    __m512i h = _mm512_setzero_si512();
    __m256 sc8, mn;
    __m512 sc;
    int j;
    lbrx__gv_k4_sc_mn(w, xd, &sc8, &mn);
    sc = _mm512_castps256_ps512(sc8);
    if (five) {
        const __m256i h1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 16));
        h = _mm512_inserti64x4(_mm512_castsi256_si512(h1), h1, 1);
    }
    acc = _mm512_fmadd_ps(LBRX__GV_WIDEN(mn), _mm512_maskz_loadu_ps(0xFF, xds), acc);
    for (j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(qs + 32 * j));
        __m512i u = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), nib);
        __m512i p;
        if (five) {
            const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * j))), _mm256_set1_epi8((char)(2 << (2 * j))), 1);
            u = _mm512_mask_add_epi8(u, _mm512_test_epi8_mask(h, bit), u, b4);
        }
        p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, _mm512_loadu_si512(xq + 64 * j));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), LBRX__GV_SPLIT(sc, 2 * j, 2 * j + 1), acc);
    }
    return acc;
}
#define LBRX__GV_Q4_K512(w, xq, xd, xds, xs16, acc) lbrx__gv_q45_k_512(w, xq, xd, xds, 0, acc)
#define LBRX__GV_Q5_K512(w, xq, xd, xds, xs16, acc) lbrx__gv_q45_k_512(w, xq, xd, xds, 1, acc)
LBRX__GV_DRIVER(lbrx__gemv_q4_k_avx512, 256, 144, __m512, _mm512_setzero_ps(), lbrx__gv_hsum16, LBRX__GV_Q4_K512)
LBRX__GV_DRIVER(lbrx__gemv_q5_k_avx512, 256, 176, __m512, _mm512_setzero_ps(), lbrx__gv_hsum16, LBRX__GV_Q5_K512)

/* Q6_K: a step is two groups of 32 (k = 0, 1 from ql's low nibbles, k = 2, 3 from the high
   ones), each 16 values of one scale in 4 lanes. */
LBRX__INLINE __m512 lbrx__gv_q6_k_512(const unsigned char *w, const int8_t *xq, const float *xd, __m512 acc) {
    const __m512i nib = _mm512_set1_epi8(0x0f), top = _mm512_set1_epi8(0x30), c32 = _mm512_set1_epi8(32), z = _mm512_setzero_si512();
    const __m512i sl = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1), sr = _mm512_inserti64x4(z, _mm256_set1_epi16(2), 1);
    const __m512i i01 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), i23 = _mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
    __m256 sc[2];
    int h;
    lbrx__gv_k16_scales(_mm_loadu_si128((const __m128i *)(const void *)(w + 192)), _mm256_broadcastss_ps(lbrx__gv_f16x2(w + 208)), xd, sc);
    for (h = 0; h < 2; h++) {
        const __m512 s = _mm512_castps256_ps512(sc[h]);
        const __m512i a = _mm512_loadu_si512(w + 64 * h);
        const __m256i hb1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + 128 + 32 * h));
        const __m512i hb = _mm512_inserti64x4(_mm512_castsi256_si512(hb1), hb1, 1);
        const __m512i u01 = _mm512_or_si512(_mm512_and_si512(a, nib), _mm512_and_si512(_mm512_sllv_epi16(hb, sl), top));
        const __m512i u23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(a, 4), nib), _mm512_and_si512(_mm512_srlv_epi16(hb, sr), top));
        const __m512i x01 = _mm512_loadu_si512(xq + 128 * h), x23 = _mm512_loadu_si512(xq + 128 * h + 64);
        const __m512i p01 = _mm512_sub_epi32(_mm512_dpbusd_epi32(z, u01, x01), _mm512_dpbusd_epi32(z, c32, x01));
        const __m512i p23 = _mm512_sub_epi32(_mm512_dpbusd_epi32(z, u23, x23), _mm512_dpbusd_epi32(z, c32, x23));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p01), _mm512_permutexvar_ps(i01, s), acc);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p23), _mm512_permutexvar_ps(i23, s), acc);
    }
    return acc;
}
#define LBRX__GV_Q6_K512(w, xq, xd, xds, xs16, acc) lbrx__gv_q6_k_512(w, xq, xd, acc)
LBRX__GV_DRIVER(lbrx__gemv_q6_k_avx512, 256, 210, __m512, _mm512_setzero_ps(), lbrx__gv_hsum16, LBRX__GV_Q6_K512)

/* IQ4_XS: a step is the 32 bytes of groups 2j and 2j+1, their nibbles put in x's order by a
   128-bit lane permutation; the code values + 128 (unsigned) against x, minus 128 times x's
   sums of 4. */
LBRX__INLINE __m512 lbrx__gv_iq4_xs_512(const unsigned char *w, const int8_t *xq, const float *xd, __m512 acc) {
    const __m512i tab = _mm512_broadcast_i32x4(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)lbrx__iq4_values), _mm_set1_epi8((char)0x80)));
    const __m512i nib = _mm512_set1_epi8(0x0f), c128 = _mm512_set1_epi8((char)0x80), z = _mm512_setzero_si512();
    const __m512 s = _mm512_castps256_ps512(lbrx__gv_iq4_xs_scales(w, xd));
    int j;
    for (j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w + 8 + 32 * j));
        const __m512i n = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), nib);
        const __m512i u = _mm512_shuffle_epi8(tab, _mm512_shuffle_i64x2(n, n, _MM_SHUFFLE(3, 1, 2, 0)));
        const __m512i x = _mm512_loadu_si512(xq + 64 * j);
        const __m512i p = _mm512_sub_epi32(_mm512_dpbusd_epi32(z, u, x), _mm512_dpbusd_epi32(z, c128, x));
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), LBRX__GV_SPLIT(s, 2 * j, 2 * j + 1), acc);
    }
    return acc;
}
#define LBRX__GV_IQ4_XS512(w, xq, xd, xds, xs16, acc) lbrx__gv_iq4_xs_512(w, xq, xd, acc)
LBRX__GV_DRIVER(lbrx__gemv_iq4_xs_avx512, 256, 136, __m512, _mm512_setzero_ps(), lbrx__gv_hsum16, LBRX__GV_IQ4_XS512)
#endif /* AVX-512 VNNI section */

#if defined(LBRX__NEON)
/* Any format through its unpacker: per 16 values one 4-lane integer dot product. */
LBRX__PRIVATE void lbrx__gemv_unpacked_neon(const lbrx__mm *m, int64_t o0, int64_t o1) {
    const lbrx__wfmt *f = m->fmt;
    const int64_t nblk = m->k / f->block;
    int8_t v[256];
    float d[16], mn[16];
    int64_t o, i, b;
    int h;
    for (o = o0; o < o1; o++) {
        const unsigned char *wr = m->w + o * m->ws;
        for (i = 0; i < m->n; i++) {
            const int8_t *xq = m->xq + i * m->kq;
            const float *xd = m->xd + i * m->nb, *xds = m->xds + i * m->nb;
            float32x4_t acc = vdupq_n_f32(0.0f);
            float t = 0.0f, res;
            for (b = 0; b < nblk; b++) {
                f->unpack(wr + b * f->bytes, v, d, mn);
                for (h = 0; h < f->block / 16; h++) {
                    const int64_t e = b * f->block + 16 * h, xb = e / 32;
                    const int8x16_t wv = vld1q_s8(v + 16 * h), xv = vld1q_s8(xq + e);
                    const int g = f->group == 16 ? h : h / 2;
#if defined(LBRX__NEON_DOTPROD)
                    const int32x4_t p = vdotq_s32(vdupq_n_s32(0), wv, xv);
#else
                    const int32x4_t p = vpadalq_s16(vpaddlq_s16(vmull_s8(vget_low_s8(wv), vget_low_s8(xv))), vmull_s8(vget_high_s8(wv), vget_high_s8(xv)));
#endif
                    acc = vfmaq_f32(acc, vcvtq_f32_s32(p), vdupq_n_f32(d[g] * xd[xb]));
                    if (f->has_min && f->group == 16) t = fmaf(mn[g], xd[xb] * (float)m->xs16[i * 2 * m->nb + e / 16], t);
                    else if (f->has_min && (h & 1) == 0) t = fmaf(mn[g], xds[xb], t);
                }
            }
            res = vaddvq_f32(acc) + t;
            memcpy(m->yr[i] + o, &res, 4);
        }
    }
}
#endif /* LBRX__NEON */

/* ---- selection: each generic kernel name to the best one this build has (a section without a
   kernel for a format leaves it to its unpacking kernel, a build without SIMD to the scalar
   code) ---- */
#if defined(LBRX__MM_GEMV512)
#define lbrx__gemv_q32 lbrx__mm_gemv_q_avx512
#define lbrx__gemv_float lbrx__mm_gemv_f_x86
#elif defined(LBRX__MM_X86)
#define lbrx__gemv_q32 lbrx__mm_gemv_q_x86
#define lbrx__gemv_float lbrx__mm_gemv_f_x86
#elif defined(LBRX__NEON)
#define lbrx__gemv_q32 lbrx__mm_gemv_q_neon
#define lbrx__gemv_float lbrx__mm_gemv_f_neon
#else
#define lbrx__gemv_q32 lbrx__mm_rows_scalar
#define lbrx__gemv_float lbrx__mm_rows_scalar
#endif
#if defined(LBRX__GV512)
#define lbrx__gemv_q4_k lbrx__gemv_q4_k_avx512
#define lbrx__gemv_q5_k lbrx__gemv_q5_k_avx512
#define lbrx__gemv_q6_k lbrx__gemv_q6_k_avx512
#define lbrx__gemv_iq4_xs lbrx__gemv_iq4_xs_avx512
#elif defined(LBRX__MM_X86)
#define lbrx__gemv_q4_k lbrx__gemv_q4_k_x86
#define lbrx__gemv_q5_k lbrx__gemv_q5_k_x86
#define lbrx__gemv_q6_k lbrx__gemv_q6_k_x86
#endif
#if defined(LBRX__MM_X86)
#if !defined(LBRX__GV512)
#define lbrx__gemv_iq4_xs lbrx__gemv_iq4_xs_x86
#endif
#define lbrx__gemv_iq4_nl lbrx__gemv_iq4_nl_x86
#define lbrx__gemv_q5_0 lbrx__gemv_q5_0_x86
#define lbrx__gemv_q5_1 lbrx__gemv_q5_1_x86
#define lbrx__gemv_q3_k lbrx__gemv_q3_k_x86
#define lbrx__gemv_q2_k lbrx__gemv_q2_k_x86
#elif defined(LBRX__NEON)
#define lbrx__gemv_unpacked lbrx__gemv_unpacked_neon
#else
#define lbrx__gemv_unpacked lbrx__mm_rows_scalar
#endif
#if !defined(lbrx__gemv_q4_k)
#define lbrx__gemv_q4_k lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_q5_k)
#define lbrx__gemv_q5_k lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_q6_k)
#define lbrx__gemv_q6_k lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_iq4_xs)
#define lbrx__gemv_iq4_xs lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_iq4_nl)
#define lbrx__gemv_iq4_nl lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_q5_0)
#define lbrx__gemv_q5_0 lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_q5_1)
#define lbrx__gemv_q5_1 lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_q3_k)
#define lbrx__gemv_q3_k lbrx__gemv_unpacked
#endif
#if !defined(lbrx__gemv_q2_k)
#define lbrx__gemv_q2_k lbrx__gemv_unpacked
#endif

/* dequantizers of the table's signature for the formats whose block-format code takes a flag */
LBRX__PRIVATE void lbrx__dequantize_q5_0(const unsigned char *x, float *y, int64_t nb) { lbrx__dequantize_q5(x, y, nb, 0); }
LBRX__PRIVATE void lbrx__dequantize_q5_1(const unsigned char *x, float *y, int64_t nb) { lbrx__dequantize_q5(x, y, nb, 1); }
LBRX__PRIVATE void lbrx__dequantize_q4_k(const unsigned char *x, float *y, int64_t nb) { lbrx__dequantize_q45_k(x, y, nb, 0); }
LBRX__PRIVATE void lbrx__dequantize_q5_k(const unsigned char *x, float *y, int64_t nb) { lbrx__dequantize_q45_k(x, y, nb, 1); }
LBRX__PRIVATE void lbrx__dequantize_iq4_nl(const unsigned char *x, float *y, int64_t nb) { lbrx__dequantize_iq4(x, y, nb, 0); }
LBRX__PRIVATE void lbrx__dequantize_iq4_xs(const unsigned char *x, float *y, int64_t nb) { lbrx__dequantize_iq4(x, y, nb, 1); }

/* ---- the weight-format table: one row per weight dtype lbrx_matmul takes ---- */
static const lbrx__wfmt lbrx__wfmts[] = {
    /* dtype        block  bytes  group  uoff  min  unpack               matrix-vector      quantizer                 dequantizer */
    { LBRX_F32,     1,      4,      0,      0,     0,    0,                    lbrx__gemv_float,   0,                         0 },
    { LBRX_F16,     1,      2,      0,      0,     0,    0,                    lbrx__gemv_float,   0,                         0 },
    { LBRX_BF16,    1,      2,      0,      0,     0,    0,                    lbrx__gemv_float,   0,                         0 },
    { LBRX_Q8_0,    32,     34,     32,     -1,    0,    lbrx__unpack_q8_0,    lbrx__gemv_q32,     lbrx_quantize_row_q8_0,    lbrx__dequantize_q8_0 },
    { LBRX_Q4_0,    32,     18,     32,     8,     0,    lbrx__unpack_q4_0,    lbrx__gemv_q32,     lbrx_quantize_row_q4_0,    lbrx__dequantize_q4_0 },
    { LBRX_Q4_1,    32,     20,     32,     0,     1,    lbrx__unpack_q4_1,    lbrx__gemv_q32,     lbrx_quantize_row_q4_1,    lbrx__dequantize_q4_1 },
    { LBRX_Q4_K,    256,    144,    32,     0,     1,    lbrx__unpack_q4_k,    lbrx__gemv_q4_k,    lbrx_quantize_row_q4_k,    lbrx__dequantize_q4_k },
    { LBRX_Q6_K,    256,    210,    16,     32,    0,    lbrx__unpack_q6_k,    lbrx__gemv_q6_k,    lbrx_quantize_row_q6_k,    lbrx__dequantize_q6_k },
    { LBRX_Q5_K,    256,    176,    32,     0,     1,    lbrx__unpack_q5_k,    lbrx__gemv_q5_k,    lbrx_quantize_row_q5_k,    lbrx__dequantize_q5_k },
    { LBRX_IQ4_XS,  256,    136,    32,     -1,    0,    lbrx__unpack_iq4_xs,  lbrx__gemv_iq4_xs,  lbrx_quantize_row_iq4_xs,  lbrx__dequantize_iq4_xs },
    { LBRX_IQ4_NL,  32,     18,     32,     -1,    0,    lbrx__unpack_iq4_nl,  lbrx__gemv_iq4_nl,  lbrx_quantize_row_iq4_nl,  lbrx__dequantize_iq4_nl },
    { LBRX_Q5_0,    32,     22,     32,     16,    0,    lbrx__unpack_q5_0,    lbrx__gemv_q5_0,    lbrx_quantize_row_q5_0,    lbrx__dequantize_q5_0 },
    { LBRX_Q5_1,    32,     24,     32,     0,     1,    lbrx__unpack_q5_1,    lbrx__gemv_q5_1,    lbrx_quantize_row_q5_1,    lbrx__dequantize_q5_1 },
    { LBRX_Q3_K,    256,    110,    16,     4,     0,    lbrx__unpack_q3_k,    lbrx__gemv_q3_k,    lbrx_quantize_row_q3_k,    lbrx__dequantize_q3_k },
    { LBRX_Q2_K,    256,    84,     16,     0,     1,    lbrx__unpack_q2_k,    lbrx__gemv_q2_k,    lbrx_quantize_row_q2_k,    lbrx__dequantize_q2_k }
};
#define LBRX__WFMT_COUNT (sizeof lbrx__wfmts / sizeof lbrx__wfmts[0])

/* The table's row of dtype t, or NULL. */
LBRX__PRIVATE const lbrx__wfmt *lbrx__wfmt_of(lbrx_dtype t) {
    size_t i;
    for (i = 0; i < LBRX__WFMT_COUNT; i++)
        if (lbrx__wfmts[i].dt == t) return &lbrx__wfmts[i];
    return 0;
}

LBRX__PRIVATE void lbrx__mm_quantize_x(const float *x, int64_t k, int8_t *q, float *d, int32_t *s, float *ds) {
#if defined(LBRX__MM_X86) || defined(LBRX__NEON)
    lbrx__mm_quantize_x_simd(x, k, q, d, s, ds);
#else
    lbrx__mm_quantize_x_scalar(x, k, q, d, s, ds);
#endif
}

/* ---- tiled matrix-matrix kernels (n >= LBRX_MATMUL_GEMM_MIN) ---- */

/* Float tiles: MR rows of x times NR = NV vectors of output columns; x is broadcast from its
   rows, the packed weights are [kc][NR] floats. Quantized tiles: QR rows times QV vectors of
   QN columns, on 4-byte groups: x panel [k/4][QR] int32 words, weights [kc/4][QN*QV][4] bytes. */
#if defined(LBRX__AVX512)
#define LBRX__MM_TILED 1
#define LBRX__MF_MR 6
#define LBRX__MF_NV 4
#define LBRX__MF_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LBRX__MF_VECS(X) X(0) X(1) X(2) X(3)
#define LBRX__MF_RV(X) X(0, 0) X(0, 1) X(0, 2) X(0, 3) X(1, 0) X(1, 1) X(1, 2) X(1, 3) X(2, 0) X(2, 1) X(2, 2) X(2, 3) \
    X(3, 0) X(3, 1) X(3, 2) X(3, 3) X(4, 0) X(4, 1) X(4, 2) X(4, 3) X(5, 0) X(5, 1) X(5, 2) X(5, 3)
#elif defined(LBRX__AVX2)
#define LBRX__MM_TILED 1
#define LBRX__MF_MR 6
#define LBRX__MF_NV 2
#define LBRX__MF_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LBRX__MF_VECS(X) X(0) X(1)
#define LBRX__MF_RV(X) X(0, 0) X(0, 1) X(1, 0) X(1, 1) X(2, 0) X(2, 1) X(3, 0) X(3, 1) X(4, 0) X(4, 1) X(5, 0) X(5, 1)
#elif defined(LBRX__NEON)
#define LBRX__MM_TILED 1
#define LBRX__MF_MR 12
#define LBRX__MF_NV 2
#define LBRX__MF_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define LBRX__MF_VECS(X) X(0) X(1)
#define LBRX__MF_RV(X) X(0, 0) X(0, 1) X(1, 0) X(1, 1) X(2, 0) X(2, 1) X(3, 0) X(3, 1) X(4, 0) X(4, 1) X(5, 0) X(5, 1) \
    X(6, 0) X(6, 1) X(7, 0) X(7, 1) X(8, 0) X(8, 1) X(9, 0) X(9, 1) X(10, 0) X(10, 1) X(11, 0) X(11, 1)
#endif

#if defined(LBRX__MM_X86) && defined(LBRX__MM_TILED)
#define LBRX__MM_QTILED 1
#define LBRX__MQ_N 8
typedef __m256i lbrx__vi;
#define LBRX__VI_LD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LBRX__VI_BC(v) _mm256_set1_epi32(v)
#define LBRX__VI_TOF(v) _mm256_cvtepi32_ps(v)
#define LBRX__VQ_LD(p) _mm256_loadu_ps(p)
#define LBRX__VQ_BC(p) _mm256_set1_ps(*(p))
#define LBRX__VQ_MUL(a, b) _mm256_mul_ps(a, b)
#define LBRX__VQ_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define LBRX__VQ_ZERO() _mm256_setzero_ps()
#define LBRX__VQ_ST(p, v) _mm256_storeu_ps(p, v)
typedef __m256 lbrx__vq;
#if defined(LBRX__MM_VNNI256)
/* weights as unsigned bytes (signed formats biased by 128), x signed: one vpdpbusd */
#define LBRX__MQ_DOT_U(acc, w, xb) _mm256_dpbusd_epi32(acc, w, xb)
#define LBRX__MQ_DOT_S(acc, w, xb) _mm256_dpbusd_epi32(acc, w, xb)
#define LBRX__MQ_SBIAS 128
#else
/* unsigned weights (0..63) times int8: pair sums fit int16; signed formats keep their sign
   (|w| times sign(x, w)) */
#define LBRX__MQ_DOT_U(acc, w, xb) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, xb), _mm256_set1_epi16(1)))
#define LBRX__MQ_DOT_S(acc, w, xb) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(xb, w)), _mm256_set1_epi16(1)))
#define LBRX__MQ_SBIAS 0
#endif
#define LBRX__MQ_UNSIGNED 1     /* formats with small non-negative v + uoff packed unsigned */
#if defined(LBRX__AVX512)
#define LBRX__MQ_QR 6
#define LBRX__MQ_QV 2
#define LBRX__MQ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LBRX__MQ_RV(X) X(0, 0) X(0, 1) X(1, 0) X(1, 1) X(2, 0) X(2, 1) X(3, 0) X(3, 1) X(4, 0) X(4, 1) X(5, 0) X(5, 1)
#define LBRX__MQ_VECS(X) X(0) X(1)
#else
#define LBRX__MQ_QR 4
#define LBRX__MQ_QV 1
#define LBRX__MQ_ROWS(X) X(0) X(1) X(2) X(3)
#define LBRX__MQ_RV(X) X(0, 0) X(1, 0) X(2, 0) X(3, 0)
#define LBRX__MQ_VECS(X) X(0)
#endif
#elif defined(LBRX__NEON_DOTPROD) && defined(LBRX__MM_TILED)
#define LBRX__MM_QTILED 1
#define LBRX__MQ_N 4
typedef int32x4_t lbrx__vi;
typedef float32x4_t lbrx__vq;
#define LBRX__VI_LD(p) vld1q_s32((const int32_t *)(const void *)(p))
#define LBRX__VI_BC(v) vdupq_n_s32(v)
#define LBRX__VI_TOF(v) vcvtq_f32_s32(v)
#define LBRX__VQ_LD(p) vld1q_f32(p)
#define LBRX__VQ_BC(p) vld1q_dup_f32(p)
#define LBRX__VQ_MUL(a, b) vmulq_f32(a, b)
#define LBRX__VQ_FMA(a, b, c) vfmaq_f32(c, a, b)
#define LBRX__VQ_ZERO() vdupq_n_f32(0.0f)
#define LBRX__VQ_ST(p, v) vst1q_f32(p, v)
/* signed weights and x: sdot */
#define LBRX__MQ_DOT_U(acc, w, xb) vdotq_s32(acc, vreinterpretq_s8_s32(w), vreinterpretq_s8_s32(xb))
#define LBRX__MQ_DOT_S(acc, w, xb) vdotq_s32(acc, vreinterpretq_s8_s32(w), vreinterpretq_s8_s32(xb))
#define LBRX__MQ_SBIAS 0
#define LBRX__MQ_UNSIGNED 0
#define LBRX__MQ_QR 6
#define LBRX__MQ_QV 2
#define LBRX__MQ_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LBRX__MQ_RV(X) X(0, 0) X(0, 1) X(1, 0) X(1, 1) X(2, 0) X(2, 1) X(3, 0) X(3, 1) X(4, 0) X(4, 1) X(5, 0) X(5, 1)
#define LBRX__MQ_VECS(X) X(0) X(1)
#endif

#define LBRX__MM_KC 512        /* float kernels: elements of `in` per packed weight block */
#define LBRX__MM_NC 256        /* output columns per work item (a multiple of every NR) */
#define LBRX__MQ_KCB 16        /* quantized kernels: blocks of 32 per packed weight block */

#if defined(LBRX__MM_TILED)
#define LBRX__MF_NR (LBRX__MF_NV * LBRX__VL)

/* One float tile: rows c[0..MR) (columns col..col+NR) = (first ? 0 : c) + x . w panel over kc,
   x from the rows xr[0..MR) at element k0 (broadcast where they lie: no packed copy). */
LBRX__PRIVATE void lbrx__mm_ftile(int64_t kc, const float *const *xr, int64_t k0, const float *wp, float *const *c, int64_t col, int first) {
    int64_t kk;
#define LBRX__MF_XROW(r) const float *x##r = xr[r] + k0;
    LBRX__MF_ROWS(LBRX__MF_XROW)
#undef LBRX__MF_XROW
#define LBRX__MF_DECL(r, v) lbrx__vec a##r##_##v;
    LBRX__MF_RV(LBRX__MF_DECL)
#undef LBRX__MF_DECL
    if (first) {
#define LBRX__MF_INIT(r, v) a##r##_##v = lbrx__vzero();
        LBRX__MF_RV(LBRX__MF_INIT)
#undef LBRX__MF_INIT
    } else {
#define LBRX__MF_INIT(r, v) a##r##_##v = lbrx__vld(c[r] + col + v * LBRX__VL);
        LBRX__MF_RV(LBRX__MF_INIT)
#undef LBRX__MF_INIT
    }
    for (kk = 0; kk < kc; kk++) {
        const float *wk = wp + kk * LBRX__MF_NR;
        /* the weight panel (kc x NR floats) is larger than L1: fetch it 8 steps ahead */
#define LBRX__MF_PFW(v) LBRX__PREFETCH(wk + 8 * LBRX__MF_NR + v * LBRX__VL);
        LBRX__MF_VECS(LBRX__MF_PFW)
#undef LBRX__MF_PFW
#define LBRX__MF_LDW(v) const lbrx__vec w##v = lbrx__vld(wk + v * LBRX__VL);
        LBRX__MF_VECS(LBRX__MF_LDW)
#undef LBRX__MF_LDW
        /* one broadcast live at a time (AVX2 has 16 registers for 12 sums, 2 weights and it) */
#define LBRX__MF_FMA1(r, v) a##r##_##v = lbrx__vfma(b_, w##v, a##r##_##v);
#if LBRX__MF_NV == 4
#define LBRX__MF_STEP(r) { const lbrx__vec b_ = lbrx__vdup(lbrx__mm_ldf(x##r + kk)); LBRX__MF_FMA1(r, 0) LBRX__MF_FMA1(r, 1) LBRX__MF_FMA1(r, 2) LBRX__MF_FMA1(r, 3) }
#else
#define LBRX__MF_STEP(r) { const lbrx__vec b_ = lbrx__vdup(lbrx__mm_ldf(x##r + kk)); LBRX__MF_FMA1(r, 0) LBRX__MF_FMA1(r, 1) }
#endif
        LBRX__MF_ROWS(LBRX__MF_STEP)
#undef LBRX__MF_STEP
#undef LBRX__MF_FMA1
    }
#define LBRX__MF_STORE(r, v) lbrx__vst(c[r] + col + v * LBRX__VL, a##r##_##v);
    LBRX__MF_RV(LBRX__MF_STORE)
#undef LBRX__MF_STORE
}

#if defined(LBRX__MM_X86)
/* Rows r0..r0+8 of a full sub-panel, elements [k0, k0 + kc8) (kc8 a multiple of 8): 8x8 blocks
   converted to f32 and transposed in registers. */
LBRX__PRIVATE void lbrx__mm_pack_w_f8(const lbrx__mm *m, int64_t o, int r0, int64_t k0, int64_t kc8, float *wp) {
    const lbrx_dtype dt = m->dt;
    const int es = dt == LBRX_F32 ? 4 : 2;
    const unsigned char *src = m->w + (o + r0) * m->ws + k0 * es;
    const int64_t ws = m->ws;
    int64_t kk;
    for (kk = 0; kk < kc8; kk += 8) {
        const unsigned char *p = src + kk * es;
        __m256 a0 = LBRX__MM_LDW(dt, p), a1 = LBRX__MM_LDW(dt, p + ws), a2 = LBRX__MM_LDW(dt, p + 2 * ws), a3 = LBRX__MM_LDW(dt, p + 3 * ws);
        __m256 a4 = LBRX__MM_LDW(dt, p + 4 * ws), a5 = LBRX__MM_LDW(dt, p + 5 * ws), a6 = LBRX__MM_LDW(dt, p + 6 * ws), a7 = LBRX__MM_LDW(dt, p + 7 * ws);
        __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1), t2 = _mm256_unpacklo_ps(a2, a3), t3 = _mm256_unpackhi_ps(a2, a3);
        __m256 t4 = _mm256_unpacklo_ps(a4, a5), t5 = _mm256_unpackhi_ps(a4, a5), t6 = _mm256_unpacklo_ps(a6, a7), t7 = _mm256_unpackhi_ps(a6, a7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE), u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE), u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float *d = wp + kk * LBRX__MF_NR + r0;
        _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(d + LBRX__MF_NR, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(d + 2 * LBRX__MF_NR, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(d + 3 * LBRX__MF_NR, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(d + 4 * LBRX__MF_NR, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(d + 5 * LBRX__MF_NR, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(d + 6 * LBRX__MF_NR, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(d + 7 * LBRX__MF_NR, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
}
#endif

/* Pack weight rows [o, o + nr) (nr <= NR), elements [k0, k0 + kc), as f32 [kc][NR], zero past nr. */
LBRX__PRIVATE void lbrx__mm_pack_w_f(const lbrx__mm *m, int64_t o, int nr, int64_t k0, int64_t kc, float *wp) {
    int r, r8 = 0;
    int64_t kk, kc8 = 0;
#if defined(LBRX__MM_X86)
    /* full groups of 8 rows over the multiple-of-8 part in registers, the rest below */
    kc8 = kc & ~(int64_t)7;
    for (r8 = 0; r8 + 8 <= nr; r8 += 8) lbrx__mm_pack_w_f8(m, o, r8, k0, kc8, wp);
#endif
    for (r = 0; r < LBRX__MF_NR; r++) {
        const unsigned char *src = m->w + (o + r) * m->ws;
#if defined(LBRX__MM_X86)
        /* the next block of this row: packing reads short row segments, too short for the
           hardware prefetcher to start on its own */
        if (r < nr && k0 + kc < m->k) {
            const int es = m->dt == LBRX_F32 ? 4 : 2;
            int64_t q, e = (m->k - k0 - kc < kc ? m->k - k0 - kc : kc) * es;
            for (q = 0; q < e; q += 64) _mm_prefetch((const char *)(src + (k0 + kc) * es + q), _MM_HINT_T1);
        }
#endif
        if (r >= nr) {
            for (kk = 0; kk < kc; kk++) wp[kk * LBRX__MF_NR + r] = 0.0f;
        } else if (m->dt == LBRX_F32) {
            for (kk = r < r8 ? kc8 : 0; kk < kc; kk++) memcpy(wp + kk * LBRX__MF_NR + r, src + 4 * (k0 + kk), 4);
        } else {
            float tmp[64];
            int64_t done, c, t;
            for (done = r < r8 ? kc8 : 0; done < kc; done += c) {
                c = kc - done < 64 ? kc - done : 64;
                if (m->dt == LBRX_F16) lbrx_f16_to_f32_row(src + 2 * (k0 + done), tmp, (size_t)c);
                else lbrx_bf16_to_f32_row(src + 2 * (k0 + done), tmp, (size_t)c);
                for (t = 0; t < c; t++) wp[(done + t) * LBRX__MF_NR + r] = tmp[t];
            }
        }
    }
}

/* Output columns [o0, o1) (o1 - o0 <= NC) of every row of x. The weights of each block come
   packed into wbuf (NC * KC floats), or from the prepared panels m->wprep ([out/NR][k][NR], whole
   panels: tiles then start at the panel boundary at or below o0 and write only [o0, o1)). */
LBRX__PRIVATE void lbrx__mm_gemm_f(const lbrx__mm *m, int64_t o0, int64_t o1, float *wbuf) {
    const int64_t np = (m->n + LBRX__MF_MR - 1) / LBRX__MF_MR, ob = m->wprep ? o0 - o0 % LBRX__MF_NR : o0;
    int64_t k0, p, o;
    for (k0 = 0; k0 < m->k; k0 += LBRX__MM_KC) {
        int64_t kc = m->k - k0 < LBRX__MM_KC ? m->k - k0 : LBRX__MM_KC;
        if (!m->wprep)
            for (o = o0; o < o1; o += LBRX__MF_NR)
                lbrx__mm_pack_w_f(m, o, (int)(o1 - o < LBRX__MF_NR ? o1 - o : LBRX__MF_NR), k0, kc, wbuf + (o - o0) * kc);
        for (p = 0; p < np; p++) {
            int mr = (int)(m->n - p * LBRX__MF_MR < LBRX__MF_MR ? m->n - p * LBRX__MF_MR : LBRX__MF_MR), r;
            /* the last panel's missing rows repeat its first (their sums are not stored) */
            const float *xr[LBRX__MF_MR];
            for (r = 0; r < LBRX__MF_MR; r++) xr[r] = m->xr[p * LBRX__MF_MR + (r < mr ? r : 0)];
            for (o = ob; o < o1; o += LBRX__MF_NR) {
                const float *wp = m->wprep ? m->wprep + (o / LBRX__MF_NR * m->k + k0) * LBRX__MF_NR : wbuf + (o - o0) * kc;
                int lo = (int)(o < o0 ? o0 - o : 0), hi = (int)(o1 - o < LBRX__MF_NR ? o1 - o : LBRX__MF_NR);
                if (mr == LBRX__MF_MR && lo == 0 && hi == LBRX__MF_NR) {
                    lbrx__mm_ftile(kc, xr, k0, wp, m->yr + p * LBRX__MF_MR, o, k0 == 0);
                } else {
                    /* edge tile: through a local tile so nothing outside y's range is touched */
                    float tile[LBRX__MF_MR][LBRX__MF_NR], *rows[LBRX__MF_MR];
                    for (r = 0; r < LBRX__MF_MR; r++) {
                        rows[r] = tile[r];
                        if (r < mr && k0 > 0) memcpy(tile[r] + lo, m->yr[p * LBRX__MF_MR + r] + o + lo, (size_t)(hi - lo) * 4);
                    }
                    lbrx__mm_ftile(kc, xr, k0, wp, rows, 0, k0 == 0);
                    for (r = 0; r < mr; r++) memcpy(m->yr[p * LBRX__MF_MR + r] + o + lo, tile[r] + lo, (size_t)(hi - lo) * 4);
                }
            }
        }
    }
}
#endif /* LBRX__MM_TILED */

#if defined(LBRX__MM_QTILED)
#define LBRX__MQ_NR (LBRX__MQ_N * LBRX__MQ_QV)

/* The quantized x panels: words [p][k/4][QR] (4 int8 values each), and per scale group of the
   weight format [p][k/group][QR] x's scale d, the integer correction -bias*s (s the group's sum
   of q) and d*s. */
typedef struct lbrx__mq_x { int32_t *q; float *d; int32_t *corr; float *ds; } lbrx__mq_x;

/* What the packed weight bytes hold: v + uoff for formats with small non-negative v + uoff where
   the kernels take unsigned weights (x86), else v + LBRX__MQ_SBIAS; the tile subtracts bias*s. */
LBRX__PRIVATE int lbrx__mq_bias(const lbrx__wfmt *f) {
    return f->uoff >= 0 && LBRX__MQ_UNSIGNED ? f->uoff : LBRX__MQ_SBIAS;
}

LBRX__PRIVATE void lbrx__mm_pack_x_q(const lbrx__mm *m, const lbrx__mq_x *px, int64_t p) {
    const int64_t k4 = m->k / 4, ng = m->k / m->fmt->group;
    const int bias = lbrx__mq_bias(m->fmt), g16 = m->fmt->group == 16, mins = m->fmt->has_min;
    int64_t j, g;
    int r;
    for (r = 0; r < LBRX__MQ_QR; r++) {
        int64_t i = p * LBRX__MQ_QR + r;
        int32_t *q = px->q + p * k4 * LBRX__MQ_QR + r;
        float *d = px->d + p * ng * LBRX__MQ_QR + r, *ds = px->ds + p * ng * LBRX__MQ_QR + r;
        int32_t *corr = px->corr + p * ng * LBRX__MQ_QR + r;
        if (i < m->n) {
            const int8_t *xq = m->xq + i * m->kq;
            for (j = 0; j < k4; j++) memcpy(q + j * LBRX__MQ_QR, xq + 4 * j, 4);
            for (g = 0; g < ng; g++) {
                d[g * LBRX__MQ_QR] = lbrx__mm_xgd(m, i, g);
                ds[g * LBRX__MQ_QR] = mins ? lbrx__mm_xgds(m, i, g) : 0.0f;
                corr[g * LBRX__MQ_QR] = -bias * (g16 ? m->xs16[i * 2 * m->nb + g] : m->xs[i * m->nb + g]);
            }
        } else {
            for (j = 0; j < k4; j++) q[j * LBRX__MQ_QR] = 0;
            for (g = 0; g < ng; g++) { d[g * LBRX__MQ_QR] = 0; ds[g * LBRX__MQ_QR] = 0; corr[g * LBRX__MQ_QR] = 0; }
        }
    }
}

/* Pack blocks of 32 [b0, b0 + nbk) of weight rows [o, o + nr), unpacked through the format
   table: bytes [nbk*8][NR][4] (the kernel's operand, v + lbrx__mq_bias), scales and mins
   [groups][NR]; rows past nr are zero. */
LBRX__PRIVATE void lbrx__mm_pack_w_q(const lbrx__mm *m, int64_t o, int nr, int64_t b0, int64_t nbk,
                                     unsigned char *wq, float *wd, float *wm) {
    const lbrx__wfmt *f = m->fmt;
    const int bias = lbrx__mq_bias(f), gpb = f->block / f->group, wpb = f->block / 4;
    const int64_t fb0 = b0 * 32 / f->block, nfb = nbk * 32 / f->block;
    int8_t v[256];
    float d[16], mn[16];
    int r, t, g;
    int64_t fb;
    for (r = 0; r < LBRX__MQ_NR; r++) {
        const unsigned char *row = m->w + (o + r) * m->ws;
        for (fb = 0; fb < nfb; fb++) {
            if (r >= nr) {
                memset(v, 0, sizeof v);
                for (g = 0; g < gpb; g++) d[g] = mn[g] = 0.0f;
            } else {
                f->unpack(row + (size_t)(fb0 + fb) * (size_t)f->bytes, v, d, mn);
                if (!f->has_min)
                    for (g = 0; g < gpb; g++) mn[g] = 0.0f;
            }
            for (t = 0; t < wpb; t++) {
                unsigned char *dst = wq + ((fb * wpb + t) * LBRX__MQ_NR + r) * 4;
                dst[0] = (unsigned char)(v[4 * t] + bias);
                dst[1] = (unsigned char)(v[4 * t + 1] + bias);
                dst[2] = (unsigned char)(v[4 * t + 2] + bias);
                dst[3] = (unsigned char)(v[4 * t + 3] + bias);
            }
            for (g = 0; g < gpb; g++) {
                wd[(fb * gpb + g) * LBRX__MQ_NR + r] = d[g];
                wm[(fb * gpb + g) * LBRX__MQ_NR + r] = mn[g];
            }
        }
    }
}

/* One quantized tile over ngk scale groups of GW words (4 values each): per group the exact
   integer sums, then acc = fma(float(isum), dw*dx, acc) (and fma(m, d*s, acc) for formats with a
   min), in canonical order. */
#define LBRX__MQ_TILE(NAME, DOT, GW) \
LBRX__PRIVATE void NAME(int64_t ngk, int has_min, const int32_t *xq, const float *xd, const int32_t *xc, const float *xds, \
                        const unsigned char *wq, const float *wd, const float *wm, float *const *c, int64_t col, int first) { \
    int64_t b; \
    int t; \
    LBRX__MQ_RV(LBRX__MQ_DECLF) \
    if (first) { LBRX__MQ_RV(LBRX__MQ_ZEROF) } else { LBRX__MQ_RV(LBRX__MQ_LOADF) } \
    for (b = 0; b < ngk; b++) { \
        LBRX__MQ_RV(LBRX__MQ_DECLI) \
        for (t = 0; t < GW; t++) { \
            const int32_t *xw = xq + (b * GW + t) * LBRX__MQ_QR; \
            const unsigned char *wt = wq + (b * GW + t) * LBRX__MQ_NR * 4; \
            LBRX__MQ_VECS(LBRX__MQ_LDW) \
            LBRX__MQ_ROWS(LBRX__MQ_DOTROW_##DOT) \
        } \
        { LBRX__MQ_VECS(LBRX__MQ_LDD) LBRX__MQ_RV(LBRX__MQ_SCALE) } \
        if (has_min) { LBRX__MQ_VECS(LBRX__MQ_LDM) LBRX__MQ_RV(LBRX__MQ_MIN) } \
    } \
    LBRX__MQ_RV(LBRX__MQ_STOREF) \
}
#define LBRX__MQ_DECLF(r, v) lbrx__vq f##r##_##v;
#define LBRX__MQ_ZEROF(r, v) f##r##_##v = LBRX__VQ_ZERO();
#define LBRX__MQ_LOADF(r, v) f##r##_##v = LBRX__VQ_LD(c[r] + col + v * LBRX__MQ_N);
#define LBRX__MQ_STOREF(r, v) LBRX__VQ_ST(c[r] + col + v * LBRX__MQ_N, f##r##_##v);
#define LBRX__MQ_DECLI(r, v) lbrx__vi i##r##_##v = LBRX__VI_BC(xc[b * LBRX__MQ_QR + r]);
#define LBRX__MQ_LDW(v) const lbrx__vi w##v = LBRX__VI_LD(wt + v * LBRX__MQ_N * 4);
#define LBRX__MQ_DOTV_U(r, v) i##r##_##v = LBRX__MQ_DOT_U(i##r##_##v, w##v, xb##r);
#define LBRX__MQ_DOTV_S(r, v) i##r##_##v = LBRX__MQ_DOT_S(i##r##_##v, w##v, xb##r);
#if LBRX__MQ_QV == 2
#define LBRX__MQ_DOTROW_U(r) { const lbrx__vi xb##r = LBRX__VI_BC(xw[r]); LBRX__MQ_DOTV_U(r, 0) LBRX__MQ_DOTV_U(r, 1) }
#define LBRX__MQ_DOTROW_S(r) { const lbrx__vi xb##r = LBRX__VI_BC(xw[r]); LBRX__MQ_DOTV_S(r, 0) LBRX__MQ_DOTV_S(r, 1) }
#else
#define LBRX__MQ_DOTROW_U(r) { const lbrx__vi xb##r = LBRX__VI_BC(xw[r]); LBRX__MQ_DOTV_U(r, 0) }
#define LBRX__MQ_DOTROW_S(r) { const lbrx__vi xb##r = LBRX__VI_BC(xw[r]); LBRX__MQ_DOTV_S(r, 0) }
#endif
#define LBRX__MQ_LDD(v) const lbrx__vq d##v = LBRX__VQ_LD(wd + b * LBRX__MQ_NR + v * LBRX__MQ_N);
#define LBRX__MQ_SCALE(r, v) f##r##_##v = LBRX__VQ_FMA(LBRX__VI_TOF(i##r##_##v), LBRX__VQ_MUL(d##v, LBRX__VQ_BC(xd + b * LBRX__MQ_QR + r)), f##r##_##v);
#define LBRX__MQ_LDM(v) const lbrx__vq m##v = LBRX__VQ_LD(wm + b * LBRX__MQ_NR + v * LBRX__MQ_N);
#define LBRX__MQ_MIN(r, v) f##r##_##v = LBRX__VQ_FMA(m##v, LBRX__VQ_BC(xds + b * LBRX__MQ_QR + r), f##r##_##v);

LBRX__MQ_TILE(lbrx__mm_qtile_u, U, 8)
LBRX__MQ_TILE(lbrx__mm_qtile_s, S, 8)
LBRX__MQ_TILE(lbrx__mm_qtile_u16, U, 4)

/* Output columns [o0, o1) of every row of x, quantized weights. */
LBRX__NOINLINE LBRX__PRIVATE void lbrx__mm_gemm_q(const lbrx__mm *m, int64_t o0, int64_t o1, unsigned char *wbuf) {
    const lbrx__mq_x *px = (const lbrx__mq_x *)m->xp;
    const lbrx__wfmt *f = m->fmt;
    const int64_t np = (m->n + LBRX__MQ_QR - 1) / LBRX__MQ_QR, k4 = m->k / 4, ng = m->k / f->group, g32 = 32 / f->group;
    const int mins = f->has_min, sgn = f->uoff < 0 && LBRX__MQ_SBIAS == 0 && LBRX__MQ_UNSIGNED;
    unsigned char *wq = wbuf;
    float *wd = (float *)(void *)(wbuf + LBRX__MM_NC * LBRX__MQ_KCB * 32), *wm = wd + LBRX__MM_NC * LBRX__MQ_KCB * 2;
    int64_t b0, p, o;
    for (b0 = 0; b0 < m->nb; b0 += LBRX__MQ_KCB) {
        int64_t nbk = m->nb - b0 < LBRX__MQ_KCB ? m->nb - b0 : LBRX__MQ_KCB, ngk = nbk * g32, g0 = b0 * g32;
        for (o = o0; o < o1; o += LBRX__MQ_NR)
            lbrx__mm_pack_w_q(m, o, (int)(o1 - o < LBRX__MQ_NR ? o1 - o : LBRX__MQ_NR), b0, nbk,
                              wq + (o - o0) * nbk * 32, wd + (o - o0) * ngk, wm + (o - o0) * ngk);
        for (p = 0; p < np; p++) {
            const int32_t *xq = px->q + (p * k4 + b0 * 8) * LBRX__MQ_QR;
            const float *xd = px->d + (p * ng + g0) * LBRX__MQ_QR, *xds = px->ds + (p * ng + g0) * LBRX__MQ_QR;
            const int32_t *xc = px->corr + (p * ng + g0) * LBRX__MQ_QR;
            int mr = (int)(m->n - p * LBRX__MQ_QR < LBRX__MQ_QR ? m->n - p * LBRX__MQ_QR : LBRX__MQ_QR);
            for (o = o0; o < o1; o += LBRX__MQ_NR) {
                int nr = (int)(o1 - o < LBRX__MQ_NR ? o1 - o : LBRX__MQ_NR);
                const unsigned char *wqo = wq + (o - o0) * nbk * 32;
                const float *wdo = wd + (o - o0) * ngk, *wmo = wm + (o - o0) * ngk;
                float tile[LBRX__MQ_QR][LBRX__MQ_NR], *rows[LBRX__MQ_QR];
                float *const *c = m->yr + p * LBRX__MQ_QR;
                int64_t col = o;
                int r, edge = mr < LBRX__MQ_QR || nr < LBRX__MQ_NR;
                if (edge) {
                    for (r = 0; r < LBRX__MQ_QR; r++) {
                        rows[r] = tile[r];
                        if (r < mr && b0 > 0) memcpy(tile[r], m->yr[p * LBRX__MQ_QR + r] + o, (size_t)nr * 4);
                    }
                    c = rows;
                    col = 0;
                }
                if (sgn) lbrx__mm_qtile_s(ngk, mins, xq, xd, xc, xds, wqo, wdo, wmo, c, col, b0 == 0);
                else if (g32 == 1) lbrx__mm_qtile_u(ngk, mins, xq, xd, xc, xds, wqo, wdo, wmo, c, col, b0 == 0);
                else lbrx__mm_qtile_u16(ngk, mins, xq, xd, xc, xds, wqo, wdo, wmo, c, col, b0 == 0);
                if (edge)
                    for (r = 0; r < mr; r++) memcpy(m->yr[p * LBRX__MQ_QR + r] + o, tile[r], (size_t)nr * 4);
            }
        }
    }
}
#endif /* LBRX__MM_QTILED */

LBRXDEF int lbrx_matmul_supports(lbrx_dtype t) { return lbrx__wfmt_of(t) != 0; }

/* "f32, f16, ..." : the table's dtypes, for error messages */
LBRX__PRIVATE const char *lbrx__wfmt_names(char *buf, size_t size) {
    size_t i, at = 0;
    buf[0] = 0;
    for (i = 0; i < LBRX__WFMT_COUNT && at < size; i++) {
        int r = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", lbrx_dtype_name(lbrx__wfmts[i].dt));
        if (r < 0) break;
        at += (size_t)r;
    }
    return buf;
}

/* Bytes rounded up to 64 (scratch sub-buffers stay 64-byte aligned); 0 on overflow. */
LBRX__PRIVATE int lbrx__mm_take(size_t *total, size_t count, size_t size, size_t *at) {
    size_t b;
    if (!lbrx_mul_size(count, size, &b) || !lbrx_add_size(b, 63, &b)) return 0;
    b &= ~(size_t)63;
    *at = *total;
    return lbrx_add_size(*total, b, total);
}

/* lbrx_matmul_rows in named steps: lbrx__mm_setup (check the arguments, describe the product in
   m), lbrx__mm_plan (threads, kernel path and the scratch layout), lbrx__mm_bind (point m into
   the scratch), lbrx__mm_quantize_rows (x to int8 blocks), then lbrx__mm_run_tiled (pack x,
   register tiles) or lbrx__mm_run_rows (matrix-vector kernels). lbrx__matmul_run drives them
   with a kernel set: lbrx__mm_fast in the library, lbrx__mm_reference (the scalar code, in its
   canonical order for every n) in the tests that compare the SIMD kernels with it. */
typedef void (*lbrx__mm_quantize_fn)(const float *x, int64_t k, int8_t *q, float *d, int32_t *s, float *ds);
typedef struct lbrx__mm_kernels {
    lbrx__mm_quantize_fn quantize;  /* one row of x to int8 blocks */
    lbrx__mm_kernel_fn rows;        /* the matrix-vector kernel; NULL: the format's (lbrx__wfmt.gemv) */
    int tiles;                      /* 1: the register-tiled kernels where they pay */
} lbrx__mm_kernels;
static const lbrx__mm_kernels lbrx__mm_fast = { lbrx__mm_quantize_x, 0, 1 };
LBRX__MM_REF const lbrx__mm_kernels lbrx__mm_reference = { lbrx__mm_quantize_x_scalar, lbrx__mm_rows_scalar, 0 };

/* Where the scratch's parts lie (byte offsets, 64-aligned) and how the product is run. */
typedef struct lbrx__mm_plan {
    size_t total, at_xr, at_yr, at_q, at_d, at_s, at_ds, at_s16, at_p, at_p2, at_w;
    size_t wsz;   /* weight buffer bytes per thread (tiled path) */
    size_t np;    /* x panels of pr rows (tiled path) */
    int nt;       /* threads */
    int quant, gemm;
#if defined(LBRX__MM_QTILED)
    lbrx__mq_x pxq;
#endif
} lbrx__mm_plan;

/* Checks the arguments and fills m's description of the product (m->n = 0: nothing to do). */
LBRX__PRIVATE lbrx_result lbrx__mm_setup(lbrx__mm *m, const lbrx_tensor *w, const float *wprep, const lbrx_tensor *x,
                                        const lbrx_tensor *y, int64_t out_begin, int64_t out_end, lbrx_error *err) {
    int64_t out, n, bs;
    int d;
    char names[256];
    const lbrx__wfmt *fmt = lbrx__wfmt_of(w->dtype);
    if (!fmt || x->dtype != LBRX_F32 || y->dtype != LBRX_F32)
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "lbrx_matmul: w is %s, x %s, y %s (w: %s; x, y: f32)",
                            lbrx_dtype_name(w->dtype), lbrx_dtype_name(x->dtype), lbrx_dtype_name(y->dtype),
                            lbrx__wfmt_names(names, sizeof names));
    if (w->ndim != 2 || x->ndim < 1 || y->ndim != x->ndim)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "lbrx_matmul: need w of rank 2 and x, y of equal rank >= 1 (w rank %d, x rank %d, y rank %d)",
                            w->ndim, x->ndim, y->ndim);
    out = w->shape[0];
    m->k = w->shape[1];
    bs = lbrx_dtype_block_size(w->dtype);
    if (m->k % bs != 0 || x->shape[x->ndim - 1] != m->k || y->shape[y->ndim - 1] != out)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "lbrx_matmul: w %s is [%lld, %lld] but x rows have %lld and y rows %lld elements",
                            lbrx_dtype_name(w->dtype), (long long)out, (long long)m->k, (long long)x->shape[x->ndim - 1], (long long)y->shape[y->ndim - 1]);
    for (d = 0; d + 1 < x->ndim; d++)
        if (x->shape[d] != y->shape[d])
            return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "lbrx_matmul: dimension %d of x (%lld) and y (%lld) differ",
                                d, (long long)x->shape[d], (long long)y->shape[d]);
    if ((m->k > 1 && x->stride[x->ndim - 1] != 4) || (out > 1 && y->stride[y->ndim - 1] != 4))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul: rows of x and y must be contiguous (last stride 4)");
    if (out > 1 && w->stride[0] <= 0)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul: weight row stride %lld", (long long)w->stride[0]);
    if (out_begin < 0 || out_end < out_begin || out_end > out)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul_rows: range [%lld, %lld) outside [0, %lld)",
                            (long long)out_begin, (long long)out_end, (long long)out);
    n = 1;  /* x's rows, also when its rows are empty (k = 0: y is zeros) */
    for (d = 0; d + 1 < x->ndim; d++) n *= x->shape[d];
    m->dt = w->dtype;
    m->fmt = fmt;
    m->xs16 = 0;
    m->n = out_begin == out_end ? 0 : n;
    m->nb = m->k / 32;
    m->w = (const unsigned char *)w->data;
    m->ws = w->stride[0];
    m->kq = (m->k + 63) & ~(int64_t)63;
    m->xp = 0;
    m->wprep = wprep;
    m->wbuf = 0;
    m->wbuf_bytes = 0;
    m->xq = 0; m->xd = 0; m->xs = 0; m->xds = 0;
    return LBRX_OK;
}

/* The threads, the kernel path (tiles: whether tiled kernels may be used; out: W's rows) and the
   scratch layout. */
LBRX__PRIVATE lbrx_result lbrx__mm_plan_for(lbrx_context *ctx, const lbrx__mm *m, int64_t out, int64_t out_begin, int64_t out_end, int tiles,
                                           lbrx__mm_plan *L, lbrx_error *err) {
    const int64_t n = m->n;
    const lbrx__wfmt *fmt = m->fmt;
    size_t pr = 1;
    int few;
    memset(L, 0, sizeof *L);
    {
        const double rows = (double)(out_end - out_begin), kk = (double)m->k;
        L->nt = lbrx__threads_for(ctx, rows * kk * (double)lbrx_dtype_block_bytes(m->dt) / (double)lbrx_dtype_block_size(m->dt) + (double)n * kk * 4.0,
                                  2.0 * (double)n * rows * kk);
    }
    if ((uint64_t)n > (uint64_t)(SIZE_MAX / 64) || (uint64_t)m->kq > (uint64_t)(SIZE_MAX / 64) ||
        !lbrx__mm_take(&L->total, (size_t)n, sizeof(float *), &L->at_xr) || !lbrx__mm_take(&L->total, (size_t)n, sizeof(float *), &L->at_yr))
        return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "lbrx_matmul: scratch size overflows");
    L->quant = lbrx_dtype_is_quantized(m->dt);
    if (L->quant &&
        (!lbrx__mm_take(&L->total, (size_t)n, (size_t)m->kq, &L->at_q) || !lbrx__mm_take(&L->total, (size_t)n * (size_t)m->nb, 4, &L->at_d) ||
         !lbrx__mm_take(&L->total, (size_t)n * (size_t)m->nb, 4, &L->at_s) || !lbrx__mm_take(&L->total, (size_t)n * (size_t)m->nb, 4, &L->at_ds) ||
         !lbrx__mm_take(&L->total, fmt->group == 16 ? (size_t)n * (size_t)m->nb : 0, 8, &L->at_s16)))
        return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "lbrx_matmul: scratch size overflows");
    /* few output rows: the matrix-vector kernels, which read x once per group of 4 weight rows,
       beat the tiles, which fill a whole register tile of columns (n = 64, k = 4096, 1 thread:
       out 1 f32 0.75 -> 0.04 ms, q4_0 0.25 -> 0.09; the two meet at out 32 / 64-128) */
    few = out < (L->quant ? LBRX__MM_GEMM_ROWS_Q : LBRX__MM_GEMM_ROWS_F);   /* W's rows, not the range's: same bits for every split */
#if defined(LBRX__MM_TILED)
    if (tiles && n >= LBRX_MATMUL_GEMM_MIN && !few && !L->quant) { L->gemm = 1; pr = LBRX__MF_MR; L->wsz = m->wprep ? 0 : (size_t)LBRX__MM_NC * LBRX__MM_KC * 4; }
#endif
#if defined(LBRX__MM_QTILED)
    if (tiles && n >= LBRX_MATMUL_GEMM_MIN && !few && L->quant) { L->gemm = 1; pr = LBRX__MQ_QR; L->wsz = (size_t)LBRX__MM_NC * LBRX__MQ_KCB * (32 + 16); }
#endif
    (void)few; (void)tiles;   /* builds without tiled kernels */
    if (L->gemm) {
        /* quantized x panels (np*pr*k bytes and 3 words per block and row; the float tiles read
           x where it lies) and one weight buffer per thread */
        L->np = ((size_t)n + pr - 1) / pr;
        if ((L->quant && (!lbrx__mm_take(&L->total, L->np * pr, (size_t)m->k, &L->at_p) ||
                          !lbrx__mm_take(&L->total, L->np * pr * (size_t)(m->k / fmt->group), 12, &L->at_p2))) ||
            !lbrx__mm_take(&L->total, (size_t)L->nt, L->wsz, &L->at_w))
            return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "lbrx_matmul: scratch size overflows");
    }
    return LBRX_OK;
}

/* Points m (and the plan's x panels) into the scratch scr laid out by L. */
LBRX__PRIVATE void lbrx__mm_bind(lbrx__mm *m, lbrx__mm_plan *L, unsigned char *scr, const lbrx_tensor *x, const lbrx_tensor *y) {
    int64_t i;
    m->xr = (const float **)(void *)(scr + L->at_xr);
    m->yr = (float **)(void *)(scr + L->at_yr);
    for (i = 0; i < m->n; i++) {
        m->xr[i] = (const float *)lbrx_tensor_row(x, i);
        m->yr[i] = (float *)lbrx_tensor_row(y, i);
    }
    if (L->quant) {
        m->xq = (int8_t *)(scr + L->at_q);
        m->xd = (float *)(void *)(scr + L->at_d);
        m->xs = (int32_t *)(void *)(scr + L->at_s);
        m->xds = (float *)(void *)(scr + L->at_ds);
        if (m->fmt->group == 16) m->xs16 = (int32_t *)(void *)(scr + L->at_s16);
    }
    if (L->gemm) {
#if defined(LBRX__MM_QTILED)
        if (L->quant) {
            size_t per = L->np * LBRX__MQ_QR * (size_t)(m->k / m->fmt->group);
            L->pxq.q = (int32_t *)(void *)(scr + L->at_p);
            L->pxq.d = (float *)(void *)(scr + L->at_p2);
            L->pxq.corr = (int32_t *)(void *)(scr + L->at_p2 + 4 * per);
            L->pxq.ds = (float *)(void *)(scr + L->at_p2 + 8 * per);
            m->xp = &L->pxq;
        }
#endif
        m->wbuf = scr + L->at_w;
        m->wbuf_bytes = L->wsz;
    }
}

/* x's rows to int8 blocks with `quantize` (threads: a share of nt by the work), and for
   formats with 16-value groups the sums of q per 16 values. */
LBRX__PRIVATE void lbrx__mm_quantize_rows(lbrx_context *ctx, lbrx__mm *m, int nt, lbrx__mm_quantize_fn quantize) {
    int64_t i;
    int ntq = nt > 1 ? lbrx__threads_for(ctx, 5.0 * (double)m->n * (double)m->k, 4.0 * (double)m->n * (double)m->k) : 1;
    lbrx__par_begin(ctx, ntq);
#ifdef _OPENMP
#pragma omp parallel num_threads(ntq) if (ntq > 1)
#endif
    {
        lbrx__par_mark(ctx, ntq, 0);
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
#endif
        for (i = 0; i < m->n; i++)
            quantize(m->xr[i], m->k, m->xq + i * m->kq, m->xd + i * m->nb, m->xs + i * m->nb, m->xds + i * m->nb);
        lbrx__par_mark(ctx, ntq, 1);
    }
    lbrx__par_end(ctx, ntq);
    if (m->xs16) {
        for (i = 0; i < m->n; i++) {
            const int8_t *q = m->xq + i * m->kq;
            int32_t *s16 = m->xs16 + i * 2 * m->nb;
            int64_t b;
            int t;
            for (b = 0; b < m->nb; b++) {
                int32_t lo = 0;
                for (t = 0; t < 16; t++) lo += q[32 * b + t];
                s16[2 * b] = lo;
                s16[2 * b + 1] = m->xs[i * m->nb + b] - lo;
            }
        }
    }
}

#if defined(LBRX__MM_TILED)
/* The tiled kernels over work items of NC output columns (with prepared panels aligned to NC so
   none shares a panel); quantized x is packed into panels first. */
LBRX__PRIVATE void lbrx__mm_run_tiled(lbrx_context *ctx, lbrx__mm *m, const lbrx__mm_plan *L, int64_t out_begin, int64_t out_end) {
    const int nt = L->nt;
    int64_t p, base = m->wprep ? out_begin - out_begin % LBRX__MM_NC : out_begin;
    int64_t ntask = (out_end - base + LBRX__MM_NC - 1) / LBRX__MM_NC;
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int tid = 0;
        int64_t c;
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
#if defined(LBRX__MM_QTILED)
        if (L->quant) {
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
            for (p = 0; p < (int64_t)L->np; p++) lbrx__mm_pack_x_q(m, &L->pxq, p);
        }
#endif
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1) nowait
#endif
        for (c = 0; c < ntask; c++) {
            int64_t o0 = base + c * LBRX__MM_NC, o1 = o0 + LBRX__MM_NC < out_end ? o0 + LBRX__MM_NC : out_end;
            if (o0 < out_begin) o0 = out_begin;
#if defined(LBRX__MM_QTILED)
            if (L->quant) { lbrx__mm_gemm_q(m, o0, o1, m->wbuf + (size_t)tid * m->wbuf_bytes); continue; }
#endif
            lbrx__mm_gemm_f(m, o0, o1, (float *)(void *)(m->wbuf + (size_t)tid * m->wbuf_bytes));
        }
        lbrx__par_mark(ctx, nt, 1);
        (void)tid;
    }
    lbrx__par_end(ctx, nt);
    (void)p;
}
#endif

/* The matrix-vector kernel `rows` over chunks of the range, one per thread at most. */
LBRX__PRIVATE void lbrx__mm_run_rows(lbrx_context *ctx, const lbrx__mm *m, int nt, int64_t out_begin, int64_t out_end,
                                    lbrx__mm_kernel_fn rows_fn) {
    int64_t rows = out_end - out_begin, per = (rows + nt - 1) / nt, nch, c;
    per = (per + LBRX__MM_CHUNK - 1) / LBRX__MM_CHUNK * LBRX__MM_CHUNK;
    nch = (rows + per - 1) / per;
    if (nch < nt) nt = (int)nch;
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(static, 1) nowait
#endif
        for (c = 0; c < nch; c++) {
            int64_t o0 = out_begin + c * per, o1 = o0 + per;
            rows_fn(m, o0, o1 < out_end ? o1 : out_end);
        }
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
}

/* lbrx_matmul_rows with w's prepared panels wprep (lbrx_matmul_weights) or NULL, run by the
   kernel set ks. */
LBRX__PRIVATE lbrx_result lbrx__matmul_run(lbrx_context *ctx, const lbrx_tensor *w, const float *wprep, const lbrx_tensor *x,
                                          lbrx_tensor *y, int64_t out_begin, int64_t out_end, const lbrx__mm_kernels *ks,
                                          lbrx_error *err) {
    lbrx__mm m;
    lbrx__mm_plan L;
    unsigned char *scr;
    lbrx_result r;
    int64_t i;
    if (!w || !x || !y || !w->data || !x->data || !y->data)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul: NULL argument");
    if (!ctx) {   /* one thread, scratch for this call only (see "API rules") */
        lbrx_context *tmp;
        lbrx_context_desc cd;
        memset(&cd, 0, sizeof cd);
        cd.n_threads = 1;
        cd.scratch_bytes = 64;
        r = lbrx_context_create(&tmp, &cd, err);
        if (r != LBRX_OK) return r;
        r = lbrx__matmul_run(tmp, w, wprep, x, y, out_begin, out_end, ks, err);
        lbrx_context_destroy(tmp);
        return r;
    }
    r = lbrx__mm_setup(&m, w, wprep, x, y, out_begin, out_end, err);
    if (r != LBRX_OK || m.n == 0) return r;
    r = lbrx__mm_plan_for(ctx, &m, w->shape[0], out_begin, out_end, ks->tiles, &L, err);
    if (r != LBRX_OK) return r;
    scr = (unsigned char *)lbrx_context_scratch(ctx, L.total);
    if (!scr) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "lbrx_matmul: out of memory for %zu bytes of scratch", L.total);
    lbrx__mm_bind(&m, &L, scr, x, y);
    if (m.k == 0) {
        for (i = 0; i < m.n; i++) memset(m.yr[i] + out_begin, 0, (size_t)(out_end - out_begin) * sizeof(float));
        return LBRX_OK;
    }
    if (L.quant) lbrx__mm_quantize_rows(ctx, &m, L.nt, ks->quantize);
#if defined(LBRX__MM_TILED)
    if (L.gemm) { lbrx__mm_run_tiled(ctx, &m, &L, out_begin, out_end); return LBRX_OK; }
#endif
    lbrx__mm_run_rows(ctx, &m, L.nt, out_begin, out_end, ks->rows ? ks->rows : m.fmt->gemv);
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_matmul_rows(lbrx_context *ctx, const lbrx_tensor *w, const lbrx_tensor *x,
                                     int64_t out_begin, int64_t out_end, lbrx_tensor *y,
                                     lbrx_error *err) {
    return lbrx__matmul_run(ctx, w, 0, x, y, out_begin, out_end, &lbrx__mm_fast, err);
}

LBRXDEF lbrx_result lbrx_matmul(lbrx_context *ctx, const lbrx_tensor *w, const lbrx_tensor *x,
                                lbrx_tensor *y, lbrx_error *err) {
    if (!w) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul: NULL argument");
    return lbrx_matmul_rows(ctx, w, x, 0, w->ndim == 2 ? w->shape[0] : 0, y, err);
}

struct lbrx_matmul_weights {
    lbrx_tensor w;              /* the view prepared from, holding its own storage reference */
    float *panels;              /* [out/NR rounded up][in][NR] f32, zero past out; NULL without tiled kernels */
    lbrx_allocator allocator;
};

LBRXDEF lbrx_result lbrx_matmul_weights_create(lbrx_matmul_weights **out, const lbrx_tensor *w,
                                               const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_matmul_weights *pw;
    size_t bytes = 0;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: out is NULL");
    *out = 0;
    if (!w || !w->data) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: NULL weight");
    if (w->dtype != LBRX_F32 && w->dtype != LBRX_F16 && w->dtype != LBRX_BF16)
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: w has dtype %s (f32, f16, bf16 can be prepared)",
                            lbrx_dtype_name(w->dtype));
    if (w->ndim != 2 || w->shape[0] < 0 || w->shape[1] < 0)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: w has rank %d, not 2", w->ndim);
    if (w->shape[0] > 1 && w->stride[0] <= 0)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: w's row stride %lld is not positive",
                            (long long)w->stride[0]);
#if defined(LBRX__MM_TILED)
    {
        uint64_t np = ((uint64_t)w->shape[0] + LBRX__MF_NR - 1) / LBRX__MF_NR, b;
        if (!lbrx_mul_u64(np * LBRX__MF_NR, (uint64_t)w->shape[1], &b) || !lbrx_mul_u64(b, 4, &b) || b > (uint64_t)SIZE_MAX)
            return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: panels of w overflow");
        bytes = (size_t)b;
    }
#endif
    pw = (lbrx_matmul_weights *)lbrx_alloc(allocator, sizeof *pw, 64);
    if (!pw) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: out of memory");
    memset(pw, 0, sizeof *pw);
    if (allocator) pw->allocator = *allocator;
    if (bytes > 0) {
        pw->panels = (float *)lbrx_alloc(allocator, bytes, 64);
        if (!pw->panels) {
            lbrx_free(allocator, pw);
            return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "lbrx_matmul_weights_create: out of memory for %zu bytes of panels", bytes);
        }
    }
    pw->w = *w;
    if (pw->w.storage) lbrx_storage_retain(pw->w.storage);
#if defined(LBRX__MM_TILED)
    if (bytes > 0) {
        lbrx__mm m;
        int64_t o;
        memset(&m, 0, sizeof m);
        m.dt = w->dtype;
        m.k = w->shape[1];
        m.w = (const unsigned char *)w->data;
        m.ws = w->stride[0];
        for (o = 0; o < w->shape[0]; o += LBRX__MF_NR)
            lbrx__mm_pack_w_f(&m, o, (int)(w->shape[0] - o < LBRX__MF_NR ? w->shape[0] - o : LBRX__MF_NR), 0, m.k, pw->panels + o * m.k);
    }
#endif
    *out = pw;
    return LBRX_OK;
}

LBRXDEF void lbrx_matmul_weights_destroy(lbrx_matmul_weights *pw) {
    lbrx_allocator a;
    if (!pw) return;
    a = pw->allocator;
    lbrx_tensor_release(&pw->w);
    lbrx_free(&a, pw->panels);
    lbrx_free(&a, pw);
}

LBRXDEF lbrx_result lbrx_matmul_prepared_rows(lbrx_context *ctx, const lbrx_matmul_weights *pw,
                                              const lbrx_tensor *x, int64_t out_begin, int64_t out_end,
                                              lbrx_tensor *y, lbrx_error *err) {
    if (!pw) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul_prepared: NULL weights");
    return lbrx__matmul_run(ctx, &pw->w, pw->panels, x, y, out_begin, out_end, &lbrx__mm_fast, err);
}

LBRXDEF lbrx_result lbrx_matmul_prepared(lbrx_context *ctx, const lbrx_matmul_weights *pw,
                                         const lbrx_tensor *x, lbrx_tensor *y, lbrx_error *err) {
    if (!pw) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_matmul_prepared: NULL weights");
    return lbrx_matmul_prepared_rows(ctx, pw, x, 0, pw->w.shape[0], y, err);
}

/* ==== end matmul (implementation) ==== */

/* ==== ops and attention (implementation) ==== */

/* QK of attention: vectors of rows per register tile (x LBRX__ATT_RN keys) */
#if defined(LBRX__AVX2) && !defined(LBRX__AVX512)
#define LBRX__ATT_CW 2
#define LBRX__ATT_DA 8    /* decode QK: sums in registers (rows x keys of a run; at least 8) */
#else
#define LBRX__ATT_CW 4
#define LBRX__ATT_DA 16
#endif
/* LBRX__VL floats of a K or V row in f16 or f32 */
#define LBRX__ATT_LD(p, f16) ((f16) ? lbrx__vld_h(p) : lbrx__vld((const float *)(const void *)(p)))

/* ---- shared checks and helpers of the ops ---- */


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
    params = (float *)lbrx__scratch(ctx, (size_t)n * 8, &owned);
    if (!params) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory for scratch", op);
    r = lbrx__ops_param(weight, n, params, &w, op, "weight", err);
    if (r == LBRX_OK) r = lbrx__ops_param(bias, n, params + n, &b, op, "bias", err);
    if (r != LBRX_OK) { lbrx__scratch_done(owned); return r; }
    nt = lbrx__threads_for(ctx, 8.0 * (double)(rows * n), 5.0 * (double)(rows * n));
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
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
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
    lbrx__scratch_done(owned);
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
    if (d.freq_factors)
        for (t = 0; t < d.n_dims / 2; t++)
            if (!(d.freq_factors[t] > 0.0f) || d.freq_factors[t] > 3.0e38f)
                return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: freq_factors[%lld] is not a finite number > 0", op, (long long)t);
    base = d.freq_base == 0.0f ? 10000.0 : (double)d.freq_base;
    fscale = d.freq_scale == 0.0f ? 1.0 : (double)d.freq_scale;
    if (n_tok == 0 || n_head == 0 || hd == 0) return LBRX_OK;
    nt = lbrx__threads_for(ctx, 8.0 * (double)(n_tok * n_head * hd), 6.0 * (double)(n_tok * n_head * hd) + 50.0 * (double)(n_tok * d.n_dims));
    table = (float *)lbrx__scratch(ctx, (size_t)nt * (size_t)(d.n_dims + 1) * 4, &owned);
    if (!table) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory for scratch", op);
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
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
                if (d.freq_factors) theta /= (double)d.freq_factors[i];
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
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
    lbrx__scratch_done(owned);
    return LBRX_OK;
}

/* ---- elementwise activations and softmax ---- */

typedef enum lbrx__unary_kind { LBRX__SILU, LBRX__GELU, LBRX__GELU_ERF, LBRX__SOFTMAX } lbrx__unary_kind;

/* y = x / (1 + exp(-c x)), times g[j] when g is not NULL: SiLU (c = 1), SwiGLU (SiLU times up),
   and the tanh GELU, which is x * sigmoid(2u) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3). */
LBRX__PRIVATE void lbrx__sigmoid_row(const float *x, const float *g, float *y, int64_t n, int gelu) {
    const lbrx__vec one = lbrx__vdup(1.0f), k0 = lbrx__vdup(-2.0f * 0.7978845608028654f), k1 = lbrx__vdup(0.044715f);
    int64_t j = 0;
    for (; j + LBRX__VL <= n; j += LBRX__VL) {
        lbrx__vec v = lbrx__vld(x + j), t;
        t = gelu ? lbrx__vmul(k0, lbrx__vfma(lbrx__vmul(k1, v), lbrx__vmul(v, v), v)) : lbrx__vsub(lbrx__vzero(), v);
        t = lbrx__vdiv(v, lbrx__vadd(one, lbrx__vexp(t)));
        lbrx__vst(y + j, g ? lbrx__vmul(t, lbrx__vld(g + j)) : t);
    }
    for (; j < n; j++) {
        float v = x[j], t = gelu ? -2.0f * 0.7978845608028654f * (0.044715f * v * v * v + v) : -v;
        t = v / (1.0f + expf(t > LBRX__EXP_HI ? LBRX__EXP_HI : t));
        y[j] = g ? t * g[j] : t;
    }
}

/* Softmax of a row: the maximum subtracted, exp, sums in SIMD lanes, one scale. */
LBRX__PRIVATE void lbrx__softmax_row(const float *x, float *y, int64_t n) {
    lbrx__vec vm = lbrx__vdup(-INFINITY), vs = lbrx__vzero();
    float mx, sum, inv;
    int64_t j = 0;
    for (; j + LBRX__VL <= n; j += LBRX__VL) vm = lbrx__vmax(vm, lbrx__vld(x + j));
    mx = lbrx__vhmax(vm);
    for (; j < n; j++) if (x[j] > mx) mx = x[j];
    if (mx == -INFINITY) { for (j = 0; j < n; j++) y[j] = 0.0f; return; }
    vm = lbrx__vdup(mx);
    for (j = 0; j + LBRX__VL <= n; j += LBRX__VL) {
        lbrx__vec e = lbrx__vexp(lbrx__vsub(lbrx__vld(x + j), vm));
        lbrx__vst(y + j, e);
        vs = lbrx__vadd(vs, e);
    }
    sum = lbrx__vhsum(vs);
    for (; j < n; j++) { y[j] = expf(x[j] - mx); sum += y[j]; }
    inv = 1.0f / sum;
    vm = lbrx__vdup(inv);
    for (j = 0; j + LBRX__VL <= n; j += LBRX__VL) lbrx__vst(y + j, lbrx__vmul(lbrx__vld(y + j), vm));
    for (; j < n; j++) y[j] *= inv;
}

LBRX__PRIVATE void lbrx__unary_row(lbrx__unary_kind kind, const float *x, float *y, int64_t n) {
    int64_t j;
    switch (kind) {
    case LBRX__SILU: lbrx__sigmoid_row(x, 0, y, n, 0); break;
    case LBRX__GELU: lbrx__sigmoid_row(x, 0, y, n, 1); break;
    case LBRX__GELU_ERF:
        for (j = 0; j < n; j++) y[j] = 0.5f * x[j] * (1.0f + erff(x[j] * 0.7071067811865476f));
        break;
    case LBRX__SOFTMAX: lbrx__softmax_row(x, y, n); break;
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
    nt = lbrx__threads_for(ctx, 8.0 * (double)(rows * n), 30.0 * (double)(rows * n));
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
#endif
        for (i = 0; i < rows; i++)
            lbrx__unary_row(kind, (const float *)lbrx_tensor_row(x, i), (float *)lbrx_tensor_row(out, i), n);
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
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
    nt = lbrx__threads_for(ctx, 12.0 * (double)(rows * n), (kind == LBRX__SWIGLU ? 30.0 : 1.0) * (double)(rows * n));
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
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
            case LBRX__SWIGLU: lbrx__sigmoid_row(xa, xb, y, n, 0); break;   /* same shapes: steps are 1 */
            }
        }
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
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
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: weight is not [vocab, dim]", op);
    vocab = weight->shape[0];
    dim = weight->shape[1];
    if (out->ndim != 2 || out->shape[0] != n_ids || out->shape[1] != dim)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: out is not [%lld, %lld]", op, (long long)n_ids, (long long)dim);
    if (lbrx_dtype_block_size(weight->dtype) < 1 || dim % lbrx_dtype_block_size(weight->dtype))
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__NO_OFFSET, "%s: weight dtype %s with rows of %lld", op,
                            lbrx_dtype_name(weight->dtype), (long long)dim);
    for (t = 0; t < n_ids; t++)
        if (ids[t] < 0 || ids[t] >= vocab)
            return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: ids[%lld] = %ld is outside the vocabulary of %lld",
                                op, (long long)t, (long)ids[t], (long long)vocab);
    /* one row first: a dtype without a dequantizer fails here, before anything is threaded */
    if (n_ids > 0 && (r = lbrx_dequantize_row(weight->dtype, (const unsigned char *)weight->data + ids[0] * weight->stride[0],
                                              (float *)lbrx_tensor_row(out, 0), dim)) != LBRX_OK)
        return lbrx__errorf(err, r, LBRX__NO_OFFSET, "%s: rows of %s cannot be dequantized", op, lbrx_dtype_name(weight->dtype));
    nt = lbrx__threads_for(ctx, 8.0 * (double)(n_ids * dim), 2.0 * (double)(n_ids * dim));
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
#endif
        for (t = 1; t < n_ids; t++)
            lbrx_dequantize_row(weight->dtype, (const unsigned char *)weight->data + ids[t] * weight->stride[0],
                                (float *)lbrx_tensor_row(out, t), dim);
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
    return LBRX_OK;
}

/* ---- attention ---- */

/* A validated attention problem. */
typedef struct lbrx__attn {
    int64_t n_q, n_kv, n_head, n_kv_head, d, group, window;
    int causal, f16;
    float scale, softcap;
    const unsigned char *q, *k, *v, *mask;
    unsigned char *out;
    int64_t q_s0, q_s1, k_s0, k_s1, v_s0, v_s1, o_s0, o_s1;  /* byte strides of dims 0 and 1 */
    int64_t m_sh, m_s0;         /* mask: byte strides of heads (0: one mask for all) and rows */
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

/* ---- attention kernels ----
   The work of one KV head is a list of rows (query i, head of the group), row = i * group + hh.
   A tile of up to LBRX__ATT_MT rows is one work item: its queries are packed (scaled) once, then
   K and V are streamed in blocks of LBRX__ATT_BK keys (f16 blocks converted into an f32 tile):
   S = K_blk . Q^T (keys x rows), online softmax down the columns (running max m, sum l), and
   O = O * alpha + P^T V_blk, all register-blocked. Items are independent and computed the same
   way whatever thread runs them, so results do not depend on the thread count. Decoding (a few
   rows per KV head) has its own path, further below. */

#define LBRX__ATT_RN 6    /* QK: keys per register tile */
#define LBRX__ATT_RR 6    /* PV: rows per register tile (x LBRX__ATT_CW vectors of head_dim) */
#define LBRX__ATT_MT 128  /* rows per tile (a multiple of every LBRX__VL) */
#define LBRX__ATT_BK 64   /* keys per K/V block */
#define LBRX__ATT_DEC 16  /* decoding's path takes up to this many rows per KV head */

/* S[n][c] = sum_e K[n][e] QT[e][c] for rn keys and cw vectors of columns. */
LBRX__INLINE void lbrx__att_qk_tile(const float *kb, int64_t ks, int64_t dp, const float *qt, int64_t mp, float *s,
                                   const int rn, const int cw) {
    lbrx__vec acc[LBRX__ATT_RN][LBRX__ATT_CW];
    int64_t e;
    int r, w;
    LBRX__UNROLL for (r = 0; r < rn; r++) { LBRX__UNROLL for (w = 0; w < cw; w++) acc[r][w] = lbrx__vzero(); }
    for (e = 0; e < dp; e++) {
        lbrx__vec b[LBRX__ATT_CW];
        LBRX__UNROLL for (w = 0; w < cw; w++) b[w] = lbrx__vld(qt + e * mp + w * LBRX__VL);
        LBRX__UNROLL for (r = 0; r < rn; r++) {
            lbrx__vec a = lbrx__vdup(kb[r * ks + e]);
            LBRX__UNROLL for (w = 0; w < cw; w++) acc[r][w] = lbrx__vfma(a, b[w], acc[r][w]);
        }
    }
    LBRX__UNROLL for (r = 0; r < rn; r++) { LBRX__UNROLL for (w = 0; w < cw; w++) lbrx__vst(s + r * mp + w * LBRX__VL, acc[r][w]); }
}

/* O[r][:] = O[r][:] * alpha[r] + sum_n P[n][r] V[n][:] for rr rows and dw vectors of head_dim;
   P[n][r] is p[n * pn + r * pr]. V rows are `vs` bytes apart, f16 or f32. */
LBRX__INLINE void lbrx__att_pv_tile(const float *p, int64_t pn, int64_t pr, const unsigned char *vb, int64_t vs, const int f16,
                                   int64_t nb, float *o, int64_t dp, const float *alpha, const int rr, const int dw) {
    lbrx__vec acc[LBRX__ATT_RR][LBRX__ATT_CW];
    const int esz = f16 ? 2 : 4;
    int64_t n;
    int r, w;
    LBRX__UNROLL for (r = 0; r < rr; r++) {
        lbrx__vec a = lbrx__vdup(alpha[r]);
        LBRX__UNROLL for (w = 0; w < dw; w++) acc[r][w] = lbrx__vmul(lbrx__vld(o + r * dp + w * LBRX__VL), a);
    }
    for (n = 0; n < nb; n++) {
        lbrx__vec v[LBRX__ATT_CW];
        LBRX__UNROLL for (w = 0; w < dw; w++) v[w] = LBRX__ATT_LD(vb + n * vs + w * LBRX__VL * esz, f16);
        LBRX__UNROLL for (r = 0; r < rr; r++) {
            lbrx__vec a = lbrx__vdup(p[n * pn + r * pr]);
            LBRX__UNROLL for (w = 0; w < dw; w++) acc[r][w] = lbrx__vfma(a, v[w], acc[r][w]);
        }
    }
    LBRX__UNROLL for (r = 0; r < rr; r++) { LBRX__UNROLL for (w = 0; w < dw; w++) lbrx__vst(o + r * dp + w * LBRX__VL, acc[r][w]); }
}

/* What decoding prefetches along with its scores: the rows (span bytes each) of `heads` heads
   (khead / vhead bytes apart) of the keys from k (K of the keys scored next; kstep bytes apart)
   and from v (V of the keys being scored; vstep apart), taken in memory order; (key, head) is
   the next row to prefetch, relative to k and v. */
typedef struct lbrx__att_pf {
    const unsigned char *k, *v;
    int64_t kstep, vstep, khead, vhead, heads, span, key, head;
} lbrx__att_pf;

/* Decoding's scores of head g for a run of kn keys: K rows (f16 or f32) `ks` bytes apart at kb,
   rm rows of Q (dp floats each) at q; S[c][n] = K[n] . Q[c] goes to s[c * LBRX__ATT_BK + n].
   The rm * kn sums are independent chains and each Q vector loaded serves kn keys. Prefetches
   the next kn rows of pf and moves its cursor past them. */
LBRX__INLINE void lbrx__att_qk_dot(const unsigned char *kb, int64_t ks, const int f16, int64_t dp, const float *q, float *s,
                                  const int rm, const int kn, lbrx__att_pf *pf) {
    const int esz = f16 ? 2 : 4;
    lbrx__vec acc[LBRX__ATT_DA], kv[LBRX__ATT_DA];
    const unsigned char *pk[LBRX__ATT_DA], *pv[LBRX__ATT_DA];
    float dot[LBRX__ATT_DA];
    int64_t e;
    int c, n;
    /* what to prefetch: the next kn rows of pf, a line of each along with the loads of that
       line's offset */
    LBRX__UNROLL for (n = 0; n < kn; n++) {
        pk[n] = pf->k + pf->key * pf->kstep + pf->head * pf->khead;
        pv[n] = pf->v + pf->key * pf->vstep + pf->head * pf->vhead;
        if (++pf->head == pf->heads) { pf->head = 0; pf->key++; }
    }
    LBRX__UNROLL for (c = 0; c < rm * kn; c++) acc[c] = lbrx__vzero();
    for (e = 0; e < dp; e += LBRX__VL) {
        if ((e * esz) % 64 == 0 && e * esz < pf->span) {
            LBRX__UNROLL for (n = 0; n < kn; n++) {
                LBRX__PREFETCH(pk[n] + e * esz);
                LBRX__PREFETCH(pv[n] + e * esz);
            }
        }
        LBRX__UNROLL for (n = 0; n < kn; n++) kv[n] = LBRX__ATT_LD(kb + n * ks + e * esz, f16);
        LBRX__UNROLL for (c = 0; c < rm; c++) {
            const lbrx__vec qv = lbrx__vld(q + c * dp + e);
            LBRX__UNROLL for (n = 0; n < kn; n++) acc[c * kn + n] = lbrx__vfma(qv, kv[n], acc[c * kn + n]);
        }
    }
    LBRX__UNROLL for (c = 0; c + 4 <= rm * kn; c += 4) lbrx__vhsum4(acc[c], acc[c + 1], acc[c + 2], acc[c + 3], dot + c);
    LBRX__UNROLL for (c = rm * kn / 4 * 4; c < rm * kn; c++) dot[c] = lbrx__vhsum(acc[c]);
    LBRX__UNROLL for (c = 0; c < rm; c++) { LBRX__UNROLL for (n = 0; n < kn; n++) s[c * LBRX__ATT_BK + n] = dot[c * kn + n]; }
}

/* Dispatch to tiles with compile-time sizes (R rows, W vectors). */
#if LBRX__ATT_CW == 4
#define LBRX__ATT_WCASES(M, R) M(R, 1) M(R, 2) M(R, 3) M(R, 4)
#else
#define LBRX__ATT_WCASES(M, R) M(R, 1) M(R, 2)
#endif
#define LBRX__ATT_CASES(M) LBRX__ATT_WCASES(M, 1) LBRX__ATT_WCASES(M, 2) LBRX__ATT_WCASES(M, 3) \
    LBRX__ATT_WCASES(M, 4) LBRX__ATT_WCASES(M, 5) LBRX__ATT_WCASES(M, 6)

LBRX__NOINLINE LBRX__PRIVATE void lbrx__att_qk(const float *kb, int64_t ks, int64_t nb, int64_t dp, const float *qt, int64_t mp, float *s) {
    int64_t n0, c0;
    for (c0 = 0; c0 < mp; c0 += LBRX__ATT_CW * LBRX__VL) {
        int cw = (int)((mp - c0) / LBRX__VL);
        if (cw > LBRX__ATT_CW) cw = LBRX__ATT_CW;
        for (n0 = 0; n0 < nb; n0 += LBRX__ATT_RN) {
            int rn = nb - n0 < LBRX__ATT_RN ? (int)(nb - n0) : LBRX__ATT_RN;
            const float *k = kb + n0 * ks, *q = qt + c0;
            float *sp = s + n0 * mp + c0;
            switch (rn * 8 + cw) {
#define LBRX__ATT_QK_CASE(R, W) case (R) * 8 + (W): lbrx__att_qk_tile(k, ks, dp, q, mp, sp, R, W); break;
            LBRX__ATT_CASES(LBRX__ATT_QK_CASE)
#undef LBRX__ATT_QK_CASE
            default: break;
            }
        }
    }
}

LBRX__NOINLINE LBRX__PRIVATE void lbrx__att_pv(const float *p, int64_t pn, int64_t pr, int64_t m, const unsigned char *vb, int64_t vs, int f16,
                               int64_t nb, float *o, int64_t dp, const float *alpha) {
    int64_t r0, e0;
    for (r0 = 0; r0 < m; r0 += LBRX__ATT_RR) {
        int rr = m - r0 < LBRX__ATT_RR ? (int)(m - r0) : LBRX__ATT_RR;
        for (e0 = 0; e0 < dp; e0 += LBRX__ATT_CW * LBRX__VL) {
            int dw = (int)((dp - e0) / LBRX__VL);
            const float *pp = p + r0 * pr, *al = alpha + r0;
            const unsigned char *v = vb + e0 * (f16 ? 2 : 4);
            float *op = o + r0 * dp + e0;
            if (dw > LBRX__ATT_CW) dw = LBRX__ATT_CW;
            switch (rr * 8 + dw) {
#define LBRX__ATT_PV_CASE(R, W) case (R) * 8 + (W): \
                if (f16) lbrx__att_pv_tile(pp, pn, pr, v, vs, 1, nb, op, dp, al, R, W); \
                else lbrx__att_pv_tile(pp, pn, pr, v, vs, 0, nb, op, dp, al, R, W); \
                break;
            LBRX__ATT_CASES(LBRX__ATT_PV_CASE)
#undef LBRX__ATT_PV_CASE
            default: break;
            }
        }
    }
}

/* Decoding's scores of the kn keys from key n0 (K rows ks0 bytes apart, heads ks1 apart, from
   kb) for rm of the mh rows of every one of G heads (head g's Q at qt + g * mh * dp, its S at
   s + g * mh * LBRX__ATT_BK): all heads of the run, so K is read in memory order. pf is for key
   0 of kb: the run prefetches V of its own keys and K of the next run's (see lbrx__att_pf). */
LBRX__INLINE void lbrx__att_dec_qk_keys(const unsigned char *kb, int64_t ks0, int64_t ks1, const int f16, int64_t n0, int64_t G,
                                       int64_t dp, const float *qt, float *s, int64_t mh, const int rm, const int kn,
                                       const lbrx__att_pf *pf) {
    lbrx__att_pf p = *pf;
    int64_t g;
    p.k = pf->k + (n0 + kn) * pf->kstep;
    p.v = pf->v + n0 * pf->vstep;
    p.key = p.head = 0;
    for (g = 0; g < G; g++)
        lbrx__att_qk_dot(kb + n0 * ks0 + g * ks1, ks0, f16, dp, qt + g * mh * dp, s + g * mh * LBRX__ATT_BK + n0, rm, kn, &p);
}

/* The same for nk keys: runs of kn keys, then the keys left one at a time; with rm, kn and the
   dtype as compile-time sizes. */
LBRX__INLINE void lbrx__att_dec_qk_run(const unsigned char *kb, int64_t ks0, int64_t ks1, const int f16, int64_t nk, int64_t G, int64_t dp,
                                      const float *qt, float *s, int64_t mh, const int rm, const int kn, const lbrx__att_pf *pf) {
    int64_t n0;
    for (n0 = 0; n0 + kn <= nk; n0 += kn) lbrx__att_dec_qk_keys(kb, ks0, ks1, f16, n0, G, dp, qt, s, mh, rm, kn, pf);
    for (; n0 < nk; n0++) lbrx__att_dec_qk_keys(kb, ks0, ks1, f16, n0, G, dp, qt, s, mh, rm, 1, pf);
}

/* lbrx__att_dec_qk_run for rows r0 .. r0 + rm (rm 1..8) of the m rows of each head, with runs of
   as many keys as LBRX__ATT_DA sums allow. */
LBRX__NOINLINE LBRX__PRIVATE void lbrx__att_dec_qk_rows(const unsigned char *kb, int64_t ks0, int64_t ks1, int f16, int64_t nk, int64_t G, int64_t dp,
                                        const float *qt, float *s, int64_t m, int64_t r0, int64_t rm, const lbrx__att_pf *pf) {
    qt += r0 * dp;
    s += r0 * LBRX__ATT_BK;
    switch (rm * 2 + (f16 != 0)) {
#define LBRX__ATT_DOT_CASE(R) \
    case (R) * 2: lbrx__att_dec_qk_run(kb, ks0, ks1, 0, nk, G, dp, qt, s, m, R, LBRX__ATT_DA / (R), pf); break; \
    case (R) * 2 + 1: lbrx__att_dec_qk_run(kb, ks0, ks1, 1, nk, G, dp, qt, s, m, R, LBRX__ATT_DA / (R), pf); break;
    LBRX__ATT_DOT_CASE(1) LBRX__ATT_DOT_CASE(2) LBRX__ATT_DOT_CASE(3) LBRX__ATT_DOT_CASE(4)
    LBRX__ATT_DOT_CASE(5) LBRX__ATT_DOT_CASE(6) LBRX__ATT_DOT_CASE(7) LBRX__ATT_DOT_CASE(8)
#undef LBRX__ATT_DOT_CASE
    default: break;
    }
}

/* Decoding's scores (see lbrx__att_dec_qk_run) for all m rows (up to LBRX__ATT_DEC) of each head:
   in passes of at most 8 rows; a second pass reads the keys again from cache. */
LBRX__PRIVATE void lbrx__att_dec_qk(const unsigned char *kb, int64_t ks0, int64_t ks1, int f16, int64_t nk, int64_t G, int64_t dp,
                                   const float *qt, float *s, int64_t m, const lbrx__att_pf *pf) {
    int64_t r0;
    for (r0 = 0; r0 < m; r0 += 8) lbrx__att_dec_qk_rows(kb, ks0, ks1, f16, nk, G, dp, qt, s, m, r0, m - r0 < 8 ? m - r0 : 8, pf);
}

/* The keys [*j_lo, *j_hi) that rows r0.. (m of them) may see: causal and window bounds. */
LBRX__PRIVATE void lbrx__att_keys(const lbrx__attn *a, int64_t r0, int64_t m, int64_t *j_lo, int64_t *j_hi) {
    const int64_t pos0 = a->n_kv - a->n_q, p_min = pos0 + r0 / a->group, p_max = pos0 + (r0 + m - 1) / a->group;
    *j_lo = 0;
    *j_hi = a->n_kv;
    if (a->causal && p_max + 1 < *j_hi) *j_hi = p_max + 1;
    if (a->window && p_min - a->window + 1 > *j_lo) *j_lo = p_min - a->window + 1;
}

/* Whether K and V rows can be read in place as vectors of dp floats (f16 converted on the fly):
   no head_dim padding, 4-byte aligned rows. */
LBRX__PRIVATE int lbrx__att_in_place(const lbrx__attn *a, int64_t dp) {
    return dp == a->d && (a->k_s0 | a->k_s1 | a->v_s0 | a->v_s1) % 4 == 0 && ((uintptr_t)a->k | (uintptr_t)a->v) % 4 == 0;
}

/* Row `row` of KV head g is query row / group of query head lbrx__att_head; its query and its
   output row; head_dim rounded up to whole vectors. */
LBRX__INLINE int64_t lbrx__att_head(const lbrx__attn *a, int64_t g, int64_t row) { return g * a->group + row % a->group; }
LBRX__INLINE const float *lbrx__att_q(const lbrx__attn *a, int64_t g, int64_t row) {
    return (const float *)(a->q + row / a->group * a->q_s0 + lbrx__att_head(a, g, row) * a->q_s1);
}
LBRX__INLINE float *lbrx__att_out(const lbrx__attn *a, int64_t g, int64_t row) {
    return (float *)(a->out + row / a->group * a->o_s0 + lbrx__att_head(a, g, row) * a->o_s1);
}
LBRX__INLINE int64_t lbrx__att_dp(const lbrx__attn *a) { return (a->d + LBRX__VL - 1) / LBRX__VL * LBRX__VL; }

/* The m rows of KV head g's queries, scaled, as Q[c][e] with rows of dp floats (padding zero). */
LBRX__PRIVATE void lbrx__att_pack_rows(const lbrx__attn *a, int64_t g, int64_t m, int64_t dp, float *qt) {
    int64_t c, e;
    memset(qt, 0, (size_t)(m * dp) * sizeof(float));
    for (c = 0; c < m; c++) {
        const float *qr = lbrx__att_q(a, g, c);
        for (e = 0; e < a->d; e++) qt[c * dp + e] = qr[e] * a->scale;
    }
}

/* One K or V row (head_dim values, f16 or f32) as floats; the padding of dst is left alone. */
LBRX__INLINE void lbrx__att_row_f32(const lbrx__attn *a, const unsigned char *src, float *dst) {
    if (a->f16) lbrx_f16_to_f32_row(src, dst, (size_t)a->d);
    else memcpy(dst, src, (size_t)a->d * 4);
}

/* Scores of keys j0.. (nb of them) for rows r0.. (m of them) of KV head g, S[n][c] at
   s[n * sn + c * sc]: soft-capping, the additive mask, then causal / window visibility (-inf). */
LBRX__PRIVATE void lbrx__att_visible(const lbrx__attn *a, int64_t g, int64_t r0, int64_t m, int64_t j0, int64_t nb,
                                    float *s, int64_t sn, int64_t sc) {
    const int64_t pos0 = a->n_kv - a->n_q, p_min = pos0 + r0 / a->group, p_max = pos0 + (r0 + m - 1) / a->group;
    int64_t c, n;
    if (a->softcap > 0.0f)
        for (c = 0; c < m; c++)
            for (n = 0; n < nb; n++) s[n * sn + c * sc] = a->softcap * tanhf(s[n * sn + c * sc] / a->softcap);
    if (a->mask)
        for (c = 0; c < m; c++) {
            const int64_t row = r0 + c;
            const float *mr = (const float *)(a->mask + lbrx__att_head(a, g, row) * a->m_sh + row / a->group * a->m_s0) + j0;
            for (n = 0; n < nb; n++) s[n * sn + c * sc] += mr[n];
        }
    if ((a->causal && j0 + nb - 1 > p_min) || (a->window && j0 <= p_max - a->window))
        for (c = 0; c < m; c++) {
            int64_t p = pos0 + (r0 + c) / a->group;
            for (n = 0; n < nb; n++) {
                int64_t j = j0 + n;
                if ((a->causal && j > p) || (a->window && j <= p - a->window)) s[n * sn + c * sc] = -INFINITY;
            }
        }
}

/* One step of the online softmax over a block of nb keys, scores S[n][c] (mp columns, vectors of
   rows): running max mx and sum l per column, alpha = exp(old max - new max); S becomes P. */
LBRX__PRIVATE void lbrx__att_softmax_cols(float *s, int64_t mp, int64_t nb, float *mx, float *l, float *alpha) {
    int64_t c, n;
    for (c = 0; c < mp; c += LBRX__VL) {
        lbrx__vec mo = lbrx__vld(mx + c), mn = mo, sum = lbrx__vzero();
        for (n = 0; n < nb; n++) mn = lbrx__vmax(mn, lbrx__vld(s + n * mp + c));
        lbrx__vst(alpha + c, lbrx__vexp(lbrx__vsub(mo, mn)));
        lbrx__vst(mx + c, mn);
        for (n = 0; n < nb; n++) {
            lbrx__vec pv = lbrx__vexp(lbrx__vsub(lbrx__vld(s + n * mp + c), mn));
            lbrx__vst(s + n * mp + c, pv);
            sum = lbrx__vadd(sum, pv);
        }
        lbrx__vst(l + c, lbrx__vfma(lbrx__vld(l + c), lbrx__vld(alpha + c), sum));
    }
}

/* The same along rows, for decoding's scores S[c][n] (m rows of LBRX__ATT_BK floats, vectors of
   keys; the keys from nb up to a whole vector are set to -inf). */
LBRX__PRIVATE void lbrx__att_softmax_rows(float *s, int64_t m, int64_t nb, float *mx, float *l, float *alpha) {
    const int64_t nv = (nb + LBRX__VL - 1) / LBRX__VL * LBRX__VL;
    int64_t c, n;
    for (c = 0; c < m; c++) {
        float *sr = s + c * LBRX__ATT_BK, mn;
        lbrx__vec vm = lbrx__vdup(mx[c]), sum = lbrx__vzero(), vmn;
        for (n = nb; n < nv; n++) sr[n] = -INFINITY;
        for (n = 0; n < nv; n += LBRX__VL) vm = lbrx__vmax(vm, lbrx__vld(sr + n));
        mn = lbrx__vhmax(vm);
        vmn = lbrx__vdup(mn);
        for (n = 0; n < nv; n += LBRX__VL) {
            lbrx__vec pv = lbrx__vexp(lbrx__vsub(lbrx__vld(sr + n), vmn));
            lbrx__vst(sr + n, pv);
            sum = lbrx__vadd(sum, pv);
        }
        alpha[c] = expf(mx[c] - mn);
        mx[c] = mn;
        l[c] = l[c] * alpha[c] + lbrx__vhsum(sum);
    }
}

/* Floats of one thread's workspace: Q tile, K and V blocks, scores, O, m, l, alpha. */
LBRX__PRIVATE size_t lbrx__att_ws_floats(int64_t dp) {
    return (size_t)(dp * LBRX__ATT_MT + 2 * LBRX__ATT_BK * dp + LBRX__ATT_BK * LBRX__ATT_MT + LBRX__ATT_MT * dp + 3 * LBRX__ATT_MT);
}

/* One tile: rows [r0, r0 + m) of KV head g. */
LBRX__PRIVATE void lbrx__att_tile(const lbrx__attn *a, int64_t g, int64_t r0, int64_t m, float *ws) {
    const int64_t dp = lbrx__att_dp(a), mp = (m + LBRX__VL - 1) / LBRX__VL * LBRX__VL;
    float *qt = ws, *kb = qt + dp * LBRX__ATT_MT, *vb = kb + LBRX__ATT_BK * dp, *s = vb + LBRX__ATT_BK * dp;
    float *o = s + LBRX__ATT_BK * LBRX__ATT_MT, *mx = o + LBRX__ATT_MT * dp, *l = mx + LBRX__ATT_MT, *alpha = l + LBRX__ATT_MT;
    /* f32 K and V are read in place when no padding is needed; f16 blocks are converted once */
    const int direct = !a->f16 && lbrx__att_in_place(a, dp);
    int64_t j_lo, j_hi, j0, c, n, e;
    lbrx__att_keys(a, r0, m, &j_lo, &j_hi);
    /* pack the queries, scaled: QT[e][c]; padding is zero */
    memset(qt, 0, (size_t)(dp * mp) * sizeof(float));
    for (c = 0; c < m; c++)
        for (e = 0; e < a->d; e++) qt[e * mp + c] = lbrx__att_q(a, g, r0 + c)[e] * a->scale;
    for (c = 0; c < mp; c++) { mx[c] = -3.0e38f; l[c] = 0.0f; }
    memset(o, 0, (size_t)(m * dp) * sizeof(float));
    memset(s, 0, (size_t)(LBRX__ATT_BK * mp) * sizeof(float));
    if (!direct) {   /* head_dim padding of the blocks stays zero */
        memset(kb, 0, (size_t)(LBRX__ATT_BK * dp) * sizeof(float));
        memset(vb, 0, (size_t)(LBRX__ATT_BK * dp) * sizeof(float));
    }
    for (j0 = j_lo; j0 < j_hi; j0 += LBRX__ATT_BK) {
        const int64_t nb = j_hi - j0 < LBRX__ATT_BK ? j_hi - j0 : LBRX__ATT_BK;
        const unsigned char *kp = a->k + j0 * a->k_s0 + g * a->k_s1, *vp = a->v + j0 * a->v_s0 + g * a->v_s1;
        const unsigned char *kf = kp, *vf = vp;
        int64_t ks = a->k_s0, vs = a->v_s0;
        if (!direct) {
            for (n = 0; n < nb; n++) {
                lbrx__att_row_f32(a, kp + n * a->k_s0, kb + n * dp);
                lbrx__att_row_f32(a, vp + n * a->v_s0, vb + n * dp);
            }
            kf = (const unsigned char *)kb; ks = dp * 4;
            vf = (const unsigned char *)vb; vs = dp * 4;
        }
        lbrx__att_qk((const float *)(const void *)kf, ks / 4, nb, dp, qt, mp, s);
        lbrx__att_visible(a, g, r0, m, j0, nb, s, mp, 1);
        lbrx__att_softmax_cols(s, mp, nb, mx, l, alpha);
        lbrx__att_pv(s, mp, 1, m, vf, vs, 0, nb, o, dp, alpha);
    }
    for (c = 0; c < m; c++) {
        float *out = lbrx__att_out(a, g, r0 + c), inv = l[c] > 0.0f ? 1.0f / l[c] : 0.0f;
        for (e = 0; e < a->d; e++) out[e] = o[c * dp + e] * inv;
    }
}

/* ---- decode: flash-decoding over chunks of keys ----
   When every KV head has few rows (rows = n_q * group <= LBRX__ATT_DEC: decoding), a work item
   is a chunk of LBRX__ATT_CH keys of all KV heads, and it reads K and V in memory order: a
   work item per KV head would read a few hundred bytes of every key's row, a stride the
   hardware prefetchers do not follow. In a chunk, each block of LBRX__ATT_BK keys is done as:
   the scores a run of a few keys at a time, all heads of the run at once (each Q vector loaded
   serves the run's keys; K a few keys ahead and the run's V prefetched in memory order
   alongside, a line at a time); then per head the online softmax along the keys
   and O = O * alpha + P V. Each chunk leaves, per (head, row), its running max, sum and
   unnormalised output (a "partial"); the partials are combined in chunk order, and the chunk
   size is fixed, so the result does not depend on the thread count. The threads take runs of
   consecutive chunks, and 16 threads have work from 4096 keys on. */

#define LBRX__ATT_CH 256  /* keys per chunk */
#define LBRX__ATT_PS (2 * LBRX__ATT_DEC)   /* floats of a partial's max and sum */

/* Floats of one thread's decode workspace: scores, alpha, K and V blocks; and of one head's
   part of a chunk's partial (O[m][dp], then mx[m], l[m] in LBRX__ATT_PS floats). */
LBRX__PRIVATE size_t lbrx__att_dec_ws_floats(int64_t n_kv_head, int64_t m, int64_t dp) {
    return (size_t)(n_kv_head * m * LBRX__ATT_BK + LBRX__ATT_DEC + (n_kv_head + LBRX__ATT_BK) * dp);
}
LBRX__INLINE int64_t lbrx__att_dec_hs(int64_t m, int64_t dp) { return m * dp + LBRX__ATT_PS; }

/* Keys [j_begin, j_end) of all KV heads, m rows each, into a partial (per head O, mx, l: see
   lbrx__att_dec_hs); qt holds every head's packed queries (lbrx__att_pack_rows). */
LBRX__PRIVATE void lbrx__att_dec_chunk(const lbrx__attn *a, int64_t m, int64_t j_begin, int64_t j_end, const float *qt, float *ws,
                                      float *part) {
    const int64_t dp = lbrx__att_dp(a), hs = lbrx__att_dec_hs(m, dp), G = a->n_kv_head;
    float *s = ws, *alpha = s + G * m * LBRX__ATT_BK, *kb = alpha + LBRX__ATT_DEC, *vb = kb + G * dp;
    const int direct = lbrx__att_in_place(a, dp), f16 = direct && a->f16;
    int64_t g, j0, n, c;
    lbrx__att_pf pf;
    pf.kstep = a->k_s0;
    pf.vstep = a->v_s0;
    pf.khead = a->k_s1;
    pf.vhead = a->v_s1;
    pf.heads = G;
    pf.span = a->d * (a->f16 ? 2 : 4);
    pf.key = pf.head = 0;
    for (g = 0; g < G; g++) {
        float *o = part + g * hs;
        memset(o, 0, (size_t)(m * dp) * sizeof(float));
        for (c = 0; c < m; c++) { o[m * dp + c] = -3.0e38f; o[m * dp + m + c] = 0.0f; }
    }
    if (!direct) memset(kb, 0, (size_t)((G + LBRX__ATT_BK) * dp) * sizeof(float));   /* head_dim padding stays zero */
    for (j0 = j_begin; j0 < j_end; j0 += LBRX__ATT_BK) {
        const int64_t nb = j_end - j0 < LBRX__ATT_BK ? j_end - j0 : LBRX__ATT_BK;
        const unsigned char *kp = a->k + j0 * a->k_s0;
        pf.k = kp;
        pf.v = a->v + j0 * a->v_s0;
        if (direct) {
            lbrx__att_dec_qk(kp, a->k_s0, a->k_s1, f16, nb, G, dp, qt, s, m, &pf);
        } else {
            /* one key at a time through the f32 rows kb */
            lbrx__att_pf p = pf;
            for (n = 0; n < nb; n++) {
                for (g = 0; g < G; g++) lbrx__att_row_f32(a, kp + n * a->k_s0 + g * a->k_s1, kb + g * dp);
                p.k = pf.k + n * a->k_s0;
                p.v = pf.v + n * a->v_s0;
                lbrx__att_dec_qk((const unsigned char *)kb, 0, dp * 4, 0, 1, G, dp, qt, s + n, m, &p);
            }
        }
        for (g = 0; g < G; g++) {
            const unsigned char *vp = a->v + j0 * a->v_s0 + g * a->v_s1;
            float *o = part + g * hs, *mx = o + m * dp, *sg = s + g * m * LBRX__ATT_BK;
            int64_t vs = a->v_s0;
            if (!direct) {
                for (n = 0; n < nb; n++) lbrx__att_row_f32(a, vp + n * a->v_s0, vb + n * dp);
                vp = (const unsigned char *)vb; vs = dp * 4;
            }
            lbrx__att_visible(a, g, 0, m, j0, nb, sg, 1, LBRX__ATT_BK);
            lbrx__att_softmax_rows(sg, m, nb, mx, mx + m, alpha);
            lbrx__att_pv(sg, 1, LBRX__ATT_BK, m, vp, vs, f16, nb, o, dp, alpha);
        }
    }
}

/* Output row c of KV head g from the partials of n_chunks chunks, in chunk order. */
LBRX__PRIVATE void lbrx__att_dec_combine(const lbrx__attn *a, int64_t m, int64_t g, int64_t c, const float *parts,
                                        int64_t n_chunks) {
    const int64_t dp = lbrx__att_dp(a), hs = lbrx__att_dec_hs(m, dp), cs = a->n_kv_head * hs;
    float *out = lbrx__att_out(a, g, c);
    float mmax = -3.0e38f, sum = 0.0f, inv;
    int64_t t, e;
    for (t = 0; t < n_chunks; t++) {
        float mt = parts[t * cs + g * hs + m * dp + c];
        if (mt > mmax) mmax = mt;
    }
    for (e = 0; e < a->d; e++) out[e] = 0.0f;
    for (t = 0; t < n_chunks; t++) {
        const float *o = parts + t * cs + g * hs;
        const float w = expf(o[m * dp + c] - mmax);
        sum += o[m * dp + m + c] * w;
        for (e = 0; e < a->d; e++) out[e] += o[c * dp + e] * w;
    }
    inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (e = 0; e < a->d; e++) out[e] *= inv;
}

/* Decoding (rows = n_q * group <= LBRX__ATT_DEC): every head's queries packed once, the chunks in parallel,
   then the combination per output row. */
LBRX__PRIVATE lbrx_result lbrx__att_decode(lbrx_context *ctx, const lbrx__attn *a, lbrx_error *err) {
    const int64_t m = a->n_q * a->group, dp = lbrx__att_dp(a);
    const size_t ws_floats = lbrx__att_dec_ws_floats(a->n_kv_head, m, dp), part_floats = (size_t)(a->n_kv_head * lbrx__att_dec_hs(m, dp));
    const size_t q_floats = (size_t)(a->n_kv_head * m * dp);
    int64_t j_lo, j_hi, n_chunks, t, i;
    float *scratch, *qt, *parts;
    void *owned;
    int nt;
    lbrx__att_keys(a, 0, m, &j_lo, &j_hi);
    n_chunks = j_hi > j_lo ? (j_hi - j_lo + LBRX__ATT_CH - 1) / LBRX__ATT_CH : 0;
    nt = lbrx__threads_for(ctx, 2.0 * (double)((j_hi - j_lo) * a->n_kv_head * a->d * (a->f16 ? 2 : 4)), 4.0 * (double)(a->n_head * a->n_q * (j_hi - j_lo) * a->d));
    if (nt > n_chunks) nt = n_chunks > 0 ? (int)n_chunks : 1;
    scratch = (float *)lbrx__scratch(ctx, (q_floats + (size_t)nt * ws_floats + (size_t)n_chunks * part_floats) * sizeof(float), &owned);
    if (!scratch) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "lbrx_attention: out of memory for scratch");
    qt = scratch + (size_t)nt * ws_floats;
    parts = qt + q_floats;
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        int tid = 0;
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
        tid = omp_get_thread_num();
#pragma omp for schedule(static)
#endif
        for (i = 0; i < a->n_kv_head; i++) lbrx__att_pack_rows(a, i, m, dp, qt + i * m * dp);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (t = 0; t < n_chunks; t++) {
            int64_t jb = j_lo + t * LBRX__ATT_CH, je = jb + LBRX__ATT_CH < j_hi ? jb + LBRX__ATT_CH : j_hi;
            lbrx__att_dec_chunk(a, m, jb, je, qt, scratch + (size_t)tid * ws_floats, parts + (size_t)t * part_floats);
        }
#ifdef _OPENMP
#pragma omp for schedule(static) nowait
#endif
        for (i = 0; i < a->n_kv_head * m; i++) lbrx__att_dec_combine(a, m, i / m, i % m, parts, n_chunks);
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
    lbrx__scratch_done(owned);
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_attention(lbrx_context *ctx, const lbrx_tensor *q, const lbrx_tensor *k,
                                   const lbrx_tensor *v, const lbrx_attention_desc *desc, lbrx_tensor *out,
                                   lbrx_error *err) {
    static const char *op = "lbrx_attention";
    lbrx__attn a;
    lbrx_attention_desc dd;
    lbrx_result r;
    int64_t item, n_items, rows, n_tiles;
    size_t ws_floats;
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
    if (a.d <= 0 || a.d > 512)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: head_dim %lld is not in 1..512", op, (long long)a.d);
    if (a.n_kv_head <= 0 || a.n_head % a.n_kv_head)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__NO_OFFSET, "%s: n_head %lld is not a multiple of n_kv_head %lld", op,
                            (long long)a.n_head, (long long)a.n_kv_head);
    if (dd.window < 0 || dd.scale != dd.scale || !(dd.softcap >= 0.0f && dd.softcap < 3.0e38f))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "%s: negative window, NaN scale or softcap not a finite number >= 0", op);
    a.group = a.n_head / a.n_kv_head;
    a.causal = dd.causal != 0;
    a.window = dd.window;
    a.softcap = dd.softcap;
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
    rows = a.n_q * a.group;
    if (rows <= LBRX__ATT_DEC) return lbrx__att_decode(ctx, &a, err);
    n_tiles = (rows + LBRX__ATT_MT - 1) / LBRX__ATT_MT;
    n_items = a.n_kv_head * n_tiles;
    nt = lbrx__threads_for(ctx, 2.0 * (double)(a.n_kv * a.n_kv_head * a.d * (a.f16 ? 2 : 4)), 4.0 * (double)(a.n_q * a.n_head * (a.n_kv + 1) * a.d));
    if (nt > n_items) nt = (int)n_items;
    ws_floats = lbrx__att_ws_floats(lbrx__att_dp(&a));
    scratch = (float *)lbrx__scratch(ctx, (size_t)nt * ws_floats * sizeof(float), &owned);
    if (!scratch) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "%s: out of memory for scratch", op);
    lbrx__par_begin(ctx, nt);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        lbrx__par_mark(ctx, nt, 0);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1) nowait
#endif
        for (item = 0; item < n_items; item++) {
            int64_t g = item / n_tiles, r0 = (item % n_tiles) * LBRX__ATT_MT;
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            lbrx__att_tile(&a, g, r0, rows - r0 < LBRX__ATT_MT ? rows - r0 : LBRX__ATT_MT, scratch + (size_t)tid * ws_floats);
        }
        lbrx__par_mark(ctx, nt, 1);
    }
    lbrx__par_end(ctx, nt);
    lbrx__scratch_done(owned);
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
    r = lbrx_tensor_init_heap(&c->k, dtype, 3, shape, allocator, err);
    if (r == LBRX_OK) r = lbrx_tensor_init_heap(&c->v, dtype, 3, shape, allocator, err);
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
    r = lbrx_tensor_slice_rows(&c->k, 0, c->n, k, err);
    if (r != LBRX_OK) return r;
    r = lbrx_tensor_slice_rows(&c->v, 0, c->n, v, err);
    if (r != LBRX_OK) lbrx_tensor_release(k);
    return r;
}

/* ==== end ops and attention (implementation) ==== */

/* ==== device interface (implementation) ==== */

typedef struct lbrx__pool_entry { void *buffer; size_t capacity; } lbrx__pool_entry;

struct lbrx_device_pool {
    const lbrx_device *device;
    size_t max_cached_bytes;
    lbrx__pool_entry *cached;    /* released buffers, most recent last */
    size_t n_cached, cap_cached;
    lbrx_device_pool_stats stats;
};

/* Report a failed backend call: the backend's own message if it wrote one, else the code's. */
LBRX__PRIVATE lbrx_result lbrx__device_error(lbrx_error *err, lbrx_result r, const lbrx_error *e, const char *what,
                                            size_t bytes) {
    return lbrx__errorf(err, r, LBRX__NO_OFFSET, "device %s of %zu bytes failed: %s", what, bytes,
                        e->message[0] ? e->message : lbrx_result_str(r));
}

/* Fill the metadata of a device tensor from a host tensor's dtype and shape (no buffer yet). */
LBRX__PRIVATE lbrx_result lbrx__device_describe(const lbrx_tensor *t, lbrx_device_tensor *out, lbrx_error *err) {
    lbrx_device_tensor d;
    lbrx_result r;
    int i;
    memset(&d, 0, sizeof d);
    r = lbrx__shape_layout(t->dtype, t->ndim, t->shape, 0, &d.nbytes, err);
    if (r != LBRX_OK) return r;
    d.dtype = t->dtype;
    d.ndim = t->ndim;
    for (i = 0; i < t->ndim; i++) d.shape[i] = t->shape[i];
    d.block_size = lbrx_dtype_block_size(t->dtype);
    d.block_bytes = lbrx_dtype_block_bytes(t->dtype);
    d.nrows = lbrx_tensor_nrows(t);
    if (t->ndim == 0) d.row_bytes = d.block_bytes;
    else lbrx_row_bytes(t->dtype, t->shape[t->ndim - 1], &d.row_bytes);  /* checked by the layout */
    *out = d;
    return LBRX_OK;
}

/* Copy bytes [pos, pos+n) of the contiguous byte order of tensor t from (gather) or into
   (scatter) buf. Rows of block dtypes are contiguous blocks; rows of plain dtypes may have an
   element stride, and then pos and n are multiples of the element size (staging chunks are
   multiples of 8 bytes and plain elements have 1, 2, 4 or 8). */
LBRX__PRIVATE void lbrx__device_stream(const lbrx_tensor *t, size_t row_bytes, uint64_t pos, unsigned char *buf,
                                       size_t n, int scatter) {
    size_t elem = lbrx_dtype_block_bytes(t->dtype), in = (size_t)(pos % row_bytes);
    int64_t r = (int64_t)(pos / row_bytes), estride = 0;
    int gather = 0;
    if (t->ndim > 0 && lbrx_dtype_block_size(t->dtype) == 1 && t->shape[t->ndim - 1] > 1 &&
        t->stride[t->ndim - 1] != (int64_t)elem) {
        gather = 1;
        estride = t->stride[t->ndim - 1];
    }
    while (n > 0) {
        unsigned char *row = (unsigned char *)lbrx_tensor_row(t, r);
        size_t take = row_bytes - in < n ? row_bytes - in : n;
        if (!gather) {
            if (scatter) memcpy(row + in, buf, take);
            else memcpy(buf, row + in, take);
        } else {
            size_t k, k0 = in / elem, k1 = (in + take) / elem;
            for (k = k0; k < k1; k++) {
                unsigned char *e = row + (int64_t)k * estride;
                if (scatter) memcpy(e, buf + (k - k0) * elem, elem);
                else memcpy(buf + (k - k0) * elem, e, elem);
            }
        }
        buf += take;
        n -= take;
        in = 0;
        r++;
    }
}

/* Host staging for a non-contiguous copy: a multiple of 8 bytes, at most `nbytes`. */
LBRX__PRIVATE size_t lbrx__device_chunk(const lbrx_device *dev, size_t nbytes) {
    size_t chunk = dev->staging_bytes ? dev->staging_bytes : ((size_t)4 << 20);
    chunk &= ~(size_t)7;
    if (chunk < 64) chunk = 64;
    return chunk < nbytes ? chunk : nbytes;
}

LBRX__PRIVATE lbrx_result lbrx__device_check(const lbrx_device *dev, const char *fn, lbrx_error *err) {
    if (!dev || !dev->alloc || !dev->free || !dev->upload || !dev->download)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET,
                            "%s: the device is NULL or lacks alloc, free, upload or download", fn);
    return LBRX_OK;
}

/* A device tensor shaped like `t` (dtype and shape) with a new, unfilled buffer. */
LBRX__PRIVATE lbrx_result lbrx__device_new(const lbrx_device *dev, lbrx_device_pool *pool, const lbrx_tensor *t,
                                          lbrx_device_tensor *out, lbrx_error *err) {
    lbrx_device_tensor d;
    lbrx_error e;
    lbrx_result r;
    if (pool && pool->device != dev)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "the pool belongs to another device");
    r = lbrx__device_describe(t, &d, err);
    if (r != LBRX_OK) return r;
    d.device = dev;
    if (d.nbytes > 0 && pool) {
        r = lbrx_device_pool_alloc(pool, d.nbytes, &d.buffer, &d.capacity, err);
        if (r != LBRX_OK) return r;
        d.kind = LBRX_DEVICE_POOLED;
        d.pool = pool;
    } else if (d.nbytes > 0) {
        e.message[0] = 0;
        r = dev->alloc(dev->user, d.nbytes, &d.buffer, &e);
        if (r != LBRX_OK) return lbrx__device_error(err, r, &e, "alloc", d.nbytes);
        d.kind = LBRX_DEVICE_OWNED;
        d.capacity = d.nbytes;
    }
    *out = d;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_device_tensor_init(lbrx_device_tensor *out, const lbrx_device *dev, lbrx_device_pool *pool,
                                            lbrx_dtype dtype, int ndim, const int64_t *shape, lbrx_error *err) {
    lbrx_tensor desc;
    lbrx_result r;
    if (out) memset(out, 0, sizeof *out);
    r = lbrx__device_check(dev, "lbrx_device_tensor_init", err);
    if (r != LBRX_OK) return r;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_tensor_init: out is NULL");
    r = lbrx__tensor_describe(&desc, dtype, ndim, shape, 0, err);
    if (r != LBRX_OK) return r;
    return lbrx__device_new(dev, pool, &desc, out, err);
}

LBRXDEF lbrx_result lbrx_device_upload(const lbrx_device *dev, lbrx_device_pool *pool, const lbrx_tensor *t,
                                       lbrx_device_tensor *out, lbrx_error *err) {
    lbrx_device_tensor d;
    lbrx_error e;
    lbrx_result r;
    if (out) memset(out, 0, sizeof *out);
    r = lbrx__device_check(dev, "lbrx_device_upload", err);
    if (r != LBRX_OK) return r;
    if (!t || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_upload: NULL tensor");
    r = lbrx__device_new(dev, pool, t, &d, err);
    if (r != LBRX_OK) return r;
    if (d.nbytes == 0) { *out = d; return LBRX_OK; }
    e.message[0] = 0;
    if (lbrx_tensor_is_contiguous(t)) {
        r = dev->upload(dev->user, d.buffer, 0, t->data, d.nbytes, &e);
        if (r != LBRX_OK) lbrx__device_error(err, r, &e, "upload", d.nbytes);
    } else {
        size_t chunk = lbrx__device_chunk(dev, d.nbytes), pos;
        unsigned char *staging = (unsigned char *)lbrx_alloc(&dev->allocator, chunk, 64);
        if (!staging) {
            r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for %zu bytes of staging", chunk);
        } else {
            for (pos = 0; pos < d.nbytes && r == LBRX_OK; pos += chunk) {
                size_t n = d.nbytes - pos < chunk ? d.nbytes - pos : chunk;
                lbrx__device_stream(t, d.row_bytes, pos, staging, n, 0);
                r = dev->upload(dev->user, d.buffer, pos, staging, n, &e);
                if (r != LBRX_OK) lbrx__device_error(err, r, &e, "upload", n);
            }
            lbrx_free(&dev->allocator, staging);
        }
    }
    if (r != LBRX_OK) {
        lbrx_device_tensor_release(&d);
        return r;
    }
    *out = d;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_device_download(const lbrx_device_tensor *dt, lbrx_tensor *dst, lbrx_error *err) {
    const lbrx_device *dev;
    lbrx_error e;
    lbrx_result r = LBRX_OK;
    int i;
    if (!dt || !dst) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_download: NULL argument");
    dev = dt->device;
    if (dt->dtype != dst->dtype)
        return lbrx__errorf(err, LBRX_ERR_TYPE_MISMATCH, LBRX__NO_OFFSET, "download of a %s device tensor into a %s tensor",
                            lbrx_dtype_name(dt->dtype), lbrx_dtype_name(dst->dtype));
    if (dt->ndim != dst->ndim)
        return lbrx__errorf(err, LBRX_ERR_SIZE_MISMATCH, LBRX__NO_OFFSET, "download of a rank-%d device tensor into a rank-%d tensor",
                            dt->ndim, dst->ndim);
    for (i = 0; i < dt->ndim; i++)
        if (dt->shape[i] != dst->shape[i])
            return lbrx__errorf(err, LBRX_ERR_SIZE_MISMATCH, LBRX__NO_OFFSET, "download: dimension %d is %lld on the device, %lld on the host",
                                i, (long long)dt->shape[i], (long long)dst->shape[i]);
    if (dt->nbytes == 0) return LBRX_OK;
    r = lbrx__device_check(dev, "lbrx_device_download", err);
    if (r != LBRX_OK) return r;
    if (dst->storage && !lbrx_storage_writable(dst->storage))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_download: dst's storage is read-only");
    e.message[0] = 0;
    if (lbrx_tensor_is_contiguous(dst)) {
        r = dev->download(dev->user, dt->buffer, dt->offset, dst->data, dt->nbytes, &e);
        return r == LBRX_OK ? r : lbrx__device_error(err, r, &e, "download", dt->nbytes);
    }
    {
        size_t chunk = lbrx__device_chunk(dev, dt->nbytes), pos;
        unsigned char *staging = (unsigned char *)lbrx_alloc(&dev->allocator, chunk, 64);
        if (!staging) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for %zu bytes of staging", chunk);
        for (pos = 0; pos < dt->nbytes && r == LBRX_OK; pos += chunk) {
            size_t n = dt->nbytes - pos < chunk ? dt->nbytes - pos : chunk;
            r = dev->download(dev->user, dt->buffer, dt->offset + pos, staging, n, &e);
            if (r == LBRX_OK) lbrx__device_stream(dst, dt->row_bytes, pos, staging, n, 1);
            else lbrx__device_error(err, r, &e, "download", n);
        }
        lbrx_free(&dev->allocator, staging);
    }
    return r;
}

LBRXDEF lbrx_result lbrx_device_to_host(const lbrx_device_tensor *dt, lbrx_tensor *out, lbrx_error *err) {
    lbrx_result r;
    if (!dt || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_to_host: NULL argument");
    memset(out, 0, sizeof *out);
    if (dt->nbytes > 0 && !dt->device)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_to_host: the device tensor has no device");
    r = lbrx_tensor_init_heap(out, dt->dtype, dt->ndim, dt->shape, dt->device ? &dt->device->allocator : 0, err);
    if (r != LBRX_OK) return r;
    r = lbrx_device_download(dt, out, err);
    if (r != LBRX_OK) lbrx_tensor_release(out);
    return r;
}

LBRXDEF lbrx_result lbrx_device_wrap(const lbrx_device *dev, const lbrx_tensor *t, lbrx_device_tensor *out,
                                     lbrx_error *err) {
    lbrx_device_tensor d;
    lbrx_error e;
    void *base;
    size_t size, offset;
    lbrx_result r;
    if (out) memset(out, 0, sizeof *out);
    r = lbrx__device_check(dev, "lbrx_device_wrap", err);
    if (r != LBRX_OK) return r;
    if (!t || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_wrap: NULL tensor");
    if (!dev->wrap_host)
        return lbrx__errorf(err, LBRX_ERR_UNSUPPORTED, LBRX__NO_OFFSET, "lbrx_device_wrap: the device cannot wrap host memory (no wrap_host): upload the tensor instead");
    if (!lbrx_tensor_is_contiguous(t))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_wrap: t is not contiguous: upload it instead of wrapping");
    r = lbrx__device_describe(t, &d, err);
    if (r != LBRX_OK) return r;
    d.device = dev;
    if (d.nbytes == 0) { *out = d; return LBRX_OK; }
    r = lbrx_tensor_host_region(t, &base, &size, &offset, err);
    if (r != LBRX_OK) return r;
    e.message[0] = 0;
    r = dev->wrap_host(dev->user, base, size, t->storage ? lbrx_storage_writable(t->storage) : 1, &d.buffer, &e);
    if (r != LBRX_OK) return lbrx__device_error(err, r, &e, "wrap of host memory", size);
    d.kind = LBRX_DEVICE_WRAPPED;
    d.offset = offset;
    d.capacity = size;
    d.host = t->data;
    d.storage = t->storage;
    lbrx_storage_retain(t->storage);
    *out = d;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_device_view(const lbrx_device_tensor *base, const lbrx_tensor *t, lbrx_device_tensor *out,
                                     lbrx_error *err) {
    lbrx_device_tensor d;
    uintptr_t b, p;
    lbrx_result r;
    if (out) memset(out, 0, sizeof *out);
    if (!base || !t || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_view: NULL argument");
    if ((base->kind != LBRX_DEVICE_WRAPPED && base->kind != LBRX_DEVICE_VIEW) || !base->host)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_view: the base is not wrapped host memory");
    if (!lbrx_tensor_is_contiguous(t))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_view: t is not contiguous: upload it instead");
    r = lbrx__device_describe(t, &d, err);
    if (r != LBRX_OK) return r;
    b = (uintptr_t)base->host;
    p = (uintptr_t)t->data;
    if (p < b || p - b > base->nbytes || d.nbytes > base->nbytes - (size_t)(p - b))
        return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, LBRX__NO_OFFSET, "lbrx_device_view: t (%zu bytes) does not lie inside the %zu wrapped bytes",
                            d.nbytes, base->nbytes);
    d.kind = LBRX_DEVICE_VIEW;
    d.device = base->device;
    d.buffer = base->buffer;
    d.offset = base->offset + (size_t)(p - b);
    d.capacity = base->capacity;
    d.host = t->data;
    *out = d;
    return LBRX_OK;
}

LBRXDEF void lbrx_device_tensor_release(lbrx_device_tensor *dt) {
    if (!dt) return;
    switch (dt->kind) {
    case LBRX_DEVICE_OWNED: dt->device->free(dt->device->user, dt->buffer); break;
    case LBRX_DEVICE_POOLED: lbrx_device_pool_free(dt->pool, dt->buffer, dt->capacity); break;
    case LBRX_DEVICE_WRAPPED:
        if (dt->device->unwrap_host) dt->device->unwrap_host(dt->device->user, dt->buffer);
        lbrx_storage_release(dt->storage);
        break;
    case LBRX_DEVICE_NONE: case LBRX_DEVICE_VIEW: break;
    }
    memset(dt, 0, sizeof *dt);
}

/* ---- buffer pool ---- */

LBRXDEF size_t lbrx_device_pool_size_class(size_t size) {
    size_t p = 256, q, c;
    if (size <= 256) return 256;
    if (size > (SIZE_MAX >> 2)) return size;  /* too big to round up safely: exact */
    while (p <= size / 2) p <<= 1;             /* largest power of two <= size */
    q = p / 4;
    c = p + (size - p + q - 1) / q * q;
    return c;
}

LBRXDEF lbrx_result lbrx_device_pool_create(lbrx_device_pool **out, const lbrx_device *dev, size_t max_cached_bytes,
                                            lbrx_error *err) {
    lbrx_device_pool *p;
    lbrx_result r;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_pool_create: out is NULL");
    *out = 0;
    r = lbrx__device_check(dev, "lbrx_device_pool_create", err);
    if (r != LBRX_OK) return r;
    p = (lbrx_device_pool *)lbrx_alloc(&dev->allocator, sizeof *p, 16);
    if (!p) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory");
    memset(p, 0, sizeof *p);
    p->device = dev;
    p->max_cached_bytes = max_cached_bytes;
    *out = p;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_device_pool_alloc(lbrx_device_pool *pool, size_t size, void **buffer, size_t *capacity,
                                           lbrx_error *err) {
    size_t cls, i;
    const lbrx_device *dev;
    lbrx_error e;
    lbrx_result r;
    if (!pool || !buffer || !capacity) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_device_pool_alloc: NULL argument");
    dev = pool->device;
    cls = lbrx_device_pool_size_class(size);
    for (i = pool->n_cached; i-- > 0;) {
        if (pool->cached[i].capacity == cls) {
            *buffer = pool->cached[i].buffer;
            pool->cached[i] = pool->cached[--pool->n_cached];
            pool->stats.cached_buffers--;
            pool->stats.cached_bytes -= cls;
            pool->stats.hits++;
            goto handed_out;
        }
    }
    e.message[0] = 0;
    r = dev->alloc(dev->user, cls, buffer, &e);
    if (r != LBRX_OK && pool->n_cached > 0) {
        lbrx_device_pool_trim(pool);
        r = dev->alloc(dev->user, cls, buffer, &e);
    }
    if (r != LBRX_OK) return lbrx__device_error(err, r, &e, "pool alloc", cls);
    pool->stats.misses++;
handed_out:
    pool->stats.live_buffers++;
    pool->stats.live_bytes += cls;
    *capacity = cls;
    return LBRX_OK;
}

LBRXDEF void lbrx_device_pool_free(lbrx_device_pool *pool, void *buffer, size_t capacity) {
    const lbrx_device *dev;
    if (!pool) return;
    dev = pool->device;
    pool->stats.live_buffers--;
    pool->stats.live_bytes -= capacity;
    if (pool->max_cached_bytes && (capacity > pool->max_cached_bytes ||
                                   pool->stats.cached_bytes > pool->max_cached_bytes - capacity)) {
        dev->free(dev->user, buffer);
        return;
    }
    if (pool->n_cached == pool->cap_cached) {
        size_t n = pool->cap_cached ? pool->cap_cached * 2 : 16, bytes;
        lbrx__pool_entry *e = 0;
        if (lbrx_mul_size(n, sizeof *e, &bytes)) e = (lbrx__pool_entry *)lbrx_alloc(&dev->allocator, bytes, 16);
        if (!e) { dev->free(dev->user, buffer); return; }  /* no room to remember it: free it */
        if (pool->n_cached) memcpy(e, pool->cached, pool->n_cached * sizeof *e);
        lbrx_free(&dev->allocator, pool->cached);
        pool->cached = e;
        pool->cap_cached = n;
    }
    pool->cached[pool->n_cached].buffer = buffer;
    pool->cached[pool->n_cached].capacity = capacity;
    pool->n_cached++;
    pool->stats.cached_buffers++;
    pool->stats.cached_bytes += capacity;
}

LBRXDEF void lbrx_device_pool_trim(lbrx_device_pool *pool) {
    size_t i;
    if (!pool) return;
    for (i = 0; i < pool->n_cached; i++) pool->device->free(pool->device->user, pool->cached[i].buffer);
    pool->n_cached = 0;
    pool->stats.cached_buffers = 0;
    pool->stats.cached_bytes = 0;
}

LBRXDEF void lbrx_device_pool_stats_of(const lbrx_device_pool *pool, lbrx_device_pool_stats *out) {
    if (!out) return;
    if (pool) *out = pool->stats;
    else memset(out, 0, sizeof *out);
}

LBRXDEF void lbrx_device_pool_destroy(lbrx_device_pool *pool) {
    const lbrx_device *dev;
    if (!pool) return;
    dev = pool->device;
    lbrx_device_pool_trim(pool);
    lbrx_free(&dev->allocator, pool->cached);
    lbrx_free(&dev->allocator, pool);
}

/* ---- host-memory device ---- */

/* A host-backend buffer: its bytes (after this header for allocated buffers, the caller's for
   wrapped ones) and what the checks need. */
typedef struct lbrx__host_buffer { unsigned char *data; size_t size; int writable; int wrapped; } lbrx__host_buffer;
#define LBRX__HOST_HEADER 64  /* keeps the data 64-byte aligned */

/* Fill a new buffer's header and count it as live. */
LBRX__PRIVATE void lbrx__host_track(lbrx_device_host *h, lbrx__host_buffer *b, unsigned char *data, size_t size,
                                   int writable, int wrapped, void **buffer) {
    b->data = data;
    b->size = size;
    b->writable = writable;
    b->wrapped = wrapped;
    h->live_buffers++;
    *buffer = b;
}

LBRX__PRIVATE lbrx_result lbrx__host_alloc(void *user, size_t size, void **buffer, lbrx_error *err) {
    lbrx_device_host *h = (lbrx_device_host *)user;
    lbrx__host_buffer *b;
    size_t total;
    if (!lbrx_add_size(size, LBRX__HOST_HEADER, &total))
        return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "host device: %zu bytes overflow", size);
    b = (lbrx__host_buffer *)lbrx_alloc(&h->allocator, total, 64);
    if (!b) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "host device: out of memory for %zu bytes", size);
    lbrx__host_track(h, b, (unsigned char *)b + LBRX__HOST_HEADER, size, 1, 0, buffer);
    h->allocs++;
    return LBRX_OK;
}

LBRX__PRIVATE void lbrx__host_free(void *user, void *buffer) {
    lbrx_device_host *h = (lbrx_device_host *)user;
    if (!buffer) return;
    h->frees++;
    h->live_buffers--;
    lbrx_free(&h->allocator, buffer);
}

LBRX__PRIVATE lbrx_result lbrx__host_range(const lbrx__host_buffer *b, size_t offset, size_t size, const char *what,
                                          lbrx_error *err) {
    if (!b || offset > b->size || size > b->size - offset)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "host device: %s of [%zu, +%zu) outside a buffer of %zu bytes",
                            what, offset, size, b ? b->size : 0);
    return LBRX_OK;
}

LBRX__PRIVATE lbrx_result lbrx__host_upload(void *user, void *buffer, size_t offset, const void *src, size_t size,
                                           lbrx_error *err) {
    lbrx_device_host *h = (lbrx_device_host *)user;
    lbrx__host_buffer *b = (lbrx__host_buffer *)buffer;
    lbrx_result r = lbrx__host_range(b, offset, size, "upload", err);
    if (r != LBRX_OK) return r;
    if (!b->writable) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "host device: upload into read-only wrapped memory");
    if (size) memcpy(b->data + offset, src, size);
    h->uploads++;
    h->upload_bytes += size;
    return LBRX_OK;
}

LBRX__PRIVATE lbrx_result lbrx__host_download(void *user, void *buffer, size_t offset, void *dst, size_t size,
                                             lbrx_error *err) {
    lbrx_device_host *h = (lbrx_device_host *)user;
    lbrx__host_buffer *b = (lbrx__host_buffer *)buffer;
    lbrx_result r = lbrx__host_range(b, offset, size, "download", err);
    if (r != LBRX_OK) return r;
    if (size) memcpy(dst, b->data + offset, size);
    h->downloads++;
    h->download_bytes += size;
    return LBRX_OK;
}

LBRX__PRIVATE lbrx_result lbrx__host_wrap(void *user, void *base, size_t size, int writable, void **buffer,
                                         lbrx_error *err) {
    lbrx_device_host *h = (lbrx_device_host *)user;
    lbrx__host_buffer *b;
    size_t page = lbrx_page_size();
    if (((uintptr_t)base & (page - 1)) || (size & (page - 1)))
        return lbrx__errorf(err, LBRX_ERR_BAD_ALIGNMENT, LBRX__NO_OFFSET, "host device: wrap of [%p, +%zu) is not page-aligned", base, size);
    b = (lbrx__host_buffer *)lbrx_alloc(&h->allocator, sizeof *b, 16);
    if (!b) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "host device: out of memory");
    lbrx__host_track(h, b, (unsigned char *)base, size, writable, 1, buffer);
    h->wraps++;
    return LBRX_OK;
}

LBRX__PRIVATE void lbrx__host_unwrap(void *user, void *buffer) {
    lbrx_device_host *h = (lbrx_device_host *)user;
    h->unwraps++;
    h->live_buffers--;
    lbrx_free(&h->allocator, buffer);
}

LBRXDEF void lbrx_device_host_init(lbrx_device *dev, lbrx_device_host *host, const lbrx_allocator *allocator) {
    memset(host, 0, sizeof *host);
    if (allocator) host->allocator = *allocator;
    memset(dev, 0, sizeof *dev);
    dev->user = host;
    dev->alloc = lbrx__host_alloc;
    dev->free = lbrx__host_free;
    dev->upload = lbrx__host_upload;
    dev->download = lbrx__host_download;
    dev->wrap_host = lbrx__host_wrap;
    dev->unwrap_host = lbrx__host_unwrap;
    dev->allocator = host->allocator;
}

LBRXDEF void *lbrx_device_host_data(const lbrx_device_tensor *dt) {
    if (!dt || !dt->buffer || !dt->device || dt->device->alloc != lbrx__host_alloc) return 0;
    return ((lbrx__host_buffer *)dt->buffer)->data + dt->offset;
}

/* ==== end device interface (implementation) ==== */

#if defined(LBRX__GCC_BUG_105593)
#pragma GCC diagnostic pop
#endif
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
