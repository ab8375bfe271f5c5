import Glibc
import SystemPackage
import XCSystem

// The engine's side of XCSystem: the same calls, with their `Errno` turned into an
// `EngineError` that says what the engine was doing. No syscall is made here directly; each
// has its one home in XCSystem (or swift-system, which XCSystem builds on).

/// Runs a libc call that returns -1 on failure (retrying on EINTR, as XCSystem does) and
/// turns a failure into an `EngineError` naming what was being done.
@discardableResult
func sysCall(_ what: @autoclosure () -> String, _ body: () -> CInt) throws(EngineError) -> CInt {
  do {
    return try valueOrErrno(body)
  } catch {
    throw EngineError.system(what(), error)
  }
}

/// Runs a typed XCSystem or swift-system operation, naming it in the error.
func engineIO<T>(_ what: @autoclosure () -> String, _ body: () throws -> T) throws(EngineError)
  -> T
{
  do {
    return try body()
  } catch let errno as Errno {
    throw EngineError.system(what(), errno)
  } catch let error as EngineError {
    throw error
  } catch {
    throw EngineError(.system, "\(what()): \(error)")
  }
}

/// Closes `fd`, ignoring errors: used on cleanup paths where nothing can be done about them.
func closeQuietly(_ fd: CInt) {
  FileDescriptor(rawValue: fd).closeAfterUse()
}

/// Duplicates `fd` to a new close-on-exec descriptor numbered at least `minimum`.
func dupCloexec(_ fd: CInt, minimum: CInt = 3) throws(EngineError) -> CInt {
  try engineIO("dup fd \(fd)") {
    try FileDescriptor(rawValue: fd).duplicateCloseOnExec(minimum: minimum).rawValue
  }
}

/// Writes all of `bytes` to `fd`.
func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws(EngineError) {
  _ = try engineIO("write") { try FileDescriptor(rawValue: fd).writeAll(bytes) }
}

func writeAll(_ fd: CInt, _ bytes: [UInt8]) throws(EngineError) {
  _ = try engineIO("write") { try FileDescriptor(rawValue: fd).writeAll(bytes) }
}

/// Reads up to `buffer.count` bytes; 0 at end of file.
func readSome(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws(EngineError) -> Int {
  try engineIO("read") { try FileDescriptor(rawValue: fd).read(into: buffer) }
}

/// Reads everything from `fd` until end of file.
func readAll(_ fd: CInt) throws(EngineError) -> [UInt8] {
  try engineIO("read") { try FileDescriptor(rawValue: fd).readToEnd() }
}
