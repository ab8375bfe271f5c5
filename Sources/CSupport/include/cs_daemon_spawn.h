#ifndef XCSH_CS_DAEMON_SPAWN_H
#define XCSH_CS_DAEMON_SPAWN_H
#include <sys/types.h>

/// Starts `path` with `argv` (NULL-terminated) as a helper daemon that dies with its parent:
/// the child sets PR_SET_PDEATHSIG to `death_signal` (unless 0), moves to its own process group (so a
/// terminal's Ctrl-C reaches only the shell, which then stops the daemon in order), or with
/// `death_signal` 0 (a daemon that outlives xcsh) to its own session, gets
/// /dev/null on stdin and stdout, `stderr_fd` on stderr, default signal dispositions and an
/// empty mask. Returns the pid, or -1 with errno set.
///
/// Linux delivers the death signal when the *thread* that forked exits, so call this from a
/// thread that lives as long as the process.
pid_t cs_spawn_daemon(const char *path, char *const argv[], int stderr_fd, int death_signal);

#endif
