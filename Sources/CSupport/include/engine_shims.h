#ifndef XCSH_ENGINE_SHIMS_H
#define XCSH_ENGINE_SHIMS_H
// Shims for XCEngine: calls Swift cannot make because the C function is variadic
// (prctl) or its header is not part of Swift's Glibc module (eventfd, closefrom actions).
#include <spawn.h>
#include <stdint.h>

/// Marks the calling process as a child subreaper (prctl PR_SET_CHILD_SUBREAPER).
/// Returns 0 or -1 with errno set.
int cs_set_child_subreaper(void);

/// Creates an eventfd (eventfd(2)) with EFD_CLOEXEC, plus EFD_NONBLOCK when nonblock != 0.
int cs_eventfd(unsigned int initval, int nonblock);

/// Adds "close every fd >= lowfd" to spawn file actions (posix_spawn_file_actions_addclosefrom_np).
int cs_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd);

/// Creates a pipe with O_CLOEXEC on both ends (pipe2(2)).
int cs_pipe_cloexec(int fds[2]);

#endif
