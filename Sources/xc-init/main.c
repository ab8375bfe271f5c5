// xc-init: PID 1 of an xcd container.
//
// Runs main (argv[1..]) as its child, reaps every process orphaned to it, forwards signals
// to main (to everyone once main is gone), and exits when no process is left, so a container
// lives as long as any of its processes, as an xc jail does. With `--xc-persist` first (xc's
// `persist`), it stays after the last process is gone, until a stop signal (TERM, INT, HUP,
// QUIT) ends it once no process is left, or SIGKILL. It reports on fd 3 (when the
// engine passes one), one line per event:
//
//   R 0        main was executed
//   F <errno>  main could not be executed
//   S <status> main exited with this raw wait(2) status
//
// It is linked statically and bind-mounted read-only into each container as /.xc-init.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATUS_FD 3

static int have_status;

static void report(char kind, int value) {
  if (!have_status) return;
  char line[32];
  int n = snprintf(line, sizeof line, "%c %d\n", kind, value);
  while (write(STATUS_FD, line, (size_t)n) < 0 && errno == EINTR) {
  }
}

static int is_stop(int sig) { return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT; }

int main(int argc, char **argv) {
  int persist = argc >= 2 && strcmp(argv[1], "--xc-persist") == 0;
  if (persist) {
    argv++;
    argc--;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: xc-init PROGRAM [ARG...]\n");
    return 2;
  }
  // fd 3 must not leak into main or anything it starts.
  have_status = fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC) == 0;

  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);

  // exec failure is detected through a close-on-exec pipe: EOF means main is running.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    report('F', errno);
    return 127;
  }
  pid_t main_pid = fork();
  if (main_pid < 0) {
    report('F', errno);
    return 127;
  }
  if (main_pid == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(exec_pipe[0]);
    execvp(argv[1], argv + 1);
    int e = errno;
    while (write(exec_pipe[1], &e, sizeof e) < 0 && errno == EINTR) {
    }
    _exit(127);
  }
  close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(exec_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);
  int main_failed = got == (ssize_t)sizeof exec_errno;
  report(main_failed ? 'F' : 'R', main_failed ? exec_errno : 0);

  // init holds none of the client's descriptors: end of file on them is main's business.
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }

  int main_done = 0;
  int main_status = 0;
  int stopping = 0;
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      if (is_stop(sig)) stopping = 1;
      if (!main_done) {
        kill(main_pid, sig);
      } else {
        kill(-1, sig);
      }
      // A persistent container with nothing left ends at a stop signal; the reaping below
      // (SIGCHLD or not) sees that no child is left.
      if (!(persist && stopping)) continue;
    }
    for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid > 0) {
        if (pid == main_pid) {
          main_done = 1;
          main_status = status;
          if (!main_failed) report('S', status);
        }
        continue;
      }
      if (pid < 0 && errno == ECHILD) {
        // Nothing left in the container: a persistent one waits for a stop signal.
        if (persist && !stopping) break;
        if (WIFEXITED(main_status)) return WEXITSTATUS(main_status);
        return 128 + WTERMSIG(main_status);
      }
      break;
    }
  }
}
