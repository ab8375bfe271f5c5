#define _GNU_SOURCE
#include "cs_signals.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

static volatile sig_atomic_t pending_signal = 0;
static int signal_pipe[2] = {-1, -1};
static pthread_t main_thread;
static volatile sig_atomic_t have_main_thread = 0;


/// Set by a thread that hands a signal on to the main thread, so that the main thread's handler
/// knows the signal was already recorded: counting it twice would let the late copy interrupt
/// the defers that run after the first (under load the copy can arrive that late).
static volatile sig_atomic_t forwarded = 0;

static void on_signal(int sig) {
  int saved = errno;
  if (have_main_thread && pthread_equal(pthread_self(), main_thread) && forwarded) {
    // The copy sent below: it is here only to interrupt the main thread's blocking call.
    forwarded = 0;
    errno = saved;
    return;
  }
  pending_signal = sig;
  if (signal_pipe[1] >= 0) {
    char b = (char)sig;
    (void)write(signal_pipe[1], &b, 1);
  }
  // A process-directed signal may land on any thread; the main thread is the one blocked in
  // waitpid or read, so hand the signal on to interrupt that call too.
  if (have_main_thread && !pthread_equal(pthread_self(), main_thread)) {
    forwarded = 1;
    pthread_kill(main_thread, sig);
  }
  errno = saved;
}

int cs_signals_install(void) {
  if (signal_pipe[0] < 0) {
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: waits must wake up
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  // A parent may have left these blocked (some process launchers do); a shell must see them.
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, SIGINT);
  sigaddset(&unblock, SIGTERM);
  sigaddset(&unblock, SIGALRM);
  sigaddset(&unblock, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
  main_thread = pthread_self();
  have_main_thread = 1;
  signal(SIGPIPE, SIG_IGN);
  return signal_pipe[0];
}

int cs_signal_pending(void) { return pending_signal; }

void cs_signals_reset_mask(void) {
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
}

void cs_signal_clear(void) {
  pending_signal = 0;
  if (signal_pipe[0] >= 0) {
    char buf[64];
    while (read(signal_pipe[0], buf, sizeof buf) > 0) {}
  }
}

int cs_signal_fd(void) { return signal_pipe[0]; }

void cs_signal_raise_pending(int sig) { on_signal(sig); }

void cs_signal_alarm_main(void) {
  if (have_main_thread) {
    pending_signal = SIGALRM;
    pthread_kill(main_thread, SIGALRM);
  } else {
    on_signal(SIGALRM);
  }
}

static int winch_pipe[2] = {-1, -1};
static struct sigaction winch_saved;
static volatile sig_atomic_t winch_active = 0;

static void on_winch(int sig) {
  (void)sig;
  int saved = errno;
  if (winch_pipe[1] >= 0) {
    char b = 1;
    (void)write(winch_pipe[1], &b, 1);  // a full pipe already says "changed"
  }
  errno = saved;
}

void cs_winch_drain(void) {
  if (winch_pipe[0] < 0) return;
  char buf[64];
  while (read(winch_pipe[0], buf, sizeof buf) > 0) {}
}

int cs_winch_begin(void) {
  if (winch_pipe[0] < 0) {
    if (pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_winch;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a size change must not make other threads' calls fail
  if (sigaction(SIGWINCH, &sa, winch_active ? NULL : &winch_saved) != 0) return -1;
  winch_active = 1;
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  pthread_sigmask(SIG_UNBLOCK, &winch, NULL);
  cs_winch_drain();
  return winch_pipe[0];
}

void cs_winch_end(void) {
  if (!winch_active) return;
  sigaction(SIGWINCH, &winch_saved, NULL);
  winch_active = 0;
  cs_winch_drain();
}
