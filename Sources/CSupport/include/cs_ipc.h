#ifndef XCSH_CS_IPC_H
#define XCSH_CS_IPC_H
// IPC and XCSystem shims: what Swift cannot call directly (the CMSG_* macros, struct ucred, which
// needs _GNU_SOURCE, and sockaddr_un filling). Each is named for what it does. Every shim
// returns -1 and leaves errno set on failure, like the syscall it wraps. Names that another
// module's shims might also want (eventfd, pipe) carry a cs_ipc_ prefix to stay unique.
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Sends `len` bytes from `buf` with `nfds` descriptors attached as one SCM_RIGHTS control
/// message (none when `nfds` is 0). Returns the bytes sent, or -1 with errno set.
ssize_t cs_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds,
                         int flags);

/// Sends `alen` bytes from `a` followed by `blen` bytes from `b` in one sendmsg (two iovecs, no
/// ancillary data), so a header and a body go out without being copied together first.
/// Returns the bytes sent, or -1 with errno set.
ssize_t cs_send_two(int sock, const void *a, size_t alen, const void *b, size_t blen, int flags);

/// Receives up to `len` bytes into `buf`, with room for `maxfds` descriptors. Received
/// descriptors are stored in `fds` and counted in `*nfds`; `*ctrunc` is set when the kernel
/// truncated the control data (some descriptors were lost). `flags` is passed to recvmsg
/// (callers add MSG_CMSG_CLOEXEC). Returns bytes read (0 at EOF), or -1 with errno set.
ssize_t cs_recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds,
                         int *ctrunc, int flags);

/// Binds `sock` to the AF_UNIX path `path`. Fails with ENAMETOOLONG if it does not fit.
int cs_bind_unix(int sock, const char *path);

/// Connects `sock` to the AF_UNIX path `path`. Fails with ENAMETOOLONG if it does not fit.
int cs_connect_unix(int sock, const char *path);

/// Reads the peer's pid, uid and gid (SO_PEERCRED on Linux, LOCAL_PEERCRED on BSD).
int cs_peer_credentials(int sock, int32_t *pid, uint32_t *uid, uint32_t *gid);

/// Sets SO_RCVTIMEO and SO_SNDTIMEO to `millis` milliseconds (0 = wait forever).
int cs_set_io_timeout(int sock, int64_t millis);

/// Creates an eventfd with initial value `initval` and flags `flags` (EFD_CLOEXEC etc.).
int cs_ipc_eventfd(unsigned int initval, int flags);

/// accept4(sock, NULL, NULL, SOCK_CLOEXEC) where available (accept + FD_CLOEXEC elsewhere).
int cs_accept_cloexec(int sock);

/// pipe2(fds, O_CLOEXEC) where available (pipe + FD_CLOEXEC elsewhere).
int cs_ipc_pipe_cloexec(int fds[2]);

/// The values of C constants Swift's importer does not surface reliably on every platform.
int cs_msg_cmsg_cloexec(void);
int cs_msg_nosignal(void);
int cs_efd_cloexec(void);
int cs_efd_nonblock(void);
int cs_efd_semaphore(void);
int cs_sock_cloexec(void);

#endif
