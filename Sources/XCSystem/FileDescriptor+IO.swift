import SystemPackage

// Descriptor operations that swift-system does not offer in the shape callers need: a
// close-on-exec duplicate above a floor, non-blocking mode, reading to the end, and a close whose failure
// nothing can act on. Reads and writes themselves are swift-system's `read(into:)` and
// `writeAll(_:)`, which already retry on EINTR.

extension FileDescriptor {
  /// A new close-on-exec descriptor for the same open file, numbered at least `minimum`
  /// (so it never lands on 0–2). The corresponding C function is `fcntl(F_DUPFD_CLOEXEC)`.
  public func duplicateCloseOnExec(minimum: CInt = 3) throws(Errno) -> FileDescriptor {
    FileDescriptor(rawValue: try valueOrErrno { system_dup_cloexec(rawValue, minimum) })
  }

  /// Makes reads and writes fail with `EAGAIN` instead of waiting (`O_NONBLOCK`, kept with
  /// the other status flags). The corresponding C function is `fcntl(F_SETFL)`.
  public func setNonBlocking() throws(Errno) {
    let flags = try valueOrErrno { system_fcntl_getfl(rawValue) }
    _ = try valueOrErrno { system_fcntl_setfl(rawValue, flags | system_o_nonblock()) }
  }

  /// Reads until end of file.
  public func readToEnd(chunkSize: Int = 65536) throws(Errno) -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    while true {
      let n: Int
      do {
        n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
      } catch {
        throw error as? Errno ?? .ioError
      }
      if n == 0 { return out }
      out.append(contentsOf: chunk[0..<n])
    }
  }

  /// Closes the descriptor on a clean-up path, where a failure can change nothing: the
  /// descriptor is released by the kernel even when `close` reports an error.
  public func closeAfterUse() {
    guard rawValue >= 0 else { return }
    _ = system_close(rawValue)
  }
}
