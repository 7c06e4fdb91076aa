/* fuzz_gguf.c - libFuzzer harness of the GGUF reader: open the input from memory, walk every
   metadata value (scalars, strings, arrays, through the typed getters too) and every tensor
   (lookup by name, the zero-copy tensor, its first rows dequantized), then close; format
   detection (lbrx_format_detect) runs on every input and must say GGUF for every file opened.
   An input detected as the first file of a split set is also written out as the files of a
   set and opened by path (lt_fuzz_gguf_split below).

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_gguf.c -o fuzz_gguf
       ./fuzz_gguf -dict=tests/fuzz_gguf.dict corpus/      (or: make fuzz)
   Replay without libFuzzer: tests/fuzz_main.c. */
#ifndef LBRX_FUZZ_NO_IMPL
#define LBRX_IMPL
#endif
#include "lbrx_gguf.h"
#include "lbrx_fuzz.h"
#include <string.h>

static unsigned lt_fuzz_gguf_kv(const lbrx_gguf *g, size_t i) {
    const lbrx_gguf_kv *kv = lbrx_gguf_kv_at(g, i);
    unsigned acc = 0;
    uint64_t j, count = 0;
    int64_t iv;
    lbrx_gguf_str s;
    const lbrx_gguf_str *strs;
    const void *arr;
    if (!kv) return 1;
    acc += (unsigned)strlen(kv->key) + (unsigned)kv->key_len;
    LT_FUZZ_CHECK(lbrx_gguf_find_key(g, kv->key) == i);  /* keys are unique */
    if (kv->type == LBRX_GGUF_STRING) {
        for (j = 0; j < kv->str.len; j++) acc += (unsigned char)kv->str.data[j];
        if (lbrx_gguf_get_str(g, kv->key, &s, NULL) == LBRX_OK) acc += (unsigned)s.len;
    } else if (kv->type == LBRX_GGUF_ARRAY) {
        if (kv->elem_type == LBRX_GGUF_STRING) {
            for (j = 0; j < kv->count; j++)
                acc += kv->strs[j].len ? (unsigned char)kv->strs[j].data[kv->strs[j].len - 1] : 0u;
            if (lbrx_gguf_get_str_array(g, kv->key, &strs, &count, NULL) == LBRX_OK && count) acc += (unsigned)strs[0].len;
        } else if (lbrx_gguf_get_array(g, kv->key, kv->elem_type, &arr, &count, NULL) == LBRX_OK && count) {
            /* first and last element bytes */
            const unsigned char *p = (const unsigned char *)arr;
            acc += p[0];
            if (kv->count == count) acc += ((const unsigned char *)kv->data)[0];
        }
    } else {
        unsigned char v[8];
        uint8_t u8; uint32_t u32; float f32; double f64; int b;
        memcpy(v, kv->data, kv->type == LBRX_GGUF_UINT8 || kv->type == LBRX_GGUF_INT8 || kv->type == LBRX_GGUF_BOOL ? 1 :
                            kv->type == LBRX_GGUF_UINT16 || kv->type == LBRX_GGUF_INT16 ? 2 :
                            kv->type == LBRX_GGUF_UINT32 || kv->type == LBRX_GGUF_INT32 || kv->type == LBRX_GGUF_FLOAT32 ? 4 : 8);
        acc += v[0];
        if (lbrx_gguf_get_int(g, kv->key, &iv, NULL) == LBRX_OK) acc += (unsigned)iv;
        if (lbrx_gguf_get_u8(g, kv->key, &u8, NULL) == LBRX_OK) acc += u8;
        if (lbrx_gguf_get_u32(g, kv->key, &u32, NULL) == LBRX_OK) acc += u32;
        if (lbrx_gguf_get_f32(g, kv->key, &f32, NULL) == LBRX_OK) acc += f32 > 0;
        if (lbrx_gguf_get_f64(g, kv->key, &f64, NULL) == LBRX_OK) acc += f64 > 0;
        if (lbrx_gguf_get_bool(g, kv->key, &b, NULL) == LBRX_OK) acc += (unsigned)b;
    }
    /* a getter of the wrong type must refuse, never read */
    LT_FUZZ_CHECK(lbrx_gguf_get_str(g, kv->key, &s, NULL) != LBRX_OK || kv->type == LBRX_GGUF_STRING);
    return acc;
}

/* Every tensor of an opened file (or split set): names unique, each in one of its files, and
   each one open accepted can be made and read. */
static unsigned lt_fuzz_gguf_tensors(const lbrx_gguf *g) {
    size_t i, n = lbrx_gguf_tensor_count(g), shards = lbrx_gguf_shard_count(g);
    unsigned acc = 0;
    lbrx_error err;
    for (i = 0; i < n; i++) {
        const lbrx_gguf_tensor_info *ti = lbrx_gguf_tensor_info_at(g, i);
        lbrx_tensor t;
        LT_FUZZ_CHECK(ti != NULL && ti->shard < shards && lbrx_gguf_find_tensor(g, ti->name) == i);
        memset(&t, 0, sizeof t);
        LT_FUZZ_CHECK(lbrx_gguf_tensor(g, i, &t, &err) == LBRX_OK);
        if (t.storage) {
            acc += lt_fuzz_touch_tensor(&t);
            lbrx_tensor_release(&t);
        }
    }
    return acc;
}

/* A split GGUF set (detected from the first file's split.count): the input is its files one
   after another, each starting with the GGUF magic. They are written as
   lbrx-fuzz-split-0000K-of-0000N.gguf into $LT_TMP (else $TMPDIR, else /tmp; Windows: the current directory)
   and the first is opened with lbrx_gguf_open, which opens and checks the others: shards that
   disagree, a missing one (the name says N, the input holds fewer), duplicate tensors. */
static unsigned lt_fuzz_gguf_split(const uint8_t *data, size_t size) {
    enum { MAX_FILES = 8 };
    size_t start[MAX_FILES + 1], n = 1, p, i;
    char path[MAX_FILES][1024];
    const char *dir = getenv("LT_TMP");
    unsigned acc = 0;
    lbrx_gguf *g = NULL;
    lbrx_error err;
    err.message[0] = 0;
    if (!dir || !*dir) dir = getenv("TMPDIR");
#ifdef _WIN32
    if (!dir || !*dir) dir = ".";
#else
    if (!dir || !*dir) dir = "/tmp";
#endif
    start[0] = 0;
    for (p = 4; p + 4 <= size && n < MAX_FILES; p++)
        if (!memcmp(data + p, "GGUF", 4)) start[n++] = p;
    start[n] = size;
    for (i = 0; i < n; i++) {
        FILE *f;
        snprintf(path[i], sizeof path[i], "%s/lbrx-fuzz-split-%05d-of-%05d.gguf", dir, (int)i + 1, (int)n);
        f = fopen(path[i], "wb");
        if (!f) { n = i; break; }
        if (fwrite(data + start[i], 1, start[i + 1] - start[i], f) != start[i + 1] - start[i]) acc++;
        fclose(f);
    }
    if (n > 0 && lbrx_gguf_open(&g, path[0], NULL, &err) == LBRX_OK) {
        size_t k, shards = lbrx_gguf_shard_count(g);
        LT_FUZZ_CHECK(shards >= 1 && shards <= n);
        for (k = 0; k < shards; k++) LT_FUZZ_CHECK(lbrx_gguf_shard_storage(g, k) != NULL);
        acc += lt_fuzz_gguf_tensors(g);  /* one name space over the files */
        lbrx_gguf_destroy(g);
    } else {
        acc += (unsigned)strlen(err.message);
    }
    for (i = 0; i < n; i++) remove(path[i]);
    return acc;
}

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    lbrx_gguf *g = NULL;
    lbrx_error err;
    size_t i, n;
    volatile unsigned acc = 0;
    lbrx_format fmt = lbrx_format_detect(data, size);  /* the lenient metadata walk, on any bytes */
    if (fmt == LBRX_FORMAT_GGUF_SPLIT) acc += lt_fuzz_gguf_split(data, size);
    if (lbrx_gguf_open_memory(&g, data, size, NULL, &err) != LBRX_OK) {
        acc += (unsigned)strlen(err.message);  /* the message is always a terminated string */
        return 0;
    }
    LT_FUZZ_CHECK(fmt == LBRX_FORMAT_GGUF || fmt == LBRX_FORMAT_GGUF_SPLIT);  /* a file the reader opens is GGUF */
    acc += lbrx_gguf_version(g) + lbrx_gguf_alignment(g) + (unsigned)lbrx_gguf_data_offset(g);
    n = lbrx_gguf_kv_count(g);
    for (i = 0; i < n; i++) acc += lt_fuzz_gguf_kv(g, i);
    acc += lt_fuzz_gguf_tensors(g);
    lbrx_gguf_destroy(g);
    (void)acc;
    return 0;
}
