/* The storage tests again, with files read into memory instead of mapped. */
#define LBRX_NO_MMAP
#include "test_storage.c"
