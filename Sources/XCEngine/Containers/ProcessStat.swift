/// One process of a container (xc's `ProcessStat`).
public struct ProcessStat: Codable, Sendable, Equatable {
  /// Host pid.
  public var pid: Int32?
  /// Seconds since the epoch (xc's unit for process times, unlike the container's).
  public var started: Int64?
  public var exited: Int64?
  /// Raw wait(2) status.
  public var exit_code: Int32?
  public var exec: Jexec
  /// With a tty: the UNIX socket serving the process's pty (raw bytes both ways).
  public var terminal_socket: String?
  /// Where the process's stdout/stderr are logged (see `MainLog`), when they are.
  public var stdout_log_file: String?
  public var stderr_log_file: String?

  public init(pid: Int32?, started: Int64? = nil, exec: Jexec) {
    self.pid = pid
    self.started = started
    self.exec = exec
  }
}
