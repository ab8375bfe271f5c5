/// What `exec` started (xc's `SpawnInfo`).
public struct SpawnInfo: Sendable, Equatable, Codable {
  /// Host pid of the new process.
  public var pid: Int32
  /// With a tty: the UNIX socket serving the process's pty.
  public var terminal_socket: String? = nil
}
