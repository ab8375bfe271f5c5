/// Decoding of raw wait(2) statuses, which Swift cannot reach through the C macros.
public enum WaitStatus {
  /// The bit xc sets on the 64-bit value it writes to an exit eventfd.
  public static let eventFlag: UInt64 = 0x1000_0000_0000_0000

  /// The exit code if the process exited normally (WIFEXITED), else nil.
  public static func exitCode(_ status: Int32) -> Int32? {
    (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
  }

  /// The signal that killed the process (WIFSIGNALED), else nil.
  public static func signal(_ status: Int32) -> Int32? {
    let sig = status & 0x7f
    return sig != 0 && sig != 0x7f ? sig : nil
  }

  /// The value written to an exit eventfd: `0x1000000000000000 | status`.
  public static func eventValue(_ status: Int32) -> UInt64 {
    eventFlag | UInt64(UInt32(bitPattern: status))
  }

  /// The exit code xc's client derives from an eventfd value: the exit code, or 1 when the
  /// process was killed by a signal.
  public static func clientExitCode(eventValue: UInt64) -> Int32 {
    exitCode(Int32(bitPattern: UInt32(truncatingIfNeeded: eventValue))) ?? 1
  }
}
