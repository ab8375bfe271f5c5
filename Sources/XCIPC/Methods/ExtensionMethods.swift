// Methods the Linux daemon adds. Their names start with `XCMethods.extensionPrefix`; the real
// xcd answers them with errno 2 ("ipc method … not found"). Listed in docs/ipc.md.

/// `xcsh.remove_network`: delete a network that no container uses.
public struct RemoveNetworkRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.remove_network"
  /// The network's name.
  public var name: String
  /// Creates the request.
  public init(name: String) { self.name = name }
}

/// `xcsh.remove_volume`: delete a volume that no container mounts.
public struct RemoveVolumeRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.remove_volume"
  /// The volume's name.
  public var name: String
  /// Creates the request.
  public init(name: String) { self.name = name }
}

/// `xcsh.copy_in`: extract a tar stream, read from `fd` to its end, into the directory `path`
/// inside a live container (created if missing). Paths stay inside the container's root.
public struct CopyInRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.copy_in"
  /// The container (an alias).
  public var name: String
  /// An absolute directory path inside the container.
  public var path: String
  /// A readable descriptor carrying a tar stream (plain).
  public var fd: FDRef
  /// When true and `path` is not an existing directory, `path` names the copy itself (Docker's
  /// `cp` rule): the archive's one top-level member is written as `path`, whose parent must
  /// exist. Missing or null: false (the directory is created).
  public var rename: Bool?
  /// Creates the request.
  public init(name: String, path: String, fd: FDRef, rename: Bool? = nil) {
    self.name = name
    self.path = path
    self.fd = fd
    self.rename = rename
  }
}

/// `xcsh.copy_out`: write a tar stream of `path` inside a live container (a file, symlink or
/// directory tree, named by its last component) to `fd`. Paths stay inside the container's root.
public struct CopyOutRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.copy_out"
  /// The container (an alias).
  public var name: String
  /// An absolute path inside the container.
  public var path: String
  /// A writable descriptor; the archive is written and the descriptor left open.
  public var fd: FDRef
  /// Creates the request.
  public init(name: String, path: String, fd: FDRef) {
    self.name = name
    self.path = path
    self.fd = fd
  }
}

/// `xcsh.list_ended`: containers that have ended and whose records (and main logs) the
/// daemon keeps, the most recently ended first (xcsh's `ps --all`). Payload `null`.
public struct ListEndedContainersRequest: XCNullPayloadRequest, Equatable {
  public typealias Response = [ContainerManifest]
  public static let method = "xcsh.list_ended"
  /// Creates the request.
  public init() {}
}

/// `xcsh.remove_container`: forget an ended container's record and main log (xcsh's `rm`):
/// by id, or every ended container with that name. A live container is refused (EBUSY).
public struct RemoveContainerRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.remove_container"
  /// An id, or a name given at creation.
  public var name: String
  /// Creates the request.
  public init(name: String) { self.name = name }
}

/// `xcsh.stop`: stop a live container as `docker stop` does: SIGTERM, up to `grace_ms`
/// milliseconds for it to end, then SIGKILL. Answers at once (as `kill_container`); the client
/// waits for the teardown.
public struct StopContainerRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.stop"
  /// An id or a name.
  public var name: String
  /// The grace period between SIGTERM and SIGKILL, in milliseconds.
  public var graceMs: Int
  enum CodingKeys: String, CodingKey {
    case name
    case graceMs = "grace_ms"
  }
  /// Creates the request.
  public init(name: String, graceMs: Int) {
    self.name = name
    self.graceMs = graceMs
  }
}

/// `xcsh.restart`: stop main (SIGTERM, up to `grace_ms`, then SIGKILL) and start it again in
/// the same container, keeping its id, rootfs, addresses, redirections and log; answers once
/// the new run has started (`docker restart`). EINVAL for a container whose main cannot run
/// again (its output goes to a client, a tty, persist).
public struct RestartContainerRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.restart"
  /// An id or a name.
  public var name: String
  /// The grace period between SIGTERM and SIGKILL, in milliseconds.
  public var graceMs: Int
  enum CodingKeys: String, CodingKey {
    case name
    case graceMs = "grace_ms"
  }
  /// Creates the request.
  public init(name: String, graceMs: Int) {
    self.name = name
    self.graceMs = graceMs
  }
}

/// `xcsh.resize`: set the window size of a process's terminal (TIOCSWINSZ on the pty the
/// daemon holds), so the process gets SIGWINCH. xc's terminal socket carries bytes only (no
/// window-size channel), so a client attached to it sends its size by this call: when the
/// session starts and whenever its own window changes.
public struct ResizeTerminalRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.resize"
  /// The container: an id or a name.
  public var name: String
  /// `main`, or the id of an exec'd process (a key of the container's `processes`).
  public var process: String
  /// Lines, 1 to 65535.
  public var rows: Int
  /// Columns, 1 to 65535.
  public var cols: Int
  /// Creates the request.
  public init(name: String, process: String = "main", rows: Int, cols: Int) {
    self.name = name
    self.process = process
    self.rows = rows
    self.cols = cols
  }
}

extension LogsRequest: XCRequest {
  public typealias Response = LogsResponse
  public static let method = "xcsh.logs"
}

extension XCMethods {
  /// The extension methods of the Linux daemon.
  public static let extensions: [any XCRequest.Type] = [
    RemoveNetworkRequest.self, RemoveVolumeRequest.self, LogsRequest.self,
    TagImageRequest.self,
    CopyInRequest.self, CopyOutRequest.self, SaveImageRequest.self, StatsRequest.self,
    ListEndedContainersRequest.self, RemoveContainerRequest.self, StopContainerRequest.self,
    RestartContainerRequest.self, ResizeTerminalRequest.self,
  ]
}

/// `xcsh.save_image`: write an image as an OCI image layout tar (`oci-layout`, `index.json`
/// naming it, `blobs/sha256/…` as stored) to `fd`; `fd_import` reads such an archive back.
public struct SaveImageRequest: XCRequest, Equatable {
  public typealias Response = NullResponse
  public static let method = "xcsh.save_image"
  /// The image (`name:tag`).
  public var imageReference: String
  /// A writable descriptor; the archive is written and the descriptor left open.
  public var fd: FDRef
  enum CodingKeys: String, CodingKey {
    case imageReference = "image_reference"
    case fd
  }
  /// Creates the request.
  public init(imageReference: String, fd: FDRef) {
    self.imageReference = imageReference
    self.fd = fd
  }
}

/// `xcsh.stats`: CPU, memory and process figures of live containers, read from their cgroups.
/// Also how xcsh learns that a daemon supports resource limits (`xcsh_resources`): xc's daemon
/// answers errno 2, "method not found".
public struct StatsRequest: XCRequest, Equatable {
  public typealias Response = [ContainerStats]
  public static let method = "xcsh.stats"
  /// Containers (names or ids); empty: every live container.
  public var names: [String]
  /// Creates the request.
  public init(names: [String] = []) { self.names = names }
}

/// One container's figures in `xcsh.stats`.
public struct ContainerStats: Codable, Sendable, Equatable {
  public var id: String
  public var name: String
  /// CPU time used by the container's processes since it started, in nanoseconds.
  public var cpu_ns: Int
  /// Memory in use (cgroup `memory.usage_in_bytes`, page cache included).
  public var memory_bytes: Int
  /// The memory limit in bytes (cgroup `memory.limit_in_bytes`, v2 `memory.max`); nil when
  /// unlimited.
  public var memory_limit: Int?
  /// Processes and threads now.
  public var pids: Int
  /// The process limit; nil when unlimited.
  public var pids_limit: Int?
  /// The CPU limit as a number of CPUs; nil when unlimited.
  public var cpus: Double?
  /// Creates a value from all of its fields.
  public init(
    id: String, name: String, cpu_ns: Int, memory_bytes: Int, memory_limit: Int?, pids: Int,
    pids_limit: Int?, cpus: Double?
  ) {
    self.id = id
    self.name = name
    self.cpu_ns = cpu_ns
    self.memory_bytes = memory_bytes
    self.memory_limit = memory_limit
    self.pids = pids
    self.pids_limit = pids_limit
    self.cpus = cpus
  }
}
