import CSupport
import Foundation
import XCIPC

#if canImport(Glibc)
  import Glibc
#endif

/// `xcsh --isolated`: an `xcd` private to one xcsh process, for a clean slate (CI, tests).
///
/// Each isolated daemon is private to one xcsh process: its socket, state and log live in
/// `<base>/embedded-<pid>/` where `<base>` is `$XDG_RUNTIME_DIR/xcsh`, else `/run/xcsh-<uid>`
/// (`$XCSH_EMBEDDED_DIR` overrides the whole directory). It is started on the first daemon
/// call, so pure-language scripts never start one, and stopped with SIGTERM at exit; the
/// directory is then removed unless something is still mounted below it. The daemon also gets
/// PR_SET_PDEATHSIG, so it stops if xcsh is killed outright.
public final class EmbeddedDaemon: DefaultDaemon, @unchecked Sendable {
  /// Where the daemon lives.
  public let directory: String
  /// The `xcd` executable.
  public let binary: String
  public var socketPath: String { directory + "/xcd.sock" }
  public var stateDir: String { directory + "/state" }
  public var logPath: String { directory + "/xcd.log" }
  private(set) var pid: pid_t = 0

  /// How long xcd may take to answer after it starts.
  static let startDeadline: Double = 30

  /// The directory is one of `<base>/embedded-<pid>`, so stale siblings may be swept.
  private let sweeps: Bool
  /// Outlive xcsh (`--keep-daemon`): no parent-death signal.
  var keep = false

  init(directory: String, binary: String, sweeps: Bool = false) {
    self.directory = directory
    self.binary = binary
    self.sweeps = sweeps
  }

  /// The daemon for this process, or nil when there is no `xcd` to start (not Linux, or none
  /// next to xcsh nor on PATH).
  static func forThisProcess(environment env: [String: String]) -> EmbeddedDaemon? {
    #if os(Linux)
      guard let binary = findBinary(env) else { return nil }
      if let d = env["XCSH_EMBEDDED_DIR"], !d.isEmpty { return EmbeddedDaemon(directory: d, binary: binary) }
      let base: String
      if let r = env["XDG_RUNTIME_DIR"], !r.isEmpty, getuid() != 0 {
        base = "\(r)/xcsh"
      } else {
        base = "/run/xcsh-\(getuid())"
      }
      return EmbeddedDaemon(directory: "\(base)/embedded-\(getpid())", binary: binary, sweeps: true)
    #else
      return nil
    #endif
  }

  func obtain() throws(IPCError) -> String {
    try start()
    return socketPath
  }

  var startedLine: String { "xcsh: started a private xcd on \(socketPath) (state \(stateDir))\n" }

  /// `$XCSH_XCD`, else `xcd` next to the running xcsh, else the first `xcd` on PATH.
  static func findBinary(_ env: [String: String]) -> String? {
    let fm = FileManager.default
    if let p = env["XCSH_XCD"], !p.isEmpty { return fm.isExecutableFile(atPath: p) ? p : nil }
    if let me = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      let sibling = (me as NSString).deletingLastPathComponent + "/xcd"
      if fm.isExecutableFile(atPath: sibling) { return sibling }
    }
    for dir in (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
      let p = "\(dir)/xcd"
      if fm.isExecutableFile(atPath: p) { return p }
    }
    return nil
  }

  /// Starts xcd and returns once it answers on its socket; the error says why not, with the
  /// tail of xcd's log.
  func start() throws(IPCError) {
    sweepStale()
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw IPCError(.system, "cannot create the embedded daemon's directory \(directory): \(error)")
    }
    let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard log >= 0 else { throw IPCError(.system, "cannot create \(logPath): \(String(cString: strerror(errno)))") }
    defer { close(log) }
    let argv = [binary, "--socket", socketPath, "--state-dir", stateDir]
    let spawned = DaemonLauncher.shared.spawn(binary, argv, stderr: log, deathSignal: keep ? 0 : SIGTERM)
    guard spawned > 0 else {
      throw IPCError(.system, "cannot start \(binary): \(String(cString: strerror(-spawned)))")
    }
    pid = spawned
    do {
      try DaemonLauncher.waitUntilAnswering(
        pid: pid, socket: socketPath, binary: binary, deadline: Self.startDeadline, logTail: { logTail() })
    } catch {
      if error.code == .noDaemon { pid = 0 } else { stop() }
      throw error
    }
  }

  /// The last lines of xcd's log.
  func logTail(lines: Int = 15) -> String { DaemonProcess.logTail(logPath, lines: lines) }

  /// SIGTERM, then waits for xcd to stop its containers and exit (SIGKILL after a minute), then
  /// removes the directory if nothing is mounted below it. Returns xcd's exit status.
  @discardableResult
  func stop(removeDirectory: Bool = true) -> Int32? {
    guard pid > 0 else { return nil }
    let status = DaemonProcess.terminate(pid, grace: 60) ?? 0
    pid = 0
    if removeDirectory, !hasMountsBelow() { try? FileManager.default.removeItem(atPath: directory) }
    return status
  }

  /// Removes the directories of embedded daemons whose xcsh was killed outright (its pid is
  /// gone; the daemon stopped with it through the parent-death signal), when nothing is
  /// mounted below them.
  private func sweepStale() {
    guard sweeps else { return }
    let base = (directory as NSString).deletingLastPathComponent
    for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("embedded-") {
      guard let pid = Int32(name.dropFirst("embedded-".count)), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      let dir = "\(base)/\(name)"
      if !Self.hasMounts(below: dir) { try? FileManager.default.removeItem(atPath: dir) }
    }
  }

  /// Never remove a tree that still has something mounted in it: that would delete the
  /// mounted files.
  private func hasMountsBelow() -> Bool { Self.hasMounts(below: directory) }

  static func hasMounts(below dir: String) -> Bool {
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    return mounts.split(separator: "\n").contains { line in
      line.split(separator: " ").dropFirst(4).first.map { $0.hasPrefix(dir + "/") || $0 == dir } ?? false
    }
  }
}
