/// Who is at the other end of a UNIX socket, as the kernel recorded it at `connect` time.
public struct PeerCredentials: Hashable, Sendable {
  /// The peer's process id (-1 where the platform does not report it).
  public var pid: Int32
  /// The peer's effective user id.
  public var uid: UInt32
  /// The peer's effective group id.
  public var gid: UInt32

  /// Creates credentials from their parts (tests and fakes build them by hand).
  public init(pid: Int32, uid: UInt32, gid: UInt32) {
    self.pid = pid
    self.uid = uid
    self.gid = gid
  }

  /// The calling process's own credentials.
  public static var current: PeerCredentials {
    PeerCredentials(pid: system_getpid(), uid: system_getuid(), gid: system_getgid())
  }
}
