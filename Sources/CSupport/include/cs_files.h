#ifndef XCSH_CS_FILES_H
#define XCSH_CS_FILES_H
// File calls Swift's Glibc module does not expose: extended attributes and openat2(2).
#include <stddef.h>
#include <sys/types.h>

/// fgetxattr(2). Returns the value's length or -1 with errno set.
ssize_t cs_fgetxattr(int fd, const char *name, void *value, size_t size);

/// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is resolved as if
/// `rootfd` were the root directory ("..", absolute symlinks and absolute paths stay inside).
/// Returns a descriptor or -1 with errno set (ENOSYS on kernels before 5.6).
int cs_openat_in_root(int rootfd, const char *path, int flags, unsigned int mode);

#endif
