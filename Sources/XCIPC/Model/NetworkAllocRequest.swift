/// An address to allocate from a named network: `{"Any":{"network":…}}` or
/// `{"Explicit":{"network":…,"ip":cidr}}`.
public enum NetworkAllocRequest: Codable, Sendable, Hashable {
  /// Any free address of `network`.
  case any(network: String)
  /// The given address (CIDR) of `network`.
  case explicit(network: String, ip: String)

  enum Tag: String, CodingKey {
    case any = "Any"
    case explicit = "Explicit"
  }
  enum Fields: String, CodingKey { case network, ip }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Tag.self)
    if c.contains(.any) {
      let f = try c.nestedContainer(keyedBy: Fields.self, forKey: .any)
      self = .any(network: try f.decode(String.self, forKey: .network))
    } else {
      let f = try c.nestedContainer(keyedBy: Fields.self, forKey: .explicit)
      self = .explicit(
        network: try f.decode(String.self, forKey: .network),
        ip: try f.decode(String.self, forKey: .ip))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Tag.self)
    switch self {
    case .any(let network):
      var f = c.nestedContainer(keyedBy: Fields.self, forKey: .any)
      try f.encode(network, forKey: .network)
    case .explicit(let network, let ip):
      var f = c.nestedContainer(keyedBy: Fields.self, forKey: .explicit)
      try f.encode(network, forKey: .network)
      try f.encode(ip, forKey: .ip)
    }
  }
}
