/* tests/test_llama.c - examples/llama.c end to end: the tokenizer against the HF tokenizer's
   ids, stories260K against the text llama2.c's run.c publishes, a transformers model against
   its logits (tests/fixtures/llama_oracle, made by tests/fixtures/make_llama_oracle.py), and
   models and tokenizers that do not fit together (shape and vocabulary mismatches are
   errors). The example is included with
   LLAMA_NO_MAIN and driven through llama_main, its command line. */
#define LLAMA_NO_MAIN
#include "examples/llama.c"
#define LBRX_EXAMPLE_NO_IMPL
#define LBRX_EXAMPLE_NO_MAIN
#include "examples/convert.c"
#include "tests/lbrx_test.h"

#define STORIES_BIN "llama2.c64/stories260K.bin"
#define STORIES_TOK "llama2.c64/tok512.bin"
#define STORIES_F32 "derived-llama.cpp-c392e50/stories260K-f32.gguf"
#define STORIES_Q8 "derived-llama.cpp-c392e50/stories260K-q8_0-f32rest.gguf"
#define STORIES_Q4 "derived-llama.cpp-c392e50/stories260K-q4_0-f32rest.gguf"
#define ORACLE_DIR "tests/fixtures/llama_oracle"

/* What llama2.c's run.c prints for stories260K (doc/stories260K.md in karpathy/llama2.c):
   `run stories260K.bin -z tok512.bin -t 0.0` and `... -t 1.0 -p 0.9 -s 133742`. */
static const char *published_greedy =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. "
    "She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want to play with your "
    "ball, but I can't find it.\"\n"
    "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n"
    "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" Her mom said, \"Don't worry, Lily. "
    "We can help you.\n";
static const char *published_seeded =
    "Once upon a time, there was a little boy named Timmy. Timmy loved to play with his toys and eat sandwiches. One day, Timmy's "
    "mom told him it was time to rest for a while. Timmy's friend Billy came over and took him a down.\n"
    "Timmy's mom saw that Timmy was sad, but Timmy said, \"I didn't understand what is it! We need to find some leafs.\" Timmy "
    "thought about it and took a deep breath on a spoon. He hoped it was important to be kind and continued to find its image next time.\n"
    "After they finished getting, Timmy's dad came up to his house and promised to help Timmy.\n";


/* The whole contents of a stream (rewound), NUL-terminated, malloc'ed. */
static char *slurp(FILE *f) {
    long n;
    char *s;
    fflush(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    s = (char *)malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!s) return 0;
    s[fread(s, 1, (size_t)(n > 0 ? n : 0), f)] = 0;
    return s;
}

/* Run the example's command line: `llama` + args (NULL-terminated); returns its exit status and
   (if wanted) what it printed on stdout and stderr. */
static int run_llama(char **out_text, char **log_text, const char *a0, ...) {
    char *argv[32];
    int argc = 0, rc;
    va_list ap;
    const char *a;
    FILE *out = fopen(lt_tmp_path("llama_stdout.txt"), "w+b"), *log = fopen(lt_tmp_path("llama_stderr.txt"), "w+b");
    argv[argc++] = (char *)"llama";
    va_start(ap, a0);
    for (a = a0; a && argc < 31; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = 0;
    if (!out || !log) { if (out) fclose(out); if (log) fclose(log); return -1; }
    rc = llama_main(argc, argv, out, log);
    if (out_text) *out_text = slurp(out);
    if (log_text) *log_text = slurp(log);
    fclose(out);
    fclose(log);
    remove(lt_tmp_path("llama_stdout.txt"));
    remove(lt_tmp_path("llama_stderr.txt"));
    return rc;
}

/* Read a whole binary file of float32 values; *n gets the count. */
static float *read_floats(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    long b;
    float *p;
    *n = 0;
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    b = ftell(f);
    rewind(f);
    p = (float *)malloc((size_t)b + 4);
    if (p) *n = fread(p, 4, (size_t)b / 4, f);
    fclose(f);
    return p;
}

/* ---- tokenizer (examples/lbrx_tokenizer.h as llama.c uses it; tests/test_tokenizer.c has
   llama.cpp's vocabulary tests) ---- */

/* Encode with BOS into a malloc'ed array (NULL on error). */
static int32_t *encode_bos(const lbrx_tokenizer *t, const char *text, size_t *n) {
    int32_t *ids = 0;
    *n = 0;
    if (lbrx_tokenizer_encode(t, text, strlen(text), LBRX_ENCODE_BOS, &ids, n, 0) != LBRX_OK) return 0;
    return ids;
}

/* tok512.bin (pieces with spaces) and the same vocabulary in the stories260K GGUF (pieces with
   U+2581) give the same ids, and the pieces print back the text. */
static void test_tokenizer_tok512(void) {
    LT_SHARED_OR_SKIP(tokbin_shared, STORIES_TOK);
    static const char *texts[] = { "Once upon a time", "Lily's mom said, \"Don't worry!\"", "caf\xc3\xa9 \xe2\x82\xac 42\t\n", "", "  two  spaces" };
    lbrx_tokenizer a, b;
    lbrx_gguf *g = 0;
    lbrx_error err;
    const char *gg;
    char gpath[4200], tokbin[4200];
    size_t i;
    snprintf(tokbin, sizeof tokbin, "%s", tokbin_shared);
    gg = lt_shared_path(STORIES_F32);
    LT_CHECKF(lbrx_tokenizer_init_llama2c(&a, tokbin, 512, &err) == LBRX_OK, "%s", err.message);
    if (!gg) { lbrx_tokenizer_release(&a); LT_SKIP("shared test data absent: " STORIES_F32); }
    snprintf(gpath, sizeof gpath, "%s", gg);
    LT_CHECK(lbrx_gguf_open(&g, gpath, 0, &err) == LBRX_OK);
    if (!g) { lbrx_tokenizer_release(&a); return; }
    LT_CHECKF(lbrx_tokenizer_init_gguf(&b, g, &err) == LBRX_OK, "%s", err.message);
    lbrx_gguf_destroy(g);
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t na = 0, nb = 0, k, tl = 0;
        int32_t *ia = encode_bos(&a, texts[i], &na), *ib = encode_bos(&b, texts[i], &nb);
        int same = ia && ib && na == nb;
        char text[256];
        for (k = 0; same && k < na; k++) same = ia[k] == ib[k];
        LT_CHECKF(same, "\"%s\": %zu vs %zu ids", texts[i], na, nb);
        LT_CHECK(ia && na >= 1 && ia[0] == 1);
        /* decoding prints the text back (the space the encoder put in front is dropped after BOS) */
        for (k = 1; ia && k < na; k++) {
            size_t len;
            const char *p = lbrx_tokenizer_decode(&a, ia[k - 1], ia[k], &len);
            if (tl + len < sizeof text) { memcpy(text + tl, p, len); tl += len; }
        }
        text[tl] = 0;
        LT_CHECKF(!strcmp(text, texts[i]), "\"%s\" decodes to \"%s\"", texts[i], text);
        free(ia);
        free(ib);
    }
    {   /* "Once upon a time" merges to whole-word pieces */
        size_t n = 0;
        int32_t *ids = encode_bos(&a, "Once upon a time", &n);
        LT_CHECKF(n == 5, "%zu ids", n);
        free(ids);
    }
    lbrx_tokenizer_release(&a);
    lbrx_tokenizer_release(&b);
}

/* Write bytes to a scratch file. */
static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(data, 1, n, f); fclose(f); }
}

/* H20: tok.bin files whose lengths lie are refused, and the command line says "error:". */
static void test_tokenizer_hostile_bin(void) {
    unsigned char buf[256];
    char path[4200];
    lbrx_tokenizer t;
    lbrx_error err;
    int32_t v;
    float sc = 0.0f;
    size_t n = 0;
    int i;
    snprintf(path, sizeof path, "%s", lt_tmp_path("llama_tok.bin"));
    /* a good 3-token tokenizer: max 2, "a" "b" "ab" */
#define PUT(x) do { memcpy(buf + n, &(x), 4); n += 4; } while (0)
    v = 2; PUT(v);
    for (i = 0; i < 3; i++) {
        v = i < 2 ? 1 : 2;
        PUT(sc); PUT(v);
        memcpy(buf + n, i == 0 ? "a" : i == 1 ? "b" : "ab", (size_t)v);
        n += (size_t)v;
    }
    write_file(path, buf, n);
    LT_CHECKF(lbrx_tokenizer_init_llama2c(&t, path, 3, &err) == LBRX_OK, "%s", err.message);
    lbrx_tokenizer_release(&t);
    /* one token more than the file holds; trailing bytes */
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 4, &err) != LBRX_OK && err.message[0]);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 2, &err) != LBRX_OK && err.message[0]);
    /* a length above the declared maximum, a negative one, one past the end */
    v = 3; memcpy(buf + 4 + 8 + 1 + 4, &v, 4); write_file(path, buf, n);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 3, &err) != LBRX_OK);
    v = -1; memcpy(buf + 4 + 8 + 1 + 4, &v, 4); write_file(path, buf, n);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 3, &err) != LBRX_OK);
    v = 2; memcpy(buf + 4 + 8 + 1 + 4, &v, 4); write_file(path, buf, n - 2);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 3, &err) != LBRX_OK);
    /* max_token_length beyond the limit; a NaN score */
    v = LBRX_TOKENIZER_MAX_PIECE + 1; memcpy(buf, &v, 4); write_file(path, buf, n);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 3, &err) != LBRX_OK);
    v = 2; memcpy(buf, &v, 4); v = 1; memcpy(buf + 4 + 8 + 1 + 4, &v, 4);
    sc = (float)NAN; memcpy(buf + 4, &sc, 4); write_file(path, buf, n);
    LT_CHECK(lbrx_tokenizer_init_llama2c(&t, path, 3, &err) != LBRX_OK);
    {   /* through the command line: one error line naming the file */
        char *log = 0;
        const char *bin = lt_shared_path(STORIES_BIN);
        if (bin) {
            char bp[4200];
            snprintf(bp, sizeof bp, "%s", bin);
            LT_CHECK(run_llama(0, &log, bp, "-z", path, "-n", "4", (char *)0) == 1);
            LT_CHECKF(log && !strncmp(log, "error: ", 7), "%s", log ? log : "");
            free(log);
        }
    }
#undef PUT
    remove(path);
}

/* ---- stories260K against run.c ---- */

/* -t 0 -n 64 -i "Once upon a time": the llama2.c checkpoint, the F32 GGUF and the Q8_0 GGUF
   print the same text, which is the start of run.c's published greedy text. */
static void test_stories_greedy_64(void) {
    LT_SHARED_OR_SKIP(bin, STORIES_BIN);
    char bin_path[4200], tok_path[4200], f32[4200], q8[4200];
    char *t_bin = 0, *t_f32 = 0, *t_q8 = 0, *t_kv32 = 0, *t_thr = 0, *log = 0;
    const char *p;
    snprintf(bin_path, sizeof bin_path, "%s", bin);
    if (!(p = lt_shared_path(STORIES_TOK))) LT_SKIP("shared test data absent: " STORIES_TOK);
    snprintf(tok_path, sizeof tok_path, "%s", p);
    if (!(p = lt_shared_path(STORIES_F32))) LT_SKIP("shared test data absent: " STORIES_F32);
    snprintf(f32, sizeof f32, "%s", p);
    if (!(p = lt_shared_path(STORIES_Q8))) LT_SKIP("shared test data absent: " STORIES_Q8);
    snprintf(q8, sizeof q8, "%s", p);
    LT_CHECK(run_llama(&t_bin, &log, bin_path, "-z", tok_path, "-t", "0", "-n", "64", "-i", "Once upon a time", "--threads", "1", (char *)0) == 0);
    LT_CHECKF(log && strstr(log, "tokens/s") != 0, "%s", log ? log : "");
    free(log);
    LT_CHECK(run_llama(&t_f32, 0, f32, "-t", "0", "-n", "64", "-i", "Once upon a time", "--threads", "1", (char *)0) == 0);
    LT_CHECK(run_llama(&t_q8, 0, q8, "-t", "0", "-n", "64", "-i", "Once upon a time", "--threads", "1", (char *)0) == 0);
    LT_CHECK(run_llama(&t_kv32, 0, f32, "-t", "0", "-n", "64", "-i", "Once upon a time", "--kv", "f32", "--threads", "1", (char *)0) == 0);
    LT_CHECK(run_llama(&t_thr, 0, bin_path, "-z", tok_path, "-t", "0", "-n", "32", "-i", "Once upon a time", "--threads", "2", (char *)0) == 0);
    if (t_bin && t_f32 && t_q8 && t_kv32 && t_thr) {
        size_t n = strlen(t_bin);
        /* 63 printed tokens, then the newline run.c ends with: a prefix of the published text */
        LT_CHECKF(n > 150 && !strncmp(t_bin, published_greedy, n - 1) && t_bin[n - 1] == '\n', "got \"%s\"", t_bin);
        LT_CHECKF(!strcmp(t_bin, t_f32), "F32 GGUF: \"%s\"", t_f32);
        LT_CHECKF(!strcmp(t_bin, t_q8), "Q8_0 GGUF: \"%s\"", t_q8);
        LT_CHECKF(!strcmp(t_bin, t_kv32), "f32 KV cache: \"%s\"", t_kv32);
        /* 2 threads (fewer positions: on a busy machine tiny parallel regions are slow) */
        LT_CHECKF(strlen(t_thr) > 60 && !strncmp(t_bin, t_thr, strlen(t_thr) - 1), "2 threads: \"%s\"", t_thr);
    }
    free(t_bin); free(t_f32); free(t_q8); free(t_kv32); free(t_thr);
}

/* The published run.c outputs exactly: greedy over 256 positions from an empty prompt, and the
   seeded top-p sample (with an f32 KV cache like run.c's: sampling at temperature 1 follows the
   probabilities closely enough that the f16 cache's rounding changes a draw after ~70 tokens). */
static void test_stories_published(void) {
    LT_SHARED_OR_SKIP(bin, STORIES_BIN);
    char bin_path[4200], tok_path[4200];
    char *g = 0, *s = 0;
    const char *p;
    snprintf(bin_path, sizeof bin_path, "%s", bin);
    if (!(p = lt_shared_path(STORIES_TOK))) LT_SKIP("shared test data absent: " STORIES_TOK);
    snprintf(tok_path, sizeof tok_path, "%s", p);
    LT_CHECK(run_llama(&g, 0, bin_path, "-z", tok_path, "-t", "0.0", "--threads", "1", (char *)0) == 0);
    LT_CHECK(run_llama(&s, 0, bin_path, "-z", tok_path, "-t", "1.0", "-p", "0.9", "-s", "133742", "--kv", "f32", "--threads", "1", (char *)0) == 0);
    LT_CHECKF(g && !strcmp(g, published_greedy), "greedy: \"%s\"", g ? g : "");
    LT_CHECKF(s && !strcmp(s, published_seeded), "seeded: \"%s\"", s ? s : "");
    free(g);
    free(s);
}

/* --logits: the llama2.c checkpoint and the F32 GGUF hold the same floats, so every logit of
   every position agrees exactly. */
static void test_stories_logits(void) {
    LT_SHARED_OR_SKIP(bin, STORIES_BIN);
    char bin_path[4200], tok_path[4200], f32[4200], la[4200], lb[4200];
    const char *p;
    float *a, *b;
    size_t na, nb;
    snprintf(bin_path, sizeof bin_path, "%s", bin);
    if (!(p = lt_shared_path(STORIES_TOK))) LT_SKIP("shared test data absent: " STORIES_TOK);
    snprintf(tok_path, sizeof tok_path, "%s", p);
    if (!(p = lt_shared_path(STORIES_F32))) LT_SKIP("shared test data absent: " STORIES_F32);
    snprintf(f32, sizeof f32, "%s", p);
    snprintf(la, sizeof la, "%s", lt_tmp_path("llama_a.f32"));
    snprintf(lb, sizeof lb, "%s", lt_tmp_path("llama_b.f32"));
    LT_CHECK(run_llama(0, 0, bin_path, "-z", tok_path, "-t", "0", "-n", "48", "-i", "Once upon a time", "--kv", "f32", "--logits", la, "--threads", "1", (char *)0) == 0);
    LT_CHECK(run_llama(0, 0, f32, "-t", "0", "-n", "48", "-i", "Once upon a time", "--kv", "f32", "--logits", lb, "--threads", "1", (char *)0) == 0);
    a = read_floats(la, &na);
    b = read_floats(lb, &nb);
    LT_CHECKF(na == 48 * 512 && nb == na, "%zu and %zu logits", na, nb);
    LT_CHECK(a && b && nb == na && !memcmp(a, b, na * 4));
    free(a);
    free(b);
    remove(la);
    remove(lb);
}

/* Logits of 24 positions (one batch, f32 KV cache) into out[24 * 512]. */
static int stories_logits(lbrx_model *m, float *out) {
    lbrx_model_state s;
    lbrx_error err;
    int32_t ids[24];
    int i, ok;
    for (i = 0; i < 24; i++) ids[i] = (int32_t)((i * 97 + 11) % 512);
    ids[0] = 1;
    if (lbrx_model_state_init(&s, m, 24, 24, LBRX_F32, 1, 1, &err) != LBRX_OK) return 0;
    ok = lbrx_model_forward(m, &s, ids, 24, 1, &err) == LBRX_OK;
    if (ok) memcpy(out, s.logits, sizeof(float) * 24 * 512);
    lbrx_model_state_free(&s, m);
    return ok;
}

/* The Q8_0 and Q4_0 GGUFs through the quantized kernels, against the same weights dequantized to
   F32 and run through the float kernels: the difference is the rounding of the activations to
   Q8 blocks only. Measured (logits reach |17|): 0.22 for Q8_0 and 0.29 for Q4_0; the weights'
   own quantization moves the logits by 0.29 (Q8_0) and 3.8 (Q4_0) from the F32 model's. */
static void test_stories_quantized(void) {
    static const char *files[2] = { STORIES_Q8, STORIES_Q4 };
    static float native[24 * 512], dequant[24 * 512];
    int f, l, i;
    for (f = 0; f < 2; f++) {
        const char *p = lt_shared_path(files[f]);
        lbrx_model m;
        lbrx_error err;
        double worst = 0;
        int quantized = 0;
        if (!p) LT_SKIP("shared test data absent: stories260K Q8_0/Q4_0 GGUF");
        LT_CHECKF(lbrx_model_load(&m, p, &err) == LBRX_OK, "%s", err.message);
        if (!m.layers) return;
        LT_CHECK(stories_logits(&m, native));
        for (l = 0; l < m.c.n_layers; l++) {
            lbrx_tensor *w[7];
            lbrx_tensor *L = m.layers[l].w;
            w[0] = &L[LBRX_W_Q]; w[1] = &L[LBRX_W_K]; w[2] = &L[LBRX_W_V]; w[3] = &L[LBRX_W_O]; w[4] = &L[LBRX_W_GATE]; w[5] = &L[LBRX_W_UP]; w[6] = &L[LBRX_W_DOWN];
            for (i = 0; i < 7; i++) {
                lbrx_tensor c;
                if (w[i]->dtype == LBRX_F32) continue;
                quantized++;
                LT_CHECK(lbrx_tensor_convert(w[i], LBRX_F32, &c, 0, &err) == LBRX_OK);
                lbrx_tensor_release(w[i]);
                *w[i] = c;
            }
        }
        LT_CHECKF(quantized == 30, "%d quantized matrices", quantized); /* all but the 5 ffn_down (rows of 172) */
        LT_CHECK(stories_logits(&m, dequant));
        for (i = 0; i < 24 * 512; i++) {
            double e = fabs((double)native[i] - dequant[i]);
            if (!(e <= worst)) worst = e;
        }
        LT_CHECKF(worst < 0.6, "%s: %g", files[f], worst);
        if (getenv("LT_VERBOSE")) fprintf(stderr, "  %s: quantized kernels vs dequantized weights: %g\n", files[f], worst);
        lbrx_model_free(&m);
    }
}

/* Running a prompt as one batch and running it one position at a time give the same logits
   (up to the summation order of the batched kernels). */
static void test_stories_batch_vs_steps(void) {
    LT_SHARED_OR_SKIP(f32, STORIES_F32);
    lbrx_model m;
    lbrx_model_state s1, s2;
    lbrx_error err;
    int32_t ids[24];
    int i, j;
    double worst = 0;
    LT_CHECKF(lbrx_model_load(&m, f32, &err) == LBRX_OK, "%s", err.message);
    for (i = 0; i < 24; i++) ids[i] = (int32_t)((i * 97 + 11) % 512);
    ids[0] = 1;
    LT_CHECK(lbrx_model_state_init(&s1, &m, 24, 24, LBRX_F32, 1, 1, &err) == LBRX_OK);
    LT_CHECK(lbrx_model_state_init(&s2, &m, 1, 24, LBRX_F32, 1, 1, &err) == LBRX_OK);
    LT_CHECKF(lbrx_model_forward(&m, &s1, ids, 24, 1, &err) == LBRX_OK, "%s", err.message);
    for (i = 0; i < 24; i++) {
        LT_CHECK(lbrx_model_forward(&m, &s2, ids + i, 1, 1, &err) == LBRX_OK);
        for (j = 0; j < 512; j++) {
            double e = fabs((double)s1.logits[i * 512 + j] - s2.logits[j]);
            if (e > worst) worst = e;
        }
    }
    LT_CHECKF(worst < 1e-4, "max difference %g", worst);
    /* past the context: an error, not a write out of bounds */
    LT_CHECK(lbrx_model_forward(&m, &s2, ids, 1, 1, &err) == LBRX_ERR_LIMIT);
    lbrx_model_state_free(&s1, &m);
    lbrx_model_state_free(&s2, &m);
    lbrx_model_free(&m);
}

/* ---- the transformers oracle ---- */

typedef struct oracle { int tokens[64], n_tokens, greedy[64], n_greedy, n_prompt; float *logits; size_t n_logits; } oracle;

static int read_ints(const char *line, const char *key, int *out, int max) {
    int n = 0;
    size_t kl = strlen(key);
    const char *p;
    char *end;
    if (strncmp(line, key, kl) || line[kl] != ' ') return -1;
    for (p = line + kl; n < max; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p) break;
        out[n++] = (int)v;
    }
    return n;
}

static int oracle_load(oracle *o) {
    char line[2048];
    FILE *f = fopen(ORACLE_DIR "/oracle.txt", "r");
    memset(o, 0, sizeof *o);
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        int n, one[1];
        if ((n = read_ints(line, "tokens", o->tokens, 64)) >= 0) o->n_tokens = n;
        else if ((n = read_ints(line, "greedy", o->greedy, 64)) >= 0) o->n_greedy = n;
        else if (read_ints(line, "greedy_prompt", one, 1) == 1) o->n_prompt = one[0];
    }
    fclose(f);
    o->logits = read_floats(ORACLE_DIR "/oracle_logits.f32", &o->n_logits);
    return o->logits && o->n_tokens > 0 && o->n_logits == (size_t)o->n_tokens * 1000 && o->n_prompt > 0 && o->n_greedy > o->n_prompt;
}

/* A random LlamaForCausalLM (GQA 4:2, 2 layers, vocab 1000, sharded safetensors): lbrx's logits
   of all 16 positions, in one batch and one position at a time, within 1e-4 of transformers'
   (float64) with an f32 KV cache; and its greedy continuation token for token. */
static void test_oracle_transformers(void) {
    oracle o;
    lbrx_model m;
    lbrx_model_state s;
    lbrx_sampler smp;
    llama_stats st;
    lbrx_error err;
    int kvi, i, j;
    if (!oracle_load(&o)) { free(o.logits); LT_CHECK(0); return; }
    LT_CHECKF(lbrx_model_load(&m, ORACLE_DIR, &err) == LBRX_OK, "%s", err.message);
    if (!m.layers) { free(o.logits); return; }
    LT_CHECK(m.c.rope_neox && m.c.n_heads == 4 && m.c.n_kv_heads == 2 && m.c.vocab_size == 1000 && m.c.rope_base == 50000.0f);
    for (kvi = 0; kvi < 2; kvi++) {
        lbrx_dtype kv = kvi ? LBRX_F16 : LBRX_F32;
        /* f16 rounds K and V to 11 bits: measured 5e-3 here (f32: 5e-6); 1e-4 is the bar for f32 */
        double tol = kvi ? 1e-2 : 1e-4, worst_batch = 0, worst_step = 0;
        int32_t ids[64];
        for (i = 0; i < o.n_tokens; i++) ids[i] = o.tokens[i];
        LT_CHECK(lbrx_model_state_init(&s, &m, o.n_tokens, o.n_tokens, kv, 1, 0, &err) == LBRX_OK);
        LT_CHECKF(lbrx_model_forward(&m, &s, ids, o.n_tokens, 1, &err) == LBRX_OK, "%s", err.message);
        for (i = 0; i < o.n_tokens * 1000; i++) {
            double e = fabs((double)s.logits[i] - o.logits[i]);
            if (!(e <= worst_batch)) worst_batch = e;
        }
        lbrx_model_state_free(&s, &m);
        /* 6 positions as a batch, then one at a time */
        LT_CHECK(lbrx_model_state_init(&s, &m, 6, o.n_tokens, kv, 1, 0, &err) == LBRX_OK);
        LT_CHECK(lbrx_model_forward(&m, &s, ids, 6, 1, &err) == LBRX_OK);
        for (i = 5; i < o.n_tokens; i++) {
            const float *row = s.logits + (size_t)(s.logits_rows - 1) * 1000;
            for (j = 0; j < 1000; j++) {
                double e = fabs((double)row[j] - o.logits[(size_t)i * 1000 + j]);
                if (!(e <= worst_step)) worst_step = e;
            }
            if (i + 1 < o.n_tokens) LT_CHECK(lbrx_model_forward(&m, &s, ids + i + 1, 1, 1, &err) == LBRX_OK);
        }
        lbrx_model_state_free(&s, &m);
        LT_CHECKF(worst_batch < tol && worst_step < tol, "kv %s: batch %g, one at a time %g", lbrx_dtype_name(kv), worst_batch, worst_step);
        if (getenv("LT_VERBOSE")) fprintf(stderr, "  oracle, kv %s: max |lbrx - transformers| = %g (batch), %g (steps)\n", lbrx_dtype_name(kv), worst_batch, worst_step);
        /* greedy: the same continuation */
        LT_CHECK(lbrx_model_state_init(&s, &m, o.n_prompt, o.n_greedy, kv, 0, 0, &err) == LBRX_OK);
        LT_CHECK(lbrx_sampler_init(&smp, 1000, 0.0f, 0.9f, 1, &err) == LBRX_OK);
        {
            FILE *out = fopen(lt_tmp_path("llama_greedy.txt"), "w+b");
            char *text, expect[1024];
            size_t el = 0;
            lbrx_tokenizer none;
            memset(&none, 0, sizeof none);
            LT_CHECK(llama_generate(&m, &none, &s, &smp, o.greedy, o.n_prompt, o.n_greedy - 1, out, 0, &st, &err) == LBRX_OK);
            text = out ? slurp(out) : 0;
            for (i = 0; i < o.n_greedy && el + 16 < sizeof expect; i++) el += (size_t)sprintf(expect + el, i ? " %d" : "%d", o.greedy[i]);
            LT_CHECKF(text && !strcmp(text, expect), "kv %s: got \"%s\", transformers \"%s\"", lbrx_dtype_name(kv), text ? text : "", expect);
            free(text);
            if (out) fclose(out);
            remove(lt_tmp_path("llama_greedy.txt"));
        }
        lbrx_sampler_free(&smp);
        lbrx_model_state_free(&s, &m);
    }
    lbrx_model_free(&m);
    free(o.logits);
}

/* ---- every architecture against transformers (tests/fixtures/arch_oracle, made by
   tests/fixtures/make_arch_oracle.py on the GPU machine: transformers 5.17.0 in float64; or by
   make_arch_reference.py: numpy from transformers' formulas; oracle.txt says which) ---- */

/* Largest |logits - want| of `n` tokens run through m: as one batch, or (steps) the first three
   as a batch and then one at a time (the decode path of the attention). f32 KV cache. */
static double arch_run(const lbrx_model *m, const int32_t *ids, int n, const float *want, int steps, lbrx_error *err) {
    lbrx_model_state s;
    double worst = -1.0;
    size_t V = (size_t)m->c.vocab_size, j;
    int i = 0;
    if (lbrx_model_state_init(&s, m, n, n, LBRX_F32, 1, 0, err) != LBRX_OK) return -1.0;
    while (i < n) {
        int b = steps ? (i == 0 ? 3 : 1) : n;
        if (lbrx_model_forward(m, &s, ids + i, b, 1, err) != LBRX_OK) { worst = -1.0; break; }
        for (j = 0; j < (size_t)b * V; j++) {
            double e = fabs((double)s.logits[j] - want[(size_t)i * V + j]);
            if (!(e <= worst)) worst = e;
        }
        i += b;
    }
    lbrx_model_state_free(&s, m);
    return worst;
}

/* For each architecture: a random model in Hugging Face's layout (2 layers, GQA, vocab 1000, its
   features switched on: QKV bias, QK norm (head_dim 20), a sliding window of 4 over 12 tokens,
   soft-capping, Llama 3 RoPE scaling, local/global layers with their own RoPE, fused
   projections, tied and untied outputs), loaded from its HF directory and from the GGUF file
   convert makes of it: lbrx's logits of all 12 positions within 1e-4 of the float64 reference's
   with an f32 KV cache, as one batch and one position at a time. Measured against transformers
   5.17.0: at most 5.4e-6 (phi3; numpy's reference: 4.1e-6);
   switching one feature off in the reference moves its logits by 0.29 (gemma2's attention
   scale) to 7.0 (phi3's window). */
static void test_arch_oracles(void) {
    static const char *archs[] = { "llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3", "phi3" };
    static const char *gguf_arch[] = { "llama", "llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3" };
    size_t a;
    FILE *probe = fopen("tests/fixtures/arch_oracle/llama/oracle.txt", "r");
    if (!probe) LT_SKIP("tests/fixtures/arch_oracle not generated yet (tests/fixtures/make_arch_oracle.py on the GPU machine)");
    fclose(probe);
    for (a = 0; a < sizeof archs / sizeof archs[0]; a++) {
        char dir[512], path[600], gguf[4200], line[4096];
        int tokens[64], n = 0, f;
        int32_t ids[64];
        float *want;
        size_t nw;
        FILE *fo;
        snprintf(dir, sizeof dir, "tests/fixtures/arch_oracle/%s", archs[a]);
        snprintf(path, sizeof path, "%s/oracle.txt", dir);
        fo = fopen(path, "r");
        LT_CHECKF(fo != 0, "%s: missing", path);
        if (!fo) continue;
        while (fgets(line, sizeof line, fo)) {
            int k = read_ints(line, "tokens", tokens, 64);
            if (k > 0) n = k;
        }
        fclose(fo);
        snprintf(path, sizeof path, "%s/logits.f32", dir);
        want = read_floats(path, &nw);
        LT_CHECKF(want && n > 0 && nw == (size_t)n * 1000, "%s: %d tokens, %zu logits", dir, n, nw);
        if (!want || n <= 0 || nw != (size_t)n * 1000) { free(want); continue; }
        for (f = 0; f < n; f++) ids[f] = tokens[f];
        snprintf(gguf, sizeof gguf, "%s", lt_tmp_path("arch_oracle.gguf"));
        for (f = 0; f < 2; f++) {
            lbrx_model m;
            lbrx_error err;
            double batch, steps;
            const char *src = f ? gguf : dir;
            if (f) {
                const char *args[] = { "convert", dir, gguf, "--type", "f32" };
                FILE *out = fopen(lt_tmp_path("arch_convert.txt"), "w+b");
                int rc = out ? convert_main(5, (char **)args, out, out, 0) : -1;
                char *said = out ? slurp(out) : 0;
                LT_CHECKF(rc == 0, "convert %s: %s", dir, said ? said : "");
                free(said);
                if (out) fclose(out);
                remove(lt_tmp_path("arch_convert.txt"));
                if (rc != 0) break;
            }
            memset(&err, 0, sizeof err);
            if (f) { /* no tokenizer in the checkpoint: the GGUF says "none" (llama.cpp loads it then), lbrx finds none */
                lbrx_gguf *g = 0;
                lbrx_tokenizer tok;
                LT_CHECKF(lbrx_gguf_open(&g, gguf, 0, &err) == LBRX_OK, "%s", err.message);
                LT_CHECK(g && lbrx_tokenizer_init_gguf(&tok, g, &err) == LBRX_ERR_NOT_FOUND && strstr(err.message, "\"none\""));
                lbrx_gguf_destroy(g);
            }
            LT_CHECKF(lbrx_model_load(&m, src, &err) == LBRX_OK, "%s: %s", src, err.message);
            if (!m.layers) break;
            LT_CHECKF(!strcmp(m.c.arch->name, gguf_arch[a]), "%s: architecture %s", src, m.c.arch->name);
            batch = arch_run(&m, ids, n, want, 0, &err);
            steps = arch_run(&m, ids, n, want, 1, &err);
            LT_CHECKF(batch >= 0 && batch <= 1e-4 && steps >= 0 && steps <= 1e-4, "%s (%s): max |lbrx - reference| %g (batch), %g (one at a time) %s",
                      archs[a], f ? "converted GGUF" : "HF directory", batch, steps, err.message);
            if (getenv("LT_VERBOSE"))
                fprintf(stderr, "  %-8s %-14s max |lbrx - reference| = %.3g (batch), %.3g (one at a time)\n", archs[a], f ? "converted GGUF" : "HF directory",
                        batch, steps);
            lbrx_model_free(&m);
        }
        remove(gguf);
        free(want);
    }
}

/* Gemma 2 / 3 27B GGUF files from llama.cpp carry no attention scale: llama.cpp takes
   1/sqrt(dim / heads) for a model of 46 (gemma2) / 62 (gemma3) layers, the 27B sizes, and
   1/sqrt(head_dim) otherwise (its src/models/gemma2.cpp, gemma3.cpp); ARCH.attention.scale, which
   lbrx's convert writes, wins over both. A model of the table's tensors (zeros, dim 16, 2 heads
   of 4: dim / heads = 8) with 45, 46, 62 layers, with and without the key. */
static void test_gemma_attention_scale(void) {
    static const struct { const char *arch; int layers; float key, want; } cases[] = {
        { "gemma2", 46, 0.0f, 0.35355339f }, { "gemma2", 45, 0.0f, 0.0f }, { "gemma2", 46, 0.25f, 0.25f },
        { "gemma3", 62, 0.0f, 0.35355339f }, { "gemma3", 46, 0.0f, 0.0f }, { "qwen3", 46, 0.0f, 0.0f },
    };
    static float zeros[16 * 16];
    size_t n_table, i, k;
    const lbrx_model_tensor *table = lbrx_model_tensors(&n_table);
    char path[4200];
    snprintf(path, sizeof path, "%s", lt_tmp_path("gemma_scale.gguf"));
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lbrx_model_config c;
        lbrx_gguf_writer *w = 0;
        lbrx_tensor t;
        lbrx_model m;
        lbrx_error err;
        int64_t shape[2];
        char name[96];
        int l;
        lbrx_result r;
        memset(&c, 0, sizeof c);
        c.arch = lbrx_arch_find(cases[k].arch, strlen(cases[k].arch));
        c.dim = 16; c.hidden_dim = 16; c.n_layers = cases[k].layers; c.n_heads = 2; c.n_kv_heads = 1; c.head_dim = 4; c.rope_dim = 4;
        c.vocab_size = 16; c.seq_len = 32; c.norm_eps = 1e-6f; c.rope_base = 10000.0f; c.rope_base_swa = 10000.0f; c.window = 4;
        c.swa_pattern = c.arch->swa_pattern; c.attn_scale = cases[k].key;
        r = lbrx_gguf_writer_create(&w, 0, &err);
        if (!r) r = lbrx_model_write_gguf_config(w, &c, &err);
        for (i = 0; i < 2 && !r; i++) { /* token_embd [16, 16], output_norm [16] */
            shape[0] = shape[1] = 16;
            r = lbrx_tensor_init_memory(&t, LBRX_F32, i ? 1 : 2, shape, zeros, &err);
            if (!r) r = lbrx_gguf_writer_add_tensor(w, i ? "output_norm.weight" : "token_embd.weight", &t, &err);
        }
        for (l = 0; l < c.n_layers && !r; l++)
            for (i = 0; i < n_table && !r; i++) {
                if (!lbrx_model_tensor_applies(&table[i], c.arch)) continue;
                snprintf(name, sizeof name, "blk.%d.%s", l, table[i].gguf);
                shape[0] = table[i].rows ? lbrx_model_dim(&c, table[i].rows) : lbrx_model_dim(&c, table[i].cols);
                shape[1] = lbrx_model_dim(&c, table[i].cols);
                r = lbrx_tensor_init_memory(&t, LBRX_F32, table[i].rows ? 2 : 1, shape, zeros, &err);
                if (!r) r = lbrx_gguf_writer_add_tensor(w, name, &t, &err);
            }
        if (!r) r = lbrx_gguf_writer_write_path(w, path, &err);
        lbrx_gguf_writer_destroy(w);
        LT_CHECKF(r == LBRX_OK, "%s: %s", cases[k].arch, err.message);
        if (r != LBRX_OK) continue;
        LT_CHECKF(lbrx_model_load(&m, path, &err) == LBRX_OK, "%s %d layers: %s", cases[k].arch, cases[k].layers, err.message);
        if (!m.layers) continue;
        LT_CHECKF(fabsf(m.c.attn_scale - cases[k].want) < 1e-7f, "%s, %d layers, key %g: scale %g, want %g", cases[k].arch, cases[k].layers,
                  (double)cases[k].key, (double)m.c.attn_scale, (double)cases[k].want);
        lbrx_model_free(&m);
    }
    remove(path);
}

/* ollama's llama-2-tiny-random (F16 weights, head_dim 4, vocab 32000) runs end to end. */
static void test_ollama_tiny(void) {
    LT_SHARED_OR_SKIP(path, "ollama/llama-2-tiny-random.gguf");
    char p[4200], lg[4200], *text = 0;
    float *l;
    size_t n, i;
    int finite = 1;
    snprintf(p, sizeof p, "%s", path);
    snprintf(lg, sizeof lg, "%s", lt_tmp_path("llama_tiny.f32"));
    LT_CHECK(run_llama(&text, 0, p, "-t", "0", "-n", "12", "-i", "Hello world", "--logits", lg, "--threads", "1", (char *)0) == 0);
    LT_CHECKF(text && !strncmp(text, "Hello world", 11) && strlen(text) > 12, "\"%s\"", text ? text : "");
    l = read_floats(lg, &n);
    LT_CHECKF(n == 12 * 32000, "%zu logits", n);
    for (i = 0; i < n; i++) finite &= l[i] == l[i] && fabsf(l[i]) < 1e30f;
    LT_CHECK(finite);
    free(l);
    free(text);
    remove(lg);
}

/* ---- models that do not fit together (H19) ---- */

/* A small llama GGUF built here; `mutate` says what to break. */
enum { BREAK_NONE, BREAK_HEADS0, BREAK_EMBD_HEADS, BREAK_HEADS_KV, BREAK_KV0, BREAK_LAYERS, BREAK_VOCAB_TOKENS, BREAK_EMBD_ROWS,
       BREAK_K_SHAPE, BREAK_MISSING, BREAK_ROPE_DIM, BREAK_EPS, BREAK_CTX0, BREAK_ARCH, BREAK_PIECE_LONG, BREAK_SCORES,
       BREAK_TOKEN_TYPE, BREAK_BOS, BREAK_BYTE_PIECE, BREAK_COUNT };

static lbrx_result write_model(const char *path, int mutate, lbrx_error *err) {
    enum { D = 16, H = 2, KV = 1, F = 32, L = 2, V = 300 };
    lbrx_gguf_writer *w = 0;
    lbrx_gguf_str toks[V + 1];
    static char piece_mem[V + 1][8], longp[LBRX_TOKENIZER_MAX_PIECE + 2];
    float scores[V + 1];
    int32_t types[V + 1];
    float *mem = (float *)calloc(V * D * 2 + 16 * D * F, sizeof(float));
    lbrx_tensor t;
    int64_t shape[2];
    int i, l, nv = mutate == BREAK_VOCAB_TOKENS ? V + 1 : V;
    char name[64];
    lbrx_result r;
    lt_rng rng = { 12345 };
    if (!mem) return LBRX_ERR_OUT_OF_MEMORY;
    for (i = 0; i < V * D * 2 + 16 * D * F; i++) mem[i] = 0.05f * lt_uniform(&rng);
    if ((r = lbrx_gguf_writer_create(&w, 0, err)) != LBRX_OK) { free(mem); return r; }
    r = lbrx_gguf_writer_add_str(w, "general.architecture", mutate == BREAK_ARCH ? "gpt2" : "llama", err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.embedding_length", mutate == BREAK_EMBD_HEADS ? 15 : D, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.feed_forward_length", F, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.block_count", mutate == BREAK_LAYERS ? 1000000u : (uint32_t)L, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.attention.head_count", mutate == BREAK_HEADS0 ? 0u : mutate == BREAK_HEADS_KV ? 4u : (uint32_t)H, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.attention.head_count_kv", mutate == BREAK_KV0 ? 0u : mutate == BREAK_HEADS_KV ? 3u : (uint32_t)KV, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.context_length", mutate == BREAK_CTX0 ? 0u : 64u, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "llama.rope.dimension_count", mutate == BREAK_ROPE_DIM ? 4u : (uint32_t)(D / H), err);
    if (!r) r = lbrx_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", mutate == BREAK_EPS ? 0.0f : 1e-5f, err);
    if (!r) r = lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", "llama", err);
    for (i = 0; i <= V; i++) {
        if (i < 3) snprintf(piece_mem[i], 8, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (i < 259) snprintf(piece_mem[i], 8, "<0x%02X>", i - 3);
        else snprintf(piece_mem[i], 8, "\xe2\x96\x81%c%c", 'a' + (i - 259) % 26, 'a' + (i - 259) / 26);
        toks[i].data = piece_mem[i];
        toks[i].len = strlen(piece_mem[i]);
        scores[i] = -(float)i;
        types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
    }
    if (mutate == BREAK_PIECE_LONG) {
        memset(longp, 'x', sizeof longp - 1);
        toks[V - 1].data = longp;
        toks[V - 1].len = LBRX_TOKENIZER_MAX_PIECE + 1;
    }
    if (mutate == BREAK_TOKEN_TYPE) types[V - 1] = 9;
    if (mutate == BREAK_BYTE_PIECE) types[V - 1] = 6;
    if (!r) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, toks, (uint64_t)nv, err);
    if (!r) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, scores, (uint64_t)(mutate == BREAK_SCORES ? nv - 1 : nv), err);
    if (!r) r = lbrx_gguf_writer_add_array(w, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, types, (uint64_t)nv, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", mutate == BREAK_BOS ? (uint32_t)nv : 1u, err);
    if (!r) r = lbrx_gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2u, err);
    shape[0] = mutate == BREAK_EMBD_ROWS ? V - 1 : V; shape[1] = D;
    if (!r) r = lbrx_tensor_init_memory(&t, LBRX_F32, 2, shape, mem, err);
    if (!r) r = lbrx_gguf_writer_add_tensor(w, "token_embd.weight", &t, err);
    shape[0] = V;
    if (!r) r = lbrx_tensor_init_memory(&t, LBRX_F32, 2, shape, mem + V * D, err);
    if (!r) r = lbrx_gguf_writer_add_tensor(w, "output.weight", &t, err);
    shape[0] = D;
    if (!r) r = lbrx_tensor_init_memory(&t, LBRX_F32, 1, shape, mem, err);
    if (!r) r = lbrx_gguf_writer_add_tensor(w, "output_norm.weight", &t, err);
    for (l = 0; l < L && !r; l++) {
        static const char *what[9] = { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" };
        const int64_t rows[9] = { 0, D, D / H * KV, D / H * KV, D, 0, F, F, D }, cols[9] = { D, D, D, D, D, D, D, D, F };
        for (i = 0; i < 9 && !r; i++) {
            if (mutate == BREAK_MISSING && l == 1 && i == 7) continue;
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, what[i]);
            shape[0] = rows[i] ? rows[i] : cols[i];
            shape[1] = cols[i];
            if (mutate == BREAK_K_SHAPE && l == 1 && i == 2) shape[0] = D;
            r = lbrx_tensor_init_memory(&t, LBRX_F32, rows[i] ? 2 : 1, shape, mem + 2 * V * D, err);
            if (!r) r = lbrx_gguf_writer_add_tensor(w, name, &t, err);
        }
    }
    if (!r) r = lbrx_gguf_writer_write_path(w, path, err);
    lbrx_gguf_writer_destroy(w);
    free(mem);
    return r;
}

static void test_hostile_gguf_models(void) {
    static const struct { int mutate; lbrx_result want; const char *says; } cases[] = {
        { BREAK_HEADS0, LBRX_ERR_BAD_VALUE, "head_count" },
        { BREAK_EMBD_HEADS, LBRX_ERR_BAD_VALUE, "multiple" },
        { BREAK_HEADS_KV, LBRX_ERR_BAD_VALUE, "multiple" },
        { BREAK_KV0, LBRX_ERR_BAD_VALUE, "head_count_kv" },
        { BREAK_LAYERS, LBRX_ERR_BAD_VALUE, "block_count" },
        { BREAK_VOCAB_TOKENS, LBRX_ERR_BAD_SHAPE, "token_embd" },
        { BREAK_EMBD_ROWS, LBRX_ERR_BAD_SHAPE, "token_embd" },
        { BREAK_K_SHAPE, LBRX_ERR_BAD_SHAPE, "blk.1.attn_k" },
        { BREAK_MISSING, LBRX_ERR_NOT_FOUND, "blk.1.ffn_up" },
        { BREAK_ROPE_DIM, LBRX_ERR_UNSUPPORTED, "RoPE" },
        { BREAK_EPS, LBRX_ERR_BAD_VALUE, "epsilon" },
        { BREAK_CTX0, LBRX_ERR_BAD_VALUE, "context_length" },
        { BREAK_ARCH, LBRX_ERR_UNSUPPORTED, "architecture" },
        { BREAK_PIECE_LONG, LBRX_ERR_LIMIT, "tokens" },
        { BREAK_SCORES, LBRX_ERR_SIZE_MISMATCH, "scores" },
        { BREAK_TOKEN_TYPE, LBRX_ERR_BAD_VALUE, "type" },
        { BREAK_BOS, LBRX_ERR_BAD_VALUE, "bos" },
        { BREAK_BYTE_PIECE, LBRX_ERR_BAD_VALUE, "byte" },
    };
    char path[4200];
    lbrx_model m;
    lbrx_tokenizer tok;
    char note[200];
    lbrx_error err;
    size_t i;
    snprintf(path, sizeof path, "%s", lt_tmp_path("lbrx_model.gguf"));
    LT_CHECKF(write_model(path, BREAK_NONE, &err) == LBRX_OK, "%s", err.message);
    LT_CHECKF(lbrx_model_load(&m, path, &err) == LBRX_OK, "%s", err.message);
    if (m.layers) {
        char *text = 0, *log = 0;
        lbrx_model_free(&m);
        LT_CHECK(run_llama(&text, &log, path, "-n", "8", "-i", "ab", "-s", "7", "--threads", "1", (char *)0) == 0);
        LT_CHECKF(text && !strncmp(text, "ab", 2), "\"%s\" %s", text ? text : "", log ? log : "");
        free(text);
        free(log);
    }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lbrx_result r;
        LT_CHECKF(write_model(path, cases[i].mutate, &err) == LBRX_OK, "case %d: %s", cases[i].mutate, err.message);
        memset(&err, 0, sizeof err);
        r = llama_load(&m, &tok, path, 0, note, sizeof note, &err);
        LT_CHECKF(r == cases[i].want && strstr(err.message, cases[i].says), "case %d: %s (%s), want %s", cases[i].mutate,
                  lbrx_result_str(r), err.message, lbrx_result_str(cases[i].want));
        if (r == LBRX_OK) { lbrx_model_free(&m); lbrx_tokenizer_release(&tok); }
    }
    {   /* the command line says "error:" and exits 1 */
        char *log = 0;
        LT_CHECK(write_model(path, BREAK_HEADS0, &err) == LBRX_OK);
        LT_CHECK(run_llama(0, &log, path, "-n", "4", (char *)0) == 1);
        LT_CHECKF(log && !strncmp(log, "error: ", 7) && strchr(log, '\n') == log + strlen(log) - 1, "%s", log ? log : "");
        free(log);
    }
    remove(path);
}

/* llama2.c checkpoints whose header lies about the file. */
static void test_hostile_bin_models(void) {
    int32_t h[7] = { 16, 32, 2, 2, 1, 50, 8 };
    char path[4200];
    lbrx_model m;
    lbrx_error err;
    size_t floats = 50 * 16 + 2 * (16 + 16 * 16 + 2 * 8 * 16 + 16 * 16 + 16 + 3 * 32 * 16) + 16 + 8 * 8, i;
    unsigned char *file = (unsigned char *)calloc(28 + floats * 4 + 64, 1);
    struct { int field; int32_t value; size_t trim; lbrx_result want; } cases[] = {
        { -1, 0, 0, LBRX_OK }, { 3, 0, 0, LBRX_ERR_BAD_VALUE }, { 0, 15, 0, LBRX_ERR_BAD_VALUE }, { 4, 3, 0, LBRX_ERR_BAD_VALUE },
        { 2, 100000, 0, LBRX_ERR_BAD_VALUE }, { -1, 0, 4, LBRX_ERR_SIZE_MISMATCH }, { 5, -50, 0, LBRX_ERR_SIZE_MISMATCH },
        { 6, -1, 0, LBRX_ERR_BAD_VALUE }, { -1, 0, 28 + floats * 4 - 20, LBRX_ERR_TRUNCATED },
    };
    snprintf(path, sizeof path, "%s", lt_tmp_path("lbrx_model.bin"));
    if (!file) { LT_CHECK(0); return; }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t hh[7];
        lbrx_result r;
        memcpy(hh, h, sizeof hh);
        if (cases[i].field >= 0) hh[cases[i].field] = cases[i].value;
        memcpy(file, hh, 28);
        write_file(path, file, 28 + floats * 4 - cases[i].trim);
        memset(&err, 0, sizeof err);
        r = lbrx_model_load(&m, path, &err);
        LT_CHECKF(r == cases[i].want, "case %zu: %s (%s)", i, lbrx_result_str(r), err.message);
        if (r == LBRX_OK) lbrx_model_free(&m);
    }
    free(file);
    remove(path);
}

/* HF config.json with values that do not fit. */
static void test_hostile_hf_config(void) {
    static const char *configs[] = {
        "{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":160,\"num_hidden_layers\":2,\"num_attention_heads\":0,"
        "\"vocab_size\":1000,\"max_position_embeddings\":128}",
        "{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":160,\"num_hidden_layers\":2,\"num_attention_heads\":6,"
        "\"vocab_size\":1000,\"max_position_embeddings\":128}",
        "{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":160,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
        "\"num_key_value_heads\":3,\"vocab_size\":1000,\"max_position_embeddings\":128}",
        "{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":160,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
        "\"vocab_size\":1000,\"max_position_embeddings\":128,\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":8.0}}",
        "{\"model_type\":\"gpt2\"}",
        "{\"model_type\":\"llama\",\"hidden_size\":\"64\"}",
        "[1, 2",
    };
    static const lbrx_result want[] = { LBRX_ERR_BAD_VALUE, LBRX_ERR_BAD_VALUE, LBRX_ERR_BAD_VALUE, LBRX_ERR_UNSUPPORTED,
                                        LBRX_ERR_UNSUPPORTED, LBRX_ERR_BAD_VALUE, LBRX_ERR_BAD_HEADER };
    char dir[4200], path[4300];
    lbrx_model m;
    lbrx_error err;
    size_t i;
    snprintf(dir, sizeof dir, "%s", lt_tmp_path("llama_hf.safetensors"));
    /* the config beside a .safetensors path that is never opened: config.json is read first */
    for (i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        lbrx_result r;
        snprintf(path, sizeof path, "%s", lt_tmp_path("config.json"));
        write_file(path, configs[i], strlen(configs[i]));
        memset(&err, 0, sizeof err);
        r = lbrx_model_load(&m, dir, &err);
        LT_CHECKF(r == want[i], "config %zu: %s (%s)", i, lbrx_result_str(r), err.message);
        if (r == LBRX_OK) lbrx_model_free(&m);
        remove(path);
    }
}

/* ---- quantized Hugging Face checkpoints (MLX, AWQ, GPTQ), written here ----
   The packings below are written from each format's documentation, independently of lbrx's
   lbrx_affine code: MLX (mlx.core.quantize) packs element j of a row into bits bits*j.. of its
   uint32 words, lowest first, with f16 scales and biases per group, w = q * scale + bias; AWQ's
   GEMM layout packs 8 outputs into an int32 of qweight [in, out/8] in the order
   {0, 2, 4, 6, 1, 3, 5, 7}, its qzeros [in/group, out/8] alike, w = (q - z) * scale; GPTQ (v1)
   packs 8 inputs into an int32 of qweight [in/8, out] in order and qzeros [in/group, out/8]
   holding z - 1. Every weight's float64 dequantized values also go into a plain F32 checkpoint
   of the same model, the reference. */

#define AQ_DIM 64
#define AQ_FF 128
#define AQ_VOCAB 64
#define AQ_MAX 48
#define AQ_TOK 8

typedef struct aq_ckpt {
    lbrx_tensor t[AQ_MAX];
    char name[AQ_MAX][96];
    size_t n;
} aq_ckpt;

static void *aq_new(aq_ckpt *c, const char *name, lbrx_dtype dt, int64_t d0, int64_t d1) {
    int64_t shape[2];
    lbrx_tensor *t = &c->t[c->n];
    shape[0] = d0 ? d0 : d1;
    shape[1] = d1;
    if (c->n == AQ_MAX || lbrx_tensor_init_heap(t, dt, d0 ? 2 : 1, shape, 0, 0) != LBRX_OK) return 0;
    snprintf(c->name[c->n++], 96, "%s", name);
    memset(t->data, 0, (size_t)(shape[0] * (d0 ? d1 : 1)) * (dt == LBRX_F16 ? 2u : 4u));
    return t->data;
}

static void aq_free(aq_ckpt *c) {
    size_t i;
    for (i = 0; i < c->n; i++) lbrx_tensor_release(&c->t[i]);
    c->n = 0;
}

static int aq_write(aq_ckpt *c, const char *path, size_t skip) {
    lbrx_safetensors_write_desc d;
    const char *names[AQ_MAX];
    lbrx_tensor ts[AQ_MAX];
    size_t i, k = 0;
    lbrx_error err;
    for (i = 0; i < c->n; i++)
        if (i != skip) { names[k] = c->name[i]; ts[k++] = c->t[i]; }
    memset(&d, 0, sizeof d);
    d.tensors = ts;
    d.names = names;
    d.n_tensors = k;
    return lbrx_safetensors_write(path, &d, &err) == LBRX_OK;
}

static double aq_rand(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static double aq_f16(double v) { return (double)lbrx_f16_to_f32(lbrx_f32_to_f16((float)v)); } /* storage of a scale */

enum { AQ_MLX, AQ_AWQ, AQ_GPTQ };

/* One quantized weight W [out, in] of format fmt into c (under base), its float64 dequantized
   values into ref [out * in]. */
static int aq_weight(aq_ckpt *c, const char *base, int fmt, int bits, int group, int out, int in, uint64_t *rng, double *ref) {
    static const int awq_order[8] = { 0, 2, 4, 6, 1, 3, 5, 7 };
    const int maxq = (1 << bits) - 1, ng = in / group;
    char nm[96];
    uint32_t *qw, *qz = 0;
    uint16_t *sc, *bi = 0;
    int32_t *gi = 0;
    int o, i, g;
    if (fmt == AQ_MLX) {
        snprintf(nm, sizeof nm, "%s.weight", base); qw = (uint32_t *)aq_new(c, nm, LBRX_U32, out, in * bits / 32);
        snprintf(nm, sizeof nm, "%s.scales", base); sc = (uint16_t *)aq_new(c, nm, LBRX_F16, out, ng);
        snprintf(nm, sizeof nm, "%s.biases", base); bi = (uint16_t *)aq_new(c, nm, LBRX_F16, out, ng);
    } else {
        snprintf(nm, sizeof nm, "%s.qweight", base); qw = (uint32_t *)aq_new(c, nm, LBRX_I32, fmt == AQ_AWQ ? in : in / 8, fmt == AQ_AWQ ? out / 8 : out);
        snprintf(nm, sizeof nm, "%s.qzeros", base); qz = (uint32_t *)aq_new(c, nm, LBRX_I32, ng, out / 8);
        snprintf(nm, sizeof nm, "%s.scales", base); sc = (uint16_t *)aq_new(c, nm, LBRX_F16, ng, out);
        if (fmt == AQ_GPTQ) { snprintf(nm, sizeof nm, "%s.g_idx", base); gi = (int32_t *)aq_new(c, nm, LBRX_I32, 0, in); }
    }
    if (!qw || !sc || (fmt == AQ_MLX ? !bi : !qz) || (fmt == AQ_GPTQ && !gi)) return 0;
    for (i = 0; gi && i < in; i++) gi[i] = i / group;
    for (o = 0; o < out; o++)
        for (g = 0; g < ng; g++) {
            double w[128], lo = 1e9, hi = -1e9, s, b = 0;
            int z = 0;
            for (i = 0; i < group; i++) {
                w[i] = 0.5 * aq_rand(rng);
                lo = w[i] < lo ? w[i] : lo;
                hi = w[i] > hi ? w[i] : hi;
            }
            s = aq_f16((hi - lo) / maxq);
            if (fmt == AQ_MLX) {
                b = aq_f16(lo);
                sc[(size_t)o * ng + g] = lbrx_f32_to_f16((float)s);
                bi[(size_t)o * ng + g] = lbrx_f32_to_f16((float)b);
            } else {
                z = (int)floor(-lo / s + 0.5);
                z = z < 1 ? 1 : z > 15 ? 15 : z;  /* GPTQ v1 stores z - 1: keep z >= 1 */
                sc[(size_t)g * out + o] = lbrx_f32_to_f16((float)s);
                if (fmt == AQ_AWQ) {
                    int k;
                    for (k = 0; awq_order[k] != o % 8; k++) {}
                    qz[(size_t)g * (out / 8) + o / 8] |= (uint32_t)z << (4 * k);
                } else {
                    qz[(size_t)g * (out / 8) + o / 8] |= (uint32_t)(z - 1) << (4 * (o % 8));
                }
            }
            for (i = 0; i < group; i++) {
                int col = g * group + i, q = (int)floor((fmt == AQ_MLX ? (w[i] - b) / s : w[i] / s + z) + 0.5);
                q = q < 0 ? 0 : q > maxq ? maxq : q;
                ref[(size_t)o * in + col] = fmt == AQ_MLX ? q * s + b : (q - z) * s;
                if (fmt == AQ_MLX) {
                    qw[(size_t)o * (in * bits / 32) + col / (32 / bits)] |= (uint32_t)q << (bits * (col % (32 / bits)));
                } else if (fmt == AQ_AWQ) {
                    int k;
                    for (k = 0; awq_order[k] != o % 8; k++) {}
                    qw[(size_t)col * (out / 8) + o / 8] |= (uint32_t)q << (4 * k);
                } else {
                    qw[(size_t)(col / 8) * out + o] |= (uint32_t)q << (4 * (col % 8));
                }
            }
        }
    return 1;
}

/* The projections of one llama layer plus embeddings and lm_head: name, rows, columns. */
static const struct { const char *name; int out, in; } aq_mats[] = {
    { "model.embed_tokens", AQ_VOCAB, AQ_DIM }, { "lm_head", AQ_VOCAB, AQ_DIM },
    { "model.layers.0.self_attn.q_proj", AQ_DIM, AQ_DIM }, { "model.layers.0.self_attn.k_proj", 32, AQ_DIM },
    { "model.layers.0.self_attn.v_proj", 32, AQ_DIM }, { "model.layers.0.self_attn.o_proj", AQ_DIM, AQ_DIM },
    { "model.layers.0.mlp.gate_proj", AQ_FF, AQ_DIM }, { "model.layers.0.mlp.up_proj", AQ_FF, AQ_DIM },
    { "model.layers.0.mlp.down_proj", AQ_DIM, AQ_FF },
};
#define AQ_N_MATS (sizeof aq_mats / sizeof aq_mats[0])

/* The model in format fmt (group, and MLX's down_proj in 8 bits, groups of 64) into q, and its
   float64 dequantized weights as F32 into ref (both with the same F32 norms). AWQ and GPTQ keep
   the embeddings and lm_head in F32, as their checkpoints do. */
static int aq_model(aq_ckpt *q, aq_ckpt *ref, int fmt, int group, uint64_t seed, double **deq) {
    static const char *norms[3] = { "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight", "model.norm.weight" };
    uint64_t rng = seed;
    size_t m;
    int i, k;
    for (m = 0; m < AQ_N_MATS; m++) {
        const int out = aq_mats[m].out, in = aq_mats[m].in;
        char nm[96];
        float *r;
        double *d = deq[m];
        snprintf(nm, sizeof nm, "%s.weight", aq_mats[m].name);
        if (!(r = (float *)aq_new(ref, nm, LBRX_F32, out, in))) return 0;
        if (fmt != AQ_MLX && m < 2) {  /* plain */
            float *p = (float *)aq_new(q, nm, LBRX_F32, out, in);
            if (!p) return 0;
            for (i = 0; i < out * in; i++) d[i] = p[i] = (float)(0.5 * aq_rand(&rng));
        } else {
            int is_down = m == AQ_N_MATS - 1 && fmt == AQ_MLX;
            if (!aq_weight(q, aq_mats[m].name, fmt, is_down ? 8 : 4, is_down ? 64 : group, out, in, &rng, d)) return 0;
        }
        /* exact (at most 19 significant bits): lbrx repacks every weight exactly (Q4_1,
           LBRX_AFFINE_Q4, LBRX_AFFINE_Q8), test_affine_checkpoints checks that */
        for (i = 0; i < out * in; i++) r[i] = (float)d[i];
    }
    for (k = 0; k < 3; k++) {
        float *a = (float *)aq_new(q, norms[k], LBRX_F32, 0, AQ_DIM), *b = (float *)aq_new(ref, norms[k], LBRX_F32, 0, AQ_DIM);
        if (!a || !b) return 0;
        for (i = 0; i < AQ_DIM; i++) a[i] = b[i] = (float)(1.0 + 0.1 * aq_rand(&rng));
    }
    return 1;
}

static void aq_config(const char *quant) {
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "{\"model_type\":\"llama\",\"hidden_size\":%d,\"intermediate_size\":%d,\"num_hidden_layers\":1,\"num_attention_heads\":4,"
                     "\"num_key_value_heads\":2,\"vocab_size\":%d,\"max_position_embeddings\":64,\"rms_norm_eps\":1e-5%s%s}",
                     AQ_DIM, AQ_FF, AQ_VOCAB, quant ? "," : "", quant ? quant : "");
    write_file(lt_tmp_path("config.json"), text, (size_t)n);
}

/* Logits of AQ_TOK tokens (one batch, f32 KV cache) into out. */
static int aq_logits(const lbrx_model *m, float *out) {
    lbrx_model_state s;
    lbrx_error err;
    int32_t ids[AQ_TOK];
    int i, ok;
    for (i = 0; i < AQ_TOK; i++) ids[i] = (int32_t)((i * 7 + 3) % AQ_VOCAB);
    if (lbrx_model_state_init(&s, m, AQ_TOK, AQ_TOK, LBRX_F32, 1, 1, &err) != LBRX_OK) return 0;
    ok = lbrx_model_forward(m, &s, ids, AQ_TOK, 1, &err) == LBRX_OK;
    if (ok) memcpy(out, s.logits, sizeof(float) * AQ_TOK * AQ_VOCAB);
    lbrx_model_state_free(&s, m);
    return ok;
}

static double aq_max_diff(const float *a, const float *b, size_t n) {
    double worst = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}

static double aq_max_abs(const float *a) {
    double m = 0;
    int i;
    for (i = 0; i < AQ_TOK * AQ_VOCAB; i++) m = fabs((double)a[i]) > m ? fabs((double)a[i]) : m;
    return m;
}

/* The weight of aq_mats[m] in a loaded model. */
static lbrx_tensor *aq_slot(lbrx_model *mo, size_t m) {
    static const int slots[7] = { LBRX_W_Q, LBRX_W_K, LBRX_W_V, LBRX_W_O, LBRX_W_GATE, LBRX_W_UP, LBRX_W_DOWN };
    return m == 0 ? &mo->embd : m == 1 ? &mo->output : &mo->layers[0].w[slots[m - 2]];
}

/* MLX (4-bit groups of 32, f16 scales: Q4_1 exactly; a down_proj of 8 bits: LBRX_AFFINE_Q8),
   AWQ (groups of 64) and GPTQ (groups of 32, trivial g_idx; both LBRX_AFFINE_Q4): every loaded
   weight equals the float64 dequantization bit for bit, and the logits are the reference F32
   model's: exactly once the weights are widened to F32 (the same f32 kernels), and within the
   rounding of the activations to Q8 blocks for the native kernels (measured below). convert writes the MLX checkpoint as GGUF with the repacked weights
   left in Q4_1 and names the one it dequantized; the GGUF runs to the same logits. */
static void test_affine_checkpoints(void) {
    static const char *configs[3] = {
        "\"quantization\":{\"group_size\":32,\"bits\":4,\"model.layers.0.mlp.down_proj\":{\"group_size\":64,\"bits\":8}}",
        "\"quantization_config\":{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":64,\"zero_point\":true,\"version\":\"gemm\"}",
        "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32,\"desc_act\":false,\"sym\":false,\"checkpoint_format\":\"gptq\"}" };
    static const int groups[3] = { 32, 64, 32 };
    static float lq[AQ_TOK * AQ_VOCAB], lr[AQ_TOK * AQ_VOCAB], lw[AQ_TOK * AQ_VOCAB];
    char qpath[4200], rpath[4200], gpath[4200];
    int fmt;
    snprintf(qpath, sizeof qpath, "%s", lt_tmp_path("aq_quant.safetensors"));
    snprintf(rpath, sizeof rpath, "%s", lt_tmp_path("aq_ref.safetensors"));
    snprintf(gpath, sizeof gpath, "%s", lt_tmp_path("aq_quant.gguf"));
    for (fmt = 0; fmt < 3; fmt++) {
        aq_ckpt q, ref;
        double *deq[AQ_N_MATS];
        lbrx_model mq, mr;
        lbrx_error err;
        size_t m;
        int ok = 1, i;
        double native;
        memset(&q, 0, sizeof q);
        memset(&ref, 0, sizeof ref);
        for (m = 0; m < AQ_N_MATS; m++) ok &= (deq[m] = (double *)malloc(sizeof(double) * aq_mats[m].out * aq_mats[m].in)) != 0;
        ok = ok && aq_model(&q, &ref, fmt, groups[fmt], 0x9E3779B97F4A7C15ull + (uint64_t)fmt, deq) && aq_write(&q, qpath, SIZE_MAX) &&
             aq_write(&ref, rpath, SIZE_MAX);
        LT_CHECK(ok);
        aq_config(0);
        memset(&mr, 0, sizeof mr);
        memset(&mq, 0, sizeof mq);
        LT_CHECKF(ok && lbrx_model_load(&mr, rpath, &err) == LBRX_OK, "reference: %s", err.message);
        aq_config(configs[fmt]);
        LT_CHECKF(ok && lbrx_model_load(&mq, qpath, &err) == LBRX_OK, "format %d: %s", fmt, err.message);
        if (mq.layers && mr.layers) {
            LT_CHECKF(mq.quant && !strcmp(mq.quant, fmt == AQ_MLX ? "MLX" : fmt == AQ_AWQ ? "AWQ" : "GPTQ"), "%s", mq.quant ? mq.quant : "none");
            /* MLX: 8 into Q4_1 + down_proj into AFFINE_Q8; AWQ/GPTQ: the 7 projections into AFFINE_Q4 (-z * scale is not an f16) */
            LT_CHECKF(fmt == AQ_MLX ? mq.n_repacked == 9 && mq.n_q4_1 == 8 && mq.n_affine_q8 == 1 && mq.n_dequantized == 0
                                    : mq.n_repacked == 7 && mq.n_affine_q4 == 7 && mq.n_dequantized == 0,
                      "format %d: %d repacked, %d dequantized (%s)", fmt, mq.n_repacked, mq.n_dequantized, mq.quant_note);
            for (m = 0; m < AQ_N_MATS; m++) {
                lbrx_tensor *w = aq_slot(&mq, m), f;
                int bad = 0;
                LT_CHECKF(w->dtype == (fmt == AQ_MLX ? (m < AQ_N_MATS - 1 ? LBRX_Q4_1 : LBRX_AFFINE_Q8) : m < 2 ? LBRX_F32 : LBRX_AFFINE_Q4),
                          "format %d %s: %s", fmt, aq_mats[m].name, lbrx_dtype_name(w->dtype));
                LT_CHECK(lbrx_tensor_convert(w, LBRX_F32, &f, 0, &err) == LBRX_OK);
                for (i = 0; f.data && i < aq_mats[m].out * aq_mats[m].in; i++) {
                    double got = ((const float *)f.data)[i], want = deq[m][i];
                    if (w->dtype == LBRX_F16 ? !(fabs(got - want) <= fabs(want) * (1.0 / 2048)) : got != want) bad++;
                }
                LT_CHECKF(bad == 0, "format %d %s: %d values differ from the float64 dequantization", fmt, aq_mats[m].name, bad);
                lbrx_tensor_release(w);
                *w = f;  /* widened: the F32 kernels from here on */
            }
            LT_CHECK(aq_logits(&mr, lr));
            LT_CHECK(aq_logits(&mq, lw));
            LT_CHECKF(!memcmp(lr, lw, sizeof lr), "format %d, weights widened to F32: %g from the reference", fmt, aq_max_diff(lr, lw, AQ_TOK * AQ_VOCAB));
            lbrx_model_free(&mq);
            LT_CHECK(lbrx_model_load(&mq, qpath, &err) == LBRX_OK);
            LT_CHECK(mq.layers && aq_logits(&mq, lq));
            native = aq_max_diff(lr, lq, AQ_TOK * AQ_VOCAB);
            /* the block kernels round the activations to Q8 blocks: measured 0.16 (MLX), 0.18 (AWQ), 0.14 (GPTQ); logits up to 8.6 */
            LT_CHECKF(native < 0.4, "format %d: native kernels %g from the reference", fmt, native);
            if (getenv("LT_VERBOSE"))
                fprintf(stderr, "  format %d: native |logits - reference| %g (logits up to %g)\n", fmt, native, aq_max_diff(lr, lq, 0) + aq_max_abs(lr));
        }
        if (fmt == AQ_MLX && mq.layers) {  /* convert: Q4_1 kept, the 8-bit one named and dequantized */
            const char *args[] = { "convert", qpath, gpath, "--type", "f16" };
            FILE *out = fopen(lt_tmp_path("aq_convert.txt"), "w+b");
            int rc = out ? convert_main(5, (char **)args, out, out, 0) : -1;
            char *said = out ? slurp(out) : 0;
            lbrx_gguf *g = 0;
            lbrx_model mg;
            LT_CHECKF(rc == 0, "convert: %s", said ? said : "");
            LT_CHECKF(said && strstr(said, "model.layers.0.mlp.down_proj.weight") && strstr(said, "not exact"), "%s", said ? said : "");
            free(said);
            if (out) fclose(out);
            remove(lt_tmp_path("aq_convert.txt"));
            if (rc == 0 && lbrx_gguf_open(&g, gpath, 0, &err) == LBRX_OK) {
                static const char *const names[4] = { "token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_down.weight" };
                static const lbrx_dtype want[4] = { LBRX_Q4_1, LBRX_Q4_1, LBRX_Q4_1, LBRX_F16 };
                for (i = 0; i < 4; i++) {
                    size_t k = lbrx_gguf_find_tensor(g, names[i]);
                    LT_CHECKF(k != SIZE_MAX && lbrx_gguf_tensor_info_at(g, k)->dtype == want[i], "%s", names[i]);
                }
                lbrx_gguf_destroy(g);
            }
            memset(&mg, 0, sizeof mg);
            LT_CHECKF(rc == 0 && lbrx_model_load(&mg, gpath, &err) == LBRX_OK, "%s", err.message);
            if (mg.layers) {
                LT_CHECK(aq_logits(&mg, lw));
                /* its down_proj is F16 (the HF load's is AFFINE_Q8): the reference's bound */
                LT_CHECKF(aq_max_diff(lr, lw, AQ_TOK * AQ_VOCAB) < 0.4, "GGUF vs reference: %g", aq_max_diff(lr, lw, AQ_TOK * AQ_VOCAB));
                lbrx_model_free(&mg);
            }
            remove(gpath);
        }
        lbrx_model_free(&mq);
        lbrx_model_free(&mr);
        for (m = 0; m < AQ_N_MATS; m++) free(deq[m]);
        aq_free(&q);
        aq_free(&ref);
    }
    remove(qpath);
    remove(rpath);
    remove(lt_tmp_path("config.json"));
}

/* Quantized checkpoints whose metadata do not fit: each a specific result and a message naming
   the tensor or the config.json field. */
static void test_affine_hostile_checkpoints(void) {
    static const struct { int fmt; const char *config, *drop, *bad_shape, *swap_g_idx; lbrx_result want; const char *says; } cases[] = {
        { AQ_MLX, "\"quantization\":{\"group_size\":48,\"bits\":4}", 0, 0, 0, LBRX_ERR_BAD_SHAPE, "model.embed_tokens (MLX, 4 bits, group 48)" },
        { AQ_MLX, "\"quantization\":{\"group_size\":32,\"bits\":3}", 0, 0, 0, LBRX_ERR_UNSUPPORTED, "quantization.bits = 3" },
        { AQ_MLX, "\"quantization\":{\"group_size\":32}", 0, 0, 0, LBRX_ERR_NOT_FOUND, "quantization.bits is missing" },
        { AQ_MLX, "\"quantization\":{\"group_size\":\"32\",\"bits\":4}", 0, 0, 0, LBRX_ERR_BAD_VALUE, "quantization.group_size" },
        { AQ_MLX, "\"quantization\":{\"group_size\":32,\"bits\":4,\"mode\":\"mxfp4\"}", 0, 0, 0, LBRX_ERR_UNSUPPORTED, "quantization.mode" },
        { AQ_MLX, "\"quantization\":{\"group_size\":32,\"bits\":4}", "model.layers.0.self_attn.q_proj.scales", 0, 0, LBRX_ERR_NOT_FOUND,
          "model.layers.0.self_attn.q_proj.scales is missing" },
        { AQ_MLX, "\"quantization\":{\"group_size\":32,\"bits\":4}", 0, "model.layers.0.mlp.up_proj.biases", 0, LBRX_ERR_BAD_SHAPE,
          "model.layers.0.mlp.up_proj (MLX, 4 bits, group 32): affine weight: biases has shape [128, 3]" },
        { AQ_GPTQ, "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32,\"desc_act\":true}", 0, 0,
          "model.layers.0.self_attn.q_proj.g_idx", LBRX_ERR_UNSUPPORTED, "model.layers.0.self_attn.q_proj (quantization_config.desc_act)" },
        { AQ_GPTQ, "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32,\"desc_act\":true}",
          "model.layers.0.self_attn.q_proj.g_idx", 0, 0, LBRX_ERR_NOT_FOUND, "desc_act is true but model.layers.0.self_attn.q_proj.g_idx is missing" },
        { AQ_GPTQ, "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32}", "model.layers.0.mlp.down_proj.qzeros", 0, 0,
          LBRX_ERR_NOT_FOUND, "model.layers.0.mlp.down_proj.qzeros is missing" },
        { AQ_GPTQ, "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":96}", 0, 0, 0, LBRX_ERR_BAD_SHAPE,
          "model.layers.0.self_attn.q_proj (GPTQ, 4 bits, group 96): affine weight: group size 96" },
        { AQ_GPTQ, "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":8,\"group_size\":32}", 0, 0, 0, LBRX_ERR_UNSUPPORTED,
          "quantization_config.bits = 8" },
        { AQ_GPTQ, "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32,\"checkpoint_format\":\"gptq_v2\"}", 0, 0, 0,
          LBRX_ERR_UNSUPPORTED, "quantization_config.checkpoint_format" },
        { AQ_AWQ, "\"quantization_config\":{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":64,\"version\":\"gemv\"}", 0, 0, 0,
          LBRX_ERR_UNSUPPORTED, "quantization_config.version" },
        { AQ_AWQ, "\"quantization_config\":{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":64}", 0, "model.layers.0.self_attn.o_proj.scales", 0,
          LBRX_ERR_BAD_SHAPE, "model.layers.0.self_attn.o_proj (AWQ, 4 bits, group 64): affine weight: scales has shape [1, 65]" },
        { AQ_AWQ, "\"quantization_config\":{\"quant_method\":\"bitsandbytes\",\"bits\":4}", 0, 0, 0, LBRX_ERR_UNSUPPORTED,
          "quantization_config.quant_method \"bitsandbytes\"" },
        { AQ_AWQ, "\"quantization_config\":{\"bits\":4}", 0, 0, 0, LBRX_ERR_NOT_FOUND, "quantization_config.quant_method is missing" },
    };
    static const int groups[3] = { 32, 64, 32 };
    char qpath[4200];
    size_t c;
    snprintf(qpath, sizeof qpath, "%s", lt_tmp_path("aq_hostile.safetensors"));
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        aq_ckpt q, ref;
        double *deq[AQ_N_MATS];
        lbrx_model m;
        lbrx_error err;
        lbrx_result r;
        size_t k, skip = SIZE_MAX;
        int ok = 1;
        memset(&q, 0, sizeof q);
        memset(&ref, 0, sizeof ref);
        for (k = 0; k < AQ_N_MATS; k++) ok &= (deq[k] = (double *)malloc(sizeof(double) * aq_mats[k].out * aq_mats[k].in)) != 0;
        ok = ok && aq_model(&q, &ref, cases[c].fmt, groups[cases[c].fmt], 7 + c, deq);
        for (k = 0; ok && k < q.n; k++) {
            if (cases[c].drop && !strcmp(q.name[k], cases[c].drop)) skip = k;
            if (cases[c].bad_shape && !strcmp(q.name[k], cases[c].bad_shape)) {  /* one more group column */
                int64_t shape[2];
                shape[0] = q.t[k].shape[0];
                shape[1] = q.t[k].shape[1] + 1;
                lbrx_tensor_release(&q.t[k]);
                ok = lbrx_tensor_init_heap(&q.t[k], LBRX_F16, 2, shape, 0, 0) == LBRX_OK;
                if (ok) memset(q.t[k].data, 0, (size_t)(shape[0] * shape[1]) * 2);
            }
            if (cases[c].swap_g_idx && !strcmp(q.name[k], cases[c].swap_g_idx)) {  /* act-order: rows 31 and 32 swap groups */
                int32_t *g = (int32_t *)q.t[k].data, t = g[31];
                g[31] = g[32];
                g[32] = t;
            }
        }
        LT_CHECK(ok && aq_write(&q, qpath, skip));
        aq_config(cases[c].config);
        memset(&err, 0, sizeof err);
        r = lbrx_model_load(&m, qpath, &err);
        LT_CHECKF(r == cases[c].want && strstr(err.message, cases[c].says), "case %zu: %s: %s", c, lbrx_result_str(r), err.message);
        if (r == LBRX_OK) lbrx_model_free(&m);
        if (getenv("LT_VERBOSE")) fprintf(stderr, "  case %zu: %s\n", c, err.message);
        for (k = 0; k < AQ_N_MATS; k++) free(deq[k]);
        aq_free(&q);
        aq_free(&ref);
    }
    remove(qpath);
    remove(lt_tmp_path("config.json"));
}

/* The command line refuses what it does not understand. */
static void test_cli_usage(void) {
    char *log = 0;
    LT_CHECK(run_llama(0, &log, (char *)0) == 1);
    LT_CHECK(log && strstr(log, "usage") != 0);
    free(log);
    LT_CHECK(run_llama(0, 0, "model", "--kv", "q8", (char *)0) == 1);
    LT_CHECK(run_llama(0, 0, "model", "-n", (char *)0) == 1);
    LT_CHECK(run_llama(0, &log, "/nonexistent/model.gguf", (char *)0) == 1);
    LT_CHECK(log && !strncmp(log, "error: ", 7));
    free(log);
}

int main(void) {
    LT_RUN(test_tokenizer_tok512);
    LT_RUN(test_tokenizer_hostile_bin);
    LT_RUN(test_stories_greedy_64);
    LT_RUN(test_stories_published);
    LT_RUN(test_stories_logits);
    LT_RUN(test_stories_quantized);
    LT_RUN(test_stories_batch_vs_steps);
    LT_RUN(test_oracle_transformers);
    LT_RUN(test_arch_oracles);
    LT_RUN(test_gemma_attention_scale);
    LT_RUN(test_ollama_tiny);
    LT_RUN(test_hostile_gguf_models);
    LT_RUN(test_hostile_bin_models);
    LT_RUN(test_hostile_hf_config);
    LT_RUN(test_affine_checkpoints);
    LT_RUN(test_affine_hostile_checkpoints);
    LT_RUN(test_cli_usage);
    return lt_finish();
}
