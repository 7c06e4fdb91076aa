/* The command-line tools: examples/inspect.c (exit codes, the single "error:" line, the listing)
   and examples/convert.c. The examples are included with their main() turned off and their
   *_main functions called with captured output. */
#define LBRX_EXAMPLE_NO_MAIN
#include "examples/inspect.c"
#include "examples/convert.c"
#include "lbrx_test.h"

typedef struct run_result { int code; char out[1 << 16]; char err[4096]; } run_result;

/* A scratch file for captured output (tmpfile() fails on Windows without rights to C:\). */
static FILE *capture_file(const char *name) {
    return fopen(lt_tmp_path(name), "w+b");
}

static void slurp(FILE *f, char *buf, size_t cap) {
    size_t n;
    rewind(f);
    n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
}

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void run_inspect(const char *path, run_result *r) {
    char *argv[3];
    FILE *out = capture_file("tools_stdout.txt"), *err = capture_file("tools_stderr.txt");
    argv[0] = (char *)"inspect";
    argv[1] = (char *)path;
    argv[2] = 0;
    r->out[0] = r->err[0] = 0;
    r->code = -1;
    if (!out || !err) { LT_CHECK(0); if (out) fclose(out); if (err) fclose(err); return; }
    r->code = inspect_main(path ? 2 : 1, argv, out, err);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    remove(lt_tmp_path("tools_stdout.txt"));
    remove(lt_tmp_path("tools_stderr.txt"));
}

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(p, 1, n, f) == n;
    if (f) ok = fclose(f) == 0 && ok;
    return ok;
}

/* A small valid GGUF written with the library: two KVs (one long array) and two tensors. */
static void write_small_gguf(const char *path) {
    lbrx_gguf_writer *w = 0;
    lbrx_tensor a, b;
    int64_t sa[2] = {2, 32}, sb[1] = {3};
    int32_t arr[20];
    int i;
    for (i = 0; i < 20; i++) arr[i] = i;
    LT_CHECK(lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_str(w, "general.architecture", "test\n\"q\"", NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_array(w, "test.numbers", LBRX_GGUF_INT32, arr, 20, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&a, LBRX_Q8_0, 2, sa, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&b, LBRX_F32, 1, sb, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_tensor(w, "a.weight", &a, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_add_tensor(w, "b", &b, NULL) == LBRX_OK);
    LT_CHECK(lbrx_gguf_writer_write_path(w, path, NULL) == LBRX_OK);
    lbrx_gguf_writer_destroy(w);
    lbrx_tensor_release(&a);
    lbrx_tensor_release(&b);
}

static void test_inspect_valid(void) {
    char path[4096];
    static run_result r;
    snprintf(path, sizeof path, "%s", lt_tmp_path("tools_small.gguf"));
    write_small_gguf(path);
    run_inspect(path, &r);
    LT_CHECKF(r.code == 0 && r.err[0] == 0, "code %d, stderr %s", r.code, r.err);
    LT_CHECK(strstr(r.out, "format: GGUF v3") != NULL);
    LT_CHECK(strstr(r.out, "general.architecture: str = \"test\\n\\\"q\\\"\"") != NULL);
    LT_CHECK(strstr(r.out, "test.numbers: arr[i32, 20] = [0, 1, 2, 3, 4, 5, 6, 7, ... 12 more]") != NULL);
    LT_CHECK(strstr(r.out, "a.weight") && strstr(r.out, "q8_0") && strstr(r.out, "[2, 32]"));
    LT_CHECK(strstr(r.out, "tensors: 2\n") != NULL);
    remove(path);
}

/* Invalid input: exit 1 and exactly one stderr line, "error: PATH: what (file offset N)". */
static void test_inspect_errors(void) {
    char path[4096];
    static run_result r;
    static const unsigned char bad_version[24] = {'G', 'G', 'U', 'F', 9, 0, 0, 0};
    unsigned char dup[128];
    size_t n = 0;
    uint64_t u64;
    uint32_t u32;
    snprintf(path, sizeof path, "%s", lt_tmp_path("tools_bad.gguf"));
    LT_CHECK(write_file(path, bad_version, sizeof bad_version));
    run_inspect(path, &r);
    LT_CHECKF(r.code == 1 && strncmp(r.err, "error: ", 7) == 0 && count_lines(r.err) == 1 && strstr(r.err, "version 9"),
              "code %d: %s", r.code, r.err);
    LT_CHECK(r.out[0] == 0 || strstr(r.out, "format") == NULL);
    /* a duplicate key: named, with its offset */
    memcpy(dup, "GGUF", 4); n = 4;
    u32 = 3; memcpy(dup + n, &u32, 4); n += 4;
    u64 = 0; memcpy(dup + n, &u64, 8); n += 8;
    u64 = 2; memcpy(dup + n, &u64, 8); n += 8;
    {
        int k;
        for (k = 0; k < 2; k++) {
            u64 = 3; memcpy(dup + n, &u64, 8); n += 8;
            memcpy(dup + n, "a.b", 3); n += 3;
            u32 = 4; memcpy(dup + n, &u32, 4); n += 4;
            u32 = 7; memcpy(dup + n, &u32, 4); n += 4;
        }
    }
    LT_CHECK(write_file(path, dup, n));
    run_inspect(path, &r);
    LT_CHECKF(r.code == 1 && count_lines(r.err) == 1 && strstr(r.err, "'a.b'") && strstr(r.err, "file offset 43"), "%s", r.err);
    /* truncated: one line, TRUNCATED detail */
    LT_CHECK(write_file(path, dup, 30));
    run_inspect(path, &r);
    LT_CHECKF(r.code == 1 && count_lines(r.err) == 1 && strncmp(r.err, "error: ", 7) == 0, "%s", r.err);
    /* not a model file, a missing file, no argument */
    LT_CHECK(write_file(path, "hello, world\n", 13));
    run_inspect(path, &r);
    LT_CHECK(r.code == 1 && count_lines(r.err) == 1 && strstr(r.err, "unknown format"));
    remove(path);
    run_inspect(path, &r);
    LT_CHECK(r.code == 1 && count_lines(r.err) == 1 && strncmp(r.err, "error: ", 7) == 0);
    run_inspect(NULL, &r);
    LT_CHECK(r.code == 1 && count_lines(r.err) == 1 && strstr(r.err, "usage"));
}

static void test_inspect_shared(void) {
    static run_result r;
    LT_SHARED_OR_SKIP(path, "derived-llama.cpp-c392e50/stories260K-q8_0-f32rest.gguf");
    run_inspect(path, &r);
    LT_CHECK(r.code == 0 && r.err[0] == 0);
    LT_CHECK(strstr(r.out, "tensors: 48\n") && strstr(r.out, "metadata: 21 keys\n"));
    LT_CHECK(strstr(r.out, "tokenizer.ggml.tokens: arr[str, 512] = [\"<unk>\", \"<s>\", \"</s>\", \"<0x00>\""));
    LT_CHECK(strstr(r.out, "general.file_type: u32 = 7\n"));
    LT_CHECK(strstr(r.out, "blk.0.ffn_down.weight                    f32     [64, 172]"));
}

static void test_inspect_safetensors(void) {
    static run_result r;
    char path[4096];
    static const unsigned char bad[16] = {200, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    LT_SHARED_OR_SKIP(samples, "safetensors-samples/overall.safetensors");
    run_inspect(samples, &r);
    LT_CHECKF(r.code == 0 && r.err[0] == 0, "%s", r.err);
    LT_CHECK(strstr(r.out, "format: safetensors, header of 526 bytes, data at offset 534\n") && strstr(r.out, "test: str = \"a\""));
    /* the 2022 samples are misaligned: f32 data at file offset 642 */
    LT_CHECK(strstr(r.out, "f32     [6]  offset 642  NOT aligned to 4\n") && strstr(r.out, "tensors: 9\n"));
    if (lt_shared_path("SafeTensors.jl/sharded/model.safetensors.index.json")) {
        run_inspect(lt_shared_path("SafeTensors.jl/sharded/model.safetensors.index.json"), &r);
        LT_CHECK(r.code == 0 && strstr(r.out, "index of 6 shards") && strstr(r.out, "tensors: 36\n"));
    }
    snprintf(path, sizeof path, "%s", lt_tmp_path("tools_bad.safetensors"));
    LT_CHECK(write_file(path, bad, sizeof bad));
    run_inspect(path, &r);
    LT_CHECKF(r.code == 1 && count_lines(r.err) == 1 && strncmp(r.err, "error: ", 7) == 0 && strstr(r.err, "offset"), "%s", r.err);
    remove(path);
}

/* A safetensors image whose header is `json` padded with spaces to `hlen` bytes, then `data`. */
static size_t make_st(unsigned char *buf, size_t cap, const char *json, size_t hlen, const void *data, size_t n) {
    size_t j = strlen(json), k;
    if (8 + hlen + n > cap || j > hlen) return 0;
    for (k = 0; k < 8; k++) buf[k] = (unsigned char)(((uint64_t)hlen >> (8 * k)) & 0xff);
    memcpy(buf + 8, json, j);
    memset(buf + 8 + j, ' ', hlen - j);
    memcpy(buf + 8 + hlen, data, n);
    return 8 + hlen + n;
}

/* lbrx_format_detect: by content only, and a safetensors header length whose low byte is JSON
   whitespace or '{' is never taken for JSON. */
static void test_format_detect(void) {
    static unsigned char buf[1024];
    static const unsigned char low[5] = {0x20, 0x09, 0x0a, 0x0d, 0x7b};
    static const char *const idx = " \r\n\t{\"weight_map\":{}}";
    unsigned char gguf[64];
    size_t n;
    int k;
    LT_CHECK(lbrx_format_detect(NULL, 0) == LBRX_FORMAT_UNKNOWN && lbrx_format_detect("", 0) == LBRX_FORMAT_UNKNOWN);
    LT_CHECK(lbrx_format_detect("GGUF", 4) == LBRX_FORMAT_GGUF && lbrx_format_detect("FUGG\0\0\0\3", 8) == LBRX_FORMAT_GGUF);
    LT_CHECK(lbrx_format_detect(idx, strlen(idx)) == LBRX_FORMAT_SAFETENSORS_INDEX);
    LT_CHECK(lbrx_format_detect("hello, world", 12) == LBRX_FORMAT_UNKNOWN);
    LT_CHECK(lbrx_format_detect("        ", 8) == LBRX_FORMAT_UNKNOWN);
    for (k = 0; k < 5; k++) {
        char path[4096];
        static run_result r;
        /* a tensor, and a file with only __metadata__, each with a header of 256 + low[k] bytes */
        n = make_st(buf, sizeof buf, "{\"__metadata__\":{\"k\":\"v\"},\"t\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                    256 + low[k], "ab", 2);
        LT_CHECK(n && buf[0] == low[k]);
        LT_CHECKF(lbrx_format_detect(buf, n) == LBRX_FORMAT_SAFETENSORS, "low byte 0x%02x", low[k]);
        LT_CHECK(lbrx_format_detect(buf, 9) == LBRX_FORMAT_SAFETENSORS);  /* truncated: the reader says so */
        snprintf(path, sizeof path, "%s", lt_tmp_path("tools_low.safetensors"));
        LT_CHECK(write_file(path, buf, n));
        run_inspect(path, &r);
        LT_CHECKF(r.code == 0 && strstr(r.out, "format: safetensors") && strstr(r.out, "tensors: 1\n"), "0x%02x: %s", low[k], r.err);
        n = make_st(buf, sizeof buf, "{\"__metadata__\":{\"only\":\"metadata\"}}", low[k] < 0x40 ? 0x100 + low[k] : low[k], "", 0);
        LT_CHECK(n && lbrx_format_detect(buf, n) == LBRX_FORMAT_SAFETENSORS);
        LT_CHECK(write_file(path, buf, n));
        run_inspect(path, &r);
        LT_CHECKF(r.code == 0 && strstr(r.out, "metadata: 1 keys") && strstr(r.out, "only: str = \"metadata\"") &&
                  strstr(r.out, "tensors: 0\n"), "0x%02x: %s", low[k], r.err);
        remove(path);
    }
    /* a split GGUF shard: split.count above 1, found after other keys (an array of strings too) */
    {
        lbrx_gguf_writer *w = 0;
        lbrx_gguf_str strs[2] = {{"a", 1}, {"bc", 2}};
        uint16_t count = 3;
        char path[4096];
        lbrx_storage *st = 0;
        snprintf(path, sizeof path, "%s", lt_tmp_path("tools_split.gguf"));
        LT_CHECK(lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_array(w, "x.strs", LBRX_GGUF_STRING, strs, 2, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add_u32(w, "x.n", 7, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_add(w, "split.count", LBRX_GGUF_UINT16, &count, NULL) == LBRX_OK);
        LT_CHECK(lbrx_gguf_writer_write_path(w, path, NULL) == LBRX_OK);
        lbrx_gguf_writer_destroy(w);
        if (lbrx_storage_open(&st, path, NULL, NULL) == LBRX_OK) {
            LT_CHECK(lbrx_format_detect(lbrx_storage_data(st), lbrx_storage_size(st)) == LBRX_FORMAT_GGUF_SPLIT);
            /* the key past the bytes given is not seen */
            LT_CHECK(lbrx_format_detect(lbrx_storage_data(st), lbrx_storage_size(st) - 1) == LBRX_FORMAT_GGUF);
            lbrx_storage_release(st);
        } else {
            LT_CHECK(0);
        }
        remove(path);
        memset(gguf, 0, sizeof gguf);
        memcpy(gguf, "GGUF\3\0\0\0", 8);
        LT_CHECK(lbrx_format_detect(gguf, 24) == LBRX_FORMAT_GGUF);
    }
    LT_CHECK(strcmp(lbrx_format_name(LBRX_FORMAT_GGUF_SPLIT), "gguf-split") == 0 &&
             strcmp(lbrx_format_name((lbrx_format)99), "unknown") == 0);
    /* a real shard whose header length (544 = 0x220) has the low byte 0x20 (inspect refused it before) */
    if (lt_shared_path("SafeTensors.jl/sharded/model-00005-of-00006.safetensors")) {
        static run_result r;
        run_inspect(lt_shared_path("SafeTensors.jl/sharded/model-00005-of-00006.safetensors"), &r);
        LT_CHECKF(r.code == 0 && strstr(r.out, "format: safetensors, header of 544 bytes"), "%s%s", r.out, r.err);
    }
}

/* ---- convert ---- */

/* Run convert with argc arguments (args[0] is the program name) and lbrx allocating through
   `allocator` (NULL: the default); returns the exit code, stderr in errbuf. */
static int run_convert_args(char *errbuf, size_t cap, int argc, const char **args, const lbrx_allocator *allocator) {
    FILE *out = capture_file("tools_stdout.txt"), *err = capture_file("tools_stderr.txt");
    char outbuf[4096];
    int code;
    if (!out || !err) { if (out) fclose(out); if (err) fclose(err); return -1; }
    code = convert_main(argc, (char **)args, out, err, allocator);
    slurp(out, outbuf, sizeof outbuf);
    slurp(err, errbuf, cap);
    remove(lt_tmp_path("tools_stdout.txt"));
    remove(lt_tmp_path("tools_stderr.txt"));
    return code;
}

/* Run convert with up to 8 arguments (NULL-terminated); returns the exit code, stderr in err. */
static int run_convert(char *errbuf, size_t cap, const char *a0, const char *a1, const char *a2, const char *a3,
                       const char *a4, const char *a5, const char *a6, const char *a7) {
    const char *args[10];
    int argc = 1;
    args[0] = "convert";
    if (a0) args[argc++] = a0;
    if (a1) args[argc++] = a1;
    if (a2) args[argc++] = a2;
    if (a3) args[argc++] = a3;
    if (a4) args[argc++] = a4;
    if (a5) args[argc++] = a5;
    if (a6) args[argc++] = a6;
    if (a7) args[argc++] = a7;
    args[argc] = 0;
    return run_convert_args(errbuf, cap, argc, args, NULL);
}

static int files_equal(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb, ca, cb;
    while (same) {
        ca = fgetc(fa); cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* GGML's own quantizer made stories260K-q8_0/q4_0-f32rest.gguf from stories260K-f32.gguf: convert
   gives the same files, byte for byte (KV order, f32 fallback for 172-long rows, layout, blocks). */
static void test_convert_matches_ggml(void) {
    static const char *const types[2] = {"q8_0", "q4_0"};
    char in[4096], ref[4096], out[4096], err[4096];
    int k;
    LT_SHARED_OR_SKIP(f32, "derived-llama.cpp-c392e50/stories260K-f32.gguf");
    snprintf(in, sizeof in, "%s", f32);
    for (k = 0; k < 2; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "derived-llama.cpp-c392e50/stories260K-%s-f32rest.gguf", types[k]);
        if (!lt_shared_path(rel)) continue;
        snprintf(ref, sizeof ref, "%s", lt_shared_path(rel));
        snprintf(out, sizeof out, "%s", lt_tmp_path("tools_stories.gguf"));
        LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", types[k], 0, 0, 0, 0) == 0, "%s", err);
        LT_CHECKF(files_equal(out, ref), "convert --type %s differs from GGML's file", types[k]);
        remove(out);
    }
}

/* GGUF -> safetensors f32 -> GGUF f32 keeps every tensor's bytes; --keep keeps a tensor's type. */
static void test_convert_round_trip(void) {
    char in[4096], st[4096], back[4096], err[4096];
    lbrx_gguf *a = 0, *b = 0;
    size_t i;
    LT_SHARED_OR_SKIP(f32, "derived-llama.cpp-c392e50/stories260K-f32.gguf");
    snprintf(in, sizeof in, "%s", f32);
    snprintf(st, sizeof st, "%s", lt_tmp_path("tools_rt.safetensors"));
    snprintf(back, sizeof back, "%s", lt_tmp_path("tools_rt.gguf"));
    LT_CHECKF(run_convert(err, sizeof err, in, st, "--type", "f32", 0, 0, 0, 0) == 0, "%s", err);
    LT_CHECKF(run_convert(err, sizeof err, st, back, "--type", "f32", 0, 0, 0, 0) == 0, "%s", err);
    LT_CHECK(lbrx_gguf_open(&a, in, NULL, NULL) == LBRX_OK && lbrx_gguf_open(&b, back, NULL, NULL) == LBRX_OK);
    if (a && b) {
        LT_CHECK(lbrx_gguf_tensor_count(b) == 48);
        for (i = 0; i < lbrx_gguf_tensor_count(a); i++) {
            const lbrx_gguf_tensor_info *ta = lbrx_gguf_tensor_info_at(a, i);
            size_t j = lbrx_gguf_find_tensor(b, ta->name);
            const lbrx_gguf_tensor_info *tb = lbrx_gguf_tensor_info_at(b, j);
            LT_CHECKF(tb && tb->dtype == LBRX_F32 && tb->nbytes == ta->nbytes &&
                      memcmp((const unsigned char *)lbrx_storage_data(lbrx_gguf_storage(a)) + ta->file_offset,
                             (const unsigned char *)lbrx_storage_data(lbrx_gguf_storage(b)) + tb->file_offset, (size_t)ta->nbytes) == 0,
                      "%s", ta->name);
        }
    }
    lbrx_gguf_destroy(a);
    lbrx_gguf_destroy(b);
    a = 0;
    LT_CHECKF(run_convert(err, sizeof err, in, back, "--type", "q4_1", "--keep", "token_embd*", "--keep", "*.attn_?.weight") == 0, "%s", err);
    if (lbrx_gguf_open(&a, back, NULL, NULL) == LBRX_OK) {
        uint32_t ft = 0;
        LT_CHECK(lbrx_gguf_tensor_info_at(a, lbrx_gguf_find_tensor(a, "token_embd.weight"))->dtype == LBRX_F32);
        LT_CHECK(lbrx_gguf_tensor_info_at(a, lbrx_gguf_find_tensor(a, "blk.3.attn_k.weight"))->dtype == LBRX_F32);
        LT_CHECK(lbrx_gguf_tensor_info_at(a, lbrx_gguf_find_tensor(a, "blk.3.attn_output.weight"))->dtype == LBRX_Q4_1);
        LT_CHECK(lbrx_gguf_tensor_info_at(a, lbrx_gguf_find_tensor(a, "output.weight"))->dtype == LBRX_Q4_1);
        LT_CHECK(lbrx_gguf_get_u32(a, "general.file_type", &ft, NULL) == LBRX_OK && ft == 3);
        lbrx_gguf_destroy(a);
    } else {
        LT_CHECK(0);
    }
    remove(st);
    remove(back);
}

/* bf16 of a finite float, rounded to nearest even (written here, apart from lbrx's converter). */
static uint16_t ref_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* The safetensors output streams: converting 8 f32 tensors to bf16, lbrx never holds much more
   than one output tensor at once (the output is 8 of them), everything it allocates is freed,
   and the file is byte for byte what lbrx_safetensors_write makes of the converted tensors held
   in memory (the header included, metadata copied). */
static void test_convert_streams_safetensors(void) {
    enum { N = 8 };
    static const char *meta[2] = {"format", "pt"};
    int64_t shape[2];
    lbrx_tensor src[N], want[N];
    char names[N][32], in[4096], out[4096], ref[4096], errbuf[4096];
    const char *name_of[N];
    const char *args[6];
    lbrx_safetensors_write_desc d;
    lt_counting c = {0, 0, 0, 0, 0};
    lbrx_allocator a = lt_counting_allocator(&c);
    lt_rng rng = {4242};
    size_t i, k, elems, tensor_bytes, held = 0;
    int code;
    shape[0] = getenv("LT_SLOW") ? 64 : 256;
    shape[1] = 1024;
    elems = (size_t)shape[0] * 1024;
    tensor_bytes = elems * 2;
    for (i = 0; i < N; i++) {
        LT_CHECK(lbrx_tensor_init_heap(&src[i], LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
        LT_CHECK(lbrx_tensor_init_heap(&want[i], LBRX_BF16, 2, shape, NULL, NULL) == LBRX_OK);
        for (k = 0; k < elems; k++) {
            ((float *)src[i].data)[k] = lt_uniform(&rng) * 100.0f;
            ((uint16_t *)want[i].data)[k] = ref_bf16(((float *)src[i].data)[k]);
        }
        snprintf(names[i], sizeof names[i], "layers.%d.weight", (int)i);
        name_of[i] = names[i];
    }
    snprintf(in, sizeof in, "%s", lt_tmp_path("tools_stream_in.safetensors"));
    snprintf(out, sizeof out, "%s", lt_tmp_path("tools_stream_out.safetensors"));
    snprintf(ref, sizeof ref, "%s", lt_tmp_path("tools_stream_ref.safetensors"));
    memset(&d, 0, sizeof d);
    d.metadata = meta;
    d.n_metadata = 1;
    d.n_tensors = N;
    d.names = name_of;
    d.tensors = src;
    LT_CHECK(lbrx_safetensors_write(in, &d, NULL) == LBRX_OK);
    d.tensors = want;
    LT_CHECK(lbrx_safetensors_write(ref, &d, NULL) == LBRX_OK);
#ifdef LBRX_NO_MMAP
    {   /* the input is read into memory through the allocator, and held while converting */
        FILE *f = fopen(in, "rb");
        if (f && fseek(f, 0, SEEK_END) == 0) held = (size_t)ftell(f);
        if (f) fclose(f);
    }
#endif
    args[0] = "convert"; args[1] = in; args[2] = out; args[3] = "--type"; args[4] = "bf16"; args[5] = 0;
    code = run_convert_args(errbuf, sizeof errbuf, 5, args, &a);
    LT_CHECKF(code == 0, "%s", errbuf);
    LT_CHECK(files_equal(out, ref));
    LT_CHECKF(c.allocs > 0 && c.live == 0 && c.peak < held + tensor_bytes + tensor_bytes / 2,
              "peak %zu bytes for tensors of %zu, input held %zu (live %zu at the end)", c.peak, tensor_bytes, held, c.live);
    for (i = 0; i < N; i++) { lbrx_tensor_release(&src[i]); lbrx_tensor_release(&want[i]); }
    remove(in);
    remove(out);
    remove(ref);
}

/* A tiny Hugging Face llama checkpoint made here: config.json + model.safetensors. */
#define HF_V 40
#define HF_E 64
#define HF_H 4
#define HF_KV 2
#define HF_D 16
#define HF_F 96
#define HF_L 2

static void hf_fill(lbrx_tensor *t, lt_rng *rng) {
    int64_t n = 1, i;
    int d;
    for (d = 0; d < t->ndim; d++) n *= t->shape[d];
    for (i = 0; i < n; i++) ((float *)t->data)[i] = lt_uniform(rng);
}

static int write_hf_llama(const char *model, const char *config, lbrx_tensor *ts, char names[][64], int *n_out) {
    static const char *const layer_names[9] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                                               "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
                                               "mlp.down_proj.weight", "input_layernorm.weight", "post_attention_layernorm.weight"};
    static const int64_t layer_shapes[9][2] = {{HF_H * HF_D, HF_E}, {HF_KV * HF_D, HF_E}, {HF_KV * HF_D, HF_E}, {HF_E, HF_H * HF_D},
                                               {HF_F, HF_E}, {HF_F, HF_E}, {HF_E, HF_F}, {HF_E, 0}, {HF_E, 0}};
    lbrx_safetensors_write_desc desc;
    const char *name_of[32];
    lt_rng rng = {777};
    int n = 0, l, k, ok;
    int64_t s2[2] = {HF_V, HF_E}, s1[1] = {HF_E}, s8[1] = {8};
    FILE *f;
#define HF_ADD(nm, nd, shp) do { snprintf(names[n], 64, "%s", nm); lbrx_tensor_init_heap(&ts[n], LBRX_F32, nd, shp, NULL, NULL); \
                                 hf_fill(&ts[n], &rng); name_of[n] = names[n]; n++; } while (0)
    HF_ADD("model.embed_tokens.weight", 2, s2);
    for (l = 0; l < HF_L; l++)
        for (k = 0; k < 9; k++) {
            char nm[64];
            snprintf(nm, sizeof nm, "model.layers.%d.%s", l, layer_names[k]);
            HF_ADD(nm, layer_shapes[k][1] ? 2 : 1, layer_shapes[k]);
        }
    HF_ADD("model.layers.0.self_attn.rotary_emb.inv_freq", 1, s8);
    HF_ADD("model.norm.weight", 1, s1);
    HF_ADD("lm_head.weight", 2, s2);
#undef HF_ADD
    *n_out = n;
    memset(&desc, 0, sizeof desc);
    desc.tensors = ts;
    desc.names = name_of;
    desc.n_tensors = (size_t)n;
    ok = lbrx_safetensors_write(model, &desc, NULL) == LBRX_OK;
    f = fopen(config, "wb");
    if (!f) return 0;
    fprintf(f, "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": %d, \"intermediate_size\": %d,\n"
               " \"num_hidden_layers\": %d, \"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"rms_norm_eps\": 1e-06,\n"
               " \"rope_parameters\": {\"rope_theta\": 500000.0, \"rope_type\": \"default\"}, \"max_position_embeddings\": 256,\n"
               " \"vocab_size\": %d, \"rope_scaling\": null, \"bos_token_id\": 1, \"eos_token_id\": 2,\n"
               " \"tie_word_embeddings\": false, \"torch_dtype\": \"float32\"}\n", HF_E, HF_F, HF_L, HF_H, HF_KV, HF_V);
    return fclose(f) == 0 && ok;
}

/* y = W x for a row-major [rows, cols] f32 W, in double */
static void matvec(const float *w, const double *x, double *y, int rows, int cols) {
    int r, c;
    for (r = 0; r < rows; r++) {
        double s = 0;
        for (c = 0; c < cols; c++) s += (double)w[r * cols + c] * x[c];
        y[r] = s;
    }
}

/* The comment in convert.c says: interleaved-pair RoPE on the converted Q/K equals HF's
   rotate_half RoPE on the original, component (h, i) <-> (h, 2i) and (h, i + D/2) <-> (h, 2i + 1).
   Checked here on q and k for one position, in double. */
static void check_rope_equivalence(const float *hf, const float *gg, int heads) {
    double x[HF_E], a[HF_H * HF_D], b[HF_H * HF_D], theta_base = 500000.0, pos = 7;
    lt_rng rng = {99};
    int h, i;
    for (i = 0; i < HF_E; i++) x[i] = lt_uniform(&rng);
    matvec(hf, x, a, heads * HF_D, HF_E);
    matvec(gg, x, b, heads * HF_D, HF_E);
    for (h = 0; h < heads; h++)
        for (i = 0; i < HF_D / 2; i++) {
            double th = pos * pow(theta_base, -2.0 * i / HF_D), c = cos(th), s = sin(th);
            double *p = a + h * HF_D, *q = b + h * HF_D;
            /* rotate_half: (p[i], p[i + D/2]); interleaved: (q[2i], q[2i+1]) */
            double r0 = p[i] * c - p[i + HF_D / 2] * s, r1 = p[i + HF_D / 2] * c + p[i] * s;
            double g0 = q[2 * i] * c - q[2 * i + 1] * s, g1 = q[2 * i + 1] * c + q[2 * i] * s;
            LT_CHECKF(fabs(r0 - g0) < 1e-9 && fabs(r1 - g1) < 1e-9, "head %d pair %d", h, i);
        }
}

static void test_convert_hf_llama(void) {
    char config[4096], in[4096], out[4096], err[4096];
    static lbrx_tensor ts[32];
    static char names[32][64];
    int n = 0, i;
    lbrx_gguf *g = 0;
    const char *vocab = lt_shared_path("llama.cpp/v3/ggml-vocab-llama-spm.gguf");
    char vocab_path[4096];
    snprintf(vocab_path, sizeof vocab_path, "%s", vocab ? vocab : "");
    snprintf(config, sizeof config, "%s", lt_tmp_path("config.json"));
    snprintf(in, sizeof in, "%s", lt_tmp_path("model.safetensors"));
    LT_CHECK(write_hf_llama(in, config, ts, names, &n));
    snprintf(out, sizeof out, "%s", lt_tmp_path("tools_hf.gguf"));
    LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", "f32", vocab ? "--vocab" : 0, vocab ? vocab_path : 0, 0, 0) == 0, "%s", err);
    if (lbrx_gguf_open(&g, out, NULL, NULL) == LBRX_OK) {
        uint32_t u = 0;
        float eps = 0, base = 0;
        lbrx_gguf_str arch = {0, 0};
        lbrx_tensor t;
        LT_CHECK(lbrx_gguf_tensor_count(g) == 3 + 9 * HF_L);
        LT_CHECK(lbrx_gguf_get_str(g, "general.architecture", &arch, NULL) == LBRX_OK && arch.len == 5 && memcmp(arch.data, "llama", 5) == 0);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.embedding_length", &u, NULL) == LBRX_OK && u == HF_E);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.block_count", &u, NULL) == LBRX_OK && u == HF_L);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.feed_forward_length", &u, NULL) == LBRX_OK && u == HF_F);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.attention.head_count", &u, NULL) == LBRX_OK && u == HF_H);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.attention.head_count_kv", &u, NULL) == LBRX_OK && u == HF_KV);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.rope.dimension_count", &u, NULL) == LBRX_OK && u == HF_D);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.context_length", &u, NULL) == LBRX_OK && u == 256);
        LT_CHECK(lbrx_gguf_get_u32(g, "llama.vocab_size", &u, NULL) == LBRX_OK && u == HF_V);
        LT_CHECK(lbrx_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps, NULL) == LBRX_OK && eps == (float)1e-6f);
        LT_CHECK(lbrx_gguf_get_f32(g, "llama.rope.freq_base", &base, NULL) == LBRX_OK && base == 500000.0f);
        LT_CHECK(lbrx_gguf_get_u32(g, "general.file_type", &u, NULL) == LBRX_OK && u == 0);
        if (vocab) LT_CHECK(lbrx_gguf_find_key(g, "tokenizer.ggml.tokens") != SIZE_MAX && lbrx_gguf_find_key(g, "tokenizer.ggml.scores") != SIZE_MAX);
        /* without --vocab: tokenizer.ggml.model "none", which llama.cpp needs to load the file at all */
        LT_CHECK(lbrx_gguf_get_str(g, "tokenizer.ggml.model", &arch, NULL) == LBRX_OK &&
                 (vocab ? arch.len == 5 && memcmp(arch.data, "llama", 5) == 0 : arch.len == 4 && memcmp(arch.data, "none", 4) == 0));
        LT_CHECK(lbrx_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &u, NULL) == LBRX_OK && u == 2);
        /* names and unpermuted tensors: same bytes */
        LT_CHECK(lbrx_gguf_get_tensor(g, "blk.1.ffn_down.weight", &t, NULL) == LBRX_OK && t.shape[0] == HF_E && t.shape[1] == HF_F &&
                 memcmp(t.data, ts[1 + 9 + 6].data, sizeof(float) * HF_E * HF_F) == 0);
        lbrx_tensor_release(&t);
        LT_CHECK(lbrx_gguf_get_tensor(g, "output.weight", &t, NULL) == LBRX_OK && memcmp(t.data, ts[n - 1].data, sizeof(float) * HF_V * HF_E) == 0);
        lbrx_tensor_release(&t);
        LT_CHECK(lbrx_gguf_find_tensor(g, "blk.0.attn_norm.weight") != SIZE_MAX && lbrx_gguf_find_tensor(g, "output_norm.weight") != SIZE_MAX &&
                 lbrx_gguf_find_tensor(g, "token_embd.weight") != SIZE_MAX);
        /* q and k of layer 1: numpy's reshape(n_head, 2, D/2, E).swapaxes(1, 2) row order, and RoPE equivalence */
        for (i = 0; i < 2; i++) {
            int heads = i ? HF_KV : HF_H, h, j, s;
            const float *hf = (const float *)ts[1 + 9 + i].data;
            LT_CHECK(lbrx_gguf_get_tensor(g, i ? "blk.1.attn_k.weight" : "blk.1.attn_q.weight", &t, NULL) == LBRX_OK);
            if (!t.data) continue;
            for (h = 0; h < heads; h++)
                for (j = 0; j < HF_D / 2; j++)
                    for (s = 0; s < 2; s++) {
                        int out_row = (h * (HF_D / 2) + j) * 2 + s, in_row = (h * 2 + s) * (HF_D / 2) + j;
                        LT_CHECK(memcmp((const float *)t.data + out_row * HF_E, hf + in_row * HF_E, sizeof(float) * HF_E) == 0);
                    }
            check_rope_equivalence(hf, (const float *)t.data, heads);
            lbrx_tensor_release(&t);
        }
        lbrx_gguf_destroy(g);
    } else {
        LT_CHECK(0);
    }
    /* q8_0: 2-D weights quantized (rows of 64 and 96 fit), norms f32, values within Q8_0's error */
    g = 0;
    LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", "q8_0", 0, 0, 0, 0) == 0, "%s", err);
    if (lbrx_gguf_open(&g, out, NULL, NULL) == LBRX_OK) {
        lbrx_tensor t;
        float row[HF_F];
        int r, c;
        uint32_t u = 0;
        LT_CHECK(lbrx_gguf_get_u32(g, "general.file_type", &u, NULL) == LBRX_OK && u == 7);
        LT_CHECK(lbrx_gguf_tensor_info_at(g, lbrx_gguf_find_tensor(g, "blk.0.ffn_norm.weight"))->dtype == LBRX_F32);
        LT_CHECK(lbrx_gguf_get_tensor(g, "blk.0.ffn_down.weight", &t, NULL) == LBRX_OK && t.dtype == LBRX_Q8_0);
        for (r = 0; t.data && r < HF_E; r++) {
            const float *src = (const float *)ts[1 + 6].data + r * HF_F;
            LT_CHECK(lbrx_dequantize_row(LBRX_Q8_0, lbrx_tensor_row(&t, r), row, HF_F) == LBRX_OK);
            for (c = 0; c < HF_F; c++) LT_CHECKF(fabs(row[c] - src[c]) <= 1.0 / 127 * 0.5 * 1.01 + 1e-3, "r %d c %d", r, c);
        }
        lbrx_tensor_release(&t);
        lbrx_gguf_destroy(g);
    } else {
        LT_CHECK(0);
    }
    for (i = 0; i < n; i++) lbrx_tensor_release(&ts[i]);
    remove(out);
    remove(in);
    remove(config);
}

static void test_convert_errors(void) {
    char err[4096], out[4096], in[4096];
    snprintf(out, sizeof out, "%s", lt_tmp_path("tools_err.gguf"));
    snprintf(in, sizeof in, "%s", lt_tmp_path("tools_small.gguf"));
    write_small_gguf(in);
    LT_CHECK(run_convert(err, sizeof err, in, out, "--type", "q5_k", 0, 0, 0, 0) == 1 && count_lines(err) == 1 && strstr(err, "error: unknown --type"));
    LT_CHECK(run_convert(err, sizeof err, in, out, 0, 0, 0, 0, 0, 0) == 1 && count_lines(err) == 1 && strstr(err, "usage"));
    LT_CHECK(run_convert(err, sizeof err, in, "x.safetensors", "--type", "q4_0", 0, 0, 0, 0) == 1 && strstr(err, "safetensors"));
    LT_CHECK(run_convert(err, sizeof err, in, "x.bin", "--type", "f16", 0, 0, 0, 0) == 1 && strstr(err, ".gguf or .safetensors"));
    LT_CHECK(run_convert(err, sizeof err, "/nonexistent/x.gguf", out, "--type", "f16", 0, 0, 0, 0) == 1 && count_lines(err) == 1);
    /* q8_0 on the small file: a.weight [2, 32] is q8_0 already, b [3] becomes f32 */
    LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", "q8_0", 0, 0, 0, 0) == 0, "%s", err);
    remove(out);
    remove(in);
}

/* ---- llama.cpp's mixes ---- */

/* The mix fixture: an 8-layer llama (dim 256, 4 query heads on 1 KV head, ffn 288, 64 tokens,
   tied embeddings) in f16, 1-D norms in f32, random weights of this file's generator. Rows of
   256 take every K-quant; ffn_down's rows of 288 take the fallbacks. The quantizer reads only
   the row length, so the matrices have fewer rows than such a model's (32 to 64) to save time. */
static void write_mix_model(const char *path) {
    static const char *const layer_names[9] = {"attn_k", "attn_norm", "attn_output", "attn_q", "attn_v",
                                               "ffn_down", "ffn_gate", "ffn_norm", "ffn_up"};
    static const int layer_kind[9] = {0, -2, 1, 2, 3, 4, 5, -2, 6};
    static const int64_t rows[7] = {32, 64, 64, 32, 64, 48, 48}, cols[7] = {256, 256, 256, 256, 288, 256, 256};
    lbrx_gguf_writer *w = 0;
    lt_rng rng = {2026};
    lbrx_tensor *ts = (lbrx_tensor *)calloc(8 * 9 + 2, sizeof *ts);
    char (*names)[48] = (char (*)[48])calloc(8 * 9 + 2, 48);
    int n = 0, l, k;
    int64_t i, norm = 256, embd[2] = {64, 256};
    LT_CHECK(ts && names && lbrx_gguf_writer_create(&w, NULL, NULL) == LBRX_OK);
    if (!ts || !names || !w) { free(ts); free(names); lbrx_gguf_writer_destroy(w); return; }
    lbrx_gguf_writer_add_str(w, "general.architecture", "llama", NULL);
    lbrx_gguf_writer_add_u32(w, "llama.context_length", 256, NULL);
    lbrx_gguf_writer_add_u32(w, "llama.embedding_length", 256, NULL);
    lbrx_gguf_writer_add_u32(w, "llama.block_count", 8, NULL);
    lbrx_gguf_writer_add_u32(w, "llama.feed_forward_length", 288, NULL);
    lbrx_gguf_writer_add_u32(w, "llama.attention.head_count", 4, NULL);
    lbrx_gguf_writer_add_u32(w, "llama.attention.head_count_kv", 1, NULL);
    lbrx_gguf_writer_add_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, NULL);
    lbrx_gguf_writer_add_u32(w, "general.file_type", 1, NULL);
    /* llama.cpp's order: the non-layer tensors by name, then each layer's by name */
    for (l = -1; l < 8; l++) {
        for (k = 0; k < (l < 0 ? 2 : 9); k++) {
            lbrx_tensor *t = &ts[n];
            int kind = l < 0 ? (k == 0 ? -2 : -1) : layer_kind[k];  /* -2: a norm, -1: token_embd */
            if (l < 0) snprintf(names[n], 48, "%s", k == 0 ? "output_norm.weight" : "token_embd.weight");
            else snprintf(names[n], 48, "blk.%d.%s.weight", l, layer_names[k]);
            if (kind == -2) {
                LT_CHECK(lbrx_tensor_init_heap(t, LBRX_F32, 1, &norm, NULL, NULL) == LBRX_OK);
                for (i = 0; i < 256; i++) ((float *)t->data)[i] = 1.0f + 0.25f * lt_uniform(&rng);
            } else {
                int64_t shape[2];
                float scale = 0.02f * (float)(1 + l % 3);
                shape[0] = kind < 0 ? embd[0] : rows[kind];
                shape[1] = kind < 0 ? embd[1] : cols[kind];
                LT_CHECK(lbrx_tensor_init_heap(t, LBRX_F16, 2, shape, NULL, NULL) == LBRX_OK);
                for (i = 0; i < shape[0] * shape[1]; i++) {  /* uniform, with an outlier now and then */
                    float v = lt_uniform(&rng) * scale;
                    if (lt_next(&rng) % 97 == 0) v *= 12.0f;
                    ((uint16_t *)t->data)[i] = lbrx_f32_to_f16(v);
                }
            }
            LT_CHECK(lbrx_gguf_writer_add_tensor(w, names[n], t, NULL) == LBRX_OK);
            n++;
        }
    }
    LT_CHECK(lbrx_gguf_writer_write_path(w, path, NULL) == LBRX_OK);
    lbrx_gguf_writer_destroy(w);
    for (k = 0; k < n; k++) lbrx_tensor_release(&ts[k]);
    free(ts);
    free(names);
}

/* A GGUF's tensors in name order: their types as one letter each ('a' + GGML's type id: a f32,
   b f16, c q4_0, g q5_0, h q5_1, i q8_0, k q2_K, l q3_K, m q4_K, n q5_K, o q6_K, u iq4_nl,
   x iq4_xs) into letters, and FNV-1a 64 of their data, one after the other. */
static uint64_t gguf_signature(const char *path, char *letters, size_t cap) {
    lbrx_gguf *g = 0;
    uint64_t h = 14695981039346656037ULL;
    int64_t i, j, n, prev = -1;
    letters[0] = 0;
    if (lbrx_gguf_open(&g, path, NULL, NULL) != LBRX_OK) return 0;
    n = lbrx_gguf_tensor_count(g);
    for (i = 0; i < n && (size_t)i + 1 < cap; i++) {  /* the next name after prev's (n^2: a few dozen tensors) */
        const lbrx_gguf_tensor_info *t = 0, *last = prev < 0 ? 0 : lbrx_gguf_tensor_info_at(g, prev);
        const unsigned char *p;
        for (j = 0; j < n; j++) {
            const lbrx_gguf_tensor_info *c = lbrx_gguf_tensor_info_at(g, j);
            if ((!last || strcmp(c->name, last->name) > 0) && (!t || strcmp(c->name, t->name) < 0)) {
                t = c;
                prev = j;
            }
        }
        p = (const unsigned char *)lbrx_storage_data(lbrx_gguf_storage(g)) + t->file_offset;
        letters[i] = (char)('a' + (int)t->dtype);
        letters[i + 1] = 0;
        for (j = 0; j < (int64_t)t->nbytes; j++) {
            h ^= p[j];
            h *= 1099511628211ULL;
        }
    }
    lbrx_gguf_destroy(g);
    return h;
}

/* Every mix against llama.cpp's quantizer: llama_model_quantize (libllama of the npm package
   @node-llama-cpp/linux-x64@3.22.1, llama.cpp de3ff815; nthread 2, no imatrix) wrote these files
   from write_mix_model's file and from stories260K-f32.gguf; the letters and hashes below are
   gguf_signature of its output. Tensor for tensor the same types and bytes (the files differ
   only in the order of the last two keys). */
static void test_convert_mixes_match_llama_cpp(void) {
    static const struct { const char *type, *letters; uint64_t fnv, fnv_stories; } want[] = {
#include "convert_mixes.inc"
    };
    char in[4096], out[4096], out2[4096], err[4096], letters[128];
    const char *stories = lt_shared_path("derived-llama.cpp-c392e50/stories260K-f32.gguf");
    size_t k;
    snprintf(in, sizeof in, "%s", lt_tmp_path("tools_mix_f16.gguf"));
    snprintf(out, sizeof out, "%s", lt_tmp_path("tools_mix_out.gguf"));
    snprintf(out2, sizeof out2, "%s", lt_tmp_path("tools_mix_out2.gguf"));
    write_mix_model(in);
    for (k = 0; k < sizeof want / sizeof want[0]; k++) {
        uint64_t h;
        /* slow configurations (sanitizers, qemu): the mix model for three mixes only */
        if (!getenv("LT_SLOW") || k == 0 || k == 5 || k == 10) {
            LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", want[k].type, 0, 0, 0, 0) == 0, "%s", err);
            h = gguf_signature(out, letters, sizeof letters);
            LT_CHECKF(strcmp(letters, want[k].letters) == 0, "%s: types %s, llama.cpp's %s", want[k].type, letters, want[k].letters);
            LT_CHECKF(h == want[k].fnv, "%s: data FNV %016llx, llama.cpp's %016llx", want[k].type, (unsigned long long)h,
                      (unsigned long long)want[k].fnv);
        }
        if (stories) {
            LT_CHECKF(run_convert(err, sizeof err, stories, out, "--type", want[k].type, 0, 0, 0, 0) == 0, "%s", err);
            h = gguf_signature(out, letters, sizeof letters);
            LT_CHECKF(h == want[k].fnv_stories, "stories260K %s: data FNV %016llx, llama.cpp's %016llx", want[k].type,
                      (unsigned long long)h, (unsigned long long)want[k].fnv_stories);
        }
    }
    if (!stories) printf("  (stories260K-f32.gguf part skipped: ../shared is absent)\n");
    /* 1 and 3 threads, and --pure: every 2-D weight q4_K but the 288-long rows (q5_0) */
    LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", "q4_k_m", "--threads", "1", 0, 0) == 0, "%s", err);
    LT_CHECKF(run_convert(err, sizeof err, in, out2, "--type", "q4_k_m", "--threads", "3", 0, 0) == 0, "%s", err);
    LT_CHECK(files_equal(out, out2));
    LT_CHECKF(run_convert(err, sizeof err, in, out, "--type", "q4_k_m", "--pure", 0, 0, 0) == 0, "%s", err);
    gguf_signature(out, letters, sizeof letters);
    LT_CHECKF(strcmp(letters, "mammmgmam" "mammmgmam" "mammmgmam" "mammmgmam" "mammmgmam" "mammmgmam" "mammmgmam" "mammmgmam" "am") == 0, "%s", letters);
    remove(in);
    remove(out);
    remove(out2);
}

/* convert --split-max-size: a split set whose files hold one tensor each; inspect shows it as
   one model; converting the set back to one file gives the same bytes as converting directly;
   stories260K (when present) split in 100 kB files and back is GGML's own q8_0 file again. */
static void test_convert_split(void) {
    char err[4096], in[4096], single[4096], split[4096], first[4300], second[4096], back[4096];
    static run_result r;
    lbrx_gguf *g = 0;
    snprintf(in, sizeof in, "%s", lt_tmp_path("tools_small.gguf"));
    snprintf(single, sizeof single, "%s", lt_tmp_path("tools_single.gguf"));
    snprintf(split, sizeof split, "%s", lt_tmp_path("tools_set.gguf"));
    snprintf(first, sizeof first, "%s", lt_tmp_path("tools_set-00001-of-00002.gguf"));
    snprintf(second, sizeof second, "%s", lt_tmp_path("tools_set-00002-of-00002.gguf"));
    snprintf(back, sizeof back, "%s", lt_tmp_path("tools_back.gguf"));
    write_small_gguf(in);
    LT_CHECKF(run_convert(err, sizeof err, in, single, "--type", "q8_0", 0, 0, 0, 0) == 0, "%s", err);
    LT_CHECKF(run_convert(err, sizeof err, in, split, "--type", "q8_0", "--split-max-size", "1", 0, 0) == 0, "%s", err);
    LT_CHECK(lbrx_gguf_open(&g, first, NULL, NULL) == LBRX_OK && lbrx_gguf_shard_count(g) == 2 && lbrx_gguf_tensor_count(g) == 2);
    lbrx_gguf_destroy(g);
    run_inspect(first, &r);
    LT_CHECKF(r.code == 0 && strstr(r.out, "split set of 2 files") && strstr(r.out, "[shard 1]") && strstr(r.out, "tensors: 2\n"), "%s", r.err);
    LT_CHECKF(run_convert(err, sizeof err, first, back, "--type", "q8_0", 0, 0, 0, 0) == 0, "%s", err);
    LT_CHECK(files_equal(single, back));
    remove(second);
    LT_CHECK(run_convert(err, sizeof err, first, back, "--type", "q8_0", 0, 0, 0, 0) == 1 && count_lines(err) == 1 && strstr(err, "missing"));
    LT_CHECK(run_convert(err, sizeof err, in, split, "--type", "q8_0", "--split-max-size", "2X", 0, 0) == 1 && strstr(err, "--split-max-size"));
    LT_CHECK(run_convert(err, sizeof err, in, "x.safetensors", "--type", "f32", "--split-max-size", "1M", 0, 0) == 1 && strstr(err, "GGUF only"));
    remove(first); remove(back); remove(single); remove(in);
    if (lt_shared_path("derived-llama.cpp-c392e50/stories260K-q8_0-f32rest.gguf") && lt_shared_path("derived-llama.cpp-c392e50/stories260K-f32.gguf")) {
        char ref[4096], f32[4096], name[4300];
        int k, n = 0;
        snprintf(ref, sizeof ref, "%s", lt_shared_path("derived-llama.cpp-c392e50/stories260K-q8_0-f32rest.gguf"));
        snprintf(f32, sizeof f32, "%s", lt_shared_path("derived-llama.cpp-c392e50/stories260K-f32.gguf"));
        snprintf(split, sizeof split, "%s", lt_tmp_path("tools_stories_set.gguf"));
        LT_CHECKF(run_convert(err, sizeof err, f32, split, "--type", "q8_0", "--split-max-size", "100K", 0, 0) == 0, "%s", err);
        snprintf(split, sizeof split, "%s", lt_tmp_path("tools_stories_set"));  /* the files' prefix */
        for (k = 1; k < 100 && !n; k++) {
            FILE *f;
            snprintf(name, sizeof name, "%s-00001-of-%05d.gguf", split, k);
            if ((f = fopen(name, "rb")) != NULL) { fclose(f); n = k; }
        }
        LT_CHECKF(n > 1, "the set has %d files", n);
        memcpy(first, name, sizeof first);  /* the last name tried: the first file */
        LT_CHECKF(run_convert(err, sizeof err, first, back, "--type", "q8_0", 0, 0, 0, 0) == 0, "%s", err);
        LT_CHECK(files_equal(ref, back));
        remove(back);
        for (k = 1; k <= n; k++) {
            snprintf(name, sizeof name, "%s-%05d-of-%05d.gguf", split, k, n);
            remove(name);
        }
    }
}

int main(void) {
    LT_RUN(test_inspect_valid);
    LT_RUN(test_inspect_errors);
    LT_RUN(test_inspect_shared);
    LT_RUN(test_inspect_safetensors);
    LT_RUN(test_format_detect);
    LT_RUN(test_convert_matches_ggml);
    LT_RUN(test_convert_round_trip);
    LT_RUN(test_convert_streams_safetensors);
    LT_RUN(test_convert_hf_llama);
    LT_RUN(test_convert_errors);
    LT_RUN(test_convert_mixes_match_llama_cpp);
    LT_RUN(test_convert_split);
    return lt_finish();
}
