import SystemPackage

/// What to run: xc's `instantiate` request, reduced to what the Linux engine does now.
/// Descriptors are borrowed: the engine duplicates what it keeps, so the caller closes its
/// own after the call returns.
public struct ContainerSpec: Sendable {
  /// Which entry point to run and its arguments (xc's `entry_point`).
  public struct EntryPoint: Sendable {
    /// An entry point of the image, or a program path; nil = the image's default
    /// (or "main").
    public var entry_point: String?
    public var entry_point_args: [String]

    public init(_ entryPoint: String? = nil, args: [String] = []) {
      self.entry_point = entryPoint
      self.entry_point_args = args
    }
  }

  /// A file to copy into the container before it starts (xc's `CopyFile`).
  public struct CopyFile: Sendable {
    /// Read from its current offset to its end.
    public var source: FileDescriptor
    /// Absolute path inside the container.
    public var destination: String

    public init(source: FileDescriptor, destination: String) {
      self.source = source
      self.destination = destination
    }
  }

  public var image_reference: String
  /// Must not parse as an integer nor contain a dot; default `xc-<id>`.
  public var name: String?
  /// Default: the container's name.
  public var hostname: String?
  /// Added over the image's environment; required variables must be present.
  public var envs: [String: String] = [:]
  /// nil means no main process at all (the container is only created).
  public var entry_point: EntryPoint? = EntryPoint()
  public var user: String?
  public var group: String?
  public var copies: [CopyFile] = []
  /// Volumes and host paths bind-mounted into the container (xc's `mount_req`).
  public var mounts: [MountRequest] = []
  /// Layer archives (plain, gzip or zstd tar) applied over the container's root, in order,
  /// before `copies` and before main starts. Read from their current offset to their end.
  public var extra_layers: [FileDescriptor] = []
  /// Main's stdio; /dev/null when absent. Used directly by the container process.
  public var stdin: FileDescriptor?
  public var stdout: FileDescriptor?
  public var stderr: FileDescriptor?
  /// Run main on a new pty instead of `stdin`/`stdout`/`stderr` (which are then ignored); the
  /// pty is served on the UNIX socket named by `processes["main"].terminal_socket`.
  public var use_tty = false
  /// eventfd written with 1 once main has started (or failed to).
  public var main_started_notify: FileDescriptor?
  /// eventfd written with `0x1000000000000000 | wait status` when main exits.
  public var main_exited_fd: FileDescriptor?
  /// Create the container but do not start main (start it with `runMain`).
  public var create_only = false
  /// Keep the record (and the upper directory) after the container ends.
  public var no_clean = false
  /// Accepted for compatibility; on Linux the container ends when main (its init) exits.
  public var persist = false
  /// Memory, CPU and process limits applied through the container's cgroups.
  public var resources = ResourceLimits()
  /// When main is started again after it ends (needs main's output logged, no tty, no
  /// `persist`); nil = never.
  public var restart: RestartPolicy?
  /// A health check run as an exec in the container.
  public var health_check: HealthCheck?
  /// VNET, addresses, DNS, port redirections, network groups (see Engine+Networks.swift).
  public var network = ContainerNetworkSpec()

  public init(image_reference: String) {
    self.image_reference = image_reference
  }
}
