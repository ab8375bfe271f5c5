/// xc's image object (`JailImage`): an OCI image config whose inner `config` also carries
/// xc's `xc_extension` (a `JailConfig`). Keys are spelled as on xc's wire.
public struct JailImage: Codable, Sendable, Equatable {
  public var architecture: String
  public var os: String
  public var config: Config?
  public var rootfs: RootFS
  public var history: [History]

  /// The OCI inner config (PascalCase keys) plus xc's extension.
  public struct Config: Codable, Sendable, Equatable {
    public var Entrypoint: [String]?
    public var Cmd: [String]?
    public var Env: [String]?
    public var WorkingDir: String?
    public var User: String?
    public var Labels: [String: String]?
    public var ExposedPorts: [String: EmptyObject]?
    public var Volumes: [String: EmptyObject]?
    public var StopSignal: String?
    public var xc_extension: JailConfig?

    public init() {}
  }

  /// `{}` in JSON, as OCI uses for sets.
  public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
  }

  public struct RootFS: Codable, Sendable, Equatable {
    public var type: String
    public var diff_ids: [String]
  }

  public struct History: Codable, Sendable, Equatable {
    public var created: String?
    public var created_by: String?
    public var empty_layer: Bool?
  }

  /// The xc extension, or the one derived from the OCI fields for images without it.
  public var jailConfig: JailConfig {
    config?.xc_extension ?? JailConfig.derived(from: self)
  }
}
