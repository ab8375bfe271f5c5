#define _GNU_SOURCE
#include "cs_ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

// Room for the protocol's maximum of 64 descriptors plus slack for a second control message;
// callers never ask for more than 64 per call.
#define CS_MAX_FDS 253

ssize_t cs_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
                         int flags) {
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > CS_MAX_FDS) {
    errno = EINVAL;
    return -1;
  }
  // The union keeps the buffer aligned for struct cmsghdr, as CMSG_FIRSTHDR requires.
  union {
    char buf[CMSG_SPACE(sizeof(int) * CS_MAX_FDS)];
    struct cmsghdr align;
  } control;
  if (nfds > 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
  }
  return sendmsg(sock, &msg, flags);
}

ssize_t cs_send_two(int sock, const void *a, size_t alen, const void *b, size_t blen, int flags) {
  struct iovec iov[2] = {{.iov_base = (void *)a, .iov_len = alen}, {.iov_base = (void *)b, .iov_len = blen}};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  return sendmsg(sock, &msg, flags);
}

ssize_t cs_recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds,
                         int *ctrunc, int flags) {
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (maxfds > CS_MAX_FDS) maxfds = CS_MAX_FDS;
  union {
    char buf[CMSG_SPACE(sizeof(int) * CS_MAX_FDS)];
    struct cmsghdr align;
  } control;
  msg.msg_control = control.buf;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * maxfds);
  *nfds = 0;
  *ctrunc = 0;
  ssize_t n = recvmsg(sock, &msg, flags);
  if (n < 0) return n;
  if (msg.msg_flags & MSG_CTRUNC) *ctrunc = 1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *data = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, data + i, sizeof fd);
      if (*nfds < maxfds) {
        fds[(*nfds)++] = fd;
      } else {
        // Never leak what we cannot hand back: close it and report truncation.
        close(fd);
        *ctrunc = 1;
      }
    }
  }
  return n;
}

static int fill_unix_address(struct sockaddr_un *addr, const char *path) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof addr->sun_path) {
    errno = n == 0 ? EINVAL : ENAMETOOLONG;
    return -1;
  }
  memcpy(addr->sun_path, path, n);
  return 0;
}

int cs_bind_unix(int sock, const char *path) {
  struct sockaddr_un addr;
  if (fill_unix_address(&addr, path) < 0) return -1;
  return bind(sock, (struct sockaddr *)&addr, sizeof addr);
}

int cs_connect_unix(int sock, const char *path) {
  struct sockaddr_un addr;
  if (fill_unix_address(&addr, path) < 0) return -1;
  return connect(sock, (struct sockaddr *)&addr, sizeof addr);
}

int cs_peer_credentials(int sock, int32_t *pid, uint32_t *uid, uint32_t *gid) {
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -1;
  *pid = cred.pid;
  *uid = cred.uid;
  *gid = cred.gid;
  return 0;
#else
  uid_t u;
  gid_t g;
  if (getpeereid(sock, &u, &g) < 0) return -1;
  *pid = -1;
  *uid = u;
  *gid = g;
  return 0;
#endif
}

int cs_set_io_timeout(int sock, int64_t millis) {
  struct timeval tv = {.tv_sec = millis / 1000, .tv_usec = (millis % 1000) * 1000};
  if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) return -1;
  return setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int cs_ipc_eventfd(unsigned int initval, int flags) {
#if defined(__linux__)
  return eventfd(initval, flags);
#else
  errno = ENOSYS;
  return -1;
#endif
}

int cs_msg_cmsg_cloexec(void) {
#ifdef MSG_CMSG_CLOEXEC
  return MSG_CMSG_CLOEXEC;
#else
  return 0;
#endif
}
int cs_msg_nosignal(void) {
#ifdef MSG_NOSIGNAL
  return MSG_NOSIGNAL;
#else
  return 0;
#endif
}
#if defined(__linux__)
int cs_efd_cloexec(void) { return EFD_CLOEXEC; }
int cs_efd_nonblock(void) { return EFD_NONBLOCK; }
int cs_efd_semaphore(void) { return EFD_SEMAPHORE; }
#else
int cs_efd_cloexec(void) { return 0; }
int cs_efd_nonblock(void) { return 0; }
int cs_efd_semaphore(void) { return 0; }
#endif
int cs_sock_cloexec(void) {
#ifdef SOCK_CLOEXEC
  return SOCK_CLOEXEC;
#else
  return 0;
#endif
}

int cs_accept_cloexec(int sock) {
#if defined(__linux__)
  return accept4(sock, NULL, NULL, SOCK_CLOEXEC);
#else
  int fd = accept(sock, NULL, NULL);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#endif
}

int cs_ipc_pipe_cloexec(int fds[2]) {
#if defined(__linux__)
  return pipe2(fds, O_CLOEXEC);
#else
  if (pipe(fds) < 0) return -1;
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return 0;
#endif
}
