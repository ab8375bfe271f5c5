import XCIPC

/// The daemon xcsh falls back to when nothing answers at the default socket and none was
/// named: the shared local one (`LocalDaemon`), or with `--isolated` a private one
/// (`EmbeddedDaemon`).
protocol DefaultDaemon: AnyObject, Sendable {
  /// Starts it (or joins the one running) and returns its socket.
  func obtain() throws(IPCError) -> String
  /// What xcsh says on stderr when `obtain` started a daemon; empty when it joined one.
  var startedLine: String { get }
  /// Whether a daemon that stopped answering may be started again within one xcsh run.
  var restartable: Bool { get }
}

extension DefaultDaemon {
  var restartable: Bool { false }
}

/// A default daemon that cannot be used (a bad setting such as `$XCSH_DAEMON_IDLE`): the first
/// daemon call reports why; scripts that call no daemon are not bothered.
final class UnusableDaemon: DefaultDaemon, Sendable {
  let error: IPCError
  init(_ error: IPCError) { self.error = error }
  func obtain() throws(IPCError) -> String { throw error }
  var startedLine: String { "" }
}
