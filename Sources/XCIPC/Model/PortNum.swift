/// A port or port range: `{"Single":n}` or `{"Range":[start, second]}`. The CLI fills
/// `second` with the end port; xc's doc comment calls it a length (spec section 6).
public enum PortNum: Codable, Sendable, Hashable {
  /// One port.
  case single(Int)
  /// A range, as `[start, second]`.
  case range(Int, Int)

  enum Tag: String, CodingKey {
    case single = "Single"
    case range = "Range"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Tag.self)
    if c.contains(.single) {
      self = .single(try c.decode(Int.self, forKey: .single))
    } else {
      var a = try c.nestedUnkeyedContainer(forKey: .range)
      self = .range(try a.decode(Int.self), try a.decode(Int.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Tag.self)
    switch self {
    case .single(let p): try c.encode(p, forKey: .single)
    case .range(let a, let b):
      var u = c.nestedUnkeyedContainer(forKey: .range)
      try u.encode(a)
      try u.encode(b)
    }
  }
}
