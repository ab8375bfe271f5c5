import Glibc
import XCIPC
import XCShell

/// Passes this terminal's window size on to the pty of a process xcsh is attached to
/// (`xcsh.resize`): xc's terminal socket carries bytes only, so the size goes by a call, once
/// when the session starts and again after each SIGWINCH. A daemon without the extension
/// (xc's own) is asked once per host and then left alone: the pty keeps the size it has.
struct TerminalSize {
  let session: DaemonSession
  /// The container's id or name.
  let container: String
  /// `main` or an exec id.
  let process: String
  /// The size last passed on, so a signal that changed nothing sends nothing.
  private var sent: (rows: Int, cols: Int)?
  /// The first failure other than "the process has ended", reported after the session.
  private(set) var failure: (any Error)?

  init(_ session: DaemonSession, container: String, process: String = "main") {
    self.session = session
    self.container = container
    self.process = process
  }

  /// For `process` of `container` when the daemon serves `xcsh.resize`, else nil.
  static func forProcess(_ s: DaemonSession, container: String, process: String = "main", at span: Span) -> TerminalSize? {
    guard isatty(0) == 1 || isatty(1) == 1, (try? s.servesTerminalResize(at: span)) == true else { return nil }
    return TerminalSize(s, container: container, process: process)
  }

  /// This terminal's size (stdin's, else stdout's), nil when neither is a terminal with one.
  static func current() -> (rows: Int, cols: Int)? {
    for fd: CInt in [0, 1] {
      var ws = winsize()
      if ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 {
        return (Int(ws.ws_row), Int(ws.ws_col))
      }
    }
    return nil
  }

  /// Sends the current size if it changed. A process that has ended (ENOENT) is not a failure:
  /// its terminal is about to close and the relay sees it. Never throws: a size that could not
  /// be passed on must not end the session.
  mutating func update(at span: Span) { update(to: Self.current(), at: span) }

  /// Sends `now` if it differs from the size sent last.
  mutating func update(to now: (rows: Int, cols: Int)?, at span: Span) {
    guard let now, sent.map({ $0 != now }) ?? true else { return }
    sent = now
    do {
      _ = try session.call(ResizeTerminalRequest(name: container, process: process, rows: now.rows, cols: now.cols), at: span)
    } catch {
      if (error as? ShellError)?.code != .daemonNotFound, failure == nil { failure = error }
    }
  }
}

extension DaemonSession {
  /// Whether the daemon of the thread's route serves `xcsh.resize`: the extension probe
  /// (`servesExtensions`, asked once per route and remembered).
  func servesTerminalResize(at span: Span) throws -> Bool {
    try servesExtensions(at: span)
  }
}
