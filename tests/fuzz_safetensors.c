/* Fuzz harness for the safetensors reader and the JSON reader (not part of the test matrix).

   libFuzzer:  clang -g -O1 -fsanitize=fuzzer,address,undefined -DLBRX_FUZZ_LIBFUZZER -I. \
                   tests/fuzz_safetensors.c -o build/fuzz_safetensors -lm
               build/fuzz_safetensors -max_len=4096 CORPUS_DIR   (seed it with *.safetensors)
   replay:     cc -g -fsanitize=address,undefined -I. tests/fuzz_safetensors.c -o build/fuzz_replay -lm
               build/fuzz_replay FILE...                         (runs each file once)

   Every accepted file must have in-bounds tensors (the last byte of each is read) that its name
   finds again. */
#define LBRX_IMPL
#include "lbrx_safetensors.h"
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lbrx_safetensors *st;
    lbrx_json *doc;
    size_t i;
    if (lbrx_safetensors_open_memory(&st, data, size, NULL, NULL) == LBRX_OK) {
        volatile unsigned char sink = 0;
        for (i = 0; i < lbrx_safetensors_count(st); i++) {
            const lbrx_tensor *t = lbrx_safetensors_tensor(st, i);
            size_t nb = 0;
            lbrx_tensor_nbytes(t, &nb);
            if (nb) sink ^= ((const unsigned char *)t->data)[nb - 1];
            if (lbrx_safetensors_find(st, t->name, NULL) != t) abort();
        }
        (void)sink;
        lbrx_safetensors_close(st);
    }
    if (lbrx_json_parse(&doc, data, size, NULL, NULL, NULL) == LBRX_OK) {
        const lbrx_json_value *root = lbrx_json_root(doc);
        uint64_t u;
        double f;
        for (i = 0; i < lbrx_json_count(root); i++) {
            lbrx_json_u64(lbrx_json_at(root, i), &u);
            lbrx_json_f64(lbrx_json_member(root, i, NULL, NULL), &f);
        }
        lbrx_json_free(doc);
    }
    return 0;
}

#ifndef LBRX_FUZZ_LIBFUZZER
int main(int argc, char **argv) {
    int a;
    for (a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        unsigned char *buf;
        long n;
        if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) { fprintf(stderr, "cannot read %s\n", argv[a]); return 1; }
        rewind(f);
        buf = (unsigned char *)malloc((size_t)n + 1);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", argv[a]); return 1; }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
    }
    printf("replayed %d files\n", argc - 1);
    return 0;
}
#endif
