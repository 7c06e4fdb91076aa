/* demo.c - lbrx end to end, with nothing from outside the repository (`make demo`).

   1. Makes a Llama-shaped model of about 100M parameters with seeded random weights (uniform,
      standard deviation 0.02 as Hugging Face initialises Llama) and saves it as a Hugging Face
      checkpoint: DIR/config.json + DIR/model.safetensors (lbrx_safetensors.h's writer).
   2. Converts it to Q8_0 and Q4_0 GGUF files with the convert example (next to this program).
   3. Maps each of the three files and runs a 128-token prompt as one batch, then generates 64
      tokens greedily, and prints a table: file size, load time, resident memory, prompt and
      generation tokens/s, and the largest difference of the quantized models' prompt logits
      from the F32 model's.

   demo [DIR] [--threads N]    (DIR defaults to build/demo-model; the files are left there)

   Build: cc -O3 -march=native -fopenmp -I. examples/demo.c -o demo -lm (and examples/convert.c
   beside it). */
#define LBRX_IMPL
#define LBRX_MODEL_IMPLEMENTATION
#include "lbrx_model.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#if defined(_WIN32)
#include <direct.h>
#else
#include <sys/stat.h>
#endif

#define DEMO_DIM 768
#define DEMO_LAYERS 12
#define DEMO_HEADS 12
#define DEMO_KV_HEADS 4
#define DEMO_FFN 2048
#define DEMO_VOCAB 16384
#define DEMO_CTX 512
#define DEMO_PROMPT 128
#define DEMO_GEN 64

/* Seeded uniform weights in [-a, a) with a = 0.02 * sqrt(3) (standard deviation 0.02). */
static void demo_fill(float *p, size_t n, uint64_t *rng, float std) {
    size_t i;
    float a = std * 1.7320508f;
    for (i = 0; i < n; i++) p[i] = a * (2.0f * lbrx_random_f32(rng) - 1.0f);
}

/* Step 1: the checkpoint. Returns 0 on success. */
static int demo_make_checkpoint(const char *dir, lbrx_error *err) {
    enum { D = DEMO_DIM, F = DEMO_FFN, V = DEMO_VOCAB, L = DEMO_LAYERS };
    lbrx_model_config c;
    size_t n_table, i;
    const lbrx_model_tensor *table = lbrx_model_tensors(&n_table);
    int n_tensors = 3, k = 0, l;
    lbrx_tensor *t;
    char (*names)[64];
    const char **name_of;
    size_t total = 0, off = 0;
    float *mem;
    uint64_t rng = 20261122;
    lbrx_safetensors_write_desc desc;
    char path[4200];
    FILE *f;
    lbrx_result r = LBRX_OK;
    /* the layer tensors of a Llama, as lbrx_model.h's table lists them */
    memset(&c, 0, sizeof c);
    c.arch = lbrx_arch_find("llama", 5);
    c.dim = D; c.hidden_dim = F; c.n_heads = DEMO_HEADS; c.n_kv_heads = DEMO_KV_HEADS; c.head_dim = D / DEMO_HEADS; c.vocab_size = V;
    total = (size_t)2 * V * D + D;
    for (i = 0; i < n_table; i++)
        if (lbrx_model_tensor_applies(&table[i], c.arch)) {
            n_tensors += L;
            total += (size_t)L * (size_t)(table[i].rows ? lbrx_model_dim(&c, table[i].rows) : 1) * (size_t)lbrx_model_dim(&c, table[i].cols);
        }
    t = (lbrx_tensor *)calloc((size_t)n_tensors, sizeof(lbrx_tensor));
    names = (char (*)[64])calloc((size_t)n_tensors, 64);
    name_of = (const char **)calloc((size_t)n_tensors, sizeof *name_of);
    if (!t || !names || !name_of) { free(t); free(names); free((void *)name_of); return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory"); }
    mem = (float *)malloc(total * sizeof(float));
    if (!mem) { free(t); free(names); free((void *)name_of); return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory for %zu weights", total); }
    /* HF's order: embeddings, layers, final norm, output */
#define DEMO_ADD(nm, r0, c0, norm) do { \
        int64_t sh_[2]; sh_[0] = (r0); sh_[1] = (c0); \
        snprintf(names[k], 64, "%s", nm); \
        if (norm) { size_t j_; for (j_ = 0; j_ < (size_t)(c0); j_++) mem[off + j_] = 1.0f; } \
        else demo_fill(mem + off, (size_t)(r0) * (size_t)(c0), &rng, 0.02f); \
        if (r == LBRX_OK) r = sh_[0] ? lbrx_tensor_init_memory(&t[k], LBRX_F32, 2, sh_, mem + off, err) \
                                     : lbrx_tensor_init_memory(&t[k], LBRX_F32, 1, sh_ + 1, mem + off, err); \
        name_of[k] = names[k]; \
        off += (size_t)(sh_[0] ? sh_[0] : 1) * (size_t)sh_[1]; k++; } while (0)
    DEMO_ADD("model.embed_tokens.weight", V, D, 0);
    for (l = 0; l < L; l++)
        for (i = 0; i < n_table; i++) {
            char nm[64];
            if (!lbrx_model_tensor_applies(&table[i], c.arch)) continue;
            snprintf(nm, sizeof nm, "model.layers.%d.%s", l, table[i].hf);
            DEMO_ADD(nm, table[i].rows ? lbrx_model_dim(&c, table[i].rows) : 0, lbrx_model_dim(&c, table[i].cols), table[i].rows == 0);
        }
    DEMO_ADD("model.norm.weight", 0, D, 1);
    DEMO_ADD("lm_head.weight", V, D, 0);
#undef DEMO_ADD
    memset(&desc, 0, sizeof desc);
    desc.tensors = t;
    desc.names = name_of;
    desc.n_tensors = (size_t)n_tensors;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (r == LBRX_OK) r = lbrx_safetensors_write(path, &desc, err);
    free(mem);
    free(t);
    free(names);
    free((void *)name_of);
    if (r != LBRX_OK) return r;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!(f = fopen(path, "w"))) return lbrx_error_set(err, LBRX_ERR_IO, LBRX_NO_OFFSET, "%s: cannot create", path);
    fprintf(f, "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"llama\",\n  \"hidden_act\": \"silu\",\n"
               "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n"
               "  \"num_key_value_heads\": %d,\n  \"vocab_size\": %d,\n  \"max_position_embeddings\": %d,\n  \"rms_norm_eps\": 1e-05,\n"
               "  \"rope_theta\": 10000.0,\n  \"tie_word_embeddings\": false,\n  \"torch_dtype\": \"float32\"\n}\n",
            D, F, L, DEMO_HEADS, DEMO_KV_HEADS, V, DEMO_CTX);
    return fclose(f) == 0 ? LBRX_OK : lbrx_error_set(err, LBRX_ERR_IO, LBRX_NO_OFFSET, "%s: write failed", path);
}

/* Bytes of a file, 0 if it cannot be opened. */
static double demo_file_mb(const char *path) {
    FILE *f = fopen(path, "rb");
    long n = 0;
    if (!f) return 0;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    fclose(f);
    return (double)n / 1e6;
}

typedef struct demo_row {
    double load_ms, rss_mb, prompt_tps, gen_tps, gen_gbps, maxdiff;
} demo_row;

/* Step 3 for one file: load, prompt, generate. ref: the F32 prompt logits (NULL for the F32 run
   itself, which fills *ref_out instead). */
static lbrx_result demo_run(const char *path, int n_threads, const float *ref, float **ref_out, demo_row *row, lbrx_error *err) {
    lbrx_model m;
    lbrx_model_state s;
    int32_t prompt[DEMO_PROMPT];
    uint64_t rng = 7;
    size_t rss0 = lbrx_model_resident_bytes(), n = (size_t)DEMO_PROMPT * DEMO_VOCAB, i;
    double t0 = lbrx_model_now();
    int g, tok;
    lbrx_result r = lbrx_model_load(&m, path, err);
    memset(row, 0, sizeof *row);
    if (r != LBRX_OK) return r;
    row->load_ms = (lbrx_model_now() - t0) * 1e3;
    for (i = 0; i < DEMO_PROMPT; i++) prompt[i] = (int32_t)(lbrx_random_u32(&rng) % DEMO_VOCAB);
    if ((r = lbrx_model_state_init(&s, &m, DEMO_PROMPT, DEMO_PROMPT + DEMO_GEN, LBRX_F16, 1, n_threads, err)) != LBRX_OK) {
        lbrx_model_free(&m);
        return r;
    }
    t0 = lbrx_model_now();
    r = lbrx_model_forward(&m, &s, prompt, DEMO_PROMPT, 1, err);
    row->prompt_tps = DEMO_PROMPT / (lbrx_model_now() - t0);
    if (r == LBRX_OK && ref) {
        for (i = 0; i < n; i++) {
            double d = fabs((double)s.logits[i] - ref[i]);
            if (!(d <= row->maxdiff)) row->maxdiff = d;
        }
    } else if (r == LBRX_OK && (*ref_out = (float *)malloc(n * sizeof(float))) != 0) {
        memcpy(*ref_out, s.logits, n * sizeof(float));
    }
    t0 = lbrx_model_now();
    tok = lbrx_argmax(s.logits + (size_t)(DEMO_PROMPT - 1) * DEMO_VOCAB, DEMO_VOCAB);
    for (g = 0; g < DEMO_GEN && r == LBRX_OK; g++) {
        int32_t t32 = tok;
        r = lbrx_model_forward(&m, &s, &t32, 1, 0, err);
        tok = lbrx_argmax(s.logits, DEMO_VOCAB);
    }
    row->gen_tps = DEMO_GEN / (lbrx_model_now() - t0);
    row->gen_gbps = row->gen_tps * (double)m.weight_bytes / 1e9;
    row->rss_mb = (double)(lbrx_model_resident_bytes() - rss0) / 1e6;
    lbrx_model_state_free(&s, &m);
    lbrx_model_free(&m);
    return r;
}

int main(int argc, char **argv) {
    const char *dir = "build/demo-model";
    char convert[4200], cmd[9000], files[3][4200];
    static const char *labels[3] = { "model.safetensors (F32)", "model-q8_0.gguf", "model-q4_0.gguf" };
    static const char *types[2] = { "q8_0", "q4_0" };
    const char *slash;
    float *ref = 0;
    demo_row rows[3];
    lbrx_error err;
    int n_threads = 0, n_files = 3, i;
    double t0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) n_threads = atoi(argv[++i]);
        else if (argv[i][0] != '-') dir = argv[i];
        else { fprintf(stderr, "usage: demo [DIR] [--threads N]\n"); return 1; }
    }
    /* the convert example sits beside this program */
    slash = strrchr(argv[0], '/');
    snprintf(convert, sizeof convert, "%.*sconvert", slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
#if defined(_WIN32)
    if (_mkdir(dir) != 0 && errno != EEXIST) { fprintf(stderr, "error: cannot create %s\n", dir); return 1; }
#else
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "error: cannot create %s (%s)\n", dir, strerror(errno)); return 1; }
#endif

    printf("lbrx demo: a Llama-shaped model (dim %d, %d layers, %d heads / %d KV heads, ffn %d, vocab %d) with random weights\n",
           DEMO_DIM, DEMO_LAYERS, DEMO_HEADS, DEMO_KV_HEADS, DEMO_FFN, DEMO_VOCAB);
    t0 = lbrx_model_now();
    if (demo_make_checkpoint(dir, &err) != LBRX_OK) { fprintf(stderr, "error: %s\n", err.message); return 1; }
    snprintf(files[0], sizeof files[0], "%s/model.safetensors", dir);
    printf("  wrote %s and config.json: %.1f MB in %.1f s\n", files[0], demo_file_mb(files[0]), lbrx_model_now() - t0);
    if (demo_file_mb(convert) <= 0.0) {
        printf("  %s is not built: the Q8_0 and Q4_0 rows are left out\n", convert);
        n_files = 1;
    }
    for (i = 0; i + 1 < n_files; i++) {
        snprintf(files[i + 1], sizeof files[i + 1], "%s/model-%s.gguf", dir, types[i]);
        snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' --type %s", convert, files[0], files[i + 1], types[i]);
        t0 = lbrx_model_now();
        if (system(cmd) != 0) { fprintf(stderr, "error: %s failed\n", cmd); return 1; }
        printf("  converted to %s: %.1f MB in %.1f s\n", files[i + 1], demo_file_mb(files[i + 1]), lbrx_model_now() - t0);
    }
    printf("  running each: a %d-token prompt as one batch, then %d tokens generated (greedy), f16 KV cache\n\n", DEMO_PROMPT, DEMO_GEN);
    for (i = 0; i < n_files; i++) {
        if (demo_run(files[i], n_threads, i ? ref : 0, &ref, &rows[i], &err) != LBRX_OK) {
            fprintf(stderr, "error: %s: %s\n", files[i], err.message);
            free(ref);
            return 1;
        }
    }
    printf("%-24s %9s %9s %10s %13s %11s %13s %16s\n", "file", "size MB", "load ms", "resident", "prompt tok/s", "gen tok/s",
           "gen GB/s", "max |dlogit|");
    for (i = 0; i < n_files; i++) {
        char diff[32];
        if (i) snprintf(diff, sizeof diff, "%.4f", rows[i].maxdiff);
        else snprintf(diff, sizeof diff, "(reference)");
        printf("%-24s %9.1f %9.1f %7.0f MB %13.1f %11.1f %13.1f %16s\n", labels[i], demo_file_mb(files[i]), rows[i].load_ms,
               rows[i].rss_mb, rows[i].prompt_tps, rows[i].gen_tps, rows[i].gen_gbps, diff);
    }
    {
        double absmax = 0;
        size_t k;
        for (k = 0; k < (size_t)DEMO_PROMPT * DEMO_VOCAB; k++)
            if (fabs((double)ref[k]) > absmax) absmax = fabs((double)ref[k]);
        printf("\nThe F32 model's prompt logits reach |%.2f|. Resident: growth of this process's resident memory while the\n"
               "file was mapped and run (the weights it touched, the KV cache, activations). GB/s: weight bytes per token x tokens/s.\n", absmax);
    }
    free(ref);
    return 0;
}
