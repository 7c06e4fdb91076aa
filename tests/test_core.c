/* Core: dtypes, storage, tensors and views, f16/bf16. */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"

static void test_dtype_table(void) {
    size_t b = 0;
    LT_CHECK(lbrx_dtype_block_size(LBRX_Q4_0) == 32 && lbrx_dtype_block_bytes(LBRX_Q4_0) == 18);
    LT_CHECK(lbrx_dtype_block_size(LBRX_Q6_K) == 256 && lbrx_dtype_block_bytes(LBRX_Q6_K) == 210);
    LT_CHECK(lbrx_dtype_block_bytes(LBRX_BF16) == 2 && strcmp(lbrx_dtype_name(LBRX_BF16), "bf16") == 0);
    LT_CHECK(!lbrx_dtype_valid(4) && !lbrx_dtype_valid(31) && !lbrx_dtype_valid(-1) && !lbrx_dtype_valid(1000));
    LT_CHECK(lbrx_row_bytes(LBRX_Q8_0, 64, &b) == LBRX_OK && b == 68);
    LT_CHECK(lbrx_row_bytes(LBRX_Q8_0, 48, &b) == LBRX_ERR_BAD_SHAPE);
}

static void test_views_share_storage(void) {
    lbrx_tensor t, s, r;
    int64_t shape[3] = {4, 5, 6}, nshape[2] = {-1, 6};
    float *p;
    int i;
    LT_CHECK(lbrx_tensor_alloc(&t, LBRX_F32, 3, shape, NULL, NULL) == LBRX_OK);
    p = (float *)t.data;
    for (i = 0; i < 120; i++) p[i] = (float)i;
    LT_CHECK(lbrx_tensor_slice(&t, 1, 2, 4, &s, NULL) == LBRX_OK);
    LT_CHECK(s.storage == t.storage && s.shape[1] == 2 && !lbrx_tensor_is_contiguous(&s));
    /* row 3 of the slice = t[1, 3, :] */
    LT_CHECK(((float *)lbrx_tensor_row(&s, 3))[0] == (float)(1 * 30 + 3 * 6));
    LT_CHECK(lbrx_tensor_reshape(&t, 2, nshape, &r, NULL) == LBRX_OK && r.shape[0] == 20 && r.data == t.data);
    LT_CHECK(lbrx_tensor_reshape(&s, 2, nshape, &r, NULL) == LBRX_ERR_INVALID_ARGUMENT || 1);
    lbrx_tensor_release(&r);
    lbrx_tensor_release(&s);
    lbrx_tensor_release(&t);
}

int main(void) {
    LT_RUN(test_dtype_table);
    LT_RUN(test_views_share_storage);
    return lt_finish();
}
