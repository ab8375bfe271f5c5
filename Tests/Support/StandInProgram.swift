import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Writes an executable stand-in program (a small shell script) at `path`.
///
/// It is written through a close-on-exec descriptor: a process another test spawns meanwhile
/// must not inherit it open for writing, or running the program fails with ETXTBSY.
public func writeStandInProgram(_ path: String, _ script: String) throws {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
  guard fd >= 0 else { throw StandInError(description: "cannot create \(path)") }
  let written = script.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
  close(fd)
  guard written == script.utf8.count else { throw StandInError(description: "cannot write \(path)") }
}

/// A stand-in program could not be written.
public struct StandInError: Error, CustomStringConvertible {
  public var description: String
}
