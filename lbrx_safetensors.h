/* lbrx_safetensors.h - part of lbrx (see lbrx.h). Public domain or MIT, your choice: see lbrx.h.

   DO THIS in exactly one C or C++ file:  #define LBRX_SAFETENSORS_IMPLEMENTATION  (or LBRX_IMPL)
                                          #include "lbrx_safetensors.h"

   QUICK START

       lbrx_safetensors *st; lbrx_tensor w; lbrx_error err; size_t i;
       if (lbrx_safetensors_open(&st, "model.safetensors", NULL, &err) != LBRX_OK) {
           fprintf(stderr, "error: %s\n", err.message); return 1;     // names field + file offset
       }
       for (i = 0; i < lbrx_safetensors_tensor_count(st); i++)         // file order
           printf("%s\n", lbrx_safetensors_tensor_name(st, i));
       if (lbrx_safetensors_get_tensor(st, "lm_head.weight", &w, &err) != LBRX_OK) ...
       // w.data points into the mapping; w holds its own reference to it
       lbrx_safetensors_destroy(st);
       lbrx_tensor_release(&w);

   The same calls read a sharded checkpoint: open its model.safetensors.index.json.

   COMPILE-TIME OPTIONS

       LBRX_SAFETENSORS_MAX_HEADER  largest JSON header accepted, bytes (default 100000000, the
                                    reference implementation's cap)
       LBRX_JSON_MAX_DEPTH          default nesting limit of lbrx_json_parse (default 64)
       LBRX_JSON_MAX_VALUES         default limit on values (keys included) in one document
                                    (default 1 << 22: about 300,000 tensors in one header; a
                                    value costs 64 bytes while parsing)

   SECURITY

       Opening validates everything before a tensor is returned: the header length against the
       file, the JSON (strict RFC 8259: UTF-8 checked, all escapes, no duplicate keys, nesting
       limited, no recursion), the schema, every dtype and shape (overflow-checked), and that the
       tensors tile the byte buffer exactly (start at 0, no overlap, no hole, no trailing bytes).
       Tensor names must not contain NUL; empty names are accepted (the reference accepts them).
       Tensor data is NOT assumed aligned: files of old writers place it at any address;
       lbrx_tensor_alignment() tells what a tensor has. See lbrx.h about files modified while mapped.
*/
#ifndef LBRX_SAFETENSORS_H
#define LBRX_SAFETENSORS_H
#include "lbrx.h"

#ifndef LBRX_SAFETENSORS_MAX_HEADER
#define LBRX_SAFETENSORS_MAX_HEADER 100000000
#endif
#ifndef LBRX_JSON_MAX_DEPTH
#define LBRX_JSON_MAX_DEPTH 64
#endif
#ifndef LBRX_JSON_MAX_VALUES
#define LBRX_JSON_MAX_VALUES ((size_t)1 << 22)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
   JSON: a small strict reader (used for safetensors headers, shard indexes, HF config.json)
   ============================================================================================ */

typedef enum lbrx_json_type {
    LBRX_JSON_NULL = 0, LBRX_JSON_BOOL, LBRX_JSON_NUMBER, LBRX_JSON_STRING, LBRX_JSON_ARRAY, LBRX_JSON_OBJECT
} lbrx_json_type;

typedef struct lbrx_json lbrx_json;              /* a parsed document (owns all its values) */
typedef struct lbrx_json_value lbrx_json_value;  /* one value inside a document */

/* Options of one parse; a zeroed struct (or NULL) means the defaults. */
typedef struct lbrx_json_desc {
    int max_depth;             /* arrays/objects nested deeper fail with LBRX_ERR_LIMIT; 0: LBRX_JSON_MAX_DEPTH */
    size_t max_values;         /* more values (incl. keys) fail with LBRX_ERR_LIMIT; 0: LBRX_JSON_MAX_VALUES */
    lbrx_allocator allocator;  /* for the document; zeroed: the default allocator */
} lbrx_json_desc;

/* Parse `len` bytes of JSON text (one value, surrounded by optional whitespace). Strict: UTF-8
   validated, every escape decoded (\u0000 included, surrogate pairs joined, lone surrogates
   refused), control characters in strings refused, numbers checked against the JSON grammar,
   duplicate keys in an object refused (LBRX_ERR_DUPLICATE). Syntax errors are
   LBRX_ERR_BAD_HEADER with the byte offset. The text is copied where needed: the caller may free
   it after the call. Time and memory are linear in len. Thread safety: a document is read-only
   after parsing; any number of threads may read it. */
LBRXDEF lbrx_result lbrx_json_parse(lbrx_json **out, const void *text, size_t len, const lbrx_json_desc *desc,
                                    lbrx_error *err);
/* Free a document and all its values. NULL is ok. */
LBRXDEF void lbrx_json_destroy(lbrx_json *doc);
/* The top-level value. */
LBRXDEF const lbrx_json_value *lbrx_json_root(const lbrx_json *doc);
/* Type of a value; LBRX_JSON_NULL for a NULL pointer. */
LBRXDEF lbrx_json_type lbrx_json_type_of(const lbrx_json_value *v);
/* Elements of an array, members of an object, 0 for anything else. */
LBRXDEF size_t lbrx_json_count(const lbrx_json_value *v);
/* Element i of an array (O(1)); NULL if v is not an array or i is out of range. */
LBRXDEF const lbrx_json_value *lbrx_json_at(const lbrx_json_value *v, size_t i);
/* Member i of an object in document order (O(1)): returns its value and, if key/key_len are not
   NULL, its key (NUL-terminated; key_len counts bytes and includes any \u0000 inside). */
LBRXDEF const lbrx_json_value *lbrx_json_member(const lbrx_json_value *obj, size_t i, const char **key, size_t *key_len);
/* The value of the member whose key equals `key` exactly (byte compare, same length); NULL if
   none or obj is not an object. Linear in the member count. */
LBRXDEF const lbrx_json_value *lbrx_json_get(const lbrx_json_value *obj, const char *key);
/* A string's decoded UTF-8 bytes (NUL-terminated; *len, if not NULL, gets the byte count, which
   counts any embedded \u0000); NULL if v is not a string. */
LBRXDEF const char *lbrx_json_string(const lbrx_json_value *v, size_t *len);
/* A number written as an unsigned integer (no sign, fraction or exponent). LBRX_ERR_TYPE_MISMATCH
   for anything else, LBRX_ERR_OVERFLOW above UINT64_MAX. */
LBRXDEF lbrx_result lbrx_json_u64(const lbrx_json_value *v, uint64_t *out);
/* A number written as an integer (optional '-', no fraction or exponent) in int64_t range;
   LBRX_ERR_TYPE_MISMATCH or LBRX_ERR_OVERFLOW otherwise. */
LBRXDEF lbrx_result lbrx_json_i64(const lbrx_json_value *v, int64_t *out);
/* Any number as a double (strtod: correctly rounded by the C library, C locale assumed);
   LBRX_ERR_TYPE_MISMATCH if v is not a number. */
LBRXDEF lbrx_result lbrx_json_f64(const lbrx_json_value *v, double *out);
/* true/false as 1/0; LBRX_ERR_TYPE_MISMATCH otherwise. */
LBRXDEF lbrx_result lbrx_json_bool(const lbrx_json_value *v, int *out);
/* Byte offset of the value in the parsed text (for error messages). */
LBRXDEF uint64_t lbrx_json_offset(const lbrx_json_value *v);

/* ============================================================================================
   safetensors reader
   ============================================================================================ */

typedef struct lbrx_safetensors lbrx_safetensors;

/* Open a .safetensors file by memory-mapping it, or, when the path ends in ".json", a sharded
   checkpoint's index (lbrx_safetensors_open_index). desc may be NULL (defaults; see
   lbrx_open_desc in lbrx.h). Validates everything (see SECURITY above);
   on failure *out is NULL and err names the tensor/field and the file offset. Result codes:
   LBRX_ERR_TRUNCATED (file shorter than its header), LBRX_ERR_LIMIT (header over
   LBRX_SAFETENSORS_MAX_HEADER, nesting, rank over LBRX_MAX_DIMS), LBRX_ERR_BAD_HEADER (JSON
   syntax, UTF-8, schema, non-string metadata), LBRX_ERR_DUPLICATE, LBRX_ERR_BAD_DTYPE (unknown
   dtype), LBRX_ERR_BAD_SHAPE (also: a row of a sub-byte dtype, F4 or F6_*, that does not fill
   whole bytes: lbrx keeps rows byte-addressable, where the reference only asks it of the whole
   tensor), LBRX_ERR_OVERFLOW, LBRX_ERR_BAD_OFFSET (offsets negative,
   reversed, out of the buffer, overlapping, with holes), LBRX_ERR_SIZE_MISMATCH (byte range vs
   shape and dtype, trailing bytes), LBRX_ERR_BAD_VALUE (NUL in a name). Thread safety: an open
   file is read-only; any number of threads may read it; close it once. */
LBRXDEF lbrx_result lbrx_safetensors_open(lbrx_safetensors **out, const char *path, const lbrx_open_desc *desc,
                                          lbrx_error *err);
/* Open a safetensors image in memory the caller owns and keeps alive (and unchanged) until the
   file is closed and every storage reference taken from its tensors is released. */
LBRXDEF lbrx_result lbrx_safetensors_open_memory(lbrx_safetensors **out, const void *data, size_t size,
                                                 const lbrx_open_desc *desc, lbrx_error *err);
/* Open a safetensors image held by a storage (takes its own reference). */
LBRXDEF lbrx_result lbrx_safetensors_open_storage(lbrx_safetensors **out, lbrx_storage *storage,
                                                  const lbrx_open_desc *desc, lbrx_error *err);
/* Open a sharded checkpoint through its index ({"metadata": {...}, "weight_map": {name: file}}):
   every shard named in weight_map is mapped (file names must be plain names in the index's
   directory: no '/', '\\' or ':', else LBRX_ERR_BAD_VALUE), each is validated as above, and
   the index must match the shards exactly: every listed tensor is in the shard it names
   (LBRX_ERR_NOT_FOUND otherwise), no tensor is in two shards (LBRX_ERR_DUPLICATE), no shard
   holds an unlisted tensor (LBRX_ERR_BAD_VALUE). The result is one name space: shards in
   file-name order, tensors in file order within each. */
LBRXDEF lbrx_result lbrx_safetensors_open_index(lbrx_safetensors **out, const char *index_path,
                                                const lbrx_open_desc *desc, lbrx_error *err);
/* Release the mapping(s) (tensors keep the storage alive if the caller retained it). NULL ok. */
LBRXDEF void lbrx_safetensors_destroy(lbrx_safetensors *st);

/* Tensors, the same calls as lbrx_gguf.h's: i in [0, lbrx_safetensors_tensor_count) (all shards)
   in file order (the order of the data in the file; empty tensors at one offset keep header
   order). */
LBRXDEF size_t lbrx_safetensors_tensor_count(const lbrx_safetensors *st);
/* Tensor i's name (NUL-terminated, owned by st: valid until lbrx_safetensors_destroy), NULL when
   out of range. */
LBRXDEF const char *lbrx_safetensors_tensor_name(const lbrx_safetensors *st, size_t i);
/* Index of the tensor named exactly `name` (hash lookup, O(1) expected), or SIZE_MAX. */
LBRXDEF size_t lbrx_safetensors_find_tensor(const lbrx_safetensors *st, const char *name);
/* Tensor i as an lbrx_tensor value whose data points into the mapping (no copy, any alignment).
   It holds its own storage reference, so it outlives st: release it with lbrx_tensor_release. */
LBRXDEF lbrx_result lbrx_safetensors_tensor(const lbrx_safetensors *st, size_t i, lbrx_tensor *out, lbrx_error *err);
/* lbrx_safetensors_tensor by name; LBRX_ERR_NOT_FOUND when absent. */
LBRXDEF lbrx_result lbrx_safetensors_get_tensor(const lbrx_safetensors *st, const char *name, lbrx_tensor *out,
                                                lbrx_error *err);
/* File offset of tensor i's first byte (in its shard's file); UINT64_MAX if out of range. */
LBRXDEF uint64_t lbrx_safetensors_tensor_offset(const lbrx_safetensors *st, size_t i);
/* Shard holding tensor i (0 for a single file). */
LBRXDEF size_t lbrx_safetensors_tensor_shard(const lbrx_safetensors *st, size_t i);
/* Number of shard files (1 for a single file). */
LBRXDEF size_t lbrx_safetensors_shard_count(const lbrx_safetensors *st);
/* File offset where a shard's byte buffer starts (8 + header length). */
LBRXDEF uint64_t lbrx_safetensors_data_offset(const lbrx_safetensors *st, size_t shard);
/* The __metadata__ object (string values only; of the first shard for a sharded checkpoint), or
   NULL when the file has none. Read it with lbrx_json_count/lbrx_json_member. */
LBRXDEF const lbrx_json_value *lbrx_safetensors_metadata(const lbrx_safetensors *st);
/* The __metadata__ value for `key`, NULL if absent. */
LBRXDEF const char *lbrx_safetensors_get_metadata(const lbrx_safetensors *st, const char *key);
/* The shard index's top-level object for a sharded checkpoint, NULL for a single file. */
LBRXDEF const lbrx_json_value *lbrx_safetensors_index(const lbrx_safetensors *st);

/* The safetensors dtype string of a dtype ("F32", "BF16", "F8_E4M3"), NULL if safetensors has
   no such type (block-quantized types). */
LBRXDEF const char *lbrx_safetensors_dtype_name(lbrx_dtype t);
/* The dtype of a safetensors dtype string of `len` bytes; LBRX_ERR_BAD_DTYPE if unknown
   (every dtype of the current specification has an id: F4 and F6_* are packed, see lbrx_dtype). */
LBRXDEF lbrx_result lbrx_safetensors_dtype_parse(const char *s, size_t len, lbrx_dtype *out);

/* ============================================================================================
   safetensors writer
   ============================================================================================ */

/* Sink of the streaming writer: write `size` bytes; return 0 on success, non-zero on failure. */
typedef int (*lbrx_safetensors_write_fn)(const void *data, size_t size, void *user);

/* What to write. Zeroed fields are defaults. */
typedef struct lbrx_safetensors_write_desc {
    const lbrx_tensor *tensors;   /* any layout (strided views are gathered row by row). With
                                     `fill` set, a tensor whose data is NULL has only dtype, ndim
                                     and shape: fill produces its bytes during the write */
    const char *const *names;     /* names[i] names tensors[i]: unique, UTF-8, not "__metadata__" */
    size_t n_tensors;
    const char *const *metadata;  /* n_metadata (key, value) pairs: metadata[2i], metadata[2i+1] */
    size_t n_metadata;
    int sort_names;               /* 1: tensors in byte order of their names; 0: the given order */
    lbrx_allocator allocator;     /* for the header and the gather and fill buffers */
    lbrx_fill_fn fill;            /* optional producer of the tensors without data (lbrx.h), called
                                   with fill_user and the tensor's index in `tensors` */
    void *fill_user;
} lbrx_safetensors_write_desc;

/* Stream a safetensors file to `write`: the header (metadata first, then tensors with contiguous
   data_offsets, padded with spaces so the data starts at a multiple of 64), then each tensor's
   bytes straight from its memory (only strided tensors go through a small buffer) or from
   desc->fill in chunks of a few MiB, so a file of any size is written in bounded memory. Refuses
   dtypes safetensors lacks (LBRX_ERR_UNSUPPORTED), duplicate names (LBRX_ERR_DUPLICATE), names
   or metadata that are not UTF-8 (LBRX_ERR_BAD_VALUE), headers over
   LBRX_SAFETENSORS_MAX_HEADER (LBRX_ERR_LIMIT); a sink failure is LBRX_ERR_IO. Thread safety:
   reads the tensors only. */
LBRXDEF lbrx_result lbrx_safetensors_write_to(lbrx_safetensors_write_fn write, void *user,
                                              const lbrx_safetensors_write_desc *desc, lbrx_error *err);
/* lbrx_safetensors_write_to into a new file at `path` (replaced if it exists). */
LBRXDEF lbrx_result lbrx_safetensors_write(const char *path, const lbrx_safetensors_write_desc *desc, lbrx_error *err);
/* Write a sharded checkpoint into directory `dir` (which must exist): tensors in the desc's order
   (or sorted) are cut into shards of at most max_shard_bytes of data each (a larger tensor gets
   a shard of its own), written as `<prefix>-0000K-of-0000N.safetensors` (each with the desc's
   metadata), plus `<prefix>.safetensors.index.json` with metadata.total_size and the weight_map.
   prefix NULL means "model". */
LBRXDEF lbrx_result lbrx_safetensors_write_sharded(const char *dir, const char *prefix, uint64_t max_shard_bytes,
                                                   const lbrx_safetensors_write_desc *desc, lbrx_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LBRX_SAFETENSORS_H */

#if defined(LBRX_IMPL) && !defined(LBRX_SAFETENSORS_IMPLEMENTATION)
#define LBRX_SAFETENSORS_IMPLEMENTATION
#endif
#if defined(LBRX_SAFETENSORS_IMPLEMENTATION) && !defined(LBRX__SAFETENSORS_IMPLEMENTATION_DONE)
#define LBRX__SAFETENSORS_IMPLEMENTATION_DONE

#include <string.h>
#include <stdio.h>
#include <stdlib.h>


/* ============================================================================================
   JSON reader
   ============================================================================================ */

enum { LBRX__JNUM_INT = 1, LBRX__JNUM_BIGINT = 2, LBRX__JNUM_REAL = 3 };

struct lbrx_json_value {
    unsigned char type;      /* lbrx_json_type */
    unsigned char num;       /* numbers: LBRX__JNUM_* */
    unsigned char neg;       /* numbers: written with a leading '-' */
    unsigned char truth;     /* booleans */
    uint64_t offset;         /* of the value's first byte in the text (plus the caller's base) */
    const char *str;         /* strings: decoded bytes; numbers: their text; NUL-terminated */
    size_t len;
    size_t count;            /* array elements, object members */
    uint64_t mag;            /* numbers of kind INT: the magnitude */
    size_t next;             /* while parsing: index of the first node after this subtree */
    const lbrx_json_value *const *kids;  /* arrays: count values; objects: 2*count (key, value) */
};

struct lbrx_json {
    lbrx_allocator allocator;
    lbrx_json_value *nodes;
    size_t n_nodes, cap;
    const lbrx_json_value **kids;
    char *arena;
};

typedef struct lbrx__jparser {
    const unsigned char *s;
    size_t len, pos, max_values;
    uint64_t base;
    lbrx_json *doc;
    size_t arena_pos;
    lbrx_error *err;
} lbrx__jparser;

LBRX__PRIVATE lbrx_result lbrx__jfail(lbrx__jparser *p, lbrx_result r, size_t pos, const char *what) {
    return lbrx__errorf(p->err, r, p->base + pos, "JSON: %s", what);
}

LBRX__PRIVATE void lbrx__jws(lbrx__jparser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

/* Append a node of `type` at the current position; its index goes to *idx. */
LBRX__PRIVATE lbrx_result lbrx__jnode(lbrx__jparser *p, lbrx_json_type type, size_t *idx) {
    lbrx_json *d = p->doc;
    lbrx_json_value *v;
    if (d->n_nodes >= p->max_values)
        return lbrx__errorf(p->err, LBRX_ERR_LIMIT, p->base + p->pos, "JSON: more than %zu values", p->max_values);
    if (d->n_nodes == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64, bytes;
        lbrx_json_value *n;
        if (!lbrx_mul_size(cap, sizeof *n, &bytes)) return lbrx__jfail(p, LBRX_ERR_OVERFLOW, p->pos, "too many values");
        n = (lbrx_json_value *)lbrx_alloc(&d->allocator, bytes, 16);
        if (!n) return lbrx__jfail(p, LBRX_ERR_OUT_OF_MEMORY, p->pos, "out of memory for values");
        if (d->n_nodes) memcpy(n, d->nodes, d->n_nodes * sizeof *n);
        lbrx_free(&d->allocator, d->nodes);
        d->nodes = n;
        d->cap = cap;
    }
    v = &d->nodes[d->n_nodes];
    memset(v, 0, sizeof *v);
    v->type = (unsigned char)type;
    v->offset = p->base + p->pos;
    v->next = d->n_nodes + 1;
    *idx = d->n_nodes++;
    return LBRX_OK;
}

LBRX__PRIVATE int lbrx__jhex4(const unsigned char *s, unsigned *out) {
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* A string at p->pos (which holds '"'), decoded into the arena. */
LBRX__PRIVATE lbrx_result lbrx__jstring(lbrx__jparser *p) {
    size_t idx, start = p->pos;
    char *out = p->doc->arena + p->arena_pos, *o = out;
    const unsigned char *s = p->s;
    lbrx_result r = lbrx__jnode(p, LBRX_JSON_STRING, &idx);
    if (r != LBRX_OK) return r;
    p->pos++;
    for (;;) {
        unsigned c;
        if (p->pos >= p->len) return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, start, "unterminated string");
        c = s[p->pos];
        if (c == '"') { p->pos++; break; }
        if (c == '\\') {
            unsigned e, cp;
            if (p->pos + 1 >= p->len) return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, start, "unterminated string");
            e = s[p->pos + 1];
            switch (e) {
            case '"': case '\\': case '/': *o++ = (char)e; p->pos += 2; continue;
            case 'b': *o++ = '\b'; p->pos += 2; continue;
            case 'f': *o++ = '\f'; p->pos += 2; continue;
            case 'n': *o++ = '\n'; p->pos += 2; continue;
            case 'r': *o++ = '\r'; p->pos += 2; continue;
            case 't': *o++ = '\t'; p->pos += 2; continue;
            case 'u': break;
            default: return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "invalid escape in string");
            }
            if (p->len - p->pos < 6 || !lbrx__jhex4(s + p->pos + 2, &cp))
                return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "\\u escape needs 4 hex digits");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "unpaired low surrogate in \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p->len - p->pos < 12 || s[p->pos + 6] != '\\' || s[p->pos + 7] != 'u' ||
                    !lbrx__jhex4(s + p->pos + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "unpaired high surrogate in \\u escape");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p->pos += 6;
            }
            p->pos += 6;
            if (cp < 0x80) *o++ = (char)cp;
            else if (cp < 0x800) { *o++ = (char)(0xC0 | (cp >> 6)); *o++ = (char)(0x80 | (cp & 0x3F)); }
            else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12)); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18)); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F));
            }
            continue;
        }
        if (c < 0x20) return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "control character in string (must be escaped)");
        if (c < 0x80) { *o++ = (char)c; p->pos++; continue; }
        {
            size_t k = lbrx__utf8_seq(s + p->pos, p->len - p->pos);
            if (!k) return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "invalid UTF-8 in string");
            memcpy(o, s + p->pos, k);
            o += k;
            p->pos += k;
        }
    }
    *o = 0;
    p->doc->nodes[idx].str = out;
    p->doc->nodes[idx].len = (size_t)(o - out);
    p->arena_pos += (size_t)(o - out) + 1;
    return LBRX_OK;
}

LBRX__PRIVATE lbrx_result lbrx__jnumber(lbrx__jparser *p) {
    size_t idx, start = p->pos, n;
    const unsigned char *s = p->s;
    lbrx_json_value *v;
    uint64_t mag = 0;
    int big = 0, real = 0, neg = 0;
    lbrx_result r = lbrx__jnode(p, LBRX_JSON_NUMBER, &idx);
    if (r != LBRX_OK) return r;
    if (s[p->pos] == '-') { neg = 1; p->pos++; }
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9')
        return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, start, "invalid number");
    if (s[p->pos] == '0') p->pos++;
    else
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
            unsigned d = (unsigned)(s[p->pos++] - '0');
            if (mag > (UINT64_MAX - d) / 10) big = 1;
            else mag = mag * 10 + d;
        }
    if (p->pos < p->len && s[p->pos] == '.') {
        real = 1;
        p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9')
            return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, start, "invalid number (no digit after '.')");
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        real = 1;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9')
            return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, start, "invalid number (no digit in exponent)");
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    n = p->pos - start;
    v = &p->doc->nodes[idx];
    v->str = p->doc->arena + p->arena_pos;
    memcpy(p->doc->arena + p->arena_pos, s + start, n);
    p->doc->arena[p->arena_pos + n] = 0;
    p->arena_pos += n + 1;
    v->len = n;
    v->neg = (unsigned char)neg;
    v->num = (unsigned char)(real ? LBRX__JNUM_REAL : big ? LBRX__JNUM_BIGINT : LBRX__JNUM_INT);
    v->mag = mag;
    return LBRX_OK;
}

/* A key string and the ':' after it (p->pos after whitespace). */
LBRX__PRIVATE lbrx_result lbrx__jkey(lbrx__jparser *p) {
    lbrx_result r;
    lbrx__jws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"') return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "expected a string key");
    r = lbrx__jstring(p);
    if (r != LBRX_OK) return r;
    lbrx__jws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':') return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "expected ':' after a key");
    p->pos++;
    return LBRX_OK;
}

/* The iterative parse: `stack` holds the indices of the open arrays/objects. */
LBRX__PRIVATE lbrx_result lbrx__jrun(lbrx__jparser *p, size_t *stack, int max_depth) {
    int depth = 0;
    lbrx_result r;
    for (;;) {
        unsigned char c;
        size_t idx;
        lbrx__jws(p);
        if (p->pos >= p->len) return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "unexpected end of text, expected a value");
        c = p->s[p->pos];
        if (c == '{' || c == '[') {
            if (depth >= max_depth)
                return lbrx__errorf(p->err, LBRX_ERR_LIMIT, p->base + p->pos, "JSON: nesting deeper than %d", max_depth);
            r = lbrx__jnode(p, c == '{' ? LBRX_JSON_OBJECT : LBRX_JSON_ARRAY, &idx);
            if (r != LBRX_OK) return r;
            p->pos++;
            lbrx__jws(p);
            if (p->pos < p->len && p->s[p->pos] == (c == '{' ? '}' : ']')) {
                p->pos++;           /* empty: a complete value */
            } else {
                stack[depth++] = idx;
                if (c == '{' && (r = lbrx__jkey(p)) != LBRX_OK) return r;
                continue;
            }
        } else if (c == '"') {
            if ((r = lbrx__jstring(p)) != LBRX_OK) return r;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if ((r = lbrx__jnumber(p)) != LBRX_OK) return r;
        } else if (c == 't' || c == 'f' || c == 'n') {
            const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
            size_t wl = strlen(word);
            if (p->len - p->pos < wl || memcmp(p->s + p->pos, word, wl) != 0)
                return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "invalid literal");
            r = lbrx__jnode(p, c == 'n' ? LBRX_JSON_NULL : LBRX_JSON_BOOL, &idx);
            if (r != LBRX_OK) return r;
            p->doc->nodes[idx].truth = (unsigned char)(c == 't');
            p->pos += wl;
        } else {
            return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "unexpected character, expected a value");
        }
        /* a value is complete: attach it to the open containers, closing those that end */
        while (depth > 0) {
            lbrx_json_value *top = &p->doc->nodes[stack[depth - 1]];
            int obj = top->type == LBRX_JSON_OBJECT;
            top->count++;
            lbrx__jws(p);
            if (p->pos >= p->len)
                return lbrx__errorf(p->err, LBRX_ERR_BAD_HEADER, top->offset, "JSON: unterminated %s", obj ? "object" : "array");
            c = p->s[p->pos];
            if (c == ',') {
                p->pos++;
                if (obj && (r = lbrx__jkey(p)) != LBRX_OK) return r;
                break;
            }
            if (c != (obj ? '}' : ']'))
                return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            p->pos++;
            top->next = p->doc->n_nodes;
            depth--;
        }
        if (depth == 0) break;
    }
    lbrx__jws(p);
    if (p->pos != p->len) return lbrx__jfail(p, LBRX_ERR_BAD_HEADER, p->pos, "unexpected characters after the value");
    return LBRX_OK;
}

LBRX__PRIVATE int lbrx__jkey_cmp(const void *a, const void *b) {
    const lbrx_json_value *x = *(const lbrx_json_value *const *)a, *y = *(const lbrx_json_value *const *)b;
    int c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    c = memcmp(x->str, y->str, x->len);
    if (c) return c;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Link children (kids arrays) and refuse duplicate keys, in O(n log n). */
LBRX__PRIVATE lbrx_result lbrx__jlink(lbrx_json *d, lbrx_error *err) {
    size_t i, k = 0, tmp_cap = 0;
    const lbrx_json_value **tmp = 0;
    lbrx_result r = LBRX_OK;
    d->kids = (const lbrx_json_value **)lbrx_alloc(&d->allocator, (d->n_nodes ? d->n_nodes : 1) * sizeof *d->kids, 16);
    if (!d->kids) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "JSON: out of memory");
    for (i = 0; i < d->n_nodes && r == LBRX_OK; i++) {
        lbrx_json_value *v = &d->nodes[i];
        size_t j, c = i + 1, n;
        if (v->type != LBRX_JSON_ARRAY && v->type != LBRX_JSON_OBJECT) continue;
        n = v->type == LBRX_JSON_OBJECT ? 2 * v->count : v->count;
        v->kids = d->kids + k;
        for (j = 0; j < n; j++) {
            d->kids[k++] = &d->nodes[c];
            c = d->nodes[c].next;
        }
        if (v->type != LBRX_JSON_OBJECT || v->count < 2) continue;
        if (v->count > tmp_cap) {
            lbrx_free(&d->allocator, (void *)tmp);
            tmp = (const lbrx_json_value **)lbrx_alloc(&d->allocator, v->count * sizeof *tmp, 16);
            if (!tmp) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "JSON: out of memory");
            tmp_cap = v->count;
        }
        for (j = 0; j < v->count; j++) tmp[j] = v->kids[2 * j];
        qsort((void *)tmp, v->count, sizeof *tmp, lbrx__jkey_cmp);
        for (j = 1; j < v->count; j++)
            if (tmp[j]->len == tmp[j - 1]->len && memcmp(tmp[j]->str, tmp[j - 1]->str, tmp[j]->len) == 0) {
                r = lbrx__errorf(err, LBRX_ERR_DUPLICATE, tmp[j]->offset, "JSON: duplicate key \"%.*s\" in an object",
                                 (int)(tmp[j]->len > 80 ? 80 : tmp[j]->len), tmp[j]->str);
                break;
            }
    }
    lbrx_free(&d->allocator, (void *)tmp);
    return r;
}

/* lbrx_json_parse with a base added to every offset (the text's position in its file). */
LBRX__PRIVATE lbrx_result lbrx__json_parse_at(lbrx_json **out, const void *text, size_t len, uint64_t base,
                                             const lbrx_json_desc *limits, const lbrx_allocator *allocator,
                                             lbrx_error *err) {
    lbrx__jparser p;
    lbrx_json *d;
    size_t *stack, arena;
    int depth = limits && limits->max_depth > 0 ? limits->max_depth : LBRX_JSON_MAX_DEPTH;
    lbrx_result r;
    if (!out || (!text && len)) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_json_parse: NULL argument");
    *out = 0;
    if (depth > (1 << 20)) depth = 1 << 20;
    /* decoded strings need at most their raw size (the quotes pay for the NUL), numbers their
       text plus a NUL, and there are at most (len + 1) / 2 numbers */
    if (len > SIZE_MAX / 2 - 4) return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "JSON: text of %zu bytes is too large", len);
    arena = len + len / 2 + 2;
    d = (lbrx_json *)lbrx_alloc(allocator, sizeof *d, 16);
    if (!d) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "JSON: out of memory");
    memset(d, 0, sizeof *d);
    if (allocator) d->allocator = *allocator;
    d->arena = (char *)lbrx_alloc(allocator, arena, 16);
    stack = (size_t *)lbrx_alloc(allocator, (size_t)depth * sizeof *stack, 16);
    if (!d->arena || !stack) {
        lbrx_free(allocator, stack);
        lbrx_json_destroy(d);
        return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "JSON: out of memory for %zu bytes of text", len);
    }
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)text;
    p.len = len;
    p.base = base;
    p.doc = d;
    p.err = err;
    p.max_values = limits && limits->max_values ? limits->max_values : LBRX_JSON_MAX_VALUES;
    r = lbrx__jrun(&p, stack, depth);
    lbrx_free(allocator, stack);
    if (r == LBRX_OK) r = lbrx__jlink(d, err);
    if (r != LBRX_OK) { lbrx_json_destroy(d); return r; }
    *out = d;
    return LBRX_OK;
}

LBRXDEF lbrx_result lbrx_json_parse(lbrx_json **out, const void *text, size_t len, const lbrx_json_desc *desc,
                                    lbrx_error *err) {
    return lbrx__json_parse_at(out, text, len, 0, desc, desc ? &desc->allocator : 0, err);
}

LBRXDEF void lbrx_json_destroy(lbrx_json *doc) {
    lbrx_allocator a;
    if (!doc) return;
    a = doc->allocator;
    lbrx_free(&a, doc->nodes);
    lbrx_free(&a, (void *)doc->kids);
    lbrx_free(&a, doc->arena);
    lbrx_free(&a, doc);
}

LBRXDEF const lbrx_json_value *lbrx_json_root(const lbrx_json *doc) { return doc && doc->n_nodes ? &doc->nodes[0] : 0; }
LBRXDEF lbrx_json_type lbrx_json_type_of(const lbrx_json_value *v) { return v ? (lbrx_json_type)v->type : LBRX_JSON_NULL; }
LBRXDEF size_t lbrx_json_count(const lbrx_json_value *v) {
    return v && (v->type == LBRX_JSON_ARRAY || v->type == LBRX_JSON_OBJECT) ? v->count : 0;
}
LBRXDEF const lbrx_json_value *lbrx_json_at(const lbrx_json_value *v, size_t i) {
    return v && v->type == LBRX_JSON_ARRAY && i < v->count ? v->kids[i] : 0;
}
LBRXDEF const lbrx_json_value *lbrx_json_member(const lbrx_json_value *obj, size_t i, const char **key, size_t *key_len) {
    if (!obj || obj->type != LBRX_JSON_OBJECT || i >= obj->count) return 0;
    if (key) *key = obj->kids[2 * i]->str;
    if (key_len) *key_len = obj->kids[2 * i]->len;
    return obj->kids[2 * i + 1];
}
LBRXDEF const lbrx_json_value *lbrx_json_get(const lbrx_json_value *obj, const char *key) {
    size_t i, n;
    if (!obj || obj->type != LBRX_JSON_OBJECT || !key) return 0;
    n = strlen(key);
    for (i = 0; i < obj->count; i++) {
        const lbrx_json_value *k = obj->kids[2 * i];
        if (k->len == n && memcmp(k->str, key, n) == 0) return obj->kids[2 * i + 1];
    }
    return 0;
}
LBRXDEF const char *lbrx_json_string(const lbrx_json_value *v, size_t *len) {
    if (!v || v->type != LBRX_JSON_STRING) return 0;
    if (len) *len = v->len;
    return v->str;
}
LBRXDEF lbrx_result lbrx_json_u64(const lbrx_json_value *v, uint64_t *out) {
    if (!v || v->type != LBRX_JSON_NUMBER || v->num == LBRX__JNUM_REAL || v->neg) return LBRX_ERR_TYPE_MISMATCH;
    if (v->num == LBRX__JNUM_BIGINT) return LBRX_ERR_OVERFLOW;
    *out = v->mag;
    return LBRX_OK;
}
LBRXDEF lbrx_result lbrx_json_i64(const lbrx_json_value *v, int64_t *out) {
    if (!v || v->type != LBRX_JSON_NUMBER || v->num == LBRX__JNUM_REAL) return LBRX_ERR_TYPE_MISMATCH;
    if (v->num == LBRX__JNUM_BIGINT || v->mag > (uint64_t)INT64_MAX + (v->neg ? 1u : 0u)) return LBRX_ERR_OVERFLOW;
    if (v->neg) *out = v->mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v->mag;
    else *out = (int64_t)v->mag;
    return LBRX_OK;
}
LBRXDEF lbrx_result lbrx_json_f64(const lbrx_json_value *v, double *out) {
    if (!v || v->type != LBRX_JSON_NUMBER) return LBRX_ERR_TYPE_MISMATCH;
    *out = strtod(v->str, 0);
    return LBRX_OK;
}
LBRXDEF lbrx_result lbrx_json_bool(const lbrx_json_value *v, int *out) {
    if (!v || v->type != LBRX_JSON_BOOL) return LBRX_ERR_TYPE_MISMATCH;
    *out = v->truth;
    return LBRX_OK;
}
LBRXDEF uint64_t lbrx_json_offset(const lbrx_json_value *v) { return v ? v->offset : LBRX__NO_OFFSET; }

/* ============================================================================================
   safetensors reader
   ============================================================================================ */

typedef struct lbrx__st_shard {
    lbrx_storage *storage;
    lbrx_json *doc;
    const lbrx_json_value *metadata;
    uint64_t data_start;
} lbrx__st_shard;

struct lbrx_safetensors {
    lbrx_allocator allocator;
    size_t n_tensors;
    lbrx_tensor *tensors;      /* file order */
    const char **names_of;     /* tensor names (NUL-terminated, inside the shards' JSON documents) */
    uint64_t *offsets;         /* file offset of each tensor's data */
    size_t *shard_of;
    lbrx__name_index names;    /* tensor lookup by name */
    size_t n_shards;
    lbrx__st_shard *shards;
    lbrx_json *index;          /* sharded: the index document */
};

static const struct { const char *name; int id; } lbrx__st_dtypes[] = {
    {"F64", LBRX_F64}, {"F32", LBRX_F32}, {"F16", LBRX_F16}, {"BF16", LBRX_BF16},
    {"I64", LBRX_I64}, {"I32", LBRX_I32}, {"I16", LBRX_I16}, {"I8", LBRX_I8},
    {"U64", LBRX_U64}, {"U32", LBRX_U32}, {"U16", LBRX_U16}, {"U8", LBRX_U8}, {"BOOL", LBRX_BOOL},
    {"F8_E4M3", LBRX_F8_E4M3}, {"F8_E5M2", LBRX_F8_E5M2}, {"F8_E8M0", LBRX_F8_E8M0},
    {"F8_E4M3FNUZ", LBRX_F8_E4M3FNUZ}, {"F8_E5M2FNUZ", LBRX_F8_E5M2FNUZ}, {"F4", LBRX_F4},
    {"F6_E2M3", LBRX_F6_E2M3}, {"F6_E3M2", LBRX_F6_E3M2}, {"C64", LBRX_C64}};

LBRXDEF const char *lbrx_safetensors_dtype_name(lbrx_dtype t) {
    size_t i;
    for (i = 0; i < sizeof lbrx__st_dtypes / sizeof lbrx__st_dtypes[0]; i++)
        if (lbrx__st_dtypes[i].id == (int)t) return lbrx__st_dtypes[i].name;
    return 0;
}

LBRXDEF lbrx_result lbrx_safetensors_dtype_parse(const char *s, size_t len, lbrx_dtype *out) {
    size_t i;
    if (!s) return LBRX_ERR_BAD_DTYPE;
    for (i = 0; i < sizeof lbrx__st_dtypes / sizeof lbrx__st_dtypes[0]; i++)
        if (strlen(lbrx__st_dtypes[i].name) == len && memcmp(lbrx__st_dtypes[i].name, s, len) == 0) {
            if (out) *out = (lbrx_dtype)lbrx__st_dtypes[i].id;
            return LBRX_OK;
        }
    return LBRX_ERR_BAD_DTYPE;
}

LBRXDEF void lbrx_safetensors_destroy(lbrx_safetensors *st) {
    lbrx_allocator a;
    size_t i;
    if (!st) return;
    a = st->allocator;
    for (i = 0; i < st->n_tensors; i++) lbrx_tensor_release(&st->tensors[i]);
    for (i = 0; i < st->n_shards; i++) {
        lbrx_storage_release(st->shards[i].storage);
        lbrx_json_destroy(st->shards[i].doc);
    }
    lbrx_json_destroy(st->index);
    lbrx_free(&a, st->tensors);
    lbrx_free(&a, (void *)st->names_of);
    lbrx_free(&a, st->offsets);
    lbrx_free(&a, st->shard_of);
    lbrx_free(&a, st->names.slot);
    lbrx_free(&a, st->shards);
    lbrx_free(&a, st);
}

/* An empty file object with room for n tensors and n_shards shards. */
LBRX__PRIVATE lbrx_safetensors *lbrx__st_new(size_t n, size_t n_shards, const lbrx_allocator *allocator) {
    lbrx_safetensors *st = (lbrx_safetensors *)lbrx_alloc(allocator, sizeof *st, 16);
    size_t m = n ? n : 1;
    if (!st) return 0;
    memset(st, 0, sizeof *st);
    if (allocator) st->allocator = *allocator;
    st->tensors = (lbrx_tensor *)lbrx_alloc(allocator, m * sizeof *st->tensors, 16);
    st->names_of = (const char **)lbrx_alloc(allocator, m * sizeof *st->names_of, 16);
    st->offsets = (uint64_t *)lbrx_alloc(allocator, m * sizeof *st->offsets, 16);
    st->shard_of = (size_t *)lbrx_alloc(allocator, m * sizeof *st->shard_of, 16);
    st->shards = (lbrx__st_shard *)lbrx_alloc(allocator, (n_shards ? n_shards : 1) * sizeof *st->shards, 16);
    if (!st->tensors || !st->names_of || !st->offsets || !st->shard_of || !st->shards) {
        lbrx_safetensors_destroy(st);
        return 0;
    }
    memset(st->shards, 0, (n_shards ? n_shards : 1) * sizeof *st->shards);
    return st;
}

LBRX__PRIVATE const char *lbrx__st_name_at(const void *items, size_t i, size_t *len) {
    const char *name = ((const char *const *)items)[i];
    *len = strlen(name);
    return name;
}

/* Index tensors [0, n_tensors) by name; a name seen twice (in two shards) is LBRX_ERR_DUPLICATE. */
LBRX__PRIVATE lbrx_result lbrx__st_build_index(lbrx_safetensors *st, lbrx_error *err) {
    size_t i = 0, j;
    lbrx_result r = lbrx__name_index_build(&st->names, &st->allocator, st->n_tensors, lbrx__st_name_at, st->names_of, &i);
    if (r == LBRX_ERR_DUPLICATE) {
        const char *name = st->names_of[i];
        j = lbrx__name_index_find(&st->names, name, strlen(name), lbrx__st_name_at, st->names_of);
        return lbrx__errorf(err, r, st->offsets[i], "tensor \"%s\" is in shards %zu and %zu", name, st->shard_of[j] + 1,
                            st->shard_of[i] + 1);
    }
    if (r != LBRX_OK) return lbrx__errorf(err, r, LBRX__NO_OFFSET, "out of memory for the index of %zu tensor names", st->n_tensors);
    return LBRX_OK;
}

typedef struct lbrx__st_entry {
    uint64_t begin, end;
    size_t order;
    const lbrx_json_value *key;
    lbrx_dtype dtype;
    int ndim;
    int64_t shape[LBRX_MAX_DIMS];
} lbrx__st_entry;

LBRX__PRIVATE int lbrx__st_entry_cmp(const void *a, const void *b) {
    const lbrx__st_entry *x = (const lbrx__st_entry *)a, *y = (const lbrx__st_entry *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* One tensor's header entry: dtype, shape, offsets, each checked against the buffer size. */
LBRX__PRIVATE lbrx_result lbrx__st_entry_parse(lbrx__st_entry *e, const char *name, const lbrx_json_value *v,
                                              uint64_t buffer_len, lbrx_error *err) {
    const lbrx_json_value *dt = 0, *shape = 0, *offs = 0;
    const char *s;
    size_t i, len, nbytes;
    lbrx_result r;
    if (lbrx_json_type_of(v) != LBRX_JSON_OBJECT)
        return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(v), "tensor \"%s\": entry is not an object", name);
    for (i = 0; i < lbrx_json_count(v); i++) {
        const char *k = "";
        const lbrx_json_value *m = lbrx_json_member(v, i, &k, &len);
        if (len == 5 && memcmp(k, "dtype", 5) == 0) dt = m;
        else if (len == 5 && memcmp(k, "shape", 5) == 0) shape = m;
        else if (len == 12 && memcmp(k, "data_offsets", 12) == 0) offs = m;
        else return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(m), "tensor \"%s\": unknown field \"%.*s\"",
                                 name, (int)(len > 40 ? 40 : len), k);
    }
    if (!dt || !shape || !offs)
        return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(v), "tensor \"%s\": missing field \"%s\"", name,
                            !dt ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!(s = lbrx_json_string(dt, &len)))
        return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(dt), "tensor \"%s\": dtype is not a string", name);
    r = lbrx_safetensors_dtype_parse(s, len, &e->dtype);
    if (r != LBRX_OK)
        return lbrx__errorf(err, r, lbrx_json_offset(dt), "tensor \"%s\": unknown dtype \"%.*s\"", name, (int)(len > 40 ? 40 : len), s);
    if (lbrx_json_type_of(shape) != LBRX_JSON_ARRAY)
        return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(shape), "tensor \"%s\": shape is not an array", name);
    if (lbrx_json_count(shape) > LBRX_MAX_DIMS)
        return lbrx__errorf(err, LBRX_ERR_LIMIT, lbrx_json_offset(shape), "tensor \"%s\": rank %zu exceeds LBRX_MAX_DIMS (%d)",
                            name, lbrx_json_count(shape), LBRX_MAX_DIMS);
    e->ndim = (int)lbrx_json_count(shape);
    for (i = 0; i < lbrx_json_count(shape); i++) {
        const lbrx_json_value *d = lbrx_json_at(shape, i);
        uint64_t u = 0;
        if (lbrx_json_type_of(d) != LBRX_JSON_NUMBER)
            return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(d), "tensor \"%s\": shape[%zu] is not a number", name, i);
        r = lbrx_json_u64(d, &u);
        if (r == LBRX_OK && u > (uint64_t)INT64_MAX) r = LBRX_ERR_OVERFLOW;
        if (r == LBRX_ERR_OVERFLOW)
            return lbrx__errorf(err, r, lbrx_json_offset(d), "tensor \"%s\": shape[%zu] = %s is too large", name, i, d->str);
        if (r != LBRX_OK)
            return lbrx__errorf(err, LBRX_ERR_BAD_SHAPE, lbrx_json_offset(d), "tensor \"%s\": shape[%zu] = %s is not a non-negative integer",
                                name, i, d->str);
        e->shape[i] = (int64_t)u;
    }
    if (lbrx_json_type_of(offs) != LBRX_JSON_ARRAY || lbrx_json_count(offs) != 2)
        return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(offs), "tensor \"%s\": data_offsets is not an array of 2 numbers", name);
    for (i = 0; i < 2; i++) {
        const lbrx_json_value *d = lbrx_json_at(offs, i);
        uint64_t *dst = i ? &e->end : &e->begin;
        if (lbrx_json_type_of(d) != LBRX_JSON_NUMBER)
            return lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(d), "tensor \"%s\": data_offsets[%zu] is not a number", name, i);
        r = lbrx_json_u64(d, dst);
        if (r == LBRX_ERR_OVERFLOW)
            return lbrx__errorf(err, r, lbrx_json_offset(d), "tensor \"%s\": data_offsets[%zu] = %s does not fit in 64 bits", name, i, d->str);
        if (r != LBRX_OK)
            return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, lbrx_json_offset(d), "tensor \"%s\": data_offsets[%zu] = %s is not a non-negative integer",
                                name, i, d->str);
    }
    if (e->end < e->begin)
        return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, lbrx_json_offset(offs), "tensor \"%s\": data_offsets end %llu is before begin %llu",
                            name, (unsigned long long)e->end, (unsigned long long)e->begin);
    if (e->end > buffer_len)
        return lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, lbrx_json_offset(offs), "tensor \"%s\": data_offsets end %llu is past the %llu-byte data buffer",
                            name, (unsigned long long)e->end, (unsigned long long)buffer_len);
    r = lbrx__shape_layout(e->dtype, e->ndim, e->shape, 0, &nbytes, 0);
    if (r == LBRX_ERR_BAD_SHAPE)  /* the only cause left: sub-byte rows (F4, F6_*) */
        return lbrx__errorf(err, r, lbrx_json_offset(shape), "tensor \"%s\": rows of %s must fill whole bytes (%s rows of %lld elements)",
                            name, lbrx_dtype_name(e->dtype), e->ndim ? "" : "rank 0,", e->ndim ? (long long)e->shape[e->ndim - 1] : 1LL);
    if (r != LBRX_OK)
        return lbrx__errorf(err, r, lbrx_json_offset(shape), "tensor \"%s\": shape of %s does not fit in memory (%s)", name,
                            lbrx_dtype_name(e->dtype), lbrx_result_str(r));
    if ((uint64_t)nbytes != e->end - e->begin)
        return lbrx__errorf(err, LBRX_ERR_SIZE_MISMATCH, lbrx_json_offset(offs),
                            "tensor \"%s\": %llu bytes in data_offsets, but its shape and dtype %s need %zu",
                            name, (unsigned long long)(e->end - e->begin), lbrx_dtype_name(e->dtype), nbytes);
    return LBRX_OK;
}

/* Parse and validate the header of a safetensors image in `s` (one shard). */
LBRX__PRIVATE lbrx_result lbrx__st_load(lbrx_safetensors **out, lbrx_storage *s, const lbrx_allocator *allocator,
                                       lbrx_error *err) {
    const unsigned char *b = (const unsigned char *)lbrx_storage_data(s);
    uint64_t size = (uint64_t)lbrx_storage_size(s), n = 0, buffer_len, data_start, running = 0;
    lbrx_json *doc = 0;
    lbrx_json_desc lim;
    const lbrx_json_value *root, *meta = 0;
    lbrx__st_entry *e = 0;
    lbrx_safetensors *st = 0;
    size_t i, nt = 0, members;
    lbrx_result r;
    int k;
    *out = 0;
    if (size < 8)
        return lbrx__errorf(err, LBRX_ERR_TRUNCATED, 0, "file of %llu bytes is shorter than the 8-byte header length",
                            (unsigned long long)size);
    for (k = 7; k >= 0; k--) n = (n << 8) | b[k];
    if (n > (uint64_t)LBRX_SAFETENSORS_MAX_HEADER)
        return lbrx__errorf(err, LBRX_ERR_LIMIT, 0, "header length %llu exceeds LBRX_SAFETENSORS_MAX_HEADER (%llu)",
                            (unsigned long long)n, (unsigned long long)LBRX_SAFETENSORS_MAX_HEADER);
    if (n > size - 8)
        return lbrx__errorf(err, LBRX_ERR_TRUNCATED, 0, "header length %llu exceeds the %llu bytes after it",
                            (unsigned long long)n, (unsigned long long)(size - 8));
    data_start = 8 + n;
    buffer_len = size - data_start;
    memset(&lim, 0, sizeof lim);
    lim.max_depth = 8;   /* the schema needs 3 */
    r = lbrx__json_parse_at(&doc, b + 8, (size_t)n, 8, &lim, allocator, err);
    if (r != LBRX_OK) return r;
    root = lbrx_json_root(doc);
    if (lbrx_json_type_of(root) != LBRX_JSON_OBJECT) {
        r = lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(root), "header is not a JSON object");
        lbrx_json_destroy(doc);
        return r;
    }
    members = lbrx_json_count(root);
    e = (lbrx__st_entry *)lbrx_alloc(allocator, (members ? members : 1) * sizeof *e, 16);
    if (!e) { lbrx_json_destroy(doc); return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for %zu tensors", members); }
    for (i = 0; i < members; i++) {
        const char *key = "";
        size_t klen = 0;
        const lbrx_json_value *v = lbrx_json_member(root, i, &key, &klen);
        if (klen == 12 && memcmp(key, "__metadata__", 12) == 0) {
            size_t j;
            if (lbrx_json_type_of(v) != LBRX_JSON_OBJECT) {
                r = lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(v), "__metadata__ is not an object");
                goto fail;
            }
            for (j = 0; j < lbrx_json_count(v); j++) {
                const char *mk = "";
                const lbrx_json_value *mv = lbrx_json_member(v, j, &mk, 0);
                if (lbrx_json_type_of(mv) != LBRX_JSON_STRING) {
                    r = lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(mv), "__metadata__ value of \"%.80s\" is not a string", mk);
                    goto fail;
                }
            }
            meta = v;
            continue;
        }
        if (memchr(key, 0, klen)) {
            r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, lbrx_json_offset(root->kids[2 * i]), "tensor name \"%s...\" contains a NUL byte", key);
            goto fail;
        }
        memset(&e[nt], 0, sizeof e[nt]);
        e[nt].order = nt;
        e[nt].key = root->kids[2 * i];
        r = lbrx__st_entry_parse(&e[nt], key, v, buffer_len, err);
        if (r != LBRX_OK) goto fail;
        nt++;
    }
    /* the tensors must tile the buffer: sorted by offset, each starts where the last ended */
    qsort(e, nt, sizeof *e, lbrx__st_entry_cmp);
    for (i = 0; i < nt; i++) {
        if (e[i].begin != running) {
            if (e[i].begin < running)
                r = lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, lbrx_json_offset(e[i].key),
                                 "tensor \"%s\": data_offsets [%llu, %llu) overlap the bytes of another tensor (which end at %llu)",
                                 e[i].key->str, (unsigned long long)e[i].begin, (unsigned long long)e[i].end, (unsigned long long)running);
            else
                r = lbrx__errorf(err, LBRX_ERR_BAD_OFFSET, lbrx_json_offset(e[i].key),
                                 "tensor \"%s\": data_offsets begin %llu leaves a hole of %llu bytes at buffer offset %llu",
                                 e[i].key->str, (unsigned long long)e[i].begin, (unsigned long long)(e[i].begin - running),
                                 (unsigned long long)running);
            goto fail;
        }
        running = e[i].end;
    }
    if (running != buffer_len) {
        r = lbrx__errorf(err, LBRX_ERR_SIZE_MISMATCH, data_start + running, "%llu bytes after the last tensor's data (the buffer must end with it)",
                         (unsigned long long)(buffer_len - running));
        goto fail;
    }
    st = lbrx__st_new(nt, 1, allocator);
    if (!st) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for %zu tensors", nt); goto fail; }
    st->n_shards = 1;
    st->shards[0].doc = doc;
    st->shards[0].metadata = meta;
    st->shards[0].data_start = data_start;
    st->shards[0].storage = s;
    lbrx_storage_retain(s);
    doc = 0;
    for (i = 0; i < nt; i++) {
        r = lbrx_tensor_init(&st->tensors[i], e[i].dtype, e[i].ndim, e[i].shape, s, data_start + e[i].begin, err);
        if (r != LBRX_OK) goto fail;
        st->names_of[i] = e[i].key->str;
        st->offsets[i] = data_start + e[i].begin;
        st->shard_of[i] = 0;
        st->n_tensors = i + 1;
    }
    r = lbrx__st_build_index(st, err);
    if (r != LBRX_OK) goto fail;
    lbrx_free(allocator, e);
    *out = st;
    return LBRX_OK;
fail:
    lbrx_free(allocator, e);
    lbrx_json_destroy(doc);
    lbrx_safetensors_destroy(st);
    return r;
}

LBRXDEF lbrx_result lbrx_safetensors_open_storage(lbrx_safetensors **out, lbrx_storage *storage,
                                                  const lbrx_open_desc *opt, lbrx_error *err) {
    const lbrx_allocator *allocator = opt ? &opt->allocator : 0;
    if (!out || !storage) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_open_storage: NULL argument");
    return lbrx__st_load(out, storage, allocator, err);
}

LBRXDEF lbrx_result lbrx_safetensors_open_memory(lbrx_safetensors **out, const void *data, size_t size,
                                                 const lbrx_open_desc *opt, lbrx_error *err) {
    const lbrx_allocator *allocator = opt ? &opt->allocator : 0;
    lbrx_storage *s;
    lbrx_result r;
    if (!out) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_open_memory: out is NULL");
    *out = 0;
    r = lbrx_storage_create_external(&s, (void *)data, size, 0, 0, 0, allocator, err);
    if (r != LBRX_OK) return r;
    r = lbrx__st_load(out, s, allocator, err);
    lbrx_storage_release(s);
    return r;
}

LBRX__PRIVATE int lbrx__st_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

LBRXDEF lbrx_result lbrx_safetensors_open(lbrx_safetensors **out, const char *path, const lbrx_open_desc *opt,
                                          lbrx_error *err) {
    const lbrx_allocator *allocator = opt ? &opt->allocator : 0;
    lbrx_storage *s;
    lbrx_result r;
    if (!out || !path) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_open: NULL argument");
    *out = 0;
    if (lbrx__st_ends_with(path, ".json")) return lbrx_safetensors_open_index(out, path, opt, err);
    r = lbrx_storage_open(&s, path, allocator, err);
    if (r != LBRX_OK) return r;
    r = lbrx__st_load(out, s, allocator, err);
    lbrx_storage_release(s);
    return r;
}

LBRX__PRIVATE int lbrx__st_strcmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

LBRXDEF lbrx_result lbrx_safetensors_open_index(lbrx_safetensors **out, const char *index_path,
                                                const lbrx_open_desc *opt, lbrx_error *err) {
    const lbrx_allocator *allocator = opt ? &opt->allocator : 0;
    lbrx_storage *s = 0;
    lbrx_json *doc = 0;
    const lbrx_json_value *root, *wm, *md;
    const char **files = 0;
    lbrx_safetensors **parts = 0, *st = 0;
    char *path = 0;
    unsigned char *seen = 0;
    size_t i, j, n_map, n_files = 0, dir_len = 0, total = 0, path_cap;
    lbrx_result r;
    if (!out || !index_path) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_open_index: NULL argument");
    *out = 0;
    r = lbrx_storage_open(&s, index_path, allocator, err);
    if (r != LBRX_OK) return r;
    if (lbrx_storage_size(s) > (size_t)LBRX_SAFETENSORS_MAX_HEADER) {
        lbrx_storage_release(s);
        return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "%s: index of %zu bytes exceeds LBRX_SAFETENSORS_MAX_HEADER", index_path, lbrx_storage_size(s));
    }
    r = lbrx__json_parse_at(&doc, lbrx_storage_data(s), lbrx_storage_size(s), 0, 0, allocator, err);
    lbrx_storage_release(s);
    if (r != LBRX_OK) { lbrx__error_prefix(err, index_path); return r; }
    root = lbrx_json_root(doc);
    wm = lbrx_json_get(root, "weight_map");
    md = lbrx_json_get(root, "metadata");
    if (lbrx_json_type_of(root) != LBRX_JSON_OBJECT || lbrx_json_type_of(wm) != LBRX_JSON_OBJECT ||
        (md && lbrx_json_type_of(md) != LBRX_JSON_OBJECT)) {
        r = lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(wm ? wm : root), "%s: not a shard index (an object with a \"weight_map\" object)", index_path);
        goto done;
    }
    n_map = lbrx_json_count(wm);
    files = (const char **)lbrx_alloc(allocator, (n_map ? n_map : 1) * sizeof *files, 16);
    if (!files) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory"); goto done; }
    /* the distinct shard file names, each a plain name in the index's directory */
    for (i = 0; i < n_map; i++) {
        const char *name = "";
        size_t len;
        const lbrx_json_value *v = lbrx_json_member(wm, i, &name, 0);
        const char *f = lbrx_json_string(v, &len);
        if (!f) { r = lbrx__errorf(err, LBRX_ERR_BAD_HEADER, lbrx_json_offset(v), "%s: weight_map value of \"%.80s\" is not a string", index_path, name); goto done; }
        /* no directories, no drive ("C:x" is relative to another directory on Windows) */
        if (len == 0 || memchr(f, 0, len) || strpbrk(f, "/\\:") || strcmp(f, ".") == 0 || strcmp(f, "..") == 0) {
            r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, lbrx_json_offset(v), "%s: shard file name \"%.80s\" of \"%.80s\" is not a plain file name",
                             index_path, f, name);
            goto done;
        }
        files[i] = f;
    }
    qsort((void *)files, n_map, sizeof *files, lbrx__st_strcmp);
    for (i = 0; i < n_map; i++)
        if (n_files == 0 || strcmp(files[n_files - 1], files[i]) != 0) files[n_files++] = files[i];
    /* open every shard */
    for (i = strlen(index_path); i > 0; i--)
        if (index_path[i - 1] == '/' || index_path[i - 1] == '\\') { dir_len = i; break; }
    path_cap = dir_len + 1;
    for (i = 0; i < n_files; i++) if (strlen(files[i]) + dir_len + 1 > path_cap) path_cap = strlen(files[i]) + dir_len + 1;
    path = (char *)lbrx_alloc(allocator, path_cap, 16);
    parts = (lbrx_safetensors **)lbrx_alloc(allocator, (n_files ? n_files : 1) * sizeof *parts, 16);
    if (!path || !parts) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory"); goto done; }
    memset(parts, 0, (n_files ? n_files : 1) * sizeof *parts);
    for (i = 0; i < n_files; i++) {
        memcpy(path, index_path, dir_len);
        strcpy(path + dir_len, files[i]);
        r = lbrx_storage_open(&s, path, allocator, err);
        if (r == LBRX_OK) {
            r = lbrx__st_load(&parts[i], s, allocator, err);
            lbrx_storage_release(s);
        }
        if (r != LBRX_OK) { lbrx__error_prefix(err, path); goto done; }
        total += parts[i]->n_tensors;
    }
    /* one name space: move every shard's tensors and mapping into one object */
    st = lbrx__st_new(total, n_files, allocator);
    if (!st) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for %zu tensors", total); goto done; }
    for (i = 0; i < n_files; i++) {
        lbrx_safetensors *p = parts[i];
        for (j = 0; j < p->n_tensors; j++) {
            st->tensors[st->n_tensors] = p->tensors[j];
            st->names_of[st->n_tensors] = p->names_of[j];
            st->offsets[st->n_tensors] = p->offsets[j];
            st->shard_of[st->n_tensors++] = i;
        }
        st->shards[i] = p->shards[0];
        st->n_shards = i + 1;
        p->n_tensors = 0;
        p->n_shards = 0;
        lbrx_safetensors_destroy(p);
        parts[i] = 0;
    }
    r = lbrx__st_build_index(st, err);
    if (r != LBRX_OK) goto done;
    /* the weight_map must list exactly the shards' tensors, each in its own shard */
    seen = (unsigned char *)lbrx_alloc(allocator, total ? total : 1, 16);
    if (!seen) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory"); goto done; }
    memset(seen, 0, total ? total : 1);
    for (i = 0; i < n_map; i++) {
        const char *name = "", *f, **at;
        size_t len = 0, idx = SIZE_MAX;
        const lbrx_json_value *v = lbrx_json_member(wm, i, &name, &len);
        f = lbrx_json_string(v, 0);
        at = (const char **)bsearch(&f, files, n_files, sizeof *files, lbrx__st_strcmp);
        if (!memchr(name, 0, len)) idx = lbrx_safetensors_find_tensor(st, name);
        if (idx == SIZE_MAX || !at || st->shard_of[idx] != (size_t)(at - files)) {
            r = lbrx__errorf(err, LBRX_ERR_NOT_FOUND, lbrx_json_offset(v), "%s: tensor \"%.80s\" is not in its shard %s", index_path, name, f);
            goto done;
        }
        seen[idx] = 1;
    }
    for (i = 0; i < total; i++)
        if (!seen[i]) {
            r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, LBRX__NO_OFFSET, "%s: tensor \"%.80s\" of shard %s is not in the weight_map",
                             index_path, st->names_of[i], files[st->shard_of[i]]);
            goto done;
        }
    st->index = doc;
    doc = 0;
    *out = st;
    st = 0;
done:
    if (parts) for (i = 0; i < n_files; i++) lbrx_safetensors_destroy(parts[i]);
    lbrx_safetensors_destroy(st);
    lbrx_json_destroy(doc);
    lbrx_free(allocator, (void *)files);
    lbrx_free(allocator, parts);
    lbrx_free(allocator, path);
    lbrx_free(allocator, seen);
    return r;
}

LBRXDEF size_t lbrx_safetensors_tensor_count(const lbrx_safetensors *st) { return st ? st->n_tensors : 0; }
LBRXDEF const char *lbrx_safetensors_tensor_name(const lbrx_safetensors *st, size_t i) {
    return st && i < st->n_tensors ? st->names_of[i] : 0;
}
LBRXDEF size_t lbrx_safetensors_find_tensor(const lbrx_safetensors *st, const char *name) {
    if (!st || !name) return SIZE_MAX;
    return lbrx__name_index_find(&st->names, name, strlen(name), lbrx__st_name_at, st->names_of);
}
LBRXDEF lbrx_result lbrx_safetensors_tensor(const lbrx_safetensors *st, size_t i, lbrx_tensor *out, lbrx_error *err) {
    if (!st || i >= st->n_tensors || !out)
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_tensor: no tensor #%zu", i);
    *out = st->tensors[i];
    lbrx_storage_retain(out->storage);
    return LBRX_OK;
}
LBRXDEF lbrx_result lbrx_safetensors_get_tensor(const lbrx_safetensors *st, const char *name, lbrx_tensor *out, lbrx_error *err) {
    size_t i = lbrx_safetensors_find_tensor(st, name);
    if (i == SIZE_MAX) return lbrx__errorf(err, LBRX_ERR_NOT_FOUND, LBRX__NO_OFFSET, "tensor '%s' not found", name ? name : "(null)");
    return lbrx_safetensors_tensor(st, i, out, err);
}
LBRXDEF uint64_t lbrx_safetensors_tensor_offset(const lbrx_safetensors *st, size_t i) {
    return st && i < st->n_tensors ? st->offsets[i] : LBRX__NO_OFFSET;
}
LBRXDEF size_t lbrx_safetensors_tensor_shard(const lbrx_safetensors *st, size_t i) {
    return st && i < st->n_tensors ? st->shard_of[i] : 0;
}
LBRXDEF size_t lbrx_safetensors_shard_count(const lbrx_safetensors *st) { return st ? st->n_shards : 0; }
LBRXDEF uint64_t lbrx_safetensors_data_offset(const lbrx_safetensors *st, size_t shard) {
    return st && shard < st->n_shards ? st->shards[shard].data_start : LBRX__NO_OFFSET;
}
LBRXDEF const lbrx_json_value *lbrx_safetensors_metadata(const lbrx_safetensors *st) {
    return st && st->n_shards ? st->shards[0].metadata : 0;
}
LBRXDEF const char *lbrx_safetensors_get_metadata(const lbrx_safetensors *st, const char *key) {
    return lbrx_json_string(lbrx_json_get(lbrx_safetensors_metadata(st), key), 0);
}
LBRXDEF const lbrx_json_value *lbrx_safetensors_index(const lbrx_safetensors *st) {
    return st ? lbrx_json_root(st->index) : 0;
}

/* ============================================================================================
   safetensors writer
   ============================================================================================ */

/* A growable text buffer; `failed` sticks after the first allocation failure. */
typedef struct lbrx__st_buf { char *p; size_t len, cap; int failed; const lbrx_allocator *a; } lbrx__st_buf;

LBRX__PRIVATE void lbrx__st_put(lbrx__st_buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        char *q;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) { b->failed = 1; return; }
            cap *= 2;
        }
        q = (char *)lbrx_alloc(b->a, cap, 16);
        if (!q) { b->failed = 1; return; }
        if (b->len) memcpy(q, b->p, b->len);
        lbrx_free(b->a, b->p);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}
LBRX__PRIVATE void lbrx__st_puts(lbrx__st_buf *b, const char *s) { lbrx__st_put(b, s, strlen(s)); }
LBRX__PRIVATE void lbrx__st_putu(lbrx__st_buf *b, unsigned long long v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", v);
    lbrx__st_put(b, tmp, (size_t)n);
}
/* A JSON string literal of the (valid UTF-8) C string s. */
LBRX__PRIVATE void lbrx__st_putstr(lbrx__st_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    lbrx__st_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { char e[2]; e[0] = '\\'; e[1] = (char)c; lbrx__st_put(b, e, 2); }
        else if (c < 0x20) { char e[6] = {'\\', 'u', '0', '0', 0, 0}; e[4] = hex[c >> 4]; e[5] = hex[c & 15]; lbrx__st_put(b, e, 6); }
        else lbrx__st_put(b, s, 1);
    }
    lbrx__st_put(b, "\"", 1);
}

/* A tensor of a write description with its name and its index in desc.tensors. */
typedef struct lbrx__st_item {
    const lbrx_tensor *t;
    const char *name;
    size_t index;
} lbrx__st_item;

LBRX__PRIVATE int lbrx__st_item_name_cmp(const void *a, const void *b) {
    return strcmp(((const lbrx__st_item *)a)->name, ((const lbrx__st_item *)b)->name);
}

/* Check a write description and return the tensors in writing order (*order, allocated) with
   their byte sizes (*sizes, allocated). */
LBRX__PRIVATE lbrx_result lbrx__st_check_desc(const lbrx_safetensors_write_desc *d, lbrx__st_item **order,
                                             uint64_t **sizes, lbrx_error *err) {
    const lbrx_allocator *a = &d->allocator;
    lbrx__st_item *o, *byname;
    uint64_t *sz;
    size_t i, j, n = d->n_tensors, m = n ? n : 1;
    lbrx_result r = LBRX_OK;
    *order = 0;
    *sizes = 0;
    if ((n && (!d->tensors || !d->names)) || (d->n_metadata && !d->metadata))
        return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "safetensors writer: NULL tensors, names or metadata");
    for (i = 0; i < d->n_metadata; i++) {
        const char *k = d->metadata[2 * i], *v = d->metadata[2 * i + 1];
        if (!k || !v) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "metadata pair %zu has a NULL key or value", i);
        if (!lbrx__utf8_valid(k, strlen(k)) || !lbrx__utf8_valid(v, strlen(v)))
            return lbrx__errorf(err, LBRX_ERR_BAD_VALUE, LBRX__NO_OFFSET, "metadata \"%.80s\": key or value is not UTF-8", k);
        for (j = 0; j < i; j++)
            if (strcmp(d->metadata[2 * j], k) == 0)
                return lbrx__errorf(err, LBRX_ERR_DUPLICATE, LBRX__NO_OFFSET, "metadata key \"%.80s\" appears twice", k);
    }
    o = (lbrx__st_item *)lbrx_alloc(a, m * sizeof *o, 16);
    byname = (lbrx__st_item *)lbrx_alloc(a, m * sizeof *byname, 16);
    sz = (uint64_t *)lbrx_alloc(a, m * sizeof *sz, 16);
    if (!o || !byname || !sz) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory"); goto done; }
    for (i = 0; i < n; i++) {
        const lbrx_tensor *t = &d->tensors[i];
        const char *name = d->names[i];
        size_t nb;
        if (!name) { r = lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "tensor %zu has no name", i); goto done; }
        if (!lbrx__utf8_valid(name, strlen(name)) || strcmp(name, "__metadata__") == 0) {
            r = lbrx__errorf(err, LBRX_ERR_BAD_VALUE, LBRX__NO_OFFSET, "tensor name \"%.80s\" is not valid UTF-8 or is reserved", name);
            goto done;
        }
        if (!lbrx_safetensors_dtype_name(t->dtype)) {
            r = lbrx__errorf(err, LBRX_ERR_UNSUPPORTED, LBRX__NO_OFFSET, "tensor \"%.80s\": safetensors has no dtype %s", name, lbrx_dtype_name(t->dtype));
            goto done;
        }
        r = lbrx__shape_layout(t->dtype, t->ndim, t->shape, 0, &nb, err);
        if (r != LBRX_OK) { lbrx__error_prefix(err, name); goto done; }
        if (nb && !t->data && !d->fill) { r = lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "tensor \"%.80s\" has no data", name); goto done; }
        o[i].t = t;
        o[i].name = name;
        o[i].index = i;
        byname[i] = o[i];
    }
    qsort((void *)byname, n, sizeof *byname, lbrx__st_item_name_cmp);
    for (i = 1; i < n; i++)
        if (strcmp(byname[i].name, byname[i - 1].name) == 0) {
            r = lbrx__errorf(err, LBRX_ERR_DUPLICATE, LBRX__NO_OFFSET, "tensor name \"%.80s\" appears twice", byname[i].name);
            goto done;
        }
    if (d->sort_names && n) memcpy((void *)o, (const void *)byname, n * sizeof *o);
    for (i = 0; i < n; i++) {
        size_t nb = 0;
        lbrx_tensor_nbytes(o[i].t, &nb);
        sz[i] = nb;
    }
done:
    lbrx_free(a, (void *)byname);
    if (r != LBRX_OK) { lbrx_free(a, (void *)o); lbrx_free(a, sz); return r; }
    *order = o;
    *sizes = sz;
    return LBRX_OK;
}

/* The padded header of tensors o[0..n) into b (data starts at a multiple of 64). */
LBRX__PRIVATE lbrx_result lbrx__st_header(lbrx__st_buf *b, const lbrx_safetensors_write_desc *d, const lbrx__st_item *o,
                                         const uint64_t *sz, size_t n, lbrx_error *err) {
    size_t i;
    uint64_t off = 0;
    int k;
    lbrx__st_put(b, "        {", 9);   /* 8 bytes for the length, written last */
    if (d->n_metadata) {
        lbrx__st_puts(b, "\"__metadata__\":{");
        for (i = 0; i < d->n_metadata; i++) {
            if (i) lbrx__st_put(b, ",", 1);
            lbrx__st_putstr(b, d->metadata[2 * i]);
            lbrx__st_put(b, ":", 1);
            lbrx__st_putstr(b, d->metadata[2 * i + 1]);
        }
        lbrx__st_put(b, n ? "}," : "}", n ? 2 : 1);
    }
    for (i = 0; i < n; i++) {
        if (i) lbrx__st_put(b, ",", 1);
        lbrx__st_putstr(b, o[i].name);
        lbrx__st_puts(b, ":{\"dtype\":\"");
        lbrx__st_puts(b, lbrx_safetensors_dtype_name(o[i].t->dtype));
        lbrx__st_puts(b, "\",\"shape\":[");
        for (k = 0; k < o[i].t->ndim; k++) {
            if (k) lbrx__st_put(b, ",", 1);
            lbrx__st_putu(b, (unsigned long long)o[i].t->shape[k]);
        }
        lbrx__st_puts(b, "],\"data_offsets\":[");
        lbrx__st_putu(b, (unsigned long long)off);
        lbrx__st_put(b, ",", 1);
        if (!lbrx_add_u64(off, sz[i], &off)) return lbrx__errorf(err, LBRX_ERR_OVERFLOW, LBRX__NO_OFFSET, "total tensor bytes overflow");
        lbrx__st_putu(b, (unsigned long long)off);
        lbrx__st_puts(b, "]}");
    }
    lbrx__st_put(b, "}", 1);
    while (!b->failed && b->len % 64) lbrx__st_put(b, " ", 1);
    if (b->failed) return lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for the header");
    if (b->len - 8 > (size_t)LBRX_SAFETENSORS_MAX_HEADER)
        return lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "header of %zu bytes exceeds LBRX_SAFETENSORS_MAX_HEADER", b->len - 8);
    for (k = 0; k < 8; k++) b->p[k] = (char)(((uint64_t)(b->len - 8) >> (8 * k)) & 0xFF);
    return LBRX_OK;
}

/* Stream one tensor's bytes in row-major order; strided ones go through buf (bufsize bytes). */
LBRX__PRIVATE lbrx_result lbrx__st_write_data(lbrx_safetensors_write_fn write, void *user, const lbrx__st_item *it,
                                             unsigned char *buf, size_t bufsize, lbrx_error *err) {
    const lbrx_tensor *t = it->t;
    size_t nb = 0, es = lbrx_dtype_block_bytes(t->dtype), fill = 0;
    int64_t rows, r, row_len, c;
    lbrx_tensor_nbytes(t, &nb);
    if (nb == 0) return LBRX_OK;
    if (lbrx_tensor_is_contiguous(t)) {
        if (write(t->data, nb, user)) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "tensor \"%.80s\": write failed", it->name);
        return LBRX_OK;
    }
    rows = lbrx_tensor_nrows(t);
    row_len = t->ndim ? t->shape[t->ndim - 1] : 1;
    if (lbrx_dtype_block_size(t->dtype) > 1) {  /* packed sub-byte rows (F4, F6_*) are contiguous: copy whole rows */
        lbrx_row_bytes(t->dtype, row_len, &es);
        row_len = 1;
    }
    for (r = 0; r < rows; r++) {
        const unsigned char *row = (const unsigned char *)lbrx_tensor_row(t, r);
        int64_t step = t->ndim ? t->stride[t->ndim - 1] : (int64_t)es;
        for (c = 0; c < row_len; c++) {
            if (fill + es > bufsize) {
                if (write(buf, fill, user)) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "tensor \"%.80s\": write failed", it->name);
                fill = 0;
            }
            memcpy(buf + fill, row + c * step, es);
            fill += es;
        }
    }
    if (fill && write(buf, fill, user)) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "tensor \"%.80s\": write failed", it->name);
    return LBRX_OK;
}

/* Header and data of tensors o[0..n) (already checked) to a sink. */
LBRX__PRIVATE lbrx_result lbrx__st_emit(lbrx_safetensors_write_fn write, void *user, const lbrx_safetensors_write_desc *d,
                                       const lbrx__st_item *o, const uint64_t *sz, size_t n, lbrx_error *err) {
    lbrx__st_buf b;
    unsigned char *buf = 0;
    size_t i, bufsize = (size_t)1 << 16;
    lbrx_result r;
    memset(&b, 0, sizeof b);
    b.a = &d->allocator;
    r = lbrx__st_header(&b, d, o, sz, n, err);
    if (r == LBRX_OK && write(b.p, b.len, user)) r = lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "header write failed");
    for (i = 0; i < n && r == LBRX_OK; i++) {
        if (!o[i].t->data) {  /* checked: d->fill is set, or the tensor has no bytes */
            if (d->fill)
                r = lbrx__fill_stream(d->fill, d->fill_user, o[i].index, o[i].name, o[i].t->dtype, o[i].t->ndim,
                                      o[i].t->shape, write, user, &d->allocator, err);
            continue;
        }
        if (!lbrx_tensor_is_contiguous(o[i].t) && !buf) {
            buf = (unsigned char *)lbrx_alloc(&d->allocator, bufsize, 64);
            if (!buf) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory"); break; }
        }
        r = lbrx__st_write_data(write, user, &o[i], buf, bufsize, err);
    }
    lbrx_free(&d->allocator, buf);
    lbrx_free(&d->allocator, b.p);
    return r;
}

LBRX__PRIVATE int lbrx__st_fwrite(const void *data, size_t size, void *user) {
    return fwrite(data, 1, size, (FILE *)user) != size;
}

/* What lbrx__st_emit_file writes: tensors o[0..n) (already checked) of a description. */
typedef struct lbrx__st_file_job {
    const lbrx_safetensors_write_desc *d;
    const lbrx__st_item *o;
    const uint64_t *sz;
    size_t n;
} lbrx__st_file_job;

LBRX__PRIVATE lbrx_result lbrx__st_file_body(FILE *f, void *user, lbrx_error *err) {
    const lbrx__st_file_job *j = (const lbrx__st_file_job *)user;
    return lbrx__st_emit(lbrx__st_fwrite, f, j->d, j->o, j->sz, j->n, err);
}

/* Write the checked tensors o[0..n) into a new file at `path` (removed on failure). */
LBRX__PRIVATE lbrx_result lbrx__st_emit_file(const char *path, const lbrx_safetensors_write_desc *d, const lbrx__st_item *o,
                                            const uint64_t *sz, size_t n, lbrx_error *err) {
    lbrx__st_file_job j;
    j.d = d;
    j.o = o;
    j.sz = sz;
    j.n = n;
    return lbrx__write_file(path, lbrx__st_file_body, &j, &d->allocator, err);
}

/* Write the bytes of a text buffer. */
LBRX__PRIVATE lbrx_result lbrx__st_text_body(FILE *f, void *user, lbrx_error *err) {
    const lbrx__st_buf *b = (const lbrx__st_buf *)user;
    if (fwrite(b->p, 1, b->len, f) != b->len) return lbrx__errorf(err, LBRX_ERR_IO, LBRX__NO_OFFSET, "write of %zu bytes failed", b->len);
    return LBRX_OK;
}

/* Check desc (before anything is written), then write it to a new file at `path`, or, with path
   NULL, to the sink write(user). */
LBRX__PRIVATE lbrx_result lbrx__st_write_checked(const char *path, lbrx_safetensors_write_fn write, void *user,
                                                const lbrx_safetensors_write_desc *desc, lbrx_error *err) {
    lbrx__st_item *o;
    uint64_t *sz;
    lbrx_result r = lbrx__st_check_desc(desc, &o, &sz, err);
    if (r != LBRX_OK) return r;
    if (path) r = lbrx__st_emit_file(path, desc, o, sz, desc->n_tensors, err);
    else r = lbrx__st_emit(write, user, desc, o, sz, desc->n_tensors, err);
    lbrx_free(&desc->allocator, (void *)o);
    lbrx_free(&desc->allocator, sz);
    return r;
}

LBRXDEF lbrx_result lbrx_safetensors_write_to(lbrx_safetensors_write_fn write, void *user,
                                              const lbrx_safetensors_write_desc *desc, lbrx_error *err) {
    if (!write || !desc) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_write_to: NULL argument");
    return lbrx__st_write_checked(0, write, user, desc, err);
}

LBRXDEF lbrx_result lbrx_safetensors_write(const char *path, const lbrx_safetensors_write_desc *desc, lbrx_error *err) {
    if (!path || !desc) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_write: NULL argument");
    return lbrx__st_write_checked(path, 0, 0, desc, err);
}

LBRXDEF lbrx_result lbrx_safetensors_write_sharded(const char *dir, const char *prefix, uint64_t max_shard_bytes,
                                                   const lbrx_safetensors_write_desc *desc, lbrx_error *err) {
    const lbrx_allocator *a;
    lbrx__st_item *o = 0;
    uint64_t *sz = 0, total = 0, cur = 0;
    size_t *first = 0, i, k, n, n_shards = 0, cap;
    char *path = 0;
    lbrx__st_buf idx;
    lbrx_result r;
    if (!dir || !desc) return lbrx__errorf(err, LBRX_ERR_INVALID_ARGUMENT, LBRX__NO_OFFSET, "lbrx_safetensors_write_sharded: NULL argument");
    if (!prefix) prefix = "model";
    a = &desc->allocator;
    n = desc->n_tensors;
    memset(&idx, 0, sizeof idx);
    idx.a = a;
    r = lbrx__st_check_desc(desc, &o, &sz, err);
    if (r != LBRX_OK) return r;
    /* cut into shards: first[k] = index of shard k's first tensor */
    first = (size_t *)lbrx_alloc(a, (n + 2) * sizeof *first, 16);
    cap = strlen(dir) + strlen(prefix) + 64;
    path = (char *)lbrx_alloc(a, cap, 16);
    if (!first || !path) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory"); goto done; }
    first[n_shards++] = 0;
    for (i = 0; i < n; i++) {
        if (i > 0 && cur + sz[i] > max_shard_bytes) { first[n_shards++] = i; cur = 0; }
        cur += sz[i];
        total += sz[i];
    }
    first[n_shards] = n;
    if (n_shards > 99999) { r = lbrx__errorf(err, LBRX_ERR_LIMIT, LBRX__NO_OFFSET, "more than 99999 shards"); goto done; }
    lbrx__st_puts(&idx, "{\"metadata\":{\"total_size\":");
    lbrx__st_putu(&idx, (unsigned long long)total);
    lbrx__st_puts(&idx, "},\"weight_map\":{");
    for (k = 0; k < n_shards; k++) {
        char name[64];
        snprintf(name, sizeof name, "-%05zu-of-%05zu.safetensors", k + 1, n_shards);
        snprintf(path, cap, "%s/%s%s", dir, prefix, name);
        r = lbrx__st_emit_file(path, desc, o + first[k], sz + first[k], first[k + 1] - first[k], err);
        if (r != LBRX_OK) goto done;
        snprintf(path, cap, "%s%s", prefix, name);
        for (i = first[k]; i < first[k + 1]; i++) {
            if (i) lbrx__st_put(&idx, ",", 1);
            lbrx__st_putstr(&idx, o[i].name);
            lbrx__st_put(&idx, ":", 1);
            lbrx__st_putstr(&idx, path);
        }
    }
    lbrx__st_puts(&idx, "}}\n");
    if (idx.failed) { r = lbrx__errorf(err, LBRX_ERR_OUT_OF_MEMORY, LBRX__NO_OFFSET, "out of memory for the index"); goto done; }
    snprintf(path, cap, "%s/%s.safetensors.index.json", dir, prefix);
    r = lbrx__write_file(path, lbrx__st_text_body, &idx, a, err);
done:
    lbrx_free(a, (void *)o);
    lbrx_free(a, sz);
    lbrx_free(a, first);
    lbrx_free(a, path);
    lbrx_free(a, idx.p);
    return r;
}

#endif /* LBRX_SAFETENSORS_IMPLEMENTATION */
