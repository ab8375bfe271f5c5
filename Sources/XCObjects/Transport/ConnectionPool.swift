import Foundation
import XCIPC

/// The real transport: connections to the daemon, opened on demand and reused.
///
/// A connection carries one call at a time, so each concurrent caller (a `par-each` worker)
/// takes its own; idle ones are kept for the next call. The endpoint is resolved on the first
/// call (this is where the embedded default starts xcd).
final class ConnectionPool: XCCaller, @unchecked Sendable {
  private let lock = NSLock()
  private var idle: [XCClient] = []
  private let endpoint: DaemonEndpoint
  private var lost: UInt64 = 0

  init(endpoint: DaemonEndpoint) { self.endpoint = endpoint }

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    let client = try take()
    do {
      let r = try client.call(request, timeout: timeout)
      give(client)
      return r
    } catch {
      if client.isOpen { give(client) } else { lose() }
      throw error
    }
  }

  /// Counts connections that were lost (closed under a call, or found closed when idle): the
  /// next one may reach another daemon (restarted, or another at the same socket).
  var connectionGeneration: UInt64 {
    lock.lock()
    defer { lock.unlock() }
    return lost
  }

  private func lose() {
    lock.lock()
    lost += 1
    lock.unlock()
  }

  /// An idle connection, or a new one.
  func take() throws(IPCError) -> XCClient {
    lock.lock()
    while let c = idle.popLast() {
      if c.isOpen {
        lock.unlock()
        return c
      }
      lost += 1
    }
    lock.unlock()
    let path = try endpoint.resolve()
    do {
      return try XCClient(path: path, timeout: .seconds(120))
    } catch where error.code == .noDaemon && endpoint.forget(path) {
      // The local daemon went away (killed, or stopped with `xcsh daemon stop`): start it again.
      return try XCClient(path: try endpoint.resolve(), timeout: .seconds(120))
    }
  }

  private func give(_ c: XCClient) {
    lock.lock()
    idle.append(c)
    lock.unlock()
  }

  /// Closes every idle connection.
  func closeAll() {
    lock.lock()
    let all = idle
    idle = []
    lock.unlock()
    for c in all { c.close() }
  }
}

/// Where the daemon is: a path given by the user, or the default path with a default daemon
/// (the shared local one, or a private one with `--isolated`) as the fallback.
final class DaemonEndpoint: @unchecked Sendable {
  private let lock = NSLock()
  private let requested: String
  private let explicit: Bool
  private let fallback: (any DefaultDaemon)?
  private var resolved: String?
  private var failure: IPCError?
  /// Where "started xcd" goes (stderr).
  private let announce: (String) -> Void

  /// `explicit` paths (`--socket`, `$XC_SOCKET`) are used as they are; the default path falls
  /// back to `fallback` when nothing answers there.
  init(path: String, explicit: Bool, fallback: (any DefaultDaemon)?, announce: @escaping (String) -> Void) {
    self.requested = path
    self.explicit = explicit
    self.fallback = fallback
    self.announce = announce
  }

  /// The socket path in use so far (the requested one until a default daemon is in use).
  var currentPath: String {
    lock.lock()
    defer { lock.unlock() }
    return resolved ?? requested
  }

  /// The private daemon (`--isolated`), once started: xcsh stops it at exit.
  var startedDaemon: EmbeddedDaemon? {
    lock.lock()
    defer { lock.unlock() }
    return resolved != nil && resolved != requested ? fallback as? EmbeddedDaemon : nil
  }

  /// Calls can go out without starting a daemon (completion must not start one).
  var isReady: Bool {
    lock.lock()
    defer { lock.unlock() }
    return resolved != nil || explicit || fallback == nil
  }

  /// The socket to connect to; starts (or joins) the default daemon the first time it is needed.
  func resolve() throws(IPCError) -> String {
    lock.lock()
    defer { lock.unlock() }
    if let resolved { return resolved }
    if let failure { throw failure }
    guard !explicit, let fallback, !Self.answers(requested) else {
      resolved = requested
      return requested
    }
    let path: String
    do {
      path = try fallback.obtain()
    } catch {
      failure = error
      throw error
    }
    resolved = path
    let line = fallback.startedLine
    if !line.isEmpty { announce(line) }
    return path
  }

  /// After `path` stopped answering: true when the default daemon may be started again (the
  /// next `resolve` does it), false when the failure stands.
  func forget(_ path: String) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    guard resolved == path, path != requested, fallback?.restartable == true else { return false }
    resolved = nil
    return true
  }

  /// Something accepts connections at `path` (or refuses us: a daemon is there, and the
  /// permission error is the one to show).
  static func answers(_ path: String) -> Bool {
    do throws(IPCError) {
      let c = try XCClient(path: path, timeout: .seconds(5))
      c.close()
      return true
    } catch {
      return error.code == .permissionDenied
    }
  }
}
