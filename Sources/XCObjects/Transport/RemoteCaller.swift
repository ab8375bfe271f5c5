import Foundation
import XCIPC
import XCRemote

/// `--host ssh://…`: calls go to the daemon on another machine through `ssh` and the relay
/// (docs/remote.md). The session opens on the first call and is kept; one that was lost is
/// opened again on the next call (the call in flight failed, saying whether it may have taken
/// effect). Calls on one host go one at a time, as on one local connection.
final class RemoteCaller: XCCaller, @unchecked Sendable {
  let host: RemoteHost
  let options: SSHOptions
  private let lock = NSLock()
  private var connection: SSHTransport.Connection?
  private var opened: UInt64 = 0
  /// Says when a first contact compiled the relay (stderr).
  private let announce: @Sendable (String) -> Void

  init(host: RemoteHost, options: SSHOptions, announce: @escaping @Sendable (String) -> Void) {
    self.host = host
    self.options = options
    self.announce = announce
  }

  /// Whether a session is open (completion does not open one).
  var isConnected: Bool {
    lock.lock()
    defer { lock.unlock() }
    return connection?.session.isOpen ?? false
  }

  func call<R: XCRequest>(_ request: R, timeout: Duration?) throws(IPCError) -> R.Response {
    try open().session.call(request, timeout: timeout)
  }

  /// Counts the sessions opened: a new one may reach another daemon (the host's xcd restarted).
  var connectionGeneration: UInt64 {
    lock.lock()
    defer { lock.unlock() }
    return opened
  }

  /// A local socket carrying the bytes of the UNIX socket at `path` on the host (a
  /// container's terminal socket), through the relay.
  func connect(path: String) throws(IPCError) -> Int32 {
    try open().session.connect(path: path)
  }

  /// Whether the host's relay reads files (`read` streams); opens the session if need be.
  func canReadFiles() throws(IPCError) -> Bool {
    try open().session.canReadFiles
  }

  /// The file at `path` on the host from byte `offset` to its end, through the relay.
  func readFile(path: String, from offset: UInt64) throws(IPCError) -> RemoteFile {
    try open().session.readFile(path: path, from: offset)
  }

  /// The open session, or a new one.
  private func open() throws(IPCError) -> SSHTransport.Connection {
    lock.lock()
    defer { lock.unlock() }
    if let c = connection, c.session.isOpen { return c }
    connection?.close()
    connection = nil
    let c = try SSHTransport.connect(host, options: options, announce: announce)
    if c.built { announce("xcsh: built the relay on \(host) (relay-\(RelaySource.hash))\n") }
    connection = c
    opened += 1
    return c
  }

  /// Ends the session: the relay exits and closes every descriptor it made.
  func close() {
    lock.lock()
    let c = connection
    connection = nil
    lock.unlock()
    c?.close()
  }
}
