// gzip decompression for XCEngine's pulls, over zlib (inflate with gzip headers). Faster
// than piping through gzip(1): no process, and no CRC-32 (see cs_gunzip_new).
#include "cgzip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define OUT_SIZE (256 * 1024)

struct cs_gunzip {
  z_stream stream;
  int ended;      // the current member reached its end
  int members;    // members completed
  int is_socket;  // -1: not known yet
  size_t pending; // decompressed bytes held in `out`, not yet written
  char error[256];
  unsigned char out[OUT_SIZE];
};

cs_gunzip *cs_gunzip_new(void) {
  cs_gunzip *z = calloc(1, sizeof(cs_gunzip));
  if (!z) return NULL;
  // 15 + 16: a 32 KiB window and gzip framing.
  if (inflateInit2(&z->stream, 15 + 16) != Z_OK) {
    free(z);
    return NULL;
  }
#if ZLIB_VERNUM >= 0x1290
  // No CRC-32 of the output: pulls check the SHA-256 of both the compressed blob (its
  // digest) and the tar stream (its diff id), so the CRC only costs time.
  inflateValidate(&z->stream, 0);
#endif
  z->is_socket = -1;
  return z;
}

static int put(cs_gunzip *z, int fd, const unsigned char *p, size_t n) {
  if (z->is_socket < 0) {
    struct stat st;
    z->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
  }
  while (n > 0) {
    ssize_t w = z->is_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      snprintf(z->error, sizeof z->error, "write decompressed data: %s", strerror(errno));
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// Output is held until `out` is full (or cs_gunzip_flush): one write per 256 KiB rather than
// one per input chunk, so the reader on the other end wakes up far less often.
static int inflate_some(cs_gunzip *z, int out_fd, size_t *produced) {
  if (z->pending == OUT_SIZE) {
    if (put(z, out_fd, z->out, OUT_SIZE) != 0) return -2;
    z->pending = 0;
  }
  z->stream.next_out = z->out + z->pending;
  z->stream.avail_out = (uInt)(OUT_SIZE - z->pending);
  int rc = inflate(&z->stream, Z_NO_FLUSH);
  *produced = OUT_SIZE - z->pending - z->stream.avail_out;
  z->pending += *produced;
  return rc;
}

int cs_gunzip_feed(cs_gunzip *z, const uint8_t *in, size_t len, int out_fd) {
  z->stream.next_in = (unsigned char *)in;
  z->stream.avail_in = (uInt)len;
  while (z->stream.avail_in > 0) {
    if (z->ended) {
      // Another member may follow; anything else (zero padding) is ignored, as gzip -d does.
      if (z->stream.next_in[0] != 0x1f) {
        z->stream.avail_in = 0;
        break;
      }
      if (inflateReset(&z->stream) != Z_OK) {
        snprintf(z->error, sizeof z->error, "gzip: cannot start the next member");
        return -1;
      }
      z->ended = 0;
    }
    uInt before = z->stream.avail_in;
    size_t produced = 0;
    int rc = inflate_some(z, out_fd, &produced);
    if (rc == -2) return -1;
    if (rc == Z_STREAM_END) {
      z->ended = 1;
      z->members++;
    } else if ((rc != Z_OK && rc != Z_BUF_ERROR) || (produced == 0 && z->stream.avail_in == before)) {
      snprintf(z->error, sizeof z->error, "gzip: %s", z->stream.msg ? z->stream.msg : "corrupt data");
      return -1;
    }
  }
  // Output still pending with no more input (a full output buffer last time).
  for (;;) {
    if (z->ended) break;
    size_t produced = 0;
    int rc = inflate_some(z, out_fd, &produced);
    if (rc == -2) return -1;
    if (rc == Z_STREAM_END) {
      z->ended = 1;
      z->members++;
      break;
    }
    if (rc == Z_BUF_ERROR || produced == 0) break;
    if (rc != Z_OK) {
      snprintf(z->error, sizeof z->error, "gzip: %s", z->stream.msg ? z->stream.msg : "corrupt data");
      return -1;
    }
  }
  return 0;
}

int cs_gunzip_flush(cs_gunzip *z, int out_fd) {
  if (z->pending == 0) return 0;
  if (put(z, out_fd, z->out, z->pending) != 0) return -1;
  z->pending = 0;
  return 0;
}

int cs_gunzip_finish(cs_gunzip *z) {
  if (!z->ended || z->members == 0) {
    snprintf(z->error, sizeof z->error, "gzip: unexpected end of compressed data");
    return -1;
  }
  return 0;
}

const char *cs_gunzip_error(const cs_gunzip *z) { return z->error; }

void cs_gunzip_free(cs_gunzip *z) {
  if (!z) return;
  inflateEnd(&z->stream);
  free(z);
}
