#ifndef XCSH_CGZIP_H
#define XCSH_CGZIP_H
// Streaming gzip decompression with zlib, for layers pulled from a registry: compressed
// bytes are pushed in as they arrive and the tar stream is written to a descriptor.
#include <stddef.h>
#include <stdint.h>

typedef struct cs_gunzip cs_gunzip;

/// A new decompressor, or NULL when out of memory.
cs_gunzip *cs_gunzip_new(void);

/// Decompresses `len` bytes of gzip data (members may follow one another), writing the
/// output to `out_fd` (send(2) with MSG_NOSIGNAL on a socket, write(2) otherwise; blocking).
/// Output is buffered (256 KiB): call cs_gunzip_flush after the last feed.
/// Returns 0, or -1 with cs_gunzip_error set.
int cs_gunzip_feed(cs_gunzip *z, const uint8_t *in, size_t len, int out_fd);

/// Writes any output still buffered to `out_fd`. Returns 0, or -1 with cs_gunzip_error set.
int cs_gunzip_flush(cs_gunzip *z, int out_fd);

/// Checks that the input ended at the end of a gzip member. Returns 0, or -1.
int cs_gunzip_finish(cs_gunzip *z);

/// What went wrong, for the last -1.
const char *cs_gunzip_error(const cs_gunzip *z);

void cs_gunzip_free(cs_gunzip *z);

#endif
