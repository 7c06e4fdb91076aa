/* Storage: file maps (large sparse files, odd sizes, empty files, errors), external memory and
   its release callback, host regions. */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"
#if defined(_WIN32)
#include <windows.h>
#include <winioctl.h>
#include <direct.h>
#define make_dir(p) _mkdir(p)
#define remove_dir(p) _rmdir(p)
#else
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#define make_dir(p) mkdir(p, 0700)
#define remove_dir(p) rmdir(p)
#endif

/* resident set size in bytes, from /proc/self/statm (0 where there is none) */
static size_t resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0;
    fclose(f);
    return (size_t)res * lbrx_page_size();
}

/* A sparse file of `size` bytes ending in the n bytes `tail`; 0 when the system refuses. */
static int write_sparse_tail(const char *path, uint64_t size, const void *tail, size_t n) {
#if defined(_WIN32)
    HANDLE h = CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    LARGE_INTEGER pos;
    DWORD done = 0, ret = 0;
    int ok;
    if (h == INVALID_HANDLE_VALUE) return 0;
    DeviceIoControl(h, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &ret, NULL);
    pos.QuadPart = (LONGLONG)(size - n);
    ok = SetFilePointerEx(h, pos, NULL, FILE_BEGIN) && WriteFile(h, tail, (DWORD)n, &done, NULL) && done == n;
    return CloseHandle(h) && ok;
#else
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600), ok;
    if (fd < 0) return 0;
    ok = ftruncate(fd, (off_t)size) == 0 && pwrite(fd, tail, n, (off_t)(size - n)) == (ssize_t)n;
    return close(fd) == 0 && ok;
#endif
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    if (n && fwrite(data, 1, n, f) != n) { fclose(f); return 0; }
    return fclose(f) == 0;
}

/* a 1 MiB f32 tensor at the very end of a sparse file just over 1 GiB (not a page multiple):
   read correctly, and resident memory grows by about the tensor only */
static void test_sparse_large_file(void) {
    const uint64_t tensor_bytes = (uint64_t)1 << 20;
    const uint64_t file_size = ((uint64_t)1 << 30) + 3 * 4096 + 124;
    const uint64_t off = file_size - tensor_bytes;  /* ends exactly at the end of the file */
    const char *path = lt_tmp_path("storage_sparse.bin");
    float *data;
    size_t i, n = (size_t)(tensor_bytes / 4), before, after;
    lbrx_storage *s;
    lbrx_tensor t;
    lbrx_error err;
    int64_t shape[2];
    double sum = 0, want = 0;
#if defined(LBRX_NO_MMAP)
    LT_SKIP("LBRX_NO_MMAP reads the whole file into memory");
#endif
    if (sizeof(size_t) < 8) LT_SKIP("32-bit address space");
    data = (float *)malloc((size_t)tensor_bytes);
    for (i = 0; i < n; i++) data[i] = (float)(i % 1000) - 500.0f;
    if (!write_sparse_tail(path, file_size, data, (size_t)tensor_bytes)) {
        free(data);
        remove(path);
        LT_SKIP("cannot create a sparse 1 GiB file here");
    }
    before = resident_bytes();
    LT_CHECK(lbrx_storage_open(&s, path, NULL, &err) == LBRX_OK);
    LT_CHECK(lbrx_storage_size(s) == (size_t)file_size && lbrx_storage_kind_of(s) == LBRX_STORAGE_MMAP);
    LT_CHECK(!lbrx_storage_writable(s));
    shape[0] = 1024;
    shape[1] = 256;
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 2, shape, s, off, &err) == LBRX_OK);
    lbrx_storage_release(s);  /* the tensor keeps the map alive */
    lbrx_storage_prefetch(t.storage, off, tensor_bytes);
    for (i = 0; i < n; i++) { sum += ((const float *)t.data)[i]; want += data[i]; }
    LT_CHECK(sum == want && ((const float *)t.data)[n - 1] == data[n - 1]);
    /* the start of the file reads as zeros without being resident beforehand */
    LT_CHECK(((const unsigned char *)lbrx_storage_data(t.storage))[12345] == 0);
    after = resident_bytes();
    if (after)  /* where /proc/self/statm exists */
        LT_CHECKF(after < before + ((size_t)64 << 20), "resident memory grew by %zu KiB", (after - before) / 1024);
    if (getenv("LT_VERBOSE")) fprintf(stderr, "  sparse map: resident +%ld KiB\n", ((long)after - (long)before) / 1024);
    /* a tensor that would run past the end */
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 2, shape, t.storage, off + 4, &err) == LBRX_ERR_BAD_OFFSET);
    LT_CHECK(err.offset == off + 4 && strstr(err.message, "do not fit"));
    lbrx_tensor_release(&t);
    free(data);
    remove(path);
}

/* a file whose size is not a page multiple: exact size, every byte, bounds */
static void test_odd_size_file(void) {
    enum { N = 5000 };
    unsigned char buf[N];
    const char *path = lt_tmp_path("storage_odd.bin");
    lbrx_storage *s;
    lbrx_tensor t;
    lbrx_error err;
    int64_t shape[1] = {1250};
    int i;
    for (i = 0; i < N; i++) buf[i] = (unsigned char)(i * 7 + 3);
    LT_CHECK(write_file(path, buf, N));
    LT_CHECK(lbrx_storage_open(&s, path, NULL, &err) == LBRX_OK);
    LT_CHECK(lbrx_storage_size(s) == N && memcmp(lbrx_storage_data(s), buf, N) == 0);
    LT_CHECK(lbrx_storage_at(s, 4999, 1) != NULL && lbrx_storage_at(s, 4999, 2) == NULL);
    LT_CHECK(lbrx_storage_at(s, 5000, 0) != NULL && lbrx_storage_at(s, 5001, 0) == NULL);
    LT_CHECK(lbrx_storage_at(s, UINT64_MAX, 2) == NULL && lbrx_storage_at(s, 2, UINT64_MAX) == NULL);
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 1, shape, s, 0, &err) == LBRX_OK);
    LT_CHECK(memcmp(t.data, buf, N) == 0);
    lbrx_tensor_release(&t);
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 1, shape, s, 1, &err) == LBRX_ERR_BAD_OFFSET);
    /* unaligned zero-copy tensor: 1249 floats at offset 3 */
    shape[0] = 1249;
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 1, shape, s, 3, &err) == LBRX_OK && lbrx_tensor_alignment(&t) == 1);
    {
        void *base = NULL;
        size_t size = 0, offset = 0, page = lbrx_page_size();
        LT_CHECK(lbrx_tensor_host_region(&t, &base, &size, &offset, &err) == LBRX_OK);
        LT_CHECK(base && ((uintptr_t)base % page) == 0 && size % page == 0 && (unsigned char *)base + offset == (unsigned char *)t.data);
        LT_CHECK(offset + 1249 * 4 <= size);
    }
    lbrx_tensor_release(&t);
    lbrx_storage_release(s);
    remove(path);
}

static void test_empty_missing_directory(void) {
    char path[4096], missing[4096], dir[4096], through[4200];
    lbrx_storage *s = (lbrx_storage *)1;
    lbrx_tensor t;
    lbrx_error err;
    int64_t one[1] = {1};
    snprintf(path, sizeof path, "%s", lt_tmp_path("storage_empty.bin"));
    /* empty file: a storage of size 0; any tensor with bytes is out of range */
    LT_CHECK(write_file(path, "", 0));
    LT_CHECK(lbrx_storage_open(&s, path, NULL, &err) == LBRX_OK);
    LT_CHECK(lbrx_storage_size(s) == 0 && lbrx_storage_data(s) != NULL);
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 1, one, s, 0, &err) == LBRX_ERR_BAD_OFFSET);
    lbrx_storage_release(s);
    remove(path);
    /* missing */
    snprintf(missing, sizeof missing, "%s", lt_tmp_path("storage_no_such_file.bin"));
    s = (lbrx_storage *)1;
    LT_CHECK(lbrx_storage_open(&s, missing, NULL, &err) == LBRX_ERR_NOT_FOUND && s == NULL);
    LT_CHECK(err.result == LBRX_ERR_NOT_FOUND && strstr(err.message, "no_such_file.bin") && strstr(err.message, "no such file"));
    /* a path through a regular file */
    LT_CHECK(write_file(path, "x", 1));
    snprintf(through, sizeof through, "%s/inside", path);
    LT_CHECK(lbrx_storage_open(&s, through, NULL, &err) == LBRX_ERR_NOT_FOUND);
    remove(path);
    /* directory */
    snprintf(dir, sizeof dir, "%s", lt_tmp_path("storage_dir"));
    remove_dir(dir);
    LT_CHECK(make_dir(dir) == 0);
    LT_CHECK(lbrx_storage_open(&s, dir, NULL, &err) == LBRX_ERR_IO && strstr(err.message, "directory"));
    remove_dir(dir);
    LT_CHECK(lbrx_storage_open(&s, NULL, NULL, &err) == LBRX_ERR_INVALID_ARGUMENT);
#if !defined(_WIN32)
    /* a FIFO with no writer: refused at once, not waited on */
    LT_CHECK(mkfifo(path, 0600) == 0);
    LT_CHECK(lbrx_storage_open(&s, path, NULL, &err) == LBRX_ERR_IO && strstr(err.message, "not a regular file"));
    remove(path);
#endif
    LT_CHECK(lbrx_storage_open(&s, missing, NULL, NULL) == LBRX_ERR_NOT_FOUND);  /* err is optional */
}

typedef struct release_log { int calls; void *ptr; size_t size; } release_log;
static void on_release(void *ptr, size_t size, void *user) {
    release_log *l = (release_log *)user;
    l->calls++;
    l->ptr = ptr;
    l->size = size;
}

/* external memory: zero-copy views, release callback exactly once after the last view */
static void test_external_storage(void) {
    float mem[64];
    release_log log = {0, NULL, 0};
    lbrx_storage *s;
    lbrx_tensor t, v, r;
    int64_t shape[2] = {8, 8}, flat[1] = {64};
    int i;
    for (i = 0; i < 64; i++) mem[i] = (float)i;
    LT_CHECK(lbrx_storage_create_external(&s, mem, sizeof mem, 1, on_release, &log, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_storage_kind_of(s) == LBRX_STORAGE_EXTERNAL && lbrx_storage_writable(s));
    LT_CHECK(lbrx_tensor_init(&t, LBRX_F32, 2, shape, s, 0, NULL) == LBRX_OK);
    LT_CHECK(t.data == (void *)mem);
    lbrx_storage_release(s);
    LT_CHECK(lbrx_tensor_slice(&t, 1, 2, 5, &v, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_reshape(&t, 1, flat, &r, NULL) == LBRX_OK);
    LT_CHECK(((float *)lbrx_tensor_row(&v, 3))[1] == 27.0f);
    lbrx_tensor_release(&t);
    lbrx_tensor_release(&r);
    LT_CHECK(log.calls == 0);
    lbrx_tensor_release(&v);
    LT_CHECK(log.calls == 1 && log.ptr == (void *)mem && log.size == sizeof mem);
    lbrx_tensor_release(&v);
    LT_CHECK(log.calls == 1);
    /* no callback is fine; wrapping NULL with a size is not */
    LT_CHECK(lbrx_storage_create_external(&s, mem, sizeof mem, 0, NULL, NULL, NULL, NULL) == LBRX_OK && !lbrx_storage_writable(s));
    lbrx_storage_release(s);
    LT_CHECK(lbrx_storage_create_external(&s, NULL, 16, 0, NULL, NULL, NULL, NULL) == LBRX_ERR_INVALID_ARGUMENT);
}

/* many threads retaining and releasing one storage: one callback at the end */
static void test_refcount_threads(void) {
    float mem[4];
    release_log log = {0, NULL, 0};
    lbrx_storage *s;
    int i;
    LT_CHECK(lbrx_storage_create_external(&s, mem, sizeof mem, 1, on_release, &log, NULL, NULL) == LBRX_OK);
#ifdef _OPENMP
#pragma omp parallel for
#endif
    for (i = 0; i < 20000; i++) {
        lbrx_storage_retain(s);
        lbrx_storage_release(s);
    }
    LT_CHECK(log.calls == 0);
    lbrx_storage_release(s);
    LT_CHECK(log.calls == 1);
}

int main(void) {
    LT_RUN(test_sparse_large_file);
    LT_RUN(test_odd_size_file);
    LT_RUN(test_empty_missing_directory);
    LT_RUN(test_external_storage);
    LT_RUN(test_refcount_threads);
    return lt_finish();
}
