import CSupport
import Foundation
import XCIPC

#if canImport(Glibc)
  import Glibc
#endif

/// Forks daemons from one thread that lives as long as the process: Linux sends the
/// parent-death signal when the forking *thread* ends, and xcsh's first daemon call may come
/// from a short-lived `par-each` worker.
final class DaemonLauncher: @unchecked Sendable {
  static let shared = DaemonLauncher()
  private let lock = NSCondition()
  private var job: (path: String, argv: [String], stderr: Int32, deathSignal: Int32)?
  private var result: pid_t?
  private var thread: Thread?

  /// The pid, or minus errno.
  func spawn(_ path: String, _ argv: [String], stderr: Int32, deathSignal: Int32) -> pid_t {
    lock.lock()
    defer { lock.unlock() }
    if thread == nil {
      let t = Thread { [unowned self] in self.serve() }
      t.stackSize = 1 << 20
      thread = t
      t.start()
    }
    while job != nil || result != nil { lock.wait() }
    job = (path, argv, stderr, deathSignal)
    lock.broadcast()
    while result == nil { lock.wait() }
    let pid = result!
    result = nil
    lock.broadcast()
    return pid
  }

  private func serve() {
    lock.lock()
    while true {
      while job == nil { lock.wait() }
      let j = job!
      job = nil
      var cArgs: [UnsafeMutablePointer<CChar>?] = j.argv.map { strdup($0) } + [nil]
      let pid = cs_spawn_daemon(j.path, &cArgs, j.stderr, j.deathSignal)
      let err = errno
      for p in cArgs { free(p) }
      result = pid > 0 ? pid : -err
      lock.broadcast()
    }
  }
}

extension DaemonLauncher {
  /// Waits (bounded by `deadline` seconds) until the xcd started as `pid` answers `info` on
  /// `socket`. It exiting first, or the deadline, is an error carrying `logTail()`.
  static func waitUntilAnswering(
    pid: pid_t, socket: String, binary: String, deadline seconds: Double, logTail: () -> String
  ) throws(IPCError) {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if let c = try? XCClient(path: socket, timeout: .seconds(5)), (try? c.call(InfoRequest())) != nil {
        c.close()
        return
      }
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid {
        throw IPCError(.noDaemon, "xcd (\(binary)) exited with status \(status >> 8) before answering:\n\(logTail())")
      }
      usleep(20_000)  // polling for the socket, bounded by the deadline
    }
    throw IPCError(.timeout, "xcd did not answer on \(socket) within \(Int(seconds)) s:\n\(logTail())")
  }
}
