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
  /// Creates the request.
  public init(name: String, path: String, fd: FDRef) {
    self.name = name
    self.path = path
    self.fd = fd
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

extension LogsRequest: XCRequest {
  public typealias Response = LogsResponse
  public static let method = "xcsh.logs"
}

extension XCMethods {
  /// The extension methods of the Linux daemon.
  public static let extensions: [any XCRequest.Type] = [
    RemoveNetworkRequest.self, RemoveVolumeRequest.self, LogsRequest.self,
    TagImageRequest.self,
    CopyInRequest.self, CopyOutRequest.self,
    ListEndedContainersRequest.self, RemoveContainerRequest.self, StopContainerRequest.self,
  ]
}
