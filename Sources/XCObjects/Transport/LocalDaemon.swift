import Foundation
import XCIPC

#if canImport(Glibc)
  import Glibc
#endif

/// The local default: one `xcd` per user, shared by every xcsh of that user, with persistent
/// state, so an image pulled or imported once is there for the next script and session.
///
/// It lives in one directory (`/var/lib/xcsh/xcd` for root, `$XDG_DATA_HOME/xcsh/xcd`, else
/// `~/.local/share/xcsh/xcd`, for others; `$XCSH_LOCAL_DIR` names it outright) holding
/// `xcd.sock`, `state/`, `xcd.log`, `xcd.pid` and `lock`. The first xcsh that needs a daemon
/// takes the lock, starts xcd detached (no parent-death signal, its own session) and waits until
/// it answers; xcsh processes that come meanwhile wait on the lock and then join it. xcd exits
/// by itself after `idleExit` seconds with no client and no container (`$XCSH_DAEMON_IDLE`,
/// default 600; 0 keeps it until `xcsh daemon stop`), and the next xcsh starts it again on
/// the same state. A daemon that was killed is started again the same way: xcd removes the
/// stale socket.
public final class LocalDaemon: DefaultDaemon, @unchecked Sendable {
  /// Where the daemon lives.
  public let directory: String
  /// The `xcd` executable (nil: none found; `obtain` says so). Looked up when first asked for:
  /// a script that never starts the daemon does not search PATH for it.
  public var binary: String? {
    binaryLock.lock()
    defer { binaryLock.unlock() }
    if let found = foundBinary { return found }
    let found = findBinary()
    foundBinary = .some(found)
    return found
  }
  /// Seconds idle before xcd exits; 0: never.
  public let idleExit: Int
  public var socketPath: String { directory + "/xcd.sock" }
  public var stateDir: String { directory + "/state" }
  public var logPath: String { directory + "/xcd.log" }
  var pidPath: String { directory + "/xcd.pid" }
  var lockPath: String { directory + "/lock" }

  /// How long xcd may take to answer after it starts (it may first recover its state), and how
  /// long a second xcsh waits for the first to start it.
  static let startDeadline: Double = 60
  /// The default of `$XCSH_DAEMON_IDLE`.
  public static let defaultIdleExit = 600
  /// The log is moved to `xcd.log.1` at a start when it is larger than this.
  static let logLimit = 4 << 20

  private let lock = NSLock()
  private var startedByUs = false
  private let findBinary: @Sendable () -> String?
  private let binaryLock = NSLock()
  private var foundBinary: String??
  private let effectiveUID: uid_t

  init(directory: String, binary: @escaping @Sendable () -> String?, idleExit: Int, effectiveUID: uid_t = geteuid()) {
    self.directory = directory
    self.findBinary = binary
    self.idleExit = idleExit
    self.effectiveUID = effectiveUID
  }

  /// Problems with the user's settings, found before anything starts.
  public struct SettingError: Error, CustomStringConvertible {
    public var description: String
  }

  /// The daemon for this user, from the environment.
  public static func forThisUser(environment env: [String: String]) throws(SettingError) -> LocalDaemon {
    let idle: Int
    if let text = env["XCSH_DAEMON_IDLE"], !text.isEmpty {
      guard let n = Int(text), n >= 0 else {
        throw SettingError(description: "$XCSH_DAEMON_IDLE must be a whole number of seconds (0: never), found `\(text)`")
      }
      idle = n
    } else {
      idle = defaultIdleExit
    }
    return LocalDaemon(directory: directory(environment: env), binary: { EmbeddedDaemon.findBinary(env) }, idleExit: idle)
  }

  /// `$XCSH_LOCAL_DIR`, else `/var/lib/xcsh/xcd` for root, else `$XDG_DATA_HOME/xcsh/xcd`
  /// (`~/.local/share/xcsh/xcd` when unset).
  public static func directory(environment env: [String: String], uid: uid_t = geteuid()) -> String {
    if let d = env["XCSH_LOCAL_DIR"], !d.isEmpty { return d }
    if uid == 0 { return "/var/lib/xcsh/xcd" }
    if let d = env["XDG_DATA_HOME"], d.hasPrefix("/") { return d + "/xcsh/xcd" }
    let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.local/share/xcsh/xcd"
  }

  var restartable: Bool { true }

  var startedLine: String {
    lock.lock()
    defer { lock.unlock() }
    guard startedByUs else { return "" }
    let idle = idleExit == 0 ? "it keeps running" : "it stops after \(idleExit) s idle"
    return "xcsh: started the local xcd on \(socketPath) (state \(stateDir); \(idle); `xcsh daemon stop` stops it)\n"
  }

  /// Joins the running daemon, or starts it; returns its socket.
  func obtain() throws(IPCError) -> String {
    lock.lock()
    startedByUs = false
    lock.unlock()
    // The engine makes overlay mounts, network namespaces and runc containers: root only.
    guard effectiveUID == 0 else {
      throw IPCError(
        .system,
        "the local xcd needs root (mounts, network namespaces and runc containers), and this is uid \(effectiveUID): run xcsh as root, or install the package and use its service (systemctl enable --now xcd; members of group xc may use /var/run/xc.sock)"
      )
    }
    guard socketPath.utf8.count < 108 else {
      throw IPCError(.system, "the local xcd's socket path \(socketPath) is too long for a UNIX socket: set $XCSH_LOCAL_DIR to a shorter directory")
    }
    if DaemonEndpoint.answers(socketPath) { return socketPath }
    let held = try takeLock()
    defer { close(held) }  // releases the lock
    // Another xcsh may have started it while we waited for the lock.
    if DaemonEndpoint.answers(socketPath) { return socketPath }
    // A daemon that no longer answers but still runs is shutting down (idle exit, a stop): its
    // engine holds the state until it is gone, so the new one waits for that (bounded).
    if let old = runningPID {
      let deadline = Date().addingTimeInterval(Self.startDeadline)
      while kill(old, 0) == 0, !DaemonProcess.isZombie(old), Date() < deadline {
        usleep(20_000)  // waiting for the old daemon to exit, bounded by the deadline
      }
    }
    try launch()
    lock.lock()
    startedByUs = true
    lock.unlock()
    return socketPath
  }

  /// `xcsh daemon start`: joins or starts it; true when this call started it.
  public func start() throws(IPCError) -> Bool {
    _ = try obtain()
    lock.lock()
    defer { lock.unlock() }
    return startedByUs
  }

  /// The directory, then the lock file locked (bounded wait: the holder is bounded by its own
  /// start deadline). Returns the descriptor; closing it releases the lock.
  private func takeLock() throws(IPCError) -> Int32 {
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw IPCError(.system, "cannot create the local xcd's directory \(directory): \(error.localizedDescription)")
    }
    let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw IPCError(.system, "cannot open \(lockPath): \(String(cString: strerror(errno)))") }
    let deadline = Date().addingTimeInterval(Self.startDeadline + 10)
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
        let why = errno == EWOULDBLOCK ? "another xcsh held it for over \(Int(Self.startDeadline + 10)) s" : String(cString: strerror(errno))
        close(fd)
        throw IPCError(.timeout, "cannot lock \(lockPath) to start the local xcd: \(why)")
      }
      usleep(20_000)  // waiting for the xcsh that is starting the daemon, bounded by the deadline
    }
    return fd
  }

  /// Starts xcd detached and waits until it answers; records its pid.
  private func launch() throws(IPCError) {
    guard let binary else {
      throw IPCError(.noDaemon, "no xcd to start: none beside xcsh nor on PATH (set $XCSH_XCD to its path)")
    }
    rotateLog()
    let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard log >= 0 else { throw IPCError(.system, "cannot open \(logPath): \(String(cString: strerror(errno)))") }
    defer { close(log) }
    var argv = [binary, "--socket", socketPath, "--state-dir", stateDir]
    if idleExit > 0 { argv += ["--idle-exit", String(idleExit)] }
    let pid = DaemonLauncher.shared.spawn(binary, argv, stderr: log, deathSignal: 0)
    guard pid > 0 else {
      throw IPCError(.system, "cannot start \(binary): \(String(cString: strerror(-pid)))")
    }
    try? "\(pid)\n".write(toFile: pidPath, atomically: true, encoding: .utf8)
    do {
      try DaemonLauncher.waitUntilAnswering(
        pid: pid, socket: socketPath, binary: binary, deadline: Self.startDeadline, logTail: { logTail() })
    } catch {
      if error.code != .noDaemon { _ = Self.terminate(pid) }
      throw IPCError(error.code, "the local xcd in \(directory) did not start: \(error.message)")
    }
  }

  private func rotateLog() {
    var st = stat()
    guard stat(logPath, &st) == 0, Int(st.st_size) > Self.logLimit else { return }
    _ = rename(logPath, logPath + ".1")
  }

  /// The last `lines` lines of xcd's log (all of it for 0).
  public func logTail(lines: Int = 15) -> String { DaemonProcess.logTail(logPath, lines: lines) }

  // MARK: - `xcsh daemon status|stop|logs`

  /// The running daemon's pid: from `xcd.pid`, when that process is an xcd serving this socket.
  public var runningPID: pid_t? {
    guard let text = try? String(contentsOfFile: pidPath, encoding: .utf8),
      let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
      let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
    else { return nil }
    let args = cmd.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    guard args.contains(socketPath), !DaemonProcess.isZombie(pid) else { return nil }
    return pid
  }

  /// Whether a daemon answers on the socket now.
  public var isAnswering: Bool { DaemonEndpoint.answers(socketPath) }

  /// Stops the running daemon (SIGTERM: it stops its containers first), waiting up to two
  /// minutes; returns the pid it stopped, nil when none was running.
  public func stop() -> pid_t? {
    guard let pid = runningPID else { return nil }
    return Self.terminate(pid) ? pid : nil
  }

  /// SIGTERM, then waits for `pid` to be gone (reaped by us if it is our child), SIGKILL after
  /// two minutes. True when it is gone.
  static func terminate(_ pid: pid_t) -> Bool { DaemonProcess.terminate(pid, grace: 120) != nil }
}

extension LocalDaemon {
  /// What `xcsh daemon status` shows.
  public struct Status: Sendable {
    /// The daemon answers on its socket.
    public var running: Bool
    public var pid: pid_t?
    /// `xcd 0.1.0 (commit …)` from its `info`, when it answers and says.
    public var engine: String?
    public var images: Int?
    public var containers: Int?
  }

  /// Asks the daemon, if it answers (never starts it).
  public func status() -> Status {
    var s = Status(running: false, pid: runningPID)
    guard let client = try? XCClient(path: socketPath, timeout: .seconds(5)) else { return s }
    defer { client.close() }
    s.running = true
    if let e = (try? client.call(InfoRequest()))?.engine { s.engine = "\(e.name) \(e.version) (commit \(e.commit))" }
    s.images = (try? client.call(ListAllImagesRequest()))?.manifests.count
    s.containers = (try? client.call(ContainerNamesRequest()))?.count
    return s
  }

  /// Whether a daemon answers at `path` (the service's socket, say), without starting one.
  public static func answers(_ path: String) -> Bool { DaemonEndpoint.answers(path) }
}
