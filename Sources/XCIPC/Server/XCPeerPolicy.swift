import XCSystem

/// Who may use a server's socket, decided per connection from the peer's credentials
/// (`SO_PEERCRED`, taken by the kernel at `connect`).
///
/// A refused peer is not simply dropped: its first request is read (with small frame caps)
/// and answered with the refusal (errno 13, EACCES, and a message saying who may connect),
/// then the connection is closed, so the client can report why instead of "connection
/// closed".
public struct XCPeerPolicy: Sendable {
  /// nil to admit the peer, else the error answered to it.
  public let check: @Sendable (PeerCredentials) -> XCDaemonError?

  /// A policy from a check function.
  public init(_ check: @escaping @Sendable (PeerCredentials) -> XCDaemonError?) {
    self.check = check
  }

  /// Everyone the socket's file mode lets connect.
  public static let anyone = XCPeerPolicy { _ in nil }

  /// EACCES, as both FreeBSD and Linux number it.
  public static let refusedErrno = 13

  /// Caps for a refused peer's one request: enough for any real request without descriptors.
  static let refusedLimits = FrameLimits(maxBodyLength: 64 << 10, maxDescriptors: 64)

  /// How long a refused peer has to send its request and read the answer.
  static let refusedTimeoutMillis: Int64 = 5_000
}
