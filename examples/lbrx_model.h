/* lbrx_model.h - decoder-only transformer language models on lbrx: load, check, run, sample.
   Part of lbrx; public domain or MIT (see lbrx.h). STB-style: include it anywhere for the
   declarations, and in one C or C++ file define LBRX_MODEL_IMPLEMENTATION (and LBRX_IMPL, for
   lbrx.h) before including it for the code.

   Architectures (general.architecture of a GGUF file / model_type of a Hugging Face config.json):
     llama   (llama; mistral too, as llama.cpp writes it)  RMSNorm, SwiGLU, RoPE; Llama 3.x RoPE
             scaling (GGUF rope_freqs.weight / HF rope_type "llama3"); sliding window (mistral)
     qwen2   (qwen2)        Q, K and V biases
     qwen3   (qwen3)        RMSNorm of each Q and K head (QK norm), head_dim of its own
     gemma2  (gemma2)       GeGLU (tanh GELU), embeddings scaled by sqrt(dim), (1 + w) norms
                            (llama.cpp stores 1 + w in GGUF files), norms after attention and after
                            the feed-forward too, soft-capped attention scores and logits,
                            sliding-window and global layers alternating
     gemma3  (gemma3_text)  gemma2 without soft-capping, with QK norm, local layers with a RoPE base
                            of their own (10000), global layers with linear RoPE scaling, a window
                            pattern (5 local : 1 global unless the file says otherwise)
     phi3    (phi3)         fused QKV and gate-up projections (split into views when loaded)
   Tied embeddings (no output.weight / lm_head.weight) for all. Also llama2.c checkpoints (.bin).

   Everything that differs between architectures is data: the descriptor lbrx_arch (names and
   feature flags), the hyper-parameter table (GGUF key, config.json key) and the layer tensor
   table (GGUF name, HF name, shape, when present). Loading, validation, freeing, conversion
   (examples/convert.c) and the forward pass all read these tables. */
#ifndef LBRX_MODEL_H
#define LBRX_MODEL_H

#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
#include <stdio.h>

#ifndef LBRX_MODEL_DEF
#define LBRX_MODEL_DEF extern
#endif

#define LBRX_MODEL_MAX_VOCAB (1 << 24)   /* largest vocabulary accepted */
#define LBRX_MODEL_MAX_LAYERS 1024       /* most transformer blocks accepted */
#define LBRX_MODEL_MAX_DIM (1 << 20)     /* largest embedding / feed-forward width accepted */
#define LBRX_MODEL_MAX_CTX (1 << 24)     /* longest context accepted */

/* Feature flags of an architecture. */
enum {
    LBRX_ARCH_QKV_BIAS = 1 << 0,    /* Q, K and V projections have biases */
    LBRX_ARCH_QK_NORM = 1 << 1,     /* RMSNorm of each Q and K head before RoPE */
    LBRX_ARCH_GEGLU = 1 << 2,       /* feed-forward gelu(gate) * up (else silu(gate) * up) */
    LBRX_ARCH_NORM_PLUS1 = 1 << 3,  /* norms multiply by (1 + w) (HF); GGUF files hold 1 + w */
    LBRX_ARCH_EMBD_SCALE = 1 << 4,  /* embeddings are multiplied by sqrt(dim) */
    LBRX_ARCH_SANDWICH = 1 << 5,    /* RMSNorm after attention and after the feed-forward too */
    LBRX_ARCH_FUSED = 1 << 6,       /* one QKV and one gate-up projection */
    LBRX_ARCH_PERMUTE_QK = 1 << 7,  /* GGUF Q/K rows permuted for interleaved RoPE (HF: NeoX) */
    LBRX_ARCH_LOCAL_ROPE = 1 << 8   /* sliding-window layers have their own RoPE base, unscaled */
};

/* An architecture. */
typedef struct lbrx_arch {
    const char *name;        /* general.architecture, and the prefix of its GGUF keys */
    const char *hf_types;    /* config.json model_type values, space-separated */
    unsigned flags;          /* LBRX_ARCH_* */
    int swa_pattern;         /* window layers: 0 every layer, n: layer l iff l % n < n - 1 */
    float rope_base_swa;     /* LBRX_ARCH_LOCAL_ROPE: default RoPE base of window layers */
    int dim_scale_layers;    /* a GGUF file without ARCH.attention.scale and with this many layers
                                (Gemma 2 / 3 27B) scales q.k by 1/sqrt(dim / heads), as llama.cpp
                                decides it from the model's size (HF: query_pre_attn_scalar) */
} lbrx_arch;

/* The architectures known (see the top of this file), and the one named (NULL if none). */
LBRX_MODEL_DEF const lbrx_arch *lbrx_arch_find(const char *name, size_t len);
LBRX_MODEL_DEF const lbrx_arch *lbrx_arch_find_hf(const char *model_type);

typedef enum lbrx_rope_scaling { LBRX_ROPE_SCALING_NONE, LBRX_ROPE_SCALING_LINEAR, LBRX_ROPE_SCALING_LLAMA3 } lbrx_rope_scaling;

/* Hyper-parameters. */
typedef struct lbrx_model_config {
    const lbrx_arch *arch;
    int dim;             /* embedding width */
    int hidden_dim;      /* feed-forward width */
    int n_layers, n_heads, n_kv_heads, head_dim;
    int rope_dim;        /* dimensions rotated by RoPE (= head_dim) */
    int vocab_size, seq_len;
    float norm_eps;
    int rope_neox;       /* 1: rotate (i, i + d/2) as HF does; 0: pairs (2i, 2i+1), GGUF llama and llama2.c */
    float rope_base;     /* RoPE frequency base (global layers) */
    lbrx_rope_scaling rope_scaling;
    float rope_factor;   /* linear / llama3 scaling factor */
    float llama3_low, llama3_high;  /* llama3: low_freq_factor, high_freq_factor */
    int llama3_ctx;      /* llama3: original_max_position_embeddings */
    float rope_base_swa; /* RoPE base of sliding-window layers (LBRX_ARCH_LOCAL_ROPE) */
    int window;          /* sliding window in positions, 0: none */
    int swa_pattern;     /* which layers have the window (see lbrx_arch) */
    float attn_scale;    /* scale of q.k; 0: 1/sqrt(head_dim) */
    float attn_softcap, final_softcap;  /* 0: none */
} lbrx_model_config;

/* The weights of a layer, by slot. Fused QKV / gate-up are split into Q, K, V / gate, up views
   when loaded, so the forward pass reads only the separate slots. */
enum {
    LBRX_W_ATTN_NORM, LBRX_W_Q, LBRX_W_K, LBRX_W_V, LBRX_W_QKV, LBRX_W_Q_BIAS, LBRX_W_K_BIAS, LBRX_W_V_BIAS,
    LBRX_W_Q_NORM, LBRX_W_K_NORM, LBRX_W_O, LBRX_W_POST_ATTN_NORM, LBRX_W_FFN_NORM, LBRX_W_GATE, LBRX_W_UP,
    LBRX_W_GATE_UP, LBRX_W_DOWN, LBRX_W_POST_FFN_NORM, LBRX_W_COUNT
};

/* One row of the layer tensor table: slot, names (after "blk.N." / "model.layers.N."), shape
   [rows, cols] ([cols] when rows is 0) in the dimension codes of lbrx_model_dim, and the
   architecture flags that must be set (when) and clear (unless) for the row to apply. */
typedef struct lbrx_model_tensor {
    int slot;
    const char *gguf, *hf;
    char rows, cols;
    unsigned when, unless;
} lbrx_model_tensor;

LBRX_MODEL_DEF const lbrx_model_tensor *lbrx_model_tensors(size_t *n);
/* Whether a row of the table is a tensor of architecture a. */
LBRX_MODEL_DEF int lbrx_model_tensor_applies(const lbrx_model_tensor *t, const lbrx_arch *a);
/* A dimension by code: E dim, Q heads x head_dim, K kv_heads x head_dim, H head_dim, F
   hidden_dim, G 2 x hidden_dim, T Q + 2 K, V vocabulary, R rope_dim / 2. */
LBRX_MODEL_DEF int64_t lbrx_model_dim(const lbrx_model_config *c, char code);
/* Whether layer l has the sliding window. */
LBRX_MODEL_DEF int lbrx_model_layer_swa(const lbrx_model_config *c, int l);

typedef struct lbrx_model_layer { lbrx_tensor w[LBRX_W_COUNT]; } lbrx_model_layer;

typedef struct lbrx_model {
    lbrx_model_config c;
    lbrx_tensor embd, out_norm, output, rope_freqs;  /* rope_freqs: [rope_dim / 2] f32, or empty */
    lbrx_model_layer *layers;
    const char *format;   /* "gguf", "llama2.c" or "safetensors" */
    size_t weight_bytes;  /* bytes of the matmul weights read for each token */
    size_t file_bytes;    /* bytes of the model file(s) */
    const char *quant;    /* quantized HF checkpoint: "MLX", "AWQ" or "GPTQ"; else NULL */
    int n_repacked, n_dequantized;  /* its weights repacked exactly (lbrx_affine_repack) / dequantized */
    int n_q4_1, n_affine_q4, n_affine_q8;  /* the repacked ones by dtype */
    char quant_note[256]; /* the first dequantized weight and why */
} lbrx_model;

/* Load a GGUF file, a llama2.c checkpoint, or a Hugging Face checkpoint (a directory with
   config.json and model.safetensors / model.safetensors.index.json, or the path of one of
   those files), mapped, and validate it all. On error *m is empty. */
LBRX_MODEL_DEF lbrx_result lbrx_model_load(lbrx_model *m, const char *path, lbrx_error *err);
LBRX_MODEL_DEF void lbrx_model_free(lbrx_model *m);
/* Check hyper-parameters against each other. */
LBRX_MODEL_DEF lbrx_result lbrx_model_check_config(const lbrx_model_config *c, lbrx_error *err);
/* The hyper-parameters of a Hugging Face config.json (parsed root object). */
LBRX_MODEL_DEF lbrx_result lbrx_model_config_from_hf(const lbrx_json_value *cfg, lbrx_model_config *c, lbrx_error *err);
/* Write c as GGUF metadata (general.architecture and the ARCH.* keys llama.cpp reads). */
LBRX_MODEL_DEF lbrx_result lbrx_model_write_gguf_config(lbrx_gguf_writer *w, const lbrx_model_config *c, lbrx_error *err);
/* The GGUF name of a Hugging Face tensor of architecture c->arch, into out: 1 (with *permute_heads
   > 0 when its rows must be permuted per that many heads for interleaved RoPE, and *add_one when
   1 must be added to its values), 0 when it is dropped, -1 when it has none. */
LBRX_MODEL_DEF int lbrx_model_gguf_name(const lbrx_model_config *c, const char *hf, char *out, size_t cap, int64_t *permute_heads,
                                        int *add_one);
/* Llama 3.x: the rope_dim / 2 frequency divisors (GGUF rope_freqs.weight) of c's llama3 scaling. */
LBRX_MODEL_DEF void lbrx_model_llama3_factors(const lbrx_model_config *c, float *out);

/* Quantized Hugging Face checkpoints: affine groups (lbrx.h's lbrx_affine), as config.json says.
     MLX        "quantization": {"group_size", "bits", ["mode": "affine"], and per-module
                entries "model.layers.N.x.y": {"group_size", "bits"} of mixed recipes}: a weight
                stored as U32 with NAME.scales and NAME.biases beside it (a float weight is a
                module MLX left unquantized). Bits 4 or 8.
     AWQ, GPTQ  "quantization_config": {"quant_method": "awq" | "gptq", "bits": 4, "group_size"
                (GPTQ -1: one group per row), AWQ "version" "gemm" and "zero_point" true, GPTQ
                "desc_act", "checkpoint_format" "gptq" (v1 zeros)}: NAME.qweight, NAME.qzeros,
                NAME.scales (and GPTQ's NAME.g_idx) in place of NAME.weight.
   How each weight is run: with groups of 32k it is repacked by lbrx_affine_repack (no float
   detour, exact, lbrx_matmul runs it natively) into
   - Q4_1 for 4 bits when Q4_1's f16 d and m are the checkpoint's own scale and offset: always
     for MLX F16 scales and biases, for BF16 ones unless a value is outside f16's normal range;
   - else LBRX_AFFINE_Q4 (f32 d and m: AWQ/GPTQ, whose m = -zero x scale needs up to 15
     significant bits where f16 has 11, MLX BF16/F32 scales f16 cannot hold), 24 B per 32;
   - LBRX_AFFINE_Q8 for 8-bit MLX, 40 B per 32.
   Anything else -- groups that are not 32k, AWQ/GPTQ F32 scales whose -zero x scale f32 cannot
   hold, and with q4_1_only (a file writer: lbrx's affine dtypes have no GGUF or safetensors type)
   whatever Q4_1 does not hold exactly -- is dequantized as the format computes it (MLX: q x scale
   rounded to f32, plus bias; AWQ/GPTQ: (q - zero) x scale, rounded once) and stored as F16 (F32
   when a value overflows f16): for AWQ/GPTQ that is bit for bit the float16 tensor their own torch code
   dequantizes to. */
typedef struct lbrx_model_quant {
    lbrx_affine_packing packing;   /* 0: the checkpoint is not quantized */
    int bits;
    int64_t group;                 /* 0: one group per row (GPTQ's -1) */
    int desc_act;                  /* GPTQ act-order claimed (g_idx decides) */
    const lbrx_json_value *cfg;    /* the quantization object (MLX's per-module entries) */
    int q4_1_only;                 /* set by the caller: repack into Q4_1 only (see above) */
} lbrx_model_quant;

/* What config.json (parsed root object) says of quantization; q->packing 0 when nothing. Errors
   name the field: LBRX_ERR_UNSUPPORTED for a method, mode, bit width, AWQ version or GPTQ format
   not run here, LBRX_ERR_BAD_VALUE / LBRX_ERR_NOT_FOUND for a malformed or missing one. */
LBRX_MODEL_DEF lbrx_result lbrx_model_quant_from_hf(const lbrx_json_value *cfg, lbrx_model_quant *q, lbrx_error *err);

/* What lbrx_model_hf_weight did with a weight. */
enum { LBRX_MODEL_WEIGHT_PLAIN, LBRX_MODEL_WEIGHT_REPACKED, LBRX_MODEL_WEIGHT_DEQUANTIZED };

/* The weight `name` (".weight") of a safetensors checkpoint quantized as q (q NULL or packing 0:
   the tensor itself), as a new tensor: the stored one (*how PLAIN), a new Q4_1, LBRX_AFFINE_Q4
   or LBRX_AFFINE_Q8 one (REPACKED, exact) or a dequantized F16/F32 one (DEQUANTIZED; why, when
   not NULL, says why it was not repacked).
   Errors name the tensor: LBRX_ERR_NOT_FOUND (the weight, or its scales / biases / qzeros),
   lbrx_affine_init's (group size, shapes, dtypes, act-order g_idx). */
LBRX_MODEL_DEF lbrx_result lbrx_model_hf_weight(const lbrx_safetensors *st, const lbrx_model_quant *q, const char *name, lbrx_tensor *t,
                                                int *how, char *why, size_t why_cap, lbrx_error *err);

/* Buffers and KV cache of a run. */
typedef struct lbrx_model_state {
    lbrx_context *ctx;
    lbrx_kv_cache *kv;      /* one per layer; kv[0].n is the number of positions done */
    int max_batch;          /* most tokens per forward call */
    int n_ctx;              /* positions the cache holds */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *logits;
    int logits_rows;        /* rows of logits the last forward call wrote (1 or its batch) */
} lbrx_model_state;

/* A state for batches of up to max_batch tokens and a KV cache of n_ctx positions of kv_dtype
   (LBRX_F16 or LBRX_F32); all_logits: keep the logits of every row of a batch (else the last). */
LBRX_MODEL_DEF lbrx_result lbrx_model_state_init(lbrx_model_state *s, const lbrx_model *m, int max_batch, int n_ctx,
                                                 lbrx_dtype kv_dtype, int all_logits, int n_threads, lbrx_error *err);
LBRX_MODEL_DEF void lbrx_model_state_free(lbrx_model_state *s, const lbrx_model *m);
/* Run n tokens (n <= max_batch) at the next n positions of the cache. Afterwards s->logits holds
   the logits of the last token, or of all n tokens (row-major) when all_logits is set (the
   state must keep all then). */
LBRX_MODEL_DEF lbrx_result lbrx_model_forward(const lbrx_model *m, lbrx_model_state *s, const int32_t *tokens, int n,
                                              int all_logits, lbrx_error *err);

/* Sampler: greedy, or temperature + top-p with a seeded xorshift generator (llama2.c's run.c). */
typedef struct lbrx_sampler_prob { float p; int id; } lbrx_sampler_prob;
typedef struct lbrx_sampler {
    float temperature, topp;
    uint64_t rng;
    int n_vocab;
    lbrx_sampler_prob *cand;   /* top-p candidates */
} lbrx_sampler;

LBRX_MODEL_DEF lbrx_result lbrx_sampler_init(lbrx_sampler *s, int n_vocab, float temperature, float topp, uint64_t seed,
                                             lbrx_error *err);
LBRX_MODEL_DEF void lbrx_sampler_free(lbrx_sampler *s);
/* Next token from logits (overwritten with probabilities when sampling). */
LBRX_MODEL_DEF int lbrx_sampler_sample(lbrx_sampler *s, float *logits);
/* xorshift64*: 32 random bits, and a float in [0, 1) with 24 bits. */
LBRX_MODEL_DEF uint32_t lbrx_random_u32(uint64_t *state);
LBRX_MODEL_DEF float lbrx_random_f32(uint64_t *state);
LBRX_MODEL_DEF int lbrx_argmax(const float *x, int n);
/* Seconds on a monotonic clock; resident memory of this process in bytes (Linux; 0 elsewhere). */
LBRX_MODEL_DEF double lbrx_model_now(void);
LBRX_MODEL_DEF size_t lbrx_model_resident_bytes(void);

#endif /* LBRX_MODEL_H */

/* ============================================================================================
   Implementation
   ============================================================================================ */
#if defined(LBRX_MODEL_IMPLEMENTATION) && !defined(LBRX_MODEL__IMPLEMENTATION_DONE)
#define LBRX_MODEL__IMPLEMENTATION_DONE

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on a monotonic clock. */
LBRX_MODEL_DEF double lbrx_model_now(void) {
#if defined(_WIN32)
    return (double)clock() / CLOCKS_PER_SEC;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
}

/* Resident memory of this process in bytes (Linux), 0 where unknown. */
LBRX_MODEL_DEF size_t lbrx_model_resident_bytes(void) {
    size_t rss = 0;
#if defined(__linux__)
    unsigned long pages_total = 0, pages_res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &pages_total, &pages_res) == 2) rss = (size_t)pages_res * lbrx_page_size();
        fclose(f);
    }
#endif
    return rss;
}

/* ---- the tables ---- */

static const lbrx_arch lbrx_model__archs[] = {
    { "llama", "llama mistral", LBRX_ARCH_PERMUTE_QK, 0, 0.0f, 0 },
    { "qwen2", "qwen2", LBRX_ARCH_QKV_BIAS, 0, 0.0f, 0 },
    { "qwen3", "qwen3", LBRX_ARCH_QK_NORM, 0, 0.0f, 0 },
    { "gemma2", "gemma2", LBRX_ARCH_GEGLU | LBRX_ARCH_NORM_PLUS1 | LBRX_ARCH_EMBD_SCALE | LBRX_ARCH_SANDWICH, 2, 0.0f, 46 },
    { "gemma3", "gemma3_text", LBRX_ARCH_GEGLU | LBRX_ARCH_NORM_PLUS1 | LBRX_ARCH_EMBD_SCALE | LBRX_ARCH_SANDWICH | LBRX_ARCH_QK_NORM |
                               LBRX_ARCH_LOCAL_ROPE, 6, 10000.0f, 62 },
    { "phi3", "phi3", LBRX_ARCH_FUSED, 0, 0.0f, 0 },
};

static const lbrx_model_tensor lbrx_model__tensors[] = {
    { LBRX_W_ATTN_NORM, "attn_norm.weight", "input_layernorm.weight", 0, 'E', 0, 0 },
    { LBRX_W_Q, "attn_q.weight", "self_attn.q_proj.weight", 'Q', 'E', 0, LBRX_ARCH_FUSED },
    { LBRX_W_K, "attn_k.weight", "self_attn.k_proj.weight", 'K', 'E', 0, LBRX_ARCH_FUSED },
    { LBRX_W_V, "attn_v.weight", "self_attn.v_proj.weight", 'K', 'E', 0, LBRX_ARCH_FUSED },
    { LBRX_W_QKV, "attn_qkv.weight", "self_attn.qkv_proj.weight", 'T', 'E', LBRX_ARCH_FUSED, 0 },
    { LBRX_W_Q_BIAS, "attn_q.bias", "self_attn.q_proj.bias", 0, 'Q', LBRX_ARCH_QKV_BIAS, 0 },
    { LBRX_W_K_BIAS, "attn_k.bias", "self_attn.k_proj.bias", 0, 'K', LBRX_ARCH_QKV_BIAS, 0 },
    { LBRX_W_V_BIAS, "attn_v.bias", "self_attn.v_proj.bias", 0, 'K', LBRX_ARCH_QKV_BIAS, 0 },
    { LBRX_W_Q_NORM, "attn_q_norm.weight", "self_attn.q_norm.weight", 0, 'H', LBRX_ARCH_QK_NORM, 0 },
    { LBRX_W_K_NORM, "attn_k_norm.weight", "self_attn.k_norm.weight", 0, 'H', LBRX_ARCH_QK_NORM, 0 },
    { LBRX_W_O, "attn_output.weight", "self_attn.o_proj.weight", 'E', 'Q', 0, 0 },
    { LBRX_W_POST_ATTN_NORM, "post_attention_norm.weight", "post_attention_layernorm.weight", 0, 'E', LBRX_ARCH_SANDWICH, 0 },
    { LBRX_W_FFN_NORM, "ffn_norm.weight", "post_attention_layernorm.weight", 0, 'E', 0, LBRX_ARCH_SANDWICH },
    { LBRX_W_FFN_NORM, "ffn_norm.weight", "pre_feedforward_layernorm.weight", 0, 'E', LBRX_ARCH_SANDWICH, 0 },
    { LBRX_W_GATE, "ffn_gate.weight", "mlp.gate_proj.weight", 'F', 'E', 0, LBRX_ARCH_FUSED },
    { LBRX_W_UP, "ffn_up.weight", "mlp.up_proj.weight", 'F', 'E', 0, LBRX_ARCH_FUSED },
    { LBRX_W_GATE_UP, "ffn_up.weight", "mlp.gate_up_proj.weight", 'G', 'E', LBRX_ARCH_FUSED, 0 },
    { LBRX_W_DOWN, "ffn_down.weight", "mlp.down_proj.weight", 'E', 'F', 0, 0 },
    { LBRX_W_POST_FFN_NORM, "post_ffw_norm.weight", "post_feedforward_layernorm.weight", 0, 'E', LBRX_ARCH_SANDWICH, 0 },
};
#define LBRX_MODEL__N_TENSORS (sizeof lbrx_model__tensors / sizeof lbrx_model__tensors[0])

/* The tensors outside the layers: slot 0 embeddings, 1 final norm, 2 output (optional: tied), 3
   rope_freqs (GGUF only; HF checkpoints describe it in config.json). */
static const lbrx_model_tensor lbrx_model__globals[] = {
    { 0, "token_embd.weight", "model.embed_tokens.weight", 'V', 'E', 0, 0 },
    { 1, "output_norm.weight", "model.norm.weight", 0, 'E', 0, 0 },
    { 2, "output.weight", "lm_head.weight", 'V', 'E', 0, 0 },
    { 3, "rope_freqs.weight", 0, 0, 'R', 0, 0 },
};

/* Hyper-parameters: GGUF key after "ARCH.", config.json key, integer or float, what a value must
   be (2: required, >= 1; 1: > 0 when present; 0: >= 0, 0 meaning none), where. What a file
   leaves out is 0, and lbrx_model__defaults fills it. */
typedef struct lbrx_model__param { const char *gguf, *hf; int is_float, need; size_t off; } lbrx_model__param;
#define LBRX_MODEL__P(g, h, f, r, field) { g, h, f, r, offsetof(lbrx_model_config, field) }
static const lbrx_model__param lbrx_model__params[] = {
    LBRX_MODEL__P("embedding_length", "hidden_size", 0, 2, dim),
    LBRX_MODEL__P("context_length", "max_position_embeddings", 0, 2, seq_len),
    LBRX_MODEL__P("feed_forward_length", "intermediate_size", 0, 2, hidden_dim),
    LBRX_MODEL__P("block_count", "num_hidden_layers", 0, 2, n_layers),
    LBRX_MODEL__P("attention.head_count", "num_attention_heads", 0, 2, n_heads),
    LBRX_MODEL__P("attention.head_count_kv", "num_key_value_heads", 0, 1, n_kv_heads),
    LBRX_MODEL__P("attention.key_length", "head_dim", 0, 1, head_dim),
    LBRX_MODEL__P("attention.value_length", 0, 0, 1, head_dim),
    LBRX_MODEL__P("rope.dimension_count", 0, 0, 1, rope_dim),
    LBRX_MODEL__P("vocab_size", "vocab_size", 0, 1, vocab_size),
    LBRX_MODEL__P("attention.layer_norm_rms_epsilon", "rms_norm_eps", 1, 1, norm_eps),
    LBRX_MODEL__P("rope.freq_base", "rope_theta", 1, 1, rope_base),
    LBRX_MODEL__P("rope.freq_base_swa", "rope_local_base_freq", 1, 1, rope_base_swa),
    LBRX_MODEL__P("attention.sliding_window", "sliding_window", 0, 0, window),
    LBRX_MODEL__P("attention.sliding_window_pattern", "sliding_window_pattern", 0, 0, swa_pattern),
    LBRX_MODEL__P("attn_logit_softcapping", "attn_logit_softcapping", 1, 0, attn_softcap),
    LBRX_MODEL__P("final_logit_softcapping", "final_logit_softcapping", 1, 0, final_softcap),
};
#define LBRX_MODEL__N_PARAMS (sizeof lbrx_model__params / sizeof lbrx_model__params[0])

LBRX_MODEL_DEF const lbrx_arch *lbrx_arch_find(const char *name, size_t len) {
    size_t i;
    for (i = 0; i < sizeof lbrx_model__archs / sizeof lbrx_model__archs[0]; i++)
        if (strlen(lbrx_model__archs[i].name) == len && !memcmp(lbrx_model__archs[i].name, name, len)) return &lbrx_model__archs[i];
    return 0;
}

LBRX_MODEL_DEF const lbrx_arch *lbrx_arch_find_hf(const char *model_type) {
    size_t i, n = model_type ? strlen(model_type) : 0;
    for (i = 0; n && i < sizeof lbrx_model__archs / sizeof lbrx_model__archs[0]; i++) {
        const char *p = lbrx_model__archs[i].hf_types;
        while (*p) {
            size_t w = strcspn(p, " ");
            if (w == n && !memcmp(p, model_type, n)) return &lbrx_model__archs[i];
            p += w;
            while (*p == ' ') p++;
        }
    }
    return 0;
}

LBRX_MODEL_DEF const lbrx_model_tensor *lbrx_model_tensors(size_t *n) {
    *n = LBRX_MODEL__N_TENSORS;
    return lbrx_model__tensors;
}

/* Whether table row t applies to architecture flags f. */
static int lbrx_model__applies(const lbrx_model_tensor *t, unsigned f) { return (t->when & f) == t->when && !(t->unless & f); }

LBRX_MODEL_DEF int lbrx_model_tensor_applies(const lbrx_model_tensor *t, const lbrx_arch *a) { return lbrx_model__applies(t, a->flags); }

LBRX_MODEL_DEF int64_t lbrx_model_dim(const lbrx_model_config *c, char code) {
    int64_t q = (int64_t)c->n_heads * c->head_dim, k = (int64_t)c->n_kv_heads * c->head_dim;
    switch (code) {
    case 'E': return c->dim;
    case 'Q': return q;
    case 'K': return k;
    case 'H': return c->head_dim;
    case 'F': return c->hidden_dim;
    case 'G': return 2 * (int64_t)c->hidden_dim;
    case 'T': return q + 2 * k;
    case 'V': return c->vocab_size;
    case 'R': return c->rope_dim / 2;
    default: return 0;
    }
}

LBRX_MODEL_DEF int lbrx_model_layer_swa(const lbrx_model_config *c, int l) {
    return c->window > 0 && (c->swa_pattern <= 1 || l % c->swa_pattern < c->swa_pattern - 1);
}

/* Fill what a file may leave out. */
static void lbrx_model__defaults(lbrx_model_config *c, float eps) {
    if (!c->n_kv_heads) c->n_kv_heads = c->n_heads;
    if (!c->head_dim && c->n_heads > 0 && c->dim % c->n_heads == 0) c->head_dim = c->dim / c->n_heads;
    if (!c->rope_dim) c->rope_dim = c->head_dim;
    if (!c->norm_eps) c->norm_eps = eps;
    if (!c->rope_base) c->rope_base = 10000.0f;
    if (!c->rope_base_swa) c->rope_base_swa = c->arch && c->arch->rope_base_swa > 0.0f ? c->arch->rope_base_swa : c->rope_base;
    if (!c->swa_pattern && c->arch) c->swa_pattern = c->arch->swa_pattern;
}

LBRX_MODEL_DEF lbrx_result lbrx_model_check_config(const lbrx_model_config *c, lbrx_error *err) {
    if (c->n_layers < 1 || c->n_layers > LBRX_MODEL_MAX_LAYERS)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "block count %d (must be 1..%d)", c->n_layers, LBRX_MODEL_MAX_LAYERS);
    if (c->dim < 1 || c->dim > LBRX_MODEL_MAX_DIM)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "embedding length %d (must be 1..%d)", c->dim, LBRX_MODEL_MAX_DIM);
    if (c->hidden_dim < 1 || c->hidden_dim > LBRX_MODEL_MAX_DIM)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "feed-forward length %d (must be 1..%d)", c->hidden_dim, LBRX_MODEL_MAX_DIM);
    if (c->n_heads < 1 || c->n_heads > c->dim)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "head count %d (must be 1..embedding length %d)", c->n_heads, c->dim);
    if (c->n_kv_heads < 1 || c->n_kv_heads > c->n_heads)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "KV head count %d (must be 1..head count %d)", c->n_kv_heads, c->n_heads);
    if (c->n_heads % c->n_kv_heads)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "head count %d is not a multiple of the KV head count %d", c->n_heads, c->n_kv_heads);
    if (c->head_dim == 0)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "embedding length %d is not a multiple of the head count %d", c->dim, c->n_heads);
    if (c->head_dim < 2 || c->head_dim % 2 || c->head_dim > 512 || (int64_t)c->head_dim * c->n_heads > LBRX_MODEL_MAX_DIM)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "head dimension %d (must be even, 2..512, and head count x head dimension <= %d)", c->head_dim, LBRX_MODEL_MAX_DIM);
    if (c->rope_dim != c->head_dim)
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "RoPE dimension count %d differs from the head dimension %d (partial RoPE is not supported)", c->rope_dim, c->head_dim);
    if (c->vocab_size < 1 || c->vocab_size > LBRX_MODEL_MAX_VOCAB)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "vocabulary size %d (must be 1..%d)", c->vocab_size, LBRX_MODEL_MAX_VOCAB);
    if (c->seq_len < 1 || c->seq_len > LBRX_MODEL_MAX_CTX)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "context length %d (must be 1..%d)", c->seq_len, LBRX_MODEL_MAX_CTX);
    if (!(c->norm_eps > 0.0f && c->norm_eps < 1.0f))
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "RMS norm epsilon %g (must be in (0, 1))", (double)c->norm_eps);
    if (!(c->rope_base > 1.0f && c->rope_base < 1e30f) || !(c->rope_base_swa > 1.0f && c->rope_base_swa < 1e30f))
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "RoPE frequency base %g / %g (must be > 1 and finite)", (double)c->rope_base, (double)c->rope_base_swa);
    if (c->rope_scaling != LBRX_ROPE_SCALING_NONE && !(c->rope_factor >= 1.0f && c->rope_factor < 1e6f))
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "RoPE scaling factor %g (must be 1..1e6)", (double)c->rope_factor);
    if (c->rope_scaling == LBRX_ROPE_SCALING_LLAMA3 && !(c->llama3_high > c->llama3_low && c->llama3_low > 0.0f && c->llama3_ctx > 0))
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "llama3 RoPE scaling: low_freq_factor %g, high_freq_factor %g, original context %d",
                                 (double)c->llama3_low, (double)c->llama3_high, c->llama3_ctx);
    if (c->window < 0 || c->swa_pattern < 0 || c->swa_pattern > LBRX_MODEL_MAX_LAYERS)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "sliding window %d / pattern %d", c->window, c->swa_pattern);
    if (!(c->attn_scale >= 0.0f && c->attn_scale < 1e6f) || !(c->attn_softcap >= 0.0f && c->attn_softcap < 1e30f) ||
        !(c->final_softcap >= 0.0f && c->final_softcap < 1e30f))
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "attention scale %g or soft-capping %g / %g is not a finite number >= 0",
                                 (double)c->attn_scale, (double)c->attn_softcap, (double)c->final_softcap);
    return LBRX_OK;
}

LBRX_MODEL_DEF void lbrx_model_llama3_factors(const lbrx_model_config *c, float *out) {
    const double pi = 3.14159265358979323846, low_wl = c->llama3_ctx / c->llama3_low, high_wl = c->llama3_ctx / c->llama3_high;
    int i;
    for (i = 0; i < c->rope_dim / 2; i++) {
        double freq = pow((double)c->rope_base, -2.0 * i / c->rope_dim), wl = 2.0 * pi / freq, f;
        if (wl < high_wl) f = 1.0;
        else if (wl > low_wl) f = c->rope_factor;
        else {
            double smooth = (c->llama3_ctx / wl - c->llama3_low) / (c->llama3_high - c->llama3_low);
            f = 1.0 / ((1.0 - smooth) / c->rope_factor + smooth);
        }
        out[i] = (float)f;
    }
}

/* ---- the model ---- */

LBRX_MODEL_DEF void lbrx_model_free(lbrx_model *m) {
    int l, i;
    if (m->layers)
        for (l = 0; l < m->c.n_layers; l++)
            for (i = 0; i < LBRX_W_COUNT; i++) lbrx_tensor_release(&m->layers[l].w[i]);
    free(m->layers);
    lbrx_tensor_release(&m->embd);
    lbrx_tensor_release(&m->out_norm);
    lbrx_tensor_release(&m->output);
    lbrx_tensor_release(&m->rope_freqs);
    memset(m, 0, sizeof *m);
}

static int lbrx_model__present(const lbrx_tensor *t) { return t->data || t->storage || t->ndim; }

/* Check that a weight is present with shape [rows, cols] ([cols] when rows is 0). */
static lbrx_result lbrx_model__check_shape(const lbrx_tensor *t, const char *name, int64_t rows, int64_t cols, lbrx_error *err) {
    if (!lbrx_model__present(t)) return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "tensor %s is missing", name);
    if (rows == 0) {
        if (t->ndim != 1 || t->shape[0] != cols)
            return lbrx_error_set(err, LBRX_ERR_BAD_SHAPE, LBRX_NO_OFFSET, "tensor %s has %d dimensions [%lld%s], expected [%lld]", name, t->ndim,
                                     (long long)(t->ndim ? t->shape[0] : 0), t->ndim > 1 ? ", ..." : "", (long long)cols);
    } else if (t->ndim != 2 || t->shape[0] != rows || t->shape[1] != cols) {
        return lbrx_error_set(err, LBRX_ERR_BAD_SHAPE, LBRX_NO_OFFSET, "tensor %s has shape [%lld, %lld]%s, expected [%lld, %lld] from the hyper-parameters",
                                 name, (long long)(t->ndim > 0 ? t->shape[0] : 0), (long long)(t->ndim > 1 ? t->shape[1] : 0),
                                 t->ndim != 2 ? " (not 2-D)" : "", (long long)rows, (long long)cols);
    }
    return LBRX_OK;
}

/* Put "what: " (printf-style) before err's message; returns err's result. */
static lbrx_result lbrx_model__error_context(lbrx_error *err, lbrx_result r, const char *fmt, ...) {
    if (err) {
        char head[320], msg[sizeof err->message + 330];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(head, sizeof head, fmt, ap);
        va_end(ap);
        snprintf(msg, sizeof msg, "%s: %s", head, err->message);
        memcpy(err->message, msg, sizeof err->message - 1);
        err->message[sizeof err->message - 1] = 0;
    }
    return r;
}

/* Make a weight usable as it lies where lbrx's kernels take it: vectors (norms, biases) in F32
   (plus_one: 1 + w, a copy); matmul weights in lbrx_matmul's dtypes, others converted once (to
   Q8_0 when rows allow, else F32). Adds the bytes a token reads. */
static lbrx_result lbrx_model__prepare(lbrx_model *m, lbrx_tensor *t, int is_vec, int plus_one, const char *name, lbrx_error *err) {
    lbrx_tensor c;
    lbrx_dtype to;
    size_t nb = 0;
    lbrx_result r;
    if (is_vec) to = LBRX_F32;
    else if (lbrx_matmul_supports(t->dtype)) to = t->dtype;
    else to = t->shape[t->ndim - 1] % 32 == 0 ? LBRX_Q8_0 : LBRX_F32;
    if (to != t->dtype || plus_one) {
        r = lbrx_tensor_convert(t, to, &c, 0, err);
        if (r != LBRX_OK) return lbrx_model__error_context(err, r, "tensor %.100s (%s)", name, lbrx_dtype_name(t->dtype));
        if (plus_one) {
            int64_t i;
            for (i = 0; i < c.shape[0]; i++) ((float *)c.data)[i] += 1.0f;
        }
        lbrx_tensor_release(t);
        *t = c;
    }
    if (!is_vec && lbrx_tensor_nbytes(t, &nb) == LBRX_OK) m->weight_bytes += nb;
    return LBRX_OK;
}

/* Rows [r0, r0 + n) of a 2-D tensor as a new tensor sharing its storage. */
static lbrx_tensor lbrx_model__rows(const lbrx_tensor *t, int64_t r0, int64_t n) {
    lbrx_tensor v = *t;
    v.shape[0] = n;
    v.data = (unsigned char *)t->data + r0 * t->stride[0];
    if (v.storage) lbrx_storage_retain(v.storage);
    return v;
}

/* The name of a table row for messages: GGUF "blk.L.x" (or the HF name for HF checkpoints). */
static void lbrx_model__name(const lbrx_model *m, const lbrx_model_tensor *t, int l, char *out, size_t cap) {
    const int hf = !strcmp(m->format, "safetensors") && t->hf;
    const char *s = hf ? t->hf : t->gguf;
    size_t n = strlen(s);
    if (!hf && n > 7 && !strcmp(s + n - 7, ".weight")) n -= 7; /* GGUF messages name blk.N.attn_q */
    if (l < 0) snprintf(out, cap, "%.*s", (int)n, s);
    else snprintf(out, cap, hf ? "model.layers.%d.%.*s" : "blk.%d.%.*s", l, (int)n, s);
}

/* Validate every tensor against the hyper-parameters, split fused ones, and prepare the weights
   for the kernels. plus_one: the norms are HF Gemma's w, used as 1 + w. */
static lbrx_result lbrx_model__finish(lbrx_model *m, int plus_one, lbrx_error *err) {
    const lbrx_model_config *c = &m->c;
    const unsigned f = c->arch ? c->arch->flags : 0;
    lbrx_tensor *g[4];
    lbrx_result r;
    size_t i;
    int l;
    char name[160];
    g[0] = &m->embd; g[1] = &m->out_norm; g[2] = &m->output; g[3] = &m->rope_freqs;
    if ((r = lbrx_model_check_config(c, err)) != LBRX_OK) return r;
    if (!lbrx_model__present(&m->output)) { /* tied output layer */
        m->output = m->embd;
        if (m->output.storage) lbrx_storage_retain(m->output.storage);
    }
    for (i = 0; i < 4; i++) {
        const lbrx_model_tensor *t = &lbrx_model__globals[i];
        if (i == 3 && !lbrx_model__present(g[3])) continue;
        lbrx_model__name(m, t, -1, name, sizeof name);
        if ((r = lbrx_model__check_shape(g[i], name, lbrx_model_dim(c, t->rows), lbrx_model_dim(c, t->cols), err)) != LBRX_OK) return r;
    }
    for (l = 0; l < c->n_layers; l++) {
        lbrx_model_layer *L = &m->layers[l];
        for (i = 0; i < LBRX_MODEL__N_TENSORS; i++) {
            const lbrx_model_tensor *t = &lbrx_model__tensors[i];
            if (!lbrx_model__applies(t, f)) continue;
            lbrx_model__name(m, t, l, name, sizeof name);
            if ((r = lbrx_model__check_shape(&L->w[t->slot], name, lbrx_model_dim(c, t->rows), lbrx_model_dim(c, t->cols), err)) != LBRX_OK)
                return r;
        }
        if (f & LBRX_ARCH_FUSED) {
            int64_t q = lbrx_model_dim(c, 'Q'), k = lbrx_model_dim(c, 'K'), ff = c->hidden_dim;
            L->w[LBRX_W_Q] = lbrx_model__rows(&L->w[LBRX_W_QKV], 0, q);
            L->w[LBRX_W_K] = lbrx_model__rows(&L->w[LBRX_W_QKV], q, k);
            L->w[LBRX_W_V] = lbrx_model__rows(&L->w[LBRX_W_QKV], q + k, k);
            L->w[LBRX_W_GATE] = lbrx_model__rows(&L->w[LBRX_W_GATE_UP], 0, ff);
            L->w[LBRX_W_UP] = lbrx_model__rows(&L->w[LBRX_W_GATE_UP], ff, ff);
            lbrx_tensor_release(&L->w[LBRX_W_QKV]);
            lbrx_tensor_release(&L->w[LBRX_W_GATE_UP]);
        }
        for (i = 0; i < LBRX_W_COUNT; i++) {
            lbrx_tensor *w = &L->w[i];
            int is_norm = i == LBRX_W_ATTN_NORM || i == LBRX_W_Q_NORM || i == LBRX_W_K_NORM || i == LBRX_W_POST_ATTN_NORM ||
                          i == LBRX_W_FFN_NORM || i == LBRX_W_POST_FFN_NORM;
            if (!lbrx_model__present(w)) continue;
            snprintf(name, sizeof name, "blk.%d slot %d", l, (int)i);
            if ((r = lbrx_model__prepare(m, w, w->ndim == 1, is_norm && plus_one, name, err)) != LBRX_OK) return r;
        }
    }
    if ((r = lbrx_model__prepare(m, &m->out_norm, 1, plus_one, "output_norm", err)) != LBRX_OK) return r;
    if ((r = lbrx_model__prepare(m, &m->output, 0, 0, "output", err)) != LBRX_OK) return r;
    if (lbrx_model__present(&m->rope_freqs)) {
        int64_t j;
        if ((r = lbrx_model__prepare(m, &m->rope_freqs, 1, 0, "rope_freqs", err)) != LBRX_OK) return r;
        for (j = 0; j < m->rope_freqs.shape[0]; j++) {
            float v = ((const float *)m->rope_freqs.data)[j];
            if (!(v > 0.0f && v < 1e30f)) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "rope_freqs[%lld] = %g (must be > 0 and finite)", (long long)j, (double)v);
        }
    }
    return LBRX_OK;
}

static lbrx_result lbrx_model__alloc_layers(lbrx_model *m, lbrx_error *err) {
    if (m->c.n_layers < 1 || m->c.n_layers > LBRX_MODEL_MAX_LAYERS)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "block count %d (must be 1..%d)", m->c.n_layers, LBRX_MODEL_MAX_LAYERS);
    m->layers = (lbrx_model_layer *)calloc((size_t)m->c.n_layers, sizeof(lbrx_model_layer));
    return m->layers ? LBRX_OK : lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory");
}

/* ---- llama2.c checkpoints ---- */

/* A float32 tensor [rows, cols] (or [cols] for rows 0) at *pos of the mapped checkpoint;
   advances *pos. The header was checked against the file size. */
static lbrx_result lbrx_model__bin_tensor(lbrx_tensor *t, lbrx_storage *s, uint64_t *pos, int64_t rows, int64_t cols, lbrx_error *err) {
    int64_t shape[2];
    lbrx_result r;
    shape[0] = rows; shape[1] = cols;
    r = rows ? lbrx_tensor_init(t, LBRX_F32, 2, shape, s, *pos, err) : lbrx_tensor_init(t, LBRX_F32, 1, shape + 1, s, *pos, err);
    *pos += (uint64_t)(rows ? rows : 1) * (uint64_t)cols * 4u;
    return r;
}

/* A llama2.c checkpoint (the legacy export: 7 int32 then float32 arrays), mapped and not
   copied. The header is validated and the arrays it implies must fill the file exactly. */
static lbrx_result lbrx_model__load_bin(lbrx_model *m, const char *path, lbrx_error *err) {
    /* the arrays, stacked over layers, in the file's order */
    static const int order[9] = { LBRX_W_ATTN_NORM, LBRX_W_Q, LBRX_W_K, LBRX_W_V, LBRX_W_O, LBRX_W_FFN_NORM, LBRX_W_GATE, LBRX_W_DOWN, LBRX_W_UP };
    lbrx_storage *s = 0;
    int32_t h[7];
    lbrx_model_config *c = &m->c;
    uint64_t D, Hd, L, V, qd, kvd, floats = 0, pos = 28;
    int shared, l, k;
    size_t i;
    lbrx_result r = lbrx_storage_open(&s, path, 0, err);
    if (r != LBRX_OK) return r;
    m->format = "llama2.c";
    m->file_bytes = lbrx_storage_size(s);
    if (lbrx_storage_size(s) < 28) { r = lbrx_error_set(err, LBRX_ERR_TRUNCATED, LBRX_NO_OFFSET, "%s: %zu bytes, too short for a llama2.c header", path, lbrx_storage_size(s)); goto done; }
    memcpy(h, lbrx_storage_data(s), 28);
    if (h[0] == 0x616b3432) { r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "%s: a llama2.c version-%d export; only the legacy export is supported", path, (int)h[1]); goto done; }
    for (k = 0; k < 7; k++)
        if (h[k] == 0 || (h[k] < 0 && k != 5) || h[k] == INT32_MIN) {
            static const char *field[7] = { "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len" };
            r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "%s: header field %s is %d (file offset %d)", path, field[k], (int)h[k], 4 * k);
            goto done;
        }
    shared = h[5] > 0;
    c->arch = lbrx_arch_find("llama", 5);
    c->dim = h[0]; c->hidden_dim = h[1]; c->n_layers = h[2]; c->n_heads = h[3]; c->n_kv_heads = h[4];
    c->vocab_size = shared ? h[5] : -h[5]; c->seq_len = h[6];
    if (c->dim % c->n_heads) { r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "%s: dim %d is not a multiple of n_heads %d", path, c->dim, c->n_heads); goto done; }
    lbrx_model__defaults(c, 1e-5f);
    c->rope_neox = 0;
    if ((r = lbrx_model_check_config(c, err)) != LBRX_OK) goto done;
    D = (uint64_t)c->dim; Hd = (uint64_t)c->hidden_dim; L = (uint64_t)c->n_layers; V = (uint64_t)c->vocab_size;
    qd = (uint64_t)c->n_heads * (uint64_t)c->head_dim; kvd = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    /* every factor is below 2^24 and L below 2^10, so these sums fit in 64 bits */
    floats = V * D + L * (D + qd * D + 2 * kvd * D + D * qd + D + 3 * Hd * D) + D + (uint64_t)c->seq_len * (uint64_t)c->head_dim + (shared ? 0 : V * D);
    if ((uint64_t)lbrx_storage_size(s) - 28 != floats * 4) {
        r = lbrx_error_set(err, LBRX_ERR_SIZE_MISMATCH, LBRX_NO_OFFSET, "%s: the header implies %llu bytes of weights but the file has %llu", path,
                              (unsigned long long)(floats * 4), (unsigned long long)(lbrx_storage_size(s) - 28));
        goto done;
    }
    if ((r = lbrx_model__alloc_layers(m, err)) != LBRX_OK) goto done;
    if ((r = lbrx_model__bin_tensor(&m->embd, s, &pos, c->vocab_size, c->dim, err)) != LBRX_OK) goto done;
    for (k = 0; k < 9; k++)
        for (l = 0; l < c->n_layers; l++) {
            const lbrx_model_tensor *t = 0;
            for (i = 0; i < LBRX_MODEL__N_TENSORS; i++)
                if (lbrx_model__tensors[i].slot == order[k]) { t = &lbrx_model__tensors[i]; break; }
            if ((r = lbrx_model__bin_tensor(&m->layers[l].w[order[k]], s, &pos, lbrx_model_dim(c, t->rows), lbrx_model_dim(c, t->cols), err)) != LBRX_OK)
                goto done;
        }
    if ((r = lbrx_model__bin_tensor(&m->out_norm, s, &pos, 0, c->dim, err)) != LBRX_OK) goto done;
    pos += (uint64_t)c->seq_len * (uint64_t)c->head_dim * 4u; /* freq_cis_real and _imag, unused */
    if (!shared && (r = lbrx_model__bin_tensor(&m->output, s, &pos, c->vocab_size, c->dim, err)) != LBRX_OK) goto done;
done:
    lbrx_storage_release(s); /* the tensors hold their own references */
    return r;
}

/* ---- GGUF ---- */

/* The largest value of an integer hyper-parameter. */
static int64_t lbrx_model__param_max(const lbrx_model__param *p) {
    return p->off == offsetof(lbrx_model_config, n_layers) ? LBRX_MODEL_MAX_LAYERS : LBRX_MODEL_MAX_CTX;
}

/* The result r of a reader's get_tensor for `name`: a missing tensor is left zeroed, and is an
   error naming it unless optional. */
static lbrx_result lbrx_model__missing(lbrx_result r, const char *name, lbrx_tensor *t, int optional, lbrx_error *err) {
    if (r != LBRX_ERR_NOT_FOUND) return r;
    memset(t, 0, sizeof *t);
    return optional ? LBRX_OK : lbrx_error_set(err, r, LBRX_NO_OFFSET, "tensor %s is missing", name);
}

/* A model tensor `name` from a reader into *t (a new reference); LBRX_ERR_NOT_FOUND, with a
   message naming it, when the file has none. */
typedef lbrx_result (*lbrx_model__get_fn)(void *reader, const char *name, lbrx_tensor *t, lbrx_error *err);
static lbrx_result lbrx_model__gguf_get(void *g, const char *name, lbrx_tensor *t, lbrx_error *err) {
    return lbrx_model__missing(lbrx_gguf_get_tensor((const lbrx_gguf *)g, name, t, err), name, t, 0, err);
}

/* The model's tensors from a reader, named as GGUF ("blk.L.") or Hugging Face
   ("model.layers.L.") name them: the globals (output and rope_freqs optional) and each layer's
   rows of the table. */
static lbrx_result lbrx_model__load_tensors(lbrx_model *m, lbrx_model__get_fn get, void *reader, int hf, lbrx_error *err) {
    lbrx_tensor *globals[4];
    char name[256];
    size_t i;
    int l;
    lbrx_result r;
    globals[0] = &m->embd; globals[1] = &m->out_norm; globals[2] = &m->output; globals[3] = &m->rope_freqs;
    for (i = 0; i < 4; i++) {
        const char *nm = hf ? lbrx_model__globals[i].hf : lbrx_model__globals[i].gguf;
        if (!nm) continue;
        r = get(reader, nm, globals[i], err);
        if (r == LBRX_ERR_NOT_FOUND && i >= 2) r = LBRX_OK;  /* tied output; rope_freqs */
        if (r != LBRX_OK) return r;
    }
    for (l = 0; l < m->c.n_layers; l++)
        for (i = 0; i < LBRX_MODEL__N_TENSORS; i++) {
            const lbrx_model_tensor *t = &lbrx_model__tensors[i];
            if (!lbrx_model__applies(t, m->c.arch->flags)) continue;
            if (hf) snprintf(name, sizeof name, "model.layers.%d.%s", l, t->hf);
            else snprintf(name, sizeof name, "blk.%d.%s", l, t->gguf);
            if ((r = get(reader, name, &m->layers[l].w[t->slot], err)) != LBRX_OK) return r;
        }
    return LBRX_OK;
}

/* A GGUF file of a known architecture: hyper-parameters and tensors (mapped). */
static lbrx_result lbrx_model__load_gguf(lbrx_model *m, const char *path, lbrx_error *err) {
    lbrx_gguf *g = 0;
    lbrx_model_config *c = &m->c;
    lbrx_gguf_str arch, st;
    char key[160];
    size_t i;
    lbrx_result r = lbrx_gguf_open(&g, path, 0, err);
    if (r != LBRX_OK) return r;
    m->format = "gguf";
    m->file_bytes = lbrx_storage_size(lbrx_gguf_storage(g));
    if ((r = lbrx_gguf_get_str(g, "general.architecture", &arch, err)) != LBRX_OK) goto done;
    if (!(c->arch = lbrx_arch_find(arch.data, (size_t)arch.len))) {
        r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "general.architecture is \"%.*s\" (supported: llama, qwen2, qwen3, gemma2, gemma3, phi3)",
                              (int)(arch.len < 64 ? arch.len : 64), arch.data);
        goto done;
    }
    for (i = 0; i < LBRX_MODEL__N_PARAMS; i++) {
        const lbrx_model__param *p = &lbrx_model__params[i];
        void *field = (char *)c + p->off;
        int64_t v = 0;
        float x = 0.0f;
        snprintf(key, sizeof key, "%s.%s", c->arch->name, p->gguf);
        r = p->is_float ? lbrx_gguf_get_f32(g, key, &x, err) : lbrx_gguf_get_int(g, key, &v, err);
        if (r == LBRX_ERR_NOT_FOUND && p->need < 2) { r = LBRX_OK; continue; }
        if (r == LBRX_ERR_NOT_FOUND) r = lbrx_error_set(err, r, LBRX_NO_OFFSET, "metadata %s is missing", key);
        if (r != LBRX_OK) goto done;
        if (p->is_float ? !(x >= 0.0f && x < 1e30f) || (p->need && x == 0.0f) : v < (p->need ? 1 : 0) || v > lbrx_model__param_max(p)) {
            r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "metadata %s = %g (must be %s)", key, p->is_float ? (double)x : (double)v,
                                  p->is_float ? (p->need ? "> 0 and finite" : ">= 0 and finite") : p->need ? "1..2^24" : "0..2^24");
            goto done;
        }
        if (p->is_float) *(float *)field = x; else *(int *)field = (int)v;
    }
    if (!c->head_dim && c->dim % c->n_heads) {
        r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "%s.embedding_length %d is not a multiple of %s.attention.head_count %d", c->arch->name, c->dim,
                              c->arch->name, c->n_heads);
        goto done;
    }
    snprintf(key, sizeof key, "%s.attention.scale", c->arch->name);
    if ((r = lbrx_gguf_get_f32(g, key, &c->attn_scale, err)) == LBRX_ERR_NOT_FOUND) {
        r = LBRX_OK;
        if (c->n_layers == c->arch->dim_scale_layers) c->attn_scale = (float)(1.0 / sqrt((double)(c->dim / c->n_heads)));
    }
    if (r != LBRX_OK) goto done;
    snprintf(key, sizeof key, "%s.rope.scaling.type", c->arch->name);
    if (lbrx_gguf_get_str(g, key, &st, 0) == LBRX_OK && !(st.len == 4 && !memcmp(st.data, "none", 4))) {
        if (!(st.len == 6 && !memcmp(st.data, "linear", 6))) {
            r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "%s \"%.*s\" is not supported (none, linear)", key, (int)(st.len < 64 ? st.len : 64), st.data);
            goto done;
        }
        c->rope_scaling = LBRX_ROPE_SCALING_LINEAR;
        snprintf(key, sizeof key, "%s.rope.scaling.factor", c->arch->name);
        if ((r = lbrx_gguf_get_f32(g, key, &c->rope_factor, err)) != LBRX_OK) goto done;
    }
    if (lbrx_gguf_find_tensor(g, "rope_factors_long.weight") != SIZE_MAX) {
        r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tensor rope_factors_long.weight: LongRoPE scaling (Phi-3 128k) is not supported");
        goto done;
    }
    lbrx_model__defaults(c, 1e-5f);
    c->rope_neox = !(c->arch->flags & LBRX_ARCH_PERMUTE_QK);
    if ((r = lbrx_model__alloc_layers(m, err)) != LBRX_OK) goto done;
    if ((r = lbrx_model__load_tensors(m, lbrx_model__gguf_get, g, 0, err)) != LBRX_OK) goto done;
    /* the vocabulary: ARCH.vocab_size, else the tokenizer's, else token_embd's rows (all checked
       against each other in lbrx_model__finish and by the tokenizer's user) */
    if (!c->vocab_size) {
        const lbrx_gguf_str *toks;
        uint64_t nt = 0;
        if (lbrx_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &nt, 0) == LBRX_OK && nt > 0 && nt <= LBRX_MODEL_MAX_VOCAB) c->vocab_size = (int)nt;
        else if (m->embd.ndim == 2 && m->embd.shape[0] <= LBRX_MODEL_MAX_VOCAB) c->vocab_size = (int)m->embd.shape[0];
    }
done:
    lbrx_gguf_destroy(g); /* the tensors hold their own storage references */
    return r;
}

LBRX_MODEL_DEF lbrx_result lbrx_model_write_gguf_config(lbrx_gguf_writer *w, const lbrx_model_config *c, lbrx_error *err) {
    char key[160];
    size_t i;
    lbrx_result r = lbrx_gguf_writer_add_str(w, "general.architecture", c->arch->name, err);
    for (i = 0; i < LBRX_MODEL__N_PARAMS && r == LBRX_OK; i++) {
        const lbrx_model__param *p = &lbrx_model__params[i];
        const void *field = (const char *)c + p->off;
        snprintf(key, sizeof key, "%s.%s", c->arch->name, p->gguf);
        if (p->off == offsetof(lbrx_model_config, window) && !c->window) continue;
        if (p->off == offsetof(lbrx_model_config, swa_pattern) && (!c->window || c->swa_pattern == c->arch->swa_pattern)) continue;
        if (p->off == offsetof(lbrx_model_config, rope_base_swa) && !(c->arch->flags & LBRX_ARCH_LOCAL_ROPE)) continue;
        if (p->is_float ? *(const float *)field == 0.0f : *(const int *)field == 0) continue;
        r = p->is_float ? lbrx_gguf_writer_add_f32(w, key, *(const float *)field, err) : lbrx_gguf_writer_add_u32(w, key, (uint32_t)*(const int *)field, err);
    }
    if (r == LBRX_OK && c->attn_scale > 0.0f && fabs(c->attn_scale * sqrt((double)c->head_dim) - 1.0) > 1e-6) {
        snprintf(key, sizeof key, "%s.attention.scale", c->arch->name);
        r = lbrx_gguf_writer_add_f32(w, key, c->attn_scale, err);
    }
    if (r == LBRX_OK && c->rope_scaling == LBRX_ROPE_SCALING_LINEAR) {
        snprintf(key, sizeof key, "%s.rope.scaling.type", c->arch->name);
        r = lbrx_gguf_writer_add_str(w, key, "linear", err);
        snprintf(key, sizeof key, "%s.rope.scaling.factor", c->arch->name);
        if (r == LBRX_OK) r = lbrx_gguf_writer_add_f32(w, key, c->rope_factor, err);
    }
    return r;
}

LBRX_MODEL_DEF int lbrx_model_gguf_name(const lbrx_model_config *c, const char *hf, char *out, size_t cap, int64_t *permute_heads,
                                        int *add_one) {
    const unsigned f = c->arch->flags;
    size_t i, n = strlen(hf);
    *permute_heads = 0;
    *add_one = 0;
    if (n > 20 && !strcmp(hf + n - 20, ".rotary_emb.inv_freq")) return 0;
    for (i = 0; i < 3; i++)
        if (!strcmp(hf, lbrx_model__globals[i].hf)) {
            snprintf(out, cap, "%s", lbrx_model__globals[i].gguf);
            *add_one = i == 1 && (f & LBRX_ARCH_NORM_PLUS1);
            return 1;
        }
    if (!strncmp(hf, "model.layers.", 13)) {
        char *end;
        long layer = strtol(hf + 13, &end, 10);
        if (end > hf + 13 && *end == '.' && layer >= 0 && layer < c->n_layers)
            for (i = 0; i < LBRX_MODEL__N_TENSORS; i++) {
                const lbrx_model_tensor *t = &lbrx_model__tensors[i];
                if (!lbrx_model__applies(t, f) || strcmp(end + 1, t->hf)) continue;
                snprintf(out, cap, "blk.%ld.%s", layer, t->gguf);
                if ((f & LBRX_ARCH_PERMUTE_QK) && (t->slot == LBRX_W_Q || t->slot == LBRX_W_K)) *permute_heads = t->slot == LBRX_W_Q ? c->n_heads : c->n_kv_heads;
                *add_one = t->rows == 0 && (f & LBRX_ARCH_NORM_PLUS1) && strstr(t->gguf, "norm") != 0;
                return 1;
            }
    }
    return -1;
}

/* ---- Hugging Face checkpoints ---- */

/* A member of an object as an integer in [lo, hi]; missing or null leaves *out alone (an error
   when required). hi may be below lo: then any value >= lo. */
static lbrx_result lbrx_model__json_int(const lbrx_json_value *obj, const char *key, int required, int64_t lo, int64_t hi, int *out, lbrx_error *err) {
    const lbrx_json_value *v = lbrx_json_get(obj, key);
    int64_t x;
    if (!v || lbrx_json_type_of(v) == LBRX_JSON_NULL)
        return required ? lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "config.json: %s is missing", key) : LBRX_OK;
    if (lbrx_json_i64(v, &x) != LBRX_OK)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: %s is not an integer (byte %llu)", key, (unsigned long long)lbrx_json_offset(v));
    if (x < lo || x > hi) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: %s = %lld (must be %lld..%lld)", key, (long long)x, (long long)lo, (long long)hi);
    *out = (int)x;
    return LBRX_OK;
}

/* A number member (missing or null leaves *out alone). */
static lbrx_result lbrx_model__json_float(const lbrx_json_value *obj, const char *key, float *out, lbrx_error *err) {
    const lbrx_json_value *v = lbrx_json_get(obj, key);
    double x;
    if (!v || lbrx_json_type_of(v) == LBRX_JSON_NULL) return LBRX_OK;
    if (lbrx_json_f64(v, &x) != LBRX_OK || !(x > -1e30 && x < 1e30))
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: %s is not a number (byte %llu)", key, (unsigned long long)lbrx_json_offset(v));
    *out = (float)x;
    return LBRX_OK;
}

static int lbrx_model__json_is_str(const lbrx_json_value *v, const char *s) {
    const char *t = lbrx_json_string(v, 0);
    return t && !strcmp(t, s);
}

/* RoPE parameters of one object (rope_scaling, rope_parameters or one of its per-layer-type
   members): rope_theta and the scaling. */
static lbrx_result lbrx_model__hf_rope(const lbrx_json_value *o, lbrx_model_config *c, float *base, lbrx_error *err) {
    const char *type = lbrx_json_string(lbrx_json_get(o, "rope_type"), 0);
    lbrx_result r;
    if (!type) type = lbrx_json_string(lbrx_json_get(o, "type"), 0);
    if ((r = lbrx_model__json_float(o, "rope_theta", base, err)) != LBRX_OK) return r;
    if (!type || !strcmp(type, "default")) return LBRX_OK;
    if (!strcmp(type, "linear")) c->rope_scaling = LBRX_ROPE_SCALING_LINEAR;
    else if (!strcmp(type, "llama3")) c->rope_scaling = LBRX_ROPE_SCALING_LLAMA3;
    else return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: RoPE scaling \"%.40s\" is not supported (default, linear, llama3)", type);
    if ((r = lbrx_model__json_float(o, "factor", &c->rope_factor, err)) != LBRX_OK) return r;
    if (c->rope_scaling == LBRX_ROPE_SCALING_LLAMA3) {
        c->llama3_low = 1.0f;
        c->llama3_high = 4.0f;
        c->llama3_ctx = 8192;
        if ((r = lbrx_model__json_float(o, "low_freq_factor", &c->llama3_low, err)) != LBRX_OK ||
            (r = lbrx_model__json_float(o, "high_freq_factor", &c->llama3_high, err)) != LBRX_OK ||
            (r = lbrx_model__json_int(o, "original_max_position_embeddings", 0, 1, LBRX_MODEL_MAX_CTX, &c->llama3_ctx, err)) != LBRX_OK)
            return r;
    }
    return LBRX_OK;
}

LBRX_MODEL_DEF lbrx_result lbrx_model_config_from_hf(const lbrx_json_value *cfg, lbrx_model_config *c, lbrx_error *err) {
    const char *mt = lbrx_json_string(lbrx_json_get(cfg, "model_type"), 0), *act;
    const lbrx_json_value *rp = lbrx_json_get(cfg, "rope_parameters"), *lt = lbrx_json_get(cfg, "layer_types");
    lbrx_result r;
    size_t i;
    int b = 0;
    memset(c, 0, sizeof *c);
    if (lbrx_json_type_of(cfg) != LBRX_JSON_OBJECT) return lbrx_error_set(err, LBRX_ERR_BAD_HEADER, LBRX_NO_OFFSET, "config.json is not an object");
    if (!(c->arch = lbrx_arch_find_hf(mt)))
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: model_type \"%.40s\" is not supported (llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3)",
                                 mt ? mt : "(none)");
    act = lbrx_json_string(lbrx_json_get(cfg, "hidden_activation"), 0);
    if (!act) act = lbrx_json_string(lbrx_json_get(cfg, "hidden_act"), 0);
    if (act && strcmp(act, c->arch->flags & LBRX_ARCH_GEGLU ? "gelu_pytorch_tanh" : "silu"))
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: activation \"%.40s\" is not %s's", act, c->arch->name);
    for (i = 0; i < 2; i++) {
        const char *k = i ? "mlp_bias" : "attention_bias";
        const lbrx_json_value *v = lbrx_json_get(cfg, k);
        if (v && lbrx_json_type_of(v) != LBRX_JSON_NULL && (lbrx_json_bool(v, &b) != LBRX_OK || b))
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: %s is not false", k);
    }
    for (i = 0; i < LBRX_MODEL__N_PARAMS; i++) {
        const lbrx_model__param *p = &lbrx_model__params[i];
        void *field = (char *)c + p->off;
        if (!p->hf) continue;
        r = p->is_float ? lbrx_model__json_float(cfg, p->hf, (float *)field, err)
                        : lbrx_model__json_int(cfg, p->hf, p->need == 2, p->need ? 1 : 0, lbrx_model__param_max(p), (int *)field, err);
        if (r != LBRX_OK) return r;
        if (p->is_float && (*(float *)field < 0.0f || (p->need && lbrx_json_get(cfg, p->hf) && lbrx_json_type_of(lbrx_json_get(cfg, p->hf)) != LBRX_JSON_NULL && *(float *)field == 0.0f)))
            return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: %s = %g (must be > 0)", p->hf, (double)*(float *)field);
    }
    if ((r = lbrx_model__json_float(cfg, "partial_rotary_factor", &c->rope_factor, err)) != LBRX_OK) return r;
    if (c->rope_factor != 0.0f && c->rope_factor != 1.0f)
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: partial_rotary_factor %g (partial RoPE is not supported)", (double)c->rope_factor);
    c->rope_factor = 0.0f;
    if (lbrx_json_type_of(lbrx_json_get(cfg, "use_sliding_window")) == LBRX_JSON_BOOL && lbrx_json_bool(lbrx_json_get(cfg, "use_sliding_window"), &b) == LBRX_OK && !b)
        c->window = 0;
    /* RoPE: rope_theta / rope_scaling at the top (transformers 4), rope_parameters (5), which for
       local/global models holds one object per layer type */
    if ((r = lbrx_model__hf_rope(lbrx_json_get(cfg, "rope_scaling"), c, &c->rope_base, err)) != LBRX_OK) return r;
    if (lbrx_json_type_of(lbrx_json_get(rp, "full_attention")) == LBRX_JSON_OBJECT) {
        if ((r = lbrx_model__hf_rope(lbrx_json_get(rp, "full_attention"), c, &c->rope_base, err)) != LBRX_OK) return r;
        if ((r = lbrx_model__json_float(lbrx_json_get(rp, "sliding_attention"), "rope_theta", &c->rope_base_swa, err)) != LBRX_OK) return r;
    } else if (lbrx_json_type_of(rp) == LBRX_JSON_OBJECT && (r = lbrx_model__hf_rope(rp, c, &c->rope_base, err)) != LBRX_OK) {
        return r;
    }
    if (c->rope_scaling == LBRX_ROPE_SCALING_LLAMA3 && (c->arch->flags & LBRX_ARCH_LOCAL_ROPE))
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: llama3 RoPE scaling on a %s model", c->arch->name);
    /* which layers have the window: layer_types, else the architecture's pattern */
    if (c->window && lbrx_json_type_of(lt) == LBRX_JSON_ARRAY) {
        int n = (int)lbrx_json_count(lt), p, l, ok = 0, n_swa = 0;
        if (n != c->n_layers) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: layer_types has %d entries for %d layers", n, c->n_layers);
        for (l = 0; l < n; l++) n_swa += lbrx_model__json_is_str(lbrx_json_at(lt, (size_t)l), "sliding_attention");
        if (!n_swa) c->window = 0;
        for (p = 1; p <= n && n_swa && !ok; p++) {  /* p = 1: every layer */
            c->swa_pattern = p;
            for (ok = 1, l = 0; l < n && ok; l++) ok = lbrx_model_layer_swa(c, l) == lbrx_model__json_is_str(lbrx_json_at(lt, (size_t)l), "sliding_attention");
        }
        if (n_swa && !ok) return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: layer_types is not a repeating pattern of window layers and one full layer");
        if (c->swa_pattern == 1) c->swa_pattern = 0;
    }
    {
        float q = 0.0f;
        if ((r = lbrx_model__json_float(cfg, "query_pre_attn_scalar", &q, err)) != LBRX_OK) return r;
        if (q < 0.0f) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: query_pre_attn_scalar %g", (double)q);
        if (q > 0.0f) c->attn_scale = (float)(1.0 / sqrt((double)q));
    }
    if (!c->head_dim && c->n_heads > 0 && c->dim % c->n_heads)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: hidden_size %d is not a multiple of num_attention_heads %d", c->dim, c->n_heads);
    lbrx_model__defaults(c, 1e-6f);
    if (!c->vocab_size) return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "config.json: vocab_size is missing");
    c->rope_neox = 1; /* HF checkpoints rotate half-split pairs */
    return lbrx_model_check_config(c, err);
}

/* A tensor of a safetensors checkpoint by name (a new reference), or an error naming it; a
   missing optional one is left zeroed. */
static lbrx_result lbrx_model__st_tensor(const lbrx_safetensors *st, const char *name, lbrx_tensor *t, int optional, lbrx_error *err) {
    return lbrx_model__missing(lbrx_safetensors_get_tensor(st, name, t, err), name, t, optional, err);
}

/* ---- quantized Hugging Face checkpoints ---- */

/* An integer field `key` of the quantization object `what` into *out (absent: def, or an error
   when def is below lo). */
static lbrx_result lbrx_model__quant_int(const lbrx_json_value *o, const char *what, const char *key, int64_t def, int64_t lo, int64_t hi,
                                         int64_t *out, lbrx_error *err) {
    const lbrx_json_value *v = lbrx_json_get(o, key);
    if (!v) {
        if (def < lo) return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "config.json: %s.%s is missing", what, key);
        *out = def;
        return LBRX_OK;
    }
    if (lbrx_json_i64(v, out) != LBRX_OK || *out < lo || *out > hi)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: %s.%s is not an integer from %lld to %lld (offset %llu)", what, key,
                                 (long long)lo, (long long)hi, (unsigned long long)lbrx_json_offset(v));
    return LBRX_OK;
}

/* Whether string field `key` of o is absent (ok_if_absent) or equals one of the `|`-separated
   words (case-insensitive). */
static int lbrx_model__quant_is(const lbrx_json_value *o, const char *key, const char *words, int ok_if_absent) {
    size_t n = 0, w;
    const char *s = lbrx_json_string(lbrx_json_get(o, key), &n);
    if (!lbrx_json_get(o, key)) return ok_if_absent;
    if (!s) return 0;
    while (*words) {
        w = strcspn(words, "|");
        if (w == n) {
            size_t i = 0;
            while (i < n && tolower((unsigned char)s[i]) == words[i]) i++;
            if (i == n) return 1;
        }
        words += w + (words[w] == '|');
    }
    return 0;
}

LBRX_MODEL_DEF lbrx_result lbrx_model_quant_from_hf(const lbrx_json_value *cfg, lbrx_model_quant *q, lbrx_error *err) {
    const lbrx_json_value *v;
    int64_t bits = 0, group = 0;
    lbrx_result r;
    memset(q, 0, sizeof *q);
    if ((v = lbrx_json_get(cfg, "quantization")) != 0) {   /* MLX (which may also write quantization_config) */
        if (lbrx_json_type_of(v) != LBRX_JSON_OBJECT) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: quantization is not an object");
        if (!lbrx_model__quant_is(v, "mode", "affine", 1))
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization.mode is not \"affine\" (MLX's mxfp4/mxfp8/nvfp4 are not run here)");
        if ((r = lbrx_model__quant_int(v, "quantization", "bits", 0, 1, 64, &bits, err)) != LBRX_OK ||
            (r = lbrx_model__quant_int(v, "quantization", "group_size", 0, 1, 1 << 20, &group, err)) != LBRX_OK)
            return r;
        if (bits != 4 && bits != 8)
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization.bits = %lld (MLX weights of 4 or 8 bits run here)", (long long)bits);
        q->packing = LBRX_AFFINE_MLX;
    } else if ((v = lbrx_json_get(cfg, "quantization_config")) != 0) {
        const lbrx_json_value *d;
        int awq;
        if (lbrx_json_type_of(v) != LBRX_JSON_OBJECT)
            return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: quantization_config is not an object");
        if (!lbrx_json_get(v, "quant_method")) return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "config.json: quantization_config.quant_method is missing");
        awq = lbrx_model__quant_is(v, "quant_method", "awq", 0);
        if (!awq && !lbrx_model__quant_is(v, "quant_method", "gptq", 0))
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization_config.quant_method \"%.40s\" is not run here (awq, gptq, or MLX's quantization)",
                                     lbrx_json_string(lbrx_json_get(v, "quant_method"), 0) ? lbrx_json_string(lbrx_json_get(v, "quant_method"), 0) : "?");
        if ((r = lbrx_model__quant_int(v, "quantization_config", "bits", 0, 1, 64, &bits, err)) != LBRX_OK ||
            (r = lbrx_model__quant_int(v, "quantization_config", "group_size", 0, -1, 1 << 20, &group, err)) != LBRX_OK)
            return r;
        if (bits != 4)
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization_config.bits = %lld (%s weights of 4 bits run here)", (long long)bits,
                                     awq ? "AWQ" : "GPTQ");
        if (group == 0) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: quantization_config.group_size is 0");
        if (awq && !lbrx_model__quant_is(v, "version", "gemm", 1))
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization_config.version is not \"gemm\" (AWQ's other layouts are not run here)");
        if (awq && (d = lbrx_json_get(v, "zero_point")) != 0) {
            int zp = 1;
            if (lbrx_json_bool(d, &zp) != LBRX_OK || !zp)
                return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization_config.zero_point is not true (AWQ without zeros is not run here)");
        }
        if (!awq && !lbrx_model__quant_is(v, "checkpoint_format", "gptq", 1))
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization_config.checkpoint_format is not \"gptq\" (v1 zeros; gptq_v2 is not run here)");
        if (!awq && (d = lbrx_json_get(v, "dynamic")) != 0 && lbrx_json_count(d) > 0)
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "config.json: quantization_config.dynamic (per-module GPTQ settings) is not run here");
        if (!awq && (d = lbrx_json_get(v, "desc_act")) != 0 && lbrx_json_bool(d, &q->desc_act) != LBRX_OK)
            return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "config.json: quantization_config.desc_act is not true or false");
        q->packing = awq ? LBRX_AFFINE_AWQ : LBRX_AFFINE_GPTQ;
    }
    q->bits = (int)bits;
    q->group = group < 0 ? 0 : group;
    q->cfg = v;
    return LBRX_OK;
}

/* A tensor NAME.SUFFIX of the checkpoint into t; missing is an error naming it. */
static lbrx_result lbrx_model__st_part(const lbrx_safetensors *st, const char *base, const char *suffix, lbrx_tensor *t, lbrx_error *err) {
    char name[320];
    snprintf(name, sizeof name, "%s.%s", base, suffix);
    return lbrx_model__st_tensor(st, name, t, 0, err);
}

LBRX_MODEL_DEF lbrx_result lbrx_model_hf_weight(const lbrx_safetensors *st, const lbrx_model_quant *q, const char *name, lbrx_tensor *t,
                                                int *how, char *why, size_t why_cap, lbrx_error *err) {
    static const char *const method[4] = { "", "MLX", "AWQ", "GPTQ" };
    char base[256];
    size_t n = strlen(name);
    lbrx_tensor w, s, o, g;
    lbrx_affine a;
    int bits, exact = 0;
    int64_t group;
    lbrx_result r;
    *how = LBRX_MODEL_WEIGHT_PLAIN;
    if (why && why_cap) why[0] = 0;
    memset(t, 0, sizeof *t);
    memset(&w, 0, sizeof w); memset(&s, 0, sizeof s); memset(&o, 0, sizeof o); memset(&g, 0, sizeof g);
    if (!q || !q->packing || n < 8 || strcmp(name + n - 7, ".weight") || n - 7 >= sizeof base) return lbrx_model__st_tensor(st, name, t, 0, err);
    memcpy(base, name, n - 7);
    base[n - 7] = 0;
    r = lbrx_safetensors_get_tensor(st, name, &w, err);
    bits = q->bits;
    group = q->group;
    if (q->packing == LBRX_AFFINE_MLX) {
        const lbrx_json_value *own = lbrx_json_get(q->cfg, base);
        if (r != LBRX_OK) return r == LBRX_ERR_NOT_FOUND ? lbrx_error_set(err, r, LBRX_NO_OFFSET, "tensor %s is missing", name) : r;
        if (w.dtype != LBRX_U32) { *t = w; return LBRX_OK; }  /* a module MLX left in float */
        if (lbrx_json_type_of(own) == LBRX_JSON_OBJECT) {   /* a mixed recipe's own setting */
            int64_t b = 0;
            if ((r = lbrx_model__quant_int(own, base, "bits", bits, 1, 64, &b, err)) != LBRX_OK ||
                (r = lbrx_model__quant_int(own, base, "group_size", group, 1, 1 << 20, &group, err)) != LBRX_OK)
                goto done;
            bits = (int)b;
        }
        if ((r = lbrx_model__st_part(st, base, "scales", &s, err)) != LBRX_OK || (r = lbrx_model__st_part(st, base, "biases", &o, err)) != LBRX_OK)
            goto done;
    } else {
        if (r == LBRX_OK) { *t = w; return LBRX_OK; }  /* a module left unquantized (lm_head, modules_to_not_convert) */
        if (r != LBRX_ERR_NOT_FOUND) return r;
        snprintf(base + n - 7, sizeof base - (n - 7), ".qweight");
        r = lbrx_safetensors_get_tensor(st, base, &w, err);
        base[n - 7] = 0;
        if (r == LBRX_ERR_NOT_FOUND) return lbrx_error_set(err, r, LBRX_NO_OFFSET, "tensor %s is missing (nor is there a %s.qweight)", name, base);
        if (r != LBRX_OK) return r;
        if ((r = lbrx_model__st_part(st, base, "scales", &s, err)) != LBRX_OK || (r = lbrx_model__st_part(st, base, "qzeros", &o, err)) != LBRX_OK)
            goto done;
        if (q->packing == LBRX_AFFINE_GPTQ) {
            char gn[320];
            snprintf(gn, sizeof gn, "%s.g_idx", base);
            if ((r = lbrx_model__st_tensor(st, gn, &g, 1, err)) != LBRX_OK) goto done;
            if (q->desc_act && !lbrx_model__present(&g)) {
                r = lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "%s: quantization_config.desc_act is true but %s is missing", base, gn);
                goto done;
            }
        }
        if (!group && w.ndim == 2) group = q->packing == LBRX_AFFINE_AWQ ? w.shape[0] : w.shape[0] * 8;  /* one group per row */
    }
    if ((r = lbrx_affine_init(&a, q->packing, bits, group, &w, &s, &o, lbrx_model__present(&g) ? &g : 0, err)) != LBRX_OK) {
        r = r == LBRX_ERR_UNSUPPORTED && lbrx_model__present(&g) ? lbrx_model__error_context(err, r, "%s (quantization_config.desc_act)", base)
                                                                 : lbrx_model__error_context(err, r, "%s (%s, %d bits, group %lld)", base, method[q->packing], bits, (long long)group);
        goto done;
    }
    r = q->q4_1_only ? lbrx_affine_to_q4_1(&a, t, 0, &exact, err) : lbrx_affine_repack(&a, t, 0, &exact, err);
    if (r == LBRX_OK && exact) {
        *how = LBRX_MODEL_WEIGHT_REPACKED;
    } else {
        int64_t shape[2], i;
        lbrx_tensor f;
        int fits = 1;
        memset(&f, 0, sizeof f);
        if (why && why_cap && r != LBRX_OK)
            snprintf(why, why_cap, "%s %d-bit groups of %lld are not %s (groups of 32k)", method[q->packing], bits, (long long)group,
                     q->q4_1_only ? "Q4_1's (4 bits," : "a block dtype's");
        else if (why && why_cap && q->q4_1_only)
            snprintf(why, why_cap, "%s: %s", method[q->packing], q->packing == LBRX_AFFINE_MLX ? "a scale or bias is not an f16 number"
                                                                  : "-zero x scale needs more significant bits than Q4_1's f16 min holds");
        else if (why && why_cap)
            snprintf(why, why_cap, "%s: an F32 scale times its zero point needs more than f32's 24 significant bits", method[q->packing]);
        lbrx_tensor_release(t);
        shape[0] = a.rows;
        shape[1] = a.cols;
        if ((r = lbrx_tensor_init_heap(&f, LBRX_F32, 2, shape, 0, err)) == LBRX_OK &&
            (r = lbrx_affine_dequantize_rows(&a, 0, a.rows, (float *)f.data, err)) == LBRX_OK) {
            for (i = 0; i < a.rows * a.cols && fits; i++) fits = fabsf(((const float *)f.data)[i]) <= 65504.0f;
            if (!fits) *t = f;
            else if ((r = lbrx_tensor_convert(&f, LBRX_F16, t, 0, err)) == LBRX_OK) lbrx_tensor_release(&f);
            if (r == LBRX_OK) *how = LBRX_MODEL_WEIGHT_DEQUANTIZED;
        }
        if (r != LBRX_OK) lbrx_tensor_release(&f);
    }
    lbrx_affine_release(&a);
done:
    lbrx_tensor_release(&w);
    lbrx_tensor_release(&s);
    lbrx_tensor_release(&o);
    lbrx_tensor_release(&g);
    return r;
}

static int lbrx_model__file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != 0;
}

static int lbrx_model__ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* Read a whole small file (config.json) into a malloc'ed, NUL-terminated buffer. */
static lbrx_result lbrx_model__read_file(const char *path, char **out, size_t *len, lbrx_error *err) {
    lbrx_storage *s = 0;
    lbrx_result r = lbrx_storage_open(&s, path, 0, err);
    if (r != LBRX_OK) return r;
    *len = lbrx_storage_size(s);
    *out = (char *)malloc(*len + 1);
    if (*out) {
        memcpy(*out, lbrx_storage_data(s), *len);
        (*out)[*len] = 0;
    }
    lbrx_storage_release(s);
    return *out ? LBRX_OK : lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory reading %s", path);
}

/* A weight of an HF checkpoint (lbrx_model_hf_weight), counted in m's quantization summary. */
static lbrx_result lbrx_model__hf_slot(lbrx_model *m, const lbrx_safetensors *st, const lbrx_model_quant *q, const char *name, lbrx_tensor *t,
                                       lbrx_error *err) {
    char why[160];
    int how;
    lbrx_result r = lbrx_model_hf_weight(st, q, name, t, &how, why, sizeof why, err);
    if (r != LBRX_OK) return r;
    if (how == LBRX_MODEL_WEIGHT_REPACKED) {
        m->n_repacked++;
        m->n_q4_1 += t->dtype == LBRX_Q4_1;
        m->n_affine_q4 += t->dtype == LBRX_AFFINE_Q4;
        m->n_affine_q8 += t->dtype == LBRX_AFFINE_Q8;
    }
    if (how == LBRX_MODEL_WEIGHT_DEQUANTIZED && !m->n_dequantized++)
        snprintf(m->quant_note, sizeof m->quant_note, "%.90s dequantized to %s: %.120s", name, lbrx_dtype_name(t->dtype), why);
    return LBRX_OK;
}

/* lbrx_model__hf_slot as an lbrx_model__get_fn. */
typedef struct lbrx_model__hf_reader { lbrx_model *m; const lbrx_safetensors *st; const lbrx_model_quant *q; } lbrx_model__hf_reader;
static lbrx_result lbrx_model__hf_get(void *reader, const char *name, lbrx_tensor *t, lbrx_error *err) {
    const lbrx_model__hf_reader *h = (const lbrx_model__hf_reader *)reader;
    return lbrx_model__hf_slot(h->m, h->st, h->q, name, t, err);
}

/* A Hugging Face checkpoint: `path` is its directory (config.json beside model.safetensors or
   model.safetensors.index.json) or the path of the .safetensors / index file. */
static lbrx_result lbrx_model__load_hf(lbrx_model *m, const char *path, lbrx_error *err) {
    char dir[4096], file[4200];
    char *text = 0;
    size_t len = 0, plen = strlen(path);
    lbrx_json *doc = 0;
    lbrx_safetensors *st = 0;
    lbrx_model_config *c = &m->c;
    lbrx_model__hf_reader hr;
    lbrx_model_quant q;
    lbrx_result r;
    m->format = "safetensors";
    if (plen >= sizeof dir) return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "path too long");
    memcpy(dir, path, plen + 1);
    if (lbrx_model__ends_with(path, ".safetensors") || lbrx_model__ends_with(path, ".json")) {
        char *slash = strrchr(dir, '/');
        snprintf(file, sizeof file, "%s", path);
        if (slash) *slash = 0; else strcpy(dir, ".");
    } else {
        snprintf(file, sizeof file, "%s/model.safetensors.index.json", dir);
        if (!lbrx_model__file_exists(file)) snprintf(file, sizeof file, "%s/model.safetensors", dir);
    }
    {
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/config.json", dir);
        if ((r = lbrx_model__read_file(cpath, &text, &len, err)) != LBRX_OK) return r;
    }
    if ((r = lbrx_json_parse(&doc, text, len, 0, err)) != LBRX_OK) goto done;
    if ((r = lbrx_model_config_from_hf(lbrx_json_root(doc), c, err)) != LBRX_OK) goto done;
    if ((r = lbrx_safetensors_open(&st, file, 0, err)) != LBRX_OK) goto done;
    {   /* bytes of all shards: the storage of the first tensor of each */
        size_t n = lbrx_safetensors_tensor_count(st), ns = lbrx_safetensors_shard_count(st), k, seen_upto = 0;
        for (k = 0; k < n; k++)
            if (lbrx_safetensors_tensor_shard(st, k) == seen_upto && seen_upto < ns) {
                lbrx_tensor t;
                if ((r = lbrx_safetensors_tensor(st, k, &t, err)) != LBRX_OK) goto done;
                m->file_bytes += lbrx_storage_size(t.storage);
                lbrx_tensor_release(&t);
                seen_upto++;
            }
    }
    if ((r = lbrx_model__alloc_layers(m, err)) != LBRX_OK) goto done;
    if ((r = lbrx_model_quant_from_hf(lbrx_json_root(doc), &q, err)) != LBRX_OK) goto done;
    if (q.packing) m->quant = q.packing == LBRX_AFFINE_MLX ? "MLX" : q.packing == LBRX_AFFINE_AWQ ? "AWQ" : "GPTQ";
    hr.m = m;
    hr.st = st;
    hr.q = &q;
    if ((r = lbrx_model__load_tensors(m, lbrx_model__hf_get, &hr, 1, err)) != LBRX_OK) goto done;
    if (c->rope_scaling == LBRX_ROPE_SCALING_LLAMA3) { /* what GGUF files carry as rope_freqs.weight */
        int64_t shape[1];
        shape[0] = c->rope_dim / 2;
        if ((r = lbrx_tensor_init_heap(&m->rope_freqs, LBRX_F32, 1, shape, 0, err)) != LBRX_OK) goto done;
        lbrx_model_llama3_factors(c, (float *)m->rope_freqs.data);
    }
done:
    lbrx_safetensors_destroy(st);
    lbrx_json_destroy(doc);
    free(text);
    return r;
}

LBRX_MODEL_DEF lbrx_result lbrx_model_load(lbrx_model *m, const char *path, lbrx_error *err) {
    char probe[4200];
    unsigned char magic[4] = { 0, 0, 0, 0 };
    lbrx_result r;
    FILE *f;
    memset(m, 0, sizeof *m);
    snprintf(probe, sizeof probe, "%s/config.json", path);
    if (lbrx_model__file_exists(probe) || lbrx_model__ends_with(path, ".safetensors") || lbrx_model__ends_with(path, ".json")) {
        r = lbrx_model__load_hf(m, path, err);
    } else {
        f = fopen(path, "rb");
        if (!f) return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "%s: cannot open", path);
        if (fread(magic, 1, 4, f) != 4) magic[0] = 0;
        fclose(f);
        r = !memcmp(magic, "GGUF", 4) ? lbrx_model__load_gguf(m, path, err) : lbrx_model__load_bin(m, path, err);
    }
    if (r == LBRX_OK) r = lbrx_model__finish(m, !strcmp(m->format, "safetensors") && (m->c.arch->flags & LBRX_ARCH_NORM_PLUS1), err);
    if (r != LBRX_OK) lbrx_model_free(m);
    return r;
}

/* ---- the forward pass ---- */

LBRX_MODEL_DEF void lbrx_model_state_free(lbrx_model_state *s, const lbrx_model *m) {
    int l;
    if (s->kv)
        for (l = 0; l < m->c.n_layers; l++) lbrx_kv_cache_release(&s->kv[l]);
    free(s->kv);
    lbrx_free(0, s->x); lbrx_free(0, s->xb); lbrx_free(0, s->q); lbrx_free(0, s->k); lbrx_free(0, s->v);
    lbrx_free(0, s->att); lbrx_free(0, s->hb); lbrx_free(0, s->hb2); lbrx_free(0, s->logits);
    lbrx_context_destroy(s->ctx);
    memset(s, 0, sizeof *s);
}

static float *lbrx_model__floats(int64_t a, int64_t b, int *ok) {
    size_t n;
    float *p;
    if (!lbrx_mul_size((size_t)a, (size_t)b, &n) || !lbrx_mul_size(n, sizeof(float), &n)) { *ok = 0; return 0; }
    p = (float *)lbrx_alloc(0, n, 64);
    if (!p) *ok = 0;
    return p;
}

LBRX_MODEL_DEF lbrx_result lbrx_model_state_init(lbrx_model_state *s, const lbrx_model *m, int max_batch, int n_ctx,
                                                 lbrx_dtype kv_dtype, int all_logits, int n_threads, lbrx_error *err) {
    const lbrx_model_config *c = &m->c;
    lbrx_context_desc cd;
    int64_t qd = lbrx_model_dim(c, 'Q'), kvd = lbrx_model_dim(c, 'K'), B = max_batch;
    int64_t wide = c->dim > qd ? c->dim : qd;
    int ok = 1, l;
    lbrx_result r;
    memset(s, 0, sizeof *s);
    if (max_batch < 1 || n_ctx < 1 || n_ctx > c->seq_len)
        return lbrx_error_set(err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "batch %d / context %d (the model's context is %d)", max_batch, n_ctx, c->seq_len);
    memset(&cd, 0, sizeof cd);
    cd.n_threads = n_threads;
    if ((r = lbrx_context_create(&s->ctx, &cd, err)) != LBRX_OK) return r;
    s->max_batch = max_batch;
    s->n_ctx = n_ctx;
    s->x = lbrx_model__floats(B, c->dim, &ok);
    s->xb = lbrx_model__floats(B, wide, &ok);
    s->q = lbrx_model__floats(B, qd, &ok);
    s->k = lbrx_model__floats(B, kvd, &ok);
    s->v = lbrx_model__floats(B, kvd, &ok);
    s->att = lbrx_model__floats(B, qd, &ok);
    s->hb = lbrx_model__floats(B, c->hidden_dim, &ok);
    s->hb2 = lbrx_model__floats(B, c->hidden_dim, &ok);
    s->logits = lbrx_model__floats(all_logits ? B : 1, c->vocab_size, &ok);
    s->kv = (lbrx_kv_cache *)calloc((size_t)c->n_layers, sizeof(lbrx_kv_cache));
    if (!ok || !s->kv) { lbrx_model_state_free(s, m); return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory for activations"); }
    for (l = 0; l < c->n_layers; l++)
        if ((r = lbrx_kv_cache_init(&s->kv[l], kv_dtype, n_ctx, c->n_kv_heads, c->head_dim, 0, err)) != LBRX_OK) {
            lbrx_model_state_free(s, m);
            return r;
        }
    return LBRX_OK;
}

/* A tensor over a float buffer: [a, b] or, with c > 0, [a, b, c]. */
static lbrx_tensor lbrx_model__view(float *p, int64_t a, int64_t b, int64_t c) {
    lbrx_tensor t;
    int64_t shape[3];
    shape[0] = a; shape[1] = b; shape[2] = c;
    lbrx_tensor_init_memory(&t, LBRX_F32, c > 0 ? 3 : 2, shape, p, 0);
    return t;
}

#define LBRX_MODEL__TRY(e) do { lbrx_result r_ = (e); if (r_ != LBRX_OK) return r_; } while (0)

/* y = W x (+ bias). */
static lbrx_result lbrx_model__linear(lbrx_context *ctx, const lbrx_tensor *w, const lbrx_tensor *bias, const lbrx_tensor *x, lbrx_tensor *y,
                                      lbrx_error *err) {
    LBRX_MODEL__TRY(lbrx_matmul(ctx, w, x, y, err));
    return lbrx_model__present(bias) ? lbrx_add(ctx, y, bias, y, err) : LBRX_OK;
}

/* The part of a layer after attention or the feed-forward: an optional norm of the branch
   output (Gemma's sandwich), then the residual sum. */
static lbrx_result lbrx_model__residual(lbrx_context *ctx, const lbrx_tensor *norm, float eps, lbrx_tensor *branch, lbrx_tensor *x, lbrx_error *err) {
    if (lbrx_model__present(norm)) LBRX_MODEL__TRY(lbrx_rms_norm(ctx, branch, norm, eps, branch, err));
    return lbrx_add(ctx, x, branch, x, err);
}

LBRX_MODEL_DEF lbrx_result lbrx_model_forward(const lbrx_model *m, lbrx_model_state *s, const int32_t *tokens, int n, int all_logits,
                                              lbrx_error *err) {
    const lbrx_model_config *c = &m->c;
    const unsigned f = c->arch->flags;
    int64_t qd = lbrx_model_dim(c, 'Q'), kvd = lbrx_model_dim(c, 'K');
    int64_t pos = s->kv[0].n, i;
    int hd = c->head_dim, l;
    lbrx_tensor x = lbrx_model__view(s->x, n, c->dim, 0), xb = lbrx_model__view(s->xb, n, c->dim, 0);
    lbrx_tensor q = lbrx_model__view(s->q, n, c->n_heads, hd), k = lbrx_model__view(s->k, n, c->n_kv_heads, hd);
    lbrx_tensor v = lbrx_model__view(s->v, n, c->n_kv_heads, hd), att = lbrx_model__view(s->att, n, c->n_heads, hd);
    lbrx_tensor qh = lbrx_model__view(s->q, n * c->n_heads, hd, 0), kh = lbrx_model__view(s->k, n * c->n_kv_heads, hd, 0);
    lbrx_tensor q2 = lbrx_model__view(s->q, n, qd, 0), k2 = lbrx_model__view(s->k, n, kvd, 0), v2 = lbrx_model__view(s->v, n, kvd, 0);
    lbrx_tensor att2 = lbrx_model__view(s->att, n, qd, 0);
    lbrx_tensor hb = lbrx_model__view(s->hb, n, c->hidden_dim, 0), hb2 = lbrx_model__view(s->hb2, n, c->hidden_dim, 0);
    lbrx_tensor xl, xbl, logits;
    lbrx_rope_desc rd;
    lbrx_attention_desc ad;
    if (n < 1 || n > s->max_batch || pos + n > s->n_ctx)
        return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "%d tokens at position %lld do not fit (batch %d, context %d)", n, (long long)pos, s->max_batch, s->n_ctx);
    memset(&ad, 0, sizeof ad);
    ad.causal = 1;
    ad.scale = c->attn_scale > 0.0f ? c->attn_scale : (float)(1.0 / sqrt((double)hd));
    ad.softcap = c->attn_softcap;
    LBRX_MODEL__TRY(lbrx_embedding(s->ctx, &m->embd, tokens, n, &x, err));
    if (f & LBRX_ARCH_EMBD_SCALE) {
        const float sc = (float)sqrt((double)c->dim);
        for (i = 0; i < (int64_t)n * c->dim; i++) s->x[i] *= sc;
    }
    for (l = 0; l < c->n_layers; l++) {
        const lbrx_tensor *w = m->layers[l].w;
        const int swa = lbrx_model_layer_swa(c, l), local = swa && (f & LBRX_ARCH_LOCAL_ROPE);
        lbrx_tensor kc, vc;
        lbrx_result r;
        memset(&rd, 0, sizeof rd);
        rd.mode = c->rope_neox ? LBRX_ROPE_NEOX : LBRX_ROPE_INTERLEAVED;
        rd.n_dims = c->rope_dim;
        rd.freq_base = local ? c->rope_base_swa : c->rope_base;
        rd.freq_scale = c->rope_scaling == LBRX_ROPE_SCALING_LINEAR && !local ? 1.0f / c->rope_factor : 1.0f;
        rd.freq_factors = lbrx_model__present(&m->rope_freqs) && !local ? (const float *)m->rope_freqs.data : 0;
        rd.pos_offset = pos;
        ad.window = swa ? c->window : 0;
        LBRX_MODEL__TRY(lbrx_rms_norm(s->ctx, &x, &w[LBRX_W_ATTN_NORM], c->norm_eps, &xb, err));
        LBRX_MODEL__TRY(lbrx_model__linear(s->ctx, &w[LBRX_W_Q], &w[LBRX_W_Q_BIAS], &xb, &q2, err));
        LBRX_MODEL__TRY(lbrx_model__linear(s->ctx, &w[LBRX_W_K], &w[LBRX_W_K_BIAS], &xb, &k2, err));
        LBRX_MODEL__TRY(lbrx_model__linear(s->ctx, &w[LBRX_W_V], &w[LBRX_W_V_BIAS], &xb, &v2, err));
        if (f & LBRX_ARCH_QK_NORM) {
            LBRX_MODEL__TRY(lbrx_rms_norm(s->ctx, &qh, &w[LBRX_W_Q_NORM], c->norm_eps, &qh, err));
            LBRX_MODEL__TRY(lbrx_rms_norm(s->ctx, &kh, &w[LBRX_W_K_NORM], c->norm_eps, &kh, err));
        }
        LBRX_MODEL__TRY(lbrx_rope(s->ctx, &q, &rd, &q, err));
        LBRX_MODEL__TRY(lbrx_rope(s->ctx, &k, &rd, &k, err));
        LBRX_MODEL__TRY(lbrx_kv_cache_append(&s->kv[l], &k, &v, err));
        LBRX_MODEL__TRY(lbrx_kv_cache_view(&s->kv[l], &kc, &vc, err));
        r = lbrx_attention(s->ctx, &q, &kc, &vc, &ad, &att, err);
        lbrx_tensor_release(&kc);
        lbrx_tensor_release(&vc);
        if (r != LBRX_OK) return r;
        LBRX_MODEL__TRY(lbrx_matmul(s->ctx, &w[LBRX_W_O], &att2, &xb, err));
        LBRX_MODEL__TRY(lbrx_model__residual(s->ctx, &w[LBRX_W_POST_ATTN_NORM], c->norm_eps, &xb, &x, err));
        LBRX_MODEL__TRY(lbrx_rms_norm(s->ctx, &x, &w[LBRX_W_FFN_NORM], c->norm_eps, &xb, err));
        LBRX_MODEL__TRY(lbrx_matmul(s->ctx, &w[LBRX_W_GATE], &xb, &hb, err));
        LBRX_MODEL__TRY(lbrx_matmul(s->ctx, &w[LBRX_W_UP], &xb, &hb2, err));
        if (f & LBRX_ARCH_GEGLU) {
            LBRX_MODEL__TRY(lbrx_gelu(s->ctx, &hb, &hb, err));
            LBRX_MODEL__TRY(lbrx_mul(s->ctx, &hb, &hb2, &hb, err));
        } else {
            LBRX_MODEL__TRY(lbrx_swiglu(s->ctx, &hb, &hb2, &hb, err));
        }
        LBRX_MODEL__TRY(lbrx_matmul(s->ctx, &w[LBRX_W_DOWN], &hb, &xb, err));
        LBRX_MODEL__TRY(lbrx_model__residual(s->ctx, &w[LBRX_W_POST_FFN_NORM], c->norm_eps, &xb, &x, err));
    }
    /* only the rows whose logits are wanted go through the output layer */
    s->logits_rows = all_logits ? n : 1;
    xl = lbrx_model__view(s->x + (int64_t)(n - s->logits_rows) * c->dim, s->logits_rows, c->dim, 0);
    xbl = lbrx_model__view(s->xb, s->logits_rows, c->dim, 0);
    logits = lbrx_model__view(s->logits, s->logits_rows, c->vocab_size, 0);
    LBRX_MODEL__TRY(lbrx_rms_norm(s->ctx, &xl, &m->out_norm, c->norm_eps, &xbl, err));
    LBRX_MODEL__TRY(lbrx_matmul(s->ctx, &m->output, &xbl, &logits, err));
    if (c->final_softcap > 0.0f)
        for (i = 0; i < (int64_t)s->logits_rows * c->vocab_size; i++) s->logits[i] = c->final_softcap * tanhf(s->logits[i] / c->final_softcap);
    return LBRX_OK;
}

/* ---- sampler ---- */

LBRX_MODEL_DEF lbrx_result lbrx_sampler_init(lbrx_sampler *s, int n_vocab, float temperature, float topp, uint64_t seed, lbrx_error *err) {
    s->temperature = temperature;
    s->topp = topp;
    s->rng = seed;
    s->n_vocab = n_vocab;
    s->cand = (lbrx_sampler_prob *)malloc((size_t)n_vocab * sizeof *s->cand);
    return s->cand ? LBRX_OK : lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory for the sampler");
}

LBRX_MODEL_DEF void lbrx_sampler_free(lbrx_sampler *s) { free(s->cand); s->cand = 0; }

LBRX_MODEL_DEF uint32_t lbrx_random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1DULL) >> 32);
}

LBRX_MODEL_DEF float lbrx_random_f32(uint64_t *state) { return (float)(lbrx_random_u32(state) >> 8) / 16777216.0f; }

LBRX_MODEL_DEF int lbrx_argmax(const float *x, int n) {
    int i, best = 0;
    for (i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int lbrx_sampler__desc(const void *pa, const void *pb) {
    const lbrx_sampler_prob *a = (const lbrx_sampler_prob *)pa, *b = (const lbrx_sampler_prob *)pb;
    if (a->p != b->p) return a->p > b->p ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

LBRX_MODEL_DEF int lbrx_sampler_sample(lbrx_sampler *s, float *logits) {
    int i, n = s->n_vocab, m = 0, last;
    float maxv, sum = 0.0f, coin, cum = 0.0f, cutoff, r;
    if (s->temperature == 0.0f) return lbrx_argmax(logits, n);
    for (i = 0; i < n; i++) logits[i] /= s->temperature;
    maxv = logits[lbrx_argmax(logits, n)];
    for (i = 0; i < n; i++) { logits[i] = expf(logits[i] - maxv); sum += logits[i]; }
    for (i = 0; i < n; i++) logits[i] /= sum;
    coin = lbrx_random_f32(&s->rng);
    if (s->topp <= 0.0f || s->topp >= 1.0f) {
        for (i = 0; i < n; i++) {
            cum += logits[i];
            if (coin < cum) return i;
        }
        return n - 1;
    }
    /* top-p: tokens below (1 - p) / (n - 1) cannot be in the nucleus, so sort only the rest */
    cutoff = (1.0f - s->topp) / (float)(n > 1 ? n - 1 : 1);
    for (i = 0; i < n; i++)
        if (logits[i] >= cutoff) { s->cand[m].p = logits[i]; s->cand[m].id = i; m++; }
    if (m == 0) return lbrx_argmax(logits, n);
    qsort(s->cand, (size_t)m, sizeof *s->cand, lbrx_sampler__desc);
    last = m - 1;
    for (i = 0; i < m; i++) {
        cum += s->cand[i].p;
        if (cum > s->topp) { last = i; break; }
    }
    r = coin * cum;
    cum = 0.0f;
    for (i = 0; i <= last; i++) {
        cum += s->cand[i].p;
        if (r < cum) return s->cand[i].id;
    }
    return s->cand[last].id;
}

#endif /* LBRX_MODEL_IMPLEMENTATION */
