import SystemPackage

/// A Linux eventfd: a 64-bit counter the kernel lets two processes signal through.
///
/// xc passes eventfds to learn that a process started (value 1) or exited (an encoded wait
/// status). A plain value over the descriptor; the creator owns it and closes it once.
public struct EventFD: RawRepresentable, Hashable, Sendable {
  /// The descriptor number.
  public let rawValue: CInt

  /// Wraps an existing eventfd descriptor (the caller keeps ownership).
  public init(rawValue: CInt) { self.rawValue = rawValue }

  /// Wraps an existing eventfd descriptor (the caller keeps ownership).
  public init(_ fd: FileDescriptor) { self.rawValue = fd.rawValue }

  /// The same descriptor as a `FileDescriptor`, for passing it in a request.
  public var fileDescriptor: FileDescriptor { FileDescriptor(rawValue: rawValue) }

  /// Flags for `EventFD.create`.
  public struct Flags: OptionSet, Sendable, Hashable {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }
    /// `EFD_CLOEXEC`.
    public static let closeOnExec = Flags(rawValue: SysConst.efdCloexec)
    /// `EFD_NONBLOCK`: `read` fails with `EAGAIN` instead of waiting.
    public static let nonBlocking = Flags(rawValue: SysConst.efdNonblock)
    /// `EFD_SEMAPHORE`: each `read` takes 1 instead of the whole counter.
    public static let semaphore = Flags(rawValue: SysConst.efdSemaphore)
  }

  /// Creates an eventfd. The corresponding C function is `eventfd`.
  public static func create(
    initialValue: UInt32 = 0, flags: Flags = [.closeOnExec]
  ) throws(Errno) -> EventFD {
    EventFD(rawValue: try valueOrErrno { system_eventfd(initialValue, flags.rawValue) })
  }

  /// Reads and resets the counter, waiting until it is non-zero (unless non-blocking).
  /// The corresponding C function is `read` of 8 bytes.
  public func read() throws(Errno) -> UInt64 {
    var value: UInt64 = 0
    let n = try valueOrErrno { system_read(rawValue, &value, 8) }
    guard n == 8 else { throw Errno.ioError }
    return value
  }

  /// Adds `value` to the counter. The corresponding C function is `write` of 8 bytes.
  public func write(_ value: UInt64) throws(Errno) {
    var v = value
    let n = try valueOrErrno { system_write(rawValue, &v, 8) }
    guard n == 8 else { throw Errno.ioError }
  }

  /// Waits until the counter is non-zero or `milliseconds` pass (negative = forever), without
  /// consuming it; lets a caller wait with a timeout or alongside an interrupt check.
  /// The corresponding C function is `poll`.
  public func waitReadable(milliseconds: Int32) throws(Errno) -> Bool {
    try valueOrErrno { system_poll_in(rawValue, milliseconds) } > 0
  }

  /// Closes the descriptor. The corresponding C function is `close`.
  public func close() throws(Errno) {
    _ = try valueOrErrno(retryOnInterrupt: false) { system_close(rawValue) }
  }
}
