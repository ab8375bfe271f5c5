#define _GNU_SOURCE
#include "cs_files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

ssize_t cs_fgetxattr(int fd, const char *name, void *value, size_t size) {
  return fgetxattr(fd, name, value, size);
}

int cs_openat_in_root(int rootfd, const char *path, int flags, unsigned int mode) {
  struct open_how how = {0};
  how.flags = (unsigned long long)flags;
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return (int)fd;
}
