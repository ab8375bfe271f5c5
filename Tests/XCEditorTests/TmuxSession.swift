import Foundation

/// A real terminal for tests: `xcsh` runs inside tmux on a private server; keys are typed with
/// `send-keys` and the screen is read with `capture-pane`.
final class TmuxSession {
  let socket = "xcsh-test-" + UUID().uuidString.prefix(8)
  let home: String

  /// Starts `xcsh` with HOME (and so its history file) in `home`.
  init(home: String? = nil, xcsh: String = TmuxSession.xcshPath) throws {
    self.home = home ?? (NSTemporaryDirectory() + "xcsh-pty-" + UUID().uuidString)
    try FileManager.default.createDirectory(atPath: self.home, withIntermediateDirectories: true)
    let command = "cd '\(self.home)' && HOME='\(self.home)' XDG_STATE_HOME= NO_COLOR=1 '\(xcsh)' --socket '\(self.home)/none.sock'"
    // The tmux server outlives this call: it must not inherit a pipe we wait on.
    try tmux(["new-session", "-d", "-s", "t", "-x", "120", "-y", "40", command], capture: false)
  }

  static var xcshPath: String {
    if let p = ProcessInfo.processInfo.environment["XCSH_BIN"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while dir.path != "/" {
      let candidate = dir.appendingPathComponent("xcsh").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return "xcsh"
  }

  @discardableResult
  func tmux(_ args: [String], capture: Bool = true) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
    p.arguments = ["-L", socket, "-f", "/dev/null"] + args
    p.standardInput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard capture else {
      p.standardOutput = FileHandle.nullDevice
      try p.run()
      p.waitUntilExit()
      return ""
    }
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  /// Types text literally (no key names).
  func type(_ text: String) throws { try tmux(["send-keys", "-t", "t", "-l", "--", text]) }
  /// Presses keys by tmux name: `Enter`, `Tab`, `C-c`, `Up`.
  func press(_ keys: String...) throws { try tmux(["send-keys", "-t", "t"] + keys) }

  func screen() throws -> String { try tmux(["capture-pane", "-t", "t", "-p", "-S", "-200"]) }

  /// Waits until the screen satisfies `condition`, polling; fails after `timeout` seconds.
  @discardableResult
  func waitFor(_ what: String, timeout: TimeInterval = 15, _ condition: (String) -> Bool) throws -> String {
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
  func waitFor(_ text: String, count: Int = 1, timeout: TimeInterval = 15) throws -> String {
    try waitFor("`\(text)` x\(count)", timeout: timeout) { $0.components(separatedBy: text).count - 1 >= count }
  }

  /// The last non-empty line on the screen (the line being edited).
  func currentLine() throws -> String {
    try screen().split(separator: "\n").last.map(String.init) ?? ""
  }

  var isRunning: Bool { (try? tmux(["list-sessions"]))?.contains("t:") ?? false }

  func close() {
    _ = try? tmux(["kill-server"])
    try? FileManager.default.removeItem(atPath: home)
  }

  struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var screen: String
    var description: String { "timed out waiting for \(what); screen:\n\(screen)" }
  }
}
