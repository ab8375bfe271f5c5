import XCSystem

/// What the engine knows about one container, named after xc's `ContainerManifest` fields
/// where one exists. The daemon maps it to the wire type.
public struct ContainerRecord: Codable, Sendable, Equatable {
  /// Where a container is in its life. xc has no such field; clients derive it (spec §3.1).
  public enum Status: String, Codable, Sendable {
    /// Created (rootfs mounted, runc container created) but main not started.
    case created
    case running
    /// Main has exited and resources were released; kept only with `no_clean`.
    case exited
  }

  /// 12 lowercase hex characters.
  public var id: String
  /// The user's name, or `xc-<id>` (which is not an alias).
  public var name: String
  /// True when `name` was given by the user, so it is an alias.
  public var named: Bool
  public var hostname: String
  public var image_reference: String
  /// The image's OCI manifest digest.
  public var image_digest: String
  /// The rootfs mount point on the host.
  public var root: String
  public var status: Status
  /// Host pid of the container's init (main) process while it runs.
  public var pid: Int32?
  /// The resolved main process.
  public var main_proto: Jexec?
  /// `"main"` and one entry per exec (keyed by a 12-hex exec id), as xc's `processes`.
  public var processes: [String: ProcessStat] = [:]
  /// Nanoseconds since the epoch.
  public var created: Int64
  public var started: Int64?
  public var finished_at: Int64?
  /// Raw wait(2) status of main, e.g. exit(1) → 256.
  public var exit_status: Int32?
  /// Why main could not be started, if it could not.
  public var fault: String?
  public var persist: Bool
  public var no_clean: Bool
  /// Networking (nil in records written before networks existed): an own network namespace,
  /// the addresses held (xc's `ip_alloc`), and the main one.
  public var vnet: Bool?
  public var ip_alloc: [IPAssignment]?
  public var main_address: String?
  /// Its bind mounts (volumes and host paths); nil in records written before volumes.
  public var mounts: [VolumeMount]?
  /// Its resource limits; nil when it has none.
  public var resources: ResourceLimits?
  /// True when the kernel's OOM killer killed one of its processes (read when main ended).
  public var oom_killed: Bool?
  /// When main is started again after it ends; nil = never (`no`).
  public var restart: RestartPolicy?
  /// How many times main was started again (by the policy or by `restart`).
  public var restart_count: Int?
  /// Main's raw wait status at the end of the run before the current one.
  public var last_exit_status: Int32?
  /// True while main has ended and waits (the backoff) to be started again.
  public var restarting: Bool?
  /// The health check and where it stands.
  public var health_check: HealthCheck?
  public var health: HealthState?

  /// Main's exit code when it exited normally.
  public var exitCode: Int32? { exit_status.flatMap { WaitStatus(rawValue: $0).exitCode } }
}
