/* fuzz_tokenizer.c - libFuzzer harness of examples/lbrx_tokenizer.h. Three kinds of input:
   - a GGUF file (starts with "GGUF"): its tokenizer.ggml.* metadata is loaded (all untrusted:
     tokens, scores, types, merges, pre-tokenizer name, special ids), then fixed texts are
     encoded and decoded with it;
   - a tokenizer.json (starts with '{'): loaded from memory, then the same;
   - anything else is text (any bytes, NULs included), encoded by a fixed SentencePiece
     vocabulary and by a fixed byte-level BPE vocabulary under every pre-tokenizer lbrx knows,
     with and without special tokens: every id must be in range and the pieces must give the
     text back exactly (byte fallback and byte-level make every text representable); and by a
     fixed WordPiece vocabulary (lossy: ids in range only).

       clang -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz_tokenizer.c -o fuzz_tokenizer
   Replay without libFuzzer: tests/fuzz_main.c. tests/test_tokenizer.c runs it on its texts. */
#ifndef LBRX_FUZZ_NO_IMPL
#define LBRX_IMPL
#endif
#include "examples/lbrx_tokenizer.h"
#include "lbrx_fuzz.h"
#include <string.h>

/* Encode text[0..len) with flags; check the ids; with `exact`, check that the pieces give
   prefix + text back (SentencePiece reads each '▁' of the text as a space). Returns the number
   of ids (0 on an encoding error). */
static size_t lt_fuzz_tok_check(const lbrx_tokenizer *t, const char *text, size_t len, unsigned flags, int exact, const char *prefix) {
    int32_t *ids = NULL;
    size_t n = 0, i, pos = 0, plen = strlen(prefix), rlen = len;
    char *ref = NULL;
    if (lbrx_tokenizer_encode(t, text, len, flags, &ids, &n, NULL) != LBRX_OK) return 0;
    if (exact && (t->kind == LBRX_TOKENIZER_SPM || t->metaspace)) {
        LT_FUZZ_CHECK((ref = (char *)malloc(len + 1)) != NULL);
        for (i = 0, rlen = 0; i < len; i++) {
            int bar = i + 2 < len && (unsigned char)text[i] == 0xE2 && (unsigned char)text[i + 1] == 0x96 && (unsigned char)text[i + 2] == 0x81;
            ref[rlen++] = bar ? ' ' : text[i];
            i += bar ? 2 : 0;
        }
        text = ref;
    }
    for (i = 0; i < n; i++) {
        size_t l;
        const char *p = lbrx_tokenizer_piece(t, ids[i], &l);
        LT_FUZZ_CHECK(ids[i] >= 0 && ids[i] < t->n_vocab);
        (void)lbrx_tokenizer_decode(t, i ? ids[i - 1] : -1, ids[i], &l);
        p = lbrx_tokenizer_piece(t, ids[i], &l);
        if (exact) {
            size_t k;
            for (k = 0; k < l; k++, pos++) {
                char want = pos < plen ? prefix[pos] : pos - plen < rlen ? text[pos - plen] : 0;
                LT_FUZZ_CHECK(pos < plen + rlen && p[k] == want);
            }
        }
    }
    if (exact) LT_FUZZ_CHECK(pos == plen + rlen);
    free(ids);
    free(ref);
    return n;
}

/* A byte-level BPE tokenizer.json: the 256 bytes, a few merges, a control token (lstrip/rstrip:
   it eats the whitespace around it) and a user-defined token (matched in any text). */
static char *lt_fuzz_tok_json(size_t *len) {
    static const char *const merges[] = { "\xc4\xa0 t", "h e", "\xc4\xa0t he", "i n", "\xc4\xa0 \xc4\xa0", "1 2" };
    static const char *const merged[] = { "\xc4\xa0t", "he", "\xc4\xa0the", "in", "\xc4\xa0\xc4\xa0", "12" };
    size_t cap = 16384, n = 0, i;
    char *s = (char *)malloc(cap);
    if (!s) return NULL;
    n += (size_t)sprintf(s + n, "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
    for (i = 0; i < 256; i++) {
        char u[4];
        size_t k = lbrx__tok_put_utf8(lbrx__tok_b2u((unsigned)i), u);
        n += (size_t)sprintf(s + n, "%s\"%s%.*s\": %u", i ? ", " : "", u[0] == '"' || u[0] == '\\' ? "\\" : "", (int)k, u, (unsigned)i);
    }
    for (i = 0; i < sizeof merged / sizeof merged[0]; i++) n += (size_t)sprintf(s + n, ", \"%s\": %u", merged[i], (unsigned)(256 + i));
    n += (size_t)sprintf(s + n, "}, \"merges\": [");
    for (i = 0; i < sizeof merges / sizeof merges[0]; i++) n += (size_t)sprintf(s + n, "%s\"%s\"", i ? ", " : "", merges[i]);
    n += (size_t)sprintf(s + n, "]}, \"added_tokens\": [{\"id\": 262, \"content\": \"<|end|>\", \"special\": true, \"lstrip\": true, \"rstrip\": true},"
                                " {\"id\": 263, \"content\": \"<user>\", \"special\": false}],"
                                " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}}");
    *len = n;
    return s;
}

/* A SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte tokens and some merged pieces. */
static lbrx_result lt_fuzz_tok_spm(lbrx_tokenizer *t) {
    static const char *const pieces[] = {
        "\xe2\x96\x81", "\xe2\x96\x81t", "he", "\xe2\x96\x81the", "\xe2\x96\x81\x61", "in", "\xe2\x96\x81in", "er",
        "\xe2\x96\x81h", "ll", "o", "\xe2\x96\x81hello", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "e", "t", "a", "h",
        "l", "n", "r", "i", "\xe2\x96\x81\xe2\x96\x81", "<0x41>x" };
    int n_pieces = (int)(sizeof pieces / sizeof pieces[0]), i, n = 3 + 256 + n_pieces;
    size_t total = 5 + 3 + 4 + 256 * 6;
    char name[8];
    lbrx_result r;
    for (i = 0; i < n_pieces; i++) total += strlen(pieces[i]);
    if ((r = lbrx__tok_alloc(t, (uint64_t)n, total, NULL)) != LBRX_OK) return r;
    t->kind = LBRX_TOKENIZER_SPM;
    t->space_prefix = 1;
    r = lbrx__tok_set_raw(t, 0, "<unk>", 5, LBRX_TOKEN_UNKNOWN, NULL);
    if (r == LBRX_OK) r = lbrx__tok_set_raw(t, 1, "<s>", 3, LBRX_TOKEN_CONTROL, NULL);
    if (r == LBRX_OK) r = lbrx__tok_set_raw(t, 2, "</s>", 4, LBRX_TOKEN_CONTROL, NULL);
    for (i = 0; r == LBRX_OK && i < 256; i++) {
        snprintf(name, sizeof name, "<0x%02X>", i);
        r = lbrx__tok_set(t, 3 + i, name, 6, 0.0f, LBRX_TOKEN_BYTE, LBRX__TOK_SPACES, NULL);
    }
    for (i = 0; r == LBRX_OK && i < n_pieces; i++)
        r = lbrx__tok_set(t, 259 + i, pieces[i], strlen(pieces[i]), -(float)i, LBRX_TOKEN_NORMAL, LBRX__TOK_SPACES, NULL);
    t->bos = 1;
    t->eos = 2;
    if (r == LBRX_OK) r = lbrx__tok_finish(t, NULL);
    if (r != LBRX_OK) lbrx_tokenizer_release(t);
    return r;
}

/* A WordPiece vocabulary: [UNK], [CLS], [SEP], word starts ('▁') and continuations. */
static lbrx_result lt_fuzz_tok_wpm(lbrx_tokenizer *t) {
    static const char *const pieces[] = {
        "[UNK]", "[CLS]", "[SEP]", "\xe2\x96\x81the", "\xe2\x96\x81t", "he", "\xe2\x96\x81" "a", "a", "b", "\xe2\x96\x81,",
        "\xe2\x96\x81\xe6\x97\xa5", "\xe2\x96\x81" "12", "3", "\xe2\x96\x81\xc3\xa9", "\xc3\xa9", "\xe2\x96\x81\xe2\x96\x81" };
    int n = (int)(sizeof pieces / sizeof pieces[0]), i;
    size_t total = 0;
    lbrx_result r;
    for (i = 0; i < n; i++) total += strlen(pieces[i]);
    if ((r = lbrx__tok_alloc(t, (uint64_t)n, total, NULL)) != LBRX_OK) return r;
    t->kind = LBRX_TOKENIZER_WPM;
    t->wpm_lower = t->wpm_strip = 1;
    for (i = 0; r == LBRX_OK && i < n; i++)
        r = lbrx__tok_set(t, i, pieces[i], strlen(pieces[i]), 0.0f, i < 3 ? LBRX_TOKEN_CONTROL : LBRX_TOKEN_NORMAL, i < 3 ? LBRX__TOK_RAW : LBRX__TOK_SPACES, NULL);
    t->unk = 0;
    t->bos = 1;
    t->eos = 2;
    if (r == LBRX_OK) r = lbrx__tok_finish(t, NULL);
    if (r != LBRX_OK) lbrx_tokenizer_release(t);
    return r;
}

/* Fixed texts for a tokenizer that the input itself defines. */
static void lt_fuzz_tok_texts(const lbrx_tokenizer *t) {
    static const char text[] = "Hello w\xc3\xb6rld, \xe6\x97\xa5\xe6\x9c\xac 123 4567 \t\n\n  x \x01\xff\xc3 the end <|end|><s>";
    lt_fuzz_tok_check(t, text, sizeof text - 1, 0, 0, "");
    lt_fuzz_tok_check(t, text, sizeof text - 1, LBRX_ENCODE_SPECIAL, 0, "");
    if (t->bos >= 0) lt_fuzz_tok_check(t, text, sizeof text - 1, LBRX_ENCODE_BOS, 0, "");
}

LBRX_FUZZ_EXTERN int LBRX_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    static lbrx_tokenizer spm, bpe, wpm;
    static int ready;
    lbrx_tokenizer t;
    int k;
    if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        lbrx_gguf *g = NULL;
        if (lbrx_gguf_open_memory(&g, data, size, NULL, NULL) != LBRX_OK) return 0;
        if (lbrx_tokenizer_init_gguf(&t, g, NULL) == LBRX_OK) {
            LT_FUZZ_CHECK(t.kind != LBRX_TOKENIZER_NONE && t.n_vocab > 0);
            lt_fuzz_tok_texts(&t);
            lbrx_tokenizer_release(&t);
        } else {
            LT_FUZZ_CHECK(t.kind == LBRX_TOKENIZER_NONE && t.text == NULL);
        }
        lbrx_gguf_destroy(g);
        return 0;
    }
    if (size >= 1 && data[0] == '{') {
        if (lbrx_tokenizer_init_json_memory(&t, data, size, NULL, 0, NULL) == LBRX_OK) {
            lt_fuzz_tok_texts(&t);
            lbrx_tokenizer_release(&t);
        } else {
            LT_FUZZ_CHECK(t.kind == LBRX_TOKENIZER_NONE && t.text == NULL);
        }
        return 0;
    }
    if (!ready) {
        size_t len = 0;
        char *json = lt_fuzz_tok_json(&len);
        LT_FUZZ_CHECK(json && lt_fuzz_tok_spm(&spm) == LBRX_OK && lt_fuzz_tok_wpm(&wpm) == LBRX_OK);
        LT_FUZZ_CHECK(lbrx_tokenizer_init_json_memory(&bpe, json, len, NULL, 0, NULL) == LBRX_OK);
        free(json);
        ready = 1;
    }
    lt_fuzz_tok_check(&spm, (const char *)data, size, 0, 1, size ? " " : "");
    lt_fuzz_tok_check(&spm, (const char *)data, size, LBRX_ENCODE_SPECIAL, 0, "");
    lt_fuzz_tok_check(&wpm, (const char *)data, size, 0, 0, "");
    lt_fuzz_tok_check(&wpm, (const char *)data, size, LBRX_ENCODE_SPECIAL | LBRX_ENCODE_BOS, 0, "");
    for (k = 0; k < LBRX__TOK_N_PRES; k++) { /* every pre-tokenizer over the same vocabulary */
        memcpy(bpe.rules, lbrx__tok_pres[k].rules, sizeof lbrx__tok_pres[k].rules);
        bpe.rules[sizeof lbrx__tok_pres[k].rules] = 0;
        bpe.ignore_merges = lbrx__tok_pres[k].ignore_merges;
        bpe.prefix_space = 0;
        lt_fuzz_tok_check(&bpe, (const char *)data, size, 0, 1, "");
        lt_fuzz_tok_check(&bpe, (const char *)data, size, LBRX_ENCODE_SPECIAL, 0, "");
        bpe.prefix_space = 1; /* a space in front of every fragment between special tokens: not exact */
        lt_fuzz_tok_check(&bpe, (const char *)data, size, 0, 0, "");
    }
    return 0;
}
