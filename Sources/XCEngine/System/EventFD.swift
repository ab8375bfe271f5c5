import CSupport
import Glibc

/// eventfd(2) helpers: the engine signals clients through eventfds they pass in.
public enum EventFD {
  /// Creates a close-on-exec eventfd, as a client would to receive notifications.
  public static func make(nonblocking: Bool = false) throws -> CInt {
    try sysCall("eventfd") { cs_eventfd(0, nonblocking ? 1 : 0) }
  }

  /// Adds `value` to the eventfd's counter. The corresponding C function is `eventfd_write`.
  public static func write(_ fd: CInt, _ value: UInt64) throws {
    var v = value
    try withUnsafeBytes(of: &v) { try writeAll(fd, $0) }
  }

  /// Reads (and resets) the counter, blocking until it is non-zero on a blocking eventfd.
  public static func read(_ fd: CInt) throws -> UInt64 {
    var v: UInt64 = 0
    let n = try withUnsafeMutableBytes(of: &v) { try readSome(fd, into: $0) }
    guard n == 8 else { throw EngineError(.system, "short read from eventfd", errno: EIO) }
    return v
  }
}
