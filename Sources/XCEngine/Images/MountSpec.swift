/// A volume slot an image declares (xc's `MountSpec`): where a volume goes and whether it
/// must be mounted. `volume_hints` (driver hints for ZFS) are kept as written but unused on
/// Linux.
public struct MountSpec: Codable, Sendable, Equatable {
  public var description: String
  /// The absolute path inside the container.
  public var destination: String
  public var read_only: Bool
  /// The container refuses to start without it.
  public var required: Bool
  public var volume_hints: [String: String]

  public init(
    description: String = "", destination: String, read_only: Bool = false, required: Bool = false
  ) {
    self.description = description
    self.destination = destination
    self.read_only = read_only
    self.required = required
    self.volume_hints = [:]
  }

  enum CodingKeys: String, CodingKey {
    case description, destination, read_only, required, volume_hints
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
    destination = try c.decode(String.self, forKey: .destination)
    read_only = try c.decodeIfPresent(Bool.self, forKey: .read_only) ?? false
    required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
    // Hints may hold any JSON; only string-valued ones are kept.
    volume_hints = (try? c.decodeIfPresent([String: String].self, forKey: .volume_hints)) ?? [:]
  }

  /// OCI `Volumes` as xc converts them: each path is a slot keyed by itself.
  static func derived(fromVolumes volumes: [String: JailImage.EmptyObject]?) -> [String: MountSpec] {
    var out: [String: MountSpec] = [:]
    for path in (volumes ?? [:]).keys where path.hasPrefix("/") {
      out[path] = MountSpec(destination: path)
    }
    return out
  }
}
