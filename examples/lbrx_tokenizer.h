/* lbrx_tokenizer.h - text <-> token ids for the lbrx examples. Part of lbrx; public domain or MIT
   (see lbrx.h).

   DO THIS in exactly one C or C++ file:  #define LBRX_TOKENIZER_IMPLEMENTATION  (or LBRX_IMPL)
                                          #include "lbrx_tokenizer.h"
   It needs lbrx.h, lbrx_gguf.h and lbrx_safetensors.h (its JSON reader) from the repository root
   (build with -I.), implemented in the same or another file of the program.

   QUICK START

       lbrx_tokenizer tok; lbrx_error err; int32_t *ids; size_t n, i, len;
       if (lbrx_tokenizer_init_file(&tok, "model.gguf", &err) != LBRX_OK) {   // or tokenizer.json
           fprintf(stderr, "error: %s\n", err.message); return 1;
       }
       fprintf(stderr, "tokenizer: %s\n", lbrx_tokenizer_describe(&tok));
       if (lbrx_tokenizer_encode(&tok, text, strlen(text), LBRX_ENCODE_BOS, &ids, &n, &err) != LBRX_OK) ...
       for (i = 0; i < n; i++) {                                        // text back, one id at a time
           const char *p = lbrx_tokenizer_decode(&tok, i ? ids[i - 1] : -1, ids[i], &len);
           fwrite(p, 1, len, stdout);
       }
       free(ids);
       lbrx_tokenizer_release(&tok);

   A model's GGUF file already open: lbrx_tokenizer_init_gguf(&tok, g, &err) (LBRX_ERR_NOT_FOUND
   when it has no tokenizer, LBRX_ERR_UNSUPPORTED for a kind not implemented: say so and go on
   with token ids). A llama2.c checkpoint: lbrx_tokenizer_init_llama2c(&tok, "tok.bin", n_vocab).

   KINDS (one interface; tok.kind says which)

     LBRX_TOKENIZER_SPM  SentencePiece BPE over scored pieces with byte fallback: GGUF
                         tokenizer.ggml.model = "llama" (Llama 1/2, Mistral, Phi-3, ...) and
                         llama2.c's tok.bin. A space goes in front of the text (add_space_prefix).
     LBRX_TOKENIZER_BPE  BPE over ranked merges. Byte-level (GPT-2 style): GGUF model "gpt2" with
                         tokenizer.ggml.merges, or a Hugging Face tokenizer.json whose
                         pre-tokenizer is ByteLevel; the text is first cut into pieces by the
                         pre-tokenizer named by tokenizer.ggml.pre (see lbrx__tok_pres below:
                         default, gpt-2, llama-bpe, qwen2, deepseek-r1-qwen, deepseek-llm,
                         deepseek-coder, falcon, mpt, starcoder, refact, command-r, smollm, ...)
                         or given by the tokenizer.json's Split regexes (recognised by their text,
                         no regex engine: each known pattern is a hand-written matcher over
                         Unicode classes generated into this file). Or Metaspace (SentencePiece
                         style tokenizer.json: '▁' for spaces, byte fallback).
     LBRX_TOKENIZER_WPM  WordPiece (BERT): GGUF tokenizer.ggml.model = "bert", whose tokens that
                         start a word begin with '▁' (llama.cpp's convert strips "##" from the
                         others). The text is normalized per code point (first code point of
                         its NFD decomposition, lowercased, combining marks dropped: accents go;
                         tokenizer.ggml.normalizer.lowercase / .strip_accents false keep case /
                         accents), split at White_Space, and punctuation, ASCII symbols and CJK
                         ideographs become words of their own; controls, U+FFFD and invalid
                         UTF-8 bytes are dropped. Each word takes the longest vocabulary entry
                         first, left to right; a word with a part no entry matches is one [UNK].
                         Lossy: decoding gives the normalized words, each with a space in front.

   ENCODING. lbrx_tokenizer_encode takes any bytes (invalid UTF-8 and NULs included; a byte that
   is not valid UTF-8 is a character of its own class "other"). Special tokens are cut out of the
   text before pre-tokenization, leftmost-longest: user-defined ones always, control ones
   (BOS, <|im_start|>, ...) only with LBRX_ENCODE_SPECIAL. LBRX_ENCODE_BOS puts the BOS id first.
   The ids equal llama.cpp's llama_tokenize(add_special = false, parse_special = flag) for a GGUF
   and Python tokenizers' encode(text, add_special_tokens=False) for a tokenizer.json (which
   matches every added token: pass LBRX_ENCODE_SPECIAL, as lbrx_tokenizer_default_flags says).
   Not done: a tokenizer.json's NFC normalizer (Qwen) is not applied (llama.cpp does not either:
   text already in NFC, the usual case, is unaffected).

   DECODING is O(1) per token: lbrx_tokenizer_piece gives the bytes a token stands for (its text
   for control tokens); lbrx_tokenizer_decode gives what a text stream prints: nothing for control
   tokens, and for SentencePiece the first piece after BOS loses its leading space.
   Concatenating lbrx_tokenizer_piece over encode's ids gives the text back exactly for
   byte-level BPE (and for SPM with byte fallback, minus the added leading space and with each
   '▁' of the text read as a space, as SentencePiece and llama.cpp read it).

   SECURITY. Loading checks every count, id and length: ids out of range, merges naming tokens
   that are not in the vocabulary, an unknown pre-tokenizer, an empty vocabulary are errors with a
   message naming the key (and file offset where there is one), never a crash. */
#ifndef LBRX_TOKENIZER_H
#define LBRX_TOKENIZER_H
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"

#ifndef LBRX_TOKENIZER_MAX_VOCAB
#define LBRX_TOKENIZER_MAX_VOCAB (1 << 24)  /* largest vocabulary accepted */
#endif
#ifndef LBRX_TOKENIZER_MAX_PIECE
#define LBRX_TOKENIZER_MAX_PIECE 1024       /* longest token text accepted, in bytes */
#endif
#ifndef LBRX_TOKENIZER_MAX_TEXT
#define LBRX_TOKENIZER_MAX_TEXT ((size_t)1 << 30)  /* longest text one encode call takes */
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Token types, as GGUF's tokenizer.ggml.token_type stores them. */
enum {
    LBRX_TOKEN_UNDEFINED = 0, LBRX_TOKEN_NORMAL = 1, LBRX_TOKEN_UNKNOWN = 2, LBRX_TOKEN_CONTROL = 3,
    LBRX_TOKEN_USER_DEFINED = 4, LBRX_TOKEN_UNUSED = 5, LBRX_TOKEN_BYTE = 6
};
enum { LBRX_TOKENIZER_NONE = 0, LBRX_TOKENIZER_SPM = 1, LBRX_TOKENIZER_BPE = 2, LBRX_TOKENIZER_WPM = 3 };

#define LBRX_ENCODE_BOS 1u      /* put the BOS id first (an error if the vocabulary has none) */
#define LBRX_ENCODE_SPECIAL 2u  /* match control tokens written in the text, too */

struct lbrx__tok_merge_slot { uint64_t key; uint32_t rank; int32_t id; }; /* id -1: a free slot */

typedef struct lbrx_tokenizer {
    int kind;              /* LBRX_TOKENIZER_*; NONE after free or a failed load */
    int n_vocab;
    int32_t bos, eos, unk; /* -1 where the vocabulary has none */
    int32_t eot;           /* end of a turn (<|eot_id|>, <|im_end|>, <|end|>, ...), -1 if none */
    int add_bos;           /* the file asks for BOS in front of a prompt (tokenizer.ggml.add_bos_token) */
    int from_json;         /* loaded from a tokenizer.json (its convention: LBRX_ENCODE_SPECIAL) */
    /* the rest is private */
    unsigned char *type;   /* LBRX_TOKEN_* of each id */
    unsigned char *attr;   /* special tokens: 1 = lstrip, 2 = rstrip */
    float *score;          /* SPM scores */
    char *text;            /* bytes of every token, each NUL-terminated */
    uint32_t *off, *len;   /* token i is text[off[i] .. off[i] + len[i]) */
    size_t text_used, text_cap;
    int32_t *hash;         /* open addressing: token bytes -> id (tokens text can produce) */
    uint32_t hash_mask;
    struct lbrx__tok_merge_slot *pairs; /* BPE merges: (left id << 32 | right id) -> rank, merged id */
    uint32_t pair_mask;
    int n_merges;
    int32_t byte_id[256];  /* BPE byte-level: token of each byte; else byte fallback <0xXX> */
    int32_t *special;      /* control / user-defined / unknown ids, longest text first */
    int n_special;
    unsigned char special_first[32]; /* bitmap of the first bytes of special tokens */
    int pre;               /* index in lbrx__tok_pres, -1 for none */
    unsigned char rules[8];/* byte-level pre-tokenizer rules (LBRX__TOK_R_*), 0-terminated */
    int byte_level, ignore_merges, byte_fallback, space_prefix, metaspace, metaspace_split, prefix_space;
    int metaspace_keep;    /* Metaspace pre-tokenizer: no '▁' put in front of a fragment that starts with one */
    uint32_t max_len;      /* WPM: the longest token, in bytes */
    int wpm_lower, wpm_strip; /* WPM: lowercase; strip accents (NFD's first code point, marks dropped) */
    unsigned char ascii_fl[128]; /* class flags of ASCII */
    char desc[96];
} lbrx_tokenizer;

/* Load the tokenizer of a GGUF file's metadata (tokenizer.ggml.*). LBRX_ERR_NOT_FOUND when the
   file has none, LBRX_ERR_UNSUPPORTED for a model kind not implemented (e.g. "t5"). */
LBRXDEF lbrx_result lbrx_tokenizer_init_gguf(lbrx_tokenizer *t, const lbrx_gguf *g, lbrx_error *err);
/* Load a Hugging Face tokenizer.json (model BPE; ByteLevel, Split or Metaspace pre-tokenizer;
   added_tokens). BOS/EOS come from a tokenizer_config.json in the same directory, if any. */
LBRXDEF lbrx_result lbrx_tokenizer_init_json(lbrx_tokenizer *t, const char *path, lbrx_error *err);
/* The same from memory (config: tokenizer_config.json's text or NULL). */
LBRXDEF lbrx_result lbrx_tokenizer_init_json_memory(lbrx_tokenizer *t, const void *json, size_t len,
                                                    const void *config, size_t config_len, lbrx_error *err);
/* Load a llama2.c tokenizer file (tok.bin) of n_vocab tokens: BOS 1, EOS 2 as llama2.c. */
LBRXDEF lbrx_result lbrx_tokenizer_init_llama2c(lbrx_tokenizer *t, const char *path, int n_vocab, lbrx_error *err);
/* A GGUF file, a tokenizer.json or a directory holding tokenizer.json, told by content. */
LBRXDEF lbrx_result lbrx_tokenizer_init_file(lbrx_tokenizer *t, const char *path, lbrx_error *err);
/* Encode len bytes of text (any bytes) into *ids (malloc'ed; free it), *n_ids of them. flags:
   LBRX_ENCODE_*. Thread safety: any number of threads may encode with one tokenizer. */
LBRXDEF lbrx_result lbrx_tokenizer_encode(const lbrx_tokenizer *t, const char *text, size_t len, unsigned flags,
                                          int32_t **ids, size_t *n_ids, lbrx_error *err);
/* The encode flags of the source's own convention: LBRX_ENCODE_SPECIAL for a tokenizer.json. */
LBRXDEF unsigned lbrx_tokenizer_default_flags(const lbrx_tokenizer *t);
/* The bytes token id stands for (control tokens: their text); "" with *len 0 for a bad id. */
LBRXDEF const char *lbrx_tokenizer_piece(const lbrx_tokenizer *t, int32_t id, size_t *len);
/* The bytes a text stream prints for id after prev (-1 at the start): nothing for control and
   unused tokens; for SPM, no leading space right after BOS. */
LBRXDEF const char *lbrx_tokenizer_decode(const lbrx_tokenizer *t, int32_t prev, int32_t id, size_t *len);
/* Whether id ends generation (EOS or end of turn). */
LBRXDEF int lbrx_tokenizer_is_end(const lbrx_tokenizer *t, int32_t id);
/* One line for stderr: kind, pre-tokenizer, vocabulary size. */
LBRXDEF const char *lbrx_tokenizer_describe(const lbrx_tokenizer *t);
/* Free everything; t is zeroed (kind NONE). Safe on a zeroed or released tokenizer. */
LBRXDEF void lbrx_tokenizer_release(lbrx_tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif /* LBRX_TOKENIZER_H */

/* ============================================================================================
   Implementation
   ============================================================================================ */
#if (defined(LBRX_TOKENIZER_IMPLEMENTATION) || defined(LBRX_IMPL)) && !defined(LBRX_TOKENIZER_IMPLEMENTED)
#define LBRX_TOKENIZER_IMPLEMENTED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define LBRX__TOK static __attribute__((unused))
#else
#define LBRX__TOK static
#endif

/* BEGIN GENERATED by examples/lbrx_tokenizer_tables.py from Unicode 14.0.0 (Python unicodedata); do not edit */
#define LBRX__TOK_UNICODE_VERSION "14.0.0"
static const uint32_t lbrx__tok_ucat[2234] = {
    0x6, 0x100, 0x10b, 0x125, 0x12b, 0x15d, 0x163, 0x182, 0x1d3, 0x1e5,
    0x1fb, 0x209, 0x2db, 0x2f5, 0x2fb, 0x305, 0x309, 0x3db, 0x3e5, 0x3eb,
    0x3f5, 0x3fe, 0x500, 0x50b, 0x515, 0x53b, 0x545, 0x551, 0x55b, 0x565,
    0x56e, 0x575, 0x592, 0x5a5, 0x5a9, 0x5b3, 0x5c5, 0x5ca, 0x5d1, 0x5db,
    0x5e2, 0x5fb, 0x601, 0x6bd, 0x6c1, 0x7bd, 0x7c1, 0x1615, 0x1631, 0x1695,
    0x1701, 0x172d, 0x1761, 0x176d, 0x1771, 0x177d, 0x1804, 0x1b81, 0x1bad, 0x1bb1,
    0x1bc0, 0x1bd1, 0x1bf3, 0x1bf9, 0x1c00, 0x1c25, 0x1c31, 0x1c3b, 0x1c41, 0x1c58,
    0x1c61, 0x1c68, 0x1c71, 0x1d10, 0x1d19, 0x1fb5, 0x1fb9, 0x2415, 0x241c, 0x2451,
    0x2980, 0x2989, 0x2ab8, 0x2ac9, 0x2ad3, 0x2b01, 0x2c4b, 0x2c58, 0x2c6d, 0x2c80,
    0x2c8c, 0x2df3, 0x2dfc, 0x2e03, 0x2e0c, 0x2e1b, 0x2e24, 0x2e33, 0x2e3c, 0x2e40,
    0x2e81, 0x2f58, 0x2f79, 0x2f9b, 0x2fa8, 0x3006, 0x3035, 0x304b, 0x305d, 0x3063,
    0x3075, 0x3084, 0x30db, 0x30e6, 0x30eb, 0x3101, 0x325c, 0x3302, 0x3353, 0x3371,
    0x3384, 0x3389, 0x36a3, 0x36a9, 0x36b4, 0x36ee, 0x36f5, 0x36fc, 0x3729, 0x373c,
    0x374d, 0x3754, 0x3771, 0x3782, 0x37d1, 0x37ed, 0x37f9, 0x3803, 0x3870, 0x387e,
    0x3881, 0x388c, 0x3891, 0x3984, 0x3a58, 0x3a69, 0x3d34, 0x3d89, 0x3d90, 0x3e02,
    0x3e51, 0x3f5c, 0x3fa1, 0x3fb5, 0x3fbb, 0x3fd1, 0x3fd8, 0x3fec, 0x3ff5, 0x4001,
    0x40b4, 0x40d1, 0x40dc, 0x4121, 0x412c, 0x4141, 0x414c, 0x4170, 0x4183, 0x41f8,
    0x4201, 0x42cc, 0x42e0, 0x42f3, 0x42f8, 0x4301, 0x4358, 0x4381, 0x4445, 0x4449,
    0x4478, 0x4486, 0x4490, 0x44c4, 0x4501, 0x4654, 0x4716, 0x471c, 0x4821, 0x49d4,
    0x49e9, 0x49f4, 0x4a81, 0x4a8c, 0x4ac1, 0x4b14, 0x4b23, 0x4b32, 0x4b83, 0x4b89,
    0x4c0c, 0x4c20, 0x4c29, 0x4c68, 0x4c79, 0x4c88, 0x4c99, 0x4d48, 0x4d51, 0x4d88,
    0x4d91, 0x4d98, 0x4db1, 0x4dd0, 0x4de4, 0x4de9, 0x4df4, 0x4e28, 0x4e3c, 0x4e48,
    0x4e5c, 0x4e71, 0x4e78, 0x4ebc, 0x4ec0, 0x4ee1, 0x4ef0, 0x4ef9, 0x4f14, 0x4f20,
    0x4f32, 0x4f81, 0x4f95, 0x4fa2, 0x4fd5, 0x4fe1, 0x4feb, 0x4ff4, 0x4ff8, 0x500c,
    0x5020, 0x5029, 0x5058, 0x5079, 0x5088, 0x5099, 0x5148, 0x5151, 0x5188, 0x5191,
    0x51a0, 0x51a9, 0x51b8, 0x51c1, 0x51d0, 0x51e4, 0x51e8, 0x51f4, 0x5218, 0x523c,
    0x5248, 0x525c, 0x5270, 0x528c, 0x5290, 0x52c9, 0x52e8, 0x52f1, 0x52f8, 0x5332,
    0x5384, 0x5391, 0x53ac, 0x53b3, 0x53b8, 0x540c, 0x5420, 0x5429, 0x5470, 0x5479,
    0x5490, 0x5499, 0x5548, 0x5551, 0x5588, 0x5591, 0x55a0, 0x55a9, 0x55d0, 0x55e4,
    0x55e9, 0x55f4, 0x5630, 0x563c, 0x5650, 0x565c, 0x5670, 0x5681, 0x5688, 0x5701,
    0x5714, 0x5720, 0x5732, 0x5783, 0x578d, 0x5790, 0x57c9, 0x57d4, 0x5800, 0x580c,
    0x5820, 0x5829, 0x5868, 0x5879, 0x5888, 0x5899, 0x5948, 0x5951, 0x5988, 0x5991,
    0x59a0, 0x59a9, 0x59d0, 0x59e4, 0x59e9, 0x59f4, 0x5a28, 0x5a3c, 0x5a48, 0x5a5c,
    0x5a70, 0x5aac, 0x5ac0, 0x5ae1, 0x5af0, 0x5af9, 0x5b14, 0x5b20, 0x5b32, 0x5b85,
    0x5b89, 0x5b92, 0x5bc0, 0x5c14, 0x5c19, 0x5c20, 0x5c29, 0x5c58, 0x5c71, 0x5c88,
    0x5c91, 0x5cb0, 0x5cc9, 0x5cd8, 0x5ce1, 0x5ce8, 0x5cf1, 0x5d00, 0x5d19, 0x5d28,
    0x5d41, 0x5d58, 0x5d71, 0x5dd0, 0x5df4, 0x5e18, 0x5e34, 0x5e48, 0x5e54, 0x5e70,
    0x5e81, 0x5e88, 0x5ebc, 0x5ec0, 0x5f32, 0x5f9d, 0x5fd8, 0x6004, 0x6029, 0x6068,
    0x6071, 0x6088, 0x6091, 0x6148, 0x6151, 0x61d0, 0x61e4, 0x61e9, 0x61f4, 0x6228,
    0x6234, 0x6248, 0x6254, 0x6270, 0x62ac, 0x62b8, 0x62c1, 0x62d8, 0x62e9, 0x62f0,
    0x6301, 0x6314, 0x6320, 0x6332, 0x6380, 0x63bb, 0x63c2, 0x63fd, 0x6401, 0x640c,
    0x6423, 0x6429, 0x6468, 0x6471, 0x6488, 0x6491, 0x6548, 0x6551, 0x65a0, 0x65a9,
    0x65d0, 0x65e4, 0x65e9, 0x65f4, 0x6628, 0x6634, 0x6648, 0x6654, 0x6670, 0x66ac,
    0x66b8, 0x66e9, 0x66f8, 0x6701, 0x6714, 0x6720, 0x6732, 0x6780, 0x6789, 0x6798,
    0x6804, 0x6821, 0x6868, 0x6871, 0x6888, 0x6891, 0x69dc, 0x69e9, 0x69f4, 0x6a28,
    0x6a34, 0x6a48, 0x6a54, 0x6a71, 0x6a7d, 0x6a80, 0x6aa1, 0x6abc, 0x6ac2, 0x6af9,
    0x6b14, 0x6b20, 0x6b32, 0x6bcd, 0x6bd1, 0x6c00, 0x6c0c, 0x6c20, 0x6c29, 0x6cb8,
    0x6cd1, 0x6d90, 0x6d99, 0x6de0, 0x6de9, 0x6df0, 0x6e01, 0x6e38, 0x6e54, 0x6e58,
    0x6e7c, 0x6ea8, 0x6eb4, 0x6eb8, 0x6ec4, 0x6f00, 0x6f32, 0x6f80, 0x6f94, 0x6fa3,
    0x6fa8, 0x7009, 0x718c, 0x7191, 0x71a4, 0x71d8, 0x71fd, 0x7201, 0x723c, 0x727b,
    0x7282, 0x72d3, 0x72e0, 0x7409, 0x7418, 0x7421, 0x7428, 0x7431, 0x7458, 0x7461,
    0x7520, 0x7529, 0x7530, 0x7539, 0x758c, 0x7591, 0x75a4, 0x75e9, 0x75f0, 0x7601,
    0x7628, 0x7631, 0x7638, 0x7644, 0x7670, 0x7682, 0x76d0, 0x76e1, 0x7700, 0x7801,
    0x780d, 0x7823, 0x789d, 0x78a3, 0x78ad, 0x78c4, 0x78d5, 0x7902, 0x79a5, 0x79ac,
    0x79b5, 0x79bc, 0x79c5, 0x79cc, 0x79d3, 0x79f4, 0x7a01, 0x7a40, 0x7a49, 0x7b68,
    0x7b8c, 0x7c2b, 0x7c34, 0x7c41, 0x7c6c, 0x7cc0, 0x7ccc, 0x7de8, 0x7df5, 0x7e34,
    0x7e3d, 0x7e68, 0x7e75, 0x7e83, 0x7ead, 0x7ecb, 0x7ed8, 0x8001, 0x815c, 0x81f9,
    0x8202, 0x8253, 0x8281, 0x82b4, 0x82d1, 0x82f4, 0x8309, 0x8314, 0x8329, 0x833c,
    0x8371, 0x838c, 0x83a9, 0x8414, 0x8471, 0x847c, 0x8482, 0x84d4, 0x84f5, 0x8501,
    0x8630, 0x8639, 0x8640, 0x8669, 0x8670, 0x8681, 0x87db, 0x87e1, 0x9248, 0x9251,
    0x9270, 0x9281, 0x92b8, 0x92c1, 0x92c8, 0x92d1, 0x92f0, 0x9301, 0x9448, 0x9451,
    0x9470, 0x9481, 0x9588, 0x9591, 0x95b0, 0x95c1, 0x95f8, 0x9601, 0x9608, 0x9611,
    0x9630, 0x9641, 0x96b8, 0x96c1, 0x9888, 0x9891, 0x98b0, 0x98c1, 0x9ad8, 0x9aec,
    0x9b03, 0x9b4a, 0x9be8, 0x9c01, 0x9c85, 0x9cd0, 0x9d01, 0x9fb0, 0x9fc1, 0x9ff0,
    0xa003, 0xa009, 0xb36d, 0xb373, 0xb379, 0xb400, 0xb409, 0xb4db, 0xb4e8, 0xb501,
    0xb75b, 0xb772, 0xb789, 0xb7c8, 0xb801, 0xb894, 0xb8b0, 0xb8f9, 0xb994, 0xb9ab,
    0xb9b8, 0xba01, 0xba94, 0xbaa0, 0xbb01, 0xbb68, 0xbb71, 0xbb88, 0xbb94, 0xbba0,
    0xbc01, 0xbda4, 0xbea3, 0xbeb9, 0xbec3, 0xbedd, 0xbee1, 0xbeec, 0xbef0, 0xbf02,
    0xbf50, 0xbf82, 0xbfd0, 0xc003, 0xc05c, 0xc076, 0xc07c, 0xc082, 0xc0d0, 0xc101,
    0xc3c8, 0xc401, 0xc42c, 0xc439, 0xc54c, 0xc551, 0xc558, 0xc581, 0xc7b0, 0xc801,
    0xc8f8, 0xc904, 0xc960, 0xc984, 0xc9e0, 0xca05, 0xca08, 0xca23, 0xca32, 0xca81,
    0xcb70, 0xcb81, 0xcba8, 0xcc01, 0xcd60, 0xcd81, 0xce50, 0xce82, 0xced8, 0xcef5,
    0xd001, 0xd0bc, 0xd0e0, 0xd0f3, 0xd101, 0xd2ac, 0xd2f8, 0xd304, 0xd3e8, 0xd3fc,
    0xd402, 0xd450, 0xd482, 0xd4d0, 0xd503, 0xd539, 0xd543, 0xd570, 0xd584, 0xd678,
    0xd804, 0xd829, 0xd9a4, 0xda29, 0xda68, 0xda82, 0xdad3, 0xdb0d, 0xdb5c, 0xdba5,
    0xdbeb, 0xdbf8, 0xdc04, 0xdc19, 0xdd0c, 0xdd71, 0xdd82, 0xddd1, 0xdf34, 0xdfa0,
    0xdfe3, 0xe001, 0xe124, 0xe1c0, 0xe1db, 0xe202, 0xe250, 0xe269, 0xe282, 0xe2d1,
    0xe3f3, 0xe401, 0xe448, 0xe481, 0xe5d8, 0xe5e9, 0xe603, 0xe640, 0xe684, 0xe69b,
    0xe6a4, 0xe749, 0xe76c, 0xe771, 0xe7a4, 0xe7a9, 0xe7bc, 0xe7d1, 0xe7d8, 0xe801,
    0xee04, 0xf001, 0xf8b0, 0xf8c1, 0xf8f0, 0xf901, 0xfa30, 0xfa41, 0xfa70, 0xfa81,
    0xfac0, 0xfac9, 0xfad0, 0xfad9, 0xfae0, 0xfae9, 0xfaf0, 0xfaf9, 0xfbf0, 0xfc01,
    0xfda8, 0xfdb1, 0xfded, 0xfdf1, 0xfdfd, 0xfe11, 0xfe28, 0xfe31, 0xfe6d, 0xfe81,
    0xfea0, 0xfeb1, 0xfee0, 0xfeed, 0xff01, 0xff6d, 0xff80, 0xff91, 0xffa8, 0xffb1,
    0xffed, 0xfff8, 0x1005e, 0x10083, 0x10140, 0x10156, 0x10178, 0x10183, 0x10225, 0x1022b,
    0x10295, 0x1029b, 0x102f8, 0x10306, 0x10328, 0x10336, 0x10382, 0x10389, 0x10390, 0x103a2,
    0x103d5, 0x103eb, 0x103f9, 0x10402, 0x10455, 0x1046b, 0x10478, 0x10481, 0x104e8, 0x10505,
    0x10608, 0x10684, 0x10788, 0x10805, 0x10811, 0x1081d, 0x10839, 0x10845, 0x10851, 0x108a5,
    0x108a9, 0x108b5, 0x108c9, 0x108f5, 0x10921, 0x1092d, 0x10931, 0x1093d, 0x10941, 0x1094d,
    0x10951, 0x10975, 0x10979, 0x109d5, 0x109e1, 0x10a05, 0x10a29, 0x10a55, 0x10a71, 0x10a7d,
    0x10a82, 0x10c19, 0x10c2a, 0x10c55, 0x10c60, 0x10c85, 0x11843, 0x11865, 0x1194b, 0x1195d,
    0x12138, 0x12205, 0x12258, 0x12302, 0x124e5, 0x12752, 0x12805, 0x13b43, 0x13bb2, 0x13ca5,
    0x13e2b, 0x13e3d, 0x13f33, 0x13f85, 0x14c1b, 0x14ccd, 0x14ec3, 0x14ee5, 0x14fe3, 0x14ff5,
    0x15ba0, 0x15bb5, 0x15cb0, 0x15cbd, 0x16001, 0x1672d, 0x16759, 0x1677c, 0x16791, 0x167a0,
    0x167cb, 0x167ea, 0x167f3, 0x16801, 0x16930, 0x16939, 0x16940, 0x16969, 0x16970, 0x16981,
    0x16b40, 0x16b79, 0x16b83, 0x16b88, 0x16bfc, 0x16c01, 0x16cb8, 0x16d01, 0x16d38, 0x16d41,
    0x16d78, 0x16d81, 0x16db8, 0x16dc1, 0x16df8, 0x16e01, 0x16e38, 0x16e41, 0x16e78, 0x16e81,
    0x16eb8, 0x16ec1, 0x16ef8, 0x16f04, 0x17003, 0x17179, 0x17183, 0x17285, 0x17293, 0x172f0,
    0x17405, 0x174d0, 0x174dd, 0x177a0, 0x17805, 0x17eb0, 0x17f85, 0x17fe0, 0x1800b, 0x18025,
    0x18029, 0x1803a, 0x18043, 0x18095, 0x180a3, 0x18105, 0x1810a, 0x18154, 0x18183, 0x18189,
    0x181b5, 0x181c2, 0x181d9, 0x181eb, 0x181f5, 0x18200, 0x18209, 0x184b8, 0x184cc, 0x184dd,
    0x184e9, 0x18503, 0x18509, 0x187db, 0x187e1, 0x18800, 0x18829, 0x18980, 0x18989, 0x18c78,
    0x18c85, 0x18c92, 0x18cb5, 0x18d01, 0x18e05, 0x18f20, 0x18f81, 0x19005, 0x190f8, 0x19102,
    0x19155, 0x19242, 0x19285, 0x1928a, 0x19305, 0x19402, 0x19455, 0x1958a, 0x19605, 0x1a001,
    0x26e05, 0x27001, 0x52468, 0x52485, 0x52638, 0x52681, 0x527f3, 0x52801, 0x5306b, 0x53081,
    0x53102, 0x53151, 0x53160, 0x53201, 0x5337c, 0x5339b, 0x533a4, 0x533f3, 0x533f9, 0x534f4,
    0x53501, 0x53732, 0x53784, 0x53793, 0x537c0, 0x53805, 0x538b9, 0x53905, 0x53911, 0x53c4d,
    0x53c59, 0x53e58, 0x53e81, 0x53e90, 0x53e99, 0x53ea0, 0x53ea9, 0x53ed0, 0x53f91, 0x54014,
    0x54019, 0x54034, 0x54039, 0x5405c, 0x54061, 0x5411c, 0x54145, 0x54164, 0x54168, 0x54182,
    0x541b5, 0x541d0, 0x54201, 0x543a3, 0x543c0, 0x54404, 0x54411, 0x545a4, 0x54630, 0x54673,
    0x54682, 0x546d0, 0x54704, 0x54791, 0x547c3, 0x547d9, 0x547e3, 0x547e9, 0x547fc, 0x54802,
    0x54851, 0x54934, 0x54973, 0x54981, 0x54a3c, 0x54aa0, 0x54afb, 0x54b01, 0x54be8, 0x54c04,
    0x54c21, 0x54d9c, 0x54e0b, 0x54e70, 0x54e79, 0x54e82, 0x54ed0, 0x54ef3, 0x54f01, 0x54f2c,
    0x54f31, 0x54f82, 0x54fd1, 0x54ff8, 0x55001, 0x5514c, 0x551b8, 0x55201, 0x5521c, 0x55221,
    0x55264, 0x55270, 0x55282, 0x552d0, 0x552e3, 0x55301, 0x553bd, 0x553d1, 0x553dc, 0x553f1,
    0x55584, 0x55589, 0x55594, 0x555a9, 0x555bc, 0x555c9, 0x555f4, 0x55601, 0x5560c, 0x55611,
    0x55618, 0x556d9, 0x556f3, 0x55701, 0x5575c, 0x55783, 0x55791, 0x557ac, 0x557b8, 0x55809,
    0x55838, 0x55849, 0x55878, 0x55889, 0x558b8, 0x55901, 0x55938, 0x55941, 0x55978, 0x55981,
    0x55add, 0x55ae1, 0x55b55, 0x55b60, 0x55b81, 0x55f1c, 0x55f5b, 0x55f64, 0x55f70, 0x55f82,
    0x55fd0, 0x56001, 0x6bd20, 0x6bd81, 0x6be38, 0x6be59, 0x6bfe0, 0x6c006, 0x7c801, 0x7d370,
    0x7d381, 0x7d6d0, 0x7d801, 0x7d838, 0x7d899, 0x7d8c0, 0x7d8e9, 0x7d8f4, 0x7d8f9, 0x7d94d,
    0x7d951, 0x7d9b8, 0x7d9c1, 0x7d9e8, 0x7d9f1, 0x7d9f8, 0x7da01, 0x7da10, 0x7da19, 0x7da28,
    0x7da31, 0x7dd95, 0x7de18, 0x7de99, 0x7e9f3, 0x7ea05, 0x7ea81, 0x7ec80, 0x7ec91, 0x7ee40,
    0x7ee7d, 0x7ee80, 0x7ef81, 0x7efe5, 0x7f004, 0x7f083, 0x7f0d0, 0x7f104, 0x7f183, 0x7f298,
    0x7f2a3, 0x7f315, 0x7f31b, 0x7f325, 0x7f338, 0x7f343, 0x7f34d, 0x7f353, 0x7f360, 0x7f381,
    0x7f3a8, 0x7f3b1, 0x7f7e8, 0x7f7fe, 0x7f800, 0x7f80b, 0x7f825, 0x7f82b, 0x7f85d, 0x7f863,
    0x7f882, 0x7f8d3, 0x7f8e5, 0x7f8fb, 0x7f909, 0x7f9db, 0x7f9f5, 0x7f9fb, 0x7fa05, 0x7fa09,
    0x7fadb, 0x7fae5, 0x7faeb, 0x7faf5, 0x7fafb, 0x7fb31, 0x7fdf8, 0x7fe11, 0x7fe40, 0x7fe51,
    0x7fe80, 0x7fe91, 0x7fec0, 0x7fed1, 0x7fee8, 0x7ff05, 0x7ff38, 0x7ff45, 0x7ff78, 0x7ffce,
    0x7ffe5, 0x7fff0, 0x80001, 0x80060, 0x80069, 0x80138, 0x80141, 0x801d8, 0x801e1, 0x801f0,
    0x801f9, 0x80270, 0x80281, 0x802f0, 0x80401, 0x807d8, 0x80803, 0x80818, 0x8083a, 0x809a0,
    0x809bd, 0x80a02, 0x80bcd, 0x80c52, 0x80c65, 0x80c78, 0x80c85, 0x80ce8, 0x80d05, 0x80d08,
    0x80e85, 0x80fec, 0x80ff0, 0x81401, 0x814e8, 0x81501, 0x81688, 0x81704, 0x8170a, 0x817e0,
    0x81801, 0x81902, 0x81920, 0x81969, 0x81a0a, 0x81a11, 0x81a52, 0x81a58, 0x81a81, 0x81bb4,
    0x81bd8, 0x81c01, 0x81cf0, 0x81cfb, 0x81d01, 0x81e20, 0x81e41, 0x81e83, 0x81e8a, 0x81eb0,
    0x82001, 0x824f0, 0x82502, 0x82550, 0x82581, 0x826a0, 0x826c1, 0x827e0, 0x82801, 0x82940,
    0x82981, 0x82b20, 0x82b7b, 0x82b81, 0x82bd8, 0x82be1, 0x82c58, 0x82c61, 0x82c98, 0x82ca1,
    0x82cb0, 0x82cb9, 0x82d10, 0x82d19, 0x82d90, 0x82d99, 0x82dd0, 0x82dd9, 0x82de8, 0x83001,
    0x839b8, 0x83a01, 0x83ab0, 0x83b01, 0x83b40, 0x83c01, 0x83c30, 0x83c39, 0x83d88, 0x83d91,
    0x83dd8, 0x84001, 0x84030, 0x84041, 0x84048, 0x84051, 0x841b0, 0x841b9, 0x841c8, 0x841e1,
    0x841e8, 0x841f9, 0x842b0, 0x842bb, 0x842c2, 0x84301, 0x843bd, 0x843ca, 0x84401, 0x844f8,
    0x8453a, 0x84580, 0x84701, 0x84798, 0x847a1, 0x847b0, 0x847da, 0x84801, 0x848b2, 0x848e0,
    0x848fb, 0x84901, 0x849d0, 0x849fb, 0x84a00, 0x84c01, 0x84dc0, 0x84de2, 0x84df1, 0x84e02,
    0x84e80, 0x84e92, 0x85001, 0x8500c, 0x85020, 0x8502c, 0x85038, 0x85064, 0x85081, 0x850a0,
    0x850a9, 0x850c0, 0x850c9, 0x851b0, 0x851c4, 0x851d8, 0x851fc, 0x85202, 0x85248, 0x85283,
    0x852c8, 0x85301, 0x853ea, 0x853fb, 0x85401, 0x854ea, 0x85500, 0x85601, 0x85645, 0x85649,
    0x8572c, 0x85738, 0x8575a, 0x85783, 0x857b8, 0x85801, 0x859b0, 0x859cb, 0x85a01, 0x85ab0,
    0x85ac2, 0x85b01, 0x85b98, 0x85bc2, 0x85c01, 0x85c90, 0x85ccb, 0x85ce8, 0x85d4a, 0x85d80,
    0x86001, 0x86248, 0x86401, 0x86598, 0x86601, 0x86798, 0x867d2, 0x86801, 0x86924, 0x86940,
    0x86982, 0x869d0, 0x87302, 0x873f8, 0x87401, 0x87550, 0x8755c, 0x8756b, 0x87570, 0x87581,
    0x87590, 0x87801, 0x878ea, 0x87939, 0x87940, 0x87981, 0x87a34, 0x87a8a, 0x87aab, 0x87ad0,
    0x87b81, 0x87c14, 0x87c33, 0x87c50, 0x87d81, 0x87e2a, 0x87e60, 0x87f01, 0x87fb8, 0x88004,
    0x88019, 0x881c4, 0x8823b, 0x88270, 0x88292, 0x88384, 0x88389, 0x8839c, 0x883a9, 0x883b0,
    0x883fc, 0x88419, 0x88584, 0x885db, 0x885ee, 0x885f3, 0x88614, 0x88618, 0x8866e, 0x88670,
    0x88681, 0x88748, 0x88782, 0x887d0, 0x88804, 0x88819, 0x8893c, 0x889a8, 0x889b2, 0x88a03,
    0x88a21, 0x88a2c, 0x88a39, 0x88a40, 0x88a81, 0x88b9c, 0x88ba3, 0x88bb1, 0x88bb8, 0x88c04,
    0x88c19, 0x88d9c, 0x88e09, 0x88e2b, 0x88e4c, 0x88e6b, 0x88e74, 0x88e82, 0x88ed1, 0x88edb,
    0x88ee1, 0x88eeb, 0x88f00, 0x88f0a, 0x88fa8, 0x89001, 0x89090, 0x89099, 0x89164, 0x891c3,
    0x891f4, 0x891f8, 0x89401, 0x89438, 0x89441, 0x89448, 0x89451, 0x89470, 0x89479, 0x894f0,
    0x894f9, 0x8954b, 0x89550, 0x89581, 0x896fc, 0x89758, 0x89782, 0x897d0, 0x89804, 0x89820,
    0x89829, 0x89868, 0x89879, 0x89888, 0x89899, 0x89948, 0x89951, 0x89988, 0x89991, 0x899a0,
    0x899a9, 0x899d0, 0x899dc, 0x899e9, 0x899f4, 0x89a28, 0x89a3c, 0x89a48, 0x89a5c, 0x89a70,
    0x89a81, 0x89a88, 0x89abc, 0x89ac0, 0x89ae9, 0x89b14, 0x89b20, 0x89b34, 0x89b68, 0x89b84,
    0x89ba8, 0x8a001, 0x8a1ac, 0x8a239, 0x8a25b, 0x8a282, 0x8a2d3, 0x8a2e0, 0x8a2eb, 0x8a2f4,
    0x8a2f9, 0x8a310, 0x8a401, 0x8a584, 0x8a621, 0x8a633, 0x8a639, 0x8a640, 0x8a682, 0x8a6d0,
    0x8ac01, 0x8ad7c, 0x8adb0, 0x8adc4, 0x8ae0b, 0x8aec1, 0x8aee4, 0x8aef0, 0x8b001, 0x8b184,
    0x8b20b, 0x8b221, 0x8b228, 0x8b282, 0x8b2d0, 0x8b303, 0x8b368, 0x8b401, 0x8b55c, 0x8b5c1,
    0x8b5cb, 0x8b5d0, 0x8b602, 0x8b650, 0x8b801, 0x8b8d8, 0x8b8ec, 0x8b960, 0x8b982, 0x8b9e3,
    0x8b9fd, 0x8ba01, 0x8ba38, 0x8c001, 0x8c164, 0x8c1db, 0x8c1e0, 0x8c501, 0x8c702, 0x8c798,
    0x8c7f9, 0x8c838, 0x8c849, 0x8c850, 0x8c861, 0x8c8a0, 0x8c8a9, 0x8c8b8, 0x8c8c1, 0x8c984,
    0x8c9b0, 0x8c9bc, 0x8c9c8, 0x8c9dc, 0x8c9f9, 0x8ca04, 0x8ca09, 0x8ca14, 0x8ca23, 0x8ca38,
    0x8ca82, 0x8cad0, 0x8cd01, 0x8cd40, 0x8cd51, 0x8ce8c, 0x8cec0, 0x8ced4, 0x8cf09, 0x8cf13,
    0x8cf19, 0x8cf24, 0x8cf28, 0x8d001, 0x8d00c, 0x8d059, 0x8d19c, 0x8d1d1, 0x8d1dc, 0x8d1fb,
    0x8d23c, 0x8d240, 0x8d281, 0x8d28c, 0x8d2e1, 0x8d454, 0x8d4d3, 0x8d4e9, 0x8d4f3, 0x8d518,
    0x8d581, 0x8d7c8, 0x8e001, 0x8e048, 0x8e051, 0x8e17c, 0x8e1b8, 0x8e1c4, 0x8e201, 0x8e20b,
    0x8e230, 0x8e282, 0x8e368, 0x8e383, 0x8e391, 0x8e480, 0x8e494, 0x8e540, 0x8e54c, 0x8e5b8,
    0x8e801, 0x8e838, 0x8e841, 0x8e850, 0x8e859, 0x8e98c, 0x8e9b8, 0x8e9d4, 0x8e9d8, 0x8e9e4,
    0x8e9f0, 0x8e9fc, 0x8ea31, 0x8ea3c, 0x8ea40, 0x8ea82, 0x8ead0, 0x8eb01, 0x8eb30, 0x8eb39,
    0x8eb48, 0x8eb51, 0x8ec54, 0x8ec78, 0x8ec84, 0x8ec90, 0x8ec9c, 0x8ecc1, 0x8ecc8, 0x8ed02,
    0x8ed50, 0x8f701, 0x8f79c, 0x8f7bb, 0x8f7c8, 0x8fd81, 0x8fd88, 0x8fe02, 0x8fead, 0x8ff90,
    0x8fffb, 0x90001, 0x91cd0, 0x92002, 0x92378, 0x92383, 0x923a8, 0x92401, 0x92a20, 0x97c81,
    0x97f8b, 0x97f98, 0x98001, 0x9a178, 0x9a186, 0x9a1c8, 0xa2001, 0xa3238, 0xb4001, 0xb51c8,
    0xb5201, 0xb52f8, 0xb5302, 0xb5350, 0xb5373, 0xb5381, 0xb55f8, 0xb5602, 0xb5650, 0xb5681,
    0xb5770, 0xb5784, 0xb57ab, 0xb57b0, 0xb5801, 0xb5984, 0xb59bb, 0xb59e5, 0xb5a01, 0xb5a23,
    0xb5a2d, 0xb5a30, 0xb5a82, 0xb5ad0, 0xb5ada, 0xb5b10, 0xb5b19, 0xb5bc0, 0xb5be9, 0xb5c80,
    0xb7201, 0xb7402, 0xb74bb, 0xb74d8, 0xb7801, 0xb7a58, 0xb7a7c, 0xb7a81, 0xb7a8c, 0xb7c40,
    0xb7c7c, 0xb7c99, 0xb7d00, 0xb7f01, 0xb7f13, 0xb7f19, 0xb7f24, 0xb7f28, 0xb7f84, 0xb7f90,
    0xb8001, 0xc3fc0, 0xc4001, 0xc66b0, 0xc6801, 0xc6848, 0xd7f81, 0xd7fa0, 0xd7fa9, 0xd7fe0,
    0xd7fe9, 0xd7ff8, 0xd8001, 0xd8918, 0xd8a81, 0xd8a98, 0xd8b21, 0xd8b40, 0xd8b81, 0xd97e0,
    0xde001, 0xde358, 0xde381, 0xde3e8, 0xde401, 0xde448, 0xde481, 0xde4d0, 0xde4e5, 0xde4ec,
    0xde4fb, 0xde506, 0xde520, 0xe7804, 0xe7970, 0xe7984, 0xe7a38, 0xe7a85, 0xe7e20, 0xe8005,
    0xe87b0, 0xe8805, 0xe8938, 0xe894d, 0xe8b2c, 0xe8b55, 0xe8b6c, 0xe8b9e, 0xe8bdc, 0xe8c1d,
    0xe8c2c, 0xe8c65, 0xe8d54, 0xe8d75, 0xe8f58, 0xe9005, 0xe9214, 0xe922d, 0xe9230, 0xe9702,
    0xe97a0, 0xe9805, 0xe9ab8, 0xe9b02, 0xe9bc8, 0xea001, 0xea2a8, 0xea2b1, 0xea4e8, 0xea4f1,
    0xea500, 0xea511, 0xea518, 0xea529, 0xea538, 0xea549, 0xea568, 0xea571, 0xea5d0, 0xea5d9,
    0xea5e0, 0xea5e9, 0xea620, 0xea629, 0xea830, 0xea839, 0xea858, 0xea869, 0xea8a8, 0xea8b1,
    0xea8e8, 0xea8f1, 0xea9d0, 0xea9d9, 0xea9f8, 0xeaa01, 0xeaa28, 0xeaa31, 0xeaa38, 0xeaa51,
    0xeaa88, 0xeaa91, 0xeb530, 0xeb541, 0xeb60d, 0xeb611, 0xeb6dd, 0xeb6e1, 0xeb7dd, 0xeb7e1,
    0xeb8ad, 0xeb8b1, 0xeb9ad, 0xeb9b1, 0xeba7d, 0xeba81, 0xebb7d, 0xebb81, 0xebc4d, 0xebc51,
    0xebd4d, 0xebd51, 0xebe1d, 0xebe21, 0xebe60, 0xebe72, 0xec005, 0xed004, 0xed1bd, 0xed1dc,
    0xed36d, 0xed3ac, 0xed3b5, 0xed424, 0xed42d, 0xed43b, 0xed460, 0xed4dc, 0xed500, 0xed50c,
    0xed580, 0xef801, 0xef8f8, 0xf0004, 0xf0038, 0xf0044, 0xf00c8, 0xf00dc, 0xf0110, 0xf011c,
    0xf0128, 0xf0134, 0xf0158, 0xf0801, 0xf0968, 0xf0984, 0xf09b9, 0xf09f0, 0xf0a02, 0xf0a50,
    0xf0a71, 0xf0a7d, 0xf0a80, 0xf1481, 0xf1574, 0xf1578, 0xf1601, 0xf1764, 0xf1782, 0xf17d0,
    0xf17fd, 0xf1800, 0xf3f01, 0xf3f38, 0xf3f41, 0xf3f60, 0xf3f69, 0xf3f78, 0xf3f81, 0xf3ff8,
    0xf4001, 0xf4628, 0xf463a, 0xf4684, 0xf46b8, 0xf4801, 0xf4a24, 0xf4a59, 0xf4a60, 0xf4a82,
    0xf4ad0, 0xf4af3, 0xf4b00, 0xf638a, 0xf6565, 0xf656a, 0xf6585, 0xf658a, 0xf65a8, 0xf680a,
    0xf6975, 0xf697a, 0xf69f0, 0xf7001, 0xf7020, 0xf7029, 0xf7100, 0xf7109, 0xf7118, 0xf7121,
    0xf7128, 0xf7139, 0xf7140, 0xf7149, 0xf7198, 0xf71a1, 0xf71c0, 0xf71c9, 0xf71d0, 0xf71d9,
    0xf71e0, 0xf7211, 0xf7218, 0xf7239, 0xf7240, 0xf7249, 0xf7250, 0xf7259, 0xf7260, 0xf7269,
    0xf7280, 0xf7289, 0xf7298, 0xf72a1, 0xf72a8, 0xf72b9, 0xf72c0, 0xf72c9, 0xf72d0, 0xf72d9,
    0xf72e0, 0xf72e9, 0xf72f0, 0xf72f9, 0xf7300, 0xf7309, 0xf7318, 0xf7321, 0xf7328, 0xf7339,
    0xf7358, 0xf7361, 0xf7398, 0xf73a1, 0xf73c0, 0xf73c9, 0xf73e8, 0xf73f1, 0xf73f8, 0xf7401,
    0xf7450, 0xf7459, 0xf74e0, 0xf7509, 0xf7520, 0xf7529, 0xf7550, 0xf7559, 0xf75e0, 0xf7785,
    0xf7790, 0xf8005, 0xf8160, 0xf8185, 0xf84a0, 0xf8505, 0xf8578, 0xf858d, 0xf8600, 0xf860d,
    0xf8680, 0xf868d, 0xf87b0, 0xf8802, 0xf886d, 0xf8d70, 0xf8f35, 0xf9018, 0xf9085, 0xf91e0,
    0xf9205, 0xf9248, 0xf9285, 0xf9290, 0xf9305, 0xf9330, 0xf9805, 0xfb6c0, 0xfb6ed, 0xfb768,
    0xfb785, 0xfb7e8, 0xfb805, 0xfbba0, 0xfbc05, 0xfbec8, 0xfbf05, 0xfbf60, 0xfbf85, 0xfbf88,
    0xfc005, 0xfc060, 0xfc085, 0xfc240, 0xfc285, 0xfc2d0, 0xfc305, 0xfc440, 0xfc485, 0xfc570,
    0xfc585, 0xfc590, 0xfc805, 0xfd2a0, 0xfd305, 0xfd370, 0xfd385, 0xfd3a8, 0xfd3c5, 0xfd3e8,
    0xfd405, 0xfd438, 0xfd485, 0xfd568, 0xfd585, 0xfd5d8, 0xfd605, 0xfd630, 0xfd685, 0xfd6d0,
    0xfd705, 0xfd740, 0xfd785, 0xfd7b8, 0xfd805, 0xfdc98, 0xfdca5, 0xfde58, 0xfdf82, 0xfdfd0,
    0x100001, 0x153700, 0x153801, 0x15b9c8, 0x15ba01, 0x15c0f0, 0x15c101, 0x167510, 0x167581, 0x175f08,
    0x17c001, 0x17d0f0, 0x180001, 0x189a58, 0x70000e, 0x700010, 0x700106, 0x700400, 0x700804, 0x700f80,
    0x780006, 0x7ffff0, 0x800006, 0x87fff0,
};
static const uint32_t lbrx__tok_fold_runs[3008] = {
    0x20832, 0x200020, 0x6000a, 0x80000061, 0x63000, 0x200020, 0x63800, 0x1fff9c,
    0x64006, 0x80000065, 0x66006, 0x80000069, 0x68000, 0x200020, 0x68802, 0x1fff9d,
    0x69806, 0x8000006f, 0x6c000, 0x200020, 0x6c806, 0x80000075, 0x6e800, 0x1fff9c,
    0x6f000, 0x200020, 0x7000a, 0x80000061, 0x73800, 0x1fff7c, 0x74006, 0x80000065,
    0x76006, 0x80000069, 0x78802, 0x1fff7d, 0x79806, 0x8000006f, 0x7c806, 0x80000075,
    0x7e803, 0x80000079, 0x8000a, 0x80000061, 0x8300e, 0x80000063, 0x87002, 0x80000064,
    0x88000, 0x200001, 0x89012, 0x80000065, 0x8e00e, 0x80000067, 0x92002, 0x80000068,
    0x93000, 0x200001, 0x94010, 0x80000069, 0x99000, 0x200001, 0x9a002, 0x8000006a,
    0x9b002, 0x8000006b, 0x9c80a, 0x8000006c, 0x9f803, 0x200001, 0xa180a, 0x8000006e,
    0xa5000, 0x200001, 0xa600a, 0x8000006f, 0xa9000, 0x200001, 0xaa00a, 0x80000072,
    0xad00e, 0x80000073, 0xb1006, 0x80000074, 0xb3000, 0x200001, 0xb4016, 0x80000075,
    0xba002, 0x80000077, 0xbb004, 0x80000079, 0xbc80a, 0x8000007a, 0xc0800, 0x2000d2,
    0xc1003, 0x200001, 0xc3000, 0x2000ce, 0xc3800, 0x200001, 0xc4802, 0x2000cd,
    0xc5800, 0x200001, 0xc7000, 0x20004f, 0xc7800, 0x2000ca, 0xc8000, 0x2000cb,
    0xc8800, 0x200001, 0xc9800, 0x2000cd, 0xca000, 0x2000cf, 0xcb000, 0x2000d3,
    0xcb800, 0x2000d1, 0xcc000, 0x200001, 0xce000, 0x2000d3, 0xce800, 0x2000d5,
    0xcf800, 0x2000d6, 0xd0002, 0x8000006f, 0xd1003, 0x200001, 0xd3000, 0x2000da,
    0xd3800, 0x200001, 0xd4800, 0x2000da, 0xd6000, 0x200001, 0xd7000, 0x2000da,
    0xd7802, 0x80000075, 0xd8802, 0x2000d9, 0xd9803, 0x200001, 0xdb800, 0x2000db,
    0xdc000, 0x200001, 0xde000, 0x200001, 0xe2002, 0x800001c6, 0xe3802, 0x800001c9,
    0xe5002, 0x800001cc, 0xe6802, 0x80000061, 0xe7802, 0x80000069, 0xe8802, 0x8000006f,
    0xe9812, 0x80000075, 0xef006, 0x80000061, 0xf1002, 0x800000e6, 0xf2000, 0x200001,
    0xf3002, 0x80000067, 0xf4002, 0x8000006b, 0xf5006, 0x8000006f, 0xf7002, 0x80000292,
    0xf8000, 0x1ffe7a, 0xf8802, 0x800001f3, 0xfa002, 0x80000067, 0xfb000, 0x1fff9f,
    0xfb800, 0x1fffc8, 0xfc002, 0x8000006e, 0xfd002, 0x80000061, 0xfe002, 0x800000e6,
    0xff002, 0x800000f8, 0x100006, 0x80000061, 0x102006, 0x80000065, 0x104006, 0x80000069,
    0x106006, 0x8000006f, 0x108006, 0x80000072, 0x10a006, 0x80000075, 0x10c002, 0x80000073,
    0x10d002, 0x80000074, 0x10e000, 0x200001, 0x10f002, 0x80000068, 0x110000, 0x1fff7e,
    0x111003, 0x200001, 0x113002, 0x80000061, 0x114002, 0x80000065, 0x11500e, 0x8000006f,
    0x119002, 0x80000079, 0x11d000, 0x202a2b, 0x11d800, 0x200001, 0x11e800, 0x1fff5d,
    0x11f000, 0x202a28, 0x120800, 0x200001, 0x121800, 0x1fff3d, 0x122000, 0x200045,
    0x122800, 0x200047, 0x123009, 0x200001, 0x1a0002, 0x1fffc0, 0x1a1800, 0x1fffd0,
    0x1a2000, 0x1fffc4, 0x1b8003, 0x200001, 0x1ba000, 0x1fff45, 0x1bb000, 0x200001,
    0x1bf000, 0x1ffcbd, 0x1bf800, 0x200074, 0x1c2800, 0x1ffd23, 0x1c3000, 0x20002b,
    0x1c3800, 0x1ffd30, 0x1c4000, 0x20002d, 0x1c4800, 0x20002e, 0x1c5000, 0x20002f,
    0x1c6000, 0x200033, 0x1c7000, 0x200037, 0x1c7800, 0x20003a, 0x1c8000, 0x200029,
    0x1c8820, 0x200020, 0x1d180c, 0x200020, 0x1d5000, 0x20000f, 0x1d5800, 0x20001a,
    0x1d6000, 0x200005, 0x1d6800, 0x200008, 0x1d7000, 0x200009, 0x1d7800, 0x20000a,
    0x1d8000, 0x200015, 0x1e5000, 0x1fffef, 0x1e5800, 0x1ffffa, 0x1e6000, 0x1ffff3,
    0x1e6800, 0x1ffff8, 0x1e7000, 0x1ffffb, 0x1e7800, 0x200008, 0x1e9802, 0x800003d2,
    0x1ec017, 0x200001, 0x1fa000, 0x1fffc4, 0x1fb800, 0x200001, 0x1fc800, 0x1ffff9,
    0x1fd000, 0x200001, 0x1fe804, 0x1fff7e, 0x200002, 0x80000435, 0x201000, 0x200050,
    0x201800, 0x200030, 0x202004, 0x200050, 0x203800, 0x20004f, 0x204006, 0x200050,
    0x206000, 0x20002e, 0x206800, 0x20002b, 0x207000, 0x200035, 0x207800, 0x200050,
    0x208010, 0x200020, 0x20c800, 0x20001f, 0x20d02a, 0x200020, 0x21c800, 0x1fffff,
    0x228002, 0x80000435, 0x229800, 0x1fffe0, 0x22b800, 0x1fffff, 0x22e000, 0x1fffde,
    0x22e800, 0x1fffdb, 0x22f000, 0x1fffe5, 0x230015, 0x200001, 0x23b002, 0x80000475,
    0x23c009, 0x200001, 0x245035, 0x200001, 0x260000, 0x20000f, 0x260802, 0x80000436,
    0x26180b, 0x200001, 0x268006, 0x80000430, 0x26a000, 0x200001, 0x26b002, 0x80000435,
    0x26c003, 0x800004d9, 0x26d800, 0x1ffffe, 0x26e002, 0x80000436, 0x26f002, 0x80000437,
    0x270000, 0x200001, 0x271006, 0x80000438, 0x273002, 0x8000043e, 0x274003, 0x800004e9,
    0x275800, 0x1ffffe, 0x276002, 0x8000044d, 0x27700a, 0x80000443, 0x27a002, 0x80000447,
    0x27b000, 0x200001, 0x27c002, 0x8000044b, 0x27d035, 0x200001, 0x29884a, 0x200030,
    0x311002, 0x80000627, 0x312000, 0x200024, 0x312800, 0x200002, 0x313000, 0x200024,
    0x360000, 0x200015, 0x361000, 0x1fffff, 0x369800, 0x1fffff, 0x494800, 0x1fffff,
    0x498800, 0x1fffff, 0x49a000, 0x1fffff, 0x4ac004, 0x1fffbd, 0x4ad800, 0x1fffc1,
    0x4ae002, 0x1fffc5, 0x4af000, 0x1fffcd, 0x4af800, 0x1fffd0, 0x4e5802, 0x800009c7,
    0x4ee002, 0x1fffc5, 0x4ef800, 0x1fffd0, 0x519800, 0x1fffff, 0x51b000, 0x200002,
    0x52c802, 0x1fffbd, 0x52d800, 0x1fffc1, 0x52f000, 0x1fffcd, 0x5a4000, 0x1fffff,
    0x5a5802, 0x80000b47, 0x5ae002, 0x1fffc5, 0x5ca000, 0x1ffffe, 0x5e5002, 0x1ffffc,
    0x5e6000, 0x1ffffa, 0x624000, 0x1ffffe, 0x660000, 0x1fffff, 0x663802, 0x80000cc6,
    0x665002, 0x80000cc6, 0x6a5002, 0x1ffffc, 0x6a6000, 0x1ffffa, 0x6ed003, 0x80000dd9,
    0x6ee802, 0x80000dd9, 0x7a1800, 0x1fffff, 0x7a6800, 0x1fffff, 0x7a9000, 0x1fffff,
    0x7ab800, 0x1fffff, 0x7ae000, 0x1fffff, 0x7b4800, 0x1fffd7, 0x7b9803, 0x80000f71,
    0x7bb000, 0x20003c, 0x7bc000, 0x20003b, 0x7c0800, 0x1ffff0, 0x7c9800, 0x1fffff,
    0x7ce800, 0x1fffff, 0x7d1000, 0x1fffff, 0x7d3800, 0x1fffff, 0x7d6000, 0x1fffff,
    0x7dc800, 0x1fffd7, 0x813000, 0x1fffff, 0x85004a, 0x201c60, 0x863800, 0x201c60,
    0x866800, 0x201c60, 0x9d009e, 0x2097d0, 0x9f800a, 0x200008, 0xd83009, 0x1fffff,
    0xd89000, 0x1fffff, 0xd9d803, 0x1fffff, 0xda0002, 0x1ffffe, 0xda1800, 0x1fffff,
    0xe48054, 0x1ff440, 0xe5e804, 0x1ff440, 0xf00002, 0x80000061, 0xf0100a, 0x80000062,
    0xf04002, 0x80000063, 0xf05012, 0x80000064, 0xf0a012, 0x80000065, 0xf0f002, 0x80000066,
    0xf10002, 0x80000067, 0xf11012, 0x80000068, 0xf16006, 0x80000069, 0xf1800a, 0x8000006b,
    0xf1b00e, 0x8000006c, 0xf1f00a, 0x8000006d, 0xf2200e, 0x8000006e, 0xf2600e, 0x8000006f,
    0xf2a006, 0x80000070, 0xf2c00e, 0x80000072, 0xf30012, 0x80000073, 0xf3500e, 0x80000074,
    0xf39012, 0x80000075, 0xf3e006, 0x80000076, 0xf40012, 0x80000077, 0xf45006, 0x80000078,
    0xf47002, 0x80000079, 0xf4800a, 0x8000007a, 0xf4b000, 0x1fe1d2, 0xf4b800, 0x1fe1dd,
    0xf4c000, 0x1fe1df, 0xf4c800, 0x1fe1e0, 0xf4d800, 0x1fe2e4, 0xf4f000, 0x1fe241,
    0xf5002e, 0x80000061, 0xf5c01e, 0x80000065, 0xf64006, 0x80000069, 0xf6602e, 0x8000006f,
    0xf7201a, 0x80000075, 0xf7900e, 0x80000079, 0xf7d005, 0x200001, 0xf8001e, 0x800003b1,
    0xf8800a, 0x800003b5, 0xf8c00a, 0x800003b5, 0xf9001e, 0x800003b7, 0xf9801e, 0x800003b9,
    0xfa000a, 0x800003bf, 0xfa400a, 0x800003bf, 0xfa800e, 0x800003c5, 0xfac807, 0x800003c5,
    0xfb001e, 0x800003c9, 0xfb8002, 0x800003b1, 0xfb9002, 0x800003b5, 0xfba002, 0x800003b7,
    0xfbb002, 0x800003b9, 0xfbc002, 0x800003bf, 0xfbd002, 0x800003c5, 0xfbe002, 0x800003c9,
    0xfc001e, 0x800003b1, 0xfc801e, 0x800003b7, 0xfd001e, 0x800003c9, 0xfd8008, 0x800003b1,
    0xfdb00c, 0x800003b1, 0xfdf000, 0x1fe3fb, 0xfe0800, 0x1fe0e7, 0xfe1004, 0x800003b7,
    0xfe3002, 0x800003b7, 0xfe4002, 0x800003b5, 0xfe5004, 0x800003b7, 0xfe6804, 0x80001fbf,
    0xfe8006, 0x800003b9, 0xfeb00a, 0x800003b9, 0xfee804, 0x80001ffe, 0xff0006, 0x800003c5,
    0xff2002, 0x800003c1, 0xff300a, 0x800003c5, 0xff6000, 0x1fe3d5, 0xff6802, 0x800000a8,
    0xff7800, 0x1fe071, 0xff9004, 0x800003c9, 0xffb002, 0x800003c9, 0xffc002, 0x800003bf,
    0xffd004, 0x800003c9, 0xffe800, 0x1fe0b7, 0x1000002, 0x200002, 0x1093000, 0x1fe2a3,
    0x1095000, 0x1fdf41, 0x1095800, 0x1fdf36, 0x1099000, 0x20001c, 0x10b001e, 0x200010,
    0x10c1800, 0x200001, 0x10cd000, 0x1ffff6, 0x10cd800, 0x1ffff7, 0x10d7000, 0x1fffe6,
    0x10e6800, 0x200003, 0x10e7000, 0x200006, 0x10e7800, 0x200003, 0x1102000, 0x1fffff,
    0x1104800, 0x1fffff, 0x1106000, 0x1fffff, 0x1112003, 0x1fffff, 0x1120800, 0x1ffffb,
    0x1122000, 0x1fffff, 0x1123800, 0x1ffffe, 0x1124800, 0x1fffff, 0x1130000, 0x1fdddd,
    0x1131000, 0x1fffff, 0x1136800, 0x1fffe0, 0x1137000, 0x1fddce, 0x1137800, 0x1fddcf,
    0x1138002, 0x1ffff4, 0x113a002, 0x1ffffe, 0x113c002, 0x1ffffe, 0x1140002, 0x1ffffa,
    0x1142002, 0x1ffffe, 0x1144002, 0x1ffffe, 0x1156000, 0x1ffff6, 0x1156802, 0x1ffffb,
    0x1157800, 0x1ffffc, 0x1170002, 0x1fff9c, 0x1171002, 0x1fffaf, 0x1175006, 0x1fffc8,
    0x1194802, 0x200cdf, 0x125b032, 0x20001a, 0x156e000, 0x200001, 0x160005e, 0x200030,
    0x1630000, 0x200001, 0x1631000, 0x1fd609, 0x1631800, 0x1ff11a, 0x1632000, 0x1fd619,
    0x1633805, 0x200001, 0x1636800, 0x1fd5e4, 0x1637000, 0x1fd603, 0x1637800, 0x1fd5e1,
    0x1638000, 0x1fd5e2, 0x1639000, 0x200001, 0x163a800, 0x200001, 0x163f002, 0x1fd5c1,
    0x1640063, 0x200001, 0x1675803, 0x200001, 0x1679000, 0x200001, 0x1826017, 0x1fffff,
    0x1832805, 0x1fffff, 0x1838002, 0x8000306f, 0x1839802, 0x80003072, 0x183b002, 0x80003075,
    0x183c802, 0x80003078, 0x183e002, 0x8000307b, 0x184a000, 0x1fffb2, 0x184f000, 0x1fffff,
    0x1856017, 0x1fffff, 0x1862805, 0x1fffff, 0x1868002, 0x800030cf, 0x1869802, 0x800030d2,
    0x186b002, 0x800030d5, 0x186c802, 0x800030d8, 0x186e002, 0x800030db, 0x187a000, 0x1fffb2,
    0x187b806, 0x1ffff8, 0x187f000, 0x1fffff, 0x532002d, 0x200001, 0x534001b, 0x200001,
    0x539100d, 0x200001, 0x539903d, 0x200001, 0x53bc803, 0x200001, 0x53be800, 0x1f75fc,
    0x53bf009, 0x200001, 0x53c5800, 0x200001, 0x53c6800, 0x1f5ad8, 0x53c8003, 0x200001,
    0x53cb013, 0x200001, 0x53d5000, 0x1f5abc, 0x53d5800, 0x1f5ab1, 0x53d6000, 0x1f5ab5,
    0x53d6800, 0x1f5abf, 0x53d7000, 0x1f5abc, 0x53d8000, 0x1f5aee, 0x53d8800, 0x1f5ad6,
    0x53d9000, 0x1f5aeb, 0x53d9800, 0x2003a0, 0x53da00f, 0x200001, 0x53e2000, 0x1fffd0,
    0x53e2800, 0x1f5abd, 0x53e3000, 0x1f75c8, 0x53e3803, 0x200001, 0x53e8000, 0x200001,
    0x53eb003, 0x200001, 0x53fa800, 0x200001, 0x5600496, 0x80001100, 0x5726496, 0x80001101,
    0x584c496, 0x80001102, 0x5972496, 0x80001103, 0x5a98496, 0x80001104, 0x5bbe496, 0x80001105,
    0x5ce4496, 0x80001106, 0x5e0a496, 0x80001107, 0x5f30496, 0x80001108, 0x6056496, 0x80001109,
    0x617c496, 0x8000110a, 0x62a2496, 0x8000110b, 0x63c8496, 0x8000110c, 0x64ee496, 0x8000110d,
    0x6614496, 0x8000110e, 0x673a496, 0x8000110f, 0x6860496, 0x80001110, 0x6986496, 0x80001111,
    0x6aac496, 0x80001112, 0x7c80000, 0x1f9348, 0x7c80800, 0x1f6df3, 0x7c81000, 0x1f95c8,
    0x7c81800, 0x1f93c5, 0x7c82000, 0x1f75cd, 0x7c82800, 0x1f552d, 0x7c83000, 0x1f5adf,
    0x7c83802, 0x80009f9c, 0x7c84800, 0x1f6048, 0x7c85000, 0x1f98c7, 0x7c85800, 0x1f5c7c,
    0x7c86000, 0x1f603c, 0x7c86800, 0x1f68e9, 0x7c87000, 0x1f7d5b, 0x7c87800, 0x1f8676,
    0x7c88000, 0x1f8d2f, 0x7c88800, 0x1f8ea9, 0x7c89000, 0x1f8fe6, 0x7c89800, 0x1f977c,
    0x7c8a000, 0x1f70ee, 0x7c8a800, 0x1f7406, 0x7c8b000, 0x1f77c3, 0x7c8b800, 0x1f7ac7,
    0x7c8c000, 0x1f8b25, 0x7c8c800, 0x1f9851, 0x7c8d000, 0x1fa0d7, 0x7c8d800, 0x1f5567,
    0x7c8e000, 0x1f5a59, 0x7c8e800, 0x1f71e7, 0x7c8f000, 0x1f78fd, 0x7c8f800, 0x1f8d0e,
    0x7c90000, 0x1fa4fe, 0x7c90800, 0x1f642f, 0x7c91000, 0x1f76c9, 0x7c91800, 0x1f8caa,
    0x7c92000, 0x1f9040, 0x7c92800, 0x1f69a4, 0x7c93000, 0x1f88b2, 0x7c93800, 0x1f8ef8,
    0x7c94000, 0x1f65a2, 0x7c94800, 0x1f6dee, 0x7c95000, 0x1f7440, 0x7c95800, 0x1f79d1,
    0x7c96000, 0x1f97a2, 0x7c96800, 0x1f5659, 0x7c97000, 0x1f5889, 0x7c97800, 0x1f59af,
    0x7c98000, 0x1f6b94, 0x7c98800, 0x1f71a2, 0x7c99000, 0x1f78de, 0x7c99800, 0x1f7db4,
    0x7c9a000, 0x1f86cd, 0x7c9a800, 0x1f8cd1, 0x7c9b000, 0x1f8d26, 0x7c9b800, 0x1f94b8,
    0x7c9c000, 0x1f9dfa, 0x7c9c800, 0x1fa236, 0x7c9d000, 0x1fa4c0, 0x7c9d800, 0x1f7f51,
    0x7c9e000, 0x1f8043, 0x7c9e800, 0x1f8463, 0x7c9f000, 0x1f8a8b, 0x7c9f800, 0x1f99c5,
    0x7ca0000, 0x1fa53f, 0x7ca0800, 0x1f9195, 0x7ca1000, 0x1f5f9d, 0x7ca1800, 0x1f65c1,
    0x7ca2000, 0x1f831c, 0x7ca2800, 0x1f8739, 0x7ca3000, 0x1f791c, 0x7ca3800, 0x1f7f83,
    0x7ca4000, 0x1f937a, 0x7ca4800, 0x1f9dae, 0x7ca5000, 0x1f5f8e, 0x7ca5800, 0x1f6317,
    0x7ca6000, 0x1f70c7, 0x7ca6800, 0x1f748d, 0x7ca7000, 0x1f75c1, 0x7ca7800, 0x1f83e0,
    0x7ca8000, 0x1f84e7, 0x7ca8800, 0x1f9cfa, 0x7ca9000, 0x1f5980, 0x7ca9800, 0x1f8738,
    0x7caa000, 0x1f5888, 0x7caa800, 0x1f5877, 0x7cab000, 0x1f80c6, 0x7cab800, 0x1f8467,
    0x7cac000, 0x1f8a99, 0x7cac800, 0x1f9d1c, 0x7cad000, 0x1f9226, 0x7cad800, 0x1f6974,
    0x7cae000, 0x1f70a6, 0x7cae800, 0x1f91a1, 0x7caf000, 0x1f54db, 0x7caf800, 0x1f6288,
    0x7cb0000, 0x1f66b2, 0x7cb0800, 0x1f7a26, 0x7cb1000, 0x1f7c0e, 0x7cb1800, 0x1f59b4,
    0x7cb2000, 0x1f7f97, 0x7cb2800, 0x1f565a, 0x7cb3000, 0x1f6643, 0x7cb3800, 0x1f54a6,
    0x7cb4000, 0x1f7364, 0x7cb4800, 0x1f6c0f, 0x7cb5000, 0x1f83b8, 0x7cb5800, 0x1f5a58,
    0x7cb6000, 0x1f5ef2, 0x7cb6800, 0x1f7d94, 0x7cb7000, 0x1f8adb, 0x7cb7800, 0x1f913b,
    0x7cb8000, 0x1f724a, 0x7cb8800, 0x1f963f, 0x7cb9000, 0x1f7316, 0x7cb9800, 0x1f698b,
    0x7cba000, 0x1f8971, 0x7cba800, 0x1f6a2b, 0x7cbb000, 0x1f7bef, 0x7cbb800, 0x1f5537,
    0x7cbc000, 0x1f57f1, 0x7cbc800, 0x1f5850, 0x7cbd000, 0x1f6f07, 0x7cbd800, 0x1f836c,
    0x7cbe000, 0x1f88f3, 0x7cbe800, 0x1f9155, 0x7cbf000, 0x1f9851, 0x7cbf800, 0x1f5976,
    0x7cc0000, 0x1f5ac2, 0x7cc0800, 0x1f5ff2, 0x7cc1000, 0x1f656a, 0x7cc1800, 0x1f6c42,
    0x7cc2000, 0x1f767a, 0x7cc2800, 0x1f7fa5, 0x7cc3000, 0x1f9c27, 0x7cc3800, 0x1fa0e3,
    0x7cc4000, 0x1fa50f, 0x7cc4800, 0x1fa545, 0x7cc5000, 0x1f5911, 0x7cc5800, 0x1f6d3b,
    0x7cc6000, 0x1f71eb, 0x7cc6800, 0x1f95d5, 0x7cc7000, 0x1f64e6, 0x7cc7800, 0x1f6801,
    0x7cc8000, 0x1f6870, 0x7cc8800, 0x1f6b09, 0x7cc9000, 0x1f7591, 0x7cc9800, 0x1f77b6,
    0x7cca000, 0x1f7af5, 0x7cca800, 0x1f8035, 0x7ccb000, 0x1f845e, 0x7ccb800, 0x1f86d8,
    0x7ccc000, 0x1f958e, 0x7ccc800, 0x1f8b55, 0x7ccd000, 0x1f9689, 0x7ccd800, 0x1f99af,
    0x7cce000, 0x1f587b, 0x7cce800, 0x1f5906, 0x7ccf000, 0x1f5b1f, 0x7ccf800, 0x1f7729,
    0x7cd0000, 0x1f8f22, 0x7cd0800, 0x1f9109, 0x7cd1000, 0x1f6527, 0x7cd1800, 0x1f6652,
    0x7cd2000, 0x1f69d7, 0x7cd2800, 0x1f7209, 0x7cd3000, 0x1f8298, 0x7cd3800, 0x1f79ce,
    0x7cd4000, 0x1f553c, 0x7cd4800, 0x1f5d50, 0x7cd5000, 0x1f623d, 0x7cd5800, 0x1f640f,
    0x7cd6000, 0x1f6670, 0x7cd6800, 0x1f7a05, 0x7cd7000, 0x1f7abb, 0x7cd7800, 0x1f85eb,
    0x7cd8000, 0x1f8696, 0x7cd8800, 0x1f9883, 0x7cd9000, 0x1f9d44, 0x7cd9800, 0x1f9d95,
    0x7cda000, 0x1f9e64, 0x7cda800, 0x1f55d6, 0x7cdb000, 0x1f7ff8, 0x7cdb800, 0x1f97fd,
    0x7cdc000, 0x1f9d00, 0x7cdc800, 0x1f6728, 0x7cdd000, 0x1f54cc, 0x7cdd800, 0x1f571f,
    0x7cde000, 0x1f6232, 0x7cde800, 0x1f6282, 0x7cdf000, 0x1f6bdb, 0x7cdf800, 0x1f7043,
    0x7ce0000, 0x1f780e, 0x7ce0800, 0x1f7c81, 0x7ce1000, 0x1f8b3a, 0x7ce1800, 0x1f96b9,
    0x7ce2000, 0x1fa5c9, 0x7ce2800, 0x1f6cc3, 0x7ce3000, 0x1f9c68, 0x7ce3800, 0x1f58c2,
    0x7ce4000, 0x1f6db3, 0x7ce4800, 0x1f6e2a, 0x7ce5000, 0x1f7377, 0x7ce5800, 0x1f74d1,
    0x7ce6000, 0x1f7a3d, 0x7ce6800, 0x1f7b8c, 0x7ce7000, 0x1f7e9d, 0x7ce7800, 0x1f8341,
    0x7ce8000, 0x1f9e8e, 0x7ce8800, 0x1f579c, 0x7ce9000, 0x1f685c, 0x7ce9800, 0x1f9ca5,
    0x7cea000, 0x1f5657, 0x7cea800, 0x1f6344, 0x7ceb000, 0x1f7414, 0x7ceb800, 0x1f9553,
    0x7cec000, 0x1f65b3, 0x7cec800, 0x1f676b, 0x7ced000, 0x1f6e3d, 0x7ced800, 0x1f79ac,
    0x7cee000, 0x1f9caa, 0x7cee800, 0x1f584c, 0x7cef000, 0x1f5a31, 0x7cef800, 0x1f6286,
    0x7cf0000, 0x1f6c33, 0x7cf0800, 0x1f6d6d, 0x7cf1000, 0x1f6ec6, 0x7cf1800, 0x1f7302,
    0x7cf2000, 0x1f7a22, 0x7cf2800, 0x1f7bfd, 0x7cf3000, 0x1f8593, 0x7cf3800, 0x1f8ee8,
    0x7cf4000, 0x1f8ef9, 0x7cf4800, 0x1f97e3, 0x7cf5000, 0x1f9cf8, 0x7cf5800, 0x1f5954,
    0x7cf6000, 0x1f74ce, 0x7cf6800, 0x1f5a30, 0x7cf7000, 0x1f77e2, 0x7cf7800, 0x1f7aa9,
    0x7cf8000, 0x1f8c0a, 0x7cf8800, 0x1f9cb2, 0x7cf9000, 0x1fa265, 0x7cf9800, 0x1fa4ac,
    0x7cfa000, 0x1f6da3, 0x7cfa800, 0x1f73d6, 0x7cfb000, 0x1f87f2, 0x7cfb800, 0x1f80d4,
    0x7cfc000, 0x1f8128, 0x7cfc800, 0x1f8299, 0x7cfd000, 0x1f78c6, 0x7cfd800, 0x1f769e,
    0x7cfe000, 0x1f915c, 0x7cfe800, 0x1f54c3, 0x7cff000, 0x1f8938, 0x7cff800, 0x1f583b,
    0x7d00000, 0x1f5807, 0x7d00800, 0x1f64a5, 0x7d01000, 0x1f68d1, 0x7d01800, 0x1f82d3,
    0x7d02000, 0x1f6181, 0x7d02800, 0x1f7319, 0x7d03000, 0x1f6cae, 0x7d03800, 0x1f9534,
    0x7d04000, 0x1f8e44, 0x7d04800, 0x1f9c44, 0x7d05000, 0x1f8f81, 0x7d05800, 0x1f64c8,
    0x7d06000, 0x1f5734, 0x7d06800, 0x1f5bb3, 0x7d08000, 0x1f5e4a, 0x7d09000, 0x1f6c62,
    0x7d0a800, 0x1f57c9, 0x7d0b000, 0x1f7914, 0x7d0b800, 0x1f7cb3, 0x7d0c000, 0x1f7f24,
    0x7d0c800, 0x1f7f45, 0x7d0d000, 0x1f7f4b, 0x7d0d800, 0x1f7f74, 0x7d0e000, 0x1f9d3a,
    0x7d0e800, 0x1f82a1, 0x7d0f000, 0x1f859f, 0x7d10000, 0x1f8bf2, 0x7d11000, 0x1f90d6,
    0x7d12800, 0x1f9613, 0x7d13000, 0x1f96d7, 0x7d15000, 0x1f9ec5, 0x7d15800, 0x1f9ed1,
    0x7d16000, 0x1f9efc, 0x7d16800, 0x1fa387, 0x7d17000, 0x1f96b0, 0x7d17800, 0x1f9c88,
    0x7d18000, 0x1f557e, 0x7d18800, 0x1f56b6, 0x7d19000, 0x1f571b, 0x7d19800, 0x1f5896,
    0x7d1a000, 0x1f58b0, 0x7d1a800, 0x1f591c, 0x7d1b000, 0x1f5b67, 0x7d1b800, 0x1f5bcf,
    0x7d1c000, 0x1f5c30, 0x7d1c800, 0x1f5e07, 0x7d1d000, 0x1f5e6e, 0x7d1d800, 0x1f6229,
    0x7d1e000, 0x1f6232, 0x7d1e800, 0x1f6657, 0x7d1f000, 0x1f672a, 0x7d1f800, 0x1f674f,
    0x7d20000, 0x1f67b2, 0x7d20800, 0x1f6b0e, 0x7d21000, 0x1f6ba0, 0x7d21800, 0x1f6c4e,
    0x7d22000, 0x1f6e41, 0x7d22800, 0x1f7332, 0x7d23000, 0x1f73d4, 0x7d23800, 0x1f74db,
    0x7d24000, 0x1f7726, 0x7d24800, 0x1f77e2, 0x7d25000, 0x1f79d8, 0x7d25800, 0x1f7e46,
    0x7d26000, 0x1f7ef2, 0x7d26800, 0x1f7efc, 0x7d27000, 0x1f7efa, 0x7d27800, 0x1f7f01,
    0x7d28000, 0x1f7f06, 0x7d28800, 0x1f7f0c, 0x7d29002, 0x1f7f3b, 0x7d2a000, 0x1f7fec,
    0x7d2a800, 0x1f802c, 0x7d2b000, 0x1f816a, 0x7d2b800, 0x1f839d, 0x7d2c000, 0x1f83b1,
    0x7d2c800, 0x1f83e8, 0x7d2d000, 0x1f8518, 0x7d2d800, 0x1f85aa, 0x7d2e000, 0x1f8791,
    0x7d2e802, 0x80008279, 0x7d2f800, 0x1f89f8, 0x7d30000, 0x1f8eb0, 0x7d30800, 0x1f8f35,
    0x7d31000, 0x1f909f, 0x7d31800, 0x1f90d6, 0x7d32000, 0x1f926f, 0x7d32800, 0x1f92a3,
    0x7d33000, 0x1f9550, 0x7d33800, 0x1f95d1, 0x7d34000, 0x1f9c7b, 0x7d34800, 0x1f9d96,
    0x7d35000, 0x1f9dd1, 0x7d35800, 0x1f660a, 0x7d36000, 0x214882, 0x7d36800, 0x1f87ab,
    0x7d38000, 0x1f53b6, 0x7d38800, 0x1f5744, 0x7d39000, 0x1f56f6, 0x7d39800, 0x1f550d,
    0x7d3a000, 0x1f56d1, 0x7d3a800, 0x1f570b, 0x7d3b000, 0x1f5851, 0x7d3b800, 0x1f5883,
    0x7d3c000, 0x1f5b25, 0x7d3c800, 0x1f5adc, 0x7d3d000, 0x1f5b1f, 0x7d3d800, 0x1f5b67,
    0x7d3e000, 0x1f5dde, 0x7d3e800, 0x1f5e36, 0x7d3f000, 0x1f5ec6, 0x7d3f800, 0x1f5ed5,
    0x7d40000, 0x1f5fe2, 0x7d40800, 0x1f60a7, 0x7d41000, 0x1f6450, 0x7d41800, 0x1f6456,
    0x7d42000, 0x1f64e5, 0x7d42800, 0x1f6528, 0x7d43000, 0x1f6652, 0x7d43800, 0x1f66c7,
    0x7d44000, 0x1f6680, 0x7d44800, 0x1f6705, 0x7d45000, 0x1f66d6, 0x7d45800, 0x1f6767,
    0x7d46000, 0x1f67a8, 0x7d46800, 0x1f6937, 0x7d47000, 0x1f698e, 0x7d47800, 0x1f69c3,
    0x7d48000, 0x1f6ac6, 0x7d48800, 0x1f6be3, 0x7d49000, 0x1f6c85, 0x7d49800, 0x1f6c88,
    0x7d4a000, 0x1f6cc2, 0x7d4a800, 0x1f70e4, 0x7d4b000, 0x1f7124, 0x7d4b800, 0x1f72aa,
    0x7d4c000, 0x1f7443, 0x7d4c800, 0x1f7432, 0x7d4d000, 0x1f7488, 0x7d4d800, 0x1f7583,
    0x7d4e000, 0x1f76d2, 0x7d4e800, 0x1f7d0a, 0x7d4f000, 0x1f7797, 0x7d4f800, 0x1f7810,
    0x7d50000, 0x1f788a, 0x7d50800, 0x1f79d0, 0x7d51000, 0x1f7a64, 0x7d51800, 0x1f7a98,
    0x7d52000, 0x1f7b79, 0x7d52800, 0x1f7b7a, 0x7d53000, 0x1f7c24, 0x7d53800, 0x1f7c34,
    0x7d54000, 0x1f7c4c, 0x7d54800, 0x1f7ca1, 0x7d55000, 0x1f7c96, 0x7d55800, 0x1f7e21,
    0x7d56000, 0x1f8005, 0x7d56800, 0x1f8113, 0x7d57000, 0x1f81cd, 0x7d57800, 0x1f82ac,
    0x7d58000, 0x1f8344, 0x7d58800, 0x1f848d, 0x7d59000, 0x1f8553, 0x7d59800, 0x1f889f,
    0x7d5a000, 0x1f893b, 0x7d5a800, 0x1f8cc4, 0x7d5b000, 0x1f8e8b, 0x7d5b800, 0x1f8ecf,
    0x7d5c000, 0x1f8ede, 0x7d5c800, 0x1f9006, 0x7d5d000, 0x1f903e, 0x7d5d800, 0x1f9010,
    0x7d5e000, 0x1f9045, 0x7d5e800, 0x1f9041, 0x7d5f000, 0x1f902f, 0x7d5f800, 0x1f907a,
    0x7d60000, 0x1f90ca, 0x7d60800, 0x1f9247, 0x7d61000, 0x1f9476, 0x7d61800, 0x1f95af,
    0x7d62000, 0x1f96d5, 0x7d62800, 0x1f97b1, 0x7d63000, 0x1f9bb6, 0x7d63800, 0x1f9c1c,
    0x7d64000, 0x1f9c8e, 0x7d64800, 0x1f9d12, 0x7d65000, 0x1f9d35, 0x7d65800, 0x1f9d40,
    0x7d66000, 0x1f9d6f, 0x7d66800, 0x1fa045, 0x7d67000, 0x1fa4ce, 0x7d67800, 0x212d7b,
    0x7d68000, 0x212d74, 0x7d68800, 0x213904, 0x7d69000, 0x1f40cb, 0x7d69800, 0x1f4545,
    0x7d6a000, 0x1f4565, 0x7d6a800, 0x215774, 0x7d6b000, 0x2161fa, 0x7d6b800, 0x2183fc,
    0x7d6c000, 0x1fa46b, 0x7d6c800, 0x1fa4b5, 0x7d8e800, 0x1f0abc, 0x7d8f800, 0x1f0ad3,
    0x7d95006, 0x800005e9, 0x7d97004, 0x800005d0, 0x7d9880a, 0x1f0aa0, 0x7d9c008, 0x1f0aa0,
    0x7d9f003, 0x1f0aa0, 0x7da0803, 0x1f0aa0, 0x7da2003, 0x1f0aa0, 0x7da3806, 0x1f0aa0,
    0x7da5800, 0x1f0a8a, 0x7da6000, 0x1f0a85, 0x7da6800, 0x1f0a8e, 0x7da7000, 0x1f0a96,
    0x7f90832, 0x200020, 0x820004e, 0x200028, 0x8258046, 0x200028, 0x82b8014, 0x200027,
    0x82be01c, 0x200027, 0x82c600c, 0x200027, 0x82ca002, 0x200027, 0x8640064, 0x200040,
    0x884d003, 0x1fffff, 0x8855800, 0x1ffffa, 0x8897002, 0x200003, 0x89a5802, 0x80011347,
    0x8a5d802, 0x800114b9, 0x8a5f000, 0x1ffffb, 0x8add002, 0x1ffffe, 0x8c5003e, 0x200020,
    0x8c9c000, 0x1ffffd, 0xb72003e, 0x200020, 0xe8af002, 0x1ffff9, 0xe8b0008, 0x8001d158,
    0xe8dd802, 0x1ffffe, 0xe8de802, 0x1ffffc, 0xe8df802, 0x1ffffa, 0xf480042, 0x200022,
    0x17c00000, 0x1d563d, 0x17c00800, 0x1d5637, 0x17c01000, 0x1d563f, 0x17c01800, 0x1f091f,
    0x17c02000, 0x1d575c, 0x17c02800, 0x1d57a9, 0x17c03000, 0x1d57b5, 0x17c03800, 0x1d57fb,
    0x17c04000, 0x1d5872, 0x17c04800, 0x1d5890, 0x17c05000, 0x1d58dd, 0x17c05800, 0x1d58c4,
    0x17c06000, 0x1d3c92, 0x17c06800, 0x1f0e2d, 0x17c07000, 0x1d593f, 0x17c07800, 0x1d5945,
    0x17c08000, 0x1d5954, 0x17c08800, 0x1d5966, 0x17c09000, 0x1f0d0a, 0x17c09800, 0x1d3ca6,
    0x17c0a000, 0x1d5953, 0x17c0a800, 0x1d5978, 0x17c0b000, 0x1f0d35, 0x17c0b800, 0x1d5980,
    0x17c0c000, 0x1d598c, 0x17c0c800, 0x1d56b3, 0x17c0d000, 0x1d5992, 0x17c0d800, 0x1d599a,
    0x17c0e000, 0x1f99c3, 0x17c0e800, 0x1d59d8, 0x17c0f000, 0x1d59e5, 0x17c0f800, 0x1d3cc0,
    0x17c10000, 0x1d5a1b, 0x17c10800, 0x1d5a25, 0x17c11000, 0x1d5a50, 0x17c11800, 0x1d5a54,
    0x17c12000, 0x1d3cf1, 0x17c12800, 0x1d5aa2, 0x17c13000, 0x1d5aa3, 0x17c13800, 0x1d5abd,
    0x17c14000, 0x1d5ad2, 0x17c14802, 0x1d5adc, 0x17c15800, 0x1d5aec, 0x17c16000, 0x1d5b1d,
    0x17c16800, 0x1d5b24, 0x17c17000, 0x1d5b2c, 0x17c17800, 0x1d5b44, 0x17c18000, 0x1d5b4d,
    0x17c18804, 0x8000537f, 0x17c1a000, 0x1f11f8, 0x17c1a800, 0x1d783b, 0x17c1b000, 0x1d5b94,
    0x17c1b800, 0x1d5ba8, 0x17c1c000, 0x1f132b, 0x17c1c800, 0x1d5bb2, 0x17c1d000, 0x1d5bb7,
    0x17c1d800, 0x1d5bcb, 0x17c1e000, 0x1d5c62, 0x17c1e800, 0x1d5bfb, 0x17c1f000, 0x1d5c0a,
    0x17c1f800, 0x1d5c29, 0x17c20000, 0x1d5c62, 0x17c20800, 0x1d5cb5, 0x17c21000, 0x1d5cce,
    0x17c21800, 0x1d5d10, 0x17c22000, 0x1d5d1f, 0x17c22802, 0x80005584, 0x17c23800, 0x1d5d52,
    0x17c24000, 0x1d5d63, 0x17c24800, 0x1d5d6a, 0x17c25000, 0x1d5d78, 0x17c25800, 0x1d5ecb,
    0x17c26000, 0x1d5dba, 0x17c26800, 0x1d5eca, 0x17c27000, 0x1d5e03, 0x17c27800, 0x1d5e25,
    0x17c28000, 0x1d59b7, 0x17c28800, 0x1d609d, 0x17c29000, 0x1d5f7c, 0x17c29800, 0x1d5fa1,
    0x17c2a000, 0x1d5fb9, 0x17c2a800, 0x1d5f36, 0x17c2b000, 0x1d5fdc, 0x17c2b800, 0x1d5fda,
    0x17c2c000, 0x1d6054, 0x17c2c800, 0x1f1c8b, 0x17c2d000, 0x1d6098, 0x17c2d800, 0x1d609c,
    0x17c2e000, 0x1d60aa, 0x17c2e800, 0x1d60bd, 0x17c2f000, 0x1d60c4, 0x17c2f800, 0x1d6103,
    0x17c30000, 0x1f1e48, 0x17c30800, 0x1f1e89, 0x17c31000, 0x1d618a, 0x17c31800, 0x1d61b8,
    0x17c32000, 0x1d61c3, 0x17c32800, 0x1d6173, 0x17c33000, 0x1d6200, 0x17c33800, 0x1d3e87,
    0x17c34000, 0x1d3e94, 0x17c34800, 0x1d629f, 0x17c35002, 0x80005b3e, 0x17c36000, 0x1f215c,
    0x17c36800, 0x1d6356, 0x17c37000, 0x1d636a, 0x17c37800, 0x1d6378, 0x17c38000, 0x1d6383,
    0x17c38800, 0x1f22a7, 0x17c39000, 0x1d638d, 0x17c39800, 0x1d6393, 0x17c3a000, 0x1d66df,
    0x17c3a800, 0x1d63ad, 0x17c3b000, 0x1d3f0b, 0x17c3b800, 0x1d63e9, 0x17c3c000, 0x1d63f6,
    0x17c3c800, 0x1d6447, 0x17c3d000, 0x1d6413, 0x17c3d800, 0x1f2569, 0x17c3e000, 0x1d64c7,
    0x17c3e800, 0x1f2569, 0x17c3f000, 0x1d64f0, 0x17c3f800, 0x1d64ec, 0x17c40000, 0x1d64fc,
    0x17c40802, 0x1d6560, 0x17c41800, 0x1d3fac, 0x17c42000, 0x1d6579, 0x17c42800, 0x1d65a3,
    0x17c43000, 0x1d65b7, 0x17c43800, 0x1d65e2, 0x17c44000, 0x1d3fda, 0x17c44800, 0x1f28fa,
    0x17c45000, 0x1d3ff2, 0x17c45800, 0x1d6625, 0x17c46000, 0x1d6627, 0x17c46800, 0x1d6629,
    0x17c47000, 0x1d663c, 0x17c47800, 0x1fab03, 0x17c48000, 0x1d666e, 0x17c48802, 0x80022331,
    0x17c49800, 0x1d896e, 0x17c4a002, 0x80005f22, 0x17c4b000, 0x1d4031, 0x17c4b800, 0x1f3a21,
    0x17c4c000, 0x1f6942, 0x17c4c800, 0x1d66c9, 0x17c4d000, 0x1d66d1, 0x17c4d800, 0x1d4048,
    0x17c4e000, 0x1d66fe, 0x17c4e800, 0x1d6730, 0x17c4f000, 0x1d6739, 0x17c4f800, 0x1d675a,
    0x17c50000, 0x1d67e1, 0x17c50800, 0x1d4099, 0x17c51000, 0x1d407a, 0x17c51800, 0x1d67f1,
    0x17c52000, 0x1f2e30, 0x17c52800, 0x1d6822, 0x17c53000, 0x1d68a2, 0x17c53800, 0x1d68a5,
    0x17c54000, 0x1d68a6, 0x17c54800, 0x1d68a3, 0x17c55000, 0x1d68d0, 0x17c55800, 0x1d68e3,
    0x17c56000, 0x1d6906, 0x17c56800, 0x1d68f7, 0x17c57000, 0x1d6901, 0x17c57800, 0x1d692f,
    0x17c58000, 0x1d6942, 0x17c58800, 0x1d6945, 0x17c59000, 0x1d695e, 0x17c59800, 0x1d6968,
    0x17c5a000, 0x1d69a9, 0x17c5a800, 0x1d69fc, 0x17c5b000, 0x1d6a1e, 0x17c5b800, 0x1d6a99,
    0x17c5c000, 0x1f3254, 0x17c5c800, 0x1d6a84, 0x17c5d000, 0x1d6a42, 0x17c5d800, 0x1d6aad,
    0x17c5e000, 0x1d6ac7, 0x17c5e800, 0x1d6b27, 0x17c5f000, 0x1f3333, 0x17c5f800, 0x1d6b63,
    0x17c60000, 0x1d6b05, 0x17c60800, 0x1d6ae8, 0x17c61000, 0x1d416c, 0x17c61800, 0x1d6ba6,
    0x17c62000, 0x1d6bba, 0x17c62800, 0x1d6bd8, 0x17c63000, 0x1d6bb1, 0x17c63800, 0x1d41a5,
    0x17c64000, 0x1d6c87, 0x17c64800, 0x1d6ca3, 0x17c65000, 0x1f3740, 0x17c65800, 0x1d6d18,
    0x17c66000, 0x1d6e2c, 0x17c66800, 0x1d6d7c, 0x17c67000, 0x1d424b, 0x17c67800, 0x1d6dc2,
    0x17c68000, 0x1d4238, 0x17c68800, 0x1d4213, 0x17c69000, 0x1d58c0, 0x17c69800, 0x1d58c2,
    0x17c6a000, 0x1d6e2c, 0x17c6a800, 0x1d6dc7, 0x17c6b000, 0x1d87d7, 0x17c6b800, 0x1d4b02,
    0x17c6c000, 0x1d6e3f, 0x17c6c800, 0x1d6e42, 0x17c6d000, 0x1d6e47, 0x17c6d800, 0x1d6e83,
    0x17c6e000, 0x1d6e77, 0x17c6e800, 0x1f3ae6, 0x17c6f000, 0x1d426b, 0x17c6f800, 0x1d6f1b,
    0x17c70000, 0x1d6ea5, 0x17c70800, 0x1d6f71, 0x17c71000, 0x1d6fa3, 0x17c71800, 0x1f3b8a,
    0x17c72000, 0x1d6faa, 0x17c72800, 0x1d6f3a, 0x17c73000, 0x1d702e, 0x17c73800, 0x1d42b6,
    0x17c74000, 0x1d705a, 0x17c74800, 0x1d70ba, 0x17c75000, 0x1d7100, 0x17c75800, 0x1d71bd,
    0x17c76000, 0x1f3db7, 0x17c76800, 0x1d71ee, 0x17c77000, 0x1d432a, 0x17c77800, 0x1d7232,
    0x17c78000, 0x1f3fb7, 0x17c78800, 0x1d7263, 0x17c79000, 0x1d435c, 0x17c79800, 0x1d727f,
    0x17c7a000, 0x1d72ab, 0x17c7a802, 0x1d72c5, 0x17c7b800, 0x1f4196, 0x17c7c000, 0x1f2413,
    0x17c7c800, 0x1f4201, 0x17c7d000, 0x1d7354, 0x17c7d800, 0x1f43c1, 0x17c7e000, 0x1d73c3,
    0x17c7e800, 0x1d73d0, 0x17c7f000, 0x1d7369, 0x17c7f800, 0x1d7417, 0x17c80000, 0x1d743e,
    0x17c80800, 0x1d7476, 0x17c81000, 0x1d743f, 0x17c81800, 0x1d7466, 0x17c82000, 0x1d7474,
    0x17c82800, 0x1d7480, 0x17c83000, 0x1f4418, 0x17c83800, 0x1d742d, 0x17c84000, 0x1d7527,
    0x17c84800, 0x1d7565, 0x17c85000, 0x1d4429, 0x17c85800, 0x1d75c0, 0x17c86000, 0x1d75bb,
    0x17c86800, 0x1f45c4, 0x17c87000, 0x1d74eb, 0x17c87800, 0x1d765f, 0x17c88000, 0x1f464e,
    0x17c88800, 0x1f467d, 0x17c89000, 0x1d76b4, 0x17c89800, 0x1d7726, 0x17c8a000, 0x1d770a,
    0x17c8a800, 0x1d7706, 0x17c8b000, 0x1d4480, 0x17c8b800, 0x1d7733, 0x17c8c000, 0x1d7765,
    0x17c8c800, 0x1d775e, 0x17c8d000, 0x1d7793, 0x17c8d800, 0x1f0c0a, 0x17c8e000, 0x1d7829,
    0x17c8e800, 0x1f4946, 0x17c8f000, 0x1d787e, 0x17c8f800, 0x1f4a8c, 0x17c90000, 0x1d7908,
    0x17c90800, 0x1d7914, 0x17c91000, 0x1d792e, 0x17c91800, 0x1f4ce5, 0x17c92000, 0x1d795c,
    0x17c92800, 0x1d7970, 0x17c93000, 0x1f4e0f, 0x17c93800, 0x1f4eed, 0x17c94000, 0x1d7a52,
    0x17c94800, 0x1d7a62, 0x17c95000, 0x1d4582, 0x17c95800, 0x1d7a7a, 0x17c96002, 0x80003eb8,
    0x17c97000, 0x1d7b19, 0x17c97800, 0x1d7b2d, 0x17c98000, 0x1d7b41, 0x17c98800, 0x1d7b54,
    0x17c99000, 0x1d7b98, 0x17c99800, 0x1d45e8, 0x17c9a000, 0x1d7bf0, 0x17c9a800, 0x1f5301,
    0x17c9b000, 0x1d7c08, 0x17c9b800, 0x1f535b, 0x17c9c000, 0x1d7c38, 0x17c9c800, 0x1f2866,
    0x17c9d000, 0x1d7cd6, 0x17c9d800, 0x1f5666, 0x17c9e000, 0x1f567c, 0x17c9e800, 0x1f5707,
    0x17c9f000, 0x1d46be, 0x17c9f800, 0x1d46c9, 0x17ca0000, 0x1d7db4, 0x17ca0800, 0x1f57b2,
    0x17ca1000, 0x1f57b0, 0x17ca1800, 0x1f57d6, 0x17ca2000, 0x1f57ef, 0x17ca2802, 0x1d7dd9,
    0x17ca3800, 0x1d7dd8, 0x17ca4000, 0x1d7e02, 0x17ca4800, 0x1d46f0, 0x17ca5000, 0x1d7e41,
    0x17ca5800, 0x1d46fb, 0x17ca6000, 0x1d474a, 0x17ca6800, 0x1f5ad0, 0x17ca7000, 0x1d7f00,
    0x17ca7800, 0x1d7f3d, 0x17ca8000, 0x1d7f7c, 0x17ca8800, 0x1d4792, 0x17ca9000, 0x1f5cd4,
    0x17ca9800, 0x1d8003, 0x17caa000, 0x1f5d46, 0x17caa800, 0x1f5d70, 0x17cab000, 0x1d8039,
    0x17cab800, 0x1d8094, 0x17cac000, 0x1d47d7, 0x17cac800, 0x1d80e7, 0x17cad000, 0x1d80f0,
    0x17cad800, 0x1d80f4, 0x17cae000, 0x1f6020, 0x17cae802, 0x80025aa7, 0x17caf800, 0x1d818f,
    0x17cb0000, 0x1d48a2, 0x17cb0800, 0x1f624a, 0x17cb1000, 0x1d8264, 0x17cb1800, 0x1d8266,
    0x17cb2000, 0x1d48c3, 0x17cb2800, 0x1f631b, 0x17cb3000, 0x1d836c, 0x17cb3800, 0x1d4939,
    0x17cb4000, 0x1d8380, 0x17cb4800, 0x1d837a, 0x17cb5000, 0x1d8396, 0x17cb5800, 0x1f661b,
    0x17cb6000, 0x1d83f7, 0x17cb6800, 0x1d4994, 0x17cb7000, 0x1d8459, 0x17cb7800, 0x1d8493,
    0x17cb8000, 0x1d84d5, 0x17cb8800, 0x1d49c3, 0x17cb9000, 0x1f68b6, 0x17cb9800, 0x1f68d4,
    0x17cba000, 0x1d49e5, 0x17cba800, 0x1f6964, 0x17cbb000, 0x1d8604, 0x17cbb800, 0x1f69c7,
    0x17cbc000, 0x1d861d, 0x17cbc800, 0x1d8681, 0x17cbd000, 0x1d868b, 0x17cbd800, 0x1f6b5f,
    0x17cbe000, 0x1f6ba7, 0x17cbe800, 0x1d86e3, 0x17cbf000, 0x1f6c2a, 0x17cbf800, 0x1d86f1,
    0x17cc0000, 0x1f39df, 0x17cc0800, 0x1d4a54, 0x17cc1000, 0x1d8730, 0x17cc1800, 0x1d8780,
    0x17cc2000, 0x1d4a87, 0x17cc2800, 0x1d87b9, 0x17cc3000, 0x1d612f, 0x17cc3800, 0x1f6e20,
    0x17cc4000, 0x1f6e2d, 0x17cc4800, 0x1f3a0a, 0x17cc5000, 0x1f3a12, 0x17cc5800, 0x1d8876,
    0x17cc6000, 0x1d8878, 0x17cc6800, 0x1d9611, 0x17cc7000, 0x1d4add, 0x17cc7800, 0x1d8902,
    0x17cc8000, 0x1d88fb, 0x17cc8800, 0x1d890c, 0x17cc9000, 0x1d5921, 0x17cc9800, 0x1d891e,
    0x17cca000, 0x1d891f, 0x17cca800, 0x1d8928, 0x17ccb000, 0x1d8950, 0x17ccb800, 0x1f71a5,
    0x17ccc000, 0x1d894d, 0x17ccc800, 0x1d8984, 0x17ccd000, 0x1d89c9, 0x17ccd800, 0x1d8a12,
    0x17cce000, 0x1d8987, 0x17cce800, 0x1d8a20, 0x17ccf000, 0x1d8a49, 0x17ccf800, 0x1d8ab8,
    0x17cd0000, 0x1d89b3, 0x17cd0800, 0x1d8a29, 0x17cd1000, 0x1d8a2a, 0x17cd1800, 0x1d8a39,
    0x17cd2000, 0x1f7292, 0x17cd2800, 0x1f73c6, 0x17cd3000, 0x1f732f, 0x17cd3800, 0x1d4b84,
    0x17cd4000, 0x1d8b49, 0x17cd4800, 0x1d8b4a, 0x17cd5000, 0x1d8b6c, 0x17cd5800, 0x1f7a1f,
    0x17cd6000, 0x1d8bb8, 0x17cd6800, 0x1f757f, 0x17cd7000, 0x1d4baf, 0x17cd7800, 0x1d4bb2,
    0x17cd8000, 0x1f7601, 0x17cd8800, 0x1f7721, 0x17cd9000, 0x1d4bb9, 0x17cd9800, 0x1d8c9d,
    0x17cda000, 0x1d8ca8, 0x17cda800, 0x1d8cb2, 0x17cdb000, 0x1d8cb3, 0x17cdb800, 0x1d8cf2,
    0x17cdc000, 0x1d8cd0, 0x17cdc800, 0x1d8d55, 0x17cdd000, 0x1d8d28, 0x17cdd800, 0x1d8dbe,
    0x17cde000, 0x1d8d6c, 0x17cde800, 0x1d8dae, 0x17cdf000, 0x1d8dc8, 0x17cdf800, 0x1d4c18,
    0x17ce0000, 0x1d8e21, 0x17ce0800, 0x1d8e40, 0x17ce1000, 0x1d4c37, 0x17ce1800, 0x1d8e9d,
    0x17ce2000, 0x1d8e9f, 0x17ce2800, 0x1f7ca2, 0x17ce3000, 0x1d8f11, 0x17ce3800, 0x1d8f17,
    0x17ce4000, 0x1d4c6d, 0x17ce4800, 0x1d8f31, 0x17ce5000, 0x1d3af1, 0x17ce5800, 0x1f7ee3,
    0x17ce6000, 0x1f7f9a, 0x17ce6800, 0x1d4cf1, 0x17ce7000, 0x1d4cf9, 0x17ce7800, 0x1d90d1,
    0x17ce8000, 0x1d911d, 0x17ce8800, 0x1d91b9, 0x17ce9000, 0x1d9283, 0x17ce9800, 0x1f82d5,
    0x17cea000, 0x1d92d7, 0x17cea800, 0x1d92ec, 0x17ceb000, 0x1d9345, 0x17ceb800, 0x1d93a0,
    0x17cec000, 0x1f8557, 0x17cec800, 0x1f0e2b, 0x17ced000, 0x1d93f1, 0x17ced800, 0x1d93e1,
    0x17cee000, 0x1d9414, 0x17cee800, 0x1f0f01, 0x17cef000, 0x1d94f6, 0x17cef800, 0x1d9559,
    0x17cf0000, 0x1f8bf2, 0x17cf0800, 0x1f8c0c, 0x17cf1000, 0x1d96b2, 0x17cf1800, 0x1d970e,
    0x17cf2000, 0x1d972d, 0x17cf2800, 0x1f8d49, 0x17cf3000, 0x1d9735, 0x17cf3800, 0x1d9851,
    0x17cf4002, 0x1d98ef, 0x17cf5000, 0x1d9892, 0x17cf5800, 0x1d9a0e, 0x17cf6000, 0x1d9a29,
    0x17cf6800, 0x1f920d, 0x17cf7000, 0x1d9b9d, 0x17cf7800, 0x1d4fa6, 0x17cf8000, 0x1d9bc7,
    0x17cf8800, 0x1f9386, 0x17cf9000, 0x1d4ff4, 0x17cf9800, 0x1d9cd0, 0x17cfa000, 0x1d63be,
    0x17cfa800, 0x1d9d2e, 0x17cfb000, 0x1f974f, 0x17cfb800, 0x1f9823, 0x17cfc000, 0x1d5076,
    0x17cfc800, 0x1d507d, 0x17cfd000, 0x1d9de6, 0x17cfd800, 0x1f9a0f, 0x17cfe000, 0x1d50b6,
    0x17cfe800, 0x1f9a99, 0x17cff002, 0x8000980b, 0x17d00000, 0x1d9e29, 0x17d00800, 0x1f9bb5,
    0x17d01000, 0x1d9ee0, 0x17d01800, 0x1d5130, 0x17d02000, 0x1d9f25, 0x17d02800, 0x1d9fa2,
    0x17d03000, 0x1d9fbc, 0x17d03800, 0x1d9ff7, 0x17d04000, 0x1d51c6, 0x17d04800, 0x1fa127,
    0x17d05000, 0x1da108, 0x17d05800, 0x1da235, 0x17d06000, 0x1da2f1, 0x17d06800, 0x1d52c1,
    0x17d07000, 0x1d52df, 0x17d07800, 0x1da358, 0x17d08000, 0x1fa6be, 0x17d08800, 0x1d52e7,
    0x17d09000, 0x1fa6f3, 0x17d09800, 0x1fa7fb, 0x17d0a000, 0x1fa87d, 0x17d0a800, 0x1da4a6,
    0x17d0b000, 0x1d5340, 0x17d0b800, 0x1da4e2, 0x17d0c000, 0x1da4e6, 0x17d0c800, 0x1da4ec,
    0x17d0d000, 0x1da4f5, 0x17d0d800, 0x1da4fb, 0x17d0e000, 0x1da51f, 0x17d0e800, 0x1fabe3,
};
static const uint32_t lbrx__tok_lower_runs[360] = {
    0x20832, 0x200020, 0x6002c, 0x200020, 0x6c00c, 0x200020, 0x8002f, 0x200001,
    0x98000, 0x1fff39, 0x99005, 0x200001, 0x9c80f, 0x200001, 0xa502d, 0x200001,
    0xbc000, 0x1fff87, 0xbc805, 0x200001, 0xc0800, 0x2000d2, 0xc1003, 0x200001,
    0xc3000, 0x2000ce, 0xc3800, 0x200001, 0xc4802, 0x2000cd, 0xc5800, 0x200001,
    0xc7000, 0x20004f, 0xc7800, 0x2000ca, 0xc8000, 0x2000cb, 0xc8800, 0x200001,
    0xc9800, 0x2000cd, 0xca000, 0x2000cf, 0xcb000, 0x2000d3, 0xcb800, 0x2000d1,
    0xcc000, 0x200001, 0xce000, 0x2000d3, 0xce800, 0x2000d5, 0xcf800, 0x2000d6,
    0xd0005, 0x200001, 0xd3000, 0x2000da, 0xd3800, 0x200001, 0xd4800, 0x2000da,
    0xd6000, 0x200001, 0xd7000, 0x2000da, 0xd7800, 0x200001, 0xd8802, 0x2000d9,
    0xd9803, 0x200001, 0xdb800, 0x2000db, 0xdc000, 0x200001, 0xde000, 0x200001,
    0xe2002, 0x800001c6, 0xe3802, 0x800001c9, 0xe5002, 0x800001cc, 0xe680f, 0x200001,
    0xef011, 0x200001, 0xf8802, 0x800001f3, 0xfa000, 0x200001, 0xfb000, 0x1fff9f,
    0xfb800, 0x1fffc8, 0xfc027, 0x200001, 0x110000, 0x1fff7e, 0x111011, 0x200001,
    0x11d000, 0x202a2b, 0x11d800, 0x200001, 0x11e800, 0x1fff5d, 0x11f000, 0x202a28,
    0x120800, 0x200001, 0x121800, 0x1fff3d, 0x122000, 0x200045, 0x122800, 0x200047,
    0x123009, 0x200001, 0x1b8003, 0x200001, 0x1bb000, 0x200001, 0x1bf800, 0x200074,
    0x1c3000, 0x200026, 0x1c4004, 0x200025, 0x1c6000, 0x200040, 0x1c7002, 0x20003f,
    0x1c8820, 0x200020, 0x1d1810, 0x200020, 0x1e7800, 0x200008, 0x1ec017, 0x200001,
    0x1fa000, 0x1fffc4, 0x1fb800, 0x200001, 0x1fc800, 0x1ffff9, 0x1fd000, 0x200001,
    0x1fe804, 0x1fff7e, 0x20001e, 0x200050, 0x20803e, 0x200020, 0x230021, 0x200001,
    0x245035, 0x200001, 0x260000, 0x20000f, 0x26080d, 0x200001, 0x26805f, 0x200001,
    0x29884a, 0x200030, 0x85004a, 0x201c60, 0x863800, 0x201c60, 0x866800, 0x201c60,
    0x9d009e, 0x2097d0, 0x9f800a, 0x200008, 0xe48054, 0x1ff440, 0xe5e804, 0x1ff440,
    0xf00095, 0x200001, 0xf4f000, 0x1fe241, 0xf5005f, 0x200001, 0xf8400e, 0x1ffff8,
    0xf8c00a, 0x1ffff8, 0xf9400e, 0x1ffff8, 0xf9c00e, 0x1ffff8, 0xfa400a, 0x1ffff8,
    0xfac807, 0x1ffff8, 0xfb400e, 0x1ffff8, 0xfc400e, 0x1ffff8, 0xfcc00e, 0x1ffff8,
    0xfd400e, 0x1ffff8, 0xfdc002, 0x1ffff8, 0xfdd002, 0x1fffb6, 0xfde000, 0x1ffff7,
    0xfe4006, 0x1fffaa, 0xfe6000, 0x1ffff7, 0xfec002, 0x1ffff8, 0xfed002, 0x1fff9c,
    0xff4002, 0x1ffff8, 0xff5002, 0x1fff90, 0xff6000, 0x1ffff9, 0xffc002, 0x1fff80,
    0xffd002, 0x1fff82, 0xffe000, 0x1ffff7, 0x1093000, 0x1fe2a3, 0x1095000, 0x1fdf41,
    0x1095800, 0x1fdfba, 0x1099000, 0x20001c, 0x10b001e, 0x200010, 0x10c1800, 0x200001,
    0x125b032, 0x20001a, 0x160005e, 0x200030, 0x1630000, 0x200001, 0x1631000, 0x1fd609,
    0x1631800, 0x1ff11a, 0x1632000, 0x1fd619, 0x1633805, 0x200001, 0x1636800, 0x1fd5e4,
    0x1637000, 0x1fd603, 0x1637800, 0x1fd5e1, 0x1638000, 0x1fd5e2, 0x1639000, 0x200001,
    0x163a800, 0x200001, 0x163f002, 0x1fd5c1, 0x1640063, 0x200001, 0x1675803, 0x200001,
    0x1679000, 0x200001, 0x532002d, 0x200001, 0x534001b, 0x200001, 0x539100d, 0x200001,
    0x539903d, 0x200001, 0x53bc803, 0x200001, 0x53be800, 0x1f75fc, 0x53bf009, 0x200001,
    0x53c5800, 0x200001, 0x53c6800, 0x1f5ad8, 0x53c8003, 0x200001, 0x53cb013, 0x200001,
    0x53d5000, 0x1f5abc, 0x53d5800, 0x1f5ab1, 0x53d6000, 0x1f5ab5, 0x53d6800, 0x1f5abf,
    0x53d7000, 0x1f5abc, 0x53d8000, 0x1f5aee, 0x53d8800, 0x1f5ad6, 0x53d9000, 0x1f5aeb,
    0x53d9800, 0x2003a0, 0x53da00f, 0x200001, 0x53e2000, 0x1fffd0, 0x53e2800, 0x1f5abd,
    0x53e3000, 0x1f75c8, 0x53e3803, 0x200001, 0x53e8000, 0x200001, 0x53eb003, 0x200001,
    0x53fa800, 0x200001, 0x7f90832, 0x200020, 0x820004e, 0x200028, 0x8258046, 0x200028,
    0x82b8014, 0x200027, 0x82be01c, 0x200027, 0x82c600c, 0x200027, 0x82ca002, 0x200027,
    0x8640064, 0x200040, 0x8c5003e, 0x200020, 0xb72003e, 0x200020, 0xf480042, 0x200022,
};
/* END GENERATED */

/* ---- Unicode classes --------------------------------------------------------------------- */

enum { LBRX__TOK_L = 1, LBRX__TOK_N = 2, LBRX__TOK_P = 4, LBRX__TOK_M = 8, LBRX__TOK_S = 16, LBRX__TOK_WS = 32, LBRX__TOK_C = 64 };

/* Class flags of code point c (values above 0x10FFFF stand for invalid bytes: class "other"). */
LBRX__TOK unsigned lbrx__tok_flags(uint32_t c) {
    static const unsigned char cls_flag[8] = { 0, LBRX__TOK_L, LBRX__TOK_N, LBRX__TOK_P, LBRX__TOK_M, LBRX__TOK_S, LBRX__TOK_C, 0 };
    size_t lo = 0, hi = sizeof lbrx__tok_ucat / sizeof lbrx__tok_ucat[0];
    unsigned ws;
    if (c > 0x10FFFF) return 0;
    /* White_Space (what \s matches in Oniguruma and in Python's re) */
    ws = (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    while (hi - lo > 1) { /* last entry whose start <= c */
        size_t mid = lo + (hi - lo) / 2;
        if ((lbrx__tok_ucat[mid] >> 3) <= c) lo = mid; else hi = mid;
    }
    return cls_flag[lbrx__tok_ucat[lo] & 7] | (ws ? LBRX__TOK_WS : 0);
}

/* c through a generated code point map (runs of n_runs: lbrx__tok_fold_runs, WordPiece's NFD
   first code point lowercased, or lbrx__tok_lower_runs, lowercase alone). */
LBRX__TOK uint32_t lbrx__tok_cpmap(const uint32_t *runs, size_t n_runs, uint32_t c) {
    size_t lo = 0, hi = n_runs;
    uint32_t first, stride, k, v;
    if (c > 0x10FFFF || c < (runs[0] >> 11)) return c;
    while (hi - lo > 1) { /* last run whose first code point <= c */
        size_t mid = lo + (hi - lo) / 2;
        if ((runs[2 * mid] >> 11) <= c) lo = mid; else hi = mid;
    }
    first = runs[2 * lo] >> 11;
    stride = (runs[2 * lo] & 1) + 1;
    k = (c - first) / stride;
    if ((c - first) % stride || k > ((runs[2 * lo] >> 1) & 1023)) return c;
    v = runs[2 * lo + 1];
    return v & 0x80000000u ? v & 0x1FFFFFu : c + v - 0x200000u;
}
#define LBRX__TOK_MAP(table, c) lbrx__tok_cpmap(table, sizeof table / sizeof table[0] / 2, c)

/* Decode one code point at s[0..n) (n >= 1), strictly (no overlongs, surrogates, > 10FFFF);
   a byte that starts no valid sequence is returned as 0x110000 + byte, length 1. */
LBRX__TOK uint32_t lbrx__tok_utf8(const unsigned char *s, size_t n, size_t *used) {
    unsigned c = s[0];
    *used = 1;
    if (c < 0x80) return c;
    if (c >= 0xC2 && c <= 0xDF && n >= 2 && (s[1] & 0xC0) == 0x80) { *used = 2; return ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu); }
    if (c >= 0xE0 && c <= 0xEF && n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
        uint32_t v = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) { *used = 3; return v; }
    }
    if (c >= 0xF0 && c <= 0xF4 && n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
        uint32_t v = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
        if (v >= 0x10000 && v <= 0x10FFFF) { *used = 4; return v; }
    }
    return 0x110000u + c;
}

/* Write code point c as UTF-8 into out (4 bytes room); returns the length. */
LBRX__TOK size_t lbrx__tok_put_utf8(uint32_t c, char *out) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F)); out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* GPT-2's byte-level alphabet: byte b is shown as code point lbrx__tok_b2u(b). */
LBRX__TOK uint32_t lbrx__tok_b2u(unsigned b) {
    unsigned i, n = 0;
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return b;
    for (i = 0; i < b; i++)
        if (!((i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF))) n++;
    return 256 + n;
}

/* The byte that code point u shows in the byte-level alphabet, -1 if none. */
LBRX__TOK int lbrx__tok_u2b(uint32_t u) {
    unsigned b, n = 0;
    if ((u >= 0x21 && u <= 0x7E) || (u >= 0xA1 && u <= 0xAC) || (u >= 0xAE && u <= 0xFF)) return (int)u;
    if (u < 256 || u >= 256 + 68) return -1;
    for (b = 0; b < 256; b++)
        if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))) {
            if (256 + n == u) return (int)b;
            n++;
        }
    return -1;
}

/* ---- Pre-tokenizer rules ----------------------------------------------------------------------
   Each rule is one regex of a pre-tokenizer, written by hand: match(at i, piece ends at e)
   returns the length of the match starting at i (0: none). A rule splits every piece into its
   matches and the gaps between them (Hugging Face's Split with behavior Isolated, llama.cpp's
   unicode_regex_split). cp[] holds the piece's code points, fl[] their class flags. */

enum {
    LBRX__TOK_R_END = 0,
    LBRX__TOK_R_GPT2,        /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    LBRX__TOK_R_LLAMA3,      /* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    LBRX__TOK_R_QWEN2,       /* the same with \p{N} one at a time */
    LBRX__TOK_R_DIGIT,       /* \p{N} */
    LBRX__TOK_R_DIGITS,      /* \p{N}+ */
    LBRX__TOK_R_DIGIT3,      /* [0-9][0-9][0-9] */
    LBRX__TOK_R_PUNCT,       /* [\p{P}\$\+<=>\^~\|]+ */
    LBRX__TOK_R_PUNCT_BT,    /* [\p{P}\$\+<=>\^~\|`]+ */
    LBRX__TOK_R_NEWLINE,     /* [\r\n] */
    LBRX__TOK_R_DS_LATIN,    /* \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+ (DeepSeek LLM's cased letters) */
    LBRX__TOK_R_DS_PUNCT,    /* \s?[!-/:-~！-／：-～‘-‟　-。]+ */
    LBRX__TOK_R_WS_END,      /* \s+$ */
    LBRX__TOK_R_CJK,         /* [一-龥ࠀ-一가-퟿]+ */
    LBRX__TOK_R_SP_LETTERS,  /* \s?\p{L}+ */
    LBRX__TOK_R_SP_PUNCT,    /* \s?\p{P}+ */
    LBRX__TOK_R_COUNT
};

/* The Hugging Face regex text of each rule (as tokenizer.json stores it, JSON-decoded). */
static const char *const lbrx__tok_rule_regex[LBRX__TOK_R_COUNT] = {
    0,
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    "\\p{N}",
    "\\p{N}+",
    "[0-9][0-9][0-9]",
    "[\\p{P}\\$\\+<=>\\^~\\|]+",
    "[\\p{P}\\$\\+<=>\\^~\\|`]+",
    "[\\r\\n]",
    0, 0,
    "\\s+$",
    0,
    "\\s?\\p{L}+",
    "\\s?\\p{P}+",
};

/* Code point ranges of DeepSeek LLM's letter class (pairs, inclusive). */
static const uint32_t lbrx__tok_ds_latin[] = {
    0x41, 0x5A, 0x61, 0x7A, 0xB5, 0xB5, 0xC0, 0xD6, 0xD8, 0xF6, 0xF8, 0x1BA, 0x1BC, 0x1BF, 0x1C4, 0x293,
    0x295, 0x2AF, 0x370, 0x373, 0x376, 0x377, 0x37B, 0x37D, 0x37F, 0x37F, 0x386, 0x386, 0x388, 0x38A,
    0x38C, 0x38C, 0x38E, 0x3A1, 0x3A3, 0x3F5, 0x3F7, 0x481, 0x48A, 0x52F, 0x531, 0x556, 0x10A0, 0x10C5,
    0x13A0, 0x13F5, 0x13F8, 0x13FD, 0x1C90, 0x1CBA, 0x1CBD, 0x1CBF, 0x1D00, 0x1D2B, 0x1D6B, 0x1D77,
    0x1D79, 0x1D9A, 0x1E00, 0x1F15, 0x1F18, 0x1F1D, 0x1F20, 0x1F45, 0x1F48, 0x1F4D, 0x1F50, 0x1F57,
    0x1F59, 0x1F59, 0x1F5B, 0x1F5B, 0x1F5D, 0x1F5D, 0x1F5F, 0x1F7D, 0x1F80, 0x1FB4, 0x1FB6, 0x1FBC,
    0x1FBE, 0x1FBE, 0x1FC2, 0x1FC4, 0x1FC6, 0x1FCC, 0x1FD0, 0x1FD3, 0x1FD6, 0x1FDB, 0x1FE0, 0x1FEC,
    0x1FF2, 0x1FF4, 0x1FF6, 0x1FFC, 0x2102, 0x2102, 0x2107, 0x2107, 0x210A, 0x2113, 0x2115, 0x2115,
    0x2119, 0x211D, 0x2124, 0x2124, 0x2126, 0x2126, 0x2128, 0x2128, 0x212A, 0x212D, 0x212F, 0x2134,
    0x2139, 0x2139, 0x213C, 0x213F, 0x2145, 0x2149, 0x214E, 0x214E, 0x2183, 0x2184, 0x2C00, 0x2C7B,
    0x2C7E, 0x2CE4, 0x2CEB, 0x2CEE, 0x2CF2, 0x2CF3, 0xA640, 0xA66D, 0xA680, 0xA69B, 0xA722, 0xA76F,
    0xA771, 0xA787, 0xA78B, 0xA78E, 0xAB70, 0xABBF, 0xFB00, 0xFB06, 0xFB13, 0xFB17, 0xFF21, 0xFF3A,
    0xFF41, 0xFF5A, 0x10400, 0x1044F, 0x104B0, 0x104D3, 0x104D8, 0x104FB, 0x10C80, 0x10CB2, 0x10CC0,
    0x10CF2, 0x118A0, 0x118DF, 0x1E900, 0x1E943
};
static const uint32_t lbrx__tok_ds_punct[] = { 0x21, 0x2F, 0x3A, 0x7E, 0xFF01, 0xFF0F, 0xFF1A, 0xFF5E, 0x2018, 0x201F, 0x3000, 0x3002 };
static const uint32_t lbrx__tok_cjk[] = { 0x4E00, 0x9FA5, 0x0800, 0x4E00, 0xAC00, 0xD7FF };

LBRX__TOK int lbrx__tok_in(const uint32_t *ranges, size_t n, uint32_t c) {
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        if (c >= ranges[i] && c <= ranges[i + 1]) return 1;
    return 0;
}
#define LBRX__TOK_IN(r, c) lbrx__tok_in(r, sizeof r / sizeof r[0], c)

/* Length of a run from i (< e) of code points with any of the flags in `want`, at most max. */
LBRX__TOK size_t lbrx__tok_run(const unsigned char *fl, size_t i, size_t e, unsigned want, size_t max) {
    size_t j = i;
    while (j < e && j - i < max && (fl[j] & want)) j++;
    return j - i;
}

/* 's 't 're 've 'm 'll 'd at i (any case when nocase); 0 if none. */
LBRX__TOK size_t lbrx__tok_contraction(const uint32_t *cp, size_t i, size_t e, int nocase) {
    uint32_t a, b;
    if (cp[i] != '\'' || i + 1 >= e) return 0;
    a = cp[i + 1];
    if (nocase && a < 128 && a >= 'A' && a <= 'Z') a += 32;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 >= e) return 0;
    b = cp[i + 2];
    if (nocase && b < 128 && b >= 'A' && b <= 'Z') b += 32;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* \s+(?!\S)|\s+ at i: a whitespace run that leaves its last character to the next token when
   something other than whitespace follows. */
LBRX__TOK size_t lbrx__tok_spaces(const unsigned char *fl, size_t i, size_t e) {
    size_t k = i + lbrx__tok_run(fl, i, e, LBRX__TOK_WS, (size_t)-1);
    if (k == i) return 0;
    if (k == e || k - i == 1) return k - i;
    return k - 1 - i;
}

LBRX__TOK size_t lbrx__tok_match(int rule, const uint32_t *cp, const unsigned char *fl, size_t i, size_t e) {
    const unsigned LN = LBRX__TOK_L | LBRX__TOK_N, WLN = LBRX__TOK_WS | LBRX__TOK_L | LBRX__TOK_N;
    size_t n, j;
    switch (rule) {
    case LBRX__TOK_R_GPT2:
        if ((n = lbrx__tok_contraction(cp, i, e, 0)) != 0) return n;
        j = i + (cp[i] == ' ' && i + 1 < e && !(fl[i + 1] & LBRX__TOK_WS));
        if (j < e) {
            if (fl[j] & LBRX__TOK_L) return j - i + lbrx__tok_run(fl, j, e, LBRX__TOK_L, (size_t)-1);
            if (fl[j] & LBRX__TOK_N) return j - i + lbrx__tok_run(fl, j, e, LBRX__TOK_N, (size_t)-1);
            if (!(fl[j] & WLN)) {
                for (n = j; n < e && !(fl[n] & WLN); n++) {}
                return n - i;
            }
        }
        return lbrx__tok_spaces(fl, i, e);
    case LBRX__TOK_R_LLAMA3:
    case LBRX__TOK_R_QWEN2:
        if ((n = lbrx__tok_contraction(cp, i, e, 1)) != 0) return n;
        if (fl[i] & LBRX__TOK_L) return lbrx__tok_run(fl, i, e, LBRX__TOK_L, (size_t)-1);
        if (cp[i] != '\r' && cp[i] != '\n' && !(fl[i] & LN) && i + 1 < e && (fl[i + 1] & LBRX__TOK_L))
            return 1 + lbrx__tok_run(fl, i + 1, e, LBRX__TOK_L, (size_t)-1);
        if (fl[i] & LBRX__TOK_N) return lbrx__tok_run(fl, i, e, LBRX__TOK_N, rule == LBRX__TOK_R_LLAMA3 ? 3 : 1);
        j = i + (cp[i] == ' ');
        if (j < e && !(fl[j] & WLN)) {
            for (n = j; n < e && !(fl[n] & WLN); n++) {}
            while (n < e && (cp[n] == '\r' || cp[n] == '\n')) n++;
            return n - i;
        }
        if (fl[i] & LBRX__TOK_WS) {
            size_t k = i + lbrx__tok_run(fl, i, e, LBRX__TOK_WS, (size_t)-1), last = k;
            for (j = i; j < k; j++)
                if (cp[j] == '\r' || cp[j] == '\n') last = j;
            if (last < k) return last + 1 - i; /* \s*[\r\n]+ */
            return lbrx__tok_spaces(fl, i, e);
        }
        return 0;
    case LBRX__TOK_R_DIGIT: return (fl[i] & LBRX__TOK_N) ? 1 : 0;
    case LBRX__TOK_R_DIGITS: return lbrx__tok_run(fl, i, e, LBRX__TOK_N, (size_t)-1);
    case LBRX__TOK_R_DIGIT3:
        for (j = i; j < e && j - i < 3 && cp[j] >= '0' && cp[j] <= '9'; j++) {}
        return j - i == 3 ? 3 : 0;
    case LBRX__TOK_R_PUNCT:
    case LBRX__TOK_R_PUNCT_BT:
        for (j = i; j < e; j++) {
            uint32_t c = cp[j];
            if (!((fl[j] & LBRX__TOK_P) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' ||
                  c == '|' || (c == '`' && rule == LBRX__TOK_R_PUNCT_BT)))
                break;
        }
        return j - i;
    case LBRX__TOK_R_NEWLINE: return cp[i] == '\r' || cp[i] == '\n';
    case LBRX__TOK_R_DS_LATIN:
    case LBRX__TOK_R_DS_PUNCT:
    case LBRX__TOK_R_SP_LETTERS:
    case LBRX__TOK_R_SP_PUNCT:
        for (n = 0; n < 2; n++) { /* \s?X+: first with the optional space taken, then without */
            j = i + (n == 0);
            if (n == 0 && !(fl[i] & LBRX__TOK_WS)) continue;
            while (j < e) {
                uint32_t c = cp[j];
                int in = rule == LBRX__TOK_R_DS_LATIN ? LBRX__TOK_IN(lbrx__tok_ds_latin, c)
                       : rule == LBRX__TOK_R_DS_PUNCT ? LBRX__TOK_IN(lbrx__tok_ds_punct, c)
                       : rule == LBRX__TOK_R_SP_LETTERS ? (fl[j] & LBRX__TOK_L) != 0 : (fl[j] & LBRX__TOK_P) != 0;
                if (!in) break;
                j++;
            }
            if (j > i + (n == 0)) return j - i;
        }
        return 0;
    case LBRX__TOK_R_WS_END: {
        size_t k = i + lbrx__tok_run(fl, i, e, LBRX__TOK_WS, (size_t)-1);
        return k > i && k == e ? k - i : 0;
    }
    case LBRX__TOK_R_CJK:
        for (j = i; j < e && LBRX__TOK_IN(lbrx__tok_cjk, cp[j]); j++) {}
        return j - i;
    default: return 0;
    }
}

/* Pre-tokenizers by GGUF name (tokenizer.ggml.pre), as llama.cpp defines them. */
typedef struct lbrx__tok_pre { const char *names; unsigned char rules[7]; unsigned char ignore_merges; } lbrx__tok_pre;
static const lbrx__tok_pre lbrx__tok_pres[] = {
    { "default", { LBRX__TOK_R_PUNCT, LBRX__TOK_R_GPT2, LBRX__TOK_R_DIGITS, LBRX__TOK_R_DIGIT3 }, 0 },
    { "llama-bpe llama3 llama-v3 falcon3 pixtral", { LBRX__TOK_R_LLAMA3 }, 1 },
    { "dbrx smaug-bpe", { LBRX__TOK_R_LLAMA3 }, 0 },
    { "qwen2 deepseek-r1-qwen stablelm2 hunyuan", { LBRX__TOK_R_QWEN2 }, 0 },
    { "deepseek-llm", { LBRX__TOK_R_NEWLINE, LBRX__TOK_R_DS_LATIN, LBRX__TOK_R_DS_PUNCT, LBRX__TOK_R_WS_END,
                        LBRX__TOK_R_CJK, LBRX__TOK_R_DIGITS }, 0 },
    { "deepseek-coder", { LBRX__TOK_R_NEWLINE, LBRX__TOK_R_SP_LETTERS, LBRX__TOK_R_SP_PUNCT, LBRX__TOK_R_CJK,
                          LBRX__TOK_R_DIGIT }, 0 },
    { "falcon", { LBRX__TOK_R_PUNCT_BT, LBRX__TOK_R_GPT2, LBRX__TOK_R_DIGIT3 }, 0 },
    { "starcoder refact command-r smollm codeshell exaone minerva-7b", { LBRX__TOK_R_DIGIT, LBRX__TOK_R_GPT2 }, 0 },
    { "gpt-2 mpt olmo jais trillion", { LBRX__TOK_R_GPT2 }, 0 },
};
#define LBRX__TOK_N_PRES ((int)(sizeof lbrx__tok_pres / sizeof lbrx__tok_pres[0]))

/* Index of the pre-tokenizer called name (len bytes), -1 if none. */
LBRX__TOK int lbrx__tok_find_pre(const char *name, size_t len) {
    int i;
    for (i = 0; i < LBRX__TOK_N_PRES; i++) {
        const char *p = lbrx__tok_pres[i].names;
        while (*p) {
            size_t w = strcspn(p, " ");
            if (w == len && memcmp(p, name, len) == 0) return i;
            p += w;
            while (*p == ' ') p++;
        }
    }
    return -1;
}

/* ---- Tables ---------------------------------------------------------------------------------- */

LBRX__TOK uint32_t lbrx__tok_hash_bytes(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

LBRX__TOK uint32_t lbrx__tok_hash_pair(uint64_t k) {
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33;
    return (uint32_t)k;
}

/* Id of the token whose bytes are p[0..n) among those in the string table, -1 if none. */
LBRX__TOK int32_t lbrx__tok_lookup(const lbrx_tokenizer *t, const char *p, size_t n) {
    uint32_t h;
    if (!t->hash || n > LBRX_TOKENIZER_MAX_PIECE) return -1;
    for (h = lbrx__tok_hash_bytes(p, n) & t->hash_mask;; h = (h + 1) & t->hash_mask) {
        int32_t id = t->hash[h];
        if (id < 0) return -1;
        if (t->len[id] == n && memcmp(t->text + t->off[id], p, n) == 0) return id;
    }
}

/* Merge of left then right: its rank (lower merges first) and merged id; 0 if none. */
LBRX__TOK int lbrx__tok_pair(const lbrx_tokenizer *t, int32_t left, int32_t right, uint32_t *rank, int32_t *id) {
    uint64_t k;
    uint32_t h;
    if (!t->pairs || left < 0 || right < 0) return 0;
    k = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    for (h = lbrx__tok_hash_pair(k) & t->pair_mask;; h = (h + 1) & t->pair_mask) {
        if (t->pairs[h].id < 0) return 0;
        if (t->pairs[h].key == k) { *rank = t->pairs[h].rank; *id = t->pairs[h].id; return 1; }
    }
}

LBRXDEF void lbrx_tokenizer_release(lbrx_tokenizer *t) {
    if (!t) return;
    free(t->type); free(t->attr); free(t->score); free(t->text); free(t->off); free(t->len); free(t->hash);
    free(t->pairs); free(t->special);
    memset(t, 0, sizeof *t);
}

/* Room for n tokens of text_bytes bytes in all. */
LBRX__TOK lbrx_result lbrx__tok_alloc(lbrx_tokenizer *t, uint64_t n, size_t text_bytes, lbrx_error *err) {
    size_t cap;
    memset(t, 0, sizeof *t);
    t->bos = t->eos = t->unk = t->eot = -1;
    t->pre = -1;
    if (n == 0 || n > LBRX_TOKENIZER_MAX_VOCAB)
        return lbrx_error_set(err, n ? LBRX_ERR_LIMIT : LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: %llu tokens (must be 1..%d)",
                             (unsigned long long)n, LBRX_TOKENIZER_MAX_VOCAB);
    if (!lbrx_add_size(text_bytes, (size_t)n, &cap) || cap > UINT32_MAX)
        return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer: %zu bytes of token text (limit 4 GiB)", text_bytes);
    t->n_vocab = (int)n;
    t->text_cap = cap;
    t->type = (unsigned char *)calloc((size_t)n, 1);
    t->attr = (unsigned char *)calloc((size_t)n, 1);
    t->score = (float *)calloc((size_t)n, sizeof(float));
    t->text = (char *)malloc(cap);
    t->off = (uint32_t *)calloc((size_t)n, sizeof(uint32_t));
    t->len = (uint32_t *)calloc((size_t)n, sizeof(uint32_t));
    if (!t->type || !t->attr || !t->score || !t->text || !t->off || !t->len) {
        lbrx_tokenizer_release(t);
        return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "tokenizer: out of memory for %llu tokens", (unsigned long long)n);
    }
    return LBRX_OK;
}

/* Parse "<0xXX>" (the name of a byte token); -1 if the piece is not one. */
LBRX__TOK int lbrx__tok_byte_name(const char *p, size_t len) {
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

/* How set_token stores a token's text. */
enum { LBRX__TOK_RAW = 0, LBRX__TOK_SPACES = 1, LBRX__TOK_BYTELEVEL = 2 };

/* Set token i: its text p[0..len) (stored raw, with U+2581 '▁' as ' ' (SPACES), or turned from
   the byte-level alphabet into bytes (BYTELEVEL; characters outside it are kept as they are)),
   score and type (UNDEFINED: derived from the piece as llama2.c's tokenizers need). A byte token
   stores its byte. */
LBRX__TOK lbrx_result lbrx__tok_set(lbrx_tokenizer *t, int i, const char *p, size_t len, float score, int type, int how,
                                    lbrx_error *err) {
    size_t j, w;
    char *dst;
    if (len > LBRX_TOKENIZER_MAX_PIECE)
        return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer: token %d has a piece of %zu bytes (limit %d)", i, len, LBRX_TOKENIZER_MAX_PIECE);
    if (!(score == score) || score > 3.0e38f || score < -3.0e38f)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: token %d has a score that is not a finite number", i);
    if (type < LBRX_TOKEN_UNDEFINED || type > LBRX_TOKEN_BYTE)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: token %d has type %d (must be 0..6)", i, type);
    if (len + 1 > t->text_cap - t->text_used) return lbrx_error_set(err, LBRX_ERR_SIZE_MISMATCH, LBRX_NO_OFFSET, "tokenizer: pieces larger than counted");
    dst = t->text + t->text_used;
    for (j = 0, w = 0; j < len;) {
        const unsigned char *s = (const unsigned char *)p + j;
        if (how == LBRX__TOK_SPACES && j + 2 < len && s[0] == 0xE2 && s[1] == 0x96 && s[2] == 0x81) {
            dst[w++] = ' ';
            j += 3;
        } else if (how == LBRX__TOK_BYTELEVEL) {
            size_t used;
            uint32_t u = lbrx__tok_utf8(s, len - j, &used);
            int b = lbrx__tok_u2b(u);
            if (b >= 0) dst[w++] = (char)b;
            else { memcpy(dst + w, s, used); w += used; }
            j += used;
        } else {
            dst[w++] = p[j++];
        }
    }
    dst[w] = 0;
    if (type == LBRX_TOKEN_UNDEFINED) {
        if (w == 5 && !memcmp(dst, "<unk>", 5)) type = LBRX_TOKEN_UNKNOWN;
        else if ((w == 3 && !memcmp(dst, "<s>", 3)) || (w == 4 && !memcmp(dst, "</s>", 4))) type = LBRX_TOKEN_CONTROL;
        else if (lbrx__tok_byte_name(dst, w) >= 0) type = LBRX_TOKEN_BYTE;
        else type = LBRX_TOKEN_NORMAL;
    }
    if (type == LBRX_TOKEN_BYTE) {
        int b = lbrx__tok_byte_name(dst, w);
        if (b < 0) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: token %d is a byte token but its piece is not <0xXX>", i);
        dst[0] = (char)b;
        dst[1] = 0;
        w = 1;
    }
    t->off[i] = (uint32_t)t->text_used;
    t->len[i] = (uint32_t)w;
    t->score[i] = score;
    t->type[i] = (unsigned char)type;
    t->text_used += w + 1;
    return LBRX_OK;
}

/* Token i as raw text (special and added tokens). */
LBRX__TOK lbrx_result lbrx__tok_set_raw(lbrx_tokenizer *t, int i, const char *p, size_t len, int type, lbrx_error *err) {
    return lbrx__tok_set(t, i, p, len, 0.0f, type, LBRX__TOK_RAW, err);
}

LBRX__TOK int lbrx__tok_is_special(int type) {
    return type == LBRX_TOKEN_CONTROL || type == LBRX_TOKEN_USER_DEFINED || type == LBRX_TOKEN_UNKNOWN;
}

/* Sort order of special tokens: longer text first, then lower id. */
typedef struct lbrx__tok_skey { uint32_t len; int32_t id; } lbrx__tok_skey;
LBRX__TOK int lbrx__tok_special_cmp(const void *pa, const void *pb) {
    const lbrx__tok_skey *a = (const lbrx__tok_skey *)pa, *b = (const lbrx__tok_skey *)pb;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Finish a tokenizer whose tokens are all set: check the special ids, build the string table
   (tokens that text can turn into: normal ones, and user-defined ones for SPM), the byte table
   and the list of special tokens. */
LBRX__TOK lbrx_result lbrx__tok_finish(lbrx_tokenizer *t, lbrx_error *err) {
    int i, j;
    uint32_t cap = 16;
    const int32_t ids[4] = { t->bos, t->eos, t->unk, t->eot };
    const char *names[4] = { "bos", "eos", "unknown", "end-of-turn" };
    for (i = 0; i < 4; i++)
        if (ids[i] < -1 || ids[i] >= t->n_vocab)
            return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: %s token id %d is outside the vocabulary of %d", names[i], (int)ids[i], t->n_vocab);
    while (cap < 2u * (uint32_t)t->n_vocab) cap *= 2;
    t->hash = (int32_t *)malloc((size_t)cap * sizeof(int32_t));
    t->special = (int32_t *)malloc((size_t)t->n_vocab * sizeof(int32_t));
    if (!t->hash || !t->special) return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "tokenizer: out of memory");
    memset(t->hash, 0xFF, (size_t)cap * sizeof(int32_t));
    t->hash_mask = cap - 1;
    if (!t->byte_level) for (i = 0; i < 256; i++) t->byte_id[i] = -1;
    t->n_special = 0;
    memset(t->special_first, 0, sizeof t->special_first);
    for (i = 0; i < t->n_vocab; i++) {
        int ty = t->type[i];
        const char *p = t->text + t->off[i];
        if (ty == LBRX_TOKEN_BYTE && !t->byte_level) {
            unsigned char b = (unsigned char)p[0];
            if (t->byte_id[b] < 0) t->byte_id[b] = i;
        }
        if (t->unk < 0 && ty == LBRX_TOKEN_UNKNOWN) t->unk = i;
        if (t->len[i] > t->max_len) t->max_len = t->len[i];
        if (t->len[i] > 0 && (ty == LBRX_TOKEN_NORMAL || ty == LBRX_TOKEN_UNDEFINED || t->kind == LBRX_TOKENIZER_WPM ||
                              (ty == LBRX_TOKEN_USER_DEFINED && t->kind == LBRX_TOKENIZER_SPM))) {
            uint32_t h;
            for (h = lbrx__tok_hash_bytes(p, t->len[i]) & t->hash_mask;; h = (h + 1) & t->hash_mask) {
                int32_t o = t->hash[h];
                if (o < 0) { t->hash[h] = i; break; }
                if (t->len[o] == t->len[i] && memcmp(t->text + t->off[o], p, t->len[i]) == 0) break; /* lowest id keeps it */
            }
        }
        if (lbrx__tok_is_special(ty) && t->len[i] > 0) {
            t->special[t->n_special++] = i;
            t->special_first[(unsigned char)p[0] >> 3] |= (unsigned char)(1u << ((unsigned char)p[0] & 7));
        }
    }
    if (t->n_special) {
        lbrx__tok_skey *keys = (lbrx__tok_skey *)malloc((size_t)t->n_special * sizeof *keys);
        if (!keys) return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "tokenizer: out of memory");
        for (i = 0; i < t->n_special; i++) { keys[i].id = t->special[i]; keys[i].len = t->len[t->special[i]]; }
        qsort(keys, (size_t)t->n_special, sizeof *keys, lbrx__tok_special_cmp);
        for (i = 0; i < t->n_special; i++) t->special[i] = keys[i].id;
        free(keys);
    }
    for (i = 0; i < 128; i++) t->ascii_fl[i] = (unsigned char)lbrx__tok_flags((uint32_t)i);
    if (t->byte_level)
        for (i = 0; i < 256; i++) {
            char c = (char)i;
            t->byte_id[i] = lbrx__tok_lookup(t, &c, 1);
        }
    if (t->eot < 0) { /* end of turn: the first of these control tokens the vocabulary has */
        static const char *const eot[] = { "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>" };
        for (j = 0; j < (int)(sizeof eot / sizeof eot[0]) && t->eot < 0; j++)
            for (i = 0; i < t->n_special; i++) {
                int32_t id = t->special[i];
                if (t->type[id] == LBRX_TOKEN_CONTROL && t->len[id] == strlen(eot[j]) && !memcmp(t->text + t->off[id], eot[j], t->len[id])) {
                    t->eot = id;
                    break;
                }
            }
    }
    return LBRX_OK;
}

/* Add merge number `rank`: tokens left and right (ids) make merged. First one wins. */
LBRX__TOK void lbrx__tok_add_pair(lbrx_tokenizer *t, int32_t left, int32_t right, int32_t merged, uint32_t rank) {
    uint64_t k = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    uint32_t h;
    for (h = lbrx__tok_hash_pair(k) & t->pair_mask;; h = (h + 1) & t->pair_mask) {
        if (t->pairs[h].id < 0) { t->pairs[h].key = k; t->pairs[h].rank = rank; t->pairs[h].id = merged; t->n_merges++; return; }
        if (t->pairs[h].key == k) return;
    }
}

LBRX__TOK lbrx_result lbrx__tok_alloc_pairs(lbrx_tokenizer *t, uint64_t n, lbrx_error *err) {
    uint32_t cap = 16;
    if (n > LBRX_TOKENIZER_MAX_VOCAB * 2ull) return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer: %llu merges (limit %d)", (unsigned long long)n, LBRX_TOKENIZER_MAX_VOCAB * 2);
    while (cap < 2 * n) cap *= 2;
    t->pairs = (struct lbrx__tok_merge_slot *)malloc((size_t)cap * sizeof *t->pairs);
    if (!t->pairs) return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "tokenizer: out of memory for %llu merges", (unsigned long long)n);
    memset(t->pairs, 0xFF, (size_t)cap * sizeof *t->pairs);
    t->pair_mask = cap - 1;
    return LBRX_OK;
}

/* Add merge `rank` given as the texts of its two sides (in the vocabulary's own form: byte-level
   or with '▁'); both sides and their join must be tokens. `where` names it for errors. */
LBRX__TOK lbrx_result lbrx__tok_add_merge(lbrx_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen, uint32_t rank,
                                          const char *where, lbrx_error *err) {
    char buf[2 * LBRX_TOKENIZER_MAX_PIECE + 8];
    size_t i, w = 0, wa = 0;
    int side;
    int32_t ia, ib, im;
    if (alen > LBRX_TOKENIZER_MAX_PIECE || blen > LBRX_TOKENIZER_MAX_PIECE)
        return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer: %s is longer than %d bytes", where, LBRX_TOKENIZER_MAX_PIECE);
    for (side = 0; side < 2; side++) { /* convert like the vocabulary's tokens */
        const char *p = side ? b : a;
        size_t n = side ? blen : alen;
        for (i = 0; i < n;) {
            const unsigned char *s = (const unsigned char *)p + i;
            if (t->byte_level) {
                size_t used;
                int by = lbrx__tok_u2b(lbrx__tok_utf8(s, n - i, &used));
                if (by >= 0) buf[w++] = (char)by;
                else { memcpy(buf + w, s, used); w += used; }
                i += used;
            } else if (i + 2 < n && s[0] == 0xE2 && s[1] == 0x96 && s[2] == 0x81) {
                buf[w++] = ' ';
                i += 3;
            } else {
                buf[w++] = p[i++];
            }
        }
        if (side == 0) wa = w;
    }
    ia = lbrx__tok_lookup(t, buf, wa);
    ib = lbrx__tok_lookup(t, buf + wa, w - wa);
    im = lbrx__tok_lookup(t, buf, w);
    if (ia < 0 || ib < 0 || im < 0)
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: %s (\"%.*s\" + \"%.*s\") names %s that is not in the vocabulary", where,
                             (int)(alen < 40 ? alen : 40), a, (int)(blen < 40 ? blen : 40), b,
                             ia < 0 ? "a left token" : ib < 0 ? "a right token" : "a merged token");
    lbrx__tok_add_pair(t, ia, ib, im, rank);
    return LBRX_OK;
}

LBRX__TOK void lbrx__tok_describe(lbrx_tokenizer *t, const char *model, const char *pre, size_t pre_len) {
    snprintf(t->desc, sizeof t->desc, "%s %.*s, %d tokens", model, (int)(pre_len < 40 ? pre_len : 40), pre, t->n_vocab);
}

/* ---- GGUF ------------------------------------------------------------------------------------ */

/* An optional integer key in [-1, n_vocab): def when missing. */
LBRX__TOK lbrx_result lbrx__tok_gguf_id(const lbrx_gguf *g, const char *key, int32_t def, int n_vocab, int32_t *out, lbrx_error *err) {
    int64_t v;
    lbrx_result r = lbrx_gguf_get_int(g, key, &v, err);
    if (r == LBRX_ERR_NOT_FOUND) { *out = def < n_vocab ? def : -1; return LBRX_OK; }
    if (r != LBRX_OK) return r;
    if (v < -1 || v >= n_vocab) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "%s = %lld is outside the vocabulary of %d tokens", key, (long long)v, n_vocab);
    *out = (int32_t)v;
    return LBRX_OK;
}

LBRX__TOK int lbrx__tok_gguf_bool(const lbrx_gguf *g, const char *key, int def) {
    int v;
    return lbrx_gguf_get_bool(g, key, &v, 0) == LBRX_OK ? v : def;
}

LBRXDEF lbrx_result lbrx_tokenizer_init_gguf(lbrx_tokenizer *t, const lbrx_gguf *g, lbrx_error *err) {
    const lbrx_gguf_str *toks, *merges = 0;
    const void *scores = 0, *types = 0;
    uint64_t n, ns = 0, nt = 0, nm = 0, i;
    size_t total = 0;
    lbrx_gguf_str model, pre = { "", 0 };
    int kind, pre_i = -1;
    lbrx_result r;
    memset(t, 0, sizeof *t);
    if ((r = lbrx_gguf_get_str(g, "tokenizer.ggml.model", &model, err)) != LBRX_OK) {
        if (r == LBRX_ERR_NOT_FOUND) return lbrx_error_set(err, r, LBRX_NO_OFFSET, "the file has no tokenizer (tokenizer.ggml.model)");
        return r;
    }
    if (model.len == 5 && !memcmp(model.data, "llama", 5)) kind = LBRX_TOKENIZER_SPM;
    else if (model.len == 4 && !memcmp(model.data, "gpt2", 4)) kind = LBRX_TOKENIZER_BPE;
    else if (model.len == 4 && !memcmp(model.data, "bert", 4)) kind = LBRX_TOKENIZER_WPM;
    else if ((model.len == 8 && !memcmp(model.data, "no_vocab", 8)) || (model.len == 4 && !memcmp(model.data, "none", 4)))
        return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "the file has no tokenizer (tokenizer.ggml.model = \"%.*s\")", (int)model.len, model.data);
    else
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer model \"%.*s\" (tokenizer.ggml.model) is not supported", (int)(model.len < 64 ? model.len : 64), model.data);
    if (kind == LBRX_TOKENIZER_BPE) {
        r = lbrx_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err);
        if (r == LBRX_ERR_NOT_FOUND) { pre.data = "default"; pre.len = 7; }
        else if (r != LBRX_OK) return r;
        if ((pre_i = lbrx__tok_find_pre(pre.data, (size_t)pre.len)) < 0)
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "pre-tokenizer \"%.*s\" (tokenizer.ggml.pre) is not known", (int)(pre.len < 64 ? pre.len : 64), pre.data);
        if ((r = lbrx_gguf_get_str_array(g, "tokenizer.ggml.merges", &merges, &nm, err)) != LBRX_OK)
            return r == LBRX_ERR_NOT_FOUND ? lbrx_error_set(err, r, LBRX_NO_OFFSET, "a gpt2 tokenizer without tokenizer.ggml.merges") : r;
    }
    if ((r = lbrx_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &n, err)) != LBRX_OK)
        return r == LBRX_ERR_NOT_FOUND ? lbrx_error_set(err, r, LBRX_NO_OFFSET, "the file has no tokenizer.ggml.tokens") : r;
    r = lbrx_gguf_get_array(g, "tokenizer.ggml.scores", LBRX_GGUF_FLOAT32, &scores, &ns, err);
    if (r == LBRX_ERR_NOT_FOUND && kind != LBRX_TOKENIZER_SPM) { scores = 0; ns = n; }
    else if (r != LBRX_OK) return r;
    r = lbrx_gguf_get_array(g, "tokenizer.ggml.token_type", LBRX_GGUF_INT32, &types, &nt, err);
    if (r == LBRX_ERR_NOT_FOUND) { types = 0; nt = n; }
    else if (r != LBRX_OK) return r;
    if (ns != n || nt != n)
        return lbrx_error_set(err, LBRX_ERR_SIZE_MISMATCH, LBRX_NO_OFFSET, "tokenizer: %llu tokens but %llu scores and %llu token types",
                             (unsigned long long)n, (unsigned long long)ns, (unsigned long long)nt);
    if (n == 0 || n > LBRX_TOKENIZER_MAX_VOCAB)
        return lbrx_error_set(err, n ? LBRX_ERR_LIMIT : LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer.ggml.tokens: %llu tokens (must be 1..%d)", (unsigned long long)n, LBRX_TOKENIZER_MAX_VOCAB);
    for (i = 0; i < n; i++) {
        if (toks[i].len > LBRX_TOKENIZER_MAX_PIECE)
            return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer.ggml.tokens[%llu] has %llu bytes (limit %d)", (unsigned long long)i, (unsigned long long)toks[i].len, LBRX_TOKENIZER_MAX_PIECE);
        total += (size_t)toks[i].len;
    }
    if ((r = lbrx__tok_alloc(t, n, total, err)) != LBRX_OK) return r;
    t->kind = kind;
    t->byte_level = kind == LBRX_TOKENIZER_BPE;
    for (i = 0; i < n; i++) {
        float score = 0.0f;
        int32_t type = LBRX_TOKEN_UNDEFINED;
        int how;
        if (scores) memcpy(&score, (const unsigned char *)scores + 4 * i, 4);
        if (types) memcpy(&type, (const unsigned char *)types + 4 * i, 4);
        if (kind != LBRX_TOKENIZER_SPM && type == LBRX_TOKEN_UNDEFINED) type = LBRX_TOKEN_NORMAL;
        if (kind != LBRX_TOKENIZER_SPM && type == LBRX_TOKEN_BYTE) type = LBRX_TOKEN_NORMAL; /* GGUF byte-level vocabs mark none */
        if (kind == LBRX_TOKENIZER_SPM) how = LBRX__TOK_SPACES;
        else if (type != LBRX_TOKEN_NORMAL && type != LBRX_TOKEN_UNUSED) how = LBRX__TOK_RAW;
        else how = kind == LBRX_TOKENIZER_WPM ? LBRX__TOK_SPACES : LBRX__TOK_BYTELEVEL;
        if ((r = lbrx__tok_set(t, (int)i, toks[i].data, (size_t)toks[i].len, score, type, how, err)) != LBRX_OK) goto fail;
    }
    if (kind == LBRX_TOKENIZER_WPM) { /* BERT: [CLS] first, [SEP] last (llama.cpp's defaults 101, 102) */
        if ((r = lbrx__tok_gguf_id(g, "tokenizer.ggml.cls_token_id", 101, (int)n, &t->bos, err)) != LBRX_OK ||
            (r = lbrx__tok_gguf_id(g, "tokenizer.ggml.seperator_token_id", 102, (int)n, &t->eos, err)) != LBRX_OK)
            goto fail;
    } else if ((r = lbrx__tok_gguf_id(g, "tokenizer.ggml.bos_token_id", kind == LBRX_TOKENIZER_SPM ? 1 : -1, (int)n, &t->bos, err)) != LBRX_OK ||
               (r = lbrx__tok_gguf_id(g, "tokenizer.ggml.eos_token_id", kind == LBRX_TOKENIZER_SPM ? 2 : -1, (int)n, &t->eos, err)) != LBRX_OK) {
        goto fail;
    }
    if ((r = lbrx__tok_gguf_id(g, "tokenizer.ggml.unknown_token_id", -1, (int)n, &t->unk, err)) != LBRX_OK ||
        (r = lbrx__tok_gguf_id(g, "tokenizer.ggml.eot_token_id", -1, (int)n, &t->eot, err)) != LBRX_OK)
        goto fail;
    t->add_bos = lbrx__tok_gguf_bool(g, "tokenizer.ggml.add_bos_token", kind != LBRX_TOKENIZER_BPE);
    t->space_prefix = lbrx__tok_gguf_bool(g, "tokenizer.ggml.add_space_prefix", 1);
    if (kind == LBRX_TOKENIZER_BPE) {
        t->pre = pre_i;
        memcpy(t->rules, lbrx__tok_pres[pre_i].rules, sizeof lbrx__tok_pres[pre_i].rules);
        t->ignore_merges = lbrx__tok_pres[pre_i].ignore_merges;
    }
    if ((r = lbrx__tok_finish(t, err)) != LBRX_OK) goto fail;
    if (kind == LBRX_TOKENIZER_WPM && t->unk < 0) {
        r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "a bert tokenizer without an unknown token (tokenizer.ggml.unknown_token_id or a token of type 2)");
        goto fail;
    }
    if (kind == LBRX_TOKENIZER_WPM) { /* BERT's normalizer: both by default, strip_accents follows lowercase */
        t->wpm_lower = lbrx__tok_gguf_bool(g, "tokenizer.ggml.normalizer.lowercase", 1);
        t->wpm_strip = lbrx__tok_gguf_bool(g, "tokenizer.ggml.normalizer.strip_accents", t->wpm_lower);
        if (t->wpm_strip && !t->wpm_lower) {
            r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.ggml.normalizer.strip_accents without .lowercase is not supported");
            goto fail;
        }
    }
    if (kind == LBRX_TOKENIZER_BPE) {
        if ((r = lbrx__tok_alloc_pairs(t, nm, err)) != LBRX_OK) goto fail;
        for (i = 0; i < nm; i++) {
            const char *s = merges[i].data, *sp = 0;
            char where[64];
            size_t len = (size_t)merges[i].len;
            if (len > 1) sp = (const char *)memchr(s + 1, ' ', len - 1);
            snprintf(where, sizeof where, "tokenizer.ggml.merges[%llu]", (unsigned long long)i);
            if (!sp) { r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer: %s has no space between two tokens", where); goto fail; }
            if ((r = lbrx__tok_add_merge(t, s, (size_t)(sp - s), sp + 1, len - (size_t)(sp - s) - 1, (uint32_t)i, where, err)) != LBRX_OK) goto fail;
        }
        lbrx__tok_describe(t, "gpt2 (byte-level BPE), pre-tokenizer", pre.data, (size_t)pre.len);
    } else {
        lbrx__tok_describe(t, kind == LBRX_TOKENIZER_SPM ? "llama (SentencePiece) from" : "bert (WordPiece) from", "GGUF", 4);
    }
    return LBRX_OK;
fail:
    lbrx_tokenizer_release(t);
    return r;
}

/* ---- llama2.c tok.bin ------------------------------------------------------------------------ */

LBRXDEF lbrx_result lbrx_tokenizer_init_llama2c(lbrx_tokenizer *t, const char *path, int n_vocab, lbrx_error *err) {
    lbrx_storage *s = 0;
    const unsigned char *d;
    size_t size, pos, total = 0;
    int32_t maxlen;
    int pass, i;
    lbrx_result r = lbrx_storage_open(&s, path, 0, err);
    memset(t, 0, sizeof *t);
    if (r != LBRX_OK) return r;
    d = (const unsigned char *)lbrx_storage_data(s);
    size = lbrx_storage_size(s);
    if (size < 4) { lbrx_storage_release(s); return lbrx_error_set(err, LBRX_ERR_TRUNCATED, LBRX_NO_OFFSET, "%s: too short for a tokenizer", path); }
    memcpy(&maxlen, d, 4);
    if (maxlen < 0 || maxlen > LBRX_TOKENIZER_MAX_PIECE) {
        lbrx_storage_release(s);
        return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "%s: max token length %d (must be 0..%d)", path, (int)maxlen, LBRX_TOKENIZER_MAX_PIECE);
    }
    for (pass = 0; pass < 2; pass++) {
        pos = 4;
        for (i = 0; i < n_vocab; i++) {
            float score;
            int32_t len;
            if (size - pos < 8) { r = lbrx_error_set(err, LBRX_ERR_TRUNCATED, LBRX_NO_OFFSET, "%s: ends inside token %d (file offset %zu)", path, i, pos); goto fail; }
            memcpy(&score, d + pos, 4);
            memcpy(&len, d + pos + 4, 4);
            pos += 8;
            if (len < 0 || len > maxlen) { r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "%s: token %d has length %d (max %d, file offset %zu)", path, i, (int)len, (int)maxlen, pos - 4); goto fail; }
            if (size - pos < (size_t)len) { r = lbrx_error_set(err, LBRX_ERR_TRUNCATED, LBRX_NO_OFFSET, "%s: piece of token %d runs past the end (file offset %zu)", path, i, pos); goto fail; }
            if (pass == 0) total += (size_t)len; /* cannot overflow: bounded by the file size */
            else if ((r = lbrx__tok_set(t, i, (const char *)d + pos, (size_t)len, score, LBRX_TOKEN_UNDEFINED, LBRX__TOK_SPACES, err)) != LBRX_OK) goto fail;
            pos += (size_t)len;
        }
        if (pos != size) { r = lbrx_error_set(err, LBRX_ERR_SIZE_MISMATCH, LBRX_NO_OFFSET, "%s: %zu bytes after the last of %d tokens", path, size - pos, n_vocab); goto fail; }
        if (pass == 0 && (r = lbrx__tok_alloc(t, n_vocab > 0 ? (uint64_t)n_vocab : 0, total, err)) != LBRX_OK) goto fail;
    }
    lbrx_storage_release(s);
    t->kind = LBRX_TOKENIZER_SPM;
    t->bos = 1 < n_vocab ? 1 : -1; /* llama2.c's convention: 1 = BOS, 2 = EOS */
    t->eos = 2 < n_vocab ? 2 : -1;
    t->add_bos = 1;
    t->space_prefix = 1;
    if ((r = lbrx__tok_finish(t, err)) != LBRX_OK) { lbrx_tokenizer_release(t); return r; }
    lbrx__tok_describe(t, "llama (SentencePiece) from", "llama2.c tok.bin", 16);
    return LBRX_OK;
fail:
    lbrx_storage_release(s);
    lbrx_tokenizer_release(t);
    return r;
}

/* ---- Hugging Face tokenizer.json ------------------------------------------------------------ */

/* The string of v, or of v's "content" (tokenizer_config.json writes both forms); NULL if none. */
LBRX__TOK const char *lbrx__tok_json_str(const lbrx_json_value *v, size_t *len) {
    if (lbrx_json_type_of(v) == LBRX_JSON_OBJECT) v = lbrx_json_get(v, "content");
    return lbrx_json_string(v, len);
}

LBRX__TOK int lbrx__tok_json_is(const lbrx_json_value *v, const char *key, const char *want) {
    size_t n;
    const char *s = lbrx_json_string(lbrx_json_get(v, key), &n);
    return s && n == strlen(want) && memcmp(s, want, n) == 0;
}

LBRX__TOK int lbrx__tok_json_flag(const lbrx_json_value *v, const char *key, int def) {
    int b;
    return lbrx_json_bool(lbrx_json_get(v, key), &b) == LBRX_OK ? b : def;
}

/* Read a pre-tokenizer (or one element of a Sequence) into t: rules, byte-level, Metaspace. */
LBRX__TOK lbrx_result lbrx__tok_json_pre(lbrx_tokenizer *t, const lbrx_json_value *pre, int depth, int *n_rules, lbrx_error *err) {
    size_t n, i;
    const char *type = lbrx_json_string(lbrx_json_get(pre, "type"), &n);
    if (lbrx_json_type_of(pre) == LBRX_JSON_NULL) return LBRX_OK;
    if (!type || depth > 4) return lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer.json: pre_tokenizer without a type (offset %llu)", (unsigned long long)lbrx_json_offset(pre));
    if (!strcmp(type, "Sequence")) {
        const lbrx_json_value *seq = lbrx_json_get(pre, "pretokenizers");
        for (i = 0; i < lbrx_json_count(seq); i++) {
            lbrx_result r = lbrx__tok_json_pre(t, lbrx_json_at(seq, i), depth + 1, n_rules, err);
            if (r != LBRX_OK) return r;
        }
        return LBRX_OK;
    }
    if (*n_rules >= (int)sizeof t->rules - 1) return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer.json: more than %d pre-tokenizer steps", (int)sizeof t->rules - 1);
    if (!strcmp(type, "ByteLevel")) {
        t->byte_level = 1;
        t->prefix_space = lbrx__tok_json_flag(pre, "add_prefix_space", 0);
        if (lbrx__tok_json_flag(pre, "use_regex", 1)) t->rules[(*n_rules)++] = LBRX__TOK_R_GPT2;
        return LBRX_OK;
    }
    if (!strcmp(type, "Digits")) {
        t->rules[(*n_rules)++] = lbrx__tok_json_flag(pre, "individual_digits", 0) ? LBRX__TOK_R_DIGIT : LBRX__TOK_R_DIGITS;
        return LBRX_OK;
    }
    if (!strcmp(type, "Punctuation") && lbrx__tok_json_is(pre, "behavior", "Contiguous")) {
        t->rules[(*n_rules)++] = LBRX__TOK_R_PUNCT_BT;
        return LBRX_OK;
    }
    if (!strcmp(type, "Metaspace")) {
        size_t rl = 0;
        const char *rep = lbrx_json_string(lbrx_json_get(pre, "replacement"), &rl);
        const char *scheme = lbrx_json_string(lbrx_json_get(pre, "prepend_scheme"), 0);
        if (!rep || rl != 3 || memcmp(rep, "\xe2\x96\x81", 3) != 0)
            return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: Metaspace replacement other than U+2581");
        if (scheme) t->metaspace = !strcmp(scheme, "first") ? 1 : !strcmp(scheme, "always") ? 2 : 3;
        else t->metaspace = lbrx__tok_json_flag(pre, "add_prefix_space", 1) ? 2 : 3;
        t->metaspace_split = lbrx__tok_json_flag(pre, "split", 1);
        t->metaspace_keep = 1; /* Hugging Face's Metaspace adds none to a text that starts with a space */
        return LBRX_OK;
    }
    if (!strcmp(type, "Split") && lbrx__tok_json_is(pre, "behavior", "Isolated") && !lbrx__tok_json_flag(pre, "invert", 0)) {
        const char *rx = lbrx_json_string(lbrx_json_get(lbrx_json_get(pre, "pattern"), "Regex"), &n);
        int k;
        for (k = 1; rx && k < LBRX__TOK_R_COUNT; k++)
            if (lbrx__tok_rule_regex[k] && strlen(lbrx__tok_rule_regex[k]) == n && !memcmp(lbrx__tok_rule_regex[k], rx, n)) {
                t->rules[(*n_rules)++] = (unsigned char)k;
                return LBRX_OK;
            }
        return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: pre-tokenizer Split pattern %.80s%s is not one lbrx knows", rx ? rx : "(not a Regex)",
                             rx && n > 80 ? "..." : "");
    }
    return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: pre-tokenizer %s is not supported", type);
}

/* The normalizer: none, NFC (not applied, see the top of the file), or SentencePiece's
   Prepend("▁") + Replace(" ", "▁") (then the pre-tokenizer must be none). */
LBRX__TOK lbrx_result lbrx__tok_json_norm(lbrx_tokenizer *t, const lbrx_json_value *nm, lbrx_error *err) {
    const char *type = lbrx_json_string(lbrx_json_get(nm, "type"), 0);
    size_t i;
    if (lbrx_json_type_of(nm) == LBRX_JSON_NULL) return LBRX_OK;
    if (type && !strcmp(type, "NFC")) return LBRX_OK;
    if (type && !strcmp(type, "Sequence")) {
        const lbrx_json_value *seq = lbrx_json_get(nm, "normalizers");
        int prepend = 0, replace = 0;
        for (i = 0; i < lbrx_json_count(seq); i++) {
            const lbrx_json_value *e = lbrx_json_at(seq, i);
            if (lbrx__tok_json_is(e, "type", "Prepend") && lbrx__tok_json_is(e, "prepend", "\xe2\x96\x81")) prepend = 1;
            else if (lbrx__tok_json_is(e, "type", "Replace") && lbrx__tok_json_is(lbrx_json_get(e, "pattern"), "String", " ") &&
                     lbrx__tok_json_is(e, "content", "\xe2\x96\x81")) replace = 1;
            else if (!lbrx__tok_json_is(e, "type", "NFC")) prepend = replace = -1;
        }
        if (replace == 1) { t->metaspace = prepend == 1 ? 2 : 3; t->metaspace_split = 0; return LBRX_OK; }
    }
    return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: normalizer %s is not supported", type ? type : "(no type)");
}

LBRXDEF lbrx_result lbrx_tokenizer_init_json_memory(lbrx_tokenizer *t, const void *json, size_t len,
                                                    const void *config, size_t config_len, lbrx_error *err) {
    lbrx_json *doc = 0, *cdoc = 0;
    const lbrx_json_value *root, *model, *vocab, *merges, *added;
    size_t i, n_tok, n_added, total = 0, slen = 0;
    int64_t max_id = -1, id;
    int n_rules = 0, how;
    const char *s, *unk_name = 0;
    unsigned char *seen = 0;
    lbrx_result r;
    memset(t, 0, sizeof *t);
    if ((r = lbrx_json_parse(&doc, json, len, 0, err)) != LBRX_OK) return r;
    root = lbrx_json_root(doc);
    model = lbrx_json_get(root, "model");
    vocab = lbrx_json_get(model, "vocab");
    merges = lbrx_json_get(model, "merges");
    added = lbrx_json_get(root, "added_tokens");
    if (!model) { r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer.json: no \"model\""); goto fail; }
    if (!lbrx__tok_json_is(model, "type", "BPE") && !(lbrx_json_get(model, "type") == 0 && merges)) {
        s = lbrx_json_string(lbrx_json_get(model, "type"), 0);
        r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: model type %s is not supported (BPE is)", s ? s : "(none)");
        goto fail;
    }
    if (lbrx_json_type_of(vocab) != LBRX_JSON_OBJECT || lbrx_json_type_of(merges) != LBRX_JSON_ARRAY) {
        r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer.json: model.vocab must be an object and model.merges an array");
        goto fail;
    }
    for (i = 0; i < 2; i++) {
        const char *key = i ? "end_of_word_suffix" : "continuing_subword_prefix";
        if ((s = lbrx_json_string(lbrx_json_get(model, key), &slen)) != 0 && slen) {
            r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: model.%s is not supported", key);
            goto fail;
        }
    }
    unk_name = lbrx_json_string(lbrx_json_get(model, "unk_token"), 0);
    n_tok = lbrx_json_count(vocab);
    n_added = lbrx_json_count(added);
    for (i = 0; i < n_tok + n_added; i++) {
        const lbrx_json_value *e = i < n_tok ? lbrx_json_member(vocab, i, &s, &slen) : lbrx_json_at(added, i - n_tok);
        if (i >= n_tok) s = lbrx_json_string(lbrx_json_get(e, "content"), &slen), e = lbrx_json_get(e, "id");
        if (!s || lbrx_json_i64(e, &id) != LBRX_OK || id < 0 || id >= LBRX_TOKENIZER_MAX_VOCAB) {
            r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer.json: %s %zu has no id in 0..%d (offset %llu)", i < n_tok ? "model.vocab entry" : "added_tokens entry",
                              i < n_tok ? i : i - n_tok, LBRX_TOKENIZER_MAX_VOCAB - 1, (unsigned long long)lbrx_json_offset(e));
            goto fail;
        }
        if (slen > LBRX_TOKENIZER_MAX_PIECE) {
            r = lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "tokenizer.json: token %lld has %zu bytes (limit %d)", (long long)id, slen, LBRX_TOKENIZER_MAX_PIECE);
            goto fail;
        }
        if (id > max_id) max_id = id;
        total += slen;
    }
    if ((r = lbrx__tok_alloc(t, (uint64_t)(max_id + 1), total, err)) != LBRX_OK) goto fail;
    t->kind = LBRX_TOKENIZER_BPE;
    t->from_json = 1;
    if ((r = lbrx__tok_json_norm(t, lbrx_json_get(root, "normalizer"), err)) != LBRX_OK) goto fail;
    if ((r = lbrx__tok_json_pre(t, lbrx_json_get(root, "pre_tokenizer"), 0, &n_rules, err)) != LBRX_OK) goto fail;
    if (!t->byte_level && !t->metaspace) {
        r = lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "tokenizer.json: neither a ByteLevel nor a Metaspace pre-tokenizer");
        goto fail;
    }
    t->byte_fallback = lbrx__tok_json_flag(model, "byte_fallback", 0);
    t->ignore_merges = lbrx__tok_json_flag(model, "ignore_merges", 0);
    how = t->byte_level ? LBRX__TOK_BYTELEVEL : LBRX__TOK_SPACES;
    seen = (unsigned char *)calloc((size_t)t->n_vocab, 1);
    if (!seen) { r = lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "tokenizer: out of memory"); goto fail; }
    for (i = 0; i < n_tok + n_added; i++) { /* added tokens last: they override the vocabulary's entry */
        const lbrx_json_value *e = i < n_tok ? lbrx_json_member(vocab, i, &s, &slen) : lbrx_json_at(added, i - n_tok);
        int type = LBRX_TOKEN_NORMAL;
        if (i >= n_tok) {
            s = lbrx_json_string(lbrx_json_get(e, "content"), &slen);
            type = lbrx__tok_json_flag(e, "special", 0) ? LBRX_TOKEN_CONTROL : LBRX_TOKEN_USER_DEFINED;
        }
        lbrx_json_i64(i < n_tok ? e : lbrx_json_get(e, "id"), &id);
        if (seen[id] == 1 + (i >= n_tok)) {
            r = lbrx_error_set(err, LBRX_ERR_DUPLICATE, LBRX_NO_OFFSET, "tokenizer.json: id %lld appears twice in %s", (long long)id, i < n_tok ? "model.vocab" : "added_tokens");
            goto fail;
        }
        seen[id] = (unsigned char)(1 + (i >= n_tok));
        if (i < n_tok && t->byte_fallback && lbrx__tok_byte_name(s, slen) >= 0) type = LBRX_TOKEN_BYTE;
        if (i < n_tok && unk_name && !strcmp(unk_name, s)) t->unk = (int32_t)id;
        if ((r = lbrx__tok_set(t, (int)id, s, slen, 0.0f, type, i < n_tok ? how : LBRX__TOK_RAW, err)) != LBRX_OK) goto fail;
        if (i >= n_tok) t->attr[id] = (unsigned char)(lbrx__tok_json_flag(e, "lstrip", 0) | (lbrx__tok_json_flag(e, "rstrip", 0) << 1));
    }
    for (i = 0; i < (size_t)t->n_vocab; i++)
        if (!seen[i]) t->type[i] = LBRX_TOKEN_UNUSED; /* an id nobody names: empty, never produced */
    if (config && (r = lbrx_json_parse(&cdoc, config, config_len, 0, err)) != LBRX_OK) goto fail;
    for (i = 0; cdoc && i < 2; i++) { /* BOS and EOS by their text */
        const char *name = lbrx__tok_json_str(lbrx_json_get(lbrx_json_root(cdoc), i ? "eos_token" : "bos_token"), &slen);
        int k;
        for (k = 0; name && k < t->n_vocab; k++)
            if (t->len[k] == slen && lbrx__tok_is_special(t->type[k]) && !memcmp(t->text + t->off[k], name, slen)) {
                if (i) t->eos = k; else t->bos = k;
                break;
            }
    }
    if (cdoc) t->add_bos = lbrx__tok_json_flag(lbrx_json_root(cdoc), "add_bos_token", t->bos >= 0);
    if ((r = lbrx__tok_finish(t, err)) != LBRX_OK) goto fail;
    if ((r = lbrx__tok_alloc_pairs(t, lbrx_json_count(merges), err)) != LBRX_OK) goto fail;
    for (i = 0; i < lbrx_json_count(merges); i++) {
        const lbrx_json_value *m = lbrx_json_at(merges, i);
        const char *a, *b;
        size_t alen = 0, blen = 0;
        char where[64];
        snprintf(where, sizeof where, "model.merges[%zu]", i);
        if (lbrx_json_type_of(m) == LBRX_JSON_ARRAY && lbrx_json_count(m) == 2) {
            a = lbrx_json_string(lbrx_json_at(m, 0), &alen);
            b = lbrx_json_string(lbrx_json_at(m, 1), &blen);
        } else if ((a = lbrx_json_string(m, &slen)) != 0 && (b = (const char *)memchr(a, ' ', slen)) != 0 && !memchr(b + 1, ' ', slen - (size_t)(b - a) - 1)) {
            alen = (size_t)(b - a);
            b++;
            blen = slen - alen - 1;
        } else {
            a = b = 0;
        }
        if (!a || !b) { r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer.json: %s is not two tokens (offset %llu)", where, (unsigned long long)lbrx_json_offset(m)); goto fail; }
        if ((r = lbrx__tok_add_merge(t, a, alen, b, blen, (uint32_t)i, where, err)) != LBRX_OK) goto fail;
    }
    { /* name the pre-tokenizer after the GGUF one with the same rules */
        int k;
        const char *name = t->metaspace ? "Metaspace" : "custom";
        size_t nlen = strlen(name);
        for (k = 0; k < LBRX__TOK_N_PRES && !t->metaspace; k++)
            if (!memcmp(lbrx__tok_pres[k].rules, t->rules, sizeof lbrx__tok_pres[k].rules) && !t->rules[sizeof lbrx__tok_pres[k].rules]) {
                name = lbrx__tok_pres[k].names;
                nlen = strcspn(name, " ");
                break;
            }
        lbrx__tok_describe(t, t->byte_level ? "tokenizer.json (byte-level BPE), pre-tokenizer" : "tokenizer.json (BPE)", name, nlen);
    }
    free(seen);
    lbrx_json_destroy(doc);
    lbrx_json_destroy(cdoc);
    return LBRX_OK;
fail:
    free(seen);
    lbrx_json_destroy(doc);
    lbrx_json_destroy(cdoc);
    lbrx_tokenizer_release(t);
    return r;
}

/* A file mapped, or NULL with *r set (LBRX_ERR_NOT_FOUND when absent). */
LBRX__TOK lbrx_storage *lbrx__tok_map(const char *path, lbrx_result *r, lbrx_error *err) {
    lbrx_storage *s = 0;
    *r = lbrx_storage_open(&s, path, 0, err);
    return *r == LBRX_OK ? s : 0;
}

LBRXDEF lbrx_result lbrx_tokenizer_init_json(lbrx_tokenizer *t, const char *path, lbrx_error *err) {
    lbrx_storage *s, *c = 0;
    lbrx_result r;
    size_t n = strlen(path), d = n;
    char *cpath;
    memset(t, 0, sizeof *t);
    if (!(s = lbrx__tok_map(path, &r, err))) return r;
    while (d > 0 && path[d - 1] != '/' && path[d - 1] != '\\') d--;
    cpath = (char *)malloc(d + 32);
    if (cpath) {
        lbrx_result rc;
        memcpy(cpath, path, d);
        strcpy(cpath + d, "tokenizer_config.json");
        c = lbrx__tok_map(cpath, &rc, 0);
        free(cpath);
    }
    r = lbrx_tokenizer_init_json_memory(t, lbrx_storage_data(s), lbrx_storage_size(s), c ? lbrx_storage_data(c) : 0, c ? lbrx_storage_size(c) : 0, err);
    if (r != LBRX_OK && err && !strstr(err->message, path)) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%.100s: %.150s", path, err->message);
        memcpy(err->message, msg, sizeof msg);
    }
    lbrx_storage_release(s);
    if (c) lbrx_storage_release(c);
    return r;
}

LBRXDEF lbrx_result lbrx_tokenizer_init_file(lbrx_tokenizer *t, const char *path, lbrx_error *err) {
    size_t n = strlen(path);
    char *in_dir = (char *)malloc(n + 16);
    FILE *f;
    unsigned char head[4] = { 0, 0, 0, 0 };
    lbrx_result r;
    memset(t, 0, sizeof *t);
    if (!in_dir) return lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory");
    memcpy(in_dir, path, n);
    strcpy(in_dir + n, "/tokenizer.json");
    if ((f = fopen(in_dir, "rb")) != 0) { /* a model directory */
        fclose(f);
        r = lbrx_tokenizer_init_json(t, in_dir, err);
        free(in_dir);
        return r;
    }
    free(in_dir);
    if (!(f = fopen(path, "rb"))) return lbrx_error_set(err, LBRX_ERR_NOT_FOUND, LBRX_NO_OFFSET, "%s: cannot open", path);
    if (fread(head, 1, 4, f) < 1) head[0] = 0;
    fclose(f);
    if (!memcmp(head, "GGUF", 4)) {
        lbrx_gguf *g = 0;
        if ((r = lbrx_gguf_open(&g, path, 0, err)) != LBRX_OK) return r;
        r = lbrx_tokenizer_init_gguf(t, g, err);
        lbrx_gguf_destroy(g);
        return r;
    }
    return lbrx_tokenizer_init_json(t, path, err);
}

/* ---- Encoding -------------------------------------------------------------------------------- */

/* A candidate merge of symbols left and right (adjacent when pushed), joined len bytes; higher
   key first. */
typedef struct lbrx__tok_bigram { double key; size_t left, right, len; int32_t id; } lbrx__tok_bigram;

/* A piece of at most 14 bytes and its ids (klen 0: an empty slot). */
struct lbrx__tok_cached { unsigned char klen, nids; char key[14]; int32_t ids[8]; };

/* Scratch of one encode call, sized for the whole text. */
typedef struct lbrx__tok_work {
    char *pre;                      /* the fragment being encoded, with its leading space if any */
    char *buf;                      /* the piece being merged */
    size_t *start, *slen, *next, *prev;
    int32_t *sid;
    lbrx__tok_bigram *heap;
    uint32_t *cp;
    unsigned char *fl, *cut;
    size_t *cpoff;
    int32_t *ids;
    size_t n, cap;
    struct lbrx__tok_cached *cache; /* ids of short pieces seen before */
} lbrx__tok_work;
#define LBRX__TOK_CACHE 4096

LBRX__TOK int lbrx__tok_before(const lbrx__tok_bigram *a, const lbrx__tok_bigram *b) {
    return a->key > b->key || (a->key == b->key && a->left < b->left);
}

LBRX__TOK void lbrx__tok_push(lbrx__tok_bigram *h, size_t *n, lbrx__tok_bigram e) {
    size_t i = (*n)++;
    while (i > 0 && lbrx__tok_before(&e, &h[(i - 1) / 2])) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
    h[i] = e;
}

LBRX__TOK lbrx__tok_bigram lbrx__tok_pop(lbrx__tok_bigram *h, size_t *n) {
    lbrx__tok_bigram top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && lbrx__tok_before(&h[c + 1], &h[c])) c++;
        if (!lbrx__tok_before(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

/* Candidate merge of adjacent symbols a and b: SPM by the score of the joined piece, BPE by the
   rank of the merge (lower first). */
LBRX__TOK void lbrx__tok_try(const lbrx_tokenizer *t, lbrx__tok_work *w, size_t a, size_t b, size_t *nheap) {
    lbrx__tok_bigram e;
    if (t->kind == LBRX_TOKENIZER_SPM) {
        e.id = lbrx__tok_lookup(t, w->buf + w->start[a], w->slen[a] + w->slen[b]);
        if (e.id < 0) return;
        e.key = t->score[e.id];
    } else {
        uint32_t rank;
        if (!lbrx__tok_pair(t, w->sid[a], w->sid[b], &rank, &e.id)) return;
        e.key = -(double)rank;
    }
    e.left = a; e.right = b; e.len = w->slen[a] + w->slen[b];
    lbrx__tok_push(w->heap, nheap, e);
}

LBRX__TOK void lbrx__tok_emit(lbrx__tok_work *w, int32_t id) { w->ids[w->n++] = id; }

/* Symbols of p[0..n): one per byte (byte-level) or per UTF-8 character (a lead byte and up to 3
   continuation bytes); merge them, then emit their ids. */
LBRX__TOK lbrx_result lbrx__tok_merge(const lbrx_tokenizer *t, lbrx__tok_work *w, const char *p, size_t n, lbrx_error *err) {
    size_t nsym = 0, nheap = 0, i, k;
    const size_t none = (size_t)-1;
    if (n == 0) return LBRX_OK;
    if (t->kind == LBRX_TOKENIZER_BPE && t->byte_level) {
        if (n == 1 && t->byte_id[(unsigned char)p[0]] >= 0) { lbrx__tok_emit(w, t->byte_id[(unsigned char)p[0]]); return LBRX_OK; }
        if (t->ignore_merges) {
            int32_t id = lbrx__tok_lookup(t, p, n);
            if (id >= 0) { lbrx__tok_emit(w, id); return LBRX_OK; }
        }
    }
    memcpy(w->buf, p, n);
    for (i = 0; i < n;) {
        size_t j = i + 1;
        if (!(t->kind == LBRX_TOKENIZER_BPE && t->byte_level))
            while (j < n && j - i < 4 && ((unsigned char)w->buf[j] & 0xC0) == 0x80) j++;
        w->start[nsym] = i;
        w->slen[nsym] = j - i;
        w->prev[nsym] = nsym ? nsym - 1 : none;
        w->next[nsym] = j < n ? nsym + 1 : none;
        if (t->kind == LBRX_TOKENIZER_BPE)
            w->sid[nsym] = t->byte_level ? t->byte_id[(unsigned char)w->buf[i]] : lbrx__tok_lookup(t, w->buf + i, j - i);
        nsym++;
        i = j;
    }
    for (i = 0; i + 1 < nsym; i++) lbrx__tok_try(t, w, i, i + 1, &nheap);
    while (nheap) {
        lbrx__tok_bigram e = lbrx__tok_pop(w->heap, &nheap);
        size_t L = e.left, R = e.right;
        /* stale: a symbol of the pair was merged away or grew since the pair was pushed */
        if (w->slen[L] == 0 || w->slen[R] == 0 || w->next[L] != R || w->slen[L] + w->slen[R] != e.len) continue;
        w->sid[L] = e.id;
        w->slen[L] += w->slen[R];
        w->slen[R] = 0;
        w->next[L] = w->next[R];
        if (w->next[R] != none) w->prev[w->next[R]] = L;
        if (w->prev[L] != none) lbrx__tok_try(t, w, w->prev[L], L, &nheap);
        if (w->next[L] != none) lbrx__tok_try(t, w, L, w->next[L], &nheap);
    }
    for (i = 0; i != none; i = w->next[i]) {
        int32_t id = t->kind == LBRX_TOKENIZER_BPE ? w->sid[i] : lbrx__tok_lookup(t, w->buf + w->start[i], w->slen[i]);
        if (id >= 0) { lbrx__tok_emit(w, id); continue; }
        for (k = 0; k < w->slen[i]; k++) { /* bytes for what is no token */
            int32_t b = t->byte_id[(unsigned char)w->buf[w->start[i] + k]];
            if (b < 0) b = t->unk;
            if (b < 0 && t->kind == LBRX_TOKENIZER_BPE) continue; /* dropped, as Hugging Face and llama.cpp do */
            if (b < 0)
                return lbrx_error_set(err, LBRX_ERR_UNSUPPORTED, LBRX_NO_OFFSET, "text byte 0x%02x has no token (no byte fallback, no unknown token)", (unsigned char)w->buf[w->start[i] + k]);
            lbrx__tok_emit(w, b);
        }
    }
    return LBRX_OK;
}

/* Byte-level BPE: cut the fragment p[0..n) into pieces by the pre-tokenizer's rules, then BPE
   each. */
LBRX__TOK lbrx_result lbrx__tok_bytelevel(const lbrx_tokenizer *t, lbrx__tok_work *w, const char *p, size_t n, lbrx_error *err) {
    size_t ncp = 0, i, pos, a;
    int ri;
    lbrx_result r;
    for (pos = 0; pos < n;) {
        size_t used;
        uint32_t c = lbrx__tok_utf8((const unsigned char *)p + pos, n - pos, &used);
        w->cp[ncp] = c;
        w->fl[ncp] = (unsigned char)(c < 128 ? t->ascii_fl[c] : lbrx__tok_flags(c));
        w->cpoff[ncp] = pos;
        w->cut[ncp] = 0;
        ncp++;
        pos += used;
    }
    w->cpoff[ncp] = n;
    w->cut[0] = 1;
    w->cut[ncp] = 1;
    for (ri = 0; ri < (int)sizeof t->rules && t->rules[ri]; ri++) {
        /* every current piece [a, e) is cut into the rule's matches and the gaps between them */
        for (a = 0; a < ncp;) {
            size_t e = a + 1;
            while (!w->cut[e]) e++;
            for (i = a; i < e;) {
                size_t m = lbrx__tok_match(t->rules[ri], w->cp, w->fl, i, e);
                if (m) { w->cut[i] = 1; w->cut[i + m] = 1; i += m; }
                else i++;
            }
            a = e;
        }
    }
    for (a = 0; a < ncp;) {
        size_t e = a + 1, plen, n0 = w->n;
        const char *piece;
        struct lbrx__tok_cached *c = 0;
        while (!w->cut[e]) e++;
        piece = p + w->cpoff[a];
        plen = w->cpoff[e] - w->cpoff[a];
        a = e;
        if (w->cache && plen > 1 && plen <= sizeof c->key) { /* BPE of a piece depends on its bytes only */
            c = &w->cache[lbrx__tok_hash_bytes(piece, plen) & (LBRX__TOK_CACHE - 1)];
            if (c->klen == plen && memcmp(c->key, piece, plen) == 0) {
                memcpy(w->ids + w->n, c->ids, c->nids * sizeof(int32_t));
                w->n += c->nids;
                continue;
            }
        }
        if ((r = lbrx__tok_merge(t, w, piece, plen, err)) != LBRX_OK) return r;
        if (c && w->n - n0 <= 8) {
            c->klen = (unsigned char)plen;
            c->nids = (unsigned char)(w->n - n0);
            memcpy(c->key, piece, plen);
            memcpy(c->ids, w->ids + n0, c->nids * sizeof(int32_t));
        }
    }
    return LBRX_OK;
}

/* CJK ideographs BERT makes words of their own (its ranges, as llama.cpp copies them). */
LBRX__TOK int lbrx__tok_wpm_cjk(uint32_t c) {
    static const uint32_t r[] = { 0x4E00, 0x9FFF, 0x3400, 0x4DBF, 0x20000, 0x2A6DF, 0x2A700, 0x2B73F,
                                  0x2B740, 0x2B81F, 0x2B920, 0x2CEAF, 0xF900, 0xFAFF, 0x2F800, 0x2FA1F };
    return LBRX__TOK_IN(r, c);
}

/* One WordPiece word, w->pre[0..n) = ' ' + its normalized text: the longest token at each
   position, left to right; the unknown token alone if some position has none. */
LBRX__TOK void lbrx__tok_wpm_word(const lbrx_tokenizer *t, lbrx__tok_work *w, size_t n) {
    size_t n0 = w->n, i, j;
    if (n <= 1) return;
    for (i = 0; i < n; i = j) {
        int32_t id = -1;
        for (j = n - i > t->max_len ? i + t->max_len : n; j > i && (id = lbrx__tok_lookup(t, w->pre + i, j - i)) < 0; j--) {}
        if (id < 0) { w->n = n0; break; }
        lbrx__tok_emit(w, id);
    }
    if (w->n == n0) lbrx__tok_emit(w, t->unk);
}

/* WordPiece over p[0..n): normalize, cut into words, tokenize each. */
LBRX__TOK void lbrx__tok_wpm(const lbrx_tokenizer *t, lbrx__tok_work *w, const char *p, size_t n) {
    size_t pos, used, m = 1;
    w->pre[0] = ' '; /* the '▁' that starts a word, stored as ' ' like the vocabulary's */
    for (pos = 0; pos < n; pos += used) {
        uint32_t c = lbrx__tok_utf8((const unsigned char *)p + pos, n - pos, &used);
        unsigned fl;
        /* the generator checks that the mapped code point is of the class llama.cpp tests (the
           unmapped or NFD one) */
        c = t->wpm_strip ? LBRX__TOK_MAP(lbrx__tok_fold_runs, c) : t->wpm_lower ? LBRX__TOK_MAP(lbrx__tok_lower_runs, c) : c;
        fl = lbrx__tok_flags(c);
        if (fl & LBRX__TOK_WS) { lbrx__tok_wpm_word(t, w, m); m = 1; continue; }
        if (c == 0 || c == 0xFFFD || c > 0x10FFFF || (fl & LBRX__TOK_C)) continue; /* dropped (invalid bytes too) */
        if (t->wpm_strip && (fl & LBRX__TOK_M)) continue; /* accents */
        if ((fl & LBRX__TOK_P) || (c < 0x7F && (fl & LBRX__TOK_S)) || lbrx__tok_wpm_cjk(c)) {
            lbrx__tok_wpm_word(t, w, m);
            m = 1 + lbrx__tok_put_utf8(c, w->pre + 1);
            lbrx__tok_wpm_word(t, w, m);
            m = 1;
        } else if (c == 0x2581) {
            w->pre[m++] = ' ';
        } else {
            m += lbrx__tok_put_utf8(c, w->pre + m);
        }
    }
    lbrx__tok_wpm_word(t, w, m);
}

/* One fragment of text between special tokens. first: 2 if the fragment starts the text, 1 if
   it follows a special token, else 0 (SPM puts its leading space in both first cases, Metaspace
   with prepend_scheme "first" at the start only). */
LBRX__TOK lbrx_result lbrx__tok_fragment(const lbrx_tokenizer *t, lbrx__tok_work *w, const char *p, size_t n, int first,
                                         lbrx_error *err) {
    size_t m = 0, i, s;
    lbrx_result r;
    if (n == 0) return LBRX_OK;
    if (t->kind == LBRX_TOKENIZER_WPM) { lbrx__tok_wpm(t, w, p, n); return LBRX_OK; }
    if ((t->kind == LBRX_TOKENIZER_SPM && t->space_prefix && first) ||
        ((t->metaspace == 2 || (t->metaspace == 1 && first == 2)) &&
         !(t->metaspace_keep && (p[0] == ' ' || (n >= 3 && !memcmp(p, "\xe2\x96\x81", 3))))) ||
        (t->byte_level && t->prefix_space && p[0] != ' '))
        w->pre[m++] = ' ';
    if (t->byte_level) {
        memcpy(w->pre + m, p, n);
        return lbrx__tok_bytelevel(t, w, w->pre, m + n, err);
    }
    for (i = 0; i < n; i++) { /* SentencePiece / Metaspace: a '▁' of the text is a space, as the vocabulary's are */
        if (i + 2 < n && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 && (unsigned char)p[i + 2] == 0x81) {
            w->pre[m++] = ' ';
            i += 2;
        } else {
            w->pre[m++] = p[i];
        }
    }
    if (t->kind == LBRX_TOKENIZER_SPM || !t->metaspace_split) return lbrx__tok_merge(t, w, w->pre, m, err);
    for (s = 0, i = 1; i <= m; i++) /* Metaspace split: every piece starts at a space */
        if (i == m || w->pre[i] == ' ') {
            if ((r = lbrx__tok_merge(t, w, w->pre + s, i - s, err)) != LBRX_OK) return r;
            s = i;
        }
    return LBRX_OK;
}

/* Length of the special token at text[i..len) (leftmost-longest), 0 if none; *id gets it. */
LBRX__TOK size_t lbrx__tok_special_at(const lbrx_tokenizer *t, const char *text, size_t i, size_t len, unsigned flags, int32_t *id) {
    unsigned char c = (unsigned char)text[i];
    int k;
    if (!(t->special_first[c >> 3] & (1u << (c & 7)))) return 0;
    for (k = 0; k < t->n_special; k++) {
        int32_t s = t->special[k];
        size_t n = t->len[s];
        if (t->type[s] != LBRX_TOKEN_USER_DEFINED && !(flags & LBRX_ENCODE_SPECIAL)) continue;
        if (n <= len - i && (unsigned char)t->text[t->off[s]] == c && memcmp(t->text + t->off[s], text + i, n) == 0) { *id = s; return n; }
    }
    return 0;
}

LBRX__TOK int lbrx__tok_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

LBRXDEF lbrx_result lbrx_tokenizer_encode(const lbrx_tokenizer *t, const char *text, size_t len, unsigned flags,
                                          int32_t **ids, size_t *n_ids, lbrx_error *err) {
    lbrx__tok_work w;
    size_t cap, idcap, i, frag;
    int first = 2;
    lbrx_result r = LBRX_OK;
    if (!ids || !n_ids) return lbrx_error_set(err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "lbrx_tokenizer_encode: NULL argument");
    *ids = 0;
    *n_ids = 0;
    if (!t || t->kind == LBRX_TOKENIZER_NONE || (!text && len))
        return lbrx_error_set(err, LBRX_ERR_INVALID_ARGUMENT, LBRX_NO_OFFSET, "lbrx_tokenizer_encode: no tokenizer or no text");
    if (len > LBRX_TOKENIZER_MAX_TEXT) return lbrx_error_set(err, LBRX_ERR_LIMIT, LBRX_NO_OFFSET, "text of %zu bytes is longer than %zu", len, (size_t)LBRX_TOKENIZER_MAX_TEXT);
    memset(&w, 0, sizeof w);
    cap = len + 2; /* ids: at most one per byte, plus BOS and a leading space */
    /* WordPiece: a code point's normalized form is at most 1 byte longer (the table generator
       checks it), each word gets a space, and each id takes at least 1 byte of that */
    idcap = t->kind == LBRX_TOKENIZER_WPM ? 3 * len + 2 : cap;
    w.buf = (char *)malloc(cap);
    w.pre = (char *)malloc(idcap);
    w.start = (size_t *)malloc(cap * sizeof(size_t));
    w.slen = (size_t *)malloc(cap * sizeof(size_t));
    w.next = (size_t *)malloc(cap * sizeof(size_t));
    w.prev = (size_t *)malloc(cap * sizeof(size_t));
    w.sid = (int32_t *)malloc(cap * sizeof(int32_t));
    w.heap = (lbrx__tok_bigram *)malloc(3 * cap * sizeof(lbrx__tok_bigram));
    w.cp = (uint32_t *)malloc(cap * sizeof(uint32_t));
    w.fl = (unsigned char *)malloc(cap);
    w.cut = (unsigned char *)malloc(cap);
    w.cpoff = (size_t *)malloc(cap * sizeof(size_t));
    w.ids = (int32_t *)malloc(idcap * sizeof(int32_t));
    w.cap = idcap;
    if (t->byte_level && len >= 4096) w.cache = (struct lbrx__tok_cached *)calloc(LBRX__TOK_CACHE, sizeof *w.cache); /* optional: NULL is fine */
    if (!w.buf || !w.pre || !w.start || !w.slen || !w.next || !w.prev || !w.sid || !w.heap || !w.cp || !w.fl || !w.cut || !w.cpoff || !w.ids) {
        r = lbrx_error_set(err, LBRX_ERR_OUT_OF_MEMORY, LBRX_NO_OFFSET, "out of memory encoding %zu bytes of text", len);
        goto done;
    }
    if (flags & LBRX_ENCODE_BOS) {
        if (t->bos < 0) { r = lbrx_error_set(err, LBRX_ERR_BAD_VALUE, LBRX_NO_OFFSET, "tokenizer has no BOS token"); goto done; }
        lbrx__tok_emit(&w, t->bos);
    }
    for (i = 0, frag = 0; i < len;) {
        int32_t id;
        size_t m = t->n_special ? lbrx__tok_special_at(t, text, i, len, flags, &id) : 0;
        size_t end = i, next;
        if (!m) { i++; continue; }
        next = i + m;
        if (t->attr[id] & 1) while (end > frag && lbrx__tok_space_byte(text[end - 1])) end--;
        if (t->attr[id] & 2) while (next < len && lbrx__tok_space_byte(text[next])) next++;
        if ((r = lbrx__tok_fragment(t, &w, text + frag, end - frag, first, err)) != LBRX_OK) goto done;
        lbrx__tok_emit(&w, id);
        first = 1;
        i = frag = next;
    }
    if ((r = lbrx__tok_fragment(t, &w, text + frag, len - frag, first, err)) != LBRX_OK) goto done;
    *ids = w.ids;
    *n_ids = w.n;
    w.ids = 0;
done:
    free(w.buf); free(w.pre); free(w.start); free(w.slen); free(w.next); free(w.prev); free(w.sid); free(w.heap);
    free(w.cp); free(w.fl); free(w.cut); free(w.cpoff); free(w.ids); free(w.cache);
    return r;
}

/* ---- Decoding -------------------------------------------------------------------------------- */

LBRXDEF const char *lbrx_tokenizer_piece(const lbrx_tokenizer *t, int32_t id, size_t *len) {
    *len = 0;
    if (!t || id < 0 || id >= t->n_vocab) return "";
    *len = t->len[id];
    return t->text + t->off[id];
}

LBRXDEF const char *lbrx_tokenizer_decode(const lbrx_tokenizer *t, int32_t prev, int32_t id, size_t *len) {
    const char *p = lbrx_tokenizer_piece(t, id, len);
    if (*len == 0) return p;
    if (t->type[id] == LBRX_TOKEN_CONTROL || t->type[id] == LBRX_TOKEN_UNUSED) { *len = 0; return ""; }
    if ((t->kind == LBRX_TOKENIZER_SPM || t->kind == LBRX_TOKENIZER_WPM || t->metaspace) && prev >= 0 && prev == t->bos && p[0] == ' ') { p++; (*len)--; }
    return p;
}

LBRXDEF int lbrx_tokenizer_is_end(const lbrx_tokenizer *t, int32_t id) {
    return t && id >= 0 && (id == t->eos || id == t->eot);
}

LBRXDEF unsigned lbrx_tokenizer_default_flags(const lbrx_tokenizer *t) {
    return t && t->from_json ? LBRX_ENCODE_SPECIAL : 0u;
}

LBRXDEF const char *lbrx_tokenizer_describe(const lbrx_tokenizer *t) { return t && t->kind ? t->desc : "no tokenizer"; }

#endif /* LBRX_TOKENIZER_IMPLEMENTATION */
