/* lbrx_test.h - the tiny test harness shared by tests/test_*.c.
   Each test file is its own program: it defines test functions, runs them with LT_RUN from
   main(), and ends with `return lt_finish();`, which prints "LT_RESULT passed failed skipped"
   for tests/run.sh to add up. A test fails if any LT_CHECK in it fails; it is skipped when it
   calls LT_SKIP (say why). Shared test data is found through lt_shared_path(). */
#ifndef LBRX_TEST_H
#define LBRX_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#ifdef _WIN32
#include <windows.h>
#endif
#if defined(__GNUC__) || defined(__clang__)
#define LT_UNUSED __attribute__((unused))
#else
#define LT_UNUSED
#endif

LT_UNUSED static int lt_passed, lt_failed, lt_skipped;
LT_UNUSED static int lt_cur_failed, lt_cur_skipped;
static const char *lt_cur_name;

#define LT_CHECK(cond) do { if (!(cond)) { lt_cur_failed++; \
    fprintf(stderr, "  FAIL %s (%s:%d): %s\n", lt_cur_name, __FILE__, __LINE__, #cond); } } while (0)
/* LT_CHECKF(cond, fmt, ...): like LT_CHECK with a printf message on failure. */
#define LT_CHECKF(cond, ...) do { if (!(cond)) { lt_cur_failed++; \
    fprintf(stderr, "  FAIL %s (%s:%d): %s: ", lt_cur_name, __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define LT_SKIP(why) do { lt_cur_skipped = 1; fprintf(stderr, "  SKIP %s: %s\n", lt_cur_name, why); return; } while (0)
#define LT_RUN(fn) lt_run_one(#fn, fn)

LT_UNUSED static void lt_run_one(const char *name, void (*fn)(void)) {
    clock_t t0 = clock();
    lt_cur_name = name; lt_cur_failed = 0; lt_cur_skipped = 0;
    fn();
    if (lt_cur_failed) { lt_failed++; fprintf(stderr, "FAIL %s\n", name); }
    else if (lt_cur_skipped) lt_skipped++;
    else { lt_passed++; if (getenv("LT_VERBOSE")) fprintf(stderr, "ok   %s (%.2f s of CPU)\n", name, (double)(clock() - t0) / CLOCKS_PER_SEC); }
}

LT_UNUSED static int lt_finish(void) {
    printf("LT_RESULT %d %d %d\n", lt_passed, lt_failed, lt_skipped);
    return lt_failed ? 1 : 0;
}

/* Path of a file under the shared test data (../shared/data beside the repository, or
   $LBRX_SHARED_DATA), or NULL when the data is absent. The result is a static buffer. */
LT_UNUSED static const char *lt_shared_path(const char *rel) {
    static char buf[4096];
    const char *root = getenv("LBRX_SHARED_DATA");
    FILE *f;
    if (!root || !*root) root = "../shared/data";
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}
#define LT_SHARED_OR_SKIP(var, rel) const char *var = lt_shared_path(rel); \
    if (!var) LT_SKIP("shared test data absent: " rel)

/* Path of a scratch file `name` in $LT_TMP (set by tests/matrix.sh; "." when unset). Remove the
   files you create. The result is a static buffer, overwritten by the next call. */
LT_UNUSED static const char *lt_tmp_path(const char *name) {
    static char buf[4096];
    const char *dir = getenv("LT_TMP");
    snprintf(buf, sizeof buf, "%s/%s", dir && *dir ? dir : ".", name);
    return buf;
}

/* remove() of a UTF-8 path on every system (on Windows remove() takes the ANSI code page). */
LT_UNUSED static int lt_remove(const char *path) {
#ifdef _WIN32
    wchar_t w[4096];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 4096)) return -1;
    return _wremove(w);
#else
    return remove(path);
#endif
}

#ifdef LBRX_H
/* A run-time allocator that counts what goes through it (memory from lbrx's default allocator):
   `lbrx_allocator a = lt_counting_allocator(&c);` with a zeroed lt_counting c, then c.allocs and
   c.frees (calls), c.bytes (all bytes asked for), c.live (bytes not yet freed) and c.peak (the
   most bytes live at once). Each block carries its size in a header before it. */
typedef struct lt_counting { long allocs, frees; size_t bytes, live, peak; } lt_counting;
LT_UNUSED static void *lt_count_alloc(size_t size, size_t alignment, void *user) {
    lt_counting *c = (lt_counting *)user;
    size_t head = alignment > 2 * sizeof(size_t) ? alignment : 2 * sizeof(size_t);  /* a power of two */
    unsigned char *p = (unsigned char *)lbrx_alloc(NULL, size + head, head);
    if (!p) return NULL;
    p += head;
    memcpy(p - 2 * sizeof(size_t), &size, sizeof size);
    memcpy(p - sizeof(size_t), &head, sizeof head);
    c->allocs++;
    c->bytes += size;
    c->live += size;
    if (c->live > c->peak) c->peak = c->live;
    return p;
}
LT_UNUSED static void lt_count_free(void *ptr, void *user) {
    lt_counting *c = (lt_counting *)user;
    unsigned char *p = (unsigned char *)ptr;
    size_t size, head;
    memcpy(&size, p - 2 * sizeof(size_t), sizeof size);
    memcpy(&head, p - sizeof(size_t), sizeof head);
    c->frees++;
    c->live -= size;
    lbrx_free(NULL, p - head);
}
LT_UNUSED static lbrx_allocator lt_counting_allocator(lt_counting *c) {
    lbrx_allocator a;
    a.alloc = lt_count_alloc; a.free = lt_count_free; a.user = c;
    return a;
}

/* A context with n_threads threads (0: all), or NULL when it cannot be made. */
LT_UNUSED static lbrx_context *lt_context(int n_threads) {
    lbrx_context *ctx = NULL;
    lbrx_context_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.n_threads = n_threads;
    lbrx_context_create(&ctx, &cd, NULL);
    return ctx;
}
#endif

/* A small deterministic generator for test data (xorshift64*). */
typedef struct lt_rng { unsigned long long s; } lt_rng;
LT_UNUSED static unsigned long long lt_next(lt_rng *r) {
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
/* uniform in [-1, 1) */
LT_UNUSED static float lt_uniform(lt_rng *r) { return (float)((double)(lt_next(r) >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

#endif
