/// A raw wait(2) status, as `ProcessStat.exitCode` and the exit eventfd carry it.
public struct WaitStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
  /// The raw status (the low 32 bits of the eventfd value).
  public var rawValue: Int32
  /// Wraps a raw status.
  public init(rawValue: Int32) { self.rawValue = rawValue }

  /// The status of a process that called `exit(code)`.
  public static func exited(_ code: UInt8) -> WaitStatus { WaitStatus(rawValue: Int32(code) << 8) }
  /// The status of a process killed by `signal`.
  public static func signaled(_ signal: Int32) -> WaitStatus {
    WaitStatus(rawValue: signal & 0x7f)
  }

  /// `WIFEXITED`.
  public var didExit: Bool { rawValue & 0x7f == 0 }
  /// `WEXITSTATUS`, when the process exited.
  public var exitCode: Int32? { didExit ? (rawValue >> 8) & 0xff : nil }
  /// `WTERMSIG`, when a signal killed the process.
  public var terminationSignal: Int32? {
    let sig = rawValue & 0x7f
    return sig != 0 && sig != 0x7f ? sig : nil
  }
  /// The exit code a shell reports, as `xc` does: the exit status, or 1 if killed by a signal.
  public var shellExitCode: Int32 { exitCode ?? 1 }

  public var description: String {
    if let c = exitCode { return "exited with \(c)" }
    if let s = terminationSignal { return "killed by signal \(s)" }
    return "status 0x\(String(rawValue, radix: 16))"
  }
}
