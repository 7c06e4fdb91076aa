/* llama.c - run a language model with lbrx: the command line over examples/lbrx_model.h.
   Part of lbrx; public domain or MIT (see lbrx.h).

   llama MODEL [-z TOKENIZER] [-i PROMPT] [-n STEPS] [-t TEMP] [-p TOPP] [-s SEED]
               [--threads N] [--kv f16|f32] [--logits FILE]

   MODEL is one of
     - a GGUF file of an architecture lbrx_model.h knows (llama, qwen2, qwen3, gemma2, gemma3,
       phi3; tensors in any dtype lbrx_matmul takes -- F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K,
       Q5_K, Q6_K, Q3_K, Q2_K, Q5_0, Q5_1, IQ4_NL, IQ4_XS -- used as mapped, mixed per tensor;
       other block types are converted to Q8_0/F32 when loaded), with the tokenizer of its
       metadata;
     - a llama2.c checkpoint (.bin, the legacy export) with its tokenizer given by -z tok.bin;
     - a Hugging Face checkpoint (model_type llama, mistral, qwen2, qwen3, gemma2, gemma3_text,
       phi3): a directory holding config.json and model.safetensors or a sharded
       model.safetensors.index.json (or the path of one of those files); its weights may be
       MLX-quantized (config.json "quantization", 4 or 8 bits) or AWQ / GPTQ int4
       ("quantization_config"): 4-bit groups of 32k go into Q4_1 when that is exact (MLX with
       f16 scales), the rest is dequantized to F16 and stderr says which and why (see
       lbrx_model_quant in examples/lbrx_model.h); act-order GPTQ (g_idx) is refused.
   A model without a tokenizer lbrx reads takes -i as a list of token ids ("1 450 4996") and
   prints token ids too.
   The flags are those of llama2.c's run.c: -n is the number of positions to run (prompt
   included; 0 = the context length), -t 0 is greedy, -p the top-p cutoff, -s the seed (0 =
   time). --kv chooses the KV-cache type (default f16), --logits writes the float32 logits of
   every position run, row-major [positions][vocab], to FILE.

   stdout gets the text only (the prompt, then the continuation); stderr gets the architecture,
   the tokenizer, load time and tokens/s. A model whose hyper-parameters, tensors or tokenizer
   do not fit together is an "error:" line on stderr and exit status 1.

   Build: cc -O3 -march=native -fopenmp -I. examples/llama.c -o llama -lm

   Define LLAMA_NO_MAIN before including this file to use its functions in another program
   (tests/test_llama.c does). */
#ifndef LLAMA_NO_IMPL
#define LBRX_IMPL
#define LBRX_MODEL_IMPLEMENTATION
#endif
#include "lbrx_model.h"
#include "lbrx_tokenizer.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__) || defined(__clang__)
#define LLAMA_FN static __attribute__((unused))
#else
#define LLAMA_FN static
#endif

/* ============================================================================================
   Small utilities
   ============================================================================================ */
/* ============================================================================================
   A model with its tokenizer (examples/lbrx_tokenizer.h)
   ============================================================================================ */

/* Load a model (lbrx_model_load) and its tokenizer: a GGUF file's own, the tokenizer.json of a
   Hugging Face checkpoint's directory, or the llama2.c tok.bin given as tok_path for a llama2.c
   checkpoint. A model without one lbrx reads gets an empty tokenizer (kind NONE: prompts and
   output are token ids) and *note says why. */
LLAMA_FN lbrx_result llama_load(lbrx_model *m, lbrx_tokenizer *tok, const char *path, const char *tok_path, char *note, size_t note_cap,
                                lbrx_error *err) {
    lbrx_result r = lbrx_model_load(m, path, err);
    memset(tok, 0, sizeof *tok);
    snprintf(note, note_cap, "none in %s", path);
    if (r != LBRX_OK) return r;
    if (tok_path && strcmp(m->format, "llama2.c")) {
        r = lbrx_error_set(err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "-z is for llama2.c checkpoints; this %s model has its own tokenizer", m->format);
    } else if (tok_path) {
        r = lbrx_tokenizer_init_llama2c(tok, tok_path, m->c.vocab_size, err);
    } else if (!strcmp(m->format, "gguf")) {
        lbrx_gguf *g = 0;
        if ((r = lbrx_gguf_open(&g, path, 0, err)) == LBRX_OK) r = lbrx_tokenizer_init_gguf(tok, g, err);
        lbrx_gguf_destroy(g);
    } else if (!strcmp(m->format, "safetensors")) {   /* tokenizer.json beside config.json */
        char dir[4200], probe[4300];
        const char *slash = strrchr(path, '/');
        FILE *f;
        snprintf(probe, sizeof probe, "%s/config.json", path);
        if ((f = fopen(probe, "rb")) != 0) { /* path is the directory, else a file in it */
            fclose(f);
            snprintf(dir, sizeof dir, "%s", path);
        } else {
            snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        }
        snprintf(probe, sizeof probe, "%s/tokenizer.json", dir);
        if ((f = fopen(probe, "rb")) != 0) {
            fclose(f);
            r = lbrx_tokenizer_init_json(tok, probe, err);
        }
    }
    if (r == LBRX_ERR_NOT_FOUND || r == LBRX_ERR_UNSUPPORTED) {  /* the model runs on token ids */
        snprintf(note, note_cap, "%s", r == LBRX_ERR_NOT_FOUND ? "none in the file" : err->message);
        lbrx_tokenizer_release(tok);
        r = LBRX_OK;
    }
    if (r == LBRX_OK && tok->kind != LBRX_TOKENIZER_NONE && tok->n_vocab > m->c.vocab_size)
        r = lbrx_error_set(err, LBRX_ERR_SIZE_MISMATCH, LBRX_NO_OFFSET, "the tokenizer has %d tokens but the model's vocabulary is %d", tok->n_vocab, m->c.vocab_size);
    if (r != LBRX_OK) {
        lbrx_tokenizer_release(tok);
        lbrx_model_free(m);
    }
    return r;
}

/* Write a piece to f, leaving out single bytes that are control characters. */
LLAMA_FN void llama_print_piece(FILE *f, const char *p, size_t len) {
    if (len == 1) {
        unsigned char c = (unsigned char)p[0];
        if ((c < 0x20 && !isspace(c)) || c == 0x7f) return;
    }
    fwrite(p, 1, len, f);
}

/* Parse a prompt of token ids ("1 450 4996", any whitespace) into *out (malloc'ed). */
LLAMA_FN lbrx_result llama_parse_ids(const char *s, int n_vocab, int32_t **out, int *n_out, lbrx_error *err) {
    size_t cap = strlen(s) / 2 + 1;
    int32_t *ids = (int32_t *)malloc(cap * sizeof(int32_t));
    int n = 0;
    *out = 0;
    *n_out = 0;
    if (!ids) return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory");
    while (*s) {
        char *end;
        long v;
        while (isspace((unsigned char)*s)) s++;
        if (!*s) break;
        v = strtol(s, &end, 10);
        if (end == s || (*end && !isspace((unsigned char)*end)) || v < 0 || v >= n_vocab) {
            free(ids);
            return lbrx_error_set(err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "the prompt must be token ids in 0..%d for a model without a tokenizer", n_vocab - 1);
        }
        ids[n++] = (int)v;
        s = end;
    }
    *out = ids;
    *n_out = n;
    return LBRX_OK;
}

/* What one generation run measured. */
typedef struct llama_stats {
    int n_prompt, n_gen;          /* positions run as the prompt batch, and one by one */
    double prompt_s, gen_s;       /* their wall time */
} llama_stats;

/* Print token `tok` (after `prev`, -1 at the start): its text (nothing for BOS), or its id for a
   model without a tokenizer. */
LLAMA_FN void llama_emit(const lbrx_tokenizer *t, FILE *out, int prev, int tok) {
    if (t->kind != LBRX_TOKENIZER_NONE) {
        if (tok == t->bos) return;
        size_t len;
        const char *p = lbrx_tokenizer_decode(t, prev, tok, &len);
        llama_print_piece(out, p, len);
    } else {
        fprintf(out, prev < 0 ? "%d" : " %d", tok);
    }
    fflush(out);
}

/* run.c's loop over `steps` positions: the prompt tokens (the first `steps` of them) go through
   as one batch (in chunks of the state's max_batch), then each sampled token is run at the next
   position until `steps` positions are done or BOS, EOS or an end of turn comes (with a
   tokenizer t; one of kind NONE means none: token ids are printed). Text goes to
   out (may be NULL), logits of every position run to logits_f (may be NULL; the state must keep
   all logits then). */
LLAMA_FN lbrx_result llama_generate(const lbrx_model *m, const lbrx_tokenizer *t, lbrx_model_state *s, lbrx_sampler *smp, const int32_t *prompt, int n_prompt,
                                    int steps, FILE *out, FILE *logits_f, llama_stats *st, lbrx_error *err) {
    int n_run = n_prompt < steps ? n_prompt : steps, i, next, pos;
    int32_t token;
    size_t V = (size_t)m->c.vocab_size;
    double t0;
    lbrx_result r;
    memset(st, 0, sizeof *st);
    if (n_prompt < 1) return lbrx_error_set(err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "empty prompt");
    if (out) {
        for (i = 0; i <= n_run && i < n_prompt; i++) llama_emit(t, out, i ? prompt[i - 1] : -1, prompt[i]);
    }
    t0 = lbrx_model_now();
    for (i = 0; i < n_run; i += s->max_batch) {
        int n = n_run - i < s->max_batch ? n_run - i : s->max_batch;
        if ((r = lbrx_model_forward(m, s, prompt + i, n, logits_f != 0, err)) != LBRX_OK) return r;
        if (logits_f && fwrite(s->logits, sizeof(float) * V, (size_t)n, logits_f) != (size_t)n)
            return lbrx_error_set(err, LBRX_ERR_IO, LBRX_NO_OFFSET, "cannot write the logits");
    }
    st->n_prompt = n_run;
    st->prompt_s = lbrx_model_now() - t0;
    if (n_prompt > steps) return LBRX_OK;
    t0 = lbrx_model_now();
    token = prompt[n_prompt - 1];
    pos = n_run;
    for (;;) {
        next = lbrx_sampler_sample(smp, s->logits + (size_t)(s->logits_rows - 1) * V);
        if (t->kind != LBRX_TOKENIZER_NONE && (next == t->bos || lbrx_tokenizer_is_end(t, next))) break;
        if (out) llama_emit(t, out, token, next);
        token = next;
        if (pos >= steps) break;
        if ((r = lbrx_model_forward(m, s, &token, 1, logits_f != 0, err)) != LBRX_OK) return r;
        if (logits_f && fwrite(s->logits, sizeof(float), V, logits_f) != V) return lbrx_error_set(err, LBRX_ERR_IO, LBRX_NO_OFFSET, "cannot write the logits");
        pos++;
        st->n_gen++;
    }
    st->gen_s = lbrx_model_now() - t0;
    return LBRX_OK;
}

LLAMA_FN void llama_usage(FILE *log) {
    fprintf(log,
            "usage: llama MODEL [options]\n"
            "  MODEL            a GGUF file, a llama2.c .bin, or a Hugging Face checkpoint directory\n"
            "                   (llama, mistral, qwen2, qwen3, gemma2, gemma3, phi3)\n"
            "  -z TOKENIZER     llama2.c tokenizer (tok.bin) for a .bin model\n"
            "  -i PROMPT        prompt text (token ids \"1 2 3\" for a model without a tokenizer)\n"
            "  -n STEPS         positions to run, prompt included (default 256; 0 = context length)\n"
            "  -t TEMP          temperature (default 1.0; 0 = greedy)\n"
            "  -p TOPP          top-p (default 0.9)\n"
            "  -s SEED          random seed (default: time)\n"
            "  --threads N      threads (default: all)\n"
            "  --kv f16|f32     KV-cache type (default f16)\n"
            "  --logits FILE    write float32 logits [positions][vocab] of every position run\n");
}

/* The command line (see the top of this file): text to out, timings and errors to log.
   Returns the exit status: 0, or 1 after an "error:" line or the usage. */
LLAMA_FN int llama_main(int argc, char **argv, FILE *out, FILE *log) {
    const char *model_path = 0, *tok_path = 0, *prompt = "", *logits_path = 0;
    int steps = 256, n_threads = 0, i, n_prompt = 0, batch;
    int32_t *ids = 0;
    float temperature = 1.0f, topp = 0.9f;
    unsigned long long seed = 0;
    lbrx_dtype kv = LBRX_F16;
    lbrx_model m;
    lbrx_tokenizer tok;
    lbrx_model_state s;
    lbrx_sampler smp;
    llama_stats st;
    char note[300];
    size_t n_ids = 0;
    lbrx_error err;
    FILE *lf = 0;
    double t0;
    lbrx_result r;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
        if (a[0] != '-') {
            if (model_path) { llama_usage(log); return 1; }
            model_path = a;
            continue;
        }
        if (!v) { llama_usage(log); return 1; }
        i++;
        if (!strcmp(a, "-z")) tok_path = v;
        else if (!strcmp(a, "-i")) prompt = v;
        else if (!strcmp(a, "-n")) steps = atoi(v);
        else if (!strcmp(a, "-t")) temperature = (float)atof(v);
        else if (!strcmp(a, "-p")) topp = (float)atof(v);
        else if (!strcmp(a, "-s")) seed = strtoull(v, 0, 10);
        else if (!strcmp(a, "--threads")) n_threads = atoi(v);
        else if (!strcmp(a, "--logits")) logits_path = v;
        else if (!strcmp(a, "--kv") && !strcmp(v, "f16")) kv = LBRX_F16;
        else if (!strcmp(a, "--kv") && !strcmp(v, "f32")) kv = LBRX_F32;
        else { llama_usage(log); return 1; }
    }
    if (!model_path || temperature < 0.0f || steps < 0 || n_threads < 0) { llama_usage(log); return 1; }
    if (seed == 0) seed = (unsigned long long)time(0);
    t0 = lbrx_model_now();
    if ((r = llama_load(&m, &tok, model_path, tok_path, note, sizeof note, &err)) != LBRX_OK) {
        fprintf(log, "error: %s: %s\n", model_path, err.message);
        return 1;
    }
    fprintf(log, "%s: %s, architecture %s, %d layers, dim %d, %d heads (%d KV) of %d, vocab %d, context %d, %.1f MB of weights; loaded in %.1f ms\n",
            model_path, m.format, m.c.arch->name, m.c.n_layers, m.c.dim, m.c.n_heads, m.c.n_kv_heads, m.c.head_dim, m.c.vocab_size, m.c.seq_len,
            (double)m.weight_bytes / 1e6, (lbrx_model_now() - t0) * 1e3);
    if (m.quant)
        fprintf(log, "%s quantization: %d weights repacked exactly (%d into q4_1, %d affine_q4, %d affine_q8: run natively), %d dequantized%s%s%s\n",
                m.quant, m.n_repacked, m.n_q4_1, m.n_affine_q4, m.n_affine_q8, m.n_dequantized,
                m.n_dequantized ? " (first: " : "", m.n_dequantized ? m.quant_note : "", m.n_dequantized ? ")" : "");
    if (tok.kind != LBRX_TOKENIZER_NONE) fprintf(log, "tokenizer: %s\n", lbrx_tokenizer_describe(&tok));
    else fprintf(log, "tokenizer: %s; the prompt and the output are token ids\n", note);
    if (steps == 0 || steps > m.c.seq_len) steps = m.c.seq_len;
    if (tok.kind != LBRX_TOKENIZER_NONE) {
        r = lbrx_tokenizer_encode(&tok, prompt, strlen(prompt), lbrx_tokenizer_default_flags(&tok) | (tok.add_bos ? LBRX_ENCODE_BOS : 0u), &ids, &n_ids, &err);
        if (r == LBRX_OK && n_ids > (size_t)INT_MAX) r = lbrx_error_set(&err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "prompt of %zu tokens", n_ids);
        n_prompt = (int)n_ids;
    } else {
        r = llama_parse_ids(prompt, m.c.vocab_size, &ids, &n_prompt, &err);
    }
    if (r == LBRX_OK && n_prompt == 0) r = lbrx_error_set(&err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "empty prompt (a model without a tokenizer needs token ids)");
    if (r != LBRX_OK) {
        fprintf(log, "error: %s\n", err.message);
        lbrx_tokenizer_release(&tok);
        lbrx_model_free(&m);
        free(ids);
        return 1;
    }
    batch = n_prompt < steps ? n_prompt : steps;
    if (batch > 512) batch = 512;
    if (logits_path && !(lf = fopen(logits_path, "wb"))) {
        fprintf(log, "error: %s: cannot create\n", logits_path);
        lbrx_tokenizer_release(&tok);
        lbrx_model_free(&m);
        free(ids);
        return 1;
    }
    r = lbrx_model_state_init(&s, &m, batch, steps, kv, lf != 0, n_threads, &err);
    if (r == LBRX_OK) {
        r = lbrx_sampler_init(&smp, m.c.vocab_size, temperature, topp, seed, &err);
        if (r == LBRX_OK) {
            r = llama_generate(&m, &tok, &s, &smp, ids, n_prompt, steps, out, lf, &st, &err);
            lbrx_sampler_free(&smp);
        }
        lbrx_model_state_free(&s, &m);
    }
    fputc('\n', out);
    fflush(out);
    if (lf && fclose(lf) != 0 && r == LBRX_OK) r = lbrx_error_set(&err, LBRX_ERR_IO, LBRX_NO_OFFSET, "%s: write failed", logits_path);
    if (r == LBRX_OK) {
        fprintf(log, "prompt: %d tokens in %.1f ms, %.1f tokens/s\n", st.n_prompt, st.prompt_s * 1e3,
                st.prompt_s > 0 ? st.n_prompt / st.prompt_s : 0.0);
        if (st.n_gen)
            fprintf(log, "generation: %d tokens in %.1f ms, %.1f tokens/s, %.1f GB/s of weights\n", st.n_gen, st.gen_s * 1e3,
                    st.n_gen / st.gen_s, (double)m.weight_bytes * st.n_gen / st.gen_s / 1e9);
    } else {
        fprintf(log, "error: %s\n", err.message);
    }
    free(ids);
    lbrx_tokenizer_release(&tok);
    lbrx_model_free(&m);
    return r == LBRX_OK ? 0 : 1;
}

#ifndef LLAMA_NO_MAIN
int main(int argc, char **argv) { return llama_main(argc, argv, stdout, stderr); }
#endif

