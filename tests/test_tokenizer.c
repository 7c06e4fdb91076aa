/* tests/test_tokenizer.c - examples/lbrx_tokenizer.h against independent references:
   - llama.cpp's tokenizer test (test-tokenizer-0): every GGUF vocabulary of
     ../shared/data/llama.cpp/v3 that has .inp/.out files must give exactly the .out ids (made
     upstream by the Hugging Face tokenizers with add_special_tokens=False);
   - the Llama 3 and Qwen 3 tokenizer.json files reproduce llama.cpp's expected outputs of
     ../shared/data/tokenizers/llama.cpp-tests (llama-bpe, qwen2, deepseek-r1-qwen);
   - an independent implementation's ids for 444 texts of our own (random code points of many
     scripts and planes, code, numbers, whitespace runs, CJK, emoji, specials written in the text):
     tests/fixtures/tokenizer_oracle.json, texts by tests/fixtures/make_tokenizer_oracle.py, ids by
     transformers.js (tests/fixtures/make_tokenizer_oracle.mjs); Python `tokenizers` 0.23.2 on the
     GPU machine (make_tokenizer_oracle.py encode) gave the same ids for all 888 encodings;
   - byte-level round trip: the pieces of encode(text) concatenate to text, for every text
     above and for random bytes (invalid UTF-8 included);
   - hostile tokenizer data (bad scores, types, merges, ids out of range) is an error, never a crash. */
#define LBRX_IMPL
#include "examples/lbrx_tokenizer.h"
#include "tests/lbrx_test.h"
/* the fuzz harness, run here on fixed and random texts */
#define LBRX_FUZZ_NO_IMPL
#define LBRX_FUZZ_NO_MAIN
#define LBRX_FUZZ_ENTRY lt_fuzz_tokenizer
#include "tests/fuzz_tokenizer.c"
#include "tests/fuzz_main.c"

/* xorshift64* */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* A random text of up to max bytes: runs of ASCII words, digits, whitespace, punctuation,
   random code points (any plane) and random bytes (invalid UTF-8). */
static size_t random_text(char *s, size_t max) {
    static const char *const words[] = { "the", "The", " quick", "don't", "I'M", " 12345", "\n", "  ", "\t", "\r\n", "...",
                                         "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "\xf0\x9f\x98\x80", "caf\xc3\xa9", " \xc2\xa0", "<|end|>",
                                         "<|im_start|>", "<s>", "'s", "'LL", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", "x=1;", "\xe3\x80\x80" };
    size_t n = 0, target = (size_t)(rng() % max);
    while (n + 8 < target) {
        uint64_t r = rng();
        switch (r % 4) {
        case 0: case 1: {
            const char *w = words[(r >> 8) % (sizeof words / sizeof words[0])];
            size_t l = strlen(w);
            if (n + l >= max) return n;
            memcpy(s + n, w, l);
            n += l;
            break;
        }
        case 2: {
            uint32_t c = (uint32_t)((r >> 8) % ((r >> 40) & 1 ? 0x800 : 0x110000));
            if (c >= 0xD800 && c <= 0xDFFF) c = 0x20;
            n += lbrx__tok_put_utf8(c, s + n);
            break;
        }
        default: s[n++] = (char)(r >> 16); break;
        }
    }
    return n;
}

/* The whole file at path, NUL-terminated (malloc'ed); NULL if it cannot be read. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *s;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = (char *)malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    fclose(f);
    if (s) { s[n] = 0; if (len) *len = (size_t)n; }
    return s;
}

/* Concatenated pieces of ids equal text[0..len)? */
static int round_trips(const lbrx_tokenizer *t, const int32_t *ids, size_t n, const char *text, size_t len) {
    size_t i, pos = 0;
    for (i = 0; i < n; i++) {
        size_t pl;
        const char *p = lbrx_tokenizer_piece(t, ids[i], &pl);
        if (pos + pl > len || memcmp(text + pos, p, pl) != 0) return 0;
        pos += pl;
    }
    return pos == len;
}

/* Check a tokenizer against llama.cpp's .inp/.out pair; returns the number of texts checked. */
static int check_inp_out(const lbrx_tokenizer *t, const char *inp_path, const char *out_path, const char *name, int byte_level) {
    static const char sep[] = "\n__ggml_vocab_test__\n";
    size_t inp_len, out_len;
    char *inp = read_all(inp_path, &inp_len), *out = read_all(out_path, &out_len), *ip, *op;
    int n = 0;
    LT_CHECKF(inp && out, "%s: cannot read .inp/.out", name);
    if (!inp || !out) { free(inp); free(out); return 0; }
    ip = inp;
    op = out;
    for (;;) {
        char *end = strstr(ip, sep), *eol;
        int32_t *ids = NULL;
        size_t nids = 0, k = 0;
        lbrx_error e;
        int ok = 1;
        if (!end) break;
        eol = strchr(op, '\n');
        LT_CHECKF(eol != NULL, "%s: .out has fewer lines than .inp has texts", name);
        if (!eol) break;
        *eol = 0;
        LT_CHECKF(lbrx_tokenizer_encode(t, ip, (size_t)(end - ip), lbrx_tokenizer_default_flags(t), &ids, &nids, &e) == LBRX_OK, "%s: %s", name, e.message);
        {
            char *q = op;
            while (*q) {
                long v = strtol(q, &q, 10);
                if (k >= nids || ids[k] != v) ok = 0;
                k++;
                while (*q == ' ') q++;
            }
        }
        if (k != nids) ok = 0;
        LT_CHECKF(ok, "%s: text %d \"%.*s\": %zu ids, expected \"%s\"", name, n, (int)(end - ip < 60 ? end - ip : 60), ip, nids, op);
        if (!ok) {
            fprintf(stderr, "    got:");
            for (k = 0; k < nids; k++) fprintf(stderr, " %d", (int)ids[k]);
            fprintf(stderr, "\n");
        }
        if (byte_level) LT_CHECKF(round_trips(t, ids, nids, ip, (size_t)(end - ip)), "%s: text %d does not round-trip", name, n);
        free(ids);
        n++;
        ip = end + sizeof sep - 1;
        op = eol + 1;
    }
    free(inp);
    free(out);
    return n;
}

static void test_llama_cpp_vocabs(void) {
    static const char *const names[] = { "llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact",
                                         "deepseek-llm", "deepseek-coder", "bert-bge" };
    size_t i;
    int done = 0;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[128], inp[4200], out[4200];
        const char *p;
        lbrx_gguf *g = NULL;
        lbrx_tokenizer t;
        lbrx_error e;
        snprintf(rel, sizeof rel, "llama.cpp/v3/ggml-vocab-%s.gguf", names[i]);
        if (!(p = lt_shared_path(rel))) continue;
        snprintf(inp, sizeof inp, "%s.inp", p);
        snprintf(out, sizeof out, "%s.out", p);
        LT_CHECKF(lbrx_gguf_open(&g, p, NULL, &e) == LBRX_OK, "%s", e.message);
        if (!g) continue;
        LT_CHECKF(lbrx_tokenizer_init_gguf(&t, g, &e) == LBRX_OK, "%s: %s", names[i], e.message);
        if (t.kind) {
            int n = check_inp_out(&t, inp, out, names[i], t.kind == LBRX_TOKENIZER_BPE);
            LT_CHECKF(n >= 40, "%s: only %d texts", names[i], n);
            if (getenv("LT_VERBOSE")) fprintf(stderr, "  %s: %d texts, %s\n", names[i], n, lbrx_tokenizer_describe(&t));
            done++;
        }
        lbrx_tokenizer_release(&t);
        lbrx_gguf_destroy(g);
    }
    if (!done) LT_SKIP("../shared/data/llama.cpp/v3 is absent");
}

/* The tokenizer.json files of Llama 3 and Qwen 3 against llama.cpp's expected outputs. */
static void test_tokenizer_json(void) {
    static const struct { const char *json, *test; } cases[] = {
        { "tokenizers/llama3/tokenizer.json", "llama-bpe" },
        { "tokenizers/qwen3/tokenizer.json", "qwen2" },
        { "tokenizers/qwen3/tokenizer.json", "deepseek-r1-qwen" },
    };
    size_t i;
    int done = 0;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[4200], inp[4200], out[4200], rel[128];
        const char *p = lt_shared_path(cases[i].json);
        lbrx_tokenizer t;
        lbrx_error e;
        if (!p) continue;
        snprintf(json, sizeof json, "%s", p);
        snprintf(rel, sizeof rel, "tokenizers/llama.cpp-tests/ggml-vocab-%s.gguf.inp", cases[i].test);
        if (!(p = lt_shared_path(rel))) continue;
        snprintf(inp, sizeof inp, "%s", p);
        snprintf(out, sizeof out, "%.*s.out", (int)strlen(inp) - 4, inp);
        LT_CHECKF(lbrx_tokenizer_init_file(&t, json, &e) == LBRX_OK, "%s: %s", json, e.message);
        if (t.kind) {
            int n = check_inp_out(&t, inp, out, cases[i].test, 1);
            LT_CHECKF(n >= 40, "%s: only %d texts", cases[i].test, n);
            if (getenv("LT_VERBOSE")) fprintf(stderr, "  %s: %d texts, %s\n", cases[i].test, n, lbrx_tokenizer_describe(&t));
            done++;
        }
        lbrx_tokenizer_release(&t);
    }
    if (!done) LT_SKIP("../shared/data/tokenizers is absent");
}

/* Random texts through every tokenizer of the shared data: ids in range, byte-level BPE gives
   the text back exactly, SentencePiece gives " " + text back (byte fallback). */
static void test_round_trip(void) {
    static const char *const files[] = { "tokenizers/llama3/tokenizer.json", "tokenizers/qwen3/tokenizer.json",
                                         "llama.cpp/v3/ggml-vocab-gpt-2.gguf", "llama.cpp/v3/ggml-vocab-deepseek-llm.gguf",
                                         "llama.cpp/v3/ggml-vocab-falcon.gguf", "llama.cpp/v3/ggml-vocab-llama-spm.gguf" };
    char *text = (char *)malloc(4096), *want = (char *)malloc(4097);
    size_t f;
    int done = 0, i;
    for (f = 0; f < sizeof files / sizeof files[0]; f++) {
        const char *p = lt_shared_path(files[f]);
        lbrx_tokenizer t;
        lbrx_error e;
        if (!p) continue;
        LT_CHECKF(lbrx_tokenizer_init_file(&t, p, &e) == LBRX_OK, "%s: %s", files[f], e.message);
        for (i = 0; t.kind && i < 300; i++) {
            size_t n = random_text(text, 4096), nids = 0, k, m;
            int32_t *ids = NULL;
            int spm = t.kind == LBRX_TOKENIZER_SPM;
            LT_CHECKF(lbrx_tokenizer_encode(&t, text, n, 0, &ids, &nids, &e) == LBRX_OK, "%s: %s", files[f], e.message);
            for (k = 0; k < nids; k++) LT_CHECK(ids[k] >= 0 && ids[k] < t.n_vocab);
            /* SPM: " " + text; byte-level BPE: text less the bytes the vocabulary has no token for
               (Falcon lacks 28), which are dropped as Hugging Face and llama.cpp drop them */
            if (spm) { /* a '▁' of the text is a space (SentencePiece's, llama.cpp's reading) */
                want[0] = ' ';
                for (k = 0, m = 1; k < n; k++) {
                    int bar = k + 2 < n && (unsigned char)text[k] == 0xE2 && (unsigned char)text[k + 1] == 0x96 && (unsigned char)text[k + 2] == 0x81;
                    want[m++] = bar ? ' ' : text[k];
                    k += bar ? 2 : 0;
                }
                if (!n) m = 0;
            } else {
                for (k = 0, m = 0; k < n; k++)
                    if (t.byte_id[(unsigned char)text[k]] >= 0) want[m++] = text[k];
            }
            LT_CHECKF(round_trips(&t, ids, nids, want, m), "%s: random text %d does not round-trip", files[f], i);
            free(ids);
        }
        if (t.kind == LBRX_TOKENIZER_SPM) { /* "a▁▁b" is "a  b" (llama.cpp: 500 of 500 random texts equal) */
            int32_t *i1 = NULL, *i2 = NULL;
            size_t n1 = 0, n2 = 0;
            LT_CHECK(lbrx_tokenizer_encode(&t, "a\xe2\x96\x81\xe2\x96\x81" "b", 8, 0, &i1, &n1, &e) == LBRX_OK &&
                     lbrx_tokenizer_encode(&t, "a  b", 4, 0, &i2, &n2, &e) == LBRX_OK);
            LT_CHECK(n1 == n2 && n1 > 0 && !memcmp(i1, i2, n1 * sizeof *i1));
            free(i1);
            free(i2);
        }
        if (t.kind) done++;
        lbrx_tokenizer_release(&t);
    }
    free(text);
    free(want);
    if (!done) LT_SKIP("../shared/data is absent");
}

/* The fuzz harness on llama.cpp's test strings, random texts and the regressions it found. */
static void test_fuzz_harness(void) {
    char *text = (char *)malloc(2048);
    int i;
    long n;
    for (i = 0; i < 200; i++) lt_fuzz_tokenizer((const uint8_t *)text, random_text(text, 2048));
    free(text);
    n = lt_fuzz_replay_path("tests/fuzz_regressions/tokenizer", NULL, lt_fuzz_tokenizer);
    if (lt_shared_path("llama.cpp/v3")) n += lt_fuzz_replay_path(lt_shared_path("llama.cpp/v3"), ".inp", lt_fuzz_tokenizer);
    LT_CHECK(n >= 0);
}

/* Special tokens: control ones only when asked, user-defined ones always; BOS first. */
static void test_special_tokens(void) {
    const char *p = lt_shared_path("tokenizers/qwen3/tokenizer.json");
    static const char text[] = "<|im_start|>user\nhi<|im_end|>";
    lbrx_tokenizer t;
    lbrx_error e;
    int32_t *ids = NULL;
    size_t n = 0, len;
    const char *piece;
    if (!p) LT_SKIP("../shared/data/tokenizers is absent");
    LT_CHECKF(lbrx_tokenizer_init_file(&t, p, &e) == LBRX_OK, "%s", e.message);
    if (!t.kind) return;
    LT_CHECK(lbrx_tokenizer_default_flags(&t) == LBRX_ENCODE_SPECIAL);
    LT_CHECK(lbrx_tokenizer_encode(&t, text, sizeof text - 1, LBRX_ENCODE_SPECIAL, &ids, &n, &e) == LBRX_OK);
    LT_CHECKF(n == 5 && ids[0] == 151644 && ids[4] == 151645, "n %zu", n); /* <|im_start|> user \n hi <|im_end|> */
    LT_CHECK(lbrx_tokenizer_is_end(&t, 151645) && t.eos == 151645);
    piece = lbrx_tokenizer_decode(&t, 151644, 151645, &len);
    LT_CHECK(len == 0);
    piece = lbrx_tokenizer_piece(&t, 151645, &len);
    LT_CHECK(len == 10 && !memcmp(piece, "<|im_end|>", 10));
    free(ids);
    LT_CHECK(lbrx_tokenizer_encode(&t, text, sizeof text - 1, 0, &ids, &n, &e) == LBRX_OK);
    LT_CHECK(n > 5 && ids[0] != 151644);
    free(ids);
    LT_CHECK(lbrx_tokenizer_encode(&t, text, sizeof text - 1, LBRX_ENCODE_BOS, &ids, &n, &e) == LBRX_ERR_BAD_VALUE && ids == NULL);
    free(ids);
    lbrx_tokenizer_release(&t);
    LT_CHECK(t.kind == LBRX_TOKENIZER_NONE);
    lbrx_tokenizer_release(&t);
    if ((p = lt_shared_path("tokenizers/llama3/tokenizer.json")) != NULL) {
        LT_CHECKF(lbrx_tokenizer_init_file(&t, p, &e) == LBRX_OK, "%s", e.message);
        LT_CHECK(t.bos == 128000 && t.eos == 128001 && t.eot == 128009);
        LT_CHECK(lbrx_tokenizer_encode(&t, "Hi", 2, LBRX_ENCODE_BOS, &ids, &n, &e) == LBRX_OK);
        LT_CHECK(n == 2 && ids[0] == 128000 && ids[1] == 13347);
        free(ids);
        lbrx_tokenizer_release(&t);
    }
}

/* llama2.c's tok.bin: the same SentencePiece code; stories260K's vocabulary. */
static void test_llama2c(void) {
    const char *p = lt_shared_path("llama2.c64/tok512.bin");
    lbrx_tokenizer t;
    lbrx_error e;
    int32_t *ids = NULL;
    size_t n = 0, i, len, pos = 0;
    char out[64];
    if (!p) LT_SKIP("../shared/data/llama2.c64 is absent");
    LT_CHECKF(lbrx_tokenizer_init_llama2c(&t, p, 512, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(t.bos == 1 && t.eos == 2 && t.kind == LBRX_TOKENIZER_SPM);
    LT_CHECK(lbrx_tokenizer_encode(&t, "Once upon a time", 16, LBRX_ENCODE_BOS, &ids, &n, &e) == LBRX_OK);
    LT_CHECK(n >= 2 && ids[0] == 1);
    for (i = 1; i < n; i++) {
        const char *s = lbrx_tokenizer_decode(&t, ids[i - 1], ids[i], &len);
        if (pos + len < sizeof out) { memcpy(out + pos, s, len); pos += len; }
    }
    LT_CHECK(pos == 16 && !memcmp(out, "Once upon a time", 16));
    free(ids);
    lbrx_tokenizer_release(&t);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, p, 513, &e) == LBRX_ERR_TRUNCATED && t.kind == LBRX_TOKENIZER_NONE);
}

/* A load's result is the one wanted; a refused load leaves the tokenizer empty and says why. */
static void check_load(lbrx_result r, lbrx_result want, const lbrx_tokenizer *t, const lbrx_error *e, const char *what) {
    LT_CHECKF(r == want, "%s: result %d (%s), want %d", what, (int)r, e->message, (int)want);
    if (r != LBRX_OK) LT_CHECKF(t->kind == LBRX_TOKENIZER_NONE && t->text == NULL && e->message[0], "%s", what);
    if (getenv("LT_VERBOSE") && r != LBRX_OK) fprintf(stderr, "  %s: %s\n", what, e->message);
}

/* A GGUF tokenizer written by lbrx's writer: a small byte-level vocabulary, then each key made
   hostile in turn. */
typedef struct gguf_case { const char *what, *model, *pre, *merge; int n_tokens, type_of_last, bos, scores_off_by_one; lbrx_result want; } gguf_case;

static lbrx_result load_case(const gguf_case *c, lbrx_tokenizer *t, lbrx_error *e) {
    lbrx_gguf_str toks[262], merges[2];
    static char names[256][4];
    int32_t types[262];
    float scores[263];
    lbrx_gguf_writer *w = NULL;
    lbrx_gguf *g = NULL;
    const char *path = lt_tmp_path("tok_case.gguf");
    int i, n = c->n_tokens;
    lbrx_result r;
    for (i = 0; i < 256; i++) {
        size_t k = lbrx__tok_put_utf8(lbrx__tok_b2u((unsigned)i), names[i]);
        toks[i].data = names[i]; toks[i].len = k; types[i] = 1;
    }
    toks[256].data = "\xc4\xa0t"; toks[256].len = 3; types[256] = 1;
    toks[257].data = "he"; toks[257].len = 2; types[257] = 1;
    toks[258].data = "<|end|>"; toks[258].len = 7; types[258] = 3;
    toks[259].data = "<u>"; toks[259].len = 3; types[259] = 4;
    for (i = 260; i < 262; i++) { toks[i].data = "x"; toks[i].len = 1; types[i] = 1; }
    if (n > 0) types[n - 1] = c->type_of_last;
    for (i = 0; i < 263; i++) scores[i] = 0.0f;
    merges[0].data = "\xc4\xa0 t"; merges[0].len = 4;
    merges[1].data = c->merge; merges[1].len = strlen(c->merge);
    r = lbrx_gguf_writer_create(&w, NULL, e);
    if (r == LBRX_OK && c->model) r = lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", c->model, e);
    if (r == LBRX_OK && c->pre) r = lbrx_gguf_writer_add_str(w, "tokenizer.ggml.pre", c->pre, e);
    if (r == LBRX_OK) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, toks, (uint64_t)n, e);
    if (r == LBRX_OK) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, types, (uint64_t)n, e);
    if (r == LBRX_OK) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, scores, (uint64_t)(n + c->scores_off_by_one), e);
    if (r == LBRX_OK) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.merges", LBRX_GGUF_STRING, merges, 2, e);
    if (r == LBRX_OK) r = lbrx_gguf_writer_add(w, "tokenizer.ggml.bos_token_id", LBRX_GGUF_INT32, &c->bos, e);
    if (r == LBRX_OK) r = lbrx_gguf_writer_write_path(w, path, e);
    lbrx_gguf_writer_destroy(w);
    LT_CHECKF(r == LBRX_OK, "%s: writing: %s", c->what, e->message);
    if (r != LBRX_OK) return r;
    LT_CHECKF(lbrx_gguf_open(&g, path, NULL, e) == LBRX_OK, "%s", e->message);
    if (!g) return LBRX_ERR_IO;
    r = lbrx_tokenizer_init_gguf(t, g, e);
    lbrx_gguf_destroy(g);
    lt_remove(path);
    return r;
}

static void test_hostile_gguf(void) {
    static const gguf_case cases[] = {
        { "valid", "gpt2", "llama-bpe", "h e", 262, 1, 258, 0, LBRX_OK },
        { "merge naming an unknown token", "gpt2", "gpt-2", "h zz", 262, 1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "merge whose join is unknown", "gpt2", "gpt-2", "x t", 262, 1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "merge without a space", "gpt2", "gpt-2", "he", 262, 1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "empty merge", "gpt2", "gpt-2", "", 262, 1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "pre-tokenizer nobody knows", "gpt2", "nobody", "h e", 262, 1, 258, 0, LBRX_ERR_UNSUPPORTED },
        { "empty vocabulary", "gpt2", "gpt-2", "h e", 0, 1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "bos out of range", "gpt2", "gpt-2", "h e", 262, 1, 262, 0, LBRX_ERR_BAD_VALUE },
        { "bos negative", "gpt2", "gpt-2", "h e", 262, 1, -7, 0, LBRX_ERR_BAD_VALUE },
        { "token type 9", "gpt2", "gpt-2", "h e", 262, 9, 258, 0, LBRX_ERR_BAD_VALUE },
        { "token type -1", "gpt2", "gpt-2", "h e", 262, -1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "scores count", "llama", NULL, "h e", 262, 1, 258, 1, LBRX_ERR_SIZE_MISMATCH },
        { "bert without an unknown token", "bert", NULL, "h e", 262, 1, 258, 0, LBRX_ERR_BAD_VALUE },
        { "bert", "bert", NULL, "h e", 262, LBRX_TOKEN_UNKNOWN, 258, 0, LBRX_OK },
        { "model t5", "t5", NULL, "h e", 262, 1, 258, 0, LBRX_ERR_UNSUPPORTED },
        { "no model", NULL, NULL, "h e", 262, 1, 258, 0, LBRX_ERR_NOT_FOUND },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lbrx_tokenizer t;
        lbrx_error e;
        lbrx_result r;
        memset(&e, 0, sizeof e);
        r = load_case(&cases[i], &t, &e);
        check_load(r, cases[i].want, &t, &e, cases[i].what);
        if (r == LBRX_OK && t.kind == LBRX_TOKENIZER_BPE) { /* the valid one works: " the" = "Ġt" + "he" */
            int32_t *ids = NULL;
            size_t n = 0;
            LT_CHECK(lbrx_tokenizer_encode(&t, " the<|end|><u>", 14, LBRX_ENCODE_SPECIAL, &ids, &n, &e) == LBRX_OK);
            LT_CHECKF(n == 4 && ids[0] == 256 && ids[1] == 257 && ids[2] == 258 && ids[3] == 259, "%zu ids", n);
            free(ids);
            LT_CHECK(lbrx_tokenizer_encode(&t, " the<|end|><u>", 14, 0, &ids, &n, &e) == LBRX_OK);
            LT_CHECKF(n == 10 && ids[9] == 259, "%zu ids", n); /* " the" < | e n d | > <u>: the user-defined token always */
            free(ids);
        }
        lbrx_tokenizer_release(&t);
    }
}

/* WordPiece on a small vocabulary written here, ids worked out by hand from the rules
   (llama.cpp's BERT tokenizer): NFD's first code point, lowercase, marks dropped ("Cafe" + U+0301
   is "cafe" as "Café" is), words split at spaces,
   punctuation, ASCII symbols and CJK; longest entry first; a word with an unmatched part is
   [UNK]; controls, NUL and invalid bytes dropped. */
static lbrx_result load_wpm(lbrx_tokenizer *t, int lower, int strip, lbrx_error *e) { /* -1: key absent */
    static const char *const toks[] = {
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xe2\x96\x81hello", "\xe2\x96\x81world", "\xe2\x96\x81un", "aff", "able",
        "\xe2\x96\x81,", "\xe2\x96\x81!", "\xe2\x96\x81" "cafe", "\xe2\x96\x81\xe6\x97\xa5", "\xe2\x96\x81\xe6\x9c\xac", "\xe2\x96\x81" "a", "b",
        "\xe2\x96\x81" "ab", "\xe2\x96\x81x", "\xe2\x96\x81$", "\xe2\x82\xac", "\xe2\x96\x81\xe2\x82\xac", "\xe2\x96\x81" "5",
        "\xe2\x96\x81" "Caf\xc3\xa9" };
    enum { N = sizeof toks / sizeof toks[0] };
    lbrx_gguf_str s[N];
    int32_t types[N];
    uint32_t unk = 1, cls = 2, sep = 3;
    unsigned char flag[2];
    lbrx_gguf_writer *w = NULL;
    lbrx_gguf *g = NULL;
    const char *path = lt_tmp_path("tok_wpm.gguf");
    lbrx_result r;
    size_t i;
    flag[0] = (unsigned char)(lower > 0);
    flag[1] = (unsigned char)(strip > 0);
    for (i = 0; i < N; i++) { s[i].data = toks[i]; s[i].len = strlen(toks[i]); types[i] = i < 4 ? LBRX_TOKEN_CONTROL : LBRX_TOKEN_NORMAL; }
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, e) == LBRX_OK &&
             lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", "bert", e) == LBRX_OK &&
             lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, s, N, e) == LBRX_OK &&
             lbrx_gguf_writer_add_array(w, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, types, N, e) == LBRX_OK &&
             lbrx_gguf_writer_add(w, "tokenizer.ggml.unknown_token_id", LBRX_GGUF_UINT32, &unk, e) == LBRX_OK &&
             lbrx_gguf_writer_add(w, "tokenizer.ggml.cls_token_id", LBRX_GGUF_UINT32, &cls, e) == LBRX_OK &&
             lbrx_gguf_writer_add(w, "tokenizer.ggml.seperator_token_id", LBRX_GGUF_UINT32, &sep, e) == LBRX_OK &&
             (lower < 0 || lbrx_gguf_writer_add(w, "tokenizer.ggml.normalizer.lowercase", LBRX_GGUF_BOOL, &flag[0], e) == LBRX_OK) &&
             (strip < 0 || lbrx_gguf_writer_add(w, "tokenizer.ggml.normalizer.strip_accents", LBRX_GGUF_BOOL, &flag[1], e) == LBRX_OK) &&
             lbrx_gguf_writer_write_path(w, path, e) == LBRX_OK);
    lbrx_gguf_writer_destroy(w);
    LT_CHECKF(lbrx_gguf_open(&g, path, NULL, e) == LBRX_OK, "%s", e->message);
    r = lbrx_tokenizer_init_gguf(t, g, e);
    lbrx_gguf_destroy(g);
    lt_remove(path);
    return r;
}

static void test_wordpiece(void) {
    static const char text[] = "Hello, WORLD!\tCaf\xc3\xa9 Cafe\xcc\x81 unaffable \xe6\x97\xa5\xe6\x9c\xac xyz a\xe2\x80\x8b" "b abb $5 "
                               "\xff\xfeHELLO \xe2\x82\xac" "5 \xe2\x82\xac hel\0lo x\xe2\x96\x81" "a\xf0\x9f";
    static const int32_t want[] = { 4, 9, 5, 10, 11, 11, 6, 7, 8, 12, 13, 1, 16, 16, 15, 18, 21, 4, 1, 20, 4, 17, 14 };
    lbrx_tokenizer t;
    lbrx_error e;
    const char *p;
    int32_t *ids = NULL;
    size_t n = 0, i, len;
    LT_CHECKF(load_wpm(&t, -1, -1, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(t.kind == LBRX_TOKENIZER_WPM && t.bos == 2 && t.eos == 3 && t.unk == 1);
    LT_CHECK(lbrx_tokenizer_encode(&t, text, sizeof text - 1, 0, &ids, &n, &e) == LBRX_OK);
    LT_CHECKF(n == sizeof want / sizeof want[0], "%zu ids", n);
    for (i = 0; i < n && i < sizeof want / sizeof want[0]; i++) LT_CHECKF(ids[i] == want[i], "id %zu: %d, want %d", i, (int)ids[i], (int)want[i]);
    free(ids);
    /* [CLS] first; pieces give the words with a space in front, none after [CLS] */
    LT_CHECK(lbrx_tokenizer_encode(&t, "unaffable", 9, LBRX_ENCODE_BOS, &ids, &n, &e) == LBRX_OK);
    LT_CHECK(n == 4 && ids[0] == 2 && ids[1] == 6 && ids[2] == 7 && ids[3] == 8);
    p = lbrx_tokenizer_decode(&t, ids[0], ids[1], &len);
    LT_CHECK(len == 2 && !memcmp(p, "un", 2));
    p = lbrx_tokenizer_piece(&t, ids[1], &len);
    LT_CHECK(len == 3 && !memcmp(p, " un", 3));
    p = lbrx_tokenizer_decode(&t, ids[1], ids[2], &len);
    LT_CHECK(len == 3 && !memcmp(p, "aff", 3));
    free(ids);
    LT_CHECK(lbrx_tokenizer_encode(&t, "", 0, 0, &ids, &n, &e) == LBRX_OK && n == 0);
    free(ids);
    lbrx_tokenizer_release(&t);
    /* a cased vocabulary (normalizer.lowercase false; strip_accents follows it): "Café" is a
       token of its own, "café" and "Hello" are not */
    LT_CHECKF(load_wpm(&t, 0, -1, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(lbrx_tokenizer_encode(&t, "Caf\xc3\xa9 caf\xc3\xa9 Hello hello", 23, 0, &ids, &n, &e) == LBRX_OK);
    LT_CHECKF(n == 4 && ids[0] == 22 && ids[1] == 1 && ids[2] == 1 && ids[3] == 4, "%zu ids: %d %d %d %d", n, (int)ids[0], (int)ids[1], (int)ids[2], (int)ids[3]);
    free(ids);
    lbrx_tokenizer_release(&t);
    /* lowercase, accents kept: "Café" -> "café", not a token */
    LT_CHECKF(load_wpm(&t, 1, 0, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(lbrx_tokenizer_encode(&t, "Caf\xc3\xa9 HELLO", 11, 0, &ids, &n, &e) == LBRX_OK);
    LT_CHECKF(n == 2 && ids[0] == 1 && ids[1] == 4, "%zu ids", n);
    free(ids);
    lbrx_tokenizer_release(&t);
    memset(&e, 0, sizeof e);
    check_load(load_wpm(&t, 0, 1, &e), LBRX_ERR_UNSUPPORTED, &t, &e, "strip_accents without lowercase");
}

/* Metaspace: Hugging Face's pre-tokenizer puts no '▁' in front of a text that starts with a
   space (or '▁'); SentencePiece's normalizer Prepend + Replace always does. */
static void test_metaspace(void) {
    static const char model[] = "\"model\":{\"type\":\"BPE\",\"vocab\":{\"\xe2\x96\x81\":0,\"a\":1,\"\xe2\x96\x81" "a\":2},\"merges\":[\"\xe2\x96\x81 a\"]}";
    static const struct { const char *text; int n, id0, id1; } pre_cases[] = {
        { "a", 1, 2, -1 }, { " a", 1, 2, -1 }, { "\xe2\x96\x81" "a", 1, 2, -1 }, { "a a", 2, 2, 2 }, { "  a", 2, 0, 2 } };
    char json[512];
    lbrx_tokenizer t;
    lbrx_error e;
    int32_t *ids = NULL;
    size_t n = 0, i;
    snprintf(json, sizeof json, "{%s,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"always\",\"split\":true}}", model);
    LT_CHECKF(lbrx_tokenizer_init_json_memory(&t, json, strlen(json), NULL, 0, &e) == LBRX_OK, "%s", e.message);
    for (i = 0; t.kind && i < sizeof pre_cases / sizeof pre_cases[0]; i++) {
        LT_CHECK(lbrx_tokenizer_encode(&t, pre_cases[i].text, strlen(pre_cases[i].text), 0, &ids, &n, &e) == LBRX_OK);
        LT_CHECKF(n == (size_t)pre_cases[i].n && ids[0] == pre_cases[i].id0 && (n < 2 || ids[1] == pre_cases[i].id1), "\"%s\": %zu ids", pre_cases[i].text, n);
        free(ids);
    }
    lbrx_tokenizer_release(&t);
    snprintf(json, sizeof json, "{%s,\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\xe2\x96\x81\"},"
             "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\xe2\x96\x81\"}]},\"pre_tokenizer\":null}", model);
    LT_CHECKF(lbrx_tokenizer_init_json_memory(&t, json, strlen(json), NULL, 0, &e) == LBRX_OK, "%s", e.message);
    LT_CHECK(t.kind && lbrx_tokenizer_encode(&t, " a", 2, 0, &ids, &n, &e) == LBRX_OK);
    LT_CHECKF(n == 2 && ids[0] == 0 && ids[1] == 2, "%zu ids", n); /* "▁▁a" */
    free(ids);
    lbrx_tokenizer_release(&t);
}

static void test_hostile_json(void) {
    static const struct { const char *what, *json; lbrx_result want; } cases[] = {
        { "valid", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_OK },
        { "not JSON", "{\"model\":", LBRX_ERR_BAD_HEADER },
        { "no model", "{}", LBRX_ERR_BAD_VALUE },
        { "WordPiece", "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", LBRX_ERR_UNSUPPORTED },
        { "empty vocabulary", "{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "negative id", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "huge id", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":99999999999},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "id not a number", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "duplicate id", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_DUPLICATE },
        { "added id out of range", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":-3,\"content\":\"x\"}],\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "merge of unknown tokens", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a c\"]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "merge with two spaces", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b c\"]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "merge of three", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[[\"a\",\"b\",\"a\"]]},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "merges not an array", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":{}},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}", LBRX_ERR_BAD_VALUE },
        { "unknown Split regex", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a+\"},\"behavior\":\"Isolated\"}}", LBRX_ERR_UNSUPPORTED },
        { "no pre-tokenizer", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}", LBRX_ERR_UNSUPPORTED },
        { "Whitespace pre-tokenizer", "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}", LBRX_ERR_UNSUPPORTED },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lbrx_tokenizer t;
        lbrx_error e;
        memset(&e, 0, sizeof e);
        check_load(lbrx_tokenizer_init_json_memory(&t, cases[i].json, strlen(cases[i].json), NULL, 0, &e), cases[i].want, &t, &e, cases[i].what);
        lbrx_tokenizer_release(&t);
    }
}

/* The oracle's ids for our own texts (tests/fixtures/tokenizer_oracle.json): every text, both
   tokenizers; then U+0085, which the oracle's JavaScript regexes do not count as \s. */
static void test_oracle(void) {
    static const char *const names[2] = { "llama3", "qwen3" };
    size_t len = 0, i, k, checked = 0;
    char *doc_text = read_all("tests/fixtures/tokenizer_oracle.json", &len);
    lbrx_json *doc = NULL;
    const lbrx_json_value *cases;
    int w;
    LT_CHECKF(doc_text != NULL, "tests/fixtures/tokenizer_oracle.json is missing");
    if (!doc_text) return;
    LT_CHECK(lbrx_json_parse(&doc, doc_text, len, NULL, NULL) == LBRX_OK);
    cases = lbrx_json_get(lbrx_json_root(doc), "cases");
    LT_CHECK(lbrx_json_count(cases) >= 400);
    for (w = 0; w < 2; w++) {
        char rel[64];
        const char *p;
        lbrx_tokenizer t;
        lbrx_error e;
        snprintf(rel, sizeof rel, "tokenizers/%s/tokenizer.json", names[w]);
        if (!(p = lt_shared_path(rel))) continue;
        LT_CHECKF(lbrx_tokenizer_init_file(&t, p, &e) == LBRX_OK, "%s", e.message);
        for (i = 0; t.kind && i < lbrx_json_count(cases); i++) {
            const lbrx_json_value *c = lbrx_json_at(cases, i), *want = lbrx_json_get(c, names[w]);
            size_t tl = 0, n = 0;
            const char *text = lbrx_json_string(lbrx_json_get(c, "text"), &tl);
            int32_t *ids = NULL;
            int ok;
            LT_CHECK(text != NULL && lbrx_tokenizer_encode(&t, text, tl, LBRX_ENCODE_SPECIAL, &ids, &n, &e) == LBRX_OK);
            ok = n == lbrx_json_count(want);
            for (k = 0; ok && k < n; k++) {
                int64_t v;
                ok = lbrx_json_i64(lbrx_json_at(want, k), &v) == LBRX_OK && v == ids[k];
            }
            LT_CHECKF(ok, "%s: oracle case %zu (%zu bytes): %zu ids, the oracle gave %zu", names[w], i, tl, n, lbrx_json_count(want));
            checked++;
            free(ids);
        }
        lbrx_tokenizer_release(&t);
    }
    if (getenv("LT_VERBOSE")) fprintf(stderr, "  %zu oracle encodings compared\n", checked);
    if (checked) { /* Oniguruma's \s (Rust tokenizers' regexes) has U+0085 (its documentation, RE
                      "3. Character types"): "x \u0085y" is "x", " ", "\u0085y" under Llama 3's regex */
        lbrx_tokenizer t;
        lbrx_error e;
        int32_t *ids = NULL;
        size_t n = 0, pos = 0, l;
        char back[16];
        LT_CHECK(lbrx_tokenizer_init_file(&t, lt_shared_path("tokenizers/llama3/tokenizer.json"), &e) == LBRX_OK);
        LT_CHECK(lbrx_tokenizer_encode(&t, "x \xc2\x85y", 5, 0, &ids, &n, &e) == LBRX_OK);
        LT_CHECKF(n >= 3 && ids[0] == 87 && ids[1] == 220, "%zu ids", n); /* "x", "Ġ" */
        for (k = 2; k < n; k++) {
            const char *p = lbrx_tokenizer_piece(&t, ids[k], &l);
            if (pos + l <= sizeof back) memcpy(back + pos, p, l);
            pos += l;
        }
        LT_CHECK(pos == 3 && !memcmp(back, "\xc2\x85y", 3));
        free(ids);
        lbrx_tokenizer_release(&t);
    }
    lbrx_json_destroy(doc);
    free(doc_text);
    if (!checked) LT_SKIP("../shared/data/tokenizers is absent");
}

int main(void) {
    LT_RUN(test_llama_cpp_vocabs);
    LT_RUN(test_tokenizer_json);
    LT_RUN(test_oracle);
    LT_RUN(test_round_trip);
    LT_RUN(test_fuzz_harness);
    LT_RUN(test_special_tokens);
    LT_RUN(test_llama2c);
    LT_RUN(test_hostile_gguf);
    LT_RUN(test_wordpiece);
    LT_RUN(test_metaspace);
    LT_RUN(test_hostile_json);
    return lt_finish();
}
