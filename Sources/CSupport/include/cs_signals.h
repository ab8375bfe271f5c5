#ifndef XCSH_CS_SIGNALS_H
#define XCSH_CS_SIGNALS_H
// Signal shims for the shell (see below).
#include <stddef.h>

// MARK: - Signals
// Signal handlers must be async-signal-safe C: they record the signal and write one byte to a
// self-pipe, so blocking waits (sleep, waitpid, read) can wake up and the evaluator can unwind.

/// Installs handlers for SIGINT and SIGTERM (without SA_RESTART, so blocking calls return EINTR)
/// and ignores SIGPIPE. Returns the read end of the self-pipe, or -1 on failure.
int cs_signals_install(void);
/// Unblocks every signal in the calling thread. A shell must not keep a mask its launcher left
/// (test runners and some daemons block SIGHUP, SIGINT, ...); threads started afterwards inherit it.
void cs_signals_reset_mask(void);
/// The last signal received and not yet cleared (SIGINT or SIGTERM), or 0.
int cs_signal_pending(void);
/// Clears the pending signal and drains the self-pipe.
void cs_signal_clear(void);
/// The read end of the self-pipe (-1 before installation).
int cs_signal_fd(void);
/// Marks a signal as pending, as if it had arrived (used to forward interrupts across threads).
void cs_signal_raise_pending(int sig);
/// Sends SIGALRM to the thread that installed the handlers, so its blocking call returns EINTR and
/// the pending signal reads SIGALRM (how `timeout` interrupts a running body).
void cs_signal_alarm_main(void);

// MARK: - Window size changes
// SIGWINCH is not an interrupt: it never sets the pending signal. While a terminal session is
// attached its handler writes one byte to a pipe of its own, which the relay loop polls.

/// Installs the SIGWINCH handler (SA_RESTART; the previous action is kept), unblocks SIGWINCH
/// in the calling thread and drains the pipe. Returns the pipe's read end, or -1 on failure.
int cs_winch_begin(void);
/// Reads everything in the SIGWINCH pipe (after a wake-up, before reading the new size).
void cs_winch_drain(void);
/// Restores the action SIGWINCH had before `cs_winch_begin`.
void cs_winch_end(void);

#endif
