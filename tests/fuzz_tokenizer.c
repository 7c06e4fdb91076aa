/* fuzz_tokenizer.c - libFuzzer harness of the SentencePiece tokenizer of examples/llama.c.
   Two kinds of input:
   - a GGUF file (starts with "GGUF"): its vocabulary is loaded as llama.c loads a model's
     (llama_tokenizer_load_gguf: tokens, scores, types, special ids, all untrusted), then a fixed
     text is encoded and decoded with it;
   - anything else is text (up to the first NUL), encoded with a fixed vocabulary that has every
     byte token and some merges, then decoded: ids must be in range and the decoded text must
     equal the input (byte fallback makes every text representable).

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_tokenizer.c -o fuzz_tokenizer
   Replay without libFuzzer: tests/fuzz_main.c. */
#ifdef LBRX_FUZZ_NO_IMPL
#define LLAMA_NO_IMPL
#endif
#define LLAMA_NO_MAIN
#include "../examples/llama.c"
#include "lbrx_fuzz.h"

/* Encodes text with add_bos and decodes it again into a malloc'ed string (*out, *out_len);
   checks that every id is in the vocabulary. */
static lbrx_result lt_fuzz_roundtrip(const llama_tokenizer *t, const char *text, char **out, size_t *out_len) {
    int *ids = NULL, n = 0, i, prev;
    size_t cap = 16, len = 0;
    char *s;
    lbrx_result r = llama_encode(t, text, 1, &ids, &n, NULL);
    *out = NULL;
    *out_len = 0;
    if (r != LBRX_OK) return r;
    s = (char *)malloc(cap);
    if (!s) { free(ids); return LBRX_ERR_OUT_OF_MEMORY; }
    prev = ids && n > 0 ? ids[0] : -1;
    for (i = 0; i < n; i++) LT_FUZZ_CHECK(ids[i] >= 0 && ids[i] < t->n_vocab);
    for (i = 1; i < n; i++) {
        char byte;
        size_t plen;
        const char *p = llama_token_text(t, prev, ids[i], &plen, &byte);
        if (len + plen + 1 > cap) {
            char *ns;
            while (len + plen + 1 > cap) cap *= 2;
            ns = (char *)realloc(s, cap);
            if (!ns) { free(s); free(ids); return LBRX_ERR_OUT_OF_MEMORY; }
            s = ns;
        }
        memcpy(s + len, p, plen);
        len += plen;
        prev = ids[i];
    }
    s[len] = 0;
    free(ids);
    *out = s;
    *out_len = len;
    return LBRX_OK;
}

/* A vocabulary of <unk>, <s>, </s>, the 256 byte tokens and a few merged pieces. */
static lbrx_result lt_fuzz_vocab(llama_tokenizer *t) {
    static const char *const merges[] = {
        "\xe2\x96\x81", "\xe2\x96\x81t", "he", "\xe2\x96\x81the", "\xe2\x96\x81" "a", "in", "\xe2\x96\x81in", "er",
        "\xe2\x96\x81h", "ll", "o", "\xe2\x96\x81hello", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "e", "t", "a", "h",
        "l", "n", "r", "i", "\xe2\x96\x81\xe2\x96\x81", "<s>", "<0x41>x"};
    int n_merges = (int)(sizeof merges / sizeof merges[0]), i, n = 3 + 256 + n_merges;
    size_t total = 5 + 3 + 4 + 256 * 6;
    char piece[8];
    lbrx_result r;
    for (i = 0; i < n_merges; i++) total += strlen(merges[i]);
    if ((r = llama_tokenizer_alloc(t, n, total, NULL)) != LBRX_OK) return r;
    r = llama_tokenizer_set(t, 0, "<unk>", 5, 0.0f, LLAMA_TOKEN_UNKNOWN, NULL);
    if (r == LBRX_OK) r = llama_tokenizer_set(t, 1, "<s>", 3, 0.0f, LLAMA_TOKEN_CONTROL, NULL);
    if (r == LBRX_OK) r = llama_tokenizer_set(t, 2, "</s>", 4, 0.0f, LLAMA_TOKEN_CONTROL, NULL);
    for (i = 0; r == LBRX_OK && i < 256; i++) {
        snprintf(piece, sizeof piece, "<0x%02X>", i);
        r = llama_tokenizer_set(t, 3 + i, piece, 6, 0.0f, LLAMA_TOKEN_BYTE, NULL);
    }
    for (i = 0; r == LBRX_OK && i < n_merges; i++)
        r = llama_tokenizer_set(t, 259 + i, merges[i], strlen(merges[i]), -(float)i, LLAMA_TOKEN_NORMAL, NULL);
    t->bos = 1;
    t->eos = 2;
    if (r == LBRX_OK) r = llama_tokenizer_finish(t, NULL);
    if (r != LBRX_OK) llama_tokenizer_free(t);
    return r;
}

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    llama_tokenizer t;
    char *text, *back = NULL;
    size_t back_len = 0;
    if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        lbrx_gguf *g = NULL;
        if (lbrx_gguf_open_memory(&g, data, size, NULL, NULL) != LBRX_OK) return 0;
        if (llama_tokenizer_load_gguf(&t, g, NULL) == LBRX_OK && t.n_vocab > 0) {
            if (lt_fuzz_roundtrip(&t, "Hello w\xc3\xb6rld, \xe6\x97\xa5\xe6\x9c\xac \x01\xff the end", &back, &back_len) == LBRX_OK)
                free(back);
            llama_tokenizer_free(&t);
        }
        lbrx_gguf_close(g);
        return 0;
    }
    text = (char *)malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (lt_fuzz_vocab(&t) == LBRX_OK) {
        if (lt_fuzz_roundtrip(&t, text, &back, &back_len) == LBRX_OK) {
            LT_FUZZ_CHECK(back_len == strlen(text) && memcmp(back, text, back_len) == 0);
            free(back);
        }
        llama_tokenizer_free(&t);
    }
    free(text);
    return 0;
}
