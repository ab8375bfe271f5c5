#define _GNU_SOURCE
#include "engine_shims.h"
#include <sys/eventfd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

int cs_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int cs_eventfd(unsigned int initval, int nonblock) {
  return eventfd(initval, EFD_CLOEXEC | (nonblock ? EFD_NONBLOCK : 0));
}

int cs_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int lowfd) {
  return posix_spawn_file_actions_addclosefrom_np(actions, lowfd);
}

int cs_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
