/* tests/test_tokenizer.c - examples/lbrx_tokenizer.h against independent references:
   - llama.cpp's tokenizer test (test-tokenizer-0): every GGUF vocabulary of
     ../shared/data/llama.cpp/v3 that has .inp/.out files must give exactly the .out ids (made
     upstream by the Hugging Face tokenizers with add_special_tokens=False);
   - the Llama 3 and Qwen 3 tokenizer.json files reproduce llama.cpp's expected outputs of
     ../shared/data/tokenizers/llama.cpp-tests (llama-bpe, qwen2, deepseek-r1-qwen);
   - Python tokenizers' ids for texts of our own (random Unicode, code, numbers, whitespace,
     CJK, emoji): tests/fixtures/tokenizer_oracle (made by tests/fixtures/make_tokenizer_oracle.py
     on the device machine);
   - byte-level round trip: the pieces of encode(text) concatenate to text, for every text
     above and for random bytes (invalid UTF-8 included);
   - hostile tokenizer data (SPECS H20 and its BPE counterparts) is an error, never a crash. */
#define LBRX_IMPL
#include "examples/lbrx_tokenizer.h"
#include "tests/lbrx_test.h"

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
                                         "deepseek-llm", "deepseek-coder" };
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
        LT_CHECKF(lbrx_tokenizer_load_gguf(&t, g, &e) == LBRX_OK, "%s: %s", names[i], e.message);
        if (t.kind) {
            int n = check_inp_out(&t, inp, out, names[i], t.kind == LBRX_TOKENIZER_BPE);
            LT_CHECKF(n >= 40, "%s: only %d texts", names[i], n);
            if (getenv("LT_VERBOSE")) fprintf(stderr, "  %s: %d texts, %s\n", names[i], n, lbrx_tokenizer_describe(&t));
            done++;
        }
        lbrx_tokenizer_free(&t);
        lbrx_gguf_close(g);
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
        LT_CHECKF(lbrx_tokenizer_load_file(&t, json, &e) == LBRX_OK, "%s: %s", json, e.message);
        if (t.kind) {
            int n = check_inp_out(&t, inp, out, cases[i].test, 1);
            LT_CHECKF(n >= 40, "%s: only %d texts", cases[i].test, n);
            if (getenv("LT_VERBOSE")) fprintf(stderr, "  %s: %d texts, %s\n", cases[i].test, n, lbrx_tokenizer_describe(&t));
            done++;
        }
        lbrx_tokenizer_free(&t);
    }
    if (!done) LT_SKIP("../shared/data/tokenizers is absent");
}

int main(void) {
    LT_RUN(test_llama_cpp_vocabs);
    LT_RUN(test_tokenizer_json);
    return lt_finish();
}
