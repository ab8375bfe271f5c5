import Glibc

/// Runs a libc call that returns -1 on failure, retrying on EINTR, and turns other failures
/// into an `EngineError` naming what was being done.
@discardableResult
func sysCall(_ what: @autoclosure () -> String, _ body: () -> CInt) throws -> CInt {
  while true {
    let result = body()
    if result != -1 { return result }
    let code = errno
    if code == EINTR { continue }
    throw EngineError.system(what(), code)
  }
}

/// Closes `fd`, ignoring errors: used on cleanup paths where nothing can be done about them.
func closeQuietly(_ fd: CInt) {
  if fd >= 0 { _ = Glibc.close(fd) }
}

/// Duplicates `fd` to a new close-on-exec descriptor numbered at least `minimum`.
func dupCloexec(_ fd: CInt, minimum: CInt = 3) throws -> CInt {
  try sysCall("dup fd \(fd)") { fcntl(fd, F_DUPFD_CLOEXEC, minimum) }
}

/// Writes all of `bytes` to `fd`.
func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws {
  var offset = 0
  while offset < bytes.count {
    let n = try sysCall("write") {
      CInt(truncatingIfNeeded: Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset))
    }
    offset += Int(n)
  }
}

func writeAll(_ fd: CInt, _ bytes: [UInt8]) throws {
  try bytes.withUnsafeBytes { try writeAll(fd, $0) }
}

/// Reads up to `count` bytes; returns an empty array at end of file.
func readSome(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
  let n = try sysCall("read") {
    CInt(truncatingIfNeeded: Glibc.read(fd, buffer.baseAddress, buffer.count))
  }
  return Int(n)
}

/// Reads everything from `fd` until end of file.
func readAll(_ fd: CInt) throws -> [UInt8] {
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = try chunk.withUnsafeMutableBytes { try readSome(fd, into: $0) }
    if n == 0 { return out }
    out.append(contentsOf: chunk[0..<n])
  }
}
