/// A named volume (xc's `Volume`): a directory containers mount. The name is the key.
public struct VolumeRecord: Codable, Sendable, Equatable {
  /// xc's drivers; only `directory` works on Linux.
  public enum Driver: String, Codable, Sendable {
    case directory, zfs
  }

  public var name: String
  public var driver: Driver
  /// The directory's host path.
  public var device: String
  /// True when the engine made the directory (removing the volume deletes it); false for an
  /// existing directory registered with `device`.
  public var owned: Bool
  /// Who may mount it read-write (nil: anyone); uids or user names.
  public var rw_users: [String]?
  /// Who may mount it at all (nil: anyone).
  public var authorized_users: [String]?
  public var mount_options: [String] = []
  public var driver_options: [String: String] = [:]
  /// Nanoseconds since the epoch.
  public var created: Int64
}

/// A bind mount into a container: a volume or a host path (xc's `mount_req`, resolved).
public struct VolumeMount: Codable, Sendable, Equatable {
  /// The volume's name, or nil for a host path.
  public var volume: String?
  /// The host directory or file mounted.
  public var source: String
  /// The absolute path inside the container.
  public var destination: String
  public var read_only: Bool
}
