/* The command-line tools: examples/inspect.c (exit codes, the single "error:" line, the listing)
   and examples/convert.c. The examples are included with their main() turned off and their
   *_main functions called with captured output. */
#define LBRX_EXAMPLE_NO_MAIN
#include "examples/inspect.c"
#include "lbrx_test.h"

typedef struct run_result { int code; char out[1 << 16]; char err[4096]; } run_result;

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
    FILE *out = tmpfile(), *err = tmpfile();
    argv[0] = (char *)"inspect";
    argv[1] = (char *)path;
    argv[2] = 0;
    r->out[0] = r->err[0] = 0;
    r->code = -1;
    if (!out || !err) { LT_CHECK(0); if (out) fclose(out); if (err) fclose(err); return; }
    r->code = inspect_main(path ? 2 : 1, argv, out, err);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
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
    LT_CHECK(lbrx_tensor_alloc(&a, LBRX_Q8_0, 2, sa, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_alloc(&b, LBRX_F32, 1, sb, NULL, NULL) == LBRX_OK);
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

int main(void) {
    LT_RUN(test_inspect_valid);
    LT_RUN(test_inspect_errors);
    LT_RUN(test_inspect_shared);
    return lt_finish();
}
