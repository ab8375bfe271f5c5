#define _GNU_SOURCE
#include "cs_daemon_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// Between fork and exec only async-signal-safe calls: the parent has other threads.
pid_t cs_spawn_daemon(const char *path, char *const argv[], int stderr_fd, int death_signal) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid;  // parent (or -1)
  if (death_signal != 0) {
    if (prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0) != 0) _exit(126);
    if (getppid() != parent) _exit(126);  // the parent died before the prctl took effect
  }
  // A daemon meant to outlive xcsh gets its own session: no terminal's hangup reaches it.
  if (death_signal == 0) setsid(); else setpgid(0, 0);
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0) _exit(126);
  dup2(null_fd, 0);
  dup2(null_fd, 1);
  dup2(stderr_fd >= 0 ? stderr_fd : null_fd, 2);
  syscall(SYS_close_range, 3, ~0U, 0);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(path, argv);
  _exit(127);
}
