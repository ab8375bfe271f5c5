/// What `exec` started (xc's `SpawnInfo`; no tty yet, so only the pid).
public struct SpawnInfo: Sendable, Equatable, Codable {
  /// Host pid of the new process.
  public var pid: Int32
}
