import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What the local and the private (`--isolated`) daemon share about a running xcd: the tail
/// of its log for errors and `xcsh daemon logs`, and stopping it.
enum DaemonProcess {
  /// The last `lines` lines of the log at `path` (all of it for 0).
  static func logTail(_ path: String, lines: Int) -> String {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let all = text.split(separator: "\n")
    let tail = (lines == 0 ? all[...] : all.suffix(lines)).joined(separator: "\n")
    return tail.isEmpty ? "(xcd wrote nothing)" : tail
  }

  /// SIGTERM (xcd stops its containers first), then waits up to `grace` seconds for `pid` to
  /// be gone, SIGKILL after that. A child of this process is reaped and its wait status
  /// returned (0 for another's, or one reaped elsewhere); nil when `pid` could not be signalled.
  @discardableResult
  static func terminate(_ pid: pid_t, grace: Double) -> Int32? {
    guard kill(pid, SIGTERM) == 0 else { return nil }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(grace)
    while Date() < deadline {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid { return status }
      // ECHILD: not ours (or reaped elsewhere); gone once it cannot be signalled or is a zombie.
      if r < 0, errno == ECHILD, kill(pid, 0) != 0 || isZombie(pid) { return 0 }
      usleep(20_000)  // waiting for the daemon's shutdown, bounded by the deadline
    }
    kill(pid, SIGKILL)
    return waitpid(pid, &status, 0) == pid ? status : 0
  }

  /// A process that has exited but whose parent has not reaped it yet.
  static func isZombie(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
  }
}
