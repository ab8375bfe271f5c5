import SystemPackage

/// An error from the IPC layer: connecting, framing, encoding or decoding a call, or an error
/// answer from the daemon. A struct with a stable code, as the style guide prescribes; the shell
/// wraps it with the span of the command that caused it.
public struct IPCError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What kind of failure this is.
  public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Nothing listens at the socket path (`ENOENT`, `ECONNREFUSED`).
    public static let noDaemon = Code(rawValue: "ipc.no_daemon")
    /// The socket exists but we may not connect to it (`EACCES`, `EPERM`).
    public static let permissionDenied = Code(rawValue: "ipc.permission_denied")
    /// The peer closed the connection without answering. xcd does this when a payload does not
    /// match the method (it panics while decoding), and on framing errors.
    public static let connectionClosed = Code(rawValue: "ipc.connection_closed")
    /// No answer within the timeout; the connection is closed since a late reply would desync.
    public static let timeout = Code(rawValue: "ipc.timeout")
    /// The daemon answered with a non-zero errno; see `daemonError`.
    public static let daemon = Code(rawValue: "ipc.daemon_error")
    /// The peer sent bytes that are not a valid frame or envelope (the connection is closed).
    public static let protocolViolation = Code(rawValue: "ipc.protocol")
    /// A request could not be encoded (for instance more than 64 descriptors).
    public static let encoding = Code(rawValue: "ipc.encoding")
    /// A success answer did not match the method's response type.
    public static let decoding = Code(rawValue: "ipc.decoding")
    /// Any other system call failure; see `errno`.
    public static let system = Code(rawValue: "ipc.system")
  }

  /// What kind of failure.
  public var code: Code
  /// The method being called, when there was one.
  public var method: String?
  /// One line, lowercase, saying what happened.
  public var message: String
  /// The system error behind it, if any.
  public var errno: Errno?
  /// The daemon's answer, for `.daemon`.
  public var daemonError: XCDaemonError?

  /// Creates an error.
  public init(
    _ code: Code, method: String? = nil, _ message: String, errno: Errno? = nil,
    daemonError: XCDaemonError? = nil
  ) {
    self.code = code
    self.method = method
    self.message = message
    self.errno = errno
    self.daemonError = daemonError
  }

  /// `xc <method>: <message>`.
  public var description: String {
    if let method { return "\(method): \(message)" }
    return message
  }

  /// The same error attributed to `method`.
  func forMethod(_ method: String) -> IPCError {
    var e = self
    e.method = method
    return e
  }
}
