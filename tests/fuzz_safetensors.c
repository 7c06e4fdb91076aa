/* fuzz_safetensors.c - libFuzzer harness of the safetensors reader: open the input from memory,
   walk the __metadata__ strings and every tensor (lookup by name, its first rows dequantized),
   keep one tensor past the close through its storage reference, then close; format detection
   must say safetensors for every file opened.

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_safetensors.c -o fuzz_safetensors
       ./fuzz_safetensors -dict=tests/fuzz_safetensors.dict corpus/      (or: make fuzz)
   Replay without libFuzzer: tests/fuzz_main.c. */
#ifndef LBRX_FUZZ_NO_IMPL
#define LBRX_IMPL
#endif
#include "lbrx_safetensors.h"
#include "lbrx_fuzz.h"
#include <string.h>

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    lbrx_safetensors *st = NULL;
    lbrx_error err;
    const lbrx_json_value *meta;
    lbrx_tensor kept;
    size_t i, n;
    volatile unsigned acc = 0;
    lbrx_format fmt = lbrx_format_detect(data, size);
    if (lbrx_safetensors_open_memory(&st, data, size, NULL, &err) != LBRX_OK) {
        acc += (unsigned)strlen(err.message);  /* the message is always a terminated string */
        return 0;
    }
    LT_FUZZ_CHECK(fmt == LBRX_FORMAT_SAFETENSORS);  /* a file the reader opens is never taken for another format */
    meta = lbrx_safetensors_metadata(st);
    n = lbrx_json_count(meta);
    for (i = 0; i < n; i++) {
        const char *key = NULL, *val;
        size_t key_len = 0, len = 0;
        const lbrx_json_value *v = lbrx_json_member(meta, i, &key, &key_len);
        val = lbrx_json_string(v, &len);
        LT_FUZZ_CHECK(key != NULL && val != NULL);  /* metadata values are strings */
        acc += (unsigned)key_len + (len ? (unsigned char)val[len - 1] : 0u);
        if (strlen(key) == key_len) LT_FUZZ_CHECK(lbrx_safetensors_get_metadata(st, key) != NULL);
    }
    n = lbrx_safetensors_tensor_count(st);
    LT_FUZZ_CHECK(lbrx_safetensors_shard_count(st) == 1);
    acc += (unsigned)lbrx_safetensors_data_offset(st, 0);
    for (i = 0; i < n; i++) {
        const char *name = lbrx_safetensors_tensor_name(st, i);
        lbrx_tensor t;
        LT_FUZZ_CHECK(name != NULL && lbrx_safetensors_tensor(st, i, &t, &err) == LBRX_OK);
        LT_FUZZ_CHECK(lbrx_safetensors_find_tensor(st, name) == i);  /* unique names */
        LT_FUZZ_CHECK(lbrx_safetensors_tensor_offset(st, i) <= size);
        acc += lt_fuzz_touch_tensor(&t);
        lbrx_tensor_release(&t);
    }
    /* a tensor kept past the close: its own storage reference keeps the bytes */
    memset(&kept, 0, sizeof kept);
    if (n > 0) {
        LT_FUZZ_CHECK(lbrx_safetensors_tensor(st, n - 1, &kept, &err) == LBRX_OK);
    }
    lbrx_safetensors_destroy(st);
    if (n > 0) {
        acc += lt_fuzz_touch_tensor(&kept);
        lbrx_tensor_release(&kept);
    }
    (void)acc;
    return 0;
}
