/* tokenize.c - print the token ids (or pieces) of a file's whole content. Part of lbrx; public
   domain or MIT (see lbrx.h).

   tokenize TOKENIZER FILE [--bos] [--pieces]

   TOKENIZER is a GGUF file (its tokenizer.ggml.* metadata), a Hugging Face tokenizer.json or a
   directory holding one. The ids go to stdout space-separated on one line: for a GGUF those of
   llama.cpp's tokenizer with add_special = false and parse_special = false (its test-tokenizer-0
   convention), for a tokenizer.json those of Python tokenizers' encode(text,
   add_special_tokens=False) (added tokens written in the text are matched). --bos puts the BOS
   id first. --pieces prints each token's bytes instead, one token per line (C escapes for
   control characters, backslash and bytes that are not printable ASCII or valid UTF-8). FILE may
   hold any bytes. A tokenizer that cannot be read is an "error:" line on stderr and exit status 1.

   Build: cc -O2 -I. examples/tokenize.c -o tokenize */
#define LBRX_IMPL
#include "examples/lbrx_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print p[0..n) with control bytes, backslash and invalid UTF-8 escaped. */
static void print_piece(const char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t used;
        unsigned char c = (unsigned char)p[i];
        uint32_t u = lbrx__tok_utf8((const unsigned char *)p + i, n - i, &used);
        if (c == '\\') fputs("\\\\", stdout);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f || u > 0x10FFFF) printf("\\x%02x", c);
        else fwrite(p + i, 1, used, stdout);
        i += used;
    }
    fputc('\n', stdout);
}

int main(int argc, char **argv) {
    const char *tok_path = NULL, *file = NULL;
    int bos = 0, pieces = 0, i;
    lbrx_tokenizer t;
    lbrx_error err;
    lbrx_storage *s = NULL;
    int32_t *ids = NULL;
    size_t n = 0, k;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bos")) bos = 1;
        else if (!strcmp(argv[i], "--pieces")) pieces = 1;
        else if (!tok_path) tok_path = argv[i];
        else if (!file) file = argv[i];
        else { fprintf(stderr, "error: unexpected argument %s\n", argv[i]); return 1; }
    }
    if (!tok_path || !file) {
        fprintf(stderr, "usage: tokenize TOKENIZER FILE [--bos] [--pieces]\n"
                        "  TOKENIZER  a GGUF file, a tokenizer.json or a directory holding one\n");
        return 1;
    }
    if (lbrx_tokenizer_init_file(&t, tok_path, &err) != LBRX_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "tokenizer: %s\n", lbrx_tokenizer_describe(&t));
    if (lbrx_storage_open(&s, file, NULL, &err) != LBRX_OK ||
        lbrx_tokenizer_encode(&t, (const char *)lbrx_storage_data(s), lbrx_storage_size(s),
                              lbrx_tokenizer_default_flags(&t) | (bos ? LBRX_ENCODE_BOS : 0u), &ids, &n, &err) != LBRX_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        lbrx_storage_release(s);
        lbrx_tokenizer_release(&t);
        return 1;
    }
    for (k = 0; k < n; k++) {
        if (pieces) {
            size_t len;
            const char *p = lbrx_tokenizer_piece(&t, ids[k], &len);
            print_piece(p, len);
        } else {
            printf(k ? " %d" : "%d", (int)ids[k]);
        }
    }
    if (!pieces) fputc('\n', stdout);
    free(ids);
    lbrx_storage_release(s);
    lbrx_tokenizer_release(&t);
    return fflush(stdout) == 0 ? 0 : 1;
}
