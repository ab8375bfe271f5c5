import CSupport
import Foundation
import XCShell

/// The interactive loop: prompt, read (with continuation lines), run, remember.
public final class REPL {
  let shell: Shell
  let editor: LineEditor
  let history: HistoryStore
  var lastStatus: Int32 = 0
  let socketPath: String
  /// The sockets the prompt may report, in order: the first a daemon is at (it answers, or it
  /// refuses us), else the last; each is tried at most once per prompt. `[socketPath]` unless
  /// set (xcsh's local default: the default path, then the local xcd's socket).
  public var promptSockets: [String]

  public init(shell: Shell, editor: LineEditor, history: HistoryStore, socketPath: String) {
    self.shell = shell
    self.editor = editor
    self.history = history
    self.socketPath = socketPath
    promptSockets = [socketPath]
    shell.evaluator.registry.register(HistoryCommand.make(history))
    for entry in history.entries { editor.remember(entry) }
  }

  /// Runs `~/.config/xcsh/config.xcs` (or `$XDG_CONFIG_HOME/xcsh/config.xcs`) if it exists.
  public func runConfig() {
    let env = shell.environment
    let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.config")
    let path = base + "/xcsh/config.xcs"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
    shell.runLine(Source(name: path, text: text))
  }

  /// Loops until Ctrl-D on an empty line; returns the last status.
  public func run() -> Int32 {
    runConfig()
    applyEditMode()
    var buffer = ""
    while true {
      let prompt = buffer.isEmpty ? makePrompt() : continuationPrompt()
      switch editor.read(prompt: prompt) {
      case .endOfInput:
        if buffer.isEmpty {
          FileHandle.standardOutput.write(Data("\n".utf8))
          return lastStatus
        }
        buffer = ""
      case .interrupted:
        buffer = ""
        FileHandle.standardOutput.write(Data("\n".utf8))
      case .line(let line):
        buffer += buffer.isEmpty ? line : "\n" + line
        if shell.isIncomplete(buffer) { continue }
        let entry = buffer
        buffer = ""
        guard !entry.allSatisfy({ $0.isWhitespace }) else { continue }
        if history.add(entry) { editor.remember(entry) }
        cs_signal_clear()
        // The window may have been resized since the last entry: tables fit the current width.
        shell.evaluator.options.terminalWidth = Terminal.columns()
        lastStatus = shell.runLine(Source(name: "<repl>", text: entry))
        cs_signal_clear()
        applyEditMode()
      }
    }
  }

  func applyEditMode() {
    editor.setMode(shell.environment["XCSH_EDIT_MODE"] == "vi" ? "vi" : "emacs")
  }

  func continuationPrompt() -> String { "... " }

  /// `$env.PROMPT`, a `prompt` function, or the default: the daemon socket and whether it
  /// answers, and the last status when it was not 0.
  func makePrompt() -> String {
    if let custom = shell.callFunction("prompt") { return custom }
    if let p = shell.environment["PROMPT"] { return p }
    let color = shell.options.color
    func paint(_ s: String, _ code: String) -> String { color ? "\u{1}\u{1B}[\(code)m\u{1}\(s)\u{1}\u{1B}[0m\u{1}" : s }
    var (path, up) = (socketPath, false)
    for (i, candidate) in promptSockets.enumerated() {
      let state = DaemonProbe.state(candidate)
      guard state != .absent || i == promptSockets.count - 1 else { continue }
      (path, up) = (candidate, state == .answers)
      break
    }
    let name = (path as NSString).lastPathComponent
    var p = paint("xcsh", "1") + " " + paint("[\(name) \(up ? "up" : "down")]", up ? "32" : "2")
    if lastStatus != 0 { p += " " + paint("[\(lastStatus)]", "31") }
    return p + " > "
  }
}

/// Whether a daemon is at a UNIX socket path: one connection attempt.
enum DaemonProbe {
  enum State: Equatable {
    /// It accepts connections.
    case answers
    /// It is there but refuses us (the socket's permissions).
    case refuses
    case absent
  }

  static func state(_ path: String) -> State {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return .absent }
    defer { close(fd) }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return .absent }
    withUnsafeMutableBytes(of: &addr.sun_path) { buf in
      for (i, b) in bytes.enumerated() { buf[i] = b }
    }
    let connected = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
      }
    }
    if connected { return .answers }
    return errno == EACCES || errno == EPERM ? .refuses : .absent
  }
}

/// `history`: the session's history as a table.
enum HistoryCommand {
  static func make(_ store: HistoryStore) -> Builtin {
    Builtin(
      Signature(
        "history", category: .core, summary: "The command history as a table {index, command}.",
        parameters: [.named("last", .int, short: "n", "Only the last N entries.")])
    ) { call, _ in
      var entries = Array(store.entries.enumerated())
      if let n = try call.int("last") { entries = Array(entries.suffix(Int(max(0, n)))) }
      return .value(.list(entries.map { .record(Record([("index", .int($0.offset)), ("command", .string($0.element))])) }))
    }
  }
}
