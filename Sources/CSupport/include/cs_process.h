#ifndef XCSH_CS_PROCESS_H
#define XCSH_CS_PROCESS_H
#include <sys/types.h>

/// A file descriptor that becomes readable when process `pid` exits (pidfd_open(2), Linux 5.3+),
/// or -1 with errno set. Swift cannot call the variadic syscall(2) itself.
int cs_pidfd_open(pid_t pid);

/// Sends `sig` to the process `pidfd` refers to (pidfd_send_signal(2), Linux 5.1+): never to a
/// process that reused its pid. 0, or -1 with errno set.
int cs_pidfd_send_signal(int pidfd, int sig);

#endif
