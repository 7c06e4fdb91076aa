/* GGUF: the real files of ../shared/data, a hostile-input suite (one file per check of
   lbrx_gguf.h's READER section) built here,
   and writer round trips. Expected values come from the files' provenance and an independent
   Python parser (token counts, first/last tokens, shapes), and from llama2.c's stories260K.bin
   (the same weights in another format), never from lbrx itself. */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
#include "lbrx_test.h"
#if defined(_WIN32)
#include <io.h>
#include <fcntl.h>
#define open_ro(p) _open(p, _O_RDONLY | _O_BINARY)
#define close_fd(fd) _close(fd)
#else
#include <fcntl.h>
#include <unistd.h>
#define open_ro(p) open(p, O_RDONLY)
#define close_fd(fd) close(fd)
#endif

/* ---- a tiny byte builder for crafted files ---- */

typedef struct gb { unsigned char *b; size_t n, cap; } gb;

static void gb_bytes(gb *g, const void *p, size_t n) {
    if (g->n + n > g->cap) {
        size_t cap = g->cap ? g->cap : 256;
        while (cap < g->n + n) cap *= 2;
        g->b = (unsigned char *)realloc(g->b, cap);
        g->cap = cap;
    }
    memcpy(g->b + g->n, p, n);
    g->n += n;
}
static void gb_u8(gb *g, unsigned v) { unsigned char c = (unsigned char)v; gb_bytes(g, &c, 1); }
static void gb_u32(gb *g, uint32_t v) { gb_bytes(g, &v, 4); }
static void gb_u64(gb *g, uint64_t v) { gb_bytes(g, &v, 8); }
static void gb_strn(gb *g, const char *s, size_t n) { gb_u64(g, n); gb_bytes(g, s, n); }
static void gb_str(gb *g, const char *s) { gb_strn(g, s, strlen(s)); }
static void gb_free(gb *g) { free(g->b); memset(g, 0, sizeof *g); }
static void gb_header(gb *g, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_bytes(g, "GGUF", 4); gb_u32(g, version); gb_u64(g, n_tensors); gb_u64(g, n_kv);
}
static void gb_kv_u32(gb *g, const char *key, uint32_t v) { gb_str(g, key); gb_u32(g, 4); gb_u32(g, v); }
/* tensor info with GGUF-order dims */
static void gb_tinfo(gb *g, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off) {
    uint32_t i;
    gb_str(g, name); gb_u32(g, nd);
    for (i = 0; i < nd; i++) gb_u64(g, ne[i]);
    gb_u32(g, type); gb_u64(g, off);
}
static void gb_pad(gb *g, size_t a) { while (g->n % a) gb_u8(g, 0); }
static void gb_zeros(gb *g, size_t n) { while (n--) gb_u8(g, 0); }

/* Open crafted bytes; return the result (closing on success). */
static lbrx_result open_gb(const gb *g, lbrx_error *e) {
    lbrx_gguf *f = 0;
    lbrx_result r;
    memset(e, 0, sizeof *e);
    r = lbrx_gguf_open_memory(&f, g->b, g->n, NULL, e);
    LT_CHECK((r == LBRX_OK) == (f != NULL));
    if (r != LBRX_OK) LT_CHECKF(e->result == r && e->message[0], "error detail not filled for %s", lbrx_result_str(r));
    lbrx_gguf_destroy(f);
    return r;
}

#define EXPECT(g, code) do { lbrx_error e_; lbrx_result r_ = open_gb(g, &e_); \
    LT_CHECKF(r_ == (code), "got %s (%s), expected %s", lbrx_result_str(r_), e_.message, lbrx_result_str(code)); } while (0)

/* One valid file: 2 KVs and one f32 tensor [2,3] (GGUF ne {3,2}) with data 0..5. */
static void valid_file(gb *g) {
    uint64_t ne[2] = {3, 2};
    float d[6] = {0, 1, 2, 3, 4, 5};
    gb_header(g, 3, 1, 2);
    gb_kv_u32(g, "general.alignment", 32);
    gb_str(g, "general.name"); gb_u32(g, 8); gb_str(g, "tiny");
    gb_tinfo(g, "w", 2, ne, 0, 0);
    gb_pad(g, 32);
    gb_bytes(g, d, sizeof d);
}

static void test_crafted_valid(void) {
    gb g = {0, 0, 0};
    lbrx_gguf *f = 0;
    lbrx_error e;
    lbrx_tensor t;
    lbrx_gguf_str s = {0, 0};
    valid_file(&g);
    LT_CHECK(lbrx_gguf_open_memory(&f, g.b, g.n, NULL, &e) == LBRX_OK);
    if (!f) { gb_free(&g); return; }
    LT_CHECK(lbrx_gguf_version(f) == 3 && lbrx_gguf_kv_count(f) == 2 && lbrx_gguf_tensor_count(f) == 1);
    LT_CHECK(lbrx_gguf_get_str(f, "general.name", &s, &e) == LBRX_OK && s.len == 4 && memcmp(s.data, "tiny", 4) == 0);
    LT_CHECK(s.data >= (const char *)g.b && s.data < (const char *)g.b + g.n);  /* zero copy */
    LT_CHECK(lbrx_gguf_get_tensor(f, "w", &t, &e) == LBRX_OK);
    LT_CHECK(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3 && t.dtype == LBRX_F32 && strcmp(lbrx_gguf_tensor_name(f, 0), "w") == 0);
    LT_CHECK((unsigned char *)t.data == g.b + lbrx_gguf_data_offset(f) && ((float *)t.data)[5] == 5.0f);
    LT_CHECK(lbrx_gguf_data_offset(f) % 32 == 0);
    lbrx_gguf_destroy(f);
    LT_CHECK(((float *)t.data)[4] == 4.0f);  /* the tensor outlives the lbrx_gguf */
    lbrx_tensor_release(&t);
    gb_free(&g);
}

/* H1: counts larger than the file could hold */
/* lbrx_open_desc: the open functions allocate through the given allocator (the index, the
   names, the mapping) and close gives every byte back. */
static void test_open_options(void) {
    gb g = {0, 0, 0};
    lbrx_gguf *f = 0;
    lbrx_error e;
    lbrx_open_desc opt;
    lt_counting c = {0, 0, 0, 0, 0};
    char path[4096];
    FILE *out;
    valid_file(&g);
    memset(&opt, 0, sizeof opt);
    opt.allocator = lt_counting_allocator(&c);
    LT_CHECKF(lbrx_gguf_open_memory(&f, g.b, g.n, &opt, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(f && lbrx_gguf_find_tensor(f, "w") == 0 && c.allocs > 0);
    lbrx_gguf_destroy(f);
    LT_CHECKF(c.allocs == c.frees, "%ld allocations, %ld frees", c.allocs, c.frees);
    snprintf(path, sizeof path, "%s", lt_tmp_path("gguf_opt.gguf"));
    out = fopen(path, "wb");
    LT_CHECK(out && fwrite(g.b, 1, g.n, out) == g.n);
    if (out) fclose(out);
    c.allocs = c.frees = 0;
    LT_CHECKF(lbrx_gguf_open(&f, path, &opt, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(f && lbrx_gguf_find_key(f, "general.name") == 1 && c.allocs > 0);
    lbrx_gguf_destroy(f);
    LT_CHECK(c.allocs == c.frees);
    remove(path);
    gb_free(&g);
}

/* A non-ASCII (UTF-8) file name written by the writer and read back (wide paths on Windows). */
static void test_utf8_path(void) {
    lbrx_gguf_writer *w = 0;
    lbrx_gguf *g = 0;
    lbrx_error e;
    float v[3] = {1, 2, 3};
    int64_t shape[1] = {3};
    lbrx_tensor t;
    char path[4096];
    snprintf(path, sizeof path, "%s", lt_tmp_path("t\xC3\xABst_\xC3\xBC.gguf"));
    LT_CHECK(lbrx_tensor_init_memory(&t, LBRX_F32, 1, shape, v, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, &e) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_tensor(w, "v", &t, &e) == LBRX_OK);
    LT_CHECKF(lbrx_gguf_writer_write_path(w, path, &e) == LBRX_OK, "%s", e.message);
    lbrx_gguf_writer_destroy(w);
    LT_CHECKF(lbrx_gguf_open(&g, path, NULL, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(g && lbrx_gguf_find_tensor(g, "v") == 0);
    lbrx_gguf_destroy(g);
    LT_CHECK(lt_remove(path) == 0);
}

static void test_h1_counts(void) {
    gb g = {0, 0, 0};
    gb_header(&g, 3, (uint64_t)1 << 62, 0); gb_zeros(&g, 64);
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
    gb_header(&g, 3, 0, (uint64_t)1 << 60); gb_zeros(&g, 64);
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
    gb_header(&g, 3, UINT64_MAX, UINT64_MAX);
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
}

/* H2: string lengths near 2^64 */
static void test_h2_strings(void) {
    gb g = {0, 0, 0};
    lbrx_error e;
    gb_header(&g, 3, 0, 1); gb_u64(&g, UINT64_MAX); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_TRUNCATED);
    LT_CHECK(open_gb(&g, &e) == LBRX_ERR_TRUNCATED && e.offset == 24);
    gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "k"); gb_u32(&g, 8); gb_u64(&g, UINT64_MAX - 3); gb_bytes(&g, "xy", 2);
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
}

/* H3: array counts huge, overflowing count * size, arrays of strings */
static void test_h3_arrays(void) {
    gb g = {0, 0, 0};
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 9); gb_u32(&g, 10); gb_u64(&g, ((uint64_t)1 << 61) + 1); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 9); gb_u32(&g, 8); gb_u64(&g, (uint64_t)1 << 62); gb_str(&g, "x");
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
    /* a string array whose count fits but whose last string runs past the end */
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 9); gb_u32(&g, 8); gb_u64(&g, 2); gb_str(&g, "x"); gb_u64(&g, 100);
    EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
}

/* H4: unknown value / element types; bool values other than 0 and 1 */
static void test_h4_types(void) {
    gb g = {0, 0, 0};
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 13); gb_u64(&g, 0);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 0xffffffffu); gb_u64(&g, 0);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 9); gb_u32(&g, 200); gb_u64(&g, 1); gb_u64(&g, 0);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 7); gb_u8(&g, 2);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 9); gb_u32(&g, 7); gb_u64(&g, 3); gb_u8(&g, 1); gb_u8(&g, 0); gb_u8(&g, 9);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
}

/* H5: duplicate keys and tensor names, with the second record's offset */
static void test_h5_duplicates(void) {
    gb g = {0, 0, 0};
    uint64_t ne[1] = {8};
    lbrx_error e;
    gb_header(&g, 3, 0, 2); gb_kv_u32(&g, "a.b", 1); gb_kv_u32(&g, "a.b", 2);
    LT_CHECK(open_gb(&g, &e) == LBRX_ERR_DUPLICATE && e.offset == 24 + 8 + 3 + 4 + 4 && strstr(e.message, "'a.b'"));
    gb_free(&g);
    gb_header(&g, 3, 2, 0); gb_tinfo(&g, "t", 1, ne, 0, 0); gb_tinfo(&g, "t", 1, ne, 0, 32); gb_pad(&g, 32); gb_zeros(&g, 64);
    EXPECT(&g, LBRX_ERR_DUPLICATE); gb_free(&g);
}

/* H6: an empty key */
static void test_h6_empty_key(void) {
    gb g = {0, 0, 0};
    gb_header(&g, 3, 0, 1); gb_kv_u32(&g, "", 1);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
}

/* H7: typed getters refuse other types, arrays included; general.alignment of the wrong type */
static void test_h7_typed_getters(void) {
    gb g = {0, 0, 0};
    lbrx_gguf *f = 0;
    lbrx_error e;
    float fv;
    uint32_t u;
    int64_t iv;
    const void *data = 0;
    const lbrx_gguf_str *strs = 0;
    uint64_t n;
    uint8_t bytes[3] = {1, 2, 3};
    gb_header(&g, 3, 0, 4);
    gb_kv_u32(&g, "n", 7);
    gb_str(&g, "scores"); gb_u32(&g, 9); gb_u32(&g, 0); gb_u64(&g, 3); gb_bytes(&g, bytes, 3);
    gb_str(&g, "tokens"); gb_u32(&g, 9); gb_u32(&g, 8); gb_u64(&g, 2); gb_str(&g, "ab"); gb_str(&g, "c");
    gb_str(&g, "f"); gb_u32(&g, 6); fv = 1.5f; gb_bytes(&g, &fv, 4);
    LT_CHECK(lbrx_gguf_open_memory(&f, g.b, g.n, NULL, &e) == LBRX_OK);
    if (f) {
        LT_CHECK(lbrx_gguf_get_u32(f, "n", &u, &e) == LBRX_OK && u == 7);
        LT_CHECK(lbrx_gguf_get_f32(f, "n", &fv, &e) == LBRX_ERR_TYPE_MISMATCH && strstr(e.message, "'n'"));
        LT_CHECK(lbrx_gguf_get_u64(f, "n", (uint64_t *)&iv, &e) == LBRX_ERR_TYPE_MISMATCH);
        LT_CHECK(lbrx_gguf_get_int(f, "n", &iv, &e) == LBRX_OK && iv == 7);
        LT_CHECK(lbrx_gguf_get_int(f, "f", &iv, &e) == LBRX_ERR_TYPE_MISMATCH);
        LT_CHECK(lbrx_gguf_get_array(f, "scores", LBRX_GGUF_FLOAT32, &data, &n, &e) == LBRX_ERR_TYPE_MISMATCH);
        LT_CHECK(lbrx_gguf_get_array(f, "scores", LBRX_GGUF_UINT8, &data, &n, &e) == LBRX_OK && n == 3 &&
                 memcmp(data, bytes, 3) == 0);
        LT_CHECK(lbrx_gguf_get_array(f, "n", LBRX_GGUF_UINT32, &data, &n, &e) == LBRX_ERR_TYPE_MISMATCH);
        LT_CHECK(lbrx_gguf_get_str_array(f, "scores", &strs, &n, &e) == LBRX_ERR_TYPE_MISMATCH);
        LT_CHECK(lbrx_gguf_get_u32(f, "tokens", &u, &e) == LBRX_ERR_TYPE_MISMATCH);
        LT_CHECK(lbrx_gguf_get_str_array(f, "tokens", &strs, &n, &e) == LBRX_OK && n == 2 && strs[0].len == 2 &&
                 memcmp(strs[0].data, "ab", 2) == 0 && strs[1].len == 1 && strs[1].data[0] == 'c');
        LT_CHECK(lbrx_gguf_get_u32(f, "missing", &u, &e) == LBRX_ERR_NOT_FOUND);
        lbrx_gguf_destroy(f);
    }
    gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_str(&g, "general.alignment"); gb_u32(&g, 5); gb_u32(&g, 32);
    EXPECT(&g, LBRX_ERR_TYPE_MISMATCH); gb_free(&g);
}

/* H8: nested arrays */
static void test_h8_nested(void) {
    gb g = {0, 0, 0};
    int i;
    gb_header(&g, 3, 0, 1); gb_str(&g, "a"); gb_u32(&g, 9);
    for (i = 0; i < 1000; i++) { gb_u32(&g, 9); gb_u64(&g, 1); }
    gb_u32(&g, 4); gb_u64(&g, 1); gb_u32(&g, 0);
    EXPECT(&g, LBRX_ERR_UNSUPPORTED); gb_free(&g);
}

/* H9: more than 4 dimensions, refused before any dimension is read */
static void test_h9_ndims(void) {
    gb g = {0, 0, 0};
    uint64_t ne[5] = {1, 1, 1, 1, 1};
    gb_header(&g, 3, 1, 0); gb_tinfo(&g, "t", 5, ne, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_BAD_SHAPE); gb_free(&g);
    gb_header(&g, 3, 1, 0); gb_str(&g, "t"); gb_u32(&g, 0xffffffffu); gb_zeros(&g, 64);
    EXPECT(&g, LBRX_ERR_BAD_SHAPE); gb_free(&g);
}

static void one_tensor(gb *g, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off, size_t data) {
    gb_header(g, 3, 1, 0); gb_tinfo(g, "t", nd, ne, type, off); gb_pad(g, 32); gb_zeros(g, data);
}

/* H10: element counts and byte sizes that overflow; dimensions above INT64_MAX; data past EOF */
static void test_h10_overflow(void) {
    gb g = {0, 0, 0};
    uint64_t a[2] = {((uint64_t)1 << 42) + 1, (uint64_t)1 << 42}, b[2] = {2, (uint64_t)INT64_MAX};
    uint64_t c[4] = {32, (uint64_t)1 << 20, (uint64_t)1 << 20, (uint64_t)1 << 20}, d[1] = {(uint64_t)1 << 63};
    uint64_t big[2] = {64, 64};
    lbrx_error e;
    one_tensor(&g, 2, a, 0, 0, 64); EXPECT(&g, LBRX_ERR_OVERFLOW); gb_free(&g);
    one_tensor(&g, 2, b, 0, 0, 64); EXPECT(&g, LBRX_ERR_OVERFLOW); gb_free(&g);
    one_tensor(&g, 4, c, 2, 0, 64); EXPECT(&g, LBRX_ERR_OVERFLOW); gb_free(&g);
    one_tensor(&g, 1, d, 0, 0, 64); EXPECT(&g, LBRX_ERR_BAD_SHAPE); gb_free(&g);
    one_tensor(&g, 2, big, 0, 0, 64 * 63 * 4);  /* one row short */
    LT_CHECK(open_gb(&g, &e) == LBRX_ERR_BAD_OFFSET && strstr(e.message, "tensor 't'") && e.offset == 24);
    gb_free(&g);
}

/* H11: zero dimensions are legal (0 bytes) and never divide. A tensor with a zero dimension has
   no element whatever its other dimensions (GGML accepts it): their product is checked only when
   no dimension is zero. (Checks of float values below cast their constants: -m32's x87 keeps
   constants in long double.) */
static void test_h11_zero_dims(void) {
    gb g = {0, 0, 0};
    uint64_t a[2] = {0, 5}, b[3] = {5, 0, (uint64_t)1 << 30}, c[3] = {(uint64_t)INT64_MAX, 0, 4};
    uint64_t huge[4] = {(uint64_t)1 << 40, (uint64_t)1 << 40, 0, (uint64_t)1 << 40}, full[3] = {(uint64_t)INT64_MAX, 1, 4};
    uint64_t d[2] = {(uint64_t)1 << 61, 0};  /* a row of 2^63 bytes would not fit a stride (found by tests/fuzz_gguf.c) */
    lbrx_gguf *f = 0;
    lbrx_error e;
    one_tensor(&g, 2, a, 0, 0, 0);
    LT_CHECK(lbrx_gguf_open_memory(&f, g.b, g.n, NULL, &e) == LBRX_OK);
    if (f) {
        const lbrx_gguf_tensor_info *t = lbrx_gguf_tensor_info_at(f, 0);
        LT_CHECK(t->nbytes == 0 && t->shape[0] == 5 && t->shape[1] == 0);
        lbrx_gguf_destroy(f);
    }
    gb_free(&g);
    one_tensor(&g, 3, b, 0, 0, 0); EXPECT(&g, LBRX_OK); gb_free(&g);
    one_tensor(&g, 3, c, 0, 0, 0); EXPECT(&g, LBRX_OK); gb_free(&g);
    one_tensor(&g, 2, d, 0, 0, 0); EXPECT(&g, LBRX_OK); gb_free(&g);
    one_tensor(&g, 3, full, 0, 0, 0); EXPECT(&g, LBRX_ERR_OVERFLOW); gb_free(&g);  /* no zero: the product must fit */
    one_tensor(&g, 4, huge, LBRX_Q4_0, 0, 0);  /* Q4_0 rows of 2^40: a multiple of 32 */
    LT_CHECK(lbrx_gguf_open_memory(&f, g.b, g.n, NULL, &e) == LBRX_OK);
    if (f) {
        const lbrx_gguf_tensor_info *ti = lbrx_gguf_tensor_info_at(f, 0);
        lbrx_tensor t;
        int64_t n = -1;
        size_t nb = 1;
        LT_CHECK(ti->nbytes == 0 && ti->shape[0] == (int64_t)1 << 40 && ti->shape[1] == 0 && ti->shape[3] == (int64_t)1 << 40);
        LT_CHECK(lbrx_gguf_tensor(f, 0, &t, &e) == LBRX_OK);
        LT_CHECK(lbrx_tensor_nelements(&t, &n) == LBRX_OK && n == 0);
        LT_CHECK(lbrx_tensor_nbytes(&t, &nb) == LBRX_OK && nb == 0 && lbrx_tensor_nrows(&t) == 0);
        LT_CHECK(lbrx_tensor_is_contiguous(&t));
        lbrx_tensor_release(&t);
        lbrx_gguf_destroy(f);
    }
    gb_free(&g);
    huge[2] = 3;  /* the same dimensions without the zero overflow */
    one_tensor(&g, 4, huge, LBRX_Q4_0, 0, 0); EXPECT(&g, LBRX_ERR_OVERFLOW); gb_free(&g);
}

/* H12: type ids out of range, removed, negative; rows that are not a block multiple */
static void test_h12_types(void) {
    gb g = {0, 0, 0};
    uint64_t ne[1] = {32}, odd[1] = {33};
    uint32_t bad[6] = {4, 5, 31, 36, 40, 0xffffffffu};
    int i;
    for (i = 0; i < 6; i++) { one_tensor(&g, 1, ne, bad[i], 0, 64); EXPECT(&g, LBRX_ERR_BAD_DTYPE); gb_free(&g); }
    one_tensor(&g, 1, ne, LBRX_U8, 0, 64); EXPECT(&g, LBRX_ERR_BAD_DTYPE); gb_free(&g);
    one_tensor(&g, 1, odd, LBRX_Q4_0, 0, 64); EXPECT(&g, LBRX_ERR_BAD_SHAPE); gb_free(&g);
    one_tensor(&g, 1, ne, LBRX_Q4_0, 0, 32); EXPECT(&g, LBRX_OK); gb_free(&g);
}

/* H13: unaligned, out-of-file and overlapping tensor data */
static void test_h13_offsets(void) {
    gb g = {0, 0, 0};
    uint64_t ne[1] = {8};
    lbrx_error e;
    one_tensor(&g, 1, ne, 0, 4, 64); EXPECT(&g, LBRX_ERR_BAD_ALIGNMENT); gb_free(&g);
    one_tensor(&g, 1, ne, 0, 64, 64); EXPECT(&g, LBRX_ERR_BAD_OFFSET); gb_free(&g);
    one_tensor(&g, 1, ne, 0, 32, 64); EXPECT(&g, LBRX_OK); gb_free(&g);
    gb_header(&g, 3, 2, 0); gb_tinfo(&g, "a", 1, ne, 0, 0); gb_tinfo(&g, "b", 1, ne, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 64);
    LT_CHECK(open_gb(&g, &e) == LBRX_ERR_BAD_OFFSET && strstr(e.message, "overlaps"));
    gb_free(&g);
    /* a 64-byte tensor at 0 and another at 32 */
    {
        uint64_t ne16[1] = {16};
        gb_header(&g, 3, 2, 0); gb_tinfo(&g, "a", 1, ne16, 0, 0); gb_tinfo(&g, "b", 1, ne, 0, 32); gb_pad(&g, 32); gb_zeros(&g, 128);
        EXPECT(&g, LBRX_ERR_BAD_OFFSET); gb_free(&g);
    }
    /* zero-byte tensors may sit anywhere inside the file, even at another tensor's offset */
    {
        uint64_t z[1] = {0};
        gb_header(&g, 3, 2, 0); gb_tinfo(&g, "a", 1, ne, 0, 0); gb_tinfo(&g, "b", 1, z, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
        EXPECT(&g, LBRX_OK); gb_free(&g);
    }
}

/* H14: offsets whose padding or end would wrap around 2^64 */
static void test_h14_wrap(void) {
    gb g = {0, 0, 0};
    uint64_t ne[1] = {16};
    one_tensor(&g, 1, ne, 0, UINT64_MAX - 31, 64); EXPECT(&g, LBRX_ERR_BAD_OFFSET); gb_free(&g);
    one_tensor(&g, 1, ne, 0, (uint64_t)1 << 63, 64); EXPECT(&g, LBRX_ERR_BAD_OFFSET); gb_free(&g);
}

/* H15: general.alignment 0, not a power of two, too small, too large, wrong type */
static void test_h15_alignment(void) {
    uint32_t bad[5] = {0, 48, 4, 1u << 31, (uint32_t)LBRX_GGUF_MAX_ALIGNMENT * 2};
    gb g = {0, 0, 0};
    int i;
    for (i = 0; i < 5; i++) { gb_header(&g, 3, 0, 1); gb_kv_u32(&g, "general.alignment", bad[i]); EXPECT(&g, LBRX_ERR_BAD_ALIGNMENT); gb_free(&g); }
    gb_header(&g, 3, 0, 1); gb_str(&g, "general.alignment"); gb_u32(&g, 10); gb_u64(&g, 32);
    EXPECT(&g, LBRX_ERR_TYPE_MISMATCH); gb_free(&g);
    /* a valid larger alignment moves the data section */
    {
        uint64_t ne[1] = {4};
        lbrx_gguf *f = 0;
        lbrx_error e;
        gb_header(&g, 3, 1, 1); gb_kv_u32(&g, "general.alignment", 256); gb_tinfo(&g, "t", 1, ne, 0, 0); gb_pad(&g, 256); gb_zeros(&g, 16);
        LT_CHECK(lbrx_gguf_open_memory(&f, g.b, g.n, NULL, &e) == LBRX_OK);
        if (f) { LT_CHECK(lbrx_gguf_alignment(f) == 256 && lbrx_gguf_data_offset(f) == 256); lbrx_gguf_destroy(f); }
        gb_free(&g);
    }
}

/* H16: magic and version tricks; v1 with u32 widths is read deliberately */
static void test_h16_versions(void) {
    gb g = {0, 0, 0};
    gb_header(&g, 0, 0, 0); EXPECT(&g, LBRX_ERR_BAD_VERSION); gb_free(&g);
    gb_header(&g, 4, 0, 0); EXPECT(&g, LBRX_ERR_BAD_VERSION); gb_free(&g);
    gb_header(&g, 0x03000000u, 0, 0); EXPECT(&g, LBRX_ERR_BIG_ENDIAN); gb_free(&g);
    gb_bytes(&g, "FUGG", 4); gb_u32(&g, 0x03000000u); gb_u64(&g, 0); gb_u64(&g, 0); EXPECT(&g, LBRX_ERR_BIG_ENDIAN); gb_free(&g);
    gb_bytes(&g, "GGML", 4); gb_u32(&g, 3); gb_u64(&g, 0); gb_u64(&g, 0); EXPECT(&g, LBRX_ERR_BAD_MAGIC); gb_free(&g);
    gb_bytes(&g, "GG", 2); EXPECT(&g, LBRX_ERR_TRUNCATED); gb_free(&g);
    EXPECT(&g, LBRX_ERR_TRUNCATED);  /* empty */
    {   /* v1: u32 counts, lengths and dims */
        lbrx_gguf *f = 0;
        lbrx_error e;
        lbrx_tensor t;
        gb_bytes(&g, "GGUF", 4); gb_u32(&g, 1); gb_u32(&g, 1); gb_u32(&g, 1);
        gb_u32(&g, 1); gb_bytes(&g, "k", 1); gb_u32(&g, 8); gb_u32(&g, 2); gb_bytes(&g, "hi", 2);
        gb_u32(&g, 1); gb_bytes(&g, "t", 1); gb_u32(&g, 2); gb_u32(&g, 2); gb_u32(&g, 3); gb_u32(&g, 0); gb_u64(&g, 0);
        gb_pad(&g, 32); gb_zeros(&g, 24);
        LT_CHECK(lbrx_gguf_open_memory(&f, g.b, g.n, NULL, &e) == LBRX_OK);
        if (f) {
            LT_CHECK(lbrx_gguf_version(f) == 1 && lbrx_gguf_tensor(f, 0, &t, &e) == LBRX_OK && t.shape[0] == 3 && t.shape[1] == 2);
            lbrx_tensor_release(&t);
            lbrx_gguf_destroy(f);
        }
        gb_free(&g);
    }
}

/* H17: every prefix of a valid file is refused (inside the header: TRUNCATED) */
static void test_h17_truncation(void) {
    gb g = {0, 0, 0};
    size_t n, infos_end;
    lbrx_error e;
    valid_file(&g);
    infos_end = g.n - 24 - 32 + 1;  /* a conservative bound: before the padding and data */
    for (n = 0; n < g.n; n++) {
        lbrx_gguf *f = 0;
        lbrx_result r = lbrx_gguf_open_memory(&f, g.b, n, NULL, &e);
        LT_CHECKF(r != LBRX_OK, "prefix of %zu bytes accepted", n);
        if (n >= 4 && n < infos_end) LT_CHECKF(r == LBRX_ERR_TRUNCATED, "prefix %zu: %s", n, lbrx_result_str(r));
        lbrx_gguf_destroy(f);
    }
    gb_free(&g);
}

/* H18: tensor names of 64 bytes, non-UTF-8 or with NUL; keys that are not printable ASCII */
static void test_h18_names(void) {
    gb g = {0, 0, 0};
    char name[65];
    uint64_t ne[1] = {8};
    memset(name, 'n', 64); name[64] = 0;
    one_tensor(&g, 1, ne, 0, 0, 32); EXPECT(&g, LBRX_OK); gb_free(&g);
    gb_header(&g, 3, 1, 0); gb_tinfo(&g, name, 1, ne, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_LIMIT); gb_free(&g);
    name[63] = 0;
    gb_header(&g, 3, 1, 0); gb_tinfo(&g, name, 1, ne, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_OK); gb_free(&g);
    gb_header(&g, 3, 1, 0); gb_tinfo(&g, "bad\xff", 1, ne, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 1, 0); gb_strn(&g, "a\0b", 3); gb_u32(&g, 1); gb_u64(&g, 8); gb_u32(&g, 0); gb_u64(&g, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 1, 0); gb_tinfo(&g, "", 1, ne, 0, 0); gb_pad(&g, 32); gb_zeros(&g, 32);
    EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_kv_u32(&g, "caf\xc3\xa9", 1); EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
    gb_header(&g, 3, 0, 1); gb_kv_u32(&g, "a\nb", 1); EXPECT(&g, LBRX_ERR_BAD_VALUE); gb_free(&g);
}

/* Random bytes fed to the reader never crash it (a smoke fuzz over mutated valid files). */
static void test_mutations(void) {
    gb g = {0, 0, 0};
    lt_rng rng = {0x9e3779b97f4a7c15ULL};
    int it, n = getenv("LT_SLOW") ? 3000 : 20000;
    valid_file(&g);
    for (it = 0; it < n; it++) {
        unsigned char *copy = (unsigned char *)malloc(g.n);
        lbrx_gguf *f = 0;
        lbrx_error e;
        int k, flips = 1 + (int)(lt_next(&rng) % 4);
        memcpy(copy, g.b, g.n);
        for (k = 0; k < flips; k++) copy[lt_next(&rng) % g.n] = (unsigned char)lt_next(&rng);
        if (lbrx_gguf_open_memory(&f, copy, g.n, NULL, &e) == LBRX_OK) {
            size_t i;
            for (i = 0; i < lbrx_gguf_tensor_count(f); i++) {
                lbrx_tensor t;
                size_t nb = 0;
                if (lbrx_gguf_tensor(f, i, &t, &e) == LBRX_OK) {
                    LT_CHECK(lbrx_tensor_nbytes(&t, &nb) == LBRX_OK && (unsigned char *)t.data + nb <= copy + g.n);
                    lbrx_tensor_release(&t);
                }
            }
            lbrx_gguf_destroy(f);
        }
        free(copy);
    }
    gb_free(&g);
}

/* ---- the real files ---- */

typedef struct vocab_fact { const char *path; uint32_t version; size_t n_kv; uint64_t n_tokens; const char *first, *last; } vocab_fact;

static void test_shared_vocab_files(void) {
    static const vocab_fact facts[] = {
        {"llama.cpp/v1/ggml-vocab-llama.gguf", 1, 13, 32000, "<unk>", "\xe7\xbb\x99"},
        {"llama.cpp/v2/ggml-vocab-falcon.gguf", 2, 17, 65024, ">>TITLE<<", "\xc4\xa0victoria"},
        {"llama.cpp/v3/ggml-vocab-bert-bge.gguf", 3, 20, 30522, "[PAD]", "\xef\xbd\x9e"},
        {"llama.cpp/v3/ggml-vocab-gpt-2.gguf", 3, 16, 50257, "!", "<|endoftext|>"},
        {"llama.cpp/v3/ggml-vocab-llama-spm.gguf", 3, 22, 32000, "<unk>", "\xe7\xbb\x99"},
    };
    size_t i;
    if (!lt_shared_path(facts[0].path)) LT_SKIP("shared test data absent");
    for (i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const char *p = lt_shared_path(facts[i].path);
        lbrx_gguf *g = 0;
        lbrx_error e;
        const lbrx_gguf_str *tok = 0;
        uint64_t n = 0;
        lbrx_gguf_str model = {0, 0};
        LT_CHECKF(p && lbrx_gguf_open(&g, p, NULL, &e) == LBRX_OK, "%s: %s", facts[i].path, p ? e.message : "missing");
        if (!p || !g) continue;
        LT_CHECK(lbrx_gguf_version(g) == facts[i].version && lbrx_gguf_kv_count(g) == facts[i].n_kv && lbrx_gguf_tensor_count(g) == 0);
        LT_CHECK(lbrx_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tok, &n, &e) == LBRX_OK);
        LT_CHECKF(n == facts[i].n_tokens, "%s: %llu tokens", facts[i].path, (unsigned long long)n);
        if (n == facts[i].n_tokens) {
            LT_CHECK(tok[0].len == strlen(facts[i].first) && memcmp(tok[0].data, facts[i].first, (size_t)tok[0].len) == 0);
            LT_CHECK(tok[n - 1].len == strlen(facts[i].last) && memcmp(tok[n - 1].data, facts[i].last, (size_t)tok[n - 1].len) == 0);
        }
        LT_CHECK(lbrx_gguf_get_str(g, "tokenizer.ggml.model", &model, &e) == LBRX_OK);
        LT_CHECK(lbrx_gguf_find_key(g, "general.architecture") != SIZE_MAX);
        lbrx_gguf_destroy(g);
    }
    {   /* typed values of one file: llama-spm */
        lbrx_gguf *g = 0;
        lbrx_error e;
        uint32_t u = 0;
        int b = -1;
        float eps = 0;
        const void *scores;
        uint64_t n;
        if (lbrx_gguf_open(&g, lt_shared_path("llama.cpp/v3/ggml-vocab-llama-spm.gguf"), NULL, &e) == LBRX_OK) {
            LT_CHECK(lbrx_gguf_get_u32(g, "llama.vocab_size", &u, &e) == LBRX_OK && u == 32000);
            LT_CHECK(lbrx_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b, &e) == LBRX_OK && b == 1);
            LT_CHECK(lbrx_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b, &e) == LBRX_OK && b == 0);
            LT_CHECK(lbrx_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps, &e) == LBRX_OK && eps == (float)1e-5f);
            LT_CHECK(lbrx_gguf_get_array(g, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, &scores, &n, &e) == LBRX_OK && n == 32000);
            LT_CHECK(lbrx_gguf_get_array(g, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, &scores, &n, &e) == LBRX_OK && n == 32000);
            lbrx_gguf_destroy(g);
        }
    }
}

static void check_stories_shapes(lbrx_gguf *g) {
    static const char *const names[9] = {"attn_q", "attn_k", "attn_v", "attn_output", "attn_norm", "ffn_gate", "ffn_down", "ffn_up", "ffn_norm"};
    static const int64_t shapes[9][2] = {{64, 64}, {32, 64}, {32, 64}, {64, 64}, {64, 0}, {172, 64}, {64, 172}, {172, 64}, {64, 0}};
    int b, k;
    char name[64];
    size_t i;
    LT_CHECK(lbrx_gguf_tensor_count(g) == 48);
    for (b = 0; b < 5; b++)
        for (k = 0; k < 9; k++) {
            const lbrx_gguf_tensor_info *t;
            snprintf(name, sizeof name, "blk.%d.%s.weight", b, names[k]);
            i = lbrx_gguf_find_tensor(g, name);
            LT_CHECKF(i != SIZE_MAX, "%s missing", name);
            if (i == SIZE_MAX) continue;
            t = lbrx_gguf_tensor_info_at(g, i);
            LT_CHECKF(t->ndim == (shapes[k][1] ? 2 : 1) && t->shape[0] == shapes[k][0] && (t->ndim == 1 || t->shape[1] == shapes[k][1]),
                      "%s: shape", name);
        }
    i = lbrx_gguf_find_tensor(g, "token_embd.weight");
    LT_CHECK(i == 0 && lbrx_gguf_tensor_info_at(g, i)->shape[0] == 512 && lbrx_gguf_tensor_info_at(g, i)->shape[1] == 64);
    i = lbrx_gguf_find_tensor(g, "output.weight");
    LT_CHECK(i != SIZE_MAX && lbrx_gguf_tensor_info_at(g, i)->shape[0] == 512);
    LT_CHECK(lbrx_gguf_find_tensor(g, "output_norm.weight") != SIZE_MAX && lbrx_gguf_find_tensor(g, "blk.5.attn_q.weight") == SIZE_MAX);
}

static void test_shared_stories(void) {
    LT_SHARED_OR_SKIP(path, "derived-llama.cpp-c392e50/stories260K-f32.gguf");
    {
        lbrx_gguf *g = 0;
        lbrx_error e;
        uint32_t u = 0;
        lbrx_tensor t;
        size_t i;
        LT_CHECK(lbrx_gguf_open(&g, path, NULL, &e) == LBRX_OK);
        if (!g) return;
        LT_CHECK(lbrx_gguf_kv_count(g) == 19 && lbrx_gguf_version(g) == 3 && lbrx_gguf_alignment(g) == 32);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.block_count", &u, &e) == LBRX_OK && u == 5);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.feed_forward_length", &u, &e) == LBRX_OK && u == 172);
        check_stories_shapes(g);
        for (i = 0; i < lbrx_gguf_tensor_count(g); i++) {
            const lbrx_gguf_tensor_info *ti = lbrx_gguf_tensor_info_at(g, i);
            LT_CHECK(ti->dtype == LBRX_F32 && ti->file_offset % 32 == 0);
        }
        /* the same weights as llama2.c's stories260K.bin (header of 7 int32, then token_embedding, rms_att) */
        if (lt_shared_path("llama2.c64/stories260K.bin")) {
            FILE *f = fopen(lt_shared_path("llama2.c64/stories260K.bin"), "rb");
            float *ref = (float *)malloc(sizeof(float) * (512 * 64 + 64));
            if (f && ref && fseek(f, 28, SEEK_SET) == 0 && fread(ref, sizeof(float), 512 * 64 + 64, f) == 512 * 64 + 64) {
                LT_CHECK(lbrx_gguf_get_tensor(g, "token_embd.weight", &t, &e) == LBRX_OK);
                LT_CHECK(t.storage == lbrx_gguf_storage(g) && memcmp(t.data, ref, sizeof(float) * 512 * 64) == 0);
                lbrx_tensor_release(&t);
                LT_CHECK(lbrx_gguf_get_tensor(g, "blk.0.attn_norm.weight", &t, &e) == LBRX_OK);
                LT_CHECK(memcmp(t.data, ref + 512 * 64, sizeof(float) * 64) == 0);
                lbrx_tensor_release(&t);
            } else {
                LT_CHECK(0);
            }
            if (f) fclose(f);
            free(ref);
        }
        lbrx_gguf_destroy(g);
    }
}

static void test_shared_quantized_and_ollama(void) {
    static const char *const q[2] = {"derived-llama.cpp-c392e50/stories260K-q8_0-f32rest.gguf",
                                     "derived-llama.cpp-c392e50/stories260K-q4_0-f32rest.gguf"};
    int k;
    LT_SHARED_OR_SKIP(ollama, "ollama/llama-2-tiny-random.gguf");
    {
        lbrx_gguf *g = 0;
        lbrx_error e;
        const lbrx_gguf_tensor_info *t;
        uint32_t ft;
        LT_CHECK(lbrx_gguf_open(&g, ollama, NULL, &e) == LBRX_OK);
        if (g) {
            LT_CHECK(lbrx_gguf_kv_count(g) == 18 && lbrx_gguf_tensor_count(g) == 12);
            LT_CHECK(lbrx_gguf_get_u32(g, "general.file_type", &ft, &e) == LBRX_OK && ft == 1);
            t = lbrx_gguf_tensor_info_at(g, 0);
            LT_CHECK(strcmp(t->name, "token_embd.weight") == 0 && t->dtype == LBRX_F16 && t->shape[0] == 32000 && t->shape[1] == 8);
            t = lbrx_gguf_tensor_info_at(g, 7);
            LT_CHECK(strcmp(t->name, "blk.0.ffn_down.weight") == 0 && t->shape[0] == 8 && t->shape[1] == 32);
            t = lbrx_gguf_tensor_info_at(g, 11);  /* ends exactly at EOF */
            LT_CHECK(t->file_offset + t->nbytes == lbrx_storage_size(lbrx_gguf_storage(g)));
            lbrx_gguf_destroy(g);
        }
    }
    for (k = 0; k < 2; k++) {
        const char *p = lt_shared_path(q[k]);
        lbrx_gguf *g = 0;
        lbrx_error e;
        size_t i, nq = 0;
        uint32_t qv;
        if (!p) continue;
        LT_CHECK(lbrx_gguf_open(&g, p, NULL, &e) == LBRX_OK);
        if (!g) continue;
        LT_CHECK(lbrx_gguf_kv_count(g) == 21 && lbrx_gguf_get_u32(g, "general.quantization_version", &qv, &e) == LBRX_OK && qv == 2);
        check_stories_shapes(g);
        for (i = 0; i < lbrx_gguf_tensor_count(g); i++) nq += lbrx_gguf_tensor_info_at(g, i)->dtype == (k ? LBRX_Q4_0 : LBRX_Q8_0);
        LT_CHECK(nq == 32);
        LT_CHECK(lbrx_gguf_tensor_info_at(g, lbrx_gguf_find_tensor(g, "blk.0.ffn_down.weight"))->dtype == LBRX_F32);
        lbrx_gguf_destroy(g);
    }
    {
        const char *p = lt_shared_path("derived-llama.cpp-c392e50/ggml-quant-vectors.gguf");
        lbrx_gguf *g = 0;
        lbrx_error e;
        if (p && lbrx_gguf_open(&g, p, NULL, &e) == LBRX_OK) {
            LT_CHECK(lbrx_gguf_tensor_count(g) == 33 && lbrx_gguf_kv_count(g) == 3);
            LT_CHECK(lbrx_gguf_tensor_info_at(g, lbrx_gguf_find_tensor(g, "q.tq1_0"))->dtype == LBRX_TQ1_0);
            lbrx_gguf_destroy(g);
        } else {
            LT_CHECK(p == NULL);
        }
    }
}

/* ---- writer ---- */

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *b = 0;
    long len;
    *n = 0;
    if (!f) return 0;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        b = (unsigned char *)malloc((size_t)len + 1);
        if (b && fread(b, 1, (size_t)len, f) == (size_t)len) *n = (size_t)len;
    }
    fclose(f);
    return b;
}

/* Metadata of every type, scalars and arrays. */
static void add_all_metadata(lbrx_gguf_writer *w) {
    uint8_t u8 = 200; int8_t i8 = -5; uint16_t u16 = 60000; int16_t i16 = -30000; uint32_t u32 = 4000000000u;
    int32_t i32 = -2000000000; float f32 = 3.25f; unsigned char bo = 1; uint64_t u64 = 0xfedcba9876543210ULL;
    int64_t i64 = -((int64_t)1 << 62); double f64 = -1.0 / 3.0;
    lbrx_gguf_str s = {"h\xc3\xa9llo", 6}, strs[3] = {{"a", 1}, {"", 0}, {"tok\0en", 6}};
    float fa[4] = {1, -2, 3.5f, 1e-9f};
    int32_t ia[3] = {-1, 0, 7};
    unsigned char ba[3] = {0, 1, 1};
    double da[2] = {1e300, -0.0};
    LT_CHECK(lbrx_gguf_writer_add(w, "t.u8", LBRX_GGUF_UINT8, &u8, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.i8", LBRX_GGUF_INT8, &i8, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.u16", LBRX_GGUF_UINT16, &u16, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.i16", LBRX_GGUF_INT16, &i16, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.u32", LBRX_GGUF_UINT32, &u32, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.i32", LBRX_GGUF_INT32, &i32, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.f32", LBRX_GGUF_FLOAT32, &f32, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.bool", LBRX_GGUF_BOOL, &bo, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.str", LBRX_GGUF_STRING, &s, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.u64", LBRX_GGUF_UINT64, &u64, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.i64", LBRX_GGUF_INT64, &i64, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add(w, "t.f64", LBRX_GGUF_FLOAT64, &f64, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "a.str", LBRX_GGUF_STRING, strs, 3, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "a.f32", LBRX_GGUF_FLOAT32, fa, 4, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "a.i32", LBRX_GGUF_INT32, ia, 3, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "a.bool", LBRX_GGUF_BOOL, ba, 3, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "a.f64", LBRX_GGUF_FLOAT64, da, 2, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "a.empty", LBRX_GGUF_UINT16, NULL, 0, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_u32(w, "general.alignment", 64, NULL) == LBRX_OK);
}

static void check_all_metadata(lbrx_gguf *g) {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32; int bo; uint64_t u64, n;
    int64_t i64; double f64; lbrx_gguf_str s = {0, 0}; const lbrx_gguf_str *strs = 0; const void *data = 0;
    float fa[4]; double da[2];
    LT_CHECK(lbrx_gguf_get_u8(g, "t.u8", &u8, NULL) == LBRX_OK && u8 == 200);
    LT_CHECK(lbrx_gguf_get_i8(g, "t.i8", &i8, NULL) == LBRX_OK && i8 == -5);
    LT_CHECK(lbrx_gguf_get_u16(g, "t.u16", &u16, NULL) == LBRX_OK && u16 == 60000);
    LT_CHECK(lbrx_gguf_get_i16(g, "t.i16", &i16, NULL) == LBRX_OK && i16 == -30000);
    LT_CHECK(lbrx_gguf_get_u32(g, "t.u32", &u32, NULL) == LBRX_OK && u32 == 4000000000u);
    LT_CHECK(lbrx_gguf_get_i32(g, "t.i32", &i32, NULL) == LBRX_OK && i32 == -2000000000);
    LT_CHECK(lbrx_gguf_get_f32(g, "t.f32", &f32, NULL) == LBRX_OK && f32 == 3.25f);
    LT_CHECK(lbrx_gguf_get_bool(g, "t.bool", &bo, NULL) == LBRX_OK && bo == 1);
    LT_CHECK(lbrx_gguf_get_str(g, "t.str", &s, NULL) == LBRX_OK && s.len == 6 && memcmp(s.data, "h\xc3\xa9llo", 6) == 0);
    LT_CHECK(lbrx_gguf_get_u64(g, "t.u64", &u64, NULL) == LBRX_OK && u64 == 0xfedcba9876543210ULL);
    LT_CHECK(lbrx_gguf_get_i64(g, "t.i64", &i64, NULL) == LBRX_OK && i64 == -((int64_t)1 << 62));
    LT_CHECK(lbrx_gguf_get_f64(g, "t.f64", &f64, NULL) == LBRX_OK && f64 == (double)(-1.0 / 3.0));
    LT_CHECK(lbrx_gguf_get_int(g, "t.u64", &i64, NULL) == LBRX_ERR_OVERFLOW);
    LT_CHECK(lbrx_gguf_get_int(g, "t.i16", &i64, NULL) == LBRX_OK && i64 == -30000);
    LT_CHECK(lbrx_gguf_get_str_array(g, "a.str", &strs, &n, NULL) == LBRX_OK && n == 3 && strs[0].len == 1 && strs[1].len == 0 &&
             strs[2].len == 6 && memcmp(strs[2].data, "tok\0en", 6) == 0);
    LT_CHECK(lbrx_gguf_get_array(g, "a.f32", LBRX_GGUF_FLOAT32, &data, &n, NULL) == LBRX_OK && n == 4);
    memcpy(fa, data, sizeof fa);
    LT_CHECK(fa[0] == 1 && fa[1] == -2 && fa[2] == 3.5f && fa[3] == (float)1e-9f);
    LT_CHECK(lbrx_gguf_get_array(g, "a.i32", LBRX_GGUF_INT32, &data, &n, NULL) == LBRX_OK && n == 3);
    LT_CHECK(lbrx_gguf_get_array(g, "a.bool", LBRX_GGUF_BOOL, &data, &n, NULL) == LBRX_OK && n == 3 && ((const unsigned char *)data)[2] == 1);
    LT_CHECK(lbrx_gguf_get_array(g, "a.f64", LBRX_GGUF_FLOAT64, &data, &n, NULL) == LBRX_OK && n == 2);
    memcpy(da, data, sizeof da);
    LT_CHECK(da[0] == (double)1e300 && da[1] == 0 && signbit(da[1]));
    LT_CHECK(lbrx_gguf_get_array(g, "a.empty", LBRX_GGUF_UINT16, &data, &n, NULL) == LBRX_OK && n == 0);
    LT_CHECK(lbrx_gguf_alignment(g) == 64);
    LT_CHECK(strcmp(lbrx_gguf_kv_at(g, 0)->key, "t.u8") == 0 && strcmp(lbrx_gguf_kv_at(g, 12)->key, "a.str") == 0);
}

typedef struct fill_ctx { const unsigned char *src; size_t row, index; int calls, wrong; int64_t next; } fill_ctx;

/* Rows of c->src; counts calls for another tensor than c->index / "filled", or out of row order. */
static lbrx_result fill_rows(void *user, size_t index, const char *name, int64_t r0, int64_t n, void *dst, lbrx_error *err) {
    fill_ctx *c = (fill_ctx *)user;
    (void)err;
    c->wrong += index != c->index || strcmp(name, "filled") != 0 || r0 != c->next;
    c->next = r0 + n;
    memcpy(dst, c->src + (size_t)r0 * c->row, (size_t)n * c->row);
    c->calls++;
    return LBRX_OK;
}

/* Every GGML dtype lbrx knows, rank 0..4, an empty tensor, a view and a fill callback:
   write -> read -> the same bytes, shapes and metadata; writing twice gives the same file. */
static void test_writer_round_trip(void) {
    lbrx_gguf_writer *w = 0;
    lbrx_error e;
    lt_rng rng = {12345};
    lbrx_tensor src[LBRX_GGML_TYPE_COUNT], extra[4], view;
    int ids[LBRX_GGML_TYPE_COUNT], n = 0, id, i;
    char name[64];
    fill_ctx fc;
    int64_t big_shape[2];
    unsigned char *big;
    size_t big_bytes;
    char path[4096], path2[4096];
    snprintf(path, sizeof path, "%s", lt_tmp_path("gguf_round_trip.gguf"));
    snprintf(path2, sizeof path2, "%s", lt_tmp_path("gguf_round_trip2.gguf"));
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, &e) == LBRX_OK);
    add_all_metadata(w);
    for (id = 0; id < LBRX_GGML_TYPE_COUNT; id++) {
        int64_t shape[2];
        size_t nb, k;
        if (!lbrx_dtype_valid(id)) continue;
        shape[0] = 3; shape[1] = lbrx_dtype_block_size((lbrx_dtype)id) * 2;
        LT_CHECK(lbrx_tensor_init_heap(&src[n], (lbrx_dtype)id, 2, shape, NULL, &e) == LBRX_OK);
        lbrx_tensor_nbytes(&src[n], &nb);
        for (k = 0; k < nb; k++) ((unsigned char *)src[n].data)[k] = (unsigned char)lt_next(&rng);
        snprintf(name, sizeof name, "w.%s", lbrx_dtype_name((lbrx_dtype)id));
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, name, &src[n], &e) == LBRX_OK);
        ids[n++] = id;
    }
    LT_CHECK(n >= 30);
    {
        int64_t s4[4] = {2, 3, 1, 5}, s0[1] = {0}, e2[2] = {4, 0}, s1[1] = {7};
        LT_CHECK(lbrx_tensor_init_heap(&extra[0], LBRX_F32, 0, s0, NULL, &e) == LBRX_OK);
        ((float *)extra[0].data)[0] = 42.0f;
        LT_CHECK(lbrx_tensor_init_heap(&extra[1], LBRX_I16, 4, s4, NULL, &e) == LBRX_OK);
        for (i = 0; i < 30; i++) ((int16_t *)extra[1].data)[i] = (int16_t)(i * 7 - 100);
        LT_CHECK(lbrx_tensor_init_heap(&extra[2], LBRX_F16, 2, e2, NULL, &e) == LBRX_OK);
        LT_CHECK(lbrx_tensor_init_heap(&extra[3], LBRX_F32, 1, s1, NULL, &e) == LBRX_OK);
        for (i = 0; i < 7; i++) ((float *)extra[3].data)[i] = (float)i;
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, "scalar", &extra[0], &e) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, "rank4", &extra[1], &e) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, "empty", &extra[2], &e) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, "odd", &extra[3], &e) == LBRX_OK);
        /* a non-contiguous view: columns 1..3 of the 4-D tensor's last dimension */
        LT_CHECK(lbrx_tensor_slice(&extra[1], 3, 1, 4, &view, &e) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, "view", &view, &e) == LBRX_OK);
    }
    /* a fill-callback tensor larger than one chunk of rows */
    big_shape[0] = getenv("LT_SLOW") ? 1100 : 4100; big_shape[1] = 1024;
    big_bytes = (size_t)big_shape[0] * 1024 * 4;
    big = (unsigned char *)malloc(big_bytes);
    for (i = 0; i < (int)(big_bytes / 8); i++) { unsigned long long v = lt_next(&rng); memcpy(big + 8 * (size_t)i, &v, 8); }
    fc.src = big; fc.row = 4096; fc.calls = 0; fc.wrong = 0; fc.next = 0;
    fc.index = (size_t)n + 5;  /* the tensors added before it */
    LT_CHECK(lbrx_gguf_writer_add_tensor_fill(w, "filled", LBRX_F32, 2, big_shape, fill_rows, &fc, &e) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_write_path(w, path, &e) == LBRX_OK);
    LT_CHECK(fc.calls >= 2 && fc.wrong == 0 && fc.next == big_shape[0]);
    fc.next = 0;
    LT_CHECK(lbrx_gguf_writer_write_path(w, path2, &e) == LBRX_OK);
    {
        size_t n1, n2;
        unsigned char *b1 = read_all(path, &n1), *b2 = read_all(path2, &n2);
        LT_CHECK(b1 && b2 && n1 == n2 && n1 > 0 && memcmp(b1, b2, n1) == 0);
        free(b1); free(b2);
    }
    {
        lbrx_gguf *g = 0;
        LT_CHECKF(lbrx_gguf_open(&g, path, NULL, &e) == LBRX_OK, "%s", e.message);
        if (g) {
            uint64_t expect_off = 0;
            check_all_metadata(g);
            LT_CHECK(lbrx_gguf_tensor_count(g) == (size_t)n + 6);
            for (i = 0; (size_t)i < lbrx_gguf_tensor_count(g); i++) {
                const lbrx_gguf_tensor_info *t = lbrx_gguf_tensor_info_at(g, i);
                LT_CHECKF(t->offset == expect_off && t->file_offset % 64 == 0, "tensor %s offset", t->name);
                expect_off += (t->nbytes + 63) / 64 * 64;  /* contiguous, each padded to 64 */
            }
            LT_CHECK(lbrx_gguf_data_offset(g) + expect_off == lbrx_storage_size(lbrx_gguf_storage(g)));
            for (i = 0; i < n; i++) {
                lbrx_tensor t;
                size_t nb;
                snprintf(name, sizeof name, "w.%s", lbrx_dtype_name((lbrx_dtype)ids[i]));
                LT_CHECK(lbrx_gguf_get_tensor(g, name, &t, &e) == LBRX_OK);
                lbrx_tensor_nbytes(&src[i], &nb);
                LT_CHECKF(t.dtype == (lbrx_dtype)ids[i] && t.ndim == 2 && t.shape[0] == 3 && t.shape[1] == src[i].shape[1] &&
                          memcmp(t.data, src[i].data, nb) == 0, "%s", name);
                lbrx_tensor_release(&t);
            }
            {
                lbrx_tensor t;
                LT_CHECK(lbrx_gguf_get_tensor(g, "scalar", &t, &e) == LBRX_OK && t.ndim == 0 && ((float *)t.data)[0] == 42.0f);
                lbrx_tensor_release(&t);
                LT_CHECK(lbrx_gguf_get_tensor(g, "rank4", &t, &e) == LBRX_OK && t.ndim == 4 && t.shape[0] == 2 && t.shape[3] == 5 &&
                         memcmp(t.data, extra[1].data, 60) == 0);
                lbrx_tensor_release(&t);
                LT_CHECK(lbrx_gguf_get_tensor(g, "empty", &t, &e) == LBRX_OK && t.shape[0] == 4 && t.shape[1] == 0);
                lbrx_tensor_release(&t);
                LT_CHECK(lbrx_gguf_get_tensor(g, "view", &t, &e) == LBRX_OK && t.shape[3] == 3);
                if (t.data) {
                    int64_t r;
                    for (r = 0; r < 6; r++)
                        LT_CHECK(memcmp((int16_t *)t.data + r * 3, (int16_t *)extra[1].data + r * 5 + 1, 6) == 0);
                }
                lbrx_tensor_release(&t);
                LT_CHECK(lbrx_gguf_get_tensor(g, "filled", &t, &e) == LBRX_OK && memcmp(t.data, big, big_bytes) == 0);
                lbrx_tensor_release(&t);
            }
            lbrx_gguf_destroy(g);
        }
    }
    lbrx_gguf_writer_destroy(w);
    for (i = 0; i < n; i++) lbrx_tensor_release(&src[i]);
    for (i = 0; i < 4; i++) lbrx_tensor_release(&extra[i]);
    lbrx_tensor_release(&view);
    free(big);
    remove(path);
    remove(path2);
}

static void test_writer_refusals(void) {
    lbrx_gguf_writer *w = 0;
    lbrx_error e;
    lbrx_tensor t;
    int64_t shape[2] = {2, 32}, s5[5] = {1, 1, 1, 1, 1}, odd[1] = {33};
    unsigned char two = 2;
    uint64_t u64 = 32;
    FILE *f;
    char longname[70];
    memset(longname, 'x', 64); longname[64] = 0;
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, &e) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_U8, 2, shape, NULL, &e) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_tensor(w, "u8", &t, &e) == LBRX_ERR_BAD_DTYPE);
    lbrx_tensor_release(&t);
    /* lbrx's own affine blocks: no GGML type, said by name */
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_AFFINE_Q4, 2, shape, NULL, &e) == LBRX_OK);
    LT_CHECKF(lbrx_gguf_writer_add_tensor(w, "aq4", &t, &e) == LBRX_ERR_BAD_DTYPE && strstr(e.message, "affine_q4") && strstr(e.message, "no file format"), "%s", e.message);
    lbrx_tensor_release(&t);
    LT_CHECK(lbrx_gguf_writer_add_tensor_fill(w, "aq8", LBRX_AFFINE_Q8, 2, shape, fill_rows, NULL, &e) == LBRX_ERR_BAD_DTYPE);
    LT_CHECK(lbrx_gguf_writer_add_tensor_fill(w, "r5", LBRX_F32, 5, s5, fill_rows, NULL, &e) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_gguf_writer_add_tensor_fill(w, "odd", LBRX_Q8_0, 1, odd, fill_rows, NULL, &e) == LBRX_ERR_BAD_SHAPE);
    LT_CHECK(lbrx_gguf_writer_add_tensor_fill(w, longname, LBRX_F32, 2, shape, fill_rows, NULL, &e) == LBRX_ERR_LIMIT);
    LT_CHECK(lbrx_gguf_writer_add_tensor_fill(w, "", LBRX_F32, 2, shape, fill_rows, NULL, &e) == LBRX_ERR_BAD_VALUE);
    LT_CHECK(lbrx_gguf_writer_add(w, "", LBRX_GGUF_UINT64, &u64, &e) == LBRX_ERR_BAD_VALUE);
    LT_CHECK(lbrx_gguf_writer_add(w, "b", LBRX_GGUF_BOOL, &two, &e) == LBRX_ERR_BAD_VALUE);
    LT_CHECK(lbrx_gguf_writer_add(w, "general.alignment", LBRX_GGUF_UINT64, &u64, &e) == LBRX_ERR_TYPE_MISMATCH);
    LT_CHECK(lbrx_gguf_writer_add_u32(w, "general.alignment", 24, &e) == LBRX_ERR_BAD_ALIGNMENT);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "nest", LBRX_GGUF_ARRAY, &u64, 1, &e) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_gguf_writer_add_u32(w, "k", 1, &e) == LBRX_OK && lbrx_gguf_writer_add_u32(w, "k", 2, &e) == LBRX_OK);
    f = fopen(lt_tmp_path("gguf_refused.gguf"), "wb");
    LT_CHECK(f != NULL);
    if (f) {
        LT_CHECK(lbrx_gguf_writer_write(w, f, &e) == LBRX_ERR_DUPLICATE && strstr(e.message, "'k'"));
        fclose(f);
        remove(lt_tmp_path("gguf_refused.gguf"));
    }
    lbrx_gguf_writer_destroy(w);
}

/* stories260K: read it, write it again with lbrx, and get the same file back, byte for byte
   (it was written by GGML, whose layout the writer follows). */
static int st_sink(const void *p, size_t n, void *user) { return fwrite(p, 1, n, (FILE *)user) != n; }

/* Storage from a descriptor / HANDLE: one archive file holds 1001 bytes of junk, a GGUF model
   (alignment 32), 77 bytes of junk, a safetensors model and a trailer; each model opens from its
   region without a copy, offsets and GGUF alignment counted from the model's own start. */
static void test_descriptor_storage(void) {
    const char *path = lt_tmp_path("gguf_archive.bin");
    lbrx_gguf_writer *w = 0;
    lbrx_tensor t, src;
    lbrx_safetensors_write_desc desc;
    const char *w_name = "w";
    lbrx_storage *s = 0;
    lbrx_gguf *g = 0;
    lbrx_safetensors *st = 0;
    lbrx_error e;
    int64_t shape[2] = {3, 5};
    long gguf_at = 1001, gguf_end, st_at, st_end;
    unsigned char junk[1001];
    float *d;
    int i, fd;
    FILE *f = fopen(path, "wb");
    LT_CHECK(f != NULL);
    if (!f) return;
    memset(junk, 0xA5, sizeof junk);
    LT_CHECK(lbrx_tensor_init_heap(&src, LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
    d = (float *)src.data;
    for (i = 0; i < 15; i++) d[i] = (float)i * 0.25f - 1.0f;
    fwrite(junk, 1, (size_t)gguf_at, f);
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_u32(w, "general.alignment", 32, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_tensor(w, "a", &src, NULL) == LBRX_OK && lbrx_gguf_writer_add_tensor(w, "b", &src, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_write(w, f, NULL) == LBRX_OK);
    lbrx_gguf_writer_destroy(w);
    gguf_end = ftell(f);
    fwrite(junk, 1, 77, f);
    st_at = ftell(f);
    memset(&desc, 0, sizeof desc);
    desc.tensors = &src;
    desc.names = &w_name;
    desc.n_tensors = 1;
    LT_CHECK(lbrx_safetensors_write_to(st_sink, f, &desc, NULL) == LBRX_OK);
    st_end = ftell(f);
    fwrite(junk, 1, 5, f);
    fclose(f);
    fd = open_ro(path);
    LT_CHECK(fd >= 0);
    if (fd >= 0) {
        LT_CHECKF(lbrx_storage_open_fd(&s, fd, (uint64_t)gguf_at, (uint64_t)(gguf_end - gguf_at), NULL, &e) == LBRX_OK, "%s", e.message);
        if (s) {
            LT_CHECK(lbrx_storage_size(s) == (size_t)(gguf_end - gguf_at) && memcmp(lbrx_storage_data(s), "GGUF", 4) == 0);
            LT_CHECK(lbrx_format_detect(lbrx_storage_data(s), lbrx_storage_size(s)) == LBRX_FORMAT_GGUF);
            LT_CHECKF(lbrx_gguf_open_storage(&g, s, NULL, &e) == LBRX_OK, "%s", e.message);
            lbrx_storage_release(s);  /* the reader holds its own reference */
            s = 0;
        }
        if (g) {
            const lbrx_gguf_tensor_info *b = lbrx_gguf_tensor_info_at(g, 1);
            LT_CHECK(lbrx_gguf_data_offset(g) % 32 == 0 && b->file_offset % 32 == 0 && b->file_offset == lbrx_gguf_data_offset(g) + 64);
            LT_CHECK(lbrx_gguf_get_tensor(g, "b", &t, &e) == LBRX_OK);
            LT_CHECK(t.storage && memcmp(t.data, src.data, 60) == 0);
            LT_CHECK((size_t)((const unsigned char *)t.data - (const unsigned char *)lbrx_storage_data(t.storage)) == b->file_offset);
            lbrx_gguf_destroy(g);  /* the tensor keeps the mapping */
            {
                void *base = NULL; size_t size = 0, off = 0;
                LT_CHECK(lbrx_tensor_host_region(&t, &base, &size, &off, NULL) == LBRX_OK && (uintptr_t)base % lbrx_page_size() == 0);
                LT_CHECK(base && memcmp((const unsigned char *)base + off, src.data, 60) == 0);
            }
            LT_CHECK(memcmp(t.data, src.data, 60) == 0);
            lbrx_tensor_release(&t);
        }
        /* the safetensors model, to the end of the file minus the trailer */
        LT_CHECKF(lbrx_storage_open_fd(&s, fd, (uint64_t)st_at, (uint64_t)(st_end - st_at), NULL, &e) == LBRX_OK, "%s", e.message);
        if (s) {
            LT_CHECK(lbrx_format_detect(lbrx_storage_data(s), lbrx_storage_size(s)) == LBRX_FORMAT_SAFETENSORS);
            LT_CHECKF(lbrx_safetensors_open_storage(&st, s, NULL, &e) == LBRX_OK, "%s", e.message);
            lbrx_storage_release(s);
            s = 0;
        }
        if (st) {
            lbrx_tensor x;
            LT_CHECK(lbrx_safetensors_get_tensor(st, "w", &x, NULL) == LBRX_OK && memcmp(x.data, src.data, 60) == 0 &&
                     lbrx_safetensors_data_offset(st, 0) % 64 == 0);
            lbrx_tensor_release(&x);
            lbrx_safetensors_destroy(st);
        }
        /* the trailer makes the whole rest of the file an invalid safetensors image */
        LT_CHECK(lbrx_storage_open_fd(&s, fd, (uint64_t)st_at, UINT64_MAX, NULL, &e) == LBRX_OK && lbrx_storage_size(s) == (size_t)(st_end - st_at + 5));
        LT_CHECK(lbrx_safetensors_open_storage(&st, s, NULL, &e) == LBRX_ERR_SIZE_MISMATCH);
        lbrx_storage_release(s);
        s = 0;
        /* regions outside the file, an empty region, a closed descriptor */
        LT_CHECK(lbrx_storage_open_fd(&s, fd, (uint64_t)st_end + 6, 0, NULL, &e) == LBRX_ERR_BAD_OFFSET && s == NULL &&
                 e.offset == (uint64_t)st_end + 6 && strstr(e.message, "past the end"));
        LT_CHECK(lbrx_storage_open_fd(&s, fd, (uint64_t)st_at, (uint64_t)(st_end - st_at + 6), NULL, &e) == LBRX_ERR_BAD_OFFSET && s == NULL);
        LT_CHECK(lbrx_storage_open_fd(&s, fd, UINT64_MAX, 1, NULL, &e) == LBRX_ERR_BAD_OFFSET && s == NULL);
        LT_CHECK(lbrx_storage_open_fd(&s, fd, (uint64_t)st_end + 5, 0, NULL, &e) == LBRX_OK && lbrx_storage_size(s) == 0 && lbrx_storage_data(s));
        lbrx_storage_release(s);
        s = 0;
        LT_CHECK(lbrx_gguf_open_storage(&g, s ? s : NULL, NULL, &e) == LBRX_ERR_INVALID_ARGUMENT);
        close_fd(fd);
    }
    LT_CHECK(lbrx_storage_open_fd(&s, -1, 0, 1, NULL, &e) == LBRX_ERR_INVALID_ARGUMENT && s == NULL);
#if defined(_WIN32)
    {
        HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
        LT_CHECK(h != INVALID_HANDLE_VALUE);
        LT_CHECKF(lbrx_storage_open_handle(&s, h, (uint64_t)gguf_at, (uint64_t)(gguf_end - gguf_at), NULL, &e) == LBRX_OK, "%s", e.message);
        CloseHandle(h);  /* the mapping outlives the handle */
        if (s) {
            LT_CHECK(lbrx_gguf_open_storage(&g, s, NULL, &e) == LBRX_OK && lbrx_gguf_tensor_count(g) == 2);
            lbrx_gguf_destroy(g);
            lbrx_storage_release(s);
        }
    }
#else
    LT_CHECK(lbrx_storage_open_handle(&s, NULL, 0, 1, NULL, &e) == LBRX_ERR_UNSUPPORTED && s == NULL);
#endif
    lbrx_tensor_release(&src);
    remove(path);
}

/* Write a split set PREFIX-0000K-of-0000N.gguf of tensors named names[0..n) (each [4, 8] f32 of
   value base + index, 128 bytes) and an extra 0-byte tensor when `empty` is set, files of at most
   max bytes. */
static void write_set(const char *prefix, const char *const *names, int n, int empty, uint64_t max, float base) {
    lbrx_gguf_writer *w = 0;
    lbrx_tensor t[4];
    int64_t shape[2] = {4, 8}, zero[1] = {0};
    int i, j;
    lbrx_error e;
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_str(w, "general.architecture", "test", NULL) == LBRX_OK);
    for (i = 0; i < n; i++) {
        LT_CHECK(lbrx_tensor_init_heap(&t[i], LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
        for (j = 0; j < 32; j++) ((float *)t[i].data)[j] = base + (float)i;
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, names[i], &t[i], NULL) == LBRX_OK);
    }
    if (empty) {
        LT_CHECK(lbrx_tensor_init_heap(&t[n], LBRX_F32, 1, zero, NULL, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_tensor(w, "empty", &t[n], NULL) == LBRX_OK);
    }
    LT_CHECKF(lbrx_gguf_writer_write_split(w, prefix, max, &e) == LBRX_OK, "%s", e.message);
    lbrx_gguf_writer_destroy(w);
    for (i = 0; i < n + empty; i++) lbrx_tensor_release(&t[i]);
}

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[4096];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, n, b) == n;
    if (a) fclose(a);
    if (b) ok = fclose(b) == 0 && ok;
    return ok;
}

/* Split GGUF: a set written by lbrx_gguf_writer_write_split opens from its first file as one
   name space; missing, disagreeing and misnamed files are errors naming the file and field. */
static void test_split(void) {
    static const char *const abc[3] = {"a", "b", "c"}, *const xya[3] = {"x", "y", "a"};
    char prefix[4096], p1[4200], p2[4200], p3[4200], q[4200];
    lbrx_gguf *g = 0;
    lbrx_tensor t;
    lbrx_error e;
    int64_t v = 0;
    snprintf(prefix, sizeof prefix, "%s", lt_tmp_path("gguf_split"));
    snprintf(p1, sizeof p1, "%s-00001-of-00003.gguf", prefix);
    snprintf(p2, sizeof p2, "%s-00002-of-00003.gguf", prefix);
    snprintf(p3, sizeof p3, "%s-00003-of-00003.gguf", prefix);
    write_set(prefix, abc, 3, 0, 150, 1.0f);  /* 128 bytes each: one tensor per file */
    LT_CHECKF(lbrx_gguf_open(&g, p1, NULL, &e) == LBRX_OK, "%s", e.message);
    if (g) {
        LT_CHECK(lbrx_gguf_tensor_count(g) == 3 && lbrx_gguf_shard_count(g) == 3 && lbrx_gguf_shard_storage(g, 3) == NULL);
        LT_CHECK(lbrx_gguf_get_int(g, "split.count", &v, NULL) == LBRX_OK && v == 3);
        LT_CHECK(lbrx_gguf_find_key(g, "general.architecture") != SIZE_MAX);
        LT_CHECK(lbrx_gguf_get_tensor(g, "c", &t, &e) == LBRX_OK && ((float *)t.data)[31] == 3.0f);
        LT_CHECK(lbrx_gguf_tensor_info_at(g, 2)->shard == 2 && t.storage == lbrx_gguf_shard_storage(g, 2));
        lbrx_gguf_destroy(g);  /* the tensor keeps its file mapped */
        LT_CHECK(((float *)t.data)[0] == 3.0f);
        lbrx_tensor_release(&t);
    }
    /* a later file opens alone; from memory, the first file is one file */
    LT_CHECK(lbrx_gguf_open(&g, p2, NULL, &e) == LBRX_OK && lbrx_gguf_tensor_count(g) == 1 && lbrx_gguf_shard_count(g) == 1);
    lbrx_gguf_destroy(g);
    /* the first file under another name */
    snprintf(q, sizeof q, "%s-first.gguf", prefix);
    LT_CHECK(copy_file(p1, q));
    LT_CHECK(lbrx_gguf_open(&g, q, NULL, &e) == LBRX_ERR_BAD_VALUE && g == NULL && strstr(e.message, "-00001-of-00003.gguf") &&
             e.offset != UINT64_MAX);
    remove(q);
    /* files out of place: 2 and 3 swapped */
    LT_CHECK(copy_file(p2, q) && copy_file(p3, p2) && copy_file(q, p3));
    LT_CHECK(lbrx_gguf_open(&g, p1, NULL, &e) == LBRX_ERR_BAD_VALUE && strstr(e.message, "split.no 2") && strstr(e.message, p2) &&
             e.offset != UINT64_MAX);
    /* a tensor in two files: file 3 of a set x, y, a */
    snprintf(q, sizeof q, "%s_xya", prefix);
    write_set(q, xya, 3, 0, 150, 5.0f);
    snprintf(q, sizeof q, "%s_xya-00003-of-00003.gguf", prefix);
    write_set(prefix, abc, 3, 0, 150, 1.0f);
    LT_CHECK(copy_file(q, p3));
    LT_CHECK(lbrx_gguf_open(&g, p1, NULL, &e) == LBRX_ERR_DUPLICATE && strstr(e.message, "'a'") && strstr(e.message, "files 1 and 3"));
    remove(q);
    snprintf(q, sizeof q, "%s_xya-00001-of-00003.gguf", prefix); remove(q);
    snprintf(q, sizeof q, "%s_xya-00002-of-00003.gguf", prefix); remove(q);
    /* split.tensors.count disagrees: a file 3 holding two tensors (c and an empty one) */
    snprintf(q, sizeof q, "%s_four", prefix);
    write_set(q, abc, 3, 1, 150, 1.0f);
    snprintf(q, sizeof q, "%s_four-00003-of-00003.gguf", prefix);
    write_set(prefix, abc, 3, 0, 150, 1.0f);
    LT_CHECK(copy_file(q, p3));
    LT_CHECKF(lbrx_gguf_open(&g, p1, NULL, &e) == LBRX_ERR_BAD_VALUE && strstr(e.message, "split.tensors.count is 4") &&
              strstr(e.message, p3) && e.offset != UINT64_MAX, "%s", e.message);
    remove(q);
    snprintf(q, sizeof q, "%s_four-00001-of-00003.gguf", prefix); remove(q);
    snprintf(q, sizeof q, "%s_four-00002-of-00003.gguf", prefix); remove(q);
    /* a missing file */
    write_set(prefix, abc, 3, 0, 150, 1.0f);
    remove(p2);
    LT_CHECK(lbrx_gguf_open(&g, p1, NULL, &e) == LBRX_ERR_NOT_FOUND && g == NULL && strstr(e.message, "missing") && strstr(e.message, p2));
    remove(p1); remove(p3);
    /* everything fits: one file -00001-of-00001 */
    write_set(prefix, abc, 3, 0, 1 << 20, 1.0f);
    snprintf(q, sizeof q, "%s-00001-of-00001.gguf", prefix);
    LT_CHECK(lbrx_gguf_open(&g, q, NULL, &e) == LBRX_OK && lbrx_gguf_tensor_count(g) == 3 && lbrx_gguf_shard_count(g) == 1);
    lbrx_gguf_destroy(g);
    remove(q);
    {
        lbrx_gguf_writer *w = 0;
        uint16_t one = 1;
        LT_CHECK(lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add(w, "split.count", LBRX_GGUF_UINT16, &one, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_write_split(w, prefix, 100, &e) == LBRX_ERR_INVALID_ARGUMENT && strstr(e.message, "split.count"));
        lbrx_gguf_writer_destroy(w);
    }
}

static void test_stories_rewrite(void) {
    LT_SHARED_OR_SKIP(path, "derived-llama.cpp-c392e50/stories260K-f32.gguf");
    {
        lbrx_gguf *g = 0, *g2 = 0;
        lbrx_gguf_writer *w = 0;
        lbrx_error e;
        size_t i;
        const char *out = lt_tmp_path("gguf_stories_rewrite.gguf");
        size_t n1 = 0, n2 = 0;
        unsigned char *b1, *b2;
        LT_CHECK(lbrx_gguf_open(&g, path, NULL, &e) == LBRX_OK);
        if (!g) return;
        LT_CHECK(lbrx_gguf_writer_create(&w, NULL, &e) == LBRX_OK);
        for (i = 0; i < lbrx_gguf_kv_count(g); i++) LT_CHECK(lbrx_gguf_writer_copy_kv(w, lbrx_gguf_kv_at(g, i), &e) == LBRX_OK);
        for (i = 0; i < lbrx_gguf_tensor_count(g); i++) {
            lbrx_tensor t;
            LT_CHECK(lbrx_gguf_tensor(g, i, &t, &e) == LBRX_OK);
            LT_CHECK(lbrx_gguf_writer_add_tensor(w, lbrx_gguf_tensor_name(g, i), &t, &e) == LBRX_OK);
            lbrx_tensor_release(&t);
        }
        LT_CHECKF(lbrx_gguf_writer_write_path(w, out, &e) == LBRX_OK, "%s", e.message);
        lbrx_gguf_writer_destroy(w);
        b1 = read_all(path, &n1);
        b2 = read_all(out, &n2);
        LT_CHECKF(n1 == n2 && b1 && b2 && memcmp(b1, b2, n1) == 0, "sizes %zu vs %zu", n1, n2);
        free(b1); free(b2);
        LT_CHECK(lbrx_gguf_open(&g2, out, NULL, &e) == LBRX_OK);
        if (g2) {
            LT_CHECK(lbrx_gguf_kv_count(g2) == lbrx_gguf_kv_count(g) && lbrx_gguf_tensor_count(g2) == 48);
            for (i = 0; i < lbrx_gguf_kv_count(g); i++) {
                const lbrx_gguf_kv *a = lbrx_gguf_kv_at(g, i), *b = lbrx_gguf_kv_at(g2, i);
                LT_CHECK(strcmp(a->key, b->key) == 0 && a->type == b->type && a->elem_type == b->elem_type && a->count == b->count);
            }
            lbrx_gguf_destroy(g2);
        }
        lbrx_gguf_destroy(g);
        remove(out);
    }
}

int main(void) {
    LT_RUN(test_crafted_valid);
    LT_RUN(test_open_options);
    LT_RUN(test_utf8_path);
    LT_RUN(test_h1_counts);
    LT_RUN(test_h2_strings);
    LT_RUN(test_h3_arrays);
    LT_RUN(test_h4_types);
    LT_RUN(test_h5_duplicates);
    LT_RUN(test_h6_empty_key);
    LT_RUN(test_h7_typed_getters);
    LT_RUN(test_h8_nested);
    LT_RUN(test_h9_ndims);
    LT_RUN(test_h10_overflow);
    LT_RUN(test_h11_zero_dims);
    LT_RUN(test_h12_types);
    LT_RUN(test_h13_offsets);
    LT_RUN(test_h14_wrap);
    LT_RUN(test_h15_alignment);
    LT_RUN(test_h16_versions);
    LT_RUN(test_h17_truncation);
    LT_RUN(test_h18_names);
    LT_RUN(test_mutations);
    LT_RUN(test_shared_vocab_files);
    LT_RUN(test_shared_stories);
    LT_RUN(test_shared_quantized_and_ollama);
    LT_RUN(test_writer_round_trip);
    LT_RUN(test_writer_refusals);
    LT_RUN(test_stories_rewrite);
    LT_RUN(test_descriptor_storage);
    LT_RUN(test_split);
    return lt_finish();
}
