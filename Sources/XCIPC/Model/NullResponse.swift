/// The `null` success value of methods whose Rust response type is `()`.
///
/// Decoding accepts any value: a client should not fail a call that succeeded (errno 0)
/// because a daemon chose to say more.
public struct NullResponse: Codable, Sendable, Hashable {
  /// The only value.
  public init() {}
  public init(from decoder: any Decoder) throws {}
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encodeNil()
  }
}
