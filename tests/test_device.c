/* Device interface: round trips through the host-memory device, zero-copy wrapping of mapped
   files, the buffer pool, error paths and leaks. The expected bytes of every packed view come
   from a naive element-by-element walk written here, independent of lbrx's staging code. */
#define LBRX_IMPLEMENTATION
#include "lbrx.h"
#include "lbrx_test.h"

/* Totals over every test, printed at the end with LT_VERBOSE=1 (the report quotes them). */
static lbrx_device_host g_totals;
static void add_totals(const lbrx_device_host *h) {
    g_totals.allocs += h->allocs; g_totals.frees += h->frees;
    g_totals.uploads += h->uploads; g_totals.upload_bytes += h->upload_bytes;
    g_totals.downloads += h->downloads; g_totals.download_bytes += h->download_bytes;
    g_totals.wraps += h->wraps; g_totals.unwraps += h->unwraps;
}

/* Fill a tensor's storage with random bytes (block scales included: only bytes matter here). */
static void fill_random(lbrx_tensor *t, unsigned long long seed) {
    lt_rng r;
    size_t i, n = lbrx_storage_size(t->storage);
    unsigned char *p = (unsigned char *)lbrx_storage_data(t->storage);
    r.s = seed;
    for (i = 0; i < n; i++) p[i] = (unsigned char)(lt_next(&r) >> 56);
}

/* The contiguous bytes of any tensor, walked element by element (block by block) with its
   strides: the reference for what a device buffer must hold. Caller frees. */
static unsigned char *naive_pack(const lbrx_tensor *t, size_t *nbytes) {
    int64_t idx[LBRX_MAX_DIMS] = {0}, block = lbrx_dtype_block_size(t->dtype), units = 1;
    size_t ub = lbrx_dtype_block_bytes(t->dtype), total, k = 0;
    unsigned char *out;
    int d, nd = t->ndim;
    int64_t i;
    for (d = 0; d < nd; d++) units *= d == nd - 1 ? t->shape[d] / block : t->shape[d];
    total = (size_t)units * ub;
    *nbytes = total;
    out = (unsigned char *)malloc(total ? total : 1);
    for (i = 0; i < units; i++) {
        const unsigned char *src = (const unsigned char *)t->data;
        for (d = 0; d < nd; d++) {
            if (d == nd - 1 && block > 1) src += idx[d] * (int64_t)ub;  /* blocks are contiguous */
            else src += idx[d] * t->stride[d];
        }
        memcpy(out + k, src, ub);
        k += ub;
        for (d = nd - 1; d >= 0; d--) {
            int64_t n = d == nd - 1 ? t->shape[d] / block : t->shape[d];
            if (++idx[d] < n) break;
            idx[d] = 0;
        }
    }
    return out;
}

/* Upload `view`, check the device bytes against naive_pack, download into a new host tensor
   and into the view's own place in a zeroed copy of its parent. Returns the device's upload
   calls for this round trip. */
static uint64_t round_trip(const lbrx_device *dev, lbrx_device_host *h, const lbrx_tensor *parent,
                           const lbrx_tensor *view, const char *what) {
    lbrx_device_tensor dt;
    lbrx_tensor back, copy, place;
    lbrx_error err;
    size_t want_n, back_n, i;
    unsigned char *want, *got;
    uint64_t up0 = h->uploads;
    int d, ok;
    want = naive_pack(view, &want_n);
    LT_CHECKF(lbrx_device_upload(dev, NULL, view, &dt, &err) == LBRX_OK, "%s: %s", what, err.message);
    LT_CHECKF(dt.nbytes == want_n && dt.dtype == view->dtype && dt.ndim == view->ndim, "%s: metadata", what);
    for (d = 0; d < view->ndim; d++) LT_CHECK(dt.shape[d] == view->shape[d]);
    LT_CHECK(dt.block_size == lbrx_dtype_block_size(view->dtype) && dt.block_bytes == lbrx_dtype_block_bytes(view->dtype));
    LT_CHECK(dt.nrows * (int64_t)dt.row_bytes == (int64_t)dt.nbytes);
    got = (unsigned char *)lbrx_device_host_data(&dt);
    LT_CHECKF(want_n == 0 || (got && memcmp(got, want, want_n) == 0), "%s: device bytes differ from the naive packing", what);
    /* back into a fresh contiguous tensor */
    LT_CHECKF(lbrx_device_to_host(&dt, &back, &err) == LBRX_OK, "%s: %s", what, err.message);
    LT_CHECK(back.dtype == view->dtype && back.ndim == view->ndim && lbrx_tensor_is_contiguous(&back));
    LT_CHECK(lbrx_tensor_nbytes(&back, &back_n) == LBRX_OK && back_n == want_n);
    LT_CHECKF(want_n == 0 || memcmp(back.data, want, want_n) == 0, "%s: host bytes after the round trip differ", what);
    lbrx_tensor_release(&back);
    /* back into the same view of a zeroed copy of the parent: the view's bytes return, the rest stays 0 */
    LT_CHECK(lbrx_tensor_init_heap(&copy, parent->dtype, parent->ndim, parent->shape, NULL, NULL) == LBRX_OK);
    place = *view;
    place.storage = copy.storage;
    place.data = (unsigned char *)copy.data + ((const unsigned char *)view->data - (const unsigned char *)parent->data);
    LT_CHECKF(lbrx_device_download(&dt, &place, &err) == LBRX_OK, "%s: %s", what, err.message);
    {
        size_t place_n;
        unsigned char *placed = naive_pack(&place, &place_n);
        size_t parent_n = lbrx_storage_size(copy.storage), nonzero = 0;
        LT_CHECKF(place_n == want_n && memcmp(placed, want, want_n) == 0, "%s: scattered bytes differ", what);
        free(placed);
        for (i = 0; i < parent_n; i++) nonzero += ((unsigned char *)copy.data)[i] != 0;
        /* every non-zero byte of the copy lies inside the view: count the view's own non-zeros */
        for (i = 0, ok = 0; i < want_n; i++) ok += want[i] != 0;
        LT_CHECKF(nonzero == (size_t)ok, "%s: download wrote outside the view (%zu vs %d non-zero bytes)", what, nonzero, ok);
    }
    lbrx_tensor_release(&copy);
    lbrx_device_tensor_release(&dt);
    free(want);
    return h->uploads - up0;
}

static void test_round_trips(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lt_counting c = {0, 0, 0, 0, 0};  /* everything lbrx allocates through the device must come back */
    lbrx_allocator a = lt_counting_allocator(&c);
    static const lbrx_dtype types[] = {LBRX_F32, LBRX_F16, LBRX_Q8_0, LBRX_Q4_0};
    size_t ti;
    lbrx_device_host_init(&dev, &h, &a);
    dev.staging_bytes = 200;  /* small: packed views take several chunks, cut inside rows */
    for (ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        lbrx_dtype t = types[ti];
        int64_t shape[3] = {3, 5, 128};
        lbrx_tensor full, v1, v2, v3, v4;
        uint64_t n;
        char what[64];
        LT_CHECK(lbrx_tensor_init_heap(&full, t, 3, shape, NULL, NULL) == LBRX_OK);
        fill_random(&full, 0x9e3779b97f4a7c15ULL + ti);
        snprintf(what, sizeof what, "%s contiguous", lbrx_dtype_name(t));
        n = round_trip(&dev, &h, &full, &full, what);
        LT_CHECKF(n == 1, "%s: %llu uploads for a contiguous tensor", what, (unsigned long long)n);
        /* rows 1..4 of dimension 1: strided in dimension 0 */
        LT_CHECK(lbrx_tensor_slice(&full, 1, 1, 4, &v1, NULL) == LBRX_OK);
        snprintf(what, sizeof what, "%s slice of dim 1", lbrx_dtype_name(t));
        n = round_trip(&dev, &h, &full, &v1, what);
        LT_CHECKF(n >= 2, "%s: a view bigger than the staging should take several uploads (%llu)", what, (unsigned long long)n);
        /* a slice of the row: elements [32, 96), on block boundaries */
        LT_CHECK(lbrx_tensor_slice(&full, 2, 32, 96, &v2, NULL) == LBRX_OK);
        snprintf(what, sizeof what, "%s slice of the row", lbrx_dtype_name(t));
        round_trip(&dev, &h, &full, &v2, what);
        /* both at once, then a slice of dimension 0 of that */
        LT_CHECK(lbrx_tensor_slice(&v2, 1, 2, 5, &v3, NULL) == LBRX_OK);
        LT_CHECK(lbrx_tensor_slice(&v3, 0, 1, 3, &v4, NULL) == LBRX_OK);
        snprintf(what, sizeof what, "%s slice of three dims", lbrx_dtype_name(t));
        round_trip(&dev, &h, &full, &v4, what);
        lbrx_tensor_release(&v4); lbrx_tensor_release(&v3); lbrx_tensor_release(&v2); lbrx_tensor_release(&v1);
        lbrx_tensor_release(&full);
    }
    LT_CHECK(h.allocs == h.frees && h.live_buffers == 0);
    LT_CHECKF(c.allocs == c.frees && c.live == 0, "%ld allocations of the caller's allocator not freed", c.allocs - c.frees);
    LT_CHECK(c.allocs > 0);  /* the device's buffers and staging went through it */
    add_totals(&h);
}

/* Plain dtypes may have an element stride: a transposed view (built by hand) is gathered. */
static void test_transposed_view(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lbrx_device_tensor dt;
    lbrx_tensor m, tr, back, place;
    int64_t shape[2] = {6, 10};
    float *p;
    int i, j, bad = 0;
    lbrx_device_host_init(&dev, &h, NULL);
    dev.staging_bytes = 24;  /* chunks of 6 floats: cuts rows of the 6-row transpose at odd places */
    LT_CHECK(lbrx_tensor_init_heap(&m, LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
    p = (float *)m.data;
    for (i = 0; i < 60; i++) p[i] = (float)i;
    tr = m;  /* shares m's reference: not released separately */
    tr.shape[0] = 10; tr.shape[1] = 6;
    tr.stride[0] = 4; tr.stride[1] = 40;
    LT_CHECK(lbrx_device_upload(&dev, NULL, &tr, &dt, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_to_host(&dt, &back, NULL) == LBRX_OK);
    for (i = 0; i < 10; i++)
        for (j = 0; j < 6; j++) bad += ((float *)back.data)[i * 6 + j] != (float)(j * 10 + i);
    LT_CHECKF(bad == 0, "%d elements of the transpose wrong", bad);
    /* and back into a transposed place: the original layout must come out */
    memset(p, 0, 60 * sizeof(float));
    place = tr;
    LT_CHECK(lbrx_device_download(&dt, &place, NULL) == LBRX_OK);
    for (i = 0, bad = 0; i < 60; i++) bad += p[i] != (float)i;
    LT_CHECKF(bad == 0, "%d elements scattered wrongly", bad);
    lbrx_tensor_release(&back);
    lbrx_device_tensor_release(&dt);
    lbrx_tensor_release(&m);
    LT_CHECK(h.live_buffers == 0 && h.allocs == h.frees);
    add_totals(&h);
}

static void test_rank0_and_empty(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lbrx_device_tensor dt;
    lbrx_tensor s, e, back;
    int64_t zero_shape[2] = {0, 32};
    lbrx_device_host_init(&dev, &h, NULL);
    LT_CHECK(lbrx_tensor_init_heap(&s, LBRX_F32, 0, NULL, NULL, NULL) == LBRX_OK);
    *(float *)s.data = 2.5f;
    LT_CHECK(lbrx_device_upload(&dev, NULL, &s, &dt, NULL) == LBRX_OK && dt.nbytes == 4 && dt.nrows == 1);
    LT_CHECK(lbrx_device_to_host(&dt, &back, NULL) == LBRX_OK && back.ndim == 0 && *(float *)back.data == 2.5f);
    lbrx_tensor_release(&back);
    lbrx_device_tensor_release(&dt);
    LT_CHECK(lbrx_tensor_init_heap(&e, LBRX_Q8_0, 2, zero_shape, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_upload(&dev, NULL, &e, &dt, NULL) == LBRX_OK);
    LT_CHECK(dt.kind == LBRX_DEVICE_NONE && dt.buffer == NULL && dt.nbytes == 0 && dt.shape[1] == 32);
    LT_CHECK(lbrx_device_to_host(&dt, &back, NULL) == LBRX_OK && back.shape[0] == 0);
    lbrx_tensor_release(&back);
    lbrx_device_tensor_release(&dt);
    lbrx_device_tensor_release(&dt);  /* twice is harmless */
    lbrx_tensor_release(&e);
    lbrx_tensor_release(&s);
    LT_CHECK(h.allocs == 1 && h.frees == 1 && h.uploads == 1 && h.downloads == 1);
    add_totals(&h);
}

/* An output tensor: allocated on the device, written by a "kernel" (CPU code on the host
   backend), read back; no upload. */
static void test_tensor_alloc(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lbrx_device_pool *pool;
    lbrx_device_tensor y, q, z;
    lbrx_tensor back;
    lbrx_error err;
    int64_t shape[2] = {3, 7}, qshape[2] = {2, 64}, bad[1] = {33}, zshape[2] = {4, 0};
    float *p;
    int i, bad_n = 0;
    lbrx_device_host_init(&dev, &h, NULL);
    LT_CHECK(lbrx_device_pool_create(&pool, &dev, 0, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_tensor_init(&y, &dev, pool, LBRX_F32, 2, shape, NULL) == LBRX_OK);
    LT_CHECK(y.kind == LBRX_DEVICE_POOLED && y.nbytes == 84 && y.row_bytes == 28 && y.nrows == 3 && y.capacity == 256);
    p = (float *)lbrx_device_host_data(&y);
    for (i = 0; i < 21; i++) p[i] = (float)i * 0.5f;
    LT_CHECK(lbrx_device_to_host(&y, &back, NULL) == LBRX_OK);
    for (i = 0; i < 21; i++) bad_n += ((float *)back.data)[i] != (float)i * 0.5f;
    LT_CHECK(bad_n == 0 && back.shape[0] == 3 && back.shape[1] == 7);
    lbrx_tensor_release(&back);
    LT_CHECK(lbrx_device_tensor_init(&q, &dev, NULL, LBRX_Q4_0, 2, qshape, NULL) == LBRX_OK);
    LT_CHECK(q.kind == LBRX_DEVICE_OWNED && q.nbytes == 72 && q.row_bytes == 36 && q.block_size == 32 && q.block_bytes == 18);
    LT_CHECK(lbrx_device_tensor_init(&z, &dev, NULL, LBRX_Q8_0, 1, bad, &err) == LBRX_ERR_BAD_SHAPE && strstr(err.message, "block"));
    LT_CHECK(lbrx_device_tensor_init(&z, &dev, NULL, LBRX_F32, 2, zshape, NULL) == LBRX_OK && z.kind == LBRX_DEVICE_NONE);
    LT_CHECK(h.uploads == 0 && h.allocs == 2);
    lbrx_device_tensor_release(&q);
    lbrx_device_tensor_release(&y);
    lbrx_device_pool_destroy(pool);
    LT_CHECK(h.live_buffers == 0 && h.allocs == h.frees);
    add_totals(&h);
}

/* Write `n` bytes of a pattern to a file in LT_TMP and map it. */
static lbrx_storage *map_pattern_file(const char *name, size_t n, char *path, size_t path_size) {
    lbrx_storage *s = NULL;
    FILE *f;
    size_t i;
    snprintf(path, path_size, "%s", lt_tmp_path(name));
    f = fopen(path, "wb");
    if (!f) return NULL;
    for (i = 0; i < n; i++) fputc((int)((i * 131 + (i >> 9)) & 0xff), f);
    fclose(f);
    if (lbrx_storage_open(&s, path, NULL, NULL) != LBRX_OK) return NULL;
    return s;
}

static void test_zero_copy_mapped(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lbrx_device_tensor whole_d, w1_d, w2_d, one_d;
    lbrx_tensor whole, w1, w2, back;
    lbrx_error err;
    char path[4096];
    size_t page = lbrx_page_size(), fsize = 3 * page + 1000, n1, off0, off1;
    int64_t whole_shape[1], s1[2] = {4, 64}, s2[1] = {96};
    lbrx_storage *s = map_pattern_file("lbrx_test_device.bin", fsize, path, sizeof path);
    if (!s) { LT_CHECK(s != NULL); return; }
    lbrx_device_host_init(&dev, &h, NULL);
    /* two "weights" at unaligned offsets, one crossing a page boundary */
    LT_CHECK(lbrx_tensor_init(&w1, LBRX_Q8_0, 2, s1, s, 100, NULL) == LBRX_OK);     /* 4*2*34 = 272 bytes */
    LT_CHECK(lbrx_tensor_init(&w2, LBRX_F16, 1, s2, s, page - 50, NULL) == LBRX_OK);
    /* where the data lies in its page (0 for a mapping, anything when LBRX_NO_MMAP reads to the heap) */
    off0 = (size_t)((uintptr_t)lbrx_storage_data(s) & (page - 1));
    off1 = (size_t)((uintptr_t)w1.data & (page - 1));
    /* one weight alone: the region is its pages, nothing is copied */
    LT_CHECKF(lbrx_device_wrap(&dev, &w1, &one_d, &err) == LBRX_OK, "%s", err.message);
    LT_CHECK(one_d.kind == LBRX_DEVICE_WRAPPED && one_d.offset == off1);
    LT_CHECK(one_d.capacity == (off1 + 272 + page - 1) / page * page);
    LT_CHECK(one_d.host == w1.data && lbrx_device_host_data(&one_d) == w1.data);
    LT_CHECK(h.uploads == 0 && h.upload_bytes == 0 && h.allocs == 0 && h.wraps == 1);
    /* the whole file once, then views of the weights */
    whole_shape[0] = (int64_t)fsize;
    LT_CHECK(lbrx_tensor_init(&whole, LBRX_U8, 1, whole_shape, s, 0, NULL) == LBRX_OK);
    LT_CHECKF(lbrx_device_wrap(&dev, &whole, &whole_d, &err) == LBRX_OK, "%s", err.message);
    LT_CHECK(whole_d.offset == off0 && whole_d.capacity == (off0 + fsize + page - 1) / page * page && whole_d.nbytes == fsize);
    LT_CHECKF(lbrx_device_view(&whole_d, &w1, &w1_d, &err) == LBRX_OK, "%s", err.message);
    LT_CHECKF(lbrx_device_view(&whole_d, &w2, &w2_d, &err) == LBRX_OK, "%s", err.message);
    LT_CHECK(w1_d.kind == LBRX_DEVICE_VIEW && w1_d.buffer == whole_d.buffer && w1_d.offset == off0 + 100 && w1_d.nbytes == 272);
    LT_CHECK(w2_d.offset == off0 + page - 50 && w2_d.nbytes == 192 && w2_d.dtype == LBRX_F16 && w2_d.shape[0] == 96);
    LT_CHECK(lbrx_device_host_data(&w2_d) == w2.data);
    LT_CHECKF(h.uploads == 0 && h.upload_bytes == 0 && h.wraps == 2,
              "zero-copy path copied: %llu uploads, %llu bytes", (unsigned long long)h.uploads, (unsigned long long)h.upload_bytes);
    /* the device sees the file's bytes */
    LT_CHECK(lbrx_device_to_host(&w1_d, &back, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_nbytes(&back, &n1) == LBRX_OK && memcmp(back.data, w1.data, n1) == 0);
    lbrx_tensor_release(&back);
    /* rows 1..3 of w1 inside the wrap of w1 alone (whose buffer starts at its page), and a view of that view */
    {
        lbrx_tensor rows, row2;
        lbrx_device_tensor rows_d, row2_d;
        LT_CHECK(lbrx_tensor_slice_rows(&w1, 1, 3, &rows, NULL) == LBRX_OK && lbrx_tensor_slice_rows(&w1, 2, 3, &row2, NULL) == LBRX_OK);
        LT_CHECK(lbrx_device_view(&one_d, &rows, &rows_d, NULL) == LBRX_OK && rows_d.offset == off1 + 68 && rows_d.shape[0] == 2);
        LT_CHECK(lbrx_device_view(&rows_d, &row2, &row2_d, NULL) == LBRX_OK && row2_d.offset == off1 + 136 && row2_d.nbytes == 68);
        LT_CHECK(lbrx_device_host_data(&row2_d) == row2.data);
        lbrx_device_tensor_release(&row2_d);
        lbrx_device_tensor_release(&rows_d);
        lbrx_tensor_release(&row2);
        lbrx_tensor_release(&rows);
    }
    /* a tensor outside the wrapped bytes is refused */
    {
        lbrx_device_tensor bad;
        LT_CHECK(lbrx_device_view(&one_d, &w2, &bad, &err) == LBRX_ERR_BAD_OFFSET && strstr(err.message, "does not lie inside") != NULL);
        LT_CHECK(bad.kind == LBRX_DEVICE_NONE);
    }
    /* uploading into read-only wrapped memory fails in the backend's check, never writes */
    LT_CHECK(dev.upload(dev.user, whole_d.buffer, 0, "x", 1, NULL) == LBRX_ERR_INVALID_ARGUMENT);
    /* the device tensors keep the mapping alive after the host side lets go */
    lbrx_tensor_release(&w1); lbrx_tensor_release(&w2); lbrx_tensor_release(&whole);
    lbrx_storage_release(s);
    LT_CHECK(((const unsigned char *)lbrx_device_host_data(&one_d))[0] == (unsigned char)((100 * 131) & 0xff));
    lbrx_device_tensor_release(&w2_d);
    lbrx_device_tensor_release(&w1_d);
    lbrx_device_tensor_release(&whole_d);
    lbrx_device_tensor_release(&one_d);  /* the last reference: unmaps */
    LT_CHECK(h.wraps == 2 && h.unwraps == 2 && h.live_buffers == 0 && h.downloads == 1 && h.download_bytes == 272);
    remove(path);
    add_totals(&h);
}

static void test_wrap_refusals(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lbrx_device_tensor dt;
    lbrx_tensor t, v;
    lbrx_error err;
    int64_t shape[2] = {4, 8};
    lbrx_device_host_init(&dev, &h, NULL);
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_slice(&t, 1, 0, 4, &v, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_wrap(&dev, &v, &dt, &err) == LBRX_ERR_INVALID_ARGUMENT && strstr(err.message, "contiguous"));
    /* heap memory is writable and wraps as such */
    LT_CHECK(lbrx_device_wrap(&dev, &t, &dt, NULL) == LBRX_OK);
    LT_CHECK(dev.upload(dev.user, dt.buffer, dt.offset, "abcd", 4, NULL) == LBRX_OK && memcmp(t.data, "abcd", 4) == 0);
    lbrx_device_tensor_release(&dt);
    dev.wrap_host = NULL;
    LT_CHECK(lbrx_device_wrap(&dev, &t, &dt, &err) == LBRX_ERR_UNSUPPORTED && strstr(err.message, "wrap_host"));
    LT_CHECK(dt.kind == LBRX_DEVICE_NONE && dt.buffer == NULL);
    lbrx_tensor_release(&v);
    lbrx_tensor_release(&t);
    LT_CHECK(h.live_buffers == 0 && h.wraps == 1 && h.unwraps == 1);
    add_totals(&h);
}

static void test_pool(void) {
    lbrx_device dev;
    lbrx_device_host h;
    lbrx_device_pool *pool;
    lbrx_device_pool_stats st;
    lbrx_device_tensor a, b, c2;
    lbrx_tensor x, y;
    void *buf, *buf2, *first;
    size_t cap = 0, cap2 = 0;
    int64_t sx[2] = {8, 100}, sy[2] = {2, 96};  /* f32: 3200 bytes; q8_0: 204 bytes */
    lt_counting cnt = {0, 0, 0, 0, 0};
    lbrx_allocator al = lt_counting_allocator(&cnt);
    /* size classes, worked out by hand: quarter steps between powers of two, 256 at least */
    LT_CHECK(lbrx_device_pool_size_class(0) == 256 && lbrx_device_pool_size_class(256) == 256);
    LT_CHECK(lbrx_device_pool_size_class(257) == 320 && lbrx_device_pool_size_class(1000) == 1024);
    LT_CHECK(lbrx_device_pool_size_class(1024) == 1024 && lbrx_device_pool_size_class(1025) == 1280);
    LT_CHECK(lbrx_device_pool_size_class(3200) == 3584 && lbrx_device_pool_size_class(768) == 768);
    LT_CHECK(lbrx_device_pool_size_class((size_t)3 << 30) == (size_t)3 << 30);
    lbrx_device_host_init(&dev, &h, &al);
    LT_CHECK(lbrx_device_pool_create(&pool, &dev, 0, NULL) == LBRX_OK);
    /* raw buffers */
    LT_CHECK(lbrx_device_pool_alloc(pool, 1000, &buf, &cap, NULL) == LBRX_OK && cap == 1024);
    lbrx_device_pool_free(pool, buf, cap);
    LT_CHECK(lbrx_device_pool_alloc(pool, 900, &buf2, &cap2, NULL) == LBRX_OK && cap2 == 1024 && buf2 == buf);
    LT_CHECK(h.allocs == 1);
    lbrx_device_pool_free(pool, buf2, cap2);
    /* tensors: the same shape again reuses the buffer */
    LT_CHECK(lbrx_tensor_init_heap(&x, LBRX_F32, 2, sx, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_init_heap(&y, LBRX_Q8_0, 2, sy, NULL, NULL) == LBRX_OK);  /* 2*3*34 = 204 bytes: class 256 */
    fill_random(&x, 7);
    LT_CHECK(lbrx_device_upload(&dev, pool, &x, &a, NULL) == LBRX_OK && a.kind == LBRX_DEVICE_POOLED && a.capacity == 3584);
    first = a.buffer;
    LT_CHECK(memcmp(lbrx_device_host_data(&a), x.data, 3200) == 0);
    lbrx_device_tensor_release(&a);
    LT_CHECK(lbrx_device_upload(&dev, pool, &x, &a, NULL) == LBRX_OK && a.buffer == first);
    LT_CHECK(lbrx_device_upload(&dev, pool, &y, &b, NULL) == LBRX_OK && b.capacity == 256 && b.buffer != first);
    LT_CHECK(lbrx_device_upload(&dev, pool, &x, &c2, NULL) == LBRX_OK && c2.buffer != a.buffer);  /* a is in use */
    lbrx_device_pool_stats_of(pool, &st);
    LT_CHECKF(st.hits == 2 && st.misses == 4 && st.live_buffers == 3 && st.live_bytes == 3584 * 2 + 256 && st.cached_buffers == 1,
              "hits %llu misses %llu live %zu", (unsigned long long)st.hits, (unsigned long long)st.misses, st.live_buffers);
    LT_CHECK(h.allocs == 4);
    lbrx_device_tensor_release(&a);
    lbrx_device_tensor_release(&b);
    lbrx_device_tensor_release(&c2);
    lbrx_device_pool_stats_of(pool, &st);
    LT_CHECK(st.live_buffers == 0 && st.live_bytes == 0 && st.cached_buffers == 4 && st.cached_bytes == 1024 + 3584 * 2 + 256);
    LT_CHECK(h.frees == 0);  /* all kept */
    lbrx_device_pool_trim(pool);
    LT_CHECK(h.frees == 4 && h.live_buffers == 0);
    lbrx_device_pool_destroy(pool);
    /* a cap: what does not fit is freed at once */
    LT_CHECK(lbrx_device_pool_create(&pool, &dev, 4000, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_upload(&dev, pool, &x, &a, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_upload(&dev, pool, &x, &b, NULL) == LBRX_OK);
    lbrx_device_tensor_release(&a);  /* 3584 kept */
    lbrx_device_tensor_release(&b);  /* 7168 > 4000: freed */
    lbrx_device_pool_stats_of(pool, &st);
    LT_CHECK(st.cached_buffers == 1 && st.cached_bytes == 3584 && h.frees == 5);
    lbrx_device_pool_destroy(pool);  /* frees the cached one */
    LT_CHECK(h.allocs == h.frees && h.live_buffers == 0);
    /* a pool of another device is refused */
    {
        lbrx_device other = dev;
        lbrx_error err;
        LT_CHECK(lbrx_device_pool_create(&pool, &other, 0, NULL) == LBRX_OK);
        LT_CHECK(lbrx_device_upload(&dev, pool, &x, &a, &err) == LBRX_ERR_INVALID_ARGUMENT && strstr(err.message, "pool"));
        lbrx_device_pool_destroy(pool);
    }
    lbrx_tensor_release(&x);
    lbrx_tensor_release(&y);
    LT_CHECKF(cnt.allocs == cnt.frees && cnt.live == 0, "%ld allocations leaked", cnt.allocs - cnt.frees);
    add_totals(&h);
}

/* A device that fails its n-th call of one kind: the helpers must clean up and report. */
typedef struct failing { lbrx_device_host host; int fail_alloc_at, fail_upload_at, fail_download_at, allocs, uploads, downloads; } failing;
static lbrx_result f_alloc(void *u, size_t size, void **b, lbrx_error *e) {
    failing *f = (failing *)u;
    if (++f->allocs == f->fail_alloc_at) return LBRX_ERR_OUT_OF_MEMORY;  /* says nothing itself */
    return lbrx__host_alloc(&f->host, size, b, e);
}
static void f_free(void *u, void *b) { lbrx__host_free(&((failing *)u)->host, b); }
static lbrx_result f_upload(void *u, void *b, size_t o, const void *s, size_t n, lbrx_error *e) {
    failing *f = (failing *)u;
    if (++f->uploads == f->fail_upload_at) return lbrx__errorf(e, LBRX_ERR_IO, LBRX__NO_OFFSET, "link down");
    return lbrx__host_upload(&f->host, b, o, s, n, e);
}
static lbrx_result f_download(void *u, void *b, size_t o, void *d, size_t n, lbrx_error *e) {
    failing *f = (failing *)u;
    if (++f->downloads == f->fail_download_at) return lbrx__errorf(e, LBRX_ERR_IO, LBRX__NO_OFFSET, "link down");
    return lbrx__host_download(&f->host, b, o, d, n, e);
}

static void test_failures(void) {
    failing f;
    lbrx_device dev, hostdev;
    lbrx_device_tensor dt;
    lbrx_tensor t, v, back, ro;
    lbrx_error err;
    lbrx_device_pool *pool;
    int64_t shape[2] = {16, 64}, bad_shape[2] = {16, 32};
    uint64_t frees;
    memset(&f, 0, sizeof f);
    lbrx_device_host_init(&hostdev, &f.host, NULL);
    dev = hostdev;
    dev.user = &f;
    dev.alloc = f_alloc; dev.free = f_free; dev.upload = f_upload; dev.download = f_download;
    dev.wrap_host = NULL; dev.unwrap_host = NULL;
    dev.staging_bytes = 512;
    LT_CHECK(lbrx_tensor_init_heap(&t, LBRX_F32, 2, shape, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_tensor_slice(&t, 1, 0, 48, &v, NULL) == LBRX_OK);
    /* alloc fails: the code comes back with a message naming the call and the size */
    f.fail_alloc_at = 1;
    LT_CHECK(lbrx_device_upload(&dev, NULL, &t, &dt, &err) == LBRX_ERR_OUT_OF_MEMORY);
    LT_CHECK(strstr(err.message, "alloc") && strstr(err.message, "bytes") && dt.buffer == NULL);
    /* the third upload of a packed view fails: the buffer is freed, the backend's message kept */
    f.fail_upload_at = 3;
    LT_CHECK(lbrx_device_upload(&dev, NULL, &v, &dt, &err) == LBRX_ERR_IO && strstr(err.message, "link down"));
    LT_CHECK(dt.kind == LBRX_DEVICE_NONE && f.host.live_buffers == 0);
    /* a download fails halfway through a scatter */
    LT_CHECK(lbrx_device_upload(&dev, NULL, &v, &dt, NULL) == LBRX_OK);
    f.fail_download_at = 2;
    LT_CHECK(lbrx_device_download(&dt, &v, &err) == LBRX_ERR_IO && strstr(err.message, "download"));
    /* to_host cleans its tensor up when the download fails */
    f.downloads = 0; f.fail_download_at = 1;
    LT_CHECK(lbrx_device_to_host(&dt, &back, &err) == LBRX_ERR_IO && back.storage == NULL);
    /* wrong dtype, wrong shape, read-only destination */
    LT_CHECK(lbrx_tensor_init_heap(&back, LBRX_F16, 2, bad_shape, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_download(&dt, &back, &err) == LBRX_ERR_TYPE_MISMATCH && strstr(err.message, "f16"));
    lbrx_tensor_release(&back);
    LT_CHECK(lbrx_tensor_init_heap(&back, LBRX_F32, 2, bad_shape, NULL, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_download(&dt, &back, &err) == LBRX_ERR_SIZE_MISMATCH && strstr(err.message, "dimension 1"));
    lbrx_tensor_release(&back);
    {
        lbrx_storage *s;
        static float mem[16 * 48];
        LT_CHECK(lbrx_storage_create_external(&s, mem, sizeof mem, 0, NULL, NULL, NULL, NULL) == LBRX_OK);
        LT_CHECK(lbrx_tensor_init(&ro, LBRX_F32, 2, v.shape, s, 0, NULL) == LBRX_OK);
        LT_CHECK(lbrx_device_download(&dt, &ro, &err) == LBRX_ERR_INVALID_ARGUMENT && strstr(err.message, "read-only"));
        lbrx_tensor_release(&ro);
        lbrx_storage_release(s);
    }
    lbrx_device_tensor_release(&dt);
    /* a pool whose device fails its alloc frees its cache and retries once */
    f.allocs = 0; f.fail_alloc_at = 0;
    LT_CHECK(lbrx_device_pool_create(&pool, &dev, 0, NULL) == LBRX_OK);
    LT_CHECK(lbrx_device_upload(&dev, pool, &t, &dt, NULL) == LBRX_OK);
    lbrx_device_tensor_release(&dt);  /* cached: 4096 */
    frees = f.host.frees;
    f.fail_alloc_at = 2;
    LT_CHECK(lbrx_device_upload(&dev, pool, &v, &dt, &err) == LBRX_OK);  /* 3072: new class, first try fails */
    LT_CHECK(f.allocs == 3 && f.host.frees == frees + 1);
    lbrx_device_tensor_release(&dt);
    lbrx_device_pool_destroy(pool);
    /* a device without its required functions */
    dev.download = NULL;
    LT_CHECK(lbrx_device_upload(&dev, NULL, &t, &dt, &err) == LBRX_ERR_INVALID_ARGUMENT);
    LT_CHECK(lbrx_device_upload(NULL, NULL, &t, &dt, NULL) == LBRX_ERR_INVALID_ARGUMENT);
    lbrx_tensor_release(&v);
    lbrx_tensor_release(&t);
    LT_CHECK(f.host.live_buffers == 0 && f.host.allocs == f.host.frees);
    add_totals(&f.host);
}

int main(void) {
    LT_RUN(test_round_trips);
    LT_RUN(test_transposed_view);
    LT_RUN(test_rank0_and_empty);
    LT_RUN(test_tensor_alloc);
    LT_RUN(test_zero_copy_mapped);
    LT_RUN(test_wrap_refusals);
    LT_RUN(test_pool);
    LT_RUN(test_failures);
    if (getenv("LT_VERBOSE"))
        fprintf(stderr, "host device totals: %llu allocs, %llu frees, %llu uploads (%llu bytes), %llu downloads (%llu bytes), "
                "%llu wraps, %llu unwraps\n", (unsigned long long)g_totals.allocs, (unsigned long long)g_totals.frees,
                (unsigned long long)g_totals.uploads, (unsigned long long)g_totals.upload_bytes,
                (unsigned long long)g_totals.downloads, (unsigned long long)g_totals.download_bytes,
                (unsigned long long)g_totals.wraps, (unsigned long long)g_totals.unwraps);
    return lt_finish();
}
