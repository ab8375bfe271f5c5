import Foundation

/// A real terminal for tests: `xcsh` runs inside tmux on a private server; keys are typed with
/// `send-keys` and the screen is read with `capture-pane`.
public final class TmuxSession {
  public let socket = "xcsh-test-" + UUID().uuidString.prefix(8)
  public let home: String

  /// Starts `xcsh` with HOME (and so its history file) in `home`, talking to the daemon on
  /// `socket` (by default a path where none answers).
  /// With `defaultSocket`, xcsh gets no `--socket` (the default daemon applies) and
  /// `environment` on top of the test's.
  public init(
    home: String? = nil, socket daemonSocket: String? = nil, xcsh: String = TmuxSession.xcshPath,
    defaultSocket: Bool = false, environment: [String: String] = [:]
  ) throws {
    self.home = home ?? (NSTemporaryDirectory() + "xcsh-pty-" + UUID().uuidString)
    try FileManager.default.createDirectory(atPath: self.home, withIntermediateDirectories: true)
    let socketPath = daemonSocket ?? self.home + "/none.sock"
    let variables = environment.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)' " }.joined()
    let command = "cd '\(self.home)' && HOME='\(self.home)' XDG_STATE_HOME= NO_COLOR=1 \(variables)'\(xcsh)'"
      + (defaultSocket ? "" : " --socket '\(socketPath)'")
    // The tmux server outlives this call: it must not inherit a pipe we wait on.
    try tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", command], capture: false)
  }

  public static var xcshPath: String {
    if let p = ProcessInfo.processInfo.environment["XCSH_BIN"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("xcsh").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return "xcsh"
  }

  /// Runs the tmux client and returns its stdout. Spawned directly and reaped with waitpid:
  /// `new-session` forks a server that would keep Foundation's exit-watch pipe open forever.
  @discardableResult
  public func tmux(_ args: [String], capture: Bool = true) throws -> String {
    let argv = ["/usr/bin/tmux", "-L", socket, "-f", "/dev/null"] + args
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    if capture {
      posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    } else {
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // The test runner blocks signals; a tmux server inheriting that mask never shuts down.
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let cargs = argv.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    let rc = posix_spawn(&pid, argv[0], &actions, &attr, cargs, environ)
    Glibc.close(fds[1])
    guard rc == 0 else {
      Glibc.close(fds[0])
      throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL)
    }
    var data = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = read(fds[0], &buf, buf.count)
      if n > 0 { data.append(contentsOf: buf[0..<n]) } else if n == 0 || errno != EINTR { break }
    }
    Glibc.close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return String(decoding: data, as: UTF8.self)
  }

  /// Types text literally (no key names).
  public func type(_ text: String) throws { try tmux(["send-keys", "-t", "t", "-l", "--", text]) }
  /// Presses keys by tmux name: `Enter`, `Tab`, `C-c`, `Up`.
  public func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "t"] + keys) }

  public func screen() throws -> String { try tmux(["capture-pane", "-t", "t", "-p", "-S", "-200"]) }

  /// Waits until the screen satisfies `condition`, polling; fails after `timeout` seconds.
  @discardableResult
  public func waitFor(_ what: String, timeout: TimeInterval = 15, _ condition: (String) -> Bool) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var last = ""
    while Date() < deadline {
      last = try screen()
      if condition(last) { return last }
      usleep(20_000)
    }
    throw TimeoutError(what: what, screen: last)
  }

  /// Waits until the screen shows `text` at least `count` times.
  @discardableResult
  public func waitFor(_ text: String, count: Int = 1, timeout: TimeInterval = 15) throws -> String {
    try waitFor("`\(text)` x\(count)", timeout: timeout) { $0.components(separatedBy: text).count - 1 >= count }
  }

  /// Waits for the `count`th prompt and for the editor to be reading keys: typed-ahead keys can be
  /// flushed when libedit switches the terminal to raw mode, so a probe key must echo first.
  public func waitForEditor(_ prompt: String, count: Int = 1) throws {
    try waitFor(prompt, count: count)
    try type("#")
    try waitFor("editor ready") { $0.components(separatedBy: prompt + " #").count - 1 >= 1 }
    try press("BSpace")
    try waitFor("probe erased") { !$0.contains(prompt + " #") }
  }

  /// The last non-empty line on the screen (the line being edited).
  public func currentLine() throws -> String {
    try screen().split(separator: "\n").last.map(String.init) ?? ""
  }

  public var isRunning: Bool { (try? tmux(["list-sessions"]))?.contains("t:") ?? false }

  /// Ends the session and waits (bounded) until the shell in it has exited, so leak checks
  /// that run next do not see it.
  public func close() {
    let pid = (try? tmux(["display-message", "-p", "-t", "t", "#{pane_pid}"]))
      .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    _ = try? tmux(["kill-server"])
    if let pid {
      let deadline = Date().addingTimeInterval(10)
      while kill(pid, 0) == 0, Date() < deadline { usleep(10_000) }
    }
    try? FileManager.default.removeItem(atPath: home)
  }

  public struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var screen: String
    public var description: String { "timed out waiting for \(what); screen:\n\(screen)" }
  }
}
