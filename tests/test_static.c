/* All three headers instantiated in one translation unit with LBRX_STATIC (every function
   static): must compile warning-free in every matrix config and work. */
#ifndef LBRX_STATIC   /* tests/matrix.sh defines it in most configurations */
#define LBRX_STATIC
#endif
#define LBRX_IMPL
#include "lbrx.h"
#include "lbrx_gguf.h"
#include "lbrx_safetensors.h"
#include "lbrx_test.h"

static void test_static_instantiation(void) {
    /* a minimal safetensors image: one f32 scalar 1.5 */
    static const char hdr[] = "{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
    unsigned char buf[8 + sizeof hdr - 1 + 4];
    uint64_t n = sizeof hdr - 1;
    float v = 1.5f;
    lbrx_safetensors *st = NULL;
    lbrx_gguf *g = NULL;
    lbrx_error err;
    int i;
    for (i = 0; i < 8; i++) buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, hdr, (size_t)n);
    memcpy(buf + 8 + n, &v, 4);
    LT_CHECK(lbrx_safetensors_open_memory(&st, buf, sizeof buf, NULL, &err) == LBRX_OK);
    lbrx_safetensors_destroy(st);
    /* not a GGUF file: refused with the specific code, no crash */
    LT_CHECK(lbrx_gguf_open_memory(&g, buf, sizeof buf, NULL, &err) == LBRX_ERR_BAD_MAGIC);
    LT_CHECK(g == NULL);
}

int main(void) {
    LT_RUN(test_static_instantiation);
    return lt_finish();
}
