#ifndef XCSH_CS_SHA256_H
#define XCSH_CS_SHA256_H
// SHA-256 block compression for XCEngine's streaming hasher: the x86 SHA extensions when
// the CPU has them (several times faster than portable code), portable C otherwise.
#include <stddef.h>
#include <stdint.h>

/// Compresses `blocks` 64-byte blocks at `data` into `state` (a..h, host-endian words).
void cs_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

/// The portable path alone (tests compare it with the accelerated one).
void cs_sha256_blocks_portable(uint32_t state[8], const uint8_t *data, size_t blocks);

/// 1 when cs_sha256_blocks uses the CPU's SHA instructions.
int cs_sha256_accelerated(void);

#endif
