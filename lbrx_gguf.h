/* lbrx_gguf.h - part of lbrx (see lbrx.h). Public domain or MIT, your choice: see lbrx.h.

   DO THIS in exactly one C or C++ file:  #define LBRX_GGUF_IMPLEMENTATION  (or LBRX_IMPL)
                                          #include "lbrx_gguf.h"
*/
#ifndef LBRX_GGUF_H
#define LBRX_GGUF_H
#include "lbrx.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LBRX_GGUF_H */

#if defined(LBRX_IMPL) && !defined(LBRX_GGUF_IMPLEMENTATION)
#define LBRX_GGUF_IMPLEMENTATION
#endif
#if defined(LBRX_GGUF_IMPLEMENTATION) && !defined(LBRX__GGUF_IMPLEMENTATION_DONE)
#define LBRX__GGUF_IMPLEMENTATION_DONE

#endif /* LBRX_GGUF_IMPLEMENTATION */
