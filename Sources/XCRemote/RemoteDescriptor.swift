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
  /// A path of the remote host (a host-path mount's `evid`): the relay opens it there as xcsh
  /// opens a local one (`O_RDONLY`) and passes that descriptor; the path travels as the
  /// stream's data (`RemoteDescriptor.path`), the local descriptor is only the slot's holder.
  case path = 8
  /// A process handle (`link`'s fd): the relay forks a child there that only waits and passes
  /// its pidfd (a process descriptor on FreeBSD). The stream is the link: when the child there
  /// ends (the daemon kills it when the container ends) the local process is killed too, and
  /// when the local one ends first the relay kills its child.
  case process = 9

  /// The capability bit in the handshake.
  public var capability: UInt32 { 1 << UInt32(rawValue) }

  /// What the kind carries, for messages (`the relay there cannot carry …`).
  public var carries: String {
    switch self {
    case .input: "stdin"
    case .output: "output"
    case .event: "event descriptors"
    case .upload: "uploads"
    case .download: "downloads"
    case .connect: "socket connections"
    case .read: "file reads (`logs`)"
    case .path: "host-path mounts"
    case .process: "`link`'s process handle"
    }
  }
}

/// One descriptor slot of a request: the local descriptor and what it becomes there.
public struct RemoteDescriptor: Sendable, Equatable {
  public var fd: FileDescriptor
  public var kind: DescriptorKind
  /// For events: the stream ends after the first value (every xc notification fires once).
  public var once: Bool
  /// For a path: the path there, as the request names it (bytes: a path need not be UTF-8).
  public var path: [UInt8]?

  public init(_ fd: FileDescriptor, _ kind: DescriptorKind, once: Bool = false, path: [UInt8]? = nil) {
    self.fd = fd
    self.kind = kind
    self.once = once
    self.path = path
  }
}

/// Which kind each descriptor field of each request is: by field, not by guessing from the
/// local descriptor (a terminal on stdin is read-write, yet it is an input).
public enum DescriptorRoles {
  /// The longest host path a path stream carries (the relay's limit, PATH_MAX on Linux).
  public static let maxPathBytes = 4096

  /// The kind of every local descriptor `request` carries, by descriptor number. Throws for a
  /// method whose descriptors cannot cross the relay (yet).
  public static func kinds<R: XCRequest>(of request: R) throws(IPCError) -> [Int32: RemoteDescriptor] {
    var out: [Int32: RemoteDescriptor] = [:]
    var conflict: Int32?
    func add(_ ref: FDRef?, _ kind: DescriptorKind, once: Bool = false, path: [UInt8]? = nil) {
      guard let fd = ref?.descriptor else { return }
      if let had = out[fd.rawValue], had.kind != kind || had.path != path { conflict = fd.rawValue }
      out[fd.rawValue] = RemoteDescriptor(fd, kind, once: once, path: path)
    }
    switch request {
    case let r as InstantiateRequest:
      // The evidence of a host path is opened there, on the path the daemon will mount: a
      // path of the remote host, as with Docker's ssh:// hosts.
      for (i, m) in r.mountReq.enumerated() where m.evid != nil {
        guard m.source.bytes.first == UInt8(ascii: "/") else {
          throw IPCError(
            .encoding, method: R.method,
            "mount_req[\(i)].source `\(m.source)` is not an absolute path: on a remote host a host path must be absolute")
        }
        guard m.source.bytes.count <= maxPathBytes, !m.source.bytes.contains(0) else {
          throw IPCError(
            .encoding, method: R.method,
            "mount_req[\(i)].source is not a usable path there (longer than \(maxPathBytes) bytes, or holding a NUL byte)")
        }
        add(m.evid, .path, path: m.source.bytes)
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
    case let r as LinkRequest: add(r.fd, .process)
    default: break
    }
    if let conflict {
      throw IPCError(.encoding, method: R.method, "descriptor \(conflict) is used for two different things (kinds or paths)")
    }
    return out
  }
}
