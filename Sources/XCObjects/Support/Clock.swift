import CSupport
import Glibc
import XCShell

/// Monotonic time and interruptible sleeps for polling loops.
enum Clock {
  /// Nanoseconds on the monotonic clock.
  static var now: Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
  }

  /// Checks `done` every `milliseconds` (sleeping interruptibly in between) until it holds
  /// (true) or `nanoseconds` have passed (false).
  static func poll(for nanoseconds: Int64, every milliseconds: Int64, _ call: Call, until done: () throws -> Bool) throws -> Bool {
    let deadline = now + nanoseconds
    while true {
      if try done() { return true }
      guard now < deadline else { return false }
      try sleep(milliseconds: milliseconds, call)
    }
  }

  /// Sleeps, waking early (with the interrupt error) on Ctrl-C or SIGTERM.
  static func sleep(milliseconds: Int64, _ call: Call) throws {
    let deadline = now + milliseconds * 1_000_000
    while true {
      let left = (deadline - now) / 1_000_000
      if left <= 0 { return }
      var fds: [pollfd] = []
      if cs_signal_fd() >= 0 { fds.append(pollfd(fd: cs_signal_fd(), events: Int16(POLLIN), revents: 0)) }
      _ = Glibc.poll(&fds, nfds_t(fds.count), Int32(min(left, 1000)))
      try call.evaluator.checkInterrupt()
    }
  }
}
