import Foundation
import XCIPC
import XCRemote
import XCShell

/// Where a log file the daemon named is read: on this machine when the daemon is this
/// machine's (directly, as always), or on the daemon's host through the relay's `read` streams
/// when the command's route is a remote host — the path is the daemon's, on its host. Only
/// paths the daemon named are read (`xcsh.logs`, a container's record).
enum LogFileReader {
  case local
  case remote(RemoteCaller)

  /// The reader for the thread's route (`DaemonRoute`), as `DaemonSession.call` picks a daemon.
  static func routed(_ s: DaemonSession) -> LogFileReader {
    s.routedRemote().map { .remote($0) } ?? .local
  }

  /// The whole file at `path`; a `logs.read` error naming it (and the host) otherwise.
  func contents(_ path: String, at span: Span) throws -> [UInt8] {
    switch self {
    case .local:
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ShellError(.logsRead, "cannot read the log file \(path)", at: span)
      }
      return [UInt8](data)
    case .remote(let remote):
      try Self.checkRelay(remote, path, at: span)
      do throws(IPCError) {
        return try remote.readFile(path: path, from: 0).bytes
      } catch {
        throw Self.error(path, error, at: span)
      }
    }
  }

  /// The file at `path`, to be read as it grows (`logs --follow`).
  func follow(_ path: String, at span: Span) throws -> any FollowedLogFile {
    switch self {
    case .local: return try LocalFollowedLog(path: path, at: span)
    case .remote(let remote):
      try Self.checkRelay(remote, path, at: span)
      return RemoteFollowedLog(path: path, at: span) { (path, offset) throws(IPCError) in
        try remote.readFile(path: path, from: offset)
      }
    }
  }

  /// Whether files can be read at all: a relay from before `read` streams (a pre-built
  /// `relay:` of an older xcsh; a cached one is rebuilt when relay.c changes) is an error
  /// saying so, up front rather than on the first read. Nothing to check here.
  func check(_ path: String, at span: Span) throws {
    if case .remote(let remote) = self { try Self.checkRelay(remote, path, at: span) }
  }

  private static func checkRelay(_ remote: RemoteCaller, _ path: String, at span: Span) throws {
    let can: Bool
    do throws(IPCError) {
      can = try remote.canReadFiles()
    } catch {
      throw Self.error(path, error, at: span)
    }
    guard can else {
      throw ShellError(
        .logsRead,
        "the relay on \(remote.host) is too old to read logs (its handshake offers no `read` streams): cannot read the log file \(path) there",
        at: span,
        help: "build the host's pre-built relay (`relay:` in the inventory) again from this xcsh's Sources/xcsh-relay/relay.c, or remove `relay:` to have xcsh build it")
    }
  }

  /// A failed read through the relay as `logs.read` (its message names the host and why).
  static func error(_ path: String, _ error: IPCError, at span: Span) -> ShellError {
    ShellError(.logsRead, "cannot read the log file: \(error.message)", at: span)
  }
}
