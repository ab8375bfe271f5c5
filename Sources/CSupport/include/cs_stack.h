#ifndef XCSH_CS_STACK_H
#define XCSH_CS_STACK_H
#include <stddef.h>

/// Bytes of stack left below the caller's frame on the calling thread (its stack's lowest
/// usable address, from pthread_getattr_np, cached per thread). SIZE_MAX if unknown.
size_t cs_stack_remaining(void);

#endif
