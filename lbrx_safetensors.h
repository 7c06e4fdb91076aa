/* lbrx_safetensors.h - part of lbrx (see lbrx.h). Public domain or MIT, your choice: see lbrx.h.

   DO THIS in exactly one C or C++ file:  #define LBRX_SAFETENSORS_IMPLEMENTATION  (or LBRX_IMPL)
                                          #include "lbrx_safetensors.h"
*/
#ifndef LBRX_SAFETENSORS_H
#define LBRX_SAFETENSORS_H
#include "lbrx.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LBRX_SAFETENSORS_H */

#if defined(LBRX_IMPL) && !defined(LBRX_SAFETENSORS_IMPLEMENTATION)
#define LBRX_SAFETENSORS_IMPLEMENTATION
#endif
#if defined(LBRX_SAFETENSORS_IMPLEMENTATION) && !defined(LBRX__SAFETENSORS_IMPLEMENTATION_DONE)
#define LBRX__SAFETENSORS_IMPLEMENTATION_DONE

#endif /* LBRX_SAFETENSORS_IMPLEMENTATION */
