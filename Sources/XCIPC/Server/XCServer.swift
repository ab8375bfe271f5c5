import Foundation
import Synchronization
import SystemPackage
import XCSystem

/// Serves the xc protocol on a UNIX socket: the plumbing under the Linux daemon.
///
///     let server = try XCServer(path: "/var/run/xc.sock", table: table)
///     server.start()
///     …
///     server.stop()
///
/// One thread accepts; each connection gets its own thread that reads a request, runs the
/// handler, writes the answer, and repeats, so requests on a connection are answered in order
/// and a slow handler blocks only its own connection. Threads are the simplest model for
/// blocking handlers (the engine runs runc, mounts, waits) and connection counts are small
/// (one per shell); handlers must be thread-safe.
///
/// Unlike xcd it never panics on bad input: a payload that does not decode is answered with
/// errno 22 naming the method and field; an unknown method with errno 2 (the connection stays
/// open); a body that is not a request envelope, or a frame that lies (length over the cap,
/// more than 64 descriptors, descriptors not matching the header, a truncated body), closes
/// that connection only.
public final class XCServer: Sendable {
  /// The socket path served.
  public let path: String
  private let listener: Socket
  private let table: XCMethodTable
  private let limits: FrameLimits
  private let policy: XCPeerPolicy
  private let onConnectionClosed: (@Sendable (UInt64, PeerCredentials) -> Void)?
  private let connections = Mutex<[UInt64: Socket]>([:])
  private let nextID = Atomic<UInt64>(1)
  private let stopped = Atomic<Bool>(false)
  private let started = Atomic<Bool>(false)

  /// Binds and listens at `path` (a stale file there is replaced, as xcd does).
  /// `onConnectionClosed` runs when a connection ends, with its id and peer.
  public init(
    path: String, table: XCMethodTable, limits: FrameLimits = .default,
    policy: XCPeerPolicy = .anyone,
    onConnectionClosed: (@Sendable (UInt64, PeerCredentials) -> Void)? = nil
  ) throws(IPCError) {
    do throws(Errno) {
      self.listener = try Socket.listen(onUnixPath: path)
    } catch {
      throw IPCError(.system, "cannot listen on \(path): \(error)", errno: error)
    }
    self.path = path
    self.table = table
    self.limits = limits
    self.policy = policy
    self.onConnectionClosed = onConnectionClosed
  }

  /// The number of connections being served.
  public var connectionCount: Int { connections.withLock { $0.count } }

  /// Starts the accept loop on a new thread and returns.
  /// Call it once, before `stop()`.
  public func start() {
    guard !stopped.load(ordering: .acquiring) else { return }
    guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
    let t = Thread { [self] in self.acceptLoop() }
    t.name = "xc-ipc-accept"
    t.start()
  }

  /// Stops accepting, removes the socket file and shuts down every open connection (their
  /// threads finish the request in progress, if any, then exit).
  public func stop() {
    guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
    try? listener.shutdown(.readWrite)  // wakes accept() with EINVAL on Linux
    try? Socket.unlink(path: path)
    if !started.load(ordering: .acquiring) { try? listener.close() }
    connections.withLock { conns in
      for s in conns.values { try? s.shutdown(.readWrite) }
    }
  }

  private func acceptLoop() {
    while !stopped.load(ordering: .acquiring) {
      let socket: Socket
      do throws(Errno) {
        socket = try listener.accept()
      } catch {
        if stopped.load(ordering: .acquiring) { break }
        switch error {
        case .connectionAbort, .interrupted, .protocolError: continue
        case .tooManyOpenFiles, .noBufferSpace, .noMemory, .tooManyOpenFilesInSystem:
          // Out of descriptors: back off for connections to end instead of spinning (the
          // pending connection keeps the listener readable, so polling would not wait).
          Thread.sleep(forTimeInterval: 0.05)
          continue
        default:
          break
        }
        break
      }
      let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
      // Checked under the lock stop() takes, so a connection accepted while stopping is
      // either shut down by stop() or closed here, never left running.
      let registered = connections.withLock { conns -> Bool in
        if stopped.load(ordering: .acquiring) { return false }
        conns[id] = socket
        return true
      }
      if !registered {
        try? socket.close()
        break
      }
      let t = Thread { [self] in self.serveRegistered(socket: socket, id: id) }
      t.name = "xc-ipc-conn-\(id)"
      t.start()
    }
    try? listener.close()
  }

  private func serveRegistered(socket: Socket, id: UInt64) {
    let peer = (try? socket.peerCredentials()) ?? PeerCredentials(pid: -1, uid: .max, gid: .max)
    if let refusal = policy.check(peer) {
      // A refused peer gets a few seconds to send its request, not a thread for ever.
      try? socket.setIOTimeout(milliseconds: XCPeerPolicy.refusedTimeoutMillis)
      let channel = FrameChannel(socket: socket, limits: XCPeerPolicy.refusedLimits)
      XCServer.refuse(channel: channel, with: refusal)
      connections.withLock { _ = $0.removeValue(forKey: id) }
      channel.close()
      return
    }
    let channel = FrameChannel(socket: socket, limits: limits)
    XCServer.serve(channel: channel, table: table, peer: peer, connectionID: id)
    // Unregister before closing so stop() never shuts down a reused descriptor number.
    connections.withLock { _ = $0.removeValue(forKey: id) }
    channel.close()
    onConnectionClosed?(id, peer)
  }

  /// Answers a refused peer's first request with `refusal`; nothing of the request is run.
  static func refuse(channel: FrameChannel, with refusal: XCDaemonError) {
    do throws(IPCError) {
      guard let frame = try channel.receive() else { return }
      frame.descriptors.closeRemaining()
      try channel.send(body: Envelope.encodeFailure(refusal))
    } catch {
      return
    }
  }

  /// Serves one connection on the calling thread until the peer closes it or breaks the
  /// protocol. Does not close the channel. Usable without a listener (e.g. on a socketpair).
  public static func serve(
    channel: FrameChannel, table: XCMethodTable, peer: PeerCredentials, connectionID: UInt64 = 0
  ) {
    while true {
      let frame: Frame
      do throws(IPCError) {
        guard let f = try channel.receive() else { return }
        frame = f
      } catch {
        return
      }
      guard let response = answer(frame, table: table, peer: peer, connectionID: connectionID)
      else { return }
      // Descriptors the handler did not take belong to the message: close them now.
      frame.descriptors.closeRemaining()
      do throws(IPCError) {
        try channel.send(body: response)
      } catch {
        return
      }
    }
  }

  /// The answer to one request frame, or nil to close the connection.
  static func answer(
    _ frame: Frame, table: XCMethodTable, peer: PeerCredentials, connectionID: UInt64
  ) -> [UInt8]? {
    guard let method = Envelope.method(of: frame.body) else { return nil }
    guard let handler = table.handlers[method] else {
      guard Envelope.isWellFormedRequest(frame.body) else { return nil }
      return Envelope.encodeFailure(.notFound("ipc method \(method) not found"))
    }
    let context = XCRequestContext(
      method: method, peer: peer, descriptors: frame.descriptors, connectionID: connectionID)
    return handler(frame, context)
  }
}
