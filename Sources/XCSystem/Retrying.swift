import SystemPackage

/// Runs a libc-style call that reports failure as -1 with `errno` set, retrying on `EINTR`,
/// and turns any other failure into the typed `Errno`.
///
/// For the many one-off calls a caller makes itself (`mount`, `openat2`, `renameat2`, …) so
/// that every module shares one EINTR and errno discipline; the common descriptor operations
/// have typed wrappers on `FileDescriptor`.
@inline(__always)
public func retryingInterrupts<I: FixedWidthInteger>(_ body: () -> I) throws(Errno) -> I {
  try valueOrErrno(body)
}
