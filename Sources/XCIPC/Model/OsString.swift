/// A Rust `OsString` on the wire: `{"Unix":[bytes…]}`, never a plain string (spec 1.7, trap 5).
public struct OsString: Codable, Sendable, Hashable, ExpressibleByStringLiteral,
  CustomStringConvertible
{
  /// The raw bytes (not necessarily UTF-8).
  public var bytes: [UInt8]

  /// From raw bytes.
  public init(bytes: [UInt8]) { self.bytes = bytes }
  /// From a string's UTF-8 bytes.
  public init(_ string: String) { self.bytes = Array(string.utf8) }
  public init(stringLiteral value: String) { self.init(value) }

  /// The bytes decoded as UTF-8 (invalid sequences repaired).
  public var description: String { String(decoding: bytes, as: UTF8.self) }

  enum CodingKeys: String, CodingKey { case unix = "Unix" }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.bytes = try c.decode([UInt8].self, forKey: .unix)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    var a = c.nestedUnkeyedContainer(forKey: .unix)
    for b in bytes { try a.encode(Int(b)) }
  }
}
