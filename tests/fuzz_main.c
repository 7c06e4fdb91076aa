/* fuzz_main.c - a plain main() for the libFuzzer harnesses tests/fuzz_*.c, so that any input
   (a crash file, a corpus) reproduces with any compiler, without libFuzzer:

       cc -O1 -g -fsanitize=address,undefined -I. tests/fuzz_gguf.c tests/fuzz_main.c -o replay
       ./replay crash-1234 tests/fuzz_regressions/gguf      (files, or directories walked recursively)

   Prints one line per input that is run ("ok" or nothing else: a bug crashes or trips a
   sanitizer) and exits 0. With LBRX_FUZZ_NO_MAIN defined, it only provides
   lt_fuzz_replay_path() for tests/test_hardening.c. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <windows.h>
#else
#include <dirent.h>
#include <sys/stat.h>
#endif

typedef int (*lt_fuzz_fn)(const uint8_t *data, size_t size);

/* Reads a whole file into a buffer of exactly its size (so a sanitizer sees any over-read) and
   runs fn on it. Returns 1 if the input ran, 0 if the file could not be read. */
static int lt_fuzz_replay_file(const char *path, lt_fuzz_fn fn) {
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;
    if (!f) return 0;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return 0; }
    buf = (uint8_t *)malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); fclose(f); return 0; }
    fclose(f);
    fn(buf, (size_t)n);
    free(buf);
    return 1;
}

/* Runs fn on `path`, or on every file below it when it is a directory (recursively, in no
   particular order) whose name ends in `suffix` (NULL or "": every file; names starting with
   '.' are skipped). Returns the number of inputs run. */
static long lt_fuzz_replay_path(const char *path, const char *suffix, lt_fuzz_fn fn) {
    long count = 0;
    size_t sl = suffix ? strlen(suffix) : 0, nl;
    char sub[4096];
#if defined(_WIN32)
    WIN32_FIND_DATAA fd;
    HANDLE h;
    DWORD attr = GetFileAttributesA(path);
    if (attr == INVALID_FILE_ATTRIBUTES) return 0;
    if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) return lt_fuzz_replay_file(path, fn);
    snprintf(sub, sizeof sub, "%s/*", path);
    h = FindFirstFileA(sub, &fd);
    if (h == INVALID_HANDLE_VALUE) return 0;
    do {
        const char *name = fd.cFileName;
        if (name[0] == '.') continue;
        snprintf(sub, sizeof sub, "%s/%s", path, name);
        nl = strlen(name);
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) count += lt_fuzz_replay_path(sub, suffix, fn);
        else if (nl >= sl && strcmp(name + nl - sl, sl ? suffix : "") == 0) count += lt_fuzz_replay_file(sub, fn);
    } while (FindNextFileA(h, &fd));
    FindClose(h);
#else
    struct stat st;
    DIR *d;
    struct dirent *e;
    if (stat(path, &st) != 0) return 0;
    if (!S_ISDIR(st.st_mode)) return lt_fuzz_replay_file(path, fn);
    d = opendir(path);
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] == '.') continue;
        snprintf(sub, sizeof sub, "%s/%s", path, name);
        nl = strlen(name);
        if (stat(sub, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) count += lt_fuzz_replay_path(sub, suffix, fn);
        else if (nl >= sl && strcmp(name + nl - sl, sl ? suffix : "") == 0) count += lt_fuzz_replay_file(sub, fn);
    }
    closedir(d);
#endif
    return count;
}

#ifndef LBRX_FUZZ_NO_MAIN
#ifdef __cplusplus
extern "C"
#endif
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        long n = lt_fuzz_replay_path(argv[i], NULL, LLVMFuzzerTestOneInput);
        printf("%s: %ld input%s ok\n", argv[i], n, n == 1 ? "" : "s");
    }
    return 0;
}
#endif
