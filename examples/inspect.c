/* inspect - print what a model file (GGUF, safetensors, sharded safetensors) holds: format and version, metadata, one line per tensor.

       cc -O2 examples/inspect.c -o inspect -lm
       ./inspect model.gguf
       ./inspect model.safetensors
       ./inspect model.safetensors.index.json
       ./inspect model-00001-of-00003.gguf      (a split GGUF set, from its first file)

   The format is found from the file's content, not its name. A valid file prints to stdout and
   exits 0; an invalid one exits 1 with exactly one line on stderr, starting "error:", that names
   what is wrong and where (field, tensor, file offset). No other exit code, no signal.
   (tests/test_tools.c includes this file with LBRX_EXAMPLE_NO_MAIN and calls inspect_main.) */
#define LBRX_IMPL
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
#include <stdio.h>
#include <string.h>
#include <signal.h>

/* Arrays longer than this print their first elements and a count of the rest. */
#define INSPECT_ARRAY_HEAD 8
/* Strings longer than this are cut. */
#define INSPECT_STRING_MAX 72

static void inspect_str(FILE *out, const char *s, uint64_t len) {
    uint64_t i, n = len > INSPECT_STRING_MAX ? INSPECT_STRING_MAX : len;
    fputc('"', out);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fprintf(out, "\\n");
        else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
        else fputc(c, out);  /* UTF-8 passes through */
    }
    fputc('"', out);
    if (n < len) fprintf(out, "...(%llu bytes)", (unsigned long long)len);
}

/* One element of type t at p (little-endian, maybe unaligned). */
static void inspect_scalar(FILE *out, lbrx_gguf_type t, const unsigned char *p) {
    switch (t) {
    case LBRX_GGUF_UINT8: fprintf(out, "%u", (unsigned)p[0]); break;
    case LBRX_GGUF_INT8: fprintf(out, "%d", (int)(int8_t)p[0]); break;
    case LBRX_GGUF_BOOL: fprintf(out, "%s", p[0] ? "true" : "false"); break;
    case LBRX_GGUF_UINT16: { uint16_t v; memcpy(&v, p, 2); fprintf(out, "%u", (unsigned)v); break; }
    case LBRX_GGUF_INT16: { int16_t v; memcpy(&v, p, 2); fprintf(out, "%d", (int)v); break; }
    case LBRX_GGUF_UINT32: { uint32_t v; memcpy(&v, p, 4); fprintf(out, "%lu", (unsigned long)v); break; }
    case LBRX_GGUF_INT32: { int32_t v; memcpy(&v, p, 4); fprintf(out, "%ld", (long)v); break; }
    case LBRX_GGUF_FLOAT32: { float v; memcpy(&v, p, 4); fprintf(out, "%.9g", (double)v); break; }
    case LBRX_GGUF_UINT64: { uint64_t v; memcpy(&v, p, 8); fprintf(out, "%llu", (unsigned long long)v); break; }
    case LBRX_GGUF_INT64: { int64_t v; memcpy(&v, p, 8); fprintf(out, "%lld", (long long)v); break; }
    case LBRX_GGUF_FLOAT64: { double v; memcpy(&v, p, 8); fprintf(out, "%.17g", v); break; }
    default: fprintf(out, "?"); break;
    }
}

static void inspect_kv(FILE *out, const lbrx_gguf_kv *kv) {
    uint64_t i, n;
    if (kv->type != LBRX_GGUF_ARRAY) {
        fprintf(out, "  %s: %s = ", kv->key, lbrx_gguf_type_name(kv->type));
        if (kv->type == LBRX_GGUF_STRING) inspect_str(out, kv->str.data, kv->str.len);
        else inspect_scalar(out, kv->type, (const unsigned char *)kv->data);
        fputc('\n', out);
        return;
    }
    fprintf(out, "  %s: arr[%s, %llu] = [", kv->key, lbrx_gguf_type_name(kv->elem_type), (unsigned long long)kv->count);
    n = kv->count > INSPECT_ARRAY_HEAD ? INSPECT_ARRAY_HEAD : kv->count;
    for (i = 0; i < n; i++) {
        if (i) fprintf(out, ", ");
        if (kv->elem_type == LBRX_GGUF_STRING) inspect_str(out, kv->strs[i].data, kv->strs[i].len);
        else inspect_scalar(out, kv->elem_type, (const unsigned char *)kv->data + i * lbrx_gguf_type_size(kv->elem_type));
    }
    if (n < kv->count) fprintf(out, ", ... %llu more", (unsigned long long)(kv->count - n));
    fprintf(out, "]\n");
}

static void inspect_tensor_line(FILE *out, const char *name, lbrx_dtype dtype, int ndim, const int64_t *shape,
                                uint64_t offset, uint64_t alignment) {
    int d;
    fprintf(out, "  %-40s %-7s [", name, lbrx_dtype_name(dtype));
    for (d = 0; d < ndim; d++) fprintf(out, "%s%lld", d ? ", " : "", (long long)shape[d]);
    fprintf(out, "]  offset %llu  %s %llu\n", (unsigned long long)offset, offset % alignment == 0 ? "aligned to" : "NOT aligned to",
            (unsigned long long)alignment);
}

/* The one error line: "error: PATH: message", control characters replaced so it stays one line. */
static int inspect_fail(FILE *err, const char *path, const char *message) {
    const char *p;
    fprintf(err, "error: %s: ", path);
    for (p = message; *p; p++) fputc((unsigned char)*p < 0x20 ? '?' : *p, err);
    fputc('\n', err);
    return 1;
}

/* A GGUF file held by storage s, or, with s NULL, the split set whose first shard is `path`. */
static int inspect_gguf(FILE *out, FILE *errout, const char *path, lbrx_storage *s) {
    lbrx_gguf *g;
    lbrx_error err;
    size_t i;
    lbrx_result r = s ? lbrx_gguf_open_storage(&g, s, NULL, &err) : lbrx_gguf_open(&g, path, NULL, &err);
    if (r != LBRX_OK) return inspect_fail(errout, path, err.message);
    fprintf(out, "format: GGUF v%u (little-endian), alignment %u", (unsigned)lbrx_gguf_version(g), (unsigned)lbrx_gguf_alignment(g));
    if (lbrx_gguf_tensor_count(g) > 0) fprintf(out, ", data section at offset %llu", (unsigned long long)lbrx_gguf_data_offset(g));
    if (lbrx_gguf_shard_count(g) > 1) fprintf(out, ", split set of %zu files", lbrx_gguf_shard_count(g));
    fprintf(out, "\nmetadata: %zu keys\n", lbrx_gguf_kv_count(g));
    for (i = 0; i < lbrx_gguf_kv_count(g); i++) inspect_kv(out, lbrx_gguf_kv_at(g, i));
    fprintf(out, "tensors: %zu\n", lbrx_gguf_tensor_count(g));
    for (i = 0; i < lbrx_gguf_tensor_count(g); i++) {
        const lbrx_gguf_tensor_info *t = lbrx_gguf_tensor_info_at(g, i);
        if (lbrx_gguf_shard_count(g) > 1) fprintf(out, "  [shard %u]", (unsigned)t->shard);
        inspect_tensor_line(out, t->name, t->dtype, t->ndim, t->shape, t->file_offset, lbrx_gguf_alignment(g));
    }
    lbrx_gguf_destroy(g);
    return 0;
}

/* A safetensors file held by storage s, or, with s NULL, a sharded checkpoint's index at
   `path`. Tensor offsets are file offsets in their shard; "aligned" means aligned to the element
   size. */
static int inspect_safetensors(FILE *out, FILE *errout, const char *path, lbrx_storage *s) {
    lbrx_safetensors *st;
    lbrx_error err;
    const lbrx_json_value *meta;
    size_t i, n_shards;
    int index = s == NULL;
    lbrx_result r = index ? lbrx_safetensors_open_index(&st, path, NULL, &err) : lbrx_safetensors_open_storage(&st, s, NULL, &err);
    if (r != LBRX_OK) return inspect_fail(errout, path, err.message);
    n_shards = lbrx_safetensors_shard_count(st);
    if (index) fprintf(out, "format: safetensors, sharded checkpoint index of %zu shards\n", n_shards);
    else fprintf(out, "format: safetensors, header of %llu bytes, data at offset %llu\n",
                 (unsigned long long)(lbrx_safetensors_data_offset(st, 0) - 8), (unsigned long long)lbrx_safetensors_data_offset(st, 0));
    meta = lbrx_safetensors_metadata(st);
    fprintf(out, "metadata: %zu keys\n", lbrx_json_count(meta));
    for (i = 0; i < lbrx_json_count(meta); i++) {
        const char *key = "";
        size_t len = 0;
        const char *v = lbrx_json_string(lbrx_json_member(meta, i, &key, 0), &len);
        fprintf(out, "  %s: str = ", key);
        inspect_str(out, v, len);
        fputc('\n', out);
    }
    fprintf(out, "tensors: %zu\n", lbrx_safetensors_tensor_count(st));
    for (i = 0; i < lbrx_safetensors_tensor_count(st); i++) {
        lbrx_tensor t;
        if (lbrx_safetensors_tensor(st, i, &t, &err) != LBRX_OK) { lbrx_safetensors_destroy(st); return inspect_fail(errout, path, err.message); }
        if (n_shards > 1) fprintf(out, "  [shard %zu]", lbrx_safetensors_tensor_shard(st, i));
        inspect_tensor_line(out, lbrx_safetensors_tensor_name(st, i), t.dtype, t.ndim, t.shape, lbrx_safetensors_tensor_offset(st, i),
                            lbrx_dtype_block_bytes(t.dtype));
        lbrx_tensor_release(&t);
    }
    lbrx_safetensors_destroy(st);
    return 0;
}

/* The whole program, printing to out and errout; returns the exit code (0 or 1). The file is
   mapped once: the library says what it is from its content (lbrx_format_detect) and the reader
   opens the same mapping (a split GGUF set or a shard index opens the files it names). */
static int inspect_main(int argc, char **argv, FILE *out, FILE *errout) {
    lbrx_storage *s;
    lbrx_error err;
    int rc;
    if (argc != 2) return inspect_fail(errout, argc > 0 ? argv[0] : "inspect", "usage: inspect FILE (GGUF, safetensors or model.safetensors.index.json)");
    if (lbrx_storage_open(&s, argv[1], NULL, &err) != LBRX_OK) return inspect_fail(errout, argv[1], err.message);
    switch (lbrx_format_detect(lbrx_storage_data(s), lbrx_storage_size(s))) {
    case LBRX_FORMAT_GGUF: rc = inspect_gguf(out, errout, argv[1], s); break;
    case LBRX_FORMAT_GGUF_SPLIT: rc = inspect_gguf(out, errout, argv[1], NULL); break;
    case LBRX_FORMAT_SAFETENSORS: rc = inspect_safetensors(out, errout, argv[1], s); break;
    case LBRX_FORMAT_SAFETENSORS_INDEX: rc = inspect_safetensors(out, errout, argv[1], NULL); break;
    default: rc = inspect_fail(errout, argv[1], "unknown format (neither GGUF nor safetensors)"); break;
    }
    lbrx_storage_release(s);
    return rc;
}

#ifndef LBRX_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
#ifdef SIGPIPE
    signal(SIGPIPE, SIG_IGN);  /* `inspect x | head` ends with a write error, not a signal */
#endif
    return inspect_main(argc, argv, stdout, stderr);
}
#endif
