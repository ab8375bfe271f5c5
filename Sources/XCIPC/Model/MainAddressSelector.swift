/// Which address of a container is its "main" one: `"network/<name>"` or `"ipaddr/<ip>"`.
///
/// The Rust client writes the IP form as `ipadd/<ip>` (a typo its own daemon rejects, spec
/// trap 11). This type always writes `ipaddr/` and accepts both spellings.
public enum MainAddressSelector: Codable, Sendable, Hashable {
  /// The address allocated from the named network.
  case network(String)
  /// A specific address.
  case ipAddress(String)

  /// Parses `network/<name>`, `ipaddr/<ip>` or `ipadd/<ip>`.
  public init?(wireValue s: String) {
    if s.hasPrefix("network/") {
      self = .network(String(s.dropFirst("network/".count)))
    } else if s.hasPrefix("ipaddr/") {
      self = .ipAddress(String(s.dropFirst("ipaddr/".count)))
    } else if s.hasPrefix("ipadd/") {
      self = .ipAddress(String(s.dropFirst("ipadd/".count)))
    } else {
      return nil
    }
  }

  /// The string written on the wire.
  public var wireValue: String {
    switch self {
    case .network(let n): "network/\(n)"
    case .ipAddress(let ip): "ipaddr/\(ip)"
    }
  }

  public init(from decoder: any Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    guard let v = MainAddressSelector(wireValue: s) else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "expected \"network/<name>\" or \"ipaddr/<ip>\", got \"\(s)\""))
    }
    self = v
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(wireValue)
  }
}
