/* llama.c - run a Llama-family model with lbrx. Part of lbrx; public domain or MIT (see lbrx.h).

   llama MODEL [-z TOKENIZER] [-i PROMPT] [-n STEPS] [-t TEMP] [-p TOPP] [-s SEED]
               [--threads N] [--kv f16|f32] [--logits FILE]

   MODEL is one of
     - a GGUF file of architecture "llama" (tensors in any dtype lbrx_matmul takes -- F32, F16,
       BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K, Q3_K, Q2_K, Q5_0, Q5_1, IQ4_NL, IQ4_XS -- used
       as mapped, mixed per tensor; other block types are converted to Q8_0/F32 when loaded), with the
       SentencePiece ("llama") tokenizer of its metadata;
     - a llama2.c checkpoint (.bin, the legacy export) with its tokenizer given by -z tok.bin;
     - a Hugging Face Llama checkpoint: a directory holding config.json and model.safetensors
       or a sharded model.safetensors.index.json (or the path of one of those files). With no
       tokenizer, -i is a list of token ids ("1 450 4996") and the output is token ids too.
   The flags are those of llama2.c's run.c: -n is the number of positions to run (prompt
   included; 0 = the context length), -t 0 is greedy, -p the top-p cutoff, -s the seed (0 =
   time). --kv chooses the KV-cache type (default f16), --logits writes the float32 logits of
   every position run, row-major [positions][vocab], to FILE.

   stdout gets the text only (the prompt, then the continuation); stderr gets load time and
   tokens/s. A model whose hyper-parameters, tensors or tokenizer do not fit together is an
   "error:" line on stderr and exit status 1.

   Build: cc -O3 -march=native -fopenmp -I. examples/llama.c -o llama -lm

   Define LLAMA_NO_MAIN before including this file to use its functions in another program
   (tests/test_llama.c and examples/demo.c do). */
#ifndef LLAMA_NO_IMPL
#define LBRX_IMPL
#endif
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"

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
#define LLAMA_MAX_VOCAB (1 << 24)   /* largest vocabulary accepted */
#define LLAMA_MAX_LAYERS 1024       /* most transformer blocks accepted */
#define LLAMA_MAX_DIM (1 << 20)     /* largest embedding / feed-forward width accepted */
#define LLAMA_MAX_CTX (1 << 24)     /* longest context accepted */

/* ============================================================================================
   Small utilities
   ============================================================================================ */

/* Fill *err with r and a printf-style message; return r. */
LLAMA_FN lbrx_result llama_errorf(lbrx_error *err, lbrx_result r, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->result = r;
        err->offset = UINT64_MAX;
    }
    return r;
}

/* Seconds on a monotonic clock. */
LLAMA_FN double llama_now(void) {
#if defined(_WIN32)
    return (double)clock() / CLOCKS_PER_SEC;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
}

/* Resident memory of this process in bytes (Linux), 0 where unknown. */
LLAMA_FN size_t llama_resident_bytes(void) {
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
    if (n <= 0 || n > LLAMA_MAX_VOCAB)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: %lld tokens (must be 1..%d)", (long long)n, LLAMA_MAX_VOCAB);
    if (!lbrx_add_size(text_bytes, (size_t)n, &nb))
        return llama_errorf(err, LBRX_ERR_OVERFLOW, "tokenizer: piece bytes overflow");
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
        return llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "tokenizer: out of memory for %lld tokens", (long long)n);
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
        return llama_errorf(err, LBRX_ERR_LIMIT, "tokenizer: token %d has a piece of %zu bytes (limit %d)", i, len, LLAMA_MAX_PIECE);
    if (!(score == score) || score > 3.0e38f || score < -3.0e38f)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: token %d has a score that is not a finite number", i);
    if (type < LLAMA_TOKEN_UNDEFINED || type > LLAMA_TOKEN_BYTE)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: token %d has type %d (must be 0..6)", i, type);
    room = t->text_bytes - t->text_used;
    if (len + 1 > room) return llama_errorf(err, LBRX_ERR_SIZE_MISMATCH, "tokenizer: pieces larger than counted");
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
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: token %d is a byte token but its piece is not <0xXX>", i);
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
            return llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: %s token id %d is outside the vocabulary of %d", names[i], special[i], t->n_vocab);
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
    if (!keys) return llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "tokenizer: out of memory");
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
    if (tlen > (size_t)INT_MAX / 8 - 8) return llama_errorf(err, LBRX_ERR_LIMIT, "prompt of %zu bytes is too long", tlen);
    blen = tlen ? tlen + 1 : 0;
    cap = blen + 2; /* ids: at most one per byte, plus BOS; heap: < 3 per symbol */
    buf = (char *)malloc(cap);
    start = (size_t *)malloc(cap * sizeof(size_t));
    slen = (size_t *)malloc(cap * sizeof(size_t));
    next = (size_t *)malloc(cap * sizeof(size_t));
    prev = (size_t *)malloc(cap * sizeof(size_t));
    heap = (llama_bigram *)malloc(3 * cap * sizeof(llama_bigram));
    ids = (int *)malloc(cap * sizeof(int));
    if (!buf || !start || !slen || !next || !prev || !heap || !ids) { r = llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory encoding the prompt"); goto done; }
    if (add_bos) {
        if (t->bos < 0) { r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer has no BOS token"); goto done; }
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
                if (b < 0) { r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "prompt byte 0x%02x has no token (no byte fallback, no unknown token)", (unsigned char)buf[start[i] + k]); goto done; }
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
    if (size < 4) { lbrx_storage_release(s); return llama_errorf(err, LBRX_ERR_TRUNCATED, "%s: too short for a tokenizer", path); }
    memcpy(&maxlen, d, 4);
    if (maxlen < 0 || maxlen > LLAMA_MAX_PIECE) {
        lbrx_storage_release(s);
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "%s: max token length %d (must be 0..%d)", path, (int)maxlen, LLAMA_MAX_PIECE);
    }
    for (pass = 0; pass < 2; pass++) {
        pos = 4;
        for (i = 0; i < n_vocab; i++) {
            float score;
            int32_t len;
            if (size - pos < 8) { r = llama_errorf(err, LBRX_ERR_TRUNCATED, "%s: ends inside token %d (file offset %zu)", path, i, pos); goto fail; }
            memcpy(&score, d + pos, 4);
            memcpy(&len, d + pos + 4, 4);
            pos += 8;
            if (len < 0 || len > maxlen) { r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "%s: token %d has length %d (max %d, file offset %zu)", path, i, (int)len, (int)maxlen, pos - 4); goto fail; }
            if (size - pos < (size_t)len) { r = llama_errorf(err, LBRX_ERR_TRUNCATED, "%s: piece of token %d runs past the end (file offset %zu)", path, i, pos); goto fail; }
            if (pass == 0) total += (size_t)len; /* cannot overflow: bounded by the file size */
            else if ((r = llama_tokenizer_set(t, i, (const char *)d + pos, (size_t)len, score, LLAMA_TOKEN_UNDEFINED, err)) != LBRX_OK) goto fail;
            pos += (size_t)len;
        }
        if (pos != size) { r = llama_errorf(err, LBRX_ERR_SIZE_MISMATCH, "%s: %zu bytes after the last of %d tokens", path, size - pos, n_vocab); goto fail; }
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

/* ============================================================================================
   Sampler: greedy, or temperature + top-p with a seeded xorshift generator (as run.c)
   ============================================================================================ */

typedef struct llama_prob { float p; int id; } llama_prob;

typedef struct llama_sampler {
    float temperature, topp;
    uint64_t rng;
    int n_vocab;
    llama_prob *cand;      /* top-p candidates */
} llama_sampler;

LLAMA_FN lbrx_result llama_sampler_init(llama_sampler *s, int n_vocab, float temperature, float topp, uint64_t seed,
                                        lbrx_error *err) {
    s->temperature = temperature;
    s->topp = topp;
    s->rng = seed;
    s->n_vocab = n_vocab;
    s->cand = (llama_prob *)malloc((size_t)n_vocab * sizeof *s->cand);
    return s->cand ? LBRX_OK : llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory for the sampler");
}

LLAMA_FN void llama_sampler_free(llama_sampler *s) { free(s->cand); s->cand = 0; }

/* xorshift64*, top 32 bits */
LLAMA_FN uint32_t llama_random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* uniform in [0, 1) with 24 bits */
LLAMA_FN float llama_random_f32(uint64_t *state) { return (float)(llama_random_u32(state) >> 8) / 16777216.0f; }

LLAMA_FN int llama_argmax(const float *x, int n) {
    int i, best = 0;
    for (i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

LLAMA_FN int llama_prob_desc(const void *pa, const void *pb) {
    const llama_prob *a = (const llama_prob *)pa, *b = (const llama_prob *)pb;
    if (a->p != b->p) return a->p > b->p ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Next token from logits (overwritten with probabilities when sampling). */
LLAMA_FN int llama_sample(llama_sampler *s, float *logits) {
    int i, n = s->n_vocab, m = 0, last;
    float maxv, sum = 0.0f, coin, cum = 0.0f, cutoff, r;
    if (s->temperature == 0.0f) return llama_argmax(logits, n);
    for (i = 0; i < n; i++) logits[i] /= s->temperature;
    maxv = logits[llama_argmax(logits, n)];
    for (i = 0; i < n; i++) { logits[i] = expf(logits[i] - maxv); sum += logits[i]; }
    for (i = 0; i < n; i++) logits[i] /= sum;
    coin = llama_random_f32(&s->rng);
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
    if (m == 0) return llama_argmax(logits, n);
    qsort(s->cand, (size_t)m, sizeof *s->cand, llama_prob_desc);
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

/* ============================================================================================
   The model: hyper-parameters, weights, and the checks that they fit together (SPECS H19)
   ============================================================================================ */

typedef struct llama_config {
    int dim;          /* embedding width */
    int hidden_dim;   /* feed-forward width */
    int n_layers, n_heads, n_kv_heads, head_dim;
    int rope_dim;     /* dimensions rotated by RoPE (head_dim for Llama) */
    int vocab_size, seq_len;
    float norm_eps, rope_base;
    int rope_neox;    /* 1: rotate (i, i + d/2) as HF does; 0: rotate pairs (2i, 2i+1) as GGUF llama and llama2.c */
} llama_config;

typedef struct llama_layer {
    lbrx_tensor attn_norm, wq, wk, wv, wo, ffn_norm, w_gate, w_up, w_down;
} llama_layer;

/* The weights every loader reads per layer, in the order of its name tables. */
#define LLAMA_LAYER_TENSORS 9
static void llama_layer_slots(llama_layer *L, lbrx_tensor **t) {
    t[0] = &L->attn_norm; t[1] = &L->wq; t[2] = &L->wk; t[3] = &L->wv; t[4] = &L->wo;
    t[5] = &L->ffn_norm; t[6] = &L->w_gate; t[7] = &L->w_up; t[8] = &L->w_down;
}

typedef struct llama_model {
    llama_config c;
    lbrx_tensor embd, out_norm, output;
    llama_layer *layers;
    llama_tokenizer tok;  /* n_vocab 0: no tokenizer, prompts are token ids */
    const char *format;   /* "gguf", "llama2.c" or "safetensors" */
    size_t weight_bytes;  /* bytes of the matmul weights read for each token */
    size_t file_bytes;    /* bytes of the model file(s) */
} llama_model;

LLAMA_FN void llama_model_free(llama_model *m) {
    int l;
    if (m->layers) {
        for (l = 0; l < m->c.n_layers; l++) {
            llama_layer *L = &m->layers[l];
            lbrx_tensor_release(&L->attn_norm); lbrx_tensor_release(&L->wq); lbrx_tensor_release(&L->wk);
            lbrx_tensor_release(&L->wv); lbrx_tensor_release(&L->wo); lbrx_tensor_release(&L->ffn_norm);
            lbrx_tensor_release(&L->w_gate); lbrx_tensor_release(&L->w_up); lbrx_tensor_release(&L->w_down);
        }
        free(m->layers);
    }
    lbrx_tensor_release(&m->embd);
    lbrx_tensor_release(&m->out_norm);
    lbrx_tensor_release(&m->output);
    llama_tokenizer_free(&m->tok);
    memset(m, 0, sizeof *m);
}

/* Check the hyper-parameters against each other before anything is sized by them. */
LLAMA_FN lbrx_result llama_check_config(const llama_config *c, lbrx_error *err) {
    if (c->n_layers < 1 || c->n_layers > LLAMA_MAX_LAYERS)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "block count %d (must be 1..%d)", c->n_layers, LLAMA_MAX_LAYERS);
    if (c->dim < 1 || c->dim > LLAMA_MAX_DIM)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "embedding length %d (must be 1..%d)", c->dim, LLAMA_MAX_DIM);
    if (c->hidden_dim < 1 || c->hidden_dim > LLAMA_MAX_DIM)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "feed-forward length %d (must be 1..%d)", c->hidden_dim, LLAMA_MAX_DIM);
    if (c->n_heads < 1 || c->n_heads > c->dim)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "head count %d (must be 1..embedding length %d)", c->n_heads, c->dim);
    if (c->n_kv_heads < 1 || c->n_kv_heads > c->n_heads)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "KV head count %d (must be 1..head count %d)", c->n_kv_heads, c->n_heads);
    if (c->n_heads % c->n_kv_heads)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "head count %d is not a multiple of the KV head count %d", c->n_heads, c->n_kv_heads);
    if (c->head_dim < 2 || c->head_dim % 2 || (int64_t)c->head_dim * c->n_heads > LLAMA_MAX_DIM)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "head dimension %d (must be even, >= 2, and head count x head dimension <= %d)", c->head_dim, LLAMA_MAX_DIM);
    if (c->rope_dim != c->head_dim)
        return llama_errorf(err, LBRX_ERR_UNSUPPORTED, "RoPE dimension count %d differs from the head dimension %d (partial RoPE is not supported)", c->rope_dim, c->head_dim);
    if (c->vocab_size < 1 || c->vocab_size > LLAMA_MAX_VOCAB)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "vocabulary size %d (must be 1..%d)", c->vocab_size, LLAMA_MAX_VOCAB);
    if (c->seq_len < 1 || c->seq_len > LLAMA_MAX_CTX)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "context length %d (must be 1..%d)", c->seq_len, LLAMA_MAX_CTX);
    if (!(c->norm_eps > 0.0f && c->norm_eps < 1.0f))
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "RMS norm epsilon %g (must be in (0, 1))", (double)c->norm_eps);
    if (!(c->rope_base > 1.0f && c->rope_base < 1e30f))
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "RoPE frequency base %g (must be > 1 and finite)", (double)c->rope_base);
    return LBRX_OK;
}

/* Check that a weight is present with shape [rows, cols] ([cols] when rows is 0). */
LLAMA_FN lbrx_result llama_check_shape(const lbrx_tensor *t, const char *name, int64_t rows, int64_t cols, lbrx_error *err) {
    if (!t->data && !t->storage && t->ndim == 0) return llama_errorf(err, LBRX_ERR_NOT_FOUND, "tensor %s is missing", name);
    if (rows == 0) {
        if (t->ndim != 1 || t->shape[0] != cols)
            return llama_errorf(err, LBRX_ERR_BAD_SHAPE, "tensor %s has %d dimensions [%lld%s], expected [%lld]", name, t->ndim,
                                (long long)(t->ndim ? t->shape[0] : 0), t->ndim > 1 ? ", ..." : "", (long long)cols);
    } else if (t->ndim != 2 || t->shape[0] != rows || t->shape[1] != cols) {
        return llama_errorf(err, LBRX_ERR_BAD_SHAPE, "tensor %s has shape [%lld, %lld]%s, expected [%lld, %lld] from the hyper-parameters",
                            name, (long long)(t->ndim > 0 ? t->shape[0] : 0), (long long)(t->ndim > 1 ? t->shape[1] : 0),
                            t->ndim != 2 ? " (not 2-D)" : "", (long long)rows, (long long)cols);
    }
    return LBRX_OK;
}

/* Make a weight usable as it lies where lbrx's kernels take it (norms in F32, F16 or BF16;
   matmul weights in lbrx_matmul's dtypes); other dtypes are converted once (matmul weights to
   Q8_0 when rows allow, else F32). Adds the bytes a token reads. */
LLAMA_FN lbrx_result llama_prepare(llama_model *m, lbrx_tensor *t, int is_norm, const char *name, lbrx_error *err) {
    lbrx_tensor c;
    lbrx_dtype to;
    size_t nb = 0;
    lbrx_result r;
    if (is_norm) to = t->dtype == LBRX_F16 || t->dtype == LBRX_BF16 ? t->dtype : LBRX_F32;
    else if (lbrx_matmul_supports(t->dtype)) to = t->dtype;
    else to = t->shape[t->ndim - 1] % 32 == 0 ? LBRX_Q8_0 : LBRX_F32;
    if (to != t->dtype) {
        r = lbrx_tensor_convert(t, to, &c, 0, err);
        if (r != LBRX_OK) {
            if (err) {
                char msg[sizeof err->message + 160];
                snprintf(msg, sizeof msg, "tensor %.100s (%s): %s", name, lbrx_dtype_name(t->dtype), err->message);
                memcpy(err->message, msg, sizeof err->message - 1);
                err->message[sizeof err->message - 1] = 0;
            }
            return r;
        }
        c.name = t->name;
        lbrx_tensor_release(t);
        *t = c;
    }
    if (!is_norm && lbrx_tensor_nbytes(t, &nb) == LBRX_OK) m->weight_bytes += nb;
    return LBRX_OK;
}

/* Validate every tensor against the hyper-parameters (and the tokenizer against the
   vocabulary), then prepare the weights for the kernels. */
LLAMA_FN lbrx_result llama_model_finish(llama_model *m, lbrx_error *err) {
    const llama_config *c = &m->c;
    int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim;
    lbrx_result r;
    int l;
    char name[96];
    if ((r = llama_check_config(c, err)) != LBRX_OK) return r;
    if (m->tok.n_vocab && m->tok.n_vocab != c->vocab_size)
        return llama_errorf(err, LBRX_ERR_SIZE_MISMATCH, "the tokenizer has %d tokens but the model's vocabulary is %d", m->tok.n_vocab, c->vocab_size);
    if ((r = llama_check_shape(&m->embd, "token_embd", c->vocab_size, c->dim, err)) != LBRX_OK) return r;
    if ((r = llama_check_shape(&m->out_norm, "output_norm", 0, c->dim, err)) != LBRX_OK) return r;
    if ((r = llama_check_shape(&m->output, "output", c->vocab_size, c->dim, err)) != LBRX_OK) return r;
    for (l = 0; l < c->n_layers; l++) {
        llama_layer *L = &m->layers[l];
        struct { lbrx_tensor *t; const char *what; int64_t rows, cols; } w[9];
        int i;
        w[0].t = &L->attn_norm; w[0].what = "attn_norm"; w[0].rows = 0; w[0].cols = c->dim;
        w[1].t = &L->wq; w[1].what = "attn_q"; w[1].rows = qd; w[1].cols = c->dim;
        w[2].t = &L->wk; w[2].what = "attn_k"; w[2].rows = kvd; w[2].cols = c->dim;
        w[3].t = &L->wv; w[3].what = "attn_v"; w[3].rows = kvd; w[3].cols = c->dim;
        w[4].t = &L->wo; w[4].what = "attn_output"; w[4].rows = c->dim; w[4].cols = qd;
        w[5].t = &L->ffn_norm; w[5].what = "ffn_norm"; w[5].rows = 0; w[5].cols = c->dim;
        w[6].t = &L->w_gate; w[6].what = "ffn_gate"; w[6].rows = c->hidden_dim; w[6].cols = c->dim;
        w[7].t = &L->w_up; w[7].what = "ffn_up"; w[7].rows = c->hidden_dim; w[7].cols = c->dim;
        w[8].t = &L->w_down; w[8].what = "ffn_down"; w[8].rows = c->dim; w[8].cols = c->hidden_dim;
        for (i = 0; i < LLAMA_LAYER_TENSORS; i++) {
            snprintf(name, sizeof name, "blk.%d.%s", l, w[i].what);
            if ((r = llama_check_shape(w[i].t, name, w[i].rows, w[i].cols, err)) != LBRX_OK) return r;
            if ((r = llama_prepare(m, w[i].t, w[i].rows == 0, name, err)) != LBRX_OK) return r;
        }
    }
    if ((r = llama_prepare(m, &m->out_norm, 1, "output_norm", err)) != LBRX_OK) return r;
    if ((r = llama_prepare(m, &m->output, 0, "output", err)) != LBRX_OK) return r;
    return LBRX_OK;
}

LLAMA_FN lbrx_result llama_alloc_layers(llama_model *m, lbrx_error *err) {
    if (m->c.n_layers < 1 || m->c.n_layers > LLAMA_MAX_LAYERS)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "block count %d (must be 1..%d)", m->c.n_layers, LLAMA_MAX_LAYERS);
    m->layers = (llama_layer *)calloc((size_t)m->c.n_layers, sizeof(llama_layer));
    return m->layers ? LBRX_OK : llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory");
}

/* ---- llama2.c checkpoints ---- */

/* A float32 tensor [rows, cols] (or [cols] for rows 0) at *pos of the mapped checkpoint;
   advances *pos. The header was checked against the file size, so this cannot fail unless
   the arithmetic below disagrees with it. */
LLAMA_FN lbrx_result llama_bin_tensor(lbrx_tensor *t, lbrx_storage *s, uint64_t *pos, int64_t rows, int64_t cols, lbrx_error *err) {
    int64_t shape[2];
    lbrx_result r;
    shape[0] = rows; shape[1] = cols;
    r = rows ? lbrx_tensor_init(t, LBRX_F32, 2, shape, s, *pos, err) : lbrx_tensor_init(t, LBRX_F32, 1, shape + 1, s, *pos, err);
    *pos += (uint64_t)(rows ? rows : 1) * (uint64_t)cols * 4u;
    return r;
}

/* Load a llama2.c checkpoint (the legacy export: 7 int32 then float32 arrays), mapped and not
   copied. The header is validated and the arrays it implies must fill the file exactly. */
LLAMA_FN lbrx_result llama_load_bin(llama_model *m, const char *path, lbrx_error *err) {
    lbrx_storage *s = 0;
    int32_t h[7];
    llama_config *c = &m->c;
    uint64_t D, Hd, L, V, qd, kvd, floats = 0, pos = 28;
    int shared, l, k;
    lbrx_result r = lbrx_storage_map_file(&s, path, 0, err);
    if (r != LBRX_OK) return r;
    m->format = "llama2.c";
    m->file_bytes = lbrx_storage_size(s);
    if (lbrx_storage_size(s) < 28) { r = llama_errorf(err, LBRX_ERR_TRUNCATED, "%s: %zu bytes, too short for a llama2.c header", path, lbrx_storage_size(s)); goto done; }
    memcpy(h, lbrx_storage_data(s), 28);
    if (h[0] == 0x616b3432) { r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "%s: a llama2.c version-%d export; only the legacy export is supported", path, (int)h[1]); goto done; }
    for (k = 0; k < 7; k++)
        if (h[k] == 0 || (h[k] < 0 && k != 5) || h[k] == INT32_MIN) {
            static const char *field[7] = { "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len" };
            r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "%s: header field %s is %d (file offset %d)", path, field[k], (int)h[k], 4 * k);
            goto done;
        }
    shared = h[5] > 0;
    c->dim = h[0]; c->hidden_dim = h[1]; c->n_layers = h[2]; c->n_heads = h[3]; c->n_kv_heads = h[4];
    c->vocab_size = shared ? h[5] : -h[5]; c->seq_len = h[6];
    if (c->dim % c->n_heads) { r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "%s: dim %d is not a multiple of n_heads %d", path, c->dim, c->n_heads); goto done; }
    c->head_dim = c->rope_dim = c->dim / c->n_heads;
    c->norm_eps = 1e-5f;
    c->rope_base = 10000.0f;
    c->rope_neox = 0;
    if ((r = llama_check_config(c, err)) != LBRX_OK) goto done;
    D = (uint64_t)c->dim; Hd = (uint64_t)c->hidden_dim; L = (uint64_t)c->n_layers; V = (uint64_t)c->vocab_size;
    qd = (uint64_t)c->n_heads * (uint64_t)c->head_dim; kvd = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    /* every factor is below 2^24 and L below 2^10, so these sums fit in 64 bits */
    floats = V * D + L * (D + qd * D + 2 * kvd * D + D * qd + D + 3 * Hd * D) + D + (uint64_t)c->seq_len * (uint64_t)c->head_dim + (shared ? 0 : V * D);
    if ((uint64_t)lbrx_storage_size(s) - 28 != floats * 4) {
        r = llama_errorf(err, LBRX_ERR_SIZE_MISMATCH, "%s: the header implies %llu bytes of weights but the file has %llu", path,
                         (unsigned long long)(floats * 4), (unsigned long long)(lbrx_storage_size(s) - 28));
        goto done;
    }
    if ((r = llama_alloc_layers(m, err)) != LBRX_OK) goto done;
    if ((r = llama_bin_tensor(&m->embd, s, &pos, c->vocab_size, c->dim, err)) != LBRX_OK) goto done;
    /* the arrays are stacked over layers: one pass per array */
    for (k = 0; k < 9; k++)
        for (l = 0; l < c->n_layers; l++) {
            llama_layer *Ly = &m->layers[l];
            lbrx_tensor *t[LLAMA_LAYER_TENSORS];
            int64_t rows[9], cols[9];
            t[0] = &Ly->attn_norm; rows[0] = 0; cols[0] = c->dim;
            t[1] = &Ly->wq; rows[1] = (int64_t)qd; cols[1] = c->dim;
            t[2] = &Ly->wk; rows[2] = (int64_t)kvd; cols[2] = c->dim;
            t[3] = &Ly->wv; rows[3] = (int64_t)kvd; cols[3] = c->dim;
            t[4] = &Ly->wo; rows[4] = c->dim; cols[4] = (int64_t)qd;
            t[5] = &Ly->ffn_norm; rows[5] = 0; cols[5] = c->dim;
            t[6] = &Ly->w_gate; rows[6] = c->hidden_dim; cols[6] = c->dim;
            t[7] = &Ly->w_down; rows[7] = c->dim; cols[7] = c->hidden_dim;
            t[8] = &Ly->w_up; rows[8] = c->hidden_dim; cols[8] = c->dim;
            if ((r = llama_bin_tensor(t[k], s, &pos, rows[k], cols[k], err)) != LBRX_OK) goto done;
        }
    if ((r = llama_bin_tensor(&m->out_norm, s, &pos, 0, c->dim, err)) != LBRX_OK) goto done;
    pos += (uint64_t)c->seq_len * (uint64_t)c->head_dim * 4u; /* freq_cis_real and _imag, unused */
    if (shared) {
        m->output = m->embd;
        lbrx_storage_retain(m->output.storage);
    } else if ((r = llama_bin_tensor(&m->output, s, &pos, c->vocab_size, c->dim, err)) != LBRX_OK) {
        goto done;
    }
done:
    lbrx_storage_release(s); /* the tensors hold their own references */
    return r;
}

/* ============================================================================================
   The forward pass: a batch of tokens at consecutive positions through every layer
   ============================================================================================ */

typedef struct llama_state {
    lbrx_context *ctx;
    lbrx_kv_cache *kv;      /* one per layer; kv[0].n is the number of positions done */
    int max_batch;          /* most tokens per forward call */
    int n_ctx;              /* positions the cache holds */
    int hd_pad;             /* head width given to lbrx_attention (head_dim rounded up to 8) */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *qp, *kp, *vp, *attp, *logits;
    int logits_rows;        /* rows of logits the last forward call wrote (1 or its batch) */
} llama_state;

LLAMA_FN void llama_state_free(llama_state *s, const llama_model *m) {
    int l;
    if (s->kv)
        for (l = 0; l < m->c.n_layers; l++) lbrx_kv_cache_release(&s->kv[l]);
    free(s->kv);
    lbrx_free(0, s->x); lbrx_free(0, s->xb); lbrx_free(0, s->q); lbrx_free(0, s->k); lbrx_free(0, s->v);
    lbrx_free(0, s->att); lbrx_free(0, s->hb); lbrx_free(0, s->hb2); lbrx_free(0, s->qp); lbrx_free(0, s->kp);
    lbrx_free(0, s->vp); lbrx_free(0, s->attp); lbrx_free(0, s->logits);
    lbrx_context_destroy(s->ctx);
    memset(s, 0, sizeof *s);
}

LLAMA_FN float *llama_floats(int64_t a, int64_t b, int *ok) {
    size_t n;
    float *p;
    if (!lbrx_mul_size((size_t)a, (size_t)b, &n) || !lbrx_mul_size(n, sizeof(float), &n)) { *ok = 0; return 0; }
    p = (float *)lbrx_alloc(0, n, 64);
    if (!p) *ok = 0;
    return p;
}

/* Buffers for batches of up to max_batch tokens, a KV cache of n_ctx positions of kv_dtype
   (LBRX_F16 or LBRX_F32), all_logits: keep the logits of every row of a batch (else the last). */
LLAMA_FN lbrx_result llama_state_init(llama_state *s, const llama_model *m, int max_batch, int n_ctx, lbrx_dtype kv_dtype,
                                      int all_logits, int n_threads, lbrx_error *err) {
    const llama_config *c = &m->c;
    lbrx_context_desc cd;
    int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim, B = max_batch;
    int64_t wide = c->dim > qd ? c->dim : qd;
    int ok = 1, l;
    lbrx_result r;
    memset(s, 0, sizeof *s);
    if (max_batch < 1 || n_ctx < 1 || n_ctx > c->seq_len)
        return llama_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "batch %d / context %d (the model's context is %d)", max_batch, n_ctx, c->seq_len);
    memset(&cd, 0, sizeof cd);
    cd.n_threads = n_threads;
    if ((r = lbrx_context_create(&s->ctx, &cd, err)) != LBRX_OK) return r;
    s->max_batch = max_batch;
    s->n_ctx = n_ctx;
    s->hd_pad = (c->head_dim + 7) / 8 * 8;
    s->x = llama_floats(B, c->dim, &ok);
    s->xb = llama_floats(B, wide, &ok);
    s->q = llama_floats(B, qd, &ok);
    s->k = llama_floats(B, kvd, &ok);
    s->v = llama_floats(B, kvd, &ok);
    s->att = llama_floats(B, qd, &ok);
    s->hb = llama_floats(B, c->hidden_dim, &ok);
    s->hb2 = llama_floats(B, c->hidden_dim, &ok);
    s->logits = llama_floats(all_logits ? B : 1, c->vocab_size, &ok);
    if (s->hd_pad != c->head_dim) {
        s->qp = llama_floats(B * c->n_heads, s->hd_pad, &ok);
        s->kp = llama_floats(B * c->n_kv_heads, s->hd_pad, &ok);
        s->vp = llama_floats(B * c->n_kv_heads, s->hd_pad, &ok);
        s->attp = llama_floats(B * c->n_heads, s->hd_pad, &ok);
    }
    s->kv = (lbrx_kv_cache *)calloc((size_t)c->n_layers, sizeof(lbrx_kv_cache));
    if (!ok || !s->kv) { llama_state_free(s, m); return llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory for activations"); }
    for (l = 0; l < c->n_layers; l++)
        if ((r = lbrx_kv_cache_init(&s->kv[l], kv_dtype, n_ctx, c->n_kv_heads, s->hd_pad, 0, err)) != LBRX_OK) {
            llama_state_free(s, m);
            return r;
        }
    return LBRX_OK;
}

/* A tensor over a float buffer: [a, b] or, with c > 0, [a, b, c]. */
LLAMA_FN lbrx_tensor llama_view(float *p, int64_t a, int64_t b, int64_t c) {
    lbrx_tensor t;
    int64_t shape[3];
    shape[0] = a; shape[1] = b; shape[2] = c;
    lbrx_tensor_from_ptr(&t, LBRX_F32, c > 0 ? 3 : 2, shape, p, 0);
    return t;
}

/* Copy rows of heads of width hd into heads of width hdp (zero-filled), or back (unpad). */
LLAMA_FN void llama_pad_heads(const float *src, float *dst, int64_t n_heads_rows, int hd, int hdp, int unpad) {
    int64_t i;
    for (i = 0; i < n_heads_rows; i++) {
        if (unpad) {
            memcpy(dst + i * hd, src + i * hdp, (size_t)hd * sizeof(float));
        } else {
            memcpy(dst + i * hdp, src + i * hd, (size_t)hd * sizeof(float));
            memset(dst + i * hdp + hd, 0, (size_t)(hdp - hd) * sizeof(float));
        }
    }
}

#define LLAMA_TRY(e) do { lbrx_result r_ = (e); if (r_ != LBRX_OK) return r_; } while (0)

/* Run n tokens (n <= max_batch) at the next n positions of the cache. Afterwards s->logits holds
   the logits of the last token, or of all n tokens (row-major) if the state keeps all. */
LLAMA_FN lbrx_result llama_forward(const llama_model *m, llama_state *s, const int32_t *tokens, int n, int all_logits,
                                   lbrx_error *err) {
    const llama_config *c = &m->c;
    int64_t qd = (int64_t)c->n_heads * c->head_dim, kvd = (int64_t)c->n_kv_heads * c->head_dim;
    int64_t pos = s->kv[0].n;
    int hd = c->head_dim, hdp = s->hd_pad, l;
    lbrx_tensor x = llama_view(s->x, n, c->dim, 0), xb = llama_view(s->xb, n, c->dim, 0);
    lbrx_tensor q = llama_view(s->q, n, c->n_heads, hd), k = llama_view(s->k, n, c->n_kv_heads, hd);
    lbrx_tensor v = llama_view(s->v, n, c->n_kv_heads, hd), att = llama_view(s->att, n, c->n_heads, hd);
    lbrx_tensor q2 = llama_view(s->q, n, qd, 0), k2 = llama_view(s->k, n, kvd, 0), v2 = llama_view(s->v, n, kvd, 0);
    lbrx_tensor att2 = llama_view(s->att, n, qd, 0);
    lbrx_tensor hb = llama_view(s->hb, n, c->hidden_dim, 0), hb2 = llama_view(s->hb2, n, c->hidden_dim, 0);
    lbrx_tensor qa = q, ka = k, va = v, atta = att, xl, xbl, logits;
    lbrx_rope_desc rd;
    lbrx_attention_desc ad;
    if (n < 1 || n > s->max_batch || pos + n > s->n_ctx)
        return llama_errorf(err, LBRX_ERR_LIMIT, "%d tokens at position %lld do not fit (batch %d, context %d)", n, (long long)pos, s->max_batch, s->n_ctx);
    if (hdp != hd) {
        qa = llama_view(s->qp, n, c->n_heads, hdp); ka = llama_view(s->kp, n, c->n_kv_heads, hdp);
        va = llama_view(s->vp, n, c->n_kv_heads, hdp); atta = llama_view(s->attp, n, c->n_heads, hdp);
    }
    memset(&rd, 0, sizeof rd);
    rd.mode = c->rope_neox ? LBRX_ROPE_NEOX : LBRX_ROPE_INTERLEAVED;
    rd.n_dims = c->rope_dim;
    rd.freq_base = c->rope_base;
    rd.pos_offset = pos;
    memset(&ad, 0, sizeof ad);
    ad.causal = 1;
    ad.scale = (float)(1.0 / sqrt((double)hd));
    LLAMA_TRY(lbrx_embedding(s->ctx, &m->embd, tokens, n, &x, err));
    for (l = 0; l < c->n_layers; l++) {
        const llama_layer *L = &m->layers[l];
        lbrx_tensor kc, vc;
        lbrx_result r;
        LLAMA_TRY(lbrx_rms_norm(s->ctx, &x, &L->attn_norm, c->norm_eps, &xb, err));
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->wq, &xb, &q2, err));
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->wk, &xb, &k2, err));
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->wv, &xb, &v2, err));
        LLAMA_TRY(lbrx_rope(s->ctx, &q, &rd, &q, err));
        LLAMA_TRY(lbrx_rope(s->ctx, &k, &rd, &k, err));
        if (hdp != hd) {
            llama_pad_heads(s->q, s->qp, (int64_t)n * c->n_heads, hd, hdp, 0);
            llama_pad_heads(s->k, s->kp, (int64_t)n * c->n_kv_heads, hd, hdp, 0);
            llama_pad_heads(s->v, s->vp, (int64_t)n * c->n_kv_heads, hd, hdp, 0);
        }
        LLAMA_TRY(lbrx_kv_cache_append(&s->kv[l], &ka, &va, err));
        LLAMA_TRY(lbrx_kv_cache_view(&s->kv[l], &kc, &vc, err));
        r = lbrx_attention(s->ctx, &qa, &kc, &vc, &ad, &atta, err);
        lbrx_tensor_release(&kc);
        lbrx_tensor_release(&vc);
        if (r != LBRX_OK) return r;
        if (hdp != hd) llama_pad_heads(s->attp, s->att, (int64_t)n * c->n_heads, hd, hdp, 1);
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->wo, &att2, &xb, err));
        LLAMA_TRY(lbrx_add(s->ctx, &x, &xb, &x, err));
        LLAMA_TRY(lbrx_rms_norm(s->ctx, &x, &L->ffn_norm, c->norm_eps, &xb, err));
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->w_gate, &xb, &hb, err));
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->w_up, &xb, &hb2, err));
        LLAMA_TRY(lbrx_swiglu(s->ctx, &hb, &hb2, &hb, err));
        LLAMA_TRY(lbrx_matmul(s->ctx, &L->w_down, &hb, &xb, err));
        LLAMA_TRY(lbrx_add(s->ctx, &x, &xb, &x, err));
    }
    /* only the rows whose logits are wanted go through the output layer */
    s->logits_rows = all_logits ? n : 1;
    xl = llama_view(s->x + (int64_t)(n - s->logits_rows) * c->dim, s->logits_rows, c->dim, 0);
    xbl = llama_view(s->xb, s->logits_rows, c->dim, 0);
    logits = llama_view(s->logits, s->logits_rows, c->vocab_size, 0);
    LLAMA_TRY(lbrx_rms_norm(s->ctx, &xl, &m->out_norm, c->norm_eps, &xbl, err));
    LLAMA_TRY(lbrx_matmul(s->ctx, &m->output, &xbl, &logits, err));
    return LBRX_OK;
}

/* ============================================================================================
   Loaders: GGUF (llama architecture) and Hugging Face checkpoints (config.json + safetensors)
   ============================================================================================ */

/* An integer hyper-parameter in [lo, hi]; missing keys give def, or an error when def < 0. */
LLAMA_FN lbrx_result llama_gguf_int(const lbrx_gguf *g, const char *key, int64_t def, int64_t lo, int64_t hi, int *out,
                                    lbrx_error *err) {
    int64_t v = 0;
    lbrx_result r = lbrx_gguf_get_int(g, key, &v, err);
    if (r == LBRX_ERR_NOT_FOUND && def >= 0) v = def;
    else if (r == LBRX_ERR_NOT_FOUND) return llama_errorf(err, r, "metadata %s is missing", key);
    else if (r != LBRX_OK) return r;
    if (v < lo || v > hi) return llama_errorf(err, LBRX_ERR_BAD_VALUE, "metadata %s = %lld (must be %lld..%lld)", key, (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return LBRX_OK;
}

/* An optional f32 hyper-parameter (def when missing). */
LLAMA_FN lbrx_result llama_gguf_f32(const lbrx_gguf *g, const char *key, float def, float *out, lbrx_error *err) {
    lbrx_result r = lbrx_gguf_get_f32(g, key, out, err);
    if (r == LBRX_ERR_NOT_FOUND) { *out = def; return LBRX_OK; }
    return r;
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
        return llama_errorf(err, LBRX_ERR_SIZE_MISMATCH, "tokenizer: %llu tokens but %llu scores and %llu token types",
                            (unsigned long long)n, (unsigned long long)ns, (unsigned long long)(types ? nt : n));
    if (n == 0 || n > LLAMA_MAX_VOCAB) return llama_errorf(err, LBRX_ERR_BAD_VALUE, "tokenizer: %llu tokens (must be 1..%d)", (unsigned long long)n, LLAMA_MAX_VOCAB);
    for (i = 0; i < n; i++) {
        if (toks[i].len > LLAMA_MAX_PIECE)
            return llama_errorf(err, LBRX_ERR_LIMIT, "tokenizer: token %llu has a piece of %llu bytes (limit %d)", (unsigned long long)i, (unsigned long long)toks[i].len, LLAMA_MAX_PIECE);
        if (!lbrx_add_size(total, (size_t)toks[i].len, &total)) return llama_errorf(err, LBRX_ERR_OVERFLOW, "tokenizer: piece bytes overflow");
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

/* A tensor of a GGUF file by name into *t (a new reference); a missing one is left zeroed when
   optional, else an error. */
LLAMA_FN lbrx_result llama_gguf_tensor(const lbrx_gguf *g, const char *name, lbrx_tensor *t, int optional, lbrx_error *err) {
    lbrx_result r = lbrx_gguf_get_tensor(g, name, t, err);
    if (r == LBRX_ERR_NOT_FOUND) {
        memset(t, 0, sizeof *t);
        return optional ? LBRX_OK : llama_errorf(err, r, "tensor %s is missing", name);
    }
    if (r == LBRX_OK) t->name = 0; /* the name dies with the file's index */
    return r;
}

/* Load a GGUF file of architecture "llama": hyper-parameters, tokenizer, tensors (mapped). */
LLAMA_FN lbrx_result llama_load_gguf(llama_model *m, const char *path, lbrx_error *err) {
    lbrx_gguf *g = 0;
    llama_config *c = &m->c;
    lbrx_gguf_str arch, st;
    int key_len = 0, l, i;
    char name[96];
    lbrx_result r = lbrx_gguf_open(&g, path, 0, err);
    if (r != LBRX_OK) return r;
    m->format = "gguf";
    m->file_bytes = lbrx_storage_size(lbrx_gguf_storage(g));
    if ((r = lbrx_gguf_get_str(g, "general.architecture", &arch, err)) != LBRX_OK) goto done;
    if (!(arch.len == 5 && !memcmp(arch.data, "llama", 5))) {
        r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "general.architecture is \"%.*s\", only \"llama\" is supported", (int)(arch.len < 64 ? arch.len : 64), arch.data);
        goto done;
    }
    if ((r = llama_gguf_int(g, "llama.embedding_length", -1, 1, LLAMA_MAX_DIM, &c->dim, err)) != LBRX_OK ||
        (r = llama_gguf_int(g, "llama.feed_forward_length", -1, 1, LLAMA_MAX_DIM, &c->hidden_dim, err)) != LBRX_OK ||
        (r = llama_gguf_int(g, "llama.block_count", -1, 1, LLAMA_MAX_LAYERS, &c->n_layers, err)) != LBRX_OK ||
        (r = llama_gguf_int(g, "llama.attention.head_count", -1, 1, LLAMA_MAX_DIM, &c->n_heads, err)) != LBRX_OK ||
        (r = llama_gguf_int(g, "llama.attention.head_count_kv", c->n_heads, 1, LLAMA_MAX_DIM, &c->n_kv_heads, err)) != LBRX_OK ||
        (r = llama_gguf_int(g, "llama.context_length", -1, 1, LLAMA_MAX_CTX, &c->seq_len, err)) != LBRX_OK ||
        (r = llama_gguf_int(g, "llama.attention.key_length", 0, 0, LLAMA_MAX_DIM, &key_len, err)) != LBRX_OK)
        goto done;
    if (key_len) {
        c->head_dim = key_len;
    } else if (c->dim % c->n_heads) {
        r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "llama.embedding_length %d is not a multiple of llama.attention.head_count %d", c->dim, c->n_heads);
        goto done;
    } else {
        c->head_dim = c->dim / c->n_heads;
    }
    if ((r = llama_gguf_int(g, "llama.rope.dimension_count", c->head_dim, 1, LLAMA_MAX_DIM, &c->rope_dim, err)) != LBRX_OK ||
        (r = llama_gguf_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &c->norm_eps, err)) != LBRX_OK ||
        (r = llama_gguf_f32(g, "llama.rope.freq_base", 10000.0f, &c->rope_base, err)) != LBRX_OK)
        goto done;
    if (lbrx_gguf_get_str(g, "llama.rope.scaling.type", &st, 0) == LBRX_OK && !(st.len == 4 && !memcmp(st.data, "none", 4))) {
        r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "llama.rope.scaling.type \"%.*s\" is not supported", (int)(st.len < 64 ? st.len : 64), st.data);
        goto done;
    }
    c->rope_neox = 0; /* GGUF llama: Q and K rows are permuted for interleaved pairs */
    c->vocab_size = 1; /* checked against the tokenizer and token_embd below */
    if ((r = llama_check_config(c, err)) != LBRX_OK) goto done;
    if ((r = llama_tokenizer_load_gguf(&m->tok, g, err)) != LBRX_OK) goto done;
    if ((r = llama_alloc_layers(m, err)) != LBRX_OK) goto done;
    if ((r = llama_gguf_tensor(g, "token_embd.weight", &m->embd, 0, err)) != LBRX_OK ||
        (r = llama_gguf_tensor(g, "output_norm.weight", &m->out_norm, 0, err)) != LBRX_OK ||
        (r = llama_gguf_tensor(g, "output.weight", &m->output, 1, err)) != LBRX_OK)
        goto done;
    if (!m->output.data) { /* tied output layer */
        m->output = m->embd;
        lbrx_storage_retain(m->output.storage);
    }
    /* the vocabulary: llama.vocab_size, else the tokenizer's, else token_embd's rows; all that
       exist must agree (checked in llama_model_finish) */
    c->vocab_size = m->tok.n_vocab ? m->tok.n_vocab : (m->embd.ndim == 2 && m->embd.shape[0] <= LLAMA_MAX_VOCAB ? (int)m->embd.shape[0] : 0);
    if ((r = llama_gguf_int(g, "llama.vocab_size", c->vocab_size, 1, LLAMA_MAX_VOCAB, &c->vocab_size, err)) != LBRX_OK) goto done;
    for (l = 0; l < c->n_layers; l++) {
        llama_layer *L = &m->layers[l];
        lbrx_tensor *t[LLAMA_LAYER_TENSORS];
        static const char *what[LLAMA_LAYER_TENSORS] = { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" };
        llama_layer_slots(L, t);
        for (i = 0; i < LLAMA_LAYER_TENSORS; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, what[i]);
            if ((r = llama_gguf_tensor(g, name, t[i], 0, err)) != LBRX_OK) goto done;
        }
    }
done:
    lbrx_gguf_close(g); /* the tensors hold their own storage references */
    return r;
}

/* A member of config.json as an integer in [lo, hi]; missing or null gives def, or an error
   when def < 0. */
LLAMA_FN lbrx_result llama_json_int(const lbrx_json_value *cfg, const char *key, int64_t def, int64_t lo, int64_t hi, int *out,
                                    lbrx_error *err) {
    const lbrx_json_value *v = lbrx_json_get(cfg, key);
    int64_t x;
    if (!v || lbrx_json_type_of(v) == LBRX_JSON_NULL) {
        if (def < 0) return llama_errorf(err, LBRX_ERR_NOT_FOUND, "config.json: %s is missing", key);
        x = def;
    } else if (lbrx_json_i64(v, &x) != LBRX_OK) {
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "config.json: %s is not an integer (byte %llu)", key, (unsigned long long)lbrx_json_offset(v));
    }
    if (x < lo || x > hi) return llama_errorf(err, LBRX_ERR_BAD_VALUE, "config.json: %s = %lld (must be %lld..%lld)", key, (long long)x, (long long)lo, (long long)hi);
    *out = (int)x;
    return LBRX_OK;
}

/* A number member of config.json (def when missing or null). */
LLAMA_FN lbrx_result llama_json_float(const lbrx_json_value *obj, const char *key, double def, float *out, lbrx_error *err) {
    const lbrx_json_value *v = lbrx_json_get(obj, key);
    double x = def;
    if (v && lbrx_json_type_of(v) != LBRX_JSON_NULL && lbrx_json_f64(v, &x) != LBRX_OK)
        return llama_errorf(err, LBRX_ERR_BAD_VALUE, "config.json: %s is not a number (byte %llu)", key, (unsigned long long)lbrx_json_offset(v));
    *out = (float)x;
    return LBRX_OK;
}

/* 1 if member `key` of obj is the string s. */
LLAMA_FN int llama_json_is(const lbrx_json_value *obj, const char *key, const char *s) {
    const char *v = lbrx_json_string(lbrx_json_get(obj, key), 0);
    return v && !strcmp(v, s);
}

/* A tensor of a safetensors checkpoint by name (a new reference), or an error naming it; a
   missing optional one is left zeroed. */
LLAMA_FN lbrx_result llama_st_tensor(const lbrx_safetensors *st, const char *name, lbrx_tensor *t, int optional, lbrx_error *err) {
    const lbrx_tensor *f = lbrx_safetensors_find(st, name, 0);
    memset(t, 0, sizeof *t);
    if (!f) return optional ? LBRX_OK : llama_errorf(err, LBRX_ERR_NOT_FOUND, "tensor %s is missing", name);
    *t = *f;
    t->name = 0; /* the name dies with the header */
    lbrx_storage_retain(t->storage);
    return LBRX_OK;
}

/* Read a whole small file (config.json) into a malloc'ed buffer. */
LLAMA_FN lbrx_result llama_read_file(const char *path, char **out, size_t *len, lbrx_error *err) {
    lbrx_storage *s = 0;
    lbrx_result r = lbrx_storage_map_file(&s, path, 0, err);
    if (r != LBRX_OK) return r;
    *len = lbrx_storage_size(s);
    *out = (char *)malloc(*len + 1);
    if (*out) {
        memcpy(*out, lbrx_storage_data(s), *len);
        (*out)[*len] = 0;
    }
    lbrx_storage_release(s);
    return *out ? LBRX_OK : llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
}

/* 1 if path names an existing file. */
LLAMA_FN int llama_file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != 0;
}

/* Load a Hugging Face Llama checkpoint: `path` is its directory (config.json beside
   model.safetensors or model.safetensors.index.json) or the path of the .safetensors / index
   file. HF checkpoints rotate half-split pairs (NeoX RoPE). */
LLAMA_FN lbrx_result llama_load_hf(llama_model *m, const char *path, lbrx_error *err) {
    char dir[4096], file[4200], name[128];
    char *text = 0;
    size_t len = 0, plen = strlen(path);
    lbrx_json *doc = 0;
    const lbrx_json_value *cfg, *rp, *sc;
    lbrx_safetensors *st = 0;
    llama_config *c = &m->c;
    int tied = 0, l, i;
    lbrx_result r;
    m->format = "safetensors";
    if (plen >= sizeof dir) return llama_errorf(err, LBRX_ERR_LIMIT, "path too long");
    memcpy(dir, path, plen + 1);
    if ((plen > 12 && !strcmp(path + plen - 12, ".safetensors")) || (plen > 5 && !strcmp(path + plen - 5, ".json"))) {
        char *slash = strrchr(dir, '/');
        snprintf(file, sizeof file, "%s", path);
        if (slash) *slash = 0; else strcpy(dir, ".");
    } else {
        snprintf(file, sizeof file, "%s/model.safetensors.index.json", dir);
        if (!llama_file_exists(file)) snprintf(file, sizeof file, "%s/model.safetensors", dir);
    }
    {
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/config.json", dir);
        if ((r = llama_read_file(cpath, &text, &len, err)) != LBRX_OK) return r;
    }
    if ((r = lbrx_json_parse(&doc, text, len, 0, 0, err)) != LBRX_OK) goto done;
    cfg = lbrx_json_root(doc);
    if (lbrx_json_type_of(cfg) != LBRX_JSON_OBJECT) { r = llama_errorf(err, LBRX_ERR_BAD_HEADER, "config.json is not an object"); goto done; }
    if (!llama_json_is(cfg, "model_type", "llama")) { r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "config.json: model_type is not \"llama\""); goto done; }
    if (lbrx_json_get(cfg, "hidden_act") && !llama_json_is(cfg, "hidden_act", "silu")) { r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "config.json: hidden_act is not \"silu\""); goto done; }
    for (i = 0; i < 2; i++) {
        const char *k = i ? "mlp_bias" : "attention_bias";
        int b = 0;
        if (lbrx_json_get(cfg, k) && (lbrx_json_bool(lbrx_json_get(cfg, k), &b) != LBRX_OK || b)) { r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "config.json: %s is not false", k); goto done; }
    }
    if ((r = llama_json_int(cfg, "hidden_size", -1, 1, LLAMA_MAX_DIM, &c->dim, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "intermediate_size", -1, 1, LLAMA_MAX_DIM, &c->hidden_dim, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "num_hidden_layers", -1, 1, LLAMA_MAX_LAYERS, &c->n_layers, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "num_attention_heads", -1, 1, LLAMA_MAX_DIM, &c->n_heads, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "num_key_value_heads", c->n_heads, 1, LLAMA_MAX_DIM, &c->n_kv_heads, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "vocab_size", -1, 1, LLAMA_MAX_VOCAB, &c->vocab_size, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "max_position_embeddings", -1, 1, LLAMA_MAX_CTX, &c->seq_len, err)) != LBRX_OK ||
        (r = llama_json_int(cfg, "head_dim", 0, 0, LLAMA_MAX_DIM, &c->head_dim, err)) != LBRX_OK ||
        (r = llama_json_float(cfg, "rms_norm_eps", 1e-6, &c->norm_eps, err)) != LBRX_OK)
        goto done;
    if (!c->head_dim) {
        if (c->dim % c->n_heads) { r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "config.json: hidden_size %d is not a multiple of num_attention_heads %d", c->dim, c->n_heads); goto done; }
        c->head_dim = c->dim / c->n_heads;
    }
    c->rope_dim = c->head_dim;
    c->rope_neox = 1;
    /* rope_theta at the top (transformers 4) or in rope_parameters (transformers 5) */
    rp = lbrx_json_get(cfg, "rope_parameters");
    if ((r = llama_json_float(cfg, "rope_theta", 10000.0, &c->rope_base, err)) != LBRX_OK) goto done;
    if (lbrx_json_type_of(rp) == LBRX_JSON_OBJECT && (r = llama_json_float(rp, "rope_theta", c->rope_base, &c->rope_base, err)) != LBRX_OK) goto done;
    for (i = 0; i < 2; i++) {
        sc = i ? rp : lbrx_json_get(cfg, "rope_scaling");
        if (lbrx_json_type_of(sc) == LBRX_JSON_OBJECT && !llama_json_is(sc, "rope_type", "default") && !llama_json_is(sc, "type", "default")) {
            r = llama_errorf(err, LBRX_ERR_UNSUPPORTED, "config.json: RoPE scaling is not supported");
            goto done;
        }
    }
    if ((r = llama_check_config(c, err)) != LBRX_OK) goto done;
    if (lbrx_json_get(cfg, "tie_word_embeddings") && lbrx_json_bool(lbrx_json_get(cfg, "tie_word_embeddings"), &tied) != LBRX_OK) {
        r = llama_errorf(err, LBRX_ERR_BAD_VALUE, "config.json: tie_word_embeddings is not a boolean");
        goto done;
    }
    if ((r = lbrx_safetensors_open(&st, file, 0, err)) != LBRX_OK) goto done;
    {   /* bytes of all shards: the storage of the first tensor of each */
        size_t n = lbrx_safetensors_count(st), ns = lbrx_safetensors_shard_count(st), k, seen_upto = 0;
        for (k = 0; k < n; k++)
            if (lbrx_safetensors_tensor_shard(st, k) == seen_upto && seen_upto < ns) {
                m->file_bytes += lbrx_storage_size(lbrx_safetensors_tensor(st, k)->storage);
                seen_upto++;
            }
    }
    if ((r = llama_alloc_layers(m, err)) != LBRX_OK) goto done;
    if ((r = llama_st_tensor(st, "model.embed_tokens.weight", &m->embd, 0, err)) != LBRX_OK ||
        (r = llama_st_tensor(st, "model.norm.weight", &m->out_norm, 0, err)) != LBRX_OK ||
        (r = llama_st_tensor(st, "lm_head.weight", &m->output, tied, err)) != LBRX_OK)
        goto done;
    if (!m->output.data) {
        m->output = m->embd;
        lbrx_storage_retain(m->output.storage);
    }
    for (l = 0; l < c->n_layers; l++) {
        llama_layer *L = &m->layers[l];
        lbrx_tensor *t[LLAMA_LAYER_TENSORS];
        static const char *what[LLAMA_LAYER_TENSORS] = { "input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                       "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" };
        llama_layer_slots(L, t);
        for (i = 0; i < LLAMA_LAYER_TENSORS; i++) {
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, what[i]);
            if ((r = llama_st_tensor(st, name, t[i], 0, err)) != LBRX_OK) goto done;
        }
    }
done:
    lbrx_safetensors_close(st);
    lbrx_json_free(doc);
    free(text);
    return r;
}

/* Load any of the three kinds of model (see the top of this file) and validate it all.
   tok_path: a llama2.c tok.bin for a llama2.c checkpoint, or NULL. */
LLAMA_FN lbrx_result llama_load(llama_model *m, const char *path, const char *tok_path, lbrx_error *err) {
    char probe[4200];
    unsigned char magic[4] = { 0, 0, 0, 0 };
    size_t plen = strlen(path);
    lbrx_result r;
    FILE *f;
    memset(m, 0, sizeof *m);
    snprintf(probe, sizeof probe, "%s/config.json", path);
    if (llama_file_exists(probe) || (plen > 12 && !strcmp(path + plen - 12, ".safetensors")) || (plen > 5 && !strcmp(path + plen - 5, ".json"))) {
        r = llama_load_hf(m, path, err);
    } else {
        f = fopen(path, "rb");
        if (!f) return llama_errorf(err, LBRX_ERR_NOT_FOUND, "%s: cannot open", path);
        if (fread(magic, 1, 4, f) != 4) magic[0] = 0;
        fclose(f);
        if (!memcmp(magic, "GGUF", 4)) r = llama_load_gguf(m, path, err);
        else r = llama_load_bin(m, path, err);
    }
    if (r == LBRX_OK && tok_path) {
        if (strcmp(m->format, "llama2.c")) r = llama_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "-z is for llama2.c checkpoints; this %s model has its own tokenizer", m->format);
        else r = llama_tokenizer_load_bin(&m->tok, tok_path, m->c.vocab_size, err);
    }
    if (r == LBRX_OK) r = llama_model_finish(m, err);
    if (r != LBRX_OK) llama_model_free(m);
    return r;
}

/* Parse a prompt of token ids ("1 450 4996", any whitespace) into *out (malloc'ed). */
LLAMA_FN lbrx_result llama_parse_ids(const char *s, int n_vocab, int **out, int *n_out, lbrx_error *err) {
    size_t cap = strlen(s) / 2 + 1;
    int *ids = (int *)malloc(cap * sizeof(int)), n = 0;
    *out = 0;
    *n_out = 0;
    if (!ids) return llama_errorf(err, LBRX_ERR_OUT_OF_MEMORY, "out of memory");
    while (*s) {
        char *end;
        long v;
        while (isspace((unsigned char)*s)) s++;
        if (!*s) break;
        v = strtol(s, &end, 10);
        if (end == s || (*end && !isspace((unsigned char)*end)) || v < 0 || v >= n_vocab) {
            free(ids);
            return llama_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "the prompt must be token ids in 0..%d for a model without a tokenizer", n_vocab - 1);
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
LLAMA_FN void llama_emit(const llama_model *m, FILE *out, int prev, int tok) {
    if (m->tok.n_vocab) {
        char b;
        size_t len;
        const char *p = llama_token_text(&m->tok, prev, tok, &len, &b);
        llama_print_piece(out, p, len);
    } else {
        fprintf(out, prev < 0 ? "%d" : " %d", tok);
    }
    fflush(out);
}

/* run.c's loop over `steps` positions: the prompt tokens (the first `steps` of them) go through
   as one batch (in chunks of the state's max_batch), then each sampled token is run at the next
   position until `steps` positions are done or BOS/EOS comes (with a tokenizer). Text goes to
   out (may be NULL), logits of every position run to logits_f (may be NULL; the state must keep
   all logits then). */
LLAMA_FN lbrx_result llama_generate(const llama_model *m, llama_state *s, llama_sampler *smp, const int *prompt, int n_prompt,
                                    int steps, FILE *out, FILE *logits_f, llama_stats *st, lbrx_error *err) {
    int n_run = n_prompt < steps ? n_prompt : steps, i, token, next, pos;
    size_t V = (size_t)m->c.vocab_size;
    double t0;
    lbrx_result r;
    memset(st, 0, sizeof *st);
    if (n_prompt < 1) return llama_errorf(err, LBRX_ERR_INVALID_ARGUMENT, "empty prompt");
    if (out) {
        if (!m->tok.n_vocab) llama_emit(m, out, -1, prompt[0]);
        for (i = 1; i <= n_run && i < n_prompt; i++) llama_emit(m, out, prompt[i - 1], prompt[i]);
    }
    t0 = llama_now();
    for (i = 0; i < n_run; i += s->max_batch) {
        int n = n_run - i < s->max_batch ? n_run - i : s->max_batch;
        if ((r = llama_forward(m, s, prompt + i, n, logits_f != 0, err)) != LBRX_OK) return r;
        if (logits_f && fwrite(s->logits, sizeof(float) * V, (size_t)n, logits_f) != (size_t)n)
            return llama_errorf(err, LBRX_ERR_IO, "cannot write the logits");
    }
    st->n_prompt = n_run;
    st->prompt_s = llama_now() - t0;
    if (n_prompt > steps) return LBRX_OK;
    t0 = llama_now();
    token = prompt[n_prompt - 1];
    pos = n_run;
    for (;;) {
        next = llama_sample(smp, s->logits + (size_t)(s->logits_rows - 1) * V);
        if (m->tok.n_vocab && (next == m->tok.bos || next == m->tok.eos)) break;
        if (out) llama_emit(m, out, token, next);
        token = next;
        if (pos >= steps) break;
        if ((r = llama_forward(m, s, &token, 1, logits_f != 0, err)) != LBRX_OK) return r;
        if (logits_f && fwrite(s->logits, sizeof(float), V, logits_f) != V) return llama_errorf(err, LBRX_ERR_IO, "cannot write the logits");
        pos++;
        st->n_gen++;
    }
    st->gen_s = llama_now() - t0;
    return LBRX_OK;
}

LLAMA_FN void llama_usage(FILE *log) {
    fprintf(log,
            "usage: llama MODEL [options]\n"
            "  MODEL            a GGUF file (llama), a llama2.c .bin, or a Hugging Face checkpoint directory\n"
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
    llama_model m;
    llama_state s;
    llama_sampler smp;
    llama_stats st;
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
    t0 = llama_now();
    if ((r = llama_load(&m, model_path, tok_path, &err)) != LBRX_OK) {
        fprintf(log, "error: %s: %s\n", model_path, err.message);
        return 1;
    }
    fprintf(log, "%s: %s, %d layers, dim %d, %d heads (%d KV), vocab %d, context %d, %.1f MB of weights; loaded in %.1f ms\n",
            model_path, m.format, m.c.n_layers, m.c.dim, m.c.n_heads, m.c.n_kv_heads, m.c.vocab_size, m.c.seq_len,
            (double)m.weight_bytes / 1e6, (llama_now() - t0) * 1e3);
    if (steps == 0 || steps > m.c.seq_len) steps = m.c.seq_len;
    r = m.tok.n_vocab ? llama_encode(&m.tok, prompt, 1, &ids, &n_prompt, &err) : llama_parse_ids(prompt, m.c.vocab_size, &ids, &n_prompt, &err);
    if (r == LBRX_OK && n_prompt == 0) r = llama_errorf(&err, LBRX_ERR_INVALID_ARGUMENT, "empty prompt (a model without a tokenizer needs token ids)");
    if (r != LBRX_OK) {
        fprintf(log, "error: %s\n", err.message);
        llama_model_free(&m);
        free(ids);
        return 1;
    }
    batch = n_prompt < steps ? n_prompt : steps;
    if (batch > 512) batch = 512;
    if (logits_path && !(lf = fopen(logits_path, "wb"))) {
        fprintf(log, "error: %s: cannot create\n", logits_path);
        llama_model_free(&m);
        free(ids);
        return 1;
    }
    r = llama_state_init(&s, &m, batch, steps, kv, lf != 0, n_threads, &err);
    if (r == LBRX_OK) {
        r = llama_sampler_init(&smp, m.c.vocab_size, temperature, topp, seed, &err);
        if (r == LBRX_OK) {
            r = llama_generate(&m, &s, &smp, ids, n_prompt, steps, out, lf, &st, &err);
            llama_sampler_free(&smp);
        }
        llama_state_free(&s, &m);
    }
    fputc('\n', out);
    fflush(out);
    if (lf && fclose(lf) != 0 && r == LBRX_OK) r = llama_errorf(&err, LBRX_ERR_IO, "%s: write failed", logits_path);
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
    llama_model_free(&m);
    return r == LBRX_OK ? 0 : 1;
}

#ifndef LLAMA_NO_MAIN
int main(int argc, char **argv) { return llama_main(argc, argv, stdout, stderr); }
#endif
