import SystemPackage

/// Identity of an open file: device and inode, as `fstat` reports them.
public struct FileIdentity: Hashable, Sendable {
  /// `st_dev`.
  public var device: UInt64
  /// `st_ino`.
  public var inode: UInt64
}

extension FileDescriptor {
  /// Whether the descriptor number currently refers to an open file (leak tests use this).
  /// The corresponding C function is `fcntl(F_GETFD)`.
  public var isOpen: Bool { system_fcntl_getfd(rawValue) != -1 }

  /// Whether close-on-exec is set, so the descriptor will not leak into spawned processes.
  /// The corresponding C function is `fcntl(F_GETFD)`.
  public var isCloseOnExec: Bool {
    let flags = system_fcntl_getfd(rawValue)
    return flags != -1 && flags & system_fd_cloexec_flag() != 0
  }

  /// The device and inode of the open file, to tell whether two descriptors (for instance one
  /// sent and one received) refer to the same file. The corresponding C function is `fstat`.
  public func identity() throws(Errno) -> FileIdentity {
    let (r, dev, ino) = system_fstat_ino(rawValue)
    if r == -1 { throw currentErrno() }
    return FileIdentity(device: dev, inode: ino)
  }

  /// Creates a pipe with close-on-exec set on both ends. The corresponding C function is
  /// `pipe2`.
  public static func closeOnExecPipe() throws(Errno) -> (
    readEnd: FileDescriptor, writeEnd: FileDescriptor
  ) {
    var fds: (CInt, CInt) = (-1, -1)
    _ = try withUnsafeMutablePointer(to: &fds) { (p) throws(Errno) -> CInt in
      try p.withMemoryRebound(to: CInt.self, capacity: 2) { (q) throws(Errno) -> CInt in
        try valueOrErrno { system_pipe(q) }
      }
    }
    return (FileDescriptor(rawValue: fds.0), FileDescriptor(rawValue: fds.1))
  }
}
