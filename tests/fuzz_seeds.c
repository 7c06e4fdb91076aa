/* fuzz_seeds.c - writes small valid seed files for the fuzzers with lbrx's own writers, so the
   fuzzers start from inputs that reach every dtype's decoder (the real files in ../shared/data
   are added too, by tests/fuzz.sh). Usage: fuzz_seeds DIR   (writes into DIR/gguf/,
   DIR/safetensors/ and DIR/tokenizer/, which must exist). Seeds are generated, never committed. */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
#include <stdio.h>
#include <string.h>

static unsigned char bytes[1 << 16];

static int gguf_seed(const char *dir, const char *name, const lbrx_dtype *types, int n_types, uint32_t alignment) {
    lbrx_gguf_writer *w = NULL;
    lbrx_error err;
    char path[4096];
    int i, ok = 1;
    uint32_t arr_u32[4] = {1, 2, 3, 0xffffffffu};
    float arr_f32[3] = {0.5f, -1.0f, 1e30f};
    lbrx_gguf_str toks[3];
    uint64_t u64 = ((uint64_t)1 << 40) + 3;
    int8_t i8 = -5;
    unsigned char b = 1;
    double f64 = 3.25;
    toks[0].data = "<s>"; toks[0].len = 3;
    toks[1].data = "\xe2\x96\x81the"; toks[1].len = 6;
    toks[2].data = ""; toks[2].len = 0;
    if (lbrx_gguf_writer_create(&w, NULL, &err) != LBRX_OK) return 0;
    ok &= lbrx_gguf_writer_add_str(w, "general.architecture", "llama", &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add_u32(w, "general.alignment", alignment, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add(w, "a.u64", LBRX_GGUF_UINT64, &u64, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add(w, "a.i8", LBRX_GGUF_INT8, &i8, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add(w, "a.bool", LBRX_GGUF_BOOL, &b, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add(w, "a.f64", LBRX_GGUF_FLOAT64, &f64, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add_array(w, "a.u32s", LBRX_GGUF_UINT32, arr_u32, 4, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add_array(w, "a.f32s", LBRX_GGUF_FLOAT32, arr_f32, 3, &err) == LBRX_OK;
    ok &= lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, toks, 3, &err) == LBRX_OK;
    for (i = 0; ok && i < n_types; i++) {
        /* a matrix of two rows of two blocks and a vector of one block */
        lbrx_tensor t;
        int64_t blk = lbrx_dtype_block_size(types[i]), m[2], v[1];
        char tname[64];
        m[0] = 2; m[1] = 2 * blk; v[0] = blk;
        snprintf(tname, sizeof tname, "blk.%d.%s.weight", i, lbrx_dtype_name(types[i]));
        ok &= lbrx_tensor_init_memory(&t, types[i], 2, m, bytes, &err) == LBRX_OK &&
              lbrx_gguf_writer_add_tensor(w, tname, &t, &err) == LBRX_OK;
        snprintf(tname, sizeof tname, "blk.%d.%s.bias", i, lbrx_dtype_name(types[i]));
        ok &= lbrx_tensor_init_memory(&t, types[i], 1, v, bytes + 4096, &err) == LBRX_OK &&
              lbrx_gguf_writer_add_tensor(w, tname, &t, &err) == LBRX_OK;
    }
    snprintf(path, sizeof path, "%s/gguf/%s.gguf", dir, name);
    ok &= ok && lbrx_gguf_writer_write_path(w, path, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "fuzz_seeds: %s: %s\n", path, err.message);
    lbrx_gguf_writer_destroy(w);
    return ok;
}

static int safetensors_seed(const char *dir, lbrx_dtype dtype) {
    lbrx_tensor t[3];
    const char *names[3] = {"model.layers.0.weight", "bias", "scalar"};
    const char *meta[4] = {"format", "pt", "note", "\xce\xb5"};
    int64_t blk = lbrx_dtype_block_size(dtype), m[2], v[1];  /* packed sub-byte types: rows of whole bytes, no scalar */
    lbrx_safetensors_write_desc desc;
    lbrx_error err;
    char path[4096];
    int ok;
    const char *sname = lbrx_safetensors_dtype_name(dtype);
    m[0] = 3; m[1] = 5 * blk; v[0] = 7 * blk;
    ok = lbrx_tensor_init_memory(&t[0], dtype, 2, m, bytes, &err) == LBRX_OK &&
         lbrx_tensor_init_memory(&t[1], dtype, 1, v, bytes + 1024, &err) == LBRX_OK &&
         (blk > 1 || lbrx_tensor_init_memory(&t[2], dtype, 0, NULL, bytes + 2048, &err) == LBRX_OK);
    memset(&desc, 0, sizeof desc);
    desc.tensors = t; desc.names = names; desc.n_tensors = blk > 1 ? 2 : 3; desc.metadata = meta; desc.n_metadata = 2;
    snprintf(path, sizeof path, "%s/safetensors/%s.safetensors", dir, sname ? sname : "x");
    ok = ok && lbrx_safetensors_write(path, &desc, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "fuzz_seeds: %s: %s\n", path, err.message);
    return ok;
}

/* Affine group-quantized weights (lbrx_affine, reached by fuzz_safetensors.c through every
   NAME.scales): MLX (4-bit, U32 [4, 8] = 4 rows of 64, groups of 32, f16 scales and biases),
   AWQ (qweight I32 [64, 1] = 8 outputs of 64 inputs) and GPTQ (qweight I32 [8, 8], g_idx i / 32),
   one file each. */
static int affine_seed(const char *dir, const char *name) {
    static int32_t g_idx[64];
    lbrx_tensor t[4];
    const char *names[4];
    char full[4][32], path[4096];
    int64_t shapes[4][2];
    lbrx_dtype types[4];
    lbrx_safetensors_write_desc desc;
    lbrx_error err;
    int i, n = name[0] == 'g' ? 4 : 3, ok = 1;
    const int mlx = name[0] == 'm', awq = name[0] == 'a';
    static const char *const parts[2][4] = { { "weight", "scales", "biases", 0 }, { "qweight", "scales", "qzeros", "g_idx" } };
    for (i = 0; i < 64; i++) g_idx[i] = i / 32;
    shapes[0][0] = mlx ? 4 : awq ? 64 : 8; shapes[0][1] = mlx ? 8 : awq ? 1 : 8; types[0] = mlx ? LBRX_U32 : LBRX_I32;
    shapes[1][0] = mlx ? 4 : 2;            shapes[1][1] = mlx ? 2 : 8;             types[1] = LBRX_F16;
    shapes[2][0] = mlx ? 4 : 2;            shapes[2][1] = mlx ? 2 : 1;             types[2] = mlx ? LBRX_F16 : LBRX_I32;
    shapes[3][0] = 64;                     shapes[3][1] = 0;                       types[3] = LBRX_I32;
    for (i = 0; i < n; i++) {
        snprintf(full[i], sizeof full[i], "%s.%s", name, parts[!mlx][i]);
        names[i] = full[i];
        ok &= lbrx_tensor_init_memory(&t[i], types[i], i == 3 ? 1 : 2, shapes[i], i == 3 ? (void *)g_idx : (void *)(bytes + 1024 * i), &err) == LBRX_OK;
    }
    memset(&desc, 0, sizeof desc);
    desc.tensors = t; desc.names = names; desc.n_tensors = (size_t)n;
    snprintf(path, sizeof path, "%s/safetensors/affine-%s.safetensors", dir, name);
    ok = ok && lbrx_safetensors_write(path, &desc, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "fuzz_seeds: %s: %s\n", path, err.message);
    return ok;
}

/* A split GGUF set of three files (two tensors each at most), concatenated into one input as
   fuzz_gguf.c takes it (each file starts with the magic). */
static int split_seed(const char *dir) {
    static const lbrx_dtype types[5] = { LBRX_F32, LBRX_Q8_0, LBRX_F16, LBRX_Q4_1, LBRX_F32 };
    lbrx_gguf_writer *w = NULL;
    lbrx_error err;
    char prefix[4096], part[4200], path[4096];
    FILE *out;
    int i, ok;
    snprintf(prefix, sizeof prefix, "%s/gguf/split-set", dir);
    ok = lbrx_gguf_writer_create(&w, NULL, &err) == LBRX_OK && lbrx_gguf_writer_add_str(w, "general.architecture", "llama", &err) == LBRX_OK;
    for (i = 0; ok && i < 5; i++) {
        lbrx_tensor t;
        int64_t m[2];
        char tname[32];
        m[0] = 2; m[1] = 32;
        snprintf(tname, sizeof tname, "blk.%d.weight", i);
        ok = lbrx_tensor_init_memory(&t, types[i], 2, m, bytes + 512 * i, &err) == LBRX_OK && lbrx_gguf_writer_add_tensor(w, tname, &t, &err) == LBRX_OK;
    }
    ok = ok && lbrx_gguf_writer_write_split(w, prefix, 300, &err) == LBRX_OK;
    lbrx_gguf_writer_destroy(w);
    snprintf(path, sizeof path, "%s/gguf/split.gguf", dir);
    out = ok ? fopen(path, "wb") : NULL;
    for (i = 1; out && i <= 3; i++) {
        FILE *f;
        size_t got;
        snprintf(part, sizeof part, "%s-%05d-of-00003.gguf", prefix, i);
        f = fopen(part, "rb");
        ok &= f != NULL;
        while (f && (got = fread(bytes + 32768, 1, 16384, f)) > 0) ok &= fwrite(bytes + 32768, 1, got, out) == got;
        if (f) fclose(f);
        remove(part);
    }
    if (out) fclose(out);
    if (!ok || !out) fprintf(stderr, "fuzz_seeds: %s: %s\n", path, ok ? "cannot write" : err.message);
    return ok && out;
}

/* A small SentencePiece vocabulary as a GGUF file without tensors (for fuzz_tokenizer.c): the
   special tokens, the 256 byte tokens and a few merges, with scores and types. */
static int tokenizer_seed(const char *dir) {
    static const char *const merges[] = {"\xe2\x96\x81t", "he", "\xe2\x96\x81the", "in", "er", "\xe2\x96\x81", "o", "e"};
    enum { N_MERGES = sizeof merges / sizeof merges[0], N = 3 + 256 + N_MERGES };
    static char names[256][8];
    lbrx_gguf_str toks[N];
    float scores[N];
    int32_t types[N];
    uint32_t bos = 1, eos = 2;
    lbrx_gguf_writer *w = NULL;
    lbrx_error err;
    char path[4096];
    int i, ok;
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
    ok = lbrx_gguf_writer_create(&w, NULL, &err) == LBRX_OK &&
         lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", "llama", &err) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, toks, N, &err) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, scores, N, &err) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, types, N, &err) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.bos_token_id", LBRX_GGUF_UINT32, &bos, &err) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.eos_token_id", LBRX_GGUF_UINT32, &eos, &err) == LBRX_OK;
    snprintf(path, sizeof path, "%s/tokenizer/vocab.gguf", dir);
    ok = ok && lbrx_gguf_writer_write_path(w, path, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "fuzz_seeds: %s: %s\n", path, err.message);
    lbrx_gguf_writer_destroy(w);
    return ok;
}

/* A small WordPiece (BERT) vocabulary as a GGUF file without tensors (for fuzz_tokenizer.c),
   in llama.cpp's form: word starts carry '▁', continuations nothing. */
static int tokenizer_bert_seed(const char *dir) {
    static const char *const pieces[] = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xe2\x96\x81the", "\xe2\x96\x81t", "he",
                                          "\xe2\x96\x81,", "\xe2\x96\x81" "a", "b", "\xe2\x96\x81\xe6\x97\xa5", "##x" };
    enum { N = sizeof pieces / sizeof pieces[0] };
    lbrx_gguf_str toks[N];
    int32_t types[N];
    uint32_t unk = 1, cls = 2, sep = 3;
    lbrx_gguf_writer *w = NULL;
    lbrx_error err;
    char path[4096];
    int i, ok;
    for (i = 0; i < N; i++) { toks[i].data = pieces[i]; toks[i].len = strlen(pieces[i]); types[i] = i < 4 ? 3 : 1; }
    ok = lbrx_gguf_writer_create(&w, NULL, &err) == LBRX_OK &&
         lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", "bert", &err) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.tokens", LBRX_GGUF_STRING, toks, N, &err) == LBRX_OK &&
         lbrx_gguf_writer_add_array(w, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, types, N, &err) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.unknown_token_id", LBRX_GGUF_UINT32, &unk, &err) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.cls_token_id", LBRX_GGUF_UINT32, &cls, &err) == LBRX_OK &&
         lbrx_gguf_writer_add(w, "tokenizer.ggml.seperator_token_id", LBRX_GGUF_UINT32, &sep, &err) == LBRX_OK;
    snprintf(path, sizeof path, "%s/tokenizer/bert.gguf", dir);
    ok = ok && lbrx_gguf_writer_write_path(w, path, &err) == LBRX_OK;
    if (!ok) fprintf(stderr, "fuzz_seeds: %s: %s\n", path, err.message);
    lbrx_gguf_writer_destroy(w);
    return ok;
}

int main(int argc, char **argv) {
    static const lbrx_dtype gguf_types[] = {
        LBRX_F32, LBRX_F16, LBRX_BF16, LBRX_F64, LBRX_I8, LBRX_I16, LBRX_I32, LBRX_I64,
        LBRX_Q4_0, LBRX_Q4_1, LBRX_Q5_0, LBRX_Q5_1, LBRX_Q8_0, LBRX_Q8_1,
        LBRX_Q2_K, LBRX_Q3_K, LBRX_Q4_K, LBRX_Q5_K, LBRX_Q6_K, LBRX_Q8_K, LBRX_IQ4_NL, LBRX_TQ2_0, LBRX_MXFP4};
    static const lbrx_dtype st_types[] = {
        LBRX_F64, LBRX_F32, LBRX_F16, LBRX_BF16, LBRX_I64, LBRX_I32, LBRX_I16, LBRX_I8,
        LBRX_U64, LBRX_U32, LBRX_U16, LBRX_U8, LBRX_BOOL, LBRX_F8_E4M3, LBRX_F8_E5M2, LBRX_F8_E8M0,
        LBRX_F8_E4M3FNUZ, LBRX_F8_E5M2FNUZ, LBRX_F4, LBRX_F6_E2M3, LBRX_F6_E3M2, LBRX_C64};
    int n_gguf = (int)(sizeof gguf_types / sizeof gguf_types[0]), n_st = (int)(sizeof st_types / sizeof st_types[0]);
    int i, ok = 1;
    unsigned long long s = 0x2545f4914f6cdd1dULL;
    if (argc != 2) { fprintf(stderr, "usage: fuzz_seeds DIR\n"); return 2; }
    /* bytes that decode to ordinary numbers: small f16/bf16 scales, no NaN in most places */
    for (i = 0; i < (int)sizeof bytes; i++) {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
        bytes[i] = (unsigned char)((s * 2685821657736338717ULL) >> 56);
        if (i & 1) bytes[i] &= 0x3b;
    }
    for (i = 0; i < n_gguf; i++) ok &= gguf_seed(argv[1], lbrx_dtype_name(gguf_types[i]), &gguf_types[i], 1, 32);
    ok &= gguf_seed(argv[1], "all", gguf_types, n_gguf, 64);
    for (i = 0; i < n_st; i++) ok &= safetensors_seed(argv[1], st_types[i]);
    ok &= tokenizer_seed(argv[1]) && tokenizer_bert_seed(argv[1]);
    ok &= affine_seed(argv[1], "mlx") && affine_seed(argv[1], "awq") && affine_seed(argv[1], "gptq");
    ok &= split_seed(argv[1]);
    return ok ? 0 : 1;
}
