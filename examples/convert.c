/* convert - convert and quantize model files between GGUF and safetensors.

       cc -O2 -march=native examples/convert.c -o convert -lm
       ./convert IN OUT --type TYPE [--pure] [--threads N] [--keep PATTERN]... [--vocab VOCAB.gguf] [--name NAME]
                 [--split-max-size N[K|M|G]]

   TYPE  f32, f16, bf16, or one of llama.cpp's quantizations:
           uniform (every quantizable weight gets the type, as llama-quantize --pure):
               q8_0  q4_0  q4_1
           llama.cpp's mixes (per-tensor rules below; --pure makes them uniform too):
               q4_k_m  q4_k_s  q5_k_m  q5_k_s  q6_k  q3_k_m  q2_k  q5_0  q5_1  iq4_nl  iq4_xs

   IN    a GGUF file, the first file of a split GGUF set (-00001-of-0000N.gguf), a safetensors
         file, or a sharded checkpoint's model.safetensors.index.json (the format is found from
         the content, not the name)
   OUT   *.gguf (any --type) or *.safetensors (f32, f16, bf16). With --split-max-size, a GGUF
         output is a split set OUT-without-.gguf-00001-of-0000N.gguf ... of at most N bytes of
         tensor data per file (K, M, G: thousands, millions, billions, as llama.cpp's
         gguf-split), the metadata in the first file; split.* keys of a split input are not
         copied.

   WHICH TENSORS GET --type
       GGUF output: 2-D float or quantized tensors get --type when their rows fit its block size
       (32 for q8_0/q4_0/q4_1); the rest of the float tensors (norms and other 1-D tensors, 2-D
       tensors with odd row lengths, other ranks) are written as f32, as llama.cpp does. Tensors
       whose name matches a --keep PATTERN (shell-style: * and ?) keep their own float type (f32,
       f16 or bf16; anything else becomes f32). Integer tensors are copied unchanged.
       safetensors output: every float tensor gets --type (except --keep matches).
       Quantizing uses lbrx's GGML-exact reference quantizers: converting GGML's
       stories260K-f32.gguf to q8_0 gives the same bytes as GGML's own quantizer.

   THE MIXES (llama.cpp's llama-quantize without an importance matrix, tensor for tensor)
       Quantized: 2-D tensors whose name ends in "weight", except norms (*_norm.weight) and a few
       small kinds (ffn_gate_inp, position_embd, token_types, attn_rel_b, ssm_conv1d). The
       others keep their type (GGUF input) or become f32 (safetensors input, as llama.cpp's
       convert_hf_to_gguf.py writes them). Each quantized tensor starts from the mix's type
       (q2_K, q3_K, q4_K, q5_K, q6_K, q5_0, q5_1, iq4_nl, iq4_xs), then:
         output.weight (token_embd.weight too when there is no output.weight): q6_K
             (q8_0 when its rows do not fit the mix's block);
         attn_v (and attn_qkv), counted in llama.cpp's tensor order (by layer, then name):
             q2_k: q4_K with >= 4 query heads per KV head, else q3_K; q3_k_m: q5_K for the first
             two, then q4_K; q4_k_m, q5_k_m: q6_K where more_bits(i, n); q4_k_s: q5_K for the
             first four; iq4_nl, iq4_xs: q5_K with >= 4 query heads per KV head;
             q3_K/q4_K become q5_K in 80-layer GQA llama models (llama.cpp's "70B" rule);
         ffn_down, layer i of n = block_count: q2_k: q3_K; q3_k_m: q5_K below n/16, else
             q4_K; q4_k_m, q5_k_m: q6_K where more_bits(i, n); q4_k_s, iq4_nl, iq4_xs: q5_K
             below n/8;
         attn_output: q2_k: q3_K; q3_k_m: q4_K;
       where more_bits(i, n) = i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2. Last, a row length
       that the type's block does not divide falls back: q6_K -> q8_0, q5_K -> q5_1, q4_K ->
       q5_0, q3_K and q2_K -> q4_0, iq4_xs -> iq4_nl, and to f16 when 32 does not divide it
       either. --pure skips every rule but the fallback. Mixture-of-experts and falcon rules are
       not implemented (3-D tensors keep their type). tests/test_tools.c checks the output
       against llama.cpp's, file hash and tensor types, for every mix.

   METADATA
       GGUF input: every key is copied (in order), then general.file_type (llama_ftype of --type)
       and, when a tensor is quantized, general.quantization_version = 2 are set.
       safetensors input with a Hugging Face config.json beside it whose model_type is one that
       examples/lbrx_model.h knows (llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3): the
       tensors get llama.cpp's GGUF names and the hyper-parameters llama.cpp's keys, both from
       lbrx_model.h's tables (general.architecture llama -- mistral too, as llama.cpp writes it --
       qwen2, qwen3, gemma2, gemma3 or phi3; ARCH.context_length, embedding_length,
       feed_forward_length, block_count, attention.head_count, head_count_kv, key_length,
       value_length, rope.dimension_count, vocab_size, attention.layer_norm_rms_epsilon,
       rope.freq_base, and where the model has them attention.sliding_window,
       attn_logit_softcapping, final_logit_softcapping, rope.scaling.type/factor (linear),
       rope.freq_base_swa (gemma3), attention.sliding_window_pattern (when it is not the
       architecture's usual one) and attention.scale (when query_pre_attn_scalar is not head_dim)),
       and without --vocab tokenizer.ggml.model "none" (no vocabulary: llama.cpp loads such a
       file with ARCH.vocab_size dummy tokens; lbrx reads token ids) and
       tokenizer.ggml.bos_token_id / eos_token_id; e.g. for llama
           model.embed_tokens.weight                 -> token_embd.weight
           model.layers.N.input_layernorm.weight     -> blk.N.attn_norm.weight
           model.layers.N.self_attn.q_proj.weight    -> blk.N.attn_q.weight       (rows permuted, below)
           model.layers.N.self_attn.k_proj.weight    -> blk.N.attn_k.weight       (rows permuted, below)
           model.layers.N.self_attn.o_proj.weight    -> blk.N.attn_output.weight
           model.layers.N.post_attention_layernorm.weight -> blk.N.ffn_norm.weight
           model.layers.N.mlp.gate_proj.weight       -> blk.N.ffn_gate.weight     (and up, down)
           model.norm.weight                         -> output_norm.weight
           lm_head.weight                            -> output.weight  (absent when the embeddings
                                                        are tied: then use token_embd.weight)
           *.rotary_emb.inv_freq                     (dropped)
       and qwen2's attn_q/k/v.bias, qwen3's and gemma3's attn_q_norm / attn_k_norm, gemma's
       post_attention_norm, ffn_norm (pre_feedforward_layernorm) and post_ffw_norm, phi3's fused
       attn_qkv and ffn_up (gate and up). Gemma's norms are stored as 1 + w, as llama.cpp does.
       Llama 3.x RoPE scaling (rope_type "llama3") becomes the tensor rope_freqs.weight (f32
       [head_dim / 2], the divisors of each frequency), as llama.cpp writes it.
       Quantized checkpoints (see lbrx_model_quant in examples/lbrx_model.h): MLX ("quantization"
       in config.json: U32 .weight with .scales and .biases) and AWQ / GPTQ int4
       ("quantization_config": .qweight, .qzeros, .scales, .g_idx) become one NAME.weight each.
       4-bit weights whose groups repack into Q4_1 exactly (MLX with f16 scales and biases) are
       copied into the GGUF output as Q4_1 with no float detour, whatever --type says (a second
       quantization would only lose); the others -- 8-bit MLX, AWQ/GPTQ, whose -zero x scale
       f16 cannot hold -- are dequantized (F16, or F32 if a value overflows f16), a line on stderr
       names each and says why, and then get --type as any float tensor (llama and lbrx_model
       load the checkpoint itself into lbrx's exact LBRX_AFFINE_Q4 / _Q8 blocks instead, which no
       file format has: the GGUF writer refuses them). Act-order GPTQ (g_idx not i / group_size)
       is refused.
       IN may also be the checkpoint's directory (config.json beside model.safetensors or
       model.safetensors.index.json).
       There is no tokenizer conversion: --vocab VOCAB.gguf copies every tokenizer.* key of a
       GGUF file (e.g. llama.cpp's ggml-vocab-llama-spm.gguf) into the output.

   ROPE CONVENTION OF THE GGUF OUTPUT (for examples/llama.c and anyone reading these files)
       Every architecture but llama keeps HF's NeoX-style RoPE (llama.cpp's rope type NEOX) and its
       rows as they are. For llama the output follows llama.cpp's GGUF llama layout: inside each head of Q and K, RoPE rotates
       ADJACENT pairs (x[2i], x[2i+1]) by theta_i = pos * freq_base^(-2i/head_dim) -- GGML's
       "normal" rope mode, the one llama2.c's run.c uses, and what every llama GGUF from
       llama.cpp (and stories260K) expects. Hugging Face llama checkpoints instead rotate the
       pairs (x[i], x[i + head_dim/2]) ("rotate_half", NeoX style), so convert permutes the rows
       of q_proj (per num_attention_heads) and k_proj (per num_key_value_heads) exactly as
       llama.cpp's convert_hf_to_gguf.py does: with D = head_dim,
           output row h*D + 2*j + s  =  input row h*D + s*D/2 + j     (s in {0,1}, j < D/2).
       After this, interleaved-pair RoPE on the GGUF weights equals rotate_half RoPE on the HF
       weights (up to the same fixed permutation of Q and K components, which the attention
       scores do not see). GGUF inputs are never permuted.

   Both outputs are streamed: the tensors are converted a few MiB of rows at a time while the
   writer writes them, so memory stays at one such chunk whatever the model's size (the inputs
   are memory-mapped). Rows are quantized by --threads N threads (default: OpenMP's; the bytes do
   not depend on it). Progress goes to stderr for inputs over 64 MiB; a summary line to stdout.
   Errors: one line on stderr starting "error:", exit 1. (tests/test_tools.c includes this file with
   LBRX_EXAMPLE_NO_MAIN and calls convert_main.) */
#ifndef LBRX_EXAMPLE_NO_IMPL
#define LBRX_IMPL
#define LBRX_MODEL_IMPLEMENTATION
#endif
#include "lbrx_model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define CV_PROGRESS_BYTES ((uint64_t)64 << 20)
#define CV_MAX_KEEP 16

typedef struct cv_tensor {
    char name[256];             /* output name */
    lbrx_tensor src;            /* the input tensor (own storage reference) */
    lbrx_dtype out;             /* output dtype */
    int64_t permute_heads;      /* > 0: Q/K rows permuted per this many heads (HF llama) */
    int add_one;                /* 1 is added to every value (HF Gemma's norms) */
    int repacked;               /* an affine weight repacked into Q4_1 exactly */
} cv_tensor;

/* A --type: its dtype, llama_ftype (general.file_type) and whether llama.cpp's mix rules apply. */
typedef struct cv_type {
    const char *name;
    lbrx_dtype type;
    uint32_t ftype;
    int mix;
} cv_type;

static const cv_type cv_types[] = {
    {"f32", LBRX_F32, 0, 0}, {"f16", LBRX_F16, 1, 0}, {"bf16", LBRX_BF16, 32, 0}, {"q8_0", LBRX_Q8_0, 7, 0},
    {"q4_0", LBRX_Q4_0, 2, 0}, {"q4_1", LBRX_Q4_1, 3, 0}, {"q4_k_m", LBRX_Q4_K, 15, 1}, {"q4_k_s", LBRX_Q4_K, 14, 1},
    {"q5_k_m", LBRX_Q5_K, 17, 1}, {"q5_k_s", LBRX_Q5_K, 16, 1}, {"q6_k", LBRX_Q6_K, 18, 1}, {"q3_k_m", LBRX_Q3_K, 12, 1},
    {"q2_k", LBRX_Q2_K, 10, 1}, {"q5_0", LBRX_Q5_0, 8, 1}, {"q5_1", LBRX_Q5_1, 9, 1}, {"iq4_nl", LBRX_IQ4_NL, 25, 1},
    {"iq4_xs", LBRX_IQ4_XS, 30, 1}};
#define CV_N_TYPES (sizeof cv_types / sizeof cv_types[0])

typedef struct cv_job {
    const char *in, *out, *vocab, *name;
    uint64_t split_max;         /* --split-max-size, 0: one file */
    lbrx_dtype type;
    const cv_type *ti;          /* the --type */
    int pure, threads;
    const char *keep[CV_MAX_KEEP];
    int n_keep;
    lbrx_gguf *gguf;            /* input, one of these two */
    lbrx_safetensors *st;
    lbrx_json *config;          /* HF config.json when the input is an HF checkpoint lbrx_model.h knows */
    lbrx_model_config mc;       /* its hyper-parameters */
    lbrx_model_quant quant;     /* and its quantization (MLX, AWQ, GPTQ) */
    char in_path[4200];         /* IN, or the checkpoint file inside the directory IN */
    cv_tensor *t;
    size_t n;
    float *scratch;             /* one row of floats per thread, the longest row */
    int64_t scratch_row;
    uint64_t total_bytes, done_bytes;
    size_t n_quantized;
    FILE *log;                  /* progress */
    lbrx_open_desc opt;      /* lbrx's allocator, for the readers and the writers */
    char error[512];
} cv_job;

/* Shell-style match of * and ? (iterative, backtracking to the last star). */
static int cv_glob(const char *pat, const char *s) {
    const char *star = 0, *resume = 0;
    while (*s) {
        if (*pat == '*') { star = pat++; resume = s; }
        else if (*pat == '?' || *pat == *s) { pat++; s++; }
        else if (star) { pat = star + 1; s = ++resume; }
        else return 0;
    }
    while (*pat == '*') pat++;
    return *pat == 0;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static int cv_fail(cv_job *job, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->error, sizeof job->error, fmt, ap);
    va_end(ap);
    return 1;
}

/* Fill a library error from a callback (the convert-side failures of a row). */
static lbrx_result cv_error(lbrx_error *err, lbrx_result r, const char *what, const char *name, const char *dtype) {
    return lbrx_error_set(err, r, LBRX_NO_OFFSET, "tensor '%.100s': %s %s (%s)", name, what, dtype, lbrx_result_str(r));
}

static int cv_is_float(lbrx_dtype t) {
    return t == LBRX_F32 || t == LBRX_F16 || t == LBRX_BF16 || t == LBRX_F64 || t == LBRX_F8_E4M3 || t == LBRX_F8_E5M2 ||
           t == LBRX_F8_E4M3FNUZ || t == LBRX_F8_E5M2FNUZ || t == LBRX_F8_E8M0 || lbrx_dtype_is_quantized(t);  /* F4, F6_*: packed */
}

static int cv_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- HF llama checkpoints ---- */

static const char *cv_dir_end(const char *path) {
    const char *a = strrchr(path, '/'), *b = strrchr(path, '\\');
    return a > b ? a : b;
}

/* Read config.json beside the input; no config (and no error) when there is none or its
   model_type is not one lbrx_model.h knows. */
static int cv_load_hf_config(cv_job *job) {
    char path[4300];
    const char *end = cv_dir_end(job->in);
    FILE *f;
    long len;
    char *text;
    lbrx_error err;
    snprintf(path, sizeof path, "%.*sconfig.json", end ? (int)(end - job->in + 1) : 0, job->in);
    f = fopen(path, "rb");
    if (!f) return 0;
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 || !(text = (char *)malloc((size_t)len + 1))) {
        fclose(f);
        return cv_fail(job, "%s: cannot read", path);
    }
    len = (long)fread(text, 1, (size_t)len, f);
    fclose(f);
    {
        lbrx_json_desc jd;
        memset(&jd, 0, sizeof jd);
        jd.allocator = job->opt.allocator;
        if (lbrx_json_parse(&job->config, text, (size_t)len, &jd, &err) != LBRX_OK) {
            free(text);
            return cv_fail(job, "%s: %s", path, err.message);
        }
    }
    free(text);
    if (!lbrx_arch_find_hf(lbrx_json_string(lbrx_json_get(lbrx_json_root(job->config), "model_type"), 0))) {
        lbrx_json_destroy(job->config);
        job->config = 0;
        return 0;
    }
    if (lbrx_model_config_from_hf(lbrx_json_root(job->config), &job->mc, &err) != LBRX_OK ||
        lbrx_model_quant_from_hf(lbrx_json_root(job->config), &job->quant, &err) != LBRX_OK)
        return cv_fail(job, "%s: %s", path, err.message);
    job->quant.q4_1_only = 1;   /* lbrx's affine dtypes have no GGUF or safetensors type */
    return 0;
}

static int cv_hf_metadata(cv_job *job, lbrx_gguf_writer *w, lbrx_error *err) {
    const lbrx_json_value *root = lbrx_json_root(job->config), *v;
    if (lbrx_model_write_gguf_config(w, &job->mc, err) != LBRX_OK ||
        lbrx_gguf_writer_add_str(w, "general.name", job->name ? job->name : job->mc.arch->name, err) != LBRX_OK)
        return cv_fail(job, "%s", err->message);
    /* special token ids, unless a --vocab file brings its own tokenizer.* keys; without one the
       file says it has no vocabulary ("none"), as llama.cpp needs to load it at all (it then makes
       ARCH.vocab_size dummy tokens) */
    if (!job->vocab) {
        if (lbrx_gguf_writer_add_str(w, "tokenizer.ggml.model", "none", err) != LBRX_OK) return cv_fail(job, "%s", err->message);
        static const char *const ids[2][2] = {{"bos_token_id", "tokenizer.ggml.bos_token_id"}, {"eos_token_id", "tokenizer.ggml.eos_token_id"}};
        int k;
        for (k = 0; k < 2; k++) {
            int64_t id;
            v = lbrx_json_get(root, ids[k][0]);
            if (v && lbrx_json_i64(v, &id) == LBRX_OK && id >= 0 && id <= (int64_t)UINT32_MAX &&
                lbrx_gguf_writer_add_u32(w, ids[k][1], (uint32_t)id, err) != LBRX_OK)
                return cv_fail(job, "%s", err->message);
        }
    }
    return 0;
}

/* ---- input ---- */

/* Add one input tensor (a new storage reference), mapping its name for HF checkpoints. */
static int cv_add(cv_job *job, const lbrx_tensor *t, const char *name) {
    cv_tensor *c;
    c = &job->t[job->n];
    c->permute_heads = 0;
    c->add_one = 0;
    if (job->config) {
        int r = lbrx_model_gguf_name(&job->mc, name, c->name, sizeof c->name, &c->permute_heads, &c->add_one);
        if (r == 0) return 0;
        if (r < 0) return cv_fail(job, "tensor '%s': no GGUF %s name for this Hugging Face tensor", name, job->mc.arch->name);
    } else {
        if (strlen(name) >= sizeof c->name) return cv_fail(job, "tensor '%.80s...': name too long", name);
        snprintf(c->name, sizeof c->name, "%s", name);
    }
    if (c->permute_heads && (t->ndim != 2 || t->shape[0] % (2 * c->permute_heads) != 0))
        return cv_fail(job, "tensor '%s': rows do not split into heads of even size for the RoPE permutation", c->name);
    if (c->add_one && !cv_is_float(t->dtype)) return cv_fail(job, "tensor '%s': a norm of type %s", c->name, lbrx_dtype_name(t->dtype));
    c->src = *t;
    lbrx_storage_retain(c->src.storage);
    job->n++;
    return 0;
}

/* A tensor of a quantized HF checkpoint: its scales, biases, qzeros, g_idx are read with their
   weight (1: skip it); a quantized weight (MLX's U32 .weight, AWQ/GPTQ's .qweight) is added as
   NAME.weight in Q4_1 when exact, else dequantized with a line on the log saying so; the rest
   (0) is added as it is. */
static int cv_affine(cv_job *job, const lbrx_tensor *t, const char *name, int *bad) {
    static const char *const parts[2][3] = { { ".scales", ".biases", 0 }, { ".scales", ".qzeros", ".g_idx" } };
    const int mlx = job->quant.packing == LBRX_AFFINE_MLX;
    char wname[300], why[160];
    lbrx_tensor w;
    lbrx_error err;
    size_t n = strlen(name), before = job->n;
    int k, how;
    *bad = 0;
    if (!job->quant.packing) return 0;
    for (k = 0; k < 3; k++)
        if (parts[!mlx][k] && cv_ends_with(name, parts[!mlx][k])) return 1;
    if (mlx ? !(cv_ends_with(name, ".weight") && t->dtype == LBRX_U32) : !cv_ends_with(name, ".qweight")) return 0;
    snprintf(wname, sizeof wname, "%.*s.weight", (int)(n - (mlx ? 7 : 8)), name);
    if (lbrx_model_hf_weight(job->st, &job->quant, wname, &w, &how, why, sizeof why, &err) != LBRX_OK) {
        *bad = cv_fail(job, "%s: %s", job->in, err.message);
        return 1;
    }
    if (how == LBRX_MODEL_WEIGHT_DEQUANTIZED && job->log)
        fprintf(job->log, "convert: %s: not exact as Q4_1 (%s); dequantized to %s, then as a float tensor\n", wname, why, lbrx_dtype_name(w.dtype));
    *bad = cv_add(job, &w, wname);
    if (job->n > before) job->t[before].repacked = how == LBRX_MODEL_WEIGHT_REPACKED;
    lbrx_tensor_release(&w);
    return 1;
}

/* Llama 3.x RoPE scaling as llama.cpp writes it: the tensor rope_freqs.weight. */
static int cv_add_rope_freqs(cv_job *job) {
    cv_tensor *c = &job->t[job->n];
    int64_t shape[1];
    lbrx_error err;
    shape[0] = job->mc.rope_dim / 2;
    memset(c, 0, sizeof *c);
    if (lbrx_tensor_init_heap(&c->src, LBRX_F32, 1, shape, &job->opt.allocator, &err) != LBRX_OK) return cv_fail(job, "%s", err.message);
    lbrx_model_llama3_factors(&job->mc, (float *)c->src.data);
    snprintf(c->name, sizeof c->name, "rope_freqs.weight");
    job->n++;
    return 0;
}

/* Open the input: mapped once, its format said by the library from its content, the reader
   opening the same mapping (a split GGUF set or a shard index opens the files it names). */
static int cv_open_input(cv_job *job) {
    lbrx_storage *s;
    lbrx_error err;
    lbrx_result r;
    lbrx_format fmt;
    size_t i, count;
    FILE *f;
    /* a checkpoint directory: its index or its one file */
    snprintf(job->in_path, sizeof job->in_path, "%s/config.json", job->in);
    if ((f = fopen(job->in_path, "rb")) != 0) {
        fclose(f);
        snprintf(job->in_path, sizeof job->in_path, "%s/model.safetensors.index.json", job->in);
        if ((f = fopen(job->in_path, "rb")) != 0) fclose(f);
        else snprintf(job->in_path, sizeof job->in_path, "%s/model.safetensors", job->in);
        job->in = job->in_path;
    }
    if (lbrx_storage_open(&s, job->in, &job->opt.allocator, &err) != LBRX_OK) return cv_fail(job, "%s: %s", job->in, err.message);
    fmt = lbrx_format_detect(lbrx_storage_data(s), lbrx_storage_size(s));
    switch (fmt) {
    case LBRX_FORMAT_GGUF: r = lbrx_gguf_open_storage(&job->gguf, s, &job->opt, &err); break;
    case LBRX_FORMAT_GGUF_SPLIT: r = lbrx_gguf_open(&job->gguf, job->in, &job->opt, &err); break;
    case LBRX_FORMAT_SAFETENSORS: r = lbrx_safetensors_open_storage(&job->st, s, &job->opt, &err); break;
    case LBRX_FORMAT_SAFETENSORS_INDEX: r = lbrx_safetensors_open_index(&job->st, job->in, &job->opt, &err); break;
    default: lbrx_storage_release(s); return cv_fail(job, "%s: unknown format (neither GGUF nor safetensors)", job->in);
    }
    lbrx_storage_release(s);
    if (r != LBRX_OK) return cv_fail(job, "%s: %s", job->in, err.message);
    if (job->gguf) {
        count = (size_t)lbrx_gguf_tensor_count(job->gguf);
    } else {
        if (cv_load_hf_config(job)) return 1;
        count = lbrx_safetensors_tensor_count(job->st);
    }
    job->t = (cv_tensor *)calloc(count + 1, sizeof *job->t);   /* + 1: rope_freqs */
    if (!job->t) return cv_fail(job, "out of memory");
    for (i = 0; i < count; i++) {
        /* the two readers' tensor calls have one shape */
        lbrx_tensor t;
        const char *name;
        int bad;
        if ((job->gguf ? lbrx_gguf_tensor(job->gguf, i, &t, &err) : lbrx_safetensors_tensor(job->st, i, &t, &err)) != LBRX_OK)
            return cv_fail(job, "%s: %s", job->in, err.message);
        name = job->gguf ? lbrx_gguf_tensor_name(job->gguf, i) : lbrx_safetensors_tensor_name(job->st, i);
        if (!cv_affine(job, &t, name, &bad)) bad = cv_add(job, &t, name);
        lbrx_tensor_release(&t);
        if (bad) return 1;
    }
    if (job->config && job->mc.rope_scaling == LBRX_ROPE_SCALING_LLAMA3) return cv_add_rope_freqs(job);
    return 0;
}

/* ---- planning: the output dtype of each tensor ---- */

/* ---- llama.cpp's mixes (see THE MIXES above) ---- */

typedef struct cv_mix {
    const cv_type *ti;
    int pure, tied;             /* tied: no output.weight, token_embd.weight takes its rule */
    int n_layer, gqa, big70;    /* block_count, query heads per KV head, the 80-layer GQA llama */
    int n_attn_v, i_attn_v, i_ffn_down;
} cv_mix;

/* The layer N of "blk.N...." or -1. */
static int cv_layer_of(const char *name) {
    char *end;
    long v;
    if (strncmp(name, "blk.", 4) != 0) return -1;
    v = strtol(name + 4, &end, 10);
    return end > name + 4 && *end == '.' && v >= 0 && v < 1000000 ? (int)v : -1;
}

/* llama.cpp's tensor order: by layer (the others, -1, first), then by name. */
static int cv_order_cmp(const void *a, const void *b) {
    const cv_tensor *x = *(const cv_tensor *const *)a, *y = *(const cv_tensor *const *)b;
    int lx = cv_layer_of(x->name), ly = cv_layer_of(y->name);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

/* Tensors llama.cpp quantizes: 2-D (a second dimension over 1) weights, not norms nor a few small kinds. */
static int cv_mix_quantizable(const cv_tensor *c) {
    static const char *const never[] = {"_norm.weight", "ffn_gate_inp.weight", "attn_rel_b.weight", "ssm_conv1d"};
    size_t k;
    if (c->src.ndim != 2 || c->src.shape[0] < 2 || !cv_ends_with(c->name, "weight")) return 0;
    if (strcmp(c->name, "position_embd.weight") == 0 || strcmp(c->name, "token_types.weight") == 0) return 0;
    for (k = 0; k < sizeof never / sizeof never[0]; k++)
        if (strstr(c->name, never[k])) return 0;
    return 1;
}

static int cv_is_attn_v(const char *name) {
    return strstr(name, "attn_qkv.weight") || strstr(name, "attn_kv_b.weight") || strstr(name, "attn_v.weight");
}

static int cv_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* The type of a row length `cols` can take: t, or its fallback, or f16. */
static lbrx_dtype cv_fallback(lbrx_dtype t, int64_t cols) {
    if (cols % lbrx_dtype_block_size(t) == 0) return t;
    switch (t) {
    case LBRX_IQ4_XS: t = LBRX_IQ4_NL; break;
    case LBRX_Q2_K: case LBRX_Q3_K: t = LBRX_Q4_0; break;
    case LBRX_Q4_K: t = LBRX_Q5_0; break;
    case LBRX_Q5_K: t = LBRX_Q5_1; break;
    case LBRX_Q6_K: t = LBRX_Q8_0; break;
    default: break;
    }
    return cols % lbrx_dtype_block_size(t) == 0 ? t : LBRX_F16;
}

/* The type of quantizable tensor `name` with rows of `cols`; call in llama.cpp's order. */
static lbrx_dtype cv_mix_type(cv_mix *m, const char *name, int64_t cols) {
    const uint32_t ft = m->ti->ftype;
    lbrx_dtype t = m->ti->type;
    if (m->pure) return cv_fallback(t, cols);
    if (strcmp(name, "output.weight") == 0 || (m->tied && strcmp(name, "token_embd.weight") == 0)) {
        t = cols % lbrx_dtype_block_size(t) ? LBRX_Q8_0 : LBRX_Q6_K;
    } else if (strcmp(name, "token_embd.weight") == 0) {
        /* the mix's type */
    } else if (cv_is_attn_v(name)) {
        if (ft == 10) t = m->gqa >= 4 ? LBRX_Q4_K : LBRX_Q3_K;
        else if (ft == 12) t = m->i_attn_v < 2 ? LBRX_Q5_K : LBRX_Q4_K;
        else if ((ft == 25 || ft == 30) && m->gqa >= 4) t = LBRX_Q5_K;
        else if ((ft == 15 || ft == 17) && cv_more_bits(m->i_attn_v, m->n_attn_v)) t = LBRX_Q6_K;
        else if (ft == 14 && m->i_attn_v < 4) t = LBRX_Q5_K;
        if (m->big70 && (t == LBRX_Q3_K || t == LBRX_Q4_K)) t = LBRX_Q5_K;
        m->i_attn_v++;
    } else if (strstr(name, "attn_k.weight") || strstr(name, "attn_q.weight")) {
        /* the mix's type */
    } else if (strstr(name, "attn_output.weight")) {
        if (ft == 10) t = LBRX_Q3_K;
        else if (ft == 12) t = LBRX_Q4_K;
    } else if (strstr(name, "ffn_up") || strstr(name, "ffn_gate")) {
        /* the mix's type */
    } else if (strstr(name, "ffn_down")) {
        int i = m->i_ffn_down++, n = m->n_layer;
        if (ft == 10) t = LBRX_Q3_K;
        else if (ft == 12) t = i < n / 16 ? LBRX_Q5_K : LBRX_Q4_K;
        else if ((ft == 15 || ft == 17) && cv_more_bits(i, n)) t = LBRX_Q6_K;
        else if ((ft == 14 || ft == 25 || ft == 30) && i < n / 8) t = LBRX_Q5_K;
    }
    return cv_fallback(t, cols);
}

/* An integer hyper-parameter "<arch>.<key>" of the GGUF input (config.json's `hf` otherwise); def when absent. */
static int64_t cv_hparam(cv_job *job, const char *arch, const char *key, const char *hf, int64_t def) {
    int64_t v = def;
    if (job->gguf) {
        char full[256];
        snprintf(full, sizeof full, "%s.%s", arch, key);
        if (lbrx_gguf_get_int(job->gguf, full, &v, NULL) != LBRX_OK) v = def;
    } else if (job->config) {
        const lbrx_json_value *j = lbrx_json_get(lbrx_json_root(job->config), hf);
        if (!j || lbrx_json_i64(j, &v) != LBRX_OK) v = def;
    }
    return v;
}

/* Each tensor's output type under the mix, visiting them in llama.cpp's order. */
static int cv_plan_mix(cv_job *job) {
    cv_mix m;
    cv_tensor **order = (cv_tensor **)malloc((job->n ? job->n : 1) * sizeof *order);
    char arch[64] = "llama";
    int64_t heads, heads_kv;
    size_t i;
    if (!order) return cv_fail(job, "out of memory");
    memset(&m, 0, sizeof m);
    m.ti = job->ti;
    m.pure = job->pure;
    m.tied = 1;
    if (job->gguf) {
        lbrx_gguf_str a;
        if (lbrx_gguf_get_str(job->gguf, "general.architecture", &a, NULL) == LBRX_OK)
            snprintf(arch, sizeof arch, "%.*s", (int)(a.len < 63 ? a.len : 63), a.data);
    }
    m.n_layer = (int)cv_hparam(job, arch, "block_count", "num_hidden_layers", 0);
    heads = cv_hparam(job, arch, "attention.head_count", "num_attention_heads", 0);
    heads_kv = cv_hparam(job, arch, "attention.head_count_kv", "num_key_value_heads", heads);
    m.gqa = heads_kv > 0 ? (int)(heads / heads_kv) : 0;
    m.big70 = strcmp(arch, "llama") == 0 && m.n_layer == 80 && heads != heads_kv;
    for (i = 0; i < job->n; i++) {
        order[i] = &job->t[i];
        if (strcmp(job->t[i].name, "output.weight") == 0) m.tied = 0;
        m.n_attn_v += cv_is_attn_v(job->t[i].name) != 0;
    }
    qsort(order, job->n, sizeof *order, cv_order_cmp);
    for (i = 0; i < job->n; i++) {
        cv_tensor *c = order[i];
        if (cv_mix_quantizable(c)) c->out = cv_mix_type(&m, c->name, c->src.shape[1]);
        else c->out = job->gguf ? c->src.dtype : LBRX_F32;
    }
    free(order);
    return 0;
}

static int cv_plan(cv_job *job, int to_gguf) {
    size_t i;
    int k;
    int64_t longest = 1;
    if (job->ti->mix && cv_plan_mix(job)) return 1;
    for (i = 0; i < job->n; i++) {
        cv_tensor *c = &job->t[i];
        lbrx_dtype s = c->src.dtype;
        int keep = 0;
        size_t nb = 0;
        for (k = 0; k < job->n_keep; k++) keep |= cv_glob(job->keep[k], c->name);
        if (!cv_is_float(s)) {
            if (to_gguf ? (int)s >= LBRX_GGML_TYPE_COUNT : lbrx_safetensors_dtype_name(s) == 0)
                return cv_fail(job, "tensor '%s': %s has no type in the output format", c->name, lbrx_dtype_name(s));
            c->out = s;
        } else if (c->repacked && to_gguf) {
            c->out = s;  /* Q4_1 as repacked: requantizing would round a second time */
        } else if (keep) {
            c->out = (s == LBRX_F32 || s == LBRX_F16 || s == LBRX_BF16) ? s : LBRX_F32;
        } else if (job->ti->mix) {
            /* set by cv_plan_mix (GGUF output only) */
        } else if (!to_gguf) {
            c->out = job->type;
        } else if (c->src.ndim == 2 && c->src.shape[1] % lbrx_dtype_block_size(job->type) == 0) {
            c->out = job->type;
        } else {
            c->out = LBRX_F32;
        }
        job->n_quantized += lbrx_dtype_is_quantized(c->out);
        if (c->src.ndim > 0 && c->src.shape[c->src.ndim - 1] > longest) longest = c->src.shape[c->src.ndim - 1];
        lbrx_tensor_nbytes(&c->src, &nb);
        job->total_bytes += nb;
    }
    job->scratch_row = longest;
    job->scratch = (float *)malloc((size_t)longest * (size_t)job->threads * sizeof(float));
    return job->scratch ? 0 : cv_fail(job, "out of memory");
}

/* ---- conversion of rows ---- */

/* Source row of output row r: the HF -> GGML RoPE row permutation (see the top of this file). */
static int64_t cv_source_row(const cv_tensor *c, int64_t r) {
    int64_t d, h, within;
    if (!c->permute_heads) return r;
    d = c->src.shape[0] / c->permute_heads;
    h = r / d;
    within = r % d;
    return h * d + (within % 2) * (d / 2) + within / 2;
}

/* Output rows [r0, r0 + n) of tensor c into dst (packed rows of c->out), by job->threads
   threads (each row is quantized on its own: the bytes do not depend on the count). */
static lbrx_result cv_rows(cv_job *job, const cv_tensor *c, int64_t r0, int64_t n, void *dst, lbrx_error *err) {
    int64_t cols = c->src.ndim ? c->src.shape[c->src.ndim - 1] : 1, r;
    size_t out_row = 0, src_row = 0;
    lbrx_result res, bad_from = LBRX_OK, bad_to = LBRX_OK;
    if ((res = lbrx_row_bytes(c->out, cols, &out_row)) != LBRX_OK || (res = lbrx_row_bytes(c->src.dtype, cols, &src_row)) != LBRX_OK)
        return cv_error(err, res, "rows cannot be", c->name, lbrx_dtype_name(c->out));
#ifdef _OPENMP
#pragma omp parallel for num_threads(job->threads) schedule(static) if ((c->out != c->src.dtype || c->add_one) && n * cols >= 16384)
#endif
    for (r = 0; r < n; r++) {
        const void *src = lbrx_tensor_row(&c->src, cv_source_row(c, r0 + r));
        unsigned char *out = (unsigned char *)dst + (size_t)r * out_row;
        float *row;
        lbrx_result e;
#ifdef _OPENMP
        row = job->scratch + (size_t)omp_get_thread_num() * (size_t)job->scratch_row;
#else
        row = job->scratch;
#endif
        if (c->out == c->src.dtype && !c->add_one) {
            memcpy(out, src, src_row);
        } else if ((e = lbrx_dequantize_row(c->src.dtype, src, row, cols)) != LBRX_OK) {
#ifdef _OPENMP
#pragma omp critical(cv_rows_error)
#endif
            bad_from = e;  /* the same result for every row of the tensor */
        } else {
            int64_t k;
            if (c->add_one)
                for (k = 0; k < cols; k++) row[k] += 1.0f;
            if ((e = lbrx_quantize_row(c->out, row, out, cols)) != LBRX_OK) {
#ifdef _OPENMP
#pragma omp critical(cv_rows_error)
#endif
                bad_to = e;
            }
        }
    }
    if (bad_from != LBRX_OK) return cv_error(err, bad_from, "cannot convert to float from", c->name, lbrx_dtype_name(c->src.dtype));
    if (bad_to != LBRX_OK) return cv_error(err, bad_to, "cannot convert to", c->name, lbrx_dtype_name(c->out));
    return LBRX_OK;
}

static void cv_progress(cv_job *job, const cv_tensor *c, size_t index) {
    size_t nb = 0;
    lbrx_tensor_nbytes(&c->src, &nb);
    job->done_bytes += nb;
    if (job->log && job->total_bytes >= CV_PROGRESS_BYTES)
        fprintf(job->log, "convert: [%zu/%zu] %3d%% %s %s -> %s\n", index + 1, job->n,
                (int)(100.0 * (double)job->done_bytes / (double)job->total_bytes), c->name, lbrx_dtype_name(c->src.dtype),
                lbrx_dtype_name(c->out));
}

/* The fill callback of both writers (lbrx_fill_fn): user is the job; both get the job's tensors
   in its order, so `index` is the tensor's index in job->t. */
static lbrx_result cv_fill_rows(void *user, size_t index, const char *name, int64_t r0, int64_t n, void *dst, lbrx_error *err) {
    cv_job *job = (cv_job *)user;
    const cv_tensor *c = &job->t[index];
    lbrx_result r = cv_rows(job, c, r0, n, dst, err);
    (void)name;
    if (r == LBRX_OK && r0 + n == lbrx_tensor_nrows(&c->src)) cv_progress(job, c, index);
    return r;
}

/* ---- output ---- */

static int cv_write_gguf(cv_job *job) {
    lbrx_gguf_writer *w = 0;
    lbrx_error err;
    size_t i;
    int bad = 1;
    if (lbrx_gguf_writer_create(&w, &job->opt.allocator, &err) != LBRX_OK) return cv_fail(job, "out of memory");
    if (job->gguf) {
        for (i = 0; i < lbrx_gguf_kv_count(job->gguf); i++) {
            const lbrx_gguf_kv *kv = lbrx_gguf_kv_at(job->gguf, i);
            if (strcmp(kv->key, "general.file_type") == 0 || strcmp(kv->key, "general.quantization_version") == 0 ||
                strncmp(kv->key, "split.", 6) == 0)
                continue;
            if (lbrx_gguf_writer_copy_kv(w, kv, &err) != LBRX_OK) { cv_fail(job, "%s", err.message); goto done; }
        }
    } else if (job->config && cv_hf_metadata(job, w, &err)) {
        goto done;
    }
    if (job->vocab) {
        lbrx_gguf *v;
        int bad_kv = 0;
        if (lbrx_gguf_open(&v, job->vocab, &job->opt, &err) != LBRX_OK) { cv_fail(job, "%s: %s", job->vocab, err.message); goto done; }
        for (i = 0; i < lbrx_gguf_kv_count(v) && !bad_kv; i++) {
            const lbrx_gguf_kv *kv = lbrx_gguf_kv_at(v, i);
            if (strncmp(kv->key, "tokenizer.", 10) != 0 || (job->gguf && lbrx_gguf_find_key(job->gguf, kv->key) != SIZE_MAX)) continue;
            bad_kv = lbrx_gguf_writer_copy_kv(w, kv, &err) != LBRX_OK;
        }
        lbrx_gguf_destroy(v);
        if (bad_kv) { cv_fail(job, "%s: %s", job->vocab, err.message); goto done; }
    }
    if (lbrx_gguf_writer_add_u32(w, "general.file_type", job->ti->ftype, &err) != LBRX_OK ||
        (job->n_quantized && lbrx_gguf_writer_add_u32(w, "general.quantization_version", LBRX_QNT_VERSION, &err) != LBRX_OK)) {
        cv_fail(job, "%s", err.message);
        goto done;
    }
    for (i = 0; i < job->n; i++) {
        if (lbrx_gguf_writer_add_tensor_fill(w, job->t[i].name, job->t[i].out, job->t[i].src.ndim, job->t[i].src.shape, cv_fill_rows,
                                             job, &err) != LBRX_OK) {
            cv_fail(job, "%s", err.message);
            goto done;
        }
    }
    if (job->split_max) {
        char prefix[4096];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(job->out) - 5), job->out);  /* without ".gguf" */
        if (lbrx_gguf_writer_write_split(w, prefix, job->split_max, &err) != LBRX_OK) { cv_fail(job, "%s", err.message); goto done; }
    } else if (lbrx_gguf_writer_write_path(w, job->out, &err) != LBRX_OK) {
        cv_fail(job, "%s: %s", job->out, err.message);
        goto done;
    }
    bad = 0;
done:
    lbrx_gguf_writer_destroy(w);
    return bad;
}

static int cv_write_safetensors(cv_job *job) {
    lbrx_safetensors_write_desc desc;
    lbrx_tensor *ts = (lbrx_tensor *)calloc(job->n ? job->n : 1, sizeof *ts);
    const char **names = (const char **)calloc(job->n ? job->n : 1, sizeof *names);
    const char **meta = 0;
    lbrx_error err;
    size_t i, n_meta = 0;
    int bad = 1;
    if (!ts || !names) { free(ts); free((void *)names); return cv_fail(job, "out of memory"); }
    for (i = 0; i < job->n; i++) {  /* no data: cv_fill_rows streams every tensor's rows */
        const cv_tensor *c = &job->t[i];
        ts[i].dtype = c->out;
        ts[i].ndim = c->src.ndim;
        memcpy(ts[i].shape, c->src.shape, sizeof ts[i].shape);
        names[i] = c->name;
    }
    if (job->st && lbrx_safetensors_metadata(job->st)) {
        const lbrx_json_value *m = lbrx_safetensors_metadata(job->st);
        n_meta = lbrx_json_count(m);
        meta = (const char **)calloc(2 * n_meta + 1, sizeof *meta);
        if (!meta) { cv_fail(job, "out of memory"); goto done; }
        for (i = 0; i < n_meta; i++) meta[2 * i + 1] = lbrx_json_string(lbrx_json_member(m, i, &meta[2 * i], 0), 0);
    }
    memset(&desc, 0, sizeof desc);
    desc.tensors = ts;
    desc.names = names;
    desc.n_tensors = job->n;
    desc.metadata = meta;
    desc.n_metadata = n_meta;
    desc.allocator = job->opt.allocator;
    desc.fill = cv_fill_rows;
    desc.fill_user = job;
    if (lbrx_safetensors_write(job->out, &desc, &err) != LBRX_OK) { cv_fail(job, "%s: %s", job->out, err.message); goto done; }
    bad = 0;
done:
    free(ts);
    free((void *)names);
    free((void *)meta);
    return bad;
}

#define CV_USAGE                                                                                          \
    "usage: convert IN OUT --type TYPE [--pure] [--threads N] [--keep PATTERN]... [--vocab VOCAB.gguf] " \
    "[--name NAME] [--split-max-size N[K|M|G]]; TYPE: f32 f16 bf16, uniform q8_0 q4_0 q4_1, llama.cpp's " \
    "mixes q4_k_m q4_k_s q5_k_m q5_k_s q6_k q3_k_m q2_k q5_0 q5_1 iq4_nl iq4_xs"

static int cv_parse_args(cv_job *job, int argc, char **argv) {
    int i, pos = 0;
    size_t k;
#ifdef _OPENMP
    job->threads = omp_get_max_threads();
#else
    job->threads = 1;
#endif
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            for (k = 0; k < CV_N_TYPES && strcmp(argv[i + 1], cv_types[k].name) != 0; k++) {}
            if (k == CV_N_TYPES) return cv_fail(job, "unknown --type '%s' (%s)", argv[i + 1], CV_USAGE);
            job->ti = &cv_types[k];
            job->type = cv_types[k].type;
            i++;
        } else if (strcmp(argv[i], "--pure") == 0) {
            job->pure = 1;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end || t < 1 || t > 1024) return cv_fail(job, "--threads '%s': a count from 1 to 1024", argv[i]);
#ifdef _OPENMP
            job->threads = (int)t;
#endif
        } else if (strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
            if (job->n_keep == CV_MAX_KEEP) return cv_fail(job, "more than 16 --keep patterns");
            job->keep[job->n_keep++] = argv[++i];
        } else if (strcmp(argv[i], "--vocab") == 0 && i + 1 < argc) {
            job->vocab = argv[++i];
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            job->name = argv[++i];
        } else if (strcmp(argv[i], "--split-max-size") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            uint64_t mul = *end == 'K' ? 1000u : *end == 'M' ? 1000000u : *end == 'G' ? 1000000000u : 1u;
            if (mul > 1) end++;
            if (end == argv[i] || *end || argv[i][0] == '-' || v == 0 || v > UINT64_MAX / mul)
                return cv_fail(job, "--split-max-size '%s' is not a positive size (bytes, or a number with K, M or G)", argv[i]);
            job->split_max = (uint64_t)v * mul;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return cv_fail(job, "unknown option '%s'", argv[i]);
        } else if (pos < 2) {
            if (pos++ == 0) job->in = argv[i]; else job->out = argv[i];
        } else {
            return cv_fail(job, "unexpected argument '%s'", argv[i]);
        }
    }
    if (pos != 2 || !job->ti) return cv_fail(job, "%s", CV_USAGE);
    if (strcmp(job->in, job->out) == 0) return cv_fail(job, "%s: output and input are the same file", job->out);
    if (!cv_ends_with(job->out, ".gguf") && !cv_ends_with(job->out, ".safetensors"))
        return cv_fail(job, "%s: the output name must end in .gguf or .safetensors", job->out);
    if (job->split_max && !cv_ends_with(job->out, ".gguf"))
        return cv_fail(job, "%s: --split-max-size writes GGUF only (the output name must end in .gguf)", job->out);
    if (cv_ends_with(job->out, ".safetensors") && lbrx_dtype_is_quantized(job->type))
        return cv_fail(job, "--type %s cannot be written to safetensors (f32, f16 or bf16)", lbrx_dtype_name(job->type));
    return 0;
}

/* The whole program, logging to `log` (progress) and `out` (summary), with lbrx allocating
   through `allocator` (NULL: the default); returns the exit code. */
static int convert_main(int argc, char **argv, FILE *out, FILE *log, const lbrx_allocator *allocator) {
    cv_job job;
    int bad, to_gguf;
    size_t i;
    memset(&job, 0, sizeof job);
    job.log = log;
    if (allocator) job.opt.allocator = *allocator;
    bad = cv_parse_args(&job, argc, argv);
    to_gguf = !bad && cv_ends_with(job.out, ".gguf");
    if (!bad) bad = cv_open_input(&job);
    if (!bad) bad = cv_plan(&job, to_gguf);
    if (!bad) bad = to_gguf ? cv_write_gguf(&job) : cv_write_safetensors(&job);
    if (bad) {
        const char *p;
        fprintf(log, "error: ");
        for (p = job.error; *p; p++) fputc((unsigned char)*p < 0x20 ? '?' : *p, log);
        fputc('\n', log);
    } else {
        fprintf(out, "convert: wrote %s: %zu tensors, %zu of them %s\n", job.out, job.n, job.n_quantized,
                !job.n_quantized ? "quantized" : job.ti->mix && !job.pure ? job.ti->name : lbrx_dtype_name(job.type));
    }
    for (i = 0; i < job.n; i++) lbrx_tensor_release(&job.t[i].src);
    free(job.t);
    free(job.scratch);
    lbrx_json_destroy(job.config);
    lbrx_gguf_destroy(job.gguf);
    lbrx_safetensors_destroy(job.st);
    return bad ? 1 : 0;
}

#ifndef LBRX_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
    return convert_main(argc, argv, stdout, stderr, NULL);
}
#endif
