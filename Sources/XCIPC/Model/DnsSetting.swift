/// The resolv.conf policy of a container: `"Inherit"`, `"Nop"` or
/// `{"Specified":{"servers":[…],"search_domains":[…]}}`.
public enum DnsSetting: Codable, Sendable, Hashable {
  /// Copy the host's resolv.conf (the CLI default).
  case inherit
  /// Leave resolv.conf alone.
  case nop
  /// Write the given servers and search domains.
  case specified(servers: [String], searchDomains: [String])

  enum Tag: String, CodingKey { case specified = "Specified" }
  enum Fields: String, CodingKey {
    case servers
    case searchDomains = "search_domains"
  }

  public init(from decoder: any Decoder) throws {
    if let s = try? decoder.singleValueContainer().decode(String.self) {
      switch s {
      case "Inherit": self = .inherit
      case "Nop": self = .nop
      default:
        throw DecodingError.dataCorrupted(
          .init(codingPath: decoder.codingPath, debugDescription: "unknown dns setting \"\(s)\""))
      }
      return
    }
    let c = try decoder.container(keyedBy: Tag.self)
    let f = try c.nestedContainer(keyedBy: Fields.self, forKey: .specified)
    self = .specified(
      servers: try f.decode([String].self, forKey: .servers),
      searchDomains: try f.decode([String].self, forKey: .searchDomains))
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .inherit:
      var c = encoder.singleValueContainer()
      try c.encode("Inherit")
    case .nop:
      var c = encoder.singleValueContainer()
      try c.encode("Nop")
    case .specified(let servers, let domains):
      var c = encoder.container(keyedBy: Tag.self)
      var f = c.nestedContainer(keyedBy: Fields.self, forKey: .specified)
      try f.encode(servers, forKey: .servers)
      try f.encode(domains, forKey: .searchDomains)
    }
  }
}
