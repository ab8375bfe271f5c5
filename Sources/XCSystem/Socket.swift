import SystemPackage

/// A UNIX-domain stream socket.
///
/// Like `FileDescriptor`, this is a plain value over the descriptor number: copying it does not
/// duplicate the descriptor, and nothing closes it implicitly. Whoever creates or accepts a
/// socket owns it and must `close()` it exactly once.
public struct Socket: RawRepresentable, Hashable, Sendable {
  /// The descriptor number.
  public let rawValue: CInt

  /// Wraps an existing descriptor (the caller keeps ownership).
  public init(rawValue: CInt) { self.rawValue = rawValue }

  /// Wraps an existing descriptor (the caller keeps ownership).
  public init(_ fd: FileDescriptor) { self.rawValue = fd.rawValue }

  /// The same descriptor as a `FileDescriptor`.
  public var fileDescriptor: FileDescriptor { FileDescriptor(rawValue: rawValue) }
}

/// Which direction(s) `Socket.shutdown(_:)` closes.
public enum ShutdownKind: Sendable {
  /// `SHUT_RD`.
  case read
  /// `SHUT_WR`.
  case write
  /// `SHUT_RDWR`.
  case readWrite
}

extension Socket {
  /// Creates an unconnected `AF_UNIX`, `SOCK_STREAM` socket with close-on-exec set.
  /// The corresponding C function is `socket`.
  public static func unixStream() throws(Errno) -> Socket {
    Socket(rawValue: try valueOrErrno { system_socket_unix_stream() })
  }

  /// Creates a connected pair of `AF_UNIX` stream sockets with close-on-exec set.
  /// The corresponding C function is `socketpair`.
  public static func pair() throws(Errno) -> (Socket, Socket) {
    var fds: (CInt, CInt) = (-1, -1)
    _ = try withUnsafeMutablePointer(to: &fds) { (p) throws(Errno) -> CInt in
      try p.withMemoryRebound(to: CInt.self, capacity: 2) { (q) throws(Errno) -> CInt in
        try valueOrErrno { system_socketpair_unix_stream(q) }
      }
    }
    return (Socket(rawValue: fds.0), Socket(rawValue: fds.1))
  }

  /// Creates a socket and connects it to the UNIX socket at `path`; the socket is closed again
  /// if connecting fails. The corresponding C function is `connect`.
  public static func connect(toUnixPath path: String) throws(Errno) -> Socket {
    let s = try unixStream()
    do throws(Errno) {
      // Not retried on EINTR: a restarted connect() on a socket reports EALREADY/EISCONN.
      try pathCall(path, retry: false) { system_connect_unix(s.rawValue, $0) }
    } catch {
      try? s.close()
      throw error
    }
    return s
  }

  /// Creates a socket bound to `path` and listening on it. With `replacingExisting`, a file
  /// already at `path` is removed first (what xcd does with a stale socket).
  /// The corresponding C functions are `unlink`, `bind` and `listen`.
  public static func listen(
    onUnixPath path: String, backlog: Int32 = 512, replacingExisting: Bool = true
  ) throws(Errno) -> Socket {
    if replacingExisting { _ = path.withCString { system_unlink($0) } }
    let s = try unixStream()
    do throws(Errno) {
      try pathCall(path) { system_bind_unix(s.rawValue, $0) }
      _ = try valueOrErrno { system_listen(s.rawValue, backlog) }
    } catch {
      try? s.close()
      throw error
    }
    return s
  }

  /// Removes the file at `path` (a socket left by `listen(onUnixPath:)`).
  /// The corresponding C function is `unlink`.
  public static func unlink(path: String) throws(Errno) {
    try pathCall(path) { system_unlink($0) }
  }

  /// Accepts one connection; the new socket has close-on-exec set.
  /// The corresponding C function is `accept4`.
  public func accept() throws(Errno) -> Socket {
    Socket(rawValue: try valueOrErrno { system_accept(rawValue) })
  }

  /// The credentials of the process at the other end, as recorded by the kernel at connect
  /// time. The corresponding C function is `getsockopt(SO_PEERCRED)`.
  public func peerCredentials() throws(Errno) -> PeerCredentials {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    _ = try valueOrErrno { system_peer_credentials(rawValue, &pid, &uid, &gid) }
    return PeerCredentials(pid: pid, uid: uid, gid: gid)
  }

  /// Makes blocking reads and writes fail with `EAGAIN` after `milliseconds` (0 = never).
  /// The corresponding C function is `setsockopt(SO_RCVTIMEO/SO_SNDTIMEO)`.
  public func setIOTimeout(milliseconds: Int64) throws(Errno) {
    _ = try valueOrErrno { system_set_io_timeout(rawValue, milliseconds) }
  }

  /// Waits until the socket is readable (data, EOF or error) or `milliseconds` pass
  /// (negative = forever). Returns whether it became readable. The corresponding C function is
  /// `poll`.
  public func waitReadable(milliseconds: Int32) throws(Errno) -> Bool {
    try valueOrErrno { system_poll_in(rawValue, milliseconds) } > 0
  }

  /// Shuts down one or both directions. The corresponding C function is `shutdown`.
  public func shutdown(_ how: ShutdownKind) throws(Errno) {
    let h: CInt
    switch how {
    case .read: h = SysConst.shutRD
    case .write: h = SysConst.shutWR
    case .readWrite: h = SysConst.shutRDWR
    }
    _ = try valueOrErrno { system_shutdown(rawValue, h) }
  }

  /// Closes the socket. Not retried on EINTR: on Linux the descriptor is gone either way.
  /// The corresponding C function is `close`.
  public func close() throws(Errno) {
    _ = try valueOrErrno(retryOnInterrupt: false) { system_close(rawValue) }
  }
}

/// Calls `body` with `path` as a C string, turning -1 into `Errno` (retrying EINTR if asked).
private func pathCall(
  _ path: String, retry: Bool = true, _ body: (UnsafePointer<CChar>) -> CInt
) throws(Errno) {
  while true {
    let r = path.withCString { body($0) }
    if r != -1 { return }
    let e = currentErrno()
    if retry && e == .interrupted { continue }
    throw e
  }
}
