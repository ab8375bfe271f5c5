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

  init(endpoint: DaemonEndpoint) { self.endpoint = endpoint }

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    let client = try take()
    do {
      let r = try client.call(request, timeout: timeout)
      give(client)
      return r
    } catch {
      if client.isOpen { give(client) }
      throw error
    }
  }

  /// An idle connection, or a new one.
  func take() throws(IPCError) -> XCClient {
    lock.lock()
    while let c = idle.popLast() {
      if c.isOpen {
        lock.unlock()
        return c
      }
    }
    lock.unlock()
    return try XCClient(path: try endpoint.resolve(), timeout: .seconds(120))
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

/// Where the daemon is: a path given by the user, or the default path with the embedded
/// daemon as the fallback.
final class DaemonEndpoint: @unchecked Sendable {
  private let lock = NSLock()
  private let requested: String
  private let explicit: Bool
  private let embedded: EmbeddedDaemon?
  private var resolved: String?
  private var failure: IPCError?
  /// Where "started embedded xcd" goes (stderr).
  private let announce: (String) -> Void

  /// `explicit` paths (`--socket`, `$XC_SOCKET`) are used as they are; the default path falls
  /// back to `embedded` when nothing answers there.
  init(path: String, explicit: Bool, embedded: EmbeddedDaemon?, announce: @escaping (String) -> Void) {
    self.requested = path
    self.explicit = explicit
    self.embedded = embedded
    self.announce = announce
  }

  /// The socket path in use so far (the requested one until the embedded daemon starts).
  var currentPath: String {
    lock.lock()
    defer { lock.unlock() }
    return resolved ?? requested
  }

  /// The embedded daemon, once started.
  var startedDaemon: EmbeddedDaemon? {
    lock.lock()
    defer { lock.unlock() }
    return resolved != nil && resolved != requested ? embedded : nil
  }

  /// Calls can go out without starting a daemon (completion must not start one).
  var isReady: Bool {
    lock.lock()
    defer { lock.unlock() }
    return resolved != nil || explicit || embedded == nil
  }

  /// The socket to connect to; starts the embedded daemon the first time it is needed.
  func resolve() throws(IPCError) -> String {
    lock.lock()
    defer { lock.unlock() }
    if let resolved { return resolved }
    if let failure { throw failure }
    if explicit || embedded == nil || Self.answers(requested) {
      resolved = requested
      return requested
    }
    do {
      try embedded!.start()
    } catch {
      failure = error
      throw error
    }
    resolved = embedded!.socketPath
    announce("xcsh: started embedded xcd on \(embedded!.socketPath) (state \(embedded!.stateDir))\n")
    return embedded!.socketPath
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
