/* fuzz_json.c - libFuzzer harness of the JSON reader of lbrx_safetensors.h on its own: parse
   with the default limits and with tight ones, then walk every value (arrays, members, lookups by
   key, strings, numbers), checking what the parser promises (unique keys, NUL-terminated strings).

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_json.c -o fuzz_json
   Replay without libFuzzer: tests/fuzz_main.c. */
#ifndef LBRX_FUZZ_NO_IMPL
#define LBRX_IMPL
#endif
#include "lbrx_safetensors.h"
#include "lbrx_fuzz.h"
#include <string.h>

/* Walks v (at nesting `depth`) and everything below it; the parse limit bounds the depth. */
static unsigned lt_fuzz_json_walk(const lbrx_json_value *v, int depth, int max_depth) {
    unsigned acc = (unsigned)lbrx_json_offset(v);
    size_t i, n = lbrx_json_count(v), len;
    uint64_t u; int64_t s; double d; int b;
    const char *str;
    LT_FUZZ_CHECK(depth <= max_depth + 1);
    switch (lbrx_json_type_of(v)) {
    case LBRX_JSON_ARRAY:
        for (i = 0; i < n; i++) acc += lt_fuzz_json_walk(lbrx_json_at(v, i), depth + 1, max_depth);
        LT_FUZZ_CHECK(lbrx_json_at(v, n) == NULL);
        break;
    case LBRX_JSON_OBJECT:
        for (i = 0; i < n; i++) {
            const char *key = NULL;
            size_t key_len = 0;
            const lbrx_json_value *m = lbrx_json_member(v, i, &key, &key_len);
            LT_FUZZ_CHECK(m != NULL && key != NULL && key[key_len] == 0);
            if (strlen(key) == key_len) LT_FUZZ_CHECK(lbrx_json_get(v, key) == m);  /* keys are unique */
            acc += lt_fuzz_json_walk(m, depth + 1, max_depth);
        }
        break;
    case LBRX_JSON_STRING:
        str = lbrx_json_string(v, &len);
        LT_FUZZ_CHECK(str != NULL && str[len] == 0);
        acc += len ? (unsigned char)str[len - 1] : 0u;
        break;
    case LBRX_JSON_NUMBER:
        if (lbrx_json_u64(v, &u) == LBRX_OK) acc += (unsigned)u;
        if (lbrx_json_i64(v, &s) == LBRX_OK) acc += (unsigned)s;
        LT_FUZZ_CHECK(lbrx_json_f64(v, &d) == LBRX_OK);
        acc += d > 0;
        break;
    case LBRX_JSON_BOOL:
        LT_FUZZ_CHECK(lbrx_json_bool(v, &b) == LBRX_OK && (b == 0 || b == 1));
        acc += (unsigned)b;
        break;
    default:
        break;
    }
    return acc;
}

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    lbrx_json *doc = NULL;
    lbrx_json_desc tight;
    lbrx_error err;
    volatile unsigned acc = 0;
    if (lbrx_json_parse(&doc, data, size, NULL, &err) == LBRX_OK) {
        acc += lt_fuzz_json_walk(lbrx_json_root(doc), 0, LBRX_JSON_MAX_DEPTH);
        lbrx_json_destroy(doc);
    } else {
        acc += (unsigned)strlen(err.message);
    }
    memset(&tight, 0, sizeof tight);
    tight.max_depth = 3;
    tight.max_values = 16;
    doc = NULL;
    if (lbrx_json_parse(&doc, data, size, &tight, &err) == LBRX_OK) {
        acc += lt_fuzz_json_walk(lbrx_json_root(doc), 0, tight.max_depth);
        lbrx_json_destroy(doc);
    }
    (void)acc;
    return 0;
}
