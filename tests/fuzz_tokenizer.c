/* fuzz_tokenizer.c - libFuzzer harness of the tokenizer examples/llama.c runs
   (examples/lbrx_tokenizer.h), as llama.c loads and uses it. Two kinds of input:
   - a GGUF file (starts with "GGUF"): its vocabulary is loaded as llama.c loads a model's
     (lbrx_tokenizer_load_gguf: tokens, scores, types, merges, special ids, all untrusted), then
     a fixed text is encoded and decoded with it;
   - anything else is text (up to the first NUL), encoded with a fixed SentencePiece vocabulary
     that has every byte token and some merges, then decoded: ids must be in range and the
     decoded text must equal the input (byte fallback makes every text representable).

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_tokenizer.c -o fuzz_tokenizer
   Replay without libFuzzer: tests/fuzz_main.c. */
#ifndef LBRX_FUZZ_NO_IMPL
#define LBRX_IMPL
#endif
#include "lbrx_gguf.h"
#include "examples/lbrx_tokenizer.h"
#include "lbrx_fuzz.h"

/* Encodes text with BOS and decodes it again into a malloc'ed string (*out, *out_len), as
   llama.c prints it; checks that every id is in the vocabulary. */
static lbrx_result lt_fuzz_roundtrip(const lbrx_tokenizer *t, const char *text, char **out, size_t *out_len) {
    int32_t *ids = NULL;
    size_t n = 0, i, cap = 16, len = 0;
    char *s;
    lbrx_result r = lbrx_tokenizer_encode(t, text, strlen(text), LBRX_ENCODE_BOS, &ids, &n, NULL);
    *out = NULL;
    *out_len = 0;
    if (r != LBRX_OK) return r;
    s = (char *)malloc(cap);
    if (!s) { free(ids); return LBRX_ERR_OUT_OF_MEMORY; }
    for (i = 0; i < n; i++) LT_FUZZ_CHECK(ids[i] >= 0 && ids[i] < t->n_vocab);
    for (i = 1; i < n; i++) {
        size_t plen;
        const char *p = lbrx_tokenizer_decode(t, ids[i - 1], ids[i], &plen);
        if (len + plen + 1 > cap) {
            char *ns;
            while (len + plen + 1 > cap) cap *= 2;
            ns = (char *)realloc(s, cap);
            if (!ns) { free(s); free(ids); return LBRX_ERR_OUT_OF_MEMORY; }
            s = ns;
        }
        memcpy(s + len, p, plen);
        len += plen;
    }
    s[len] = 0;
    free(ids);
    *out = s;
    *out_len = len;
    return LBRX_OK;
}

/* A GGUF vocabulary of <unk>, <s>, </s>, the 256 byte tokens and a few merged pieces, written to
   memory once (*data, *size). */
static int lt_fuzz_vocab_gguf(unsigned char **data, size_t *size) {
    static const char *const merges[] = {
        "\xe2\x96\x81", "\xe2\x96\x81t", "he", "\xe2\x96\x81the", "\xe2\x96\x81" "a", "in", "\xe2\x96\x81in", "er",
        "\xe2\x96\x81h", "ll", "o", "\xe2\x96\x81hello", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "e", "t", "a", "h",
        "l", "n", "r", "i", "\xe2\x96\x81\xe2\x96\x81", "<0x41>x"};
    enum { N_MERGES = sizeof merges / sizeof merges[0], N = 3 + 256 + N_MERGES };
    static char names[256][8];
    lbrx_gguf_str toks[N];
    float scores[N];
    int32_t types[N];
    uint32_t bos = 1, eos = 2;
    lbrx_gguf_writer *w = NULL;
    FILE *f = tmpfile();
    long len;
    int i, ok;
    if (!f) return 0;
    toks[0].data = "<unk>"; toks[0].len = 5; types[0] = 2;
    toks[1].data = "<s>"; toks[1].len = 3; types[1] = 3;
    toks[2].data = "</s>"; toks[2].len = 4; types[2] = 3;
    for (i = 0; i < 256; i++) {
        snprintf(names[i], sizeof names[i], "<0x%02X>", i);
        toks[3 + i].data = names[i]; toks[3 + i].len = 6; types[3 + i] = 6;
    }
    for (i = 0; i < N_MERGES; i++) {
        toks[259 + i].data = merges[i]; toks[259 + i].len = strlen(merges[i]); types[259 + i] = 1;
    }
    for (i = 0; i < N; i++) scores[i] = i < 259 ? 0.0f : -(float)(i - 259);
    ok = lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK &&
         lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", "llama", NULL) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, toks, N, NULL) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, scores, N, NULL) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, types, N, NULL) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.bos_token_id", LBRX_GGUF_UINT32, &bos, NULL) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.eos_token_id", LBRX_GGUF_UINT32, &eos, NULL) == LBRX_OK &&
         lbrx_gguf_writer_write(w, f, NULL) == LBRX_OK;
    lbrx_gguf_writer_destroy(w);
    ok = ok && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
         (*data = (unsigned char *)malloc((size_t)len)) != NULL && fread(*data, 1, (size_t)len, f) == (size_t)len;
    if (ok) *size = (size_t)len;
    fclose(f);
    return ok;
}

/* Load the tokenizer of a GGUF image; 0 when it has none lbrx reads. */
static int lt_fuzz_load(lbrx_tokenizer *t, const void *data, size_t size) {
    lbrx_gguf *g = NULL;
    int ok;
    if (lbrx_gguf_open_memory(&g, data, size, NULL, NULL) != LBRX_OK) return 0;
    ok = lbrx_tokenizer_load_gguf(t, g, NULL) == LBRX_OK && t->n_vocab > 0;
    lbrx_gguf_close(g);
    return ok;
}

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    static unsigned char *vocab = NULL;
    static size_t vocab_size = 0;
    lbrx_tokenizer t;
    char *text, *back = NULL;
    size_t back_len = 0;
    if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        if (lt_fuzz_load(&t, data, size)) {
            if (lt_fuzz_roundtrip(&t, "Hello w\xc3\xb6rld, \xe6\x97\xa5\xe6\x9c\xac \x01\xff the end", &back, &back_len) == LBRX_OK)
                free(back);
            lbrx_tokenizer_free(&t);
        }
        return 0;
    }
    if (!vocab && !lt_fuzz_vocab_gguf(&vocab, &vocab_size)) return 0;
    text = (char *)malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (lt_fuzz_load(&t, vocab, vocab_size)) {
        if (lt_fuzz_roundtrip(&t, text, &back, &back_len) == LBRX_OK) {
            LT_FUZZ_CHECK(back_len == strlen(text) && memcmp(back, text, back_len) == 0);
            free(back);
        }
        lbrx_tokenizer_free(&t);
    }
    free(text);
    return 0;
}
