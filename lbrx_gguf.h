/* lbrx_gguf.h - part of lbrx (see lbrx.h). Public domain or MIT, your choice: see lbrx.h.

   DO THIS in exactly one C or C++ file:  #define LBRX_GGUF_IMPLEMENTATION  (or LBRX_IMPL)
                                          #include "lbrx_gguf.h"

   GGUF v1, v2 and v3 (little-endian) reader and a GGUF v3 writer.

   QUICK START

       lbrx_gguf *g; lbrx_tensor w; lbrx_error err; uint32_t n_layer;
       if (lbrx_gguf_open(&g, "model.gguf", NULL, &err) != LBRX_OK) {
           fprintf(stderr, "error: %s\n", err.message); return 1;
       }
       if (lbrx_gguf_get_u32(g, "llama.block_count", &n_layer, &err) != LBRX_OK) ...
       if (lbrx_gguf_get_tensor(g, "token_embd.weight", &w, &err) != LBRX_OK) ...
       // w.shape is outermost-first ([n_vocab, n_embd]); w.data points into the mapping
       lbrx_tensor_release(&w);   // the tensor held its own storage reference
       lbrx_gguf_destroy(g);

   READER

       Opening a file checks everything the accessors rely on: every count,
       length and offset is compared with the bytes that remain before it is used, with
       overflow-checked arithmetic. Strings are never copied: an lbrx_gguf_str points into the
       mapping (keys and tensor names, which are short, are copied once so they can be
       NUL-terminated). Tensor shapes are outermost-first (GGUF stores them innermost-first; the
       reader and writer reverse them and nothing else in lbrx sees GGUF order). Values are read
       as little-endian; lbrx assumes a little-endian host. A big-endian file is refused with
       LBRX_ERR_BIG_ENDIAN. Tensor data must be aligned to general.alignment, inside the file and
       non-overlapping; gaps between tensors and bytes after the last one are accepted (GGML's
       reader demands the exact contiguous layout, which lbrx's writer produces). Files without
       tensors may end right after the metadata. The first failed check is reported with its
       own result code and a message naming the key or tensor and the file offset:
           LBRX_ERR_BAD_MAGIC      not a GGUF file
           LBRX_ERR_BAD_VERSION    version 0 or above 3
           LBRX_ERR_BIG_ENDIAN     a byte-swapped version (or magic "FUGG")
           LBRX_ERR_TRUNCATED      a field, string, array or count runs past the end (H1-H3, H17)
           LBRX_ERR_BAD_VALUE      unknown value or element type, empty or non-ASCII key, bool not
                                   0/1, empty tensor name or one with NUL / invalid UTF-8 (H4, H6, H18)
           LBRX_ERR_UNSUPPORTED    nested arrays (H8)
           LBRX_ERR_DUPLICATE      a key or tensor name twice (H5)
           LBRX_ERR_TYPE_MISMATCH  general.alignment not u32; typed getters of another type (H7)
           LBRX_ERR_BAD_ALIGNMENT  bad general.alignment, unaligned tensor offset (H13, H15)
           LBRX_ERR_BAD_SHAPE      n_dims > 4, a dimension above INT64_MAX, a row that is not a
                                   multiple of the block size (H9, H12)
           LBRX_ERR_BAD_DTYPE      type id unknown, removed or not GGML's (H12)
           LBRX_ERR_OVERFLOW       element count, byte size or stride overflows (H10, H11, H14)
           LBRX_ERR_BAD_OFFSET     tensor data past the end or overlapping another (H13, H14)
           LBRX_ERR_LIMIT          name over 63 bytes, key over 65535, array over
                                   LBRX_GGUF_MAX_ARRAY (H18)

   LIMITS (documented, checked; a file past them gets LBRX_ERR_LIMIT, an alignment past them
   LBRX_ERR_BAD_ALIGNMENT)

       LBRX_GGUF_MAX_ALIGNMENT  largest general.alignment accepted (default 1 MiB); the smallest is
                                LBRX_GGUF_MIN_ALIGNMENT (8, the spec's "multiple of 8"); it must be
                                a power of two
       LBRX_GGUF_MAX_ARRAY      most elements in one metadata array (default 2^30, as GGML)
       LBRX_GGUF_MAX_DIMS       4 (GGML_MAX_DIMS)
       LBRX_GGUF_MAX_NAME       63 bytes of tensor name (GGML_MAX_NAME - 1)
       LBRX_GGUF_MAX_KEY        65535 bytes of key
       Nested arrays (legal in the spec, refused by GGML) give LBRX_ERR_UNSUPPORTED.

   WRITER

       Collect metadata and tensors in an lbrx_gguf_writer, then stream the file to a FILE* or a
       path: the header, then each tensor's bytes padded to the alignment (offsets contiguous, as
       GGML's reader requires). Tensor bytes come from lbrx_tensors (not copied; their storage is
       retained until the writer is destroyed) or from a fill callback called on chunks of rows,
       so a file is never built in memory.
*/
#ifndef LBRX_GGUF_H
#define LBRX_GGUF_H
#include "lbrx.h"
#include <stdio.h>

#define LBRX_GGUF_DEFAULT_ALIGNMENT 32u
#define LBRX_GGUF_MIN_ALIGNMENT 8u
#ifndef LBRX_GGUF_MAX_ALIGNMENT
#define LBRX_GGUF_MAX_ALIGNMENT (1u << 20)
#endif
#ifndef LBRX_GGUF_MAX_ARRAY
#define LBRX_GGUF_MAX_ARRAY ((uint64_t)1 << 30)
#endif
#define LBRX_GGUF_MAX_DIMS 4
#define LBRX_GGUF_MAX_NAME 63
#define LBRX_GGUF_MAX_KEY 65535
#if LBRX_MAX_DIMS < LBRX_GGUF_MAX_DIMS
#error "lbrx_gguf.h needs LBRX_MAX_DIMS >= 4"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Metadata value types (gguf_metadata_value_type ids). */
typedef enum lbrx_gguf_type {
    LBRX_GGUF_UINT8 = 0, LBRX_GGUF_INT8 = 1, LBRX_GGUF_UINT16 = 2, LBRX_GGUF_INT16 = 3,
    LBRX_GGUF_UINT32 = 4, LBRX_GGUF_INT32 = 5, LBRX_GGUF_FLOAT32 = 6, LBRX_GGUF_BOOL = 7,
    LBRX_GGUF_STRING = 8, LBRX_GGUF_ARRAY = 9, LBRX_GGUF_UINT64 = 10, LBRX_GGUF_INT64 = 11,
    LBRX_GGUF_FLOAT64 = 12,
    LBRX_GGUF_TYPE_COUNT = 13
} lbrx_gguf_type;

/* A string as stored in the file: `len` bytes at `data`, NOT NUL-terminated (may hold any bytes). */
typedef struct lbrx_gguf_str {
    const char *data;
    uint64_t len;
} lbrx_gguf_str;

/* One metadata key/value pair. Everything points into the lbrx_gguf (valid until it is closed). */
typedef struct lbrx_gguf_kv {
    const char *key;              /* NUL-terminated copy (keys are printable ASCII) */
    uint64_t key_len;
    lbrx_gguf_type type;
    lbrx_gguf_type elem_type;     /* arrays: the element type; otherwise equal to type */
    uint64_t count;               /* arrays: number of elements; otherwise 1 */
    const void *data;             /* scalars: the value's bytes; arrays of numbers or bools: the
                                     first element. Little-endian and possibly unaligned: read
                                     with memcpy (or the typed getters). NULL for strings. */
    lbrx_gguf_str str;            /* STRING: the value (zero-copy) */
    const lbrx_gguf_str *strs;    /* ARRAY of STRING: `count` strings (zero-copy) */
    uint64_t offset;              /* file offset of the record */
} lbrx_gguf_kv;

/* One tensor as described in the file. */
typedef struct lbrx_gguf_tensor_info {
    const char *name;             /* NUL-terminated copy, owned by the lbrx_gguf */
    uint64_t name_len;
    lbrx_dtype dtype;             /* a GGML type id */
    int ndim;                     /* 0..4 */
    int64_t shape[LBRX_GGUF_MAX_DIMS]; /* outermost-first (the reverse of GGUF's ne[]) */
    uint64_t offset;              /* as stored: relative to the data section */
    uint64_t file_offset;         /* absolute file offset of the first byte */
    uint64_t nbytes;
    uint64_t info_offset;         /* file offset of the tensor_info record */
    uint32_t shard;               /* file of a split set holding it (0: the first, or a single file);
                                     offsets are in that file */
} lbrx_gguf_tensor_info;

typedef struct lbrx_gguf lbrx_gguf;

/* Open a GGUF file by path (memory-mapped, see lbrx_storage_open) and validate it all.
   desc may be NULL (defaults; see lbrx_open_desc). On failure *out is NULL and err names the
   field and file offset. Thread safety: an open lbrx_gguf is read-only; any number of threads
   may query it at once. */
LBRXDEF lbrx_result lbrx_gguf_open(lbrx_gguf **out, const char *path, const lbrx_open_desc *desc,
                                   lbrx_error *err);
/* SPLIT GGUF: a model cut into files PREFIX-00001-of-0000N.gguf ... PREFIX-0000N-of-0000N.gguf
   (llama.cpp's gguf-split; keys split.no, split.count, split.tensors.count). lbrx_gguf_open of
   the first file (split.no 0, split.count N > 1) opens all N, validates each as above, and
   presents one name space: the first file's metadata, then the tensors of every file in file
   order (lbrx_gguf_tensor_info.shard says which). Errors name the file: LBRX_ERR_BAD_VALUE for a
   first file whose name does not end in -00001-of-0000N.gguf, LBRX_ERR_NOT_FOUND for a missing
   file, LBRX_ERR_BAD_VALUE when a file's split.no is not its place or its split.count or
   split.tensors.count differs from the first's (field and file offset), LBRX_ERR_SIZE_MISMATCH when split.tensors.count is
   not the number of tensors found, LBRX_ERR_DUPLICATE for a tensor in two files. Opening
   another file of the set, or a split file from memory or a storage, opens that file alone. */

/* Open GGUF bytes the caller owns and keeps alive (and unchanged) until lbrx_gguf_destroy and the
   release of every tensor taken from it. */
LBRXDEF lbrx_result lbrx_gguf_open_memory(lbrx_gguf **out, const void *data, size_t size,
                                          const lbrx_open_desc *desc, lbrx_error *err);
/* Open GGUF bytes held by a storage; the lbrx_gguf takes its own reference. */
LBRXDEF lbrx_result lbrx_gguf_open_storage(lbrx_gguf **out, lbrx_storage *storage,
                                           const lbrx_open_desc *desc, lbrx_error *err);
/* Free the index and drop the storage reference. Tensors taken with lbrx_gguf_tensor keep the
   bytes alive; names from lbrx_gguf_tensor_name and the kv/info structs die here. NULL is ok. */
LBRXDEF void lbrx_gguf_destroy(lbrx_gguf *g);

LBRXDEF uint32_t lbrx_gguf_version(const lbrx_gguf *g);       /* 1, 2 or 3 */
LBRXDEF uint32_t lbrx_gguf_alignment(const lbrx_gguf *g);     /* general.alignment or 32 */
/* File offset of the data section (tensor offsets are relative to it). */
LBRXDEF uint64_t lbrx_gguf_data_offset(const lbrx_gguf *g);
LBRXDEF lbrx_storage *lbrx_gguf_storage(const lbrx_gguf *g);  /* not a new reference */
/* Files of a split set that g presents (1 for a single file), and file k's storage (k = 0 is
   lbrx_gguf_storage; NULL when out of range; not a new reference). */
LBRXDEF size_t lbrx_gguf_shard_count(const lbrx_gguf *g);
LBRXDEF lbrx_storage *lbrx_gguf_shard_storage(const lbrx_gguf *g, size_t k);

/* Metadata in file order: i in [0, lbrx_gguf_kv_count). NULL when out of range. */
LBRXDEF size_t lbrx_gguf_kv_count(const lbrx_gguf *g);
LBRXDEF const lbrx_gguf_kv *lbrx_gguf_kv_at(const lbrx_gguf *g, size_t i);
/* Index of a key (exact byte compare, hash lookup), or SIZE_MAX. */
LBRXDEF size_t lbrx_gguf_find_key(const lbrx_gguf *g, const char *key);

/* Typed getters: LBRX_ERR_NOT_FOUND for a missing key, LBRX_ERR_TYPE_MISMATCH when the value
   has another type (no conversion). */
LBRXDEF lbrx_result lbrx_gguf_get_u8(const lbrx_gguf *g, const char *key, uint8_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_i8(const lbrx_gguf *g, const char *key, int8_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_u16(const lbrx_gguf *g, const char *key, uint16_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_i16(const lbrx_gguf *g, const char *key, int16_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_u32(const lbrx_gguf *g, const char *key, uint32_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_i32(const lbrx_gguf *g, const char *key, int32_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_u64(const lbrx_gguf *g, const char *key, uint64_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_i64(const lbrx_gguf *g, const char *key, int64_t *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_f32(const lbrx_gguf *g, const char *key, float *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_f64(const lbrx_gguf *g, const char *key, double *out, lbrx_error *err);
/* BOOL: *out is 0 or 1. */
LBRXDEF lbrx_result lbrx_gguf_get_bool(const lbrx_gguf *g, const char *key, int *out, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_get_str(const lbrx_gguf *g, const char *key, lbrx_gguf_str *out, lbrx_error *err);
/* Any integer type (u8..i64) whose value fits in int64_t: for counts that writers store as u32
   or u64. A float, bool or string is LBRX_ERR_TYPE_MISMATCH; a u64 above INT64_MAX LBRX_ERR_OVERFLOW. */
LBRXDEF lbrx_result lbrx_gguf_get_int(const lbrx_gguf *g, const char *key, int64_t *out, lbrx_error *err);
/* An array whose elements are of `elem_type` (not STRING): *data points at `*count` packed
   little-endian elements in the file (possibly unaligned: read with memcpy). A scalar or an
   array of another element type is LBRX_ERR_TYPE_MISMATCH. */
LBRXDEF lbrx_result lbrx_gguf_get_array(const lbrx_gguf *g, const char *key, lbrx_gguf_type elem_type,
                                        const void **data, uint64_t *count, lbrx_error *err);
/* An array of strings: *strs holds *count zero-copy strings. */
LBRXDEF lbrx_result lbrx_gguf_get_str_array(const lbrx_gguf *g, const char *key, const lbrx_gguf_str **strs,
                                            uint64_t *count, lbrx_error *err);

/* Tensors, the same calls as lbrx_safetensors.h's: i in [0, lbrx_gguf_tensor_count) in file order. */
LBRXDEF size_t lbrx_gguf_tensor_count(const lbrx_gguf *g);
/* Tensor i's name (NUL-terminated, owned by g: valid until lbrx_gguf_destroy), NULL when out of range. */
LBRXDEF const char *lbrx_gguf_tensor_name(const lbrx_gguf *g, size_t i);
/* Index of a tensor by exact name (hash lookup), or SIZE_MAX. */
LBRXDEF size_t lbrx_gguf_find_tensor(const lbrx_gguf *g, const char *name);
/* Tensor i as an lbrx_tensor value whose data points into the file (no copy). It holds its own
   storage reference, so it outlives g: release it with lbrx_tensor_release. */
LBRXDEF lbrx_result lbrx_gguf_tensor(const lbrx_gguf *g, size_t i, lbrx_tensor *out, lbrx_error *err);
/* lbrx_gguf_tensor by name; LBRX_ERR_NOT_FOUND when absent. */
LBRXDEF lbrx_result lbrx_gguf_get_tensor(const lbrx_gguf *g, const char *name, lbrx_tensor *out, lbrx_error *err);
/* File offset of tensor i's first byte; UINT64_MAX when out of range. */
LBRXDEF uint64_t lbrx_gguf_tensor_offset(const lbrx_gguf *g, size_t i);
/* Everything the file says about tensor i (GGUF's own fields), NULL when out of range. */
LBRXDEF const lbrx_gguf_tensor_info *lbrx_gguf_tensor_info_at(const lbrx_gguf *g, size_t i);

/* "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64";
   "invalid" for other values. */
LBRXDEF const char *lbrx_gguf_type_name(lbrx_gguf_type t);
/* Bytes of one value of a fixed-size type (1 for u8, i8 and bool ... 8 for u64, i64, f64); 0 for
   STRING, ARRAY and invalid values. */
LBRXDEF size_t lbrx_gguf_type_size(lbrx_gguf_type t);

/* ---- writer ---- */

typedef struct lbrx_gguf_writer lbrx_gguf_writer;

/* New empty writer (GGUF v3). allocator may be NULL. Thread safety: one thread at a time. */
LBRXDEF lbrx_result lbrx_gguf_writer_create(lbrx_gguf_writer **out, const lbrx_allocator *allocator,
                                            lbrx_error *err);
/* Free the writer and release the tensors it retained. NULL is ok. */
LBRXDEF void lbrx_gguf_writer_destroy(lbrx_gguf_writer *w);
/* Add a scalar or string value (copied). `value` points at the value in host (little-endian)
   layout; for BOOL one byte 0 or 1; for STRING an lbrx_gguf_str. Keys: non-empty printable
   ASCII up to LBRX_GGUF_MAX_KEY bytes. A key `general.alignment` must be a UINT32 power of two
   in [LBRX_GGUF_MIN_ALIGNMENT, LBRX_GGUF_MAX_ALIGNMENT]; it sets the file's alignment.
   Duplicate keys are reported by the write. */
LBRXDEF lbrx_result lbrx_gguf_writer_add(lbrx_gguf_writer *w, const char *key, lbrx_gguf_type type,
                                         const void *value, lbrx_error *err);
/* Add an array of `count` elements of `elem_type` (not ARRAY); for STRING `values` is an array
   of lbrx_gguf_str. Copied. */
LBRXDEF lbrx_result lbrx_gguf_writer_add_array(lbrx_gguf_writer *w, const char *key, lbrx_gguf_type elem_type,
                                               const void *values, uint64_t count, lbrx_error *err);
/* Shorthands of lbrx_gguf_writer_add. */
LBRXDEF lbrx_result lbrx_gguf_writer_add_u32(lbrx_gguf_writer *w, const char *key, uint32_t v, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_writer_add_f32(lbrx_gguf_writer *w, const char *key, float v, lbrx_error *err);
LBRXDEF lbrx_result lbrx_gguf_writer_add_str(lbrx_gguf_writer *w, const char *key, const char *v, lbrx_error *err);
/* Copy a key/value pair read from a file (lbrx_gguf_kv_at), any type. */
LBRXDEF lbrx_result lbrx_gguf_writer_copy_kv(lbrx_gguf_writer *w, const lbrx_gguf_kv *kv, lbrx_error *err);
/* Add a tensor whose bytes are written from `t` (any layout; not copied now). The writer takes a
   storage reference (tensors over borrowed memory, storage NULL, must stay valid until the write).
   Names: 1..LBRX_GGUF_MAX_NAME bytes of UTF-8 without NUL; rank <= 4; a GGML dtype. */
LBRXDEF lbrx_result lbrx_gguf_writer_add_tensor(lbrx_gguf_writer *w, const char *name, const lbrx_tensor *t,
                                                lbrx_error *err);
/* Add a tensor whose bytes a callback produces during the write (lbrx_fill_fn, in lbrx.h; its
   index is the number of tensors added before this one). */
LBRXDEF lbrx_result lbrx_gguf_writer_add_tensor_fill(lbrx_gguf_writer *w, const char *name, lbrx_dtype dtype,
                                                     int ndim, const int64_t *shape, lbrx_fill_fn fill,
                                                     void *user, lbrx_error *err);
/* Stream the file: header (KVs and tensor infos in the order added), padding, then each tensor's
   bytes padded to the alignment. Checks duplicate keys and names first. The writer can be
   written again afterwards. */
LBRXDEF lbrx_result lbrx_gguf_writer_write(lbrx_gguf_writer *w, FILE *f, lbrx_error *err);
/* Write a split set (SPLIT GGUF above): files `prefix`-0000K-of-0000N.gguf, the tensors in the
   order added cut into files of at most max_shard_bytes of (padded) tensor data each (a larger
   tensor gets a file of its own; N is 1 when everything fits). Every file gets split.no (u16),
   split.count (u16) and split.tensors.count (i32) first, the first file also all of w's
   metadata, as llama.cpp's gguf-split does. Keys split.* in w are LBRX_ERR_INVALID_ARGUMENT. A
   failed file is removed (files written before it stay). */
LBRXDEF lbrx_result lbrx_gguf_writer_write_split(lbrx_gguf_writer *w, const char *prefix, uint64_t max_shard_bytes,
                                                 lbrx_error *err);
/* lbrx_gguf_writer_write to a new file at `path` (UTF-8 on every system); a failed write removes
   the partial file. */
LBRXDEF lbrx_result lbrx_gguf_writer_write_path(lbrx_gguf_writer *w, const char *path, lbrx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LBRX_GGUF_H */

#if defined(LBRX_IMPL) && !defined(LBRX_GGUF_IMPLEMENTATION)
#define LBRX_GGUF_IMPLEMENTATION
#endif
#if defined(LBRX_GGUF_IMPLEMENTATION) && !defined(LBRX__GGUF_IMPLEMENTATION_DONE)
#define LBRX__GGUF_IMPLEMENTATION_DONE

#include <string.h>
#include <stdlib.h>

#if defined(LBRX_STATIC) && (defined(__GNUC__) || defined(__clang__))
#define LBRX__GGUF_PRIVATE static __attribute__((unused))
#else
#define LBRX__GGUF_PRIVATE static
#endif
#define LBRX__GGUF_NO_OFFSET UINT64_MAX

/* ============================================================================================
   Shared helpers: growth of arrays, names, a hash index of names
   ============================================================================================ */

/* Make room for `need` elements of `elem` bytes in *p (capacity *cap), doubling. 0 on failure. */
LBRX__GGUF_PRIVATE int lbrx__gguf_reserve(const lbrx_allocator *a, void **p, size_t *cap, size_t need, size_t elem) {
    size_t ncap = *cap ? *cap : 16, bytes;
    void *np;
    if (need <= *cap) return 1;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return 0;
        ncap *= 2;
    }
    if (!lbrx_mul_size(ncap, elem, &bytes)) return 0;
    np = lbrx_alloc(a, bytes, 16);
    if (!np) return 0;
    if (*p) memcpy(np, *p, *cap * elem);
    lbrx_free(a, *p);
    *p = np;
    *cap = ncap;
    return 1;
}

/* Printable ASCII (0x20..0x7e), as keys must be. */
LBRX__GGUF_PRIVATE int lbrx__gguf_key_chars_ok(const char *s, uint64_t n) {
    uint64_t i;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return 0;
    return 1;
}

/* Why a key is invalid (NULL if valid), with the result code in *code. */
LBRX__GGUF_PRIVATE const char *lbrx__gguf_check_key(const char *key, uint64_t len, lbrx_result *code) {
    *code = LBRX_ERR_BAD_VALUE;
    if (len == 0) return "empty key";
    if (len > LBRX_GGUF_MAX_KEY) { *code = LBRX_ERR_LIMIT; return "key longer than LBRX_GGUF_MAX_KEY (65535) bytes"; }
    if (!lbrx__gguf_key_chars_ok(key, len)) return "key is not printable ASCII";
    return 0;
}

/* Why a tensor name is invalid (NULL if valid), with the result code in *code. */
LBRX__GGUF_PRIVATE const char *lbrx__gguf_check_name(const char *name, uint64_t len, lbrx_result *code) {
    *code = LBRX_ERR_BAD_VALUE;
    if (len == 0) return "empty tensor name";
    if (len > LBRX_GGUF_MAX_NAME) { *code = LBRX_ERR_LIMIT; return "tensor name longer than LBRX_GGUF_MAX_NAME (63) bytes"; }
    if (memchr(name, 0, (size_t)len) || !lbrx__utf8_valid(name, (size_t)len)) return "tensor name is not UTF-8 without NUL";
    return 0;
}

LBRX__GGUF_PRIVATE int lbrx__gguf_alignment_ok(uint32_t a) {
    return a >= LBRX_GGUF_MIN_ALIGNMENT && a <= LBRX_GGUF_MAX_ALIGNMENT && (a & (a - 1)) == 0;
}

/* x rounded up to a multiple of the power of two a; 0 on overflow. */
LBRX__GGUF_PRIVATE int lbrx__gguf_align_up(uint64_t x, uint64_t a, uint64_t *out) {
    if (x > UINT64_MAX - (a - 1)) return 0;
    *out = (x + (a - 1)) & ~(a - 1);
    return 1;
}

LBRXDEF size_t lbrx_gguf_type_size(lbrx_gguf_type t) {
    static const unsigned char size[LBRX_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < LBRX_GGUF_TYPE_COUNT ? size[t] : 0;
}

LBRXDEF const char *lbrx_gguf_type_name(lbrx_gguf_type t) {
    static const char *const names[LBRX_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64"};
    return (unsigned)t < LBRX_GGUF_TYPE_COUNT ? names[t] : "invalid";
}

/* ============================================================================================
   Reader
   ============================================================================================ */

struct lbrx_gguf {
    lbrx_storage *storage;
    lbrx_allocator allocator;
    uint32_t version, alignment;
    uint64_t data_offset;
    size_t n_kv, n_tensors;
    lbrx_gguf_kv *kvs;
    lbrx_gguf_tensor_info *tensors;
    lbrx_gguf_str *strs;          /* the elements of every array of strings */
    char *names;                  /* NUL-terminated keys and tensor names */
    lbrx__name_index kv_index, tensor_index;
    size_t n_shards;              /* a split set: files 1..n_shards-1 (their tensors are in tensors) */
    lbrx_gguf **shards;
};

/* A bounds-checked cursor over the file. `what` names the record being parsed for messages. */
typedef struct lbrx__gguf_cursor {
    const unsigned char *p;
    uint64_t size, pos;
    int v1;
    lbrx_error *err;
    char what[112];
} lbrx__gguf_cursor;

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_need(lbrx__gguf_cursor *c, uint64_t n, const char *field) {
    if (n <= c->size - c->pos) return LBRX_OK;
    return lbrx__errorf(c->err, LBRX_ERR_TRUNCATED, c->pos, "%s: %s needs %llu bytes but only %llu remain",
                        c->what, field, (unsigned long long)n, (unsigned long long)(c->size - c->pos));
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_u32(lbrx__gguf_cursor *c, uint32_t *v, const char *field) {
    lbrx_result r = lbrx__gguf_need(c, 4, field);
    if (r != LBRX_OK) return r;
    memcpy(v, c->p + c->pos, 4);
    c->pos += 4;
    return LBRX_OK;
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_u64(lbrx__gguf_cursor *c, uint64_t *v, const char *field) {
    lbrx_result r = lbrx__gguf_need(c, 8, field);
    if (r != LBRX_OK) return r;
    memcpy(v, c->p + c->pos, 8);
    c->pos += 8;
    return LBRX_OK;
}

/* A count or length: u32 in GGUF v1, u64 after. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_count(lbrx__gguf_cursor *c, uint64_t *v, const char *field) {
    uint32_t v32;
    lbrx_result r;
    if (!c->v1) return lbrx__gguf_u64(c, v, field);
    r = lbrx__gguf_u32(c, &v32, field);
    if (r == LBRX_OK) *v = v32;
    return r;
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_string(lbrx__gguf_cursor *c, lbrx_gguf_str *s, const char *field) {
    uint64_t at = c->pos, len;
    lbrx_result r = lbrx__gguf_count(c, &len, field);
    if (r != LBRX_OK) return r;
    if (len > c->size - c->pos)
        return lbrx__errorf(c->err, LBRX_ERR_TRUNCATED, at, "%s: %s of %llu bytes but only %llu remain", c->what, field,
                            (unsigned long long)len, (unsigned long long)(c->size - c->pos));
    s->data = (const char *)c->p + c->pos;
    s->len = len;
    c->pos += len;
    return LBRX_OK;
}

/* Bytes of the smallest encoded element of a type (a string is at least its length field). */
LBRX__GGUF_PRIVATE uint64_t lbrx__gguf_min_size(const lbrx__gguf_cursor *c, lbrx_gguf_type t) {
    return t == LBRX_GGUF_STRING ? (c->v1 ? 4u : 8u) : lbrx_gguf_type_size(t);
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_check_bools(lbrx__gguf_cursor *c, uint64_t n) {
    uint64_t i;
    for (i = 0; i < n; i++)
        if (c->p[c->pos + i] > 1)
            return lbrx__errorf(c->err, LBRX_ERR_BAD_VALUE, c->pos + i, "%s: bool value %u is neither 0 nor 1",
                                c->what, (unsigned)c->p[c->pos + i]);
    return LBRX_OK;
}

/* Parse the value of kv (type already read); counts the strings of string arrays into *n_strs. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_value(lbrx__gguf_cursor *c, lbrx_gguf_kv *kv, uint64_t *n_strs) {
    lbrx_result r;
    uint64_t at = c->pos;
    kv->elem_type = kv->type;
    kv->count = 1;
    if (kv->type == LBRX_GGUF_STRING) return lbrx__gguf_string(c, &kv->str, "string value");
    if (kv->type == LBRX_GGUF_ARRAY) {
        uint32_t et;
        uint64_t n, bytes, i;
        if ((r = lbrx__gguf_u32(c, &et, "array element type")) != LBRX_OK) return r;
        if (et == LBRX_GGUF_ARRAY)
            return lbrx__errorf(c->err, LBRX_ERR_UNSUPPORTED, at, "%s: nested arrays are not supported", c->what);
        if (et >= LBRX_GGUF_TYPE_COUNT)
            return lbrx__errorf(c->err, LBRX_ERR_BAD_VALUE, at, "%s: unknown array element type %u", c->what, (unsigned)et);
        kv->elem_type = (lbrx_gguf_type)et;
        at = c->pos;
        if ((r = lbrx__gguf_count(c, &n, "array count")) != LBRX_OK) return r;
        /* compare the count with the bytes that remain before anything else */
        if (n > (c->size - c->pos) / lbrx__gguf_min_size(c, kv->elem_type))
            return lbrx__errorf(c->err, LBRX_ERR_TRUNCATED, at, "%s: array of %llu %s needs more than the %llu bytes that remain",
                                c->what, (unsigned long long)n, lbrx_gguf_type_name(kv->elem_type),
                                (unsigned long long)(c->size - c->pos));
        if (n > LBRX_GGUF_MAX_ARRAY)
            return lbrx__errorf(c->err, LBRX_ERR_LIMIT, at, "%s: array of %llu elements exceeds LBRX_GGUF_MAX_ARRAY", c->what,
                                (unsigned long long)n);
        kv->count = n;
        kv->data = c->p + c->pos;
        if (kv->elem_type == LBRX_GGUF_STRING) {
            lbrx_gguf_str s;
            for (i = 0; i < n; i++)
                if ((r = lbrx__gguf_string(c, &s, "array string")) != LBRX_OK) return r;
            *n_strs += n;  /* cannot overflow: each string took at least 4 bytes of the file */
            return LBRX_OK;
        }
        bytes = n * lbrx_gguf_type_size(kv->elem_type);  /* <= remaining bytes, checked above */
        if (kv->elem_type == LBRX_GGUF_BOOL && (r = lbrx__gguf_check_bools(c, n)) != LBRX_OK) return r;
        c->pos += bytes;
        return LBRX_OK;
    }
    if ((r = lbrx__gguf_need(c, lbrx_gguf_type_size(kv->type), "value")) != LBRX_OK) return r;
    if (kv->type == LBRX_GGUF_BOOL && (r = lbrx__gguf_check_bools(c, 1)) != LBRX_OK) return r;
    kv->data = c->p + c->pos;
    c->pos += lbrx_gguf_type_size(kv->type);
    return LBRX_OK;
}

/* Printable description of a record for messages: its key (shortened) or its position. */
LBRX__GGUF_PRIVATE void lbrx__gguf_describe(lbrx__gguf_cursor *c, const char *kind, size_t i, const char *name,
                                           uint64_t len) {
    if (name && len <= 80)
        snprintf(c->what, sizeof c->what, "%s '%.*s'", kind, (int)len, name);
    else if (name)
        snprintf(c->what, sizeof c->what, "%s '%.77s...'", kind, name);
    else
        snprintf(c->what, sizeof c->what, "%s #%llu", kind, (unsigned long long)i);
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_kv_record(lbrx__gguf_cursor *c, size_t i, lbrx_gguf_kv *kv, uint64_t *n_strs) {
    lbrx_gguf_str key;
    uint32_t type;
    lbrx_result r, code;
    const char *why;
    memset(kv, 0, sizeof *kv);
    kv->offset = c->pos;
    lbrx__gguf_describe(c, "key", i, 0, 0);
    if ((r = lbrx__gguf_string(c, &key, "key")) != LBRX_OK) return r;
    if ((why = lbrx__gguf_check_key(key.data, key.len, &code)) != 0)
        return lbrx__errorf(c->err, code, kv->offset, "%s: %s", c->what, why);
    lbrx__gguf_describe(c, "key", i, key.data, key.len);
    kv->key = key.data;
    kv->key_len = key.len;
    if ((r = lbrx__gguf_u32(c, &type, "value type")) != LBRX_OK) return r;
    if (type >= (uint32_t)LBRX_GGUF_TYPE_COUNT)
        return lbrx__errorf(c->err, LBRX_ERR_BAD_VALUE, c->pos - 4, "%s: unknown value type %u", c->what, (unsigned)type);
    kv->type = (lbrx_gguf_type)type;
    return lbrx__gguf_value(c, kv, n_strs);
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_tensor_record(lbrx__gguf_cursor *c, size_t i, lbrx_gguf_tensor_info *t) {
    lbrx_gguf_str name;
    uint32_t nd, type;
    uint64_t ne[LBRX_GGUF_MAX_DIMS];
    int64_t stride[LBRX_MAX_DIMS];
    lbrx_result r, code;
    lbrx_error e;
    const char *why;
    size_t nbytes;
    int d;
    memset(t, 0, sizeof *t);
    t->info_offset = c->pos;
    lbrx__gguf_describe(c, "tensor info", i, 0, 0);
    if ((r = lbrx__gguf_string(c, &name, "tensor name")) != LBRX_OK) return r;
    if ((why = lbrx__gguf_check_name(name.data, name.len, &code)) != 0)
        return lbrx__errorf(c->err, code, t->info_offset, "%s: %s", c->what, why);
    lbrx__gguf_describe(c, "tensor", i, name.data, name.len);
    t->name = name.data;
    t->name_len = name.len;
    if ((r = lbrx__gguf_u32(c, &nd, "n_dims")) != LBRX_OK) return r;
    /* checked before reading any dimension */
    if (nd > LBRX_GGUF_MAX_DIMS)
        return lbrx__errorf(c->err, LBRX_ERR_BAD_SHAPE, c->pos - 4, "%s: n_dims %u is more than %d", c->what, (unsigned)nd,
                            LBRX_GGUF_MAX_DIMS);
    for (d = 0; d < (int)nd; d++) {
        if ((r = lbrx__gguf_count(c, &ne[d], "dimension")) != LBRX_OK) return r;
        if (ne[d] > (uint64_t)INT64_MAX)
            return lbrx__errorf(c->err, LBRX_ERR_BAD_SHAPE, c->pos - (c->v1 ? 4 : 8), "%s: dimension %d is %llu (negative as int64)",
                                c->what, d, (unsigned long long)ne[d]);
    }
    if ((r = lbrx__gguf_u32(c, &type, "type")) != LBRX_OK) return r;
    /* GGML ids only, and only those with a block size */
    if (type >= (uint32_t)LBRX_GGML_TYPE_COUNT || !lbrx_dtype_valid((int)type))
        return lbrx__errorf(c->err, LBRX_ERR_BAD_DTYPE, c->pos - 4, "%s: invalid GGML type id %u", c->what, (unsigned)type);
    if ((r = lbrx__gguf_u64(c, &t->offset, "offset")) != LBRX_OK) return r;
    t->dtype = (lbrx_dtype)type;
    t->ndim = (int)nd;
    for (d = 0; d < (int)nd; d++) t->shape[d] = (int64_t)ne[nd - 1 - d];
    /* element count, strides and byte size, checked per dimension without dividing by file values
       (H10, H11); the same checks as lbrx_tensor_init, so that every accepted tensor can be made */
    r = lbrx__shape_layout(t->dtype, t->ndim, t->shape, stride, &nbytes, &e);
    if (r != LBRX_OK) return lbrx__errorf(c->err, r, t->info_offset, "%s: %s", c->what, e.message);
    t->nbytes = nbytes;
    return LBRX_OK;
}

typedef struct lbrx__gguf_span { uint64_t begin, end; size_t index; } lbrx__gguf_span;

LBRX__GGUF_PRIVATE int lbrx__gguf_span_cmp(const void *a, const void *b) {
    const lbrx__gguf_span *x = (const lbrx__gguf_span *)a, *y = (const lbrx__gguf_span *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

LBRX__GGUF_PRIVATE const char *lbrx__gguf_kv_name_at(const void *items, size_t i, size_t *len) {
    const lbrx_gguf_kv *kv = (const lbrx_gguf_kv *)items + i;
    *len = (size_t)kv->key_len;
    return kv->key;
}

LBRX__GGUF_PRIVATE const char *lbrx__gguf_tensor_name_at(const void *items, size_t i, size_t *len) {
    const lbrx_gguf_tensor_info *t = (const lbrx_gguf_tensor_info *)items + i;
    *len = (size_t)t->name_len;
    return t->name;
}

/* Copy keys and names into one NUL-terminated block and index the strings of string arrays. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_own_names(lbrx_gguf *g, lbrx__gguf_cursor *c, uint64_t n_strs) {
    size_t total = 0, i, k = 0;
    char *dst;
    for (i = 0; i < g->n_kv; i++) total += (size_t)g->kvs[i].key_len + 1;      /* bounded by the file size */
    for (i = 0; i < g->n_tensors; i++) total += (size_t)g->tensors[i].name_len + 1;
    g->names = (char *)lbrx_alloc(&g->allocator, total, 16);
    if (n_strs) {
        size_t bytes;
        if (!lbrx_mul_size((size_t)n_strs, sizeof(lbrx_gguf_str), &bytes) ||
            !(g->strs = (lbrx_gguf_str *)lbrx_alloc(&g->allocator, bytes, 16)))
            return lbrx__errorf(c->err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory for %llu strings",
                                (unsigned long long)n_strs);
    }
    if (!g->names) return lbrx__errorf(c->err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory for names");
    dst = g->names;
    for (i = 0; i < g->n_kv; i++) {
        lbrx_gguf_kv *kv = &g->kvs[i];
        memcpy(dst, kv->key, (size_t)kv->key_len);
        dst[kv->key_len] = 0;
        kv->key = dst;
        dst += kv->key_len + 1;
        if (kv->type == LBRX_GGUF_ARRAY && kv->elem_type == LBRX_GGUF_STRING) {
            uint64_t j;
            c->pos = (uint64_t)((const unsigned char *)kv->data - c->p);
            kv->strs = g->strs ? g->strs + k : 0;  /* no strings at all: g->strs is NULL */
            for (j = 0; j < kv->count; j++) lbrx__gguf_string(c, &g->strs[k++], "array string");  /* validated */
            kv->data = 0;
        }
    }
    for (i = 0; i < g->n_tensors; i++) {
        lbrx_gguf_tensor_info *t = &g->tensors[i];
        memcpy(dst, t->name, (size_t)t->name_len);
        dst[t->name_len] = 0;
        t->name = dst;
        dst += t->name_len + 1;
    }
    return LBRX_OK;
}

/* Alignment, data section and tensor byte ranges. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_layout(lbrx_gguf *g, lbrx__gguf_cursor *c) {
    size_t ai = lbrx_gguf_find_key(g, "general.alignment");
    lbrx__gguf_span *spans;
    size_t i, bytes;
    g->alignment = LBRX_GGUF_DEFAULT_ALIGNMENT;
    if (ai != SIZE_MAX) {
        const lbrx_gguf_kv *kv = &g->kvs[ai];
        uint32_t a;
        if (kv->type != LBRX_GGUF_UINT32)
            return lbrx__errorf(c->err, LBRX_ERR_TYPE_MISMATCH, kv->offset, "key 'general.alignment' has type %s, not u32",
                                lbrx_gguf_type_name(kv->type));
        memcpy(&a, kv->data, 4);
        if (!lbrx__gguf_alignment_ok(a))
            return lbrx__errorf(c->err, LBRX_ERR_BAD_ALIGNMENT, kv->offset,
                                "key 'general.alignment' is %u, not a power of two in [%u, %u]", (unsigned)a,
                                LBRX_GGUF_MIN_ALIGNMENT, (unsigned)LBRX_GGUF_MAX_ALIGNMENT);
        g->alignment = a;
    }
    if (!lbrx__gguf_align_up(c->pos, g->alignment, &g->data_offset))
        return lbrx__errorf(c->err, LBRX_ERR_OVERFLOW, c->pos, "data section offset overflows");
    if (g->n_tensors == 0) return LBRX_OK;  /* no padding or data section required */
    if (g->data_offset > c->size)
        return lbrx__errorf(c->err, LBRX_ERR_TRUNCATED, c->pos, "data section would start at %llu, past the end of the %llu-byte file",
                            (unsigned long long)g->data_offset, (unsigned long long)c->size);
    if (!lbrx_mul_size(g->n_tensors, sizeof *spans, &bytes) ||
        !(spans = (lbrx__gguf_span *)lbrx_alloc(&g->allocator, bytes, 16)))
        return lbrx__errorf(c->err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory");
    for (i = 0; i < g->n_tensors; i++) {
        lbrx_gguf_tensor_info *t = &g->tensors[i];
        if (t->offset % g->alignment) {
            lbrx_free(&g->allocator, spans);
            return lbrx__errorf(c->err, LBRX_ERR_BAD_ALIGNMENT, t->info_offset, "tensor '%s': offset %llu is not a multiple of the alignment %u",
                                t->name, (unsigned long long)t->offset, (unsigned)g->alignment);
        }
        /* data_offset <= size, so an offset past size - data_offset is out of the file */
        if (t->offset > c->size - g->data_offset || t->nbytes > c->size - g->data_offset - t->offset) {
            lbrx_free(&g->allocator, spans);
            return lbrx__errorf(c->err, LBRX_ERR_BAD_OFFSET, t->info_offset,
                                "tensor '%s': %llu bytes at data offset %llu end past the end of the %llu-byte file", t->name,
                                (unsigned long long)t->nbytes, (unsigned long long)t->offset, (unsigned long long)c->size);
        }
        t->file_offset = g->data_offset + t->offset;
        spans[i].begin = t->offset;
        spans[i].end = t->offset + t->nbytes;
        spans[i].index = i;
    }
    qsort(spans, g->n_tensors, sizeof *spans, lbrx__gguf_span_cmp);
    for (i = 1; i < g->n_tensors; i++) {
        if (spans[i].begin < spans[i - 1].end) {
            const lbrx_gguf_tensor_info *a = &g->tensors[spans[i - 1].index], *b = &g->tensors[spans[i].index];
            lbrx_free(&g->allocator, spans);
            return lbrx__errorf(c->err, LBRX_ERR_BAD_OFFSET, b->info_offset, "tensor '%s' overlaps tensor '%s' (data offsets %llu and %llu)",
                                b->name, a->name, (unsigned long long)b->offset, (unsigned long long)a->offset);
        }
        if (spans[i].end < spans[i - 1].end) spans[i].end = spans[i - 1].end;  /* keep the furthest end */
    }
    lbrx_free(&g->allocator, spans);
    return LBRX_OK;
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_parse(lbrx_gguf *g, lbrx_error *err) {
    lbrx__gguf_cursor c;
    uint32_t magic_v, version;
    uint64_t n_kv, n_tensors, n_strs = 0, remain;
    size_t cap_kv = 0, cap_t = 0, i, dup = 0;
    lbrx_result r;
    memset(&c, 0, sizeof c);
    c.p = (const unsigned char *)lbrx_storage_data(g->storage);
    c.size = lbrx_storage_size(g->storage);
    c.err = err;
    snprintf(c.what, sizeof c.what, "header");
    if (c.size >= 4 && memcmp(c.p, "FUGG", 4) == 0)
        return lbrx__errorf(err, LBRX_ERR_BIG_ENDIAN, 0, "big-endian GGUF file (magic 'FUGG'): only little-endian files are read");
    if (c.size < 4 || memcmp(c.p, "GGUF", 4) != 0) {
        if (c.size < 4 && memcmp(c.p, "GGUF", (size_t)c.size) == 0)
            return lbrx__errorf(err, LBRX_ERR_TRUNCATED, 0, "header: the file ends inside the magic (%llu bytes)", (unsigned long long)c.size);
        return lbrx__errorf(err, LBRX_ERR_BAD_MAGIC, 0, "not a GGUF file (magic is not 'GGUF')");
    }
    c.pos = 4;
    if ((r = lbrx__gguf_u32(&c, &magic_v, "version")) != LBRX_OK) return r;
    version = magic_v;
    if (version != 0 && (version & 0xffffu) == 0)
        return lbrx__errorf(err, LBRX_ERR_BIG_ENDIAN, 4, "big-endian GGUF file (version field 0x%08x): only little-endian files are read",
                            (unsigned)version);
    if (version < 1 || version > 3)
        return lbrx__errorf(err, LBRX_ERR_BAD_VERSION, 4, "GGUF version %u is not 1, 2 or 3", (unsigned)version);
    g->version = version;
    c.v1 = version == 1;
    if ((r = lbrx__gguf_count(&c, &n_tensors, "tensor_count")) != LBRX_OK) return r;
    if ((r = lbrx__gguf_count(&c, &n_kv, "metadata_kv_count")) != LBRX_OK) return r;
    /* bound each count by the bytes that remain before allocating anything:
       a KV takes at least key length + 1 + type + 1, a tensor info name length + 1 + n_dims + type + offset */
    remain = c.size - c.pos;
    if (n_kv > remain / (c.v1 ? 10u : 14u))
        return lbrx__errorf(err, LBRX_ERR_TRUNCATED, c.v1 ? 12 : 16, "metadata_kv_count %llu does not fit in the %llu bytes that remain",
                            (unsigned long long)n_kv, (unsigned long long)remain);
    if (n_tensors > remain / (c.v1 ? 21u : 25u))
        return lbrx__errorf(err, LBRX_ERR_TRUNCATED, 8, "tensor_count %llu does not fit in the %llu bytes that remain",
                            (unsigned long long)n_tensors, (unsigned long long)remain);
    /* arrays grow with the records actually parsed, so a lying count costs no memory */
    for (i = 0; i < (size_t)n_kv; i++) {
        if (!lbrx__gguf_reserve(&g->allocator, (void **)&g->kvs, &cap_kv, i + 1, sizeof *g->kvs))
            return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, c.pos, "out of memory for metadata");
        if ((r = lbrx__gguf_kv_record(&c, i, &g->kvs[i], &n_strs)) != LBRX_OK) return r;
        g->n_kv = i + 1;
    }
    for (i = 0; i < (size_t)n_tensors; i++) {
        if (!lbrx__gguf_reserve(&g->allocator, (void **)&g->tensors, &cap_t, i + 1, sizeof *g->tensors))
            return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, c.pos, "out of memory for tensor infos");
        if ((r = lbrx__gguf_tensor_record(&c, i, &g->tensors[i])) != LBRX_OK) return r;
        g->n_tensors = i + 1;
    }
    {
        uint64_t end = c.pos;
        if ((r = lbrx__gguf_own_names(g, &c, n_strs)) != LBRX_OK) return r;
        c.pos = end;
    }
    r = lbrx__name_index_build(&g->kv_index, &g->allocator, g->n_kv, lbrx__gguf_kv_name_at, g->kvs, &dup);
    if (r == LBRX_ERR_DUPLICATE)
        return lbrx__errorf(err, r, g->kvs[dup].offset, "key '%s' appears twice", g->kvs[dup].key);
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "out of memory for the key index");
    r = lbrx__name_index_build(&g->tensor_index, &g->allocator, g->n_tensors, lbrx__gguf_tensor_name_at, g->tensors, &dup);
    if (r == LBRX_ERR_DUPLICATE)
        return lbrx__errorf(err, r, g->tensors[dup].info_offset, "tensor '%s' appears twice", g->tensors[dup].name);
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "out of memory for the tensor index");
    return lbrx__gguf_layout(g, &c);
}

LBRXDEF lbrx_result lbrx_gguf_open_storage(lbrx_gguf **out, lbrx_storage *storage, const lbrx_open_desc *opt,
                                           lbrx_error *err) {
    lbrx_gguf *g;
    lbrx_allocator a;
    lbrx_result r;
    if (!out || !storage) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_open_storage: NULL argument");
    *out = 0;
    if (opt) a = opt->allocator; else memset(&a, 0, sizeof a);
    g = (lbrx_gguf *)lbrx_alloc(&a, sizeof *g, 16);
    if (!g) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory");
    memset(g, 0, sizeof *g);
    g->allocator = a;
    g->storage = storage;
    lbrx_storage_retain(storage);
    r = lbrx__gguf_parse(g, err);
    if (r != LBRX_OK) { lbrx_gguf_destroy(g); return r; }
    *out = g;
    return LBRX_OK;
}

/* Open one file by path (no split set). */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_open_file(lbrx_gguf **out, const char *path, const lbrx_open_desc *opt,
                                                   lbrx_error *err) {
    lbrx_storage *s;
    lbrx_result r = lbrx_storage_open(&s, path, opt ? &opt->allocator : 0, err);
    if (r != LBRX_OK) return r;
    r = lbrx_gguf_open_storage(out, s, opt, err);
    lbrx_storage_release(s);
    return r;
}

/* An integer split key of g into *v; 0 (and *v = 0) when absent. Any other type is an error. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_split_key(const lbrx_gguf *g, const char *key, int64_t *v, lbrx_error *err) {
    size_t i = lbrx_gguf_find_key(g, key);
    lbrx_result r;
    *v = 0;
    if (i == SIZE_MAX) return LBRX_OK;
    r = lbrx_gguf_get_int(g, key, v, err);
    if (r == LBRX_OK && *v < 0) r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, g->kvs[i].offset, "key '%s' is negative (%lld)", key, (long long)*v);
    return r;
}

/* g is the first file (at `path`) of a set of n files: open the others and move their tensors
   into g's name space (SPLIT GGUF above). */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_open_split(lbrx_gguf *g, const char *path, int64_t n, const lbrx_open_desc *opt,
                                                    lbrx_error *err) {
    char tail[40], *p = 0;
    size_t len = strlen(path), tl, total = g->n_tensors, k, i, at, bytes, dup = 0, first;
    int64_t expect_tensors;
    lbrx_gguf_tensor_info *merged;
    lbrx_result r;
    snprintf(tail, sizeof tail, "-%05d-of-%05lld.gguf", 1, (long long)n);
    tl = strlen(tail);
    if (n > 99999 || len < tl || strcmp(path + len - tl, tail) != 0)
        return lbrx__errorf(err, LBRX_ERR_BAD_VALUE, g->kvs[lbrx_gguf_find_key(g, "split.count")].offset,
                            "%s: split.count is %lld but the file name does not end in %s", path, (long long)n, tail);
    if ((r = lbrx__gguf_split_key(g, "split.tensors.count", &expect_tensors, err)) != LBRX_OK) return r;
    g->shards = (lbrx_gguf **)lbrx_alloc(&g->allocator, (size_t)n * sizeof *g->shards, 16);
    p = (char *)lbrx_alloc(&g->allocator, len + 1, 16);
    if (!g->shards || !p) { lbrx_free(&g->allocator, p); return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory"); }
    memset(g->shards, 0, (size_t)n * sizeof *g->shards);
    g->shards[0] = g;
    g->n_shards = 1;
    memcpy(p, path, len + 1);
    r = LBRX_OK;
    for (k = 1; k < (size_t)n && r == LBRX_OK; k++) {
        lbrx_gguf *part = 0;
        int64_t no, count, nt;
        snprintf(p + len - tl, tl + 1, "-%05lld-of-%05lld.gguf", (long long)k + 1, (long long)n);
        r = lbrx__gguf_open_file(&part, p, opt, err);
        if (r != LBRX_OK) { lbrx__error_prefix(err, r == LBRX_ERR_NOT_FOUND ? "split GGUF: a file of the set is missing" : p); break; }
        g->shards[g->n_shards++] = part;
        if ((r = lbrx__gguf_split_key(part, "split.no", &no, err)) != LBRX_OK ||
            (r = lbrx__gguf_split_key(part, "split.count", &count, err)) != LBRX_OK ||
            (r = lbrx__gguf_split_key(part, "split.tensors.count", &nt, err)) != LBRX_OK) {
            lbrx__error_prefix(err, p);
            break;
        }
        if (lbrx_gguf_find_key(part, "split.no") == SIZE_MAX || no != (int64_t)k || count != n) {
            size_t ki = lbrx_gguf_find_key(part, no != (int64_t)k || lbrx_gguf_find_key(part, "split.no") == SIZE_MAX ? "split.no" : "split.count");
            r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, ki != SIZE_MAX ? part->kvs[ki].offset : LBRX__GGUF_NO_OFFSET,
                             "%s: file %zu of the split set has split.no %lld and split.count %lld (expected %zu and %lld)", p, k + 1,
                             lbrx_gguf_find_key(part, "split.no") == SIZE_MAX ? -1LL : (long long)no, (long long)count, k, (long long)n);
            break;
        }
        if (nt != expect_tensors) {
            size_t ki = lbrx_gguf_find_key(part, "split.tensors.count");
            r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, ki != SIZE_MAX ? part->kvs[ki].offset : LBRX__GGUF_NO_OFFSET,
                             "%s: split.tensors.count is %lld, the first file says %lld", p, (long long)nt, (long long)expect_tensors);
            break;
        }
        total += part->n_tensors;  /* cannot overflow: each tensor took bytes of a file */
    }
    lbrx_free(&g->allocator, p);
    if (r != LBRX_OK) return r;
    if (lbrx_gguf_find_key(g, "split.tensors.count") != SIZE_MAX && (uint64_t)expect_tensors != (uint64_t)total)
        return lbrx__errorf(err, LBRX_ERR_SIZE_MISMATCH, g->kvs[lbrx_gguf_find_key(g, "split.tensors.count")].offset,
                            "%s: split.tensors.count is %lld but the %lld files hold %zu tensors", path, (long long)expect_tensors,
                            (long long)n, total);
    /* one name space: the tensor infos of every file, in file order */
    if (!lbrx_mul_size(total ? total : 1, sizeof *merged, &bytes) ||
        !(merged = (lbrx_gguf_tensor_info *)lbrx_alloc(&g->allocator, bytes, 16)))
        return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory for %zu tensors", total);
    for (k = 0, at = 0; k < g->n_shards; k++)
        for (i = 0; i < g->shards[k]->n_tensors; i++) {
            merged[at] = g->shards[k]->tensors[i];
            merged[at++].shard = (uint32_t)k;
        }
    lbrx_free(&g->allocator, g->tensors);
    lbrx_free(&g->allocator, g->tensor_index.slot);
    g->tensor_index.slot = 0;
    g->tensors = merged;
    g->n_tensors = total;
    r = lbrx__name_index_build(&g->tensor_index, &g->allocator, g->n_tensors, lbrx__gguf_tensor_name_at, g->tensors, &dup);
    if (r == LBRX_ERR_DUPLICATE) {
        first = lbrx_gguf_find_tensor(g, g->tensors[dup].name);
        return lbrx__errorf(err, r, g->tensors[dup].info_offset, "%s: tensor '%s' is in files %u and %u of the split set", path,
                            g->tensors[dup].name, (unsigned)g->tensors[first].shard + 1, (unsigned)g->tensors[dup].shard + 1);
    }
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "out of memory for the tensor index");
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_gguf_open(lbrx_gguf **out, const char *path, const lbrx_open_desc *opt, lbrx_error *err) {
    lbrx_gguf *g = 0;
    int64_t n, no;
    lbrx_result r;
    if (!out || !path) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_open: NULL argument");
    *out = 0;
    r = lbrx__gguf_open_file(&g, path, opt, err);
    if (r != LBRX_OK) return r;
    if ((r = lbrx__gguf_split_key(g, "split.count", &n, err)) != LBRX_OK || (r = lbrx__gguf_split_key(g, "split.no", &no, err)) != LBRX_OK) {
        lbrx__error_prefix(err, path);
        lbrx_gguf_destroy(g);
        return r;
    }
    if (n > 1 && no == 0 && (r = lbrx__gguf_open_split(g, path, n, opt, err)) != LBRX_OK) {
        lbrx_gguf_destroy(g);
        return r;
    }
    *out = g;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_gguf_open_memory(lbrx_gguf **out, const void *data, size_t size, const lbrx_open_desc *opt,
                                          lbrx_error *err) {
    lbrx_storage *s;
    lbrx_result r;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_open_memory: out is NULL");
    *out = 0;
    r = lbrx_storage_create_external(&s, (void *)(uintptr_t)data, size, 0, 0, 0, opt ? &opt->allocator : 0, err);
    if (r != LBRX_OK) return r;
    r = lbrx_gguf_open_storage(out, s, opt, err);
    lbrx_storage_release(s);
    return r;
}

LBRXDEF void lbrx_gguf_destroy(lbrx_gguf *g) {
    lbrx_allocator a;
    if (!g) return;
    a = g->allocator;
    lbrx_free(&a, g->kv_index.slot);
    lbrx_free(&a, g->tensor_index.slot);
    lbrx_free(&a, g->kvs);
    lbrx_free(&a, g->tensors);
    lbrx_free(&a, g->strs);
    lbrx_free(&a, g->names);
    lbrx_storage_release(g->storage);
    if (g->shards) {
        size_t k;
        for (k = 1; k < g->n_shards; k++) lbrx_gguf_destroy(g->shards[k]);
        lbrx_free(&a, g->shards);
    }
    lbrx_free(&a, g);
}

LBRXDEF uint32_t lbrx_gguf_version(const lbrx_gguf *g) { return g->version; }
LBRXDEF uint32_t lbrx_gguf_alignment(const lbrx_gguf *g) { return g->alignment; }
LBRXDEF uint64_t lbrx_gguf_data_offset(const lbrx_gguf *g) { return g->data_offset; }
LBRXDEF lbrx_storage *lbrx_gguf_storage(const lbrx_gguf *g) { return g->storage; }
LBRXDEF size_t lbrx_gguf_shard_count(const lbrx_gguf *g) { return g->n_shards ? g->n_shards : 1; }
LBRXDEF lbrx_storage *lbrx_gguf_shard_storage(const lbrx_gguf *g, size_t k) {
    if (k == 0) return g->storage;
    return k < g->n_shards ? g->shards[k]->storage : 0;
}
LBRXDEF size_t lbrx_gguf_kv_count(const lbrx_gguf *g) { return g ? (size_t)g->n_kv : 0; }
LBRXDEF size_t lbrx_gguf_tensor_count(const lbrx_gguf *g) { return g ? (size_t)g->n_tensors : 0; }

LBRXDEF const lbrx_gguf_kv *lbrx_gguf_kv_at(const lbrx_gguf *g, size_t i) {
    return (g && i < (size_t)g->n_kv) ? &g->kvs[i] : 0;
}

LBRXDEF const lbrx_gguf_tensor_info *lbrx_gguf_tensor_info_at(const lbrx_gguf *g, size_t i) {
    return (g && i < (size_t)g->n_tensors) ? &g->tensors[i] : 0;
}

LBRXDEF const char *lbrx_gguf_tensor_name(const lbrx_gguf *g, size_t i) {
    const lbrx_gguf_tensor_info *t = lbrx_gguf_tensor_info_at(g, i);
    return t ? t->name : 0;
}

LBRXDEF uint64_t lbrx_gguf_tensor_offset(const lbrx_gguf *g, size_t i) {
    const lbrx_gguf_tensor_info *t = lbrx_gguf_tensor_info_at(g, i);
    return t ? t->file_offset : UINT64_MAX;
}

LBRXDEF size_t lbrx_gguf_find_key(const lbrx_gguf *g, const char *key) {
    if (!g || !key) return SIZE_MAX;
    return lbrx__name_index_find(&g->kv_index, key, strlen(key), lbrx__gguf_kv_name_at, g->kvs);
}

LBRXDEF size_t lbrx_gguf_find_tensor(const lbrx_gguf *g, const char *name) {
    if (!g || !name) return SIZE_MAX;
    return lbrx__name_index_find(&g->tensor_index, name, strlen(name), lbrx__gguf_tensor_name_at, g->tensors);
}

/* The KV of `key` if it has `type` (and, for arrays, elements of `elem_type`). */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_lookup(const lbrx_gguf *g, const char *key, lbrx_gguf_type type,
                                                lbrx_gguf_type elem_type, const lbrx_gguf_kv **out, lbrx_error *err) {
    size_t i = lbrx_gguf_find_key(g, key);
    const lbrx_gguf_kv *kv;
    if (i == SIZE_MAX) return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__GGUF_NO_OFFSET, "key '%s' not found", key ? key : "(null)");
    kv = &g->kvs[i];
    if (kv->type != type || kv->elem_type != elem_type) {
        if (kv->type == LBRX_GGUF_ARRAY || type == LBRX_GGUF_ARRAY)
            return lbrx__errorf(err, LBRX_ERR_TYPE_MISMATCH, kv->offset, "key '%s' is %s[%s], not %s[%s]", key,
                                lbrx_gguf_type_name(kv->type), lbrx_gguf_type_name(kv->elem_type),
                                lbrx_gguf_type_name(type), lbrx_gguf_type_name(elem_type));
        return lbrx__errorf(err, LBRX_ERR_TYPE_MISMATCH, kv->offset, "key '%s' is %s, not %s", key,
                            lbrx_gguf_type_name(kv->type), lbrx_gguf_type_name(type));
    }
    *out = kv;
    return LBRX_OK;
}

#define LBRX__GGUF_GETTER(fname, ctype, gtype)                                                            \
    LBRXDEF lbrx_result fname(const lbrx_gguf *g, const char *key, ctype *out, lbrx_error *err) {          \
        const lbrx_gguf_kv *kv;                                                                             \
        lbrx_result r = lbrx__gguf_lookup(g, key, gtype, gtype, &kv, err);                                  \
        if (r == LBRX_OK) memcpy(out, kv->data, sizeof(ctype));                                             \
        return r;                                                                                           \
    }
LBRX__GGUF_GETTER(lbrx_gguf_get_u8, uint8_t, LBRX_GGUF_UINT8)
LBRX__GGUF_GETTER(lbrx_gguf_get_i8, int8_t, LBRX_GGUF_INT8)
LBRX__GGUF_GETTER(lbrx_gguf_get_u16, uint16_t, LBRX_GGUF_UINT16)
LBRX__GGUF_GETTER(lbrx_gguf_get_i16, int16_t, LBRX_GGUF_INT16)
LBRX__GGUF_GETTER(lbrx_gguf_get_u32, uint32_t, LBRX_GGUF_UINT32)
LBRX__GGUF_GETTER(lbrx_gguf_get_i32, int32_t, LBRX_GGUF_INT32)
LBRX__GGUF_GETTER(lbrx_gguf_get_u64, uint64_t, LBRX_GGUF_UINT64)
LBRX__GGUF_GETTER(lbrx_gguf_get_i64, int64_t, LBRX_GGUF_INT64)
LBRX__GGUF_GETTER(lbrx_gguf_get_f32, float, LBRX_GGUF_FLOAT32)
LBRX__GGUF_GETTER(lbrx_gguf_get_f64, double, LBRX_GGUF_FLOAT64)
#undef LBRX__GGUF_GETTER

LBRXDEF lbrx_result lbrx_gguf_get_bool(const lbrx_gguf *g, const char *key, int *out, lbrx_error *err) {
    const lbrx_gguf_kv *kv;
    lbrx_result r = lbrx__gguf_lookup(g, key, LBRX_GGUF_BOOL, LBRX_GGUF_BOOL, &kv, err);
    if (r == LBRX_OK) *out = *(const unsigned char *)kv->data;
    return r;
}

LBRXDEF lbrx_result lbrx_gguf_get_str(const lbrx_gguf *g, const char *key, lbrx_gguf_str *out, lbrx_error *err) {
    const lbrx_gguf_kv *kv;
    lbrx_result r = lbrx__gguf_lookup(g, key, LBRX_GGUF_STRING, LBRX_GGUF_STRING, &kv, err);
    if (r == LBRX_OK) *out = kv->str;
    return r;
}

LBRXDEF lbrx_result lbrx_gguf_get_int(const lbrx_gguf *g, const char *key, int64_t *out, lbrx_error *err) {
    size_t i = lbrx_gguf_find_key(g, key);
    const lbrx_gguf_kv *kv;
    const unsigned char *p;
    if (i == SIZE_MAX) return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__GGUF_NO_OFFSET, "key '%s' not found", key ? key : "(null)");
    kv = &g->kvs[i];
    p = (const unsigned char *)kv->data;
    switch (kv->type) {
    case LBRX_GGUF_UINT8: *out = p[0]; return LBRX_OK;
    case LBRX_GGUF_INT8: *out = (int8_t)p[0]; return LBRX_OK;
    case LBRX_GGUF_UINT16: { uint16_t v; memcpy(&v, p, 2); *out = v; return LBRX_OK; }
    case LBRX_GGUF_INT16: { int16_t v; memcpy(&v, p, 2); *out = v; return LBRX_OK; }
    case LBRX_GGUF_UINT32: { uint32_t v; memcpy(&v, p, 4); *out = v; return LBRX_OK; }
    case LBRX_GGUF_INT32: { int32_t v; memcpy(&v, p, 4); *out = v; return LBRX_OK; }
    case LBRX_GGUF_INT64: memcpy(out, p, 8); return LBRX_OK;
    case LBRX_GGUF_UINT64: {
        uint64_t v;
        memcpy(&v, p, 8);
        if (v > (uint64_t)INT64_MAX)
            return lbrx__errorf(err, LBRX_ERR_OVERFLOW, kv->offset, "key '%s' = %llu does not fit in int64", key, (unsigned long long)v);
        *out = (int64_t)v;
        return LBRX_OK;
    }
    default:
        return lbrx__errorf(err, LBRX_ERR_TYPE_MISMATCH, kv->offset, "key '%s' is %s, not an integer", key,
                            lbrx_gguf_type_name(kv->type));
    }
}

LBRXDEF lbrx_result lbrx_gguf_get_array(const lbrx_gguf *g, const char *key, lbrx_gguf_type elem_type,
                                        const void **data, uint64_t *count, lbrx_error *err) {
    const lbrx_gguf_kv *kv;
    lbrx_result r;
    if (elem_type == LBRX_GGUF_STRING)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "key '%s': use lbrx_gguf_get_str_array for strings", key);
    r = lbrx__gguf_lookup(g, key, LBRX_GGUF_ARRAY, elem_type, &kv, err);
    if (r == LBRX_OK) { *data = kv->data; *count = kv->count; }
    return r;
}

LBRXDEF lbrx_result lbrx_gguf_get_str_array(const lbrx_gguf *g, const char *key, const lbrx_gguf_str **strs,
                                            uint64_t *count, lbrx_error *err) {
    const lbrx_gguf_kv *kv;
    lbrx_result r = lbrx__gguf_lookup(g, key, LBRX_GGUF_ARRAY, LBRX_GGUF_STRING, &kv, err);
    if (r == LBRX_OK) { *strs = kv->strs; *count = kv->count; }
    return r;
}

LBRXDEF lbrx_result lbrx_gguf_tensor(const lbrx_gguf *g, size_t i, lbrx_tensor *out, lbrx_error *err) {
    const lbrx_gguf_tensor_info *t = lbrx_gguf_tensor_info_at(g, i);
    if (!t || !out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_tensor: no tensor #%zu", i);
    return lbrx_tensor_init(out, t->dtype, t->ndim, t->shape, lbrx_gguf_shard_storage(g, t->shard), t->file_offset, err);
}

LBRXDEF lbrx_result lbrx_gguf_get_tensor(const lbrx_gguf *g, const char *name, lbrx_tensor *out, lbrx_error *err) {
    size_t i = lbrx_gguf_find_tensor(g, name);
    if (i == SIZE_MAX) return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__GGUF_NO_OFFSET, "tensor '%s' not found", name ? name : "(null)");
    return lbrx_gguf_tensor(g, i, out, err);
}

/* ============================================================================================
   Writer
   ============================================================================================ */

typedef struct lbrx__gguf_wkv {
    unsigned char *bytes;         /* the encoded record: u64 key length, key, u32 type, value */
    size_t nbytes;
    uint64_t key_len;
} lbrx__gguf_wkv;

typedef struct lbrx__gguf_wtensor {
    char name[LBRX_GGUF_MAX_NAME + 1];
    uint64_t name_len;
    lbrx_dtype dtype;
    int ndim;
    int64_t shape[LBRX_GGUF_MAX_DIMS];
    uint64_t nbytes;
    lbrx_tensor t;                /* the source, when fill is NULL */
    lbrx_fill_fn fill;
    void *user;
} lbrx__gguf_wtensor;

struct lbrx_gguf_writer {
    lbrx_allocator allocator;
    lbrx__gguf_wkv *kvs;
    size_t n_kv, cap_kv;
    lbrx__gguf_wtensor *tensors;
    size_t n_tensors, cap_tensors;
    uint32_t alignment;
};

LBRXDEF lbrx_result lbrx_gguf_writer_create(lbrx_gguf_writer **out, const lbrx_allocator *allocator, lbrx_error *err) {
    lbrx_gguf_writer *w;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_create: out is NULL");
    w = (lbrx_gguf_writer *)lbrx_alloc(allocator, sizeof *w, 16);
    if (!w) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory");
    memset(w, 0, sizeof *w);
    if (allocator) w->allocator = *allocator;
    w->alignment = LBRX_GGUF_DEFAULT_ALIGNMENT;
    *out = w;
    return LBRX_OK;
}

LBRXDEF void lbrx_gguf_writer_destroy(lbrx_gguf_writer *w) {
    lbrx_allocator a;
    size_t i;
    if (!w) return;
    a = w->allocator;
    for (i = 0; i < w->n_kv; i++) lbrx_free(&a, w->kvs[i].bytes);
    for (i = 0; i < w->n_tensors; i++) lbrx_tensor_release(&w->tensors[i].t);
    lbrx_free(&a, w->kvs);
    lbrx_free(&a, w->tensors);
    lbrx_free(&a, w);
}

/* Encoded size of `count` values of elem_type (strings from `values`), overflow-checked. */
LBRX__GGUF_PRIVATE int lbrx__gguf_values_size(lbrx_gguf_type t, const void *values, uint64_t count, size_t *out) {
    size_t total = 0;
    uint64_t i;
    if (t != LBRX_GGUF_STRING) {
        if (count > (uint64_t)SIZE_MAX) return 0;
        return lbrx_mul_size((size_t)count, lbrx_gguf_type_size(t), out);
    }
    for (i = 0; i < count; i++) {
        const lbrx_gguf_str *s = (const lbrx_gguf_str *)values + i;
        if (s->len > (uint64_t)SIZE_MAX || !lbrx_add_size(total, 8, &total) || !lbrx_add_size(total, (size_t)s->len, &total))
            return 0;
    }
    *out = total;
    return 1;
}

LBRX__GGUF_PRIVATE unsigned char *lbrx__gguf_put(unsigned char *p, const void *v, size_t n) {
    if (n) memcpy(p, v, n);
    return p + n;
}

/* Append a record; `array` says whether it is an array of `count` elements. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_writer_kv(lbrx_gguf_writer *w, const char *key, int array, lbrx_gguf_type t,
                                                   const void *values, uint64_t count, lbrx_error *err) {
    uint64_t key_len, i;
    size_t vbytes, total;
    lbrx_result code;
    const char *why;
    unsigned char *p;
    lbrx__gguf_wkv *kv;
    if (!w || !key || (!values && count))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_add: NULL argument");
    key_len = strlen(key);
    if ((why = lbrx__gguf_check_key(key, key_len, &code)) != 0) return lbrx__errorf(err, code, LBRX__GGUF_NO_OFFSET, "key '%.80s': %s", key, why);
    if ((unsigned)t >= LBRX_GGUF_TYPE_COUNT || t == LBRX_GGUF_ARRAY)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "key '%s': value type %d cannot be written%s", key,
                            (int)t, t == LBRX_GGUF_ARRAY ? " (nested arrays are not supported)" : "");
    if (array && count > LBRX_GGUF_MAX_ARRAY)
        return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__GGUF_NO_OFFSET, "key '%s': %llu elements exceed LBRX_GGUF_MAX_ARRAY", key, (unsigned long long)count);
    if (t == LBRX_GGUF_BOOL)
        for (i = 0; i < count; i++)
            if (((const unsigned char *)values)[i] > 1)
                return lbrx__errorf(err, LBRX_ERR_BAD_VALUE, LBRX__GGUF_NO_OFFSET, "key '%s': bool value %u is neither 0 nor 1", key,
                                    (unsigned)((const unsigned char *)values)[i]);
    if (strcmp(key, "general.alignment") == 0) {
        uint32_t a;
        if (array || t != LBRX_GGUF_UINT32)
            return lbrx__errorf(err, LBRX_ERR_TYPE_MISMATCH, LBRX__GGUF_NO_OFFSET, "key 'general.alignment' must be u32");
        memcpy(&a, values, 4);
        if (!lbrx__gguf_alignment_ok(a))
            return lbrx__errorf(err, LBRX_ERR_BAD_ALIGNMENT, LBRX__GGUF_NO_OFFSET, "general.alignment %u is not a power of two in [%u, %u]",
                                (unsigned)a, LBRX_GGUF_MIN_ALIGNMENT, (unsigned)LBRX_GGUF_MAX_ALIGNMENT);
        w->alignment = a;
    }
    if (!lbrx__gguf_values_size(t, values, count, &vbytes) ||
        !lbrx_add_size(vbytes, 8 + (size_t)key_len + 4 + (array ? 12 : 0), &total))
        return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__GGUF_NO_OFFSET, "key '%s': value too large", key);
    if (!lbrx__gguf_reserve(&w->allocator, (void **)&w->kvs, &w->cap_kv, w->n_kv + 1, sizeof *w->kvs) ||
        !(p = (unsigned char *)lbrx_alloc(&w->allocator, total, 16)))
        return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "key '%s': out of memory", key);
    kv = &w->kvs[w->n_kv++];
    kv->bytes = p;
    kv->nbytes = total;
    kv->key_len = key_len;
    p = lbrx__gguf_put(p, &key_len, 8);
    p = lbrx__gguf_put(p, key, (size_t)key_len);
    {
        uint32_t tt = array ? (uint32_t)LBRX_GGUF_ARRAY : (uint32_t)t, et = (uint32_t)t;
        p = lbrx__gguf_put(p, &tt, 4);
        if (array) {
            p = lbrx__gguf_put(p, &et, 4);
            p = lbrx__gguf_put(p, &count, 8);
        }
    }
    if (t != LBRX_GGUF_STRING) {
        lbrx__gguf_put(p, values, vbytes);
    } else {
        for (i = 0; i < count; i++) {
            const lbrx_gguf_str *s = (const lbrx_gguf_str *)values + i;
            p = lbrx__gguf_put(p, &s->len, 8);
            p = lbrx__gguf_put(p, s->data, (size_t)s->len);
        }
    }
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_gguf_writer_add(lbrx_gguf_writer *w, const char *key, lbrx_gguf_type type, const void *value,
                                         lbrx_error *err) {
    if (!value) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_add: value is NULL");
    return lbrx__gguf_writer_kv(w, key, 0, type, value, 1, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_add_array(lbrx_gguf_writer *w, const char *key, lbrx_gguf_type elem_type,
                                               const void *values, uint64_t count, lbrx_error *err) {
    return lbrx__gguf_writer_kv(w, key, 1, elem_type, values, count, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_add_u32(lbrx_gguf_writer *w, const char *key, uint32_t v, lbrx_error *err) {
    return lbrx_gguf_writer_add(w, key, LBRX_GGUF_UINT32, &v, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_add_f32(lbrx_gguf_writer *w, const char *key, float v, lbrx_error *err) {
    return lbrx_gguf_writer_add(w, key, LBRX_GGUF_FLOAT32, &v, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_add_str(lbrx_gguf_writer *w, const char *key, const char *v, lbrx_error *err) {
    lbrx_gguf_str s;
    if (!v) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_add_str: value is NULL");
    s.data = v;
    s.len = strlen(v);
    return lbrx_gguf_writer_add(w, key, LBRX_GGUF_STRING, &s, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_copy_kv(lbrx_gguf_writer *w, const lbrx_gguf_kv *kv, lbrx_error *err) {
    if (!kv) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_copy_kv: kv is NULL");
    if (kv->type == LBRX_GGUF_ARRAY)
        return lbrx__gguf_writer_kv(w, kv->key, 1, kv->elem_type, kv->elem_type == LBRX_GGUF_STRING ? (const void *)kv->strs : kv->data,
                                    kv->count, err);
    return lbrx__gguf_writer_kv(w, kv->key, 0, kv->type, kv->type == LBRX_GGUF_STRING ? (const void *)&kv->str : kv->data, 1, err);
}

/* Append a tensor entry after checking its name, dtype and shape. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_writer_tensor(lbrx_gguf_writer *w, const char *name, lbrx_dtype dtype, int ndim,
                                                       const int64_t *shape, lbrx__gguf_wtensor **out, lbrx_error *err) {
    lbrx__gguf_wtensor *t;
    lbrx_result r, code;
    lbrx_error e;
    const char *why;
    uint64_t len;
    size_t nbytes;
    int64_t stride[LBRX_MAX_DIMS];
    int d;
    if (!w || !name || (ndim > 0 && !shape))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_add_tensor: NULL argument");
    len = strlen(name);
    if ((why = lbrx__gguf_check_name(name, len, &code)) != 0) return lbrx__errorf(err, code, LBRX__GGUF_NO_OFFSET, "tensor '%.80s': %s", name, why);
    if ((int)dtype < 0 || (int)dtype >= LBRX_GGML_TYPE_COUNT || !lbrx_dtype_valid((int)dtype))
        return lbrx__errorf(err, LBRX_ERR_BAD_DTYPE, LBRX__GGUF_NO_OFFSET, "tensor '%s': dtype %d has no GGML type id", name, (int)dtype);
    if (ndim < 0 || ndim > LBRX_GGUF_MAX_DIMS)
        return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, LBRX__GGUF_NO_OFFSET, "tensor '%s': rank %d is outside 0..%d", name, ndim, LBRX_GGUF_MAX_DIMS);
    r = lbrx__shape_layout(dtype, ndim, shape, stride, &nbytes, &e);
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "tensor '%s': %s", name, e.message);
    if (!lbrx__gguf_reserve(&w->allocator, (void **)&w->tensors, &w->cap_tensors, w->n_tensors + 1, sizeof *w->tensors))
        return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "tensor '%s': out of memory", name);
    t = &w->tensors[w->n_tensors++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, (size_t)len + 1);
    t->name_len = len;
    t->dtype = dtype;
    t->ndim = ndim;
    for (d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->nbytes = nbytes;
    *out = t;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_gguf_writer_add_tensor(lbrx_gguf_writer *w, const char *name, const lbrx_tensor *t, lbrx_error *err) {
    lbrx__gguf_wtensor *e;
    lbrx_result r;
    if (!t) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_add_tensor: tensor is NULL");
    r = lbrx__gguf_writer_tensor(w, name, t->dtype, t->ndim, t->shape, &e, err);
    if (r != LBRX_OK) return r;
    e->t = *t;
    lbrx_storage_retain(e->t.storage);
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_gguf_writer_add_tensor_fill(lbrx_gguf_writer *w, const char *name, lbrx_dtype dtype, int ndim,
                                                     const int64_t *shape, lbrx_fill_fn fill, void *user, lbrx_error *err) {
    lbrx__gguf_wtensor *e;
    lbrx_result r;
    if (!fill) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_add_tensor_fill: fill is NULL");
    r = lbrx__gguf_writer_tensor(w, name, dtype, ndim, shape, &e, err);
    if (r != LBRX_OK) return r;
    e->fill = fill;
    e->user = user;
    return LBRX_OK;
}

LBRX__GGUF_PRIVATE const char *lbrx__gguf_wkv_name_at(const void *items, size_t i, size_t *len) {
    const lbrx__gguf_wkv *kv = (const lbrx__gguf_wkv *)items + i;
    *len = (size_t)kv->key_len;
    return (const char *)kv->bytes + 8;
}

LBRX__GGUF_PRIVATE const char *lbrx__gguf_wtensor_name_at(const void *items, size_t i, size_t *len) {
    const lbrx__gguf_wtensor *t = (const lbrx__gguf_wtensor *)items + i;
    *len = (size_t)t->name_len;
    return t->name;
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_fwrite(FILE *f, const void *p, size_t n, uint64_t *pos, lbrx_error *err) {
    if (n && fwrite(p, 1, n, f) != n)
        return lbrx__errorf(err, LBRX_ERR_IO, *pos, "write of %zu bytes failed", n);
    *pos += n;
    return LBRX_OK;
}

/* Zero bytes up to the next multiple of a. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_pad(FILE *f, uint64_t a, uint64_t *pos, lbrx_error *err) {
    static const unsigned char zeros[256] = {0};
    uint64_t n = (a - *pos % a) % a;
    while (n) {
        size_t k = n > sizeof zeros ? sizeof zeros : (size_t)n;
        lbrx_result r = lbrx__gguf_fwrite(f, zeros, k, pos, err);
        if (r != LBRX_OK) return r;
        n -= k;
    }
    return LBRX_OK;
}

/* The sink of filled tensors: the file and its position. */
typedef struct lbrx__gguf_sink { FILE *f; uint64_t *pos; } lbrx__gguf_sink;

LBRX__GGUF_PRIVATE int lbrx__gguf_sink_write(const void *p, size_t n, void *user) {
    lbrx__gguf_sink *s = (lbrx__gguf_sink *)user;
    return lbrx__gguf_fwrite(s->f, p, n, s->pos, 0) != LBRX_OK;
}

/* The bytes of tensor i. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_write_data(lbrx_gguf_writer *w, size_t i, FILE *f, uint64_t *pos, lbrx_error *err) {
    const lbrx__gguf_wtensor *t = &w->tensors[i];
    int64_t nrows, r0;
    size_t row = 0;
    lbrx_result r;
    if (t->nbytes == 0) return LBRX_OK;
    if (t->fill) {
        lbrx__gguf_sink sink;
        sink.f = f;
        sink.pos = pos;
        return lbrx__fill_stream(t->fill, t->user, i, t->name, t->dtype, t->ndim, t->shape, lbrx__gguf_sink_write, &sink,
                                 &w->allocator, err);
    }
    if (lbrx_tensor_is_contiguous(&t->t)) return lbrx__gguf_fwrite(f, t->t.data, (size_t)t->nbytes, pos, err);
    nrows = lbrx_tensor_nrows(&t->t);
    lbrx_row_bytes(t->dtype, t->shape[t->ndim - 1], &row);  /* not contiguous: rank >= 1 */
    for (r0 = 0; r0 < nrows; r0++)
        if ((r = lbrx__gguf_fwrite(f, lbrx_tensor_row(&t->t, r0), row, pos, err)) != LBRX_OK) return r;
    return LBRX_OK;
}

/* Duplicate keys and tensor names of w: an error, before anything is written. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_writer_check(lbrx_gguf_writer *w, lbrx_error *err) {
    lbrx__name_index ix;
    size_t dup = 0;
    lbrx_result r = lbrx__name_index_build(&ix, &w->allocator, w->n_kv, lbrx__gguf_wkv_name_at, w->kvs, &dup);
    lbrx_free(&w->allocator, ix.slot);
    if (r == LBRX_ERR_DUPLICATE) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "key '%.*s' was added twice", (int)w->kvs[dup].key_len, (const char *)w->kvs[dup].bytes + 8);
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "out of memory");
    r = lbrx__name_index_build(&ix, &w->allocator, w->n_tensors, lbrx__gguf_wtensor_name_at, w->tensors, &dup);
    lbrx_free(&w->allocator, ix.slot);
    if (r == LBRX_ERR_DUPLICATE) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "tensor '%s' was added twice", w->tensors[dup].name);
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__GGUF_NO_OFFSET, "out of memory");
    return LBRX_OK;
}

/* One GGUF file: the KVs of `pre` (may be NULL), then w's KVs when with_kvs, then tensors
   [t0, t1) of w. */
LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_write_part(lbrx_gguf_writer *w, const lbrx_gguf_writer *pre, int with_kvs, size_t t0,
                                                    size_t t1, FILE *f, lbrx_error *err) {
    uint64_t pos = 0, off = 0, n;
    uint32_t u;
    size_t i, n_pre = pre ? pre->n_kv : 0;
    lbrx_result r;
    if ((r = lbrx__gguf_fwrite(f, "GGUF", 4, &pos, err)) != LBRX_OK) return r;
    u = 3;
    if ((r = lbrx__gguf_fwrite(f, &u, 4, &pos, err)) != LBRX_OK) return r;
    n = t1 - t0;
    if ((r = lbrx__gguf_fwrite(f, &n, 8, &pos, err)) != LBRX_OK) return r;
    n = n_pre + (with_kvs ? w->n_kv : 0);
    if ((r = lbrx__gguf_fwrite(f, &n, 8, &pos, err)) != LBRX_OK) return r;
    for (i = 0; i < n_pre; i++)
        if ((r = lbrx__gguf_fwrite(f, pre->kvs[i].bytes, pre->kvs[i].nbytes, &pos, err)) != LBRX_OK) return r;
    for (i = 0; with_kvs && i < w->n_kv; i++)
        if ((r = lbrx__gguf_fwrite(f, w->kvs[i].bytes, w->kvs[i].nbytes, &pos, err)) != LBRX_OK) return r;
    for (i = t0; i < t1; i++) {
        const lbrx__gguf_wtensor *t = &w->tensors[i];
        int d;
        if ((r = lbrx__gguf_fwrite(f, &t->name_len, 8, &pos, err)) != LBRX_OK) return r;
        if ((r = lbrx__gguf_fwrite(f, t->name, (size_t)t->name_len, &pos, err)) != LBRX_OK) return r;
        u = (uint32_t)t->ndim;
        if ((r = lbrx__gguf_fwrite(f, &u, 4, &pos, err)) != LBRX_OK) return r;
        for (d = t->ndim - 1; d >= 0; d--) {  /* GGUF order: innermost first */
            n = (uint64_t)t->shape[d];
            if ((r = lbrx__gguf_fwrite(f, &n, 8, &pos, err)) != LBRX_OK) return r;
        }
        u = (uint32_t)t->dtype;
        if ((r = lbrx__gguf_fwrite(f, &u, 4, &pos, err)) != LBRX_OK) return r;
        if ((r = lbrx__gguf_fwrite(f, &off, 8, &pos, err)) != LBRX_OK) return r;
        if (!lbrx__gguf_align_up(t->nbytes, w->alignment, &n) || !lbrx_add_u64(off, n, &off))
            return lbrx__errorf(err, LBRX_ERR_OVERFLOW, pos, "tensor '%s': data offsets overflow", t->name);
    }
    if (t1 == t0) return LBRX_OK;
    if ((r = lbrx__gguf_pad(f, w->alignment, &pos, err)) != LBRX_OK) return r;
    for (i = t0; i < t1; i++) {
        if ((r = lbrx__gguf_write_data(w, i, f, &pos, err)) != LBRX_OK) return r;
        if ((r = lbrx__gguf_pad(f, w->alignment, &pos, err)) != LBRX_OK) return r;
    }
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_gguf_writer_write(lbrx_gguf_writer *w, FILE *f, lbrx_error *err) {
    lbrx_result r;
    if (!w || !f) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_write: NULL argument");
    if ((r = lbrx__gguf_writer_check(w, err)) != LBRX_OK) return r;
    return lbrx__gguf_write_part(w, 0, 1, 0, w->n_tensors, f, err);
}

/* What lbrx__gguf_split_body writes: file k of a split set. */
typedef struct lbrx__gguf_split_job {
    lbrx_gguf_writer *w, *keys;  /* keys: the split.* KVs of this file */
    size_t k, t0, t1;
} lbrx__gguf_split_job;

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_split_body(FILE *f, void *user, lbrx_error *err) {
    const lbrx__gguf_split_job *j = (const lbrx__gguf_split_job *)user;
    return lbrx__gguf_write_part(j->w, j->keys, j->k == 0, j->t0, j->t1, f, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_write_split(lbrx_gguf_writer *w, const char *prefix, uint64_t max_shard_bytes,
                                                 lbrx_error *err) {
    static const char *const reserved[3] = {"split.no", "split.count", "split.tensors.count"};
    lbrx__gguf_split_job job;
    lbrx_gguf_writer *keys = 0;
    size_t *first = 0, n_files = 0, i, k, cap;
    uint64_t cur = 0, padded;
    char *path = 0;
    lbrx_result r;
    if (!w || !prefix) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_write_split: NULL argument");
    if ((r = lbrx__gguf_writer_check(w, err)) != LBRX_OK) return r;
    for (i = 0; i < w->n_kv; i++)
        for (k = 0; k < 3; k++)
            if (w->kvs[i].key_len == strlen(reserved[k]) && memcmp(w->kvs[i].bytes + 8, reserved[k], strlen(reserved[k])) == 0)
                return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "key '%s' is written by lbrx_gguf_writer_write_split", reserved[k]);
    if (w->n_tensors > (size_t)INT32_MAX)
        return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__GGUF_NO_OFFSET, "%zu tensors do not fit split.tensors.count (i32)", w->n_tensors);
    /* cut: first[k] = index of file k's first tensor; a tensor larger than the limit gets a file of its own */
    first = (size_t *)lbrx_alloc(&w->allocator, (w->n_tensors + 2) * sizeof *first, 16);
    cap = strlen(prefix) + 32;
    path = (char *)lbrx_alloc(&w->allocator, cap, 16);
    if (!first || !path) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__GGUF_NO_OFFSET, "out of memory"); goto done; }
    first[n_files++] = 0;
    for (i = 0; i < w->n_tensors; i++) {
        if (!lbrx__gguf_align_up(w->tensors[i].nbytes, w->alignment, &padded)) padded = UINT64_MAX;
        if (i > 0 && (cur > max_shard_bytes || padded > max_shard_bytes - cur)) { first[n_files++] = i; cur = 0; }
        cur = padded > UINT64_MAX - cur ? UINT64_MAX : cur + padded;
    }
    first[n_files] = w->n_tensors;
    if (n_files > 65535) { r = lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__GGUF_NO_OFFSET, "%zu files: split.count is a u16", n_files); goto done; }
    for (k = 0; k < n_files; k++) {
        uint16_t no = (uint16_t)k, count = (uint16_t)n_files;
        int32_t nt = (int32_t)w->n_tensors;
        if ((r = lbrx_gguf_writer_create(&keys, &w->allocator, err)) != LBRX_OK) goto done;
        if ((r = lbrx_gguf_writer_add(keys, "split.no", LBRX_GGUF_UINT16, &no, err)) != LBRX_OK ||
            (r = lbrx_gguf_writer_add(keys, "split.count", LBRX_GGUF_UINT16, &count, err)) != LBRX_OK ||
            (r = lbrx_gguf_writer_add(keys, "split.tensors.count", LBRX_GGUF_INT32, &nt, err)) != LBRX_OK)
            goto done;
        snprintf(path, cap, "%s-%05zu-of-%05zu.gguf", prefix, k + 1, n_files);
        job.w = w;
        job.keys = keys;
        job.k = k;
        job.t0 = first[k];
        job.t1 = first[k + 1];
        if ((r = lbrx__write_file(path, lbrx__gguf_split_body, &job, &w->allocator, err)) != LBRX_OK) { lbrx__error_prefix(err, path); goto done; }
        lbrx_gguf_writer_destroy(keys);
        keys = 0;
    }
    r = LBRX_OK;
done:
    lbrx_gguf_writer_destroy(keys);
    lbrx_free(&w->allocator, first);
    lbrx_free(&w->allocator, path);
    return r;
}

LBRX__GGUF_PRIVATE lbrx_result lbrx__gguf_write_body(FILE *f, void *w, lbrx_error *err) {
    return lbrx_gguf_writer_write((lbrx_gguf_writer *)w, f, err);
}

LBRXDEF lbrx_result lbrx_gguf_writer_write_path(lbrx_gguf_writer *w, const char *path, lbrx_error *err) {
    if (!w || !path) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__GGUF_NO_OFFSET, "lbrx_gguf_writer_write_path: NULL argument");
    return lbrx__write_file(path, lbrx__gguf_write_body, w, &w->allocator, err);
}

#endif /* LBRX_GGUF_IMPLEMENTATION */
