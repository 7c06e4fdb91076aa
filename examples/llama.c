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
       model.safetensors.index.json (or the path of one of those files).
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

#define LLAMA_MAX_PIECE 1024        /* longest tokenizer piece accepted, in bytes */

/* ============================================================================================
   Small utilities
   ============================================================================================ */
/* ============================================================================================
   Tokenizer: SentencePiece-style BPE over scored pieces, with byte fallback
   ============================================================================================ */

enum {
    LLAMA_TOKEN_UNDEFINED = 0, LLAMA_TOKEN_NORMAL = 1, LLAMA_TOKEN_UNKNOWN = 2, LLAMA_TOKEN_CONTROL = 3,
    LLAMA_TOKEN_USER = 4, LLAMA_TOKEN_UNUSED = 5, LLAMA_TOKEN_BYTE = 6
};

typedef struct llama_tokenizer {
    int n_vocab;
    char *text;            /* every piece, NUL-terminated, with U+2581 ('▁') turned into ' ' */
    size_t text_bytes, text_used;
    size_t *off;           /* piece i starts at text + off[i] */
    int *len;              /* and has len[i] bytes */
    float *score;
    unsigned char *type;   /* LLAMA_TOKEN_* */
    int *sorted;           /* ids that text can turn into, sorted by piece bytes */
    int n_sorted;
    int byte_id[256];      /* token of each byte for the byte fallback, -1 if none */
    int bos, eos, unk;     /* -1 if none */
} llama_tokenizer;

LLAMA_FN void llama_tokenizer_free(llama_tokenizer *t) {
    free(t->text); free(t->off); free(t->len); free(t->score); free(t->type); free(t->sorted);
    memset(t, 0, sizeof *t);
}

/* Allocate room for n pieces of at most text_bytes bytes in all (before '▁' shrinks them). */
LLAMA_FN lbrx_result llama_tokenizer_alloc(llama_tokenizer *t, int64_t n, size_t text_bytes, lbrx_error *err) {
    size_t nb;
    memset(t, 0, sizeof *t);
    if (n <= 0 || n > LBRX_MODEL_MAX_VOCAB)
        return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: %lld tokens (must be 1..%d)", (long long)n, LBRX_MODEL_MAX_VOCAB);
    if (!lbrx_add_size(text_bytes, (size_t)n, &nb))
        return lbrx_model_errorf(err, LBRX_ERR_OVERFLOW, "tokenizer: piece bytes overflow");
    t->n_vocab = (int)n;
    t->text_bytes = nb;
    t->text = (char *)malloc(nb);
    t->off = (size_t *)calloc((size_t)n, sizeof(size_t));
    t->len = (int *)calloc((size_t)n, sizeof(int));
    t->score = (float *)calloc((size_t)n, sizeof(float));
    t->type = (unsigned char *)calloc((size_t)n, 1);
    t->sorted = (int *)calloc((size_t)n, sizeof(int));
    t->bos = t->eos = t->unk = -1;
    if (!t->text || !t->off || !t->len || !t->score || !t->type || !t->sorted) {
        llama_tokenizer_free(t);
        return lbrx_model_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "tokenizer: out of memory for %lld tokens", (long long)n);
    }
    return LBRX_OK;
}

/* Parse "<0xXX>" (the name of a byte token); -1 if the piece is not one. */
LLAMA_FN int llama_byte_piece(const char *p, size_t len) {
    int v = 0, i;
    if (len != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
    for (i = 3; i < 5; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Set piece i (len bytes, any content), its score and type (a LLAMA_TOKEN_* value; pass
   LLAMA_TOKEN_UNDEFINED to derive it from the piece as llama2.c's tokenizers need). */
LLAMA_FN lbrx_result llama_tokenizer_set(llama_tokenizer *t, int i, const char *p, size_t len, float score, int type,
                                         lbrx_error *err) {
    size_t j, w, room;
    char *dst;
    if (len > LLAMA_MAX_PIECE)
        return lbrx_model_errorf(err, LBRX_ERR_LIMIT, "tokenizer: token %d has a piece of %zu bytes (limit %d)", i, len, LLAMA_MAX_PIECE);
    if (!(score == score) || score > 3.0e38f || score < -3.0e38f)
        return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: token %d has a score that is not a finite number", i);
    if (type < LLAMA_TOKEN_UNDEFINED || type > LLAMA_TOKEN_BYTE)
        return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: token %d has type %d (must be 0..6)", i, type);
    room = t->text_bytes - t->text_used;
    if (len + 1 > room) return lbrx_model_errorf(err, LBRX_ERR_SIZE_MISMATCH, "tokenizer: pieces larger than counted");
    dst = t->text + t->text_used;
    for (j = 0, w = 0; j < len; j++) {
        if (j + 2 < len && (unsigned char)p[j] == 0xE2 && (unsigned char)p[j + 1] == 0x96 && (unsigned char)p[j + 2] == 0x81) {
            dst[w++] = ' ';
            j += 2;
        } else {
            dst[w++] = p[j];
        }
    }
    dst[w] = 0;
    if (type == LLAMA_TOKEN_UNDEFINED) {
        if (w == 5 && !memcmp(dst, "<unk>", 5)) type = LLAMA_TOKEN_UNKNOWN;
        else if ((w == 3 && !memcmp(dst, "<s>", 3)) || (w == 4 && !memcmp(dst, "</s>", 4))) type = LLAMA_TOKEN_CONTROL;
        else if (llama_byte_piece(dst, w) >= 0) type = LLAMA_TOKEN_BYTE;
        else type = LLAMA_TOKEN_NORMAL;
    }
    if (type == LLAMA_TOKEN_BYTE && llama_byte_piece(dst, w) < 0)
        return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: token %d is a byte token but its piece is not <0xXX>", i);
    t->off[i] = t->text_used;
    t->len[i] = (int)w;
    t->score[i] = score;
    t->type[i] = (unsigned char)type;
    t->text_used += w + 1;
    return LBRX_OK;
}

/* Order of pieces for the lookup table: bytes, then length; ids break ties (lowest first). */
LLAMA_FN int llama_piece_cmp(const char *a, int alen, const char *b, int blen) {
    int c = memcmp(a, b, (size_t)(alen < blen ? alen : blen));
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

struct llama_piece_key { const char *p; int len, id; };

LLAMA_FN int llama_piece_key_cmp(const void *pa, const void *pb) {
    const struct llama_piece_key *a = (const struct llama_piece_key *)pa, *b = (const struct llama_piece_key *)pb;
    int c = llama_piece_cmp(a->p, a->len, b->p, b->len);
    return c ? c : (a->id < b->id ? -1 : a->id > b->id);
}

/* Finish a tokenizer whose pieces are all set: check the special ids (each -1 or in range),
   build the byte table and the lookup table. */
LLAMA_FN lbrx_result llama_tokenizer_finish(llama_tokenizer *t, lbrx_error *err) {
    int i;
    struct llama_piece_key *keys;
    const int special[3] = { t->bos, t->eos, t->unk };
    const char *names[3] = { "bos", "eos", "unknown" };
    for (i = 0; i < 3; i++)
        if (special[i] < -1 || special[i] >= t->n_vocab)
            return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: %s token id %d is outside the vocabulary of %d", names[i], special[i], t->n_vocab);
    for (i = 0; i < 256; i++) t->byte_id[i] = -1;
    t->n_sorted = 0;
    for (i = 0; i < t->n_vocab; i++) {
        if (t->type[i] == LLAMA_TOKEN_BYTE) {
            int b = llama_byte_piece(t->text + t->off[i], (size_t)t->len[i]);
            if (t->byte_id[b] < 0) t->byte_id[b] = i;
        } else if ((t->type[i] == LLAMA_TOKEN_NORMAL || t->type[i] == LLAMA_TOKEN_USER) && t->len[i] > 0) {
            t->sorted[t->n_sorted++] = i;
        }
        if (t->unk < 0 && t->type[i] == LLAMA_TOKEN_UNKNOWN) t->unk = i;
    }
    keys = (struct llama_piece_key *)malloc((size_t)(t->n_sorted ? t->n_sorted : 1) * sizeof *keys);
    if (!keys) return lbrx_model_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
    for (i = 0; i < t->n_sorted; i++) {
        keys[i].id = t->sorted[i];
        keys[i].p = t->text + t->off[keys[i].id];
        keys[i].len = t->len[keys[i].id];
    }
    qsort(keys, (size_t)t->n_sorted, sizeof *keys, llama_piece_key_cmp);
    for (i = 0; i < t->n_sorted; i++) t->sorted[i] = keys[i].id;
    free(keys);
    return LBRX_OK;
}

/* Id of the piece p[0..len) that text can produce, -1 if none. */
LLAMA_FN int llama_lookup(const llama_tokenizer *t, const char *p, size_t len) {
    int lo = 0, hi = t->n_sorted;
    if (len > LLAMA_MAX_PIECE) return -1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, id = t->sorted[mid];
        if (llama_piece_cmp(t->text + t->off[id], t->len[id], p, (int)len) < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo < t->n_sorted) {
        int id = t->sorted[lo];
        if (llama_piece_cmp(t->text + t->off[id], t->len[id], p, (int)len) == 0) return id;
    }
    return -1;
}

/* A candidate merge of symbols left and right (adjacent when pushed) whose joined piece is `id`. */
typedef struct llama_bigram { float score; int id; size_t left, right, len; } llama_bigram;

/* Heap order: higher score first, then the leftmost pair. */
LLAMA_FN int llama_bigram_before(const llama_bigram *a, const llama_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

LLAMA_FN void llama_heap_push(llama_bigram *h, size_t *n, llama_bigram e) {
    size_t i = (*n)++;
    while (i > 0 && llama_bigram_before(&e, &h[(i - 1) / 2])) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
    h[i] = e;
}

LLAMA_FN llama_bigram llama_heap_pop(llama_bigram *h, size_t *n) {
    llama_bigram top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && llama_bigram_before(&h[c + 1], &h[c])) c++;
        if (!llama_bigram_before(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

/* Encode text (NUL-terminated, any bytes) as SentencePiece does: a space in front of non-empty
   text, one symbol per UTF-8 character, then repeatedly merge the adjacent pair whose joined
   piece has the highest score (leftmost on ties), and finally bytes for symbols that are not
   pieces. A heap of candidate pairs makes it O(n log n) in the text length. With add_bos, the
   BOS id comes first. *out (malloc'ed, free it) gets *n_out ids. */
LLAMA_FN lbrx_result llama_encode(const llama_tokenizer *t, const char *text, int add_bos, int **out, int *n_out,
                                  lbrx_error *err) {
    size_t tlen = strlen(text), blen, nsym = 0, nheap = 0, i, k, cap;
    char *buf = 0;
    size_t *start = 0, *slen = 0, *next = 0, *prev = 0;
    llama_bigram *heap = 0;
    int *ids = 0, n = 0;
    lbrx_result r = LBRX_OK;
    const size_t none = (size_t)-1;
    *out = 0;
    *n_out = 0;
    if (tlen > (size_t)INT_MAX / 8 - 8) return lbrx_model_errorf(err, LBRX_ERR_LIMIT, "prompt of %zu bytes is too long", tlen);
    blen = tlen ? tlen + 1 : 0;
    cap = blen + 2; /* ids: at most one per byte, plus BOS; heap: < 3 per symbol */
    buf = (char *)malloc(cap);
    start = (size_t *)malloc(cap * sizeof(size_t));
    slen = (size_t *)malloc(cap * sizeof(size_t));
    next = (size_t *)malloc(cap * sizeof(size_t));
    prev = (size_t *)malloc(cap * sizeof(size_t));
    heap = (llama_bigram *)malloc(3 * cap * sizeof(llama_bigram));
    ids = (int *)malloc(cap * sizeof(int));
    if (!buf || !start || !slen || !next || !prev || !heap || !ids) { r = lbrx_model_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory encoding the prompt"); goto done; }
    if (add_bos) {
        if (t->bos < 0) { r = lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer has no BOS token"); goto done; }
        ids[n++] = t->bos;
    }
    if (tlen) {
        buf[0] = ' ';
        memcpy(buf + 1, text, tlen);
    }
    /* one symbol per UTF-8 character (a lead byte and up to 3 continuation bytes), linked */
    for (i = 0; i < blen;) {
        size_t j = i + 1;
        while (j < blen && j - i < 4 && ((unsigned char)buf[j] & 0xC0) == 0x80) j++;
        start[nsym] = i;
        slen[nsym] = j - i;
        prev[nsym] = nsym ? nsym - 1 : none;
        next[nsym] = j < blen ? nsym + 1 : none;
        nsym++;
        i = j;
    }
    for (i = 0; i + 1 < nsym; i++) {
        llama_bigram e;
        e.id = llama_lookup(t, buf + start[i], slen[i] + slen[i + 1]);
        if (e.id < 0) continue;
        e.score = t->score[e.id]; e.left = i; e.right = i + 1; e.len = slen[i] + slen[i + 1];
        llama_heap_push(heap, &nheap, e);
    }
    while (nheap) {
        llama_bigram e = llama_heap_pop(heap, &nheap);
        size_t L = e.left, R = e.right, side;
        /* stale: a symbol of the pair was merged away or grew since the pair was pushed */
        if (slen[L] == 0 || slen[R] == 0 || next[L] != R || slen[L] + slen[R] != e.len) continue;
        slen[L] += slen[R];
        slen[R] = 0;
        next[L] = next[R];
        if (next[R] != none) prev[next[R]] = L;
        for (side = 0; side < 2; side++) {
            size_t a = side ? L : prev[L], b = side ? next[L] : L;
            llama_bigram f;
            if (a == none || b == none) continue;
            f.id = llama_lookup(t, buf + start[a], slen[a] + slen[b]);
            if (f.id < 0) continue;
            f.score = t->score[f.id]; f.left = a; f.right = b; f.len = slen[a] + slen[b];
            llama_heap_push(heap, &nheap, f);
        }
    }
    for (i = 0; i < nsym; i = next[i]) {
        int id = llama_lookup(t, buf + start[i], slen[i]);
        if (id >= 0) ids[n++] = id;
        else
            for (k = 0; k < slen[i]; k++) {
                int b = t->byte_id[(unsigned char)buf[start[i] + k]];
                if (b < 0) b = t->unk;
                if (b < 0) { r = lbrx_model_errorf(err, LBRX_ERR_UNSUPPORTED, "prompt byte 0x%02x has no token (no byte fallback, no unknown token)", (unsigned char)buf[start[i] + k]); goto done; }
                ids[n++] = b;
            }
        if (next[i] == none) break;
    }
    *out = ids;
    *n_out = n;
    ids = 0;
done:
    free(buf); free(start); free(slen); free(next); free(prev); free(heap); free(ids);
    return r;
}

/* The bytes token `tok` prints after token `prev`: byte tokens print their byte, control
   tokens nothing, and the first piece after BOS loses its leading space. *bytebuf holds the
   byte of a byte token. */
LLAMA_FN const char *llama_token_text(const llama_tokenizer *t, int prev, int tok, size_t *len, char *bytebuf) {
    const char *p;
    *len = 0;
    if (tok < 0 || tok >= t->n_vocab || t->type[tok] == LLAMA_TOKEN_CONTROL) return "";
    p = t->text + t->off[tok];
    *len = (size_t)t->len[tok];
    if (t->type[tok] == LLAMA_TOKEN_BYTE) {
        *bytebuf = (char)llama_byte_piece(p, *len);
        *len = prev == t->bos && *bytebuf == ' ' ? 0 : 1;
        return bytebuf;
    }
    if (prev == t->bos && *len > 0 && p[0] == ' ') { p++; (*len)--; }
    return p;
}

/* Write a piece to f, leaving out single bytes that are control characters. */
LLAMA_FN void llama_print_piece(FILE *f, const char *p, size_t len) {
    if (len == 1) {
        unsigned char c = (unsigned char)p[0];
        if ((c < 0x20 && !isspace(c)) || c == 0x7f) return;
    }
    fwrite(p, 1, len, f);
}

/* Read a llama2.c tokenizer file (tok.bin): int32 max piece length, then per token a float32
   score, an int32 length and the piece. n_vocab comes from the model. Every length is checked
   against the file; the file must end after the last piece. */
LLAMA_FN lbrx_result llama_tokenizer_load_bin(llama_tokenizer *t, const char *path, int n_vocab, lbrx_error *err) {
    lbrx_storage *s = 0;
    const unsigned char *d;
    size_t size, pos, total = 0;
    int32_t maxlen;
    int pass, i;
    lbrx_result r = lbrx_storage_map_file(&s, path, 0, err);
    memset(t, 0, sizeof *t);
    if (r != LBRX_OK) return r;
    d = (const unsigned char *)lbrx_storage_data(s);
    size = lbrx_storage_size(s);
    if (size < 4) { lbrx_storage_release(s); return lbrx_model_errorf(err, LBRX_ERR_TRUNCATED, "%s: too short for a tokenizer", path); }
    memcpy(&maxlen, d, 4);
    if (maxlen < 0 || maxlen > LLAMA_MAX_PIECE) {
        lbrx_storage_release(s);
        return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "%s: max token length %d (must be 0..%d)", path, (int)maxlen, LLAMA_MAX_PIECE);
    }
    for (pass = 0; pass < 2; pass++) {
        pos = 4;
        for (i = 0; i < n_vocab; i++) {
            float score;
            int32_t len;
            if (size - pos < 8) { r = lbrx_model_errorf(err, LBRX_ERR_TRUNCATED, "%s: ends inside token %d (file offset %zu)", path, i, pos); goto fail; }
            memcpy(&score, d + pos, 4);
            memcpy(&len, d + pos + 4, 4);
            pos += 8;
            if (len < 0 || len > maxlen) { r = lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "%s: token %d has length %d (max %d, file offset %zu)", path, i, (int)len, (int)maxlen, pos - 4); goto fail; }
            if (size - pos < (size_t)len) { r = lbrx_model_errorf(err, LBRX_ERR_TRUNCATED, "%s: piece of token %d runs past the end (file offset %zu)", path, i, pos); goto fail; }
            if (pass == 0) total += (size_t)len; /* cannot overflow: bounded by the file size */
            else if ((r = llama_tokenizer_set(t, i, (const char *)d + pos, (size_t)len, score, LLAMA_TOKEN_UNDEFINED, err)) != LBRX_OK) goto fail;
            pos += (size_t)len;
        }
        if (pos != size) { r = lbrx_model_errorf(err, LBRX_ERR_SIZE_MISMATCH, "%s: %zu bytes after the last of %d tokens", path, size - pos, n_vocab); goto fail; }
        if (pass == 0 && (r = llama_tokenizer_alloc(t, n_vocab, total, err)) != LBRX_OK) goto fail;
    }
    lbrx_storage_release(s);
    t->bos = 1 < n_vocab ? 1 : -1; /* llama2.c's convention: 1 = BOS, 2 = EOS */
    t->eos = 2 < n_vocab ? 2 : -1;
    return llama_tokenizer_finish(t, err);
fail:
    lbrx_storage_release(s);
    llama_tokenizer_free(t);
    return r;
}



/* An integer hyper-parameter in [lo, hi]; missing keys give def, or an error when def < 0. */
LLAMA_FN lbrx_result llama_gguf_int(const lbrx_gguf *g, const char *key, int64_t def, int64_t lo, int64_t hi, int *out,
                                    lbrx_error *err) {
    int64_t v = 0;
    lbrx_result r = lbrx_gguf_get_int(g, key, &v, err);
    if (r == LBRX_ERR_NOT_FOUND && def >= 0) v = def;
    else if (r == LBRX_ERR_NOT_FOUND) return lbrx_model_errorf(err, r, "metadata %s is missing", key);
    else if (r != LBRX_OK) return r;
    if (v < lo || v > hi) return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "metadata %s = %lld (must be %lld..%lld)", key, (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return LBRX_OK;
}


/* The tokenizer of a GGUF file's metadata (tokenizer.ggml.*). Leaves t empty when the file has
   none or one of another kind than SentencePiece ("llama"), saying so on stderr. */
LLAMA_FN lbrx_result llama_tokenizer_load_gguf(llama_tokenizer *t, const lbrx_gguf *g, lbrx_error *err) {
    const lbrx_gguf_str *toks;
    const void *scores = 0, *types = 0;
    uint64_t n, ns = 0, nt = 0, i;
    size_t total = 0;
    lbrx_gguf_str model;
    int id;
    lbrx_result r;
    memset(t, 0, sizeof *t);
    if (lbrx_gguf_get_str(g, "tokenizer.ggml.model", &model, 0) == LBRX_OK && !(model.len == 5 && !memcmp(model.data, "llama", 5))) {
        fprintf(stderr, "note: tokenizer model \"%.*s\" is not supported; prompts and output are token ids\n", (int)(model.len < 64 ? model.len : 64), model.data);
        return LBRX_OK;
    }
    r = lbrx_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &n, err);
    if (r == LBRX_ERR_NOT_FOUND) return LBRX_OK;
    if (r != LBRX_OK) return r;
    if ((r = lbrx_gguf_get_array(g, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, &scores, &ns, err)) != LBRX_OK) return r;
    r = lbrx_gguf_get_array(g, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, &types, &nt, err);
    if (r != LBRX_OK && r != LBRX_ERR_NOT_FOUND) return r;
    if (ns != n || (types && nt != n))
        return lbrx_model_errorf(err, LBRX_ERR_SIZE_MISMATCH, "tokenizer: %llu tokens but %llu scores and %llu token types",
                            (unsigned long long)n, (unsigned long long)ns, (unsigned long long)(types ? nt : n));
    if (n == 0 || n > LBRX_MODEL_MAX_VOCAB) return lbrx_model_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: %llu tokens (must be 1..%d)", (unsigned long long)n, LBRX_MODEL_MAX_VOCAB);
    for (i = 0; i < n; i++) {
        if (toks[i].len > LLAMA_MAX_PIECE)
            return lbrx_model_errorf(err, LBRX_ERR_LIMIT, "tokenizer: token %llu has a piece of %llu bytes (limit %d)", (unsigned long long)i, (unsigned long long)toks[i].len, LLAMA_MAX_PIECE);
        if (!lbrx_add_size(total, (size_t)toks[i].len, &total)) return lbrx_model_errorf(err, LBRX_ERR_OVERFLOW, "tokenizer: piece bytes overflow");
    }
    if ((r = llama_tokenizer_alloc(t, (int64_t)n, total, err)) != LBRX_OK) return r;
    for (i = 0; i < n; i++) {
        float score;
        int32_t type = LLAMA_TOKEN_UNDEFINED;
        memcpy(&score, (const unsigned char *)scores + 4 * i, 4);
        if (types) memcpy(&type, (const unsigned char *)types + 4 * i, 4);
        if ((r = llama_tokenizer_set(t, (int)i, toks[i].data, (size_t)toks[i].len, score, type, err)) != LBRX_OK) goto fail;
    }
    if ((r = llama_gguf_int(g, "tokenizer.ggml.bos_token_id", 1, 0, (int64_t)n - 1, &id, err)) != LBRX_OK) goto fail;
    t->bos = id;
    if ((r = llama_gguf_int(g, "tokenizer.ggml.eos_token_id", 2, 0, (int64_t)n - 1, &id, err)) != LBRX_OK) goto fail;
    t->eos = id;
    if (lbrx_gguf_find_key(g, "tokenizer.ggml.unknown_token_id") >= 0) {
        if ((r = llama_gguf_int(g, "tokenizer.ggml.unknown_token_id", 0, 0, (int64_t)n - 1, &id, err)) != LBRX_OK) goto fail;
        t->unk = id;
    }
    if ((r = llama_tokenizer_finish(t, err)) != LBRX_OK) goto fail;
    return LBRX_OK;
fail:
    llama_tokenizer_free(t);
    return r;
}


/* ============================================================================================
   A model with its tokenizer
   ============================================================================================ */

/* Load a model (lbrx_model_load) and its tokenizer: a GGUF file's own (SentencePiece), the
   llama2.c tok.bin given as tok_path for a llama2.c checkpoint; none for a Hugging Face
   checkpoint. *kind says which ("none" when there is none: prompts are token ids). */
LLAMA_FN lbrx_result llama_load(lbrx_model *m, llama_tokenizer *tok, const char *path, const char *tok_path, const char **kind,
                                lbrx_error *err) {
    lbrx_result r = lbrx_model_load(m, path, err);
    memset(tok, 0, sizeof *tok);
    *kind = "none";
    if (r != LBRX_OK) return r;
    if (tok_path && strcmp(m->format, "llama2.c"))
        r = lbrx_model_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "-z is for llama2.c checkpoints; this %s model has its own tokenizer", m->format);
    else if (tok_path)
        r = llama_tokenizer_load_bin(tok, tok_path, m->c.vocab_size, err);
    else if (!strcmp(m->format, "gguf")) {
        lbrx_gguf *g = 0;
        if ((r = lbrx_gguf_open(&g, path, 0, err)) == LBRX_OK) r = llama_tokenizer_load_gguf(tok, g, err);
        lbrx_gguf_close(g);
    }
    if (r == LBRX_OK && tok->n_vocab && tok->n_vocab != m->c.vocab_size)
        r = lbrx_model_errorf(err, LBRX_ERR_SIZE_MISMATCH, "the tokenizer has %d tokens but the model's vocabulary is %d", tok->n_vocab, m->c.vocab_size);
    if (r == LBRX_OK && tok->n_vocab) *kind = tok_path ? "llama2.c tok.bin (SentencePiece)" : "SentencePiece (llama)";
    if (r != LBRX_OK) {
        llama_tokenizer_free(tok);
        lbrx_model_free(m);
    }
    return r;
}

/* Parse a prompt of token ids ("1 450 4996", any whitespace) into *out (malloc'ed). */
LLAMA_FN lbrx_result llama_parse_ids(const char *s, int n_vocab, int **out, int *n_out, lbrx_error *err) {
    size_t cap = strlen(s) / 2 + 1;
    int *ids = (int *)malloc(cap * sizeof(int)), n = 0;
    *out = 0;
    *n_out = 0;
    if (!ids) return lbrx_model_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory");
    while (*s) {
        char *end;
        long v;
        while (isspace((unsigned char)*s)) s++;
        if (!*s) break;
        v = strtol(s, &end, 10);
        if (end == s || (*end && !isspace((unsigned char)*end)) || v < 0 || v >= n_vocab) {
            free(ids);
            return lbrx_model_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "the prompt must be token ids in 0..%d for a model without a tokenizer", n_vocab - 1);
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

/* Print token `tok` (after `prev`): its text, or its id for a model without a tokenizer. */
LLAMA_FN void llama_emit(const llama_tokenizer *t, FILE *out, int prev, int tok) {
    if (t->n_vocab) {
        char b;
        size_t len;
        const char *p = llama_token_text(t, prev, tok, &len, &b);
        llama_print_piece(out, p, len);
    } else {
        fprintf(out, prev < 0 ? "%d" : " %d", tok);
    }
    fflush(out);
}

/* run.c's loop over `steps` positions: the prompt tokens (the first `steps` of them) go through
   as one batch (in chunks of the state's max_batch), then each sampled token is run at the next
   position until `steps` positions are done or BOS/EOS comes (with a tokenizer t; one with
   n_vocab 0 means none: token ids are printed). Text goes to
   out (may be NULL), logits of every position run to logits_f (may be NULL; the state must keep
   all logits then). */
LLAMA_FN lbrx_result llama_generate(const lbrx_model *m, const llama_tokenizer *t, lbrx_model_state *s, lbrx_sampler *smp, const int *prompt, int n_prompt,
                                    int steps, FILE *out, FILE *logits_f, llama_stats *st, lbrx_error *err) {
    int n_run = n_prompt < steps ? n_prompt : steps, i, token, next, pos;
    size_t V = (size_t)m->c.vocab_size;
    double t0;
    lbrx_result r;
    memset(st, 0, sizeof *st);
    if (n_prompt < 1) return lbrx_model_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "empty prompt");
    if (out) {
        if (!t->n_vocab) llama_emit(t, out, -1, prompt[0]);
        for (i = 1; i <= n_run && i < n_prompt; i++) llama_emit(t, out, prompt[i - 1], prompt[i]);
    }
    t0 = lbrx_model_now();
    for (i = 0; i < n_run; i += s->max_batch) {
        int n = n_run - i < s->max_batch ? n_run - i : s->max_batch;
        if ((r = lbrx_model_forward(m, s, prompt + i, n, logits_f != 0, err)) != LBRX_OK) return r;
        if (logits_f && fwrite(s->logits, sizeof(float) * V, (size_t)n, logits_f) != (size_t)n)
            return lbrx_model_errorf(err, LBRX_ERR_IO, "cannot write the logits");
    }
    st->n_prompt = n_run;
    st->prompt_s = lbrx_model_now() - t0;
    if (n_prompt > steps) return LBRX_OK;
    t0 = lbrx_model_now();
    token = prompt[n_prompt - 1];
    pos = n_run;
    for (;;) {
        next = lbrx_sampler_sample(smp, s->logits + (size_t)(s->logits_rows - 1) * V);
        if (t->n_vocab && (next == t->bos || next == t->eos)) break;
        if (out) llama_emit(t, out, token, next);
        token = next;
        if (pos >= steps) break;
        if ((r = lbrx_model_forward(m, s, &token, 1, logits_f != 0, err)) != LBRX_OK) return r;
        if (logits_f && fwrite(s->logits, sizeof(float), V, logits_f) != V) return lbrx_model_errorf(err, LBRX_ERR_IO, "cannot write the logits");
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
    int steps = 256, n_threads = 0, i, n_prompt = 0, *ids = 0, batch;
    float temperature = 1.0f, topp = 0.9f;
    unsigned long long seed = 0;
    lbrx_dtype kv = LBRX_F16;
    lbrx_model m;
    llama_tokenizer tok;
    lbrx_model_state s;
    lbrx_sampler smp;
    llama_stats st;
    const char *tok_kind;
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
    if ((r = llama_load(&m, &tok, model_path, tok_path, &tok_kind, &err)) != LBRX_OK) {
        fprintf(log, "error: %s: %s\n", model_path, err.message);
        return 1;
    }
    fprintf(log, "%s: %s, architecture %s, %d layers, dim %d, %d heads (%d KV) of %d, vocab %d, context %d, %.1f MB of weights; loaded in %.1f ms\n",
            model_path, m.format, m.c.arch->name, m.c.n_layers, m.c.dim, m.c.n_heads, m.c.n_kv_heads, m.c.head_dim, m.c.vocab_size, m.c.seq_len,
            (double)m.weight_bytes / 1e6, (lbrx_model_now() - t0) * 1e3);
    fprintf(log, "tokenizer: %s%s\n", tok_kind, tok.n_vocab ? "" : " (prompt and output are token ids)");
    if (steps == 0 || steps > m.c.seq_len) steps = m.c.seq_len;
    r = tok.n_vocab ? llama_encode(&tok, prompt, 1, &ids, &n_prompt, &err) : llama_parse_ids(prompt, m.c.vocab_size, &ids, &n_prompt, &err);
    if (r == LBRX_OK && n_prompt == 0) r = lbrx_model_errorf(&err, LBRX_ERR_INVALID_ARGUMENT, "empty prompt (a model without a tokenizer needs token ids)");
    if (r != LBRX_OK) {
        fprintf(log, "error: %s\n", err.message);
        llama_tokenizer_free(&tok);
        lbrx_model_free(&m);
        free(ids);
        return 1;
    }
    batch = n_prompt < steps ? n_prompt : steps;
    if (batch > 512) batch = 512;
    if (logits_path && !(lf = fopen(logits_path, "wb"))) {
        fprintf(log, "error: %s: cannot create\n", logits_path);
        llama_tokenizer_free(&tok);
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
    if (lf && fclose(lf) != 0 && r == LBRX_OK) r = lbrx_model_errorf(&err, LBRX_ERR_IO, "%s: write failed", logits_path);
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
    llama_tokenizer_free(&tok);
    lbrx_model_free(&m);
    return r == LBRX_OK ? 0 : 1;
}

#ifndef LLAMA_NO_MAIN
int main(int argc, char **argv) { return llama_main(argc, argv, stdout, stderr); }
#endif

