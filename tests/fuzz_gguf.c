/* A fuzz harness for the GGUF reader (and, on what it accepts, the accessors and the writer).

   libFuzzer (clang):
       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_gguf.c -o build/fuzz_gguf
       mkdir -p build/fuzz_gguf_corpus && build/fuzz_gguf -max_total_time=60 build/fuzz_gguf_corpus ../shared/data/ollama
   Replay without libFuzzer (any compiler):
       cc -DLBRX_FUZZ_MAIN -g -fsanitize=address,undefined -I. tests/fuzz_gguf.c -o build/fuzz_gguf_replay
       build/fuzz_gguf_replay crash-file...
   `make fuzz` does the libFuzzer build and a 60-second run from the shared GGUF files.

   Every input must be refused with a result code or accepted with every accessor staying inside
   the input: a crash, a sanitizer report or a leak is a bug. */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Touch every byte an accessor hands out, so that ASan sees an out-of-bounds pointer. */
static unsigned fuzz_touch(const void *p, uint64_t n) {
    const unsigned char *b = (const unsigned char *)p;
    unsigned s = 0;
    uint64_t i;
    for (i = 0; i < n; i++) s += b[i];
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lbrx_gguf *g = 0;
    lbrx_error err;
    int64_t i;
    unsigned sink = 0;
    /* a copy of exactly `size` bytes, so that reading past it is caught */
    unsigned char *copy = (unsigned char *)malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    if (lbrx_gguf_open_memory(&g, copy, size, NULL, &err) == LBRX_OK) {
        lbrx_gguf_writer *w = 0;
        int ok = lbrx_gguf_writer_create(&w, NULL, &err) == LBRX_OK;
        for (i = 0; i < lbrx_gguf_kv_count(g); i++) {
            const lbrx_gguf_kv *kv = lbrx_gguf_kv_at(g, i);
            int64_t iv;
            uint64_t k;
            sink += fuzz_touch(kv->key, kv->key_len + 1);
            if (kv->type == LBRX_GGUF_STRING) sink += fuzz_touch(kv->str.data, kv->str.len);
            else if (kv->type != LBRX_GGUF_ARRAY) sink += fuzz_touch(kv->data, lbrx_gguf_type_size(kv->type));
            else if (kv->elem_type == LBRX_GGUF_STRING)
                for (k = 0; k < kv->count; k++) sink += fuzz_touch(kv->strs[k].data, kv->strs[k].len);
            else sink += fuzz_touch(kv->data, kv->count * lbrx_gguf_type_size(kv->elem_type));
            sink += (unsigned)lbrx_gguf_get_int(g, kv->key, &iv, 0);
            if (lbrx_gguf_find_key(g, kv->key) != i) abort();  /* keys are unique and found */
            if (ok) lbrx_gguf_writer_copy_kv(w, kv, 0);
        }
        for (i = 0; i < lbrx_gguf_tensor_count(g); i++) {
            lbrx_tensor t;
            size_t nb = 0;
            if (lbrx_gguf_tensor(g, i, &t, &err) != LBRX_OK) abort();  /* open checked everything */
            if (lbrx_tensor_nbytes(&t, &nb) != LBRX_OK || (const unsigned char *)t.data + nb > copy + size) abort();
            if (nb) sink += fuzz_touch(t.data, 1) + fuzz_touch((const unsigned char *)t.data + nb - 1, 1);
            if (lbrx_gguf_find_tensor(g, t.name) != i) abort();
            if (ok) lbrx_gguf_writer_add_tensor(w, t.name, &t, 0);
            lbrx_tensor_release(&t);
        }
        lbrx_gguf_writer_destroy(w);
        lbrx_gguf_close(g);
    }
    free(copy);
    return (int)(sink & 0);
}

#ifdef LBRX_FUZZ_MAIN
int main(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        unsigned char *buf;
        long n;
        if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
            fprintf(stderr, "%s: cannot read\n", argv[i]);
            if (f) fclose(f);
            return 1;
        }
        buf = (unsigned char *)malloc((size_t)n + 1);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return 1; }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif
