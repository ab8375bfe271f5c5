/// xc's `JailConfig`: entry points, declared environment variables, labels. Fields xc has
/// that mean nothing on Linux (devfs rules, sysv, secure level) are kept so that round trips
/// are lossless.
public struct JailConfig: Codable, Sendable, Equatable {
  public var version: String = "0.0.0+0"
  public var secure_level: Int = 0
  public var vnet: Bool = false
  public var ports: [String: String] = [:]
  public var devfs_rules: [String] = []
  public var allow: [String] = []
  public var envs: [String: EnvSpec] = [:]
  public var entry_points: [String: EntryPoint] = [:]
  public var default_entry_point: String?
  public var init_: [EntryPoint] = []
  public var deinit_: [EntryPoint] = []
  public var linux: Bool = true
  public var labels: [String: String] = [:]
  /// Volume slots the image declares, by key (see MountSpec.swift).
  public var mounts: [String: MountSpec] = [:]

  enum CodingKeys: String, CodingKey {
    case version, secure_level, vnet, ports, devfs_rules, allow, envs, entry_points
    case default_entry_point, linux, labels, mounts
    case init_ = "init"
    case deinit_ = "deinit"
  }

  public init() {}

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    version = try c.decodeIfPresent(String.self, forKey: .version) ?? version
    secure_level = try c.decodeIfPresent(Int.self, forKey: .secure_level) ?? 0
    vnet = try c.decodeIfPresent(Bool.self, forKey: .vnet) ?? false
    ports = try c.decodeIfPresent([String: String].self, forKey: .ports) ?? [:]
    devfs_rules = try c.decodeIfPresent([String].self, forKey: .devfs_rules) ?? []
    allow = try c.decodeIfPresent([String].self, forKey: .allow) ?? []
    envs = try c.decodeIfPresent([String: EnvSpec].self, forKey: .envs) ?? [:]
    entry_points = try c.decodeIfPresent([String: EntryPoint].self, forKey: .entry_points) ?? [:]
    default_entry_point = try c.decodeIfPresent(String.self, forKey: .default_entry_point)
    init_ = try c.decodeIfPresent([EntryPoint].self, forKey: .init_) ?? []
    deinit_ = try c.decodeIfPresent([EntryPoint].self, forKey: .deinit_) ?? []
    linux = try c.decodeIfPresent(Bool.self, forKey: .linux) ?? true
    labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    mounts = try c.decodeIfPresent([String: MountSpec].self, forKey: .mounts) ?? [:]
  }

  /// An environment variable the image declares.
  public struct EnvSpec: Codable, Sendable, Equatable {
    public var description: String?
    public var required: Bool
    public var default_value: String?

    public init(description: String? = nil, required: Bool, default_value: String? = nil) {
      self.description = description
      self.required = required
      self.default_value = default_value
    }
  }

  /// A named way to run the image (xc's `Exec`).
  public struct EntryPoint: Codable, Sendable, Equatable {
    public var exec: String
    public var args: [String]
    public var environ: [String: String]
    public var clear_env: Bool
    public var default_args: [String]
    public var required_envs: [String]
    public var work_dir: String?
    public var user: String?
    public var group: String?

    public init(
      exec: String, args: [String] = [], environ: [String: String] = [:],
      clear_env: Bool = false, default_args: [String] = [], required_envs: [String] = [],
      work_dir: String? = nil, user: String? = nil, group: String? = nil
    ) {
      self.exec = exec
      self.args = args
      self.environ = environ
      self.clear_env = clear_env
      self.default_args = default_args
      self.required_envs = required_envs
      self.work_dir = work_dir
      self.user = user
      self.group = group
    }

    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      exec = try c.decode(String.self, forKey: .exec)
      args = try c.decodeIfPresent([String].self, forKey: .args) ?? []
      environ = try c.decodeIfPresent([String: String].self, forKey: .environ) ?? [:]
      clear_env = try c.decodeIfPresent(Bool.self, forKey: .clear_env) ?? false
      default_args = try c.decodeIfPresent([String].self, forKey: .default_args) ?? []
      required_envs = try c.decodeIfPresent([String].self, forKey: .required_envs) ?? []
      work_dir = try c.decodeIfPresent(String.self, forKey: .work_dir)
      user = try c.decodeIfPresent(String.self, forKey: .user)
      group = try c.decodeIfPresent(String.self, forKey: .group)
    }
  }

  /// The entry point name xc gives an OCI image's Entrypoint/Cmd.
  public static let ociEntryPointName = "oci_entry_point"

  /// Converts an OCI image without `xc_extension` the way xc does: Entrypoint (or, without
  /// one, Cmd) becomes the default entry point `oci_entry_point`, with Cmd as its default
  /// arguments; Env becomes its environ, WorkingDir and User its work_dir and user.
  static func derived(from image: JailImage) -> JailConfig {
    var meta = JailConfig()
    meta.linux = image.os != "FreeBSD"
    meta.labels = image.config?.Labels ?? [:]
    for port in (image.config?.ExposedPorts ?? [:]).keys { meta.ports[port] = "" }
    meta.mounts = MountSpec.derived(fromVolumes: image.config?.Volumes)
    guard let config = image.config else { return meta }
    let entrypoint = config.Entrypoint ?? []
    let cmd = config.Cmd ?? []
    guard !entrypoint.isEmpty || !cmd.isEmpty else { return meta }
    var environ: [String: String] = [:]
    for pair in config.Env ?? [] {
      guard let eq = pair.firstIndex(of: "=") else { continue }
      environ[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    let exec: String
    let args: [String]
    let defaults: [String]
    if entrypoint.isEmpty {
      exec = cmd[0]
      args = Array(cmd.dropFirst())
      defaults = []
    } else {
      exec = entrypoint[0]
      args = Array(entrypoint.dropFirst())
      defaults = cmd
    }
    let user = config.User.flatMap { $0.isEmpty ? nil : $0 }
    meta.entry_points[ociEntryPointName] = EntryPoint(
      exec: exec, args: args, environ: environ, default_args: defaults,
      work_dir: config.WorkingDir.flatMap { $0.isEmpty ? nil : $0 },
      user: user.map { String($0.split(separator: ":", maxSplits: 1)[0]) },
      group: user.flatMap { $0.contains(":") ? String($0.split(separator: ":")[1]) : nil })
    meta.default_entry_point = ociEntryPointName
    return meta
  }
}
