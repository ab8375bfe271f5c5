import SystemPackage
import XCIPC

/// What a descriptor slot of a request becomes on the remote host (docs/remote.md). Raw values
/// are the wire codes.
public enum DescriptorKind: UInt8, Sendable, CaseIterable {
  /// Bytes from here to a reader there (stdin): a pipe whose write end the relay feeds; our EOF
  /// arrives as EOF.
  case input = 1
  /// Bytes from a writer there to here (stdout, stderr): a pipe the relay drains.
  case output = 2
  /// An eventfd there; each value read from it is written to ours.
  case event = 3
  /// A file sent whole before the call, spooled to an unlinked temp file there, since the
  /// daemon seeks in it (`fd_import`, copy-in, extra layers).
  case upload = 4
  /// A file the daemon writes during the call (`commit` to a file, copy-out); its bytes are
  /// written here before the call returns.
  case download = 5
  /// Not a request's descriptor: a stream opened on its own (SYN with a path) to a UNIX socket
  /// there, such as a container's terminal socket; bytes both ways, each with its half-close.
  case connect = 6
  /// Not a request's descriptor: a stream opened on its own (SYN with an offset and a path)
  /// that reads a regular file there from the offset to its end, then FIN (a log the daemon
  /// named, for `logs`).
  case read = 7

  /// The capability bit in the handshake.
  public var capability: UInt32 { 1 << UInt32(rawValue) }
}

/// One descriptor slot of a request: the local descriptor and what it becomes there.
public struct RemoteDescriptor: Sendable, Equatable {
  public var fd: FileDescriptor
  public var kind: DescriptorKind
  /// For events: the stream ends after the first value (every xc notification fires once).
  public var once: Bool

  public init(_ fd: FileDescriptor, _ kind: DescriptorKind, once: Bool = false) {
    self.fd = fd
    self.kind = kind
    self.once = once
  }
}

/// Which kind each descriptor field of each request is: by field, not by guessing from the
/// local descriptor (a terminal on stdin is read-write, yet it is an input).
public enum DescriptorRoles {
  /// The kind of every local descriptor `request` carries, by descriptor number. Throws for a
  /// method whose descriptors cannot cross the relay (yet).
  public static func kinds<R: XCRequest>(of request: R) throws(IPCError) -> [Int32: RemoteDescriptor] {
    var out: [Int32: RemoteDescriptor] = [:]
    var conflict: Int32?
    func add(_ ref: FDRef?, _ kind: DescriptorKind, once: Bool = false) {
      guard let fd = ref?.descriptor else { return }
      if let had = out[fd.rawValue], had.kind != kind { conflict = fd.rawValue }
      out[fd.rawValue] = RemoteDescriptor(fd, kind, once: once)
    }
    switch request {
    case let r as InstantiateRequest:
      if r.mountReq.contains(where: { $0.evid != nil }) {
        throw IPCError(
          .encoding, method: R.method,
          "host-path mounts need a descriptor opened on the remote host; use a volume on a remote host")
      }
      for c in r.copies { add(c.source, .upload) }
      for l in r.extraLayers { add(l, .upload) }
      add(r.mainStartedNotify, .event, once: true)
      add(r.mainExitedFd, .event, once: true)
      add(r.stdin, .input)
      add(r.stdout, .output)
      add(r.stderr, .output)
    case let r as ExecRequest:
      add(r.stdin, .input)
      add(r.stdout, .output)
      add(r.stderr, .output)
      add(r.notify, .event, once: true)
    case let r as RunMainRequest: add(r.notify, .event, once: true)
    case let r as FdImportRequest: add(r.fd, .upload)
    case let r as CommitRequest: add(r.altOut, .download)
    case let r as CopyInRequest: add(r.fd, .upload)
    case let r as CopyOutRequest: add(r.fd, .download)
    case is LinkRequest:
      throw IPCError(.encoding, method: R.method, "`link` is not supported on a remote host yet (a process handle cannot cross the relay)")
    default: break
    }
    if let conflict {
      throw IPCError(.encoding, method: R.method, "descriptor \(conflict) is used both as an input and an output")
    }
    return out
  }
}
